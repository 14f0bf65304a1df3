//! The schema of `hastack_redis_replica_group`.
use tfplugin::schema::Nesting;
use tfplugin::timeouts::{self, TimeoutDefaults};
use tfplugin::{Attribute, Block, Schema, Type};

pub fn defaults() -> TimeoutDefaults {
    let m = |n: u64| std::time::Duration::from_secs(n * 60);
    TimeoutDefaults {
        create: m(30),
        read: m(5),
        update: m(40),
        delete: m(20),
    }
}

fn member_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("zone", Type::String),
        ("private_ip", Type::String),
        ("ssm_instance_id", Type::String),
        ("role", Type::String),
        ("replication_offset", Type::Number),
        ("link_status", Type::String),
    ])
}

const DESCRIPTION: &str = "A Redis primary with replicas across availability zones, and Redis Sentinel on every \
member promoting a replica when the primary fails — in about 3 seconds with the defaults (`down_after = \"1500ms\"`), \
where Sentinel's own defaults take over 30.

Members are Lightsail instances of hastack's member fleet (as `hastack_lightsail_ha_instance`: SSM-only, \
no public port at all, named `<name>-<index>-<revision>`); Redis and Sentinel come from the OS packages \
and are configured over SSM Run Command. The auth token lives in an SSM Parameter Store SecureString \
(`auth_token_parameter`) that the members read themselves: it is never in state, plan, logs or Run \
Command parameters. `masterauth` is the same token, Sentinel requires it too.

**Rotating the token** with no client outage: change `auth_token_wo_version` (and `auth_token_wo`). \
Every member then accepts the new and the previous token, replicates and monitors with the new \
one, and the app sidecars switch to it. Once every client uses the new token (apps read \
`auth_token_parameter` again), set `auth_token_update_strategy = \"set\"`: the previous one stops \
working.

**Apps** reach the primary through the data-tier sidecar: list this group's `sidecar` in the app's \
`hastack_lightsail_ha_instance` `sidecars`, and the app talks to `127.0.0.1:6379` (`writer_endpoint`) on its \
own instance; HAProxy there checks every member for `role:master` every 500 ms. Sentinel-aware clients \
can use `sentinel_endpoints` with the group's `name` as the master name.

**Write loss, honestly.** Redis replication is asynchronous. With `min_replicas_to_write = 1` and \
`min_replicas_max_lag = 2` (the defaults) a primary cut off from its replicas stops accepting writes \
within about 2 seconds, so a plain write acknowledged in that window can be lost by a failover. A write \
confirmed by `WAIT <replicas> <timeout>` on every replica survives any single failure.

**`primary`.** Unset, the group follows reality: `current_primary` says which member is the primary. Set \
to a member's name (or `<name>-<index>`), a change of it is a planned switchover: writes pause on the old \
primary (`CLIENT PAUSE WRITE`), the chosen replica catches up to its offset, Sentinel promotes it. An \
automatic failover since the last apply is a plan warning, never a diff.";

