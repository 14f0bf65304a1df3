//! One account's Lightsail in one region: what each operation does to it, with Lightsail's
//! rules and typed errors. Knows nothing of JSON (the wire layer parses and renders); work for
//! hosts and the data plane goes into the call's outbox.
use std::collections::{BTreeMap, BTreeSet};

use super::error::{invalid_input, not_found, operation_failure, LightsailError};
use super::model::*;
use crate::effects::Effect;
use crate::hosts::HostAction;
use crate::Ctx;

pub type Result<T> = std::result::Result<T, LightsailError>;

/// Lightsail's tag limits: 50 per resource, keys 1-128 characters and not `aws:`-prefixed,
/// values up to 256 characters.
pub const MAX_TAGS: usize = 50;

#[derive(Default)]
pub struct Backend {
    pub instances: BTreeMap<String, Instance>,
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub operations: BTreeMap<String, Operation>,
    /// Order of operation ids, newest last (GetOperations lists newest first).
    pub operation_log: Vec<String>,
    next_ip: u32,
}

/// What CreateInstances asks for.
#[derive(Clone, Debug, Default)]
pub struct NewInstances {
    pub names: Vec<String>,
    pub zone: String,
    pub blueprint_id: String,
    pub bundle_id: String,
    pub user_data: String,
    /// As given (checked here): (key, value).
    pub tags: Vec<(String, String)>,
    pub ip_address_type: Option<String>,
}

/// What CreateLoadBalancer asks for.
#[derive(Clone, Debug, Default)]
pub struct NewLoadBalancer {
    pub name: String,
    pub instance_port: Option<i64>,
    pub health_check_path: Option<String>,
    pub ip_address_type: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerChange {
    Start,
    Stop,
    Reboot,
}

impl PowerChange {
    fn operation_type(self) -> &'static str {
        match self {
            PowerChange::Start => "StartInstance",
            PowerChange::Stop => "StopInstance",
            PowerChange::Reboot => "RebootInstance",
        }
    }
}

fn valid_name(name: &str) -> bool {
    (2..=255).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn required<'s>(value: &'s str, what: &str) -> Result<&'s str> {
    if value.is_empty() {
        Err(invalid_input(format!("{what} is required")))
    } else {
        Ok(value)
    }
}

