//! `hastack_lightsail_ha_instance`: N identical instances across zones, SSM-only, port 22 closed.
pub mod bootstrap;
mod converge;
pub mod layout;
mod plan;
mod schema;
mod state;

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::resource::*;
use tfplugin::schema::{IdentityAttribute, IdentitySchema};
use tfplugin::timeouts::{self, Operation};
use tfplugin::{Diagnostics, Schema, Type, Value};

use crate::aws::ssm;
use crate::config::Configured;
use crate::resources::common::{configured, error, text};
use crate::Shared;
use converge::Run;
use schema::defaults;

pub use schema::schema;

const TYPE: &str = "hastack_lightsail_ha_instance";

pub struct LightsailHaInstance {
    pub configured: Shared,
}

fn run<'a>(cfg: &Configured, ctx: &'a Context, timeout: std::time::Duration) -> Run<'a> {
    Run {
        ls: crate::aws::lightsail::client(cfg),
        ssm: ssm::client(cfg),
        region: cfg.sdk.region().map(|r| r.to_string()).unwrap_or_default(),
        cancel: &ctx.cancel,
        deadline: tokio::time::Instant::now() + timeout,
    }
}

impl LightsailHaInstance {
    /// Converge to `planned`, then report what exists (also after an error, so Terraform keeps
    /// every instance that was made in state).
    async fn apply(
        &self,
        ctx: &Context,
        config: &Value,
        planned: &Value,
        op: Operation,
        summary: &str,
    ) -> ApplyResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => {
                return ApplyResponse {
                    diagnostics: d,
                    ..Default::default()
                }
            }
        };
        let r = run(&cfg, ctx, timeouts::get(config, op, &defaults()));
        let mut group = state::group(planned, &cfg.default_tags);
        let mut diagnostics = Diagnostics::new();
        if group.zones.is_empty() {
            match plan::region_zones(&r.ls, &r.region).await {
                Ok(z) => group.zones = z,
                Err(e) => diagnostics.extend(error(summary, e)),
            }
        }
        if !diagnostics.has_errors() {
            if let Err(e) = r.converge(&group).await {
                diagnostics.extend(error(summary, e));
            }
        }
        match state::fetch(&r, planned, &cfg.default_tags).await {
            Ok(Some(s)) => ApplyResponse {
                state: s,
                identity: Some(identity(&group.prefix, &r.region)),
                diagnostics,
                ..Default::default()
            },
            Ok(None) if diagnostics.has_errors() => ApplyResponse {
                diagnostics,
                ..Default::default()
            },
            Ok(None) => ApplyResponse {
                diagnostics: error(
                    "Lightsail instances vanished",
                    format!("{} has no instances after apply.", group.prefix),
                ),
                ..Default::default()
            },
            Err(e) => {
                diagnostics.extend(error("Error reading Lightsail instances", e));
                ApplyResponse {
                    state: planned_without_unknowns(planned),
                    diagnostics,
                    ..Default::default()
                }
            }
        }
    }
}

/// The group's identity: its name prefix in a region.
fn identity(prefix: &str, region: &str) -> Value {
    Value::object([
        ("name_prefix", Value::string(prefix)),
        ("region", Value::string(region)),
    ])
}

