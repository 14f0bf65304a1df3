//! One account's CloudWatch in one region: metric samples, statistics, alarms and their
//! evaluation, with CloudWatch's rules and typed errors; no JSON, no CBOR.
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CloudWatchError {
    #[error("{0}")]
    InvalidParameterValue(String),
    /// A required member is absent (its path).
    #[error("1 validation error detected: Value null at '{0}' failed to satisfy constraint: Member must not be null")]
    Missing(String),
    #[error("{0}")]
    ResourceNotFound(String),
}

pub type Result<T> = std::result::Result<T, CloudWatchError>;

fn invalid(msg: impl Into<String>) -> CloudWatchError {
    CloudWatchError::InvalidParameterValue(msg.into())
}

fn missing(member: &str) -> CloudWatchError {
    CloudWatchError::Missing(member.into())
}

pub const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const COMPARISONS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

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

/// A statistic set as PutMetricData takes it (each member required when the set is given).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatisticSet {
    pub sample_count: Option<f64>,
    pub sum: Option<f64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

/// One `MetricDatum`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Datum {
    pub metric_name: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub timestamp: Option<f64>,
    pub value: Option<f64>,
    pub statistic_values: Option<StatisticSet>,
    pub values: Vec<f64>,
    pub counts: Vec<f64>,
    pub unit: Option<String>,
}

/// What GetMetricStatistics asks for.
#[derive(Clone, Debug, Default)]
pub struct StatisticsQuery {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub period: Option<i64>,
    pub statistics: Vec<String>,
}

/// One period's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    pub timestamp: f64,
    pub values: Vec<(String, Option<f64>)>,
}

/// One `MetricDataQuery` (MetricStat queries only).
#[derive(Clone, Debug, Default)]
pub struct DataQuery {
    pub id: Option<String>,
    pub label: Option<String>,
    pub has_expression: bool,
    /// (namespace, metric name, dimensions), when a MetricStat is given.
    pub metric: Option<MetricKey>,
    pub has_metric_stat: bool,
    pub period: Option<i64>,
    pub stat: Option<String>,
    pub return_data: bool,
}

/// One `MetricDataResult`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub id: String,
    pub label: String,
    pub timestamps: Vec<f64>,
    pub values: Vec<f64>,
}

/// What PutMetricAlarm asks for.
#[derive(Clone, Debug, Default)]
pub struct NewAlarm {
    pub name: Option<String>,
    pub description: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub statistic: Option<String>,
    pub period: Option<i64>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub treat_missing: Option<String>,
    pub actions_enabled: Option<bool>,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_actions: Vec<String>,
    pub unit: Option<String>,
}

