//! The plan-time validation sweep for the web tier (issue 16): every attribute of
//! `hastack_lightsail_ha_instance`, `hastack_lightsail_load_balancer` and
//! `hastack_lightsail_lb_attachment` gets its bad inputs, each refused by one
//! `terraform validate -json` per resource type with an error naming the attribute.
mod validation;

use validation::{case, sweep, Case};

const INSTANCE_BASE: &str = r#"  name_prefix    = "web"
  instance_count = 2
  blueprint_id   = "debian_12"
  bundle_id      = "nano_3_0"
  ssm_role       = "hastack-ssm""#;

/// `n` letters and digits that do not compress (xorshift draws, 6 bits a byte), so user data
/// stays large however the boot script carries it.
fn noise(n: usize) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ABC[(x % 64) as usize] as char
        })
        .collect()
}

fn port(from: &str, to: &str, protocol: &str, extra: &str) -> String {
    format!("    {{ from_port = {from}, to_port = {to}, protocol = \"{protocol}\"{extra} }},")
}

fn ports(rules: &[String]) -> String {
    format!("  public_ports = [\n{}\n  ]", rules.join("\n"))
}

fn instance() -> Vec<Case> {
    let many_tags: Vec<String> = (0..51).map(|i| format!("    k{i} = \"v\"")).collect();
    let sidecar = |name: &str, engine: &str| {
        format!("    {{ name = \"{name}\", engine = \"{engine}\", backends = [\"10.0.0.1\"], auth_parameter = \"\" }},")
    };
    vec![
        case(
            "prefix_chars",
            "  name_prefix = \"web server\"",
            "name_prefix",
            "Invalid name prefix",
        ),
        case(
            "prefix_start",
            "  name_prefix = \"-web\"",
            "name_prefix",
            "Invalid name prefix",
        ),
        (
            "prefix_long",
            format!("  name_prefix = \"{}\"", "w".repeat(201)),
            "name_prefix",
            "Invalid name prefix",
        ),
        case(
            "count_zero",
            "  instance_count = 0",
            "instance_count",
            "Invalid instance count",
        ),
        case(
            "count_high",
            "  instance_count = 101",
            "instance_count",
            "Invalid instance count",
        ),
        case(
            "count_fraction",
            "  instance_count = 2.5",
            "instance_count",
            "Invalid instance count",
        ),
        case(
            "zones_none",
            "  availability_zones = []",
            "availability_zones",
            "No availability zones",
        ),
        case(
            "zones_twice",
            "  availability_zones = [\"us-east-1a\", \"us-east-1a\"]",
            "availability_zones",
            "Duplicate availability zone",
        ),
        case(
            "zones_malformed",
            "  availability_zones = [\"zone-a\"]",
            "availability_zones",
            "Invalid availability zone",
        ),
        case(
            "zones_two_regions",
            "  availability_zones = [\"us-east-1a\", \"eu-west-1b\"]",
            "availability_zones",
            "Availability zones in several regions",
        ),
        case(
            "blueprint_empty",
            "  blueprint_id = \" \"",
            "blueprint_id",
            "Empty value",
        ),
        case(
            "blueprint_malformed",
            "  blueprint_id = \"debian 12\"",
            "blueprint_id",
            "Invalid blueprint",
        ),
        case(
            "bundle_empty",
            "  bundle_id = \"\"",
            "bundle_id",
            "Empty value",
        ),
        case(
            "bundle_malformed",
            "  bundle_id = \"nano/3.0\"",
            "bundle_id",
            "Invalid bundle",
        ),
        (
            "user_data_long",
            format!("  user_data = \"{}\"", noise(20_000)),
            "user_data",
            "User data too long",
        ),
        case(
            "role_empty",
            "  ssm_role = \" \"",
            "ssm_role",
            "Empty value",
        ),
        case(
            "role_arn",
            "  ssm_role = \"arn:aws:iam::123456789012:role/hastack-ssm\"",
            "ssm_role",
            "Invalid SSM role",
        ),
        (
            "role_long",
            format!("  ssm_role = \"{}\"", "r".repeat(65)),
            "ssm_role",
            "Invalid SSM role",
        ),
        case(
            "heal_malformed",
            "  replace_unhealthy_after = \"soon\"",
            "replace_unhealthy_after",
            "Invalid duration",
        ),
        case(
            "heal_negative",
            "  replace_unhealthy_after = \"-5m\"",
            "replace_unhealthy_after",
            "Invalid duration",
        ),
        (
            "port_protocol",
            ports(&[port("80", "80", "sctp", "")]),
            "sctp",
            "Invalid port rule",
        ),
        (
            "port_range",
            ports(&[port("80", "70000", "tcp", "")]),
            "70000",
            "Invalid port rule",
        ),
        (
            "port_reversed",
            ports(&[port("443", "80", "tcp", "")]),
            "443",
            "Invalid port rule",
        ),
        (
            "port_fraction",
            ports(&[port("80.5", "81", "tcp", "")]),
            "80.5",
            "Invalid port rule",
        ),
        (
            "port_all",
            ports(&[port("0", "1024", "all", ", cidrs = [\"10.0.0.0/8\"]")]),
            "all",
            "Invalid port rule",
        ),
        (
            "port_ssh",
            ports(&[port("22", "22", "tcp", "")]),
            "22",
            "Port 22 must stay closed",
        ),
        (
            "port_ssh_range",
            ports(&[port("0", "65535", "all", "")]),
            "65535",
            "Port 22 must stay closed",
        ),
        (
            "port_cidr",
            ports(&[port("80", "80", "tcp", ", cidrs = [\"10.0.0.0/33\"]")]),
            "10.0.0.0/33",
            "Invalid port rule",
        ),
        (
            "port_ipv6_cidr",
            ports(&[port("80", "80", "tcp", ", ipv6_cidrs = [\"10.0.0.0/8\"]")]),
            "ipv6_cidrs",
            "Invalid port rule",
        ),
        (
            "port_twice",
            ports(&[port("80", "80", "tcp", ""), port("80", "80", "tcp", "")]),
            "80",
            "Duplicate port rule",
        ),
        case(
            "tag_reserved",
            "  tags = {\n    \"aws:owner\" = \"x\"\n  }",
            "aws:owner",
            "Invalid tag key",
        ),
        (
            "tag_key_long",
            format!("  tags = {{\n    {} = \"x\"\n  }}", "k".repeat(129)),
            "kkkk",
            "Invalid tag key",
        ),
        (
            "tag_value_long",
            format!("  tags = {{\n    team = \"{}\"\n  }}", "v".repeat(257)),
            "team",
            "Invalid tag value",
        ),
        (
            "tags_many",
            format!("  tags = {{\n{}\n  }}", many_tags.join("\n")),
            "tags",
            "Too many tags",
        ),
        (
            "sidecar_engine",
            format!("  sidecars = [\n{}\n  ]", sidecar("cache", "memcached")),
            "memcached",
            "Invalid sidecar",
        ),
        (
            "sidecar_twice",
            format!(
                "  sidecars = [\n{}\n{}\n  ]",
                sidecar("cache", "redis"),
                sidecar("cache2", "redis")
            ),
            "cache2",
            "Invalid sidecar",
        ),
        (
            "sidecar_backend",
            format!(
                "  sidecars = [\n{}\n  ]",
                sidecar("cache", "redis").replace("10.0.0.1", "10.0.0.1; reboot")
            ),
            "reboot",
            "Invalid sidecar",
        ),
        case(
            "timeout",
            "  timeouts {\n    create = \"soon\"\n  }",
            "create",
            "Invalid timeout",
        ),
    ]
}

