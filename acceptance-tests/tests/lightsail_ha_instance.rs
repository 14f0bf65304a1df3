//! `hastack_lightsail_ha_instance` through the real Terraform CLI against hastack-local, whose
//! instances are real hosts: user data runs, the SSM agent registers, nginx serves.
mod common;

use std::sync::{Arc, Mutex};

use acceptance_tests::emulator::Emulator;
use acceptance_tests::{State, Step};
use aws_sdk_lightsail::types::{NetworkProtocol, PortInfo};
use common::{block_on, hosts_emulator, lightsail_on, port_states, with_emulator};
use serde_json::{json, Value as Json};

const NGINX: &str = "#!/bin/bash\nset -e\nmkdir -p /var/www/html\nhostname > /var/www/html/index.html\nsystemctl enable --now nginx\n";

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
resource "hastack_lightsail_ha_instance" "app" {{
  blueprint_id = "debian_12"
  bundle_id    = "nano_3_0"
  ssm_role     = "hastack-ssm"
{body}
}}
"#
    )
}

/// The group's body: prefix, count, zones, ports (HCL), user data, tags (HCL).
fn group(prefix: &str, count: u32, ports: &str, user_data: &str, tags: &str) -> String {
    format!(
        "  name_prefix = \"{prefix}\"\n  instance_count = {count}\n  availability_zones = [\"us-east-1a\", \"us-east-1b\"]\n  public_ports = [{ports}]\n  user_data = {}\n  tags = {{ {tags} }}\n",
        Json::String(user_data.into())
    )
}

const HTTP: &str = "{ from_port = 80, to_port = 80, protocol = \"tcp\" }";
const HTTPS_PRIVATE: &str =
    "{ from_port = 443, to_port = 443, protocol = \"tcp\", cidrs = [\"10.0.0.0/8\"] }";

fn instances(s: &State) -> Result<Vec<Json>, String> {
    s.resource("hastack_lightsail_ha_instance.app")
        .and_then(|r| r["instances"].as_array().cloned())
        .ok_or_else(|| "no instances in state".to_string())
}

fn names(s: &State) -> Result<Vec<String>, String> {
    Ok(instances(s)?
        .iter()
        .map(|i| i["name"].as_str().unwrap_or("").to_string())
        .collect())
}

/// Every member runs, is an Online SSM node, and sits in zone a, b, a, … by index.
fn healthy_members(s: &State, count: usize) -> Result<(), String> {
    let all = instances(s)?;
    if all.len() != count {
        return Err(format!("{} members, want {count}: {all:?}", all.len()));
    }
    for (i, m) in all.iter().enumerate() {
        let zone = if i % 2 == 0 {
            "us-east-1a"
        } else {
            "us-east-1b"
        };
        if m["index"] != json!(i) || m["zone"] != zone || m["state"] != "running" {
            return Err(format!("member {i}: {m}"));
        }
        if !m["ssm_instance_id"]
            .as_str()
            .unwrap_or("")
            .starts_with("mi-")
        {
            return Err(format!("member {i} has no SSM node: {m}"));
        }
    }
    Ok(())
}

/// No member has port 22 open, and each has exactly `want` open (from, to).
fn ports_are(port: u16, s: &State, want: &[(i32, i32)]) -> Result<(), String> {
    for (name, open) in port_states(port, &names(s)?)? {
        if open
            .iter()
            .any(|(f, t, p)| *f <= 22 && 22 <= *t && (p == "tcp" || p == "all"))
        {
            return Err(format!("port 22 open on {name}: {open:?}"));
        }
        let mut got: Vec<(i32, i32)> = open.iter().map(|(f, t, _)| (*f, *t)).collect();
        got.sort();
        if got != want {
            return Err(format!("{name} has ports {got:?}, want {want:?}"));
        }
    }
    Ok(())
}

/// No instance is left (destroy deleted what state held) and no activation outlived its apply.
fn nothing_left(e: &Emulator, when: &str) {
    let (_, state) = e.admin("GET", "state", &json!({}));
    let region = &state["123456789012/us-east-1"];
    assert_eq!(
        region["lightsail"]["instances"],
        json!([]),
        "instances {when}"
    );
    assert_eq!(
        region["ssm"]["activations"],
        json!([]),
        "activations {when}"
    );
}

