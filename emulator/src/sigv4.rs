//! AWS Signature Version 4 verification: every request must be signed with a configured
//! access key; the access key names the account.
use std::sync::Arc;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::AwsError;
use crate::iam_policy::Policy;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Who signed, for what region and service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key: String,
    pub account: String,
    pub region: String,
    pub service: String,
    /// The principal: the account root, or an assumed role's session.
    pub arn: String,
    /// GetCallerIdentity's UserId.
    pub user_id: String,
    /// The session policy of temporary credentials issued with one (AssumeRole's `Policy`).
    pub session_policy: Option<Arc<Policy>>,
}

/// A credential: configured (long-term, an account's root) or issued by STS (temporary).
#[derive(Debug, Clone)]
pub struct Credential {
    pub access_key: String,
    pub secret_key: String,
    pub account: String,
    /// Temporary credentials only: the token the request must carry (`X-Amz-Security-Token`).
    pub session_token: Option<String>,
    /// Temporary credentials only: seconds since the epoch after which they are refused.
    pub expires: Option<f64>,
    pub arn: String,
    pub user_id: String,
    /// Temporary credentials only: the session policy they were issued with.
    pub session_policy: Option<Arc<Policy>>,
}

impl Credential {
    /// Long-term credentials of an account's root user.
    pub fn root(access_key: &str, secret_key: &str, account: &str) -> Self {
        Credential {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            account: account.into(),
            session_token: None,
            expires: None,
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.into(),
            session_policy: None,
        }
    }
}

/// Why a request's signature is refused. The words are AWS's; the code and HTTP status depend on
/// the service's protocol family (`Dialect`), as AWS's front ends answer differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Missing Authentication Token")]
    MissingToken,
    #[error("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={0}")]
    Incomplete(String),
    /// An access key no credential has, or temporary credentials without their session token.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    Mismatch,
    /// Signed too long ago or too far ahead (`Signature expired: …` / `Signature not yet current: …`).
    #[error("{0}")]
    Skew(String),
    #[error("Credential should be scoped to correct service: '{0}'.")]
    WrongService(String),
}

/// How a service family words a refused signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// awsJson services (Lightsail, SSM, Logs): HTTP 400, `…Exception` codes.
    Json,
    /// awsQuery services (STS): the query error codes, HTTP 403 for most.
    Query,
    /// awsQueryCompatible services spoken in JSON or CBOR (CloudWatch): the JSON shape name in
    /// `__type`, the query code (which SDKs report) in `x-amzn-query-error`, the query status.
    QueryCompatible,
}

impl Refusal {
    /// The error AWS answers with (AWS's "Common Errors": InvalidClientTokenId,
    /// MissingAuthenticationToken, SignatureDoesNotMatch 403, IncompleteSignature 400; STS's
    /// ExpiredToken 403; the awsJson services' `…Exception` codes all 400).
    pub fn to_error(&self, dialect: Dialect) -> AwsError {
        let (json_code, query_code, query_status) = match self {
            Refusal::MissingToken => (
                "MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
                403,
            ),
            Refusal::Incomplete(_) => ("IncompleteSignatureException", "IncompleteSignature", 400),
            Refusal::UnknownKey => ("UnrecognizedClientException", "InvalidClientTokenId", 403),
            Refusal::ExpiredToken => ("ExpiredTokenException", "ExpiredToken", 403),
            Refusal::Mismatch | Refusal::Skew(_) | Refusal::WrongService(_) => {
                ("InvalidSignatureException", "SignatureDoesNotMatch", 403)
            }
        };
        let message = self.to_string();
        match dialect {
            Dialect::Json => AwsError::new(400, json_code, message),
            Dialect::Query => AwsError::new(query_status, query_code, message),
            Dialect::QueryCompatible => {
                AwsError::query_compatible(query_status, json_code, query_code, message)
            }
        }
    }
}

/// What verification needs from an HTTP request.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// (lower-case name, value) pairs.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