pub fn schema() -> Schema {
    let sentinel = vec![
        Attribute::new("quorum", Type::Number).optional().description("Sentinels that must agree the primary is down. Default: a majority of the members."),
        Attribute::new("down_after", Type::String).optional().description("How long the primary must not answer before a Sentinel thinks it down (`down-after-milliseconds`). Default `\"1500ms\"`; 100ms to 1h."),
        Attribute::new("failover_timeout", Type::String).optional().description("Sentinel's `failover-timeout`. Default `\"30s\"`."),
        Attribute::new("parallel_syncs", Type::Number).optional().description("Replicas resynchronising with a new primary at once. Default 1."),
    ];
    Schema::new(
        0,
        Block::new(DESCRIPTION)
            .attribute(Attribute::new("id", Type::String).computed().use_state_for_unknown().description("The group's name."))
            .attribute(Attribute::new("name", Type::String).required().requires_replace().description("The group's name: members are `<name>-<index>-<revision>`, and it is Sentinel's master name. 1–40 letters, digits, `-` or `_`, starting with a letter. Changing it replaces the group."))
            .attribute(Attribute::new("instance_count", Type::Number).required().description("Members (3–9): one primary, the rest replicas. Sentinel needs a majority, so at least 3."))
            .attribute(Attribute::new("availability_zones", Type::list(Type::String)).optional().computed().description("Zones to spread members over (member `i` in `availability_zones[i % length]`). Default: every zone of the region."))
            .attribute(Attribute::new("blueprint_id", Type::String).required().description("Lightsail blueprint, e.g. `debian_12`."))
            .attribute(Attribute::new("bundle_id", Type::String).required().description("Lightsail bundle, e.g. `small_3_0`. Cannot change on a running group yet (refused at plan, as `blueprint_id` and `availability_zones`)."))
            .attribute(Attribute::new("ssm_role", Type::String).required().description("IAM role for the members' SSM hybrid activation (as in `hastack_lightsail_ha_instance`); it must allow `ssm:GetParameter` on `auth_token_parameter`."))
            .attribute(Attribute::new("primary", Type::String).optional().computed().description("The member that should be primary (see above). At create: default the first member. Changing it switches over with no acknowledged write lost."))
            .attribute(Attribute::nested("sentinel", Nesting::Single, sentinel).optional().description("Sentinel settings; changes apply in place with `SENTINEL SET`."))
            .attribute(Attribute::new("min_replicas_to_write", Type::Number).optional().description("`min-replicas-to-write` (0–8; default 1): a primary with fewer replicas in reach refuses writes."))
            .attribute(Attribute::new("min_replicas_max_lag", Type::Number).optional().description("`min-replicas-max-lag` in seconds (1–60; default 2): the write-loss window of a partitioned primary."))
            .attribute(Attribute::new("appendonly", Type::Bool).optional().description("Append-only file with `appendfsync everysec` (default true)."))
            .attribute(Attribute::new("maxmemory_policy", Type::String).optional().description("`maxmemory-policy`, e.g. `allkeys-lru` (default: Redis's `noeviction`)."))
            .attribute(Attribute::new("auth_token_wo", Type::String).optional().sensitive().write_only().description("The auth token (write-only: never stored). 16–128 letters and digits. Default: a generated 32-character token. Set `auth_token_wo_version` with it."))
            .attribute(Attribute::new("auth_token_wo_version", Type::Number).optional().description("Set with `auth_token_wo`; change it to rotate the token in place (with a new `auth_token_wo`, or alone for a new generated token). Each token is a new version of `auth_token_parameter`; members and the sidecar read the version this apply wrote."))
            .attribute(Attribute::new("auth_token_update_strategy", Type::String).optional().description("`\"rotate\"` (default): after a token change the previous token stays valid too (two passwords, ACL), so clients switch with no outage; `\"set\"`: only the current token is valid — change to it once every client uses the new token. Like ElastiCache's `ROTATE`/`SET`."))
            .attribute(Attribute::new("parameters", Type::map(Type::String)).optional().description("Other Redis settings (`CONFIG SET` names, e.g. `{ \"hz\" = \"20\" }`). Settings hastack owns (replication, auth, persistence, network, the ones above) are rejected."))
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("Tags of every member and managed node, merged with the provider's `default_tags`."))
            .attribute(Attribute::new("tags_all", Type::map(Type::String)).computed().description("All tags, `default_tags` included."))
            .attribute(Attribute::new("members", Type::list(member_type())).computed().description("The members by index: `name`, `zone`, `private_ip`, `ssm_instance_id`, `role` (`primary`, `replica` or `down`), `replication_offset` and `link_status` (a replica's link to its primary: `up` or `down`), as last read."))
            .attribute(Attribute::new("current_primary", Type::String).computed().description("The member that is primary now, as the members' Sentinels report it."))
            .attribute(Attribute::new("sentinel_endpoints", Type::list(Type::String)).computed().use_state_for_unknown().description("`<private_ip>:26379` of every member, for Sentinel-aware clients."))
            .attribute(Attribute::new("writer_endpoint", Type::String).computed().use_state_for_unknown().description("Where apps with this group's sidecar write: `127.0.0.1:6379`."))
            .attribute(Attribute::new("auth_token_parameter", Type::String).computed().use_state_for_unknown().description("The SecureString holding the auth token: `/hastack/redis/<name>/auth-token` (its name, never its value)."))
            .attribute(Attribute::new("sidecar", crate::sidecar::sidecar_type()).computed().use_state_for_unknown().description("What an app instance group needs to reach this group: put it in `hastack_lightsail_ha_instance.sidecars`."))
            .block(timeouts::block(&defaults())),
    )
}
