//! The official Rust SDK (aws-sdk-ssm) against hastack-local.
mod common;

use aws_sdk_ssm::types::{
    DocumentFormat, DocumentType, InstanceInformationStringFilter, ParameterType, SessionState,
    Target,
};
use aws_sdk_ssm::Client;
use common::*;
use serde_json::json;

async fn client_and_node() -> (
    hastack_local::server::Running,
    hastack_local::clock::ManualClock,
    Client,
    String,
    String,
) {
    let (r, clock) = emulator().await;
    let c = Client::new(&sdk_config(&r));
    let a = c
        .create_activation()
        .iam_role("HastackSSMRole")
        .registration_limit(3)
        .default_instance_name("web-1")
        .tags(
            aws_sdk_ssm::types::Tag::builder()
                .key("app")
                .value("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (id, code) = (a.activation_id.unwrap(), a.activation_code.unwrap());
    let (status, j) = admin(
        &r,
        "ssm/register",
        json!({"code": code, "id": id, "hostname": "web-1", "ip": "198.18.0.2"}),
    )
    .await;
    assert_eq!(status, 200, "{j}");
    let node = j["instanceId"].as_str().unwrap().to_string();
    (r, clock, c, node, id)
}

#[tokio::test]
async fn activations_and_managed_nodes() {
    let (r, clock, c, node, act) = client_and_node().await;
    assert!(node.starts_with("mi-") && node.len() == 20, "{node}");
    let acts = c
        .describe_activations()
        .send()
        .await
        .unwrap()
        .activation_list
        .unwrap();
    assert_eq!(acts[0].registrations_count(), Some(1));
    assert!(!acts[0].expired());

    // A wrong code fails like the real agent's registration.
    let (status, j) = admin(&r, "ssm/register", json!({"code": "wrong", "id": act})).await;
    assert_eq!(
        (status, j["__type"].as_str()),
        (400, Some("InvalidActivation"))
    );

    let info = c
        .describe_instance_information()
        .filters(
            InstanceInformationStringFilter::builder()
                .key("tag:app")
                .values("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let n = &info.instance_information_list.unwrap()[0];
    assert_eq!(n.instance_id(), Some(node.as_str()));
    assert_eq!(n.ping_status().map(|p| p.as_str()), Some("Online"));
    assert_eq!(n.name(), Some("web-1"));

    // Online: the agent answers, its last ping is now.
    clock.advance(120.0);
    let seen = |c: Client| async move {
        let info = c
            .describe_instance_information()
            .send()
            .await
            .unwrap()
            .instance_information_list
            .unwrap();
        (
            info[0].ping_status().map(|p| p.as_str().to_string()),
            info[0].last_ping_date_time().map(|t| t.secs()),
        )
    };
    let (status, online_ping) = seen(c.clone()).await;
    assert_eq!(status.as_deref(), Some("Online"));
    assert_eq!(
        online_ping,
        Some(hastack_local::clock::Clock::now(&clock) as i64)
    );

    // Host lost: ConnectionLost, and the last ping stays when it was last heard.
    admin(
        &r,
        "ssm/connectivity",
        json!({"instanceId": node, "online": false}),
    )
    .await;
    clock.advance(300.0);
    let (status, lost_ping) = seen(c.clone()).await;
    assert_eq!(status.as_deref(), Some("ConnectionLost"));
    assert_eq!(lost_ping, online_ping);

    c.deregister_managed_instance()
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert!(c
        .describe_instance_information()
        .send()
        .await
        .unwrap()
        .instance_information_list
        .unwrap()
        .is_empty());
    c.delete_activation()
        .activation_id(&act)
        .send()
        .await
        .unwrap();
    let err = c
        .delete_activation()
        .activation_id(&act)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_activation_id());
    r.stop().await;
}

#[tokio::test]
async fn run_command_without_hosts_fails_and_says_why() {
    let (r, clock, c, node, _) = client_and_node().await;
    let cmd = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&node)
        .parameters("commands", vec!["echo hello".to_string()])
        .send()
        .await
        .unwrap()
        .command
        .unwrap();
    let id = cmd.command_id().unwrap().to_string();
    let inv = c
        .get_command_invocation()
        .command_id(&id)
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(inv.status().map(|s| s.as_str()), Some("InProgress"));
    clock.advance(1.0);
    let inv = c
        .get_command_invocation()
        .command_id(&id)
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(
        inv.status().map(|s| s.as_str()),
        Some("Failed"),
        "never a fake Success"
    );
    assert!(inv
        .standard_error_content()
        .unwrap()
        .contains("not backed by a hastack-local host"));
    assert_eq!(inv.response_code(), -1);
    let listed = c
        .list_commands()
        .command_id(&id)
        .send()
        .await
        .unwrap()
        .commands
        .unwrap();
    assert_eq!(listed[0].status().map(|s| s.as_str()), Some("Failed"));
    assert_eq!(listed[0].error_count(), 1);
    let invs = c
        .list_command_invocations()
        .command_id(&id)
        .details(true)
        .send()
        .await
        .unwrap()
        .command_invocations
        .unwrap();
    assert!(invs[0].command_plugins()[0]
        .output()
        .unwrap()
        .contains("----------ERROR-------"));

    // Validation like SSM's.
    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&node)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_parameters(),
        "commands is required"
    );
    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids("mi-00000000000000000")
        .parameters("commands", vec!["true".into()])
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_instance_id());
    let err = c
        .send_command()
        .document_name("Nope")
        .instance_ids(&node)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_document());
    let err = c
        .get_command_invocation()
        .command_id(&id)
        .instance_id("mi-00000000000000000")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_invocation_does_not_exist());
    r.stop().await;
}

