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

/// An OS image.
pub struct Blueprint {
    pub id: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    /// The default login user of the image.
    pub username: &'static str,
}

pub const BLUEPRINTS: &[Blueprint] = &[
    Blueprint {
        id: "ubuntu_24_04",
        name: "Ubuntu",
        version: "24.04 LTS",
        username: "ubuntu",
    },
    Blueprint {
        id: "ubuntu_22_04",
        name: "Ubuntu",
        version: "22.04 LTS",
        username: "ubuntu",
    },
    Blueprint {
        id: "debian_12",
        name: "Debian",
        version: "12.8",
        username: "admin",
    },
    Blueprint {
        id: "debian_11",
        name: "Debian",
        version: "11.11",
        username: "admin",
    },
    Blueprint {
        id: "amazon_linux_2023",
        name: "Amazon Linux 2023",
        version: "2023.6",
        username: "ec2-user",
    },
];

/// An instance size, with Lightsail's published numbers.
pub struct Bundle {
    pub id: &'static str,
    pub name: &'static str,
    pub price: f64,
    pub cpus: i64,
    pub ram_gb: f64,
    pub disk_gb: i64,
    pub transfer_gb: i64,
    pub power: i64,
}

pub const BUNDLES: &[Bundle] = &[
    Bundle {
        id: "nano_3_0",
        name: "Nano",
        price: 5.0,
        cpus: 2,
        ram_gb: 0.5,
        disk_gb: 20,
        transfer_gb: 1024,
        power: 298,
    },
    Bundle {
        id: "micro_3_0",
        name: "Micro",
        price: 7.0,
        cpus: 2,
        ram_gb: 1.0,
        disk_gb: 40,
        transfer_gb: 2048,
        power: 500,
    },
    Bundle {
        id: "small_3_0",
        name: "Small",
        price: 12.0,
        cpus: 2,
        ram_gb: 2.0,
        disk_gb: 60,
        transfer_gb: 3072,
        power: 1000,
    },
    Bundle {
        id: "medium_3_0",
        name: "Medium",
        price: 24.0,
        cpus: 2,
        ram_gb: 4.0,
        disk_gb: 80,
        transfer_gb: 4096,
        power: 2000,
    },
    Bundle {
        id: "large_3_0",
        name: "Large",
        price: 44.0,
        cpus: 2,
        ram_gb: 8.0,
        disk_gb: 160,
        transfer_gb: 5120,
        power: 3000,
    },
    Bundle {
        id: "xlarge_3_0",
        name: "Xlarge",
        price: 84.0,
        cpus: 4,
        ram_gb: 16.0,
        disk_gb: 320,
        transfer_gb: 6144,
        power: 4000,
    },
    Bundle {
        id: "2xlarge_3_0",
        name: "2Xlarge",
        price: 164.0,
        cpus: 8,
        ram_gb: 32.0,
        disk_gb: 640,
        transfer_gb: 7168,
        power: 5000,
    },
];

pub fn blueprint_json(b: &Blueprint) -> Json {
    json!({
        "blueprintId": b.id, "name": b.name, "group": b.id.split('_').next().unwrap_or(b.id), "type": "os",
        "description": format!("{} {}", b.name, b.version), "isActive": true, "minPower": 0, "version": b.version,
        "versionCode": "1", "productUrl": "", "licenseUrl": "", "platform": "LINUX_UNIX",
    })
}

pub fn bundle_json(b: &Bundle) -> Json {
    json!({
        "bundleId": b.id, "name": b.name, "price": b.price, "cpuCount": b.cpus, "ramSizeInGb": b.ram_gb,
        "diskSizeInGb": b.disk_gb, "transferPerMonthInGb": b.transfer_gb, "power": b.power, "isActive": true,
        "instanceType": b.id.trim_end_matches("_3_0"), "supportedPlatforms": ["LINUX_UNIX"],
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
