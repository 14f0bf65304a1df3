//! The schema of `hastack_mysql_replica_set`.
use tfplugin::schema::Nesting;
use tfplugin::timeouts::{self, TimeoutDefaults};
use tfplugin::{Attribute, Block, Schema, Type};

pub fn defaults() -> TimeoutDefaults {
    let m = |n: u64| std::time::Duration::from_secs(n * 60);
    TimeoutDefaults {
        create: m(45),
        read: m(5),
        update: m(60),
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
        ("gtid_position", Type::String),
        ("lag_seconds", Type::Number),
    ])
}

const DESCRIPTION: &str = "A MariaDB primary with read replicas across availability zones, and automatic \
failover that loses no acknowledged write: a replica is promoted within about 10 seconds when the \
primary dies, by agents on the members, not by Terraform.

Members are Lightsail instances of hastack's member fleet (SSM-only, no public port, named \
`<name>-<index>-<revision>`), configured over SSM Run Command with MariaDB 10.11 from the OS packages \
(`engine = \"mariadb\"`; MySQL 8 is not packaged for Debian 12). **Consensus is etcd's**: etcd runs on \
the first three members and the primary holds a leader key under a lease (`failure_detection_timeout`, \
5 s). An agent on every member (python3, standard library) renews the lease every second or makes \
its MariaDB read-only before the lease can expire. When the key is gone, every live replica stops \
receiving, applies its relay log and reports its GTID position; once all have reported, the most \
advanced takes the key in an etcd transaction and the others follow it. A returning old primary \
rejoins as a replica, and a diverged one (an unacknowledged tail) rebuilds itself from the primary. A new member starts from a copy of the primary's \
data, not a replay of its binlog.

**No acknowledged write is lost** because hastack owns these settings: semi-synchronous replication \
with `AFTER_SYNC` and a timeout that never falls back to asynchronous (a commit returns only once a \
replica has it), GTID strict mode, ROW binlog, `sync_binlog = 1`, `innodb_flush_log_at_trx_commit = 1`, \
`read_only = ON` at boot, and app users never get `READ ONLY ADMIN`. A primary with no replica in reach \
blocks commits rather than risk them, so the minimum is 3 members; with a replica down as well as \
the primary, no automatic promotion happens (it could lose writes) and the set waits.

**Apps** reach it through the data-tier sidecar: list `sidecar` in the app group's `sidecars`; \
writes go to `127.0.0.1:3306` (`writer_endpoint`), reads to `127.0.0.1:3307` (`reader_endpoint`). \
HAProxy asks each member's agent (`GET :8008/primary`, 200 only while it holds the lease with writes on) \
every 500 ms. Passwords (replication and `users`) are generated into SSM SecureString parameters \
(`password_parameters`) that members and apps read with their own credentials: never in state, plan, \
logs or Run Command parameters.

**`primary`** works as in `hastack_redis_replica_group`: unset follows reality; a change is a planned \
switchover (writes stop on the old primary, the chosen replica applies everything, then takes the \
lease), and an automatic failover since the last apply is a plan warning, not a diff.";

