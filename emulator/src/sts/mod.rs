//! AWS Security Token Service (`AWSSecurityTokenServiceV20110615`, awsQuery): GetCallerIdentity,
//! AssumeRole and AssumeRoleWithWebIdentity. Issued credentials are temporary: SigV4
//! verification accepts them with their session token until they expire (on the emulator's
//! clock), and they act in the role's account.
use std::collections::HashMap;

use base64::Engine;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::error::AwsError;
use crate::sigv4::Credential;
use crate::Ctx;

/// Every temporary credential STS issued, by access key (STS is global, not per region).
#[derive(Default)]
pub struct Backend {
    pub issued: HashMap<String, Credential>,
}

pub type Handler = crate::Handler<Backend>;

/// The operation table.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("GetCallerIdentity", get_caller_identity),
    ("AssumeRole", assume_role),
    ("AssumeRoleWithWebIdentity", assume_role_with_web_identity),
];

/// STS as a service: awsQuery, one backend for the whole emulator (its credentials work in
/// every region). The web identity call is unsigned: the token is the credential.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "STS",
    model: "sts",
    target_prefix: "AWSSecurityTokenServiceV20110615",
    signing_name: "sts",
    protocol: crate::service::Protocol::AwsQuery,
    scope: crate::service::Scope::Global,
    operations: OPERATIONS,
    unsigned: &["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"],
    summary: None,
};

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationError", message)
}

fn req<'a>(input: &'a Json, key: &str) -> Result<&'a str, AwsError> {
    input
        .get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(key)
            ))
        })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// ISO 8601, as the query protocol writes timestamps.
