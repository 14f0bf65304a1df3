//! `hastack_lightsail_load_balancer`: a Lightsail load balancer and the attributes the API can
//! update in place.
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lightsail::types::{IpAddressType, LoadBalancer, LoadBalancerAttributeName};
use tfplugin::resource::*;
use tfplugin::timeouts::{self, Operation, TimeoutDefaults};
use tfplugin::{Attribute, AttributePath, Block, Diagnostics, Schema, Type, Value};

use crate::aws::lightsail::{client, sync_tags, wait_operations};
use crate::resources::common::{
    configured, error, map_value, merged_tags, num, own_tags, string_map, text,
};
use crate::Shared;

pub struct LightsailLoadBalancer {
    pub configured: Shared,
}

const TYPE: &str = "hastack_lightsail_load_balancer";

fn defaults() -> TimeoutDefaults {
    TimeoutDefaults::default()
}

pub fn schema() -> Schema {
    let computed = |name: &str, ty: Type, d: &str| {
        Attribute::new(name, ty)
            .computed()
            .use_state_for_unknown()
            .description(d)
    };
    Schema::new(
        0,
        Block::new("A Lightsail load balancer (HTTP on port 80) in front of instances attached with `hastack_lightsail_lb_attachment`.")
            .attribute(computed("id", Type::String, "The load balancer's name."))
            .attribute(Attribute::new("name", Type::String).required().requires_replace().description("Name, unique in the region: 2–255 letters, digits, `-`, `_` or `.`, starting with a letter or digit. Changing it replaces the load balancer."))
            .attribute(Attribute::new("instance_port", Type::Number).required().requires_replace().description("The port instances serve on (0–65535). Changing it replaces the load balancer."))
            .attribute(Attribute::new("health_check_path", Type::String).optional().computed().description("Path the load balancer requests on each instance to decide it is healthy. Default `/`."))
            .attribute(Attribute::new("session_stickiness_enabled", Type::Bool).optional().computed().description("Send a client's requests to the same instance (cookie based). Default `false`."))
            .attribute(Attribute::new("session_stickiness_lb_cookie_duration_seconds", Type::Number).optional().computed().description("How long the stickiness cookie lasts, 1–604800 seconds. Default 86400."))
            .attribute(Attribute::new("ip_address_type", Type::String).optional().computed().requires_replace().description("`dualstack` (default), `ipv4` or `ipv6`. Changing it replaces the load balancer."))
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("Tags of the load balancer; merged with the provider's `default_tags` (these win)."))
            .attribute(computed("tags_all", Type::map(Type::String), "All tags, the provider's `default_tags` included."))
            .attribute(computed("arn", Type::String, "The load balancer's ARN."))
            .attribute(computed("dns_name", Type::String, "The DNS name clients use."))
            .attribute(computed("public_ports", Type::list(Type::Number), "The ports the load balancer listens on."))
            .block(timeouts::block(&defaults())),
    )
}

