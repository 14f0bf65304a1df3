//! `hastack_lightsail_lb_attachment`: which instances a load balancer sends traffic to.
//!
//! Owns the load balancer's whole attachment set: instances attached or detached by hand show
//! as drift. Changes attach and detach only the difference.
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::resource::*;
use tfplugin::timeouts::{self, Operation, TimeoutDefaults};
use tfplugin::{Attribute, AttributePath, Block, Diagnostics, Schema, Type, Value};

use crate::aws::instances::lb_health;
use crate::aws::lightsail::{client, wait_operations};
use crate::resources::common::{configured, error, strings, text};
use crate::Shared;

pub struct LightsailLbAttachment {
    pub configured: Shared,
}

fn defaults() -> TimeoutDefaults {
    TimeoutDefaults::default()
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Attaches a group of instances to a Lightsail load balancer and, by default, waits until each is healthy.")
            .attribute(Attribute::new("id", Type::String).computed().use_state_for_unknown().description("The load balancer's name."))
            .attribute(Attribute::new("load_balancer_name", Type::String).required().requires_replace().description("The load balancer, e.g. `hastack_lightsail_load_balancer.front.name`."))
            .attribute(Attribute::new("instance_names", Type::set(Type::String)).required().description("The instances to attach, e.g. `hastack_lightsail_ha_instance.app.instances[*].name`. At least one."))
            .attribute(Attribute::new("wait_for_healthy", Type::Bool).optional().description("Wait until every attached instance passes the load balancer's health check. Default `true`."))
            .attribute(Attribute::new("instance_health", Type::map(Type::String)).computed().description("Health of each attached instance as the load balancer last reported it (`initial`, `healthy`, `unhealthy`, `draining`, …)."))
            .block(timeouts::block(&defaults())),
    )
}

fn names(v: &Value) -> BTreeSet<String> {
    strings(v).into_iter().collect()
}

fn state(lb: &str, health: &[(String, String)], prior: &Value) -> Value {
    Value::object([
        ("id", Value::string(lb)),
        ("load_balancer_name", Value::string(lb)),
        (
            "instance_names",
            Value::Set(health.iter().map(|(n, _)| Value::string(n)).collect()),
        ),
        ("wait_for_healthy", prior.get("wait_for_healthy").clone()),
        (
            "instance_health",
            Value::Map(
                health
                    .iter()
                    .map(|(n, h)| (n.clone(), Value::string(h)))
                    .collect(),
            ),
        ),
        ("timeouts", prior.get("timeouts").clone()),
    ])
}

