//! Hybrid activations and the managed-node registry (`mi-…` ids).
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::error::err;
use super::{page, req_str, tags_from, tags_json, Backend};
use crate::error::AwsError;
use crate::Ctx;

#[derive(Clone, Debug)]
pub struct Activation {
    pub id: String,
    pub code: String,
    pub description: String,
    pub default_instance_name: String,
    pub iam_role: String,
    pub registration_limit: i64,
    pub registrations: i64,
    pub expiration: f64,
    pub created: f64,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    pub activation_id: String,
    pub iam_role: String,
    pub name: String,
    pub computer_name: String,
    pub ip: String,
    pub registered: f64,
    pub last_ping: f64,
    /// False after the host stopped answering (stopped, partitioned).
    pub connected: bool,
    /// The hastack-local host this node runs on, when instances are hosts.
    pub host: Option<String>,
    pub tags: BTreeMap<String, String>,
}

pub fn create_activation(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let role = req_str(input, "IamRole")?.to_string();
    let limit = input
        .get("RegistrationLimit")
        .and_then(Json::as_i64)
        .unwrap_or(1);
    if !(1..=1000).contains(&limit) {
        return Err(err(
            "InvalidParameters",
            "RegistrationLimit must be between 1 and 1000",
        ));
    }
    let expiration = input
        .get("ExpirationDate")
        .and_then(Json::as_f64)
        .unwrap_or(ctx.now + 24.0 * 3600.0);
    if expiration <= ctx.now || expiration > ctx.now + 30.0 * 24.0 * 3600.0 {
        return Err(err(
            "InvalidParameters",
            "ExpirationDate must be in the future and at most 30 days away",
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    // 20 characters, like the real activation codes.
    let code: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(20)
        .collect();
    b.activations.insert(
        id.clone(),
        Activation {
            id: id.clone(),
            code: code.clone(),
            description: input
                .get("Description")
                .and_then(Json::as_str)
                .unwrap_or("")
                .into(),
            default_instance_name: input
                .get("DefaultInstanceName")
                .and_then(Json::as_str)
                .unwrap_or("")
                .into(),
            iam_role: role,
            registration_limit: limit,
            registrations: 0,
            expiration,
            created: ctx.now,
            tags: tags_from(input),
        },
    );
    Ok(json!({"ActivationId": id, "ActivationCode": code}))
}

fn activation_json(a: &Activation, ctx: &Ctx<'_>) -> Json {
    json!({
        "ActivationId": a.id, "Description": a.description, "DefaultInstanceName": a.default_instance_name,
        "IamRole": a.iam_role, "RegistrationLimit": a.registration_limit, "RegistrationsCount": a.registrations,
        "ExpirationDate": a.expiration, "Expired": ctx.now >= a.expiration, "CreatedDate": a.created, "Tags": tags_json(&a.tags),
    })
}

pub fn describe_activations(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let filters = input
        .get("Filters")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let matches = |a: &Activation| {
        filters.iter().all(|f| {
            let values: Vec<&str> = f
                .get("FilterValues")
                .and_then(Json::as_array)
                .map(|v| v.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            match f.get("FilterKey").and_then(Json::as_str) {
                Some("ActivationIds") => values.contains(&a.id.as_str()),
                Some("DefaultInstanceName") => values.contains(&a.default_instance_name.as_str()),
                Some("IamRole") => values.contains(&a.iam_role.as_str()),
                _ => true,
            }
        })
    };
    let all: Vec<Json> = b
        .activations
        .values()
        .filter(|a| matches(a))
        .map(|a| activation_json(a, ctx))
        .collect();
    let (items, next) = page(all, input, 50)?;
    let mut out = json!({"ActivationList": items});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub fn delete_activation(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let id = req_str(input, "ActivationId")?;
    b.activations.remove(id).ok_or_else(|| {
        err(
            "InvalidActivationId",
            format!("Activation ID {id} is not valid"),
        )
    })?;
    Ok(json!({}))
}

/// What the stand-in agent (`amazon-ssm-agent -register -code C -id I -region R`) calls,
/// through the admin API. Fails the way the real registration does.
pub fn register(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    code: &str,
    id: &str,
    hostname: &str,
    ip: &str,
) -> Result<String, AwsError> {
    let a = b
        .activations
        .get_mut(id)
        .ok_or_else(|| err("InvalidActivationId", "Activation ID is not valid"))?;
    if a.code != code {
        return Err(err("InvalidActivation", "Activation code is not valid"));
    }
    if ctx.now >= a.expiration {
        return Err(err("InvalidActivation", "Activation has expired"));
    }
    if a.registrations >= a.registration_limit {
        return Err(err(
            "InvalidActivation",
            "Activation has reached its registration limit",
        ));
    }
    a.registrations += 1;
    let node_id = format!("mi-{}", &uuid::Uuid::new_v4().simple().to_string()[..17]);
    let name = if a.default_instance_name.is_empty() {
        hostname.to_string()
    } else {
        a.default_instance_name.clone()
    };
    let node = Node {
        id: node_id.clone(),
        activation_id: a.id.clone(),
        iam_role: a.iam_role.clone(),
        name,
        computer_name: hostname.into(),
        ip: ip.into(),
        registered: ctx.now,
        last_ping: ctx.now,
        connected: true,
        host: ctx.hosts.by_ip(ip),
        tags: a.tags.clone(),
    };
    b.nodes.insert(node_id.clone(), node);
    Ok(node_id)
}

pub fn ping_status(n: &Node, hosts: &crate::hosts::HostManager) -> &'static str {
    let online = match &n.host {
        Some(key) => hosts.view(key).is_some_and(|h| h.running && !h.partitioned),
        None => n.connected,
    };
    if online {
        "Online"
    } else {
        "ConnectionLost"
    }
}

fn node_json(n: &Node, hosts: &crate::hosts::HostManager) -> Json {
    json!({
        "InstanceId": n.id, "PingStatus": ping_status(n, hosts), "LastPingDateTime": n.last_ping,
        "AgentVersion": "3.3.0.0-hastack-local", "IsLatestVersion": true, "PlatformType": "Linux",
        "PlatformName": "Debian GNU/Linux", "PlatformVersion": "12", "ActivationId": n.activation_id,
        "IamRole": n.iam_role, "RegistrationDate": n.registered, "ResourceType": "ManagedInstance",
        "Name": n.name, "IPAddress": n.ip, "ComputerName": n.computer_name, "SourceId": n.id, "SourceType": "AWS::SSM::ManagedInstance",
    })
}

pub fn describe_instance_information(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let filters = input
        .get("Filters")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    for f in &filters {
        let key = f.get("Key").and_then(Json::as_str).unwrap_or("");
        if !(key.starts_with("tag:")
            || [
                "InstanceIds",
                "ActivationIds",
                "PingStatus",
                "ResourceType",
                "IamRole",
                "PlatformTypes",
                "AgentVersion",
                "AssociationStatus",
                "tag-key",
            ]
            .contains(&key))
        {
            return Err(err(
                "InvalidFilterKey",
                format!("The filter key {key} is not valid"),
            ));
        }
    }
    let matches = |n: &Node| {
        filters.iter().all(|f| {
            let key = f.get("Key").and_then(Json::as_str).unwrap_or("");
            let values: Vec<&str> = f
                .get("Values")
                .and_then(Json::as_array)
                .map(|v| v.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            match key {
                "InstanceIds" => values.contains(&n.id.as_str()),
                "ActivationIds" => values.contains(&n.activation_id.as_str()),
                "PingStatus" => values.contains(&ping_status(n, ctx.hosts)),
                "ResourceType" => values.contains(&"ManagedInstance"),
                "IamRole" => values.contains(&n.iam_role.as_str()),
                "tag-key" => values.iter().any(|v| n.tags.contains_key(*v)),
                k => match k.strip_prefix("tag:") {
                    Some(tag) => n
                        .tags
                        .get(tag)
                        .is_some_and(|v| values.contains(&v.as_str())),
                    None => true,
                },
            }
        })
    };
    let all: Vec<Json> = b
        .nodes
        .values()
        .filter(|n| matches(n))
        .map(|n| node_json(n, ctx.hosts))
        .collect();
    let (items, next) = page(all, input, 50)?;
    let mut out = json!({"InstanceInformationList": items});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub fn deregister_managed_instance(
    b: &mut Backend,
    _ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let id = req_str(input, "InstanceId")?;
    b.nodes.remove(id).ok_or_else(|| {
        err(
            "InvalidInstanceId",
            format!("Instance Id {id} is not valid"),
        )
    })?;
    Ok(json!({}))
}
