//! Terraform's JSON encoding of values (state, `DynamicValue.json`) and the serde bridge.
//! Numbers are read and written as in `number`; values nest at most [`MAX_DEPTH`] deep
//! (serde_json's own recursion limit already holds JSON read from bytes to that).
use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::Value as Json;

use super::{number, Type, Value, ValueError, MAX_DEPTH};

pub(super) fn from_json(j: &Json, ty: &Type) -> Result<Value, ValueError> {
    decode(j, ty, true, 0)
}

/// Like `from_json`, but object attributes the type lacks are dropped (stored state
/// written by an older schema).
pub(super) fn from_state_json(j: &Json, ty: &Type) -> Result<Value, ValueError> {
    decode(j, ty, false, 0)
}

/// The value of type `ty` inside `depth` containers.
fn decode(j: &Json, ty: &Type, strict: bool, depth: usize) -> Result<Value, ValueError> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    if super::model::is_unknown_marker(j) {
        return Ok(Value::unknown());
    }
    if matches!(j, Json::Array(_) | Json::Object(_)) && depth >= MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    let depth = depth + 1;
    let mismatch = || {
        ValueError::new(format!(
            "JSON {j} does not conform to type {}",
            ty.to_json()
        ))
    };
    match ty {
        Type::Bool => j.as_bool().map(Value::Bool).ok_or_else(mismatch),
        Type::String => j.as_str().map(Value::string).ok_or_else(mismatch),
        Type::Number => {
            let parsed = match j {
                // With serde_json's arbitrary_precision the text is kept as written.
                Json::Number(n) => number::parse(n.as_str()),
                Json::String(s) => number::parse(s),
                _ => return Err(mismatch()),
            };
            match parsed {
                Err(ValueError::Invalid(_)) => Err(mismatch()),
                other => other.map(Value::Number),
            }
        }
        Type::List(et) | Type::Set(et) => {
            let items = j.as_array().ok_or_else(mismatch)?;
            let v = items
                .iter()
                .map(|i| decode(i, et, strict, depth))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(v)
            } else {
                Value::Set(v)
            })
        }
        Type::Tuple(ets) => {
            let items = j
                .as_array()
                .filter(|a| a.len() == ets.len())
                .ok_or_else(mismatch)?;
            Ok(Value::Tuple(
                items
                    .iter()
                    .zip(ets)
                    .map(|(i, t)| decode(i, t, strict, depth))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Type::Map(et) => {
            let obj = j.as_object().ok_or_else(mismatch)?;
            let mut m = BTreeMap::new();
            for (k, v) in obj {
                m.insert(k.clone(), decode(v, et, strict, depth)?);
            }
            Ok(Value::Map(m))
        }
        Type::Object { attrs, .. } => {
            let obj = j.as_object().ok_or_else(mismatch)?;
            if let Some(extra) = obj.keys().find(|k| strict && !attrs.contains_key(*k)) {
                return Err(ValueError::new(format!("unsupported attribute {extra:?}")));
            }
            let mut m = BTreeMap::new();
            for (k, at) in attrs {
                m.insert(
                    k.clone(),
                    obj.get(k)
                        .map(|v| decode(v, at, strict, depth))
                        .transpose()?
                        .unwrap_or(Value::Null),
                );
            }
            Ok(Value::Object(m))
        }
        Type::Dynamic => {
            // Terraform's JSON for a dynamic value: {"value": ..., "type": ...}.
            let obj = j.as_object().ok_or_else(mismatch)?;
            let (Some(v), Some(t)) = (obj.get("value"), obj.get("type")) else {
                return Err(mismatch());
            };
            let t = Type::from_json(t)?;
            Ok(match decode(v, &t, strict, depth)? {
                Value::Null => Value::Null,
                inner => Value::Dynamic(Box::new(t), Box::new(inner)),
            })
        }
    }
}

pub(super) fn to_json(v: &Value) -> Result<Json, ValueError> {
    encode(v, false, 0)
}

/// The JSON a model is read from: unknown values become the marker only `Known` accepts.
pub(super) fn to_model_json(v: &Value) -> Result<Json, ValueError> {
    encode(v, true, 0)
}

/// `v` inside `depth` containers. A dynamic value is written as its inner value.
fn encode(v: &Value, unknown_marker: bool, depth: usize) -> Result<Json, ValueError> {
    let container = matches!(
        v,
        Value::List(_) | Value::Set(_) | Value::Map(_) | Value::Object(_) | Value::Tuple(_)
    );
    if container && depth >= MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    let to_json = |v: &Value| encode(v, unknown_marker, depth + 1);
    Ok(match v {
        Value::Null => Json::Null,
        Value::Unknown(_) if unknown_marker => super::model::unknown_marker(),
        Value::Unknown(_) => return Err(ValueError::new("value is not known yet")),
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => Json::Number(
            serde_json::Number::from_str(&number::text(n)?)
                .map_err(|e| ValueError::new(e.to_string()))?,
        ),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(m) | Value::Object(m) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in m {
                obj.insert(k.clone(), to_json(v)?);
            }
            Json::Object(obj)
        }
        Value::Dynamic(_, inner) => encode(inner, unknown_marker, depth)?,
    })
}
