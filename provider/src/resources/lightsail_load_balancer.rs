//! `hastack_lightsail_load_balancer`: a Lightsail load balancer and the attributes the API can
//! update in place.
use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_lightsail::types::{IpAddressType, LoadBalancer, LoadBalancerAttributeName};
use serde::{Deserialize, Serialize};
use tfplugin::timeouts::{self, Operation, TimeoutDefaults, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, Attribute, AttributePath, Block, Diagnostics, Known, Schema, Type};
use tokio::time::Instant;

use crate::aws::lightsail::{
    client, deadline, find_load_balancer, sync_tags, tag_map, wait_operations,
};
use crate::aws::{AwsError, OrGone};
use crate::config::Configured;
use crate::resources::common::{aws_error, check_tags, error, merged_tags, own_tags};

pub struct LightsailLoadBalancer;

/// The longest health check path (as Elastic Load Balancing's).
const MAX_PATH: usize = 1024;

const TYPE: &str = "hastack_lightsail_load_balancer";

fn defaults() -> TimeoutDefaults {
    TimeoutDefaults::default()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: Attr<String>,
    pub name: Attr<String>,
    pub instance_port: Attr<serde_json::Number>,
    pub health_check_path: Attr<String>,
    pub session_stickiness_enabled: Attr<bool>,
    pub session_stickiness_lb_cookie_duration_seconds: Attr<serde_json::Number>,
    pub ip_address_type: Attr<String>,
    pub tags: Attr<BTreeMap<String, String>>,
    pub tags_all: Attr<BTreeMap<String, String>>,
    pub arn: Attr<String>,
    pub dns_name: Attr<String>,
    pub public_ports: Attr<Vec<i64>>,
    pub timeouts: Attr<Timeouts>,
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
            .attribute(Attribute::new("instance_port", Type::Number).required().requires_replace().description("The port instances serve on (1–65535). Changing it replaces the load balancer."))
            .attribute(Attribute::new("health_check_path", Type::String).optional().computed().description("Path the load balancer requests on each instance to decide it is healthy: starts with `/`, at most 1024 printable ASCII characters without spaces (percent-encode others). Default `/`."))
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

/// A Lightsail load balancer name (also what `hastack_lightsail_lb_attachment` takes).
pub(crate) fn valid_name(n: &str) -> bool {
    (2..=255).contains(&n.len())
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn state_from(lb: &LoadBalancer, prior: &Model, defaults: &BTreeMap<String, String>) -> Model {
    let opts = lb.configuration_options();
    let opt = |k: LoadBalancerAttributeName| opts.and_then(|o| o.get(&k)).cloned();
    let actual = tag_map(lb.tags());
    let name = lb.name().unwrap_or("").to_string();
    Model {
        id: Attr::some(name.clone()),
        name: Attr::some(name),
        instance_port: Attr::some(lb.instance_port().unwrap_or(0).into()),
        health_check_path: Attr::some(lb.health_check_path().unwrap_or("/").to_string()),
        session_stickiness_enabled: Attr::some(
            opt(LoadBalancerAttributeName::SessionStickinessEnabled).as_deref() == Some("true"),
        ),
        session_stickiness_lb_cookie_duration_seconds: Attr::some(
            opt(LoadBalancerAttributeName::SessionStickinessLbCookieDurationSeconds)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(86400)
                .into(),
        ),
        ip_address_type: Attr::some(
            lb.ip_address_type()
                .map(|t| t.as_str())
                .unwrap_or("dualstack")
                .to_string(),
        ),
        tags: own_tags(&actual, prior.tags.value(), defaults),
        tags_all: Attr::some(actual),
        arn: Attr::some(lb.arn().unwrap_or("").to_string()),
        dns_name: Attr::some(lb.dns_name().unwrap_or("").to_string()),
        public_ports: Attr::some(lb.public_ports().iter().map(|p| *p as i64).collect()),
        timeouts: prior.timeouts.clone(),
    }
}

/// Set the attributes whose planned value differs from `current`; whether any was set.
async fn set_attributes(
    c: &aws_sdk_lightsail::Client,
    ctx: &tfplugin::resource::Context,
    name: &str,
    planned: &Model,
    current: &Model,
    until: Instant,
) -> Result<bool, AwsError> {
    let text = |n: &Attr<serde_json::Number>| n.value().map(|n| n.to_string());
    let changes = [
        (
            LoadBalancerAttributeName::HealthCheckPath,
            planned.health_check_path.value().cloned(),
            current.health_check_path.value().cloned(),
        ),
        (
            LoadBalancerAttributeName::SessionStickinessEnabled,
            planned
                .session_stickiness_enabled
                .value()
                .map(bool::to_string),
            current
                .session_stickiness_enabled
                .value()
                .map(bool::to_string),
        ),
        (
            LoadBalancerAttributeName::SessionStickinessLbCookieDurationSeconds,
            text(&planned.session_stickiness_lb_cookie_duration_seconds),
            text(&current.session_stickiness_lb_cookie_duration_seconds),
        ),
    ];
    let mut changed = false;
    for (attr, want, have) in changes {
        let Some(want) = want.filter(|w| Some(w) != have.as_ref()) else {
            continue;
        };
        let out = c
            .update_load_balancer_attribute()
            .load_balancer_name(name)
            .attribute_name(attr)
            .attribute_value(want)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateLoadBalancerAttribute", &e))?;
        wait_operations(c, out.operations(), until, &ctx.cancel).await?;
        changed = true;
    }
    Ok(changed)
}

/// What to keep in state for `name` when it cannot be read: its name, so Terraform can
/// destroy or repair it.
fn partial(name: &str, planned: &Model) -> Model {
    Model {
        id: Attr::some(name.to_string()),
        name: Attr::some(name.to_string()),
        ..planned.clone()
    }
}

#[async_trait]
impl TypedResource for LightsailLoadBalancer {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: Validate<'_, Model>) -> Diagnostics {
        let mut d = Diagnostics::new();
        let c = &req.config;
        if let Some(n) = c.name.value() {
            if !valid_name(n) {
                d.attribute_error(AttributePath::root("name"), "Invalid load balancer name", format!("{n:?} must be 2–255 letters, digits, '-', '_' or '.', starting with a letter or digit."));
            }
        }
        if let Some(p) = c.instance_port.value() {
            if !p.as_i64().is_some_and(|p| (1..=65535).contains(&p)) {
                d.attribute_error(
                    AttributePath::root("instance_port"),
                    "Invalid instance port",
                    format!("{p} is not a port instances can serve on (a whole number from 1 to 65535)."),
                );
            }
        }
        if let Some(p) = c.health_check_path.value() {
            if !p.starts_with('/') || p.len() > MAX_PATH || !p.chars().all(|c| c.is_ascii_graphic())
            {
                d.attribute_error(
                    AttributePath::root("health_check_path"),
                    "Invalid health check path",
                    format!("{p:?} must be a URL path: start with '/', at most {MAX_PATH} characters, no spaces or non-ASCII characters (percent-encode them)."),
                );
            }
        }
        if let Some(t) = c.ip_address_type.value() {
            if !["dualstack", "ipv4", "ipv6"].contains(&t.as_str()) {
                d.attribute_error(
                    AttributePath::root("ip_address_type"),
                    "Invalid IP address type",
                    format!("{t:?} must be dualstack, ipv4 or ipv6."),
                );
            }
        }
        if let Some(s) = c.session_stickiness_lb_cookie_duration_seconds.value() {
            if !s.as_i64().is_some_and(|s| (1..=604_800).contains(&s)) {
                d.attribute_error(
                    AttributePath::root("session_stickiness_lb_cookie_duration_seconds"),
                    "Invalid cookie duration",
                    format!("{s} must be a whole number of seconds from 1 to 604800."),
                );
            }
        }
        if let Some(tags) = c.tags.value() {
            check_tags(tags, AttributePath::root("tags"), &mut d);
        }
        d
    }

    /// `id` is the name, and `tags_all` follows from `tags` and the provider's default tags.
    async fn modify_plan(&self, req: Plan<'_, Configured, Model>) -> Planned<Model> {
        let mut planned = req.planned;
        if let Known::Known(Some(name)) = &planned.name {
            planned.id = Attr::some(name.clone());
        }
        if let (Known::Known(tags), Some(cfg)) = (&planned.tags, req.client) {
            planned.tags_all = Attr::some(merged_tags(&cfg.default_tags, tags.as_ref()));
        }
        Planned {
            planned,
            requires_replace: Vec::new(),
            private: req.private,
            diagnostics: Diagnostics::new(),
        }
    }

    async fn create(&self, req: Create<'_, Configured, Model>) -> Applied<Model> {
        let cfg = req.client;
        let c = client(cfg);
        let until = deadline(Timeouts::of(
            &req.planned.timeouts,
            Operation::Create,
            &defaults(),
        ));
        let p = &req.planned;
        let name = p.name.value().cloned().unwrap_or_default();
        let tags = merged_tags(&cfg.default_tags, p.tags.value());
        let mut create = c
            .create_load_balancer()
            .load_balancer_name(&name)
            .instance_port(
                p.instance_port
                    .value()
                    .and_then(|n| n.as_i64())
                    .unwrap_or(80) as i32,
            )
            .health_check_path(
                p.health_check_path
                    .value()
                    .cloned()
                    .unwrap_or_else(|| "/".into()),
            )
            .set_tags(Some(crate::aws::lightsail::tags(&tags)));
        if let Some(t) = p.ip_address_type.value() {
            create = create.ip_address_type(IpAddressType::from(t.as_str()));
        }
        let ops = match create.send().await {
            Ok(o) => o.operations.unwrap_or_default(),
            Err(e) => {
                let e = AwsError::from_sdk("CreateLoadBalancer", &e);
                // The name taken by a load balancer Terraform does not know: most likely made
                // by an apply that was killed before it could save state. Name it and say how
                // to adopt it.
                let taken = e.code() == Some("InvalidInputException")
                    && find_load_balancer(&c, &name).await.is_ok();
                let d = if taken {
                    error(
                        "Load balancer already exists",
                        format!(
                            "Load balancer {name} already exists but is not in Terraform's \
                             state (an interrupted apply may have made it). To manage it, import \
                             it: terraform import ADDRESS {name} (ADDRESS: this resource's \
                             address, shown above)\n\n{e}"
                        ),
                    )
                } else {
                    aws_error("Error creating Lightsail load balancer", &e)
                };
                return Applied::failed(None, d);
            }
        };
        // From here on the load balancer may exist: every failure keeps it in state, so
        // Terraform can destroy or repair it.
        let read = |summary: &'static str, e: AwsError| {
            let d = aws_error(summary, &e);
            Applied::failed(Some(partial(&name, p)), d)
        };
        if let Err(e) = wait_operations(&c, &ops, until, &req.ctx.cancel).await {
            let state = find_load_balancer(&c, &name)
                .await
                .map(|lb| state_from(&lb, p, &cfg.default_tags))
                .unwrap_or_else(|_| partial(&name, p));
            return Applied::failed(
                Some(state),
                aws_error("Error waiting for Lightsail load balancer creation", &e),
            );
        }
        let current = match find_load_balancer(&c, &name).await {
            Ok(lb) => state_from(&lb, p, &cfg.default_tags),
            Err(e) => return read("Error reading the created Lightsail load balancer", e),
        };
        match set_attributes(&c, req.ctx, &name, p, &current, until).await {
            Err(e) => Applied::failed(
                Some(current),
                aws_error("Error configuring Lightsail load balancer", &e),
            ),
            // Nothing changed since the read: no need to read again.
            Ok(false) => Applied::ok(current),
            Ok(true) => match find_load_balancer(&c, &name).await {
                Ok(lb) => Applied::ok(state_from(&lb, p, &cfg.default_tags)),
                Err(e) => Applied::failed(
                    Some(current),
                    aws_error("Error reading the configured Lightsail load balancer", &e),
                ),
            },
        }
    }

    async fn read(&self, req: Read<'_, Configured, Model>) -> ReadOutcome<Model> {
        let c = client(req.client);
        let name = req.state.name.value().cloned().unwrap_or_default();
        match find_load_balancer(&c, &name).await.or_gone() {
            Ok(Some(lb)) => ReadOutcome::found(
                state_from(&lb, &req.state, &req.client.default_tags),
                req.private,
            ),
            Ok(None) => ReadOutcome::gone(),
            Err(e) => ReadOutcome::failed(
                req.state,
                req.private,
                aws_error("Error reading Lightsail load balancer", &e),
            ),
        }
    }

    async fn update(&self, req: Update<'_, Configured, Model>) -> Applied<Model> {
        let cfg = req.client;
        let c = client(cfg);
        let until = deadline(Timeouts::of(
            &req.planned.timeouts,
            Operation::Update,
            &defaults(),
        ));
        let name = req.prior.name.value().cloned().unwrap_or_default();
        if let Err(e) = set_attributes(&c, req.ctx, &name, &req.planned, &req.prior, until).await {
            return Applied::failed(
                Some(req.prior),
                aws_error("Error updating Lightsail load balancer", &e),
            );
        }
        let want = merged_tags(&cfg.default_tags, req.planned.tags.value());
        let have = req.prior.tags_all.value().cloned().unwrap_or_default();
        if let Err(e) = sync_tags(&c, &name, &want, &have, until, &req.ctx.cancel).await {
            return Applied::failed(
                Some(req.prior),
                aws_error("Error tagging Lightsail load balancer", &e),
            );
        }
        match find_load_balancer(&c, &name).await {
            Ok(lb) => Applied::ok(state_from(&lb, &req.planned, &cfg.default_tags)),
            Err(e) if e.is_not_found() => Applied::failed(
                None,
                crate::resources::common::error(
                    "Lightsail load balancer vanished",
                    format!("{name} disappeared during update."),
                ),
            ),
            Err(e) => Applied::failed(
                Some(req.prior),
                aws_error("Error reading the updated Lightsail load balancer", &e),
            ),
        }
    }

    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let c = client(req.client);
        let until = deadline(Timeouts::of(
            &req.state.timeouts,
            Operation::Delete,
            &defaults(),
        ));
        let name = req.state.name.value().cloned().unwrap_or_default();
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
                return Diagnostics::new()
            }
            Err(e) => {
                return aws_error(
                    "Error deleting Lightsail load balancer",
                    &AwsError::from_sdk("DeleteLoadBalancer", &e),
                )
            }
        };
        match wait_operations(&c, &ops, until, &req.ctx.cancel).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => aws_error("Error waiting for Lightsail load balancer deletion", &e),
        }
    }

    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        if !valid_name(&req.id) {
            let mut d = Diagnostics::new();
            d.error(
                "Invalid import ID",
                format!("{:?} is not a load balancer name.", req.id),
            );
            return Imported {
                state: None,
                identity: None,
                diagnostics: d,
            };
        }
        Imported {
            state: Some(partial(&req.id, &Model::default())),
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }
}

