//! SSM on the wire (awsJson1_1): typed inputs parsed with serde, the backend called, results
//! rendered as SSM renders them, and the operation table. One file per area.
pub mod activations;
pub mod associations;
pub mod commands;
pub mod documents;
pub mod parameters;
pub mod sessions;
pub mod tagging;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value as Json;

use super::Handler;
use crate::error::AwsError;
use crate::Ctx;

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
    ("AddTagsToResource", tagging::add_tags_to_resource),
    ("RemoveTagsFromResource", tagging::remove_tags_from_resource),
    ("ListTagsForResource", tagging::list_tags_for_resource),
    ("CreateAssociation", associations::create_association),
    ("DescribeAssociation", associations::describe_association),
    ("UpdateAssociation", associations::update_association),
    ("DeleteAssociation", associations::delete_association),
    ("ListAssociations", associations::list_associations),
    (
        "DescribeInstanceAssociationsStatus",
        associations::describe_instance_associations_status,
    ),
];

pub type Answer = Result<Json, AwsError>;

/// The typed input of an operation (members the emulator does not use are ignored).
pub fn parse<T: DeserializeOwned>(input: &Json) -> Result<T, AwsError> {
    T::deserialize(input).map_err(|e| AwsError::serialization(e.to_string()))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub fn tag_map(tags: Vec<Tag>) -> BTreeMap<String, String> {
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

pub fn tags_json(tags: &BTreeMap<String, String>) -> Json {
    Json::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// Offset-based pagination with `NextToken` and `MaxResults`.
pub fn page(
    items: Vec<Json>,
    next_token: Option<&str>,
    max_results: Option<usize>,
    default_max: usize,
) -> Result<(Vec<Json>, Option<String>), AwsError> {
    crate::input::offset_page(items, next_token, max_results.unwrap_or(default_max))
        .map_err(|_| AwsError::new(400, "InvalidNextToken", "The specified token is not valid."))
}

/// Adds `NextToken` when there is a next page.
pub fn with_next(mut j: Json, next: Option<String>) -> Json {
    if let Some(t) = next {
        j["NextToken"] = serde_json::json!(t);
    }
    j
}

pub fn arn(ctx: &Ctx<'_>, resource: &str) -> String {
    format!("arn:aws:ssm:{}:{}:{resource}", ctx.region, ctx.account)
}
