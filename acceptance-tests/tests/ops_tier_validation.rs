//! The plan-time validation sweep for the operations tier and the provider block (issue 16):
//! every attribute of `hastack_ssm_session_policy`, `hastack_cloudwatch_log_pipeline` and
//! `provider "hastack"` gets its bad inputs, each refused by one `terraform validate -json`
//! per block type with an error naming the attribute (provider blocks as aliases: Terraform
//! validates every provider configuration).
mod validation;

use validation::{case, sweep, sweep_provider, Case};

fn tags(lines: &[String]) -> String {
    format!("  tags = {{\n{}\n  }}", lines.join("\n"))
}

fn many_tags() -> String {
    tags(
        &(0..51)
            .map(|i| format!("    k{i} = \"v\""))
            .collect::<Vec<_>>(),
    )
}

fn session_policy() -> Vec<Case> {
    vec![
        case(
            "document_short",
            "  document_name = \"ab\"",
            "document_name",
            "Invalid document name",
        ),
        case(
            "document_reserved",
            "  document_name = \"AWS-Shell\"",
            "document_name",
            "Invalid document name",
        ),
        case(
            "document_amazon",
            "  document_name = \"amazon-shell\"",
            "document_name",
            "Invalid document name",
        ),
        case(
            "document_chars",
            "  document_name = \"my shell\"",
            "document_name",
            "Invalid document name",
        ),
        (
            "document_long",
            format!("  document_name = \"{}\"", "d".repeat(129)),
            "document_name",
            "Invalid document name",
        ),
        case(
            "targets_none",
            "  target_tags = {}",
            "target_tags",
            "No target tags",
        ),
        case(
            "target_reserved",
            "  target_tags = {\n    \"aws:group\" = \"web\"\n  }",
            "aws:group",
            "Invalid tag key",
        ),
        case(
            "log_group_empty",
            "  cloudwatch_log_group_name = \"\"",
            "cloudwatch_log_group_name",
            "Empty value",
        ),
        case(
            "log_group_chars",
            "  cloudwatch_log_group_name = \"sessions log\"",
            "cloudwatch_log_group_name",
            "Invalid log group name",
        ),
        (
            "log_group_long",
            format!("  cloudwatch_log_group_name = \"/{}\"", "g".repeat(512)),
            "cloudwatch_log_group_name",
            "Invalid log group name",
        ),
        case(
            "cw_encryption_alone",
            "  cloudwatch_encryption_required = true",
            "cloudwatch_encryption_required",
            "Nothing to encrypt",
        ),
        case(
            "kms_empty",
            "  kms_key_id = \"\"",
            "kms_key_id",
            "Empty value",
        ),
        case(
            "kms_malformed",
            "  kms_key_id = \"my key\"",
            "kms_key_id",
            "Invalid KMS key",
        ),
        case(
            "kms_arn_service",
            "  kms_key_id = \"arn:aws:s3:::bucket\"",
            "kms_key_id",
            "Invalid KMS key",
        ),
        case(
            "bucket_empty",
            "  s3_bucket_name = \"\"",
            "s3_bucket_name",
            "Empty value",
        ),
        case(
            "bucket_upper",
            "  s3_bucket_name = \"My_Transcripts\"",
            "s3_bucket_name",
            "Invalid bucket name",
        ),
        case(
            "bucket_short",
            "  s3_bucket_name = \"ab\"",
            "s3_bucket_name",
            "Invalid bucket name",
        ),
        (
            "bucket_long",
            format!("  s3_bucket_name = \"{}\"", "b".repeat(64)),
            "s3_bucket_name",
            "Invalid bucket name",
        ),
        case(
            "bucket_ip",
            "  s3_bucket_name = \"192.168.5.4\"",
            "s3_bucket_name",
            "Invalid bucket name",
        ),
        case(
            "prefix_empty",
            "  s3_bucket_name = \"transcripts\"\n  s3_key_prefix = \"\"",
            "s3_key_prefix",
            "Empty value",
        ),
        case(
            "prefix_alone",
            "  s3_key_prefix = \"sessions/\"",
            "s3_key_prefix",
            "No bucket",
        ),
        (
            "prefix_long",
            format!(
                "  s3_bucket_name = \"transcripts\"\n  s3_key_prefix = \"{}\"",
                "p".repeat(1025)
            ),
            "s3_key_prefix",
            "Invalid key prefix",
        ),
        case(
            "s3_encryption_alone",
            "  s3_encryption_required = true",
            "s3_encryption_required",
            "No bucket",
        ),
        case(
            "idle_zero",
            "  idle_timeout_minutes = 0",
            "idle_timeout_minutes",
            "Invalid idle timeout",
        ),
        case(
            "idle_high",
            "  idle_timeout_minutes = 61",
            "idle_timeout_minutes",
            "Invalid idle timeout",
        ),
        case(
            "idle_fraction",
            "  idle_timeout_minutes = 1.5",
            "idle_timeout_minutes",
            "Not a whole number",
        ),
        case(
            "duration_zero",
            "  max_duration_minutes = 0",
            "max_duration_minutes",
            "Invalid maximum session duration",
        ),
        case(
            "duration_high",
            "  max_duration_minutes = 1441",
            "max_duration_minutes",
            "Invalid maximum session duration",
        ),
        case(
            "user_upper",
            "  run_as_user = \"Root User\"",
            "run_as_user",
            "Invalid run-as user",
        ),
        case(
            "user_digit",
            "  run_as_user = \"1ops\"",
            "run_as_user",
            "Invalid run-as user",
        ),
        (
            "user_long",
            format!("  run_as_user = \"{}\"", "u".repeat(33)),
            "run_as_user",
            "Invalid run-as user",
        ),
        case(
            "profile_empty",
            "  shell_profile_linux = \"\"",
            "shell_profile_linux",
            "Empty value",
        ),
        case(
            "tag_reserved",
            "  tags = {\n    \"aws:owner\" = \"x\"\n  }",
            "aws:owner",
            "Invalid tag key",
        ),
        ("tags_many", many_tags(), "tags", "Too many tags"),
        case(
            "timeout",
            "  timeouts {\n    update = \"soon\"\n  }",
            "update",
            "Invalid timeout",
        ),
    ]
}

