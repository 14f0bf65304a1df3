//! Run Command: the status machine, the script a Command document renders to, delivery to
//! hosts (through the call's effects), outcomes, cancel.
//!
//! On a node backed by a host the document's script runs there (`server::run_command`) and the
//! invocation reports what it did. On a node without a host (hosts off, or registered through
//! the admin API) an invocation is `InProgress` for the profile's operation latency, then ends
//! `Failed` with a standard error that says the node is not a real host. On a node whose agent
//! lost its connection it stays `Pending` until its timeout.
use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::activations::ping_status;
use super::documents::{find, parse_content, resolve_version};
use super::error::{fail, required, Result, SsmCode};
use super::Backend;
use crate::effects::Effect;
use crate::Ctx;

/// AWS keeps the first 24,000 characters of stdout and 8,000 of stderr in GetCommandInvocation,
/// and the first 2,500 of a plugin's combined output in ListCommandInvocations.
pub const STDOUT_LIMIT: usize = 24_000;
pub const STDERR_LIMIT: usize = 8_000;
pub const PLUGIN_OUTPUT_LIMIT: usize = 2_500;

pub use crate::effects::ExecRequest;

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Delivered to a real host and running there.
    Running { started: f64 },
    /// Ran to the end on a real host (or was killed at its execution timeout).
    Ran {
        code: i64,
        stdout: String,
        stderr: String,
        started: f64,
        ended: f64,
        timed_out: bool,
    },
    /// Could not run on this emulator: why.
    NotRun { reason: String },
}

