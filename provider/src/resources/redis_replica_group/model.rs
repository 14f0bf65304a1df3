//! The model of `hastack_redis_replica_group`.
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
    pub instance_count: Attr<Number>,
    pub availability_zones: Attr<Vec<String>>,
    pub blueprint_id: Attr<String>,
    pub bundle_id: Attr<String>,
    pub ssm_role: Attr<String>,
    pub primary: Attr<String>,
    pub sentinel: Attr<SentinelSettings>,
    pub min_replicas_to_write: Attr<Number>,
    pub min_replicas_max_lag: Attr<Number>,
    pub appendonly: Attr<bool>,
    pub maxmemory_policy: Attr<String>,
    pub auth_token_wo: Attr<String>,
    pub auth_token_wo_version: Attr<Number>,
    pub auth_token_update_strategy: Attr<String>,
    pub parameters: Attr<BTreeMap<String, String>>,
    pub tags: Attr<BTreeMap<String, String>>,
    pub tags_all: Attr<BTreeMap<String, String>>,
    pub members: Attr<Vec<MemberState>>,
    pub current_primary: Attr<String>,
    pub sentinel_endpoints: Attr<Vec<String>>,
    pub writer_endpoint: Attr<String>,
    pub auth_token_parameter: Attr<String>,
    pub sidecar: Attr<Sidecar>,
    pub timeouts: Attr<Timeouts>,
}

/// The `sentinel` block (every value optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SentinelSettings {
    pub quorum: Option<Number>,
    pub down_after: Option<String>,
    pub failover_timeout: Option<String>,
    pub parallel_syncs: Option<Number>,
}

/// One member in `members`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    pub name: String,
    pub zone: String,
    pub private_ip: String,
    pub ssm_instance_id: String,
    pub role: String,
    pub replication_offset: i64,
    pub link_status: String,
}

impl Model {
    pub fn count(&self) -> Option<i64> {
        self.instance_count.value().and_then(Number::as_i64)
    }
}
