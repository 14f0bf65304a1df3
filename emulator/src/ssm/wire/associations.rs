//! State Manager associations on the wire.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{page, parse, with_next, Answer};
use crate::ssm::associations::{Association, AssociationRequest};
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Target {
    key: String,
    values: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct AssociationInput {
    name: String,
    association_id: String,
    association_name: Option<String>,
    document_version: Option<String>,
    parameters: Option<BTreeMap<String, Vec<String>>>,
    targets: Option<Vec<Target>>,
    instance_id: Option<String>,
    schedule_expression: Option<String>,
    association_filter_list: Vec<Filter>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Filter {
    key: String,
    value: String,
}

fn request(i: AssociationInput) -> AssociationRequest {
    AssociationRequest {
        id: i.association_id,
        name: i.name,
        association_name: i.association_name,
        document_version: i.document_version,
        parameters: i.parameters,
        targets: i
            .targets
            .map(|t| t.into_iter().map(|t| (t.key, t.values)).collect()),
        instance_id: i.instance_id,
        schedule: i.schedule_expression,
    }
}

fn targets_json(a: &Association) -> Json {
    json!(a
        .targets
        .iter()
        .map(|(k, v)| json!({"Key": k, "Values": v}))
        .collect::<Vec<_>>())
}

/// `AssociationDescription`.
fn description(b: &Backend, a: &Association, ctx: &Ctx<'_>) -> Json {
    let counts = b.association_overview(ctx, a);
    let status = if counts.contains_key("Failed") {
        "Failed"
    } else if counts.contains_key("Pending") || counts.is_empty() {
        "Pending"
    } else {
        "Success"
    };
    let mut j = json!({
        "Name": a.name, "AssociationId": a.id, "AssociationVersion": a.version.to_string(),
        "Date": a.created, "LastUpdateAssociationDate": a.updated,
        "DocumentVersion": a.document_version.clone().unwrap_or_else(|| "$DEFAULT".into()),
        "Parameters": a.parameters, "Targets": targets_json(a),
        "Overview": {"Status": status, "DetailedStatus": status, "AssociationStatusAggregatedCount": counts},
        "ApplyOnlyAtCronInterval": false,
    });
    if let Some(n) = &a.association_name {
        j["AssociationName"] = json!(n);
    }
    if let Some(s) = &a.schedule {
        j["ScheduleExpression"] = json!(s);
    }
    if let Some(last) = a
        .applied
        .values()
        .filter_map(|(_, c)| b.commands.iter().find(|x| &x.id == c))
        .map(|c| c.requested)
        .reduce(f64::max)
    {
        j["LastExecutionDate"] = json!(last);
    }
    j
}

pub fn create_association(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: AssociationInput = parse(input)?;
    let a = b.create_association(ctx, request(i))?;
    Ok(json!({"AssociationDescription": description(b, &a, ctx)}))
}

pub fn update_association(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: AssociationInput = parse(input)?;
    let a = b.update_association(ctx, request(i))?;
    Ok(json!({"AssociationDescription": description(b, &a, ctx)}))
}

pub fn describe_association(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: AssociationInput = parse(input)?;
    let a = b.association(&i.association_id)?;
    Ok(json!({"AssociationDescription": description(b, &a, ctx)}))
}

pub fn delete_association(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: AssociationInput = parse(input)?;
    b.delete_association(&i.association_id)?;
    Ok(json!({}))
}

/// Filters: `AssociationName`, `Name`, `AssociationId` (others match nothing here).
pub fn list_associations(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: AssociationInput = parse(input)?;
    let all: Vec<Json> = b
        .associations
        .values()
        .filter(|a| {
            i.association_filter_list.iter().all(|f| match f.key.as_str() {
                "AssociationName" => a.association_name.as_deref() == Some(f.value.as_str()),
                "Name" => a.name == f.value,
                "AssociationId" => a.id == f.value,
                _ => false,
            })
        })
        .map(|a| {
            let d = description(b, a, ctx);
            let mut j = json!({"Name": a.name, "AssociationId": a.id, "AssociationVersion": d["AssociationVersion"], "DocumentVersion": d["DocumentVersion"], "Targets": d["Targets"], "Overview": d["Overview"]});
            if let Some(n) = &a.association_name {
                j["AssociationName"] = json!(n);
            }
            j
        })
        .collect();
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 50)?;
    Ok(with_next(json!({"Associations": items}), next))
}

pub fn describe_instance_associations_status(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    input: &Json,
) -> Answer {
    let i: AssociationInput = parse(input)?;
    let all: Vec<Json> = b
        .node_association_statuses(ctx, i.instance_id.as_deref().unwrap_or(""))?
        .into_iter()
        .map(|s| {
            let mut j = json!({
                "AssociationId": s.association_id, "Name": s.name, "DocumentVersion": s.document_version,
                "AssociationVersion": s.association_version.to_string(), "InstanceId": i.instance_id, "ExecutionDate": s.date,
                "Status": s.status, "DetailedStatus": s.detailed,
                "ExecutionSummary": format!("1 out of 1 plugin processed, {}", s.status),
            });
            if let Some(n) = s.association_name {
                j["AssociationName"] = json!(n);
            }
            if let Some(e) = s.error {
                j["ErrorCode"] = json!(e);
            }
            j
        })
        .collect();
    let (items, next) = page(all, i.next_token.as_deref(), i.max_results, 50)?;
    Ok(with_next(
        json!({"InstanceAssociationStatusInfos": items}),
        next,
    ))
}
