//! Session Manager sessions and service settings (the managed-instance activation tier).
//!
//! hastack-local records sessions but has no data channel: a session stays `Connecting` (nobody
//! can attach to its stream) until it is terminated.
use super::activations::ping_status;
use super::error::{fail, required, Result, SsmCode};
use super::Backend;
use crate::Ctx;

pub const ACTIVATION_TIER: &str = "/ssm/managed-instance/activation-tier";

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

/// A service setting's value and when it was changed (None: never, the default).
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub id: String,
    pub value: String,
    pub modified: Option<f64>,
}

/// What StartSession asks for.
#[derive(Clone, Debug, Default)]
pub struct NewSession {
    pub target: String,
    pub document: Option<String>,
    pub reason: String,
}

/// The setting's short id (an ARN `…:servicesetting/ssm/…` or the path itself).
fn setting_id(id: &str) -> Result<String> {
    let id = required(id, "SettingId")?;
    let short = id
        .rsplit_once(":servicesetting")
        .map(|(_, s)| s)
        .unwrap_or(id);
    if short != ACTIVATION_TIER {
        return Err(fail(
            SsmCode::ServiceSettingNotFound,
            format!("The service setting {id} is not supported by hastack-local"),
        ));
    }
    Ok(short.to_string())
}

impl Backend {
    pub fn service_setting(&self, id: &str) -> Result<Setting> {
        let id = setting_id(id)?;
        Ok(match self.settings.get(&id) {
            Some((value, modified)) => Setting {
                id,
                value: value.clone(),
                modified: Some(*modified),
            },
            None => Setting {
                id,
                value: "standard".into(),
                modified: None,
            },
        })
    }

    pub fn update_service_setting(&mut self, now: f64, id: &str, value: &str) -> Result<()> {
        let id = setting_id(id)?;
        let value = required(value, "SettingValue")?;
        if !["standard", "advanced"].contains(&value) {
            return Err(fail(
                SsmCode::Validation,
                format!("SettingValue {value} must be standard or advanced"),
            ));
        }
        self.settings.insert(id, (value.to_string(), now));
        Ok(())
    }

    /// A session to an Online node, with a Session document (default: the preferences
    /// document, which need not exist).
    pub fn start_session(&mut self, ctx: &Ctx<'_>, req: NewSession) -> Result<Session> {
        let target = required(&req.target, "Target")?.to_string();
        let online = self.nodes.get(&target).map(|n| ping_status(n, ctx.hosts)) == Some("Online");
        if !online {
            return Err(fail(
                SsmCode::TargetNotConnected,
                format!("{target} is not connected."),
            ));
        }
        let document = match req.document.as_deref() {
            None | Some("") => "SSM-SessionManagerRunShell".to_string(),
            Some(name) => match super::documents::find(self, name) {
                Some(d) if d.document_type == "Session" => name.to_string(),
                Some(d) => {
                    return Err(fail(
                        SsmCode::InvalidDocument,
                        format!(
                            "{name} is a {} document, not a Session document",
                            d.document_type
                        ),
                    ))
                }
                None => {
                    return Err(fail(
                        SsmCode::InvalidDocument,
                        format!("Document {name} does not exist in your account"),
                    ))
                }
            },
        };
        let s = Session {
            id: format!(
                "hastack-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..17]
            ),
            target,
            document,
            reason: req.reason,
            started: ctx.now,
            ended: None,
            owner: format!("arn:aws:iam::{}:root", ctx.account),
        };
        self.sessions.push(s.clone());
        Ok(s)
    }

    pub fn terminate_session(&mut self, now: f64, id: &str) -> Result<()> {
        let id = required(id, "SessionId")?;
        if let Some(s) = self
            .sessions
            .iter_mut()
            .find(|s| s.id == id && s.ended.is_none())
        {
            s.ended = Some(now);
        }
        Ok(())
    }

    /// Active or ended sessions, newest first.
    pub fn sessions(&self, state: &str) -> Result<Vec<&Session>> {
        let active = match required(state, "State")? {
            "Active" => true,
            "History" => false,
            other => {
                return Err(fail(
                    SsmCode::Validation,
                    format!("State {other} must be Active or History"),
                ))
            }
        };
        Ok(self
            .sessions
            .iter()
            .rev()
            .filter(|s| s.ended.is_none() == active)
            .collect())
    }
}