/// Registered with the provider.
pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(LightsailLoadBalancer, data)
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

    #[tokio::test]
    async fn port_zero_and_bad_tags_fail_validation() {
        let m = Model {
            name: Attr::some("web".into()),
            instance_port: Attr::some(0.into()),
            tags: Attr::some([("aws:x".to_string(), "y".to_string())].into()),
            ..Default::default()
        };
        let ctx = tfplugin::resource::Context::default();
        let d = LightsailLoadBalancer
            .validate(Validate {
                ctx: &ctx,
                config: m,
            })
            .await;
        let at: Vec<String> = d
            .iter()
            .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
            .collect();
        assert!(at.iter().any(|a| a == "instance_port"), "{at:?}");
        assert!(at.iter().any(|a| a.starts_with("tags")), "{at:?}");
    }

    #[tokio::test]
    async fn health_check_paths() {
        let ctx = tfplugin::resource::Context::default();
        let long = format!("/{}", "h".repeat(MAX_PATH));
        for (path, ok) in [
            ("/", true),
            ("/health?full=1", true),
            ("health", false),
            ("/health check", false),
            ("/gesundheit/\u{e4}", false),
            (long.as_str(), false),
        ] {
            let m = Model {
                health_check_path: Attr::some(path.into()),
                ..Default::default()
            };
            let d = LightsailLoadBalancer
                .validate(Validate {
                    ctx: &ctx,
                    config: m,
                })
                .await;
            assert_eq!(!d.has_errors(), ok, "{path:?}: {d:?}");
        }
    }
}
