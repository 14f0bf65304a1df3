//! STS's state and rules: the temporary credentials it issued, role ARNs, session names,
//! durations (role chaining at most an hour), web identity tokens, session policies. No XML.
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::iam_policy::Policy;
use crate::sigv4::{Caller, Credential};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StsError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidIdentityToken(String),
    #[error("{0}")]
    ExpiredToken(String),
    #[error("Request is missing Authentication Token")]
    MissingAuthentication,
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    PackedPolicyTooLarge(String),
}

pub type Result<T> = std::result::Result<T, StsError>;

/// Every temporary credential STS issued, by access key (STS is global, not per region).
#[derive(Default)]
pub struct Backend {
    pub issued: HashMap<String, Credential>,
}

/// What AssumeRole asks for.
#[derive(Clone, Debug, Default)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: Option<i64>,
    /// The inline session policy (JSON), if any.
    pub policy: Option<String>,
}

/// What a web identity token says (its signature is not checked: no identity provider here).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default, deserialize_with = "first_audience")]
    pub aud: String,
    pub exp: Option<f64>,
}

/// `aud` is a string or a list of them.
fn first_audience<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match <Option<Aud> as serde::Deserialize>::deserialize(d)? {
        Some(Aud::One(s)) => s,
        Some(Aud::Many(v)) => v.into_iter().next().unwrap_or_default(),
        None => String::new(),
    })
}

fn required<'s>(v: &'s str, member: &str) -> Result<&'s str> {
    if v.is_empty() {
        Err(StsError::Validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null")))
    } else {
        Ok(v)
    }
}

/// (account, role name) of `arn:aws:iam::ACCOUNT:role/[path/]NAME`.
pub fn parse_role_arn(arn: &str) -> Result<(String, String)> {
    let bad = || {
        StsError::Validation(format!(
            "{arn} is invalid: a role ARN looks like arn:aws:iam::123456789012:role/NAME"
        ))
    };
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(bad)?;
    let (account, resource) = rest.split_once(':').ok_or_else(bad)?;
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let path = resource.strip_prefix("role/").ok_or_else(bad)?;
    let name = path.rsplit('/').next().unwrap_or("");
    if name.is_empty() {
        return Err(bad());
    }
    Ok((account.into(), name.into()))
}

fn check_session_name(name: &str) -> Result<()> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(StsError::Validation(format!("1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64")))
    }
}

fn duration(secs: Option<i64>, chained: bool) -> Result<f64> {
    let secs = secs.unwrap_or(3600);
    if !(900..=43200).contains(&secs) {
        return Err(StsError::Validation(format!("1 validation error detected: Value '{secs}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900 and less than or equal to 43200")));
    }
    if chained && secs > 3600 {
        return Err(StsError::Validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into()));
    }
    Ok(secs as f64)
}

/// The most a session policy may hold, whitespace not counted.
pub const MAX_POLICY_CHARS: usize = 2048;

/// A session policy, checked as AssumeRole checks it: the member's characters
/// (ValidationError), the document (MalformedPolicyDocument), its packed size
/// (PackedPolicyTooLarge past 100 %).
pub fn session_policy(text: Option<&str>) -> Result<Option<Arc<Policy>>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let invalid = |constraint: &str| {
        StsError::Validation(format!("1 validation error detected: Value '{text}' at 'policy' failed to satisfy constraint: {constraint}"))
    };
    if text.is_empty() {
        return Err(invalid(
            "Member must have length greater than or equal to 1",
        ));
    }
    if text
        .chars()
        .any(|c| !matches!(c, '\t' | '\n' | '\r' | ' '..='\u{ff}'))
    {
        return Err(invalid("Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"));
    }
    let policy =
        Policy::parse(text).map_err(|e| StsError::MalformedPolicyDocument(e.to_string()))?;
    let packed = packed_policy_size(Some(text));
    if packed > 100 {
        return Err(StsError::PackedPolicyTooLarge(format!(
            "Packed size of session policy consumes {packed}% of allotted space."
        )));
    }
    Ok(Some(Arc::new(policy)))
}

/// PackedPolicySize: the share of the packed limit a session policy takes, in percent. AWS packs
/// it into a compressed binary form; here its compact JSON against 2048 characters, rounded up
/// (at least 1). 0 without a policy.
pub fn packed_policy_size(text: Option<&str>) -> u32 {
    let Some(compact) = text
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .map(|j| j.to_string())
    else {
        return 0;
    };
    (compact.len() * 100).div_ceil(MAX_POLICY_CHARS).max(1) as u32
}

fn random_upper(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(
            &uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .to_ascii_uppercase(),
        );
    }
    s.truncate(n);
    s
}

/// The claims of a JWT.
pub fn claims(token: &str) -> Result<Claims> {
    let invalid = |why: &str| {
        StsError::InvalidIdentityToken(format!("The web identity token is not a valid JWT: {why}"))
    };
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("it needs three dot-separated parts"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid("the payload is not JSON claims"))
}

