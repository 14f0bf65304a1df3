//! Lightsail on the wire (awsJson1_1): typed inputs parsed with serde, the backend called,
//! results rendered as Lightsail renders them, and the operation table.
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::backend::{
    instance_is_running, instance_state, load_balancer_state, Backend, NewInstances,
    NewLoadBalancer, PowerChange,
};
use super::error::{invalid_input, LightsailError};
use super::model::*;
use super::Handler;
use crate::dataplane::Health;
use crate::error::AwsError;
use crate::Ctx;

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

// ---- inputs ----

/// The typed input of an operation (members the emulator does not use are ignored).
fn parse<T: DeserializeOwned>(input: &Json) -> Result<T, AwsError> {
    T::deserialize(input).map_err(|e| AwsError::serialization(e.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tag {
    key: String,
    value: String,
}

fn tag_pairs(tags: Vec<Tag>) -> Vec<(String, String)> {
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PageInput {
    page_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RegionsInput {
    include_availability_zones: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CreateInstancesInput {
    instance_names: Vec<String>,
    availability_zone: String,
    blueprint_id: String,
    bundle_id: String,
    user_data: String,
    tags: Vec<Tag>,
    ip_address_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct InstanceInput {
    instance_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PortInfo {
    from_port: Option<i64>,
    to_port: Option<i64>,
    protocol: Option<String>,
    cidrs: Vec<String>,
    ipv6_cidrs: Vec<String>,
    cidr_list_aliases: Vec<String>,
}

impl PortInfo {
    fn rule(self) -> Result<PortRule, LightsailError> {
        let from = self
            .from_port
            .ok_or_else(|| invalid_input("portInfo.fromPort is required"))?;
        let to = self
            .to_port
            .ok_or_else(|| invalid_input("portInfo.toPort is required"))?;
        let protocol = self
            .protocol
            .ok_or_else(|| invalid_input("portInfo.protocol is required"))?;
        PortRule::checked(
            from,
            to,
            &protocol,
            self.cidrs,
            self.ipv6_cidrs,
            self.cidr_list_aliases,
        )
        .map_err(invalid_input)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PortInput {
    instance_name: String,
    port_info: Option<PortInfo>,
}

impl PortInput {
    fn rule(&mut self) -> Result<PortRule, LightsailError> {
        self.port_info
            .take()
            .ok_or_else(|| invalid_input("portInfo is required"))?
            .rule()
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PutPortsInput {
    instance_name: String,
    port_infos: Option<Vec<PortInfo>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TagInput {
    resource_name: String,
    tags: Vec<Tag>,
    tag_keys: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct OperationInput {
    operation_id: String,
    resource_name: String,
    page_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CreateLoadBalancerInput {
    load_balancer_name: String,
    instance_port: Option<i64>,
    health_check_path: Option<String>,
    ip_address_type: Option<String>,
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LoadBalancerInput {
    load_balancer_name: String,
    attribute_name: String,
    attribute_value: String,
    instance_names: Vec<String>,
}

// ---- rendering ----

fn page<T: Clone>(
    items: Vec<T>,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    crate::input::offset_page(items, token, PAGE_SIZE).map_err(|_| {
        invalid_input(format!("pageToken {:?} is not valid", token.unwrap_or(""))).into()
    })
}

fn with_token(mut j: Json, next: Option<String>) -> Json {
    if let Some(t) = next {
        j["nextPageToken"] = json!(t);
    }
    j
}

fn tags_json(tags: &std::collections::BTreeMap<String, String>) -> Json {
    Json::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

fn blueprint_json(b: &Blueprint) -> Json {
    json!({
        "blueprintId": b.id, "name": b.name, "group": b.id.split('_').next().unwrap_or(b.id), "type": "os",
        "description": format!("{} {}", b.name, b.version), "isActive": true, "minPower": 0, "version": b.version,
        "versionCode": "1", "productUrl": "", "licenseUrl": "", "platform": "LINUX_UNIX",
    })
}

fn bundle_json(b: &Bundle) -> Json {
    json!({
        "bundleId": b.id, "name": b.name, "price": b.price, "cpuCount": b.cpus, "ramSizeInGb": b.ram_gb,
        "diskSizeInGb": b.disk_gb, "transferPerMonthInGb": b.transfer_gb, "power": b.power, "isActive": true,
        "instanceType": b.id.trim_end_matches("_3_0"), "supportedPlatforms": ["LINUX_UNIX"],
    })
}

/// `InstancePortInfo` as GetInstance reports it.
fn port_info_json(p: &PortRule) -> Json {
    let anywhere = p.cidrs.iter().any(|c| c == "0.0.0.0/0");
    json!({
        "fromPort": p.from_port, "toPort": p.to_port, "protocol": p.protocol,
        "accessFrom": if anywhere { "Anywhere (0.0.0.0/0 and ::/0)".to_string() } else { p.cidrs.join(", ") },
        "accessType": if anywhere { "Public" } else { "Private" },
        "commonName": "", "accessDirection": "inbound",
        "cidrs": p.cidrs, "ipv6Cidrs": p.ipv6_cidrs, "cidrListAliases": p.cidr_list_aliases,
    })
}

/// `InstancePortState` as GetInstancePortStates reports it.
fn port_state_json(p: &PortRule) -> Json {
    json!({
        "fromPort": p.from_port, "toPort": p.to_port, "protocol": p.protocol, "state": "open",
        "cidrs": p.cidrs, "ipv6Cidrs": p.ipv6_cidrs, "cidrListAliases": p.cidr_list_aliases,
    })
}

/// An operation as of `ctx.now`.
pub fn operation_json(op: &Operation, ctx: &Ctx<'_>) -> Json {
    let st = op.status_at(ctx.now, ctx.profile.operation);
    let mut j = json!({
        "id": op.id,
        "resourceName": op.resource_name,
        "resourceType": op.resource_type,
        "createdAt": op.created_at,
        "location": {"availabilityZone": op.zone, "regionName": ctx.region},
        "isTerminal": st.is_terminal,
        "operationDetails": op.details,
        // Tagging has no OperationType in the service model: the member is omitted then.
        "operationType": (!op.operation_type.is_empty()).then_some(&op.operation_type),
        "status": st.status,
        "statusChangedAt": st.changed_at,
    });
    if let Some((code, details)) = st.error {
        j["errorCode"] = json!(code);
        j["errorDetails"] = json!(details);
    }
    j
}

fn operations_json(ops: &[Operation], ctx: &Ctx<'_>) -> Json {
    json!({ "operations": ops.iter().map(|o| operation_json(o, ctx)).collect::<Vec<_>>() })
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
            "ports": i.ports.iter().map(port_info_json).collect::<Vec<_>>(),
        },
        "state": {"code": code, "name": name},
        "username": blueprint.map(|b| b.username).unwrap_or("admin"),
        "sshKeyName": "LightsailDefaultKeyPair",
        "metadataOptions": {"state": "applied", "httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpProtocolIpv6": "disabled"},
    })
}

fn lb_json(lb: &LoadBalancer, b: &Backend, ctx: &Ctx<'_>) -> Json {
    // Without hosts (or before the data plane's first check) nothing is health-checked, so no
    // instance is reported healthy: running instances stay `initial`, others are `unavailable`.
    let key = format!("{}/{}/{}", ctx.account, ctx.region, lb.name);
    let health: Vec<Json> = lb
        .instances
        .iter()
        .map(|n| match (ctx.plane.health(&key, n), b.instances.get(n)) {
            // With hosts, the data plane's health checks decide.
            (Some(h), Some(_)) => {
                let mut j = json!({"instanceName": n, "instanceHealth": h.as_str()});
                match h {
                    Health::Healthy => {}
                    Health::Unhealthy => j["instanceHealthReason"] = json!("Instance.FailedHealthChecks"),
                    Health::Initial => j["instanceHealthReason"] = json!("Lb.RegistrationInProgress"),
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
        "state": load_balancer_state(lb, ctx),
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

// ---- operations ----

type Answer = Result<Json, AwsError>;

fn get_regions(_b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: RegionsInput = parse(input)?;
    let regions: Vec<Json> = REGIONS
        .iter()
        .map(|(name, display, zones)| {
            let zones: Vec<Json> = if i.include_availability_zones {
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

fn get_blueprints(_b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: PageInput = parse(input)?;
    let (items, next) = page(
        BLUEPRINTS.iter().map(blueprint_json).collect(),
        i.page_token.as_deref(),
    )?;
    Ok(with_token(json!({ "blueprints": items }), next))
}

fn get_bundles(_b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: PageInput = parse(input)?;
    let (items, next) = page(
        BUNDLES.iter().map(bundle_json).collect(),
        i.page_token.as_deref(),
    )?;
    Ok(with_token(json!({ "bundles": items }), next))
}

fn create_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CreateInstancesInput = parse(input)?;
    let ops = b.create_instances(
        ctx,
        NewInstances {
            names: i.instance_names,
            zone: i.availability_zone,
            blueprint_id: i.blueprint_id,
            bundle_id: i.bundle_id,
            user_data: i.user_data,
            tags: tag_pairs(i.tags),
            ip_address_type: i.ip_address_type,
        },
    )?;
    Ok(operations_json(&ops, ctx))
}

fn get_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: InstanceInput = parse(input)?;
    Ok(json!({ "instance": instance_json(b.instance(&i.instance_name)?, ctx) }))
}

fn get_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: PageInput = parse(input)?;
    let all: Vec<Json> = b
        .instances
        .values()
        .map(|x| instance_json(x, ctx))
        .collect();
    let (items, next) = page(all, i.page_token.as_deref())?;
    Ok(with_token(json!({ "instances": items }), next))
}

fn get_instance_state(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: InstanceInput = parse(input)?;
    let (code, name) = instance_state(b.instance(&i.instance_name)?, ctx);
    Ok(json!({ "state": {"code": code, "name": name} }))
}

fn power(b: &mut Backend, ctx: &Ctx<'_>, input: &Json, change: PowerChange) -> Answer {
    let i: InstanceInput = parse(input)?;
    let op = b.change_power(ctx, &i.instance_name, change)?;
    Ok(operations_json(&[op], ctx))
}

fn start_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    power(b, ctx, input, PowerChange::Start)
}

fn stop_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    power(b, ctx, input, PowerChange::Stop)
}

fn reboot_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    power(b, ctx, input, PowerChange::Reboot)
}

fn delete_instance(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: InstanceInput = parse(input)?;
    let op = b.delete_instance(ctx, &i.instance_name)?;
    Ok(operations_json(&[op], ctx))
}

fn get_instance_port_states(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: InstanceInput = parse(input)?;
    let inst = b.instance(&i.instance_name)?;
    Ok(json!({ "portStates": inst.ports.iter().map(port_state_json).collect::<Vec<_>>() }))
}

fn put_instance_public_ports(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: PutPortsInput = parse(input)?;
    let rules = i
        .port_infos
        .ok_or_else(|| invalid_input("portInfos is required"))?
        .into_iter()
        .map(PortInfo::rule)
        .collect::<Result<Vec<_>, _>>()?;
    let op = b.put_public_ports(ctx, &i.instance_name, rules)?;
    Ok(json!({ "operation": operation_json(&op, ctx) }))
}

fn open_instance_public_ports(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let mut i: PortInput = parse(input)?;
    let rule = i.rule()?;
    let op = b.open_public_port(ctx, &i.instance_name, rule)?;
    Ok(json!({ "operation": operation_json(&op, ctx) }))
}

fn close_instance_public_ports(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let mut i: PortInput = parse(input)?;
    let rule = i.rule()?;
    let op = b.close_public_port(ctx, &i.instance_name, rule)?;
    Ok(json!({ "operation": operation_json(&op, ctx) }))
}

fn tag_resource(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: TagInput = parse(input)?;
    let op = b.tag_resource(ctx, &i.resource_name, &tag_pairs(i.tags))?;
    Ok(operations_json(&[op], ctx))
}

fn untag_resource(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: TagInput = parse(input)?;
    let op = b.untag_resource(ctx, &i.resource_name, &i.tag_keys)?;
    Ok(operations_json(&[op], ctx))
}

fn get_operation(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: OperationInput = parse(input)?;
    Ok(json!({ "operation": operation_json(b.operation(&i.operation_id)?, ctx) }))
}

fn get_operations(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: OperationInput = parse(input)?;
    let all: Vec<Json> = b
        .operations_newest_first(None)
        .into_iter()
        .map(|o| operation_json(o, ctx))
        .collect();
    let (items, next) = page(all, i.page_token.as_deref())?;
    Ok(with_token(json!({ "operations": items }), next))
}

fn get_operations_for_resource(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: OperationInput = parse(input)?;
    if i.resource_name.is_empty() {
        return Err(invalid_input("resourceName is required").into());
    }
    let all: Vec<Json> = b
        .operations_newest_first(Some(&i.resource_name))
        .into_iter()
        .map(|o| operation_json(o, ctx))
        .collect();
    let (items, next) = page(all, i.page_token.as_deref())?;
    let mut j = json!({ "operations": items });
    if let Some(t) = next {
        j["nextPageCount"] = json!(t);
        j["nextPageToken"] = json!(t);
    }
    Ok(j)
}

fn create_load_balancer(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: CreateLoadBalancerInput = parse(input)?;
    let op = b.create_load_balancer(
        ctx,
        NewLoadBalancer {
            name: i.load_balancer_name,
            instance_port: i.instance_port,
            health_check_path: i.health_check_path,
            ip_address_type: i.ip_address_type,
            tags: tag_pairs(i.tags),
        },
    )?;
    Ok(operations_json(&[op], ctx))
}

fn get_load_balancer(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: LoadBalancerInput = parse(input)?;
    let lb = b.load_balancer(&i.load_balancer_name)?;
    Ok(json!({ "loadBalancer": lb_json(lb, b, ctx) }))
}

fn get_load_balancers(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: PageInput = parse(input)?;
    let all: Vec<Json> = b
        .load_balancers
        .values()
        .map(|lb| lb_json(lb, b, ctx))
        .collect();
    let (items, next) = page(all, i.page_token.as_deref())?;
    Ok(with_token(json!({ "loadBalancers": items }), next))
}

fn delete_load_balancer(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: LoadBalancerInput = parse(input)?;
    let op = b.delete_load_balancer(ctx, &i.load_balancer_name)?;
    Ok(operations_json(&[op], ctx))
}

fn update_load_balancer_attribute(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: LoadBalancerInput = parse(input)?;
    let op = b.update_load_balancer_attribute(
        ctx,
        &i.load_balancer_name,
        &i.attribute_name,
        &i.attribute_value,
    )?;
    Ok(operations_json(&[op], ctx))
}

fn attach_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: LoadBalancerInput = parse(input)?;
    let ops = b.attach_instances(ctx, &i.load_balancer_name, &i.instance_names)?;
    Ok(operations_json(&ops, ctx))
}

fn detach_instances(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: LoadBalancerInput = parse(input)?;
    let ops = b.detach_instances(ctx, &i.load_balancer_name, &i.instance_names)?;
    Ok(operations_json(&ops, ctx))
}
