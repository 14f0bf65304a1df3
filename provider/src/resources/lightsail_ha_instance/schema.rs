//! The schema of `hastack_lightsail_ha_instance`.
use tfplugin::schema::Nesting;
use tfplugin::timeouts::{self, TimeoutDefaults};
use tfplugin::{Attribute, Block, Schema, Type};

pub fn defaults() -> TimeoutDefaults {
    TimeoutDefaults::default()
}

pub fn instance_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("index", Type::Number),
        ("zone", Type::String),
        ("arn", Type::String),
        ("private_ip", Type::String),
        ("public_ip", Type::String),
        ("ssm_instance_id", Type::String),
        ("state", Type::String),
    ])
}

const DESCRIPTION: &str = "A group of identical Lightsail instances spread across availability zones, \
reachable only through AWS Systems Manager: port 22 is closed as soon as an instance exists and stays \
closed.

Each member boots with hastack's bootstrap (it installs the SSM agent when missing, registers the \
instance with a one-use hybrid activation and starts the agent), then runs `user_data`. The provider \
sets the public ports to exactly `public_ports` (closing Lightsail's default SSH rule) and waits until \
every member is `running` and its SSM managed node is `Online`. The activation code travels only in \
the instances' user data (never in state, plan, logs or SSM command parameters), and the activation \
is deleted once every member has registered, so the code is useless afterwards. Lightsail opens \
port 22 on every new instance; the provider replaces the rules right after CreateInstances returns \
(or, where Lightsail is not ready for it yet, as soon as the create operation succeeds), normally well before \
the instance has booted, and the bootstrap also disables sshd.

Members are named `<name_prefix>-<index>-<revision>`: the revision is a hash of the zone, blueprint, \
bundle and user data, so a change of any of those replaces members **one at a time** — the new member \
is Online (and healthy on every load balancer the old one was attached to) before the old one is \
detached and deleted. Capacity never drops below `instance_count - 1`.

The SSM role must exist and trust `ssm.amazonaws.com`, e.g.:

```hcl
resource \"aws_iam_role\" \"ssm\" {
  name = \"hastack-ssm\"
  assume_role_policy = jsonencode({
    Version   = \"2012-10-17\"
    Statement = [{ Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = { Service = \"ssm.amazonaws.com\" } }]
  })
}
resource \"aws_iam_role_policy_attachment\" \"ssm_core\" {
  role       = aws_iam_role.ssm.name
  policy_arn = \"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore\"
}
```";

