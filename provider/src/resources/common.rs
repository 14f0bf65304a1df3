//! What resources share: tags (merging, ownership, plan-time checks) and error diagnostics.
use std::collections::BTreeMap;

use tfplugin::{Attr, AttributePath, Diagnostics};

use crate::aws::AwsError;

/// The tags a resource gets: the provider's default tags, then its own (which win).
pub fn merged_tags(
    defaults: &BTreeMap<String, String>,
    own: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(own.cloned().unwrap_or_default());
    all
}

/// The `tags` attribute for the tags AWS reports (`actual`): everything but default tags left
/// as the provider set them, plus every key the configuration names (`prior`). Null while
/// the configuration has none and nothing else was added.
pub fn own_tags(
    actual: &BTreeMap<String, String>,
    prior: Option<&BTreeMap<String, String>>,
    defaults: &BTreeMap<String, String>,
) -> Attr<BTreeMap<String, String>> {
    let own: BTreeMap<String, String> = actual
        .iter()
        .filter(|(k, v)| prior.is_some_and(|p| p.contains_key(*k)) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() && prior.is_none() {
        Attr::null()
    } else {
        Attr::some(own)
    }
}

/// Lightsail's (and SSM's) tag rules: at most 50, keys 1–128 and values up to 256 characters,
/// no `aws:` prefix. Each problem names `path` and the key.
pub fn check_tags(tags: &BTreeMap<String, String>, path: AttributePath, d: &mut Diagnostics) {
    if tags.len() > 50 {
        d.attribute_error(
            path.clone(),
            "Too many tags",
            format!(
                "{} tags given; AWS allows at most 50 per resource.",
                tags.len()
            ),
        );
    }
    for (k, v) in tags {
        let at = path.clone().key(k);
        if k.is_empty() {
            d.attribute_error(at, "Invalid tag key", "A tag key must not be empty.");
        } else if k.chars().count() > 128 {
            d.attribute_error(
                at,
                "Invalid tag key",
                format!(
                    "Tag key {k:?} is {} characters; at most 128.",
                    k.chars().count()
                ),
            );
        } else if k.to_ascii_lowercase().starts_with("aws:") {
            d.attribute_error(
                at,
                "Invalid tag key",
                format!("Tag key {k:?}: the aws: prefix is reserved for AWS."),
            );
        } else if v.chars().count() > 256 {
            d.attribute_error(
                at,
                "Invalid tag value",
                format!(
                    "The value of tag {k:?} is {} characters; at most 256.",
                    v.chars().count()
                ),
            );
        }
    }
}

/// One error diagnostic.
pub fn error(summary: &str, detail: String) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(summary, detail);
    d
}

/// An AWS failure as a diagnostic: the summary says what was being done, the detail carries
/// the operation and AWS error code verbatim.
pub fn aws_error(summary: &str, e: &AwsError) -> Diagnostics {
    error(summary, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_rules_name_the_key() {
        let cases: Vec<(&str, BTreeMap<String, String>, Option<&str>)> = vec![
            ("fine", [("team".into(), "web".into())].into(), None),
            (
                "empty key",
                [(String::new(), "x".into())].into(),
                Some("must not be empty"),
            ),
            (
                "long key",
                [("k".repeat(129), "x".into())].into(),
                Some("at most 128"),
            ),
            (
                "long value",
                [("k".into(), "v".repeat(257))].into(),
                Some("at most 256"),
            ),
            (
                "aws prefix",
                [("AWS:owner".into(), "x".into())].into(),
                Some("reserved"),
            ),
            (
                "51 tags",
                (0..51).map(|i| (format!("k{i}"), "v".into())).collect(),
                Some("at most 50"),
            ),
        ];
        for (case, tags, want) in cases {
            let mut d = Diagnostics::new();
            check_tags(&tags, AttributePath::root("tags"), &mut d);
            let text = format!("{d:?}");
            match want {
                None => assert!(!d.has_errors(), "{case}: {text}"),
                Some(w) => assert!(d.has_errors() && text.contains(w), "{case}: {text}"),
            }
        }
    }

    #[test]
    fn default_tags_merge_and_own_tags_win() {
        let defaults: BTreeMap<String, String> =
            [("team".into(), "web".into()), ("env".into(), "dev".into())].into();
        let own: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
        let all = merged_tags(&defaults, Some(&own));
        assert_eq!(all.get("env").map(String::as_str), Some("prod"));
        assert_eq!(all.get("team").map(String::as_str), Some("web"));
    }
}
