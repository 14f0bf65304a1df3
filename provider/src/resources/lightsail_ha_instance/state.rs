//! The group's state: what the plan wants (`group`) and what AWS has (`build`).
use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin::{Attr, Known};

use super::model::{Instance, Model, Port};
use crate::aws::instances::Member;
use crate::aws::ssm::Node;
use crate::fleet::layout::canonical;
use crate::fleet::Group;
use crate::resources::common::{merged_tags, own_tags};

/// Default grace before an unreachable member is replaced.
pub const DEFAULT_HEAL_AFTER: Duration = Duration::from_secs(300);

/// `replace_unhealthy_after` as a grace: `None` when healing is off (`"0"`).
pub fn heal_after(m: &Model) -> Option<Duration> {
    match m.replace_unhealthy_after.value() {
        None => Some(DEFAULT_HEAL_AFTER),
        Some(s) => match tfplugin::timeouts::parse_duration(s) {
            Ok(d) if d.is_zero() => None,
            Ok(d) => Some(d),
            Err(_) => Some(DEFAULT_HEAL_AFTER),
        },
    }
}

/// The group a (known) planned state describes. Zones may be empty when not yet resolved.
pub fn group(m: &Model, defaults: &BTreeMap<String, String>) -> Group {
    let text = |a: &Attr<String>| a.value().cloned().unwrap_or_default();
    Group {
        prefix: text(&m.name_prefix),
        count: m.count().unwrap_or(1).max(0) as usize,
        zones: m.availability_zones.value().cloned().unwrap_or_default(),
        blueprint_id: text(&m.blueprint_id),
        bundle_id: text(&m.bundle_id),
        user_data: text(&m.user_data),
        ports: m.rules(),
        ssm_role: text(&m.ssm_role),
        tags: merged_tags(defaults, m.tags.value()),
        heal_after: heal_after(m),
        unhealthy_since: BTreeMap::new(),
        heal: Vec::new(),
        setup: None,
    }
}

/// The value every member agrees on with `prior`, or else the first member's that does not.
fn agreed(prior: Option<&String>, members: &[Member], f: fn(&Member) -> &String) -> String {
    members
        .iter()
        .map(f)
        .find(|v| Some(*v) != prior)
        .or(prior)
        .cloned()
        .unwrap_or_default()
}

/// The state of the group as AWS has it (`members` is not empty), keeping what only the
/// configuration knows.
pub fn build(
    prior: &Model,
    members: &[Member],
    nodes: &BTreeMap<String, Node>,
    defaults: &BTreeMap<String, String>,
) -> Model {
    let prefix = prior.name_prefix.value().cloned().unwrap_or_default();
    let instances: Vec<Instance> = members
        .iter()
        .map(|m| Instance {
            name: m.name.clone(),
            index: m.index as i64,
            zone: m.zone.clone(),
            arn: m.arn.clone(),
            private_ip: m.private_ip.clone(),
            public_ip: m.public_ip.clone(),
            ssm_instance_id: nodes
                .get(&m.private_ip)
                .map(|n| n.id.clone())
                .unwrap_or_default(),
            state: m.state.clone(),
        })
        .collect();
    let mut indices: Vec<usize> = members.iter().map(|m| m.index).collect();
    indices.dedup();
    // Ports: the configured rules while every member has exactly them.
    let want = prior.rules();
    let ports = match members
        .iter()
        .find(|m| canonical(&m.ports) != canonical(&want))
    {
        None => prior.public_ports.clone(),
        Some(m) => Known::Known(Some(m.ports.iter().map(Port::from_rule).collect())),
    };
    // Tags: all of a member's (one that differs from the configuration, if any).
    let want_all = prior.tags_all.value().cloned().unwrap_or_default();
    let actual = members
        .iter()
        .find(|m| m.tags != want_all)
        .unwrap_or(&members[0])
        .tags
        .clone();
    let zones = match prior.availability_zones.value() {
        Some(z) => z.clone(),
        None => {
            let mut seen: Vec<String> = Vec::new();
            for m in members {
                if !seen.contains(&m.zone) {
                    seen.push(m.zone.clone());
                }
            }
            seen
        }
    };
    Model {
        id: Attr::some(prefix.clone()),
        name_prefix: Attr::some(prefix),
        instance_count: Attr::some((indices.len() as i64).into()),
        availability_zones: Attr::some(zones),
        blueprint_id: Attr::some(agreed(prior.blueprint_id.value(), members, |m| {
            &m.blueprint_id
        })),
        bundle_id: Attr::some(agreed(prior.bundle_id.value(), members, |m| &m.bundle_id)),
        user_data: prior.user_data.clone(),
        public_ports: ports,
        ssm_role: prior.ssm_role.clone(),
        replace_unhealthy_after: prior.replace_unhealthy_after.clone(),
        tags: own_tags(&actual, prior.tags.value(), defaults),
        tags_all: Attr::some(actual),
        sidecars: prior.sidecars.clone(),
        instances: Attr::some(instances),
        timeouts: prior.timeouts.clone(),
    }
}
