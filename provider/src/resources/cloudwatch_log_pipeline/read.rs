//! Read: the pipeline as AWS holds it.
use std::collections::BTreeMap;

use tfplugin::{Attr, Diagnostics, Known};

use super::model::{some, Model};
use super::render::*;
use super::*;
use crate::aws::state_manager as st;
use crate::aws::{cloudwatch, logs, session_manager as sm, ssm, AwsError, OrGone};
use crate::config::Configured;
use crate::resources::common::aws_error;

/// What exists, as state (`prior` supplies what AWS does not keep); `Ok(None)`: gone.
pub(super) async fn read_state(
    cfg: &Configured,
    prior: &Model,
) -> Result<Option<Model>, Diagnostics> {
    let name = text(&prior.name);
    let (c_ssm, c_logs, c_cw) = (ssm::client(cfg), logs::client(cfg), cloudwatch::client(cfg));
    let fail = |what: &str, e: AwsError| aws_error(&format!("Error reading {what}"), &e);
    let Some(config) = st::get_parameter(&c_ssm, &parameter_name(&name))
        .await
        .or_gone()
        .map_err(|e| fail("the agent configuration", e))?
    else {
        return Ok(None);
    };
    let Some(association) = st::find_association(&c_ssm, &association_name(&name))
        .await
        .or_gone()
        .map_err(|e| fail("the association", e))?
    else {
        return Ok(None);
    };
    let mut m = prior.clone();
    // Files: what the configuration says, unless it is exactly what the prior files render to.
    let prior_files = match (&prior.log_group_prefix, &prior.files) {
        (Known::Known(Some(p)), Known::Known(Some(f))) if agent_config(p, f) == config => {
            Some((p.clone(), f.clone()))
        }
        _ => None,
    };
    match prior_files.or_else(|| files_from_config(&config)) {
        Some((p, f)) => {
            m.log_group_prefix = some(p);
            m.files = some(f);
        }
        None => m.files = some(Vec::new()),
    }
    m.instance_group = association
        .targets
        .iter()
        .find(|(k, _)| k == &format!("tag:{}", ssm::GROUP_TAG))
        .and_then(|(_, v)| v.first().cloned())
        .map(some)
        .unwrap_or_else(Attr::null);
    m.association_id = some(association.id.clone());
    if m.session_log_group.value().is_none() {
        let prefix = text(&m.log_group_prefix);
        let found = logs::find_log_group(&c_logs, &format!("{prefix}/{SESSIONS}"))
            .await
            .or_gone()
            .map_err(|e| fail("the sessions log group", e))?;
        m.session_log_group = some(found.is_some());
    }
    let (partition, account) = sm::partition_account(&c_ssm)
        .await
        .map_err(|e| fail("the account", e))?;
    derive(&mut m, Some(&(partition, account)), &cfg.region());
    // Groups that exist, their retention, class and tags (from the first).
    let expected = m.log_group_names.value().cloned().unwrap_or_default();
    let mut names = BTreeMap::new();
    let mut first: Option<logs::Group> = None;
    for (k, g) in &expected {
        if let Some(found) = logs::find_log_group(&c_logs, g)
            .await
            .or_gone()
            .map_err(|e| fail("a log group", e))?
        {
            names.insert(k.clone(), g.clone());
            first.get_or_insert(found);
        }
    }
    m.log_group_names = some(names);
    m.agent_config_json = some(config);
    if let Some(g) = &first {
        m.retention_in_days = some(g.retention_in_days.map(i64::from).unwrap_or(0));
        m.log_group_class = some(g.class.clone());
        m.kms_key_arn = g.kms_key_id.clone().map(some).unwrap_or_else(Attr::null);
        let mut t = logs::group_tags(&c_logs, &g.arn)
            .await
            .map_err(|e| fail("log group tags", e))?;
        t.remove(PIPELINE_TAG);
        m.tags = crate::resources::common::own_tags(&t, prior.tags.value(), &cfg.default_tags);
        m.tags_all = some(t);
    }
    // Metric filters and alarms: keep the configured entry when AWS holds exactly it.
    let prefix = object_prefix(&name);
    let prior_filters = prior.metric_filters.value().cloned().unwrap_or_default();
    let mut filters = BTreeMap::new();
    for (k, g) in &expected {
        for f in logs::metric_filters(&c_logs, g, &prefix)
            .await
            .or_else(|e| {
                if e.code() == Some("ResourceNotFoundException") {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| fail("metric filters", e))?
        {
            let key = f.name.trim_start_matches(&prefix).to_string();
            let entry = match prior_filters.get(&key) {
                Some(p) if metric_filter(&name, &key, p) == f && &p.file_key == k => p.clone(),
                _ => metric_filter_model(&name, k, &f),
            };
            filters.insert(key, entry);
        }
    }
    m.metric_filters = if filters.is_empty() && prior.metric_filters.value().is_none() {
        Attr::null()
    } else {
        some(filters.clone())
    };
    let prior_alarms = prior.alarms.value().cloned().unwrap_or_default();
    let mut alarms = BTreeMap::new();
    for (a, _) in cloudwatch::alarms(&c_cw, &prefix)
        .await
        .map_err(|e| fail("alarms", e))?
    {
        let key = a.name.trim_start_matches(&prefix).to_string();
        let entry = match prior_alarms.get(&key) {
            Some(p) if render::alarm(&name, &key, p, &filters).as_ref() == Some(&a) => p.clone(),
            // Imported, or changed behind Terraform's back.
            _ => alarm_model(&name, &a, &filters),
        };
        alarms.insert(key, entry);
    }
    m.alarms = if alarms.is_empty() && prior.alarms.value().is_none() {
        Attr::null()
    } else {
        some(alarms)
    };
    Ok(Some(m))
}
