//! The group's state: what the configuration wants (`group`) and what AWS has (`fetch`).
use std::collections::BTreeMap;

use tfplugin::Value;

use super::converge::{Group, Run};
use super::layout::{canonical, PortRule};
use crate::aws::instances::{self, Member};
use crate::aws::ssm::{self, Node};
use crate::resources::common::{map_value, merged_tags, num, own_tags, string_map, strings, text};

pub fn rules(v: &Value) -> Vec<PortRule> {
    v.elements()
        .unwrap_or_default()
        .iter()
        .filter_map(PortRule::from_value)
        .collect()
}

/// The group a (known) planned state describes. Zones may be empty when not yet resolved.
pub fn group(planned: &Value, defaults: &BTreeMap<String, String>) -> Group {
    Group {
        prefix: text(planned.get("name_prefix")).unwrap_or_default(),
        count: num(planned.get("instance_count")).unwrap_or(1).max(0) as usize,
        zones: strings(planned.get("availability_zones")),
        blueprint_id: text(planned.get("blueprint_id")).unwrap_or_default(),
        bundle_id: text(planned.get("bundle_id")).unwrap_or_default(),
        user_data: text(planned.get("user_data")).unwrap_or_default(),
        ports: rules(planned.get("public_ports")),
        ssm_role: text(planned.get("ssm_role")).unwrap_or_default(),
        tags: merged_tags(defaults, planned.get("tags")),
    }
}

/// The state of the group as AWS has it, keeping what only the configuration knows; `None`
/// when no member exists.
pub async fn fetch(
    r: &Run<'_>,
    prior: &Value,
    defaults: &BTreeMap<String, String>,
) -> Result<Option<Value>, String> {
    let prefix = text(prior.get("name_prefix")).unwrap_or_default();
    let members = instances::members(&r.ls, &prefix).await?;
    if members.is_empty() {
        return Ok(None);
    }
    let nodes = ssm::nodes(&r.ssm, &prefix).await?;
    Ok(Some(build(prior, &members, &nodes, defaults)))
}

/// The value every member agrees on with `prior`, or else the first member's that does not.
fn agreed<'m>(prior: Option<&'m str>, members: &'m [Member], f: fn(&Member) -> &str) -> &'m str {
    members
        .iter()
        .map(f)
        .find(|v| Some(*v) != prior)
        .or(prior)
        .unwrap_or("")
}

pub fn build(
    prior: &Value,
    members: &[Member],
    nodes: &BTreeMap<String, Node>,
    defaults: &BTreeMap<String, String>,
) -> Value {
    let prefix = text(prior.get("name_prefix")).unwrap_or_default();
    let instances: Vec<Value> = members
        .iter()
        .map(|m| {
            Value::object([
                ("name", Value::string(&m.name)),
                ("index", Value::number(m.index as i64)),
                ("zone", Value::string(&m.zone)),
                ("arn", Value::string(&m.arn)),
                ("private_ip", Value::string(&m.private_ip)),
                ("public_ip", Value::string(&m.public_ip)),
                (
                    "ssm_instance_id",
                    Value::string(
                        nodes
                            .get(&m.private_ip)
                            .map(|n| n.id.as_str())
                            .unwrap_or(""),
                    ),
                ),
                ("state", Value::string(&m.state)),
            ])
        })
        .collect();
    let mut indices: Vec<usize> = members.iter().map(|m| m.index).collect();
    indices.dedup();
    // Ports: the configured rules while every member has exactly them.
    let want = rules(prior.get("public_ports"));
    let ports = match members
        .iter()
        .find(|m| canonical(&m.ports) != canonical(&want))
    {
        None => prior.get("public_ports").clone(),
        Some(m) => Value::List(m.ports.iter().map(PortRule::to_value).collect()),
    };
    // Tags: all of a member's (one that differs from the configuration, if any).
    let want_all = string_map(prior.get("tags_all"));
    let actual = members
        .iter()
        .find(|m| m.tags != want_all)
        .unwrap_or(&members[0])
        .tags
        .clone();
    let tags = own_tags(&actual, prior.get("tags"), defaults);
    let zones = match prior.get("availability_zones") {
        Value::List(z) if Value::List(z.clone()).is_wholly_known() => Value::List(z.clone()),
        _ => {
            let mut seen: Vec<&str> = Vec::new();
            for m in members {
                if !seen.contains(&m.zone.as_str()) {
                    seen.push(&m.zone);
                }
            }
            Value::List(seen.into_iter().map(Value::string).collect())
        }
    };
    let blueprint = agreed(prior.get("blueprint_id").as_str(), members, |m| {
        &m.blueprint_id
    });
    let bundle = agreed(prior.get("bundle_id").as_str(), members, |m| &m.bundle_id);
    Value::object([
        ("id", Value::string(&prefix)),
        ("name_prefix", Value::string(&prefix)),
        ("instance_count", Value::number(indices.len() as i64)),
        ("availability_zones", zones),
        ("blueprint_id", Value::string(blueprint)),
        ("bundle_id", Value::string(bundle)),
        ("user_data", prior.get("user_data").clone()),
        ("public_ports", ports),
        ("ssm_role", prior.get("ssm_role").clone()),
        ("tags", tags),
        ("tags_all", map_value(&actual)),
        ("instances", Value::List(instances)),
        ("timeouts", prior.get("timeouts").clone()),
    ])
}
