//! `DynamicValue` decoding (msgpack and JSON) and stored state, against schema types.
//!
//! Input: the first byte picks the type (modulo the list), the rest is the encoded value.
//! Decoding goes through `server::convert::from_dynamic` / `raw_state_json`, as the gRPC
//! handlers do; a decoded value must encode again (`to_dynamic`, what every response does with
//! state the provider read) and decode to itself.
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use tfplugin::server::convert::{from_dynamic, raw_state_json, to_dynamic};
use tfplugin::{Type, Value};

/// A resource schema with every nesting: attributes of each kind, a nested attribute and
/// blocks nested list, set, map, single and group, one inside another.
pub fn resource_schema() -> Schema {
    let listener = Block::new("A listener.")
        .attribute(Attribute::new("port", Type::Number).required())
        .attribute(Attribute::new("protocol", Type::String).optional())
        .block(NestedBlock::new(
            "health",
            Nesting::Single,
            Block::new("Health check.")
                .attribute(Attribute::new("path", Type::String).optional())
                .attribute(Attribute::new("codes", Type::set(Type::Number)).optional()),
        ));
    let block = Block::new("A resource.")
        .attribute(Attribute::new("id", Type::String).computed())
        .attribute(Attribute::new("name", Type::String).required())
        .attribute(Attribute::new("count", Type::Number).optional())
        .attribute(Attribute::new("enabled", Type::Bool).optional())
        .attribute(Attribute::new("tags", Type::map(Type::String)).optional())
        .attribute(Attribute::new("ports", Type::list(Type::Number)).optional())
        .attribute(Attribute::new("meta", Type::Dynamic).optional())
        .attribute(
            Attribute::nested(
                "members",
                Nesting::Set,
                vec![
                    Attribute::new("name", Type::String).required(),
                    Attribute::new("weight", Type::Number).optional(),
                ],
            )
            .optional(),
        )
        .block(NestedBlock::new("listener", Nesting::List, listener))
        .block(NestedBlock::new(
            "label",
            Nesting::Map,
            Block::new("").attribute(Attribute::new("value", Type::String).optional()),
        ))
        .block(NestedBlock::new(
            "timeouts",
            Nesting::Group,
            Block::new("").attribute(Attribute::new("create", Type::String).optional()),
        ));
    Schema::new(1, block)
}

/// An object type with optional attributes and a tuple (what functions and providers' own
/// object attributes use).
fn optional_object() -> Type {
    Type::Object {
        attrs: [
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::list(Type::map(Type::Number))),
            (
                "c".to_string(),
                Type::Tuple(vec![Type::String, Type::Bool, Type::Dynamic]),
            ),
        ]
        .into_iter()
        .collect(),
        optional: ["b".to_string(), "c".to_string()].into_iter().collect(),
    }
}

/// The types a value is decoded against.
pub fn types() -> Vec<Type> {
    vec![
        Type::Dynamic,
        resource_schema().value_type(),
        Type::list(Type::Dynamic),
        Type::map(Type::set(Type::list(Type::String))),
        Type::Tuple(vec![Type::String, Type::Number, Type::Bool, Type::Dynamic]),
        optional_object(),
        Type::Number,
        Type::String,
    ]
}

/// The types state is decoded against: objects, as a resource's state always is.
pub fn state_types() -> Vec<Type> {
    vec![
        resource_schema().value_type(),
        optional_object(),
        Type::object([("id", Type::String), ("value", Type::Dynamic)]),
    ]
}

fn split<'a>(data: &'a [u8], types: &[Type]) -> Option<(Type, &'a [u8])> {
    let (first, rest) = data.split_first()?;
    Some((types[usize::from(*first) % types.len()].clone(), rest))
}

/// What must hold for any value a server decoded: it encodes again (as the response will) and
/// decodes to itself; its JSON and model forms do not panic.
pub fn check_round_trip(v: &Value, ty: &Type, origin: &str) {
    let dv = to_dynamic(v, ty).unwrap_or_else(|e| {
        panic!("a value decoded from {origin} does not encode again: {e}\n  value: {v:?}")
    });
    let back = from_dynamic(Some(&dv), ty).unwrap_or_else(|e| {
        panic!("a value decoded from {origin} does not decode after encoding: {e}\n  value: {v:?}")
    });
    assert_eq!(
        &back, v,
        "msgpack round trip of a value decoded from {origin} changed it"
    );
    if v.is_wholly_known() {
        let _ = v.to_json();
    }
    let _ = v.to_model::<serde_json::Value>();
    let _ = v.as_i64();
}

/// `dynamic_value_msgpack`: a `DynamicValue` carrying msgpack.
pub fn msgpack(data: &[u8]) {
    let Some((ty, bytes)) = split(data, &types()) else {
        return;
    };
    let dv = pb::DynamicValue {
        msgpack: bytes.to_vec(),
        json: Vec::new(),
    };
    match from_dynamic(Some(&dv), &ty) {
        Ok(v) => {
            crate::note(|| format!("ok {}: {v:?}", ty.to_json()));
            check_round_trip(&v, &ty, "msgpack");
        }
        Err(e) => crate::note(|| format!("error {}: {e}", ty.to_json())),
    }
}

/// `dynamic_value_json`: a `DynamicValue` carrying JSON.
pub fn json(data: &[u8]) {
    let Some((ty, bytes)) = split(data, &types()) else {
        return;
    };
    let dv = pb::DynamicValue {
        msgpack: Vec::new(),
        json: bytes.to_vec(),
    };
    match from_dynamic(Some(&dv), &ty) {
        Ok(v) => {
            crate::note(|| format!("ok {}: {v:?}", ty.to_json()));
            check_round_trip(&v, &ty, "JSON");
        }
        Err(e) => crate::note(|| format!("error {}: {e}", ty.to_json())),
    }
}

/// `state_upgrade_json`: UpgradeResourceState's stored state (`RawState.json`) decoded as the
/// server does when the stored version is current (the provider's own upgraders take over only
/// for older versions). Strict decoding (configuration) accepts a subset of what lenient state
/// decoding does, and where both succeed they agree.
pub fn state(data: &[u8]) {
    let Some((ty, bytes)) = split(data, &state_types()) else {
        return;
    };
    let raw = pb::RawState {
        json: bytes.to_vec(),
        ..Default::default()
    };
    let j = match raw_state_json(Some(&raw)) {
        Ok(j) => j,
        Err(e) => return crate::note(|| format!("not JSON: {e}")),
    };
    let lenient = Value::from_state_json(&j, &ty);
    match &lenient {
        Ok(v) => {
            crate::note(|| format!("ok: {v:?}"));
            check_round_trip(v, &ty, "state JSON");
        }
        Err(e) => crate::note(|| format!("error: {e}")),
    }
    if let Ok(strict) = Value::from_json(&j, &ty) {
        match &lenient {
            Ok(v) => assert_eq!(v, &strict, "state and strict JSON decoding disagree"),
            Err(e) => panic!("strict JSON decoding accepts what state decoding refuses: {e}"),
        }
    }
}
