//! Plan-time checks: every problem names its attribute.
use tfplugin::{Attr, AttributePath, Diagnostics, Known};

use super::{Model, DEFAULT_DOCUMENT};
use crate::resources::common::check_tags;

pub(super) fn valid_document_name(n: &str) -> bool {
    let lower = n.to_ascii_lowercase();
    (3..=128).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !["aws", "amazon", "amzn"]
            .iter()
            .any(|p| lower.starts_with(p))
}

pub(super) fn valid_user(u: &str) -> bool {
    let mut cs = u.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && u.len() <= 32
        && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
}

/// A KMS key as Session Manager takes it: key id, `mrk-` id, `alias/…`, or a key or alias ARN.
pub(super) fn valid_kms_key(k: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:)?",
            r"(key/[0-9a-f-]{36}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,250})$",
            r"|^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$",
        ))
        .expect("valid regex")
    })
    .is_match(k)
}

/// S3's rules for a general purpose bucket name.
pub(super) fn valid_bucket(b: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c))
        && edge(b.chars().next())
        && edge(b.chars().last())
        && !b.contains("..")
        && b.parse::<std::net::Ipv4Addr>().is_err()
        && !["xn--", "sthree-"].iter().any(|p| b.starts_with(p))
        && !["-s3alias", "--ol-s3"].iter().any(|p| b.ends_with(p))
}

/// The longest S3 key (and so key prefix).
const MAX_KEY: usize = 1024;

