//! SSM: hybrid activations and the managed nodes of an instance group.
use std::collections::BTreeMap;

use aws_sdk_ssm::types::{
    DescribeActivationsFilter, DescribeActivationsFilterKeys, InstanceInformationStringFilter,
    PingStatus, Tag,
};
use aws_sdk_ssm::Client;

use super::error::AwsError;
use crate::config::Configured;

pub fn client(c: &Configured) -> Client {
    Client::new(&c.for_service("ssm"))
}

/// The tag every managed node of group `prefix` carries (through its activation).
pub const GROUP_TAG: &str = "hastack:group";

/// An activation's id and code. The code is a secret: no `Debug`, never logged.
pub struct Activation {
    pub id: String,
    pub code: String,
}

/// A managed node: id, private IP it registered from, whether it is Online, and when the
/// agent last answered (seconds since the epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: String,
    pub ip: String,
    pub online: bool,
    /// `Online`, `ConnectionLost`, `Inactive`.
    pub ping_status: String,
    pub last_ping: Option<f64>,
}

/// An activation for `limit` registrations, tagged for the group (the tags reach the nodes).
#[tracing::instrument(skip_all, fields(group = group, limit = limit))]
pub async fn create_activation(
    c: &Client,
    group: &str,
    role: &str,
    limit: i32,
    tags: &BTreeMap<String, String>,
) -> Result<Activation, AwsError> {
    let mut all = tags.clone();
    all.insert(GROUP_TAG.into(), group.into());
    let out = c
        .create_activation()
        .iam_role(role)
        .registration_limit(limit)
        .default_instance_name(group)
        .description(format!("hastack member fleet {group}"))
        .set_tags(Some(
            all.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<Result<_, _>>()
                .map_err(|e| AwsError::Api {
                    operation: "CreateActivation",
                    code: String::new(),
                    message: e.to_string(),
                })?,
        ))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateActivation", &e))?;
    match (out.activation_id, out.activation_code) {
        (Some(id), Some(code)) => Ok(Activation { id, code }),
        _ => Err(AwsError::Api {
            operation: "CreateActivation",
            code: String::new(),
            message: "the answer has no activation id or code".into(),
        }),
    }
}

#[tracing::instrument(skip_all, fields(activation = id))]
pub async fn delete_activation(c: &Client, id: &str) -> Result<(), AwsError> {
    match c.delete_activation().activation_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_invalid_activation_id()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteActivation", &e)),
    }
}

/// An activation found for a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftActivation {
    pub id: String,
    /// Not expired and below its registration limit: an instance may still register with it.
    pub usable: bool,
}

/// Group `group`'s activations (made for it, and tagged so). A launch deletes its own when it
/// ends, so any found between launches is one an interrupted apply left.
#[tracing::instrument(skip_all, fields(group = group))]
pub async fn activations(c: &Client, group: &str) -> Result<Vec<LeftActivation>, AwsError> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .describe_activations()
            .filters(
                DescribeActivationsFilter::builder()
                    .filter_key(DescribeActivationsFilterKeys::DefaultInstanceName)
                    .filter_values(group)
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeActivations", &e))?;
        ids.extend(
            out.activation_list()
                .iter()
                .filter(|a| {
                    a.tags()
                        .iter()
                        .any(|t| t.key() == GROUP_TAG && t.value() == group)
                })
                .filter_map(|a| {
                    Some(LeftActivation {
                        id: a.activation_id()?.to_string(),
                        usable: !a.expired()
                            && a.registrations_count().unwrap_or(0)
                                < a.registration_limit().unwrap_or(1),
                    })
                }),
        );
        token = out.next_token;
        if token.is_none() {
            return Ok(ids);
        }
    }
}

/// Every managed node registered for group `prefix`, by private IP.
#[tracing::instrument(skip_all, fields(group = group))]
pub async fn nodes(c: &Client, group: &str) -> Result<BTreeMap<String, Node>, AwsError> {
    let filter = InstanceInformationStringFilter::builder()
        .key(format!("tag:{GROUP_TAG}"))
        .values(group)
        .build()
        .map_err(|e| AwsError::Api {
            operation: "DescribeInstanceInformation",
            code: String::new(),
            message: e.to_string(),
        })?;
    let mut out = BTreeMap::new();
    let mut token = None;
    loop {
        let page = c
            .describe_instance_information()
            .filters(filter.clone())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeInstanceInformation", &e))?;
        for i in page.instance_information_list() {
            let (Some(id), Some(ip)) = (i.instance_id(), i.ip_address()) else {
                continue;
            };
            let node = Node {
                id: id.to_string(),
                ip: ip.to_string(),
                online: i.ping_status() == Some(&PingStatus::Online),
                ping_status: i
                    .ping_status()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                last_ping: i.last_ping_date_time().map(|t| t.as_secs_f64()),
            };
            // A re-registered host (same IP): keep the Online one.
            if out.get(ip).is_none_or(|n: &Node| !n.online) {
                out.insert(ip.to_string(), node);
            }
        }
        token = page.next_token;
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Remove a managed node (its instance is gone). Already gone is fine.
#[tracing::instrument(skip_all, fields(node = id))]
pub async fn deregister(c: &Client, id: &str) -> Result<(), AwsError> {
    match c.deregister_managed_instance().instance_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_invalid_instance_id()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeregisterManagedInstance", &e)),
    }
}
