//! Breaking-change rules between two `terraform providers schema -json` documents.
//!
//! A resource (or data source, or the provider block) whose schema changes in a way that
//! breaks existing configurations or state must bump its schema version (and, for resources,
//! ship a state upgrader — the provider crate checks that every versioned resource has one).
//! And the provider's release version must be a major bump over the previous release's when
//! anything breaks users' configurations ([`semver_problem`]; semantic versioning).
use std::fmt;

use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    AttributeRemoved,
    TypeChanged,
    OptionalToRequired,
    NewRequiredAttribute,
    NowComputedOnly,
    BlockRemoved,
    NestingChanged,
    SchemaRemoved,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaking {
    /// e.g. `resource hastack_lightsail_load_balancer` or `provider`.
    pub schema: String,
    /// Dotted path of the attribute or block.
    pub path: String,
    pub rule: Rule,
}

impl fmt::Display for Breaking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {:?}", self.schema, self.path, self.rule)
    }
}

fn provider_of(doc: &Json) -> Option<&Json> {
    doc.get("provider_schemas")?.as_object()?.values().next()
}

fn version(s: &Json) -> i64 {
    s.get("version").and_then(Json::as_i64).unwrap_or(0)
}

/// Breaking changes from `old` to `new` that are not covered by a schema version bump.
pub fn unversioned_breaking_changes(old: &Json, new: &Json) -> Vec<Breaking> {
    changes(old, new, true)
}

/// Every change from `old` to `new` that breaks a user's configuration, schema version bump
/// or not (a state upgrader carries old state over; it does not make a removed attribute
/// valid in a configuration again). The release version must say so: see [`semver_problem`].
pub fn breaking_changes(old: &Json, new: &Json) -> Vec<Breaking> {
    changes(old, new, false)
}

fn changes(old: &Json, new: &Json, bump_excuses: bool) -> Vec<Breaking> {
    let (Some(op), Some(np)) = (provider_of(old), provider_of(new)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut check = |label: String, o: &Json, n: Option<&Json>| match n {
        None => out.push(Breaking {
            schema: label,
            path: String::new(),
            rule: Rule::SchemaRemoved,
        }),
        Some(n) => {
            if bump_excuses && version(n) > version(o) {
                return;
            }
            let mut found = Vec::new();
            block_changes(&o["block"], &n["block"], "", &mut found);
            out.extend(found.into_iter().map(|(path, rule)| Breaking {
                schema: label.clone(),
                path,
                rule,
            }));
        }
    };
    if let Some(o) = op.get("provider") {
        check("provider".into(), o, np.get("provider"));
    }
    for kind in ["resource_schemas", "data_source_schemas"] {
        if let Some(m) = op.get(kind).and_then(Json::as_object) {
            for (name, o) in m {
                let label = format!("{} {name}", kind.trim_end_matches("_schemas"));
                check(label, o, np.get(kind).and_then(|x| x.get(name)));
            }
        }
    }
    out
}

/// A release version, `MAJOR.MINOR.PATCH[-PRERELEASE]` (build metadata is not used here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Option<String>,
}

impl Version {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) if !p.is_empty() => (c, Some(p.to_string())),
            Some(_) => return Err(format!("{s:?}: empty pre-release")),
            None => (s, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        let num = |p: &str| -> Result<u64, String> {
            if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
                return Err(format!("{s:?} is not MAJOR.MINOR.PATCH"));
            }
            p.parse()
                .map_err(|_| format!("{s:?} is not MAJOR.MINOR.PATCH"))
        };
        match parts[..] {
            [a, b, c] => Ok(Version {
                major: num(a)?,
                minor: num(b)?,
                patch: num(c)?,
                pre,
            }),
            _ => Err(format!("{s:?} is not MAJOR.MINOR.PATCH")),
        }
    }

    fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    /// Whether going from `prev` to `self` may break users. Below 1.0 the minor number plays
    /// the major's part (0.2 → 0.3 may break; 0.2.0 → 0.2.1 may not), as Cargo reads it.
    pub fn is_major_bump_from(&self, prev: &Version) -> bool {
        if prev.major == 0 {
            self.major > 0 || self.minor > prev.minor
        } else {
            self.major > prev.major
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        match &self.pre {
            Some(p) => write!(f, "-{p}"),
            None => Ok(()),
        }
    }
}

