//! Activations and managed nodes on the wire.
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{page, parse, tag_map, tags_json, with_next, Answer, Tag};
use crate::ssm::activations::{ping_status, Activation, Filter, NewActivation, Node};
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct ActivationInput {
    iam_role: String,
    registration_limit: Option<i64>,
    expiration_date: Option<f64>,
    description: String,
    default_instance_name: String,
    tags: Vec<Tag>,
    activation_id: String,
    filters: Vec<ActivationFilter>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct ActivationFilter {
    filter_key: String,
    filter_values: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct NodeInput {
    instance_id: String,
    filters: Vec<NodeFilter>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct NodeFilter {
    key: String,
    values: Vec<String>,
}

fn activation_json(a: &Activation, ctx: &Ctx<'_>) -> Json {
    json!({
        "ActivationId": a.id, "Description": a.description, "DefaultInstanceName": a.default_instance_name,
        "IamRole": a.iam_role, "RegistrationLimit": a.registration_limit, "RegistrationsCount": a.registrations,
        "ExpirationDate": a.expiration, "Expired": ctx.now >= a.expiration, "CreatedDate": a.created, "Tags": tags_json(&a.tags),
    })
}

fn node_json(n: &Node, ctx: &Ctx<'_>) -> Json {
    json!({
        "InstanceId": n.id, "PingStatus": ping_status(n, ctx.hosts), "LastPingDateTime": n.last_ping,
        "AgentVersion": "3.3.0.0-hastack-local", "IsLatestVersion": true, "PlatformType": "Linux",
        "PlatformName": "Debian GNU/Linux", "PlatformVersion": "12", "ActivationId": n.activation_id,
        "IamRole": n.iam_role, "RegistrationDate": n.registered, "ResourceType": "ManagedInstance",
        "Name": n.name, "IPAddress": n.ip, "ComputerName": n.computer_name, "SourceId": n.id, "SourceType": "AWS::SSM::ManagedInstance",
    })
}

pub fn create_activation(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: ActivationInput = parse(input)?;
    let a = b.create_activation(
        ctx.now,
        NewActivation {
            iam_role: i.iam_role,
            registration_limit: i.registration_limit,
            expiration: i.expiration_date,
            description: i.description,
            default_instance_name: i.default_instance_name,
            tags: tag_map(i.tags),
        },
    )?;
    Ok(json!({"ActivationId": a.id, "ActivationCode": a.code}))
}

pub fn describe_activations(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: ActivationInput = parse(input)?;
    let filters: Vec<Filter> = i
        .filters
        .into_iter()
        .map(|f| (f.filter_key, f.filter_values))
        .collect();
    let all: Vec<Json> = b
        .activations_matching(&filters)
        .into_iter()
        .map(|a| activation_json(a, ctx))
        .collect();
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 50)?;
    Ok(with_next(json!({"ActivationList": items}), next))
}

pub fn delete_activation(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: ActivationInput = parse(input)?;
    b.delete_activation(&i.activation_id)?;
    Ok(json!({}))
}

pub fn describe_instance_information(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: NodeInput = parse(input)?;
    let filters: Vec<Filter> = i.filters.into_iter().map(|f| (f.key, f.values)).collect();
    b.record_pings(ctx.now, ctx.hosts);
    let all: Vec<Json> = b
        .nodes_matching(ctx, &filters)?
        .into_iter()
        .map(|n| node_json(n, ctx))
        .collect();
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 50)?;
    Ok(with_next(json!({"InstanceInformationList": items}), next))
}

pub fn deregister_managed_instance(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: NodeInput = parse(input)?;
    b.deregister_managed_instance(&i.instance_id)?;
    Ok(json!({}))
}
