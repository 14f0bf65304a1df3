//! What `hastack_ssm_session_policy` writes: the Session document's content (Session Manager
//! preferences) and the two IAM policy documents users attach with their own IAM tooling.
//! Every JSON here has sorted keys, so the same input gives the same text.
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

/// Session Manager preferences, as the `Standard_Stream` schema names them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Preferences {
    pub s3_bucket_name: String,
    pub s3_key_prefix: String,
    pub s3_encryption: bool,
    pub log_group: String,
    pub cloudwatch_encryption: bool,
    pub cloudwatch_streaming: bool,
    pub kms_key_id: String,
    pub run_as_user: String,
    pub idle_timeout: i64,
    /// 0: no limit.
    pub max_duration: i64,
    pub shell_profile_linux: String,
}

/// Objects with their keys in order, recursively.
pub fn sorted(v: Json) -> Json {
    match v {
        Json::Object(m) => {
            let b: BTreeMap<String, Json> = m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Json::Object(b.into_iter().collect())
        }
        Json::Array(a) => Json::Array(a.into_iter().map(sorted).collect()),
        v => v,
    }
}

/// The document content: every input written (an absent one would take AWS's default, and
/// the document is then not what the plan said).
pub fn document(p: &Preferences) -> String {
    let v = json!({
        "schemaVersion": "1.0",
        "description": "Session Manager preferences managed by hastack (hastack_ssm_session_policy).",
        "sessionType": "Standard_Stream",
        "inputs": {
            "s3BucketName": p.s3_bucket_name,
            "s3KeyPrefix": p.s3_key_prefix,
            "s3EncryptionEnabled": p.s3_encryption,
            "cloudWatchLogGroupName": p.log_group,
            "cloudWatchEncryptionEnabled": p.cloudwatch_encryption,
            "cloudWatchStreamingEnabled": p.cloudwatch_streaming,
            "kmsKeyId": p.kms_key_id,
            "runAsEnabled": !p.run_as_user.is_empty(),
            "runAsDefaultUser": p.run_as_user,
            "idleSessionTimeout": p.idle_timeout.to_string(),
            "maxSessionDuration": if p.max_duration > 0 { p.max_duration.to_string() } else { String::new() },
            "shellProfile": {"linux": p.shell_profile_linux, "windows": ""},
        }
    });
    serde_json::to_string_pretty(&sorted(v)).unwrap_or_default()
}

