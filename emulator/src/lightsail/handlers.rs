//! One function per Lightsail operation, and the dispatch table.
use serde_json::{json, Value as Json};

use super::error::{invalid_input, not_found, operation_failure};
use super::model::*;
use super::{operation_json, Backend, Ctx, Handler};
use crate::effects::Effect;
use crate::error::AwsError;
use crate::hosts::HostAction;
use crate::input::str_list;

/// Results per page for Get* listings.
pub const PAGE_SIZE: usize = 10;

/// The operation table: dispatch, the catalogue (`hastack-local status`) and the fidelity
/// suites' coverage list all come from it.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("GetRegions", get_regions),
    ("GetBlueprints", get_blueprints),
    ("GetBundles", get_bundles),
    ("CreateInstances", create_instances),
    ("GetInstance", get_instance),
    ("GetInstances", get_instances),
    ("GetInstanceState", get_instance_state),
    ("StartInstance", start_instance),
    ("StopInstance", stop_instance),
    ("RebootInstance", reboot_instance),
    ("DeleteInstance", delete_instance),
    ("GetInstancePortStates", get_instance_port_states),
    ("PutInstancePublicPorts", put_instance_public_ports),
    ("OpenInstancePublicPorts", open_instance_public_ports),
    ("CloseInstancePublicPorts", close_instance_public_ports),
    ("TagResource", tag_resource),
    ("UntagResource", untag_resource),
    ("GetOperation", get_operation),
    ("GetOperations", get_operations),
    ("GetOperationsForResource", get_operations_for_resource),
    ("CreateLoadBalancer", create_load_balancer),
    ("GetLoadBalancer", get_load_balancer),
    ("GetLoadBalancers", get_load_balancers),
    ("DeleteLoadBalancer", delete_load_balancer),
    (
        "UpdateLoadBalancerAttribute",
        update_load_balancer_attribute,
    ),
    ("AttachInstancesToLoadBalancer", attach_instances),
    ("DetachInstancesFromLoadBalancer", detach_instances),
];

/// The handler of `operation`, if this service implements it.
pub fn handler(operation: &str) -> Option<Handler> {
    OPERATIONS
        .iter()
        .find(|(n, _)| *n == operation)
        .map(|(_, h)| *h)
}

fn req_str<'a>(input: &'a Json, key: &str) -> Result<&'a str, AwsError> {
    input
        .get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid_input(format!("{key} is required")))
}

/// Lightsail's tag limits: 50 per resource, keys 1-128 characters and not `aws:`-prefixed,
/// values up to 256 characters.
pub const MAX_TAGS: usize = 50;