#[tokio::test]
async fn commands_to_a_lost_node_stay_pending_and_can_be_cancelled_or_time_out() {
    let (r, clock, c, node, _) = client_and_node().await;
    admin(
        &r,
        "ssm/connectivity",
        json!({"instanceId": node, "online": false}),
    )
    .await;
    let send = || {
        c.send_command()
            .document_name("AWS-RunShellScript")
            .targets(Target::builder().key("tag:app").values("web").build())
            .parameters("commands", vec!["true".into()])
            .timeout_seconds(30)
    };
    let a = send()
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let b = send()
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let status = |id: String| {
        let c = c.clone();
        let node = node.clone();
        async move {
            c.get_command_invocation()
                .command_id(id)
                .instance_id(node)
                .send()
                .await
                .unwrap()
                .status
                .unwrap()
                .as_str()
                .to_string()
        }
    };
    assert_eq!(status(a.clone()).await, "Pending");
    c.cancel_command().command_id(&a).send().await.unwrap();
    assert_eq!(status(a).await, "Cancelled");
    clock.advance(31.0);
    assert_eq!(status(b).await, "TimedOut");
    r.stop().await;
}

#[tokio::test]
async fn documents_and_versions() {
    let (r, _clock, c, _, _) = client_and_node().await;
    let v1 = json!({"schemaVersion": "2.2", "description": "bootstrap", "parameters": {"role": {"type": "String", "default": "web"}}, "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo {{ role }}"]}}]});
    let d = c
        .create_document()
        .name("hastack-bootstrap")
        .content(v1.to_string())
        .document_type(DocumentType::Command)
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap()
        .document_description
        .unwrap();
    assert_eq!(d.document_version(), Some("1"));
    assert_eq!(d.parameters()[0].name(), Some("role"));
    let err = c
        .create_document()
        .name("hastack-bootstrap")
        .content(v1.to_string())
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_document_already_exists());
    let mut v2 = v1.clone();
    v2["description"] = json!("bootstrap v2");
    let d2 = c
        .update_document()
        .name("hastack-bootstrap")
        .content(v2.to_string())
        .document_version("$LATEST")
        .send()
        .await
        .unwrap()
        .document_description
        .unwrap();
    assert_eq!(
        (
            d2.document_version(),
            d2.default_version(),
            d2.latest_version()
        ),
        (Some("2"), Some("1"), Some("2"))
    );
    let dup = c
        .update_document()
        .name("hastack-bootstrap")
        .content(v2.to_string())
        .document_version("$LATEST")
        .send()
        .await
        .unwrap_err();
    assert!(dup
        .as_service_error()
        .unwrap()
        .is_duplicate_document_content());
    let latest = c
        .get_document()
        .name("hastack-bootstrap")
        .document_version("$LATEST")
        .send()
        .await
        .unwrap();
    assert!(latest.content().unwrap().contains("bootstrap v2"));
    let default = c
        .get_document()
        .name("hastack-bootstrap")
        .send()
        .await
        .unwrap();
    assert_eq!(default.document_version(), Some("1"));
    c.update_document_default_version()
        .name("hastack-bootstrap")
        .document_version("2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.describe_document()
            .name("hastack-bootstrap")
            .send()
            .await
            .unwrap()
            .document
            .unwrap()
            .default_version(),
        Some("2")
    );
    let bad = c
        .create_document()
        .name("broken")
        .content("{not json")
        .send()
        .await
        .unwrap_err();
    assert!(bad
        .as_service_error()
        .unwrap()
        .is_invalid_document_content());
    c.delete_document()
        .name("hastack-bootstrap")
        .send()
        .await
        .unwrap();
    assert!(c
        .get_document()
        .name("hastack-bootstrap")
        .send()
        .await
        .unwrap_err()
        .as_service_error()
        .unwrap()
        .is_invalid_document());
    r.stop().await;
}

