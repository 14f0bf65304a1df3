//! Hybrid activations and the managed-node registry (`mi-…` ids).
use std::collections::BTreeMap;

use super::error::{fail, required, Result, SsmCode};
use super::Backend;
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

/// What CreateActivation asks for.
#[derive(Clone, Debug, Default)]
pub struct NewActivation {
    pub iam_role: String,
    pub registration_limit: Option<i64>,
    pub expiration: Option<f64>,
    pub description: String,
    pub default_instance_name: String,
    pub tags: BTreeMap<String, String>,
}

/// A filter: key and the values it accepts.
pub type Filter = (String, Vec<String>);

/// DescribeInstanceInformation's filter keys.
const NODE_FILTER_KEYS: &[&str] = &[
    "InstanceIds",
    "ActivationIds",
    "PingStatus",
    "ResourceType",
    "IamRole",
    "PlatformTypes",
    "AgentVersion",
    "AssociationStatus",
    "tag-key",
];

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

impl Backend {
    /// The agents of Online nodes answer: their last ping is `now`. A node that lost its
    /// connection keeps the time it was last heard, so `LastPingDateTime` tells how long it
    /// has been silent (the real agent pings every few minutes; here every look counts).
    pub fn record_pings(&mut self, now: f64, hosts: &crate::hosts::HostManager) {
        for n in self.nodes.values_mut() {
            if ping_status(n, hosts) == "Online" {
                n.last_ping = now;
            }
        }
    }

    pub fn create_activation(&mut self, now: f64, req: NewActivation) -> Result<Activation> {
        let role = required(&req.iam_role, "IamRole")?.to_string();
        let limit = req.registration_limit.unwrap_or(1);
        if !(1..=1000).contains(&limit) {
            return Err(fail(
                SsmCode::InvalidParameters,
                "RegistrationLimit must be between 1 and 1000",
            ));
        }
        let expiration = req.expiration.unwrap_or(now + 24.0 * 3600.0);
        if expiration <= now || expiration > now + 30.0 * 24.0 * 3600.0 {
            return Err(fail(
                SsmCode::InvalidParameters,
                "ExpirationDate must be in the future and at most 30 days away",
            ));
        }
        let a = Activation {
            id: uuid::Uuid::new_v4().to_string(),
            // 20 characters, like the real activation codes.
            code: uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .chars()
                .take(20)
                .collect(),
            description: req.description,
            default_instance_name: req.default_instance_name,
            iam_role: role,
            registration_limit: limit,
            registrations: 0,
            expiration,
            created: now,
            tags: req.tags,
        };
        self.activations.insert(a.id.clone(), a.clone());
        Ok(a)
    }

    /// Activations matching every filter (ActivationIds, DefaultInstanceName, IamRole).
    pub fn activations_matching(&self, filters: &[Filter]) -> Vec<&Activation> {
        self.activations
            .values()
            .filter(|a| {
                filters.iter().all(|(key, values)| {
                    let has = |v: &str| values.iter().any(|x| x == v);
                    match key.as_str() {
                        "ActivationIds" => has(&a.id),
                        "DefaultInstanceName" => has(&a.default_instance_name),
                        "IamRole" => has(&a.iam_role),
                        _ => true,
                    }
                })
            })
            .collect()
    }

    pub fn delete_activation(&mut self, id: &str) -> Result<()> {
        let id = required(id, "ActivationId")?;
        self.activations.remove(id).map(|_| ()).ok_or_else(|| {
            fail(
                SsmCode::InvalidActivationId,
                format!("Activation ID {id} is not valid"),
            )
        })
    }

    /// What the stand-in agent (`amazon-ssm-agent -register -code C -id I -region R`) calls,
    /// through the admin API. Fails the way the real registration does; the new node's id.
    pub fn register(
        &mut self,
        ctx: &Ctx<'_>,
        code: &str,
        id: &str,
        hostname: &str,
        ip: &str,
    ) -> Result<String> {
        let a = self
            .activations
            .get_mut(id)
            .ok_or_else(|| fail(SsmCode::InvalidActivationId, "Activation ID is not valid"))?;
        if a.code != code {
            return Err(fail(
                SsmCode::InvalidActivation,
                "Activation code is not valid",
            ));
        }
        if ctx.now >= a.expiration {
            return Err(fail(SsmCode::InvalidActivation, "Activation has expired"));
        }
        if a.registrations >= a.registration_limit {
            return Err(fail(
                SsmCode::InvalidActivation,
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
        self.nodes.insert(node_id.clone(), node);
        // State Manager: associations targeting this node's tags reach it now.
        self.apply_associations_to(ctx, &node_id);
        Ok(node_id)
    }

    /// Managed nodes matching every filter (keys checked as DescribeInstanceInformation does).
    pub fn nodes_matching(&self, ctx: &Ctx<'_>, filters: &[Filter]) -> Result<Vec<&Node>> {
        if let Some((key, _)) = filters
            .iter()
            .find(|(k, _)| !(k.starts_with("tag:") || NODE_FILTER_KEYS.contains(&k.as_str())))
        {
            return Err(fail(
                SsmCode::InvalidFilterKey,
                format!("The filter key {key} is not valid"),
            ));
        }
        Ok(self
            .nodes
            .values()
            .filter(|n| {
                filters.iter().all(|(key, values)| {
                    let has = |v: &str| values.iter().any(|x| x == v);
                    match key.as_str() {
                        "InstanceIds" => has(&n.id),
                        "ActivationIds" => has(&n.activation_id),
                        "PingStatus" => has(ping_status(n, ctx.hosts)),
                        "ResourceType" => has("ManagedInstance"),
                        "IamRole" => has(&n.iam_role),
                        "tag-key" => values.iter().any(|v| n.tags.contains_key(v)),
                        k => match k.strip_prefix("tag:") {
                            Some(tag) => n.tags.get(tag).is_some_and(|v| has(v)),
                            None => true,
                        },
                    }
                })
            })
            .collect())
    }

    pub fn deregister_managed_instance(&mut self, id: &str) -> Result<()> {
        let id = required(id, "InstanceId")?;
        self.nodes.remove(id).map(|_| ()).ok_or_else(|| {
            fail(
                SsmCode::InvalidInstanceId,
                format!("Instance Id {id} is not valid"),
            )
        })
    }
}