/// The preferences in a document's content (`None`: not a Session preferences document).
/// Absent inputs read as AWS's defaults.
pub fn parse_document(content: &str) -> Option<Preferences> {
    let v: Json = serde_json::from_str(content).ok()?;
    if v.get("sessionType").and_then(Json::as_str) != Some("Standard_Stream") {
        return None;
    }
    let i = v.get("inputs").cloned().unwrap_or(json!({}));
    let s = |k: &str| i.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let b = |k: &str, d: bool| i.get(k).and_then(Json::as_bool).unwrap_or(d);
    let n = |k: &str, d: i64| {
        i.get(k)
            .and_then(Json::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let run_as = b("runAsEnabled", false);
    Some(Preferences {
        s3_bucket_name: s("s3BucketName"),
        s3_key_prefix: s("s3KeyPrefix"),
        s3_encryption: b("s3EncryptionEnabled", false),
        log_group: s("cloudWatchLogGroupName"),
        cloudwatch_encryption: b("cloudWatchEncryptionEnabled", false),
        cloudwatch_streaming: b("cloudWatchStreamingEnabled", false),
        kms_key_id: s("kmsKeyId"),
        run_as_user: if run_as {
            s("runAsDefaultUser")
        } else {
            String::new()
        },
        idle_timeout: n("idleSessionTimeout", 20),
        max_duration: n("maxSessionDuration", 0),
        shell_profile_linux: i
            .get("shellProfile")
            .and_then(|p| p.get("linux"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

/// Where the policies point.
pub struct Scope<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub document: &'a str,
    pub target_tags: &'a BTreeMap<String, String>,
}

/// A KMS statement for `key`: a key ARN or id names the key; an alias cannot be a key
/// action's resource in IAM, so it becomes a condition on the key's aliases.
fn kms_statement(s: &Scope<'_>, sid: &str, action: &str, key: &str) -> Json {
    let key_arn = |id: &str| {
        format!(
            "arn:{}:kms:{}:{}:key/{id}",
            s.partition, s.region, s.account
        )
    };
    let alias = key
        .strip_prefix("alias/")
        .map(|a| format!("alias/{a}"))
        .or_else(|| key.split_once(":alias/").map(|(_, a)| format!("alias/{a}")));
    match alias {
        Some(alias) => json!({
            "Sid": sid, "Effect": "Allow", "Action": action, "Resource": key_arn("*"),
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [alias]}}
        }),
        None if key.starts_with("arn:") => {
            json!({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": key})
        }
        None => json!({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": key_arn(key)}),
    }
}

/// For people who open sessions: StartSession only to managed nodes carrying every target tag
/// and only with this document (`ssm:SessionDocumentAccessCheck` makes StartSession without
/// `--document-name` fall under the same check, so the logging preferences cannot be bypassed
/// and the unlogged SSH and port-forwarding documents are out); terminate and resume only
/// one's own sessions. The document ARN is in a statement of its own: a tag condition would
/// never match it.
pub fn operator_policy(s: &Scope<'_>, p: &Preferences) -> String {
    let tag_cond: serde_json::Map<String, Json> = s
        .target_tags
        .iter()
        .map(|(k, v)| (format!("ssm:resourceTag/{k}"), json!([v])))
        .collect();
    let arn = |svc: &str, res: &str| {
        format!("arn:{}:{svc}:{}:{}:{res}", s.partition, s.region, s.account)
    };
    let mut statements = vec![
        json!({
            "Sid": "StartSessionOnTaggedNodes",
            "Effect": "Allow",
            "Action": "ssm:StartSession",
            "Resource": [arn("ssm", "managed-instance/*"), arn("ec2", "instance/*")],
            "Condition": {
                "StringLike": tag_cond,
                "BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}
            }
        }),
        json!({
            "Sid": "StartSessionWithThisDocumentOnly",
            "Effect": "Allow",
            "Action": "ssm:StartSession",
            "Resource": arn("ssm", &format!("document/{}", s.document)),
            "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}
        }),
        json!({
            "Sid": "SeeSessionsAndNodes",
            "Effect": "Allow",
            "Action": ["ssm:DescribeInstanceInformation", "ssm:DescribeSessions", "ssm:GetConnectionStatus"],
            "Resource": "*"
        }),
        json!({
            "Sid": "OwnSessionsOfIamUsers",
            "Effect": "Allow",
            "Action": ["ssm:ResumeSession", "ssm:TerminateSession"],
            "Resource": arn("ssm", "session/${aws:username}-*")
        }),
        json!({
            "Sid": "OwnSessionsOfRoles",
            "Effect": "Allow",
            "Action": ["ssm:ResumeSession", "ssm:TerminateSession"],
            "Resource": arn("ssm", "session/*"),
            "Condition": {"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": ["${aws:userid}"]}}
        }),
    ];
    if !p.kms_key_id.is_empty() {
        statements.push(kms_statement(
            s,
            "EncryptSessionData",
            "kms:GenerateDataKey",
            &p.kms_key_id,
        ));
    }
    policy(statements)
}

/// For the nodes' role: the Session Manager channels, writing the session logs where the
/// preferences send them, and decrypting session data. Nothing else (no log group creation).
pub fn node_policy(s: &Scope<'_>, p: &Preferences) -> String {
    let mut statements = vec![json!({
        "Sid": "SessionManagerChannels",
        "Effect": "Allow",
        "Action": [
            "ssm:UpdateInstanceInformation",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel"
        ],
        "Resource": "*"
    })];
    if !p.log_group.is_empty() {
        statements.push(json!({
            "Sid": "SessionLogsToCloudWatch",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:{}:logs:{}:{}:log-group:{}:*", s.partition, s.region, s.account, p.log_group)
        }));
        statements.push(json!({
            "Sid": "CheckSessionLogGroup",
            "Effect": "Allow",
            "Action": ["logs:DescribeLogGroups", "logs:DescribeLogStreams"],
            "Resource": "*"
        }));
    }
    if !p.s3_bucket_name.is_empty() {
        statements.push(json!({
            "Sid": "SessionLogsToS3",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": format!("arn:{}:s3:::{}/{}*", s.partition, p.s3_bucket_name, p.s3_key_prefix)
        }));
        statements.push(json!({
            "Sid": "CheckSessionBucketEncryption",
            "Effect": "Allow",
            "Action": "s3:GetEncryptionConfiguration",
            "Resource": format!("arn:{}:s3:::{}", s.partition, p.s3_bucket_name)
        }));
    }
    if !p.kms_key_id.is_empty() {
        statements.push(kms_statement(
            s,
            "DecryptSessionData",
            "kms:Decrypt",
            &p.kms_key_id,
        ));
    }
    policy(statements)
}

fn policy(statements: Vec<Json>) -> String {
    serde_json::to_string_pretty(&sorted(
        json!({"Version": "2012-10-17", "Statement": statements}),
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs() -> Preferences {
        Preferences {
            log_group: "/hastack/sessions".into(),
            cloudwatch_streaming: true,
            kms_key_id: "alias/sessions".into(),
            run_as_user: "ops".into(),
            idle_timeout: 15,
            s3_bucket_name: "audit".into(),
            s3_key_prefix: "sessions/".into(),
            ..Default::default()
        }
    }

    fn scope<'a>(tags: &'a BTreeMap<String, String>) -> Scope<'a> {
        Scope {
            partition: "aws",
            region: "us-east-1",
            account: "123456789012",
            document: "hastack-web-Shell",
            target_tags: tags,
        }
    }

    /// Golden files: set UPDATE_GOLDEN=1 to rewrite them after an intended change.
    fn golden(name: &str, got: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/resources/ssm_session_policy/golden")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, format!("{got}\n")).expect("write golden");
        }
        let want = std::fs::read_to_string(&path).expect("golden file");
        assert_eq!(got, want.trim_end(), "{name} differs from its golden file");
    }

    #[test]
    fn policies_match_golden_files() {
        let tags: BTreeMap<String, String> =
            [("hastack:group".to_string(), "web".to_string())].into();
        golden(
            "operator_policy.json",
            &operator_policy(&scope(&tags), &prefs()),
        );
        golden("node_policy.json", &node_policy(&scope(&tags), &prefs()));
        golden("document.json", &document(&prefs()));
    }

    #[test]
    fn document_round_trips() {
        let p = prefs();
        assert_eq!(parse_document(&document(&p)), Some(p));
        assert_eq!(parse_document(r#"{"sessionType":"Port"}"#), None);
        // AWS's defaults for what a document leaves out.
        let d = parse_document(
            r#"{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{}}"#,
        )
        .unwrap();
        assert_eq!(
            (d.idle_timeout, d.max_duration, d.cloudwatch_streaming),
            (20, 0, false)
        );
    }

    #[test]
    fn operator_policy_limits_targets_documents_and_sessions() {
        let tags: BTreeMap<String, String> = [
            ("hastack:group".to_string(), "web".to_string()),
            ("env".to_string(), "prod".to_string()),
        ]
        .into();
        let v: Json =
            serde_json::from_str(&operator_policy(&scope(&tags), &Preferences::default())).unwrap();
        let st = v["Statement"].as_array().unwrap();
        // Both tags in one StringLike: all must match.
        assert_eq!(
            st[0]["Condition"]["StringLike"],
            json!({"ssm:resourceTag/env": ["prod"], "ssm:resourceTag/hastack:group": ["web"]})
        );
        assert!(st
            .iter()
            .all(|s| s["Action"] != "ssm:*" && s["Effect"] == "Allow"));
        assert_eq!(
            st[1]["Resource"],
            "arn:aws:ssm:us-east-1:123456789012:document/hastack-web-Shell"
        );
        // No KMS statement without a key; no logs statements in the node policy without a group.
        assert!(!v.to_string().contains("kms:"));
        let n = node_policy(&scope(&tags), &Preferences::default());
        assert!(!n.contains("logs:") && !n.contains("CreateLogGroup"));
    }
}
