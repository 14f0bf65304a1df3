//! Baseline provider on tf-provider 0.2.2 with the same `spread_zones` function as ours.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, FunctionSchema, Parameter, Schema, Type};
use tf_provider::value::ValueEmpty;
use tf_provider::{map, serve, Diagnostics, Function, Provider};

#[derive(Debug, Default, Clone, Copy)]
struct SpreadZones;

#[derive(Debug, Serialize, Deserialize)]
struct Args {
    count: i64,
    zones: Vec<String>,
}

#[async_trait]
impl Function for SpreadZones {
    type Input<'a> = Args;
    type Output<'a> = Vec<String>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<FunctionSchema> {
        Some(FunctionSchema {
            parameters: vec![
                Parameter {
                    name: "count".into(),
                    param_type: Type::Number,
                    description: Description::plain("count"),
                    ..Default::default()
                },
                Parameter {
                    name: "zones".into(),
                    param_type: Type::List(Box::new(Type::String)),
                    description: Description::plain("zones"),
                    ..Default::default()
                },
            ],
            return_type: Type::List(Box::new(Type::String)),
            summary: "spread".into(),
            description: Description::plain("round-robin zones"),
            ..Default::default()
        })
    }

    async fn call<'a>(
        &self,
        diags: &mut Diagnostics,
        a: Self::Input<'a>,
    ) -> Option<Self::Output<'a>> {
        if a.zones.is_empty() || a.count < 0 {
            diags.root_error_short("bad arguments");
            return None;
        }
        Some(
            (0..a.count as usize)
                .map(|i| a.zones[i % a.zones.len()].clone())
                .collect(),
        )
    }
}

#[derive(Debug, Default, Clone)]
struct Baseline;

#[async_trait]
impl Provider for Baseline {
    type Config<'a> = ValueEmpty;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::plain("baseline"),
                ..Default::default()
            },
        })
    }

    fn get_functions(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<std::collections::HashMap<String, Box<dyn tf_provider::DynamicFunction>>> {
        Some(map! { "spread_zones" => SpreadZones })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Feature unification enables two rustls crypto providers in this workspace; pick the one
    // our provider uses, so both sides run the same TLS code.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    serve("baseline", Baseline).await
}
