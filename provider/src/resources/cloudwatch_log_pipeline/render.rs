//! What the pipeline derives from its configuration, without AWS: names, the agent
//! configuration, the node policy, and the metric filters and alarms as AWS will hold them.
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::model::{Alarm, File, MetricFilter};
use crate::aws::{cloudwatch, logs};
use crate::resources::ssm_session_policy::sorted;

/// CloudWatch Logs' allowed retention values (days).
pub const RETENTION: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A Standard parameter holds at most 4 KB.
pub const PARAMETER_LIMIT: usize = 4096;

pub const SESSIONS: &str = "sessions";

pub fn parameter_name(name: &str) -> String {
    format!("AmazonCloudWatch-hastack-{name}")
}

pub fn association_name(name: &str) -> String {
    format!("hastack-{name}-cloudwatch-agent")
}

/// Metric filter and alarm names start with this.
pub fn object_prefix(name: &str) -> String {
    format!("hastack-{name}-")
}

pub fn default_prefix(name: &str) -> String {
    format!("/hastack/{name}")
}

/// Log group per key: one per file, plus `sessions` when asked.
pub fn group_names(prefix: &str, files: &[File], sessions: bool) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = files
        .iter()
        .map(|f| (f.key.clone(), format!("{prefix}/{}", f.key)))
        .collect();
    if sessions {
        out.insert(SESSIONS.into(), format!("{prefix}/{SESSIONS}"));
    }
    out
}

pub fn group_arn(partition: &str, region: &str, account: &str, group: &str) -> String {
    format!("arn:{partition}:logs:{region}:{account}:log-group:{group}")
}

/// The agent configuration: one collect_list entry per file, no retention (only Terraform sets
/// it), sorted keys. Compact: it must fit a Standard parameter.
pub fn agent_config(prefix: &str, files: &[File]) -> String {
    let entries: Vec<Json> = files
        .iter()
        .map(|f| {
            let mut e = json!({
                "file_path": f.path,
                "log_group_name": format!("{prefix}/{}", f.key),
                "log_stream_name": f.stream_name.clone().unwrap_or_else(|| "{hostname}".into()),
            });
            for (k, v) in [
                ("timestamp_format", &f.timestamp_format),
                ("timezone", &f.timezone),
                ("multi_line_start_pattern", &f.multi_line_start_pattern),
                ("encoding", &f.encoding),
            ] {
                if let Some(v) = v {
                    e[k] = json!(v);
                }
            }
            if let Some(fs) = f.filters.as_ref().filter(|f| !f.is_empty()) {
                e["filters"] = json!(fs
                    .iter()
                    .map(|x| json!({"type": x.kind, "expression": x.expression}))
                    .collect::<Vec<_>>());
            }
            e
        })
        .collect();
    let v = json!({
        "agent": {"run_as_user": "root"},
        "logs": {
            "force_flush_interval": 5,
            "logs_collected": {"files": {"collect_list": entries}}
        }
    });
    serde_json::to_string(&sorted(v)).unwrap_or_default()
}

/// The files an agent configuration ships, back as `files` entries (for import): the key is
/// the group's last path segment; values equal to the defaults read as unset.
pub fn files_from_config(config: &str) -> Option<(String, Vec<File>)> {
    let v: Json = serde_json::from_str(config).ok()?;
    let list = v
        .pointer("/logs/logs_collected/files/collect_list")?
        .as_array()?;
    let mut prefix = None;
    let mut files = Vec::new();
    for e in list {
        let group = e.get("log_group_name")?.as_str()?;
        let (p, key) = group.rsplit_once('/')?;
        prefix.get_or_insert_with(|| p.to_string());
        let s = |k: &str| e.get(k).and_then(Json::as_str).map(str::to_string);
        files.push(File {
            key: key.to_string(),
            path: s("file_path")?,
            stream_name: s("log_stream_name").filter(|n| n != "{hostname}"),
            timestamp_format: s("timestamp_format"),
            timezone: s("timezone"),
            multi_line_start_pattern: s("multi_line_start_pattern"),
            encoding: s("encoding"),
            filters: e.get("filters").and_then(Json::as_array).map(|fs| {
                fs.iter()
                    .map(|x| super::model::LineFilter {
                        kind: x.get("type").and_then(Json::as_str).unwrap_or("").into(),
                        expression: x
                            .get("expression")
                            .and_then(Json::as_str)
                            .unwrap_or("")
                            .into(),
                    })
                    .collect()
            }),
        });
    }
    Some((prefix?, files))
}

