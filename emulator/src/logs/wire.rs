//! CloudWatch Logs on the wire (awsJson1_1): typed inputs parsed with serde, the backend
//! called, results rendered as CloudWatch Logs renders them, and the operation table.
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::backend::{EventFilter, LogsError, Transformation};
use super::{Backend, Handler};
use crate::error::AwsError;
use crate::Ctx;

/// The operation table: dispatch, the catalogue (`hastack-local status`) and the fidelity
/// suites' coverage list all come from it.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("CreateLogGroup", create_log_group),
    ("DeleteLogGroup", delete_log_group),
    ("DescribeLogGroups", describe_log_groups),
    ("PutRetentionPolicy", put_retention_policy),
    ("DeleteRetentionPolicy", delete_retention_policy),
    ("CreateLogStream", create_log_stream),
    ("DeleteLogStream", delete_log_stream),
    ("DescribeLogStreams", describe_log_streams),
    ("PutLogEvents", put_log_events),
    ("GetLogEvents", get_log_events),
    ("FilterLogEvents", filter_log_events),
    ("PutMetricFilter", put_metric_filter),
    ("DescribeMetricFilters", describe_metric_filters),
    ("DeleteMetricFilter", delete_metric_filter),
    ("TagResource", tag_resource),
    ("UntagResource", untag_resource),
    ("ListTagsForResource", list_tags_for_resource),
];

type Answer = Result<Json, AwsError>;

impl From<LogsError> for AwsError {
    fn from(e: LogsError) -> Self {
        let code = match &e {
            LogsError::InvalidParameter(_) => "InvalidParameterException",
            LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
            LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
        };
        AwsError::new(400, code, e.to_string())
    }
}

fn parse<T: DeserializeOwned>(input: &Json) -> Result<T, AwsError> {
    T::deserialize(input).map_err(|e| AwsError::serialization(e.to_string()))
}

fn invalid_token() -> AwsError {
    LogsError::InvalidParameter("The specified nextToken is invalid.".into()).into()
}

/// The members of every Logs request this emulator reads.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Input {
    log_group_name: String,
    log_group_name_prefix: String,
    log_group_name_pattern: String,
    log_stream_name: String,
    log_stream_name_prefix: String,
    log_stream_names: Vec<String>,
    order_by: Option<String>,
    descending: bool,
    retention_in_days: Option<i64>,
    kms_key_id: Option<String>,
    log_group_class: Option<String>,
    tags: BTreeMap<String, String>,
    tag_keys: Vec<String>,
    resource_arn: String,
    log_events: Vec<InputEvent>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    start_from_head: bool,
    filter_pattern: Option<String>,
    filter_name: String,
    filter_name_prefix: String,
    metric_name: Option<String>,
    metric_namespace: Option<String>,
    metric_transformations: Vec<WireTransformation>,
    next_token: Option<String>,
    limit: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InputEvent {
    timestamp: i64,
    message: String,
}

/// `MetricTransformation` as the API spells it.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct WireTransformation {
    metric_name: String,
    metric_namespace: String,
    metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<f64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    dimensions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
}

impl From<WireTransformation> for Transformation {
    fn from(w: WireTransformation) -> Self {
        Transformation {
            metric_name: w.metric_name,
            metric_namespace: w.metric_namespace,
            metric_value: w.metric_value,
            default_value: w.default_value,
            unit: w.unit,
            dimensions: w.dimensions,
        }
    }
}

impl From<&Transformation> for WireTransformation {
    fn from(t: &Transformation) -> Self {
        WireTransformation {
            metric_name: t.metric_name.clone(),
            metric_namespace: t.metric_namespace.clone(),
            metric_value: t.metric_value.clone(),
            default_value: t.default_value,
            dimensions: t.dimensions.clone(),
            unit: t.unit.clone(),
        }
    }
}

fn page(
    items: Vec<Json>,
    i: &Input,
    default_limit: usize,
) -> Result<(Vec<Json>, Option<String>), AwsError> {
    crate::input::offset_page(
        items,
        i.next_token.as_deref(),
        i.limit.unwrap_or(default_limit),
    )
    .map_err(|_| invalid_token())
}

