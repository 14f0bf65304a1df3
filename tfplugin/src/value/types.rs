//! cty types as Terraform describes them on the wire (JSON type expressions).
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::ValueError;

/// A Terraform (cty) type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Any type: values carry their own type on the wire.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object {
        attrs: BTreeMap<String, Type>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn object<I, S>(attrs: I) -> Type
    where
        I: IntoIterator<Item = (S, Type)>,
        S: Into<String>,
    {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// The JSON type expression Terraform uses in schemas and dynamic values.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => Json::Array(vec!["list".into(), t.to_json()]),
            Type::Set(t) => Json::Array(vec!["set".into(), t.to_json()]),
            Type::Map(t) => Json::Array(vec!["map".into(), t.to_json()]),
            Type::Object { attrs, optional } => {
                let obj = attrs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect();
                let mut parts = vec!["object".into(), Json::Object(obj)];
                if !optional.is_empty() {
                    parts.push(Json::Array(
                        optional.iter().map(|s| Json::from(s.as_str())).collect(),
                    ));
                }
                Json::Array(parts)
            }
            Type::Tuple(ts) => Json::Array(vec![
                "tuple".into(),
                Json::Array(ts.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("type JSON always serialises")
    }

    pub fn from_json_bytes(b: &[u8]) -> Result<Type, ValueError> {
        let j: Json = serde_json::from_slice(b)
            .map_err(|e| ValueError::new(format!("type is not JSON: {e}")))?;
        Type::from_json(&j)
    }

    pub fn from_json(j: &Json) -> Result<Type, ValueError> {
        let bad = || ValueError::new(format!("unsupported type expression {j}"));
        match j {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            Json::Array(parts) if parts.len() >= 2 => {
                let kind = parts[0].as_str().ok_or_else(bad)?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(&parts[1])?)),
                    "set" => Ok(Type::set(Type::from_json(&parts[1])?)),
                    "map" => Ok(Type::map(Type::from_json(&parts[1])?)),
                    "object" => {
                        let obj = parts[1].as_object().ok_or_else(bad)?;
                        let mut attrs = BTreeMap::new();
                        for (k, v) in obj {
                            attrs.insert(k.clone(), Type::from_json(v)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(Json::Array(opts)) = parts.get(2) {
                            for o in opts {
                                optional.insert(o.as_str().ok_or_else(bad)?.to_string());
                            }
                        }
                        Ok(Type::Object { attrs, optional })
                    }
                    "tuple" => {
                        let elems = parts[1].as_array().ok_or_else(bad)?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let cases = [
            ("primitive", r#""string""#),
            ("list", r#"["list","number"]"#),
            ("nested", r#"["map",["set","bool"]]"#),
            (
                "object",
                r#"["object",{"a":"string","b":["list","dynamic"]}]"#,
            ),
            (
                "object_optional",
                r#"["object",{"a":"string","b":"number"},["b"]]"#,
            ),
            ("tuple", r#"["tuple",["string","number"]]"#),
        ];
        for (name, text) in cases {
            let t =
                Type::from_json_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                String::from_utf8(t.to_json_bytes()).unwrap(),
                text,
                "{name}"
            );
        }
    }

    #[test]
    fn rejects_unknown_type() {
        assert!(Type::from_json_bytes(br#""float""#).is_err());
        assert!(Type::from_json_bytes(br#"["list"]"#).is_err());
    }
}