impl Backend {
    /// Issue temporary credentials for a session of `role_arn`, valid for `secs` from `now`.
    pub fn issue(
        &mut self,
        role_arn: &str,
        session: &str,
        now: f64,
        secs: f64,
        session_policy: Option<Arc<Policy>>,
    ) -> Result<Credential> {
        let (account, role) = parse_role_arn(role_arn)?;
        let role_id = format!(
            "AROA{}",
            &hex::encode(Sha256::digest(role_arn.as_bytes()))[..17].to_ascii_uppercase()
        );
        let token_bytes: Vec<u8> = (0..4)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        let c = Credential {
            access_key: format!("ASIA{}", random_upper(16)),
            secret_key: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            account: account.clone(),
            session_token: Some(base64::engine::general_purpose::STANDARD.encode(token_bytes)),
            expires: Some(now + secs),
            arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            user_id: format!("{role_id}:{session}"),
            session_policy,
        };
        // Expired credentials are forgotten once they can no longer be used.
        self.issued
            .retain(|_, c| c.expires.is_some_and(|t| t > now));
        self.issued.insert(c.access_key.clone(), c.clone());
        Ok(c)
    }

    /// AssumeRole by `caller` (a role's session assuming a role is role chaining: ≤ 1 hour).
    pub fn assume_role(
        &mut self,
        now: f64,
        caller: Option<&Caller>,
        req: &AssumeRole,
    ) -> Result<Credential> {
        let role_arn = required(&req.role_arn, "roleArn")?;
        let session = required(&req.session_name, "roleSessionName")?;
        check_session_name(session)?;
        let chained = caller.is_some_and(|c| c.arn.contains(":assumed-role/"));
        let secs = duration(req.duration_seconds, chained)?;
        let policy = session_policy(req.policy.as_deref())?;
        self.issue(role_arn, session, now, secs, policy)
    }

