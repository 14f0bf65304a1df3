//! Amazon CloudWatch Logs (`Logs_20140328`, awsJson1_1): groups, retention, streams, events,
//! filtering, metric filters (which turn matching events into CloudWatch metric data), tags.
pub mod filter;
pub mod handlers;

use std::collections::BTreeMap;

use serde_json::Value as Json;

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

#[derive(Clone, Debug)]
pub struct MetricFilter {
    pub name: String,
    pub pattern: String,
    pub transformations: Json,
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
}

/// One account's CloudWatch Logs in one region.
#[derive(Default)]
pub struct Backend {
    pub groups: BTreeMap<String, Group>,
    pub next_event_id: u64,
}

pub use crate::effects::MetricPoint;

pub type Handler = crate::Handler<Backend>;

/// CloudWatch Logs as a service: awsJson1_1, state per account and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "Logs",
    model: "logs",
    target_prefix: "Logs_20140328",
    signing_name: "logs",
    protocol: crate::service::Protocol::AwsJson11,
    scope: crate::service::Scope::Regional,
    operations: handlers::OPERATIONS,
    unsigned: &[],
    summary: Some(summary),
};

fn summary(b: &Backend, _ctx: &crate::Ctx<'_>) -> Json {
    serde_json::json!({"log_groups": b.groups.keys().collect::<Vec<_>>()})
}

/// CloudWatch Logs' allowed `retentionInDays` values.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
