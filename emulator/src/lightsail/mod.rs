//! Amazon Lightsail (`Lightsail_20161128`, awsJson1_1).
pub mod dataplane;
pub mod error;
pub mod handlers;
pub mod model;

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

pub use crate::Ctx;
use model::{Instance, LoadBalancer, Operation, Outcome};

/// One account's Lightsail in one region.
#[derive(Default)]
pub struct Backend {
    pub instances: BTreeMap<String, Instance>,
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub operations: BTreeMap<String, Operation>,
    /// Order of operation ids, newest last (GetOperations lists newest first).
    pub operation_log: Vec<String>,
    next_ip: u32,
}

pub use crate::hosts::HostAction;

pub type Handler = crate::Handler<Backend>;

/// Lightsail as a service: awsJson1_1, state per account and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "Lightsail",
    model: "lightsail",
    target_prefix: "Lightsail_20161128",
    signing_name: "lightsail",
    protocol: crate::service::Protocol::AwsJson11,
    scope: crate::service::Scope::Regional,
    operations: handlers::OPERATIONS,
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

impl Backend {
    /// An instance gone without an API call (out-of-band deletion): detached everywhere, its
    /// host deleted. Whether it existed.
    pub fn disappear_instance(&mut self, ctx: &Ctx<'_>, name: &str) -> bool {
        if self.instances.remove(name).is_none() {
            return false;
        }
        for lb in self.load_balancers.values_mut() {
            lb.instances.retain(|n| n != name);
        }
        ctx.emit(crate::effects::Effect::Host(HostAction::Delete(
            name.to_string(),
        )));
        ctx.emit(crate::effects::Effect::ResyncLoadBalancers);
        true
    }

    /// A load balancer gone without an API call: its listener goes with the re-sync.
    pub fn disappear_load_balancer(&mut self, ctx: &Ctx<'_>, name: &str) -> bool {
        let gone = self.load_balancers.remove(name).is_some();
        if gone {
            ctx.emit(crate::effects::Effect::ResyncLoadBalancers);
        }
        gone
    }

    /// Allocate a (private, public) address pair in the benchmarking range this machine keeps to itself.
    pub fn allocate_ips(&mut self) -> (String, String) {
        let n = self.next_ip;
        self.next_ip += 1;
        (
            format!("198.18.{}.{}", n / 250, n % 250 + 2),
            format!("198.19.{}.{}", n / 250, n % 250 + 2),
        )
    }

    /// Record a new operation and return its JSON.
    pub fn operation(
        &mut self,
        ctx: &Ctx<'_>,
        resource_name: &str,
        resource_type: &str,
        zone: &str,
        operation_type: &str,
        details: &str,
    ) -> Json {
        let outcome = match &ctx.fail_operations {
            Some((code, details)) => Outcome::Failed {
                code: code.clone(),
                details: details.clone(),
            },
            None => Outcome::Succeeded,
        };
        let op = Operation {
            id: uuid::Uuid::new_v4().to_string(),
            resource_name: resource_name.into(),
            resource_type: resource_type.into(),
            zone: zone.into(),
            operation_type: operation_type.into(),
            details: details.into(),
            created_at: ctx.now,
            outcome,
        };
        let j = operation_json(&op, ctx);
        // Every changing call records an operation: load balancers or their instances may
        // have changed, so the data plane re-syncs after it.
        ctx.emit(crate::effects::Effect::ResyncLoadBalancers);
        self.operation_log.push(op.id.clone());
        self.operations.insert(op.id.clone(), op);
        j
    }
}

/// An operation as of `ctx.now`: NotStarted → Started → Succeeded/Failed over the profile's operation latency.
pub fn operation_json(op: &Operation, ctx: &Ctx<'_>) -> Json {
    let done_at = op.created_at + ctx.profile.operation;
    // NotStarted for the first quarter of the latency, Started until it has passed, then the outcome.
    let started_at = op.created_at + ctx.profile.operation / 4.0;
    let (status, changed, error) = if ctx.now < started_at {
        ("NotStarted", op.created_at, None)
    } else if ctx.now < done_at {
        ("Started", started_at, None)
    } else {
        match &op.outcome {
            Outcome::Succeeded => ("Succeeded", done_at, None),
            Outcome::Failed { code, details } => ("Failed", done_at, Some((code, details))),
        }
    };
    let mut j = json!({
        "id": op.id,
        "resourceName": op.resource_name,
        "resourceType": op.resource_type,
        "createdAt": op.created_at,
        "location": {"availabilityZone": op.zone, "regionName": ctx.region},
        "isTerminal": !matches!(status, "NotStarted" | "Started"),
        "operationDetails": op.details,
        // Tagging has no OperationType in the service model: the member is omitted then.
        "operationType": (!op.operation_type.is_empty()).then_some(&op.operation_type),
        "status": status,
        "statusChangedAt": changed,
    });
    if let Some((code, details)) = error {
        j["errorCode"] = json!(code);
        j["errorDetails"] = json!(details);
    }
    j
}

/// What the data plane should run for this backend's load balancers.
pub fn desired_load_balancers(b: &Backend) -> Vec<(String, dataplane::LbConfig)> {
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
                dataplane::LbConfig {
                    dns_name: lb.dns_name.clone(),
                    instance_port: lb.instance_port.clamp(0, 65535) as u16,
                    health_check_path: lb.health_check_path.clone(),
                    targets,
                },
            )
        })
        .collect()
}
