//! `provider::hastack::spread_zones` through the real Terraform CLI.
use acceptance_tests::{Step, TestCase};
use serde_json::json;

const HEADER: &str = r#"
terraform {
  required_providers {
    hastack = { source = "hastack/hastack", version = "~> 0.1" }
  }
}
provider "hastack" {
  region                      = "us-east-1"
  skip_credentials_validation = true
}
"#;

#[test]
fn spread_zones_basic() {
    let config = |count: u32| {
        format!(
            "{HEADER}\nvariable \"zones\" {{\n  default = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]\n}}\noutput \"placement\" {{\n  value = provider::hastack::spread_zones({count}, var.zones)\n}}\n"
        )
    };
    TestCase::new("spread_zones_basic")
        .with_init()
        .step(Step::new(config(4)).check(|s| {
            s.expect_output(
                "placement",
                json!(["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"]),
            )
        }))
        // Growing the count keeps every existing index in its zone.
        .step(Step::new(config(6)).check(|s| {
            s.expect_output(
                "placement",
                json!([
                    "us-east-1a",
                    "us-east-1b",
                    "us-east-1c",
                    "us-east-1a",
                    "us-east-1b",
                    "us-east-1c"
                ]),
            )
        }))
        .run();
}

#[test]
fn spread_zones_unknown_count_plans() {
    // A count only known at apply: Terraform skips the call at plan time and calls it at apply.
    let config = format!(
        "{HEADER}\nresource \"terraform_data\" \"n\" {{\n  input = 2\n}}\noutput \"placement\" {{\n  value = provider::hastack::spread_zones(terraform_data.n.output, [\"us-east-1a\", \"us-east-1b\"])\n}}\n"
    );
    TestCase::new("spread_zones_unknown_count")
        .step(
            Step::new(config)
                .check(|s| s.expect_output("placement", json!(["us-east-1a", "us-east-1b"]))),
        )
        .run();
}

#[test]
fn spread_zones_bad_arguments() {
    let cases = [
        (
            "negative_count",
            "spread_zones(-1, [\"us-east-1a\"])",
            "count must be a whole number",
        ),
        (
            "fractional_count",
            "spread_zones(1.5, [\"us-east-1a\"])",
            "count must be a whole number",
        ),
        (
            "no_zones",
            "spread_zones(2, [])",
            "at least one availability zone",
        ),
        (
            "duplicate_zone",
            "spread_zones(2, [\"us-east-1a\", \"us-east-1a\"])",
            "listed twice",
        ),
    ];
    for (name, call, err) in cases {
        TestCase::new(&format!("spread_zones_{name}"))
            .step(
                Step::new(format!(
                    "{HEADER}\noutput \"x\" {{\n  value = provider::hastack::{call}\n}}\n"
                ))
                .expect_error(err),
            )
            .run();
    }
}
