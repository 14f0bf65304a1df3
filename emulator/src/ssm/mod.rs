//! AWS Systems Manager (`AmazonSSM`, awsJson1_1): hybrid activations, managed nodes, Run
//! Command, documents, parameters, service settings and sessions.
//!
//! In moto's split: each area's file (`activations`, `commands`, `documents`, `parameters`,
//! `sessions`) changes state with SSM's rules and typed errors (`error`) and knows nothing of the
//! wire; `wire/` parses inputs, renders answers and holds the operation table.
//!
//! Commands execute only on real hosts (instances when hosts are on). Where no host can run one, every
//! invocation ends `Failed` with a message that says so; nothing reports a fake success.
pub mod access;
pub mod activations;
pub mod agent_message;
pub mod associations;
pub mod aws_documents;
pub mod commands;
pub mod documents;
pub mod error;
pub mod parameters;
pub mod session_content;
pub mod sessions;
pub mod tagging;
pub mod wire;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::Ctx;

/// One account's SSM in one region.
#[derive(Default)]
pub struct Backend {
    pub activations: BTreeMap<String, activations::Activation>,
    pub nodes: BTreeMap<String, activations::Node>,
    pub commands: Vec<commands::Command>,
    pub documents: BTreeMap<String, documents::Document>,
    pub parameters: BTreeMap<String, parameters::Parameter>,
    pub settings: BTreeMap<String, (String, f64)>,
    pub sessions: Vec<sessions::Session>,
    pub associations: BTreeMap<String, associations::Association>,
    /// The SecureString key, made on first use.
    pub secure_key: Option<[u8; 32]>,
}

pub type Handler = crate::Handler<Backend>;

/// SSM as a service: awsJson1_1, state per account and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "SSM",
    model: "ssm",
    target_prefix: "AmazonSSM",
    signing_name: "ssm",
    protocol: crate::service::Protocol::AwsJson11,
    scope: crate::service::Scope::Regional,
    operations: wire::OPERATIONS,
    unsigned: &[],
    summary: Some(summary),
};

/// Names and counts: no parameter values, no activation codes.
fn summary(b: &Backend, ctx: &Ctx<'_>) -> Json {
    serde_json::json!({
        "activations": b.activations.keys().collect::<Vec<_>>(),
        "managed_nodes": b.nodes.values().map(|n| serde_json::json!({"id": n.id, "ping": activations::ping_status(n, ctx.hosts)})).collect::<Vec<_>>(),
        "documents": b.documents.keys().collect::<Vec<_>>(),
        "parameters": b.parameters.keys().collect::<Vec<_>>(),
        "commands": b.commands.len(),
    })
}
