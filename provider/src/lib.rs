//! terraform-provider-hastack: a highly available web stack on AWS Lightsail.
#![forbid(unsafe_code)]

pub mod aws;
pub mod config;
pub mod data_sources;
pub mod env;
pub mod fleet;
pub mod functions;
pub mod resources;
pub mod sidecar;

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::resource::DataSource;
use tfplugin::{ConfigureRequest, Diagnostics, Function, Resource, Schema, Value};

/// The provider's source address.
pub const ADDRESS: &str = "registry.terraform.io/hastack/hastack";

/// Shared by the provider and its resources: set once ConfigureProvider succeeds.
pub type Shared = tfplugin::typed::ProviderData<config::Configured>;

pub struct HastackProvider {
    configured: Shared,
    env: Arc<dyn env::Env>,
}

impl HastackProvider {
    pub fn new(env: Arc<dyn env::Env>) -> Self {
        HastackProvider {
            configured: Shared::default(),
            env,
        }
    }
}

#[async_trait]
impl tfplugin::Provider for HastackProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            resources::lightsail_ha_instance::new(self.configured.clone()),
            resources::lightsail_load_balancer::new(self.configured.clone()),
            resources::lightsail_lb_attachment::new(self.configured.clone()),
            resources::redis_replica_group::new(self.configured.clone()),
            resources::mysql_replica_set::new(self.configured.clone()),
            // Ops tier.
            resources::ssm_session_policy::new(self.configured.clone()),
            resources::cloudwatch_log_pipeline::new(self.configured.clone()),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![tfplugin::typed::TypedData::serve(
            data_sources::ProviderInfo,
            self.configured.clone(),
        )]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(functions::SpreadZones)]
    }

    async fn validate_config(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        match config::configure(&req.config, self.env.as_ref()).await {
            Ok(c) => {
                tracing::info!(region = ?c.sdk.region(), endpoints = ?c.endpoints, "provider configured");
                self.configured.set(c);
                Diagnostics::new()
            }
            Err(d) => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Provider;

    /// A schema version above 0 means a breaking change happened: old state must be upgradable.
    #[test]
    fn every_versioned_resource_has_a_state_upgrader() {
        let p = HastackProvider::new(Arc::new(env::MapEnv::default()));
        for r in p.resources() {
            if r.schema().version > 0 {
                assert!(
                    r.as_upgrade().is_some(),
                    "{} is at schema version {} but has no upgrader",
                    r.type_name(),
                    r.schema().version
                );
            }
        }
    }

    #[test]
    fn serves_spread_zones_and_provider_info() {
        let p = HastackProvider::new(Arc::new(env::MapEnv::default()));
        assert_eq!(
            p.functions()
                .iter()
                .map(|f| f.name().to_string())
                .collect::<Vec<_>>(),
            ["spread_zones"]
        );
        assert_eq!(
            p.data_sources()
                .iter()
                .map(|d| d.type_name().to_string())
                .collect::<Vec<_>>(),
            ["hastack_provider_info"]
        );
    }
}
