//! The official Rust SDKs for CloudWatch Logs (awsJson1_1) and CloudWatch (rpcv2-CBOR) against
//! hastack-local: log groups, retention, streams, events, filters, metric filters feeding
//! CloudWatch metrics, and an alarm on such a metric changing state.
mod common;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, MetricStat, StateValue, Statistic,
};
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};
use common::*;

fn event(t_ms: i64, msg: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(t_ms)
        .message(msg)
        .build()
        .unwrap()
}

const NOW_MS: i64 = (T0 * 1000.0) as i64;

#[tokio::test]
async fn log_groups_retention_streams_events_filters_tags() {
    let (r, _clock) = emulator().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&r));
    logs.create_log_group()
        .log_group_name("/hastack/web")
        .tags("team", "web")
        .send()
        .await
        .unwrap();
    let dup = logs
        .create_log_group()
        .log_group_name("/hastack/web")
        .send()
        .await
        .unwrap_err();
    assert!(dup
        .as_service_error()
        .unwrap()
        .is_resource_already_exists_exception());
    let bad = logs
        .put_retention_policy()
        .log_group_name("/hastack/web")
        .retention_in_days(10)
        .send()
        .await
        .unwrap_err();
    assert!(
        bad.as_service_error()
            .unwrap()
            .is_invalid_parameter_exception(),
        "10 days is not an allowed retention"
    );
    logs.put_retention_policy()
        .log_group_name("/hastack/web")
        .retention_in_days(14)
        .send()
        .await
        .unwrap();
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/hastack")
        .send()
        .await
        .unwrap()
        .log_groups
        .unwrap();
    assert_eq!(groups[0].retention_in_days(), Some(14));

    logs.create_log_stream()
        .log_group_name("/hastack/web")
        .log_stream_name("web-1/nginx")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/hastack/web")
        .log_stream_name("web-2/nginx")
        .send()
        .await
        .unwrap();
    logs.put_log_events()
        .log_group_name("/hastack/web")
        .log_stream_name("web-1/nginx")
        .log_events(event(NOW_MS - 3000, "GET / 200"))
        .log_events(event(NOW_MS - 2000, "GET /missing 404"))
        .log_events(event(NOW_MS - 1000, "ERROR upstream timed out"))
        .send()
        .await
        .unwrap();
    let unordered = logs
        .put_log_events()
        .log_group_name("/hastack/web")
        .log_stream_name("web-2/nginx")
        .log_events(event(NOW_MS, "b"))
        .log_events(event(NOW_MS - 5, "a"))
        .send()
        .await
        .unwrap_err();
    assert!(unordered
        .as_service_error()
        .unwrap()
        .is_invalid_parameter_exception());
    let old = logs
        .put_log_events()
        .log_group_name("/hastack/web")
        .log_stream_name("web-2/nginx")
        .log_events(event(NOW_MS - 20 * 86_400_000, "ancient"))
        .log_events(event(NOW_MS, "fresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.rejected_log_events_info()
            .unwrap()
            .too_old_log_event_end_index(),
        Some(1)
    );

    let got = logs
        .get_log_events()
        .log_group_name("/hastack/web")
        .log_stream_name("web-1/nginx")
        .start_from_head(true)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.events()
            .iter()
            .map(|e| e.message().unwrap())
            .collect::<Vec<_>>(),
        ["GET / 200", "GET /missing 404"]
    );
    let more = logs
        .get_log_events()
        .log_group_name("/hastack/web")
        .log_stream_name("web-1/nginx")
        .next_token(got.next_forward_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(more.events().len(), 1);

    let errors = logs
        .filter_log_events()
        .log_group_name("/hastack/web")
        .filter_pattern("ERROR")
        .send()
        .await
        .unwrap();
    assert_eq!(
        errors
            .events()
            .iter()
            .map(|e| e.log_stream_name().unwrap())
            .collect::<Vec<_>>(),
        ["web-1/nginx"]
    );
    let any = logs
        .filter_log_events()
        .log_group_name("/hastack/web")
        .filter_pattern("?404 ?fresh")
        .send()
        .await
        .unwrap();
    assert_eq!(any.events().len(), 2);
    let streams = logs
        .describe_log_streams()
        .log_group_name("/hastack/web")
        .send()
        .await
        .unwrap()
        .log_streams
        .unwrap();
    assert_eq!(streams.len(), 2);
    assert!(streams[0].last_event_timestamp().is_some());

    let arn = groups[0].log_group_arn().unwrap().to_string();
    logs.tag_resource()
        .resource_arn(&arn)
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    logs.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["env"]);

    logs.delete_log_stream()
        .log_group_name("/hastack/web")
        .log_stream_name("web-2/nginx")
        .send()
        .await
        .unwrap();
    logs.delete_retention_policy()
        .log_group_name("/hastack/web")
        .send()
        .await
        .unwrap();
    logs.delete_log_group()
        .log_group_name("/hastack/web")
        .send()
        .await
        .unwrap();
    let gone = logs
        .describe_log_streams()
        .log_group_name("/hastack/web")
        .send()
        .await
        .unwrap_err();
    assert!(gone
        .as_service_error()
        .unwrap()
        .is_resource_not_found_exception());
    r.stop().await;
}

