//! CloudWatch on the wire (awsJson1_0 members; CBOR is decoded to the same shape by
//! `protocol`): typed inputs, results rendered as CloudWatch renders them (timestamps marked for
//! the framing), awsQuery-compatible errors, and the operation table.
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::backend::{
    Alarm, CloudWatchError, DataQuery, Datum, NewAlarm, StatisticSet, StatisticsQuery,
};
use super::protocol::ts;
use super::{Backend, Handler};
use crate::error::AwsError;
use crate::Ctx;

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

type Answer = Result<Json, AwsError>;

/// CloudWatch is awsQueryCompatible: the shape name in `__type`, the query code in a header.
impl From<CloudWatchError> for AwsError {
    fn from(e: CloudWatchError) -> Self {
        let message = e.to_string();
        match e {
            CloudWatchError::InvalidParameterValue(_) => AwsError::query_compatible(
                400,
                "InvalidParameterValueException",
                "InvalidParameterValue",
                message,
            ),
            CloudWatchError::Missing(_) => {
                AwsError::query_compatible(400, "ValidationException", "ValidationError", message)
            }
            CloudWatchError::ResourceNotFound(_) => {
                AwsError::query_compatible(404, "ResourceNotFound", "ResourceNotFound", message)
            }
        }
    }
}

fn parse<T: DeserializeOwned>(input: &Json) -> Result<T, AwsError> {
    T::deserialize(input).map_err(|e| AwsError::serialization(e.to_string()))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "PascalCase")]
struct Dimension {
    name: Option<String>,
    value: Option<String>,
}

fn dims(d: Vec<Dimension>) -> Vec<(String, String)> {
    d.into_iter()
        .filter_map(|x| Some((x.name?, x.value?)))
        .collect()
}

