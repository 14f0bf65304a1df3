//! `hastack_lightsail_load_balancer` through the real Terraform CLI against hastack-local.
use acceptance_tests::emulator::Emulator;
use acceptance_tests::{Step, TestCase};
use serde_json::json;

fn config(body: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    hastack = {{ source = "hastack/hastack" }}
  }}
}}
provider "hastack" {{
  default_tags {{
    tags = {{ managed_by = "hastack" }}
  }}
}}
resource "hastack_lightsail_load_balancer" "front" {{
{body}
}}
"#
    )
}

fn with_emulator(name: &str, e: &Emulator) -> TestCase {
    e.env()
        .iter()
        .fold(TestCase::new(name), |tc, (k, v)| tc.env(k, v))
}

#[test]
fn lightsail_load_balancer_basic_update_and_import() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    with_emulator("lightsail_load_balancer_basic", &e)
        .step(
            Step::new(config("  name = \"front\"\n  instance_port = 8080\n  tags = { app = \"web\" }\n"))
                .check(|s| {
                    let r = s.resource("hastack_lightsail_load_balancer.front").ok_or("no resource")?;
                    let ok = r["id"] == "front"
                        && r["health_check_path"] == "/"
                        && r["session_stickiness_enabled"] == false
                        && r["arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:lightsail:us-east-1:"))
                        && r["dns_name"].as_str().is_some_and(|d| d.ends_with(".us-east-1.elb.amazonaws.com"))
                        && r["tags_all"] == json!({"app": "web", "managed_by": "hastack"})
                        && r["public_ports"] == json!([80]);
                    if ok { Ok(()) } else { Err(format!("unexpected state {r}")) }
                })
                .import_verify("hastack_lightsail_load_balancer.front", "front", &["timeouts", "tags"]),
        )
        // In place: the ARN stays.
        .step(
            Step::new(config("  name = \"front\"\n  instance_port = 8080\n  health_check_path = \"/healthz\"\n  session_stickiness_enabled = true\n  tags = { app = \"web\", tier = \"front\" }\n  timeouts {\n    create = \"2m\"\n  }\n"))
                .check(|s| {
                    let r = s.resource("hastack_lightsail_load_balancer.front").ok_or("no resource")?;
                    if r["health_check_path"] == "/healthz" && r["session_stickiness_enabled"] == true && r["tags_all"]["tier"] == "front" {
                        Ok(())
                    } else {
                        Err(format!("update not applied: {r}"))
                    }
                }),
        )
        .run();
    let (_, state) = e.admin("GET", "state", &json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["lightsail"]["load_balancers"],
        json!([]),
        "destroy removed it"
    );
}

#[test]
fn lightsail_load_balancer_disappears() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    with_emulator("lightsail_load_balancer_disappears", &e)
        .step(
            Step::new(config("  name = \"gone\"\n  instance_port = 80\n"))
                .check(move |_| {
                    let admin = Emulator::admin_on(port);
                    let (status, body) = admin(
                        "POST",
                        "disappear",
                        &json!({"kind": "load_balancer", "name": "gone"}),
                    );
                    if status == 200 {
                        Ok(())
                    } else {
                        Err(format!("disappear failed: {body}"))
                    }
                })
                .expect_drift(),
        )
        // The next apply creates it again.
        .step(Step::new(config(
            "  name = \"gone\"\n  instance_port = 80\n",
        )))
        .run();
}

#[test]
fn lightsail_load_balancer_bad_input_fails_at_plan() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    // (case, resource body, diagnostic summary, the configuration line Terraform must point at)
    let cases = [
        ("name", "  name = \"-bad\"\n  instance_port = 80\n", "Invalid load balancer name", "name = \"-bad\""),
        ("port", "  name = \"lb\"\n  instance_port = 70000\n", "Invalid instance port", "instance_port = 70000"),
        ("path", "  name = \"lb\"\n  instance_port = 80\n  health_check_path = \"health\"\n", "Invalid health check path", "health_check_path = \"health\""),
        ("cookie", "  name = \"lb\"\n  instance_port = 80\n  session_stickiness_lb_cookie_duration_seconds = 0\n", "Invalid cookie duration", "session_stickiness_lb_cookie_duration_seconds = 0"),
    ];
    for (name, body, summary, line) in cases {
        with_emulator(&format!("lightsail_load_balancer_bad_{name}"), &e)
            .step(
                Step::new(config(body))
                    .expect_error(&format!(r"(?s)Error: {summary}.*{}", regex::escape(line))),
            )
            .run();
    }
}

#[test]
fn lightsail_load_balancer_failed_operation_reports_its_error_code() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let (status, _) = e.admin(
        "POST",
        "faults",
        &json!({"operation": "Lightsail.CreateLoadBalancer", "fault": "fail_operation", "error_code": "InsufficientCapacity", "error_details": "no load balancers left in us-east-1", "count": 1}),
    );
    assert_eq!(status, 200);
    with_emulator("lightsail_load_balancer_failed_operation", &e)
        .step(
            Step::new(config("  name = \"doomed\"\n  instance_port = 80\n"))
                .expect_error("InsufficientCapacity: no load balancers left in us-east-1"),
        )
        .run();
}

/// The read after a successful create fails (GetLoadBalancer answers InternalFailure and the
/// provider may not retry): the load balancer stays in state, so the next apply adopts it
/// instead of trying to create it again, and destroy removes it.
#[test]
fn lightsail_load_balancer_kept_when_the_read_after_create_fails() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let (status, _) = e.admin(
        "POST",
        "faults",
        &json!({"operation": "Lightsail.GetLoadBalancer", "fault": "internal_failure", "count": 1}),
    );
    assert_eq!(status, 200);
    let body = "  name = \"kept\"\n  instance_port = 80\n";
    let no_retries = config(body).replace(
        "provider \"hastack\" {\n",
        "provider \"hastack\" {\n  max_retries = 0\n",
    );
    assert!(no_retries.contains("max_retries = 0"));
    with_emulator("lightsail_load_balancer_kept", &e)
        .step(
            Step::new(no_retries.clone())
                .expect_error(r"(?s)Error reading the created Lightsail load balancer.*GetLoadBalancer failed")
                .check(|s| {
                    let r = s
                        .resource("hastack_lightsail_load_balancer.front")
                        .ok_or("the created load balancer was lost from state")?;
                    if r["name"] == "kept" {
                        Ok(())
                    } else {
                        Err(format!("state {r}"))
                    }
                }),
        )
        .step(Step::new(no_retries).check(|s| {
            let r = s
                .resource("hastack_lightsail_load_balancer.front")
                .ok_or("no resource")?;
            if r["arn"].as_str().is_some_and(|a| !a.is_empty()) {
                Ok(())
            } else {
                Err(format!("not adopted: {r}"))
            }
        }))
        .run();
    let (_, state) = e.admin("GET", "state", &json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["lightsail"]["load_balancers"],
        json!([]),
        "destroy removed it"
    );
}
