//! CloudWatch alarms on the metrics the log pipeline's metric filters publish.
use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricAlarm, Statistic};
use aws_sdk_cloudwatch::Client;

use super::error::AwsError;
use crate::config::Configured;

pub fn client(c: &Configured) -> Client {
    Client::new(&c.for_service("cloudwatch"))
}

/// An alarm as the pipeline configures it (one metric, one statistic).
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric_name: String,
    pub statistic: String,
    pub period: i32,
    pub evaluation_periods: i32,
    /// Never `None` when read back: AWS's default is `evaluation_periods`.
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    pub comparison_operator: String,
    pub treat_missing_data: String,
    pub alarm_actions: Vec<String>,
}

fn from_aws(a: &MetricAlarm) -> Alarm {
    Alarm {
        name: a.alarm_name().unwrap_or("").to_string(),
        description: a.alarm_description().unwrap_or("").to_string(),
        namespace: a.namespace().unwrap_or("").to_string(),
        metric_name: a.metric_name().unwrap_or("").to_string(),
        statistic: a
            .statistic()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        period: a.period().unwrap_or(0),
        evaluation_periods: a.evaluation_periods().unwrap_or(0),
        datapoints_to_alarm: a.datapoints_to_alarm().or(a.evaluation_periods()),
        threshold: a.threshold().unwrap_or(0.0),
        comparison_operator: a
            .comparison_operator()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        treat_missing_data: a.treat_missing_data().unwrap_or("missing").to_string(),
        alarm_actions: a.alarm_actions().to_vec(),
    }
}

#[tracing::instrument(skip_all, fields(alarm = a.name))]
pub async fn put_alarm(c: &Client, a: &Alarm) -> Result<(), AwsError> {
    c.put_metric_alarm()
        .alarm_name(&a.name)
        .alarm_description(&a.description)
        .namespace(&a.namespace)
        .metric_name(&a.metric_name)
        .statistic(Statistic::from(a.statistic.as_str()))
        .period(a.period)
        .evaluation_periods(a.evaluation_periods)
        .set_datapoints_to_alarm(a.datapoints_to_alarm)
        .threshold(a.threshold)
        .comparison_operator(ComparisonOperator::from(a.comparison_operator.as_str()))
        .treat_missing_data(&a.treat_missing_data)
        .set_alarm_actions(Some(a.alarm_actions.clone()).filter(|v| !v.is_empty()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("PutMetricAlarm", &e))
}

/// Alarms whose names start with `prefix`, with their state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
#[tracing::instrument(skip_all, fields(prefix = prefix))]
pub async fn alarms(c: &Client, prefix: &str) -> Result<Vec<(Alarm, String)>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeAlarms", &e))?;
        for a in page.metric_alarms() {
            out.push((
                from_aws(a),
                a.state_value()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            ));
        }
        token = page.next_token;
        if token.is_none() {
            return Ok(out);
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn delete_alarms(c: &Client, names: Vec<String>) -> Result<(), AwsError> {
    for chunk in names.chunks(100) {
        c.delete_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteAlarms", &e))?;
    }
    Ok(())
}
