//! Lightsail instances of one group: list, create, ports, delete, load balancer membership.
use std::collections::BTreeMap;

use aws_sdk_lightsail::types::{Instance, NetworkProtocol, Operation, PortInfo};
use aws_sdk_lightsail::Client;

use super::error::AwsError;

/// A public port rule as Lightsail holds it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRule {
    pub from_port: i64,
    pub to_port: i64,
    pub protocol: String,
    pub cidrs: Vec<String>,
    pub ipv6_cidrs: Vec<String>,
}

/// Rules in a canonical order with sorted CIDRs, to compare sets of rules.
pub fn canonical(rules: &[PortRule]) -> Vec<PortRule> {
    let mut v: Vec<PortRule> = rules
        .iter()
        .cloned()
        .map(|mut r| {
            r.cidrs.sort();
            r.ipv6_cidrs.sort();
            r
        })
        .collect();
    v.sort();
    v
}

/// A member as Lightsail reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub index: usize,
    pub name: String,
    pub zone: String,
    pub arn: String,
    pub private_ip: String,
    pub public_ip: String,
    pub state: String,
    /// Seconds since the epoch.
    pub created_at: f64,
    pub blueprint_id: String,
    pub bundle_id: String,
    pub ports: Vec<PortRule>,
    pub tags: BTreeMap<String, String>,
}

fn member(index_of: &(dyn Fn(&str) -> Option<usize> + Sync), i: &Instance) -> Option<Member> {
    let name = i.name()?;
    let index = index_of(name)?;
    let ports = i
        .networking()
        .map(|n| n.ports())
        .unwrap_or_default()
        .iter()
        .map(|p| PortRule {
            from_port: p.from_port().into(),
            to_port: p.to_port().into(),
            protocol: p
                .protocol()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            cidrs: p.cidrs().to_vec(),
            ipv6_cidrs: p.ipv6_cidrs().to_vec(),
        })
        .collect();
    Some(Member {
        index,
        name: name.to_string(),
        zone: i
            .location()
            .and_then(|l| l.availability_zone())
            .unwrap_or("")
            .to_string(),
        arn: i.arn().unwrap_or("").to_string(),
        private_ip: i.private_ip_address().unwrap_or("").to_string(),
        public_ip: i.public_ip_address().unwrap_or("").to_string(),
        state: i.state().and_then(|s| s.name()).unwrap_or("").to_string(),
        created_at: i.created_at().map(|t| t.as_secs_f64()).unwrap_or(0.0),
        blueprint_id: i.blueprint_id().unwrap_or("").to_string(),
        bundle_id: i.bundle_id().unwrap_or("").to_string(),
        ports,
        tags: super::lightsail::tag_map(i.tags()),
    })
}

/// Every instance that `index_of` gives an index (the members of a group), by index, then
/// oldest first.
#[tracing::instrument(skip_all)]
pub async fn members(
    c: &Client,
    index_of: &(dyn Fn(&str) -> Option<usize> + Sync),
) -> Result<Vec<Member>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .get_instances()
            .set_page_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetInstances", &e))?;
        out.extend(page.instances().iter().filter_map(|i| member(index_of, i)));
        token = page.next_page_token;
        if token.is_none() {
            out.sort_by(|a, b| {
                (a.index, a.created_at, &a.name)
                    .partial_cmp(&(b.index, b.created_at, &b.name))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            return Ok(out);
        }
    }
}

pub struct Launch<'a> {
    pub zone: &'a str,
    pub names: Vec<String>,
    pub blueprint_id: &'a str,
    pub bundle_id: &'a str,
    pub user_data: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

