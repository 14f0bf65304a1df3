//! Plan-time checks: every problem names its attribute.
use std::collections::BTreeMap;

use tfplugin::{AttributePath, Diagnostics};

use super::model::Model;
use super::render::{self, RETENTION};
use super::valid_key;
use crate::resources::common::check_tags;

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
                d.attribute_error(p("key"), "Invalid file key", format!("{:?} must be 1–64 letters, digits, '_', '-' or '.' (and not \"sessions\").", f.key));
            } else if keys.contains(&f.key) {
                d.attribute_error(
                    p("key"),
                    "Duplicate file key",
                    format!("{:?} is used twice.", f.key),
                );
            }
            keys.push(f.key.clone());
            if !f.path.starts_with('/') {
                d.attribute_error(
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
                d.attribute_error(
                    p("timezone"),
                    "Invalid timezone",
                    format!("{tz:?} must be UTC or Local."),
                );
            }
            for (j, x) in f.filters.iter().flatten().enumerate() {
                if !["include", "exclude"].contains(&x.kind.as_str()) {
                    d.attribute_error(
                        p("filters").index(j as i64).attr("type"),
                        "Invalid filter type",
                        format!("{:?} must be include or exclude.", x.kind),
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
            d.attribute_error(
                at("metric_filters").key(k),
                "Invalid metric filter key",
                format!("{k:?} must be 1–64 letters, digits, '_', '-' or '.'."),
            );
        }
        if c.files.value().is_some() && !keys.contains(&f.file_key) {
            d.attribute_error(
                p("file_key"),
                "Unknown file key",
                format!("{:?} is not a key in files.", f.file_key),
            );
        }
        let dims = f.dimensions.as_ref().map(BTreeMap::len).unwrap_or(0);
        if dims > 3 {
            d.attribute_error(
                p("dimensions"),
                "Too many dimensions",
                format!("{dims} dimensions; at most 3."),
            );
        }
        if dims > 0 && f.default_value.is_some() {
            d.attribute_error(
                p("default_value"),
                "default_value with dimensions",
                "CloudWatch Logs refuses a default value on a metric filter with dimensions.",
            );
        }
    }
    for (k, a) in c.alarms.value().into_iter().flatten() {
        let p = |x: &str| at("alarms").key(k).attr(x);
        if c.metric_filters.known().is_some() && !filters.contains_key(&a.metric_filter) {
            d.attribute_error(
                p("metric_filter"),
                "Unknown metric filter",
                format!("{:?} is not a key in metric_filters.", a.metric_filter),
            );
        }
        let one_of = |v: &Option<String>, allowed: &[&str], attr: &str, d: &mut Diagnostics| {
            if let Some(v) = v.as_ref().filter(|v| !allowed.contains(&v.as_str())) {
                d.attribute_error(
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
            d.attribute_error(
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
            d.attribute_error(
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
            d.attribute_error(
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
