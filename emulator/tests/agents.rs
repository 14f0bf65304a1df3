//! The stand-in agents on a real host: the SSM agent refuses a wrong activation code, and the
//! CloudWatch agent reads its configuration from Parameter Store, rejects what the real agent's
//! schema rejects, and ships appended log lines to CloudWatch Logs as the on-premise agent does.
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use common::*;
use hastack_local::clock::SystemClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::start;
use hastack_local::Emulator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_register_and_ship_logs() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::new(LatencyProfile::fast(), Arc::new(SystemClock))
        .with_hosts(dir.path().to_path_buf());
    if let Err(reason) = emu.hosts.availability() {
        cannot_run("agents_register_and_ship_logs", &reason);
        return;
    }
    let r = start(emu, 0).await.unwrap();
    let conf = sdk_config(&r);
    let ls = aws_sdk_lightsail::Client::new(&conf);
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let good = json!({"logs": {"logs_collected": {"files": {"collect_list": [
        {"file_path": "/var/log/app/*.log", "log_group_name": "/hastack/app", "log_stream_name": "{hostname}", "retention_in_days": 7},
        {"file_path": "/var/log/app/web.log", "log_group_name": "/hastack/placeholders", "log_stream_name": "{instance_id}"},
        {"file_path": "/var/log/app/web.log", "log_group_name": "/hastack/placeholders", "log_stream_name": "{local_hostname}@{ip_address}"},
        {"file_path": "/var/log/app/web.log", "log_group_name": "/hastack/placeholders"}
    ]}}}});
    let bad = json!({"logs": {"logs_collected": {"files": {"collect_list": [{"log_group_name": "/hastack/app", "retention_in_days": 10}]}}}});
    ssm.put_parameter()
        .name("/hastack/cw-good")
        .value(good.to_string())
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    ssm.put_parameter()
        .name("/hastack/cw-bad")
        .value(bad.to_string())
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    let act = ssm
        .create_activation()
        .iam_role("HastackSSMRole")
        .send()
        .await
        .unwrap();
    let user_data = format!(
        "#!/bin/bash\nset -uo pipefail\n\
         amazon-ssm-agent -register -code WRONGCODE -id {id} -region us-east-1 || echo \"ssm register refused: $?\"\n\
         amazon-cloudwatch-agent-ctl -a fetch-config -m onPremise -c ssm:/hastack/cw-bad -s || echo \"cw config refused: $?\"\n\
         mkdir -p /var/log/app\n\
         amazon-cloudwatch-agent-ctl -a fetch-config -m onPremise -c ssm:/hastack/cw-good -s\n\
         echo 'hello from app' >> /var/log/app/web.log\n\
         echo 'ERROR boom' >> /var/log/app/web.log\n\
         . /run/hastack/env\n\
         for p in faults reset hosts/stop ssm/register; do echo \"admin $p from the host: $(curl -s -o /dev/null -w '%{{http_code}}' -X POST -d '{{}}' \"$HASTACK_ENDPOINT/_hastack/$p\")\"; done\n",
        id = act.activation_id.unwrap()
    );
    ls.create_instances()
        .instance_names("agent-1")
        .availability_zone("us-east-1a")
        .blueprint_id("debian_12")
        .bundle_id("nano_3_0")
        .user_data(user_data)
        .send()
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let got = logs
            .get_log_events()
            .log_group_name("/hastack/app")
            .log_stream_name("agent-1")
            .start_from_head(true)
            .send()
            .await;
        if let Ok(g) = got {
            let msgs: Vec<String> = g
                .events()
                .iter()
                .map(|e| e.message().unwrap().to_string())
                .collect();
            if msgs.len() >= 2 {
                break msgs;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no log events shipped; hosts: {}",
            hastack_local::server::admin(&r.emulator, "GET", "hosts", json!({}))
                .await
                .1
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(events, ["hello from app", "ERROR boom"]);
    // From a host, the admin API answers only the agents' calls.
    let deadline = Instant::now() + Duration::from_secs(20);
    let boot = loop {
        let hosts = hastack_local::server::admin(&r.emulator, "GET", "hosts", json!({}))
            .await
            .1
            .to_string();
        if hosts.contains("admin ssm/register from the host") || Instant::now() > deadline {
            break hosts;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for p in ["faults", "reset", "hosts/stop"] {
        assert!(
            boot.contains(&format!("admin {p} from the host: 403")),
            "{p} must answer loopback only: {boot}"
        );
    }
    assert!(
        boot.contains("admin ssm/register from the host: 400"),
        "the agent's registration call stays open to hosts (400: no activation): {boot}"
    );
    let group = logs
        .describe_log_groups()
        .log_group_name_prefix("/hastack/app")
        .send()
        .await
        .unwrap()
        .log_groups
        .unwrap()
        .remove(0);
    assert_eq!(group.retention_in_days(), Some(7));
    // On premises the agent has no instance id: {instance_id} (and a missing stream name) is
    // i-UNKNOWN, one stream for every node; {ip_address} is the first non-loopback IPv4.
    let deadline = Instant::now() + Duration::from_secs(10);
    let streams = loop {
        let mut names: Vec<String> = logs
            .describe_log_streams()
            .log_group_name("/hastack/placeholders")
            .send()
            .await
            .map(|o| {
                o.log_streams()
                    .iter()
                    .filter_map(|s| s.log_stream_name().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        if names.len() >= 2 || Instant::now() > deadline {
            break names;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let ip = ls
        .get_instance()
        .instance_name("agent-1")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap()
        .private_ip_address
        .unwrap();
    assert_eq!(streams, [format!("agent-1@{ip}"), "i-UNKNOWN".to_string()]);

    let boot = hastack_local::server::admin(&r.emulator, "GET", "hosts", json!({}))
        .await
        .1[0]["boot_log"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(boot.contains("ssm register refused: 1"), "{boot}");
    assert!(boot.contains("file_path is required"), "{boot}");
    assert!(boot.contains("retention_in_days must be one of"), "{boot}");
    assert!(boot.contains("cw config refused: 1"), "{boot}");
    assert!(
        ssm.describe_instance_information()
            .send()
            .await
            .unwrap()
            .instance_information_list
            .unwrap()
            .is_empty(),
        "a wrong code registers nothing"
    );
    r.stop().await;
}
