//! Lightsail's resources and catalogue, with the names the real service uses.
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

/// Regions and their availability zones, as Lightsail lists them.
pub const REGIONS: &[(&str, &str, &[&str])] = &[
    ("us-east-1", "Virginia", &["a", "b", "c", "d", "e", "f"]),
    ("us-east-2", "Ohio", &["a", "b", "c"]),
    ("us-west-2", "Oregon", &["a", "b", "c", "d"]),
    ("ca-central-1", "Montreal", &["a", "b", "d"]),
    ("eu-west-1", "Ireland", &["a", "b", "c"]),
    ("eu-west-2", "London", &["a", "b", "c"]),
    ("eu-west-3", "Paris", &["a", "b", "c"]),
    ("eu-central-1", "Frankfurt", &["a", "b", "c"]),
    ("eu-north-1", "Stockholm", &["a", "b", "c"]),
    ("ap-south-1", "Mumbai", &["a", "b", "c"]),
    ("ap-southeast-1", "Singapore", &["a", "b", "c"]),
    ("ap-southeast-2", "Sydney", &["a", "b", "c"]),
    ("ap-northeast-1", "Tokyo", &["a", "c", "d"]),
    ("ap-northeast-2", "Seoul", &["a", "b", "c", "d"]),
];

pub fn zones_of(region: &str) -> Option<Vec<String>> {
    REGIONS
        .iter()
        .find(|(r, _, _)| *r == region)
        .map(|(r, _, z)| z.iter().map(|s| format!("{r}{s}")).collect())
}

/// (id, name, version, default username)
pub const BLUEPRINTS: &[(&str, &str, &str, &str)] = &[
    ("ubuntu_24_04", "Ubuntu", "24.04 LTS", "ubuntu"),
    ("ubuntu_22_04", "Ubuntu", "22.04 LTS", "ubuntu"),
    ("debian_12", "Debian", "12.8", "admin"),
    ("debian_11", "Debian", "11.11", "admin"),
    (
        "amazon_linux_2023",
        "Amazon Linux 2023",
        "2023.6",
        "ec2-user",
    ),
];

/// (id, name, price, cpus, ram GiB, disk GB, transfer GB, power)
pub const BUNDLES: &[(&str, &str, f64, i64, f64, i64, i64, i64)] = &[
    ("nano_3_0", "Nano", 5.0, 2, 0.5, 20, 1024, 298),
    ("micro_3_0", "Micro", 7.0, 2, 1.0, 40, 2048, 500),
    ("small_3_0", "Small", 12.0, 2, 2.0, 60, 3072, 1000),
    ("medium_3_0", "Medium", 24.0, 2, 4.0, 80, 4096, 2000),
    ("large_3_0", "Large", 44.0, 2, 8.0, 160, 5120, 3000),
    ("xlarge_3_0", "Xlarge", 84.0, 4, 16.0, 320, 6144, 4000),
    ("2xlarge_3_0", "2Xlarge", 164.0, 8, 32.0, 640, 7168, 5000),
];

pub fn blueprint_json(b: &(&str, &str, &str, &str)) -> Json {
    json!({
        "blueprintId": b.0, "name": b.1, "group": b.0.split('_').next().unwrap_or(b.0), "type": "os",
        "description": format!("{} {}", b.1, b.2), "isActive": true, "minPower": 0, "version": b.2,
        "versionCode": "1", "productUrl": "", "licenseUrl": "", "platform": "LINUX_UNIX",
    })
}

pub fn bundle_json(b: &(&str, &str, f64, i64, f64, i64, i64, i64)) -> Json {
    json!({
        "bundleId": b.0, "name": b.1, "price": b.2, "cpuCount": b.3, "ramSizeInGb": b.4,
        "diskSizeInGb": b.5, "transferPerMonthInGb": b.6, "power": b.7, "isActive": true,
        "instanceType": b.0.trim_end_matches("_3_0"), "supportedPlatforms": ["LINUX_UNIX"],
    })
}

#[derive(Clone, Debug, PartialEq)]
pub struct PortRule {
    pub from_port: i64,
    pub to_port: i64,
    pub protocol: String,
    pub cidrs: Vec<String>,
    pub ipv6_cidrs: Vec<String>,
    pub cidr_list_aliases: Vec<String>,
}

