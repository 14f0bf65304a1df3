//! Terraform values: the native side of `DynamicValue`.
//!
//! Values are decoded against a [`Type`] (msgpack carries no type for most
//! values). Numbers are arbitrary-precision decimals, so nothing Terraform
//! sends is rounded.
mod json;
mod model;
mod msgpack;
mod types;

use std::collections::BTreeMap;

pub use bigdecimal::BigDecimal;
pub use model::{Attr, Known};
pub use types::Type;

/// A value could not be decoded, encoded or converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl ValueError {
    pub fn new(msg: impl Into<String>) -> Self {
        ValueError(msg.into())
    }
}

/// A Terraform value, possibly null or not yet known.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. Carries the raw msgpack refinement payload (ext 12) if any,
    /// so a refined unknown goes back to Terraform exactly as it came.
    Unknown(Option<Vec<u8>>),
    Bool(bool),
    Number(BigDecimal),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A known value of an attribute typed `dynamic`: it keeps its concrete type.
    Dynamic(Box<Type>, Box<Value>),
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(None)
    }
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn number(n: impl Into<BigDecimal>) -> Value {
        Value::Number(n.into())
    }
    pub fn object<I, S>(attrs: I) -> Value
    where
        I: IntoIterator<Item = (S, Value)>,
        S: Into<String>,
    {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// The attribute `name` of an object value (`Null` when absent or when this is not an object).
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            Value::Dynamic(_, v) => v.get(name),
            _ => &NULL,
        }
    }

    /// Mutable access to an object attribute (inserting null when absent).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => Some(m.entry(name.to_string()).or_insert(Value::Null)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic(_, v) => v.as_str(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&BigDecimal> {
        match self {
            Value::Number(n) => Some(n),
            Value::Dynamic(_, v) => v.as_number(),
            _ => None,
        }
    }

    /// The number as an `i64` when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        use bigdecimal::ToPrimitive;
        let n = self.as_number()?;
        if n.is_integer() {
            n.to_i64()
        } else {
            None
        }
    }

    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            Value::Dynamic(_, v) => v.elements(),
            _ => None,
        }
    }

    /// Decode Terraform's msgpack encoding of a value of type `ty`.
    pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        msgpack::decode(bytes, ty)
    }

    /// Encode as Terraform's msgpack for type `ty`.
    pub fn to_msgpack(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        msgpack::encode(self, ty)
    }

    /// Decode Terraform's JSON encoding of a value of type `ty` (state files, `DynamicValue.json`).
    pub fn from_json_bytes(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        let j: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ValueError::new(format!("invalid JSON value: {e}")))?;
        json::from_json(&j, ty)
    }

    /// Build a value of type `ty` from JSON. Object attributes missing from the JSON are null.
    pub fn from_json(j: &serde_json::Value, ty: &Type) -> Result<Value, ValueError> {
        json::from_json(j, ty)
    }

    /// Decode stored state JSON; attributes the current type lacks are dropped.
    pub fn from_state_json(j: &serde_json::Value, ty: &Type) -> Result<Value, ValueError> {
        json::from_state_json(j, ty)
    }

    /// The JSON form of a wholly known value.
    pub fn to_json(&self) -> Result<serde_json::Value, ValueError> {
        json::to_json(self)
    }

    /// Decode into a plain Rust model through serde (see [`Known`] for unknown values). An
    /// error names the attribute's path.
    pub fn to_model<T: serde::de::DeserializeOwned>(&self) -> Result<T, ValueError> {
        let j = json::to_model_json(self)?;
        serde_path_to_error::deserialize(j).map_err(|e| {
            let path = e.path().to_string();
            ValueError::new(if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            })
        })
    }

    /// Build a value of type `ty` from a plain Rust model. A model field the type lacks is an
    /// error; an attribute the model leaves out is null.
    pub fn from_model<T: serde::Serialize>(model: &T, ty: &Type) -> Result<Value, ValueError> {
        let j = serde_json::to_value(model).map_err(|e| ValueError::new(e.to_string()))?;
        json::from_json(&j, ty)
    }
}

#[cfg(test)]
mod tests;