const LB_BASE: &str = r#"  name          = "front"
  instance_port = 8080"#;

fn load_balancer() -> Vec<Case> {
    vec![
        case(
            "name_short",
            "  name = \"a\"",
            "name",
            "Invalid load balancer name",
        ),
        case(
            "name_start",
            "  name = \"-front\"",
            "name",
            "Invalid load balancer name",
        ),
        case(
            "name_chars",
            "  name = \"front door\"",
            "name",
            "Invalid load balancer name",
        ),
        (
            "name_long",
            format!("  name = \"{}\"", "n".repeat(256)),
            "name",
            "Invalid load balancer name",
        ),
        case(
            "port_zero",
            "  instance_port = 0",
            "instance_port",
            "Invalid instance port",
        ),
        case(
            "port_high",
            "  instance_port = 65536",
            "instance_port",
            "Invalid instance port",
        ),
        case(
            "port_fraction",
            "  instance_port = 80.5",
            "instance_port",
            "Invalid instance port",
        ),
        case(
            "health_relative",
            "  health_check_path = \"health\"",
            "health_check_path",
            "Invalid health check path",
        ),
        case(
            "health_space",
            "  health_check_path = \"/health check\"",
            "health_check_path",
            "Invalid health check path",
        ),
        (
            "health_long",
            format!("  health_check_path = \"/{}\"", "h".repeat(1024)),
            "health_check_path",
            "Invalid health check path",
        ),
        case(
            "cookie_zero",
            "  session_stickiness_lb_cookie_duration_seconds = 0",
            "session_stickiness_lb_cookie_duration_seconds",
            "Invalid cookie duration",
        ),
        case(
            "cookie_week",
            "  session_stickiness_lb_cookie_duration_seconds = 604801",
            "session_stickiness_lb_cookie_duration_seconds",
            "Invalid cookie duration",
        ),
        case(
            "cookie_fraction",
            "  session_stickiness_lb_cookie_duration_seconds = 1.5",
            "session_stickiness_lb_cookie_duration_seconds",
            "Invalid cookie duration",
        ),
        case(
            "ip_type",
            "  ip_address_type = \"ipv5\"",
            "ip_address_type",
            "Invalid IP address type",
        ),
        case(
            "tag_reserved",
            "  tags = {\n    \"aws:owner\" = \"x\"\n  }",
            "aws:owner",
            "Invalid tag key",
        ),
        case(
            "tag_empty_key",
            "  tags = {\n    \"\" = \"x\"\n  }",
            "\"\"",
            "Invalid tag key",
        ),
        case(
            "timeout",
            "  timeouts {\n    delete = \"5 minutes\"\n  }",
            "delete",
            "Invalid timeout",
        ),
    ]
}

