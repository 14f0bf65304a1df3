//! Small helpers resources share: the configured provider and value access.
use std::collections::BTreeMap;
use std::sync::Arc;

use tfplugin::{Diagnostics, Value};

use crate::config::Configured;
use crate::Shared;

/// The configured provider, or the diagnostic that it is not.
pub fn configured(shared: &Shared) -> Result<Arc<Configured>, Diagnostics> {
    shared.read().expect("config lock").clone().ok_or_else(|| {
        let mut d = Diagnostics::new();
        d.error(
            "Provider not configured",
            "The hastack provider was not configured before this resource was used.",
        );
        d
    })
}

pub fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

pub fn num(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// A known map of strings (null, unknown or another type: empty).
pub fn string_map(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// One error diagnostic.
pub fn error(summary: &str, detail: String) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(summary, detail);
    d
}