impl LightsailLbAttachment {
    /// Attach what is wanted and not attached, detach what is attached and not wanted (the
    /// difference to what is attached now, so work a rolling replacement already did is not
    /// redone), wait for the operations, then (optionally) for health.
    async fn converge(&self, ctx: &Context, planned: &Value, timeout: Duration) -> ApplyResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => {
                return ApplyResponse {
                    diagnostics: d,
                    ..Default::default()
                }
            }
        };
        let c = client(&cfg);
        let lb = text(planned.get("load_balancer_name")).unwrap_or_default();
        let started = tokio::time::Instant::now();
        let want = names(planned.get("instance_names"));
        let now: BTreeSet<String> = match lb_health(&c, &lb).await {
            Ok(h) => h.unwrap_or_default().into_iter().map(|(n, _)| n).collect(),
            Err(e) => {
                return ApplyResponse {
                    diagnostics: error("Error reading load balancer attachments", e),
                    ..Default::default()
                }
            }
        };
        let add: Vec<String> = want.difference(&now).cloned().collect();
        let remove: Vec<String> = now.difference(&want).cloned().collect();
        if !remove.is_empty() {
            let sent = c
                .detach_instances_from_load_balancer()
                .load_balancer_name(&lb)
                .set_instance_names(Some(remove))
                .send()
                .await
                .map(|o| o.operations.unwrap_or_default())
                .map_err(|e| crate::aws::describe("DetachInstancesFromLoadBalancer", &e).1);
            if let Some(failed) = self.settle(&c, ctx, planned, "detach", sent, timeout).await {
                return failed;
            }
        }
        if !add.is_empty() {
            let sent = c
                .attach_instances_to_load_balancer()
                .load_balancer_name(&lb)
                .set_instance_names(Some(add))
                .send()
                .await
                .map(|o| o.operations.unwrap_or_default())
                .map_err(|e| crate::aws::describe("AttachInstancesToLoadBalancer", &e).1);
            if let Some(failed) = self
                .settle(
                    &c,
                    ctx,
                    planned,
                    "attach",
                    sent,
                    timeout.saturating_sub(started.elapsed()),
                )
                .await
            {
                return failed;
            }
        }
        if planned.get("wait_for_healthy").as_bool() != Some(false) {
            let mut backoff = crate::aws::Backoff::states();
            loop {
                let health = match lb_health(&c, &lb).await {
                    Ok(Some(h)) => h,
                    Ok(None) => {
                        return ApplyResponse {
                            diagnostics: error(
                                "Load balancer not found",
                                format!("{lb} does not exist."),
                            ),
                            ..Default::default()
                        }
                    }
                    Err(e) => {
                        return self
                            .partial(
                                &c,
                                &lb,
                                planned,
                                error("Error reading load balancer health", e),
                            )
                            .await
                    }
                };
                if health.iter().all(|(_, h)| h == "healthy") {
                    return ApplyResponse {
                        state: state(&lb, &health, planned),
                        ..Default::default()
                    };
                }
                if started.elapsed() >= timeout {
                    let sick: Vec<String> = health
                        .iter()
                        .filter(|(_, h)| h != "healthy")
                        .map(|(n, h)| format!("{n}: {h}"))
                        .collect();
                    return ApplyResponse {
                        state: state(&lb, &health, planned),
                        diagnostics: error("Instances not healthy", format!("After {timeout:?} these instances are still not healthy: {}. Check that they serve the health check path on the instance port.", sick.join(", "))),
                        ..Default::default()
                    };
                }
                tokio::select! {
                    _ = ctx.cancel.cancelled() => return self.partial(&c, &lb, planned, error("Cancelled", "Terraform asked the provider to stop while waiting for healthy instances.".into())).await,
                    _ = tokio::time::sleep(backoff.next().unwrap_or_default()) => {}
                }
            }
        }
        self.partial(&c, &lb, planned, Diagnostics::new()).await
    }

    /// Wait for the operations an attach or detach call returned; the response to give when
    /// the call or the wait failed.
    async fn settle(
        &self,
        c: &aws_sdk_lightsail::Client,
        ctx: &Context,
        planned: &Value,
        what: &str,
        sent: Result<Vec<aws_sdk_lightsail::types::Operation>, String>,
        timeout: Duration,
    ) -> Option<ApplyResponse> {
        let failure = match sent {
            Err(e) => error(&format!("Error trying to {what} instances"), e),
            Ok(ops) => match wait_operations(c, &ops, timeout, &ctx.cancel).await {
                Ok(()) => return None,
                Err(e) => error(
                    &format!("Error waiting for instances to {what}"),
                    e.to_string(),
                ),
            },
        };
        let lb = text(planned.get("load_balancer_name")).unwrap_or_default();
        Some(self.partial(c, &lb, planned, failure).await)
    }

    /// Whatever is attached now, with `diagnostics`.
    async fn partial(
        &self,
        c: &aws_sdk_lightsail::Client,
        lb: &str,
        planned: &Value,
        diagnostics: Diagnostics,
    ) -> ApplyResponse {
        let health = lb_health(c, lb).await.ok().flatten().unwrap_or_default();
        ApplyResponse {
            state: state(lb, &health, planned),
            diagnostics,
            ..Default::default()
        }
    }
}

