//! STS's state and rules: the temporary credentials it issued, role ARNs, session names,
//! durations (role chaining at most an hour), web identity tokens. No JSON, no XML.
use std::collections::HashMap;

use base64::Engine;
use sha2::{Digest, Sha256};

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
        self.issue(role_arn, session, now, secs)
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
        Ok((self.issue(role_arn, session, now, secs)?, claims))
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
        };
        let e = b
            .assume_role(1000.0, Some(&chained), &role(r, "tf", Some(7200)))
            .unwrap_err();
        assert!(e.to_string().contains("role chaining"), "{e:?}");
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
    }
}
