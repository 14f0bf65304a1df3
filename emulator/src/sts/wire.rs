//! STS on the wire: the form's members (typed), results as the query protocol's result
//! members, errors as STS names them.
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::backend::{packed_policy_size, AssumeRole, StsError};
use super::{iso8601, Backend, Handler};
use crate::error::AwsError;
use crate::sigv4::Credential;
use crate::Ctx;

/// The operation table.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("GetCallerIdentity", get_caller_identity),
    ("AssumeRole", assume_role),
    ("AssumeRoleWithWebIdentity", assume_role_with_web_identity),
];

impl From<StsError> for AwsError {
    fn from(e: StsError) -> Self {
        let code = match &e {
            StsError::Validation(_) => "ValidationError",
            StsError::InvalidIdentityToken(_) => "InvalidIdentityToken",
            StsError::ExpiredToken(_) => "ExpiredTokenException",
            StsError::MissingAuthentication => "MissingAuthenticationToken",
            StsError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            StsError::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
        };
        let status = if e == StsError::MissingAuthentication {
            403
        } else {
            400
        };
        AwsError::new(status, code, e.to_string())
    }
}

/// The form's members (all strings on the wire).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct RoleForm {
    role_arn: String,
    role_session_name: String,
    duration_seconds: Option<String>,
    web_identity_token: String,
    policy: Option<String>,
}

impl RoleForm {
    fn parse(input: &Json) -> Result<(AssumeRole, String), AwsError> {
        let f = RoleForm::deserialize(input).map_err(|e| AwsError::serialization(e.to_string()))?;
        let duration_seconds = match f.duration_seconds.as_deref() {
            None | Some("") => None,
            Some(s) => Some(s.parse::<i64>().map_err(|_| {
                AwsError::from(StsError::Validation(format!(
                    "DurationSeconds {s:?} is not a number"
                )))
            })?),
        };
        Ok((
            AssumeRole {
                role_arn: f.role_arn,
                session_name: f.role_session_name,
                duration_seconds,
                policy: f.policy,
            },
            f.web_identity_token,
        ))
    }
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

fn get_caller_identity(_b: &mut Backend, ctx: &Ctx<'_>, _input: &Json) -> Result<Json, AwsError> {
    let c = ctx.caller.ok_or(StsError::MissingAuthentication)?;
    Ok(json!({"UserId": c.user_id, "Account": c.account, "Arn": c.arn}))
}

fn assume_role(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let (req, _) = RoleForm::parse(input)?;
    let c = b.assume_role(ctx.now, ctx.caller, &req)?;
    let packed = packed_policy_size(req.policy.as_deref());
    Ok(
        json!({"Credentials": credentials_json(&c), "AssumedRoleUser": assumed_user(&c), "PackedPolicySize": packed}),
    )
}

fn assume_role_with_web_identity(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let (req, token) = RoleForm::parse(input)?;
    let (c, claims) = b.assume_role_with_web_identity(ctx.now, &req, &token)?;
    let packed = packed_policy_size(req.policy.as_deref());
    Ok(json!({
        "Credentials": credentials_json(&c), "AssumedRoleUser": assumed_user(&c), "PackedPolicySize": packed,
        "SubjectFromWebIdentityToken": claims.sub, "Audience": claims.aud,
        "Provider": claims.iss.trim_start_matches("https://"),
    }))
}