/// The `tags` of a request, checked as Lightsail checks them (`existing`: the resource's tags
/// the new ones are merged into, for the 50-tag limit).
fn checked_tags(
    input: &Json,
    existing: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<std::collections::BTreeMap<String, String>, AwsError> {
    let given = input.get("tags").and_then(Json::as_array);
    for t in given.into_iter().flatten() {
        let key = t.get("key").and_then(Json::as_str).unwrap_or("");
        let value = t.get("value").and_then(Json::as_str).unwrap_or("");
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
    let tags = tags_from_json(input.get("tags"));
    let total = match existing {
        Some(old) => old
            .keys()
            .chain(tags.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        None => tags.len(),
    };
    if total > MAX_TAGS {
        return Err(invalid_input(format!(
            "A resource can have at most {MAX_TAGS} tags; this request would give it {total}"
        )));
    }
    Ok(tags)
}

/// `instanceNames` of an attach or detach: at least one, none empty.
fn instance_names(input: &Json) -> Result<Vec<String>, AwsError> {
    let names = str_list(input, "instanceNames");
    if names.is_empty() {
        return Err(invalid_input(
            "instanceNames must list at least one instance",
        ));
    }
    if names.iter().any(String::is_empty) {
        return Err(invalid_input("Instance names must not be empty"));
    }
    Ok(names)
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

fn page<T: Clone>(items: Vec<T>, input: &Json) -> Result<(Vec<T>, Option<String>), AwsError> {
    let token = input.get("pageToken").and_then(Json::as_str);
    crate::input::offset_page(items, token, PAGE_SIZE)
        .map_err(|_| invalid_input(format!("pageToken {:?} is not valid", token.unwrap_or(""))))
}

fn with_token(mut j: Json, next: Option<String>) -> Json {
    if let Some(t) = next {
        j["nextPageToken"] = json!(t);
    }
    j
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

fn get_regions(_b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let with_zones = input
        .get("includeAvailabilityZones")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let regions: Vec<Json> = REGIONS
        .iter()
        .map(|(name, display, zones)| {
            let zones: Vec<Json> = if with_zones {
                zones
                    .iter()
                    .map(|z| json!({"zoneName": format!("{name}{z}"), "state": "available"}))
                    .collect()
            } else {
                vec![]
            };
            json!({
                "continentCode": match &name[..2] { "us" | "ca" => "NA", "eu" => "EU", _ => "AP" },
                "description": format!("This region is recommended to serve users in {display}"),
                "displayName": display,
                "name": name,
                "availabilityZones": zones,
                "relationalDatabaseAvailabilityZones": [],
            })
        })
        .collect();
    Ok(json!({ "regions": regions }))
}

fn get_blueprints(_b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let (items, next) = page(BLUEPRINTS.iter().map(blueprint_json).collect(), input)?;
    Ok(with_token(json!({ "blueprints": items }), next))
}

fn get_bundles(_b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let (items, next) = page(BUNDLES.iter().map(bundle_json).collect(), input)?;
    Ok(with_token(json!({ "bundles": items }), next))
}

fn instance_state(i: &Instance, ctx: &Ctx<'_>) -> (i64, &'static str) {
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

fn instance_json(i: &Instance, ctx: &Ctx<'_>) -> Json {
    let (code, name) = instance_state(i, ctx);
    let bundle = BUNDLES.iter().find(|b| b.id == i.bundle_id);
    let blueprint = BLUEPRINTS.iter().find(|b| b.id == i.blueprint_id);
    let running = code == 16;
    json!({
        "name": i.name,
        "arn": i.arn,
        "supportCode": i.support_code,
        "createdAt": i.created_at,
        "location": {"availabilityZone": i.zone, "regionName": ctx.region},
        "resourceType": "Instance",
        "tags": tags_json(&i.tags),
        "blueprintId": i.blueprint_id,
        "blueprintName": blueprint.map(|b| b.name).unwrap_or(""),
        "bundleId": i.bundle_id,
        "addOns": [],
        "isStaticIp": false,
        "privateIpAddress": i.private_ip,
        "publicIpAddress": if running { json!(i.public_ip) } else { Json::Null },
        "ipv6Addresses": [],
        "ipAddressType": i.ip_address_type,
        "hardware": {
            "cpuCount": bundle.map(|b| b.cpus).unwrap_or(1),
            "ramSizeInGb": bundle.map(|b| b.ram_gb).unwrap_or(0.5),
            "disks": [{"name": format!("{}-system-disk", i.name), "sizeInGb": bundle.map(|b| b.disk_gb).unwrap_or(20), "isSystemDisk": true, "path": "/dev/xvda", "state": "in-use", "attachmentState": "attached", "createdAt": i.created_at}],
        },
        "networking": {
            "monthlyTransfer": {"gbPerMonthAllocated": bundle.map(|b| b.transfer_gb).unwrap_or(1024)},
            "ports": i.ports.iter().map(PortRule::port_info).collect::<Vec<_>>(),
        },
        "state": {"code": code, "name": name},
        "username": blueprint.map(|b| b.username).unwrap_or("admin"),
        "sshKeyName": "LightsailDefaultKeyPair",
        "metadataOptions": {"state": "applied", "httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpProtocolIpv6": "disabled"},
    })
}

fn find_instance<'b>(b: &'b mut Backend, input: &Json) -> Result<&'b mut Instance, AwsError> {
    let name = req_str(input, "instanceName")?;
    b.instances
        .get_mut(name)
        .ok_or_else(|| not_found("Instance", name))
}

fn create_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let names = str_list(input, "instanceNames");
    if names.is_empty() {
        return Err(invalid_input("instanceNames must list at least one name"));
    }
    if let Some(bad) = names.iter().find(|n| !valid_name(n)) {
        return Err(invalid_input(format!("{bad:?} is not a valid instance name: use 2-255 letters, numbers, hyphens, underscores and periods, starting with a letter or number")));
    }
    let zone = req_str(input, "availabilityZone")?;
    let zones = super::model::zones_of(ctx.region).unwrap_or_default();
    if !zones.iter().any(|z| z == zone) {
        return Err(invalid_input(format!(
            "The availability zone {zone} is not valid for region {}",
            ctx.region
        )));
    }
    let blueprint = req_str(input, "blueprintId")?;
    if !BLUEPRINTS.iter().any(|b| b.id == blueprint) {
        return Err(invalid_input(format!(
            "The blueprint ID is invalid: {blueprint}"
        )));
    }
    let bundle = req_str(input, "bundleId")?;
    if !BUNDLES.iter().any(|b| b.id == bundle) {
        return Err(invalid_input(format!("The bundle ID is invalid: {bundle}")));
    }
    let taken: Vec<&String> = names
        .iter()
        .filter(|n| b.instances.contains_key(*n))
        .collect();
    if !taken.is_empty() {
        return Err(invalid_input(format!(
            "Some names are already in use: {}",
            taken
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let tags = checked_tags(input, None)?;
    let user_data = input
        .get("userData")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    let ip_type = input
        .get("ipAddressType")
        .and_then(Json::as_str)
        .unwrap_or("dualstack")
        .to_string();
    let mut ops = Vec::new();
    for name in names {
        let (private_ip, public_ip) = b.allocate_ips();
        let inst = Instance {
            arn: arn(ctx, "Instance"),
            support_code: support_code(ctx, "i"),
            created_at: ctx.now,
            zone: zone.to_string(),
            blueprint_id: blueprint.to_string(),
            bundle_id: bundle.to_string(),
            user_data: user_data.clone(),
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
        b.instances.insert(name.clone(), inst);
        ops.push(b.operation(ctx, &name, "Instance", zone, "CreateInstance", blueprint));
    }
    Ok(json!({ "operations": ops }))
}

fn get_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let i = find_instance(b, input)?;
    Ok(json!({ "instance": instance_json(i, ctx) }))
}

fn get_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let all: Vec<Json> = b
        .instances
        .values()
        .map(|i| instance_json(i, ctx))
        .collect();
    let (items, next) = page(all, input)?;
    Ok(with_token(json!({ "instances": items }), next))
}

fn get_instance_state(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let i = find_instance(b, input)?;
    let (code, name) = instance_state(i, ctx);
    Ok(json!({ "state": {"code": code, "name": name} }))
}

/// Start, stop or reboot: each allowed only from the states the real service allows.
fn power_op(b: &mut Backend, ctx: &Ctx<'_>, input: &Json, op_type: &str) -> Result<Json, AwsError> {
    let i = find_instance(b, input)?;
    let (_, state) = instance_state(i, ctx);
    let (allowed, next): (&[&str], Power) = match op_type {
        "StartInstance" => (&["stopped"], Power::On { since: ctx.now }),
        "StopInstance" => (&["running", "pending"], Power::Off { since: ctx.now }),
        _ => (&["running"], Power::On { since: ctx.now }),
    };
    if !allowed.contains(&state) {
        return Err(operation_failure(format!(
            "Instance {} is {state}; {op_type} needs it {}",
            i.name,
            allowed.join(" or ")
        )));
    }
    i.power = next;
    let action = match op_type {
        "StartInstance" => HostAction::Start(i.name.clone()),
        "StopInstance" => HostAction::Stop(i.name.clone()),
        _ => HostAction::Reboot(i.name.clone()),
    };
    let (name, zone) = (i.name.clone(), i.zone.clone());
    ctx.emit(Effect::Host(action));
    Ok(json!({ "operations": [b.operation(ctx, &name, "Instance", &zone, op_type, "")] }))
}

fn start_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    power_op(b, ctx, input, "StartInstance")
}

fn stop_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    power_op(b, ctx, input, "StopInstance")
}

fn reboot_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    power_op(b, ctx, input, "RebootInstance")
}

fn delete_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = find_instance(b, input)?.name.clone();
    let inst = b.instances.remove(&name).expect("just found");
    ctx.emit(Effect::Host(HostAction::Delete(name.clone())));
    for lb in b.load_balancers.values_mut() {
        lb.instances.retain(|n| n != &name);
    }
    Ok(
        json!({ "operations": [b.operation(ctx, &name, "Instance", &inst.zone, "DeleteInstance", "")] }),
    )
}

fn get_instance_port_states(
    b: &mut Backend,
    _ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let i = find_instance(b, input)?;
    Ok(json!({ "portStates": i.ports.iter().map(PortRule::port_state).collect::<Vec<_>>() }))
}

fn port_op(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
    op_type: &str,
    change: impl FnOnce(&mut Vec<PortRule>) -> Result<(), AwsError>,
) -> Result<Json, AwsError> {
    let i = find_instance(b, input)?;
    change(&mut i.ports)?;
    let (name, zone) = (i.name.clone(), i.zone.clone());
    Ok(json!({ "operation": b.operation(ctx, &name, "Instance", &zone, op_type, "") }))
}

fn parse_port(j: Option<&Json>) -> Result<PortRule, AwsError> {
    PortRule::from_json(j.ok_or_else(|| invalid_input("portInfo is required"))?)
        .map_err(invalid_input)
}

/// Replaces every rule with exactly the ones given: anything not listed is closed.
fn put_instance_public_ports(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let infos = input
        .get("portInfos")
        .and_then(Json::as_array)
        .ok_or_else(|| invalid_input("portInfos is required"))?;
    let rules = infos
        .iter()
        .map(|j| PortRule::from_json(j).map_err(invalid_input))
        .collect::<Result<Vec<_>, _>>()?;
    port_op(b, ctx, input, "PutInstancePublicPorts", |ports| {
        *ports = rules;
        Ok(())
    })
}

fn open_instance_public_ports(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let rule = parse_port(input.get("portInfo"))?;
    port_op(b, ctx, input, "OpenInstancePublicPorts", |ports| {
        ports.retain(|p| {
            !(p.from_port == rule.from_port
                && p.to_port == rule.to_port
                && p.protocol == rule.protocol)
        });
        ports.push(rule);
        Ok(())
    })
}

fn close_instance_public_ports(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let rule = parse_port(input.get("portInfo"))?;
    port_op(b, ctx, input, "CloseInstancePublicPorts", |ports| {
        ports.retain(|p| {
            !(p.from_port == rule.from_port
                && p.to_port == rule.to_port
                && p.protocol == rule.protocol)
        });
        Ok(())
    })
}

/// The tags of the resource named `name` (instance or load balancer), and its zone.
fn tags_of<'b>(
    b: &'b mut Backend,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<(&'b mut std::collections::BTreeMap<String, String>, String), AwsError> {
    if let Some(i) = b.instances.get_mut(name) {
        return Ok((&mut i.tags, i.zone.clone()));
    }
    if let Some(lb) = b.load_balancers.get_mut(name) {
        return Ok((&mut lb.tags, ctx.region.to_string()));
    }
    Err(not_found("resource", name))
}

fn tag_resource(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "resourceName")?.to_string();
    let (tags, zone) = tags_of(b, ctx, &name)?;
    let new = checked_tags(input, Some(tags))?;
    tags.extend(new);
    Ok(json!({ "operations": [b.operation(ctx, &name, "Instance", &zone, "", "TagResource")] }))
}