#[derive(Clone, Debug)]
pub struct Invocation {
    pub instance_id: String,
    pub instance_name: String,
    /// Whether the node's agent was connected when the command was sent.
    pub delivered: bool,
    pub outcome: Outcome,
    pub cancelled_at: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Command {
    pub id: String,
    pub document_name: String,
    pub document_version: String,
    pub comment: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub requested: f64,
    pub timeout_seconds: i64,
    pub invocations: Vec<Invocation>,
    /// The State Manager association this run applies (not listed by ListCommands).
    pub association: Option<String>,
}

pub fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// (Status, StatusDetails, ResponseCode) of an invocation at `now`.
pub fn invocation_status(
    c: &Command,
    i: &Invocation,
    ctx: &Ctx<'_>,
) -> (&'static str, &'static str, i64) {
    if let Some(at) = i.cancelled_at {
        if ctx.now >= at {
            return ("Cancelled", "Cancelled", -1);
        }
    }
    if !i.delivered {
        return if ctx.now >= c.requested + c.timeout_seconds as f64 {
            ("TimedOut", "DeliveryTimedOut", -1)
        } else {
            ("Pending", "Pending", -1)
        };
    }
    match &i.outcome {
        Outcome::Running { .. } => ("InProgress", "InProgress", -1),
        Outcome::Ran {
            timed_out: true, ..
        } => ("TimedOut", "ExecutionTimedOut", -1),
        Outcome::Ran { code: 0, .. } => ("Success", "Success", 0),
        Outcome::Ran { code, .. } => ("Failed", "Failed", *code),
        // Not run: reported after the profile's latency, like a real failure would be.
        Outcome::NotRun { .. } if ctx.now < c.requested + ctx.profile.operation => {
            ("InProgress", "InProgress", -1)
        }
        Outcome::NotRun { .. } => ("Failed", "Failed", -1),
    }
}

pub fn command_status(c: &Command, ctx: &Ctx<'_>) -> (&'static str, i64, i64, i64) {
    let statuses: Vec<&str> = c
        .invocations
        .iter()
        .map(|i| invocation_status(c, i, ctx).0)
        .collect();
    let done = |s: &str| ["Success", "Failed", "Cancelled", "TimedOut"].contains(&s);
    let completed = statuses.iter().filter(|s| done(s)).count() as i64;
    let errors = statuses.iter().filter(|s| **s == "Failed").count() as i64;
    let timed_out = statuses.iter().filter(|s| **s == "TimedOut").count() as i64;
    let status = if statuses.iter().all(|s| *s == "Pending") {
        "Pending"
    } else if !statuses.iter().all(|s| done(s)) {
        "InProgress"
    } else if statuses.iter().all(|s| *s == "Success") {
        "Success"
    } else if statuses.iter().all(|s| *s == "Cancelled") {
        "Cancelled"
    } else if timed_out > 0 && errors == 0 {
        "TimedOut"
    } else {
        "Failed"
    };
    (status, completed, errors, timed_out)
}

/// What SendCommand asks for.
#[derive(Clone, Debug, Default)]
pub struct SendCommand {
    pub document_name: String,
    pub document_version: Option<String>,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub instance_ids: Vec<String>,
    /// (key, values): `tag:K` or `InstanceIds`.
    pub targets: Vec<(String, Vec<String>)>,
    pub timeout_seconds: Option<i64>,
    pub comment: String,
}

/// Check the parameters against the document's declared ones.
pub fn check_parameters(content: &Json, given: &BTreeMap<String, Vec<String>>) -> Result<()> {
    let declared = content
        .get("parameters")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(unknown) = given.keys().find(|k| !declared.contains_key(*k)) {
        return Err(fail(
            SsmCode::InvalidParameters,
            format!("Parameter \"{unknown}\" is not defined in the document"),
        ));
    }
    for (name, p) in &declared {
        // allowedValues and allowedPattern, as SSM checks them before anything runs.
        for v in given.get(name).into_iter().flatten() {
            let allowed = p.get("allowedValues").and_then(Json::as_array);
            if allowed.is_some_and(|a| !a.iter().any(|x| x.as_str() == Some(v))) {
                return Err(fail(
                    SsmCode::InvalidParameters,
                    format!(
                        "Parameter \"{name}\" has a value that is not one of its allowed values"
                    ),
                ));
            }
            let pattern = p.get("allowedPattern").and_then(Json::as_str);
            if pattern.is_some_and(|re| !regex::Regex::new(re).is_ok_and(|re| re.is_match(v))) {
                return Err(fail(
                    SsmCode::InvalidParameters,
                    format!("Parameter \"{name}\" \"{v}\" fails to match the allowed pattern"),
                ));
            }
        }
        if p.get("default").is_none() && !given.contains_key(name) {
            return Err(fail(
                SsmCode::InvalidParameters,
                format!("Parameters required in the document are missing: {name}"),
            ));
        }
    }
    Ok(())
}

fn invalid_command() -> super::error::SsmError {
    fail(SsmCode::InvalidCommandId, "The command ID is not valid")
}

impl Backend {
    /// Send a Command document to nodes: invocations on Online nodes backed by hosts run there
    /// (an effect of the call), the others report why they did not run.
    pub fn send_command(&mut self, ctx: &Ctx<'_>, req: SendCommand) -> Result<Command> {
        let doc_name = required(&req.document_name, "DocumentName")?.to_string();
        let doc = find(self, &doc_name).ok_or_else(|| {
            fail(
                SsmCode::InvalidDocument,
                format!("Document {doc_name} does not exist"),
            )
        })?;
        let version = resolve_version(&doc, req.document_version.as_deref())?;
        if doc.document_type != "Command" {
            return Err(fail(
                SsmCode::InvalidDocument,
                format!(
                    "{doc_name} is a {} document: Run Command runs Command documents",
                    doc.document_type
                ),
            ));
        }
        let content = parse_content(&doc.versions[version - 1].content, "JSON", "Command")?;
        check_parameters(&content, &req.parameters)?;
        let mut ids = req.instance_ids.clone();
        for (key, values) in &req.targets {
            for n in self.nodes.values() {
                let hit = match key.strip_prefix("tag:") {
                    Some(tag) => n.tags.get(tag).is_some_and(|v| values.contains(v)),
                    None => key == "InstanceIds" && values.contains(&n.id),
                };
                if hit && !ids.contains(&n.id) {
                    ids.push(n.id.clone());
                }
            }
        }
        if ids.is_empty() {
            return Err(fail(SsmCode::InvalidInstanceId, "No instances to run the command on: give InstanceIds or Targets that match managed nodes"));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = ids.iter().find(|i| !seen.insert(*i)) {
            return Err(fail(
                SsmCode::DuplicateInstanceId,
                format!("Instance {dup} is listed twice"),
            ));
        }
        let command_id = uuid::Uuid::new_v4().to_string();
        let (script, workdir, exec_timeout) = render_script(&content, &req.parameters);
        let mut invocations = Vec::new();
        let mut execs = Vec::new();
        for id in &ids {
            let n = self.nodes.get(id).ok_or_else(|| {
                fail(
                    SsmCode::InvalidInstanceId,
                    format!(
                        "Instances [[{id}]] not in a valid state for account {}",
                        ctx.account
                    ),
                )
            })?;
            let online = ping_status(n, ctx.hosts) == "Online";
            let outcome = match (&n.host, online) {
                (Some(host), true) => {
                    execs.push(ExecRequest {
                        command_id: command_id.clone(),
                        instance_id: id.clone(),
                        host: host.clone(),
                        script: script.clone(),
                        workdir: workdir.clone(),
                        timeout_secs: exec_timeout,
                    });
                    Outcome::Running { started: ctx.now }
                }
                _ => Outcome::NotRun {
                    reason: match ctx.hosts.availability() {
                        Err(why) => format!("hastack-local: {id} is not backed by a hastack-local host ({why}), so the command did not run"),
                        Ok(()) => format!("hastack-local: {id} is not backed by a hastack-local host (it was registered through the admin API), so the command did not run"),
                    },
                },
            };
            invocations.push(Invocation {
                instance_id: id.clone(),
                instance_name: n.name.clone(),
                delivered: online,
                outcome,
                cancelled_at: None,
            });
        }
        let timeout = req.timeout_seconds.unwrap_or(3600);
        if !(30..=2_592_000).contains(&timeout) {
            return Err(fail(
                SsmCode::Validation,
                "TimeoutSeconds must be between 30 and 2592000",
            ));
        }
        let c = Command {
            id: command_id,
            document_name: doc_name,
            document_version: version.to_string(),
            comment: req.comment,
            parameters: req.parameters,
            requested: ctx.now,
            timeout_seconds: timeout,
            invocations,
            association: None,
        };
        self.commands.push(c.clone());
        for x in execs {
            ctx.emit(Effect::RunCommand(x));
        }
        Ok(c)
    }

    /// Commands, newest first, filtered by id and node; a given id must exist.
    pub fn commands_matching(
        &self,
        command_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> Result<Vec<&Command>> {
        let all: Vec<&Command> = self
            .commands
            .iter()
            .rev()
            .filter(|c| {
                c.association.is_none()
                    && command_id.is_none_or(|id| c.id == id)
                    && instance_id
                        .is_none_or(|id| c.invocations.iter().any(|i| i.instance_id == id))
            })
            .collect();
        if command_id.is_some() && all.is_empty() {
            return Err(invalid_command());
        }
        Ok(all)
    }

    /// One invocation of a command.
    pub fn invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<(&Command, &Invocation)> {
        let cid = required(command_id, "CommandId")?;
        let iid = required(instance_id, "InstanceId")?;
        let c = self
            .commands
            .iter()
            .find(|c| c.id == cid)
            .ok_or_else(invalid_command)?;
        let i = c
            .invocations
            .iter()
            .find(|i| i.instance_id == iid)
            .ok_or_else(|| {
                fail(
                    SsmCode::InvocationDoesNotExist,
                    "The command invocation does not exist",
                )
            })?;
        Ok((c, i))
    }

    /// Cancel the command's pending or running invocations (on `only`, when given).
    pub fn cancel_command(
        &mut self,
        ctx: &Ctx<'_>,
        command_id: &str,
        only: &[String],
    ) -> Result<()> {
        let cid = required(command_id, "CommandId")?;
        let idx = self
            .commands
            .iter()
            .position(|c| c.id == cid)
            .ok_or_else(invalid_command)?;
        let snapshot = self.commands[idx].clone();
        for (n, i) in self.commands[idx].invocations.iter_mut().enumerate() {
            let (status, _, _) = invocation_status(&snapshot, &snapshot.invocations[n], ctx);
            if (only.is_empty() || only.contains(&i.instance_id))
                && ["Pending", "InProgress"].contains(&status)
            {
                i.cancelled_at = Some(ctx.now);
            }
        }
        Ok(())
    }
}

/// The shell script, working directory and execution timeout of a Command document's
/// `aws:runShellScript` steps, with `{{ parameter }}` references filled in (StringList values
/// one per line) and defaults applied.
pub fn render_script(
    content: &Json,
    params: &BTreeMap<String, Vec<String>>,
) -> (String, String, u64) {
    let declared = content
        .get("parameters")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let value = |name: &str| -> String {
        if let Some(given) = params.get(name) {
            return given.join("\n");
        }
        let v = declared
            .get(name)
            .and_then(|p| p.get("default"))
            .cloned()
            .unwrap_or(Json::Null);
        match v {
            Json::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Json::String(s) => s,
            Json::Null => String::new(),
            other => other.to_string(),
        }
    };
    let fill = |text: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            match rest[start..].find("}}") {
                Some(end) => {
                    out.push_str(&value(rest[start + 2..start + end].trim()));
                    rest = &rest[start + end + 2..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    };
    let (mut script, mut workdir, mut timeout) = (String::new(), String::new(), 3600u64);
    for step in content
        .get("mainSteps")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if step.get("action").and_then(Json::as_str) != Some("aws:runShellScript") {
            continue;
        }
        let inputs = step.get("inputs").cloned().unwrap_or(Json::Null);
        match inputs.get("runCommand") {
            Some(Json::Array(lines)) => lines.iter().filter_map(Json::as_str).for_each(|l| {
                script.push_str(&fill(l));
                script.push('\n');
            }),
            Some(Json::String(l)) => {
                script.push_str(&fill(l));
                script.push('\n');
            }
            _ => {}
        }
        if let Some(w) = inputs.get("workingDirectory").and_then(Json::as_str) {
            workdir = fill(w);
        }
        if let Some(t) = inputs
            .get("timeoutSeconds")
            .and_then(Json::as_str)
            .map(fill)
            .and_then(|t| t.trim().parse().ok())
        {
            timeout = t;
        }
    }
    (script, workdir, timeout.clamp(1, 172_800))
}

/// Record what a host reported for one invocation (its exit, output, or that it timed out).
pub fn record_outcome(b: &mut Backend, x: &ExecRequest, res: crate::hosts::ExecResult, now: f64) {
    if let Some(inv) = b
        .commands
        .iter_mut()
        .find(|c| c.id == x.command_id)
        .and_then(|c| {
            c.invocations
                .iter_mut()
                .find(|i| i.instance_id == x.instance_id)
        })
    {
        let started = match inv.outcome {
            Outcome::Running { started } => started,
            _ => now,
        };
        inv.outcome = Outcome::Ran {
            code: res.code,
            stdout: res.stdout,
            stderr: res.stderr,
            started,
            ended: now,
            timed_out: res.timed_out,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn manage_agent_renders_the_ctl_call_and_refuses_values_outside_its_lists() {
        let content: Json =
            serde_json::from_str(super::super::aws_documents::MANAGE_CLOUDWATCH_AGENT).unwrap();
        let p = params(&[
            ("action", &["configure"]),
            ("mode", &["onPremise"]),
            (
                "optionalConfigurationLocation",
                &["AmazonCloudWatch-hastack-web"],
            ),
        ]);
        assert_eq!(check_parameters(&content, &p), Ok(()));
        let (script, _, _) = render_script(&content, &p);
        assert!(script.starts_with("set -euo pipefail\n"), "{script}");
        assert!(script.contains("action='configure' mode='onPremise' source='ssm' location='AmazonCloudWatch-hastack-web' restart='yes'"), "{script}");
        assert!(script.contains("amazon-cloudwatch-agent-ctl -a fetch-config -m \"$mode\" -c \"ssm:$location\" $start"), "{script}");
        for (name, bad) in [
            ("action", "rm"),
            ("mode", "ec3"),
            ("optionalConfigurationLocation", "x'; reboot; '"),
        ] {
            let e = check_parameters(&content, &params(&[(name, &[bad])])).unwrap_err();
            assert_eq!(e.code, SsmCode::InvalidParameters, "{name}={bad}");
        }
    }

    #[test]
    fn renders_run_shell_script_like_the_agent() {
        let content: Json =
            serde_json::from_str(super::super::documents::RUN_SHELL_SCRIPT).unwrap();
        let (script, wd, timeout) = render_script(
            &content,
            &params(&[
                ("commands", &["cd /tmp", "echo {{ x }}"]),
                ("workingDirectory", &["/srv"]),
            ]),
        );
        assert_eq!(
            script, "cd /tmp\necho {{ x }}\n",
            "parameter values are not templates themselves"
        );
        assert_eq!((wd.as_str(), timeout), ("/srv", 3600));
        let custom = json!({"parameters": {"role": {"type": "String", "default": "web"}}, "mainSteps": [{"action": "aws:runShellScript", "name": "a", "inputs": {"runCommand": ["echo {{ role }}", "echo {{role}}"], "timeoutSeconds": "60"}}]});
        assert_eq!(
            render_script(&custom, &BTreeMap::new()),
            ("echo web\necho web\n".to_string(), String::new(), 60)
        );
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(
            truncate(&"é".repeat(30_000), STDOUT_LIMIT).chars().count(),
            24_000
        );
    }
}
