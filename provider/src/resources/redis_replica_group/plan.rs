//! Plan time: checks naming the attribute, and what an apply will change.
use tfplugin::typed::{Plan, Planned};
use tfplugin::{Attr, AttributePath, Diagnostics, Known};

use super::model::Model;
use super::node::{owned, safe, ROTATE, SET};
use crate::config::Configured;
use crate::resources::common::{check_tags, merged_tags};

pub const MIN_COUNT: i64 = 3;
pub const MAX_COUNT: i64 = 9;

fn valid_name(n: &str) -> bool {
    (1..=40).contains(&n.len())
        && n.starts_with(|c: char| c.is_ascii_alphabetic())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks that need no AWS call.
pub fn validate(c: &Model) -> Diagnostics {
    let mut d = Diagnostics::new();
    let root = AttributePath::root;
    if let Some(n) = c.name.value() {
        if !valid_name(n) {
            d.attribute_error(
                root("name"),
                "Invalid name",
                format!("{n:?} must be 1–40 letters, digits, '-' or '_', starting with a letter."),
            );
        }
    }
    if let Some(n) = c.instance_count.value() {
        if !n
            .as_i64()
            .is_some_and(|n| (MIN_COUNT..=MAX_COUNT).contains(&n))
        {
            d.attribute_error(root("instance_count"), "Invalid instance count", format!("instance_count is {n}; it must be a whole number from {MIN_COUNT} to {MAX_COUNT}: Sentinel needs a majority of members to promote a replica."));
        }
    }
    if let Some(zones) = c.availability_zones.value() {
        if zones.is_empty() {
            d.attribute_error(root("availability_zones"), "No availability zones", "availability_zones must list at least one zone (or be left out for every zone of the region).");
        }
    }
    for (key, v) in [
        ("blueprint_id", &c.blueprint_id),
        ("bundle_id", &c.bundle_id),
        ("ssm_role", &c.ssm_role),
    ] {
        if v.value().is_some_and(|v| v.trim().is_empty()) {
            d.attribute_error(
                root(key),
                "Empty value",
                format!("{key} must not be empty."),
            );
        }
    }
    let count = c.count();
    if let Some(s) = c.sentinel.value() {
        let at = |k: &str| root("sentinel").attr(k);
        if let Some(q) = &s.quorum {
            let ok = q
                .as_i64()
                .is_some_and(|q| q >= 1 && count.is_none_or(|n| q <= n));
            if !ok {
                d.attribute_error(at("quorum"), "Invalid quorum", format!("sentinel.quorum is {q}; it must be a whole number from 1 to instance_count."));
            }
        }
        for (k, v, min, max) in [
            ("down_after", &s.down_after, 100u128, 3_600_000u128),
            ("failover_timeout", &s.failover_timeout, 1000, 86_400_000),
        ] {
            if let Some(v) = v {
                match tfplugin::timeouts::parse_duration(v) {
                    Ok(x) if (min..=max).contains(&x.as_millis()) => {}
                    Ok(_) => d.attribute_error(
                        at(k),
                        "Duration out of range",
                        format!("sentinel.{k} is {v:?}; it must be from {min} ms to {max} ms."),
                    ),
                    Err(e) => d.attribute_error(
                        at(k),
                        "Invalid duration",
                        format!("sentinel.{k} is {v:?}: {e}. Use e.g. \"1500ms\" or \"30s\"."),
                    ),
                }
            }
        }
        if let Some(p) = &s.parallel_syncs {
            if p.as_i64().is_none_or(|p| p < 1) {
                d.attribute_error(
                    at("parallel_syncs"),
                    "Invalid parallel_syncs",
                    format!("sentinel.parallel_syncs is {p}; it must be a whole number ≥ 1."),
                );
            }
        }
    }
    for (k, v, min, max) in [
        ("min_replicas_to_write", &c.min_replicas_to_write, 0, 8),
        ("min_replicas_max_lag", &c.min_replicas_max_lag, 1, 60),
    ] {
        if let Some(n) = v.value() {
            if !n.as_i64().is_some_and(|n| (min..=max).contains(&n)) {
                d.attribute_error(
                    root(k),
                    "Out of range",
                    format!("{k} is {n}; it must be a whole number from {min} to {max}."),
                );
            }
        }
    }
    if let (Some(w), Some(n)) = (
        c.min_replicas_to_write.value().and_then(|n| n.as_i64()),
        count,
    ) {
        if w > n - 1 {
            d.attribute_error(root("min_replicas_to_write"), "More replicas than the group has", format!("min_replicas_to_write is {w} but the group has {} replicas: the primary would refuse every write.", n - 1));
        }
    }
    if let Some(p) = c.maxmemory_policy.value() {
        const POLICIES: [&str; 8] = [
            "noeviction",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ];
        if !POLICIES.contains(&p.as_str()) {
            d.attribute_error(
                root("maxmemory_policy"),
                "Invalid maxmemory policy",
                format!("{p:?} is not one of {}.", POLICIES.join(", ")),
            );
        }
    }
    if let Some(t) = c.auth_token_wo.value() {
        if !(16..=128).contains(&t.len()) || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
            // Never echo the token.
            d.attribute_error(
                root("auth_token_wo"),
                "Invalid auth token",
                "auth_token_wo must be 16–128 letters and digits.",
            );
        }
        if c.auth_token_wo_version.is_null() {
            d.attribute_error(root("auth_token_wo_version"), "Missing version", "Set auth_token_wo_version with auth_token_wo (and change it to write a new token): write-only values are not stored, so the version is how the provider sees a change.");
        }
    }
    if let Some(s) = c.auth_token_update_strategy.value() {
        if s != ROTATE && s != SET {
            d.attribute_error(
                root("auth_token_update_strategy"),
                "Invalid auth token update strategy",
                format!("{s:?} is not \"rotate\" (the previous token stays valid) or \"set\" (only the current one)."),
            );
        }
    }
    if let Some(params) = c.parameters.value() {
        for (k, v) in params {
            let at = root("parameters").key(k);
            if owned(k) {
                d.attribute_error(at, "Setting owned by hastack", format!("{k:?} is set by hastack (replication, auth, persistence and network settings, and those with their own attribute) and cannot be overridden."));
            } else if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                || v.is_empty()
                || !safe(v)
            {
                d.attribute_error(at, "Invalid setting", format!("parameters[{k:?}]: names are lowercase letters, digits and '-'; values are letters, digits, spaces and -_./: (not empty)."));
            }
        }
    }
    if let Some(tags) = c.tags.value() {
        check_tags(tags, root("tags"), &mut d);
    }
    d
}