fn untag_resource(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "resourceName")?.to_string();
    let keys = str_list(input, "tagKeys");
    let (tags, zone) = tags_of(b, ctx, &name)?;
    tags.retain(|k, _| !keys.contains(k));
    Ok(json!({ "operations": [b.operation(ctx, &name, "Instance", &zone, "", "UntagResource")] }))
}

fn get_operation(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let id = req_str(input, "operationId")?;
    let op = b
        .operations
        .get(id)
        .ok_or_else(|| not_found("Operation", id))?;
    Ok(json!({ "operation": operation_json(op, ctx) }))
}

fn get_operations(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let all: Vec<Json> = b
        .operation_log
        .iter()
        .rev()
        .filter_map(|id| b.operations.get(id))
        .map(|o| operation_json(o, ctx))
        .collect();
    let (items, next) = page(all, input)?;
    Ok(with_token(json!({ "operations": items }), next))
}

fn get_operations_for_resource(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let name = req_str(input, "resourceName")?;
    let all: Vec<Json> = b
        .operation_log
        .iter()
        .rev()
        .filter_map(|id| b.operations.get(id))
        .filter(|o| o.resource_name == name)
        .map(|o| operation_json(o, ctx))
        .collect();
    let (items, next) = page(all, input)?;
    let mut j = json!({ "operations": items });
    if let Some(t) = next {
        j["nextPageCount"] = json!(t);
        j["nextPageToken"] = json!(t);
    }
    Ok(j)
}

