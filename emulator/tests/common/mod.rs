//! Shared set-up for the SDK suites: an emulator on a free loopback port with a manual clock.
#![allow(dead_code)]
use std::sync::Arc;

use aws_credential_types::Credentials;
use hastack_local::clock::ManualClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::{start, Running};
use hastack_local::{Emulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};

pub const T0: f64 = 1_790_000_000.0;

/// A test that cannot run here (no root, no namespaces, a missing server package): in CI
/// (`CI=true`, or `HASTACK_REQUIRE_ALL=1`) a failure, never a pass; elsewhere a `SKIPPED`
/// line that `scripts/test.sh` counts in its closing line.
pub fn cannot_run(test: &str, reason: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("HASTACK_REQUIRE_ALL").is_ok_and(|v| v == "1");
    if ci {
        panic!("{test} cannot run here: {reason}. CI runs every test: provide what it needs (scripts/setup.sh, root).");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

pub async fn emulator() -> (Running, ManualClock) {
    let clock = ManualClock::new(T0);
    let emu =
        Emulator::new(LatencyProfile::fast(), Arc::new(clock.clone())).with_call_log(call_log());
    (start(emu, 0).await.unwrap(), clock)
}

/// Where the SDK suites record the operations they called (set by scripts/test.sh).
pub fn call_log() -> Option<std::path::PathBuf> {
    std::env::var_os("HASTACK_SDK_CALL_LOG").map(Into::into)
}

/// SDK configuration pointing at the emulator with the default credentials.
pub fn sdk_config(r: &Running) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(r.endpoint())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                DEFAULT_ACCESS_KEY,
                DEFAULT_SECRET_KEY,
                None,
                None,
                "test",
            )),
        )
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_initial_backoff(std::time::Duration::from_millis(5)),
        )
        .build()
}

/// POST to the admin API (in process).
pub async fn admin(r: &Running, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    hastack_local::server::admin(&r.emulator, "POST", path, body).await
}

/// Wait (at most 30 s) until `n` managed nodes are registered; they are returned.
pub async fn managed_nodes(
    ssm: &aws_sdk_ssm::Client,
    n: usize,
) -> Vec<aws_sdk_ssm::types::InstanceInformation> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let nodes = ssm
            .describe_instance_information()
            .send()
            .await
            .unwrap()
            .instance_information_list
            .unwrap_or_default();
        if nodes.len() == n {
            return nodes;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} managed nodes registered, want {n}",
            nodes.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Wait (at most 90 s) until a command invocation is no longer Pending or InProgress.
pub async fn finished_invocation(
    ssm: &aws_sdk_ssm::Client,
    command: &str,
    node: &str,
) -> aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let inv = ssm
            .get_command_invocation()
            .command_id(command)
            .instance_id(node)
            .send()
            .await
            .unwrap();
        if !matches!(
            inv.status().map(|s| s.as_str()),
            Some("Pending") | Some("InProgress")
        ) {
            return inv;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "command {command} on {node} did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
