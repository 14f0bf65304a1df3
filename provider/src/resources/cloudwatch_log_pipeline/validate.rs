//! Plan-time checks: every problem names its attribute.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use tfplugin::{AttributePath, Diagnostics};

use super::model::{MetricFilter, Model};
use super::render::{self, RETENTION};
use super::valid_key;
use crate::resources::common::check_tags;

/// An error on a nested field, its detail starting with the field's path: Terraform 1.11 shows
/// some of these on the resource's first line instead of the field's.
fn nested(
    d: &mut Diagnostics,
    at: AttributePath,
    summary: impl Into<String>,
    detail: impl Into<String>,
) {
    let detail = format!("{at}: {}", detail.into());
    d.attribute_error(at, summary, detail);
}

/// CloudWatch's limit on an alarm's actions.
const MAX_ACTIONS: usize = 5;

/// The units CloudWatch metrics take (`StandardUnit`).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn arn(s: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:.+$")
            .expect("valid regex")
    })
    .is_match(s)
}

fn kms_key_arn(s: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}$")
            .expect("valid regex")
    })
    .is_match(s)
}

/// Why `re` is not a regular expression the agent (Go's RE2 syntax) takes, if it surely is
/// not. `\Q…\E`, which RE2 has and the regex crate lacks, is left to the agent.
fn regex_problem(re: &str) -> Option<String> {
    if re.contains("\\Q") {
        return None;
    }
    regex::Regex::new(re)
        .err()
        .map(|e| format!("{re:?} is not a regular expression: {e}"))
}

/// A metric name or namespace as PutMetricFilter takes it: 1–255, no ':', '*' or '$'.
fn metric_text(s: &str) -> bool {
    (1..=255).contains(&s.chars().count()) && !s.contains([':', '*', '$'])
}

/// The checks of one metric filter's own fields; `p` names a field.
fn metric_filter_fields(f: &MetricFilter, p: &dyn Fn(&str) -> AttributePath, d: &mut Diagnostics) {
    if f.pattern.chars().count() > 1024 {
        nested(
            d,
            p("pattern"),
            "Invalid filter pattern",
            format!("{} characters; at most 1024.", f.pattern.chars().count()),
        );
    }
    if !metric_text(&f.metric_name) {
        nested(
            d,
            p("metric_name"),
            "Invalid metric name",
            format!(
                "{:?} must be 1–255 characters without ':', '*' or '$'.",
                f.metric_name
            ),
        );
    }
    if let Some(n) = f.namespace.as_ref() {
        if !metric_text(n) || n.starts_with("AWS/") {
            nested(d,
                p("namespace"),
                "Invalid namespace",
                format!("{n:?} must be 1–255 characters without ':', '*' or '$', and not start with AWS/ (reserved)."),
            );
        }
    }
    if let Some(v) = f.value.as_ref() {
        let ok = (1..=100).contains(&v.len())
            && (v.starts_with('$') || v.parse::<f64>().is_ok_and(f64::is_finite));
        if !ok {
            nested(d,
                p("value"),
                "Invalid metric value",
                format!("{v:?} must be a number or a field such as \"$.bytes\" (at most 100 characters)."),
            );
        }
    }
    if let Some(u) = f.unit.as_ref().filter(|u| !UNITS.contains(&u.as_str())) {
        nested(
            d,
            p("unit"),
            "Invalid unit",
            format!("{u:?} must be one of {}.", UNITS.join(", ")),
        );
    }
}