fn lb_state(lb: &LoadBalancer, ctx: &Ctx<'_>) -> &'static str {
    if ctx.now < lb.created_at + ctx.profile.load_balancer_provision {
        "provisioning"
    } else {
        "active"
    }
}

fn lb_json(lb: &LoadBalancer, b: &Backend, ctx: &Ctx<'_>) -> Json {
    // Without hosts (or before the data plane's first check) nothing is health-checked, so no instance is
    // ever reported healthy: running instances stay `initial`, others are `unavailable`.
    let key = format!("{}/{}/{}", ctx.account, ctx.region, lb.name);
    let health: Vec<Json> = lb
        .instances
        .iter()
        .map(|n| match (ctx.plane.health(&key, n), b.instances.get(n)) {
            // With hosts, the data plane's health checks decide.
            (Some(h), Some(_)) => {
                let mut j = json!({"instanceName": n, "instanceHealth": h.as_str()});
                match h {
                    super::dataplane::Health::Healthy => {}
                    super::dataplane::Health::Unhealthy => j["instanceHealthReason"] = json!("Instance.FailedHealthChecks"),
                    super::dataplane::Health::Initial => j["instanceHealthReason"] = json!("Lb.RegistrationInProgress"),
                }
                j
            }
            (_, Some(i)) if instance_is_running(i, ctx) => json!({"instanceName": n, "instanceHealth": "initial", "instanceHealthReason": "Lb.RegistrationInProgress"}),
            _ => json!({"instanceName": n, "instanceHealth": "unavailable", "instanceHealthReason": "Instance.NotInUse"}),
        })
        .collect();
    json!({
        "name": lb.name,
        "arn": lb.arn,
        "supportCode": lb.support_code,
        "createdAt": lb.created_at,
        "location": {"availabilityZone": "all", "regionName": ctx.region},
        "resourceType": "LoadBalancer",
        "tags": tags_json(&lb.tags),
        "dnsName": lb.dns_name,
        "state": lb_state(lb, ctx),
        "protocol": "HTTP",
        "publicPorts": [80],
        "healthCheckPath": lb.health_check_path,
        "instancePort": lb.instance_port,
        "instanceHealthSummary": health,
        "tlsCertificateSummaries": [],
        "configurationOptions": {
            "HealthCheckPath": lb.health_check_path,
            "SessionStickinessEnabled": lb.session_stickiness.to_string(),
            "SessionStickiness_LB_CookieDurationSeconds": lb.cookie_duration.to_string(),
        },
        "ipAddressType": lb.ip_address_type,
        "httpsRedirectionEnabled": lb.https_redirection,
        "tlsPolicyName": lb.tls_policy_name,
    })
}

fn find_lb<'b>(b: &'b mut Backend, input: &Json) -> Result<&'b mut LoadBalancer, AwsError> {
    let name = req_str(input, "loadBalancerName")?;
    b.load_balancers
        .get_mut(name)
        .ok_or_else(|| not_found("LoadBalancer", name))
}