/// The members' policy: read the parameter; streams and events in these groups only.
pub fn node_policy(
    partition: &str,
    region: &str,
    account: &str,
    name: &str,
    groups: &BTreeMap<String, String>,
) -> String {
    let streams: Vec<String> = groups
        .values()
        .map(|g| format!("{}:*", group_arn(partition, region, account, g)))
        .collect();
    let v = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadAgentConfiguration",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": format!("arn:{partition}:ssm:{region}:{account}:parameter/{}", parameter_name(name))
            },
            {
                "Sid": "ShipLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": streams
            },
            {
                "Sid": "FindLogGroups",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*"
            }
        ]
    });
    serde_json::to_string_pretty(&sorted(v)).unwrap_or_default()
}

fn num_f64(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(0.0)
}

fn num_i32(n: Option<&serde_json::Number>, d: i32) -> i32 {
    n.and_then(|n| n.as_i64()).map(|n| n as i32).unwrap_or(d)
}

/// A metric filter as AWS holds it, defaults applied.
pub fn metric_filter(name: &str, key: &str, f: &MetricFilter) -> logs::MetricFilter {
    logs::MetricFilter {
        name: format!("{}{key}", object_prefix(name)),
        pattern: f.pattern.clone(),
        metric_name: f.metric_name.clone(),
        namespace: f
            .namespace
            .clone()
            .unwrap_or_else(|| format!("hastack/{name}")),
        value: f.value.clone().unwrap_or_else(|| "1".into()),
        default_value: f.default_value.as_ref().map(num_f64),
        unit: f.unit.clone(),
        dimensions: f.dimensions.clone().unwrap_or_default(),
    }
}

/// The configuration entry for a filter AWS holds (defaults read as unset).
pub fn metric_filter_model(name: &str, file_key: &str, m: &logs::MetricFilter) -> MetricFilter {
    MetricFilter {
        file_key: file_key.to_string(),
        pattern: m.pattern.clone(),
        metric_name: m.metric_name.clone(),
        namespace: Some(m.namespace.clone()).filter(|n| *n != format!("hastack/{name}")),
        value: Some(m.value.clone()).filter(|v| v != "1"),
        default_value: m.default_value.and_then(serde_json::Number::from_f64),
        unit: m.unit.clone().filter(|u| u != "None"),
        dimensions: Some(m.dimensions.clone()).filter(|d| !d.is_empty()),
    }
}

/// An alarm as AWS holds it, defaults applied; `None` when its metric filter is not configured.
pub fn alarm(
    name: &str,
    key: &str,
    a: &Alarm,
    filters: &BTreeMap<String, MetricFilter>,
) -> Option<cloudwatch::Alarm> {
    let f = metric_filter(name, &a.metric_filter, filters.get(&a.metric_filter)?);
    Some(cloudwatch::Alarm {
        name: format!("{}{key}", object_prefix(name)),
        description: a.description.clone().unwrap_or_default(),
        namespace: f.namespace,
        metric_name: f.metric_name,
        statistic: a.statistic.clone().unwrap_or_else(|| "Sum".into()),
        period: num_i32(a.period.as_ref(), 60),
        evaluation_periods: num_i32(a.evaluation_periods.as_ref(), 1),
        datapoints_to_alarm: Some(num_i32(
            a.datapoints_to_alarm.as_ref(),
            num_i32(a.evaluation_periods.as_ref(), 1),
        )),
        threshold: a.threshold,
        comparison_operator: a
            .comparison_operator
            .clone()
            .unwrap_or_else(|| "GreaterThanOrEqualToThreshold".into()),
        treat_missing_data: a
            .treat_missing_data
            .clone()
            .unwrap_or_else(|| "notBreaching".into()),
        alarm_actions: a.alarm_actions.clone().unwrap_or_default(),
    })
}

