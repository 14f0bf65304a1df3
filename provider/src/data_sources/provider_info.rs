//! `data "hastack_provider_info"`: what the provider resolved from its configuration.
//!
//! Makes no AWS call. Useful to check which region and endpoints a workspace talks to
//! (e.g. that `AWS_ENDPOINT_URL_*` points at hastack-local).
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::typed::{DataOutcome, DataRead, TypedDataSource};
use tfplugin::{Attr, Attribute, Block, Diagnostics, Schema, Type};

use crate::config::Configured;

pub struct ProviderInfo;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub region: Attr<String>,
    pub endpoints: Attr<BTreeMap<String, String>>,
    pub default_tags: Attr<BTreeMap<String, String>>,
}

#[async_trait]
impl TypedDataSource for ProviderInfo {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
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

    async fn read(&self, req: DataRead<'_, Configured, Model>) -> DataOutcome<Model> {
        let c = req.client;
        DataOutcome {
            state: Some(Model {
                region: Attr::Known(c.sdk.region().map(|r| r.to_string())),
                endpoints: Attr::some(c.endpoints.clone()),
                default_tags: Attr::some(c.default_tags.clone()),
            }),
            diagnostics: Diagnostics::new(),
        }
    }
}
