//! Terraform values: the native side of `DynamicValue`.
//!
//! Values are decoded against a [`Type`] (msgpack carries no type for most
//! values). Numbers are arbitrary-precision decimals, so nothing Terraform
//! sends is rounded.
mod json;
mod model;
mod msgpack;
mod number;
mod types;

use std::collections::BTreeMap;

pub use bigdecimal::BigDecimal;
pub use model::{Attr, Known};
pub use number::MAX_NUMBER_DIGITS;
pub use types::Type;

/// How deep values may nest: containers (list, set, map, object, tuple, and a dynamic value's
/// type-and-value pair) one inside another. Decoding and encoding recurse once per level, so
/// without a limit a deeply nested dynamic value overflows the stack (20,000 levels, 240 KB of
/// msgpack, overflowed 8 MB; a tokio worker has 2 MB). 128 is serde_json's default recursion
/// limit, which already bounds every value read from JSON (`DynamicValue.json`, stored state);
/// msgpack gets the same bound. Terraform schemas nest a few dozen levels at most.
pub const MAX_DEPTH: usize = 128;

/// A value could not be decoded, encoded or converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Malformed input, or a value that does not conform to its type.
    #[error("{0}")]
    Invalid(String),
    /// A number whose plain decimal form (every digit, as Terraform writes numbers) would
    /// have more than [`MAX_NUMBER_DIGITS`] digits.
    #[error(
        "number {number} is out of range: written out in full it has more than \
         {MAX_NUMBER_DIGITS} digits"
    )]
    NumberOutOfRange {
        /// The number as given, shortened.
        number: String,
    },
    /// Containers nested more than [`MAX_DEPTH`] levels deep.
    #[error(
        "value is nested more than {MAX_DEPTH} levels deep (lists, sets, maps, objects, \
         tuples and dynamic values one inside another)"
    )]
    TooDeep,
    /// A fraction, or a whole number out of range, where the model takes a whole number (e.g.
    /// `1.5` minutes): the user's input, not a provider bug.
    #[error("{path} is {value}: it must be a whole number in range")]
    NotWholeNumber { path: String, value: String },
}

impl ValueError {
    pub fn new(msg: impl Into<String>) -> Self {
        ValueError::Invalid(msg.into())
    }
}

/// The JSON value at a deserializer's error path.
fn at_path<'a>(
    j: &'a serde_json::Value,
    path: &serde_path_to_error::Path,
) -> Option<&'a serde_json::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(j, |v, seg| match seg {
        Segment::Seq { index } => v.get(*index),
        Segment::Map { key } => v.get(key.as_str()),
        _ => None,
    })
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
        number::to_i64(self.as_number()?)
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
        serde_path_to_error::deserialize(&j).map_err(|e| {
            let path = e.path().to_string();
            // A number the model's integer field cannot hold (a fraction, or out of range):
            // the user's input, named as such.
            if let Some(n) = at_path(&j, e.path()).filter(|n| n.is_number()) {
                return ValueError::NotWholeNumber {
                    path,
                    value: n.to_string(),
                };
            }
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