pub(super) fn validate(c: &Model) -> Diagnostics {
    let mut d = Diagnostics::new();
    let at = AttributePath::root;
    if let Some(n) = c.document_name.value() {
        if n != DEFAULT_DOCUMENT && !valid_document_name(n) {
            d.attribute_error(at("document_name"), "Invalid document name", format!("{n:?} must be 3–128 letters, digits, '_', '-' or '.', and must not start with AWS, Amazon or amzn (reserved)."));
        }
    }
    if let Some(n) = c.idle_timeout_minutes.value() {
        if !(1..=60).contains(n) {
            d.attribute_error(
                at("idle_timeout_minutes"),
                "Invalid idle timeout",
                format!("{n} minutes: Session Manager allows 1 to 60."),
            );
        }
    }
    if let Some(n) = c.max_duration_minutes.value() {
        if !(1..=1440).contains(n) {
            d.attribute_error(
                at("max_duration_minutes"),
                "Invalid maximum session duration",
                format!("{n} minutes: Session Manager allows 1 to 1440 (24 hours)."),
            );
        }
    }
    if let Some(u) = c.run_as_user.value() {
        if !valid_user(u) {
            d.attribute_error(at("run_as_user"), "Invalid run-as user", format!("{u:?} is not a Linux user name (lower-case letters, digits, '_' and '-', starting with a letter or '_', at most 32)."));
        }
    }
    for (name, a) in [
        ("cloudwatch_log_group_name", &c.cloudwatch_log_group_name),
        ("kms_key_id", &c.kms_key_id),
        ("s3_bucket_name", &c.s3_bucket_name),
        ("s3_key_prefix", &c.s3_key_prefix),
        ("shell_profile_linux", &c.shell_profile_linux),
    ] {
        if a.value().is_some_and(|s| s.is_empty()) {
            d.attribute_error(
                at(name),
                "Empty value",
                format!("{name} must not be empty; leave it out instead."),
            );
        }
    }
    if let Some(g) = c.cloudwatch_log_group_name.value() {
        if g.len() > 512
            || !g
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-/.#".contains(ch))
        {
            d.attribute_error(
                at("cloudwatch_log_group_name"),
                "Invalid log group name",
                format!("{g:?} must be 1–512 letters, digits, '_', '-', '/', '.' or '#'."),
            );
        }
    }
    if let Some(k) = c
        .kms_key_id
        .value()
        .filter(|k| !k.is_empty() && !valid_kms_key(k))
    {
        d.attribute_error(
            at("kms_key_id"),
            "Invalid KMS key",
            format!("{k:?} is not a KMS key id, alias (\"alias/…\") or key or alias ARN."),
        );
    }
    if let Some(b) = c
        .s3_bucket_name
        .value()
        .filter(|b| !b.is_empty() && !valid_bucket(b))
    {
        d.attribute_error(at("s3_bucket_name"), "Invalid bucket name", format!("{b:?} is not an S3 bucket name: 3–63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit, not an IP address."));
    }
    if let Some(p) = c.s3_key_prefix.value().filter(|p| p.len() > MAX_KEY) {
        d.attribute_error(
            at("s3_key_prefix"),
            "Invalid key prefix",
            format!(
                "s3_key_prefix is {} bytes; an S3 key is at most {MAX_KEY}.",
                p.len()
            ),
        );
    }
    let set = |a: &Attr<String>| !a.is_null();
    if c.cloudwatch_encryption_required.value() == Some(&true)
        && c.cloudwatch_log_group_name.is_null()
    {
        d.attribute_error(
            at("cloudwatch_encryption_required"),
            "Nothing to encrypt",
            "cloudwatch_encryption_required needs cloudwatch_log_group_name.",
        );
    }
    if (c.s3_encryption_required.value() == Some(&true) || set(&c.s3_key_prefix))
        && c.s3_bucket_name.is_null()
    {
        let which = if set(&c.s3_key_prefix) {
            "s3_key_prefix"
        } else {
            "s3_encryption_required"
        };
        d.attribute_error(
            at(which),
            "No bucket",
            format!("{which} needs s3_bucket_name."),
        );
    }
    match &c.target_tags {
        Known::Known(Some(t)) if t.is_empty() => d.attribute_error(at("target_tags"), "No target tags", "target_tags must name at least one tag, or operators could open sessions to every node."),
        Known::Known(Some(t)) => check_tags(t, at("target_tags"), &mut d),
        _ => {}
    }
    if let Some(t) = c.tags.value() {
        check_tags(t, at("tags"), &mut d);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_out_of_range_value_names_its_attribute() {
        let cases: Vec<(&str, Model)> = vec![
            (
                "idle_timeout_minutes",
                Model {
                    idle_timeout_minutes: Attr::some(0),
                    ..Default::default()
                },
            ),
            (
                "idle_timeout_minutes",
                Model {
                    idle_timeout_minutes: Attr::some(61),
                    ..Default::default()
                },
            ),
            (
                "max_duration_minutes",
                Model {
                    max_duration_minutes: Attr::some(1441),
                    ..Default::default()
                },
            ),
            (
                "run_as_user",
                Model {
                    run_as_user: Attr::some("Root User".into()),
                    ..Default::default()
                },
            ),
            (
                "document_name",
                Model {
                    document_name: Attr::some("AWS-Mine".into()),
                    ..Default::default()
                },
            ),
            (
                "target_tags",
                Model {
                    target_tags: Attr::some(BTreeMap::new()),
                    ..Default::default()
                },
            ),
            (
                "cloudwatch_encryption_required",
                Model {
                    cloudwatch_encryption_required: Attr::some(true),
                    ..Default::default()
                },
            ),
            (
                "s3_key_prefix",
                Model {
                    s3_key_prefix: Attr::some("x/".into()),
                    ..Default::default()
                },
            ),
            (
                "cloudwatch_log_group_name",
                Model {
                    cloudwatch_log_group_name: Attr::some("".into()),
                    ..Default::default()
                },
            ),
        ];
        for (attr, m) in cases {
            let d = validate(&m);
            let at: Vec<String> = d
                .iter()
                .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
                .collect();
            assert_eq!(at, [attr], "case {attr}");
        }
        let ok = Model {
            idle_timeout_minutes: Attr::some(60),
            max_duration_minutes: Attr::some(1),
            run_as_user: Attr::some("ops".into()),
            document_name: Attr::some(DEFAULT_DOCUMENT.into()),
            ..Default::default()
        };
        assert!(validate(&ok).is_empty());
    }

    #[test]
    fn kms_keys_and_buckets() {
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/sessions",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/sessions",
        ] {
            assert!(valid_kms_key(ok), "{ok}");
        }
        for bad in ["my key", "sessions", "arn:aws:s3:::bucket", "alias/"] {
            assert!(!valid_kms_key(bad), "{bad}");
        }
        for ok in ["transcripts", "my.bucket-1", "abc"] {
            assert!(valid_bucket(ok), "{ok}");
        }
        for bad in [
            "ab",
            "My_Bucket",
            "-x-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            &"b".repeat(64),
        ] {
            assert!(!valid_bucket(bad), "{bad}");
        }
    }

    #[test]
    fn document_names() {
        for ok in ["hastack-web-Shell", "abc", DEFAULT_DOCUMENT] {
            assert!(ok == DEFAULT_DOCUMENT || valid_document_name(ok), "{ok}");
        }
        for bad in ["ab", "AWS-x", "amazon-x", "has space"] {
            assert!(!valid_document_name(bad), "{bad}");
        }
    }
}
