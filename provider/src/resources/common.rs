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

/// The known strings of a list or set (null, unknown or another type: none).
pub fn strings(v: &Value) -> Vec<String> {
    v.elements()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect()
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

/// The tags a resource gets: the provider's default tags, then its own (which win).
pub fn merged_tags(defaults: &BTreeMap<String, String>, own: &Value) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(string_map(own));
    all
}

/// The `tags` attribute for the tags AWS reports (`actual`): everything but default tags left
/// as the provider set them, plus every key the configuration names (`prior_tags`). Null while
/// the configuration has none and nothing else was added.
pub fn own_tags(
    actual: &BTreeMap<String, String>,
    prior_tags: &Value,
    defaults: &BTreeMap<String, String>,
) -> Value {
    let own_keys: Vec<String> = string_map(prior_tags).into_keys().collect();
    let own: BTreeMap<String, String> = actual
        .iter()
        .filter(|(k, v)| own_keys.contains(k) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() && prior_tags.is_null() {
        Value::Null
    } else {
        map_value(&own)
    }
}

/// One error diagnostic.
pub fn error(summary: &str, detail: String) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(summary, detail);
    d
}