fn valid_name(n: &str) -> bool {
    (2..=255).contains(&n.len())
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn state_from(lb: &LoadBalancer, prior: &Value, defaults: &BTreeMap<String, String>) -> Value {
    let opts = lb.configuration_options();
    let opt = |k: LoadBalancerAttributeName| opts.and_then(|o| o.get(&k)).cloned();
    let actual: BTreeMap<String, String> = lb
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect();
    let tags = own_tags(&actual, prior.get("tags"), defaults);
    Value::object([
        ("id", Value::string(lb.name().unwrap_or(""))),
        ("name", Value::string(lb.name().unwrap_or(""))),
        (
            "instance_port",
            Value::number(lb.instance_port().unwrap_or(0)),
        ),
        (
            "health_check_path",
            Value::string(lb.health_check_path().unwrap_or("/")),
        ),
        (
            "session_stickiness_enabled",
            Value::Bool(
                opt(LoadBalancerAttributeName::SessionStickinessEnabled).as_deref() == Some("true"),
            ),
        ),
        (
            "session_stickiness_lb_cookie_duration_seconds",
            Value::number(
                opt(LoadBalancerAttributeName::SessionStickinessLbCookieDurationSeconds)
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(86400),
            ),
        ),
        (
            "ip_address_type",
            Value::string(
                lb.ip_address_type()
                    .map(|t| t.as_str())
                    .unwrap_or("dualstack"),
            ),
        ),
        ("tags", tags),
        ("tags_all", map_value(&actual)),
        ("arn", Value::string(lb.arn().unwrap_or(""))),
        ("dns_name", Value::string(lb.dns_name().unwrap_or(""))),
        (
            "public_ports",
            Value::List(
                lb.public_ports()
                    .iter()
                    .map(|p| Value::number(*p))
                    .collect(),
            ),
        ),
        ("timeouts", prior.get("timeouts").clone()),
    ])
}

impl LightsailLoadBalancer {
    async fn fetch(
        &self,
        c: &aws_sdk_lightsail::Client,
        name: &str,
    ) -> Result<Option<LoadBalancer>, (String, String)> {
        match c.get_load_balancer().load_balancer_name(name).send().await {
            Ok(out) => Ok(out.load_balancer),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(crate::aws::describe("GetLoadBalancer", &e)),
        }
    }

    /// Set the attributes whose planned value differs from `current`; whether any was set.
    async fn set_attributes(
        &self,
        c: &aws_sdk_lightsail::Client,
        ctx: &Context,
        name: &str,
        planned: &Value,
        current: &Value,
        timeout: std::time::Duration,
    ) -> Result<bool, String> {
        let changes = [
            (
                LoadBalancerAttributeName::HealthCheckPath,
                "health_check_path",
            ),
            (
                LoadBalancerAttributeName::SessionStickinessEnabled,
                "session_stickiness_enabled",
            ),
            (
                LoadBalancerAttributeName::SessionStickinessLbCookieDurationSeconds,
                "session_stickiness_lb_cookie_duration_seconds",
            ),
        ];
        let mut changed = false;
        for (attr, key) in changes {
            let want = planned.get(key);
            if want.is_unknown() || want.is_null() || want == current.get(key) {
                continue;
            }
            let value = match want {
                Value::Bool(b) => b.to_string(),
                v => text(v)
                    .or_else(|| num(v).map(|n| n.to_string()))
                    .unwrap_or_default(),
            };
            let out = c
                .update_load_balancer_attribute()
                .load_balancer_name(name)
                .attribute_name(attr)
                .attribute_value(value)
                .send()
                .await
                .map_err(|e| crate::aws::describe("UpdateLoadBalancerAttribute", &e).1)?;
            wait_operations(c, out.operations(), timeout, &ctx.cancel)
                .await
                .map_err(|e| e.to_string())?;
            changed = true;
        }
        Ok(changed)
    }
}

#[async_trait]
impl Resource for LightsailLoadBalancer {
    fn type_name(&self) -> &str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        let mut d = Diagnostics::new();
        let c = &req.config;
        if let Some(n) = text(c.get("name")) {
            if !valid_name(&n) {
                d.attribute_error(AttributePath::root("name"), "Invalid load balancer name", format!("{n:?} must be 2–255 letters, digits, '-', '_' or '.', starting with a letter or digit."));
            }
        }
        if let Some(p) = num(c.get("instance_port")) {
            if !(0..=65535).contains(&p) {
                d.attribute_error(
                    AttributePath::root("instance_port"),
                    "Invalid instance port",
                    format!("{p} is not a port (0–65535)."),
                );
            }
        }
        if let Some(p) = text(c.get("health_check_path")) {
            if !p.starts_with('/') {
                d.attribute_error(
                    AttributePath::root("health_check_path"),
                    "Invalid health check path",
                    format!("{p:?} must start with '/'."),
                );
            }
        }
        if let Some(t) = text(c.get("ip_address_type")) {
            if !["dualstack", "ipv4", "ipv6"].contains(&t.as_str()) {
                d.attribute_error(
                    AttributePath::root("ip_address_type"),
                    "Invalid IP address type",
                    format!("{t:?} must be dualstack, ipv4 or ipv6."),
                );
            }
        }
        if let Some(s) = num(c.get("session_stickiness_lb_cookie_duration_seconds")) {
            if !(1..=604_800).contains(&s) {
                d.attribute_error(
                    AttributePath::root("session_stickiness_lb_cookie_duration_seconds"),
                    "Invalid cookie duration",
                    format!("{s} must be 1 to 604800 seconds."),
                );
            }
        }
        d
    }

    async fn create(&self, req: CreateRequest) -> ApplyResponse {
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
        let timeout = timeouts::get(&req.config, Operation::Create, &defaults());
        let p = &req.planned_state;
        let name = text(p.get("name")).unwrap_or_default();
        let tags = merged_tags(&cfg.default_tags, p.get("tags"));
        let mut create = c
            .create_load_balancer()
            .load_balancer_name(&name)
            .instance_port(num(p.get("instance_port")).unwrap_or(80) as i32)
            .health_check_path(text(p.get("health_check_path")).unwrap_or_else(|| "/".into()))
            .set_tags(Some(crate::aws::lightsail::tags(&tags)));
        if let Some(t) = text(p.get("ip_address_type")) {
            create = create.ip_address_type(IpAddressType::from(t.as_str()));
        }
        let ops = match create.send().await {
            Ok(o) => o.operations.unwrap_or_default(),
            Err(e) => {
                return ApplyResponse {
                    diagnostics: error(
                        "Error creating Lightsail load balancer",
                        crate::aws::describe("CreateLoadBalancer", &e).1,
                    ),
                    ..Default::default()
                }
            }
        };
        let partial = Value::object([("id", Value::string(&name)), ("name", Value::string(&name))]);
        if let Err(e) = wait_operations(&c, &ops, timeout, &req.ctx.cancel).await {
            // The load balancer may exist: keep it in state so Terraform can destroy or repair it.
            return ApplyResponse {
                state: self.complete(&c, &name, p, &cfg).await.unwrap_or(partial),
                diagnostics: error(
                    "Error waiting for Lightsail load balancer creation",
                    e.to_string(),
                ),
                ..Default::default()
            };
        }
        let fetched = self.complete(&c, &name, p, &cfg).await;
        let current = fetched.clone().unwrap_or(partial);
        match self
            .set_attributes(&c, &req.ctx, &name, p, &current, timeout)
            .await
        {
            Err(e) => {
                return ApplyResponse {
                    state: current,
                    diagnostics: error("Error configuring Lightsail load balancer", e),
                    ..Default::default()
                }
            }
            // Nothing changed since the read: no need to read again.
            Ok(false) if fetched.is_some() => {
                return ApplyResponse {
                    state: current,
                    ..Default::default()
                }
            }
            Ok(_) => {}
        }
        match self.complete(&c, &name, p, &cfg).await {
            Some(state) => ApplyResponse {
                state,
                ..Default::default()
            },
            None => ApplyResponse {
                diagnostics: error(
                    "Lightsail load balancer vanished",
                    format!("{name} was created but cannot be read back."),
                ),
                ..Default::default()
            },
        }
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
        let c = client(&cfg);
        let name = text(req.state.get("name")).unwrap_or_default();
        match self.fetch(&c, &name).await {
            Ok(Some(lb)) => {
                ReadResponse::found(state_from(&lb, &req.state, &cfg.default_tags), req.private)
            }
            Ok(None) => ReadResponse::gone(),
            Err((_, detail)) => ReadResponse {
                diagnostics: error("Error reading Lightsail load balancer", detail),
                ..ReadResponse::found(req.state, req.private)
            },
        }
    }

    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => {
                return ApplyResponse {
                    state: req.prior_state,
                    diagnostics: d,
                    ..Default::default()
                }
            }
        };
        let c = client(&cfg);
        let timeout = timeouts::get(&req.config, Operation::Update, &defaults());
        let name = text(req.prior_state.get("name")).unwrap_or_default();
        if let Err(e) = self
            .set_attributes(
                &c,
                &req.ctx,
                &name,
                &req.planned_state,
                &req.prior_state,
                timeout,
            )
            .await
        {
            return ApplyResponse {
                state: req.prior_state,
                diagnostics: error("Error updating Lightsail load balancer", e),
                ..Default::default()
            };
        }
        let want = merged_tags(&cfg.default_tags, req.planned_state.get("tags"));
        let have = string_map(req.prior_state.get("tags_all"));
        if let Err(e) = sync_tags(&c, &name, &want, &have, timeout, &req.ctx.cancel).await {
            return ApplyResponse {
                state: req.prior_state,
                diagnostics: error("Error tagging Lightsail load balancer", e),
                ..Default::default()
            };
        }
        match self.complete(&c, &name, &req.planned_state, &cfg).await {
            Some(state) => ApplyResponse {
                state,
                ..Default::default()
            },
            None => ApplyResponse {
                diagnostics: error(
                    "Lightsail load balancer vanished",
                    format!("{name} disappeared during update."),
                ),
                ..Default::default()
            },
        }
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let cfg = match configured(&self.configured) {
            Ok(c) => c,
            Err(d) => return DeleteResponse { diagnostics: d },
        };
        let c = client(&cfg);
        let timeout = timeouts::get(&req.prior_state, Operation::Delete, &defaults());
        let name = text(req.prior_state.get("name")).unwrap_or_default();
        let ops = match c
            .delete_load_balancer()
            .load_balancer_name(&name)
            .send()
            .await
        {
            Ok(o) => o.operations.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                return DeleteResponse::default()
            }
            Err(e) => {
                return DeleteResponse {
                    diagnostics: error(
                        "Error deleting Lightsail load balancer",
                        crate::aws::describe("DeleteLoadBalancer", &e).1,
                    ),
                }
            }
        };
        match wait_operations(&c, &ops, timeout, &req.ctx.cancel).await {
            Ok(()) => DeleteResponse::default(),
            Err(e) => DeleteResponse {
                diagnostics: error(
                    "Error waiting for Lightsail load balancer deletion",
                    e.to_string(),
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

impl LightsailLoadBalancer {
    /// The state of `name` as AWS has it now, keeping what only the configuration knows.
    async fn complete(
        &self,
        c: &aws_sdk_lightsail::Client,
        name: &str,
        prior: &Value,
        cfg: &crate::config::Configured,
    ) -> Option<Value> {
        self.fetch(c, name)
            .await
            .ok()
            .flatten()
            .map(|lb| state_from(&lb, prior, &cfg.default_tags))
    }
}

#[async_trait]
impl ImportState for LightsailLoadBalancer {
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        if !valid_name(&req.id) {
            let mut d = Diagnostics::new();
            d.error(
                "Invalid import ID",
                format!("{:?} is not a load balancer name.", req.id),
            );
            return ImportResponse {
                diagnostics: d,
                ..Default::default()
            };
        }
        ImportResponse {
            state: Value::object([
                ("id", Value::string(&req.id)),
                ("name", Value::string(&req.id)),
            ]),
            ..Default::default()
        }
    }
}

#[async_trait]
impl ModifyPlan for LightsailLoadBalancer {
    /// `id` is the name, and `tags_all` follows from `tags` and the provider's default tags.
    async fn modify_plan(&self, req: PlanRequest) -> PlanResponse {
        let mut planned = req.planned_state;
        if let (Some(name), Some(slot)) = (text(planned.get("name")), planned.get_mut("id")) {
            *slot = Value::string(name);
        }
        let tags = planned.get("tags").clone();
        if tags.is_wholly_known() {
            if let Ok(cfg) = configured(&self.configured) {
                let all = merged_tags(&cfg.default_tags, &tags);
                if let Some(slot) = planned.get_mut("tags_all") {
                    *slot = map_value(&all);
                }
            }
        }
        PlanResponse {
            planned_state: planned,
            planned_private: req.prior_private,
            ..Default::default()
        }
    }
}

/// Registered with the provider.
pub fn new(configured: Shared) -> Arc<dyn Resource> {
    Arc::new(LightsailLoadBalancer { configured })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["web", "web-lb.1", "a_b"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a", "-lb", "lb with space", &"x".repeat(256)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn default_tags_merge_and_own_tags_win() {
        let defaults: BTreeMap<String, String> =
            [("team".into(), "web".into()), ("env".into(), "dev".into())].into();
        let own = Value::Map([("env".to_string(), Value::string("prod"))].into());
        let all = merged_tags(&defaults, &own);
        assert_eq!(all.get("env").map(String::as_str), Some("prod"));
        assert_eq!(all.get("team").map(String::as_str), Some("web"));
    }
}