/// CreateInstances for the names of one zone; the operations to wait for.
#[tracing::instrument(skip_all, fields(zone = l.zone, count = l.names.len()))]
pub async fn create(c: &Client, l: Launch<'_>) -> Result<Vec<Operation>, AwsError> {
    let out = c
        .create_instances()
        .set_instance_names(Some(l.names))
        .availability_zone(l.zone)
        .blueprint_id(l.blueprint_id)
        .bundle_id(l.bundle_id)
        .user_data(l.user_data)
        .set_tags(Some(crate::aws::lightsail::tags(l.tags)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateInstances", &e))?;
    Ok(out.operations.unwrap_or_default())
}

/// Set the instance's public ports to exactly `rules` in one call (nothing closes in between).
#[tracing::instrument(skip_all, fields(instance = name, rules = rules.len()))]
pub async fn put_ports(
    c: &Client,
    name: &str,
    rules: &[PortRule],
) -> Result<Vec<Operation>, AwsError> {
    let infos = rules
        .iter()
        .map(|r| {
            PortInfo::builder()
                .from_port(r.from_port as i32)
                .to_port(r.to_port as i32)
                .protocol(NetworkProtocol::from(r.protocol.as_str()))
                .set_cidrs(Some(r.cidrs.clone()))
                .set_ipv6_cidrs(Some(r.ipv6_cidrs.clone()))
                .build()
        })
        .collect();
    let out = c
        .put_instance_public_ports()
        .instance_name(name)
        .set_port_infos(Some(infos))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutInstancePublicPorts", &e))?;
    Ok(out.operation.into_iter().collect())
}

/// Delete an instance; one already gone is fine.
#[tracing::instrument(skip_all, fields(instance = name))]
pub async fn delete(c: &Client, name: &str) -> Result<Vec<Operation>, AwsError> {
    match c.delete_instance().instance_name(name).send().await {
        Ok(o) => Ok(o.operations.unwrap_or_default()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            Ok(vec![])
        }
        Err(e) => Err(AwsError::from_sdk("DeleteInstance", &e)),
    }
}

/// An instance attached to a load balancer, and its health there.
#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub load_balancer: String,
    pub instance: String,
    /// `initial`, `healthy`, `unhealthy`, `draining`, …
    pub health: String,
}

/// One listing of every load balancer: where each of `names` is attached, and its health.
#[tracing::instrument(skip_all, fields(instances = names.len()))]
pub async fn attachments(c: &Client, names: &[&str]) -> Result<Vec<Attachment>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .get_load_balancers()
            .set_page_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetLoadBalancers", &e))?;
        for lb in page.load_balancers() {
            for h in lb.instance_health_summary() {
                if let Some(n) = h.instance_name().filter(|n| names.contains(n)) {
                    out.push(Attachment {
                        load_balancer: lb.name().unwrap_or("").to_string(),
                        instance: n.to_string(),
                        health: h
                            .instance_health()
                            .map(|x| x.as_str().to_string())
                            .unwrap_or_default(),
                    });
                }
            }
        }
        token = page.next_page_token;
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Start an instance stopped by hand; the operations to wait for.
#[tracing::instrument(skip_all, fields(instance = name))]
pub async fn start(c: &Client, name: &str) -> Result<Vec<Operation>, AwsError> {
    c.start_instance()
        .instance_name(name)
        .send()
        .await
        .map(|o| o.operations.unwrap_or_default())
        .map_err(|e| AwsError::from_sdk("StartInstance", &e))
}

/// Attach instances to a load balancer; the operations to wait for.
#[tracing::instrument(skip_all, fields(load_balancer = lb, instances = names.len()))]
pub async fn attach(c: &Client, lb: &str, names: Vec<String>) -> Result<Vec<Operation>, AwsError> {
    c.attach_instances_to_load_balancer()
        .load_balancer_name(lb)
        .set_instance_names(Some(names))
        .send()
        .await
        .map(|o| o.operations.unwrap_or_default())
        .map_err(|e| AwsError::from_sdk("AttachInstancesToLoadBalancer", &e))
}

/// Detach instances (draining); `NotFound` when the load balancer is gone.
#[tracing::instrument(skip_all, fields(load_balancer = lb, instances = names.len()))]
pub async fn detach(c: &Client, lb: &str, names: Vec<String>) -> Result<Vec<Operation>, AwsError> {
    match c
        .detach_instances_from_load_balancer()
        .load_balancer_name(lb)
        .set_instance_names(Some(names))
        .send()
        .await
    {
        Ok(o) => Ok(o.operations.unwrap_or_default()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            Err(AwsError::not_found(format!("load balancer {lb}")))
        }
        Err(e) => Err(AwsError::from_sdk("DetachInstancesFromLoadBalancer", &e)),
    }
}
