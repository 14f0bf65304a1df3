//! One function per CloudWatch operation, and the dispatch table.
use serde_json::{json, Value as Json};

use super::protocol::ts;
use super::{Alarm, Backend, MetricKey, Sample};
use crate::error::AwsError;
use crate::input::str_list as strings;
use crate::Ctx;

pub type Handler = crate::Handler<Backend>;

/// The operation table: dispatch, the catalogue (`hastack-local status`) and the fidelity
/// suites' coverage list all come from it.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("PutMetricData", put_metric_data),
    ("GetMetricStatistics", get_metric_statistics),
    ("GetMetricData", get_metric_data),
    ("ListMetrics", list_metrics),
    ("PutMetricAlarm", put_metric_alarm),
    ("DescribeAlarms", describe_alarms),
    ("DeleteAlarms", delete_alarms),
];

/// The handler of `operation`, if this service implements it.
pub fn handler(operation: &str) -> Option<Handler> {
    OPERATIONS
        .iter()
        .find(|(n, _)| *n == operation)
        .map(|(_, h)| *h)
}

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const COMPARISONS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::query_compatible(
        400,
        "InvalidParameterValueException",
        "InvalidParameterValue",
        msg,
    )
}

/// A required member is absent: the generic validation error every operation can return.
fn missing(name: &str) -> AwsError {
    AwsError::query_compatible(400, "ValidationException", "ValidationError", format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"))
}

fn s<'a>(j: &'a Json, k: &str) -> Option<&'a str> {
    j.get(k).and_then(Json::as_str)
}