    /// AssumeRoleWithWebIdentity: the token's claims, checked, and credentials.
    pub fn assume_role_with_web_identity(
        &mut self,
        now: f64,
        req: &AssumeRole,
        token: &str,
    ) -> Result<(Credential, Claims)> {
        let role_arn = required(&req.role_arn, "roleArn")?;
        let session = required(&req.session_name, "roleSessionName")?;
        check_session_name(session)?;
        let token = required(token, "webIdentityToken")?;
        let claims = claims(token)?;
        let exp = claims.exp.ok_or_else(|| {
            StsError::InvalidIdentityToken("The web identity token has no exp claim".into())
        })?;
        if now >= exp {
            return Err(StsError::ExpiredToken(
                "Token expired: current date/time must be before the expiration date/time".into(),
            ));
        }
        if claims.sub.is_empty() || claims.aud.is_empty() || claims.iss.is_empty() {
            return Err(StsError::InvalidIdentityToken(
                "The web identity token needs iss, sub and aud claims".into(),
            ));
        }
        let secs = duration(req.duration_seconds, false)?;
        let policy = session_policy(req.policy.as_deref())?;
        Ok((self.issue(role_arn, session, now, secs, policy)?, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(claims: serde_json::Value) -> String {
        let e = |j: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j.to_string())
        };
        format!("{}.{}.sig", e(&json!({"alg": "RS256"})), e(&claims))
    }

    fn role(arn: &str, session: &str, secs: Option<i64>) -> AssumeRole {
        AssumeRole {
            role_arn: arn.into(),
            session_name: session.into(),
            duration_seconds: secs,
            policy: None,
        }
    }

    #[test]
    fn assume_role_checks_and_issues_expiring_credentials() {
        let mut b = Backend::default();
        let c = b
            .assume_role(
                1000.0,
                None,
                &role(
                    "arn:aws:iam::210987654321:role/deploy/terraform",
                    "tf",
                    None,
                ),
            )
            .unwrap();
        assert_eq!(c.arn, "arn:aws:sts::210987654321:assumed-role/terraform/tf");
        assert_eq!(b.issued[&c.access_key].expires, Some(4600.0));
        assert_eq!(b.issued[&c.access_key].account, "210987654321");
        let r = "arn:aws:iam::210987654321:role/r";
        let cases = [
            ("bad arn", role("terraform", "tf", None)),
            ("short session", role(r, "t", None)),
            ("session chars", role(r, "a b", None)),
            ("too short", role(r, "tf", Some(899))),
            ("too long", role(r, "tf", Some(43201))),
        ];
        for (name, req) in cases {
            assert!(
                matches!(
                    b.assume_role(1000.0, None, &req),
                    Err(StsError::Validation(_))
                ),
                "{name}"
            );
        }
        let chained = Caller {
            access_key: c.access_key.clone(),
            account: "210987654321".into(),
            region: "us-east-1".into(),
            service: "sts".into(),
            arn: c.arn.clone(),
            user_id: c.user_id.clone(),
            session_policy: None,
        };
        let e = b
            .assume_role(1000.0, Some(&chained), &role(r, "tf", Some(7200)))
            .unwrap_err();
        assert!(e.to_string().contains("role chaining"), "{e:?}");
    }

    #[test]
    fn session_policies_are_checked_kept_and_sized() {
        let mut b = Backend::default();
        let with = |policy: &str| AssumeRole {
            policy: Some(policy.into()),
            ..role("arn:aws:iam::123456789012:role/ops", "op", None)
        };
        let ok = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"}}"#;
        let c = b.assume_role(1000.0, None, &with(ok)).unwrap();
        let kept = b.issued[&c.access_key].session_policy.clone().unwrap();
        assert_eq!(kept.statement.len(), 1);
        assert!(b
            .assume_role(
                1000.0,
                None,
                &role("arn:aws:iam::123456789012:role/ops", "op", None)
            )
            .unwrap()
            .session_policy
            .is_none());
        let long = format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "{}"}}}}"#,
            "a".repeat(MAX_POLICY_CHARS - 68)
        );
        // Whitespace does not count against the limit.
        let pretty = format!(
            "{}{}",
            " ".repeat(300),
            long.replacen(&"a".repeat(100), "", 1)
        );
        assert!(pretty.len() > MAX_POLICY_CHARS, "{}", pretty.len());
        b.assume_role(1000.0, None, &with(&pretty)).unwrap();
        let cases = [
            (
                "not json",
                "{",
                "MalformedPolicyDocument",
                "not in the valid JSON format",
            ),
            (
                "bad effect",
                r#"{"Statement": {"Effect": "Perhaps", "Action": "*", "Resource": "*"}}"#,
                "MalformedPolicyDocument",
                "Syntax errors",
            ),
            (
                "no resource",
                r#"{"Statement": {"Effect": "Allow", "Action": "*"}}"#,
                "MalformedPolicyDocument",
                "must contain resources",
            ),
            ("empty", "", "Validation", "greater than or equal to 1"),
            (
                "too large",
                long.as_str(),
                "PackedPolicyTooLarge",
                "consumes 101% of allotted space",
            ),
            (
                "outside the pattern",
                r#"{"Statement": {"Sid": "€"}}"#,
                "Validation",
                "regular expression",
            ),
        ];
        for (name, text, kind, message) in cases {
            let e = b.assume_role(1000.0, None, &with(text)).unwrap_err();
            let got = match &e {
                StsError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
                StsError::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
                StsError::Validation(_) => "Validation",
                _ => "other",
            };
            assert_eq!(got, kind, "{name}: {e:?}");
            assert!(e.to_string().contains(message), "{name}: {e}");
        }
        assert_eq!(packed_policy_size(None), 0);
        assert_eq!(packed_policy_size(Some(r#"{"Statement": []}"#)), 1);
        // Whitespace does not count: the compact form is measured.
        let spaced = ok.replace(' ', "    ");
        assert_eq!(
            packed_policy_size(Some(ok)),
            packed_policy_size(Some(&spaced))
        );
        let compact_len = serde_json::from_str::<serde_json::Value>(ok)
            .unwrap()
            .to_string()
            .len();
        assert_eq!(
            packed_policy_size(Some(ok)) as usize,
            (compact_len * 100).div_ceil(2048)
        );
    }

    #[test]
    fn web_identity_tokens_are_read_and_their_expiry_honoured() {
        let mut b = Backend::default();
        let req = role("arn:aws:iam::123456789012:role/tfc", "terraform-run", None);
        let token = jwt(
            json!({"iss": "https://app.terraform.io", "sub": "organization:o:project:p:workspace:w:run_phase:apply", "aud": ["aws.workload.identity"], "exp": 2000}),
        );
        let (_, claims) = b
            .assume_role_with_web_identity(1000.0, &req, &token)
            .unwrap();
        assert_eq!(claims.aud, "aws.workload.identity");
        assert!(matches!(
            b.assume_role_with_web_identity(2000.0, &req, &token),
            Err(StsError::ExpiredToken(_))
        ));
        assert!(matches!(
            b.assume_role_with_web_identity(1000.0, &req, "not-a-jwt"),
            Err(StsError::InvalidIdentityToken(_))
        ));
        // A session policy is taken here too.
        let limited = AssumeRole {
            policy: Some(
                r#"{"Statement": {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}}"#.into(),
            ),
            ..req.clone()
        };
        let (c, _) = b
            .assume_role_with_web_identity(1000.0, &limited, &token)
            .unwrap();
        assert!(c.session_policy.is_some());
        let malformed = AssumeRole {
            policy: Some("[".into()),
            ..req
        };
        assert!(matches!(
            b.assume_role_with_web_identity(1000.0, &malformed, &token),
            Err(StsError::MalformedPolicyDocument(_))
        ));
    }
}
