//! Session Manager sessions and service settings (the managed-instance activation tier).
//!
//! A session is `Connecting` until a client opens its data channel (`crate::session_channel`),
//! `Connected` while the shell runs on the node, then `Terminated` (TerminateSession, the shell
//! ended, the client closed it, idle timeout, maximum duration) or `Failed` (the agent refused to
//! start it: e.g. CloudWatch encryption required and the log group has no KMS key).
use serde_json::Value as Json;

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
    pub status: SessionStatus,
    /// The data channel's token (a secret: never logged, never shown by DescribeSessions).
    pub token: String,
    /// The Session document's preferences, read when the session started.
    pub prefs: Preferences,
    /// Why a `Failed` session failed.
    pub details: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Connecting,
    Connected,
    Terminated,
    Failed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Connecting => "Connecting",
            SessionStatus::Connected => "Connected",
            SessionStatus::Terminated => "Terminated",
            SessionStatus::Failed => "Failed",
        }
    }
}

/// What a `Standard_Stream` Session document asks of the agent (its `inputs`), with the
/// defaults the agent applies when an input is absent or empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Preferences {
    pub session_type: String,
    pub run_as_enabled: bool,
    pub run_as_default_user: String,
    pub idle_minutes: u32,
    pub max_minutes: Option<u32>,
    pub log_group: String,
    pub cloudwatch_streaming: bool,
    pub cloudwatch_encryption: bool,
    pub s3_bucket: String,
    /// Session data encryption (the KMS handshake).
    pub kms_key_id: String,
    pub shell_profile_linux: String,
    /// `InteractiveCommands`: the Linux command (parameters substituted) and whether it runs
    /// as root.
    pub command: Option<String>,
    pub run_as_elevated: bool,
    /// The document's `properties`, as the handshake's SessionType action carries them.
    pub properties: Json,
}

/// The agent's default idle timeout, in minutes.
pub const DEFAULT_IDLE_MINUTES: u32 = 20;

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            session_type: "Standard_Stream".into(),
            run_as_enabled: false,
            run_as_default_user: String::new(),
            idle_minutes: DEFAULT_IDLE_MINUTES,
            max_minutes: None,
            log_group: String::new(),
            cloudwatch_streaming: false,
            cloudwatch_encryption: false,
            s3_bucket: String::new(),
            kms_key_id: String::new(),
            shell_profile_linux: String::new(),
            command: None,
            run_as_elevated: false,
            properties: Json::Null,
        }
    }
}