/// The activation code a member booted with stays secret and is spent: it is in no state value
/// and no boot log, and its activation is gone, so it registers nothing more.
fn activation_code_is_spent(
    port: u16,
    s: &State,
    trace_log: &std::path::Path,
) -> Result<(), String> {
    let node = instances(s)?[0]["ssm_instance_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let (_, out) = common::run_shell(
        port,
        &node,
        "grep -E '^ACTIVATION_(ID|CODE)=' /run/hastack/host/user-data",
    )?;
    let value = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim_matches('\'').to_string())
            .filter(|v| v.len() >= 8)
            .ok_or(format!("no {key} in the bootstrap: {out}"))
    };
    let (id, code) = (value("ACTIVATION_ID=")?, value("ACTIVATION_CODE=")?);
    let state = serde_json::to_string(
        s.resource("hastack_lightsail_ha_instance.app")
            .unwrap_or(&Json::Null),
    )
    .map_err(|e| e.to_string())?;
    if state.contains(&code) {
        return Err("the activation code is in the state".into());
    }
    // The apply ran with TF_LOG_PROVIDER=trace: the provider's log has the SDK's own lines
    // (so a leak would show) and never the code.
    let log = std::fs::read_to_string(trace_log).map_err(|e| format!("trace log: {e}"))?;
    if !log.contains("CreateActivation") {
        return Err(format!(
            "the trace log has no CreateActivation line ({} bytes)",
            log.len()
        ));
    }
    if log.contains(&code) {
        return Err("the activation code is in the provider's trace log".into());
    }
    let admin = Emulator::admin_on(port);
    let (_, hosts) = admin("GET", "hosts", &json!({}));
    if hosts.to_string().contains(&code) {
        return Err("the activation code is in a boot log".into());
    }
    let (status, answer) = admin(
        "POST",
        "ssm/register",
        &json!({"code": code, "id": id, "hostname": "intruder", "ip": "198.18.99.99"}),
    );
    // Refused because the activation no longer exists (not for any other reason).
    if status == 200 || !answer.to_string().contains("InvalidActivationId") {
        return Err(format!(
            "registering with the spent code: {status} {answer}"
        ));
    }
    Ok(())
}