impl PortRule {
    pub fn tcp_anywhere(port: i64) -> Self {
        PortRule {
            from_port: port,
            to_port: port,
            protocol: "tcp".into(),
            cidrs: vec!["0.0.0.0/0".into()],
            ipv6_cidrs: vec!["::/0".into()],
            cidr_list_aliases: vec![],
        }
    }
    pub fn from_json(j: &Json) -> Result<Self, String> {
        let int = |k: &str| {
            j.get(k)
                .and_then(Json::as_i64)
                .ok_or(format!("portInfo.{k} is required"))
        };
        let strs = |k: &str| -> Vec<String> {
            j.get(k)
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let protocol = j
            .get("protocol")
            .and_then(Json::as_str)
            .ok_or("portInfo.protocol is required")?
            .to_string();
        if !["tcp", "udp", "all", "icmp", "icmpv6"].contains(&protocol.as_str()) {
            return Err(format!(
                "portInfo.protocol {protocol:?} must be one of tcp, udp, all, icmp, icmpv6"
            ));
        }
        let (from_port, to_port) = (int("fromPort")?, int("toPort")?);
        if !(-1..=65535).contains(&from_port)
            || !(-1..=65535).contains(&to_port)
            || from_port > to_port
        {
            return Err(format!("ports {from_port}-{to_port} are not a valid range"));
        }
        Ok(PortRule {
            from_port,
            to_port,
            protocol,
            cidrs: strs("cidrs"),
            ipv6_cidrs: strs("ipv6Cidrs"),
            cidr_list_aliases: strs("cidrListAliases"),
        })
    }
    /// `InstancePortInfo` as GetInstance reports it.
    pub fn port_info(&self) -> Json {
        let anywhere = self.cidrs.iter().any(|c| c == "0.0.0.0/0");
        json!({
            "fromPort": self.from_port, "toPort": self.to_port, "protocol": self.protocol,
            "accessFrom": if anywhere { "Anywhere (0.0.0.0/0 and ::/0)".to_string() } else { self.cidrs.join(", ") },
            "accessType": if anywhere { "Public" } else { "Private" },
            "commonName": "", "accessDirection": "inbound",
            "cidrs": self.cidrs, "ipv6Cidrs": self.ipv6_cidrs, "cidrListAliases": self.cidr_list_aliases,
        })
    }
    /// `InstancePortState` as GetInstancePortStates reports it.
    pub fn port_state(&self) -> Json {
        json!({
            "fromPort": self.from_port, "toPort": self.to_port, "protocol": self.protocol, "state": "open",
            "cidrs": self.cidrs, "ipv6Cidrs": self.ipv6_cidrs, "cidrListAliases": self.cidr_list_aliases,
        })
    }
    /// Whether this rule lets traffic to `port` in.
    pub fn covers(&self, port: i64) -> bool {
        (self.protocol == "all" || self.protocol == "tcp")
            && self.from_port <= port
            && port <= self.to_port
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Power {
    /// Started (or created) at this time.
    On { since: f64 },
    /// Stop requested at this time.
    Off { since: f64 },
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub arn: String,
    pub support_code: String,
    pub created_at: f64,
    pub zone: String,
    pub blueprint_id: String,
    pub bundle_id: String,
    pub user_data: String,
    pub private_ip: String,
    pub public_ip: String,
    pub tags: BTreeMap<String, String>,
    pub ports: Vec<PortRule>,
    pub power: Power,
    pub ip_address_type: String,
}

#[derive(Clone, Debug)]
pub struct LoadBalancer {
    pub name: String,
    pub arn: String,
    pub support_code: String,
    pub created_at: f64,
    pub dns_name: String,
    pub instance_port: i64,
    pub health_check_path: String,
    pub session_stickiness: bool,
    pub cookie_duration: i64,
    pub https_redirection: bool,
    pub tls_policy_name: String,
    pub ip_address_type: String,
    pub tags: BTreeMap<String, String>,
    /// Attached instance names.
    pub instances: Vec<String>,
}

/// The outcome an operation will have once it ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded,
    Failed { code: String, details: String },
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub id: String,
    pub resource_name: String,
    pub resource_type: String,
    pub zone: String,
    pub operation_type: String,
    pub details: String,
    pub created_at: f64,
    pub outcome: Outcome,
}

pub fn tags_json(tags: &BTreeMap<String, String>) -> Json {
    Json::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

pub fn tags_from_json(j: Option<&Json>) -> BTreeMap<String, String> {
    j.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t.get("key")?.as_str()?.to_string(),
                        t.get("value")
                            .and_then(Json::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
