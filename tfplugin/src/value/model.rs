//! Typed models: a resource's configuration, plan and state as a plain serde struct.
//!
//! `Value::to_model` and `Value::from_model` go through JSON. Null is `Option::None`; a value
//! not known until apply is [`Known::Unknown`]. Inside that JSON an unknown value is a private
//! marker object that only [`Known`] reads and writes, so a plain field (`String`, `i64`, …)
//! that meets an unknown value fails with the attribute's path instead of silently becoming null.
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

/// The key of the marker object that stands for an unknown value inside model JSON. It holds a
/// NUL, which no HCL attribute or map key a user writes can contain.
pub(super) const UNKNOWN_KEY: &str = "\u{0}tfplugin:unknown";

pub(super) fn unknown_marker() -> Json {
    let mut m = serde_json::Map::new();
    m.insert(UNKNOWN_KEY.to_string(), Json::Bool(true));
    Json::Object(m)
}

pub(super) fn is_unknown_marker(j: &Json) -> bool {
    matches!(j, Json::Object(m) if m.len() == 1 && m.contains_key(UNKNOWN_KEY))
}

fn holds_unknown(j: &Json) -> bool {
    is_unknown_marker(j)
        || match j {
            Json::Array(a) => a.iter().any(holds_unknown),
            Json::Object(m) => m.values().any(holds_unknown),
            _ => false,
        }
}

/// A value that may not be known until apply (a computed attribute in a plan, or configuration
/// that depends on another resource). Null is expressed inside: `Known<Option<T>>`.
///
/// Reading a collection with an unknown element gives `Unknown` for the whole attribute (as
/// `Value::is_wholly_known` does); the typed layer keeps the original value for attributes a
/// resource leaves unchanged, so nothing partially known is lost on the way back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known<T> {
    Unknown,
    Known(T),
}

/// What most attributes are: null, unknown or a value.
pub type Attr<T> = Known<Option<T>>;

/// The default is a known default value (null for `Attr`), so partial states (after import,
/// say) carry nothing unknown.
impl<T: Default> Default for Known<T> {
    fn default() -> Self {
        Known::Known(T::default())
    }
}

impl<T> Known<T> {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Known::Unknown)
    }

    /// The value when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Known::Known(t) => Some(t),
            Known::Unknown => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Known::Known(t) => Some(t),
            Known::Unknown => None,
        }
    }

    pub fn as_ref(&self) -> Known<&T> {
        match self {
            Known::Known(t) => Known::Known(t),
            Known::Unknown => Known::Unknown,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Known<U> {
        match self {
            Known::Known(t) => Known::Known(f(t)),
            Known::Unknown => Known::Unknown,
        }
    }
}

impl<T> Known<Option<T>> {
    /// The value when known and not null.
    pub fn value(&self) -> Option<&T> {
        self.known().and_then(Option::as_ref)
    }

    /// A known value (not null).
    pub fn some(t: T) -> Self {
        Known::Known(Some(t))
    }

    /// Known to be null.
    pub fn null() -> Self {
        Known::Known(None)
    }

    /// Null (known to be absent).
    pub fn is_null(&self) -> bool {
        matches!(self, Known::Known(None))
    }
}

impl<T> From<T> for Known<T> {
    fn from(t: T) -> Self {
        Known::Known(t)
    }
}

impl<T: Serialize> Serialize for Known<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Known::Known(t) => t.serialize(s),
            Known::Unknown => unknown_marker().serialize(s),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Known<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let j = Json::deserialize(d)?;
        if is_unknown_marker(&j) {
            return Ok(Known::Unknown);
        }
        match T::deserialize(j.clone()) {
            Ok(t) => Ok(Known::Known(t)),
            Err(_) if holds_unknown(&j) => Ok(Known::Unknown),
            Err(e) => Err(D::Error::custom(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::value::{Type, Value, ValueError};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct M {
        name: String,
        count: Option<i64>,
        arn: Known<Option<String>>,
        tags: Option<BTreeMap<String, String>>,
        ports: Option<Vec<P>>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct P {
        from_port: i64,
    }

    fn ty() -> Type {
        Type::object([
            ("name", Type::String),
            ("count", Type::Number),
            ("arn", Type::String),
            ("tags", Type::map(Type::String)),
            (
                "ports",
                Type::list(Type::object([("from_port", Type::Number)])),
            ),
        ])
    }

    #[test]
    fn unknown_round_trips_through_known() {
        let m = M {
            name: "a".into(),
            count: None,
            arn: Known::Unknown,
            tags: None,
            ports: Some(vec![P { from_port: 80 }]),
        };
        let v = Value::from_model(&m, &ty()).unwrap();
        assert!(v.get("arn").is_unknown());
        assert!(v.get("count").is_null());
        let back: M = v.to_model().unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn null_and_known_values() {
        let v = Value::object([
            ("name", Value::string("a")),
            ("count", Value::number(3)),
            ("arn", Value::Null),
            (
                "tags",
                Value::Map([("k".into(), Value::string("v"))].into()),
            ),
            ("ports", Value::Null),
        ]);
        let m: M = v.to_model().unwrap();
        assert_eq!(m.count, Some(3));
        assert!(m.arn.is_null());
        assert_eq!(m.tags.unwrap()["k"], "v");
        assert_eq!(m.ports, None);
    }

    #[test]
    fn unknown_in_a_plain_field_names_the_attribute() {
        let v = Value::object([
            ("name", Value::string("a")),
            ("count", Value::unknown()),
            ("arn", Value::Null),
        ]);
        let e = v.to_model::<M>().unwrap_err().to_string();
        assert!(e.contains("count"), "{e}");
    }

    #[test]
    fn a_fraction_for_a_whole_number_names_the_attribute() {
        let v = Value::object([(
            "ports",
            Value::List(vec![Value::object([(
                "from_port",
                Value::number("80.5".parse::<bigdecimal::BigDecimal>().unwrap()),
            )])]),
        )]);
        match v.to_model::<M>() {
            Err(ValueError::NotWholeNumber { path, value }) => {
                assert_eq!(
                    (path.as_str(), value.as_str()),
                    ("ports[0].from_port", "80.5")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_partly_unknown_collection_is_unknown() {
        #[derive(Deserialize)]
        struct L {
            names: Attr<Vec<String>>,
        }
        let v = Value::object([(
            "names",
            Value::List(vec![Value::string("a"), Value::unknown()]),
        )]);
        assert!(v.to_model::<L>().unwrap().names.is_unknown());
        let v = Value::object([("names", Value::List(vec![Value::string("a")]))]);
        assert_eq!(v.to_model::<L>().unwrap().names.value().unwrap(), &["a"]);
    }

    #[test]
    fn a_field_the_schema_lacks_is_an_error() {
        #[derive(Serialize)]
        struct Typo {
            nmae: String,
        }
        let e = Value::from_model(&Typo { nmae: "x".into() }, &ty()).unwrap_err();
        assert!(e.to_string().contains("nmae"), "{e}");
    }
}