fn with_token(mut j: Json, next: Option<String>) -> Json {
    if let Some(t) = next {
        j["nextToken"] = json!(t);
    }
    j
}

fn group_arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        ctx.region, ctx.account
    )
}

fn create_log_group(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let ia = match i.log_group_class.as_deref() {
        None | Some("STANDARD") => false,
        Some("INFREQUENT_ACCESS") => true,
        Some(other) => {
            return Err(crate::error::AwsError::new(
                400,
                "InvalidParameterException",
                format!("logGroupClass {other} is not one of STANDARD, INFREQUENT_ACCESS"),
            ))
        }
    };
    b.create_log_group(ctx, &i.log_group_name, i.tags, i.kms_key_id)?;
    if let Some(g) = b.groups.get_mut(&i.log_group_name) {
        g.infrequent_access = ia;
    }
    Ok(json!({}))
}

fn delete_log_group(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.delete_log_group(&i.log_group_name)?;
    Ok(json!({}))
}

fn describe_log_groups(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let all: Vec<Json> = b
        .log_groups(&i.log_group_name_prefix, &i.log_group_name_pattern)
        .into_iter()
        .map(|(n, g)| {
            let stored: usize = g.streams.values().flat_map(|s| &s.events).map(|e| e.message.len()).sum();
            let mut j = json!({
                "logGroupName": n, "creationTime": g.created, "metricFilterCount": g.metric_filters.len(),
                "arn": format!("{}:*", group_arn(ctx, n)), "logGroupArn": group_arn(ctx, n), "storedBytes": stored, "logGroupClass": if g.infrequent_access { "INFREQUENT_ACCESS" } else { "STANDARD" },
            });
            if let Some(r) = g.retention {
                j["retentionInDays"] = json!(r);
            }
            if let Some(k) = &g.kms_key_id {
                j["kmsKeyId"] = json!(k);
            }
            j
        })
        .collect();
    let (items, next) = page(all, &i, 50)?;
    Ok(with_token(json!({"logGroups": items}), next))
}

fn put_retention_policy(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let days = i.retention_in_days.ok_or_else(|| {
        AwsError::from(LogsError::InvalidParameter(
            "retentionInDays is required".into(),
        ))
    })?;
    b.set_retention(&i.log_group_name, Some(days))?;
    Ok(json!({}))
}

fn delete_retention_policy(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.set_retention(&i.log_group_name, None)?;
    Ok(json!({}))
}

fn create_log_stream(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.create_log_stream(ctx, &i.log_group_name, &i.log_stream_name)?;
    Ok(json!({}))
}

fn delete_log_stream(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.delete_log_stream(&i.log_group_name, &i.log_stream_name)?;
    Ok(json!({}))
}

fn describe_log_streams(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let by_time = i.order_by.as_deref() == Some("LastEventTime");
    let gname = &i.log_group_name;
    let all: Vec<Json> = b
        .log_streams(gname, &i.log_stream_name_prefix, by_time, i.descending)?
        .into_iter()
        .map(|(n, s)| {
            let mut j = json!({
                "logStreamName": n, "creationTime": s.created, "storedBytes": 0,
                "arn": format!("arn:aws:logs:{}:{}:log-group:{gname}:log-stream:{n}", ctx.region, ctx.account),
            });
            if let (Some(first), Some(last)) = (s.events.iter().map(|e| e.timestamp).min(), s.events.iter().map(|e| e.timestamp).max()) {
                j["firstEventTimestamp"] = json!(first);
                j["lastEventTimestamp"] = json!(last);
            }
            if let Some(t) = s.last_ingestion {
                j["lastIngestionTime"] = json!(t);
            }
            j
        })
        .collect();
    let (items, next) = page(all, &i, 50)?;
    Ok(with_token(json!({"logStreams": items}), next))
}

