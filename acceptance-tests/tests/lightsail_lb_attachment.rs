//! `hastack_lightsail_lb_attachment` through the real Terraform CLI against hastack-local.
mod common;

use acceptance_tests::emulator::Emulator;
use acceptance_tests::Step;
use aws_sdk_lightsail::Client;
use common::{lightsail_on, with_emulator};
use serde_json::json;

fn lightsail(e: &Emulator) -> Client {
    lightsail_on(e.port)
}

/// Instances made directly through the API (the instance resource is another issue's work).
fn instances(e: &Emulator, names: &[&str], user_data: &str) {
    let c = lightsail(e);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        c.create_instances()
            .set_instance_names(Some(names.iter().map(|s| s.to_string()).collect()))
            .availability_zone("us-east-1a")
            .blueprint_id("debian_12")
            .bundle_id("nano_3_0")
            .user_data(user_data)
            .send()
            .await
            .unwrap();
    });
}

fn config(names: &[&str], extra: &str) -> String {
    let list = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
terraform {{
  required_providers {{
    hastack = {{ source = "hastack/hastack" }}
  }}
}}
resource "hastack_lightsail_load_balancer" "front" {{
  name          = "front"
  instance_port = 80
}}
resource "hastack_lightsail_lb_attachment" "app" {{
  load_balancer_name = hastack_lightsail_load_balancer.front.name
  instance_names     = [{list}]
{extra}
}}
"#
    )
}

fn attached(s: &acceptance_tests::State) -> Result<Vec<String>, String> {
    let r = s
        .resource("hastack_lightsail_lb_attachment.app")
        .ok_or("no attachment in state")?;
    let mut v: Vec<String> = r["instance_names"]
        .as_array()
        .ok_or("no instance_names")?
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    v.sort();
    Ok(v)
}

#[test]
fn lightsail_lb_attachment_basic_update_disappears() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    instances(&e, &["app-1", "app-2", "app-3"], "");
    let no_wait = "  wait_for_healthy = false";
    let port = e.port;
    with_emulator("lightsail_lb_attachment_basic", &e)
        .step(
            Step::new(config(&["app-1", "app-2"], no_wait))
                .check(|s| {
                    if attached(s)? == ["app-1", "app-2"] {
                        Ok(())
                    } else {
                        Err(format!("attached {:?}", attached(s)?))
                    }
                })
                .import_verify(
                    "hastack_lightsail_lb_attachment.app",
                    "front",
                    &["timeouts", "wait_for_healthy"],
                ),
        )
        // Only the difference changes: app-2 leaves, app-3 joins.
        .step(Step::new(config(&["app-1", "app-3"], no_wait)).check(|s| {
            if attached(s)? == ["app-1", "app-3"] {
                Ok(())
            } else {
                Err(format!("attached {:?}", attached(s)?))
            }
        }))
        // Detached by hand: drift, which the next apply repairs.
        .step(
            Step::new(config(&["app-1", "app-3"], no_wait))
                .check(move |_| {
                    let c = lightsail_on(port);
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(
                        c.detach_instances_from_load_balancer()
                            .load_balancer_name("front")
                            .instance_names("app-3")
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|err| err.to_string())
                })
                .expect_drift(),
        )
        .step(Step::new(config(&["app-1", "app-3"], no_wait)).check(|s| {
            if attached(s)? == ["app-1", "app-3"] {
                Ok(())
            } else {
                Err("drift not repaired".into())
            }
        }))
        .run();
    let (_, state) = e.admin("GET", "state", &json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["lightsail"]["load_balancers"],
        json!([])
    );
}

#[test]
fn lightsail_lb_attachment_empty_list_fails_at_plan() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    with_emulator("lightsail_lb_attachment_empty", &e)
        .step(Step::new(config(&[], "")).expect_error(r"(?s)Error: No instances.*instance_names"))
        .run();
}

/// With real hosts serving HTTP, the attachment waits until every instance is healthy.
#[test]
fn lightsail_lb_attachment_waits_for_healthy() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start_with_hosts();
    let (_, status) = e.admin("GET", "status", &json!({}));
    if status["hosts"]["available"] != true {
        acceptance_tests::cannot_run(
            "lightsail_lb_attachment_waits_for_healthy",
            &format!(
                "hastack-local has no hosts here: {}",
                status["hosts"]["reason"]
            ),
        );
        return;
    }
    instances(&e, &["web-1", "web-2"], "#!/bin/bash\nset -e\nmkdir -p /var/www/html\nhostname > /var/www/html/index.html\nsystemctl enable --now nginx\n");
    with_emulator("lightsail_lb_attachment_healthy", &e)
        .step(Step::new(config(&["web-1", "web-2"], "")).check(|s| {
            let r = s
                .resource("hastack_lightsail_lb_attachment.app")
                .ok_or("no attachment")?;
            if r["instance_health"] == json!({"web-1": "healthy", "web-2": "healthy"}) {
                Ok(())
            } else {
                Err(format!("health {}", r["instance_health"]))
            }
        }))
        .run();
}
