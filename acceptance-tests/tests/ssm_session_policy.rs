//! `hastack_ssm_session_policy` through the real Terraform CLI against hastack-local.
mod common;

use acceptance_tests::emulator::Emulator;
use acceptance_tests::Step;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use common::{
    assume_role_with_policy, block_on, hosts_emulator, logs_on, port_22_closed, run_shell, ssm_on,
    ssm_with, wait_for_hosts_lock, with_emulator, SessionClient,
};
use serde_json::{json, Value as Json};

const ADDR: &str = "hastack_ssm_session_policy.shell";

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
resource "hastack_ssm_session_policy" "shell" {{
{body}
}}
"#
    )
}

fn create_group(port: u16, name: &str) {
    block_on(logs_on(port).create_log_group().log_group_name(name).send()).expect("log group");
}

/// The default version's content of document `name`, or None when it does not exist.
fn document(port: u16, name: &str) -> Option<Json> {
    block_on(ssm_on(port).get_document().name(name).send())
        .ok()
        .and_then(|d| serde_json::from_str(d.content()?).ok())
}

fn golden(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../provider/src/resources/ssm_session_policy/golden")
        .join(name);
    std::fs::read_to_string(path)
        .expect("golden file")
        .trim_end()
        .to_string()
}

/// The same preferences as the provider's golden files.
const GOLDEN_BODY: &str = r#"  document_name             = "hastack-web-Shell"
  target_tags               = { "hastack:group" = "web" }
  cloudwatch_log_group_name = "/hastack/sessions"
  kms_key_id                = "alias/sessions"
  run_as_user               = "ops"
  idle_timeout_minutes      = 15
  s3_bucket_name            = "audit"
  s3_key_prefix             = "sessions/"
  tags                      = { team = "ops" }
"#;

