//! AWS Systems Manager (`AmazonSSM`, awsJson1_1): hybrid activations, managed nodes, Run
//! Command, documents, parameters, service settings and sessions.
//!
//! Commands execute only on real hosts (instances when hosts are on). Where no host can run one, every
//! invocation ends `Failed` with a message that says so; nothing reports a fake success.
pub mod activations;
pub mod aws_documents;
pub mod commands;
pub mod documents;
pub mod error;
pub mod parameters;
pub mod session_content;
pub mod sessions;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::error::AwsError;
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
    operations: OPERATIONS,
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

/// The operation table: dispatch, the catalogue (`hastack-local status`) and the fidelity
/// suites' coverage list all come from it.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("CreateActivation", activations::create_activation),
    ("DescribeActivations", activations::describe_activations),
    ("DeleteActivation", activations::delete_activation),
    (
        "DescribeInstanceInformation",
        activations::describe_instance_information,
    ),
    (
        "DeregisterManagedInstance",
        activations::deregister_managed_instance,
    ),
    ("SendCommand", commands::send_command),
    ("ListCommands", commands::list_commands),
    ("ListCommandInvocations", commands::list_command_invocations),
    ("GetCommandInvocation", commands::get_command_invocation),
    ("CancelCommand", commands::cancel_command),
    ("CreateDocument", documents::create_document),
    ("GetDocument", documents::get_document),
    ("DescribeDocument", documents::describe_document),
    ("UpdateDocument", documents::update_document),
    (
        "UpdateDocumentDefaultVersion",
        documents::update_document_default_version,
    ),
    ("DeleteDocument", documents::delete_document),
    ("PutParameter", parameters::put_parameter),
    ("GetParameter", parameters::get_parameter),
    ("GetParameters", parameters::get_parameters),
    ("DeleteParameter", parameters::delete_parameter),
    ("GetServiceSetting", sessions::get_service_setting),
    ("UpdateServiceSetting", sessions::update_service_setting),
    ("StartSession", sessions::start_session),
    ("TerminateSession", sessions::terminate_session),
    ("DescribeSessions", sessions::describe_sessions),
];

/// The handler of `operation`, if this service implements it.
pub fn handler(operation: &str) -> Option<Handler> {
    OPERATIONS
        .iter()
        .find(|(n, _)| *n == operation)
        .map(|(_, h)| *h)
}

pub(crate) fn req_str<'a>(input: &'a Json, key: &str) -> Result<&'a str, AwsError> {
    input.get(key).and_then(Json::as_str).filter(|s| !s.is_empty()).ok_or_else(|| error::validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(key))))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub(crate) fn tags_from(input: &Json) -> BTreeMap<String, String> {
    input
        .get("Tags")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t.get("Key")?.as_str()?.to_string(),
                        t.get("Value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn tags_json(tags: &BTreeMap<String, String>) -> Json {
    Json::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// Offset-based pagination with `NextToken`.
pub(crate) fn page(
    items: Vec<Json>,
    input: &Json,
    default_max: usize,
) -> Result<(Vec<Json>, Option<String>), AwsError> {
    let max = input
        .get("MaxResults")
        .and_then(Json::as_u64)
        .map(|n| n as usize)
        .unwrap_or(default_max);
    crate::input::offset_page(items, input.get("NextToken").and_then(Json::as_str), max)
        .map_err(|_| AwsError::new(400, "InvalidNextToken", "The specified token is not valid."))
}

pub(crate) fn ctx_arn(ctx: &Ctx<'_>, resource: &str) -> String {
    format!("arn:aws:ssm:{}:{}:{resource}", ctx.region, ctx.account)
}