/// A state that can be saved when nothing could be read back: unknowns become null.
fn planned_without_unknowns(v: &Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), planned_without_unknowns(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[async_trait]
impl Resource for LightsailHaInstance {
    fn type_name(&self) -> &str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        plan::validate(&req.config)
    }

    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        self.apply(
            &req.ctx,
            &req.config,
            &req.planned_state,
            Operation::Create,
            "Error creating Lightsail instances",
        )
        .await
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => {
                return ReadResponse {
                    diagnostics: d,
                    ..ReadResponse::found(req.state, req.private)
                }
            }
        };
        let r = run(
            &cfg,
            &req.ctx,
            timeouts::get(&req.state, Operation::Read, &defaults()),
        );
        match state::fetch(&r, &req.state, &cfg.default_tags).await {
            Ok(Some(s)) => ReadResponse {
                identity: Some(identity(
                    &text(s.get("name_prefix")).unwrap_or_default(),
                    &r.region,
                )),
                ..ReadResponse::found(s, req.private)
            },
            Ok(None) => ReadResponse::gone(),
            Err(e) => ReadResponse {
                diagnostics: error("Error reading Lightsail instances", e),
                ..ReadResponse::found(req.state, req.private)
            },
        }
    }

    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        self.apply(
            &req.ctx,
            &req.config,
            &req.planned_state,
            Operation::Update,
            "Error updating Lightsail instances",
        )
        .await
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => return DeleteResponse { diagnostics: d },
        };
        let r = run(
            &cfg,
            &req.ctx,
            timeouts::get(&req.prior_state, Operation::Delete, &defaults()),
        );
        let prefix = text(req.prior_state.get("name_prefix")).unwrap_or_default();
        match r.destroy(&prefix).await {
            Ok(()) => DeleteResponse::default(),
            Err(e) => DeleteResponse {
                diagnostics: error("Error deleting Lightsail instances", e),
            },
        }
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 0,
            attributes: vec![
                IdentityAttribute {
                    name: "name_prefix".into(),
                    ty: Type::String,
                    required_for_import: true,
                    optional_for_import: false,
                    description: "The group's `name_prefix`.".into(),
                },
                IdentityAttribute {
                    name: "region".into(),
                    ty: Type::String,
                    required_for_import: false,
                    optional_for_import: true,
                    description: "The region (default: the provider's).".into(),
                },
            ],
        })
    }

    fn as_import(&self) -> Option<&dyn ImportState> {
        Some(self)
    }

    fn as_modify_plan(&self) -> Option<&dyn ModifyPlan> {
        Some(self)
    }
}

#[async_trait]
impl ImportState for LightsailHaInstance {
    /// Import by name prefix (`terraform import`, or an import block's `id`) or by identity
    /// (`identity = { name_prefix = "web" }`): every instance named
    /// `<prefix>-<index>-<revision>` is a member.
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let region = configured(&self.configured)
            .ok()
            .and_then(|c| c.sdk.region().map(|r| r.to_string()))
            .unwrap_or_default();
        let (prefix, wanted_region) = match &req.identity {
            Some(i) if req.id.is_empty() => (
                text(i.get("name_prefix")).unwrap_or_default(),
                text(i.get("region")),
            ),
            _ => (req.id.clone(), None),
        };
        let mut d = Diagnostics::new();
        if !layout::valid_prefix(&prefix) {
            d.error(
                "Invalid import ID",
                format!(
                    "{prefix:?} is not a name prefix (1–200 letters, digits, '-', '_' or '.')."
                ),
            );
        }
        if let Some(w) = wanted_region.filter(|w| *w != region) {
            d.error(
                "Import from another region",
                format!("The identity's region is {w}, the provider's is {region:?}: configure the provider for {w}."),
            );
        }
        if d.has_errors() {
            return ImportResponse {
                diagnostics: d,
                ..Default::default()
            };
        }
        ImportResponse {
            state: Value::object([
                ("id", Value::string(&prefix)),
                ("name_prefix", Value::string(&prefix)),
            ]),
            identity: Some(identity(&prefix, &region)),
            ..Default::default()
        }
    }
}

#[async_trait]
impl ModifyPlan for LightsailHaInstance {
    async fn modify_plan(&self, req: PlanRequest) -> PlanResponse {
        let cfg = configured(&self.configured).ok();
        plan::modify(cfg.as_deref(), req).await
    }
}

/// Registered with the provider.
pub fn new(configured: Shared) -> Arc<dyn Resource> {
    Arc::new(LightsailHaInstance { configured })
}