pub(super) fn validate(c: &Model) -> Diagnostics {
    let mut d = Diagnostics::new();
    let at = AttributePath::root;
    if let Some(n) = c.name.value().filter(|n| !valid_key(n)) {
        d.attribute_error(
            at("name"),
            "Invalid pipeline name",
            format!("{n:?} must be 1–64 letters, digits, '_', '-' or '.'."),
        );
    }
    if let Some(g) = c
        .instance_group
        .value()
        .filter(|g| !crate::fleet::layout::valid_prefix(g))
    {
        d.attribute_error(at("instance_group"), "Invalid instance group", format!("{g:?} is not an instance group's id (its name prefix: 1–200 letters, digits, '-', '_' or '.', starting with a letter or digit)."));
    }
    if let Some(k) = c.kms_key_arn.value().filter(|k| !kms_key_arn(k)) {
        d.attribute_error(at("kms_key_arn"), "Invalid KMS key ARN", format!("{k:?} is not a KMS key ARN such as \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (CloudWatch Logs takes no alias)."));
    }
    if let Some(p) = c.log_group_prefix.value().filter(|p| {
        !p.starts_with('/')
            || p.ends_with('/')
            || p.len() > 400
            || !p
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-/.#".contains(ch))
    }) {
        d.attribute_error(at("log_group_prefix"), "Invalid log group prefix", format!("{p:?} must start with '/', not end with '/', and hold only letters, digits, '_', '-', '/', '.' or '#' (at most 400)."));
    }
    if let Some(r) = c
        .retention_in_days
        .value()
        .filter(|r| **r != 0 && !RETENTION.contains(r))
    {
        d.attribute_error(
            at("retention_in_days"),
            "Invalid retention",
            format!(
                "{r} days: CloudWatch Logs allows {} (or 0 for never).",
                RETENTION.map(|x| x.to_string()).join(", ")
            ),
        );
    }
    if let Some(cl) = c
        .log_group_class
        .value()
        .filter(|cl| !["STANDARD", "INFREQUENT_ACCESS"].contains(&cl.as_str()))
    {
        d.attribute_error(
            at("log_group_class"),
            "Invalid log group class",
            format!("{cl:?} must be STANDARD or INFREQUENT_ACCESS."),
        );
    }
    let mut keys = Vec::new();
    if let Some(files) = c.files.value() {
        if files.is_empty() || files.len() > 50 {
            d.attribute_error(
                at("files"),
                "Invalid files",
                format!("{} files: give 1 to 50.", files.len()),
            );
        }
        for (i, f) in files.iter().enumerate() {
            let p = |a: &str| at("files").index(i as i64).attr(a);
            if !valid_key(&f.key) || f.key == render::SESSIONS {
                nested(&mut d, p("key"), "Invalid file key", format!("{:?} must be 1–64 letters, digits, '_', '-' or '.' (and not \"sessions\").", f.key));
            } else if keys.contains(&f.key) {
                nested(
                    &mut d,
                    p("key"),
                    "Duplicate file key",
                    format!("{:?} is used twice.", f.key),
                );
            }
            keys.push(f.key.clone());
            if !f.path.starts_with('/') {
                nested(
                    &mut d,
                    p("path"),
                    "Invalid path",
                    format!("{:?} must be absolute.", f.path),
                );
            }
            if let Some(tz) = f
                .timezone
                .as_ref()
                .filter(|t| !["UTC", "Local"].contains(&t.as_str()))
            {
                nested(
                    &mut d,
                    p("timezone"),
                    "Invalid timezone",
                    format!("{tz:?} must be UTC or Local."),
                );
            }
            if let Some(s) = f
                .stream_name
                .as_ref()
                .filter(|s| s.is_empty() || s.len() > 512 || s.contains(':') || s.contains('*'))
            {
                nested(
                    &mut d,
                    p("stream_name"),
                    "Invalid stream name",
                    format!("{s:?} must be 1–512 characters without ':' or '*'."),
                );
            }
            if let Some(e) = f
                .multi_line_start_pattern
                .as_ref()
                .filter(|m| *m != "{timestamp_format}")
                .and_then(|m| regex_problem(m))
            {
                nested(
                    &mut d,
                    p("multi_line_start_pattern"),
                    "Invalid regular expression",
                    e,
                );
            }
            for (j, x) in f.filters.iter().flatten().enumerate() {
                let q = p("filters").index(j as i64);
                if !["include", "exclude"].contains(&x.kind.as_str()) {
                    nested(
                        &mut d,
                        q.clone().attr("type"),
                        "Invalid filter type",
                        format!("{:?} must be include or exclude.", x.kind),
                    );
                }
                if let Some(e) = regex_problem(&x.expression) {
                    nested(
                        &mut d,
                        q.attr("expression"),
                        "Invalid regular expression",
                        e,
                    );
                }
            }
        }
    }
    let filters = c.metric_filters.value().cloned().unwrap_or_default();
    if c.log_group_class.value().map(String::as_str) == Some("INFREQUENT_ACCESS")
        && !filters.is_empty()
    {
        d.attribute_error(
            at("metric_filters"),
            "No metric filters on Infrequent Access",
            "Log groups of the INFREQUENT_ACCESS class support no metric filters.",
        );
    }
    for (k, f) in &filters {
        let p = |a: &str| at("metric_filters").key(k).attr(a);
        if !valid_key(k) {
            nested(
                &mut d,
                at("metric_filters").key(k),
                "Invalid metric filter key",
                format!("{k:?} must be 1–64 letters, digits, '_', '-' or '.'."),
            );
        }
        if c.files.value().is_some() && !keys.contains(&f.file_key) {
            nested(
                &mut d,
                p("file_key"),
                "Unknown file key",
                format!("{:?} is not a key in files.", f.file_key),
            );
        }
        metric_filter_fields(f, &p, &mut d);
        let dims = f.dimensions.as_ref().map(BTreeMap::len).unwrap_or(0);
        if dims > 3 {
            nested(
                &mut d,
                p("dimensions"),
                "Too many dimensions",
                format!("{dims} dimensions; at most 3."),
            );
        }
        if dims > 0 && f.default_value.is_some() {
            nested(
                &mut d,
                p("default_value"),
                "default_value with dimensions",
                "CloudWatch Logs refuses a default value on a metric filter with dimensions.",
            );
        }
    }
    for (k, a) in c.alarms.value().into_iter().flatten() {
        let p = |x: &str| at("alarms").key(k).attr(x);
        if !valid_key(k) {
            nested(
                &mut d,
                at("alarms").key(k),
                "Invalid alarm key",
                format!("{k:?} must be 1–64 letters, digits, '_', '-' or '.'."),
            );
        }
        let actions = a.alarm_actions.as_deref().unwrap_or_default();
        if actions.len() > MAX_ACTIONS {
            nested(
                &mut d,
                p("alarm_actions"),
                "Too many alarm actions",
                format!(
                    "{} actions; CloudWatch takes at most {MAX_ACTIONS}.",
                    actions.len()
                ),
            );
        }
        for x in actions.iter().filter(|x| !arn(x)) {
            nested(&mut d,
                p("alarm_actions"),
                "Invalid alarm action",
                format!("{x:?} is not an ARN (e.g. of an SNS topic: \"arn:aws:sns:us-east-1:123456789012:ops\")."),
            );
        }
        if let Some(t) = a.description.as_ref().filter(|t| t.chars().count() > 1024) {
            nested(
                &mut d,
                p("description"),
                "Invalid alarm description",
                format!("{} characters; at most 1024.", t.chars().count()),
            );
        }
        if c.metric_filters.known().is_some() && !filters.contains_key(&a.metric_filter) {
            nested(
                &mut d,
                p("metric_filter"),
                "Unknown metric filter",
                format!("{:?} is not a key in metric_filters.", a.metric_filter),
            );
        }
        let one_of = |v: &Option<String>, allowed: &[&str], attr: &str, d: &mut Diagnostics| {
            if let Some(v) = v.as_ref().filter(|v| !allowed.contains(&v.as_str())) {
                nested(
                    d,
                    p(attr),
                    "Invalid value",
                    format!("{v:?} must be one of {}.", allowed.join(", ")),
                );
            }
        };
        one_of(
            &a.comparison_operator,
            &[
                "GreaterThanOrEqualToThreshold",
                "GreaterThanThreshold",
                "LessThanThreshold",
                "LessThanOrEqualToThreshold",
            ],
            "comparison_operator",
            &mut d,
        );
        one_of(
            &a.statistic,
            &["Sum", "Average", "Minimum", "Maximum", "SampleCount"],
            "statistic",
            &mut d,
        );
        one_of(
            &a.treat_missing_data,
            &["notBreaching", "breaching", "ignore", "missing"],
            "treat_missing_data",
            &mut d,
        );
        if let Some(per) = a
            .period
            .as_ref()
            .and_then(|n| n.as_i64())
            .filter(|p| ![10, 30].contains(p) && (*p < 60 || p % 60 != 0))
        {
            nested(
                &mut d,
                p("period"),
                "Invalid period",
                format!("{per} seconds: 10, 30 or a multiple of 60."),
            );
        }
        let ev = a
            .evaluation_periods
            .as_ref()
            .and_then(|n| n.as_i64())
            .unwrap_or(1);
        if ev < 1 {
            nested(
                &mut d,
                p("evaluation_periods"),
                "Invalid evaluation periods",
                format!("{ev}: at least 1."),
            );
        }
        if let Some(dp) = a
            .datapoints_to_alarm
            .as_ref()
            .and_then(|n| n.as_i64())
            .filter(|dp| *dp < 1 || *dp > ev)
        {
            nested(
                &mut d,
                p("datapoints_to_alarm"),
                "Invalid datapoints to alarm",
                format!("{dp}: between 1 and evaluation_periods ({ev})."),
            );
        }
    }
    if let Some(t) = c.tags.value() {
        check_tags(t, at("tags"), &mut d);
    }
    d
}