pub fn schema() -> Schema {
    let user = vec![
        Attribute::new("name", Type::String).required().description("User name (1–32 letters, digits or `_`)."),
        Attribute::new("database", Type::String).required().description("The database it may use (one of `databases`)."),
        Attribute::new("privileges", Type::list(Type::String)).optional().description("Privileges on that database, e.g. `[\"SELECT\", \"INSERT\"]`. Default `[\"ALL\"]` (never a global privilege)."),
        Attribute::new("password_wo", Type::String).optional().sensitive().write_only().description("The user's password (write-only: never in plan or state; Terraform 1.11+). 16–128 letters, digits or `-_.~+=:@%^*!#,`. Set `password_version` with it. Default: a generated 32-character password."),
        Attribute::new("password_version", Type::Number).optional().description("Change it to write a new password: the one `password_wo` gives, or a new generated one. Each is a new version of the user's SecureString parameter; the user is altered on the primary in the same apply."),
    ];
    Schema::new(
        0,
        Block::new(DESCRIPTION)
            .attribute(Attribute::new("id", Type::String).computed().use_state_for_unknown().description("The set's name."))
            .attribute(Attribute::new("name", Type::String).required().requires_replace().description("The set's name: members are `<name>-<index>-<revision>`. 1–40 letters, digits, `-` or `_`, starting with a letter. Changing it replaces the set."))
            .attribute(Attribute::new("engine", Type::String).optional().computed().requires_replace().description("`mariadb` (the default; MariaDB 10.11). `mysql` is reserved for when MySQL 8 can be installed."))
            .attribute(Attribute::new("instance_count", Type::Number).required().description("Members (3–9): one primary, the rest replicas. Growing adds replicas; shrinking removes the highest indices (the primary first hands over to member 0)."))
            .attribute(Attribute::new("availability_zones", Type::list(Type::String)).optional().computed().description("Zones to spread members over (member `i` in `availability_zones[i % length]`). Default: every zone of the region. Changing it moves the members like a `bundle_id` change."))
            .attribute(Attribute::new("blueprint_id", Type::String).required().description("Lightsail blueprint, e.g. `debian_12`. Changing it moves the members like a `bundle_id` change."))
            .attribute(Attribute::new("bundle_id", Type::String).required().description("Lightsail bundle, e.g. `medium_3_0`. Changing it moves the members to new instances one at a time (replicas first, the primary after a switchover), etcd membership following."))
            .attribute(Attribute::new("ssm_role", Type::String).required().description("IAM role for the members' SSM hybrid activation; it must allow `ssm:GetParameter` on the set's parameters (`/hastack/mysql/<name>/*`)."))
            .attribute(Attribute::new("primary", Type::String).optional().computed().description("The member that should be primary (its name, or `<name>-<index>`). At create: default the first member. Changing it is a planned switchover with no acknowledged write lost."))
            .attribute(Attribute::new("automatic_failover_enabled", Type::Bool).optional().description("Promote a replica when the primary fails (default true). Off, a set whose primary fails stays without one, even once the old primary is back, until this is turned on again (the most advanced member is elected) or `primary` is changed to name a member (the most advanced member is elected and hands over to it: a promotion by hand with no acknowledged write lost)."))
            .attribute(Attribute::new("failure_detection_timeout", Type::String).optional().description("The leader lease: how long a primary may not renew it before replicas elect another. Default `\"5s\"`; 3s to 60s."))
            .attribute(Attribute::new("failover_block_period", Type::String).optional().description("No second automatic failover within this time of the last one (default `\"300s\"`): a flapping set waits for a human."))
            .attribute(Attribute::new("databases", Type::list(Type::String)).optional().description("Databases to create (1–64 letters, digits or `_`). Removing one from the list never drops it."))
            .attribute(Attribute::nested("users", Nesting::List, user).optional().description("App users, each with its password in the SecureString `password_parameters[name]` (given write-only in `password_wo`, or generated). Removing a user drops it."))
            .attribute(Attribute::new("parameters", Type::map(Type::String)).optional().description("Other server variables (e.g. `{ max_connections = \"500\" }`): in the members' configuration, and set at once with `SET GLOBAL`. Settings hastack owns (replication, durability, binlog, `read_only`, network) are rejected."))
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("Tags of every member and managed node, merged with the provider's `default_tags`."))
            .attribute(Attribute::new("tags_all", Type::map(Type::String)).computed().description("All tags, `default_tags` included."))
            .attribute(Attribute::new("members", Type::list(member_type())).computed().description("The members by index: `name`, `zone`, `private_ip`, `ssm_instance_id`, `role` (`primary`, `replica`, or what the agent is doing: `electing`, `down`, …), `gtid_position` (`gtid_current_pos`) and `lag_seconds` (a replica's `Seconds_Behind_Master`), as last read."))
            .attribute(Attribute::new("current_primary", Type::String).computed().description("The member holding the leader lease now."))
            .attribute(Attribute::new("last_failover", Type::String).computed().description("When the last automatic failover happened (RFC 3339), or empty."))
            .attribute(Attribute::new("writer_endpoint", Type::String).computed().use_state_for_unknown().description("Where apps with this set's sidecar write: `127.0.0.1:3306`."))
            .attribute(Attribute::new("reader_endpoint", Type::String).computed().use_state_for_unknown().description("Where they read from replicas: `127.0.0.1:3307`."))
            .attribute(Attribute::new("password_parameters", Type::map(Type::String)).computed().description("The SecureString holding each password, by user name (`replication` for the set's own): names, never values."))
            .attribute(Attribute::new("sidecar", crate::sidecar::sidecar_type()).computed().use_state_for_unknown().description("What an app instance group needs to reach this set: put it in `hastack_lightsail_ha_instance.sidecars`."))
            .block(timeouts::block(&defaults())),
    )
}