fn header<'a>(r: &'a SignedRequest<'_>, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            // Byte by byte: a `%` before a multi-byte character is no escape (slicing the
            // string there panicked: found by fuzzing, fuzz/regressions/sigv4_header).
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn canonical_query(q: &str) -> String {
    let mut pairs: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(v: &str) -> Option<Authorization<'_>> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut cred = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => cred = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => {}
        }
    }
    let mut scope = cred?.split('/');
    let (access_key, date, region, service, term) = (
        scope.next()?,
        scope.next()?,
        scope.next()?,
        scope.next()?,
        scope.next()?,
    );
    if term != "aws4_request" {
        return None;
    }
    Some(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: sig?,
    })
}

/// How far a request's `X-Amz-Date` may be from the server's time, either way, for a signing
/// name. AWS's front ends differ: SSM, CloudWatch Logs and CloudWatch refuse beyond 5 minutes
/// ("Signature expired: … (… - 5 min.)" in their answers), STS and the rest beyond 15.
pub fn max_skew_secs(service: &str) -> i64 {
    match service {
        "ssm" | "logs" | "monitoring" => 5 * 60,
        _ => 15 * 60,
    }
}

/// `YYYYMMDDTHHMMSSZ` as seconds since the Unix epoch.
fn amz_epoch(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn format_amz(epoch: i64) -> String {
    let (y, m, d, secs) = crate::clock::civil(epoch);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Verify a request's SigV4 signature against the credential `lookup` finds for its access
/// key; temporary credentials must come with their session token and not be expired at `now`
/// (the emulator's clock). `wall` is the real time: a signature further from it either way than
/// its service allows (`max_skew_secs`) is refused, as AWS does, whatever the emulator's clock
/// says. Errors are worded as the awsJson services word them; `check` tells why.
pub fn verify(
    r: &SignedRequest<'_>,
    lookup: &dyn Fn(&str) -> Option<Credential>,
    now: f64,
    wall: f64,
) -> Result<Caller, AwsError> {
    check(r, lookup, now, wall).map_err(|why| why.to_error(Dialect::Json))
}

/// `verify`, with the reason for a refusal.
pub fn check(
    r: &SignedRequest<'_>,
    lookup: &dyn Fn(&str) -> Option<Credential>,
    now: f64,
    wall: f64,
) -> Result<Caller, Refusal> {
    let Some(auth_header) = header(r, "authorization") else {
        return Err(Refusal::MissingToken);
    };
    let auth = parse_authorization(auth_header)
        .ok_or_else(|| Refusal::Incomplete(auth_header.to_string()))?;
    let cred = lookup(auth.access_key).ok_or(Refusal::UnknownKey)?;
    if let Some(token) = &cred.session_token {
        if header(r, "x-amz-security-token") != Some(token.as_str()) {
            return Err(Refusal::UnknownKey);
        }
    }
    if cred.expires.is_some_and(|t| now >= t) {
        return Err(Refusal::ExpiredToken);
    }
    let amz_date = header(r, "x-amz-date").ok_or(Refusal::Mismatch)?;
    if !amz_date.starts_with(auth.date) {
        return Err(Refusal::Mismatch);
    }
    let signed_at = amz_epoch(amz_date).ok_or(Refusal::Mismatch)?;
    let wall = wall as i64;
    let window = max_skew_secs(auth.service);
    if (signed_at - wall).abs() > window {
        let (earliest, latest, minutes) = (
            format_amz(wall - window),
            format_amz(wall + window),
            window / 60,
        );
        return Err(Refusal::Skew(if signed_at < wall {
            format!(
                "Signature expired: {amz_date} is now earlier than {earliest} ({} - {minutes} min.)",
                format_amz(wall)
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {latest} ({} + {minutes} min.)",
                format_amz(wall)
            )
        }));
    }
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let value = header(r, name).ok_or(Refusal::Mismatch)?;
        let folded = value.split_whitespace().collect::<Vec<_>>().join(" ");
        canonical_headers.push_str(&format!("{name}:{folded}\n"));
    }
    // The hash of the body received, whatever `x-amz-content-sha256` says: only S3 takes
    // UNSIGNED-PAYLOAD; AWS's other services refuse a signature made with it, and a body that
    // is not the one signed.
    let payload_hash = sha256_hex(r.body);
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        r.method,
        uri_encode(&percent_decode(r.path), true),
        canonical_query(r.query),
        canonical_headers,
        auth.signed_headers.join(";"),
        payload_hash
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut key = hmac(
        format!("AWS4{}", cred.secret_key).as_bytes(),
        auth.date.as_bytes(),
    );
    for part in [auth.region, auth.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex::encode(hmac(&key, to_sign.as_bytes()));
    if expected != auth.signature {
        return Err(Refusal::Mismatch);
    }
    Ok(Caller {
        access_key: cred.access_key.clone(),
        account: cred.account.clone(),
        region: auth.region.into(),
        service: auth.service.into(),
        arn: cred.arn.clone(),
        user_id: cred.user_id.clone(),
        session_policy: cred.session_policy.clone(),
    })
}

/// A lookup over a fixed list of credentials.
pub fn among(creds: &[Credential]) -> impl Fn(&str) -> Option<Credential> + '_ {
    move |key| creds.iter().find(|c| c.access_key == key).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_takes_bytes_not_string_slices() {
        for (case, input, want) in [
            ("escape", "/a%41b", "/aAb"),
            ("lower-case hex", "%2f", "/"),
            ("percent before a multi-byte character", "/%aé", "/%aé"),
            ("percent and one hex digit before one", "a=%1é", "a=%1é"),
            ("not hex", "%zz", "%zz"),
            ("too short", "%4", "%4"),
        ] {
            assert_eq!(percent_decode(input), want, "{case}");
        }
        // The fuzzers' inputs through the query's canonical form too.
        let _ = canonical_query("a=%1é&b=%aé");
    }

    /// AWS's published SigV4 test vector "get-vanilla" (aws-sig-v4-test-suite).
    #[test]
    fn aws_test_suite_get_vanilla() {
        let creds = example_credentials();
        let r = vanilla();
        let caller = verify(&r, &among(&creds), 0.0, VANILLA).expect("valid signature");
        assert_eq!(caller.region, "us-east-1");
        assert_eq!(caller.account, "123456789012");
        let mut bad = r;
        bad.headers[1].1 = "20150830T123601Z".into();
        assert_eq!(
            verify(&bad, &among(&creds), 0.0, VANILLA).unwrap_err().code,
            "InvalidSignatureException"
        );
    }

    /// The credentials of AWS's SigV4 test suite.
    fn example_credentials() -> [Credential; 1] {
        [Credential::root(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "123456789012",
        )]
    }

    /// 2015-08-30T12:36:00Z, when the test suite's requests were signed.
    const VANILLA: f64 = 1_440_938_160.0;

    fn vanilla() -> SignedRequest<'static> {
        SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: vec![
                ("host".into(), "example.amazonaws.com".into()),
                ("x-amz-date".into(), "20150830T123600Z".into()),
                (
                    "authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31".into(),
                ),
            ],
            body: b"",
        }
    }

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(amz_epoch("20150830T123600Z"), Some(VANILLA as i64));
        assert_eq!(amz_epoch("19700101T000000Z"), Some(0));
        assert_eq!(amz_epoch("20240229T235959Z"), Some(1_709_251_199));
        assert_eq!(format_amz(1_709_251_199), "20240229T235959Z");
        assert_eq!(format_amz(VANILLA as i64), "20150830T123600Z");
        for bad in [
            "20150830123600Z",
            "20151330T123600Z",
            "2015-08-30T12:36",
            "",
        ] {
            assert_eq!(amz_epoch(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_signature_more_than_15_minutes_off_is_refused() {
        let creds = example_credentials();
        for ok in [-899.0, 0.0, 899.0] {
            assert!(
                verify(&vanilla(), &among(&creds), 0.0, VANILLA + ok).is_ok(),
                "{ok}"
            );
        }
        let late = verify(&vanilla(), &among(&creds), 0.0, VANILLA + 16.0 * 60.0).unwrap_err();
        assert_eq!(late.code, "InvalidSignatureException");
        assert!(
            late.message.contains(
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z"
            ),
            "{}",
            late.message
        );
        let early = verify(&vanilla(), &among(&creds), 0.0, VANILLA - 16.0 * 60.0).unwrap_err();
        assert!(
            early.message.contains("not yet current"),
            "{}",
            early.message
        );
    }

    #[test]
    fn a_body_that_does_not_match_its_signed_hash_is_refused() {
        let creds = example_credentials();
        let mut r = vanilla();
        r.headers
            .push(("x-amz-content-sha256".into(), sha256_hex(b"")));
        assert!(verify(&r, &among(&creds), 0.0, VANILLA).is_ok());
        r.body = b"{\"tampered\":true}";
        assert_eq!(
            verify(&r, &among(&creds), 0.0, VANILLA).unwrap_err().code,
            "InvalidSignatureException"
        );
    }

    #[test]
    fn refusals_are_worded_per_protocol_family() {
        use Dialect::{Json, Query, QueryCompatible};
        let skew = || Refusal::Skew("Signature expired: a is now earlier than b".into());
        for (case, why, dialect, status, code, query_error) in [
            (
                "json mismatch",
                Refusal::Mismatch,
                Json,
                400,
                "InvalidSignatureException",
                None,
            ),
            (
                "query mismatch",
                Refusal::Mismatch,
                Query,
                403,
                "SignatureDoesNotMatch",
                None,
            ),
            (
                "query-compatible mismatch",
                Refusal::Mismatch,
                QueryCompatible,
                403,
                "InvalidSignatureException",
                Some("SignatureDoesNotMatch;Sender"),
            ),
            (
                "json skew",
                skew(),
                Json,
                400,
                "InvalidSignatureException",
                None,
            ),
            (
                "query skew",
                skew(),
                Query,
                403,
                "SignatureDoesNotMatch",
                None,
            ),
            (
                "json unknown key",
                Refusal::UnknownKey,
                Json,
                400,
                "UnrecognizedClientException",
                None,
            ),
            (
                "query unknown key",
                Refusal::UnknownKey,
                Query,
                403,
                "InvalidClientTokenId",
                None,
            ),
            (
                "query-compatible unknown key",
                Refusal::UnknownKey,
                QueryCompatible,
                403,
                "UnrecognizedClientException",
                Some("InvalidClientTokenId;Sender"),
            ),
            (
                "query no signature",
                Refusal::MissingToken,
                Query,
                403,
                "MissingAuthenticationToken",
                None,
            ),
            (
                "query incomplete",
                Refusal::Incomplete("x".into()),
                Query,
                400,
                "IncompleteSignature",
                None,
            ),
            (
                "json expired token",
                Refusal::ExpiredToken,
                Json,
                400,
                "ExpiredTokenException",
                None,
            ),
            (
                "query expired token",
                Refusal::ExpiredToken,
                Query,
                403,
                "ExpiredToken",
                None,
            ),
        ] {
            let e = why.to_error(dialect);
            assert_eq!((e.status, e.code.as_str()), (status, code), "{case}");
            assert_eq!(e.query_error.as_deref(), query_error, "{case}");
            assert_eq!(e.message, why.to_string(), "{case}");
        }
    }

    #[test]
    fn skew_windows_are_the_services_own() {
        for (service, minutes) in [
            ("ssm", 5),
            ("logs", 5),
            ("monitoring", 5),
            ("lightsail", 15),
            ("sts", 15),
            ("service", 15),
        ] {
            assert_eq!(max_skew_secs(service), minutes * 60, "{service}");
        }
    }

    #[test]
    fn missing_and_unknown_credentials() {
        let r = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![],
            body: b"{}",
        };
        assert_eq!(
            verify(&r, &among(&[]), 0.0, 0.0).unwrap_err().code,
            "MissingAuthenticationTokenException"
        );
        let r = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![("authorization".into(), "AWS4-HMAC-SHA256 Credential=NOPE/20150830/us-east-1/lightsail/aws4_request, SignedHeaders=host, Signature=00".into())],
            body: b"{}",
        };
        assert_eq!(
            verify(&r, &among(&[]), 0.0, 0.0).unwrap_err().code,
            "UnrecognizedClientException"
        );
    }
}
