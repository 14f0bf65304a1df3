//! Amazon CloudWatch (`GraniteServiceVersion20100801`): metric data, statistics, alarms and their
//! evaluation. Spoken as smithy rpcv2-CBOR (what the Rust SDK sends) and awsJson1_0.
pub mod handlers;
pub mod protocol;

use std::collections::BTreeMap;

/// A metric's identity: namespace, name and sorted dimensions.
pub type MetricKey = (String, String, Vec<(String, String)>);

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub t: f64,
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub unit: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Alarm {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
    pub period: i64,
    pub evaluation_periods: i64,
    pub datapoints_to_alarm: i64,
    pub threshold: f64,
    pub comparison: String,
    pub treat_missing: String,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_actions: Vec<String>,
    pub unit: Option<String>,
    pub state: String,
    pub state_reason: String,
    pub state_updated: f64,
    pub config_updated: f64,
}

/// CloudWatch as a service: awsJson1_0 (and rpcv2-CBOR, chosen by the request), per account
/// and region.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "CloudWatch",
    model: "cloudwatch",
    target_prefix: "GraniteServiceVersion20100801",
    signing_name: "monitoring",
    protocol: crate::service::Protocol::AwsJson10,
    scope: crate::service::Scope::Regional,
    operations: handlers::OPERATIONS,
    unsigned: &[],
    summary: Some(summary),
};

fn summary(b: &Backend, _ctx: &crate::Ctx<'_>) -> serde_json::Value {
    serde_json::json!({
        "alarms": b.alarms.values().map(|a| serde_json::json!({"name": a.name, "state": a.state})).collect::<Vec<_>>(),
        "metrics": b.metrics.len(),
    })
}

/// One account's CloudWatch in one region.
#[derive(Default)]
pub struct Backend {
    pub metrics: BTreeMap<MetricKey, Vec<Sample>>,
    pub alarms: BTreeMap<String, Alarm>,
}

impl Backend {
    pub fn add(&mut self, key: MetricKey, s: Sample) {
        self.metrics.entry(key).or_default().push(s);
    }

    /// Metric data points that CloudWatch Logs metric filters produced.
    pub fn ingest(&mut self, points: Vec<crate::effects::MetricPoint>) {
        for p in points {
            let mut dims = p.dimensions;
            dims.sort();
            self.add(
                (p.namespace, p.name, dims),
                Sample {
                    t: p.timestamp,
                    count: 1.0,
                    sum: p.value,
                    min: p.value,
                    max: p.value,
                    unit: p.unit,
                },
            );
        }
    }

    /// The statistic of the samples in [from, to).
    pub fn statistic(&self, key: &MetricKey, stat: &str, from: f64, to: f64) -> Option<f64> {
        let samples: Vec<&Sample> = self
            .metrics
            .get(key)?
            .iter()
            .filter(|s| s.t >= from && s.t < to)
            .collect();
        if samples.is_empty() {
            return None;
        }
        let count: f64 = samples.iter().map(|s| s.count).sum();
        let sum: f64 = samples.iter().map(|s| s.sum).sum();
        Some(match stat {
            "Sum" => sum,
            "SampleCount" => count,
            "Minimum" => samples.iter().map(|s| s.min).fold(f64::INFINITY, f64::min),
            "Maximum" => samples
                .iter()
                .map(|s| s.max)
                .fold(f64::NEG_INFINITY, f64::max),
            _ => sum / count,
        })
    }

    /// Evaluate every alarm at `now` over its most recent periods (ending now), as CloudWatch
    /// does on its own schedule; state changes are stamped.
    pub fn evaluate_alarms(&mut self, now: f64) {
        let updates: Vec<(String, String, String)> = self
            .alarms
            .values()
            .map(|a| {
                let key = (a.namespace.clone(), a.metric.clone(), a.dimensions.clone());
                let p = a.period as f64;
                let values: Vec<Option<f64>> = (0..a.evaluation_periods).map(|k| self.statistic(&key, &a.statistic, now - (k + 1) as f64 * p, now - k as f64 * p)).collect();
                let breaching = values.iter().flatten().filter(|v| compare(**v, &a.comparison, a.threshold)).count() as i64;
                let present = values.iter().flatten().count();
                let (state, reason) = if present == 0 {
                    match a.treat_missing.as_str() {
                        "breaching" => ("ALARM", "no data points; missing data treated as breaching".to_string()),
                        "notBreaching" => ("OK", "no data points; missing data treated as not breaching".to_string()),
                        "ignore" => (a.state.as_str(), a.state_reason.clone()),
                        _ => ("INSUFFICIENT_DATA", format!("Insufficient Data: {} datapoints were unknown.", a.evaluation_periods)),
                    }
                } else if breaching >= a.datapoints_to_alarm {
                    ("ALARM", format!("Threshold Crossed: {breaching} out of the last {} datapoints were {} the threshold ({}).", a.evaluation_periods, verb(&a.comparison), a.threshold))
                } else {
                    ("OK", format!("Threshold Crossed: {breaching} out of the last {} datapoints were {} the threshold ({}).", a.evaluation_periods, verb(&a.comparison), a.threshold))
                };
                (a.name.clone(), state.to_string(), reason)
            })
            .collect();
        for (name, state, reason) in updates {
            if let Some(a) = self.alarms.get_mut(&name) {
                if a.state != state {
                    a.state = state;
                    a.state_reason = reason;
                    a.state_updated = now;
                }
            }
        }
    }
}

fn compare(v: f64, op: &str, t: f64) -> bool {
    match op {
        "GreaterThanOrEqualToThreshold" => v >= t,
        "GreaterThanThreshold" => v > t,
        "LessThanThreshold" => v < t,
        "LessThanOrEqualToThreshold" => v <= t,
        _ => false,
    }
}

fn verb(op: &str) -> &'static str {
    match op {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        _ => "less than or equal to",
    }
}
