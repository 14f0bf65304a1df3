//! The model and schema of `hastack_cloudwatch_log_pipeline`.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;
use tfplugin::timeouts::{self, TimeoutDefaults, Timeouts};
use tfplugin::{Attr, Attribute, Block, Nesting, Schema, Type};

pub fn defaults() -> TimeoutDefaults {
    let m = |n: u64| std::time::Duration::from_secs(n * 60);
    TimeoutDefaults {
        create: m(10),
        read: m(5),
        update: m(10),
        delete: m(10),
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: Attr<String>,
    pub name: Attr<String>,
    pub instance_group: Attr<String>,
    pub log_group_prefix: Attr<String>,
    pub files: Attr<Vec<File>>,
    pub retention_in_days: Attr<i64>,
    pub kms_key_arn: Attr<String>,
    pub log_group_class: Attr<String>,
    pub metric_filters: Attr<BTreeMap<String, MetricFilter>>,
    pub alarms: Attr<BTreeMap<String, Alarm>>,
    pub session_log_group: Attr<bool>,
    pub retain_on_destroy: Attr<bool>,
    pub tags: Attr<BTreeMap<String, String>>,
    pub tags_all: Attr<BTreeMap<String, String>>,
    pub log_group_names: Attr<BTreeMap<String, String>>,
    pub log_group_arns: Attr<BTreeMap<String, String>>,
    pub session_log_group_name: Attr<String>,
    pub agent_config_json: Attr<String>,
    pub parameter_name: Attr<String>,
    pub association_id: Attr<String>,
    pub node_policy_json: Attr<String>,
    pub timeouts: Attr<Timeouts>,
}

/// One file the agent follows on every member.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub key: String,
    pub path: String,
    pub stream_name: Option<String>,
    pub timestamp_format: Option<String>,
    pub timezone: Option<String>,
    pub multi_line_start_pattern: Option<String>,
    pub encoding: Option<String>,
    pub filters: Option<Vec<LineFilter>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LineFilter {
    #[serde(rename = "type")]
    pub kind: String,
    pub expression: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricFilter {
    pub file_key: String,
    pub pattern: String,
    pub metric_name: String,
    pub namespace: Option<String>,
    pub value: Option<String>,
    pub default_value: Option<Number>,
    pub unit: Option<String>,
    pub dimensions: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub metric_filter: String,
    pub threshold: f64,
    pub comparison_operator: Option<String>,
    pub evaluation_periods: Option<Number>,
    pub datapoints_to_alarm: Option<Number>,
    pub period: Option<Number>,
    pub statistic: Option<String>,
    pub treat_missing_data: Option<String>,
    pub alarm_actions: Option<Vec<String>>,
    pub description: Option<String>,
}

pub const DESCRIPTION: &str = "Every member's log files in CloudWatch Logs, for an instance group (`hastack_lightsail_ha_instance`), without touching instances.\n\n\
The CloudWatch agent configuration lives in the SSM parameter `AmazonCloudWatch-hastack-<name>` (the prefix the `CloudWatchAgentServerPolicy` managed policy lets nodes read). A State Manager association runs `AmazonCloudWatch-ManageAgent` (`configure`, mode `onPremise`, the parameter, restart) on every node tagged `hastack:group = <instance_group>`: on the members there now (the apply waits until each reports success) and on members added later — a larger `instance_count`, a rolling replacement, a healed member — as soon as they register with SSM.\n\n\
One log group per file, `<log_group_prefix>/<key>`, one stream per member (`{hostname}`: hastack names a member's host after it; on hybrid nodes the agent's `{instance_id}` is `i-UNKNOWN` for all). Only Terraform sets retention: the agent configuration carries none and `node_policy_json` grants neither `logs:CreateLogGroup` nor `logs:PutRetentionPolicy`.\n\n\
With `retain_on_destroy` (the default) destroy stops the agents and removes the parameter, association, metric filters and alarms but keeps the log groups (logs outlive the stack); a later create with the same name adopts groups tagged `hastack:pipeline = <name>`. Import with the name.";

pub fn schema() -> Schema {
    let computed =
        |name: &str, ty: Type, d: &str| Attribute::new(name, ty).computed().description(d);
    let opt = |name: &str, ty: Type, d: &str| Attribute::new(name, ty).optional().description(d);
    let dflt = |name: &str, ty: Type, d: &str| {
        Attribute::new(name, ty)
            .optional()
            .computed()
            .description(d)
    };
    let req = |name: &str, ty: Type, d: &str| Attribute::new(name, ty).required().description(d);
    let file = vec![
        req("key", Type::String, "Short name of the file: its log group is `<log_group_prefix>/<key>` (1–64 letters, digits, `_`, `-`, `.`)."),
        req("path", Type::String, "Absolute path on the members; globs as the agent takes them (`/var/log/app/*.log`)."),
        opt("stream_name", Type::String, "Log stream name; agent placeholders allowed. Default `{hostname}` (a stream per member)."),
        opt("timestamp_format", Type::String, "How lines' timestamps are written, e.g. `%d/%b/%Y:%H:%M:%S %z` (`%Y %y %b %m %d %H %M %S %f %z %p`...). Unset: the time the agent reads the line."),
        opt("timezone", Type::String, "`UTC` or `Local`, for `timestamp_format`."),
        opt("multi_line_start_pattern", Type::String, "Regular expression that starts a new event (stack traces), or `{timestamp_format}`."),
        opt("encoding", Type::String, "File encoding, e.g. `utf-8` (the default)."),
        Attribute::nested("filters", Nesting::List, vec![
            req("type", Type::String, "`include` or `exclude`."),
            req("expression", Type::String, "RE2 regular expression matched against each line."),
        ]).optional().description("Lines to ship (`include`) or drop (`exclude`), applied in order."),
    ];
    let metric_filter = vec![
        req("file_key", Type::String, "The `files` entry whose log group the filter reads."),
        req("pattern", Type::String, "CloudWatch Logs filter pattern: terms, `\"phrases\"`, `?any ?of`, `-exclusions`, or JSON selectors like `{ $.status >= 500 }`."),
        req("metric_name", Type::String, "Metric to publish."),
        opt("namespace", Type::String, "Metric namespace. Default `hastack/<name>`."),
        opt("value", Type::String, "Value published per matching line (a number, or `$.field`). Default `1`."),
        opt("default_value", Type::Number, "Value published when no line matches in a period (cannot be combined with `dimensions`)."),
        opt("unit", Type::String, "Metric unit, e.g. `Count`."),
        opt("dimensions", Type::map(Type::String), "Up to 3 dimensions taken from fields (`$.path`); needs a JSON or space-delimited pattern."),
    ];
    let alarm = vec![
        req("metric_filter", Type::String, "Key in `metric_filters` whose metric the alarm watches."),
        req("threshold", Type::Number, "Threshold compared with the statistic."),
        opt("comparison_operator", Type::String, "Default `GreaterThanOrEqualToThreshold`; also `GreaterThanThreshold`, `LessThanThreshold`, `LessThanOrEqualToThreshold`."),
        opt("evaluation_periods", Type::Number, "Periods evaluated. Default 1."),
        opt("datapoints_to_alarm", Type::Number, "Breaching periods (of `evaluation_periods`) that trigger the alarm. Default: all."),
        opt("period", Type::Number, "Seconds per period: 10, 30 or a multiple of 60. Default 60."),
        opt("statistic", Type::String, "`Sum` (default), `Average`, `Minimum`, `Maximum` or `SampleCount`."),
        opt("treat_missing_data", Type::String, "Default `notBreaching` (no matching line means no data point); also `breaching`, `ignore`, `missing`."),
        opt("alarm_actions", Type::list(Type::String), "ARNs notified when the alarm fires (e.g. an SNS topic)."),
        opt("description", Type::String, "Alarm description."),
    ];
    Schema::new(
        0,
        Block::new(DESCRIPTION)
            .attribute(computed("id", Type::String, "The pipeline's name."))
            .attribute(req("name", Type::String, "Name of the pipeline (1–64 letters, digits, `_`, `-`, `.`): names the parameter, association, metric filters and alarms. Changing it replaces the pipeline.").requires_replace())
            .attribute(req("instance_group", Type::String, "The instance group whose members ship logs: `hastack_lightsail_ha_instance.<x>.id` (its nodes carry `hastack:group = <id>`): a name prefix, 1–200 letters, digits, `-`, `_` or `.`, starting with a letter or digit."))
            .attribute(dflt("log_group_prefix", Type::String, "Prefix of the log groups. Default `/hastack/<name>`. Changing it replaces the pipeline.").requires_replace())
            .attribute(Attribute::nested("files", Nesting::List, file).required().description("Files to ship from every member (1–50, unique keys)."))
            .attribute(dflt("retention_in_days", Type::Number, "Days CloudWatch Logs keeps events: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653; `0` keeps them forever. Default 30. Set on the groups by Terraform only."))
            .attribute(opt("kms_key_arn", Type::String, "KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`, not an alias) the log groups are encrypted with (its key policy must allow `logs.<region>.amazonaws.com`). Applied when a group is created. Changing it replaces the pipeline.").requires_replace())
            .attribute(dflt("log_group_class", Type::String, "`STANDARD` (default) or `INFREQUENT_ACCESS` (cheaper; no metric filters). Changing it replaces the pipeline.").requires_replace())
            .attribute(Attribute::nested("metric_filters", Nesting::Map, metric_filter).optional().description("Metric filters by key (filter name `hastack-<name>-<key>`): count matching lines as a CloudWatch metric."))
            .attribute(Attribute::nested("alarms", Nesting::Map, alarm).optional().description("CloudWatch alarms by key (1–64 letters, digits, `_`, `-`, `.`; alarm name `hastack-<name>-<key>`) on the metric filters' metrics."))
            .attribute(dflt("session_log_group", Type::Bool, "Also create `<log_group_prefix>/sessions` for Session Manager transcripts (`hastack_ssm_session_policy.cloudwatch_log_group_name = session_log_group_name`). Default `false`."))
            .attribute(dflt("retain_on_destroy", Type::Bool, "Keep the log groups (and their events) when the pipeline is destroyed or a file is dropped from `files`; a later create adopts them. Default `true`. With `false` destroy (and dropping a file) deletes the groups."))
            .attribute(opt("tags", Type::map(Type::String), "Tags of the log groups; merged with the provider's `default_tags` (these win). Groups also carry `hastack:pipeline = <name>`."))
            .attribute(computed("tags_all", Type::map(Type::String), "All tags of the log groups, the provider's `default_tags` included."))
            .attribute(computed("log_group_names", Type::map(Type::String), "Log group name per `files` key (and `sessions`)."))
            .attribute(computed("log_group_arns", Type::map(Type::String), "Log group ARN per `files` key (and `sessions`)."))
            .attribute(computed("session_log_group_name", Type::String, "The sessions log group, or null without `session_log_group`."))
            .attribute(computed("agent_config_json", Type::String, "The CloudWatch agent configuration stored in the parameter."))
            .attribute(computed("parameter_name", Type::String, "The SSM parameter holding the agent configuration."))
            .attribute(computed("association_id", Type::String, "The State Manager association that configures the agents."))
            .attribute(computed("node_policy_json", Type::String, "IAM policy (JSON) the members' SSM role needs: read the parameter, create streams and put events in these groups only. No `logs:CreateLogGroup`, no `logs:PutRetentionPolicy`."))
            .block(timeouts::block(&defaults())),
    )
}

/// Shorthand for an attribute holding a value.
pub fn some<T>(t: T) -> Attr<T> {
    Attr::some(t)
}