/// The bootstrap run a second time on a member (as root, through Run Command) registers
/// nothing and runs the app's user data no second time. hastack-local keeps each host's user
/// data at /run/hastack/host/user-data.
fn bootstrap_is_idempotent(port: u16, s: &State) -> Result<(), String> {
    let node = instances(s)?[0]["ssm_instance_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let nodes_before = managed_nodes(port)?;
    let (status, out) = common::run_shell(port, &node, "bash /run/hastack/host/user-data 2>&1")?;
    if status != "Success"
        || !out.contains("already registered with SSM")
        || out.contains("running the module's user data")
    {
        return Err(format!("second bootstrap run: {status}: {out}"));
    }
    let nodes_after = managed_nodes(port)?;
    if nodes_after != nodes_before {
        return Err(format!("managed nodes {nodes_before} -> {nodes_after}"));
    }
    Ok(())
}

fn managed_nodes(port: u16) -> Result<usize, String> {
    block_on(common::ssm_on(port).describe_instance_information().send())
        .map(|o| o.instance_information_list().len())
        .map_err(|e| format!("{e:?}"))
}

#[test]
fn lightsail_ha_instance_basic_update_disappears_tags() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let port = e.port;
    let first: Arc<Mutex<Vec<String>>> = Arc::default();
    let (keep, keep2, keep3) = (first.clone(), first.clone(), first.clone());
    let ports2 = format!("{HTTP}, {HTTPS_PRIVATE}");
    let app = "app = \"web\"";
    let trace_dir = tempfile::tempdir().expect("tempdir");
    let trace_log = trace_dir.path().join("provider-trace.log");
    let trace_log2 = trace_log.clone();
    let trace_log3 = trace_log.clone();
    with_emulator("lightsail_ha_instance_basic", &e)
        .env("TF_LOG_PROVIDER", "trace")
        .env("TF_LOG_PATH", trace_log.to_str().expect("utf-8 path"))
        // _basic: two members in two zones, SSM Online, port 22 closed, import by prefix.
        .step(
            Step::new(config(&group("web", 2, HTTP, NGINX, app)))
                .check(move |s| {
                    healthy_members(s, 2)?;
                    ports_are(port, s, &[(80, 80)])?;
                    let r = s.resource("hastack_lightsail_ha_instance.app").unwrap();
                    if r["tags_all"] != json!({"app": "web", "managed_by": "hastack"}) {
                        return Err(format!("tags_all {}", r["tags_all"]));
                    }
                    *keep.lock().unwrap() = names(s)?;
                    activation_code_is_spent(port, s, &trace_log2)
                })
                .import_verify(
                    "hastack_lightsail_ha_instance.app",
                    "web",
                    &["user_data", "ssm_role", "timeouts"],
                ),
        )
        // _update_count (up) and _update_ports: existing members stay, the new one goes to zone a.
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app))).check(move |s| {
                healthy_members(s, 3)?;
                let now = names(s)?;
                if now[..2] != keep2.lock().unwrap()[..] {
                    return Err(format!("growing moved members: {now:?}"));
                }
                ports_are(port, s, &[(80, 80), (443, 443)])?;
                bootstrap_is_idempotent(port, s)
            }),
        )
        // Port 22 opened by hand: drift…
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(move |s| {
                    let c = lightsail_on(port);
                    let name = names(s)?[0].clone();
                    block_on(
                        c.open_instance_public_ports()
                            .instance_name(name)
                            .port_info(
                                PortInfo::builder()
                                    .from_port(22)
                                    .to_port(22)
                                    .protocol(NetworkProtocol::Tcp)
                                    .cidrs("0.0.0.0/0")
                                    .build(),
                            )
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        // …that the next apply closes again.
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(move |s| ports_are(port, s, &[(80, 80), (443, 443)])),
        )
        // _disappears: a member deleted out of band is drift, and the next apply restores it.
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(move |s| {
                    let name = names(s)?[1].clone();
                    block_on(
                        lightsail_on(port)
                            .delete_instance()
                            .instance_name(name)
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(|s| healthy_members(s, 3)),
        )
        // Stopped by hand: drift, and the next apply starts it again.
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(move |s| {
                    let c = lightsail_on(port);
                    let name = names(s)?[2].clone();
                    block_on(async {
                        c.stop_instance()
                            .instance_name(&name)
                            .send()
                            .await
                            .map_err(|e| format!("{e:?}"))?;
                        for _ in 0..50 {
                            let st = c
                                .get_instance_state()
                                .instance_name(&name)
                                .send()
                                .await
                                .map_err(|e| format!("{e:?}"))?;
                            if st.state().and_then(|s| s.name()) == Some("stopped") {
                                return Ok(());
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(format!("{name} did not stop"))
                    })
                })
                .expect_drift(),
        )
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(|s| healthy_members(s, 3)),
        )
        // Its SSM node deregistered by hand: drift; the member cannot be managed any more, so
        // the next apply makes it again (and it registers).
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app)))
                .check(move |s| {
                    let id = instances(s)?[1]["ssm_instance_id"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    block_on(
                        common::ssm_on(port)
                            .deregister_managed_instance()
                            .instance_id(id)
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        .step(
            Step::new(config(&group("web", 3, &ports2, NGINX, app))).check(move |s| {
                healthy_members(s, 3)?;
                // No activation can take its registration any more, so it is not mistaken
                // for a member an interrupted apply left booting (waited for up to 10 min).
                let log =
                    std::fs::read_to_string(&trace_log3).map_err(|e| format!("trace log: {e}"))?;
                if log.contains("waiting for members an earlier apply launched") {
                    return Err("the apply waited for a deregistered member to boot".into());
                }
                Ok(())
            }),
        )
        // _update_count (down): the highest index goes.
        .step(
            Step::new(config(&group("web", 2, &ports2, NGINX, app))).check(move |s| {
                healthy_members(s, 2)?;
                let now = names(s)?;
                if now[0] != keep3.lock().unwrap()[0] {
                    return Err(format!("shrinking replaced member 0: {now:?}"));
                }
                Ok(())
            }),
        )
        // _update_rolling: new user data replaces every member (one at a time).
        .step(
            Step::new(config(&group(
                "web",
                2,
                &ports2,
                &format!("{NGINX}echo v2 >> /var/www/html/index.html\n"),
                app,
            )))
            .check(move |s| {
                healthy_members(s, 2)?;
                let now = names(s)?;
                let before = first.lock().unwrap().clone();
                if now.iter().any(|n| before.contains(n)) {
                    return Err(format!("not replaced: {now:?} vs {before:?}"));
                }
                ports_are(port, s, &[(80, 80), (443, 443)])
            }),
        )
        // _tags: changed in place on every member.
        .step(
            Step::new(config(&group(
                "web",
                2,
                &ports2,
                &format!("{NGINX}echo v2 >> /var/www/html/index.html\n"),
                "app = \"web\", tier = \"front\"",
            )))
            .check(|s| {
                let r = s.resource("hastack_lightsail_ha_instance.app").unwrap();
                if r["tags_all"] == json!({"app": "web", "tier": "front", "managed_by": "hastack"})
                {
                    Ok(())
                } else {
                    Err(format!("tags_all {}", r["tags_all"]))
                }
            }),
        )
        .run();
    nothing_left(&e, "after destroy");
}

/// Each bad input fails at plan, naming the attribute (no hosts needed: nothing is created).
#[test]
fn lightsail_ha_instance_bad_inputs_fail_at_plan() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let cases = [
        (
            "port 22",
            group(
                "bad",
                2,
                "{ from_port = 22, to_port = 22, protocol = \"tcp\" }",
                "",
                "",
            ),
            r"(?s)Port 22 must stay closed.*public_ports\[0\].*include 22",
        ),
        (
            "all ports",
            group(
                "bad",
                2,
                "{ from_port = 0, to_port = 65535, protocol = \"all\" }",
                "",
                "",
            ),
            r"(?s)Port 22 must stay closed.*public_ports",
        ),
        (
            "count 0",
            group("bad", 0, HTTP, "", ""),
            r"(?s)Invalid instance count.*instance_count is 0",
        ),
        (
            "malformed cidr",
            group(
                "bad",
                2,
                "{ from_port = 80, to_port = 80, protocol = \"tcp\", cidrs = [\"10.0.0/8\"] }",
                "",
                "",
            ),
            r#"(?s)Invalid port rule.*public_ports\[0\]: cidrs: "10.0.0/8""#,
        ),
        (
            "zone of another region",
            // Both in eu-west-1: zones of two regions are refused earlier, at validate.
            group("bad", 2, HTTP, "", "")
                .replace("us-east-1a", "eu-west-1a")
                .replace("us-east-1b", "eu-west-1b"),
            r"(?s)Availability zone not in the provider's region.*eu-west-1a is not a zone of us-east-1",
        ),
    ];
    for (case, body, pattern) in cases {
        with_emulator(
            &format!("lightsail_ha_instance_bad_{}", case.replace(' ', "_")),
            &e,
        )
        .step(Step::new(config(&body)).expect_error(pattern))
        .run();
    }
    // Unknown bundle: checked against GetBundles at plan time.
    with_emulator("lightsail_ha_instance_bad_bundle", &e)
        .step(
            Step::new(config(&group("bad", 1, HTTP, "", "")).replace("nano_3_0", "huge_9_9"))
                .expect_error(r#"(?s)Unknown Lightsail bundle.*bundle_id "huge_9_9""#),
        )
        .run();
    let (_, calls) = e.admin("GET", "calls", &json!({}));
    assert!(
        calls.get("Lightsail.CreateInstances").is_none(),
        "nothing was created: {calls}"
    );
}

/// A CreateInstances operation that keeps failing: launched three times, then its errorCode
/// reaches the diagnostic verbatim.
#[test]
fn lightsail_ha_instance_failed_operation() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let (status, _) = e.admin(
        "POST",
        "faults",
        &json!({"operation": "Lightsail.CreateInstances", "fault": "fail_operation", "error_code": "InsufficientCapacity", "error_details": "no nano_3_0 capacity in us-east-1a", "count": 3}),
    );
    assert_eq!(status, 200);
    // Three failed launches: the provider launches again twice, then reports the third.
    with_emulator("lightsail_ha_instance_failed_operation", &e)
        .step(
            Step::new(config(&group("doomed", 1, HTTP, "", "")))
                .expect_error("InsufficientCapacity: no nano_3_0 capacity in us-east-1a"),
        )
        .run();
    let (_, calls) = e.admin("GET", "calls", &json!({}));
    assert_eq!(
        calls["Lightsail.CreateInstances"],
        json!(3),
        "one launch and two more: {calls}"
    );
    nothing_left(&e, "after a failed launch and destroy");
}

/// Import by identity (Terraform 1.12 and later): forget the group with a `removed` block,
/// then adopt it with `import { identity = { name_prefix = … } }`.
#[test]
fn lightsail_ha_instance_import_by_identity() {
    if !acceptance_tests::enabled() {
        return;
    }
    let h = acceptance_tests::Harness::get().expect("harness");
    if h.terraform_version().is_none_or(|v| v < (1, 12)) {
        // The oldest-Terraform pass of scripts/test.sh runs only the `_basic` tests.
        acceptance_tests::cannot_run(
            "lightsail_ha_instance_import_by_identity",
            &format!(
                "import by identity needs terraform 1.12 or later, have {:?}",
                h.terraform_version()
            ),
        );
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let body =
        "  name_prefix = \"idg\"\n  instance_count = 1\n  availability_zones = [\"us-east-1a\"]\n";
    let forget = "terraform {\n  required_providers {\n    hastack = { source = \"hastack/hastack\" }\n  }\n}\nremoved {\n  from = hastack_lightsail_ha_instance.app\n  lifecycle {\n    destroy = false\n  }\n}\n";
    let adopt = format!(
        "{}import {{\n  to       = hastack_lightsail_ha_instance.app\n  identity = {{ name_prefix = \"idg\" }}\n}}\n",
        config(body)
    );
    let port = e.port;
    with_emulator("lightsail_ha_instance_identity", &e)
        .step(Step::new(config(body)).check(|s| healthy_members(s, 1)))
        .step(Step::new(forget).check(move |_| {
            let (_, st) = Emulator::admin_on(port)("GET", "state", &json!({}));
            match st["123456789012/us-east-1"]["lightsail"]["instances"].as_array() {
                Some(a) if a.len() == 1 => Ok(()),
                other => Err(format!("removed must not destroy: {other:?}")),
            }
        }))
        .step(Step::new(adopt).check(|s| {
            healthy_members(s, 1)?;
            let r = s
                .resource("hastack_lightsail_ha_instance.app")
                .ok_or("not imported")?;
            if r["ssm_role"] == "hastack-ssm" && r["blueprint_id"] == "debian_12" {
                Ok(())
            } else {
                Err(format!("imported state {r}"))
            }
        }))
        .run();
}

/// The `timeouts` block bounds the wait: on an emulator without hosts nothing ever registers
/// with SSM, so create fails after the configured 5 s, naming what it waited for, and keeps the
/// instances in state so that destroy removes them.
#[test]
fn lightsail_ha_instance_create_timeout() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let body = format!(
        "{}  timeouts {{\n    create = \"5s\"\n  }}\n",
        group("slow", 1, HTTP, "", "")
    );
    with_emulator("lightsail_ha_instance_timeout", &e)
        .step(Step::new(config(&body)).expect_error(r"(?s)Error creating Lightsail instances.*timed out waiting for the SSM agent of slow-0-[0-9a-f]{6} to come Online"))
        .run();
    nothing_left(&e, "after a timed-out create and destroy");
}

/// Without `availability_zones`, members spread over every zone of the provider's region; and
/// throttling and 5xx answers on the way are retried.
#[test]
fn lightsail_ha_instance_default_zones() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    // Throttling and 5xx on the way are retried (the SDK's standard retry).
    for (op, fault) in [
        ("Lightsail.CreateInstances", "throttling"),
        ("SSM.CreateActivation", "service_unavailable"),
        ("Lightsail.PutInstancePublicPorts", "internal_failure"),
    ] {
        let (status, _) = e.admin(
            "POST",
            "faults",
            &json!({"operation": op, "fault": fault, "count": 1}),
        );
        assert_eq!(status, 200);
    }
    let body = "  name_prefix = \"dz\"\n  instance_count = 2\n";
    with_emulator("lightsail_ha_instance_default_zones", &e)
        .step(Step::new(config(body)).check(|s| {
            let r = s
                .resource("hastack_lightsail_ha_instance.app")
                .ok_or("no group")?;
            let all: Vec<String> = "abcdef".chars().map(|c| format!("us-east-1{c}")).collect();
            if r["availability_zones"] != json!(all) {
                return Err(format!("zones {}", r["availability_zones"]));
            }
            let zones: Vec<String> = instances(s)?
                .iter()
                .map(|i| i["zone"].as_str().unwrap_or("").to_string())
                .collect();
            if zones != ["us-east-1a", "us-east-1b"] {
                return Err(format!("members in {zones:?}"));
            }
            Ok(())
        }))
        .run();
    let (_, calls) = e.admin("GET", "calls", &json!({}));
    // Two zones: two CreateInstances calls plus the throttled one; one activation plus the 503.
    assert_eq!(calls["Lightsail.CreateInstances"], json!(3), "{calls}");
    assert_eq!(calls["SSM.CreateActivation"], json!(2), "{calls}");
    assert_eq!(
        calls["Lightsail.PutInstancePublicPorts"],
        json!(3),
        "{calls}"
    );
}
