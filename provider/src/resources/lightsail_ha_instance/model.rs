//! The model of `hastack_lightsail_ha_instance`: its attributes, as configuration, plan and
//! state hold them.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;
use tfplugin::timeouts::Timeouts;
use tfplugin::Attr;

use crate::fleet::layout::PortRule;
use crate::sidecar::Sidecar;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: Attr<String>,
    pub name_prefix: Attr<String>,
    pub instance_count: Attr<Number>,
    pub availability_zones: Attr<Vec<String>>,
    pub blueprint_id: Attr<String>,
    pub bundle_id: Attr<String>,
    pub user_data: Attr<String>,
    pub public_ports: Attr<Vec<Port>>,
    pub ssm_role: Attr<String>,
    pub replace_unhealthy_after: Attr<String>,
    pub tags: Attr<BTreeMap<String, String>>,
    pub tags_all: Attr<BTreeMap<String, String>>,
    pub sidecars: Attr<Vec<Sidecar>>,
    pub instances: Attr<Vec<Instance>>,
    pub timeouts: Attr<Timeouts>,
}

/// One `public_ports` rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Port {
    pub from_port: Number,
    pub to_port: Number,
    pub protocol: String,
    pub cidrs: Option<Vec<String>>,
    pub ipv6_cidrs: Option<Vec<String>>,
}

impl Port {
    /// The rule it means (`None` when a port is not a whole number).
    pub fn rule(&self) -> Option<PortRule> {
        Some(PortRule::from_config(
            self.from_port.as_i64()?,
            self.to_port.as_i64()?,
            &self.protocol,
            self.cidrs.clone(),
            self.ipv6_cidrs.clone(),
        ))
    }

    pub fn from_rule(r: &PortRule) -> Port {
        Port {
            from_port: r.from_port.into(),
            to_port: r.to_port.into(),
            protocol: r.protocol.clone(),
            cidrs: Some(r.cidrs.clone()),
            ipv6_cidrs: Some(r.ipv6_cidrs.clone()),
        }
    }
}

/// One member in `instances`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub name: String,
    pub index: i64,
    pub zone: String,
    pub arn: String,
    pub private_ip: String,
    pub public_ip: String,
    pub ssm_instance_id: String,
    pub state: String,
}

/// The resource identity: a name prefix in a region.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Identity {
    pub name_prefix: Option<String>,
    pub region: Option<String>,
}

impl Model {
    /// The known rules (none while unknown or null).
    pub fn rules(&self) -> Vec<PortRule> {
        self.public_ports
            .value()
            .map(|p| p.iter().filter_map(Port::rule).collect())
            .unwrap_or_default()
    }

    /// The whole-number count, if known.
    pub fn count(&self) -> Option<i64> {
        self.instance_count.value().and_then(Number::as_i64)
    }
}