#[test]
fn ssm_session_policy_basic() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    create_group(port, "/hastack/sessions");
    let updated = GOLDEN_BODY.replace(
        "idle_timeout_minutes      = 15",
        "idle_timeout_minutes = 30\n  max_duration_minutes = 120\n  enable_advanced_tier = true",
    );
    with_emulator("ssm_session_policy_basic", &e)
        .step(
            Step::new(config(GOLDEN_BODY))
                .check(move |s| {
                    let r = s.resource(ADDR).ok_or("no resource")?;
                    let want = [
                        ("id", json!("hastack-web-Shell")),
                        ("document_arn", json!("arn:aws:ssm:us-east-1:123456789012:document/hastack-web-Shell")),
                        ("default_version", json!("1")),
                        ("activation_tier", json!("standard")),
                        ("cloudwatch_streaming", json!(true)),
                        ("enable_advanced_tier", json!(false)),
                        ("tags_all", json!({"team": "ops", "managed_by": "hastack"})),
                        ("operator_policy_json", json!(golden("operator_policy.json"))),
                        ("node_policy_json", json!(golden("node_policy.json"))),
                        ("start_session_command", json!("aws ssm start-session --region us-east-1 --target NODE_ID --document-name hastack-web-Shell")),
                    ];
                    for (k, v) in want {
                        if r[k] != v {
                            return Err(format!("{k} = {} (want {v})", r[k]));
                        }
                    }
                    // What AWS holds is the golden document.
                    let doc = document(port, "hastack-web-Shell").ok_or("no document")?;
                    let want: Json = serde_json::from_str(&golden("document.json")).unwrap();
                    if doc != want {
                        return Err(format!("document content {doc}"));
                    }
                    Ok(())
                })
                // AWS does not keep target_tags (only the policy JSON uses them).
                .import_verify(ADDR, "hastack-web-Shell", &["timeouts", "tags", "target_tags", "operator_policy_json"]),
        )
        // In place: a new version becomes the default; the tier goes advanced.
        .step(Step::new(config(&updated)).check(move |s| {
            let r = s.resource(ADDR).ok_or("no resource")?;
            let doc = document(port, "hastack-web-Shell").ok_or("no document")?;
            let ok = r["default_version"] == "2"
                && r["activation_tier"] == "advanced"
                && r["max_duration_minutes"] == 120
                && doc["inputs"]["idleSessionTimeout"] == "30"
                && doc["inputs"]["maxSessionDuration"] == "120";
            if ok { Ok(()) } else { Err(format!("update not applied: {r} / {doc}")) }
        }))
        // Drift behind Terraform's back: a console edit of the preferences and a downgraded
        // tier show in the plan, and the next apply restores both.
        .step(
            Step::new(config(&updated))
                .check(move |_| {
                    let c = ssm_on(port);
                    let mut doc = document(port, "hastack-web-Shell").ok_or("no document")?;
                    doc["inputs"]["idleSessionTimeout"] = json!("5");
                    block_on(c.update_document().name("hastack-web-Shell").content(doc.to_string()).document_version("$LATEST").send()).map_err(|e| format!("{e:?}"))?;
                    block_on(c.update_document_default_version().name("hastack-web-Shell").document_version("3").send()).map_err(|e| format!("{e:?}"))?;
                    block_on(c.update_service_setting().setting_id("/ssm/managed-instance/activation-tier").setting_value("standard").send()).map(|_| ()).map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        .step(Step::new(config(&updated)).check(move |s| {
            let r = s.resource(ADDR).ok_or("no resource")?;
            let doc = document(port, "hastack-web-Shell").ok_or("no document")?;
            // Version 2 holds our content (DuplicateDocumentContent): it becomes the default again.
            let ok = r["activation_tier"] == "advanced" && r["default_version"] == "2" && doc["inputs"]["idleSessionTimeout"] == "30";
            if ok { Ok(()) } else { Err(format!("drift not repaired: {r} / {doc}")) }
        }))
        // The plans say what the tier means: sessions to hybrid nodes need it (first step,
        // standard tier), and switching costs money per node (second step).
        .check_output(|_, output| {
            let text = output.split_whitespace().collect::<Vec<_>>().join(" ");
            for want in [
                "Warning: Hybrid nodes need the advanced-instances tier for sessions",
                "Warning: The advanced-instances tier costs money",
                "is then billed $",
                "Destroying this resource does not switch it back.",
            ] {
                if !text.contains(want) {
                    return Err(format!("no {want:?} in Terraform's output"));
                }
            }
            Ok(())
        })
        .check_destroy(move |_| {
            if document(port, "hastack-web-Shell").is_some() {
                return Err("the document outlived destroy".into());
            }
            let tier = block_on(ssm_on(port).get_service_setting().setting_id("/ssm/managed-instance/activation-tier").send()).map_err(|e| format!("{e:?}"))?;
            match tier.service_setting().and_then(|s| s.setting_value()) {
                Some("advanced") => Ok(()),
                other => Err(format!("destroy changed the tier: {other:?}")),
            }
        })
        .run();
}

#[test]
fn ssm_session_policy_adopts_the_console_document() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    create_group(port, "/hastack/sessions");
    // What the console creates the first time someone opens Session Manager's preferences.
    let console = json!({"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager", "sessionType": "Standard_Stream",
        "inputs": {"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": true, "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": true, "cloudWatchStreamingEnabled": true, "idleSessionTimeout": "20", "maxSessionDuration": "", "kmsKeyId": "", "runAsEnabled": false, "runAsDefaultUser": "", "shellProfile": {"windows": "", "linux": ""}}});
    block_on(
        ssm_on(port)
            .create_document()
            .name("SSM-SessionManagerRunShell")
            .document_type(aws_sdk_ssm::types::DocumentType::Session)
            .content(console.to_string())
            .send(),
    )
    .expect("console document");
    let body = "  target_tags = { \"hastack:group\" = \"web\" }\n  cloudwatch_log_group_name = \"/hastack/sessions\"\n";
    with_emulator("ssm_session_policy_adopt", &e)
        .step(
            Step::new(config(body))
                .check(move |s| {
                    let r = s.resource(ADDR).ok_or("no resource")?;
                    let doc = document(port, "SSM-SessionManagerRunShell").ok_or("no document")?;
                    let ok = r["id"] == "SSM-SessionManagerRunShell"
                        && r["default_version"] == "2"
                        && doc["inputs"]["cloudWatchLogGroupName"] == "/hastack/sessions"
                        && doc["inputs"]["cloudWatchEncryptionEnabled"] == false
                        && r["start_session_command"]
                            == "aws ssm start-session --region us-east-1 --target NODE_ID";
                    if ok {
                        Ok(())
                    } else {
                        Err(format!("not adopted: {r} / {doc}"))
                    }
                })
                .import_verify(
                    ADDR,
                    "SSM-SessionManagerRunShell",
                    &["timeouts", "tags", "target_tags", "operator_policy_json"],
                ),
        )
        .run();
}

#[test]
fn ssm_session_policy_disappears() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    // No target_tags: the default, every hastack group's nodes.
    let body = "  document_name = \"hastack-gone-Shell\"\n";
    with_emulator("ssm_session_policy_disappears", &e)
        .step(
            Step::new(config(body))
                .check(move |_| {
                    block_on(
                        ssm_on(port)
                            .delete_document()
                            .name("hastack-gone-Shell")
                            .send(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                })
                .expect_drift(),
        )
        // The next apply creates it again.
        .step(Step::new(config(body)).check(move |s| {
            document(port, "hastack-gone-Shell").ok_or("not re-created")?;
            let r = s.resource(ADDR).ok_or("no resource")?;
            if r["target_tags"] != json!({"hastack:group": "*"}) {
                return Err(format!("default target_tags {}", r["target_tags"]));
            }
            let policy: Json =
                serde_json::from_str(r["operator_policy_json"].as_str().unwrap_or(""))
                    .map_err(|e| e.to_string())?;
            let cond = &policy["Statement"][0]["Condition"]["StringLike"];
            if cond != &json!({"ssm:resourceTag/hastack:group": ["*"]}) {
                return Err(format!("operator policy's tag condition {cond}"));
            }
            Ok(())
        }))
        .run();
}

#[test]
fn ssm_session_policy_errors() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let port = e.port;
    let tags = "  target_tags = { \"hastack:group\" = \"web\" }\n";
    // (case, body, diagnostic summary, the configuration line Terraform must point at)
    let plan_time = [
        (
            "idle",
            "  idle_timeout_minutes = 61\n",
            "Invalid idle timeout",
            "idle_timeout_minutes = 61",
        ),
        (
            "max",
            "  max_duration_minutes = 0\n",
            "Invalid maximum session duration",
            "max_duration_minutes = 0",
        ),
        (
            "user",
            "  run_as_user = \"Root\"\n",
            "Invalid run-as user",
            "run_as_user = \"Root\"",
        ),
        (
            "doc",
            "  document_name = \"AWS-Mine\"\n",
            "Invalid document name",
            "document_name = \"AWS-Mine\"",
        ),
        (
            "enc",
            "  cloudwatch_encryption_required = true\n",
            "Nothing to encrypt",
            "cloudwatch_encryption_required = true",
        ),
    ];
    for (name, body, summary, line) in plan_time {
        with_emulator(&format!("ssm_session_policy_bad_{name}"), &e)
            .step(
                Step::new(config(&format!("{tags}{body}")))
                    .expect_error(&format!(r"(?s)Error: {summary}.*{}", regex::escape(line))),
            )
            .run();
    }
    // A missing log group is refused (Session Manager would log nothing), and nothing is made.
    with_emulator("ssm_session_policy_no_log_group", &e)
        .step(Step::new(config(&format!("{tags}  document_name = \"hastack-x-Shell\"\n  cloudwatch_log_group_name = \"/nowhere\"\n"))).expect_error(r#"(?s)Session log group does not exist.*"/nowhere""#))
        .run();
    assert!(
        document(port, "hastack-x-Shell").is_none(),
        "nothing is created when the log group is missing"
    );
    // Another name that exists is not silently taken over: AWS's code, and how to import.
    block_on(
        ssm_on(port)
            .create_document()
            .name("hastack-taken-Shell")
            .document_type(aws_sdk_ssm::types::DocumentType::Session)
            .content(r#"{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{}}"#)
            .send(),
    )
    .expect("document");
    with_emulator("ssm_session_policy_taken", &e)
        .step(Step::new(config(&format!("{tags}  document_name = \"hastack-taken-Shell\"\n"))).expect_error(r"(?s)DocumentAlreadyExists.*terraform import hastack_ssm_session_policy.<name> hastack-taken-Shell"))
        .run();
}

/// Attribute `attr` of the first member of `hastack_lightsail_ha_instance.<group>`.
fn first_member(s: &acceptance_tests::State, group: &str, attr: &str) -> Result<String, String> {
    s.resource(&format!("hastack_lightsail_ha_instance.{group}"))
        .and_then(|r| r["instances"][0][attr].as_str().map(str::to_string))
        .ok_or_else(|| format!("no member {attr} in group {group}"))
}

/// End to end on real hosts: the policy's document and log group, a session to a web member
/// with a client we did not write, the command's output as the policy's run-as user, and the
/// session in the log group (session id, node id, user ARN, the command and its output).
#[test]
fn ssm_session_policy_audited_session() {
    if !acceptance_tests::enabled() {
        return;
    }
    wait_for_hosts_lock();
    let Some((_guard, e)) = hosts_emulator() else {
        return;
    };
    let port = e.port;
    let started = std::time::Instant::now();
    create_group(port, "/hastack/sessions");
    let body = r##"
resource "hastack_lightsail_ha_instance" "web" {
  name_prefix        = "web"
  instance_count     = 1
  availability_zones = ["us-east-1a", "us-east-1b"]
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm"
  user_data          = "#!/bin/bash\nuseradd -m -s /bin/bash ops\n"
}

# Another group: its node carries hastack:group = other, outside the policy's target_tags.
resource "hastack_lightsail_ha_instance" "other" {
  name_prefix        = "other"
  instance_count     = 1
  availability_zones = ["us-east-1b"]
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm"
}
"##;
    let policy = "  document_name             = \"hastack-web-Shell\"\n  target_tags               = { \"hastack:group\" = \"web\" }\n  cloudwatch_log_group_name = \"/hastack/sessions\"\n  run_as_user               = \"ops\"\n";
    let nonce = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 0xffff_ffff
    );
    with_emulator("ssm_session_policy_audited_session", &e)
        .step(
            Step::new(format!("{}{body}", config(policy))).check(move |s| {
                let node = first_member(s, "web", "ssm_instance_id")?;
                // The user data makes the run-as user after the agent registered.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while run_shell(port, &node, "id -u ops")?.0 != "Success" {
                    if std::time::Instant::now() > deadline {
                        return Err("user ops never appeared".into());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                // No way in but Session Manager: port 22 is closed on both groups' members.
                let names = [
                    first_member(s, "web", "name")?,
                    first_member(s, "other", "name")?,
                ];
                port_22_closed(port, &names)?;
                // The operator: a role session limited by the policy's operator_policy_json
                // (STS session policy; hastack-local evaluates it for StartSession).
                let policy_json = s
                    .resource(ADDR)
                    .and_then(|r| r["operator_policy_json"].as_str().map(str::to_string))
                    .ok_or("no operator_policy_json")?;
                let (creds, operator) = assume_role_with_policy(
                    port,
                    "arn:aws:iam::123456789012:role/operator",
                    &policy_json,
                )?;
                let ssm = ssm_with(port, creds);
                let other = first_member(s, "other", "ssm_instance_id")?;
                // Refused: a node without the target tags, and this node without the document
                // (which would bypass the logging preferences).
                for (what, target, document) in [
                    (
                        "a node of another group",
                        other.as_str(),
                        Some("hastack-web-Shell"),
                    ),
                    ("the default document", node.as_str(), None),
                ] {
                    match block_on(
                        ssm.start_session()
                            .target(target)
                            .set_document_name(document.map(str::to_string))
                            .send(),
                    ) {
                        Err(e) if e.code() == Some("AccessDeniedException") => {}
                        Err(e) => {
                            return Err(format!(
                                "StartSession to {what}: {e:?} (want AccessDeniedException)"
                            ))
                        }
                        Ok(_) => {
                            return Err(format!(
                                "the operator policy let a session start to {what}"
                            ))
                        }
                    }
                }
                let session = block_on(
                    ssm.start_session()
                        .target(&node)
                        .document_name("hastack-web-Shell")
                        .send(),
                )
                .map_err(|e| format!("{e:?}"))?;
                let id = session.session_id().ok_or("no session id")?.to_string();
                let client = SessionClient::attach(
                    session.stream_url().ok_or("no stream url")?,
                    session.token_value().ok_or("no token")?,
                    &format!("echo audit-{nonce}; whoami\n"),
                    &format!("\\naudit-{nonce}\\r?\\nops\\r?\\n"),
                );
                client.event("matched", 20)?;
                block_on(ssm.terminate_session().session_id(&id).send())
                    .map_err(|e| format!("{e:?}"))?;
                client.event("channel_closed", 10)?;
                let events = block_on(
                    logs_on(port)
                        .filter_log_events()
                        .log_group_name("/hastack/sessions")
                        .log_stream_names(&id)
                        .filter_pattern(format!("{{ $.sessionId = \"{id}\" }}"))
                        .send(),
                )
                .map_err(|e| format!("{e:?}"))?;
                let events: Vec<Json> = events
                    .events()
                    .iter()
                    .filter_map(|e| serde_json::from_str(e.message()?).ok())
                    .collect();
                let lines: Vec<&str> = events
                    .iter()
                    .flat_map(|e| e["sessionData"].as_array().into_iter().flatten())
                    .filter_map(Json::as_str)
                    .collect();
                let who_ok = events.iter().all(|e| {
                    e["sessionId"] == id.as_str()
                        && e["target"]["id"] == node.as_str()
                        && e["userIdentity"]["arn"] == operator.as_str()
                        && e["runAsUser"] == "ops"
                });
                if events.is_empty()
                    || !who_ok
                    || !lines.contains(&format!("audit-{nonce}").as_str())
                    || !lines.contains(&"ops")
                {
                    return Err(format!("session not audited as expected: {events:?}"));
                }
                Ok(())
            }),
        )
        .run();
    acceptance_tests::figure!(
        "ssm_session_policy_audited_session took {:?}",
        started.elapsed()
    );
}
