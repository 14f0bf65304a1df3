//! The model of `hastack_mysql_replica_set`.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;
use tfplugin::timeouts::Timeouts;
use tfplugin::Attr;

use crate::sidecar::Sidecar;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: Attr<String>,
    pub name: Attr<String>,
    pub engine: Attr<String>,
    pub instance_count: Attr<Number>,
    pub availability_zones: Attr<Vec<String>>,
    pub blueprint_id: Attr<String>,
    pub bundle_id: Attr<String>,
    pub ssm_role: Attr<String>,
    pub primary: Attr<String>,
    pub automatic_failover_enabled: Attr<bool>,
    pub failure_detection_timeout: Attr<String>,
    pub failover_block_period: Attr<String>,
    pub databases: Attr<Vec<String>>,
    pub users: Attr<Vec<User>>,
    pub parameters: Attr<BTreeMap<String, String>>,
    pub tags: Attr<BTreeMap<String, String>>,
    pub tags_all: Attr<BTreeMap<String, String>>,
    pub members: Attr<Vec<MemberState>>,
    pub current_primary: Attr<String>,
    pub last_failover: Attr<String>,
    pub writer_endpoint: Attr<String>,
    pub reader_endpoint: Attr<String>,
    pub password_parameters: Attr<BTreeMap<String, String>>,
    pub sidecar: Attr<Sidecar>,
    pub timeouts: Attr<Timeouts>,
}

/// One entry of `users`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    pub name: String,
    pub database: String,
    pub privileges: Option<Vec<String>>,
    /// Write-only: set in the configuration only, null in plan and state.
    pub password_wo: Option<String>,
    pub password_version: Option<Number>,
}

/// One member in `members`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    pub name: String,
    pub zone: String,
    pub private_ip: String,
    pub ssm_instance_id: String,
    pub role: String,
    pub gtid_position: String,
    pub lag_seconds: Option<i64>,
}

impl Model {
    pub fn count(&self) -> Option<i64> {
        self.instance_count.value().and_then(Number::as_i64)
    }
}

impl User {
    pub fn privileges(&self) -> Vec<String> {
        self.privileges
            .clone()
            .unwrap_or_else(|| vec!["ALL".into()])
    }
}
