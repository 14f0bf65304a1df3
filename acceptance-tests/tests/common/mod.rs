//! What several acceptance test files share: SDK clients on the emulator, the test case with
//! its environment, the hosts lock, and a bounded HTTP GET.
#![allow(dead_code)]
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use acceptance_tests::emulator::Emulator;
use acceptance_tests::TestCase;
use aws_sdk_lightsail::Client;

/// hastack-local's default credentials.
fn credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        "AKIAHASTACKLOCAL0001",
        "hastack-local-secret",
        None,
        None,
        "test",
    )
}

pub fn lightsail_on(port: u16) -> Client {
    Client::from_conf(
        aws_sdk_lightsail::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_lightsail::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(credentials())
            .build(),
    )
}

pub fn ssm_on(port: u16) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(credentials())
            .build(),
    )
}

/// Run one future to completion on a fresh current-thread runtime (inside step checks).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

pub fn with_emulator(name: &str, e: &Emulator) -> TestCase {
    e.env()
        .iter()
        .fold(TestCase::new(name), |tc, (k, v)| tc.env(k, v))
}

/// One hastack-local with hosts at a time in this test binary (the bridge has one owner).
static HOSTS: Mutex<()> = Mutex::new(());

/// An emulator with hosts and the guard that keeps other tests of this binary off the
/// bridge, or `None` (with the reason printed) where hosts cannot run.
pub fn hosts_emulator() -> Option<(MutexGuard<'static, ()>, Emulator)> {
    let guard = HOSTS.lock().unwrap_or_else(|p| p.into_inner());
    let e = Emulator::start_with_hosts();
    let (_, status) = e.admin("GET", "status", &serde_json::json!({}));
    if status["hosts"]["available"] != true {
        acceptance_tests::cannot_run(
            "a test with hosts",
            &format!(
                "hastack-local has no hosts here: {}",
                status["hosts"]["reason"]
            ),
        );
        return None;
    }
    Some((guard, e))
}

/// GET `path` from `127.0.0.1:port` with a 2 s budget: the body, or why it failed.
pub fn http_get(port: u16, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let (head, body) = out.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    Ok(body.trim().to_string())
}

/// Run `script` on managed node `node` with AWS-RunShellScript and wait (≤ 60 s) for it:
/// (status, stdout).
pub fn run_shell(port: u16, node: &str, script: &str) -> Result<(String, String), String> {
    let ssm = ssm_on(port);
    block_on(async {
        let sent = ssm
            .send_command()
            .document_name("AWS-RunShellScript")
            .instance_ids(node)
            .parameters("commands", vec![script.to_string()])
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let id = sent
            .command()
            .and_then(|c| c.command_id())
            .ok_or("no command id")?
            .to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(inv) = ssm
                .get_command_invocation()
                .command_id(&id)
                .instance_id(node)
                .send()
                .await
            {
                let status = inv
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                if status != "Pending" && status != "InProgress" {
                    return Ok((
                        status,
                        inv.standard_output_content().unwrap_or("").to_string(),
                    ));
                }
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("command {id} on {node} did not finish in 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
