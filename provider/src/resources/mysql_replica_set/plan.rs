//! Plan time: checks naming the attribute, and what an apply will change.
use tfplugin::typed::{Plan, Planned};
use tfplugin::{Attr, AttributePath, Diagnostics, Known};

use super::model::Model;
use super::node::owned;
use crate::config::Configured;
use crate::resources::common::{check_tags, merged_tags};
use crate::resources::replica::{moved, safe};

pub const MIN_COUNT: i64 = 3;
pub const MAX_COUNT: i64 = 9;

const PRIVILEGES: [&str; 19] = [
    "ALL",
    "ALL PRIVILEGES",
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
];

fn ident(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks that need no AWS call.
pub fn validate(c: &Model) -> Diagnostics {
    let mut d = Diagnostics::new();
    let root = AttributePath::root;
    if let Some(n) = c.name.value() {
        let ok = (1..=40).contains(&n.len())
            && n.starts_with(|c: char| c.is_ascii_alphabetic())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            d.attribute_error(
                root("name"),
                "Invalid name",
                format!("{n:?} must be 1–40 letters, digits, '-' or '_', starting with a letter."),
            );
        }
    }
    if let Some(e) = c.engine.value() {
        if e != "mariadb" {
            d.attribute_error(root("engine"), "Unsupported engine", format!("engine {e:?}: only \"mariadb\" (MariaDB 10.11) can be installed from the OS packages today; \"mysql\" is reserved for MySQL 8."));
        }
    }
    if let Some(n) = c.instance_count.value() {
        if !n
            .as_i64()
            .is_some_and(|n| (MIN_COUNT..=MAX_COUNT).contains(&n))
        {
            d.attribute_error(root("instance_count"), "Invalid instance count", format!("instance_count is {n}; it must be a whole number from {MIN_COUNT} to {MAX_COUNT}: etcd needs three members for a quorum, and semi-synchronous replication a replica in reach when one fails."));
        }
    }
    if c.availability_zones.value().is_some_and(Vec::is_empty) {
        d.attribute_error(root("availability_zones"), "No availability zones", "availability_zones must list at least one zone (or be left out for every zone of the region).");
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
    for (key, v, min, max) in [
        (
            "failure_detection_timeout",
            &c.failure_detection_timeout,
            3u64,
            60u64,
        ),
        ("failover_block_period", &c.failover_block_period, 0, 86_400),
    ] {
        if let Some(s) = v.value() {
            match tfplugin::timeouts::parse_duration(s) {
                Ok(x) if (min..=max).contains(&x.as_secs()) && x.subsec_nanos() == 0 => {}
                Ok(_) => d.attribute_error(
                    root(key),
                    "Duration out of range",
                    format!("{key} is {s:?}; it must be whole seconds from {min}s to {max}s."),
                ),
                Err(e) => d.attribute_error(
                    root(key),
                    "Invalid duration",
                    format!("{key} is {s:?}: {e}."),
                ),
            }
        }
    }
    let dbs = c.databases.value().cloned().unwrap_or_default();
    for (i, db) in dbs.iter().enumerate() {
        if !ident(db, 64)
            || ["mysql", "sys", "information_schema", "performance_schema"].contains(&db.as_str())
        {
            d.attribute_error(
                root("databases").index(i as i64),
                "Invalid database",
                format!("{db:?} must be 1–64 letters, digits or '_', and not a system database."),
            );
        }
    }
    if let Some(users) = c.users.value() {
        for (i, u) in users.iter().enumerate() {
            let at = root("users").index(i as i64);
            if !ident(&u.name, 32) || u.name.starts_with("hastack") || u.name == "root" {
                d.attribute_error(
                    at.clone().attr("name"),
                    "Invalid user name",
                    format!(
                        "{:?} must be 1–32 letters, digits or '_', and not root or hastack*.",
                        u.name
                    ),
                );
            }
            if users[..i].iter().any(|o| o.name == u.name) {
                d.attribute_error(
                    at.clone().attr("name"),
                    "Duplicate user",
                    format!("{} is listed twice.", u.name),
                );
            }
            if c.databases.value().is_some() && !dbs.contains(&u.database) {
                d.attribute_error(
                    at.clone().attr("database"),
                    "Unknown database",
                    format!("{:?} is not in databases.", u.database),
                );
            }
            if let Some(pw) = &u.password_wo {
                if !password_ok(pw) {
                    // Never the value itself: it is a secret.
                    d.attribute_error(
                        at.clone().attr("password_wo"),
                        "Invalid password",
                        "password_wo must be 16–128 characters: letters, digits or -_.~+=:@%^*!#, (no quotes, backslashes, spaces or $).",
                    );
                }
                if u.password_version.is_none() {
                    d.attribute_error(
                        at.clone().attr("password_version"),
                        "Missing version",
                        "Set password_version with password_wo (and change it to write a new password): write-only values are not stored, so the version is how the provider sees a change.",
                    );
                }
            }
            for p in u.privileges() {
                if !PRIVILEGES.contains(&p.trim().to_uppercase().as_str()) {
                    d.attribute_error(at.clone().attr("privileges"), "Invalid privilege", format!("{p:?} is not a database privilege ({}). Global privileges (SUPER, READ ONLY ADMIN, …) are never granted: they would let the app write on a read-only member.", PRIVILEGES.join(", ")));
                }
            }
        }
    }
    if let Some(params) = c.parameters.value() {
        for (k, v) in params {
            let at = root("parameters").key(k);
            if owned(k) {
                d.attribute_error(at, "Setting owned by hastack", format!("{k:?} is set by hastack (replication, durability, binlog, read_only, network) and cannot be overridden."));
            } else if !k
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                || v.is_empty()
                || !safe(v)
            {
                d.attribute_error(at, "Invalid setting", format!("parameters[{k:?}]: names are lowercase letters, digits and '_'; values letters, digits and -_./: (not empty)."));
            }
        }
    }
    if let Some(tags) = c.tags.value() {
        check_tags(tags, root("tags"), &mut d);
    }
    d
}

pub async fn modify(req: Plan<'_, Configured, Model>) -> Planned<Model> {
    let mut planned = req.planned;
    let mut d = Diagnostics::new();
    if let Known::Known(Some(n)) = &planned.name {
        planned.id = Attr::some(n.clone());
    }
    if !matches!(&planned.engine, Known::Known(Some(_))) {
        planned.engine = Attr::some("mariadb".into());
    }
    if let (Some(cfg), Known::Known(tags)) = (req.client, &planned.tags) {
        planned.tags_all = Attr::some(merged_tags(&cfg.default_tags, tags.as_ref()));
    }
    if let Some(prior) = &req.prior {
        let members_change = prior.instance_count != planned.instance_count
            || prior.blueprint_id != planned.blueprint_id
            || prior.bundle_id != planned.bundle_id
            || prior.availability_zones != planned.availability_zones;
        if members_change {
            planned.sidecar = Known::Unknown;
        }
        if let Some(w) = moved(
            &req.private,
            prior.current_primary.value(),
            !req.config.primary.is_null(),
        ) {
            d.attribute_warning(
                AttributePath::root("primary"),
                "The primary has moved",
                format!("The agents' election: {w}"),
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

/// A password the provider may write for a user: 16–128 characters none of which SQL or a shell
/// would treat specially.
fn password_ok(pw: &str) -> bool {
    (16..=128).contains(&pw.chars().count())
        && pw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~+=:@%^*!#,".contains(c))
}
