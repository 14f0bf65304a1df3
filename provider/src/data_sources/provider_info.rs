//! `data "hastack_provider_info"`: what the provider resolved from its configuration.
//!
//! Makes no AWS call. Useful to check which region and endpoints a workspace talks to
//! (e.g. that `AWS_ENDPOINT_URL_*` points at hastack-local).
use async_trait::async_trait;
use tfplugin::resource::{Context, DataSource};
use tfplugin::{Attribute, Block, Diagnostics, Schema, Type, Value};

use crate::Shared;

pub struct ProviderInfo {
    pub configured: Shared,
}

#[async_trait]
impl DataSource for ProviderInfo {
    fn type_name(&self) -> &str {
        "hastack_provider_info"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("The region, endpoints and default tags the provider resolved from its block, the environment and shared files. Makes no AWS call.")
                .attribute(Attribute::new("region", Type::String).computed().description("The AWS region in use."))
                .attribute(Attribute::new("endpoints", Type::map(Type::String)).computed().description("Custom endpoint per service (`lightsail`, `ssm`, `cloudwatch`, `logs`, `sts`); services using AWS's default endpoint are absent."))
                .attribute(Attribute::new("default_tags", Type::map(Type::String)).computed().description("The provider's default tags.")),
        )
    }

    async fn read(&self, _ctx: Context, _config: Value) -> (Value, Diagnostics) {
        let mut d = Diagnostics::new();
        let Some(c) = self.configured.read().expect("config lock").clone() else {
            d.error(
                "Provider not configured",
                "The hastack provider was not configured before this data source was read.",
            );
            return (Value::Null, d);
        };
        let map = |m: &std::collections::BTreeMap<String, String>| {
            Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::string(v)))
                    .collect(),
            )
        };
        let v = Value::object([
            (
                "region",
                c.sdk
                    .region()
                    .map(|r| Value::string(r.as_ref()))
                    .unwrap_or(Value::Null),
            ),
            ("endpoints", map(&c.endpoints)),
            ("default_tags", map(&c.default_tags)),
        ]);
        (v, d)
    }
}