fn put_log_events(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let events = i
        .log_events
        .into_iter()
        .map(|e| (e.timestamp, e.message))
        .collect();
    let put = b.put_log_events(ctx, &i.log_group_name, &i.log_stream_name, events)?;
    let mut out = json!({"nextSequenceToken": format!("{:056}", put.last_id)});
    if put.too_old_end.is_some() || put.too_new_start.is_some() || put.expired_end.is_some() {
        let mut r = json!({});
        if let Some(n) = put.too_new_start {
            r["tooNewLogEventStartIndex"] = json!(n);
        }
        if let Some(n) = put.too_old_end {
            r["tooOldLogEventEndIndex"] = json!(n);
        }
        if let Some(n) = put.expired_end {
            r["expiredLogEventEndIndex"] = json!(n);
        }
        out["rejectedLogEventsInfo"] = r;
    }
    Ok(out)
}

/// Events between forward (`f/N`) and backward (`b/N`) tokens, as GetLogEvents pages them.
fn get_log_events(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let events = b.log_events(
        &i.log_group_name,
        &i.log_stream_name,
        i.start_time,
        i.end_time,
    )?;
    let limit = i.limit.unwrap_or(10_000).clamp(1, 10_000);
    let number = |t: &str| t[2..].parse::<usize>().map_err(|_| invalid_token());
    let start = match i.next_token.as_deref() {
        Some(t) if t.starts_with("f/") => number(t)?,
        Some(t) if t.starts_with("b/") => number(t)?.saturating_sub(limit),
        Some(_) => return Err(invalid_token()),
        None if i.start_from_head => 0,
        None => events.len().saturating_sub(limit),
    };
    let start = start.min(events.len());
    let end = (start + limit).min(events.len());
    let out: Vec<Json> = events[start..end]
        .iter()
        .map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time}))
        .collect();
    Ok(
        json!({"events": out, "nextForwardToken": format!("f/{end:020}"), "nextBackwardToken": format!("b/{start:020}")}),
    )
}

fn filter_log_events(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let found = b.filter_log_events(
        &i.log_group_name,
        &EventFilter {
            pattern: i.filter_pattern.clone().unwrap_or_default(),
            stream_names: i.log_stream_names.clone(),
            stream_prefix: i.log_stream_name_prefix.clone(),
            start: i.start_time,
            end: i.end_time,
        },
    )?;
    let all: Vec<Json> = found
        .hits
        .iter()
        .map(|(n, e)| json!({"logStreamName": n, "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time, "eventId": format!("{:056}", e.id)}))
        .collect();
    let searched: Vec<Json> = found
        .searched
        .into_iter()
        .map(|n| json!({"logStreamName": n, "searchedCompletely": true}))
        .collect();
    let (items, next) = page(all, &i, 10_000)?;
    Ok(with_token(
        json!({"events": items, "searchedLogStreams": searched}),
        next,
    ))
}

fn put_metric_filter(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.put_metric_filter(
        ctx,
        &i.log_group_name,
        &i.filter_name,
        i.filter_pattern,
        i.metric_transformations
            .into_iter()
            .map(Into::into)
            .collect(),
    )?;
    Ok(json!({}))
}

fn describe_metric_filters(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    let group = (!i.log_group_name.is_empty()).then_some(i.log_group_name.as_str());
    let all: Vec<Json> = b
        .metric_filters(
            group,
            &i.filter_name_prefix,
            i.metric_name.as_deref(),
            i.metric_namespace.as_deref(),
        )?
        .into_iter()
        .map(|(g, f)| {
            let t: Vec<WireTransformation> = f.transformations.iter().map(Into::into).collect();
            json!({"filterName": f.name, "filterPattern": f.pattern, "metricTransformations": t, "creationTime": f.created, "logGroupName": g})
        })
        .collect();
    let (items, next) = page(all, &i, 50)?;
    Ok(with_token(json!({"metricFilters": items}), next))
}

fn delete_metric_filter(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.delete_metric_filter(&i.log_group_name, &i.filter_name)?;
    Ok(json!({}))
}

fn tag_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.group_by_arn(&i.resource_arn)?.tags.extend(i.tags);
    Ok(json!({}))
}

fn untag_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    b.group_by_arn(&i.resource_arn)?
        .tags
        .retain(|k, _| !i.tag_keys.contains(k));
    Ok(json!({}))
}

fn list_tags_for_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: Input = parse(input)?;
    Ok(json!({"tags": b.group_by_arn(&i.resource_arn)?.tags}))
}
