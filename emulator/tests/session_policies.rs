//! STS session policies on StartSession, through the official SDKs: credentials assumed with
//! the operator policy the provider generates (StartSession on managed nodes tagged
//! `hastack:group=web`, with one document) reach those nodes with that document and nothing
//! else; credentials without a session policy are not limited. No hosts: the nodes are
//! registered through the admin API and are Online without one.
mod common;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_ssm::types::{DocumentFormat, DocumentType, SessionState, Tag};
use common::*;
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/hastack-operator";
const DOC: &str = "hastack-web-Shell";

/// The StartSession statements of the provider's operator policy
/// (provider/src/resources/ssm_session_policy/golden/operator_policy.json), and what it lets
/// operators see.
fn operator_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "StartSessionOnTaggedNodes", "Effect": "Allow", "Action": "ssm:StartSession",
             "Resource": ["arn:aws:ssm:us-east-1:123456789012:managed-instance/*",
                          "arn:aws:ec2:us-east-1:123456789012:instance/*"],
             "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"},
                           "StringLike": {"ssm:resourceTag/hastack:group": ["web"]}}},
            {"Sid": "StartSessionWithThisDocumentOnly", "Effect": "Allow", "Action": "ssm:StartSession",
             "Resource": format!("arn:aws:ssm:us-east-1:123456789012:document/{DOC}"),
             "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}},
            {"Sid": "SeeSessionsAndNodes", "Effect": "Allow",
             "Action": ["ssm:DescribeInstanceInformation", "ssm:DescribeSessions"], "Resource": "*"}
        ]
    })
    .to_string()
}

/// A managed node registered from an activation tagged `hastack:group=GROUP`.
async fn node(
    r: &hastack_local::server::Running,
    ssm: &aws_sdk_ssm::Client,
    group: &str,
) -> String {
    let tag = Tag::builder()
        .key("hastack:group")
        .value(group)
        .build()
        .unwrap();
    let a = ssm
        .create_activation()
        .iam_role("HastackSSMRole")
        .default_instance_name(group)
        .tags(tag)
        .send()
        .await
        .unwrap();
    let (status, j) = admin(
        r,
        "ssm/register",
        json!({"code": a.activation_code().unwrap(), "id": a.activation_id().unwrap(),
               "hostname": format!("{group}-1"), "ip": "198.18.0.9"}),
    )
    .await;
    assert_eq!(status, 200, "{j}");
    j["instanceId"].as_str().unwrap().to_string()
}

async fn session_document(ssm: &aws_sdk_ssm::Client, name: &str) {
    let content = json!({"schemaVersion": "1.0", "description": format!("{name} sessions"),
        "sessionType": "Standard_Stream", "inputs": {"idleSessionTimeout": "20"}});
    ssm.create_document()
        .name(name)
        .content(content.to_string())
        .document_type(DocumentType::Session)
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap();
}

/// SSM as the role's session, assumed with `policy` (none: no session policy), its ARN and
/// PackedPolicySize (deprecated in the newest SDK model for SessionTokenUtilization; botocore's
/// model, which the fidelity suite checks against, has only PackedPolicySize).
#[allow(deprecated)]
async fn assumed(
    r: &hastack_local::server::Running,
    policy: Option<String>,
) -> (aws_sdk_ssm::Client, String, i32) {
    let out = aws_sdk_sts::Client::new(&sdk_config(r))
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("alice")
        .set_policy(policy)
        .send()
        .await
        .unwrap();
    let c = out.credentials.unwrap();
    let creds = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        None,
        "assumed",
    );
    let conf = sdk_config(r)
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build();
    (
        aws_sdk_ssm::Client::new(&conf),
        out.assumed_role_user.unwrap().arn,
        out.packed_policy_size.unwrap_or_default(),
    )
}

/// StartSession's error code and message (None when it started a session).
async fn start(
    ssm: &aws_sdk_ssm::Client,
    target: &str,
    document: Option<&str>,
) -> Option<(String, String)> {
    let e = ssm
        .start_session()
        .target(target)
        .set_document_name(document.map(str::to_string))
        .send()
        .await
        .err()?
        .into_service_error();
    Some((
        e.meta().code().unwrap_or_default().to_string(),
        e.meta().message().unwrap_or_default().to_string(),
    ))
}

