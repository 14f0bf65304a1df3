//! `sigv4_header`: SigV4 verification of a request as hastack-local's server sees it.
//!
//! Input, as text (not valid UTF-8 is read lossily, as the server reads header values):
//!
//! ```text
//! METHOD
//! /path
//! query=string
//! name: value        (headers, one a line, until an empty line)
//!
//! body
//! ```
//!
//! The path and query must pass `http`'s URI parser and each header `http`'s header rules, so
//! whatever fails here could arrive over the network. The clock is AWS's test-suite date
//! (2015-08-30T12:36:00Z), so the suite's `get-vanilla` request verifies.
use hastack_local::sigv4::{among, verify, Credential, SignedRequest};

/// 2015-08-30T12:36:00Z, when AWS's SigV4 test-suite requests were signed.
pub const WALL: f64 = 1_440_938_160.0;

fn credentials() -> Vec<Credential> {
    let root = Credential::root(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "123456789012",
    );
    let temporary = |key: &str, expires: f64| Credential {
        access_key: key.into(),
        secret_key: "temporary-secret".into(),
        account: "123456789012".into(),
        session_token: Some("session-token".into()),
        expires: Some(expires),
        arn: "arn:aws:sts::123456789012:assumed-role/r/s".into(),
        user_id: "AROAFUZZ:s".into(),
        session_policy: None,
    };
    vec![
        root,
        temporary("ASIAFUZZLIVE", WALL + 3600.0),
        temporary("ASIAFUZZGONE", WALL - 1.0),
    ]
}

/// Lines up to the first empty one, and what follows it.
fn head_and_body(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.iter().position(|b| *b == b'\n') {
        let line = &rest[..i];
        rest = &rest[i + 1..];
        if line.is_empty() && lines.len() >= 3 {
            return (lines, rest);
        }
        lines.push(line);
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    (lines, &[])
}

pub fn run(data: &[u8]) {
    let (lines, body) = head_and_body(data);
    let Some((method, rest)) = lines.split_first() else {
        return;
    };
    let Ok(method) = http::Method::from_bytes(method) else {
        return;
    };
    let path = rest.first().copied().unwrap_or(b"/");
    let query = rest.get(1).copied().unwrap_or(b"");
    let mut target = path.to_vec();
    if !query.is_empty() {
        target.push(b'?');
        target.extend_from_slice(query);
    }
    // What hyper would hand the server: a parsed origin-form target.
    let Ok(pq) = http::uri::PathAndQuery::try_from(target.as_slice()) else {
        return;
    };
    let mut headers = Vec::new();
    for line in rest.iter().skip(2) {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return;
        };
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(&line[..colon]),
            http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            return;
        };
        headers.push((
            name.as_str().to_ascii_lowercase(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ));
    }
    let r = SignedRequest {
        method: method.as_str(),
        path: pq.path(),
        query: pq.query().unwrap_or(""),
        headers,
        body,
    };
    let creds = credentials();
    let lookup = among(&creds);
    match verify(&r, &lookup, WALL, WALL) {
        Ok(caller) => {
            crate::note(|| format!("verified: {caller:?}"));
            assert!(
                creds.iter().any(|c| c.access_key == caller.access_key),
                "verified with an access key that is not configured: {caller:?}"
            );
            assert_ne!(
                caller.access_key, "ASIAFUZZGONE",
                "expired credentials verified"
            );
        }
        Err(e) => crate::note(|| format!("refused: {} {}", e.code, e.message)),
    }
}