fn dims(j: &Json) -> Vec<(String, String)> {
    let mut d: Vec<(String, String)> = j
        .get("Dimensions")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| Some((s(x, "Name")?.to_string(), s(x, "Value")?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    d.sort();
    d
}

fn dims_json(d: &[(String, String)]) -> Json {
    Json::Array(
        d.iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect(),
    )
}

fn put_metric_data(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let ns = s(input, "Namespace").ok_or_else(|| missing("Namespace"))?;
    if ns.starts_with("AWS/") {
        return Err(invalid(
            "The value AWS/ for parameter Namespace is invalid.",
        ));
    }
    let data = input
        .get("MetricData")
        .and_then(Json::as_array)
        .ok_or_else(|| missing("MetricData"))?;
    for d in data {
        let name = s(d, "MetricName").ok_or_else(|| missing("MetricData.member.MetricName"))?;
        let t = d.get("Timestamp").and_then(Json::as_f64).unwrap_or(ctx.now);
        let unit = s(d, "Unit").map(str::to_string);
        let key: MetricKey = (ns.to_string(), name.to_string(), dims(d));
        if let Some(v) = d.get("Value").and_then(Json::as_f64) {
            b.add(
                key.clone(),
                Sample {
                    t,
                    count: 1.0,
                    sum: v,
                    min: v,
                    max: v,
                    unit: unit.clone(),
                },
            );
        }
        if let Some(sv) = d.get("StatisticValues") {
            let f = |k: &str| {
                sv.get(k)
                    .and_then(Json::as_f64)
                    .ok_or_else(|| missing(&format!("StatisticValues.{k}")))
            };
            b.add(
                key.clone(),
                Sample {
                    t,
                    count: f("SampleCount")?,
                    sum: f("Sum")?,
                    min: f("Minimum")?,
                    max: f("Maximum")?,
                    unit: unit.clone(),
                },
            );
        }
        if let Some(vals) = d.get("Values").and_then(Json::as_array) {
            let counts = d.get("Counts").and_then(Json::as_array);
            for (i, v) in vals.iter().filter_map(Json::as_f64).enumerate() {
                let c = counts
                    .and_then(|c| c.get(i))
                    .and_then(Json::as_f64)
                    .unwrap_or(1.0);
                b.add(
                    key.clone(),
                    Sample {
                        t,
                        count: c,
                        sum: v * c,
                        min: v,
                        max: v,
                        unit: unit.clone(),
                    },
                );
            }
        }
    }
    Ok(json!({}))
}

fn get_metric_statistics(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let ns = s(input, "Namespace").ok_or_else(|| missing("Namespace"))?;
    let name = s(input, "MetricName").ok_or_else(|| missing("MetricName"))?;
    let start = input
        .get("StartTime")
        .and_then(Json::as_f64)
        .ok_or_else(|| missing("StartTime"))?;
    let end = input
        .get("EndTime")
        .and_then(Json::as_f64)
        .ok_or_else(|| missing("EndTime"))?;
    let period = input
        .get("Period")
        .and_then(Json::as_i64)
        .ok_or_else(|| missing("Period"))?;
    if period < 1 || (period >= 60 && period % 60 != 0) {
        return Err(invalid(format!(
            "The parameter Period must be 1, 5, 10, 30, or a multiple of 60; got {period}."
        )));
    }
    let stats: Vec<String> = crate::input::str_list(input, "Statistics");
    if stats.is_empty() || stats.iter().any(|x| !STATISTICS.contains(&x.as_str())) {
        return Err(invalid(format!("Statistics must be among {STATISTICS:?}")));
    }
    let key: MetricKey = (ns.into(), name.into(), dims(input));
    let unit = b
        .metrics
        .get(&key)
        .and_then(|v| v.iter().find_map(|s| s.unit.clone()));
    let mut points = Vec::new();
    let mut t = start;
    while t < end && points.len() < 1440 {
        if b.statistic(&key, "SampleCount", t, t + period as f64)
            .is_some()
        {
            let mut p = json!({"Timestamp": ts(t)});
            for st in &stats {
                p[st.as_str()] = json!(b.statistic(&key, st, t, t + period as f64));
            }
            if let Some(u) = &unit {
                p["Unit"] = json!(u);
            }
            points.push(p);
        }
        t += period as f64;
    }
    Ok(json!({"Label": name, "Datapoints": points}))
}

fn get_metric_data(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let start = input
        .get("StartTime")
        .and_then(Json::as_f64)
        .ok_or_else(|| missing("StartTime"))?;
    let end = input
        .get("EndTime")
        .and_then(Json::as_f64)
        .ok_or_else(|| missing("EndTime"))?;
    let queries = input
        .get("MetricDataQueries")
        .and_then(Json::as_array)
        .ok_or_else(|| missing("MetricDataQueries"))?;
    let newest_first = s(input, "ScanBy") != Some("TimestampAscending");
    let mut results = Vec::new();
    for q in queries {
        let id = s(q, "Id").ok_or_else(|| missing("MetricDataQueries.member.Id"))?;
        if q.get("Expression").is_some() {
            return Err(invalid(
                "Metric math expressions are not supported by hastack-local.",
            ));
        }
        let ms = q
            .get("MetricStat")
            .ok_or_else(|| missing("MetricDataQueries.member.MetricStat"))?;
        let m = ms
            .get("Metric")
            .ok_or_else(|| missing("MetricStat.Metric"))?;
        let key: MetricKey = (
            s(m, "Namespace").unwrap_or("").into(),
            s(m, "MetricName").unwrap_or("").into(),
            dims(m),
        );
        let period = ms
            .get("Period")
            .and_then(Json::as_i64)
            .filter(|p| *p > 0)
            .ok_or_else(|| missing("MetricStat.Period"))? as f64;
        let stat = s(ms, "Stat").ok_or_else(|| missing("MetricStat.Stat"))?;
        let mut stamps = Vec::new();
        let mut values = Vec::new();
        let mut t = start;
        while t < end && stamps.len() < 100_800 {
            if let Some(v) = b.statistic(&key, stat, t, t + period) {
                stamps.push(t);
                values.push(v);
            }
            t += period;
        }
        if newest_first {
            stamps.reverse();
            values.reverse();
        }
        if q.get("ReturnData").and_then(Json::as_bool) != Some(false) {
            results.push(json!({
                "Id": id, "Label": s(q, "Label").unwrap_or(&key.1), "StatusCode": "Complete",
                "Timestamps": stamps.into_iter().map(ts).collect::<Vec<_>>(), "Values": values,
            }));
        }
    }
    Ok(json!({"MetricDataResults": results, "Messages": []}))
}

fn list_metrics(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let ns = s(input, "Namespace");
    let name = s(input, "MetricName");
    let metrics: Vec<Json> = b
        .metrics
        .keys()
        .filter(|(n, m, _)| ns.is_none_or(|x| x == n) && name.is_none_or(|x| x == m))
        .map(|(n, m, d)| json!({"Namespace": n, "MetricName": m, "Dimensions": dims_json(d)}))
        .collect();
    Ok(json!({"Metrics": metrics}))
}

fn put_metric_alarm(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = s(input, "AlarmName")
        .ok_or_else(|| missing("AlarmName"))?
        .to_string();
    let comparison = s(input, "ComparisonOperator")
        .ok_or_else(|| missing("ComparisonOperator"))?
        .to_string();
    if !COMPARISONS.contains(&comparison.as_str()) {
        return Err(invalid(format!(
            "ComparisonOperator {comparison} is not supported by hastack-local"
        )));
    }
    let periods = input
        .get("EvaluationPeriods")
        .and_then(Json::as_i64)
        .ok_or_else(|| missing("EvaluationPeriods"))?;
    let statistic = s(input, "Statistic").ok_or_else(|| invalid("Statistic is required (extended statistics and metric math are not supported by hastack-local)"))?.to_string();
    if !STATISTICS.contains(&statistic.as_str()) {
        return Err(invalid(format!("Statistic {statistic} is not valid")));
    }
    let period = input
        .get("Period")
        .and_then(Json::as_i64)
        .ok_or_else(|| missing("Period"))?;
    let to_alarm = input
        .get("DatapointsToAlarm")
        .and_then(Json::as_i64)
        .unwrap_or(periods);
    if periods < 1 || to_alarm < 1 || to_alarm > periods {
        return Err(invalid(
            "DatapointsToAlarm must be between 1 and EvaluationPeriods",
        ));
    }
    let treat = s(input, "TreatMissingData")
        .unwrap_or("missing")
        .to_string();
    if !["breaching", "notBreaching", "ignore", "missing"].contains(&treat.as_str()) {
        return Err(invalid(format!("TreatMissingData {treat} is not valid")));
    }
    let prior = b.alarms.get(&name).cloned();
    let a = Alarm {
        description: s(input, "AlarmDescription").unwrap_or("").into(),
        namespace: s(input, "Namespace")
            .ok_or_else(|| missing("Namespace"))?
            .into(),
        metric: s(input, "MetricName")
            .ok_or_else(|| missing("MetricName"))?
            .into(),
        dimensions: dims(input),
        statistic,
        period,
        evaluation_periods: periods,
        datapoints_to_alarm: to_alarm,
        threshold: input
            .get("Threshold")
            .and_then(Json::as_f64)
            .ok_or_else(|| missing("Threshold"))?,
        comparison,
        treat_missing: treat,
        actions_enabled: input
            .get("ActionsEnabled")
            .and_then(Json::as_bool)
            .unwrap_or(true),
        alarm_actions: strings(input, "AlarmActions"),
        ok_actions: strings(input, "OKActions"),
        insufficient_actions: strings(input, "InsufficientDataActions"),
        unit: s(input, "Unit").map(str::to_string),
        state: prior
            .as_ref()
            .map(|p| p.state.clone())
            .unwrap_or_else(|| "INSUFFICIENT_DATA".into()),
        state_reason: prior
            .as_ref()
            .map(|p| p.state_reason.clone())
            .unwrap_or_else(|| "Unchecked: Initial alarm creation".into()),
        state_updated: prior.as_ref().map(|p| p.state_updated).unwrap_or(ctx.now),
        config_updated: ctx.now,
        name: name.clone(),
    };
    b.alarms.insert(name, a);
    b.evaluate_alarms(ctx.now);
    Ok(json!({}))
}

fn alarm_json(a: &Alarm, ctx: &Ctx<'_>) -> Json {
    let mut j = json!({
        "AlarmName": a.name, "AlarmArn": format!("arn:aws:cloudwatch:{}:{}:alarm:{}", ctx.region, ctx.account, a.name),
        "AlarmDescription": a.description, "AlarmConfigurationUpdatedTimestamp": ts(a.config_updated),
        "ActionsEnabled": a.actions_enabled, "OKActions": a.ok_actions, "AlarmActions": a.alarm_actions,
        "InsufficientDataActions": a.insufficient_actions, "StateValue": a.state, "StateReason": a.state_reason,
        "StateUpdatedTimestamp": ts(a.state_updated), "StateTransitionedTimestamp": ts(a.state_updated),
        "MetricName": a.metric, "Namespace": a.namespace, "Statistic": a.statistic, "Dimensions": dims_json(&a.dimensions),
        "Period": a.period, "EvaluationPeriods": a.evaluation_periods, "DatapointsToAlarm": a.datapoints_to_alarm,
        "Threshold": a.threshold, "ComparisonOperator": a.comparison, "TreatMissingData": a.treat_missing,
    });
    if let Some(u) = &a.unit {
        j["Unit"] = json!(u);
    }
    j
}

fn describe_alarms(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    b.evaluate_alarms(ctx.now);
    let names = strings(input, "AlarmNames");
    let prefix = s(input, "AlarmNamePrefix").unwrap_or("");
    let state = s(input, "StateValue");
    let alarms: Vec<Json> = b
        .alarms
        .values()
        .filter(|a| {
            (names.is_empty() || names.contains(&a.name))
                && a.name.starts_with(prefix)
                && state.is_none_or(|st| st == a.state)
        })
        .map(|a| alarm_json(a, ctx))
        .collect();
    Ok(json!({"MetricAlarms": alarms, "CompositeAlarms": []}))
}

fn delete_alarms(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let names = strings(input, "AlarmNames");
    if names.is_empty() {
        return Err(missing("AlarmNames"));
    }
    if names.is_empty() {
        return Err(missing("AlarmNames"));
    }
    if let Some(missing) = names.iter().find(|n| !b.alarms.contains_key(*n)) {
        return Err(AwsError::query_compatible(
            404,
            "ResourceNotFound",
            "ResourceNotFound",
            format!("Alarm {missing} does not exist"),
        ));
    }
    for n in names {
        b.alarms.remove(&n);
    }
    Ok(json!({}))
}
