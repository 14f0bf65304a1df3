//! Shared set-up for the SDK suites: an emulator on a free loopback port with a manual clock.
#![allow(dead_code)]
use std::sync::Arc;

use aws_credential_types::Credentials;
use hastack_local::clock::ManualClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::{start, Running};
use hastack_local::{Emulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};

pub const T0: f64 = 1_790_000_000.0;

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
pub fn admin(r: &Running, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    hastack_local::admin::call(&r.emulator, "POST", path, body)
}
