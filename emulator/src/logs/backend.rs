//! One account's CloudWatch Logs in one region: groups, retention, streams, events, metric
//! filters (matching events become CloudWatch data points, through the call's effects), tags.
//! CloudWatch Logs' rules and typed errors; no JSON.
use std::collections::BTreeMap;

use super::filter::{parse, Pattern};
use crate::effects::{Effect, MetricPoint};
use crate::Ctx;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogsError {
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceAlreadyExists(String),
}

pub type Result<T> = std::result::Result<T, LogsError>;

fn invalid(msg: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(msg.into())
}

fn not_found(msg: &str) -> LogsError {
    LogsError::ResourceNotFound(msg.into())
}

/// CloudWatch Logs' allowed `retentionInDays` values.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Clone, Debug)]
pub struct Event {
    pub timestamp: i64,
    pub message: String,
    pub ingestion_time: i64,
    pub id: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub created: i64,
    pub events: Vec<Event>,
    pub last_ingestion: Option<i64>,
}

/// A metric filter's transformation: what a matching event becomes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transformation {
    pub metric_name: String,
    pub metric_namespace: String,
    /// A number or `$.selector` / `$field`.
    pub metric_value: String,
    pub default_value: Option<f64>,
    pub unit: Option<String>,
    /// Dimension name → `$.selector` / `$field`.
    pub dimensions: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct MetricFilter {
    pub name: String,
    pub pattern: String,
    pub transformations: Vec<Transformation>,
    pub created: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    pub created: i64,
    pub retention: Option<i64>,
    pub streams: BTreeMap<String, Stream>,
    pub metric_filters: BTreeMap<String, MetricFilter>,
    pub tags: BTreeMap<String, String>,
    pub kms_key_id: Option<String>,
    /// `INFREQUENT_ACCESS`, or `None` for STANDARD (the default). Fixed at creation.
    pub infrequent_access: bool,
}

#[derive(Default)]
pub struct Backend {
    pub groups: BTreeMap<String, Group>,
    pub next_event_id: u64,
}

/// What PutLogEvents did: the last event id, and the 1-based bounds of rejected events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Put {
    pub last_id: u64,
    pub too_new_start: Option<usize>,
    pub too_old_end: Option<usize>,
    pub expired_end: Option<usize>,
}

/// Which streams FilterLogEvents searches, and what it looks for.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub pattern: String,
    pub stream_names: Vec<String>,
    pub stream_prefix: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// What FilterLogEvents found: (stream, event) oldest first, and the streams searched.
pub struct Filtered<'b> {
    pub hits: Vec<(String, &'b Event)>,
    pub searched: Vec<String>,
}

