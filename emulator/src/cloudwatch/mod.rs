//! Amazon CloudWatch (`GraniteServiceVersion20100801`): metric data, statistics, alarms and their
//! evaluation. Spoken as smithy rpcv2-CBOR (what the Rust SDK sends) and awsJson1_0. In moto's
//! split: `wire` parses and renders (and holds the operation table), `backend` keeps samples
//! and alarms with CloudWatch's rules and typed errors, `protocol` is the CBOR framing.
pub mod backend;
pub mod protocol;
pub mod wire;

pub use backend::{Alarm, Backend, MetricKey, Sample};

pub type Handler = crate::Handler<Backend>;

/// CloudWatch as a service: awsJson1_0 (and rpcv2-CBOR, chosen by the request), per account
/// and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "CloudWatch",
    model: "cloudwatch",
    target_prefix: "GraniteServiceVersion20100801",
    signing_name: "monitoring",
    protocol: crate::service::Protocol::AwsJson10,
    scope: crate::service::Scope::Regional,
    operations: wire::OPERATIONS,
    unsigned: &[],
    summary: Some(summary),
};

fn summary(b: &Backend, _ctx: &crate::Ctx<'_>) -> serde_json::Value {
    serde_json::json!({
        "alarms": b.alarms.values().map(|a| serde_json::json!({"name": a.name, "state": a.state})).collect::<Vec<_>>(),
        "metrics": b.metrics.len(),
    })
}
