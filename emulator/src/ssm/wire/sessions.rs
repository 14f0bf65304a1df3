//! Service settings and sessions on the wire.
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{arn, page, parse, with_next, Answer};
use crate::ssm::sessions::NewSession;
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct SettingInput {
    setting_id: String,
    setting_value: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct SessionInput {
    target: String,
    document_name: Option<String>,
    reason: String,
    session_id: String,
    state: String,
    next_token: Option<String>,
    max_results: Option<usize>,
    parameters: std::collections::BTreeMap<String, Vec<String>>,
}

pub fn get_service_setting(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: SettingInput = parse(input)?;
    let s = b.service_setting(&i.setting_id)?;
    Ok(json!({"ServiceSetting": {
        "SettingId": s.id, "SettingValue": s.value, "LastModifiedDate": s.modified.unwrap_or(0.0),
        "LastModifiedUser": if s.modified.is_none() { "System".to_string() } else { format!("arn:aws:iam::{}:root", ctx.account) },
        "ARN": arn(ctx, &format!("servicesetting{}", s.id)), "Status": if s.modified.is_none() { "Default" } else { "Customized" },
    }}))
}

pub fn update_service_setting(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: SettingInput = parse(input)?;
    b.update_service_setting(ctx.now, &i.setting_id, &i.setting_value)?;
    Ok(json!({}))
}

pub fn start_session(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: SessionInput = parse(input)?;
    let s = b.start_session(
        ctx,
        NewSession {
            target: i.target,
            document: i.document_name,
            reason: i.reason,
            parameters: i.parameters,
        },
    )?;
    // The real shape (`wss://ssmmessages.REGION.amazonaws.com/v1/data-channel/ID?role=
    // publish_subscribe&cell-number=…`, less the cell number) on hastack-local's own loopback
    // listener.
    Ok(json!({
        "SessionId": s.id, "TokenValue": s.token,
        "StreamUrl": format!("{}/v1/data-channel/{}?role=publish_subscribe", ctx.stream_base, s.id),
    }))
}

pub fn terminate_session(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: SessionInput = parse(input)?;
    b.terminate_session(ctx.now, &i.session_id)?;
    Ok(json!({"SessionId": i.session_id}))
}

pub fn describe_sessions(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: SessionInput = parse(input)?;
    let all: Vec<Json> = b
        .sessions(&i.state)?
        .into_iter()
        .map(|s| {
            let mut j = json!({
                "SessionId": s.id, "Target": s.target, "Status": s.status.as_str(),
                "StartDate": s.started, "DocumentName": s.document, "Owner": s.owner, "Reason": s.reason, "AccessType": "Standard",
            });
            if let Some(e) = s.ended {
                j["EndDate"] = json!(e);
            }
            if let Some(m) = s.prefs.max_minutes {
                j["MaxSessionDuration"] = json!(m.to_string());
            }
            if let Some(d) = &s.details {
                j["Details"] = json!(d);
            }
            j
        })
        .collect();
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 20)?;
    Ok(with_next(json!({"Sessions": items}), next))
}