#[tokio::test]
async fn parameters_secure_strings_are_encrypted() {
    let (r, _clock, c, _, _) = client_and_node().await;
    c.put_parameter()
        .name("/hastack/db/password")
        .value("s3cr3t-pa55")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let enc = c
        .get_parameter()
        .name("/hastack/db/password")
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_ne!(
        enc.value(),
        Some("s3cr3t-pa55"),
        "without decryption the value stays encrypted"
    );
    let dec = c
        .get_parameter()
        .name("/hastack/db/password")
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(dec.value(), Some("s3cr3t-pa55"));
    let err = c
        .put_parameter()
        .name("/hastack/db/password")
        .value("x")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_parameter_already_exists());
    let v = c
        .put_parameter()
        .name("/hastack/db/password")
        .value("n3w")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    assert_eq!(v.version(), 2);
    c.put_parameter()
        .name("/hastack/plain")
        .value("hello")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    let many = c
        .get_parameters()
        .names("/hastack/plain")
        .names("/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(many.parameters()[0].value(), Some("hello"));
    assert_eq!(many.invalid_parameters(), ["/nope"]);
    c.delete_parameter()
        .name("/hastack/plain")
        .send()
        .await
        .unwrap();
    assert!(c
        .get_parameter()
        .name("/hastack/plain")
        .send()
        .await
        .unwrap_err()
        .as_service_error()
        .unwrap()
        .is_parameter_not_found());
    r.stop().await;
}

#[tokio::test]
async fn service_setting_and_sessions() {
    let (r, _clock, c, node, _) = client_and_node().await;
    let id = "/ssm/managed-instance/activation-tier";
    assert_eq!(
        c.get_service_setting()
            .setting_id(id)
            .send()
            .await
            .unwrap()
            .service_setting
            .unwrap()
            .setting_value(),
        Some("standard")
    );
    c.update_service_setting()
        .setting_id(id)
        .setting_value("advanced")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_service_setting()
            .setting_id(id)
            .send()
            .await
            .unwrap()
            .service_setting
            .unwrap()
            .setting_value(),
        Some("advanced")
    );
    assert!(c
        .get_service_setting()
        .setting_id("/ssm/nope")
        .send()
        .await
        .unwrap_err()
        .as_service_error()
        .unwrap()
        .is_service_setting_not_found());

    let s = c
        .start_session()
        .target(&node)
        .reason("debug")
        .send()
        .await
        .unwrap();
    let sid = s.session_id.unwrap();
    let active = c
        .describe_sessions()
        .state(SessionState::Active)
        .send()
        .await
        .unwrap()
        .sessions
        .unwrap();
    assert_eq!(active[0].session_id(), Some(sid.as_str()));
    c.terminate_session().session_id(&sid).send().await.unwrap();
    let hist = c
        .describe_sessions()
        .state(SessionState::History)
        .send()
        .await
        .unwrap()
        .sessions
        .unwrap();
    assert_eq!(hist[0].status().map(|s| s.as_str()), Some("Terminated"));
    admin(
        &r,
        "ssm/connectivity",
        json!({"instanceId": node, "online": false}),
    )
    .await;
    assert!(c
        .start_session()
        .target(&node)
        .send()
        .await
        .unwrap_err()
        .as_service_error()
        .unwrap()
        .is_target_not_connected());
    r.stop().await;
}

/// The Session Manager preferences document as the console makes it (schemaVersion 1.0).
fn run_shell_prefs(idle: &str, max: &str) -> String {
    json!({
        "schemaVersion": "1.0",
        "description": "Document to hold regional settings for Session Manager",
        "sessionType": "Standard_Stream",
        "inputs": {
            "s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": true,
            "cloudWatchLogGroupName": "/hastack/sessions", "cloudWatchEncryptionEnabled": false,
            "cloudWatchStreamingEnabled": true, "kmsKeyId": "", "runAsEnabled": false,
            "runAsDefaultUser": "", "idleSessionTimeout": idle, "maxSessionDuration": max,
            "shellProfile": {"windows": "", "linux": "cd /srv"}
        }
    })
    .to_string()
}

