//! `hastack_lightsail_lb_attachment`: which instances a load balancer sends traffic to.
//!
//! Owns the load balancer's whole attachment set: instances attached or detached by hand show
//! as drift. Changes attach and detach only the difference.
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::timeouts::{self, Operation, TimeoutDefaults, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, Attribute, AttributePath, Block, Diagnostics, Known, Schema, Type};
use tokio::time::Instant;

use crate::aws::instances::{attach, detach};
use crate::aws::lightsail::{client, deadline, lb_health, wait_healthy, wait_operations};
use crate::aws::{AwsError, OrGone};
use crate::config::Configured;
use crate::resources::common::aws_error;
use crate::resources::lightsail_load_balancer::valid_name as valid_lb_name;

pub struct LightsailLbAttachment;

/// A Lightsail instance name.
fn valid_instance_name(n: &str) -> bool {
    n.len() <= 255
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn defaults() -> TimeoutDefaults {
    TimeoutDefaults::default()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: Attr<String>,
    pub load_balancer_name: Attr<String>,
    pub instance_names: Attr<BTreeSet<String>>,
    pub wait_for_healthy: Attr<bool>,
    pub instance_health: Attr<BTreeMap<String, String>>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Attaches a group of instances to a Lightsail load balancer and, by default, waits until each is healthy.")
            .attribute(Attribute::new("id", Type::String).computed().use_state_for_unknown().description("The load balancer's name."))
            .attribute(Attribute::new("load_balancer_name", Type::String).required().requires_replace().description("The load balancer, e.g. `hastack_lightsail_load_balancer.front.name` (2–255 letters, digits, `-`, `_` or `.`, starting with a letter or digit)."))
            .attribute(Attribute::new("instance_names", Type::set(Type::String)).required().description("The instances to attach, e.g. `hastack_lightsail_ha_instance.app.instances[*].name`. At least one; each 1–255 letters, digits, `-`, `_` or `.`, starting with a letter or digit."))
            .attribute(Attribute::new("wait_for_healthy", Type::Bool).optional().description("Wait until every attached instance passes the load balancer's health check. Default `true`."))
            .attribute(Attribute::new("instance_health", Type::map(Type::String)).computed().description("Health of each attached instance as the load balancer last reported it (`initial`, `healthy`, `unhealthy`, `draining`, …)."))
            .block(timeouts::block(&defaults())),
    )
}

fn state(lb: &str, health: &[(String, String)], prior: &Model) -> Model {
    Model {
        id: Attr::some(lb.to_string()),
        load_balancer_name: Attr::some(lb.to_string()),
        instance_names: Attr::some(health.iter().map(|(n, _)| n.clone()).collect()),
        wait_for_healthy: prior.wait_for_healthy.clone(),
        instance_health: Attr::some(health.iter().cloned().collect()),
        timeouts: prior.timeouts.clone(),
    }
}

/// Wait for the operations an attach or detach call returned.
async fn settle(
    c: &aws_sdk_lightsail::Client,
    ctx: &tfplugin::resource::Context,
    sent: Result<Vec<aws_sdk_lightsail::types::Operation>, AwsError>,
    until: Instant,
) -> Result<(), AwsError> {
    wait_operations(c, &sent?, until, &ctx.cancel).await
}