fn create_load_balancer(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "loadBalancerName")?.to_string();
    if !valid_name(&name) {
        return Err(invalid_input(format!(
            "{name:?} is not a valid load balancer name"
        )));
    }
    if b.load_balancers.contains_key(&name) {
        return Err(invalid_input(format!(
            "Some names are already in use: {name}"
        )));
    }
    let port = input
        .get("instancePort")
        .and_then(Json::as_i64)
        .ok_or_else(|| invalid_input("instancePort is required"))?;
    // -1 (no port yet) or a real port: 0 is not one.
    if port == 0 || !(-1..=65535).contains(&port) {
        return Err(invalid_input(format!("instancePort {port} is not valid")));
    }
    let path = input
        .get("healthCheckPath")
        .and_then(Json::as_str)
        .unwrap_or("/")
        .to_string();
    if !path.starts_with('/') {
        return Err(invalid_input("healthCheckPath must start with /"));
    }
    let tags = checked_tags(input, None)?;
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
        ip_address_type: input
            .get("ipAddressType")
            .and_then(Json::as_str)
            .unwrap_or("dualstack")
            .into(),
        tags,
        instances: vec![],
        name: name.clone(),
    };
    b.load_balancers.insert(name.clone(), lb);
    Ok(
        json!({ "operations": [b.operation(ctx, &name, "LoadBalancer", ctx.region, "CreateLoadBalancer", "")] }),
    )
}