#[async_trait]
impl Resource for LightsailLbAttachment {
    fn type_name(&self) -> &str {
        "hastack_lightsail_lb_attachment"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        let mut d = Diagnostics::new();
        let v = req.config.get("instance_names");
        if v.is_wholly_known() && !v.is_null() && names(v).is_empty() {
            d.attribute_error(
                AttributePath::root("instance_names"),
                "No instances",
                "instance_names must list at least one instance.",
            );
        }
        d
    }

    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        let timeout = timeouts::get(&req.config, Operation::Create, &defaults());
        self.converge(&req.ctx, &req.planned_state, timeout).await
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
        let lb = text(req.state.get("load_balancer_name")).unwrap_or_default();
        match lb_health(&client(&cfg), &lb).await {
            Ok(Some(h)) if h.is_empty() => ReadResponse::gone(),
            Ok(Some(h)) => ReadResponse::found(state(&lb, &h, &req.state), req.private),
            Ok(None) => ReadResponse::gone(),
            Err(e) => ReadResponse {
                diagnostics: error("Error reading load balancer attachments", e),
                ..ReadResponse::found(req.state, req.private)
            },
        }
    }

    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        let timeout = timeouts::get(&req.config, Operation::Update, &defaults());
        self.converge(&req.ctx, &req.planned_state, timeout).await
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => return DeleteResponse { diagnostics: d },
        };
        let c = client(&cfg);
        let lb = text(req.prior_state.get("load_balancer_name")).unwrap_or_default();
        let remove: Vec<String> = names(req.prior_state.get("instance_names"))
            .into_iter()
            .collect();
        let timeout = timeouts::get(&req.prior_state, Operation::Delete, &defaults());
        match c
            .detach_instances_from_load_balancer()
            .load_balancer_name(&lb)
            .set_instance_names(Some(remove))
            .send()
            .await
        {
            Ok(out) => {
                match wait_operations(&c, out.operations(), timeout, &req.ctx.cancel).await {
                    Ok(()) => DeleteResponse::default(),
                    Err(e) => DeleteResponse {
                        diagnostics: error(
                            "Error waiting for instances to detach (draining)",
                            e.to_string(),
                        ),
                    },
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                DeleteResponse::default()
            }
            Err(e) => DeleteResponse {
                diagnostics: error(
                    "Error detaching instances",
                    crate::aws::describe("DetachInstancesFromLoadBalancer", &e).1,
                ),
            },
        }
    }

    fn as_import(&self) -> Option<&dyn ImportState> {
        Some(self)
    }

    fn as_modify_plan(&self) -> Option<&dyn ModifyPlan> {
        Some(self)
    }
}

#[async_trait]
impl ImportState for LightsailLbAttachment {
    /// Import by load balancer name: everything attached to it.
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        ImportResponse {
            state: Value::object([
                ("id", Value::string(&req.id)),
                ("load_balancer_name", Value::string(&req.id)),
            ]),
            ..Default::default()
        }
    }
}

#[async_trait]
impl ModifyPlan for LightsailLbAttachment {
    /// `id` is the load balancer's name; health is unknown whenever the set changes.
    async fn modify_plan(&self, req: PlanRequest) -> PlanResponse {
        let mut planned = req.planned_state;
        if let (Some(lb), Some(slot)) = (
            text(planned.get("load_balancer_name")),
            planned.get_mut("id"),
        ) {
            *slot = Value::string(lb);
        }
        PlanResponse {
            planned_state: planned,
            planned_private: req.prior_private,
            ..Default::default()
        }
    }
}

pub fn new(configured: Shared) -> Arc<dyn Resource> {
    Arc::new(LightsailLbAttachment { configured })
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
            &Value::object([("wait_for_healthy", Value::Bool(false))]),
        );
        assert_eq!(
            names(s.get("instance_names")),
            ["a".to_string(), "b".to_string()].into()
        );
        let Value::Map(health) = s.get("instance_health") else {
            panic!("instance_health is a map")
        };
        assert_eq!(health.get("b").and_then(Value::as_str), Some("initial"));
        assert_eq!(s.get("wait_for_healthy"), &Value::Bool(false));
    }
}
