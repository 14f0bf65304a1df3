//! Create and update: make AWS match the plan (log groups, metric filters, alarms, the
//! agent configuration parameter, the association), wait for the members, read back.
use std::collections::BTreeMap;

use tfplugin::typed::*;
use tfplugin::Diagnostics;
use tokio::time::Instant;

use super::model::{some, Model};
use super::render::*;
use super::*;
use crate::aws::state_manager::{self as st, MANAGE_AGENT};
use crate::aws::{cloudwatch, logs, ssm, AwsError, OrGone};
use crate::aws::{wait_until, Backoff, Poll};
use crate::config::Configured;
use crate::resources::common::{aws_error, error, merged_tags};

/// Make AWS match `planned`; then read it back.
pub(super) async fn converge(
    cfg: &Configured,
    ctx: &tfplugin::resource::Context,
    planned: &Model,
    prior: Option<&Model>,
    until: Instant,
) -> Applied<Model> {
    let name = text(&planned.name);
    let (c_ssm, c_logs, c_cw) = (ssm::client(cfg), logs::client(cfg), cloudwatch::client(cfg));
    let keep = |d: Diagnostics| Applied::failed(prior.cloned(), d);
    let made = |d: Diagnostics| {
        Applied::failed(
            Some(Model {
                id: some(name.clone()),
                ..planned.clone()
            }),
            d,
        )
    };
    let groups = planned.log_group_names.value().cloned().unwrap_or_default();
    let mut tags = merged_tags(&cfg.default_tags, planned.tags.value());
    tags.insert(PIPELINE_TAG.into(), name.clone());
    let retention = planned
        .retention_in_days
        .value()
        .copied()
        .filter(|d| *d > 0)
        .map(|d| d as i32);
    let class = text(&planned.log_group_class);
    let prior_groups = prior
        .and_then(|p| p.log_group_names.value().cloned())
        .unwrap_or_default();
    // Log groups: create, or adopt ours; retention and tags by Terraform only.
    for g in groups.values() {
        let existing = match logs::find_log_group(&c_logs, g).await.or_gone() {
            Ok(x) => x,
            Err(e) => return keep(aws_error("Error reading log group", &e)),
        };
        let group = match existing {
            Some(found) => {
                let have = match logs::group_tags(&c_logs, &found.arn).await {
                    Ok(t) => t,
                    Err(e) => return keep(aws_error("Error reading log group tags", &e)),
                };
                if have.get(PIPELINE_TAG) != Some(&name) && !prior_groups.values().any(|x| x == g) {
                    return keep(error("Log group already exists", format!("Log group {g} exists and is not a log group of pipeline {name} (no tag {PIPELINE_TAG} = {name}): ResourceAlreadyExistsException. Delete it, tag it {PIPELINE_TAG} = {name} to adopt it, or use another log_group_prefix.")));
                }
                let stale: Vec<String> = have
                    .keys()
                    .filter(|k| !tags.contains_key(*k))
                    .cloned()
                    .collect();
                let changed: BTreeMap<String, String> = tags
                    .iter()
                    .filter(|(k, v)| have.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Err(e) = logs::untag_group(&c_logs, &found.arn, stale).await {
                    return made(aws_error("Error untagging log group", &e));
                }
                if let Err(e) = logs::tag_group(&c_logs, &found.arn, &changed).await {
                    return made(aws_error("Error tagging log group", &e));
                }
                found
            }
            None => {
                let kms = planned.kms_key_arn.value().map(String::as_str);
                if let Err(e) = logs::create_log_group(&c_logs, g, kms, &class, &tags).await {
                    return made(aws_error("Error creating log group", &e));
                }
                logs::Group {
                    name: g.clone(),
                    arn: String::new(),
                    retention_in_days: None,
                    kms_key_id: None,
                    class: class.clone(),
                }
            }
        };
        if group.retention_in_days != retention {
            if let Err(e) = logs::set_retention(&c_logs, g, retention).await {
                return made(aws_error("Error setting log group retention", &e));
            }
        }
    }
    // A file no longer shipped: its group goes only when groups are not retained.
    if planned.retain_on_destroy.value() == Some(&false) {
        for g in prior_groups
            .values()
            .filter(|g| !groups.values().any(|x| x == *g))
        {
            if let Err(e) = logs::delete_log_group(&c_logs, g).await {
                return made(aws_error(
                    "Error deleting a log group no longer configured",
                    &e,
                ));
            }
        }
    }
    // Metric filters, then the alarms on their metrics; what is no longer configured goes.
    let prefix = object_prefix(&name);
    let wanted = wanted_filters(planned);
    for (g, f) in &wanted {
        if let Err(e) = logs::put_metric_filter(&c_logs, g, f).await {
            return made(aws_error("Error writing metric filter", &e));
        }
    }
    for g in groups.values().chain(prior_groups.values()) {
        let have = match logs::metric_filters(&c_logs, g, &prefix).await {
            Ok(h) => h,
            Err(AwsError::Api { code, .. }) if code == "ResourceNotFoundException" => continue,
            Err(e) => return made(aws_error("Error reading metric filters", &e)),
        };
        for f in have
            .into_iter()
            .filter(|f| !wanted.iter().any(|(wg, w)| wg == g && w.name == f.name))
        {
            if let Err(e) = logs::delete_metric_filter(&c_logs, g, &f.name).await {
                return made(aws_error("Error deleting metric filter", &e));
            }
        }
    }
    let alarms = wanted_alarms(planned);
    for a in &alarms {
        if let Err(e) = cloudwatch::put_alarm(&c_cw, a).await {
            return made(aws_error("Error writing alarm", &e));
        }
    }
    match cloudwatch::alarms(&c_cw, &prefix).await {
        Ok(have) => {
            let gone: Vec<String> = have
                .into_iter()
                .map(|(a, _)| a.name)
                .filter(|n| !alarms.iter().any(|a| &a.name == n))
                .collect();
            if !gone.is_empty() {
                if let Err(e) = cloudwatch::delete_alarms(&c_cw, gone).await {
                    return made(aws_error("Error deleting alarms", &e));
                }
            }
        }
        Err(e) => return made(aws_error("Error reading alarms", &e)),
    }
    // The agent configuration, and the association that applies it on every member.
    let param = parameter_name(&name);
    let config = text(&planned.agent_config_json);
    let current = st::get_parameter(&c_ssm, &param).await.or_gone();
    let param_changed = match current {
        Ok(v) => v.as_deref() != Some(config.as_str()),
        Err(e) => {
            return made(aws_error(
                "Error reading the agent configuration parameter",
                &e,
            ))
        }
    };
    if param_changed {
        if let Err(e) = st::put_parameter(
            &c_ssm,
            &param,
            &config,
            &format!("CloudWatch agent configuration of hastack pipeline {name}"),
        )
        .await
        {
            return made(aws_error(
                "Error writing the agent configuration parameter",
                &e,
            ));
        }
    }
    let group = text(&planned.instance_group);
    let wanted_params = association_parameters(&name);
    let wanted_targets = vec![(format!("tag:{}", ssm::GROUP_TAG), vec![group.clone()])];
    let existing = match st::find_association(&c_ssm, &association_name(&name))
        .await
        .or_gone()
    {
        Ok(a) => a,
        Err(e) => return made(aws_error("Error reading the association", &e)),
    };
    let unchanged = existing
        .as_ref()
        .is_some_and(|a| a.parameters == wanted_params && a.targets == wanted_targets);
    if param_changed || !unchanged {
        if let Err(e) = st::put_association(
            &c_ssm,
            &association_name(&name),
            (ssm::GROUP_TAG, &group),
            &wanted_params,
        )
        .await
        {
            return made(aws_error("Error writing the State Manager association", &e));
        }
    }
    let association = match st::find_association(&c_ssm, &association_name(&name)).await {
        Ok(a) => a,
        Err(e) => return made(aws_error("Error reading the State Manager association", &e)),
    };
    if let Err(e) = wait_members(&c_ssm, ctx, &group, &association, until).await {
        return made(aws_error(
            "Error waiting for the members' CloudWatch agents",
            &e,
        ));
    }
    match read_state(cfg, planned).await {
        Ok(Some(m)) => Applied::ok(m),
        Ok(None) => made(error(
            "Pipeline vanished",
            format!("Pipeline {name} disappeared during apply."),
        )),
        Err(d) => made(d),
    }
}

/// Until every Online member of `group` reports the association's current version applied:
/// `Success`, or the first failure with its detail.
async fn wait_members(
    c: &aws_sdk_ssm::Client,
    ctx: &tfplugin::resource::Context,
    group: &str,
    a: &st::Association,
    until: Instant,
) -> Result<(), AwsError> {
    let nodes: Vec<String> = ssm::nodes(c, group)
        .await?
        .into_values()
        .filter(|n| n.online)
        .map(|n| n.id)
        .collect();
    wait_until(until, &ctx.cancel, Backoff::states(), || async {
        let mut waiting = Vec::new();
        for n in &nodes {
            match st::node_status(c, n, &a.id).await? {
                Some((v, s, _)) if v == a.version && s == "Success" => {}
                Some((v, s, detail)) if v == a.version && s == "Failed" => {
                    return Err(AwsError::Wait(format!(
                        "{MANAGE_AGENT} failed on {n}: {detail}"
                    )));
                }
                other => waiting.push(format!(
                    "{n} ({})",
                    other
                        .map(|o| o.1)
                        .unwrap_or_else(|| "not applied yet".into())
                )),
            }
        }
        Ok(if waiting.is_empty() {
            Poll::Done(())
        } else {
            Poll::Pending(format!("the association on {}", waiting.join(", ")))
        })
    })
    .await
}
