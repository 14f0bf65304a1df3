//! CloudWatch Logs: log groups (find by exact name, create, retention, tags, delete) and
//! metric filters.
use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::types::{LogGroup, MetricTransformation};
use aws_sdk_cloudwatchlogs::Client;

use super::error::AwsError;
use crate::config::Configured;

pub fn client(c: &Configured) -> Client {
    Client::new(&c.for_service("logs"))
}

/// A log group as the resources need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    /// Without the `:*` suffix DescribeLogGroups' `arn` carries.
    pub arn: String,
    pub retention_in_days: Option<i32>,
    pub kms_key_id: Option<String>,
    pub class: String,
}

fn group(g: &LogGroup) -> Group {
    let name = g.log_group_name().unwrap_or("").to_string();
    let arn = g
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string()))
        .unwrap_or_default();
    Group {
        name,
        arn,
        retention_in_days: g.retention_in_days(),
        kms_key_id: g.kms_key_id().map(str::to_string),
        class: g
            .log_group_class()
            .map(|c| c.as_str().to_string())
            .unwrap_or_else(|| "STANDARD".into()),
    }
}

/// The log group named exactly `name`; `NotFound` when there is none.
#[tracing::instrument(skip_all, fields(log_group = name))]
pub async fn find_log_group(c: &Client, name: &str) -> Result<Group, AwsError> {
    let mut token = None;
    loop {
        let page = c
            .describe_log_groups()
            .log_group_name_prefix(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeLogGroups", &e))?;
        if let Some(g) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            return Ok(group(g));
        }
        token = page.next_token;
        if token.is_none() {
            return Err(AwsError::not_found(format!("log group {name}")));
        }
    }
}

/// Create a log group; `Ok(false)` when it already exists (ResourceAlreadyExistsException).
#[tracing::instrument(skip_all, fields(log_group = name))]
pub async fn create_log_group(
    c: &Client,
    name: &str,
    kms_key: Option<&str>,
    class: &str,
    tags: &BTreeMap<String, String>,
) -> Result<bool, AwsError> {
    let mut req = c
        .create_log_group()
        .log_group_name(name)
        .log_group_class(class.into())
        .set_kms_key_id(kms_key.map(str::to_string));
    if !tags.is_empty() {
        req = req.set_tags(Some(tags.clone().into_iter().collect()));
    }
    match req.send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(AwsError::from_sdk("CreateLogGroup", &e)),
    }
}

/// Retention in days (`None`: never expire).
#[tracing::instrument(skip_all, fields(log_group = name))]
pub async fn set_retention(c: &Client, name: &str, days: Option<i32>) -> Result<(), AwsError> {
    match days {
        Some(d) => c
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(d)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("PutRetentionPolicy", &e)),
        None => c
            .delete_retention_policy()
            .log_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DeleteRetentionPolicy", &e)),
    }
}

/// The group's tags.
#[tracing::instrument(skip_all, fields(log_group = arn))]
pub async fn group_tags(c: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTagsForResource", &e))?;
    Ok(out.tags.unwrap_or_default().into_iter().collect())
}

#[tracing::instrument(skip_all, fields(log_group = arn))]
pub async fn tag_group(
    c: &Client,
    arn: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    if tags.is_empty() {
        return Ok(());
    }
    c.tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("TagResource", &e))
}

#[tracing::instrument(skip_all, fields(log_group = arn))]
pub async fn untag_group(c: &Client, arn: &str, keys: Vec<String>) -> Result<(), AwsError> {
    if keys.is_empty() {
        return Ok(());
    }
    c.untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("UntagResource", &e))
}

/// Delete a log group; already gone is fine.
#[tracing::instrument(skip_all, fields(log_group = name))]
pub async fn delete_log_group(c: &Client, name: &str) -> Result<(), AwsError> {
    match c.delete_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteLogGroup", &e)),
    }
}

/// A metric filter as the pipeline configures it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFilter {
    pub name: String,
    pub pattern: String,
    pub metric_name: String,
    pub namespace: String,
    pub value: String,
    pub default_value: Option<f64>,
    pub unit: Option<String>,
    pub dimensions: BTreeMap<String, String>,
}

#[tracing::instrument(skip_all, fields(log_group = group, filter = f.name))]
pub async fn put_metric_filter(c: &Client, group: &str, f: &MetricFilter) -> Result<(), AwsError> {
    let mut t = MetricTransformation::builder()
        .metric_name(&f.metric_name)
        .metric_namespace(&f.namespace)
        .metric_value(&f.value)
        .set_default_value(f.default_value)
        .set_unit(f.unit.as_deref().map(Into::into));
    if !f.dimensions.is_empty() {
        t = t.set_dimensions(Some(f.dimensions.clone().into_iter().collect()));
    }
    let t = t.build().map_err(|e| AwsError::Api {
        operation: "PutMetricFilter",
        code: String::new(),
        message: e.to_string(),
    })?;
    c.put_metric_filter()
        .log_group_name(group)
        .filter_name(&f.name)
        .filter_pattern(&f.pattern)
        .metric_transformations(t)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("PutMetricFilter", &e))
}

/// The metric filters of `group` whose names start with `prefix`.
#[tracing::instrument(skip_all, fields(log_group = group))]
pub async fn metric_filters(
    c: &Client,
    group: &str,
    prefix: &str,
) -> Result<Vec<MetricFilter>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_metric_filters()
            .log_group_name(group)
            .filter_name_prefix(prefix)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeMetricFilters", &e))?;
        for f in page.metric_filters() {
            let Some(t) = f.metric_transformations().first() else {
                continue;
            };
            out.push(MetricFilter {
                name: f.filter_name().unwrap_or("").to_string(),
                pattern: f.filter_pattern().unwrap_or("").to_string(),
                metric_name: t.metric_name().to_string(),
                namespace: t.metric_namespace().to_string(),
                value: t.metric_value().to_string(),
                default_value: t.default_value(),
                unit: t.unit().map(|u| u.as_str().to_string()),
                dimensions: t
                    .dimensions()
                    .map(|d| d.clone().into_iter().collect())
                    .unwrap_or_default(),
            });
        }
        token = page.next_token;
        if token.is_none() {
            return Ok(out);
        }
    }
}

#[tracing::instrument(skip_all, fields(log_group = group, filter = name))]
pub async fn delete_metric_filter(c: &Client, group: &str, name: &str) -> Result<(), AwsError> {
    match c
        .delete_metric_filter()
        .log_group_name(group)
        .filter_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteMetricFilter", &e)),
    }
}
