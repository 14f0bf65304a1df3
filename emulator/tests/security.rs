//! Security checks over real HTTP, for every wire protocol hastack-local speaks (Lightsail, SSM
//! and CloudWatch Logs in awsJson1_1, CloudWatch in awsJson1_0 and rpcv2-CBOR, STS in awsQuery):
//! a wrong secret key, a signature outside the service's time window, a body other than the one
//! signed and a credential of another account are refused with the code and HTTP status AWS
//! answers with on that protocol; the admin API answers on loopback.
//!
//! Requests are signed here by hand (SigV4, with a chosen signing time) and sent with hyper; the
//! official SDKs check the codes they report and the account boundary.
mod common;

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use bytes::Bytes;
use common::T0;
use hastack_local::clock::ManualClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::{start, Running};
use hastack_local::sigv4::Credential;
use hastack_local::{Emulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use hmac::{KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use sha2::{Digest, Sha256};

const OTHER_KEY: &str = "AKIASECONDACCOUNT001";
const OTHER_SECRET: &str = "second-secret";
const OTHER_ACCOUNT: &str = "210987654321";

async fn emulator() -> Running {
    let emu = Emulator::new(LatencyProfile::fast(), Arc::new(ManualClock::new(T0)))
        .with_call_log(common::call_log())
        .with_credentials(vec![Credential::root(
            OTHER_KEY,
            OTHER_SECRET,
            OTHER_ACCOUNT,
        )]);
    start(emu, 0).await.unwrap()
}

/// One wire protocol: how a request is framed, and how AWS answers a refused signature on it.
struct Wire {
    name: &'static str,
    signing_name: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    /// A valid request's body, and another one (the tampered body).
    body: &'static [u8],
    other_body: &'static [u8],
    /// HTTP status and the code SDKs report (awsQueryCompatible: the query code).
    refused: (u16, &'static str),
    /// `Signature expired` beyond this many minutes.
    window_minutes: i64,
}

const JSON_1_1: &str = "application/x-amz-json-1.1";

const WIRES: [Wire; 6] = [
    Wire {
        name: "Lightsail awsJson1_1",
        signing_name: "lightsail",
        path: "/",
        headers: &[
            ("content-type", JSON_1_1),
            ("x-amz-target", "Lightsail_20161128.GetRegions"),
        ],
        body: br#"{"includeAvailabilityZones":false}"#,
        other_body: br#"{"includeAvailabilityZones":true}"#,
        refused: (400, "InvalidSignatureException"),
        window_minutes: 15,
    },
    Wire {
        name: "SSM awsJson1_1",
        signing_name: "ssm",
        path: "/",
        headers: &[
            ("content-type", JSON_1_1),
            ("x-amz-target", "AmazonSSM.GetParameters"),
        ],
        body: br#"{"Names":["/app/a"]}"#,
        other_body: br#"{"Names":["/app/b"]}"#,
        refused: (400, "InvalidSignatureException"),
        window_minutes: 5,
    },
    Wire {
        name: "CloudWatch Logs awsJson1_1",
        signing_name: "logs",
        path: "/",
        headers: &[
            ("content-type", JSON_1_1),
            ("x-amz-target", "Logs_20140328.DescribeLogGroups"),
        ],
        body: br#"{"limit":10}"#,
        other_body: br#"{"limit":50}"#,
        refused: (400, "InvalidSignatureException"),
        window_minutes: 5,
    },
    Wire {
        name: "CloudWatch awsJson1_0",
        signing_name: "monitoring",
        path: "/",
        headers: &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
        ],
        body: br#"{"Namespace":"A"}"#,
        other_body: br#"{"Namespace":"B"}"#,
        refused: (403, "SignatureDoesNotMatch"),
        window_minutes: 5,
    },
    Wire {
        name: "CloudWatch rpcv2-CBOR",
        signing_name: "monitoring",
        path: "/service/GraniteServiceVersion20100801/operation/ListMetrics",
        headers: &[
            ("content-type", "application/cbor"),
            ("accept", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
        ],
        // {} and {"Namespace": "B"}
        body: b"\xa0",
        other_body: b"\xa1\x69Namespace\x61B",
        refused: (403, "SignatureDoesNotMatch"),
        window_minutes: 5,
    },
    Wire {
        name: "STS awsQuery",
        signing_name: "sts",
        path: "/",
        headers: &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body: b"Action=GetCallerIdentity&Version=2011-06-15",
        other_body: b"Action=GetCallerIdentity&Version=2011-06-15&Extra=1",
        refused: (403, "SignatureDoesNotMatch"),
        window_minutes: 15,
    },
];

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A request to sign by hand.
struct Signing<'a> {
    key: &'a str,
    secret: &'a str,
    /// The credential scope's service.
    service: &'a str,
    /// Seconds since the epoch.
    at: i64,
    /// What the canonical request carries as the payload hash.
    payload_hash: String,
    /// Signed headers besides host, x-amz-date and the wire's own.
    extra: Vec<(&'static str, String)>,
}

impl<'a> Signing<'a> {
    fn new(wire: &'a Wire) -> Self {
        Signing {
            key: DEFAULT_ACCESS_KEY,
            secret: DEFAULT_SECRET_KEY,
            service: wire.signing_name,
            at: wall_now(),
            payload_hash: sha256_hex(wire.body),
            extra: Vec::new(),
        }
    }
}

/// `wire`'s request carrying `body`, signed as `s` says (AWS SigV4, header form).
fn request(r: &Running, wire: &Wire, s: &Signing<'_>, body: &[u8]) -> hyper::Request<Full<Bytes>> {
    let (y, m, d, secs) = hastack_local::clock::civil(s.at);
    let date = format!("{y:04}{m:02}{d:02}");
    let amz_date = format!(
        "{date}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), r.addr.to_string()),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    headers.extend(
        wire.headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    headers.extend(s.extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    headers.sort();
    let signed = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!(
        "POST\n{}\n\n{canonical_headers}\n{signed}\n{}",
        wire.path, s.payload_hash
    );
    let scope = format!("{date}/us-east-1/{}/aws4_request", s.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut key = hmac(format!("AWS4{}", s.secret).as_bytes(), date.as_bytes());
    for part in ["us-east-1", s.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    let mut b = hyper::Request::post(wire.path);
    for (k, v) in &headers {
        b = b.header(k, v);
    }
    b.header(
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            s.key
        ),
    )
    .body(Full::new(Bytes::copy_from_slice(body)))
    .unwrap()
}

/// An answer as a client sees it.
struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Answer {
    /// The `__type` of a JSON or CBOR error body, or the `<Code>` of an XML one.
    fn error_type(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.body);
        if let Some((_, rest)) = text.split_once("<Code>") {
            return rest.split_once("</Code>").map(|(c, _)| c.to_string());
        }
        if let Ok(j) = serde_json::from_slice::<serde_json::Value>(&self.body) {
            return j["__type"].as_str().map(String::from);
        }
        let cbor: ciborium::Value = ciborium::from_reader(&self.body[..]).ok()?;
        cbor.as_map()?.iter().find_map(|(k, v)| {
            (k.as_text() == Some("__type")).then(|| v.as_text().map(String::from))?
        })
    }

    /// The code an SDK reports: for awsQueryCompatible services the query code in
    /// `x-amzn-query-error`, otherwise the body's.
    fn code(&self) -> Option<String> {
        match self.headers.get("x-amzn-query-error") {
            Some(q) => q
                .to_str()
                .ok()
                .and_then(|q| q.split_once(';'))
                .map(|(code, _)| code.to_string()),
            None => self.error_type(),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(r: &Running, req: hyper::Request<Full<Bytes>>) -> Answer {
    let stream = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    let (mut tx, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = tx.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// `answer` is `wire`'s refusal of a signature (and, for awsQueryCompatible, the JSON shape is
/// AWS's `InvalidSignatureException`).
fn assert_refused(wire: &Wire, case: &str, answer: &Answer) {
    assert_eq!(
        (answer.status, answer.code().as_deref()),
        (wire.refused.0, Some(wire.refused.1)),
        "{}, {case}: {}",
        wire.name,
        answer.text()
    );
    if answer.headers.contains_key("x-amzn-query-error") {
        assert_eq!(
            answer.error_type().as_deref(),
            Some("InvalidSignatureException"),
            "{}, {case}",
            wire.name
        );
    }
}

fn assert_accepted(wire: &Wire, case: &str, answer: &Answer) {
    assert_eq!(
        answer.status,
        200,
        "{}, {case}: {}",
        wire.name,
        answer.text()
    );
}

#[tokio::test]
async fn a_wrong_secret_or_another_services_scope_is_refused_as_aws_refuses_it() {
    let r = emulator().await;
    for wire in &WIRES {
        let right = Signing::new(wire);
        assert_accepted(
            wire,
            "the right secret",
            &send(&r, request(&r, wire, &right, wire.body)).await,
        );
        let wrong = Signing {
            secret: "not-the-secret",
            ..Signing::new(wire)
        };
        assert_refused(
            wire,
            "a wrong secret",
            &send(&r, request(&r, wire, &wrong, wire.body)).await,
        );
        let other_account = Signing {
            secret: OTHER_SECRET,
            ..Signing::new(wire)
        };
        assert_refused(
            wire,
            "another account's secret",
            &send(&r, request(&r, wire, &other_account, wire.body)).await,
        );
        let scoped_elsewhere = Signing {
            service: "s3",
            ..Signing::new(wire)
        };
        let answer = send(&r, request(&r, wire, &scoped_elsewhere, wire.body)).await;
        assert_refused(wire, "a credential scoped to s3", &answer);
        assert!(
            answer
                .text()
                .contains("Credential should be scoped to correct service: "),
            "{}: {}",
            wire.name,
            answer.text()
        );
    }
    r.stop().await;
}

#[tokio::test]
async fn a_signature_outside_the_services_time_window_is_refused() {
    let r = emulator().await;
    let now = wall_now();
    for wire in &WIRES {
        let at = |minutes: i64| Signing {
            at: now + minutes * 60,
            ..Signing::new(wire)
        };
        let window = wire.window_minutes;
        for (case, minutes) in [
            ("16 minutes ago", -16),
            ("a minute beyond the window", -(window + 1)),
        ] {
            let answer = send(&r, request(&r, wire, &at(minutes), wire.body)).await;
            assert_refused(wire, case, &answer);
            let text = answer.text();
            assert!(
                text.contains("Signature expired: ")
                    && text.contains(&format!(" - {window} min.)")),
                "{}, {case}: {text}",
                wire.name
            );
        }
        let ahead = send(&r, request(&r, wire, &at(16), wire.body)).await;
        assert_refused(wire, "16 minutes ahead", &ahead);
        assert!(
            ahead.text().contains("Signature not yet current: "),
            "{}",
            ahead.text()
        );
        // 14 minutes ago for the 15-minute services, 4 for the 5-minute ones.
        let inside = send(&r, request(&r, wire, &at(-(window - 1)), wire.body)).await;
        assert_accepted(wire, "a minute inside the window", &inside);
    }
    r.stop().await;
}

#[tokio::test]
async fn a_body_other_than_the_signed_one_is_refused() {
    let r = emulator().await;
    for wire in &WIRES {
        let plain = Signing::new(wire);
        assert_refused(
            wire,
            "tampered, no x-amz-content-sha256",
            &send(&r, request(&r, wire, &plain, wire.other_body)).await,
        );
        let with_hash = Signing {
            extra: vec![("x-amz-content-sha256", sha256_hex(wire.body))],
            ..Signing::new(wire)
        };
        assert_accepted(
            wire,
            "signed x-amz-content-sha256, body as signed",
            &send(&r, request(&r, wire, &with_hash, wire.body)).await,
        );
        assert_refused(
            wire,
            "tampered, signed x-amz-content-sha256 of the signed body",
            &send(&r, request(&r, wire, &with_hash, wire.other_body)).await,
        );
        // An unsigned x-amz-content-sha256 matching the tampered body changes nothing.
        let mut req = request(&r, wire, &plain, wire.other_body);
        req.headers_mut().insert(
            "x-amz-content-sha256",
            sha256_hex(wire.other_body).parse().unwrap(),
        );
        assert_refused(
            wire,
            "tampered, unsigned x-amz-content-sha256 of it",
            &send(&r, req).await,
        );
        // Only S3 takes UNSIGNED-PAYLOAD: elsewhere the body is always part of the signature.
        let unsigned = Signing {
            payload_hash: "UNSIGNED-PAYLOAD".into(),
            extra: vec![("x-amz-content-sha256", "UNSIGNED-PAYLOAD".into())],
            ..Signing::new(wire)
        };
        for (case, body) in [
            ("UNSIGNED-PAYLOAD", wire.body),
            ("UNSIGNED-PAYLOAD, tampered", wire.other_body),
        ] {
            assert_refused(
                wire,
                case,
                &send(&r, request(&r, wire, &unsigned, body)).await,
            );
        }
    }
    r.stop().await;
}

/// The HTTP status and code an SDK call failed with.
fn failure<E: ProvideErrorMetadata>(e: &aws_sdk_sts::error::SdkError<E>) -> (u16, String) {
    (
        e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0),
        e.code().unwrap_or("-").to_string(),
    )
}

fn config(r: &Running, key: &str, secret: &str) -> aws_config::SdkConfig {
    common::sdk_config(r)
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key, secret, None, None, "test",
        )))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build()
}

#[tokio::test]
async fn the_sdks_report_a_wrong_secret_with_awss_codes() {
    let r = emulator().await;
    let conf = config(&r, DEFAULT_ACCESS_KEY, "not-the-secret");
    let lightsail = aws_sdk_lightsail::Client::new(&conf);
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let sts = aws_sdk_sts::Client::new(&conf);
    let mismatch_400 = (400, "InvalidSignatureException".to_string());
    let mismatch_403 = (403, "SignatureDoesNotMatch".to_string());
    for (case, got, want) in [
        (
            "Lightsail",
            failure(&lightsail.get_regions().send().await.unwrap_err()),
            &mismatch_400,
        ),
        (
            "SSM",
            failure(&ssm.get_parameter().name("/a").send().await.unwrap_err()),
            &mismatch_400,
        ),
        (
            "CloudWatch Logs",
            failure(&logs.describe_log_groups().send().await.unwrap_err()),
            &mismatch_400,
        ),
        (
            "CloudWatch (CBOR)",
            failure(&cw.list_metrics().send().await.unwrap_err()),
            &mismatch_403,
        ),
        (
            "STS",
            failure(&sts.get_caller_identity().send().await.unwrap_err()),
            &mismatch_403,
        ),
    ] {
        assert_eq!(&got, want, "{case}");
    }
    let unknown = config(&r, "AKIAUNKNOWN000000000", "x");
    assert_eq!(
        failure(
            &aws_sdk_sts::Client::new(&unknown)
                .get_caller_identity()
                .send()
                .await
                .unwrap_err()
        ),
        (403, "InvalidClientTokenId".to_string())
    );
    assert_eq!(
        failure(
            &aws_sdk_cloudwatch::Client::new(&unknown)
                .list_metrics()
                .send()
                .await
                .unwrap_err()
        ),
        (403, "InvalidClientTokenId".to_string())
    );
    assert_eq!(
        failure(
            &aws_sdk_lightsail::Client::new(&unknown)
                .get_regions()
                .send()
                .await
                .unwrap_err()
        ),
        (400, "UnrecognizedClientException".to_string())
    );
    r.stop().await;
}

#[tokio::test]
async fn another_accounts_credential_neither_sees_nor_touches_its_resources() {
    let r = emulator().await;
    let (a, b) = (
        config(&r, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY),
        config(&r, OTHER_KEY, OTHER_SECRET),
    );
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("-").to_string();

    // Lightsail: an instance of A.
    let (la, lb) = (
        aws_sdk_lightsail::Client::new(&a),
        aws_sdk_lightsail::Client::new(&b),
    );
    la.create_instances()
        .instance_names("web-a")
        .availability_zone("us-east-1a")
        .blueprint_id("debian_12")
        .bundle_id("nano_3_0")
        .send()
        .await
        .unwrap();
    let e = lb
        .get_instance()
        .instance_name("web-a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    let e = lb
        .delete_instance()
        .instance_name("web-a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    assert!(lb
        .get_instances()
        .send()
        .await
        .unwrap()
        .instances()
        .is_empty());
    let i = la
        .get_instance()
        .instance_name("web-a")
        .send()
        .await
        .unwrap();
    assert!(i
        .instance()
        .and_then(|i| i.arn())
        .unwrap()
        .contains(":123456789012:"));

    // SSM: a SecureString parameter of A.
    let (sa, sb) = (aws_sdk_ssm::Client::new(&a), aws_sdk_ssm::Client::new(&b));
    sa.put_parameter()
        .name("/app/db-password")
        .value("s3cret")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let e = sb
        .get_parameter()
        .name("/app/db-password")
        .with_decryption(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ParameterNotFound");
    let got = sb
        .get_parameters()
        .names("/app/db-password")
        .send()
        .await
        .unwrap();
    assert!(got.parameters().is_empty());
    assert_eq!(got.invalid_parameters(), ["/app/db-password"]);
    let e = sb
        .delete_parameter()
        .name("/app/db-password")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ParameterNotFound");
    // B's parameter of the same name is B's own.
    sb.put_parameter()
        .name("/app/db-password")
        .value("other")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let value = |c: aws_sdk_ssm::Client| async move {
        c.get_parameter()
            .name("/app/db-password")
            .with_decryption(true)
            .send()
            .await
            .unwrap()
            .parameter()
            .and_then(|p| p.value())
            .unwrap()
            .to_string()
    };
    assert_eq!(value(sa).await, "s3cret");
    assert_eq!(value(sb).await, "other");

    // CloudWatch Logs: a log group of A.
    let (ga, gb) = (
        aws_sdk_cloudwatchlogs::Client::new(&a),
        aws_sdk_cloudwatchlogs::Client::new(&b),
    );
    ga.create_log_group()
        .log_group_name("/app/a")
        .send()
        .await
        .unwrap();
    let groups = |c: &aws_sdk_cloudwatchlogs::Client| {
        c.describe_log_groups().log_group_name_prefix("/app").send()
    };
    assert!(groups(&gb).await.unwrap().log_groups().is_empty());
    let e = gb
        .put_retention_policy()
        .log_group_name("/app/a")
        .retention_in_days(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = gb
        .delete_log_group()
        .log_group_name("/app/a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(groups(&ga).await.unwrap().log_groups().len(), 1);

    // CloudWatch: an alarm of A.
    let (ca, cb) = (
        aws_sdk_cloudwatch::Client::new(&a),
        aws_sdk_cloudwatch::Client::new(&b),
    );
    ca.put_metric_alarm()
        .alarm_name("alarm-a")
        .namespace("App")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    let alarms = |c: &aws_sdk_cloudwatch::Client| c.describe_alarms().alarm_names("alarm-a").send();
    assert!(alarms(&cb).await.unwrap().metric_alarms().is_empty());
    let e = cb
        .delete_alarms()
        .alarm_names("alarm-a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFound");
    assert_eq!(alarms(&ca).await.unwrap().metric_alarms().len(), 1);

    // STS: each credential acts in its own account.
    for (conf, account) in [(&a, "123456789012"), (&b, OTHER_ACCOUNT)] {
        let who = aws_sdk_sts::Client::new(conf)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(who.account(), Some(account));
    }
    r.stop().await;
}

/// The admin API answers a loopback caller over HTTP. (That a caller elsewhere gets only the
/// agents' calls is `server::tests`: the emulator listens on no other address without hosts.)
#[tokio::test]
async fn the_admin_api_answers_on_loopback() {
    let r = emulator().await;
    for path in ["/_hastack/status", "/_hastack/state", "/_hastack/faults"] {
        let req = hyper::Request::get(path)
            .header("host", r.addr.to_string())
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send(&r, req).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    }
    r.stop().await;
}
