//! Amazon CloudWatch Logs (`Logs_20140328`, awsJson1_1): groups, retention, streams, events,
//! filtering, metric filters (which turn matching events into CloudWatch metric data), tags.
//! In moto's split: `wire` parses and renders (and holds the operation table), `backend`
//! changes state with Logs' rules and typed errors, `filter` is the filter pattern language.
pub mod backend;
pub mod filter;
pub mod wire;

use serde_json::Value as Json;

pub use crate::effects::MetricPoint;
pub use backend::{Backend, Event, Group, MetricFilter, Stream, RETENTION_DAYS};

pub type Handler = crate::Handler<Backend>;

/// CloudWatch Logs as a service: awsJson1_1, state per account and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "Logs",
    model: "logs",
    target_prefix: "Logs_20140328",
    signing_name: "logs",
    protocol: crate::service::Protocol::AwsJson11,
    scope: crate::service::Scope::Regional,
    operations: wire::OPERATIONS,
    unsigned: &[],
    summary: Some(summary),
};

fn summary(b: &Backend, _ctx: &crate::Ctx<'_>) -> Json {
    serde_json::json!({"log_groups": b.groups.keys().collect::<Vec<_>>()})
}
