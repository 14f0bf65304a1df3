//! Protobuf ↔ native conversions. The only module besides `grpc` that sees protobuf types.
use crate::diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::function::{FunctionError, Parameter, Signature};
use crate::proto::tfplugin6 as pb;
use crate::schema::{
    Attribute, AttributeType, Block, IdentitySchema, NestedBlock, Nesting, Schema,
};
use crate::value::{Type, Value, ValueError};

/// Decode a `DynamicValue` (msgpack preferred, JSON accepted; absent means null).
pub fn from_dynamic(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, ValueError> {
    match dv {
        Some(d) if !d.msgpack.is_empty() => Value::from_msgpack(&d.msgpack, ty),
        Some(d) if !d.json.is_empty() => Value::from_json_bytes(&d.json, ty),
        _ => Ok(Value::Null),
    }
}

pub fn to_dynamic(v: &Value, ty: &Type) -> Result<pb::DynamicValue, ValueError> {
    Ok(pb::DynamicValue {
        msgpack: v.to_msgpack(ty)?,
        json: Vec::new(),
    })
}

pub fn path_to_proto(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn diagnostics_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic_to_proto).collect()
}

fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.attribute.as_ref().map(path_to_proto),
    }
}

fn string_kind(s: &str) -> i32 {
    // All our descriptions are Markdown.
    let _ = s;
    pb::StringKind::Markdown as i32
}

pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block, s.version)),
    }
}

fn block_to_proto(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute_to_proto).collect(),
        block_types: b.blocks.iter().map(nested_block_to_proto).collect(),
        description: b.description.clone(),
        description_kind: string_kind(&b.description),
        deprecated: b.deprecated,
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested_type) = match &a.ty {
        AttributeType::Type(t) => (t.to_json_bytes(), None),
        AttributeType::Nested {
            nesting,
            attributes,
        } => (
            Vec::new(),
            Some(pb::schema::Object {
                attributes: attributes.iter().map(attribute_to_proto).collect(),
                nesting: match nesting {
                    Nesting::Single | Nesting::Group => pb::schema::object::NestingMode::Single,
                    Nesting::List => pb::schema::object::NestingMode::List,
                    Nesting::Set => pb::schema::object::NestingMode::Set,
                    Nesting::Map => pb::schema::object::NestingMode::Map,
                } as i32,
            }),
        ),
    };
    let mut description = a.description.clone();
    if !a.deprecation.is_empty() {
        description = format!("{description}\n\n**Deprecated:** {}", a.deprecation);
    }
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description_kind: string_kind(&description),
        description,
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        deprecated: !a.deprecation.is_empty(),
        write_only: a.write_only,
    }
}

fn nested_block_to_proto(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as M;
    pb::schema::NestedBlock {
        type_name: b.type_name.clone(),
        block: Some(block_to_proto(&b.block, 0)),
        nesting: match b.nesting {
            Nesting::Single => M::Single,
            Nesting::List => M::List,
            Nesting::Set => M::Set,
            Nesting::Map => M::Map,
            Nesting::Group => M::Group,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

pub fn identity_schema_to_proto(s: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: a.optional_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

fn parameter_to_proto(p: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: string_kind(&p.description),
    }
}

pub fn signature_to_proto(s: &Signature) -> pb::Function {
    pb::Function {
        parameters: s.parameters.iter().map(parameter_to_proto).collect(),
        variadic_parameter: s.variadic.as_ref().map(parameter_to_proto),
        r#return: Some(pb::function::Return {
            r#type: s.returns.to_json_bytes(),
        }),
        summary: s.summary.clone(),
        description: s.description.clone(),
        description_kind: string_kind(&s.description),
        deprecation_message: s.deprecation.clone(),
    }
}

pub fn function_error_to_proto(e: &FunctionError) -> pb::FunctionError {
    pb::FunctionError {
        text: e.text.clone(),
        function_argument: e.argument,
    }
}

/// Terraform's JSON state for `raw`, or a diagnostic for the legacy flatmap form we never wrote.
pub fn raw_state_json(raw: Option<&pb::RawState>) -> Result<serde_json::Value, String> {
    match raw {
        Some(r) if !r.json.is_empty() => {
            serde_json::from_slice(&r.json).map_err(|e| format!("stored state is not JSON: {e}"))
        }
        Some(r) if !r.flatmap.is_empty() => Err(
            "stored state uses the legacy flatmap format, which this provider never wrote".into(),
        ),
        _ => Ok(serde_json::Value::Null),
    }
}