#[tokio::test]
async fn session_policy_confines_start_session_to_tagged_nodes_and_one_document() {
    let (r, _clock) = emulator().await;
    let root = aws_sdk_ssm::Client::new(&sdk_config(&r));
    let web = node(&r, &root, "web").await;
    let db = node(&r, &root, "db").await;
    session_document(&root, DOC).await;
    session_document(&root, "other-Shell").await;

    let (ssm, who, packed) = assumed(&r, Some(operator_policy())).await;
    assert!((1..=100).contains(&packed), "PackedPolicySize {packed}");
    let denied = |arn: &str| {
        format!("User: {who} is not authorized to perform: ssm:StartSession on resource: {arn} because no session policy allows the ssm:StartSession action")
    };
    let node_arn = |id: &str| format!("arn:aws:ssm:us-east-1:123456789012:managed-instance/{id}");
    let doc_arn = |n: &str| format!("arn:aws:ssm:us-east-1:123456789012:document/{n}");
    let access_denied = |arn: String| Some(("AccessDeniedException".to_string(), denied(&arn)));
    let cases = [
        ("web node, the document", &web, Some(DOC), None),
        ("db node", &db, Some(DOC), access_denied(node_arn(&db))),
        (
            "another document",
            &web,
            Some("other-Shell"),
            access_denied(doc_arn("other-Shell")),
        ),
        // Without a document the preferences document is checked (and not allowed).
        (
            "no document",
            &web,
            None,
            access_denied(doc_arn("SSM-SessionManagerRunShell")),
        ),
        // Authorization comes before the document's existence.
        (
            "missing document",
            &web,
            Some("nope"),
            access_denied(doc_arn("nope")),
        ),
    ];
    for (name, target, document, want) in cases {
        assert_eq!(start(&ssm, target, document).await, want, "{name}");
    }
    // The allowed session is the role session's.
    let active = ssm
        .describe_sessions()
        .state(SessionState::Active)
        .send()
        .await
        .unwrap()
        .sessions
        .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].owner(), Some(who.as_str()));
    assert_eq!(active[0].target(), Some(web.as_str()));

    // Root credentials, and a role session without a session policy, are not limited.
    let (unlimited, _, packed) = assumed(&r, None).await;
    assert_eq!(packed, 0);
    for (name, ssm) in [("root", &root), ("no session policy", &unlimited)] {
        for document in [Some("other-Shell"), None] {
            assert_eq!(start(ssm, &db, document).await, None, "{name} {document:?}");
        }
    }
    r.stop().await;
}

#[tokio::test]
async fn explicit_deny_and_malformed_session_policies() {
    let (r, _clock) = emulator().await;
    let root = aws_sdk_ssm::Client::new(&sdk_config(&r));
    let web = node(&r, &root, "web").await;
    session_document(&root, DOC).await;
    let deny_web = json!({"Statement": [
        {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ssm:Start*", "Resource": "*",
         "Condition": {"StringEquals": {"ssm:resourceTag/hastack:group": "web"}}}
    ]});
    let (ssm, who, _) = assumed(&r, Some(deny_web.to_string())).await;
    let arn = format!("arn:aws:ssm:us-east-1:123456789012:managed-instance/{web}");
    assert_eq!(
        start(&ssm, &web, Some(DOC)).await,
        Some((
            "AccessDeniedException".to_string(),
            format!("User: {who} is not authorized to perform: ssm:StartSession on resource: {arn} with an explicit deny in a session policy")
        ))
    );
    let sts = aws_sdk_sts::Client::new(&sdk_config(&r));
    let cases = [
        ("not JSON", "{\"Statement\": [".to_string(), "MalformedPolicyDocument", "The policy is not in the valid JSON format."),
        ("bad effect", json!({"Statement": {"Effect": "Perhaps", "Action": "*", "Resource": "*"}}).to_string(), "MalformedPolicyDocument", "Syntax errors in policy."),
        ("too large", json!({"Statement": {"Sid": "a".repeat(2048), "Effect": "Allow", "Action": "*", "Resource": "*"}}).to_string(), "PackedPolicyTooLarge", "Packed size of session policy consumes"),
    ];
    for (name, policy, code, message) in cases {
        let e = sts
            .assume_role()
            .role_arn(ROLE)
            .role_session_name("alice")
            .policy(policy)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(e.meta().code(), Some(code), "{name}");
        assert!(
            e.meta().message().unwrap_or_default().starts_with(message),
            "{name}: {e:?}"
        );
    }
    r.stop().await;
}

/// The provider's own golden operator policy is a session policy STS accepts (whitespace and
/// all: only its packed size counts).
#[tokio::test]
async fn the_providers_operator_policy_is_accepted() {
    let (r, _clock) = emulator().await;
    let golden = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../provider/src/resources/ssm_session_policy/golden/operator_policy.json"),
    )
    .unwrap();
    let (_, _, packed) = assumed(&r, Some(golden)).await;
    assert!((1..=100).contains(&packed), "PackedPolicySize {packed}");
    r.stop().await;
}