#[tokio::test]
async fn session_documents_versions_and_aws_owned_session_documents() {
    let (r, _clock, c, node, _) = client_and_node().await;
    let name = "SSM-SessionManagerRunShell";
    let created = c
        .create_document()
        .name(name)
        .content(run_shell_prefs("20", ""))
        .document_type(DocumentType::Session)
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap()
        .document_description
        .unwrap();
    assert_eq!(created.document_type(), Some(&DocumentType::Session));
    assert_eq!(created.schema_version(), Some("1.0"));
    let again = c
        .create_document()
        .name(name)
        .content(run_shell_prefs("20", ""))
        .document_type(DocumentType::Session)
        .send()
        .await
        .unwrap_err();
    assert!(again
        .as_service_error()
        .unwrap()
        .is_document_already_exists());
    // Out-of-range preferences are refused, on create and on update.
    for (idle, max) in [("0", ""), ("61", ""), ("20", "1441"), ("20", "0")] {
        let e = c
            .update_document()
            .name(name)
            .content(run_shell_prefs(idle, max))
            .document_version("$LATEST")
            .send()
            .await
            .unwrap_err();
        assert!(
            e.as_service_error().unwrap().is_invalid_document_content(),
            "idle {idle} max {max}: {e:?}"
        );
    }
    let v2 = c
        .update_document()
        .name(name)
        .content(run_shell_prefs("60", "1440"))
        .document_version("$LATEST")
        .send()
        .await
        .unwrap()
        .document_description
        .unwrap();
    assert_eq!(
        (
            v2.document_version(),
            v2.latest_version(),
            v2.default_version()
        ),
        (Some("2"), Some("2"), Some("1"))
    );
    // Sessions read the default version: it stays 1 until moved.
    let described = c.describe_document().name(name).send().await.unwrap();
    assert_eq!(
        described.document.unwrap().document_version(),
        Some("1"),
        "DescribeDocument without a version describes the default"
    );
    c.update_document_default_version()
        .name(name)
        .document_version("$LATEST")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_document()
        .name(name)
        .send()
        .await
        .unwrap()
        .document
        .unwrap();
    assert_eq!(
        (d.document_version(), d.default_version()),
        (Some("2"), Some("2"))
    );
    // A Command-shaped update of a Session document is refused (the type stays).
    let cmd = json!({"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript", "name": "s", "inputs": {"runCommand": ["true"]}}]});
    let e = c
        .update_document()
        .name(name)
        .content(cmd.to_string())
        .document_version("$LATEST")
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .unwrap()
        .is_invalid_document_schema_version());
    // Run Command does not run Session documents.
    let e = c
        .send_command()
        .document_name(name)
        .instance_ids(&node)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_document());
    // The AWS-owned port forwarding documents exist, as Session documents owned by Amazon.
    for aws in [
        "AWS-StartPortForwardingSession",
        "AWS-StartPortForwardingSessionToRemoteHost",
        "AWS-StartSSHSession",
        "AWS-StartInteractiveCommand",
    ] {
        let d = c
            .describe_document()
            .name(aws)
            .send()
            .await
            .unwrap()
            .document
            .unwrap();
        assert_eq!(
            (d.owner(), d.document_type()),
            (Some("Amazon"), Some(&DocumentType::Session)),
            "{aws}"
        );
        let content = c.get_document().name(aws).send().await.unwrap();
        let j: serde_json::Value = serde_json::from_str(content.content().unwrap()).unwrap();
        assert!(j["properties"].is_object(), "{aws}: {j}");
    }
    let pf = c
        .start_session()
        .target(&node)
        .document_name("AWS-StartPortForwardingSession")
        .parameters("portNumber", vec!["80".into()])
        .send()
        .await
        .unwrap();
    assert!(pf.session_id().is_some());
    let e = c
        .start_session()
        .target(&node)
        .document_name("AWS-RunShellScript")
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_document());
    r.stop().await;
}