impl Preferences {
    /// From a Session document's content (already checked against the schema). Inputs given
    /// as `{{ parameter }}` references count as absent.
    pub fn from_content(j: &Json) -> Self {
        let mut p = Preferences {
            session_type: j
                .get("sessionType")
                .and_then(Json::as_str)
                .unwrap_or("Standard_Stream")
                .to_string(),
            ..Default::default()
        };
        let Some(inputs) = j.get("inputs") else {
            return p;
        };
        let text = |k: &str| {
            inputs
                .get(k)
                .and_then(Json::as_str)
                .filter(|s| !s.trim().starts_with("{{"))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let flag = |k: &str| inputs.get(k).and_then(Json::as_bool).unwrap_or(false);
        let minutes = |k: &str| match inputs.get(k) {
            Some(Json::String(s)) => s.trim().parse::<u32>().ok(),
            Some(Json::Number(n)) => n.as_u64().map(|n| n as u32),
            _ => None,
        };
        p.run_as_enabled = flag("runAsEnabled");
        p.run_as_default_user = text("runAsDefaultUser");
        p.idle_minutes = minutes("idleSessionTimeout").unwrap_or(DEFAULT_IDLE_MINUTES);
        p.max_minutes = minutes("maxSessionDuration");
        p.log_group = text("cloudWatchLogGroupName");
        p.cloudwatch_streaming = flag("cloudWatchStreamingEnabled");
        p.cloudwatch_encryption = flag("cloudWatchEncryptionEnabled");
        p.s3_bucket = text("s3BucketName");
        p.kms_key_id = text("kmsKeyId");
        p.shell_profile_linux = inputs
            .get("shellProfile")
            .and_then(|s| s.get("linux"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        p
    }

    /// A command session (`InteractiveCommands`) from its document: its `properties.linux`,
    /// `{{ name }}` filled from `parameters`; the rest (logging, run-as, timeouts) from the
    /// account's preferences `prefs`.
    pub fn for_commands(
        prefs: Preferences,
        content: &Json,
        parameters: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Self {
        let mut properties = content.get("properties").cloned().unwrap_or(Json::Null);
        let command = properties
            .pointer("/linux/commands")
            .and_then(Json::as_str)
            .map(|c| fill_parameters(c, parameters, content.get("parameters")));
        if let (Some(c), Some(slot)) = (&command, properties.pointer_mut("/linux/commands")) {
            *slot = Json::String(c.clone());
        }
        let linux = properties.get("linux");
        Preferences {
            session_type: content
                .get("sessionType")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
            run_as_elevated: linux
                .and_then(|l| l.get("runAsElevated"))
                .and_then(Json::as_bool)
                .unwrap_or(false),
            command,
            properties,
            ..prefs
        }
    }

    /// The user the shell runs as: root for an elevated command, the run-as user when run-as
    /// is on, else `ssm-user` (which the agent creates, as it does on Linux when it runs as root).
    pub fn run_as_user(&self) -> &str {
        if self.run_as_elevated {
            "root"
        } else if self.run_as_enabled {
            &self.run_as_default_user
        } else {
            SSM_USER
        }
    }
}

/// `{{ name }}` (spaces optional) replaced by the parameter's value (its values joined by
/// newlines), or by the document's default.
pub fn fill_parameters(
    text: &str,
    given: &std::collections::BTreeMap<String, Vec<String>>,
    declared: Option<&Json>,
) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}").expect("valid regex")
    });
    re.replace_all(text, |c: &regex::Captures<'_>| {
        let name = &c[1];
        given
            .get(name)
            .map(|v| v.join("\n"))
            .or_else(|| {
                declared
                    .and_then(|d| d.get(name))
                    .and_then(|p| p.get("default"))
                    .and_then(Json::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default()
    })
    .into_owned()
}

/// The agent's default session user on Linux.
pub const SSM_USER: &str = "ssm-user";

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
    /// The document's parameters (`{{ name }}` in its properties).
    pub parameters: std::collections::BTreeMap<String, Vec<String>>,
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
        // Authorization comes first, as on AWS (a denied caller learns nothing of the node).
        self.authorize_start_session(ctx, &target, req.document.as_deref())?;
        let online = self.nodes.get(&target).map(|n| ping_status(n, ctx.hosts)) == Some("Online");
        if !online {
            return Err(fail(
                SsmCode::TargetNotConnected,
                format!("{target} is not connected."),
            ));
        }
        let content_of = |d: &super::documents::Document| {
            d.versions
                .get(d.default_version.saturating_sub(1))
                .and_then(|v| serde_json::from_str::<Json>(&v.content).ok())
                .unwrap_or(Json::Null)
        };
        // The account's preferences (logging, run-as, timeouts) apply to every session; a
        // Standard_Stream document of its own replaces them.
        let account_prefs = super::documents::find(self, "SSM-SessionManagerRunShell")
            .map(|d| Preferences::from_content(&content_of(&d)))
            .unwrap_or_default();
        let prefs_of = |d: &super::documents::Document| {
            let j = content_of(d);
            match j.get("sessionType").and_then(Json::as_str) {
                Some("Standard_Stream") | None => Preferences::from_content(&j),
                Some(_) => Preferences::for_commands(account_prefs.clone(), &j, &req.parameters),
            }
        };
        let (document, prefs) = match req.document.as_deref() {
            // The preferences document need not exist: then the agent's defaults apply.
            None | Some("") => (
                super::access::DEFAULT_SESSION_DOCUMENT.to_string(),
                account_prefs.clone(),
            ),
            Some(name) => match super::documents::find(self, name) {
                Some(d) if d.document_type == "Session" => (name.to_string(), prefs_of(&d)),
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
            owner: ctx
                .caller
                .map(|c| c.arn.clone())
                .unwrap_or_else(|| format!("arn:aws:iam::{}:root", ctx.account)),
            status: SessionStatus::Connecting,
            token: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            prefs,
            details: None,
        };
        self.sessions.push(s.clone());
        Ok(s)
    }

    pub fn terminate_session(&mut self, now: f64, id: &str) -> Result<()> {
        let id = required(id, "SessionId")?;
        self.end_session(now, id, SessionStatus::Terminated, None);
        Ok(())
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The data channel opened: the agent started the session.
    pub fn session_connected(&mut self, id: &str) {
        if let Some(s) = self
            .sessions
            .iter_mut()
            .find(|s| s.id == id && s.ended.is_none())
        {
            s.status = SessionStatus::Connected;
        }
    }

    /// End a session still active (`Terminated` or `Failed`); an ended one keeps its end.
    pub fn end_session(
        &mut self,
        now: f64,
        id: &str,
        status: SessionStatus,
        details: Option<String>,
    ) {
        if let Some(s) = self
            .sessions
            .iter_mut()
            .find(|s| s.id == id && s.ended.is_none())
        {
            s.ended = Some(now);
            s.status = status;
            s.details = details;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn preferences_take_the_agents_defaults() {
        let cases = [
            (
                "no inputs",
                json!({"sessionType": "Standard_Stream"}),
                Preferences::default(),
            ),
            (
                "console default",
                json!({"sessionType": "Standard_Stream", "inputs": {"idleSessionTimeout": "20", "maxSessionDuration": "", "runAsEnabled": false, "runAsDefaultUser": "", "cloudWatchLogGroupName": ""}}),
                Preferences::default(),
            ),
            (
                "everything",
                json!({"sessionType": "Standard_Stream", "inputs": {"idleSessionTimeout": "5", "maxSessionDuration": "60", "runAsEnabled": true, "runAsDefaultUser": "deploy", "cloudWatchLogGroupName": "/s", "cloudWatchStreamingEnabled": true, "cloudWatchEncryptionEnabled": true, "kmsKeyId": "k", "shellProfile": {"linux": "cd /srv"}}}),
                Preferences {
                    idle_minutes: 5,
                    max_minutes: Some(60),
                    run_as_enabled: true,
                    run_as_default_user: "deploy".into(),
                    log_group: "/s".into(),
                    cloudwatch_streaming: true,
                    cloudwatch_encryption: true,
                    kms_key_id: "k".into(),
                    shell_profile_linux: "cd /srv".into(),
                    ..Preferences::default()
                },
            ),
            (
                "parameter reference",
                json!({"sessionType": "Standard_Stream", "inputs": {"idleSessionTimeout": "{{ t }}", "cloudWatchLogGroupName": "{{ g }}"}}),
                Preferences::default(),
            ),
        ];
        for (name, doc, want) in cases {
            assert_eq!(Preferences::from_content(&doc), want, "{name}");
        }
        assert_eq!(Preferences::default().run_as_user(), SSM_USER);
    }

    #[test]
    fn command_sessions_fill_parameters_and_keep_the_account_preferences() {
        let doc = json!({"sessionType": "InteractiveCommands", "parameters": {"command": {"type": "String"}, "dir": {"type": "String", "default": "/tmp"}},
            "properties": {"linux": {"commands": "cd {{ dir }} && {{command}}", "runAsElevated": true}}});
        let account = Preferences {
            log_group: "/audit".into(),
            ..Preferences::default()
        };
        let given = [("command".to_string(), vec!["ls -l".to_string()])]
            .into_iter()
            .collect();
        let p = Preferences::for_commands(account, &doc, &given);
        assert_eq!(p.command.as_deref(), Some("cd /tmp && ls -l"));
        assert_eq!(p.properties["linux"]["commands"], "cd /tmp && ls -l");
        assert_eq!(p.session_type, "InteractiveCommands");
        assert_eq!(p.log_group, "/audit");
        assert_eq!(p.run_as_user(), "root");
    }
}