/// What is wrong with releasing `cur` after `prev` given the schema changes between them,
/// or `None`: the version never goes down, and a breaking change needs a major bump.
pub fn semver_problem(prev: &Version, cur: &Version, breaking: &[Breaking]) -> Option<String> {
    if cur.triple() < prev.triple() {
        return Some(format!("version {cur} is lower than the previous {prev}"));
    }
    if !breaking.is_empty() && !cur.is_major_bump_from(prev) {
        let next = if prev.major == 0 {
            format!("0.{}.0", prev.minor + 1)
        } else {
            format!("{}.0.0", prev.major + 1)
        };
        return Some(format!(
            "the schema breaks users since {prev}, but {cur} is not a major version bump \
             (make it {next} or later, in Cargo.toml's [workspace.package] and CHANGELOG.md):\n{}",
            breaking
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    None
}

fn flag(a: &Json, k: &str) -> bool {
    a.get(k).and_then(Json::as_bool).unwrap_or(false)
}

fn attr_type(a: &Json) -> Json {
    a.get("type")
        .cloned()
        .or_else(|| a.get("nested_type").cloned())
        .unwrap_or(Json::Null)
}

fn block_changes(o: &Json, n: &Json, prefix: &str, out: &mut Vec<(String, Rule)>) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let empty = serde_json::Map::new();
    let oa = o
        .get("attributes")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    let na = n
        .get("attributes")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    for (name, a) in oa {
        let Some(b) = na.get(name) else {
            out.push((join(name), Rule::AttributeRemoved));
            continue;
        };
        match (a.get("nested_type"), b.get("nested_type")) {
            // A nested attribute is compared like a block, attribute by attribute: a new
            // optional one (null in older state) or a new description breaks nothing.
            (Some(x), Some(y)) => {
                if x.get("nesting_mode") != y.get("nesting_mode") {
                    out.push((join(name), Rule::NestingChanged));
                }
                block_changes(x, y, &join(name), out);
            }
            _ if attr_type(a) != attr_type(b) => out.push((join(name), Rule::TypeChanged)),
            _ => {}
        }
        if !flag(a, "required") && flag(b, "required") {
            out.push((join(name), Rule::OptionalToRequired));
        }
        let settable = |x: &Json| flag(x, "required") || flag(x, "optional");
        if settable(a) && !settable(b) && flag(b, "computed") {
            out.push((join(name), Rule::NowComputedOnly));
        }
    }
    for (name, b) in na {
        if !oa.contains_key(name) && flag(b, "required") {
            out.push((join(name), Rule::NewRequiredAttribute));
        }
    }
    let ob = o
        .get("block_types")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    let nb = n
        .get("block_types")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    for (name, a) in ob {
        let Some(b) = nb.get(name) else {
            out.push((join(name), Rule::BlockRemoved));
            continue;
        };
        if a.get("nesting_mode") != b.get("nesting_mode") {
            out.push((join(name), Rule::NestingChanged));
        }
        block_changes(&a["block"], &b["block"], &join(name), out);
    }
    for (name, b) in nb {
        if !ob.contains_key(name) && b.get("min_items").and_then(Json::as_i64).unwrap_or(0) > 0 {
            out.push((join(name), Rule::NewRequiredAttribute));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(version: i64, block: Json) -> Json {
        json!({"format_version": "1.0", "provider_schemas": {"registry.terraform.io/hastack/hastack": {
            "provider": {"version": 0, "block": {}},
            "resource_schemas": {"hastack_x": {"version": version, "block": block}}
        }}})
    }

    fn base() -> Json {
        json!({
            "attributes": {
                "name": {"type": "string", "required": true},
                "size": {"type": "number", "optional": true},
                "id": {"type": "string", "computed": true},
                "zone": {"type": "string", "optional": true, "computed": true},
                "users": {"nested_type": {"nesting_mode": "list", "attributes": {
                    "name": {"type": "string", "required": true},
                    "role": {"type": "string", "optional": true}
                }}, "optional": true}
            },
            "block_types": {
                "timeouts": {"nesting_mode": "single", "block": {"attributes": {"create": {"type": "string", "optional": true}}}}
            }
        })
    }

    fn with(f: impl FnOnce(&mut Json)) -> Json {
        let mut b = base();
        f(&mut b);
        b
    }

    /// (name, new block, the breaking change expected)
    type Case = (&'static str, Json, Option<(&'static str, Rule)>);

    #[test]
    fn each_rule() {
        let cases: Vec<Case> = vec![
            ("unchanged", base(), None),
            (
                "new_optional_is_fine",
                with(|b| {
                    b["attributes"]["tags"] = json!({"type": ["map", "string"], "optional": true})
                }),
                None,
            ),
            (
                "description_change_is_fine",
                with(|b| b["attributes"]["size"]["description"] = json!("new words")),
                None,
            ),
            (
                "removed",
                with(|b| {
                    b["attributes"].as_object_mut().unwrap().remove("size");
                }),
                Some(("size", Rule::AttributeRemoved)),
            ),
            (
                "renamed",
                with(|b| {
                    let a = b["attributes"].as_object_mut().unwrap();
                    let v = a.remove("size").unwrap();
                    a.insert("bundle_size".into(), v);
                }),
                Some(("size", Rule::AttributeRemoved)),
            ),
            (
                "type_changed",
                with(|b| b["attributes"]["size"]["type"] = json!("string")),
                Some(("size", Rule::TypeChanged)),
            ),
            (
                "optional_to_required",
                with(|b| b["attributes"]["size"] = json!({"type": "number", "required": true})),
                Some(("size", Rule::OptionalToRequired)),
            ),
            (
                "new_required",
                with(|b| b["attributes"]["must"] = json!({"type": "string", "required": true})),
                Some(("must", Rule::NewRequiredAttribute)),
            ),
            (
                "now_computed_only",
                with(|b| b["attributes"]["zone"] = json!({"type": "string", "computed": true})),
                Some(("zone", Rule::NowComputedOnly)),
            ),
            (
                "block_removed",
                with(|b| {
                    b["block_types"].as_object_mut().unwrap().remove("timeouts");
                }),
                Some(("timeouts", Rule::BlockRemoved)),
            ),
            (
                "nested_attribute_removed",
                with(|b| b["block_types"]["timeouts"]["block"]["attributes"] = json!({})),
                Some(("timeouts.create", Rule::AttributeRemoved)),
            ),
            (
                "nesting_changed",
                with(|b| b["block_types"]["timeouts"]["nesting_mode"] = json!("list")),
                Some(("timeouts", Rule::NestingChanged)),
            ),
            (
                "nested_attribute_new_optional_is_fine",
                with(|b| {
                    b["attributes"]["users"]["nested_type"]["attributes"]["password_wo"] =
                        json!({"type": "string", "optional": true, "write_only": true})
                }),
                None,
            ),
            (
                "nested_attribute_field_removed",
                with(|b| {
                    b["attributes"]["users"]["nested_type"]["attributes"]
                        .as_object_mut()
                        .unwrap()
                        .remove("role");
                }),
                Some(("users.role", Rule::AttributeRemoved)),
            ),
            (
                "nested_attribute_new_required",
                with(|b| {
                    b["attributes"]["users"]["nested_type"]["attributes"]["db"] =
                        json!({"type": "string", "required": true})
                }),
                Some(("users.db", Rule::NewRequiredAttribute)),
            ),
            (
                "nested_attribute_nesting_changed",
                with(|b| b["attributes"]["users"]["nested_type"]["nesting_mode"] = json!("set")),
                Some(("users", Rule::NestingChanged)),
            ),
            (
                "nested_attribute_to_plain_type",
                with(|b| {
                    b["attributes"]["users"] = json!({"type": ["list", "string"], "optional": true})
                }),
                Some(("users", Rule::TypeChanged)),
            ),
        ];
        for (name, new_block, want) in cases {
            let got = unversioned_breaking_changes(&doc(0, base()), &doc(0, new_block.clone()));
            match want {
                None => assert!(got.is_empty(), "{name}: {got:?}"),
                Some((path, rule)) => {
                    assert!(
                        got.iter().any(|b| b.path == path && b.rule == rule),
                        "{name}: {got:?}"
                    );
                    // The same change with a version bump is allowed.
                    assert!(
                        unversioned_breaking_changes(&doc(0, base()), &doc(1, new_block))
                            .is_empty(),
                        "{name} with bump"
                    );
                }
            }
        }
    }

    #[test]
    fn semver_rules() {
        let removed = with(|b| {
            b["attributes"].as_object_mut().unwrap().remove("size");
        });
        let broken = breaking_changes(&doc(0, base()), &doc(1, removed));
        assert!(
            !broken.is_empty(),
            "a schema version bump does not excuse a release"
        );
        let v = |s: &str| Version::parse(s).unwrap();
        // (name, previous, current, breaking?, problem expected)
        let cases = [
            ("same_version_no_break", "0.2.0", "0.2.0", false, None),
            ("patch_no_break", "0.2.0", "0.2.1", false, None),
            (
                "patch_with_break",
                "0.2.0",
                "0.2.1",
                true,
                Some("not a major version bump"),
            ),
            ("zero_minor_with_break", "0.2.3", "0.3.0", true, None),
            ("zero_to_one_with_break", "0.9.0", "1.0.0", true, None),
            (
                "minor_with_break_after_1",
                "1.4.0",
                "1.5.0",
                true,
                Some("make it 2.0.0"),
            ),
            ("major_with_break", "1.4.0", "2.0.0", true, None),
            ("prerelease_of_major", "1.4.0", "2.0.0-rc.1", true, None),
            (
                "going_down",
                "0.3.0",
                "0.2.9",
                false,
                Some("lower than the previous"),
            ),
        ];
        for (name, prev, cur, breaks, want) in cases {
            let b = if breaks { broken.as_slice() } else { &[] };
            let got = semver_problem(&v(prev), &v(cur), b);
            match want {
                None => assert!(got.is_none(), "{name}: {got:?}"),
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(w)),
                    "{name}: {got:?}"
                ),
            }
        }
        for bad in ["1.2", "01.2.3", "1.2.3-", "v1.2.3", "1.2.x"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(v("2.0.0-rc.1").to_string(), "2.0.0-rc.1");
    }

    #[test]
    fn removing_a_resource_is_breaking() {
        let old = doc(0, base());
        let mut new = old.clone();
        new["provider_schemas"]["registry.terraform.io/hastack/hastack"]["resource_schemas"] =
            json!({});
        let got = unversioned_breaking_changes(&old, &new);
        assert_eq!(got[0].rule, Rule::SchemaRemoved);
    }
}