const ATTACHMENT_BASE: &str = r#"  load_balancer_name = "front"
  instance_names     = ["web-0-abc123"]"#;

fn attachment() -> Vec<Case> {
    vec![
        case(
            "lb_empty",
            "  load_balancer_name = \" \"",
            "load_balancer_name",
            "Empty load balancer name",
        ),
        case(
            "lb_malformed",
            "  load_balancer_name = \"front door\"",
            "load_balancer_name",
            "Invalid load balancer name",
        ),
        (
            "lb_long",
            format!("  load_balancer_name = \"{}\"", "n".repeat(256)),
            "load_balancer_name",
            "Invalid load balancer name",
        ),
        case(
            "names_none",
            "  instance_names = []",
            "instance_names",
            "No instances",
        ),
        case(
            "name_empty",
            "  instance_names = [\"web-0-abc123\", \"\"]",
            "instance_names",
            "Empty instance name",
        ),
        case(
            "name_malformed",
            "  instance_names = [\"web 0\"]",
            "instance_names",
            "Invalid instance name",
        ),
        (
            "name_long",
            format!("  instance_names = [\"{}\"]", "i".repeat(256)),
            "instance_names",
            "Invalid instance name",
        ),
        case(
            "timeout",
            "  timeouts {\n    create = \"1d\"\n  }",
            "create",
            "Invalid timeout",
        ),
    ]
}

#[test]
fn web_tier_bad_inputs_fail_at_validate_naming_the_attribute() {
    if !acceptance_tests::enabled() {
        acceptance_tests::cannot_run(
            "web_tier_bad_inputs_fail_at_validate_naming_the_attribute",
            "set TF_ACC=1 to run acceptance tests",
        );
        return;
    }
    let n = sweep("hastack_lightsail_ha_instance", INSTANCE_BASE, &instance())
        + sweep("hastack_lightsail_load_balancer", LB_BASE, &load_balancer())
        + sweep(
            "hastack_lightsail_lb_attachment",
            ATTACHMENT_BASE,
            &attachment(),
        );
    eprintln!("web tier: {n} bad inputs, each refused naming its attribute");
}
