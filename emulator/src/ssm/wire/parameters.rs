//! Parameter Store on the wire.
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{arn, parse, Answer};
use crate::ssm::error::missing;
use crate::ssm::parameters::{PutParameter, Read};
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct PutInput {
    name: String,
    value: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    overwrite: bool,
    description: Option<String>,
    key_id: Option<String>,
    data_type: Option<String>,
    allowed_pattern: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct GetInput {
    name: String,
    names: Vec<String>,
    with_decryption: bool,
}

fn parameter_json(r: &Read, ctx: &Ctx<'_>) -> Json {
    let p = &r.parameter;
    let mut out = json!({
        "Name": p.name, "Type": p.kind, "Value": r.value, "Version": p.version, "LastModifiedDate": p.modified,
        "ARN": arn(ctx, &format!("parameter/{}", p.name.trim_start_matches('/'))), "DataType": p.data_type,
    });
    if let Some(sel) = &p.selector {
        out["Selector"] = json!(sel);
    }
    out
}

pub fn put_parameter(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: PutInput = parse(input)?;
    let version = b.put_parameter(
        ctx.now,
        PutParameter {
            name: i.name,
            value: i.value,
            kind: i.kind,
            overwrite: i.overwrite,
            description: i.description,
            key_id: i.key_id,
            data_type: i.data_type,
            allowed_pattern: i.allowed_pattern,
        },
    )?;
    Ok(json!({"Version": version, "Tier": "Standard"}))
}

pub fn get_parameter(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: GetInput = parse(input)?;
    let r = b.parameter(&i.name, i.with_decryption)?;
    Ok(json!({"Parameter": parameter_json(&r, ctx)}))
}

pub fn get_parameters(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: GetInput = parse(input)?;
    if i.names.is_empty() {
        return Err(missing("Names").into());
    }
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
    for n in i.names {
        match b.read_parameter(&n, i.with_decryption)? {
            Some(r) => found.push(parameter_json(&r, ctx)),
            None => invalid.push(n),
        }
    }
    Ok(json!({"Parameters": found, "InvalidParameters": invalid}))
}

pub fn delete_parameter(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: GetInput = parse(input)?;
    b.delete_parameter(&i.name)?;
    Ok(json!({}))
}
