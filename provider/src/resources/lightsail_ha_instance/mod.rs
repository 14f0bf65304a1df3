//! `hastack_lightsail_ha_instance`: N identical instances across zones, SSM-only, port 22 closed.
//! The member fleet (`crate::fleet`) does the work; this resource maps its model onto it.
mod model;
mod plan;
mod schema;
mod state;

use std::time::Duration;

use async_trait::async_trait;
use tfplugin::schema::{IdentityAttribute, IdentitySchema};
use tfplugin::timeouts::{Operation, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, Diagnostics, Schema, Type, Value};
use tokio_util::sync::CancellationToken;

use crate::config::Configured;
use crate::fleet::heal::Watch;
use crate::fleet::{layout, Fleet, LoadBalancerGate};
use crate::resources::common::aws_error;
use model::{Identity, Model};
use schema::defaults;

pub(crate) use plan::region_zones;
pub use schema::schema;

const TYPE: &str = "hastack_lightsail_ha_instance";

pub struct LightsailHaInstance;

/// The fleet for one call: clients, deadline `timeout` from now, cancellation.
fn fleet<'a>(cfg: &Configured, cancel: &'a CancellationToken, timeout: Duration) -> Fleet<'a> {
    Fleet::new(cfg, cancel, timeout)
}

/// The group's identity: its name prefix in a region.
fn identity(prefix: &str, region: &str) -> Option<Value> {
    Value::from_model(
        &Identity {
            name_prefix: Some(prefix.to_string()),
            region: Some(region.to_string()),
        },
        &identity_schema().value_type(),
    )
    .ok()
}

fn identity_schema() -> IdentitySchema {
    IdentitySchema {
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
    }
}

impl LightsailHaInstance {
    /// Converge to `planned`, then report what exists (also after an error, so Terraform keeps
    /// every instance that was made in state).
    async fn apply(
        &self,
        ctx: &tfplugin::resource::Context,
        cfg: &Configured,
        planned: Model,
        private: &[u8],
        op: Operation,
        had_sidecars: bool,
    ) -> Applied<Model> {
        let summary = match op {
            Operation::Create => "Error creating Lightsail instances",
            _ => "Error updating Lightsail instances",
        };
        let f = fleet(
            cfg,
            &ctx.cancel,
            Timeouts::of(&planned.timeouts, op, &defaults()),
        );
        let mut group = state::group(&planned, &cfg.default_tags);
        let watch = Watch::from_private(private);
        group.unhealthy_since = watch.unhealthy_since.clone();
        group.heal = watch.heal.clone();
        let watch = watch.healed();
        let sidecars = planned.sidecars.value().cloned().unwrap_or_default();
        if !sidecars.is_empty() {
            group.setup = Some(crate::sidecar::render(&f.region, &sidecars));
        }
        let mut diagnostics = Diagnostics::new();
        if group.zones.is_empty() {
            match plan::region_zones(&f.ls, &f.region).await {
                Ok(z) => group.zones = z,
                Err(e) => diagnostics.extend(aws_error(summary, &e)),
            }
        }
        if !diagnostics.has_errors() {
            if let Err(e) = f.converge(&group, &LoadBalancerGate).await {
                diagnostics.extend(aws_error(summary, &e));
            }
        }
        if !diagnostics.has_errors() && (had_sidecars || !sidecars.is_empty()) {
            // Every member, in place: HAProxy reloads only where its configuration changed.
            let script = crate::sidecar::render(&f.region, &sidecars);
            let names = layout::wanted(&group.spec(), group.count, &group.zones)
                .into_iter()
                .map(|w| w.name)
                .collect::<Vec<_>>();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            if let Err(e) = f.run_on(&group, &names, "hastack sidecar", &script).await {
                diagnostics.extend(aws_error("Error configuring the data-tier sidecar", &e));
            }
        }
        match f.observe(&group).await {
            Ok((members, nodes)) if !members.is_empty() => Applied {
                state: Some(state::build(&planned, &members, &nodes, &cfg.default_tags)),
                private: f
                    .watch(&members, watch.clone())
                    .await
                    .unwrap_or(watch)
                    .to_private(),
                identity: identity(&group.prefix, &f.region),
                diagnostics,
            },
            Ok(_) if diagnostics.has_errors() => Applied::failed(None, diagnostics),
            Ok(_) => Applied::failed(
                None,
                crate::resources::common::error(
                    "Lightsail instances vanished",
                    format!("{} has no instances after apply.", group.prefix),
                ),
            ),
            Err(e) => {
                diagnostics.extend(aws_error("Error reading Lightsail instances", &e));
                Applied::failed(Some(planned), diagnostics)
            }
        }
    }
}

