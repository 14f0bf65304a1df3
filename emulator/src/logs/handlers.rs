//! One function per CloudWatch Logs operation, and the dispatch table.
use serde_json::{json, Value as Json};

use super::filter::{parse, Pattern};
use super::{Backend, Event, Group, Handler, MetricFilter, MetricPoint, Stream, RETENTION_DAYS};
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

/// The handler of `operation`, if this service implements it.
pub fn handler(operation: &str) -> Option<Handler> {
    OPERATIONS
        .iter()
        .find(|(n, _)| *n == operation)
        .map(|(_, h)| *h)
}

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidParameterException", msg)
}

fn not_found(msg: &str) -> AwsError {
    AwsError::new(400, "ResourceNotFoundException", msg)
}

fn req<'a>(input: &'a Json, key: &str) -> Result<&'a str, AwsError> {
    input.get(key).and_then(Json::as_str).filter(|s| !s.is_empty()).ok_or_else(|| invalid(format!("1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null")))
}

fn now_ms(ctx: &Ctx<'_>) -> i64 {
    (ctx.now * 1000.0) as i64
}

fn group<'b>(b: &'b mut Backend, input: &Json) -> Result<&'b mut Group, AwsError> {
    let name = req(input, "logGroupName")?;
    b.groups
        .get_mut(name)
        .ok_or_else(|| not_found("The specified log group does not exist."))
}

fn group_arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        ctx.region, ctx.account
    )
}