/// Attach what is wanted and not attached, detach what is attached and not wanted (the
/// difference to what is attached now, so work a rolling replacement already did is not
/// redone), wait for the operations, then (optionally) for health, all within `until`.
async fn converge(
    cfg: &Configured,
    ctx: &tfplugin::resource::Context,
    planned: &Model,
    until: Instant,
) -> Applied<Model> {
    let c = client(cfg);
    let lb = planned
        .load_balancer_name
        .value()
        .cloned()
        .unwrap_or_default();
    let want = planned.instance_names.value().cloned().unwrap_or_default();
    let partial = |c: aws_sdk_lightsail::Client, lb: String, d: Diagnostics| async move {
        let health = lb_health(&c, &lb).await.unwrap_or_default();
        Applied::failed(Some(state(&lb, &health, planned)), d)
    };
    let now: BTreeSet<String> = match lb_health(&c, &lb).await {
        Ok(h) => h.into_iter().map(|(n, _)| n).collect(),
        Err(e) => {
            return Applied::failed(
                None,
                aws_error("Error reading load balancer attachments", &e),
            )
        }
    };
    let add: Vec<String> = want.difference(&now).cloned().collect();
    let remove: Vec<String> = now.difference(&want).cloned().collect();
    if !remove.is_empty() {
        if let Err(e) = settle(&c, ctx, detach(&c, &lb, remove).await, until).await {
            return partial(c, lb, aws_error("Error detaching instances", &e)).await;
        }
    }
    if !add.is_empty() {
        if let Err(e) = settle(&c, ctx, attach(&c, &lb, add).await, until).await {
            return partial(c, lb, aws_error("Error attaching instances", &e)).await;
        }
    }
    if planned.wait_for_healthy.value() != Some(&false) {
        return match wait_healthy(&c, &lb, None, until, &ctx.cancel).await {
            Ok(health) => Applied::ok(state(&lb, &health, planned)),
            Err(e @ AwsError::TimedOut { .. }) => {
                let d = crate::resources::common::error(
                    "Instances not healthy",
                    format!(
                        "{e}. Check that they serve the health check path on the instance port."
                    ),
                );
                partial(c, lb, d).await
            }
            Err(e) => partial(c, lb, aws_error("Error waiting for healthy instances", &e)).await,
        };
    }
    match lb_health(&c, &lb).await {
        Ok(h) => Applied::ok(state(&lb, &h, planned)),
        Err(e) => {
            partial(
                c,
                lb,
                aws_error("Error reading load balancer attachments", &e),
            )
            .await
        }
    }
}