fn required<'s>(v: &'s str, member: &str) -> Result<&'s str> {
    if v.is_empty() {
        Err(invalid(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null")))
    } else {
        Ok(v)
    }
}

pub fn now_ms(ctx: &Ctx<'_>) -> i64 {
    (ctx.now * 1000.0) as i64
}

/// Whether `ts` is in [start, end).
pub fn in_range(start: Option<i64>, end: Option<i64>, ts: i64) -> bool {
    ts >= start.unwrap_or(i64::MIN) && ts < end.unwrap_or(i64::MAX)
}

impl Backend {
    pub fn group(&self, name: &str) -> Result<&Group> {
        let name = required(name, "logGroupName")?;
        self.groups
            .get(name)
            .ok_or_else(|| not_found("The specified log group does not exist."))
    }

    fn group_mut(&mut self, name: &str) -> Result<&mut Group> {
        let name = required(name, "logGroupName")?;
        self.groups
            .get_mut(name)
            .ok_or_else(|| not_found("The specified log group does not exist."))
    }

    pub fn create_log_group(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        tags: BTreeMap<String, String>,
        kms_key_id: Option<String>,
    ) -> Result<()> {
        let name = required(name, "logGroupName")?.to_string();
        if name.len() > 512
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
        {
            return Err(invalid(format!("1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")));
        }
        if self.groups.contains_key(&name) {
            return Err(LogsError::ResourceAlreadyExists(
                "The specified log group already exists".into(),
            ));
        }
        self.groups.insert(
            name,
            Group {
                created: now_ms(ctx),
                tags,
                kms_key_id,
                ..Default::default()
            },
        );
        Ok(())
    }

    pub fn delete_log_group(&mut self, name: &str) -> Result<()> {
        let name = required(name, "logGroupName")?;
        self.groups
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found("The specified log group does not exist."))
    }

    /// Groups whose name starts with `prefix` and contains `pattern`.
    pub fn log_groups(&self, prefix: &str, pattern: &str) -> Vec<(&String, &Group)> {
        self.groups
            .iter()
            .filter(|(n, _)| n.starts_with(prefix) && n.contains(pattern))
            .collect()
    }

    /// Set (Some) or remove (None) a group's retention; only AWS's allowed values.
    pub fn set_retention(&mut self, group: &str, days: Option<i64>) -> Result<()> {
        if let Some(d) = days {
            if !RETENTION_DAYS.contains(&d) {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{d}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
                )));
            }
        }
        self.group_mut(group)?.retention = days;
        Ok(())
    }

    pub fn create_log_stream(&mut self, ctx: &Ctx<'_>, group: &str, stream: &str) -> Result<()> {
        let stream = required(stream, "logStreamName")?.to_string();
        if stream.contains(':') || stream.contains('*') {
            return Err(invalid("Log stream names cannot contain ':' or '*'"));
        }
        let now = now_ms(ctx);
        let g = self.group_mut(group)?;
        if g.streams.contains_key(&stream) {
            return Err(LogsError::ResourceAlreadyExists(
                "The specified log stream already exists".into(),
            ));
        }
        g.streams.insert(
            stream,
            Stream {
                created: now,
                ..Default::default()
            },
        );
        Ok(())
    }

    pub fn delete_log_stream(&mut self, group: &str, stream: &str) -> Result<()> {
        let stream = required(stream, "logStreamName")?.to_string();
        self.group_mut(group)?
            .streams
            .remove(&stream)
            .map(|_| ())
            .ok_or_else(|| not_found("The specified log stream does not exist."))
    }

    /// A group's streams by name prefix, by name or by last event time, ascending or not.
    pub fn log_streams(
        &self,
        group: &str,
        prefix: &str,
        by_last_event: bool,
        descending: bool,
    ) -> Result<Vec<(&String, &Stream)>> {
        if by_last_event && !prefix.is_empty() {
            return Err(invalid(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
        let g = self.group(group)?;
        let mut streams: Vec<(&String, &Stream)> = g
            .streams
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .collect();
        if by_last_event {
            streams.sort_by_key(|(_, s)| s.events.iter().map(|e| e.timestamp).max().unwrap_or(0));
        }
        if descending {
            streams.reverse();
        }
        Ok(streams)
    }

    /// Store events (timestamp, message) in chronological order; events too old, expired by
    /// the retention or too new are rejected (and reported), the rest run through the group's
    /// metric filters.
    pub fn put_log_events(
        &mut self,
        ctx: &Ctx<'_>,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> Result<Put> {
        let stream_name = required(stream, "logStreamName")?.to_string();
        if events.is_empty() || events.len() > 10_000 {
            return Err(invalid("logEvents must hold 1 to 10,000 events"));
        }
        if events.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(invalid(
                "Log events in a single PutLogEvents request must be in chronological order.",
            ));
        }
        let now = now_ms(ctx);
        let mut next_id = self.next_event_id;
        let g = self.group_mut(group)?;
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
        let mut put = Put::default();
        for (i, (ts, message)) in events.into_iter().enumerate() {
            if ts < oldest_allowed {
                put.too_old_end = Some(i + 1);
                continue;
            }
            if ts < retention_floor {
                put.expired_end = Some(i + 1);
                continue;
            }
            if ts > newest_allowed {
                put.too_new_start.get_or_insert(i);
                continue;
            }
            let points = metric_points(&filters, ts, &message);
            if !points.is_empty() {
                ctx.emit(Effect::MetricPoints(points));
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
        self.next_event_id = next_id;
        put.last_id = next_id;
        Ok(put)
    }

    /// A stream's events in [start, end).
    pub fn log_events(
        &self,
        group: &str,
        stream: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Vec<&Event>> {
        let stream = required(stream, "logStreamName")?;
        let s = self
            .group(group)?
            .streams
            .get(stream)
            .ok_or_else(|| not_found("The specified log stream does not exist."))?;
        Ok(s.events
            .iter()
            .filter(|e| in_range(start, end, e.timestamp))
            .collect())
    }

    /// Events matching a filter pattern across a group's streams, oldest first, and the
    /// streams searched.
    pub fn filter_log_events(&self, group: &str, f: &EventFilter) -> Result<Filtered<'_>> {
        let pattern = parse(&f.pattern).map_err(invalid)?;
        if !f.stream_names.is_empty() && !f.stream_prefix.is_empty() {
            return Err(invalid(
                "logStreamNames and logStreamNamePrefix are mutually exclusive",
            ));
        }
        let g = self.group(group)?;
        let mut hits: Vec<(String, &Event)> = Vec::new();
        let mut searched = Vec::new();
        for (n, s) in g.streams.iter().filter(|(n, _)| {
            (f.stream_names.is_empty() || f.stream_names.contains(n))
                && n.starts_with(&f.stream_prefix)
        }) {
            searched.push(n.clone());
            hits.extend(
                s.events
                    .iter()
                    .filter(|e| {
                        in_range(f.start, f.end, e.timestamp) && pattern.matches(&e.message)
                    })
                    .map(|e| (n.clone(), e)),
            );
        }
        hits.sort_by_key(|(_, e)| (e.timestamp, e.id));
        Ok(Filtered { hits, searched })
    }

    pub fn put_metric_filter(
        &mut self,
        ctx: &Ctx<'_>,
        group: &str,
        name: &str,
        pattern: Option<String>,
        transformations: Vec<Transformation>,
    ) -> Result<()> {
        let name = required(name, "filterName")?.to_string();
        let pattern = pattern.ok_or_else(|| invalid("filterPattern is required"))?;
        parse(&pattern).map_err(|e| invalid(format!("Invalid metric filter pattern: {e}")))?;
        let complete = |t: &Transformation| {
            !t.metric_name.is_empty()
                && !t.metric_namespace.is_empty()
                && !t.metric_value.is_empty()
        };
        if transformations.len() != 1 || !transformations.iter().all(complete) {
            return Err(invalid("metricTransformations must hold exactly one transformation with metricName, metricNamespace and metricValue"));
        }
        if self.group_mut(group)?.infrequent_access {
            return Err(invalid(
                "Metric filters are not supported for log groups of the INFREQUENT_ACCESS class",
            ));
        }
        let now = now_ms(ctx);
        self.group_mut(group)?.metric_filters.insert(
            name.clone(),
            MetricFilter {
                name,
                pattern,
                transformations,
                created: now,
            },
        );
        Ok(())
    }

    /// Metric filters (of one group, when given) by name prefix, metric name and namespace.
    pub fn metric_filters(
        &self,
        group: Option<&str>,
        prefix: &str,
        metric_name: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Vec<(&String, &MetricFilter)>> {
        if let Some(g) = group {
            self.group(g)?;
        }
        let mut all = Vec::new();
        for (gname, g) in self
            .groups
            .iter()
            .filter(|(n, _)| group.is_none_or(|o| o == n.as_str()))
        {
            for f in g
                .metric_filters
                .values()
                .filter(|f| f.name.starts_with(prefix))
            {
                let t = &f.transformations[0];
                if metric_name.is_some_and(|m| t.metric_name != m)
                    || namespace.is_some_and(|n| t.metric_namespace != n)
                {
                    continue;
                }
                all.push((gname, f));
            }
        }
        Ok(all)
    }

    pub fn delete_metric_filter(&mut self, group: &str, name: &str) -> Result<()> {
        let name = required(name, "filterName")?.to_string();
        self.group_mut(group)?
            .metric_filters
            .remove(&name)
            .map(|_| ())
            .ok_or_else(|| not_found("The specified metric filter does not exist."))
    }

    /// The log group an ARN names (`…:log-group:NAME[:*]`).
    pub fn group_by_arn(&mut self, arn: &str) -> Result<&mut Group> {
        let arn = required(arn, "resourceArn")?;
        let name = arn
            .split_once(":log-group:")
            .map(|(_, n)| n.trim_end_matches(":*"))
            .ok_or_else(|| invalid(format!("{arn} is not a log group ARN")))?;
        self.groups
            .get_mut(name)
            .ok_or_else(|| not_found("The specified resource does not exist."))
    }
}

/// The data points a message produces through metric filters.
fn metric_points(filters: &[(Pattern, MetricFilter)], ts: i64, message: &str) -> Vec<MetricPoint> {
    let mut out = Vec::new();
    for (p, f) in filters {
        if !p.matches(message) {
            continue;
        }
        for t in &f.transformations {
            if let Some(value) = Pattern::extract(message, &t.metric_value) {
                out.push(MetricPoint {
                    namespace: t.metric_namespace.clone(),
                    name: t.metric_name.clone(),
                    value,
                    timestamp: ts as f64 / 1000.0,
                    unit: t.unit.clone(),
                    dimensions: t
                        .dimensions
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), Pattern::extract_text(message, v)?)))
                        .collect(),
                });
            }
        }
    }
    out
}
