//! The plan-time validation sweep for the data-tier resources: one configuration per resource
//! type with one resource block per bad input, one `terraform validate -json`, and for every
//! case an error diagnostic on that block whose source line names the attribute. Nothing is
//! created (no hosts, no API calls).
mod validation;

/// (block label, the lines that make it bad, the attribute its error must point at, words of
/// the summary).
type Case = (&'static str, &'static str, &'static str, &'static str);

const REDIS_BASE: &str = r#"  instance_count = 3
  blueprint_id   = "debian_12"
  bundle_id      = "small_3_0"
  ssm_role       = "hastack-ssm""#;

const REDIS: &[Case] = &[
    ("name", "  name = \"9-starts-with-a-digit\"", "name", "name"),
    (
        "count_low",
        "  name = \"c\"\n  instance_count = 2",
        "instance_count",
        "Invalid instance count",
    ),
    (
        "count_high",
        "  name = \"c\"\n  instance_count = 10",
        "instance_count",
        "Invalid instance count",
    ),
    (
        "no_zones",
        "  name = \"c\"\n  availability_zones = []",
        "availability_zones",
        "No availability zones",
    ),
    (
        "quorum",
        "  name = \"c\"\n  sentinel = {\n    quorum = 4\n  }",
        "quorum",
        "Invalid quorum",
    ),
    (
        "down_after",
        "  name = \"c\"\n  sentinel = {\n    down_after = \"50ms\"\n  }",
        "down_after",
        "Duration out of range",
    ),
    (
        "down_after_bad",
        "  name = \"c\"\n  sentinel = {\n    down_after = \"soon\"\n  }",
        "down_after",
        "Invalid duration",
    ),
    (
        "failover_timeout",
        "  name = \"c\"\n  sentinel = {\n    failover_timeout = \"48h\"\n  }",
        "failover_timeout",
        "Duration out of range",
    ),
    (
        "min_replicas",
        "  name = \"c\"\n  min_replicas_to_write = 3",
        "min_replicas_to_write",
        "More replicas than the group has",
    ),
    (
        "max_lag",
        "  name = \"c\"\n  min_replicas_max_lag = 0",
        "min_replicas_max_lag",
        "",
    ),
    (
        "policy",
        "  name = \"c\"\n  maxmemory_policy = \"sometimes\"",
        "maxmemory_policy",
        "Invalid maxmemory policy",
    ),
    (
        "token_short",
        "  name = \"c\"\n  auth_token_wo = \"short\"\n  auth_token_wo_version = 1",
        "auth_token_wo",
        "Invalid auth token",
    ),
    (
        "token_no_version",
        "  name = \"c\"\n  auth_token_wo = \"abcdefghijklmnopqrstuvwxyz\"",
        "auth_token_wo_version",
        "Missing version",
    ),
    (
        "strategy",
        "  name = \"c\"\n  auth_token_update_strategy = \"later\"",
        "auth_token_update_strategy",
        "Invalid auth token update strategy",
    ),
    (
        "owned",
        "  name = \"c\"\n  parameters = {\n    requirepass = \"x\"\n  }",
        "requirepass",
        "Setting owned by hastack",
    ),
    (
        "setting",
        "  name = \"c\"\n  parameters = {\n    hz = \"20; FLUSHALL\"\n  }",
        "hz",
        "Invalid setting",
    ),
    (
        "tag",
        "  name = \"c\"\n  tags = {\n    \"aws:reserved\" = \"x\"\n  }",
        "aws:reserved",
        "",
    ),
];

const MYSQL_BASE: &str = r#"  instance_count = 3
  blueprint_id   = "debian_12"
  bundle_id      = "medium_3_0"
  ssm_role       = "hastack-ssm""#;

const MYSQL: &[Case] = &[
    ("name", "  name = \"-db\"", "name", "name"),
    ("engine", "  name = \"d\"\n  engine = \"postgres\"", "engine", "Unsupported engine"),
    ("count_low", "  name = \"d\"\n  instance_count = 1", "instance_count", "Invalid instance count"),
    ("count_high", "  name = \"d\"\n  instance_count = 10", "instance_count", "Invalid instance count"),
    ("no_zones", "  name = \"d\"\n  availability_zones = []", "availability_zones", "No availability zones"),
    ("empty_role", "  name = \"d\"\n  ssm_role = \" \"", "ssm_role", "Empty value"),
    ("detection", "  name = \"d\"\n  failure_detection_timeout = \"1s\"", "failure_detection_timeout", "Duration out of range"),
    ("detection_bad", "  name = \"d\"\n  failure_detection_timeout = \"1.5s\"", "failure_detection_timeout", "Duration out of range"),
    ("block", "  name = \"d\"\n  failover_block_period = \"forever\"", "failover_block_period", "Invalid duration"),
    ("database", "  name = \"d\"\n  databases = [\"mysql\"]", "databases", "Invalid database"),
    ("user_name", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"root\", database = \"shop\" },\n  ]", "root", "Invalid user name"),
    ("user_twice", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"app\", database = \"shop\" },\n    { name = \"app\", database = \"shop\" },\n  ]", "app", "Duplicate user"),
    ("user_db", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"app\", database = \"blog\" },\n  ]", "blog", "Unknown database"),
    ("privilege", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"app\", database = \"shop\", privileges = [\"SUPER\"] },\n  ]", "SUPER", "Invalid privilege"),
    ("password_short", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"app\", database = \"shop\", password_wo = \"short1\", password_version = 1 },\n  ]", "password_wo", "Invalid password"),
    ("password_quote", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"app\", database = \"shop\", password_wo = \"abcdefgh'ijklmnop\", password_version = 1 },\n  ]", "password_wo", "Invalid password"),
    ("password_unversioned", "  name = \"d\"\n  databases = [\"shop\"]\n  users = [\n    { name = \"app\", database = \"shop\", password_wo = \"abcdefghijklmnop1234\" },\n  ]", "password_version", "Missing version"),
    ("owned", "  name = \"d\"\n  parameters = {\n    read_only = \"OFF\"\n  }", "read_only", "Setting owned by hastack"),
    ("setting", "  name = \"d\"\n  parameters = {\n    max_connections = \"300; DROP\"\n  }", "max_connections", "Invalid setting"),
    ("tag", "  name = \"d\"\n  tags = {\n    \"aws:reserved\" = \"x\"\n  }", "aws:reserved", ""),
];

/// The shared sweep for a table of literal cases; returns how many.
fn sweep(kind: &str, base: &str, cases: &[Case]) -> usize {
    let cases: Vec<validation::Case> = cases
        .iter()
        .map(|(label, lines, attr, summary)| validation::case(label, lines, attr, summary))
        .collect();
    validation::sweep(kind, base, &cases)
}

#[test]
fn data_tier_bad_inputs_fail_at_validate_naming_the_attribute() {
    if !acceptance_tests::enabled() {
        acceptance_tests::cannot_run(
            "data_tier_bad_inputs_fail_at_validate_naming_the_attribute",
            "set TF_ACC=1 to run acceptance tests",
        );
        return;
    }
    let n = sweep("hastack_redis_replica_group", REDIS_BASE, REDIS)
        + sweep("hastack_mysql_replica_set", MYSQL_BASE, MYSQL);
    eprintln!("data tier: {n} bad inputs, each refused naming its attribute");
}