fn tags_of(input: &Json) -> std::collections::BTreeMap<String, String> {
    input
        .get("tags")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn create_log_group(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req(input, "logGroupName")?.to_string();
    if name.len() > 512
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
    {
        return Err(invalid(format!("1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")));
    }
    if b.groups.contains_key(&name) {
        return Err(AwsError::new(
            400,
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
        ));
    }
    b.groups.insert(
        name,
        Group {
            created: now_ms(ctx),
            tags: tags_of(input),
            kms_key_id: input
                .get("kmsKeyId")
                .and_then(Json::as_str)
                .map(str::to_string),
            ..Default::default()
        },
    );
    Ok(json!({}))
}

fn delete_log_group(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req(input, "logGroupName")?;
    b.groups
        .remove(name)
        .ok_or_else(|| not_found("The specified log group does not exist."))?;
    Ok(json!({}))
}

fn page(
    items: Vec<Json>,
    input: &Json,
    default_limit: usize,
) -> Result<(Vec<Json>, Option<String>), AwsError> {
    let limit = input
        .get("limit")
        .and_then(Json::as_u64)
        .map(|n| n as usize)
        .unwrap_or(default_limit);
    crate::input::offset_page(items, input.get("nextToken").and_then(Json::as_str), limit)
        .map_err(|_| invalid("The specified nextToken is invalid."))
}

fn with_token(mut j: Json, next: Option<String>) -> Json {
    if let Some(t) = next {
        j["nextToken"] = json!(t);
    }
    j
}

fn describe_log_groups(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let prefix = input
        .get("logGroupNamePrefix")
        .and_then(Json::as_str)
        .unwrap_or("");
    let pattern = input
        .get("logGroupNamePattern")
        .and_then(Json::as_str)
        .unwrap_or("");
    let all: Vec<Json> = b
        .groups
        .iter()
        .filter(|(n, _)| n.starts_with(prefix) && n.contains(pattern))
        .map(|(n, g)| {
            let stored: usize = g.streams.values().flat_map(|s| &s.events).map(|e| e.message.len()).sum();
            let mut j = json!({
                "logGroupName": n, "creationTime": g.created, "metricFilterCount": g.metric_filters.len(),
                "arn": format!("{}:*", group_arn(ctx, n)), "logGroupArn": group_arn(ctx, n), "storedBytes": stored, "logGroupClass": "STANDARD",
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
    let (items, next) = page(all, input, 50)?;
    Ok(with_token(json!({"logGroups": items}), next))
}

fn put_retention_policy(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let days = input
        .get("retentionInDays")
        .and_then(Json::as_i64)
        .ok_or_else(|| invalid("retentionInDays is required"))?;
    if !RETENTION_DAYS.contains(&days) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {:?}",
            RETENTION_DAYS
        )));
    }
    group(b, input)?.retention = Some(days);
    Ok(json!({}))
}

fn delete_retention_policy(
    b: &mut Backend,
    _ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    group(b, input)?.retention = None;
    Ok(json!({}))
}

fn create_log_stream(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let stream = req(input, "logStreamName")?.to_string();
    if stream.contains(':') || stream.contains('*') {
        return Err(invalid("Log stream names cannot contain ':' or '*'"));
    }
    let now = now_ms(ctx);
    let g = group(b, input)?;
    if g.streams.contains_key(&stream) {
        return Err(AwsError::new(
            400,
            "ResourceAlreadyExistsException",
            "The specified log stream already exists",
        ));
    }
    g.streams.insert(
        stream,
        Stream {
            created: now,
            ..Default::default()
        },
    );
    Ok(json!({}))
}

fn delete_log_stream(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let stream = req(input, "logStreamName")?.to_string();
    group(b, input)?
        .streams
        .remove(&stream)
        .ok_or_else(|| not_found("The specified log stream does not exist."))?;
    Ok(json!({}))
}

fn describe_log_streams(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let gname = req(input, "logGroupName")?.to_string();
    let prefix = input
        .get("logStreamNamePrefix")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    let by_time = input.get("orderBy").and_then(Json::as_str) == Some("LastEventTime");
    if by_time && !prefix.is_empty() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let g = group(b, input)?;
    let mut streams: Vec<(&String, &Stream)> = g
        .streams
        .iter()
        .filter(|(n, _)| n.starts_with(&prefix))
        .collect();
    if by_time {
        streams.sort_by_key(|(_, s)| s.events.iter().map(|e| e.timestamp).max().unwrap_or(0));
    }
    if input
        .get("descending")
        .and_then(Json::as_bool)
        .unwrap_or(false)
    {
        streams.reverse();
    }
    let all: Vec<Json> = streams
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
    let (items, next) = page(all, input, 50)?;
    Ok(with_token(json!({"logStreams": items}), next))
}

fn put_log_events(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let stream_name = req(input, "logStreamName")?.to_string();
    let events = input
        .get("logEvents")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    if events.is_empty() || events.len() > 10_000 {
        return Err(invalid("logEvents must hold 1 to 10,000 events"));
    }
    let stamps: Vec<i64> = events
        .iter()
        .map(|e| e.get("timestamp").and_then(Json::as_i64).unwrap_or(0))
        .collect();
    if stamps.windows(2).any(|w| w[1] < w[0]) {
        return Err(invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let now = now_ms(ctx);
    let mut next_id = b.next_event_id;
    let g = group(b, input)?;
    let oldest_allowed = now - 14 * 86_400_000;
    let retention_floor = g
        .retention
        .map(|d| now - d * 86_400_000)
        .unwrap_or(i64::MIN);
    let newest_allowed = now + 2 * 3_600_000;
    let filters: Vec<(Pattern, MetricFilter)> = g
        .metric_filters
        .values()
        .filter_map(|f| parse(&f.pattern).ok().map(|p| (p, f.clone())))
        .collect();
    let stream = g
        .streams
        .get_mut(&stream_name)
        .ok_or_else(|| not_found("The specified log stream does not exist."))?;
    let (mut too_old, mut too_new, mut expired) = (None::<usize>, None::<usize>, None::<usize>);
    for (i, e) in events.iter().enumerate() {
        let ts = stamps[i];
        if ts < oldest_allowed {
            too_old = Some(i + 1);
            continue;
        }
        if ts < retention_floor {
            expired = Some(i + 1);
            continue;
        }
        if ts > newest_allowed {
            too_new.get_or_insert(i);
            continue;
        }
        let message = e
            .get("message")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        for (p, f) in &filters {
            if p.matches(&message) {
                for t in f.transformations.as_array().into_iter().flatten() {
                    let value_expr = t.get("metricValue").and_then(Json::as_str).unwrap_or("1");
                    if let Some(value) = Pattern::extract(&message, value_expr) {
                        ctx.emit(crate::effects::Effect::MetricPoints(vec![MetricPoint {
                            namespace: t
                                .get("metricNamespace")
                                .and_then(Json::as_str)
                                .unwrap_or("")
                                .into(),
                            name: t
                                .get("metricName")
                                .and_then(Json::as_str)
                                .unwrap_or("")
                                .into(),
                            value,
                            timestamp: ts as f64 / 1000.0,
                            unit: t.get("unit").and_then(Json::as_str).map(str::to_string),
                            dimensions: t
                                .get("dimensions")
                                .and_then(Json::as_object)
                                .map(|d| {
                                    d.iter()
                                        .filter_map(|(k, v)| {
                                            Some((
                                                k.clone(),
                                                Pattern::extract_text(&message, v.as_str()?)?,
                                            ))
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }]));
                    }
                }
            }
        }
        next_id += 1;
        stream.events.push(Event {
            timestamp: ts,
            message,
            ingestion_time: now,
            id: next_id,
        });
        stream.last_ingestion = Some(now);
    }
    stream.events.sort_by_key(|e| e.timestamp);
    b.next_event_id = next_id;
    let mut out = json!({"nextSequenceToken": format!("{next_id:056}")});
    if too_old.is_some() || too_new.is_some() || expired.is_some() {
        let mut r = json!({});
        if let Some(i) = too_new {
            r["tooNewLogEventStartIndex"] = json!(i);
        }
        if let Some(i) = too_old {
            r["tooOldLogEventEndIndex"] = json!(i);
        }
        if let Some(i) = expired {
            r["expiredLogEventEndIndex"] = json!(i);
        }
        out["rejectedLogEventsInfo"] = r;
    }
    Ok(out)
}

fn in_range(input: &Json, ts: i64) -> bool {
    let start = input
        .get("startTime")
        .and_then(Json::as_i64)
        .unwrap_or(i64::MIN);
    let end = input
        .get("endTime")
        .and_then(Json::as_i64)
        .unwrap_or(i64::MAX);
    ts >= start && ts < end
}

fn get_log_events(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let stream_name = req(input, "logStreamName")?.to_string();
    let g = group(b, input)?;
    let s = g
        .streams
        .get(&stream_name)
        .ok_or_else(|| not_found("The specified log stream does not exist."))?;
    let events: Vec<&Event> = s
        .events
        .iter()
        .filter(|e| in_range(input, e.timestamp))
        .collect();
    let limit = input
        .get("limit")
        .and_then(Json::as_u64)
        .map(|n| n as usize)
        .unwrap_or(10_000)
        .clamp(1, 10_000);
    let from_head = input
        .get("startFromHead")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let start = match input.get("nextToken").and_then(Json::as_str) {
        Some(t) if t.starts_with("f/") => t[2..]
            .parse::<usize>()
            .map_err(|_| invalid("The specified nextToken is invalid."))?,
        Some(t) if t.starts_with("b/") => t[2..]
            .parse::<usize>()
            .map_err(|_| invalid("The specified nextToken is invalid."))?
            .saturating_sub(limit),
        Some(_) => return Err(invalid("The specified nextToken is invalid.")),
        None if from_head => 0,
        None => events.len().saturating_sub(limit),
    };
    let start = start.min(events.len());
    let end = (start + limit).min(events.len());
    let out: Vec<Json> = events[start..end].iter().map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time})).collect();
    Ok(
        json!({"events": out, "nextForwardToken": format!("f/{end:020}"), "nextBackwardToken": format!("b/{start:020}")}),
    )
}

fn filter_log_events(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let pattern = parse(
        input
            .get("filterPattern")
            .and_then(Json::as_str)
            .unwrap_or(""),
    )
    .map_err(invalid)?;
    let names: Vec<String> = crate::input::str_list(input, "logStreamNames");
    let prefix = input
        .get("logStreamNamePrefix")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    if !names.is_empty() && !prefix.is_empty() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive",
        ));
    }
    let g = group(b, input)?;
    let mut hits: Vec<(String, &Event)> = Vec::new();
    let mut searched = Vec::new();
    for (n, s) in g
        .streams
        .iter()
        .filter(|(n, _)| (names.is_empty() || names.contains(n)) && n.starts_with(&prefix))
    {
        searched.push(json!({"logStreamName": n, "searchedCompletely": true}));
        hits.extend(
            s.events
                .iter()
                .filter(|e| in_range(input, e.timestamp) && pattern.matches(&e.message))
                .map(|e| (n.clone(), e)),
        );
    }
    hits.sort_by_key(|(_, e)| (e.timestamp, e.id));
    let all: Vec<Json> = hits
        .iter()
        .map(|(n, e)| json!({"logStreamName": n, "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time, "eventId": format!("{:056}", e.id)}))
        .collect();
    let (items, next) = page(all, input, 10_000)?;
    Ok(with_token(
        json!({"events": items, "searchedLogStreams": searched}),
        next,
    ))
}

fn put_metric_filter(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req(input, "filterName")?.to_string();
    let pattern = input
        .get("filterPattern")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("filterPattern is required"))?
        .to_string();
    parse(&pattern).map_err(|e| invalid(format!("Invalid metric filter pattern: {e}")))?;
    let t = input
        .get("metricTransformations")
        .cloned()
        .unwrap_or(Json::Null);
    let ok = t.as_array().is_some_and(|a| {
        a.len() == 1
            && a.iter().all(|x| {
                ["metricName", "metricNamespace", "metricValue"]
                    .iter()
                    .all(|k| {
                        x.get(k)
                            .and_then(Json::as_str)
                            .is_some_and(|s| !s.is_empty())
                    })
            })
    });
    if !ok {
        return Err(invalid("metricTransformations must hold exactly one transformation with metricName, metricNamespace and metricValue"));
    }
    let now = now_ms(ctx);
    group(b, input)?.metric_filters.insert(
        name.clone(),
        MetricFilter {
            name,
            pattern,
            transformations: t,
            created: now,
        },
    );
    Ok(json!({}))
}

fn describe_metric_filters(
    b: &mut Backend,
    _ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let prefix = input
        .get("filterNamePrefix")
        .and_then(Json::as_str)
        .unwrap_or("");
    let metric = input.get("metricName").and_then(Json::as_str);
    let ns = input.get("metricNamespace").and_then(Json::as_str);
    let only_group = input.get("logGroupName").and_then(Json::as_str);
    let mut all = Vec::new();
    for (gname, g) in b
        .groups
        .iter()
        .filter(|(n, _)| only_group.is_none_or(|o| o == n.as_str()))
    {
        for f in g
            .metric_filters
            .values()
            .filter(|f| f.name.starts_with(prefix))
        {
            let t = &f.transformations[0];
            if metric.is_some_and(|m| t["metricName"] != m)
                || ns.is_some_and(|n| t["metricNamespace"] != n)
            {
                continue;
            }
            all.push(json!({"filterName": f.name, "filterPattern": f.pattern, "metricTransformations": f.transformations, "creationTime": f.created, "logGroupName": gname}));
        }
    }
    if let Some(g) = only_group {
        if !b.groups.contains_key(g) {
            return Err(not_found("The specified log group does not exist."));
        }
    }
    let (items, next) = page(all, input, 50)?;
    Ok(with_token(json!({"metricFilters": items}), next))
}

fn delete_metric_filter(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req(input, "filterName")?.to_string();
    group(b, input)?
        .metric_filters
        .remove(&name)
        .ok_or_else(|| not_found("The specified metric filter does not exist."))?;
    Ok(json!({}))
}

/// The log group an ARN names.
fn group_by_arn<'b>(b: &'b mut Backend, input: &Json) -> Result<&'b mut Group, AwsError> {
    let arn = req(input, "resourceArn")?;
    let name = arn
        .split_once(":log-group:")
        .map(|(_, n)| n.trim_end_matches(":*"))
        .ok_or_else(|| invalid(format!("{arn} is not a log group ARN")))?;
    b.groups
        .get_mut(name)
        .ok_or_else(|| not_found("The specified resource does not exist."))
}

fn tag_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let tags = tags_of(input);
    group_by_arn(b, input)?.tags.extend(tags);
    Ok(json!({}))
}

fn untag_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let keys: Vec<String> = crate::input::str_list(input, "tagKeys");
    group_by_arn(b, input)?
        .tags
        .retain(|k, _| !keys.contains(k));
    Ok(json!({}))
}

fn list_tags_for_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    Ok(json!({"tags": group_by_arn(b, input)?.tags}))
}
