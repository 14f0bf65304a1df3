//! `hastack_cloudwatch_log_pipeline` through the real Terraform CLI against hastack-local: the
//! API side (no hosts), then members shipping logs on real hosts.
mod common;

use std::time::{Duration, Instant};

use acceptance_tests::emulator::Emulator;
use acceptance_tests::{State, Step};
use common::{block_on, cloudwatch_on, hosts_emulator, logs_on, run_shell, ssm_on, with_emulator};
use serde_json::{json, Value as Json};

const ADDR: &str = "hastack_cloudwatch_log_pipeline.logs";

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
resource "hastack_cloudwatch_log_pipeline" "logs" {{
{body}
}}
"#
    )
}

const FILES: &str = r#"  files = [
    { key = "nginx", path = "/var/log/nginx/access.log", timestamp_format = "%d/%b/%Y:%H:%M:%S %z" },
    { key = "app", path = "/var/log/app/app.log" },
  ]
"#;

const FILTERS: &str = r#"  metric_filters = {
    errors = { file_key = "app", pattern = "?\"status=500\" ?\"status=503\"", metric_name = "ServerErrors", unit = "Count" }
  }
  alarms = {
    errors = { metric_filter = "errors", threshold = 1 }
  }
"#;

fn basic_body(extra: &str) -> String {
    format!("  name = \"web\"\n  instance_group = \"web\"\n  session_log_group = true\n  tags = {{ team = \"web\" }}\n{FILES}{FILTERS}{extra}")
}

/// (retention, tags) of log group `name`, or None.
fn group(port: u16, name: &str) -> Option<(Option<i32>, Json)> {
    let c = logs_on(port);
    let g = block_on(c.describe_log_groups().log_group_name_prefix(name).send()).ok()?;
    let g = g
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))?
        .clone();
    let tags = block_on(
        c.list_tags_for_resource()
            .resource_arn(g.log_group_arn().unwrap_or(""))
            .send(),
    )
    .ok()?;
    Some((
        g.retention_in_days(),
        json!(tags.tags().cloned().unwrap_or_default()),
    ))
}

fn parameter(port: u16, name: &str) -> Option<String> {
    block_on(ssm_on(port).get_parameter().name(name).send())
        .ok()?
        .parameter?
        .value
}