const PIPELINE_BASE: &str = r#"  name           = "logs"
  instance_group = "web"
  files          = [{ key = "app", path = "/var/log/app/app.log" }]"#;

fn files(entries: &[&str]) -> String {
    format!(
        "  files = [\n{}\n  ]",
        entries
            .iter()
            .map(|e| format!("    {{ {e} }},"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn filters(entries: &[(&str, &str)]) -> String {
    let lines: Vec<String> = entries
        .iter()
        .map(|(k, e)| format!("    {k} = {{ {e} }}"))
        .collect();
    format!("  metric_filters = {{\n{}\n  }}", lines.join("\n"))
}

const FILTER: &str = "file_key = \"app\", pattern = \"ERROR\", metric_name = \"Errors\"";

fn alarm(extra: &str) -> String {
    format!(
        "{}\n  alarms = {{\n    errors = {{ metric_filter = \"errors\", threshold = 1{extra} }}\n  }}",
        filters(&[("errors", FILTER)])
    )
}

fn pipeline() -> Vec<Case> {
    let fifty_one: Vec<String> = (0..51)
        .map(|i| format!("key = \"f{i}\", path = \"/var/log/f{i}.log\""))
        .collect();
    let fifty_one: Vec<&str> = fifty_one.iter().map(String::as_str).collect();
    let filter = |k: &str, extra: &str| filters(&[(k, &format!("{FILTER}{extra}"))]);
    vec![
        case("name_chars", "  name = \"web logs\"", "name", "Invalid pipeline name"),
        ("name_long", format!("  name = \"{}\"", "n".repeat(65)), "name", "Invalid pipeline name"),
        case("group_empty", "  instance_group = \"\"", "instance_group", "Invalid instance group"),
        case("group_chars", "  instance_group = \"web servers\"", "instance_group", "Invalid instance group"),
        case("prefix_relative", "  log_group_prefix = \"hastack/logs\"", "log_group_prefix", "Invalid log group prefix"),
        case("prefix_slash", "  log_group_prefix = \"/hastack/\"", "log_group_prefix", "Invalid log group prefix"),
        case("prefix_chars", "  log_group_prefix = \"/hastack logs\"", "log_group_prefix", "Invalid log group prefix"),
        ("prefix_long", format!("  log_group_prefix = \"/{}\"", "p".repeat(400)), "log_group_prefix", "Invalid log group prefix"),
        case("files_none", "  files = []", "files", "Invalid files"),
        ("files_many", files(&fifty_one), "files", "Invalid files"),
        ("file_key", files(&["key = \"app log\", path = \"/a.log\""]), "app log", "Invalid file key"),
        ("file_key_reserved", files(&["key = \"sessions\", path = \"/a.log\""]), "sessions", "Invalid file key"),
        ("file_key_twice", files(&["key = \"app\", path = \"/a.log\"", "key = \"app\", path = \"/b.log\""]), "key", "Duplicate file key"),
        ("file_path", files(&["key = \"app\", path = \"app.log\""]), "app.log", "Invalid path"),
        ("file_timezone", files(&["key = \"app\", path = \"/a.log\", timezone = \"CET\""]), "CET", "Invalid timezone"),
        ("file_filter_type", files(&["key = \"app\", path = \"/a.log\", filters = [{ type = \"drop\", expression = \"x\" }]"]), "drop", "Invalid filter type"),
        ("file_filter_regex", files(&["key = \"app\", path = \"/a.log\", filters = [{ type = \"include\", expression = \"(unclosed\" }]"]), "(unclosed", "Invalid regular expression"),
        ("file_multi_line", files(&["key = \"app\", path = \"/a.log\", multi_line_start_pattern = \"[0-9\""]), "[0-9", "Invalid regular expression"),
        ("file_stream_chars", files(&["key = \"app\", path = \"/a.log\", stream_name = \"a:b\""]), "a:b", "Invalid stream name"),
        case("retention_odd", "  retention_in_days = 31", "retention_in_days", "Invalid retention"),
        case("retention_negative", "  retention_in_days = -1", "retention_in_days", "Invalid retention"),
        case("retention_fraction", "  retention_in_days = 7.5", "retention_in_days", "Not a whole number"),
        case("kms_malformed", "  kms_key_arn = \"alias/logs\"", "kms_key_arn", "Invalid KMS key ARN"),
        case("kms_service", "  kms_key_arn = \"arn:aws:s3:::logs\"", "kms_key_arn", "Invalid KMS key ARN"),
        case("class", "  log_group_class = \"COLD\"", "log_group_class", "Invalid log group class"),
        ("class_filters", format!("  log_group_class = \"INFREQUENT_ACCESS\"\n{}", filters(&[("errors", FILTER)])), "metric_filters", "No metric filters on Infrequent Access"),
        ("filter_key", filters(&[("\"bad key\"", FILTER)]), "bad key", "Invalid metric filter key"),
        ("filter_file", filters(&[("errors", "file_key = \"nginx\", pattern = \"x\", metric_name = \"Errors\"")]), "nginx", "Unknown file key"),
        ("filter_metric_name", filters(&[("errors", "file_key = \"app\", pattern = \"x\", metric_name = \"Errors:5xx\"")]), "Errors:5xx", "Invalid metric name"),
        ("filter_pattern_long", filters(&[("errors", &format!("file_key = \"app\", pattern = \"{}\", metric_name = \"Errors\"", "p".repeat(1025)))]), "pattern", "Invalid filter pattern"),
        ("filter_namespace", filter("errors", ", namespace = \"AWS/Logs\""), "AWS/Logs", "Invalid namespace"),
        ("filter_unit", filter("errors", ", unit = \"Parsecs\""), "Parsecs", "Invalid unit"),
        ("filter_value", filter("errors", ", value = \"\""), "value", "Invalid metric value"),
        ("filter_dimensions", filter("errors", ", dimensions = { a = \"$.a\", b = \"$.b\", c = \"$.c\", d = \"$.d\" }"), "dimensions", "Too many dimensions"),
        ("filter_default_dims", filter("errors", ", default_value = 0, dimensions = { a = \"$.a\" }"), "default_value", "default_value with dimensions"),
        ("alarm_filter", format!("{}\n  alarms = {{\n    errors = {{ metric_filter = \"nope\", threshold = 1 }}\n  }}", filters(&[("errors", FILTER)])), "nope", "Unknown metric filter"),
        ("alarm_operator", alarm(", comparison_operator = \"Above\""), "Above", "Invalid value"),
        ("alarm_statistic", alarm(", statistic = \"Median\""), "Median", "Invalid value"),
        ("alarm_missing", alarm(", treat_missing_data = \"zero\""), "zero", "Invalid value"),
        ("alarm_period", alarm(", period = 45"), "period", "Invalid period"),
        ("alarm_periods", alarm(", evaluation_periods = 0"), "evaluation_periods", "Invalid evaluation periods"),
        ("alarm_datapoints", alarm(", evaluation_periods = 2, datapoints_to_alarm = 3"), "datapoints_to_alarm", "Invalid datapoints to alarm"),
        ("alarm_action", alarm(", alarm_actions = [\"my-topic\"]"), "my-topic", "Invalid alarm action"),
        ("alarm_description", alarm(&format!(", description = \"{}\"", "d".repeat(1025))), "description", "Invalid alarm description"),
        ("alarm_key", format!("{}\n  alarms = {{\n    \"bad key\" = {{ metric_filter = \"errors\", threshold = 1 }}\n  }}", filters(&[("errors", FILTER)])), "bad key", "Invalid alarm key"),
        case("tag_reserved", "  tags = {\n    \"aws:owner\" = \"x\"\n  }", "aws:owner", "Invalid tag key"),
        ("tags_many", many_tags(), "tags", "Too many tags"),
        case("timeout", "  timeouts {\n    read = \"soon\"\n  }", "read", "Invalid timeout"),
    ]
}

fn provider() -> Vec<Case> {
    let endpoint = |svc: &str, url: &str| format!("  endpoints {{\n    {svc} = \"{url}\"\n  }}");
    vec![
        case("region_malformed", "  region = \"moon-1\"", "region", "Invalid AWS region"),
        case("region_upper", "  region = \"US-EAST-1\"", "region", "Invalid AWS region"),
        case("region_zone", "  region = \"us-east-1a\"", "region", "Invalid AWS region"),
        case("profile_empty", "  profile = \"\"", "profile", "Empty value"),
        case("access_key_alone", "  access_key = \"AKIAEXAMPLE\"", "secret_key", "Incomplete static credentials"),
        case("secret_key_alone", "  secret_key = \"secret\"", "access_key", "Incomplete static credentials"),
        case("token_alone", "  token = \"session-token\"", "token", "Token without keys"),
        case("retries_negative", "  max_retries = -1", "max_retries", "Invalid max_retries"),
        case("retries_high", "  max_retries = 101", "max_retries", "Invalid max_retries"),
        case("retries_fraction", "  max_retries = 2.5", "max_retries", "Invalid max_retries"),
        case("config_file_missing", "  shared_config_files = [\"/nonexistent/aws/config\"]", "shared_config_files", "Shared file not found"),
        case("credentials_file_missing", "  shared_credentials_files = [\"/nonexistent/aws/credentials\"]", "shared_credentials_files", "Shared file not found"),
        case("role_missing", "  assume_role {\n    session_name = \"ci\"\n  }", "role_arn", "Missing role_arn"),
        case("role_malformed", "  assume_role {\n    role_arn = \"deployer\"\n  }", "role_arn", "Invalid role ARN"),
        case("role_user_arn", "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:user/deployer\"\n  }", "role_arn", "Invalid role ARN"),
        case("role_session", "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/deployer\"\n    session_name = \"ci run\"\n  }", "session_name", "Invalid session name"),
        ("role_session_long", format!("  assume_role {{\n    role_arn = \"arn:aws:iam::123456789012:role/deployer\"\n    session_name = \"{}\"\n  }}", "s".repeat(65)), "session_name", "Invalid session name"),
        case("role_external_id", "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/deployer\"\n    external_id = \"x\"\n  }", "external_id", "Invalid external ID"),
        ("endpoint_lightsail", endpoint("lightsail", "not a url"), "lightsail", "Invalid endpoint URL"),
        ("endpoint_ssm", endpoint("ssm", "ftp://127.0.0.1:4566"), "ssm", "Invalid endpoint URL"),
        ("endpoint_cloudwatch", endpoint("cloudwatch", "127.0.0.1:4566"), "cloudwatch", "Invalid endpoint URL"),
        ("endpoint_logs", endpoint("logs", "http://"), "logs", "Invalid endpoint URL"),
        ("endpoint_sts", endpoint("sts", "https://sts.amazonaws.com/path?query=1"), "sts", "Invalid endpoint URL"),
        case("default_tag_reserved", "  default_tags {\n    tags = {\n      \"aws:team\" = \"x\"\n    }\n  }", "aws:team", "Invalid tag key"),
        ("default_tags_many", format!("  default_tags {{\n  {}\n  }}", many_tags().replace('\n', "\n  ")), "tags", "Too many tags"),
    ]
}

#[test]
fn ops_tier_bad_inputs_fail_at_validate_naming_the_attribute() {
    if !acceptance_tests::enabled() {
        acceptance_tests::cannot_run(
            "ops_tier_bad_inputs_fail_at_validate_naming_the_attribute",
            "set TF_ACC=1 to run acceptance tests",
        );
        return;
    }
    let n = sweep("hastack_ssm_session_policy", "", &session_policy())
        + sweep(
            "hastack_cloudwatch_log_pipeline",
            PIPELINE_BASE,
            &pipeline(),
        );
    eprintln!("ops tier: {n} bad inputs, each refused naming its attribute");
}

#[test]
fn provider_bad_inputs_fail_at_validate_naming_the_attribute() {
    if !acceptance_tests::enabled() {
        acceptance_tests::cannot_run(
            "provider_bad_inputs_fail_at_validate_naming_the_attribute",
            "set TF_ACC=1 to run acceptance tests",
        );
        return;
    }
    let n = sweep_provider("", &provider());
    eprintln!("provider block: {n} bad inputs, each refused naming its attribute");
}