#[tokio::test]
async fn metric_filter_metric_drives_an_alarm_over_cbor() {
    let (r, clock) = emulator().await;
    let conf = sdk_config(&r);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    logs.create_log_group()
        .log_group_name("/hastack/app")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/hastack/app")
        .log_stream_name("web-1")
        .send()
        .await
        .unwrap();
    logs.put_metric_filter()
        .log_group_name("/hastack/app")
        .filter_name("errors")
        .filter_pattern("{ $.level = \"error\" }")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("AppErrors")
                .metric_namespace("Hastack")
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let filters = logs
        .describe_metric_filters()
        .log_group_name("/hastack/app")
        .send()
        .await
        .unwrap()
        .metric_filters
        .unwrap();
    assert_eq!(filters[0].filter_name(), Some("errors"));

    cw.put_metric_alarm()
        .alarm_name("app-errors")
        .namespace("Hastack")
        .metric_name("AppErrors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(2.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("notBreaching")
        .send()
        .await
        .unwrap();
    let state = |cw: aws_sdk_cloudwatch::Client| async move {
        cw.describe_alarms()
            .alarm_names("app-errors")
            .send()
            .await
            .unwrap()
            .metric_alarms
            .unwrap()[0]
            .state_value()
            .unwrap()
            .clone()
    };
    assert_eq!(state(cw.clone()).await, StateValue::Ok);

    let lines = [
        r#"{"level":"error","msg":"db down"}"#,
        r#"{"level":"info","msg":"ok"}"#,
        r#"{"level":"error","msg":"db still down"}"#,
    ];
    let mut put = logs
        .put_log_events()
        .log_group_name("/hastack/app")
        .log_stream_name("web-1");
    for (i, l) in lines.iter().enumerate() {
        put = put.log_events(event(NOW_MS + i as i64, l));
    }
    put.send().await.unwrap();
    clock.advance(1.0);
    let alarm = cw
        .describe_alarms()
        .alarm_names("app-errors")
        .send()
        .await
        .unwrap()
        .metric_alarms
        .unwrap()
        .remove(0);
    assert_eq!(
        alarm.state_value(),
        Some(&StateValue::Alarm),
        "{:?}",
        alarm.state_reason()
    );
    assert!(alarm.state_updated_timestamp().is_some());

    let stats = cw
        .get_metric_statistics()
        .namespace("Hastack")
        .metric_name("AppErrors")
        .start_time(DateTime::from_secs(T0 as i64 - 60))
        .end_time(DateTime::from_secs(T0 as i64 + 60))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap();
    let total: f64 = stats.datapoints().iter().filter_map(|d| d.sum()).sum();
    assert_eq!(total, 2.0, "two error lines became two metric data points");

    // After the window passes with no errors, the alarm returns to OK.
    clock.advance(120.0);
    assert_eq!(state(cw.clone()).await, StateValue::Ok);
    cw.delete_alarms()
        .alarm_names("app-errors")
        .send()
        .await
        .unwrap();
    let missing = cw
        .delete_alarms()
        .alarm_names("app-errors")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing.as_service_error().unwrap().is_resource_not_found(),
        "{missing:?}"
    );
    logs.delete_metric_filter()
        .log_group_name("/hastack/app")
        .filter_name("errors")
        .send()
        .await
        .unwrap();
    r.stop().await;
}

#[tokio::test]
async fn put_and_get_metric_data_over_cbor() {
    let (r, _clock) = emulator().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk_config(&r));
    let dim = Dimension::builder().name("Instance").value("web-1").build();
    for (i, v) in [10.0, 20.0, 30.0].iter().enumerate() {
        cw.put_metric_data()
            .namespace("Hastack/Web")
            .metric_data(
                MetricDatum::builder()
                    .metric_name("Latency")
                    .dimensions(dim.clone())
                    .value(*v)
                    .timestamp(DateTime::from_secs(T0 as i64 - 100 + i as i64))
                    .unit("Milliseconds".into())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let q = aws_sdk_cloudwatch::types::MetricDataQuery::builder()
        .id("lat")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    aws_sdk_cloudwatch::types::Metric::builder()
                        .namespace("Hastack/Web")
                        .metric_name("Latency")
                        .dimensions(dim.clone())
                        .build(),
                )
                .period(300)
                .stat("Average")
                .build(),
        )
        .build();
    let out = cw
        .get_metric_data()
        .metric_data_queries(q)
        .start_time(DateTime::from_secs(T0 as i64 - 300))
        .end_time(DateTime::from_secs(T0 as i64))
        .send()
        .await
        .unwrap();
    let res = &out.metric_data_results()[0];
    assert_eq!(res.values(), [20.0]);
    assert_eq!(res.timestamps().len(), 1, "timestamps travel as CBOR tag 1");
    let listed = cw
        .list_metrics()
        .namespace("Hastack/Web")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.metrics()[0].metric_name(), Some("Latency"));
    let bad = cw
        .put_metric_data()
        .namespace("AWS/EC2")
        .metric_data(MetricDatum::builder().metric_name("x").value(1.0).build())
        .send()
        .await
        .unwrap_err();
    assert!(
        bad.as_service_error()
            .unwrap()
            .is_invalid_parameter_value_exception(),
        "{bad:?}"
    );
    r.stop().await;
}

#[tokio::test]
async fn infrequent_access_groups_keep_their_class_and_take_no_metric_filters() {
    use aws_sdk_cloudwatchlogs::types::LogGroupClass;
    let (r, _clock) = emulator().await;
    let c = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&r));
    c.create_log_group()
        .log_group_name("/ia/app")
        .log_group_class(LogGroupClass::InfrequentAccess)
        .send()
        .await
        .unwrap();
    let g = c
        .describe_log_groups()
        .log_group_name_prefix("/ia/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.log_groups()[0].log_group_class(),
        Some(&LogGroupClass::InfrequentAccess)
    );
    let t = MetricTransformation::builder()
        .metric_name("m")
        .metric_namespace("n")
        .metric_value("1")
        .build()
        .unwrap();
    let e = c
        .put_metric_filter()
        .log_group_name("/ia/app")
        .filter_name("f")
        .filter_pattern("ERROR")
        .metric_transformations(t)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_invalid_parameter_exception(),
        "{e:?}"
    );
}
