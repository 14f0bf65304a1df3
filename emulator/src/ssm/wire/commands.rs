//! Run Command on the wire.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{page, parse, with_next, Answer};
use crate::ssm::commands::{
    command_status, invocation_status, truncate, Command, Invocation, Outcome, SendCommand,
    PLUGIN_OUTPUT_LIMIT, STDERR_LIMIT, STDOUT_LIMIT,
};
use crate::ssm::error::{fail, SsmCode};
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct CommandInput {
    document_name: String,
    document_version: Option<String>,
    parameters: BTreeMap<String, Vec<String>>,
    instance_ids: Vec<String>,
    targets: Vec<Target>,
    timeout_seconds: Option<i64>,
    comment: String,
    command_id: Option<String>,
    instance_id: Option<String>,
    plugin_name: Option<String>,
    details: bool,
    next_token: Option<String>,
    max_results: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Target {
    key: String,
    values: Vec<String>,
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

pub fn send_command(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CommandInput = parse(input)?;
    let c = b.send_command(
        ctx,
        SendCommand {
            document_name: i.document_name,
            document_version: i.document_version,
            parameters: i.parameters,
            instance_ids: i.instance_ids,
            targets: i.targets.into_iter().map(|t| (t.key, t.values)).collect(),
            timeout_seconds: i.timeout_seconds,
            comment: i.comment,
        },
    )?;
    Ok(json!({"Command": command_json(&c, ctx)}))
}

pub fn list_commands(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CommandInput = parse(input)?;
    let all: Vec<Json> = b
        .commands_matching(i.command_id.as_deref(), i.instance_id.as_deref())?
        .into_iter()
        .map(|c| command_json(c, ctx))
        .collect();
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 50)?;
    Ok(with_next(json!({"Commands": items}), next))
}

pub fn list_command_invocations(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CommandInput = parse(input)?;
    let (cid, iid) = (i.command_id.as_deref(), i.instance_id.as_deref());
    let mut all = Vec::new();
    for c in b
        .commands
        .iter()
        .rev()
        .filter(|c| c.association.is_none() && cid.is_none_or(|id| c.id == id))
    {
        for inv in c
            .invocations
            .iter()
            .filter(|x| iid.is_none_or(|id| x.instance_id == id))
        {
            let (status, status_details, _) = invocation_status(c, inv, ctx);
            let mut j = json!({
                "CommandId": c.id, "InstanceId": inv.instance_id, "InstanceName": inv.instance_name, "Comment": c.comment,
                "DocumentName": c.document_name, "DocumentVersion": c.document_version, "RequestedDateTime": c.requested,
                "Status": status, "StatusDetails": status_details, "StandardOutputUrl": "", "StandardErrorUrl": "",
            });
            if i.details {
                j["CommandPlugins"] = json!([plugin_json(c, inv, ctx)]);
            }
            all.push(j);
        }
    }
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 50)?;
    Ok(with_next(json!({"CommandInvocations": items}), next))
}

pub fn get_command_invocation(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CommandInput = parse(input)?;
    let (c, inv) = b.invocation(
        i.command_id.as_deref().unwrap_or(""),
        i.instance_id.as_deref().unwrap_or(""),
    )?;
    if let Some(p) = i.plugin_name.as_deref() {
        if p != "aws:runShellScript" && p != "runShellScript" {
            return Err(fail(
                SsmCode::InvalidPluginName,
                format!("Plugin {p} is not part of the document"),
            )
            .into());
        }
    }
    let (status, details, code) = invocation_status(c, inv, ctx);
    let finished = ["Success", "Failed"].contains(&status);
    let (stdout, stderr) = if finished {
        outputs(inv)
    } else {
        (String::new(), String::new())
    };
    let mut j = json!({
        "CommandId": c.id, "InstanceId": inv.instance_id, "Comment": c.comment, "DocumentName": c.document_name,
        "DocumentVersion": c.document_version, "PluginName": "aws:runShellScript", "ResponseCode": code,
        "ExecutionElapsedTime": "PT0S", "Status": status, "StatusDetails": details,
        "StandardOutputContent": truncate(&stdout, STDOUT_LIMIT), "StandardOutputUrl": "",
        "StandardErrorContent": truncate(&stderr, STDERR_LIMIT), "StandardErrorUrl": "",
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": false},
    });
    if let Outcome::Running { started } = &inv.outcome {
        j["ExecutionStartDateTime"] = json!(rfc3339(*started));
    }
    if let Outcome::Ran { started, ended, .. } = &inv.outcome {
        j["ExecutionStartDateTime"] = json!(rfc3339(*started));
        if finished {
            j["ExecutionEndDateTime"] = json!(rfc3339(*ended));
        }
    }
    Ok(j)
}

pub fn cancel_command(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CommandInput = parse(input)?;
    b.cancel_command(ctx, i.command_id.as_deref().unwrap_or(""), &i.instance_ids)?;
    Ok(json!({}))
}

/// ISO-8601 timestamps, which GetCommandInvocation uses for its execution times.
fn rfc3339(t: f64) -> String {
    let (y, m, d, rem) = crate::clock::civil(t.floor() as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_790_000_000.5), "2026-09-21T14:13:20.000Z");
    }
}