/// Tags as Lightsail checks them, merged into `existing` (for the 50-tag limit).
fn checked_tags(
    given: &[(String, String)],
    existing: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>> {
    for (key, value) in given {
        if key.is_empty() {
            return Err(invalid_input("Tag keys must not be empty"));
        }
        if key.chars().count() > 128 {
            return Err(invalid_input(format!(
                "Tag key {key:?} is too long: tag keys can have at most 128 characters"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_input(format!(
                "Tag key {key:?} is not valid: the aws: prefix is reserved for AWS use"
            )));
        }
        if value.chars().count() > 256 {
            return Err(invalid_input(format!(
                "The value of tag {key:?} is too long: tag values can have at most 256 characters"
            )));
        }
    }
    let tags: BTreeMap<String, String> = given.iter().cloned().collect();
    let total = match existing {
        Some(old) => old.keys().chain(tags.keys()).collect::<BTreeSet<_>>().len(),
        None => tags.len(),
    };
    if total > MAX_TAGS {
        return Err(invalid_input(format!(
            "A resource can have at most {MAX_TAGS} tags; this request would give it {total}"
        )));
    }
    Ok(tags)
}

/// Instance names of an attach or detach: at least one, none empty.
fn checked_instance_names(names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Err(invalid_input(
            "instanceNames must list at least one instance",
        ));
    }
    if names.iter().any(String::is_empty) {
        return Err(invalid_input("Instance names must not be empty"));
    }
    Ok(())
}

fn arn(ctx: &Ctx<'_>, kind: &str) -> String {
    format!(
        "arn:aws:lightsail:{}:{}:{kind}/{}",
        ctx.region,
        ctx.account,
        uuid::Uuid::new_v4()
    )
}

fn support_code(ctx: &Ctx<'_>, kind: &str) -> String {
    format!(
        "{}/{kind}-{}",
        ctx.account,
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// (code, name) of an instance's state at `ctx.now`.
pub fn instance_state(i: &Instance, ctx: &Ctx<'_>) -> (i64, &'static str) {
    match i.power {
        Power::On { since } if ctx.now < since + ctx.profile.instance_boot => (0, "pending"),
        Power::On { .. } => (16, "running"),
        Power::Off { since } if ctx.now < since + ctx.profile.instance_stop => (64, "stopping"),
        Power::Off { .. } => (80, "stopped"),
    }
}

pub fn instance_is_running(i: &Instance, ctx: &Ctx<'_>) -> bool {
    instance_state(i, ctx).1 == "running"
}

/// A load balancer's state at `ctx.now`.
pub fn load_balancer_state(lb: &LoadBalancer, ctx: &Ctx<'_>) -> &'static str {
    if ctx.now < lb.created_at + ctx.profile.load_balancer_provision {
        "provisioning"
    } else {
        "active"
    }
}

impl Backend {
    /// Allocate a (private, public) address pair in the benchmarking range this machine keeps to itself.
    pub fn allocate_ips(&mut self) -> (String, String) {
        let n = self.next_ip;
        self.next_ip += 1;
        (
            format!("198.18.{}.{}", n / 250, n % 250 + 2),
            format!("198.19.{}.{}", n / 250, n % 250 + 2),
        )
    }

    /// Record a new operation (failed when a fault says so). Every changing call records one,
    /// and load balancers or their instances may have changed: the data plane re-syncs.
    pub fn record(
        &mut self,
        ctx: &Ctx<'_>,
        resource_name: &str,
        resource_type: &str,
        zone: &str,
        operation_type: &str,
        details: &str,
    ) -> Operation {
        let outcome = match &ctx.fail_operations {
            Some((code, details)) => Outcome::Failed {
                code: code.clone(),
                details: details.clone(),
            },
            None => Outcome::Succeeded,
        };
        let op = Operation {
            id: uuid::Uuid::new_v4().to_string(),
            resource_name: resource_name.into(),
            resource_type: resource_type.into(),
            zone: zone.into(),
            operation_type: operation_type.into(),
            details: details.into(),
            created_at: ctx.now,
            outcome,
        };
        ctx.emit(Effect::ResyncLoadBalancers);
        self.operation_log.push(op.id.clone());
        self.operations.insert(op.id.clone(), op.clone());
        op
    }

    pub fn create_instances(&mut self, ctx: &Ctx<'_>, req: NewInstances) -> Result<Vec<Operation>> {
        if req.names.is_empty() {
            return Err(invalid_input("instanceNames must list at least one name"));
        }
        if let Some(bad) = req.names.iter().find(|n| !valid_name(n)) {
            return Err(invalid_input(format!("{bad:?} is not a valid instance name: use 2-255 letters, numbers, hyphens, underscores and periods, starting with a letter or number")));
        }
        let zone = required(&req.zone, "availabilityZone")?;
        let zones = zones_of(ctx.region).unwrap_or_default();
        if !zones.iter().any(|z| z == zone) {
            return Err(invalid_input(format!(
                "The availability zone {zone} is not valid for region {}",
                ctx.region
            )));
        }
        let blueprint = required(&req.blueprint_id, "blueprintId")?;
        if !BLUEPRINTS.iter().any(|b| b.id == blueprint) {
            return Err(invalid_input(format!(
                "The blueprint ID is invalid: {blueprint}"
            )));
        }
        let bundle = required(&req.bundle_id, "bundleId")?;
        if !BUNDLES.iter().any(|b| b.id == bundle) {
            return Err(invalid_input(format!("The bundle ID is invalid: {bundle}")));
        }
        let taken: Vec<&str> = req
            .names
            .iter()
            .filter(|n| self.instances.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !taken.is_empty() {
            return Err(invalid_input(format!(
                "Some names are already in use: {}",
                taken.join(", ")
            )));
        }
        let tags = checked_tags(&req.tags, None)?;
        let ip_type = req
            .ip_address_type
            .clone()
            .unwrap_or_else(|| "dualstack".into());
        let mut ops = Vec::new();
        for name in &req.names {
            let (private_ip, public_ip) = self.allocate_ips();
            let inst = Instance {
                arn: arn(ctx, "Instance"),
                support_code: support_code(ctx, "i"),
                created_at: ctx.now,
                zone: zone.to_string(),
                blueprint_id: blueprint.to_string(),
                bundle_id: bundle.to_string(),
                user_data: req.user_data.clone(),
                private_ip,
                public_ip,
                tags: tags.clone(),
                // A new Linux instance opens SSH and HTTP to everyone, as Lightsail does.
                ports: vec![PortRule::tcp_anywhere(22), PortRule::tcp_anywhere(80)],
                power: Power::On { since: ctx.now },
                ip_address_type: ip_type.clone(),
                name: name.clone(),
            };
            ctx.emit(Effect::Host(HostAction::Create {
                name: name.clone(),
                zone: inst.zone.clone(),
                private_ip: inst.private_ip.clone(),
                public_ip: inst.public_ip.clone(),
                user_data: inst.user_data.clone(),
            }));
            self.instances.insert(name.clone(), inst);
            ops.push(self.record(ctx, name, "Instance", zone, "CreateInstance", blueprint));
        }
        Ok(ops)
    }

    pub fn instance(&self, name: &str) -> Result<&Instance> {
        let name = required(name, "instanceName")?;
        self.instances
            .get(name)
            .ok_or_else(|| not_found("Instance", name))
    }

    fn instance_mut(&mut self, name: &str) -> Result<&mut Instance> {
        let name = required(name, "instanceName")?;
        self.instances
            .get_mut(name)
            .ok_or_else(|| not_found("Instance", name))
    }

    /// Start, stop or reboot: each allowed only from the states the real service allows.
    pub fn change_power(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        change: PowerChange,
    ) -> Result<Operation> {
        let i = self.instance_mut(name)?;
        let (_, state) = instance_state(i, ctx);
        let op_type = change.operation_type();
        let (allowed, next): (&[&str], Power) = match change {
            PowerChange::Start => (&["stopped"], Power::On { since: ctx.now }),
            PowerChange::Stop => (&["running", "pending"], Power::Off { since: ctx.now }),
            PowerChange::Reboot => (&["running"], Power::On { since: ctx.now }),
        };
        if !allowed.contains(&state) {
            return Err(operation_failure(format!(
                "Instance {} is {state}; {op_type} needs it {}",
                i.name,
                allowed.join(" or ")
            )));
        }
        i.power = next;
        let (name, zone) = (i.name.clone(), i.zone.clone());
        ctx.emit(Effect::Host(match change {
            PowerChange::Start => HostAction::Start(name.clone()),
            PowerChange::Stop => HostAction::Stop(name.clone()),
            PowerChange::Reboot => HostAction::Reboot(name.clone()),
        }));
        Ok(self.record(ctx, &name, "Instance", &zone, op_type, ""))
    }

    pub fn delete_instance(&mut self, ctx: &Ctx<'_>, name: &str) -> Result<Operation> {
        let name = self.instance(name)?.name.clone();
        let inst = self.instances.remove(&name).expect("just found");
        ctx.emit(Effect::Host(HostAction::Delete(name.clone())));
        for lb in self.load_balancers.values_mut() {
            lb.instances.retain(|n| n != &name);
        }
        Ok(self.record(ctx, &name, "Instance", &inst.zone, "DeleteInstance", ""))
    }

    /// An instance gone without an API call (out-of-band deletion): detached everywhere, its
    /// host deleted. Whether it existed.
    pub fn disappear_instance(&mut self, ctx: &Ctx<'_>, name: &str) -> bool {
        if self.instances.remove(name).is_none() {
            return false;
        }
        for lb in self.load_balancers.values_mut() {
            lb.instances.retain(|n| n != name);
        }
        ctx.emit(Effect::Host(HostAction::Delete(name.to_string())));
        ctx.emit(Effect::ResyncLoadBalancers);
        true
    }

    /// A load balancer gone without an API call: its listener goes with the re-sync.
    pub fn disappear_load_balancer(&mut self, ctx: &Ctx<'_>, name: &str) -> bool {
        let gone = self.load_balancers.remove(name).is_some();
        if gone {
            ctx.emit(Effect::ResyncLoadBalancers);
        }
        gone
    }

    fn change_ports(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        op_type: &str,
        change: impl FnOnce(&mut Vec<PortRule>),
    ) -> Result<Operation> {
        let i = self.instance_mut(name)?;
        change(&mut i.ports);
        let (name, zone) = (i.name.clone(), i.zone.clone());
        Ok(self.record(ctx, &name, "Instance", &zone, op_type, ""))
    }

    /// Replaces every rule with exactly the ones given: anything not listed is closed.
    pub fn put_public_ports(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        rules: Vec<PortRule>,
    ) -> Result<Operation> {
        self.change_ports(ctx, name, "PutInstancePublicPorts", |ports| *ports = rules)
    }

    pub fn open_public_port(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        rule: PortRule,
    ) -> Result<Operation> {
        self.change_ports(ctx, name, "OpenInstancePublicPorts", |ports| {
            ports.retain(|p| !p.same_range(&rule));
            ports.push(rule);
        })
    }

    pub fn close_public_port(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        rule: PortRule,
    ) -> Result<Operation> {
        self.change_ports(ctx, name, "CloseInstancePublicPorts", |ports| {
            ports.retain(|p| !p.same_range(&rule))
        })
    }

    /// The tags of the resource named `name` (instance or load balancer), its resource type and
    /// its zone, as its operations report them.
    fn tags_of(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
    ) -> Result<(&mut BTreeMap<String, String>, &'static str, String)> {
        if let Some(i) = self.instances.get_mut(name) {
            return Ok((&mut i.tags, "Instance", i.zone.clone()));
        }
        if let Some(lb) = self.load_balancers.get_mut(name) {
            return Ok((&mut lb.tags, "LoadBalancer", ctx.region.to_string()));
        }
        Err(not_found("resource", name))
    }

    pub fn tag_resource(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        given: &[(String, String)],
    ) -> Result<Operation> {
        let name = required(name, "resourceName")?;
        let (tags, kind, zone) = self.tags_of(ctx, name)?;
        let new = checked_tags(given, Some(tags))?;
        tags.extend(new);
        // The service model's OperationType has no tagging value: the type stays empty (the
        // wire omits it) and the details name the call.
        Ok(self.record(ctx, name, kind, &zone, "", "TagResource"))
    }

    pub fn untag_resource(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        keys: &[String],
    ) -> Result<Operation> {
        let name = required(name, "resourceName")?;
        let (tags, kind, zone) = self.tags_of(ctx, name)?;
        tags.retain(|k, _| !keys.contains(k));
        Ok(self.record(ctx, name, kind, &zone, "", "UntagResource"))
    }

    pub fn operation(&self, id: &str) -> Result<&Operation> {
        let id = required(id, "operationId")?;
        self.operations
            .get(id)
            .ok_or_else(|| not_found("Operation", id))
    }

    /// Operations, newest first; only those of `resource` when given.
    pub fn operations_newest_first(&self, resource: Option<&str>) -> Vec<&Operation> {
        self.operation_log
            .iter()
            .rev()
            .filter_map(|id| self.operations.get(id))
            .filter(|o| resource.is_none_or(|r| o.resource_name == r))
            .collect()
    }

    pub fn create_load_balancer(
        &mut self,
        ctx: &Ctx<'_>,
        req: NewLoadBalancer,
    ) -> Result<Operation> {
        let name = required(&req.name, "loadBalancerName")?.to_string();
        if !valid_name(&name) {
            return Err(invalid_input(format!(
                "{name:?} is not a valid load balancer name"
            )));
        }
        if self.load_balancers.contains_key(&name) {
            return Err(invalid_input(format!(
                "Some names are already in use: {name}"
            )));
        }
        let port = req
            .instance_port
            .ok_or_else(|| invalid_input("instancePort is required"))?;
        // -1 (no port yet) or a real port: 0 is not one.
        if port == 0 || !(-1..=65535).contains(&port) {
            return Err(invalid_input(format!("instancePort {port} is not valid")));
        }
        let path = req.health_check_path.unwrap_or_else(|| "/".into());
        if !path.starts_with('/') {
            return Err(invalid_input("healthCheckPath must start with /"));
        }
        let tags = checked_tags(&req.tags, None)?;
        let hash = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let lb = LoadBalancer {
            arn: arn(ctx, "LoadBalancer"),
            support_code: support_code(ctx, "lb"),
            created_at: ctx.now,
            dns_name: format!("{hash}-{name}.{}.elb.amazonaws.com", ctx.region),
            instance_port: port,
            health_check_path: path,
            session_stickiness: false,
            cookie_duration: 86400,
            https_redirection: false,
            tls_policy_name: "TLS-2016-08".into(),
            ip_address_type: req.ip_address_type.unwrap_or_else(|| "dualstack".into()),
            tags,
            instances: vec![],
            name: name.clone(),
        };
        self.load_balancers.insert(name.clone(), lb);
        Ok(self.record(
            ctx,
            &name,
            "LoadBalancer",
            ctx.region,
            "CreateLoadBalancer",
            "",
        ))
    }

    pub fn load_balancer(&self, name: &str) -> Result<&LoadBalancer> {
        let name = required(name, "loadBalancerName")?;
        self.load_balancers
            .get(name)
            .ok_or_else(|| not_found("LoadBalancer", name))
    }

    fn load_balancer_mut(&mut self, name: &str) -> Result<&mut LoadBalancer> {
        let name = required(name, "loadBalancerName")?;
        self.load_balancers
            .get_mut(name)
            .ok_or_else(|| not_found("LoadBalancer", name))
    }

    pub fn delete_load_balancer(&mut self, ctx: &Ctx<'_>, name: &str) -> Result<Operation> {
        let name = self.load_balancer(name)?.name.clone();
        self.load_balancers.remove(&name);
        Ok(self.record(
            ctx,
            &name,
            "LoadBalancer",
            ctx.region,
            "DeleteLoadBalancer",
            "",
        ))
    }

    pub fn update_load_balancer_attribute(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        attribute: &str,
        value: &str,
    ) -> Result<Operation> {
        let attr = required(attribute, "attributeName")?.to_string();
        let value = required(value, "attributeValue")?.to_string();
        let lb = self.load_balancer_mut(name)?;
        let bool_value = || {
            value
                .parse::<bool>()
                .map_err(|_| invalid_input(format!("{attr} must be true or false")))
        };
        match attr.as_str() {
            "HealthCheckPath" if value.starts_with('/') => lb.health_check_path = value.clone(),
            "HealthCheckPath" => return Err(invalid_input("HealthCheckPath must start with /")),
            "SessionStickinessEnabled" => lb.session_stickiness = bool_value()?,
            "SessionStickiness_LB_CookieDurationSeconds" => {
                lb.cookie_duration = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=604800).contains(n))
                    .ok_or_else(|| invalid_input("cookie duration must be 1 to 604800 seconds"))?
            }
            "HttpsRedirectionEnabled" => lb.https_redirection = bool_value()?,
            "TlsPolicyName" => lb.tls_policy_name = value.clone(),
            other => {
                return Err(invalid_input(format!(
                    "{other} is not a load balancer attribute"
                )))
            }
        }
        let name = lb.name.clone();
        Ok(self.record(
            ctx,
            &name,
            "LoadBalancer",
            ctx.region,
            "UpdateLoadBalancerAttribute",
            &attr,
        ))
    }

    pub fn attach_instances(
        &mut self,
        ctx: &Ctx<'_>,
        lb: &str,
        names: &[String],
    ) -> Result<Vec<Operation>> {
        required(lb, "loadBalancerName")?;
        checked_instance_names(names)?;
        if let Some(missing) = names.iter().find(|n| !self.instances.contains_key(*n)) {
            return Err(not_found("Instance", missing));
        }
        let lb = self.load_balancer_mut(lb)?;
        for n in names {
            if !lb.instances.contains(n) {
                lb.instances.push(n.clone());
            }
        }
        let lb_name = lb.name.clone();
        Ok(names
            .iter()
            .map(|n| {
                self.record(
                    ctx,
                    &lb_name,
                    "LoadBalancer",
                    ctx.region,
                    "AttachInstancesToLoadBalancer",
                    n,
                )
            })
            .collect())
    }

    pub fn detach_instances(
        &mut self,
        ctx: &Ctx<'_>,
        lb: &str,
        names: &[String],
    ) -> Result<Vec<Operation>> {
        required(lb, "loadBalancerName")?;
        checked_instance_names(names)?;
        let lb = self.load_balancer_mut(lb)?;
        lb.instances.retain(|n| !names.contains(n));
        let lb_name = lb.name.clone();
        Ok(names
            .iter()
            .map(|n| {
                self.record(
                    ctx,
                    &lb_name,
                    "LoadBalancer",
                    ctx.region,
                    "DetachInstancesFromLoadBalancer",
                    n,
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::profile::LatencyProfile;
    use crate::Emulator;

    /// TagResource and UntagResource report the resource they changed: its type and zone as
    /// its other operations do (a load balancer's are "LoadBalancer" and the region), no
    /// operation type (the service model's OperationType has no tagging value), and the call
    /// in the details.
    #[test]
    fn tag_operations_report_the_resource_they_changed() {
        let emu = Emulator::new(LatencyProfile::fast(), Arc::new(ManualClock::new(1000.0)));
        let ctx = Ctx::new(&emu, 1000.0, "123456789012", "us-east-1");
        let mut b = Backend::default();
        b.create_instances(
            &ctx,
            NewInstances {
                names: vec!["web-1".into()],
                zone: "us-east-1a".into(),
                blueprint_id: BLUEPRINTS[0].id.into(),
                bundle_id: BUNDLES[0].id.into(),
                ..Default::default()
            },
        )
        .unwrap();
        b.create_load_balancer(
            &ctx,
            NewLoadBalancer {
                name: "front".into(),
                instance_port: Some(80),
                ..Default::default()
            },
        )
        .unwrap();
        let tag = vec![("team".to_string(), "web".to_string())];
        for (resource, kind, zone) in [
            ("web-1", "Instance", "us-east-1a"),
            ("front", "LoadBalancer", "us-east-1"),
        ] {
            let ops = [
                ("TagResource", b.tag_resource(&ctx, resource, &tag).unwrap()),
                (
                    "UntagResource",
                    b.untag_resource(&ctx, resource, &["team".to_string()])
                        .unwrap(),
                ),
            ];
            for (call, op) in ops {
                assert_eq!(op.resource_name, resource, "{call} {resource}");
                assert_eq!(op.resource_type, kind, "{call} {resource}");
                assert_eq!(op.zone, zone, "{call} {resource}");
                assert_eq!(op.operation_type, "", "{call} {resource}");
                assert_eq!(op.details, call, "{call} {resource}");
            }
        }
    }
}