pub fn iso8601(secs: f64) -> String {
    aws_smithy_types::DateTime::from_secs_f64(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn get_caller_identity(_b: &mut Backend, ctx: &Ctx<'_>, _input: &Json) -> Result<Json, AwsError> {
    let c = ctx.caller.ok_or_else(|| {
        AwsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )
    })?;
    Ok(json!({"UserId": c.user_id, "Account": c.account, "Arn": c.arn}))
}

/// (account, role name) of `arn:aws:iam::ACCOUNT:role/[path/]NAME`.
fn parse_role_arn(arn: &str) -> Result<(String, String), AwsError> {
    let bad = || {
        validation(format!(
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

fn check_session_name(name: &str) -> Result<(), AwsError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(validation(format!("1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64")))
    }
}

fn duration(input: &Json, chained: bool) -> Result<f64, AwsError> {
    let secs = match input.get("DurationSeconds") {
        None => 3600,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| validation("DurationSeconds must be a number"))?,
    };
    if !(900..=43200).contains(&secs) {
        return Err(validation(format!("1 validation error detected: Value '{secs}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900 and less than or equal to 43200")));
    }
    if chained && secs > 3600 {
        return Err(validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."));
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

/// Issue temporary credentials for a session of `role_arn`, valid for `secs` from `now`.
pub fn issue(
    b: &mut Backend,
    role_arn: &str,
    session: &str,
    now: f64,
    secs: f64,
) -> Result<Credential, AwsError> {
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
    b.issued.retain(|_, c| c.expires.is_some_and(|t| t > now));
    b.issued.insert(c.access_key.clone(), c.clone());
    Ok(c)
}

fn credentials_json(c: &Credential) -> Json {
    json!({
        "AccessKeyId": c.access_key, "SecretAccessKey": c.secret_key,
        "SessionToken": c.session_token, "Expiration": iso8601(c.expires.unwrap_or_default()),
    })
}

fn assumed_user(c: &Credential) -> Json {
    json!({"AssumedRoleId": c.user_id, "Arn": c.arn})
}

fn assume_role(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let role_arn = req(input, "RoleArn")?;
    let session = req(input, "RoleSessionName")?;
    check_session_name(session)?;
    // A role's session assuming a role is role chaining: at most one hour.
    let chained = ctx.caller.is_some_and(|c| c.arn.contains(":assumed-role/"));
    let secs = duration(input, chained)?;
    let c = issue(b, role_arn, session, ctx.now, secs)?;
    Ok(
        json!({"Credentials": credentials_json(&c), "AssumedRoleUser": assumed_user(&c), "PackedPolicySize": 0}),
    )
}

/// The claims of a JWT (not verified: hastack-local has no identity provider's keys).
fn claims(token: &str) -> Result<Json, AwsError> {
    let invalid = |why: &str| {
        AwsError::new(
            400,
            "InvalidIdentityToken",
            format!("The web identity token is not a valid JWT: {why}"),
        )
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
    serde_json::from_slice(&bytes).map_err(|_| invalid("the payload is not JSON"))
}

fn assume_role_with_web_identity(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let role_arn = req(input, "RoleArn")?;
    let session = req(input, "RoleSessionName")?;
    check_session_name(session)?;
    let token = req(input, "WebIdentityToken")?;
    let claims = claims(token)?;
    let exp = claims.get("exp").and_then(Json::as_f64).ok_or_else(|| {
        AwsError::new(
            400,
            "InvalidIdentityToken",
            "The web identity token has no exp claim",
        )
    })?;
    if ctx.now >= exp {
        return Err(AwsError::new(
            400,
            "ExpiredTokenException",
            "Token expired: current date/time must be before the expiration date/time",
        ));
    }
    let text = |k: &str| match claims.get(k) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Array(a)) => a.first().and_then(Json::as_str).unwrap_or("").to_string(),
        _ => String::new(),
    };
    let (sub, aud, iss) = (text("sub"), text("aud"), text("iss"));
    if sub.is_empty() || aud.is_empty() || iss.is_empty() {
        return Err(AwsError::new(
            400,
            "InvalidIdentityToken",
            "The web identity token needs iss, sub and aud claims",
        ));
    }
    let secs = duration(input, false)?;
    let c = issue(b, role_arn, session, ctx.now, secs)?;
    Ok(json!({
        "Credentials": credentials_json(&c), "AssumedRoleUser": assumed_user(&c), "PackedPolicySize": 0,
        "SubjectFromWebIdentityToken": sub, "Audience": aud,
        "Provider": iss.trim_start_matches("https://"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::Caller;

    fn emulator() -> crate::Emulator {
        crate::Emulator::new(
            crate::profile::LatencyProfile::fast(),
            std::sync::Arc::new(crate::clock::ManualClock::new(1000.0)),
        )
    }

    fn jwt(claims: Json) -> String {
        let e = |j: &Json| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j.to_string());
        format!("{}.{}.sig", e(&json!({"alg": "RS256"})), e(&claims))
    }

    #[test]
    fn assume_role_checks_and_issues_expiring_credentials() {
        let mut b = Backend::default();
        let emu = emulator();
        let ctx = Ctx::new(&emu, 1000.0, "", "us-east-1");
        let ok = assume_role(&mut b, &ctx, &json!({"RoleArn": "arn:aws:iam::210987654321:role/deploy/terraform", "RoleSessionName": "tf"})).unwrap();
        assert_eq!(
            ok["AssumedRoleUser"]["Arn"],
            "arn:aws:sts::210987654321:assumed-role/terraform/tf"
        );
        let key = ok["Credentials"]["AccessKeyId"].as_str().unwrap();
        assert_eq!(b.issued[key].expires, Some(4600.0));
        assert_eq!(b.issued[key].account, "210987654321");
        let cases = [
            (
                "bad arn",
                json!({"RoleArn": "terraform", "RoleSessionName": "tf"}),
            ),
            (
                "short session",
                json!({"RoleArn": "arn:aws:iam::210987654321:role/r", "RoleSessionName": "t"}),
            ),
            (
                "session chars",
                json!({"RoleArn": "arn:aws:iam::210987654321:role/r", "RoleSessionName": "a b"}),
            ),
            (
                "too short",
                json!({"RoleArn": "arn:aws:iam::210987654321:role/r", "RoleSessionName": "tf", "DurationSeconds": 899}),
            ),
            (
                "too long",
                json!({"RoleArn": "arn:aws:iam::210987654321:role/r", "RoleSessionName": "tf", "DurationSeconds": 43201}),
            ),
        ];
        for (name, input) in cases {
            assert_eq!(
                assume_role(&mut b, &ctx, &input).unwrap_err().code,
                "ValidationError",
                "{name}"
            );
        }
        let chained = Caller {
            access_key: key.into(),
            account: "210987654321".into(),
            region: "us-east-1".into(),
            service: "sts".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/terraform/tf".into(),
            user_id: "AROA:tf".into(),
        };
        let mut ctx2 = Ctx::new(&emu, 1000.0, "210987654321", "us-east-1");
        ctx2.caller = Some(&chained);
        let e = assume_role(&mut b, &ctx2, &json!({"RoleArn": "arn:aws:iam::210987654321:role/r", "RoleSessionName": "tf", "DurationSeconds": 7200})).unwrap_err();
        assert!(e.message.contains("role chaining"), "{e:?}");
    }

    #[test]
    fn web_identity_tokens_are_read_and_their_expiry_honoured() {
        let mut b = Backend::default();
        let emu = emulator();
        let ctx = Ctx::new(&emu, 1000.0, "", "us-east-1");
        let token = jwt(
            json!({"iss": "https://app.terraform.io", "sub": "organization:o:project:p:workspace:w:run_phase:apply", "aud": "aws.workload.identity", "exp": 2000}),
        );
        let out = assume_role_with_web_identity(&mut b, &ctx, &json!({"RoleArn": "arn:aws:iam::123456789012:role/tfc", "RoleSessionName": "terraform-run", "WebIdentityToken": token})).unwrap();
        assert_eq!(out["Provider"], "app.terraform.io");
        assert_eq!(out["Audience"], "aws.workload.identity");
        let late = Ctx::new(&emu, 2000.0, "", "us-east-1");
        let e = assume_role_with_web_identity(&mut b, &late, &json!({"RoleArn": "arn:aws:iam::123456789012:role/tfc", "RoleSessionName": "x1", "WebIdentityToken": token})).unwrap_err();
        assert_eq!(e.code, "ExpiredTokenException");
        let e = assume_role_with_web_identity(&mut b, &ctx, &json!({"RoleArn": "arn:aws:iam::123456789012:role/tfc", "RoleSessionName": "x1", "WebIdentityToken": "not-a-jwt"})).unwrap_err();
        assert_eq!(e.code, "InvalidIdentityToken");
    }
}
