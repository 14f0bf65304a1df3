//! Run Command: the status machine, output truncation, cancel.
//!
//! On a node backed by a host the document's script runs there (`server::run_command`) and the
//! invocation reports what it did. On a node without a host (hosts off, or registered through
//! the admin API) an invocation is `InProgress` for the profile's operation latency, then ends
//! `Failed` with a standard error that says the node is not a real host. On a node whose agent
//! lost its connection it stays `Pending` until its timeout.
use serde_json::{json, Value as Json};

use super::activations::ping_status;
use super::documents::{find, parse_content, resolve_version};
use super::error::err;
use super::{page, req_str, Backend};
use crate::error::AwsError;
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
    pub parameters: Json,
    pub requested: f64,
    pub timeout_seconds: i64,
    pub invocations: Vec<Invocation>,
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

fn command_status(c: &Command, ctx: &Ctx<'_>) -> (&'static str, i64, i64, i64) {
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

fn command_json(c: &Command, ctx: &Ctx<'_>) -> Json {
    let (status, completed, errors, timed_out) = command_status(c, ctx);
    json!({
        "CommandId": c.id, "DocumentName": c.document_name, "DocumentVersion": c.document_version,
        "Comment": c.comment, "ExpiresAfter": c.requested + c.timeout_seconds as f64, "Parameters": c.parameters,
        "InstanceIds": c.invocations.iter().map(|i| i.instance_id.clone()).collect::<Vec<_>>(), "Targets": [],
        "RequestedDateTime": c.requested, "Status": status, "StatusDetails": status,
        "MaxConcurrency": "50", "MaxErrors": "0", "TargetCount": c.invocations.len(), "CompletedCount": completed,
        "ErrorCount": errors, "DeliveryTimedOutCount": timed_out, "TimeoutSeconds": c.timeout_seconds,
    })
}

fn outputs(i: &Invocation) -> (String, String) {
    match &i.outcome {
        Outcome::Ran { stdout, stderr, .. } => (stdout.clone(), stderr.clone()),
        Outcome::Running { .. } => (String::new(), String::new()),
        Outcome::NotRun { reason } => (String::new(), reason.clone()),
    }
}

/// Check the parameters against the document's declared ones.
fn check_parameters(content: &Json, params: &Json) -> Result<(), AwsError> {
    let declared = content
        .get("parameters")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let given = params.as_object().cloned().unwrap_or_default();
    if let Some(unknown) = given.keys().find(|k| !declared.contains_key(*k)) {
        return Err(err(
            "InvalidParameters",
            format!("Parameter \"{unknown}\" is not defined in the document"),
        ));
    }
    for (name, p) in &declared {
        if p.get("default").is_none() && !given.contains_key(name) {
            return Err(err(
                "InvalidParameters",
                format!("Parameters required in the document are missing: {name}"),
            ));
        }
    }
    Ok(())
}

pub fn send_command(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let doc_name = req_str(input, "DocumentName")?;
    let doc = find(b, doc_name).ok_or_else(|| {
        err(
            "InvalidDocument",
            format!("Document {doc_name} does not exist"),
        )
    })?;
    let version = resolve_version(&doc, input.get("DocumentVersion").and_then(Json::as_str))?;
    if doc.document_type != "Command" {
        return Err(err(
            "InvalidDocument",
            format!(
                "{doc_name} is a {} document: Run Command runs Command documents",
                doc.document_type
            ),
        ));
    }
    let content = parse_content(&doc.versions[version - 1].content, "JSON", "Command")?;
    let params = input
        .get("Parameters")
        .cloned()
        .unwrap_or_else(|| json!({}));
    check_parameters(&content, &params)?;
    let mut ids: Vec<String> = crate::input::str_list(input, "InstanceIds");
    for t in input
        .get("Targets")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let key = t.get("Key").and_then(Json::as_str).unwrap_or("");
        let values: Vec<&str> = t
            .get("Values")
            .and_then(Json::as_array)
            .map(|v| v.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        for n in b.nodes.values() {
            let hit = match key.strip_prefix("tag:") {
                Some(tag) => n
                    .tags
                    .get(tag)
                    .is_some_and(|v| values.contains(&v.as_str())),
                None => key == "InstanceIds" && values.contains(&n.id.as_str()),
            };
            if hit && !ids.contains(&n.id) {
                ids.push(n.id.clone());
            }
        }
    }
    if ids.is_empty() {
        return Err(err("InvalidInstanceId", "No instances to run the command on: give InstanceIds or Targets that match managed nodes"));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = ids.iter().find(|i| !seen.insert(*i)) {
        return Err(err(
            "DuplicateInstanceId",
            format!("Instance {dup} is listed twice"),
        ));
    }
    let command_id = uuid::Uuid::new_v4().to_string();
    let (script, workdir, exec_timeout) = render_script(&content, &params);
    let mut invocations = Vec::new();
    let mut execs = Vec::new();
    for id in &ids {
        let n = b.nodes.get(id).ok_or_else(|| {
            err(
                "InvalidInstanceId",
                format!(
                    "Instances [[{id}]] not in a valid state for account {}",
                    ctx.account
                ),
            )
        })?;
        let online = ping_status(n, ctx.hosts) == "Online";
        let outcome = match (&n.host, online) {
            (Some(host), true) => {
                execs.push(ExecRequest { command_id: command_id.clone(), instance_id: id.clone(), host: host.clone(), script: script.clone(), workdir: workdir.clone(), timeout_secs: exec_timeout });
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
    let timeout = input
        .get("TimeoutSeconds")
        .and_then(Json::as_i64)
        .unwrap_or(3600);
    if !(30..=2_592_000).contains(&timeout) {
        return Err(err(
            "ValidationException",
            "TimeoutSeconds must be between 30 and 2592000",
        ));
    }
    let c = Command {
        id: command_id,
        document_name: doc_name.into(),
        document_version: version.to_string(),
        comment: input
            .get("Comment")
            .and_then(Json::as_str)
            .unwrap_or("")
            .into(),
        parameters: params,
        requested: ctx.now,
        timeout_seconds: timeout,
        invocations,
    };
    let out = command_json(&c, ctx);
    b.commands.push(c);
    for x in execs {
        ctx.emit(crate::effects::Effect::RunCommand(x));
    }
    Ok(json!({"Command": out}))
}

pub fn list_commands(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let cid = input.get("CommandId").and_then(Json::as_str);
    let iid = input.get("InstanceId").and_then(Json::as_str);
    let all: Vec<Json> = b
        .commands
        .iter()
        .rev()
        .filter(|c| {
            cid.is_none_or(|id| c.id == id)
                && iid.is_none_or(|id| c.invocations.iter().any(|i| i.instance_id == id))
        })
        .map(|c| command_json(c, ctx))
        .collect();
    if cid.is_some() && all.is_empty() {
        return Err(err("InvalidCommandId", "The command ID is not valid"));
    }
    let (items, next) = page(all, input, 50)?;
    let mut out = json!({"Commands": items});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

fn plugin_json(c: &Command, i: &Invocation, ctx: &Ctx<'_>) -> Json {
    let (status, details, code) = invocation_status(c, i, ctx);
    let (stdout, stderr) = if ["Success", "Failed"].contains(&status) {
        outputs(i)
    } else {
        (String::new(), String::new())
    };
    let combined = if stderr.is_empty() {
        stdout
    } else {
        format!("{stdout}\n----------ERROR-------\n{stderr}")
    };
    json!({"Name": "aws:runShellScript", "Status": status, "StatusDetails": details, "ResponseCode": code, "Output": truncate(&combined, PLUGIN_OUTPUT_LIMIT)})
}

pub fn list_command_invocations(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let cid = input.get("CommandId").and_then(Json::as_str);
    let iid = input.get("InstanceId").and_then(Json::as_str);
    let details = input
        .get("Details")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let mut all = Vec::new();
    for c in b
        .commands
        .iter()
        .rev()
        .filter(|c| cid.is_none_or(|id| c.id == id))
    {
        for i in c
            .invocations
            .iter()
            .filter(|i| iid.is_none_or(|id| i.instance_id == id))
        {
            let (status, status_details, _) = invocation_status(c, i, ctx);
            let mut j = json!({
                "CommandId": c.id, "InstanceId": i.instance_id, "InstanceName": i.instance_name, "Comment": c.comment,
                "DocumentName": c.document_name, "DocumentVersion": c.document_version, "RequestedDateTime": c.requested,
                "Status": status, "StatusDetails": status_details, "StandardOutputUrl": "", "StandardErrorUrl": "",
            });
            if details {
                j["CommandPlugins"] = json!([plugin_json(c, i, ctx)]);
            }
            all.push(j);
        }
    }
    let (items, next) = page(all, input, 50)?;
    let mut out = json!({"CommandInvocations": items});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub fn get_command_invocation(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let cid = req_str(input, "CommandId")?;
    let iid = req_str(input, "InstanceId")?;
    let c = b
        .commands
        .iter()
        .find(|c| c.id == cid)
        .ok_or_else(|| err("InvalidCommandId", "The command ID is not valid"))?;
    let i = c
        .invocations
        .iter()
        .find(|i| i.instance_id == iid)
        .ok_or_else(|| {
            err(
                "InvocationDoesNotExist",
                "The command invocation does not exist",
            )
        })?;
    if let Some(p) = input.get("PluginName").and_then(Json::as_str) {
        if p != "aws:runShellScript" && p != "runShellScript" {
            return Err(err(
                "InvalidPluginName",
                format!("Plugin {p} is not part of the document"),
            ));
        }
    }
    let (status, details, code) = invocation_status(c, i, ctx);
    let finished = ["Success", "Failed"].contains(&status);
    let (stdout, stderr) = if finished {
        outputs(i)
    } else {
        (String::new(), String::new())
    };
    let mut j = json!({
        "CommandId": c.id, "InstanceId": i.instance_id, "Comment": c.comment, "DocumentName": c.document_name,
        "DocumentVersion": c.document_version, "PluginName": "aws:runShellScript", "ResponseCode": code,
        "ExecutionElapsedTime": "PT0S", "Status": status, "StatusDetails": details,
        "StandardOutputContent": truncate(&stdout, STDOUT_LIMIT), "StandardOutputUrl": "",
        "StandardErrorContent": truncate(&stderr, STDERR_LIMIT), "StandardErrorUrl": "",
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": false},
    });
    if let Outcome::Running { started } = &i.outcome {
        j["ExecutionStartDateTime"] = json!(rfc3339(*started));
    }
    if let Outcome::Ran { started, ended, .. } = &i.outcome {
        j["ExecutionStartDateTime"] = json!(rfc3339(*started));
        if finished {
            j["ExecutionEndDateTime"] = json!(rfc3339(*ended));
        }
    }
    Ok(j)
}

pub fn cancel_command(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let cid = req_str(input, "CommandId")?.to_string();
    let only: Vec<String> = crate::input::str_list(input, "InstanceIds");
    let idx = b
        .commands
        .iter()
        .position(|c| c.id == cid)
        .ok_or_else(|| err("InvalidCommandId", "The command ID is not valid"))?;
    let snapshot = b.commands[idx].clone();
    for (n, i) in b.commands[idx].invocations.iter_mut().enumerate() {
        let (status, _, _) = invocation_status(&snapshot, &snapshot.invocations[n], ctx);
        if (only.is_empty() || only.contains(&i.instance_id))
            && ["Pending", "InProgress"].contains(&status)
        {
            i.cancelled_at = Some(ctx.now);
        }
    }
    Ok(json!({}))
}

/// The shell script, working directory and execution timeout of a Command document's
/// `aws:runShellScript` steps, with `{{ parameter }}` references filled in (StringList values
/// one per line) and defaults applied.
pub fn render_script(content: &Json, params: &Json) -> (String, String, u64) {
    let declared = content
        .get("parameters")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let value = |name: &str| -> String {
        let v = params
            .get(name)
            .cloned()
            .or_else(|| declared.get(name).and_then(|p| p.get("default")).cloned())
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

/// ISO-8601 timestamps, which GetCommandInvocation uses for its execution times.
fn rfc3339(t: f64) -> String {
    let secs = t.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
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

    #[test]
    fn renders_run_shell_script_like_the_agent() {
        let content: Json =
            serde_json::from_str(super::super::documents::RUN_SHELL_SCRIPT).unwrap();
        let (script, wd, timeout) = render_script(
            &content,
            &json!({"commands": ["cd /tmp", "echo {{ x }}"], "workingDirectory": ["/srv"]}),
        );
        assert_eq!(
            script, "cd /tmp\necho {{ x }}\n",
            "parameter values are not templates themselves"
        );
        assert_eq!((wd.as_str(), timeout), ("/srv", 3600));
        let custom = json!({"parameters": {"role": {"type": "String", "default": "web"}}, "mainSteps": [{"action": "aws:runShellScript", "name": "a", "inputs": {"runCommand": ["echo {{ role }}", "echo {{role}}"], "timeoutSeconds": "60"}}]});
        assert_eq!(
            render_script(&custom, &json!({})),
            ("echo web\necho web\n".to_string(), String::new(), 60)
        );
    }

    #[test]
    fn timestamps_and_truncation() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_790_000_000.5), "2026-09-21T14:13:20.000Z");
        assert_eq!(
            truncate(&"é".repeat(30_000), STDOUT_LIMIT).chars().count(),
            24_000
        );
    }
}