#[async_trait]
impl TypedResource for LightsailHaInstance {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity_schema())
    }

    async fn validate(&self, req: Validate<'_, Model>) -> Diagnostics {
        plan::validate(&req.config)
    }

    async fn modify_plan(&self, req: Plan<'_, Configured, Model>) -> Planned<Model> {
        plan::modify(req).await
    }

    async fn create(&self, req: Create<'_, Configured, Model>) -> Applied<Model> {
        self.apply(
            req.ctx,
            req.client,
            req.planned,
            &req.private,
            Operation::Create,
            false,
        )
        .await
    }

    async fn read(&self, req: Read<'_, Configured, Model>) -> ReadOutcome<Model> {
        let timeout = Timeouts::of(&req.state.timeouts, Operation::Read, &defaults());
        let f = fleet(req.client, &req.ctx.cancel, timeout);
        let group = state::group(&req.state, &req.client.default_tags);
        match f.observe(&group).await {
            Ok((members, _)) if members.is_empty() => ReadOutcome::gone(),
            Ok((members, nodes)) => {
                // Healing's memory: since when load balancers report members unhealthy.
                let prior = Watch::from_private(&req.private);
                let private = match f.watch(&members, prior.clone()).await {
                    Ok(w) => w.to_private(),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read member health on load balancers");
                        prior.to_private()
                    }
                };
                ReadOutcome {
                    identity: identity(&group.prefix, &f.region),
                    ..ReadOutcome::found(
                        state::build(&req.state, &members, &nodes, &req.client.default_tags),
                        private,
                    )
                }
            }
            Err(e) => ReadOutcome::failed(
                req.state,
                req.private,
                aws_error("Error reading Lightsail instances", &e),
            ),
        }
    }

    async fn update(&self, req: Update<'_, Configured, Model>) -> Applied<Model> {
        self.apply(
            req.ctx,
            req.client,
            req.planned,
            &req.private,
            Operation::Update,
            req.prior.sidecars.value().is_some_and(|s| !s.is_empty()),
        )
        .await
    }

    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let timeout = Timeouts::of(&req.state.timeouts, Operation::Delete, &defaults());
        let f = fleet(req.client, &req.ctx.cancel, timeout);
        let group = state::group(&req.state, &req.client.default_tags);
        match f.destroy(&group).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => aws_error("Error deleting Lightsail instances", &e),
        }
    }

    /// Import by name prefix (`terraform import`, or an import block's `id`) or by identity
    /// (`identity = { name_prefix = "web" }`): every instance named
    /// `<prefix>-<index>-<revision>` is a member.
    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        let Some(cfg) = req.client else {
            return Imported {
                state: None,
                identity: None,
                diagnostics: crate::resources::common::error(
                    "Provider not configured",
                    "Import needs the provider's region: configure the provider first.".into(),
                ),
            };
        };
        let region = cfg.region();
        let (prefix, wanted_region) = match &req.identity {
            Some(i) if req.id.is_empty() => {
                let i: Identity = i.to_model().unwrap_or_default();
                (i.name_prefix.unwrap_or_default(), i.region)
            }
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
            return Imported {
                state: None,
                identity: None,
                diagnostics: d,
            };
        }
        Imported {
            state: Some(Model {
                id: Attr::some(prefix.clone()),
                name_prefix: Attr::some(prefix.clone()),
                ..Default::default()
            }),
            identity: identity(&prefix, &region),
            diagnostics: d,
        }
    }
}

/// Registered with the provider.
pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(LightsailHaInstance, data)
}