fn sorted(mut d: Vec<(String, String)>) -> Vec<(String, String)> {
    d.sort();
    d
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

    pub fn put_metric_data(
        &mut self,
        now: f64,
        namespace: Option<&str>,
        data: Option<Vec<Datum>>,
    ) -> Result<()> {
        let ns = namespace.ok_or_else(|| missing("Namespace"))?;
        if ns.starts_with("AWS/") {
            return Err(invalid(
                "The value AWS/ for parameter Namespace is invalid.",
            ));
        }
        let data = data.ok_or_else(|| missing("MetricData"))?;
        for d in data {
            let name = d
                .metric_name
                .ok_or_else(|| missing("MetricData.member.MetricName"))?;
            let t = d.timestamp.unwrap_or(now);
            let unit = d.unit;
            let key: MetricKey = (ns.to_string(), name, sorted(d.dimensions));
            if let Some(v) = d.value {
                self.add(
                    key.clone(),
                    Sample {
                        t,
                        count: 1.0,
                        sum: v,
                        min: v,
                        max: v,
                        unit: unit.clone(),
                    },
                );
            }
            if let Some(sv) = d.statistic_values {
                let f = |v: Option<f64>, k: &str| {
                    v.ok_or_else(|| missing(&format!("StatisticValues.{k}")))
                };
                self.add(
                    key.clone(),
                    Sample {
                        t,
                        count: f(sv.sample_count, "SampleCount")?,
                        sum: f(sv.sum, "Sum")?,
                        min: f(sv.minimum, "Minimum")?,
                        max: f(sv.maximum, "Maximum")?,
                        unit: unit.clone(),
                    },
                );
            }
            for (i, v) in d.values.iter().enumerate() {
                let c = d.counts.get(i).copied().unwrap_or(1.0);
                self.add(
                    key.clone(),
                    Sample {
                        t,
                        count: c,
                        sum: v * c,
                        min: *v,
                        max: *v,
                        unit: unit.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    /// GetMetricStatistics: the metric's unit and, per period with data, the statistics asked.
    pub fn statistics(&self, q: StatisticsQuery) -> Result<(Option<String>, Vec<Datapoint>)> {
        let ns = q.namespace.ok_or_else(|| missing("Namespace"))?;
        let name = q.metric_name.ok_or_else(|| missing("MetricName"))?;
        let start = q.start.ok_or_else(|| missing("StartTime"))?;
        let end = q.end.ok_or_else(|| missing("EndTime"))?;
        let period = q.period.ok_or_else(|| missing("Period"))?;
        if period < 1 || (period >= 60 && period % 60 != 0) {
            return Err(invalid(format!(
                "The parameter Period must be 1, 5, 10, 30, or a multiple of 60; got {period}."
            )));
        }
        if q.statistics.is_empty()
            || q.statistics
                .iter()
                .any(|x| !STATISTICS.contains(&x.as_str()))
        {
            return Err(invalid(format!("Statistics must be among {STATISTICS:?}")));
        }
        let key: MetricKey = (ns, name, sorted(q.dimensions));
        let unit = self
            .metrics
            .get(&key)
            .and_then(|v| v.iter().find_map(|s| s.unit.clone()));
        let mut points = Vec::new();
        for (t, to) in self.periods_with_data(&key, start, end, period as f64) {
            if points.len() == 1440 {
                break;
            }
            if self.statistic(&key, "SampleCount", t, to).is_some() {
                points.push(Datapoint {
                    timestamp: t,
                    values: q
                        .statistics
                        .iter()
                        .map(|s| (s.clone(), self.statistic(&key, s, t, to)))
                        .collect(),
                });
            }
        }
        Ok((unit, points))
    }

    /// GetMetricData over MetricStat queries (no metric math), newest first unless asked.
    pub fn metric_data(
        &self,
        start: Option<f64>,
        end: Option<f64>,
        queries: Option<Vec<DataQuery>>,
        newest_first: bool,
    ) -> Result<Vec<Series>> {
        let start = start.ok_or_else(|| missing("StartTime"))?;
        let end = end.ok_or_else(|| missing("EndTime"))?;
        let queries = queries.ok_or_else(|| missing("MetricDataQueries"))?;
        let mut results = Vec::new();
        for q in queries {
            let id = q.id.ok_or_else(|| missing("MetricDataQueries.member.Id"))?;
            if q.has_expression {
                return Err(invalid(
                    "Metric math expressions are not supported by hastack-local.",
                ));
            }
            if !q.has_metric_stat {
                return Err(missing("MetricDataQueries.member.MetricStat"));
            }
            let (ns, name, dims) = q.metric.ok_or_else(|| missing("MetricStat.Metric"))?;
            let key: MetricKey = (ns, name, sorted(dims));
            let period = q
                .period
                .filter(|p| *p > 0)
                .ok_or_else(|| missing("MetricStat.Period"))? as f64;
            let stat = q.stat.ok_or_else(|| missing("MetricStat.Stat"))?;
            let (mut stamps, mut values) = (Vec::new(), Vec::new());
            for (t, to) in self.periods_with_data(&key, start, end, period) {
                if stamps.len() == 100_800 {
                    break;
                }
                if let Some(v) = self.statistic(&key, &stat, t, to) {
                    stamps.push(t);
                    values.push(v);
                }
            }
            if newest_first {
                stamps.reverse();
                values.reverse();
            }
            if q.return_data {
                results.push(Series {
                    id,
                    label: q.label.unwrap_or_else(|| key.1.clone()),
                    timestamps: stamps,
                    values,
                });
            }
        }
        Ok(results)
    }

    /// Metrics by namespace and name.
    pub fn metrics_matching(&self, namespace: Option<&str>, name: Option<&str>) -> Vec<&MetricKey> {
        self.metrics
            .keys()
            .filter(|(n, m, _)| namespace.is_none_or(|x| x == n) && name.is_none_or(|x| x == m))
            .collect()
    }

    /// Create or replace an alarm (keeping its state), then evaluate.
    pub fn put_metric_alarm(&mut self, now: f64, req: NewAlarm) -> Result<()> {
        let name = req.name.ok_or_else(|| missing("AlarmName"))?;
        let comparison = req
            .comparison
            .ok_or_else(|| missing("ComparisonOperator"))?;
        if !COMPARISONS.contains(&comparison.as_str()) {
            return Err(invalid(format!(
                "ComparisonOperator {comparison} is not supported by hastack-local"
            )));
        }
        let periods = req
            .evaluation_periods
            .ok_or_else(|| missing("EvaluationPeriods"))?;
        let statistic = req.statistic.ok_or_else(|| invalid("Statistic is required (extended statistics and metric math are not supported by hastack-local)"))?;
        if !STATISTICS.contains(&statistic.as_str()) {
            return Err(invalid(format!("Statistic {statistic} is not valid")));
        }
        let period = req.period.ok_or_else(|| missing("Period"))?;
        if ![10, 20, 30].contains(&period) && (period < 60 || period % 60 != 0) {
            return Err(invalid(format!(
                "The parameter Period must be 10, 20, 30, or a multiple of 60; got {period}."
            )));
        }
        // CloudWatch's limits on how far back an alarm looks (PutMetricAlarm's Period): every
        // evaluation looks at each of its periods.
        let longest = if period < 3600 { 86_400 } else { 604_800 };
        if periods.saturating_mul(period) > longest {
            return Err(invalid(format!(
                "Period multiplied by EvaluationPeriods must not exceed {longest} seconds for a \
                 period of {period} seconds; got {periods} periods."
            )));
        }
        let to_alarm = req.datapoints_to_alarm.unwrap_or(periods);
        if periods < 1 || to_alarm < 1 || to_alarm > periods {
            return Err(invalid(
                "DatapointsToAlarm must be between 1 and EvaluationPeriods",
            ));
        }
        let treat = req.treat_missing.unwrap_or_else(|| "missing".into());
        if !["breaching", "notBreaching", "ignore", "missing"].contains(&treat.as_str()) {
            return Err(invalid(format!("TreatMissingData {treat} is not valid")));
        }
        let prior = self.alarms.get(&name).cloned();
        let a = Alarm {
            description: req.description.unwrap_or_default(),
            namespace: req.namespace.ok_or_else(|| missing("Namespace"))?,
            metric: req.metric_name.ok_or_else(|| missing("MetricName"))?,
            dimensions: sorted(req.dimensions),
            statistic,
            period,
            evaluation_periods: periods,
            datapoints_to_alarm: to_alarm,
            threshold: req.threshold.ok_or_else(|| missing("Threshold"))?,
            comparison,
            treat_missing: treat,
            actions_enabled: req.actions_enabled.unwrap_or(true),
            alarm_actions: req.alarm_actions,
            ok_actions: req.ok_actions,
            insufficient_actions: req.insufficient_actions,
            unit: req.unit,
            state: prior
                .as_ref()
                .map(|p| p.state.clone())
                .unwrap_or_else(|| "INSUFFICIENT_DATA".into()),
            state_reason: prior
                .as_ref()
                .map(|p| p.state_reason.clone())
                .unwrap_or_else(|| "Unchecked: Initial alarm creation".into()),
            state_updated: prior.as_ref().map(|p| p.state_updated).unwrap_or(now),
            config_updated: now,
            name: name.clone(),
        };
        self.alarms.insert(name, a);
        self.evaluate_alarms(now);
        Ok(())
    }

    /// Alarms (evaluated at `now`) by names, name prefix and state.
    pub fn alarms_matching(
        &mut self,
        now: f64,
        names: &[String],
        prefix: &str,
        state: Option<&str>,
    ) -> Vec<&Alarm> {
        self.evaluate_alarms(now);
        self.alarms
            .values()
            .filter(|a| {
                (names.is_empty() || names.contains(&a.name))
                    && a.name.starts_with(prefix)
                    && state.is_none_or(|st| st == a.state)
            })
            .collect()
    }

    /// Delete alarms; every one must exist.
    pub fn delete_alarms(&mut self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Err(missing("AlarmNames"));
        }
        if let Some(m) = names.iter().find(|n| !self.alarms.contains_key(*n)) {
            return Err(CloudWatchError::ResourceNotFound(format!(
                "Alarm {m} does not exist"
            )));
        }
        for n in names {
            self.alarms.remove(n);
        }
        Ok(())
    }

    /// The periods `[start + i·period, start + (i+1)·period)` that begin before `end` and hold
    /// samples of `key`, in time order. Found from the samples, not by stepping through every
    /// period of the range: a fuzzed EndTime of 1e166 seconds stepped for ever.
    fn periods_with_data(
        &self,
        key: &MetricKey,
        start: f64,
        end: f64,
        period: f64,
    ) -> Vec<(f64, f64)> {
        // Bits of non-negative floats sort as the floats do.
        let indexes: BTreeSet<u64> = self
            .metrics
            .get(key)
            .into_iter()
            .flatten()
            .filter(|s| s.t >= start)
            .map(|s| ((s.t - start) / period).floor())
            .filter(|i| *i >= 0.0 && start + i * period < end)
            .map(f64::to_bits)
            .collect();
        indexes
            .into_iter()
            .map(|bits| {
                let from = start + f64::from_bits(bits) * period;
                (from, from + period)
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MetricKey {
        (
            "App".into(),
            "Latency".into(),
            vec![("Host".into(), "a".into())],
        )
    }

    fn sample(t: f64, v: f64) -> Sample {
        Sample {
            t,
            count: 1.0,
            sum: v,
            min: v,
            max: v,
            unit: None,
        }
    }

    fn with_samples(at: &[f64]) -> Backend {
        let mut b = Backend::default();
        for (i, t) in at.iter().enumerate() {
            b.add(key(), sample(*t, i as f64 + 1.0));
        }
        b
    }

    fn stats(b: &Backend, start: f64, end: f64, period: i64) -> Vec<f64> {
        let (ns, name, dims) = key();
        b.statistics(StatisticsQuery {
            namespace: Some(ns),
            metric_name: Some(name),
            dimensions: dims,
            start: Some(start),
            end: Some(end),
            period: Some(period),
            statistics: vec!["Sum".into()],
        })
        .unwrap()
        .1
        .iter()
        .map(|p| p.timestamp)
        .collect()
    }

    fn data(b: &Backend, start: f64, end: f64, period: i64) -> Vec<f64> {
        let q = DataQuery {
            id: Some("m1".into()),
            metric: Some(key()),
            has_metric_stat: true,
            period: Some(period),
            stat: Some("Sum".into()),
            return_data: true,
            ..Default::default()
        };
        b.metric_data(Some(start), Some(end), Some(vec![q]), false)
            .unwrap()
            .remove(0)
            .timestamps
    }

    /// The periods are those that begin before EndTime and hold samples (the last may reach
    /// past EndTime), each stamped with its start.
    #[test]
    fn statistics_are_per_period_with_data() {
        let b = with_samples(&[1005.0, 1065.0, 1119.0, 1200.0, 990.0]);
        for (name, start, end, period, want) in [
            ("three_periods", 1000.0, 1130.0, 60, vec![1000.0, 1060.0]),
            (
                "last_reaches_past_end",
                1000.0,
                1181.0,
                60,
                vec![1000.0, 1060.0, 1180.0],
            ),
            ("one_period", 1000.0, 1001.0, 300, vec![1000.0]),
            ("empty_range", 1000.0, 1000.0, 60, vec![]),
        ] {
            assert_eq!(stats(&b, start, end, period), want, "{name}: statistics");
            assert_eq!(data(&b, start, end, period), want, "{name}: data");
        }
    }

    /// The fuzz target emulator_cbor's input (fuzz/regressions/emulator_cbor/): GetMetricData
    /// with an EndTime of 1e166 seconds stepped through every empty minute, for ever.
    #[test]
    fn huge_time_ranges_take_no_longer_than_their_samples() {
        let b = with_samples(&[1_767_225_060.0]);
        let end = 9.763392570063222e165;
        assert_eq!(data(&b, 1_767_225_000.0, end, 60), vec![1_767_225_060.0]);
        assert_eq!(stats(&b, 1_767_225_000.0, end, 60), vec![1_767_225_060.0]);
        // Where a period is below a float's resolution, what is found is at most the samples.
        assert!(data(&b, f64::MIN, f64::MAX, 1).len() <= 1);
        assert!(data(&b, f64::NEG_INFINITY, f64::INFINITY, 1).len() <= 1);
    }

    /// PutMetricAlarm holds the periods every evaluation looks at to CloudWatch's limits:
    /// Period × EvaluationPeriods at most a day below an hour's period, else seven days.
    #[test]
    fn alarms_look_back_at_most_as_far_as_cloudwatch_allows() {
        let alarm = |period: i64, periods: i64| NewAlarm {
            name: Some("a".into()),
            namespace: Some("App".into()),
            metric_name: Some("Latency".into()),
            statistic: Some("Sum".into()),
            period: Some(period),
            evaluation_periods: Some(periods),
            threshold: Some(1.0),
            comparison: Some("GreaterThanThreshold".into()),
            ..Default::default()
        };
        let mut b = Backend::default();
        for (period, periods, ok) in [
            (60, 1440, true),
            (60, 1441, false),
            (3600, 168, true),
            (3600, 169, false),
            (10, 8640, true),
            (60, 1_000_000_000_000, false),
            (0, 1, false),
            (45, 1, false),
        ] {
            assert_eq!(
                b.put_metric_alarm(1000.0, alarm(period, periods)).is_ok(),
                ok,
                "{period} s × {periods}"
            );
        }
    }
}
