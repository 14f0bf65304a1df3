//! Lightsail instances of one group: list, create, ports, delete, load balancer membership.
use std::collections::BTreeMap;

use aws_sdk_lightsail::types::{Instance, NetworkProtocol, PortInfo};
use aws_sdk_lightsail::Client;

use crate::resources::lightsail_ha_instance::layout::{member_index, PortRule};

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

fn member(prefix: &str, i: &Instance) -> Option<Member> {
    let name = i.name()?;
    let index = member_index(prefix, name)?;
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
        tags: i
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect(),
    })
}

/// Every instance of group `prefix`, by index, then oldest first.
#[tracing::instrument(skip_all, fields(group = prefix))]
pub async fn members(c: &Client, prefix: &str) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .get_instances()
            .set_page_token(token)
            .send()
            .await
            .map_err(|e| crate::aws::describe("GetInstances", &e).1)?;
        out.extend(page.instances().iter().filter_map(|i| member(prefix, i)));
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
pub async fn create(
    c: &Client,
    l: Launch<'_>,
) -> Result<Vec<aws_sdk_lightsail::types::Operation>, String> {
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
        .map_err(|e| crate::aws::describe("CreateInstances", &e).1)?;
    Ok(out.operations.unwrap_or_default())
}

/// Set the instance's public ports to exactly `rules` in one call (nothing closes in between).
#[tracing::instrument(skip_all, fields(instance = name, rules = rules.len()))]
pub async fn put_ports(
    c: &Client,
    name: &str,
    rules: &[PortRule],
) -> Result<Vec<aws_sdk_lightsail::types::Operation>, String> {
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
        .map_err(|e| crate::aws::describe("PutInstancePublicPorts", &e).1)?;
    Ok(out.operation.into_iter().collect())
}

/// Delete an instance; one already gone is fine.
#[tracing::instrument(skip_all, fields(instance = name))]
pub async fn delete(
    c: &Client,
    name: &str,
) -> Result<Vec<aws_sdk_lightsail::types::Operation>, String> {
    match c.delete_instance().instance_name(name).send().await {
        Ok(o) => Ok(o.operations.unwrap_or_default()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            Ok(vec![])
        }
        Err(e) => Err(crate::aws::describe("DeleteInstance", &e).1),
    }
}

/// One listing of every load balancer: for each of `names` attached somewhere,
/// (load balancer, instance).
#[tracing::instrument(skip_all, fields(instances = names.len()))]
pub async fn attachments(c: &Client, names: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .get_load_balancers()
            .set_page_token(token)
            .send()
            .await
            .map_err(|e| crate::aws::describe("GetLoadBalancers", &e).1)?;
        for lb in page.load_balancers() {
            for h in lb.instance_health_summary() {
                if let Some(n) = h.instance_name().filter(|n| names.contains(n)) {
                    out.push((lb.name().unwrap_or("").to_string(), n.to_string()));
                }
            }
        }
        token = page.next_page_token;
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// (attached instance → health) of a load balancer, or None when it does not exist.
#[tracing::instrument(skip_all, fields(load_balancer = lb))]
pub async fn lb_health(
    c: &aws_sdk_lightsail::Client,
    lb: &str,
) -> Result<Option<Vec<(String, String)>>, String> {
    match c.get_load_balancer().load_balancer_name(lb).send().await {
        Ok(out) => Ok(out.load_balancer.map(|l| {
            l.instance_health_summary()
                .iter()
                .filter_map(|h| {
                    Some((
                        h.instance_name()?.to_string(),
                        h.instance_health()
                            .map(|x| x.as_str().to_string())
                            .unwrap_or_default(),
                    ))
                })
                .collect()
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(crate::aws::describe("GetLoadBalancer", &e).1),
    }
}