#[tokio::test]
async fn document_tags_after_creation() {
    use aws_sdk_ssm::types::{ResourceTypeForTagging, Tag};
    let (r, _clock) = emulator().await;
    let c = Client::new(&sdk_config(&r));
    c.create_document()
        .name("tagged-prefs")
        .content(run_shell_prefs("20", ""))
        .document_type(DocumentType::Session)
        .tags(Tag::builder().key("team").value("ops").build().unwrap())
        .send()
        .await
        .unwrap();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    c.add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Document)
        .resource_id("tagged-prefs")
        .tags(tag("team", "sre"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    c.remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::Document)
        .resource_id("tagged-prefs")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let listed = c
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Document)
        .resource_id("tagged-prefs")
        .send()
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = listed
        .tag_list()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(got, [("team", "sre")]);
    let d = c
        .describe_document()
        .name("tagged-prefs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.document.unwrap().tags().len(),
        1,
        "DescribeDocument shows the tags"
    );
    let e = c
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Document)
        .resource_id("no-such-doc")
        .tags(tag("a", "b"))
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_invalid_resource_id(),
        "{e:?}"
    );
    // Records the operations called, for the coverage check (scripts/test.sh).
    r.stop().await;
}

#[tokio::test]
async fn state_manager_associations_reach_nodes_that_register_later() {
    use aws_sdk_ssm::types::{AssociationFilter, AssociationFilterKey};
    let (r, clock, c, node, _) = client_and_node().await;
    let target = Target::builder().key("tag:app").values("web").build();
    let param = |k: &str, v: &str| (k.to_string(), vec![v.to_string()]);
    // The parameters' allowedValues are checked.
    let e = c
        .create_association()
        .name("AmazonCloudWatch-ManageAgent")
        .targets(target.clone())
        .parameters("action", vec!["explode".into()])
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_invalid_parameters(),
        "{e:?}"
    );
    let created = c
        .create_association()
        .name("AmazonCloudWatch-ManageAgent")
        .association_name("cw-web")
        .targets(target)
        .set_parameters(Some(
            [
                param("action", "configure"),
                param("mode", "onPremise"),
                param("optionalConfigurationLocation", "AmazonCloudWatch-web"),
            ]
            .into(),
        ))
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    let id = created.association_id().unwrap().to_string();
    assert_eq!(created.association_version(), Some("1"));
    let status = |n: String| {
        let c = c.clone();
        async move {
            c.describe_instance_associations_status()
                .instance_id(n)
                .send()
                .await
                .unwrap()
                .instance_association_status_infos
                .unwrap_or_default()
        }
    };
    let first = status(node.clone()).await;
    assert_eq!(first.len(), 1, "applied to the matching node at once");
    assert_eq!(first[0].association_id(), Some(id.as_str()));
    // Not a Run Command the user sent.
    let listed = c.list_commands().send().await.unwrap();
    assert!(listed.commands().is_empty(), "{listed:?}");
    // A node registering later with the tag gets it too; this node has no host, so it fails
    // (after the profile's latency) and says so.
    let a = c
        .create_activation()
        .iam_role("HastackSSMRole")
        .tags(
            aws_sdk_ssm::types::Tag::builder()
                .key("app")
                .value("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (st, j) = admin(&r, "ssm/register", json!({"code": a.activation_code().unwrap(), "id": a.activation_id().unwrap(), "hostname": "web-2", "ip": "198.18.0.3"})).await;
    assert_eq!(st, 200, "{j}");
    let later = j["instanceId"].as_str().unwrap().to_string();
    clock.advance(5.0);
    let s = status(later).await;
    assert_eq!(s.len(), 1, "a node registered later gets the association");
    assert_eq!(s[0].status(), Some("Failed"));
    // Update: a new version, applied again.
    let updated = c
        .update_association()
        .association_id(&id)
        .set_parameters(Some(
            [param("action", "stop"), param("mode", "onPremise")].into(),
        ))
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    assert_eq!(updated.association_version(), Some("2"));
    assert_eq!(
        status(node.clone()).await[0].association_version(),
        Some("2")
    );
    let by_name = c
        .list_associations()
        .association_filter_list(
            AssociationFilter::builder()
                .key(AssociationFilterKey::AssociationName)
                .value("cw-web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.associations().len(), 1);
    let d = c
        .describe_association()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.association_description().unwrap().association_name(),
        Some("cw-web")
    );
    c.delete_association()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    let e = c
        .describe_association()
        .association_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_association_does_not_exist(),
        "{e:?}"
    );
    // Records the operations called, for the coverage check (scripts/test.sh).
    r.stop().await;
}
