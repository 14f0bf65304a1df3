//! Lightsail's resources and catalogue, with the names the real service uses (no JSON: the
//! wire layer renders them).
use std::collections::BTreeMap;

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
    /// A rule from its parts, checked as Lightsail checks them.
    pub fn checked(
        from_port: i64,
        to_port: i64,
        protocol: &str,
        cidrs: Vec<String>,
        ipv6_cidrs: Vec<String>,
        cidr_list_aliases: Vec<String>,
    ) -> Result<Self, String> {
        if !["tcp", "udp", "all", "icmp", "icmpv6"].contains(&protocol) {
            return Err(format!(
                "portInfo.protocol {protocol:?} must be one of tcp, udp, all, icmp, icmpv6"
            ));
        }
        if !(-1..=65535).contains(&from_port)
            || !(-1..=65535).contains(&to_port)
            || from_port > to_port
        {
            return Err(format!("ports {from_port}-{to_port} are not a valid range"));
        }
        Ok(PortRule {
            from_port,
            to_port,
            protocol: protocol.into(),
            cidrs,
            ipv6_cidrs,
            cidr_list_aliases,
        })
    }

    /// Whether `other` names the same ports and protocol (Open replaces, Close removes it).
    pub fn same_range(&self, other: &PortRule) -> bool {
        self.from_port == other.from_port
            && self.to_port == other.to_port
            && self.protocol == other.protocol
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

/// Where an operation is at a moment: NotStarted for the first quarter of the profile's
/// operation latency, Started until it has passed, then its outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct OperationStatus {
    pub status: &'static str,
    pub changed_at: f64,
    pub is_terminal: bool,
    /// (errorCode, errorDetails) of a failed operation.
    pub error: Option<(String, String)>,
}

impl Operation {
    pub fn status_at(&self, now: f64, latency: f64) -> OperationStatus {
        let done_at = self.created_at + latency;
        let started_at = self.created_at + latency / 4.0;
        let (status, changed_at, error) = if now < started_at {
            ("NotStarted", self.created_at, None)
        } else if now < done_at {
            ("Started", started_at, None)
        } else {
            match &self.outcome {
                Outcome::Succeeded => ("Succeeded", done_at, None),
                Outcome::Failed { code, details } => {
                    ("Failed", done_at, Some((code.clone(), details.clone())))
                }
            }
        };
        OperationStatus {
            status,
            changed_at,
            is_terminal: !matches!(status, "NotStarted" | "Started"),
            error,
        }
    }
}