/// The configuration entry for an alarm AWS holds (defaults read as unset).
pub fn alarm_model(
    name: &str,
    a: &cloudwatch::Alarm,
    filters: &BTreeMap<String, MetricFilter>,
) -> Alarm {
    let unless = |v: &str, d: &str| Some(v.to_string()).filter(|v| v != d);
    Alarm {
        metric_filter: filters
            .iter()
            .find(|(k, f)| metric_filter(name, k, f).metric_name == a.metric_name)
            .map(|(k, _)| k.clone())
            .unwrap_or_default(),
        threshold: a.threshold,
        comparison_operator: unless(&a.comparison_operator, "GreaterThanOrEqualToThreshold"),
        evaluation_periods: Some(a.evaluation_periods)
            .filter(|p| *p != 1)
            .map(Into::into),
        datapoints_to_alarm: a
            .datapoints_to_alarm
            .filter(|d| *d != a.evaluation_periods)
            .map(Into::into),
        period: Some(a.period).filter(|p| *p != 60).map(Into::into),
        statistic: unless(&a.statistic, "Sum"),
        treat_missing_data: unless(&a.treat_missing_data, "notBreaching"),
        alarm_actions: Some(a.alarm_actions.clone()).filter(|x| !x.is_empty()),
        description: Some(a.description.clone()).filter(|d| !d.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<File> {
        vec![
            File {
                key: "nginx".into(),
                path: "/var/log/nginx/access.log".into(),
                timestamp_format: Some("%d/%b/%Y:%H:%M:%S %z".into()),
                ..Default::default()
            },
            File {
                key: "app".into(),
                path: "/var/log/app/*.log".into(),
                stream_name: Some("{hostname}-app".into()),
                multi_line_start_pattern: Some("{timestamp_format}".into()),
                filters: Some(vec![super::super::model::LineFilter {
                    kind: "exclude".into(),
                    expression: "DEBUG".into(),
                }]),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn agent_config_has_no_retention_and_a_stream_per_member() {
        let c = agent_config("/hastack/web", &files());
        let v: Json = serde_json::from_str(&c).unwrap();
        let list = v
            .pointer("/logs/logs_collected/files/collect_list")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(list[0]["log_group_name"], "/hastack/web/nginx");
        assert_eq!(list[0]["log_stream_name"], "{hostname}");
        assert_eq!(
            list[1]["filters"],
            json!([{"expression": "DEBUG", "type": "exclude"}])
        );
        assert!(!c.contains("retention"), "{c}");
        assert!(c.len() < PARAMETER_LIMIT);
        // Import reads the same files back.
        assert_eq!(
            files_from_config(&c),
            Some(("/hastack/web".to_string(), files()))
        );
    }

    #[test]
    fn node_policy_grants_no_group_creation_or_retention() {
        let g = group_names("/hastack/web", &files(), true);
        assert_eq!(
            g.get("sessions").map(String::as_str),
            Some("/hastack/web/sessions")
        );
        let p = node_policy("aws", "us-east-1", "123456789012", "web", &g);
        assert!(
            !p.contains("CreateLogGroup") && !p.contains("PutRetentionPolicy"),
            "{p}"
        );
        assert!(p.contains("arn:aws:logs:us-east-1:123456789012:log-group:/hastack/web/nginx:*"));
        assert!(p.contains("parameter/AmazonCloudWatch-hastack-web"));
    }

    #[test]
    fn metric_filters_and_alarms_round_trip_with_defaults() {
        let f = MetricFilter {
            file_key: "nginx".into(),
            pattern: "[ip, id, user, ts, request, status=5*, bytes]".into(),
            metric_name: "5xx".into(),
            ..Default::default()
        };
        let aws = metric_filter("web", "errors", &f);
        assert_eq!(
            (
                aws.name.as_str(),
                aws.namespace.as_str(),
                aws.value.as_str()
            ),
            ("hastack-web-errors", "hastack/web", "1")
        );
        assert_eq!(metric_filter_model("web", "nginx", &aws), f);
        let filters = [("errors".to_string(), f)].into();
        let a = Alarm {
            metric_filter: "errors".into(),
            threshold: 5.0,
            ..Default::default()
        };
        let aws = alarm("web", "5xx", &a, &filters).unwrap();
        assert_eq!(
            (
                aws.statistic.as_str(),
                aws.period,
                aws.treat_missing_data.as_str()
            ),
            ("Sum", 60, "notBreaching")
        );
        assert_eq!(alarm_model("web", &aws, &filters), a);
        assert!(alarm(
            "web",
            "x",
            &Alarm {
                metric_filter: "nope".into(),
                ..a
            },
            &filters
        )
        .is_none());
    }
}
