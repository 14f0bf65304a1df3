//! The `provider "hastack"` block through the real Terraform CLI: bad values fail at plan
//! naming the attribute; every standard credential source works.
use acceptance_tests::{Step, TestCase};
use serde_json::json;

fn config(provider_body: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    hastack = {{ source = "hastack/hastack" }}
  }}
}}
provider "hastack" {{
{provider_body}
}}
data "hastack_provider_info" "this" {{}}
output "region" {{
  value = data.hastack_provider_info.this.region
}}
output "endpoints" {{
  value = data.hastack_provider_info.this.endpoints
}}
output "default_tags" {{
  value = data.hastack_provider_info.this.default_tags
}}
"#
    )
}

#[test]
fn provider_config_bad_values_fail_at_plan_naming_the_attribute() {
    // (name, provider body, summary, the configuration line Terraform must point at)
    let cases = [
        (
            "region",
            "region = \"moon-1\"",
            "Invalid AWS region",
            "region = \"moon-1\"",
        ),
        (
            "endpoint",
            "region = \"us-east-1\"\nendpoints {\n  lightsail = \"not a url\"\n}",
            "Invalid endpoint URL",
            "lightsail = \"not a url\"",
        ),
        (
            "assume_role_without_arn",
            "region = \"us-east-1\"\nassume_role {\n  session_name = \"x\"\n}",
            "Missing role_arn",
            "assume_role",
        ),
        (
            "bad_role_arn",
            "region = \"us-east-1\"\nassume_role {\n  role_arn = \"deployer\"\n}",
            "Invalid role ARN",
            "role_arn = \"deployer\"",
        ),
        (
            "access_key_alone",
            "region = \"us-east-1\"\naccess_key = \"AKIDEXAMPLE\"",
            "Incomplete static credentials",
            "provider \"hastack\"",
        ),
        (
            "max_retries",
            "region = \"us-east-1\"\nmax_retries = -2",
            "Invalid max_retries",
            "max_retries = -2",
        ),
    ];
    for (name, body, summary, line) in cases {
        let pattern = format!(r"(?s)Error: {summary}.*{}", regex::escape(line));
        TestCase::new(&format!("provider_config_{name}"))
            .step(Step::new(config(body)).expect_error(&pattern))
            .run();
    }
}

#[test]
fn provider_config_static_credentials_endpoints_and_default_tags() {
    let body = r#"
region     = "eu-west-2"
access_key = "AKIDSTATIC"
secret_key = "static-secret"
endpoints {
  lightsail = "http://127.0.0.1:4566"
}
default_tags {
  tags = { team = "web" }
}
"#;
    TestCase::new("provider_config_static")
        .step(Step::new(config(body)).check(|s| {
            s.expect_output("region", json!("eu-west-2"))?;
            s.expect_output("endpoints", json!({"lightsail": "http://127.0.0.1:4566"}))?;
            s.expect_output("default_tags", json!({"team": "web"}))
        }))
        .run();
}

#[test]
fn provider_config_environment_credentials_and_endpoint_variables() {
    TestCase::new("provider_config_env")
        .env("AWS_ACCESS_KEY_ID", "AKIDENV")
        .env("AWS_SECRET_ACCESS_KEY", "env-secret")
        .env("AWS_REGION", "ap-southeast-2")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
        .env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:4577")
        .step(Step::new(config("")).check(|s| {
            s.expect_output("region", json!("ap-southeast-2"))?;
            s.expect_output(
                "endpoints",
                json!({"cloudwatch": "http://127.0.0.1:4566", "lightsail": "http://127.0.0.1:4566", "logs": "http://127.0.0.1:4566", "ssm": "http://127.0.0.1:4577", "sts": "http://127.0.0.1:4566"}),
            )
        }))
        .run();
}

#[test]
fn provider_config_shared_files_profile() {
    TestCase::new("provider_config_profile")
        .file("aws_config", "[profile deploy]\nregion = ca-central-1\n")
        .file("aws_credentials", "[deploy]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n")
        .step(Step::new(config(
            "profile = \"deploy\"\nshared_config_files = [\"aws_config\"]\nshared_credentials_files = [\"aws_credentials\"]",
        ))
        .check(|s| s.expect_output("region", json!("ca-central-1"))))
        .run();
}

#[test]
fn provider_config_profile_from_environment() {
    TestCase::new("provider_config_profile_env")
        .file("aws_config", "[profile ops]\nregion = sa-east-1\naws_access_key_id = AKIDOPS\naws_secret_access_key = ops-secret\n")
        .env("AWS_PROFILE", "ops")
        .env("AWS_CONFIG_FILE", "aws_config")
        .step(Step::new(config("")).check(|s| s.expect_output("region", json!("sa-east-1"))))
        .run();
}

#[test]
fn provider_config_without_credentials_fails_clearly() {
    TestCase::new("provider_config_no_credentials")
        .step(Step::new(config("region = \"us-east-1\"")).expect_error("No valid AWS credentials"))
        .run();
}

#[test]
fn provider_config_credential_process() {
    TestCase::new("provider_config_credential_process")
        .file("creds.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"proc-secret\"}'\n")
        .file("aws_config", "[profile proc]\nregion = us-west-2\ncredential_process = sh creds.sh\n")
        .env("AWS_PROFILE", "proc")
        .env("AWS_CONFIG_FILE", "aws_config")
        .step(Step::new(config("")).check(|s| s.expect_output("region", json!("us-west-2"))))
        .run();
}
