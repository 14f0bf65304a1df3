//! Amazon Lightsail (`Lightsail_20161128`, awsJson1_1), in moto's split: `wire` parses inputs
//! and renders answers (and holds the operation table), `backend` changes state with
//! Lightsail's rules and typed errors (`error`) and knows nothing of JSON, `model` holds the
//! resources and catalogue. The load balancers' listeners are `crate::dataplane`'s.
pub mod backend;
pub mod error;
pub mod model;
pub mod wire;

use serde_json::{json, Value as Json};

pub use crate::hosts::HostAction;
pub use crate::Ctx;
pub use backend::Backend;

pub type Handler = crate::Handler<Backend>;

/// Lightsail as a service: awsJson1_1, state per account and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "Lightsail",
    model: "lightsail",
    target_prefix: "Lightsail_20161128",
    signing_name: "lightsail",
    protocol: crate::service::Protocol::AwsJson11,
    scope: crate::service::Scope::Regional,
    operations: wire::OPERATIONS,
    unsigned: &[],
    summary: Some(summary),
};

fn summary(b: &Backend, _ctx: &Ctx<'_>) -> Json {
    json!({
        "instances": b.instances.keys().collect::<Vec<_>>(),
        "load_balancers": b.load_balancers.keys().collect::<Vec<_>>(),
        "operations": b.operations.len(),
    })
}

/// What the data plane should run for this backend's load balancers.
pub fn desired_load_balancers(b: &Backend) -> Vec<(String, crate::dataplane::LbConfig)> {
    b.load_balancers
        .values()
        .map(|lb| {
            let targets = lb
                .instances
                .iter()
                .filter_map(|n| {
                    b.instances
                        .get(n)
                        .map(|i| (n.clone(), i.private_ip.clone()))
                })
                .collect();
            (
                lb.name.clone(),
                crate::dataplane::LbConfig {
                    dns_name: lb.dns_name.clone(),
                    instance_port: lb.instance_port.clamp(0, 65535) as u16,
                    health_check_path: lb.health_check_path.clone(),
                    targets,
                },
            )
        })
        .collect()
}