fn get_load_balancer(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let lb = find_lb(b, input)?.clone();
    Ok(json!({ "loadBalancer": lb_json(&lb, b, ctx) }))
}

fn get_load_balancers(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let all: Vec<Json> = b
        .load_balancers
        .values()
        .map(|lb| lb_json(lb, b, ctx))
        .collect();
    let (items, next) = page(all, input)?;
    Ok(with_token(json!({ "loadBalancers": items }), next))
}

fn delete_load_balancer(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = find_lb(b, input)?.name.clone();
    b.load_balancers.remove(&name);
    Ok(
        json!({ "operations": [b.operation(ctx, &name, "LoadBalancer", ctx.region, "DeleteLoadBalancer", "")] }),
    )
}

fn update_load_balancer_attribute(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let attr = req_str(input, "attributeName")?.to_string();
    let value = req_str(input, "attributeValue")?.to_string();
    let lb = find_lb(b, input)?;
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
    Ok(
        json!({ "operations": [b.operation(ctx, &name, "LoadBalancer", ctx.region, "UpdateLoadBalancerAttribute", &attr)] }),
    )
}

fn attach_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    req_str(input, "loadBalancerName")?;
    let names = instance_names(input)?;
    if let Some(missing) = names.iter().find(|n| !b.instances.contains_key(*n)) {
        return Err(not_found("Instance", missing));
    }
    let lb = find_lb(b, input)?;
    let lb_name = lb.name.clone();
    for n in &names {
        if !lb.instances.contains(n) {
            lb.instances.push(n.clone());
        }
    }
    let ops = names
        .iter()
        .map(|n| {
            b.operation(
                ctx,
                &lb_name,
                "LoadBalancer",
                ctx.region,
                "AttachInstancesToLoadBalancer",
                n,
            )
        })
        .collect::<Vec<_>>();
    Ok(json!({ "operations": ops }))
}

fn detach_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    req_str(input, "loadBalancerName")?;
    let names = instance_names(input)?;
    let lb = find_lb(b, input)?;
    let lb_name = lb.name.clone();
    lb.instances.retain(|n| !names.contains(n));
    let ops = names
        .iter()
        .map(|n| {
            b.operation(
                ctx,
                &lb_name,
                "LoadBalancer",
                ctx.region,
                "DetachInstancesFromLoadBalancer",
                n,
            )
        })
        .collect::<Vec<_>>();
    Ok(json!({ "operations": ops }))
}