fn dims_json(d: &[(String, String)]) -> Json {
    Json::Array(
        d.iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect(),
    )
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct WireStatisticSet {
    sample_count: Option<f64>,
    sum: Option<f64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct WireDatum {
    metric_name: Option<String>,
    dimensions: Vec<Dimension>,
    timestamp: Option<f64>,
    value: Option<f64>,
    statistic_values: Option<WireStatisticSet>,
    values: Vec<f64>,
    counts: Vec<f64>,
    unit: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Metric {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Vec<Dimension>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct MetricStat {
    metric: Option<Metric>,
    period: Option<i64>,
    stat: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct WireQuery {
    id: Option<String>,
    label: Option<String>,
    expression: Option<String>,
    metric_stat: Option<MetricStat>,
    return_data: Option<bool>,
}

/// The members of every CloudWatch request this emulator reads.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Input {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Vec<Dimension>,
    metric_data: Option<Vec<WireDatum>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    period: Option<i64>,
    statistics: Vec<String>,
    metric_data_queries: Option<Vec<WireQuery>>,
    scan_by: Option<String>,
    alarm_name: Option<String>,
    alarm_description: Option<String>,
    statistic: Option<String>,
    evaluation_periods: Option<i64>,
    datapoints_to_alarm: Option<i64>,
    threshold: Option<f64>,
    comparison_operator: Option<String>,
    treat_missing_data: Option<String>,
    actions_enabled: Option<bool>,
    alarm_actions: Vec<String>,
    #[serde(rename = "OKActions")]
    ok_actions: Vec<String>,
    insufficient_data_actions: Vec<String>,
    unit: Option<String>,
    alarm_names: Vec<String>,
    alarm_name_prefix: Option<String>,
    state_value: Option<String>,
}

fn put_metric_data(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let data = i.metric_data.map(|d| {
        d.into_iter()
            .map(|d| Datum {
                metric_name: d.metric_name,
                dimensions: dims(d.dimensions),
                timestamp: d.timestamp,
                value: d.value,
                statistic_values: d.statistic_values.map(|s| StatisticSet {
                    sample_count: s.sample_count,
                    sum: s.sum,
                    minimum: s.minimum,
                    maximum: s.maximum,
                }),
                values: d.values,
                counts: d.counts,
                unit: d.unit,
            })
            .collect()
    });
    b.put_metric_data(ctx.now, i.namespace.as_deref(), data)?;
    Ok(json!({}))
}

fn get_metric_statistics(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let label = i.metric_name.clone().unwrap_or_default();
    let (unit, points) = b.statistics(StatisticsQuery {
        namespace: i.namespace,
        metric_name: i.metric_name,
        dimensions: dims(i.dimensions),
        start: i.start_time,
        end: i.end_time,
        period: i.period,
        statistics: i.statistics,
    })?;
    let points: Vec<Json> = points
        .into_iter()
        .map(|p| {
            let mut j = json!({"Timestamp": ts(p.timestamp)});
            for (stat, v) in p.values {
                j[stat.as_str()] = json!(v);
            }
            if let Some(u) = &unit {
                j["Unit"] = json!(u);
            }
            j
        })
        .collect();
    Ok(json!({"Label": label, "Datapoints": points}))
}

fn get_metric_data(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let queries = i.metric_data_queries.map(|qs| {
        qs.into_iter()
            .map(|q| {
                let has_metric_stat = q.metric_stat.is_some();
                let (metric, period, stat) = match q.metric_stat {
                    Some(ms) => (
                        ms.metric.map(|m| {
                            (
                                m.namespace.unwrap_or_default(),
                                m.metric_name.unwrap_or_default(),
                                dims(m.dimensions),
                            )
                        }),
                        ms.period,
                        ms.stat,
                    ),
                    None => (None, None, None),
                };
                DataQuery {
                    id: q.id,
                    label: q.label,
                    has_expression: q.expression.is_some(),
                    metric,
                    has_metric_stat,
                    period,
                    stat,
                    return_data: q.return_data != Some(false),
                }
            })
            .collect()
    });
    let newest_first = i.scan_by.as_deref() != Some("TimestampAscending");
    let series = b.metric_data(i.start_time, i.end_time, queries, newest_first)?;
    let results: Vec<Json> = series
        .into_iter()
        .map(|s| {
            json!({
                "Id": s.id, "Label": s.label, "StatusCode": "Complete",
                "Timestamps": s.timestamps.into_iter().map(ts).collect::<Vec<_>>(), "Values": s.values,
            })
        })
        .collect();
    Ok(json!({"MetricDataResults": results, "Messages": []}))
}

fn list_metrics(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let metrics: Vec<Json> = b
        .metrics_matching(i.namespace.as_deref(), i.metric_name.as_deref())
        .into_iter()
        .map(|(n, m, d)| json!({"Namespace": n, "MetricName": m, "Dimensions": dims_json(d)}))
        .collect();
    Ok(json!({"Metrics": metrics}))
}

fn put_metric_alarm(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.put_metric_alarm(
        ctx.now,
        NewAlarm {
            name: i.alarm_name,
            description: i.alarm_description,
            namespace: i.namespace,
            metric_name: i.metric_name,
            dimensions: dims(i.dimensions),
            statistic: i.statistic,
            period: i.period,
            evaluation_periods: i.evaluation_periods,
            datapoints_to_alarm: i.datapoints_to_alarm,
            threshold: i.threshold,
            comparison: i.comparison_operator,
            treat_missing: i.treat_missing_data,
            actions_enabled: i.actions_enabled,
            alarm_actions: i.alarm_actions,
            ok_actions: i.ok_actions,
            insufficient_actions: i.insufficient_data_actions,
            unit: i.unit,
        },
    )?;
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

fn describe_alarms(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let alarms: Vec<Json> = b
        .alarms_matching(
            ctx.now,
            &i.alarm_names,
            i.alarm_name_prefix.as_deref().unwrap_or(""),
            i.state_value.as_deref(),
        )
        .into_iter()
        .map(|a| alarm_json(a, ctx))
        .collect();
    Ok(json!({"MetricAlarms": alarms, "CompositeAlarms": []}))
}

fn delete_alarms(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.delete_alarms(&i.alarm_names)?;
    Ok(json!({}))
}