fn alarm_names(port: u16) -> Vec<String> {
    block_on(
        cloudwatch_on(port)
            .describe_alarms()
            .alarm_name_prefix("hastack-web-")
            .send(),
    )
    .map(|a| {
        a.metric_alarms()
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn filter_names(port: u16, group: &str) -> Vec<String> {
    block_on(
        logs_on(port)
            .describe_metric_filters()
            .log_group_name(group)
            .send(),
    )
    .map(|f| {
        f.metric_filters()
            .iter()
            .filter_map(|f| f.filter_name().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn check(ok: bool, what: impl std::fmt::Display) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

#[test]
fn cloudwatch_log_pipeline_basic() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    let updated = basic_body("  retention_in_days = 7\n")
        .replace("{ key = \"app\", path = \"/var/log/app/app.log\" },", "{ key = \"app\", path = \"/var/log/app/app.log\" },\n    { key = \"worker\", path = \"/var/log/worker.log\", stream_name = \"{hostname}-worker\" },")
        .replace(FILTERS, "  metric_filters = {\n    errors = { file_key = \"worker\", pattern = \"ERROR\", metric_name = \"WorkerErrors\" }\n  }\n");
    with_emulator("cloudwatch_log_pipeline_basic", &e)
        .step(
            Step::new(config(&basic_body("")))
                .check(move |s| {
                    let r = s.resource(ADDR).ok_or("no resource")?;
                    check(r["log_group_names"] == json!({"app": "/hastack/web/app", "nginx": "/hastack/web/nginx", "sessions": "/hastack/web/sessions"}), format!("names {}", r["log_group_names"]))?;
                    check(r["log_group_arns"]["app"] == "arn:aws:logs:us-east-1:123456789012:log-group:/hastack/web/app", format!("arns {}", r["log_group_arns"]))?;
                    check(r["session_log_group_name"] == "/hastack/web/sessions" && r["retention_in_days"] == 30 && r["retain_on_destroy"] == true, format!("{r}"))?;
                    check(r["association_id"].as_str().is_some_and(|a| !a.is_empty()), "no association id")?;
                    let cfg = r["agent_config_json"].as_str().unwrap_or("");
                    check(!cfg.contains("retention"), format!("the agent config sets retention: {cfg}"))?;
                    check(parameter(port, "AmazonCloudWatch-hastack-web").as_deref() == Some(cfg), "the parameter holds another configuration")?;
                    let node = r["node_policy_json"].as_str().unwrap_or("");
                    check(!node.contains("CreateLogGroup") && !node.contains("PutRetentionPolicy") && node.contains("parameter/AmazonCloudWatch-hastack-web"), format!("node policy {node}"))?;
                    for g in ["/hastack/web/app", "/hastack/web/nginx", "/hastack/web/sessions"] {
                        let (retention, tags) = group(port, g).ok_or(format!("no group {g}"))?;
                        check(retention == Some(30) && tags["hastack:pipeline"] == "web" && tags["team"] == "web" && tags["managed_by"] == "hastack", format!("{g}: {retention:?} {tags}"))?;
                    }
                    check(filter_names(port, "/hastack/web/app") == ["hastack-web-errors"], "metric filter")?;
                    check(alarm_names(port) == ["hastack-web-errors"], "alarm")?;
                    // The association targets the group tag with AmazonCloudWatch-ManageAgent.
                    let a = block_on(ssm_on(port).describe_association().association_id(r["association_id"].as_str().unwrap()).send()).map_err(|e| format!("{e:?}"))?;
                    let a = a.association_description().ok_or("no description")?;
                    check(a.name() == Some("AmazonCloudWatch-ManageAgent") && a.targets()[0].key() == Some("tag:hastack:group") && a.targets()[0].values() == ["web"], format!("{a:?}"))
                })
                .import_verify(ADDR, "web", &["timeouts"]),
        )
        .step(Step::new(config(&updated)).check(move |s| {
            let r = s.resource(ADDR).ok_or("no resource")?;
            check(r["log_group_names"]["worker"] == "/hastack/web/worker", format!("{r}"))?;
            check(group(port, "/hastack/web/app").map(|g| g.0) == Some(Some(7)), "retention not updated")?;
            check(filter_names(port, "/hastack/web/app").is_empty() && filter_names(port, "/hastack/web/worker") == ["hastack-web-errors"], "metric filter not moved")?;
            check(alarm_names(port).is_empty(), "alarm not removed")?;
            check(parameter(port, "AmazonCloudWatch-hastack-web").is_some_and(|p| p.contains("{hostname}-worker")), "parameter not updated")
        }))
        .check_destroy(move |_| {
            check(parameter(port, "AmazonCloudWatch-hastack-web").is_none(), "the parameter outlived destroy")?;
            check(group(port, "/hastack/web/worker").is_some() && group(port, "/hastack/web/app").is_some(), "retain_on_destroy: the groups must stay")?;
            let a = block_on(ssm_on(port).list_associations().send()).map_err(|e| format!("{e:?}"))?;
            check(a.associations().is_empty(), "the association outlived destroy")?;
            check(filter_names(port, "/hastack/web/worker").is_empty(), "the metric filter outlived destroy")
        })
        .run();
    // A new pipeline of the same name adopts the kept groups (empty plan after apply), and
    // without retain_on_destroy its destroy deletes them.
    with_emulator("cloudwatch_log_pipeline_adopt", &e)
        .step(
            Step::new(config(&basic_body("  retain_on_destroy = false\n"))).check(move |s| {
                let r = s.resource(ADDR).ok_or("no resource")?;
                check(
                    r["retention_in_days"] == 30
                        && group(port, "/hastack/web/app").map(|g| g.0) == Some(Some(30)),
                    "adopted group's retention not set back to 30",
                )
            }),
        )
        // Dropping files (and the metric filter) deletes their groups when groups are not retained.
        .step(
            Step::new(config("  name = \"web\"\n  instance_group = \"web\"\n  retain_on_destroy = false\n  files = [{ key = \"nginx\", path = \"/var/log/nginx/access.log\" }]\n")).check(move |_| {
                check(
                    group(port, "/hastack/web/app").is_none()
                        && group(port, "/hastack/web/sessions").is_none()
                        && group(port, "/hastack/web/nginx").is_some(),
                    "dropped files' groups not deleted",
                )
            }),
        )
        .check_destroy(move |_| {
            check(group(port, "/hastack/web/nginx").is_none(), "retain_on_destroy = false keeps groups")
        })
        .run();
}

#[test]
fn cloudwatch_log_pipeline_disappears() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    let body = format!("  name = \"gone\"\n  instance_group = \"web\"\n{FILES}");
    with_emulator("cloudwatch_log_pipeline_disappears", &e)
        .step(
            Step::new(config(&body))
                .check(move |_| {
                    block_on(
                        ssm_on(port)
                            .delete_parameter()
                            .name("AmazonCloudWatch-hastack-gone")
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        .step(Step::new(config(&body)).check(move |_| {
            check(
                parameter(port, "AmazonCloudWatch-hastack-gone").is_some(),
                "not re-created",
            )
        }))
        // Retention changed behind Terraform's back (by hand, or by an agent holding
        // logs:PutRetentionPolicy) shows in the plan and is set back.
        .step(
            Step::new(config(&body))
                .check(move |_| {
                    block_on(
                        logs_on(port)
                            .put_retention_policy()
                            .log_group_name("/hastack/gone/app")
                            .retention_in_days(1)
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        .step(Step::new(config(&body)).check(move |_| {
            check(
                group(port, "/hastack/gone/app").map(|g| g.0) == Some(Some(30)),
                "retention not set back to 30",
            )
        }))
        .run();
}

#[test]
fn cloudwatch_log_pipeline_errors() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let head = "  name = \"web\"\n  instance_group = \"web\"\n";
    let cases = [
        ("retention", format!("{head}{FILES}  retention_in_days = 31\n"), "Invalid retention", "retention_in_days = 31"),
        ("path", format!("{head}  files = [{{ key = \"a\", path = \"relative.log\" }}]\n"), "Invalid path", "files = ["),
        ("filter", format!("{head}{FILES}  metric_filters = {{ e = {{ file_key = \"nope\", pattern = \"x\", metric_name = \"m\" }} }}\n"), "Unknown file key", "metric_filters = {"),
    ];
    for (name, body, summary, line) in cases {
        with_emulator(&format!("cloudwatch_log_pipeline_bad_{name}"), &e)
            .step(
                Step::new(config(&body))
                    .expect_error(&format!(r"(?s)Error: {summary}.*{}", regex::escape(line))),
            )
            .run();
    }
    // A group someone else made is not taken over.
    block_on(
        logs_on(e.port)
            .create_log_group()
            .log_group_name("/hastack/taken/app")
            .send(),
    )
    .expect("group");
    with_emulator("cloudwatch_log_pipeline_taken", &e)
        .step(
            Step::new(config(&format!(
                "  name = \"taken\"\n  instance_group = \"web\"\n{FILES}"
            )))
            .expect_error(r"(?s)Log group already exists.*/hastack/taken/app"),
        )
        .run();
}

// ---- On real hosts -------------------------------------------------------------------

fn web_group(count: u32, version: u32) -> String {
    format!(
        r##"
resource "hastack_lightsail_ha_instance" "web" {{
  name_prefix        = "logs"
  instance_count     = {count}
  availability_zones = ["us-east-1a", "us-east-1b"]
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm"
  user_data          = "#!/bin/bash\n# v{version}\nmkdir -p /var/log/app\n"
}}
resource "hastack_cloudwatch_log_pipeline" "logs" {{
  name           = "logs"
  instance_group = hastack_lightsail_ha_instance.web.id
  files          = [{{ key = "app", path = "/var/log/app/app.log" }}]
  metric_filters = {{
    errors = {{ file_key = "app", pattern = "\"status=503\"", metric_name = "ServerErrors" }}
  }}
  alarms = {{
    errors = {{ metric_filter = "errors", threshold = 3 }}
  }}
}}
"##
    )
}

fn members(s: &State) -> Vec<(String, String)> {
    s.resource("hastack_lightsail_ha_instance.web")
        .and_then(|r| r["instances"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or("").to_string(),
                i["ssm_instance_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Append a line stamped with the host's clock (ms) on `node`; FilterLogEvents is polled every
/// 50 ms until the line shows in the member's stream: the delay from the append, or an error
/// after 10 s.
fn ship_one(port: u16, node: &str, member: &str, line: &str) -> Result<Duration, String> {
    let (status, out) = run_shell(
        port,
        node,
        &format!("t=$(date +%s%3N); echo \"$t {line}\" >> /var/log/app/app.log; echo $t"),
    )?;
    if status != "Success" {
        return Err(format!("append on {member}: {status} {out}"));
    }
    let appended: u128 = out
        .trim()
        .parse()
        .map_err(|_| format!("no timestamp: {out}"))?;
    let logs = logs_on(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = block_on(
            logs.filter_log_events()
                .log_group_name("/hastack/logs/app")
                .log_stream_names(member)
                .filter_pattern(format!("\"{line}\""))
                .send(),
        )
        .map(|r| !r.events().is_empty())
        .unwrap_or(false);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        if found {
            return Ok(Duration::from_millis(now.saturating_sub(appended) as u64));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{line} from {member} not in FilterLogEvents after 10 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cloudwatch_log_pipeline_ships_every_members_lines() {
    if !acceptance_tests::enabled() {
        return;
    }
    common::wait_for_hosts_lock();
    let Some((_guard, e)) = hosts_emulator() else {
        return;
    };
    let port = e.port;
    let started = Instant::now();
    let nonce = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 0xffff_ffff
    );
    let (n2, n3) = (nonce.clone(), nonce.clone());
    // The members before the rolling replacement.
    let before: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (before1, before2) = (before.clone(), before.clone());
    with_emulator("cloudwatch_log_pipeline_hosts", &e)
        .step(Step::new(config_hosts(2, 1)).check(move |s| {
            let m = members(s);
            check(m.len() == 2, format!("members {m:?}"))?;
            let mut delays = Vec::new();
            for i in 0..24 {
                let (name, node) = &m[i % m.len()];
                let status = if i % 4 == 0 {
                    "status=503"
                } else {
                    "status=200"
                };
                delays.push(ship_one(
                    port,
                    node,
                    name,
                    &format!("line-{nonce}-{i} {status}"),
                )?);
            }
            delays.sort();
            acceptance_tests::figure!(
                "log delivery over {} lines: p50 {:?}, max {:?}",
                delays.len(),
                delays[delays.len() / 2],
                delays[delays.len() - 1]
            );
            // Six 5xx lines in the last minute: the alarm on the metric filter fires.
            let cw = cloudwatch_on(port);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let a = block_on(
                    cw.describe_alarms()
                        .alarm_names("hastack-logs-errors")
                        .send(),
                )
                .map_err(|e| format!("{e:?}"))?;
                let state = a
                    .metric_alarms()
                    .first()
                    .and_then(|a| a.state_value())
                    .map(|s| s.as_str().to_string());
                if state.as_deref() == Some("ALARM") {
                    break;
                }
                check(
                    Instant::now() < deadline,
                    format!("alarm state {state:?} after 10 s"),
                )?;
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(())
        }))
        // Scaling up: the new member configures itself through the association.
        .step(Step::new(config_hosts(3, 1)).check(move |s| {
            let m = members(s);
            check(m.len() == 3, format!("members {m:?}"))?;
            *before1.lock().unwrap() = m.iter().map(|(n, _)| n.clone()).collect();
            let (name, node) = m
                .iter()
                .find(|(n, _)| n.starts_with("logs-2-"))
                .ok_or("no member 2")?;
            let d = ship_one(port, node, name, &format!("late-{n2}"))?;
            acceptance_tests::figure!("log delivery from the member added later: {d:?}");
            // The member added later came up with port 22 closed, like the others.
            let names: Vec<String> = m.iter().map(|(n, _)| n.clone()).collect();
            common::port_22_closed(port, &names)
        }))
        // A rolling replacement (new user data): every member is a new instance, and each one
        // ships through the association the pipeline made before it existed.
        .step(Step::new(config_hosts(3, 2)).check(move |s| {
            let m = members(s);
            check(m.len() == 3, format!("members {m:?}"))?;
            let old = before2.lock().unwrap().clone();
            check(
                m.iter().all(|(n, _)| !old.contains(n)),
                format!("not every member was replaced: {old:?} -> {m:?}"),
            )?;
            let mut delays = Vec::new();
            for (i, (name, node)) in m.iter().enumerate() {
                delays.push(ship_one(port, node, name, &format!("replaced-{n3}-{i}"))?);
            }
            acceptance_tests::figure!(
                "log delivery from the {} members a rolling replacement made: max {:?}",
                delays.len(),
                delays.iter().max().copied().unwrap_or_default()
            );
            Ok(())
        }))
        .check_destroy(move |_| {
            check(
                group(port, "/hastack/logs/app").is_some(),
                "retain_on_destroy: the group must stay",
            )
        })
        .run();
    acceptance_tests::figure!(
        "cloudwatch_log_pipeline_ships_every_members_lines took {:?}",
        started.elapsed()
    );
}

fn config_hosts(count: u32, version: u32) -> String {
    format!("terraform {{\n  required_providers {{\n    hastack = {{ source = \"hastack/hastack\" }}\n  }}\n}}\n{}", web_group(count, version))
}
