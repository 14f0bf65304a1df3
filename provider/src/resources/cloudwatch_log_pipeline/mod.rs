//! `hastack_cloudwatch_log_pipeline`: an instance group's log files in CloudWatch Logs. The
//! agent configuration is an `AmazonCloudWatch-*` parameter; a State Manager association on
//! the group tag applies it to every member, also to members that register later.
mod apply;
mod model;
mod read;
mod render;
mod validate;

use apply::converge;
use read::read_state;
use validate::validate;

use std::collections::BTreeMap;

use async_trait::async_trait;
use tfplugin::timeouts::{Operation, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, AttributePath, Diagnostics, Known, Schema};
use tokio::time::Instant;

use crate::aws::state_manager::{self as st, MANAGE_AGENT};
use crate::aws::{cloudwatch, logs, session_manager as sm, ssm, AwsError, OrGone};
use crate::config::Configured;
use crate::resources::common::{aws_error, merged_tags};
pub use model::Model;
use model::{defaults, schema, some};
use render::*;

pub struct CloudwatchLogPipeline;

const TYPE: &str = "hastack_cloudwatch_log_pipeline";
/// The tag that marks a log group as a pipeline's (adopted by a later create).
const PIPELINE_TAG: &str = "hastack:pipeline";

fn text(a: &Attr<String>) -> String {
    a.value().cloned().unwrap_or_default()
}