#[async_trait]
impl TypedResource for LightsailLbAttachment {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
        "hastack_lightsail_lb_attachment"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: Validate<'_, Model>) -> Diagnostics {
        let mut d = Diagnostics::new();
        if req
            .config
            .load_balancer_name
            .value()
            .is_some_and(|n| n.trim().is_empty())
        {
            d.attribute_error(
                AttributePath::root("load_balancer_name"),
                "Empty load balancer name",
                "load_balancer_name must name a load balancer.",
            );
        } else if let Some(n) = req
            .config
            .load_balancer_name
            .value()
            .filter(|n| !valid_lb_name(n))
        {
            d.attribute_error(
                AttributePath::root("load_balancer_name"),
                "Invalid load balancer name",
                format!("{n:?} is not a load balancer name (2–255 letters, digits, '-', '_' or '.', starting with a letter or digit)."),
            );
        }
        if let Some(names) = req.config.instance_names.value() {
            if names.is_empty() {
                d.attribute_error(
                    AttributePath::root("instance_names"),
                    "No instances",
                    "instance_names must list at least one instance.",
                );
            }
            if names.iter().any(|n| n.trim().is_empty()) {
                d.attribute_error(
                    AttributePath::root("instance_names"),
                    "Empty instance name",
                    "instance_names must not contain an empty name.",
                );
            }
            for n in names
                .iter()
                .filter(|n| !n.trim().is_empty() && !valid_instance_name(n))
            {
                d.attribute_error(
                    AttributePath::root("instance_names"),
                    "Invalid instance name",
                    format!("{n:?} is not a Lightsail instance name (1–255 letters, digits, '-', '_' or '.', starting with a letter or digit)."),
                );
            }
        }
        d
    }

    /// `id` is the load balancer's name.
    async fn modify_plan(&self, req: Plan<'_, Configured, Model>) -> Planned<Model> {
        let mut planned = req.planned;
        if let Known::Known(Some(lb)) = &planned.load_balancer_name {
            planned.id = Attr::some(lb.clone());
        }
        Planned {
            planned,
            requires_replace: Vec::new(),
            private: req.private,
            diagnostics: Diagnostics::new(),
        }
    }

    async fn create(&self, req: Create<'_, Configured, Model>) -> Applied<Model> {
        let until = deadline(Timeouts::of(
            &req.planned.timeouts,
            Operation::Create,
            &defaults(),
        ));
        converge(req.client, req.ctx, &req.planned, until).await
    }

    async fn read(&self, req: Read<'_, Configured, Model>) -> ReadOutcome<Model> {
        let lb = req
            .state
            .load_balancer_name
            .value()
            .cloned()
            .unwrap_or_default();
        match lb_health(&client(req.client), &lb).await.or_gone() {
            Ok(Some(h)) if h.is_empty() => ReadOutcome::gone(),
            Ok(Some(h)) => ReadOutcome::found(state(&lb, &h, &req.state), req.private),
            Ok(None) => ReadOutcome::gone(),
            Err(e) => ReadOutcome::failed(
                req.state,
                req.private,
                aws_error("Error reading load balancer attachments", &e),
            ),
        }
    }

    async fn update(&self, req: Update<'_, Configured, Model>) -> Applied<Model> {
        let until = deadline(Timeouts::of(
            &req.planned.timeouts,
            Operation::Update,
            &defaults(),
        ));
        converge(req.client, req.ctx, &req.planned, until).await
    }

    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let c = client(req.client);
        let lb = req
            .state
            .load_balancer_name
            .value()
            .cloned()
            .unwrap_or_default();
        let remove: Vec<String> = req
            .state
            .instance_names
            .value()
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default();
        let until = deadline(Timeouts::of(
            &req.state.timeouts,
            Operation::Delete,
            &defaults(),
        ));
        match detach(&c, &lb, remove).await {
            Ok(ops) => match wait_operations(&c, &ops, until, &req.ctx.cancel).await {
                Ok(()) => Diagnostics::new(),
                Err(e) => aws_error("Error waiting for instances to detach (draining)", &e),
            },
            Err(e) if e.is_not_found() => Diagnostics::new(),
            Err(e) => aws_error("Error detaching instances", &e),
        }
    }

    /// Import by load balancer name: everything attached to it.
    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        Imported {
            state: Some(Model {
                id: Attr::some(req.id.clone()),
                load_balancer_name: Attr::some(req.id),
                ..Default::default()
            }),
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }
}

pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(LightsailLbAttachment, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lists_what_is_attached() {
        let s = state(
            "front",
            &[
                ("a".into(), "healthy".into()),
                ("b".into(), "initial".into()),
            ],
            &Model {
                wait_for_healthy: Attr::some(false),
                ..Default::default()
            },
        );
        assert_eq!(
            s.instance_names.value().unwrap(),
            &["a".to_string(), "b".to_string()].into()
        );
        assert_eq!(s.instance_health.value().unwrap()["b"], "initial");
        assert_eq!(s.wait_for_healthy, Attr::some(false));
    }

    #[tokio::test]
    async fn empty_names_fail_validation() {
        let ctx = tfplugin::resource::Context::default();
        let m = Model {
            load_balancer_name: Attr::some(String::new()),
            instance_names: Attr::some(["".to_string()].into()),
            ..Default::default()
        };
        let d = LightsailLbAttachment
            .validate(Validate {
                ctx: &ctx,
                config: m,
            })
            .await;
        let at: Vec<String> = d
            .iter()
            .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
            .collect();
        assert!(at.contains(&"load_balancer_name".to_string()), "{at:?}");
        assert!(at.contains(&"instance_names".to_string()), "{at:?}");
    }

    #[test]
    fn instance_names() {
        for ok in ["web-0-abc123", "a", "db_1.x"] {
            assert!(valid_instance_name(ok), "{ok}");
        }
        for bad in ["web 0", "-web", "web/0", &"i".repeat(256)] {
            assert!(!valid_instance_name(bad), "{bad}");
        }
    }
}
