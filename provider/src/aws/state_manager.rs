//! The log pipeline's SSM side: the agent configuration parameter, the State Manager
//! association that applies it to an instance group's nodes (also ones that register later),
//! the nodes' association status, and a one-off Run Command (the agents' stop on destroy).
use std::collections::BTreeMap;

use aws_sdk_ssm::types::{
    AssociationFilter, AssociationFilterKey, ParameterTier, ParameterType, Target,
};
use aws_sdk_ssm::Client;

use super::error::AwsError;

/// The document that configures, starts and stops the CloudWatch agent.
pub const MANAGE_AGENT: &str = "AmazonCloudWatch-ManageAgent";

fn build_err(op: &'static str, e: impl std::fmt::Display) -> AwsError {
    AwsError::Api {
        operation: op,
        code: String::new(),
        message: e.to_string(),
    }
}

/// A parameter's value; `NotFound` when it does not exist.
#[tracing::instrument(skip_all, fields(parameter = name))]
pub async fn get_parameter(c: &Client, name: &str) -> Result<String, AwsError> {
    match c.get_parameter().name(name).send().await {
        Ok(out) => Ok(out.parameter.and_then(|p| p.value).unwrap_or_default()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Err(AwsError::not_found(format!("SSM parameter {name}")))
        }
        Err(e) => Err(AwsError::from_sdk("GetParameter", &e)),
    }
}

/// Write a Standard String parameter (overwriting).
#[tracing::instrument(skip_all, fields(parameter = name))]
pub async fn put_parameter(
    c: &Client,
    name: &str,
    value: &str,
    description: &str,
) -> Result<(), AwsError> {
    c.put_parameter()
        .name(name)
        .value(value)
        .description(description)
        .r#type(ParameterType::String)
        .tier(ParameterTier::Standard)
        .overwrite(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("PutParameter", &e))
}

#[tracing::instrument(skip_all, fields(parameter = name))]
pub async fn delete_parameter(c: &Client, name: &str) -> Result<(), AwsError> {
    match c.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteParameter", &e)),
    }
}

/// An association as the pipeline reads it back.
#[derive(Clone, Debug, PartialEq)]
pub struct Association {
    pub id: String,
    pub version: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub targets: Vec<(String, Vec<String>)>,
}

/// The association named `association_name`; `NotFound` when there is none.
#[tracing::instrument(skip_all, fields(association = association_name))]
pub async fn find_association(c: &Client, association_name: &str) -> Result<Association, AwsError> {
    let filter = AssociationFilter::builder()
        .key(AssociationFilterKey::AssociationName)
        .value(association_name)
        .build()
        .map_err(|e| build_err("ListAssociations", e))?;
    let out = c
        .list_associations()
        .association_filter_list(filter)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListAssociations", &e))?;
    let Some(id) = out
        .associations()
        .iter()
        .find_map(|a| a.association_id().map(str::to_string))
    else {
        return Err(AwsError::not_found(format!(
            "association {association_name}"
        )));
    };
    let d = c
        .describe_association()
        .association_id(&id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAssociation", &e))?
        .association_description
        .unwrap_or_else(|| aws_sdk_ssm::types::AssociationDescription::builder().build());
    Ok(Association {
        id,
        version: d.association_version().unwrap_or("").to_string(),
        parameters: d
            .parameters()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        targets: d
            .targets()
            .iter()
            .map(|t| (t.key().unwrap_or("").to_string(), t.values().to_vec()))
            .collect(),
    })
}

fn tag_target(key: &str, value: &str) -> Target {
    Target::builder()
        .key(format!("tag:{key}"))
        .values(value)
        .build()
}

/// Create the association, or update it when one with that name exists: `Ok(id)`.
#[tracing::instrument(skip_all, fields(association = association_name))]
pub async fn put_association(
    c: &Client,
    association_name: &str,
    tag: (&str, &str),
    parameters: &BTreeMap<String, Vec<String>>,
) -> Result<String, AwsError> {
    let params: std::collections::HashMap<String, Vec<String>> =
        parameters.clone().into_iter().collect();
    match find_association(c, association_name).await {
        Ok(a) => {
            c.update_association()
                .association_id(&a.id)
                .targets(tag_target(tag.0, tag.1))
                .set_parameters(Some(params))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdateAssociation", &e))?;
            Ok(a.id)
        }
        Err(AwsError::NotFound { .. }) => {
            let out = c
                .create_association()
                .name(MANAGE_AGENT)
                .association_name(association_name)
                .targets(tag_target(tag.0, tag.1))
                .set_parameters(Some(params))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("CreateAssociation", &e))?;
            Ok(out
                .association_description
                .and_then(|d| d.association_id)
                .unwrap_or_default())
        }
        Err(e) => Err(e),
    }
}

#[tracing::instrument(skip_all, fields(association = id))]
pub async fn delete_association(c: &Client, id: &str) -> Result<(), AwsError> {
    match c.delete_association().association_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_association_does_not_exist()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteAssociation", &e)),
    }
}

/// A node's status for association `id`: (association version, `Pending`/`Success`/`Failed`,
/// detail); `None` when it was not applied to the node yet.
#[tracing::instrument(skip_all, fields(node = node, association = id))]
pub async fn node_status(
    c: &Client,
    node: &str,
    id: &str,
) -> Result<Option<(String, String, String)>, AwsError> {
    let out = c
        .describe_instance_associations_status()
        .instance_id(node)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeInstanceAssociationsStatus", &e))?;
    Ok(out
        .instance_association_status_infos()
        .iter()
        .find(|i| i.association_id() == Some(id))
        .map(|i| {
            (
                i.association_version().unwrap_or("").to_string(),
                i.status().unwrap_or("").to_string(),
                [i.detailed_status(), i.error_code(), i.execution_summary()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        }))
}

/// Run `document` with `parameters` once on the nodes tagged `tag` (no wait): the command id.
#[tracing::instrument(skip_all, fields(document = document))]
pub async fn send_to_tagged(
    c: &Client,
    document: &str,
    tag: (&str, &str),
    parameters: &BTreeMap<String, Vec<String>>,
) -> Result<String, AwsError> {
    let out = c
        .send_command()
        .document_name(document)
        .targets(tag_target(tag.0, tag.1))
        .set_parameters(Some(parameters.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("SendCommand", &e))?;
    Ok(out.command.and_then(|c| c.command_id).unwrap_or_default())
}