fn valid_key(k: &str) -> bool {
    (1..=64).contains(&k.len())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The association's parameters: configure the agent from our parameter, restart it.
fn association_parameters(name: &str) -> BTreeMap<String, Vec<String>> {
    [
        ("action", "configure"),
        ("mode", "onPremise"),
        ("optionalConfigurationSource", "ssm"),
        ("optionalConfigurationLocation", &parameter_name(name)),
        ("optionalRestart", "yes"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
    .collect()
}

/// The partition and account the state's log group ARNs name.
fn account_in_state(m: &Model) -> Option<(String, String)> {
    let arn = m.log_group_arns.value()?.values().next()?;
    match arn.split(':').collect::<Vec<_>>()[..] {
        ["arn", partition, "logs", ..] if !partition.is_empty() => {
            Some((partition.to_string(), sm::account_of(arn)?.to_string()))
        }
        _ => None,
    }
}

/// Fill in the attributes that follow from the configuration (`account`: partition and
/// account, when known).
fn derive(p: &mut Model, account: Option<&(String, String)>, region: &str) {
    let name = text(&p.name);
    p.id = p.name.clone();
    p.parameter_name = some(parameter_name(&name));
    let (Known::Known(Some(prefix)), Known::Known(Some(files)), Known::Known(Some(sessions))) =
        (&p.log_group_prefix, &p.files, &p.session_log_group)
    else {
        for a in [
            &mut p.agent_config_json,
            &mut p.node_policy_json,
            &mut p.session_log_group_name,
        ] {
            *a = Known::Unknown;
        }
        p.log_group_names = Known::Unknown;
        p.log_group_arns = Known::Unknown;
        return;
    };
    let groups = group_names(prefix, files, *sessions);
    p.agent_config_json = some(agent_config(prefix, files));
    p.session_log_group_name = match groups.get(SESSIONS) {
        Some(g) => some(g.clone()),
        None => Attr::null(),
    };
    match account {
        Some((partition, account)) => {
            p.node_policy_json = some(node_policy(partition, region, account, &name, &groups));
            p.log_group_arns = some(
                groups
                    .iter()
                    .map(|(k, g)| (k.clone(), group_arn(partition, region, account, g)))
                    .collect(),
            );
        }
        None => {
            p.node_policy_json = Known::Unknown;
            p.log_group_arns = Known::Unknown;
        }
    }
    p.log_group_names = some(groups);
}

/// Metric filters as AWS should hold them, by log group.
fn wanted_filters(m: &Model) -> Vec<(String, logs::MetricFilter)> {
    let name = text(&m.name);
    let groups = m.log_group_names.value().cloned().unwrap_or_default();
    m.metric_filters
        .value()
        .into_iter()
        .flatten()
        .filter_map(|(k, f)| Some((groups.get(&f.file_key)?.clone(), metric_filter(&name, k, f))))
        .collect()
}

fn wanted_alarms(m: &Model) -> Vec<cloudwatch::Alarm> {
    let name = text(&m.name);
    let filters = m.metric_filters.value().cloned().unwrap_or_default();
    m.alarms
        .value()
        .into_iter()
        .flatten()
        .filter_map(|(k, a)| alarm(&name, k, a, &filters))
        .collect()
}

#[async_trait]
impl TypedResource for CloudwatchLogPipeline {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: Validate<'_, Model>) -> Diagnostics {
        validate(&req.config)
    }

    async fn modify_plan(&self, req: Plan<'_, Configured, Model>) -> Planned<Model> {
        let mut p = req.planned;
        let c = &req.config;
        if c.log_group_prefix.is_null() {
            p.log_group_prefix = match &p.name {
                Known::Known(Some(n)) => some(default_prefix(n)),
                _ => Known::Unknown,
            };
        }
        if c.retention_in_days.is_null() {
            p.retention_in_days = some(30);
        }
        if c.log_group_class.is_null() {
            p.log_group_class = some("STANDARD".into());
        }
        if c.session_log_group.is_null() {
            p.session_log_group = some(false);
        }
        if c.retain_on_destroy.is_null() {
            p.retain_on_destroy = some(true);
        }
        p.tags_all = match (&p.tags, req.client) {
            (Known::Known(t), Some(cfg)) => some(merged_tags(&cfg.default_tags, t.as_ref())),
            _ => Known::Unknown,
        };
        let account = match req.client {
            Some(cfg) => match sm::partition_account(&ssm::client(cfg)).await {
                Ok(a) => Some(a),
                // An account does not change under a resource: after a failed call, the one its
                // log group ARNs already name, so that a transient error does not turn the
                // policy and the ARNs into "known after apply" (a diff where nothing changed).
                Err(e) => {
                    tracing::warn!(error = %e, "partition and account not read at plan");
                    req.prior.as_ref().and_then(account_in_state)
                }
            },
            None => None,
        };
        let region = req.client.map(|c| c.region()).unwrap_or_default();
        derive(&mut p, account.as_ref(), &region);
        p.association_id = req
            .prior
            .as_ref()
            .map(|x| x.association_id.clone())
            .unwrap_or(Known::Unknown);
        let mut d = Diagnostics::new();
        if let Some(cfg) = p
            .agent_config_json
            .value()
            .filter(|c| c.len() > PARAMETER_LIMIT)
        {
            d.attribute_error(AttributePath::root("files"), "Agent configuration too large", format!("The agent configuration is {} bytes; a Standard SSM parameter holds at most {PARAMETER_LIMIT}. Ship fewer files or shorten patterns.", cfg.len()));
        }
        Planned {
            planned: p,
            requires_replace: Vec::new(),
            private: req.private,
            diagnostics: d,
        }
    }

    async fn create(&self, req: Create<'_, Configured, Model>) -> Applied<Model> {
        let until =
            Instant::now() + Timeouts::of(&req.planned.timeouts, Operation::Create, &defaults());
        converge(req.client, req.ctx, &req.planned, None, until).await
    }

    async fn read(&self, req: Read<'_, Configured, Model>) -> ReadOutcome<Model> {
        match read_state(req.client, &req.state).await {
            Ok(Some(m)) => ReadOutcome::found(m, req.private),
            Ok(None) => ReadOutcome::gone(),
            Err(d) => ReadOutcome::failed(req.state, req.private, d),
        }
    }

    async fn update(&self, req: Update<'_, Configured, Model>) -> Applied<Model> {
        let until =
            Instant::now() + Timeouts::of(&req.planned.timeouts, Operation::Update, &defaults());
        converge(req.client, req.ctx, &req.planned, Some(&req.prior), until).await
    }

    /// Stops the agents and removes parameter, association, metric filters and alarms; the
    /// log groups stay unless `retain_on_destroy` is false.
    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let m = &req.state;
        let name = text(&m.name);
        let (c_ssm, c_logs, c_cw) = (
            ssm::client(req.client),
            logs::client(req.client),
            cloudwatch::client(req.client),
        );
        let mut d = Diagnostics::new();
        let group = text(&m.instance_group);
        let stop: BTreeMap<String, Vec<String>> = [("action", "stop"), ("mode", "onPremise")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect();
        if let Err(e) =
            st::send_to_tagged(&c_ssm, MANAGE_AGENT, (ssm::GROUP_TAG, &group), &stop).await
        {
            if e.code() != Some("InvalidInstanceId") {
                d.warning("CloudWatch agents not stopped", format!("Stopping the agents of group {group} failed: {e}. They keep shipping with their last configuration until the members go."));
            }
        }
        let steps: Vec<Result<(), AwsError>> = vec![
            match st::find_association(&c_ssm, &association_name(&name))
                .await
                .or_gone()
            {
                Ok(Some(a)) => st::delete_association(&c_ssm, &a.id).await,
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            },
            st::delete_parameter(&c_ssm, &parameter_name(&name)).await,
        ];
        for e in steps.into_iter().filter_map(Result::err) {
            d.extend(aws_error("Error deleting the pipeline", &e));
        }
        let prefix = object_prefix(&name);
        let groups = m.log_group_names.value().cloned().unwrap_or_default();
        for g in groups.values() {
            if let Ok(fs) = logs::metric_filters(&c_logs, g, &prefix).await {
                for f in fs {
                    if let Err(e) = logs::delete_metric_filter(&c_logs, g, &f.name).await {
                        d.extend(aws_error("Error deleting metric filter", &e));
                    }
                }
            }
        }
        match cloudwatch::alarms(&c_cw, &prefix).await {
            Ok(a) if !a.is_empty() => {
                if let Err(e) =
                    cloudwatch::delete_alarms(&c_cw, a.into_iter().map(|(a, _)| a.name).collect())
                        .await
                {
                    d.extend(aws_error("Error deleting alarms", &e));
                }
            }
            Ok(_) => {}
            Err(e) => d.extend(aws_error("Error reading alarms", &e)),
        }
        if m.retain_on_destroy.value() == Some(&false) {
            for g in groups.values() {
                if let Err(e) = logs::delete_log_group(&c_logs, g).await {
                    d.extend(aws_error("Error deleting log group", &e));
                }
            }
        } else if !groups.is_empty() {
            d.warning("Log groups kept", format!("retain_on_destroy keeps {} (tagged {PIPELINE_TAG} = {name}); a pipeline named {name} adopts them.", groups.values().cloned().collect::<Vec<_>>().join(", ")));
        }
        d
    }

    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        let mut d = Diagnostics::new();
        if !valid_key(&req.id) {
            d.error(
                "Invalid import ID",
                format!("{:?} is not a pipeline name.", req.id),
            );
            return Imported {
                state: None,
                identity: None,
                diagnostics: d,
            };
        }
        let m = Model {
            id: some(req.id.clone()),
            name: some(req.id),
            retain_on_destroy: some(true),
            ..Model::default()
        };
        Imported {
            state: Some(m),
            identity: None,
            diagnostics: d,
        }
    }
}

/// Registered with the provider.
pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(CloudwatchLogPipeline, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Alarm, File, MetricFilter};

    #[test]
    fn the_account_comes_back_from_the_state_arns() {
        let with = |arns: &[(&str, &str)]| Model {
            log_group_arns: some(
                arns.iter()
                    .map(|(k, a)| (k.to_string(), a.to_string()))
                    .collect(),
            ),
            ..Default::default()
        };
        let m = with(&[(
            "nginx",
            &group_arn("aws-cn", "cn-north-1", "123456789012", "/hastack/web/nginx"),
        )]);
        assert_eq!(
            account_in_state(&m),
            Some(("aws-cn".to_string(), "123456789012".to_string()))
        );
        assert_eq!(account_in_state(&with(&[])), None);
        assert_eq!(
            account_in_state(&with(&[("x", "arn:aws:logs:us-east-1::log-group:g")])),
            None
        );
        assert_eq!(account_in_state(&Model::default()), None);
    }

    #[test]
    fn plan_time_errors_name_their_attribute() {
        let file = |k: &str, p: &str| File {
            key: k.into(),
            path: p.into(),
            ..Default::default()
        };
        let base = || Model {
            name: some("web".into()),
            files: some(vec![file("nginx", "/var/log/nginx/access.log")]),
            ..Default::default()
        };
        let cases: Vec<(&str, Model)> = vec![
            (
                "retention_in_days",
                Model {
                    retention_in_days: some(31),
                    ..base()
                },
            ),
            (
                "name",
                Model {
                    name: some("has space".into()),
                    ..base()
                },
            ),
            (
                "files[0].path",
                Model {
                    files: some(vec![file("a", "relative.log")]),
                    ..base()
                },
            ),
            (
                "files[1].key",
                Model {
                    files: some(vec![file("a", "/a"), file("a", "/b")]),
                    ..base()
                },
            ),
            (
                "log_group_prefix",
                Model {
                    log_group_prefix: some("/x/".into()),
                    ..base()
                },
            ),
            (
                "instance_group",
                Model {
                    instance_group: some("web servers".into()),
                    ..base()
                },
            ),
            (
                "kms_key_arn",
                Model {
                    kms_key_arn: some("alias/logs".into()),
                    ..base()
                },
            ),
            (
                "files[0].filters[0].expression",
                Model {
                    files: some(vec![File {
                        filters: Some(vec![model::LineFilter {
                            kind: "include".into(),
                            expression: "(unclosed".into(),
                        }]),
                        ..file("a", "/a")
                    }]),
                    ..base()
                },
            ),
            (
                "metric_filters[\"e\"].unit",
                Model {
                    metric_filters: some(
                        [(
                            "e".to_string(),
                            MetricFilter {
                                file_key: "nginx".into(),
                                pattern: "x".into(),
                                metric_name: "m".into(),
                                unit: Some("Parsecs".into()),
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    ..base()
                },
            ),
            (
                "alarms[\"a\"].alarm_actions",
                Model {
                    metric_filters: some(
                        [(
                            "e".to_string(),
                            MetricFilter {
                                file_key: "nginx".into(),
                                pattern: "x".into(),
                                metric_name: "m".into(),
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    alarms: some(
                        [(
                            "a".to_string(),
                            Alarm {
                                metric_filter: "e".into(),
                                threshold: 1.0,
                                alarm_actions: Some(vec!["my-topic".into()]),
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    ..base()
                },
            ),
            (
                "metric_filters[\"e\"].file_key",
                Model {
                    metric_filters: some(
                        [(
                            "e".to_string(),
                            MetricFilter {
                                file_key: "nope".into(),
                                pattern: "x".into(),
                                metric_name: "m".into(),
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    ..base()
                },
            ),
            (
                "alarms[\"a\"].metric_filter",
                Model {
                    metric_filters: some(BTreeMap::new()),
                    alarms: some(
                        [(
                            "a".to_string(),
                            Alarm {
                                metric_filter: "nope".into(),
                                threshold: 1.0,
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    ..base()
                },
            ),
            (
                "alarms[\"a\"].period",
                Model {
                    metric_filters: some(
                        [(
                            "e".to_string(),
                            MetricFilter {
                                file_key: "nginx".into(),
                                pattern: "x".into(),
                                metric_name: "m".into(),
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    alarms: some(
                        [(
                            "a".to_string(),
                            Alarm {
                                metric_filter: "e".into(),
                                threshold: 1.0,
                                period: Some(45.into()),
                                ..Default::default()
                            },
                        )]
                        .into(),
                    ),
                    ..base()
                },
            ),
        ];
        for (want, m) in cases {
            let got: Vec<String> = validate(&m)
                .iter()
                .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
                .collect();
            assert_eq!(got, [want], "case {want}");
        }
        assert!(validate(&base()).is_empty());
        let fine = Model {
            instance_group: some("web".into()),
            kms_key_arn: some(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            files: some(vec![File {
                multi_line_start_pattern: Some("{timestamp_format}".into()),
                filters: Some(vec![model::LineFilter {
                    kind: "exclude".into(),
                    expression: r"^\s*(GET|HEAD) /health".into(),
                }]),
                ..file("nginx", "/var/log/nginx/access.log")
            }]),
            ..base()
        };
        assert!(validate(&fine).is_empty(), "{:?}", validate(&fine));
    }

    #[test]
    fn association_configures_from_our_parameter() {
        let p = association_parameters("web");
        assert_eq!(
            p["optionalConfigurationLocation"],
            ["AmazonCloudWatch-hastack-web"]
        );
        assert_eq!(p["mode"], ["onPremise"]);
        assert_eq!(p["action"], ["configure"]);
    }
}