/// Whether the plan changes which instances are members.
fn members_change(prior: &Model, planned: &Model) -> bool {
    prior.instance_count != planned.instance_count
        || prior.blueprint_id != planned.blueprint_id
        || prior.bundle_id != planned.bundle_id
        || !matches!(&planned.availability_zones, Known::Known(_))
        || prior.availability_zones != planned.availability_zones
}

pub async fn modify(req: Plan<'_, Configured, Model>) -> Planned<Model> {
    let mut planned = req.planned;
    let mut d = Diagnostics::new();
    if let Known::Known(Some(n)) = &planned.name {
        planned.id = Attr::some(n.clone());
    }
    if let Some(cfg) = req.client {
        if let Known::Known(tags) = &planned.tags {
            planned.tags_all = Attr::some(merged_tags(&cfg.default_tags, tags.as_ref()));
        }
    }
    if let Some(prior) = &req.prior {
        let rotating = !planned.auth_token_wo_version.is_null()
            && prior.auth_token_wo_version != planned.auth_token_wo_version;
        if rotating {
            // A new token version: the sidecar pins it, so apps re-read it.
            planned.sidecar = Known::Unknown;
            if planned
                .auth_token_update_strategy
                .value()
                .map(String::as_str)
                == Some(SET)
            {
                d.attribute_warning(
                    AttributePath::root("auth_token_update_strategy"),
                    "The previous auth token stops working in this apply",
                    "With auth_token_update_strategy = \"set\", clients still using the previous token are refused as soon as the members change. Use \"rotate\" (the default) to keep both valid until the clients have switched, then \"set\".",
                );
            }
        }
        if members_change(prior, &planned) {
            planned.sidecar = Known::Unknown;
            planned.sentinel_endpoints = Known::Unknown;
        }
        // New instances for every member: the one-at-a-time move (as the MariaDB set does it)
        // is not reliable for Redis yet, and the instance group's rolling replacement would
        // delete each member before its successor is configured. Refused before anything moves.
        let moves: [(&str, bool); 3] = [
            ("blueprint_id", prior.blueprint_id != planned.blueprint_id),
            ("bundle_id", prior.bundle_id != planned.bundle_id),
            (
                "availability_zones",
                matches!(&planned.availability_zones, Known::Known(Some(_)))
                    && prior.availability_zones != planned.availability_zones,
            ),
        ];
        for (attr, changed) in moves {
            if changed {
                d.attribute_error(
                    AttributePath::root(attr),
                    "Moving a running group to new instances is not supported yet",
                    format!("Changing {attr} would replace every member, and hastack cannot yet do that one member at a time without risking the group's data. Keep {attr} as it is. To change it, create a new group beside this one and move the data, or replace the group (terraform apply -replace; its data is lost)."),
                );
            }
        }
        // An automatic failover since the last apply: say so, change nothing.
        let configured = !req.config.primary.is_null();
        if let Some(w) = crate::resources::replica::moved(
            &req.private,
            prior.current_primary.value(),
            configured,
        ) {
            d.attribute_warning(
                root_primary(),
                "The primary has moved",
                format!("Sentinel: {w}"),
            );
        }
    }
    Planned {
        planned,
        requires_replace: Vec::new(),
        private: req.private,
        diagnostics: d,
    }
}

fn root_primary() -> AttributePath {
    AttributePath::root("primary")
}
