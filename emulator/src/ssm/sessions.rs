//! Session Manager sessions and service settings (the managed-instance activation tier).
//!
//! hastack-local records sessions but has no data channel: a session stays `Connecting` (nobody
//! can attach to its stream) until it is terminated.
use serde_json::{json, Value as Json};

use super::activations::ping_status;
use super::error::err;
use super::{ctx_arn, page, req_str, Backend};
use crate::error::AwsError;
use crate::Ctx;

const ACTIVATION_TIER: &str = "/ssm/managed-instance/activation-tier";

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub target: String,
    pub document: String,
    pub reason: String,
    pub started: f64,
    pub ended: Option<f64>,
    pub owner: String,
}

fn setting_id(input: &Json) -> Result<String, AwsError> {
    let id = req_str(input, "SettingId")?;
    let short = id
        .rsplit_once(":servicesetting")
        .map(|(_, s)| s)
        .unwrap_or(id);
    if short != ACTIVATION_TIER {
        return Err(err(
            "ServiceSettingNotFound",
            format!("The service setting {id} is not supported by hastack-local"),
        ));
    }
    Ok(short.to_string())
}

fn setting_json(b: &Backend, ctx: &Ctx<'_>, id: &str) -> Json {
    let (value, modified) = b
        .settings
        .get(id)
        .cloned()
        .unwrap_or_else(|| ("standard".into(), 0.0));
    json!({
        "SettingId": id, "SettingValue": value, "LastModifiedDate": modified,
        "LastModifiedUser": if modified == 0.0 { "System".to_string() } else { format!("arn:aws:iam::{}:root", ctx.account) },
        "ARN": ctx_arn(ctx, &format!("servicesetting{id}")), "Status": if modified == 0.0 { "Default" } else { "Customized" },
    })
}

pub fn get_service_setting(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let id = setting_id(input)?;
    Ok(json!({"ServiceSetting": setting_json(b, ctx, &id)}))
}

pub fn update_service_setting(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let id = setting_id(input)?;
    let value = req_str(input, "SettingValue")?;
    if !["standard", "advanced"].contains(&value) {
        return Err(super::error::validation(format!(
            "SettingValue {value} must be standard or advanced"
        )));
    }
    b.settings.insert(id, (value.to_string(), ctx.now));
    Ok(json!({}))
}

pub fn start_session(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let target = req_str(input, "Target")?.to_string();
    let online = b.nodes.get(&target).map(|n| ping_status(n, ctx.hosts)) == Some("Online");
    if !online {
        return Err(err(
            "TargetNotConnected",
            format!("{target} is not connected."),
        ));
    }
    // Without a document the session runs with the preferences document, which need not exist.
    let document = match input.get("DocumentName").and_then(Json::as_str) {
        None | Some("") => "SSM-SessionManagerRunShell".to_string(),
        Some(name) => match super::documents::find(b, name) {
            Some(d) if d.document_type == "Session" => name.to_string(),
            Some(d) => {
                return Err(err(
                    "InvalidDocument",
                    format!(
                        "{name} is a {} document, not a Session document",
                        d.document_type
                    ),
                ))
            }
            None => {
                return Err(err(
                    "InvalidDocument",
                    format!("Document {name} does not exist in your account"),
                ))
            }
        },
    };
    let id = format!(
        "hastack-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..17]
    );
    b.sessions.push(Session {
        id: id.clone(),
        target,
        document,
        reason: input
            .get("Reason")
            .and_then(Json::as_str)
            .unwrap_or("")
            .into(),
        started: ctx.now,
        ended: None,
        owner: format!("arn:aws:iam::{}:root", ctx.account),
    });
    Ok(
        json!({"SessionId": id, "TokenValue": uuid::Uuid::new_v4().to_string(), "StreamUrl": format!("wss://ssmmessages.{}.amazonaws.com/v1/data-channel/{id}", ctx.region)}),
    )
}

pub fn terminate_session(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let id = req_str(input, "SessionId")?.to_string();
    if let Some(s) = b
        .sessions
        .iter_mut()
        .find(|s| s.id == id && s.ended.is_none())
    {
        s.ended = Some(ctx.now);
    }
    Ok(json!({"SessionId": id}))
}

pub fn describe_sessions(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let state = req_str(input, "State")?;
    let active = match state {
        "Active" => true,
        "History" => false,
        other => {
            return Err(super::error::validation(format!(
                "State {other} must be Active or History"
            )))
        }
    };
    let all: Vec<Json> = b
        .sessions
        .iter()
        .rev()
        .filter(|s| s.ended.is_none() == active)
        .map(|s| {
            let mut j = json!({
                "SessionId": s.id, "Target": s.target, "Status": if s.ended.is_some() { "Terminated" } else { "Connecting" },
                "StartDate": s.started, "DocumentName": s.document, "Owner": s.owner, "Reason": s.reason, "AccessType": "Standard",
            });
            if let Some(e) = s.ended {
                j["EndDate"] = json!(e);
            }
            j
        })
        .collect();
    let (items, next) = page(all, input, 20)?;
    let mut out = json!({"Sessions": items});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