pub fn schema() -> Schema {
    let port = vec![
        Attribute::new("from_port", Type::Number).required().description("First port of the range (0–65535; `-1` for ICMP type any)."),
        Attribute::new("to_port", Type::Number).required().description("Last port of the range (0–65535; `-1` for ICMP code any)."),
        Attribute::new("protocol", Type::String).required().description("`tcp`, `udp`, `all` (needs 0–65535), `icmp` or `icmpv6`."),
        Attribute::new("cidrs", Type::list(Type::String)).optional().computed().description("IPv4 CIDR blocks allowed. When neither `cidrs` nor `ipv6_cidrs` is set, everyone (`0.0.0.0/0` and `::/0`)."),
        Attribute::new("ipv6_cidrs", Type::list(Type::String)).optional().computed().description("IPv6 CIDR blocks allowed. Empty when only `cidrs` is set."),
    ];
    Schema::new(
        0,
        Block::new(DESCRIPTION)
            .attribute(Attribute::new("id", Type::String).computed().use_state_for_unknown().description("The group's name prefix."))
            .attribute(Attribute::new("name_prefix", Type::String).required().requires_replace().description("Members are named `<name_prefix>-<index>-<revision>`. 1–200 letters, digits, `-`, `_` or `.`, starting with a letter or digit; unique in the region. Changing it replaces the group."))
            .attribute(Attribute::new("instance_count", Type::Number).required().description("How many members (1–100). Growing adds the next indices in their zones; shrinking deletes the highest indices."))
            .attribute(Attribute::new("availability_zones", Type::list(Type::String)).optional().computed().description("Zones of the provider's region to spread members over (zone names such as `us-east-1a`, each once): index `i` goes to `availability_zones[i % length]` (as `provider::hastack::spread_zones`). Default: every zone of the region."))
            .attribute(Attribute::new("blueprint_id", Type::String).required().description("Lightsail blueprint (OS image), e.g. `debian_12` or `ubuntu_24_04` (letters, digits, `_`, `-`, `.`; checked against the region's blueprints at plan time). Changing it replaces members one at a time."))
            .attribute(Attribute::new("bundle_id", Type::String).required().description("Lightsail bundle (size), e.g. `nano_3_0` (letters, digits, `_`, `-`, `.`; checked against the region's bundles at plan time). Changing it replaces members one at a time."))
            .attribute(Attribute::new("user_data", Type::String).optional().description("The app's boot script, run once after hastack's bootstrap registered the SSM agent. Changing it replaces members one at a time. Lightsail cannot report user data, so after an import it is taken from the configuration. The boot script that carries it (hastack's bootstrap with `user_data` encoded in it) must fit Lightsail's 16 KiB limit, checked at plan time: download anything larger at boot."))
            .attribute(Attribute::nested("public_ports", Nesting::List, port).optional().description("The public firewall rules of every member, set exactly (anything else is closed). A rule that opens TCP port 22 is rejected: use SSM Session Manager for a shell. Changing the rules updates members in place with one call each, so an app's open ports never close in between. Default: none open."))
            .attribute(Attribute::new("ssm_role", Type::String).required().description("Name of the IAM role the SSM hybrid activation gives the members (see above). Changing it applies to members created afterwards."))
            .attribute(Attribute::new("replace_unhealthy_after", Type::String).optional().description("Healing. A running member whose SSM agent has not answered (node not `Online`, `LastPingDateTime` older than this), or that a load balancer has reported `unhealthy` for longer than this, is shown in the plan as a member to replace (a warning names it and why), and the apply replaces it behind the same health gate as a rolling replacement: Online, then healthy on every load balancer it served. Lightsail reports load balancer health without a time, so that side counts from the first refresh that saw the member unhealthy and was saved (any apply, or `terraform apply -refresh-only`). A member stopped by hand is started again, never replaced. A duration such as `\"5m\"` (the default) or `\"90s\"`; `\"0\"` turns healing off."))
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("Tags of every member and of its SSM managed node; merged with the provider's `default_tags` (these win). Nodes also carry `hastack:group = <name_prefix>`."))
            .attribute(Attribute::new("tags_all", Type::map(Type::String)).computed().description("All tags, the provider's `default_tags` included."))
            .attribute(Attribute::new("sidecars", Type::list(crate::sidecar::sidecar_type())).optional().description("Data-tier sidecars for the app: the `sidecar` attribute of each `hastack_redis_replica_group` (and MariaDB replica set) the app uses, e.g. `[hastack_redis_replica_group.cache.sidecar]`. Every member runs HAProxy on loopback routing to the group's current primary — Redis on `127.0.0.1:6379` (a `role:master` check every 500 ms), MariaDB writes on `127.0.0.1:3306` and reads on `127.0.0.1:3307` — so the app never knows an address and follows a failover within about a second. Changes apply in place over SSM Run Command (no member is replaced; HAProxy reloads without dropping connections), and new members get the sidecar right after they register, before any load balancer sees them. One replica group per engine; an empty list removes the sidecar."))
            .attribute(Attribute::new("instances", Type::list(instance_type())).computed().use_state_for_unknown().description("The members by index: `name`, `index`, `zone`, `arn`, `private_ip`, `public_ip`, `ssm_instance_id` (the `mi-…` managed node id, for `aws ssm start-session --target`) and `state`."))
            .block(timeouts::block(&defaults())),
    )
}
