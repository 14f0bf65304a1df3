//! Session Manager sessions on real hosts, driven by a client we did not write (npm
//! `ssm-session` over node's `ws`, installed by scripts/setup.sh into tests/node): the shell
//! runs in the host as the run-as user, sessions are logged to CloudWatch Logs as the agent
//! logs them, refused when encryption is required without a key, unlogged without a group, and
//! end by themselves at the idle timeout and the maximum duration.
//! Needs root and Linux namespaces (skips elsewhere, fails in CI); the missing client is a failure.
mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_lightsail::types::Tag;
use aws_sdk_ssm::types::{DocumentType, SessionState};
use common::*;
use hastack_local::clock::SystemClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::{start, Running};
use hastack_local::Emulator;
use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// The independent client, started before the session so that its start-up is not timed.
struct Client {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

/// The client must be there: its absence fails the test (it never skips for it).
fn assert_client_installed() {
    let dir = client_dir();
    assert!(
        dir.join("node_modules/ssm-session").is_dir() && dir.join("node_modules/ws").is_dir(),
        "the session client is not installed in {}: run scripts/setup.sh (npm ci there)",
        dir.display()
    );
}

impl Client {
    fn spawn() -> Self {
        let dir = client_dir();
        assert_client_installed();
        let mut child = Command::new("node")
            .arg("session.js")
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node (scripts/setup.sh installs it)");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Client { child, lines }
    }

    /// Hand it the session (the token goes through stdin, never on a command line).
    async fn attach(&mut self, url: &str, token: &str, input: &str, until: &str) {
        let job = json!({"url": url, "token": token, "input": input, "until": until});
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{job}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// The next event named `name` (earlier ones are passed over), within `secs`.
    async fn event(&mut self, name: &str, secs: u64) -> Json {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut seen = vec![];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no {name} event within {secs} s; saw {seen:?}"))
                .unwrap()
                .unwrap_or_else(|| panic!("the client exited before {name}; saw {seen:?}"));
            let e: Json = serde_json::from_str(&line).unwrap();
            if e["event"] == name {
                return e;
            }
            assert_ne!(e["event"], "error", "client error: {e}; saw {seen:?}");
            seen.push(e);
        }
    }
}

struct Lab {
    r: Running,
    ssm: aws_sdk_ssm::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    node: String,
    caller_arn: String,
}

/// An emulator with hosts and one web instance registered as a managed node (with a `deploy`
/// user made by its user data). None where hosts cannot run.
/// Other engineers' and CI's host tests hold the machine-wide hosts lock for minutes, longer
/// than an emulator waits for the bridge: wait (≤ 15 min) until `flock -n` finds it free.
fn wait_for_hosts_lock() {
    let lock = std::env::temp_dir().join("hastack-local-hosts.lock");
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        let free = std::process::Command::new("flock")
            .arg("-n")
            .arg(&lock)
            .arg("true")
            .status()
            .map(|s| s.success())
            .unwrap_or(true);
        if free {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

async fn lab(test: &str) -> Option<(Lab, tempfile::TempDir)> {
    assert_client_installed();
    tokio::task::spawn_blocking(wait_for_hosts_lock)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::new(LatencyProfile::fast(), Arc::new(SystemClock))
        .with_hosts(dir.path().to_path_buf());
    if let Err(reason) = emu.hosts.availability() {
        cannot_run(test, &reason);
        return None;
    }
    let r = start(emu, 0).await.unwrap();
    let conf = sdk_config(&r);
    let ls = aws_sdk_lightsail::Client::new(&conf);
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let act = ssm
        .create_activation()
        .iam_role("HastackSSMRole")
        .registration_limit(1)
        .send()
        .await
        .unwrap();
    let (code, id) = (act.activation_code.unwrap(), act.activation_id.unwrap());
    let user_data = format!(
        "#!/bin/bash\nset -euo pipefail\nuseradd -m -s /bin/bash deploy\namazon-ssm-agent -register -code {code} -id {id} -region us-east-1\nsystemctl enable --now amazon-ssm-agent\n"
    );
    ls.create_instances()
        .instance_names("web-1")
        .availability_zone("us-east-1a")
        .blueprint_id("debian_12")
        .bundle_id("nano_3_0")
        .user_data(&user_data)
        .tags(Tag::builder().key("hastack:group").value("web").build())
        .send()
        .await
        .unwrap();
    let node = managed_nodes(&ssm, 1).await[0]
        .instance_id()
        .unwrap()
        .to_string();
    let caller_arn = aws_sdk_sts::Client::new(&conf)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    Some((
        Lab {
            r,
            ssm,
            logs,
            node,
            caller_arn,
        },
        dir,
    ))
}

fn prefs(inputs: Json) -> String {
    json!({"schemaVersion": "1.0", "description": "Session Manager preferences", "sessionType": "Standard_Stream", "inputs": inputs}).to_string()
}

impl Lab {
    async fn document(&self, name: &str, inputs: Json) {
        self.ssm
            .create_document()
            .name(name)
            .document_type(DocumentType::Session)
            .content(prefs(inputs))
            .send()
            .await
            .unwrap();
    }

    /// Start a session (with `document`, or the preferences document) and attach `client`.
    async fn session(
        &self,
        client: &mut Client,
        document: Option<&str>,
        input: &str,
        until: &str,
    ) -> String {
        let s = self
            .ssm
            .start_session()
            .target(&self.node)
            .set_document_name(document.map(str::to_string))
            .send()
            .await
            .unwrap();
        let url = s.stream_url().unwrap();
        assert!(
            url.starts_with("ws://127.0.0.1:")
                && url.contains(&format!("/v1/data-channel/{}?", s.session_id().unwrap())),
            "{url}"
        );
        client
            .attach(url, s.token_value().unwrap(), input, until)
            .await;
        s.session_id.unwrap()
    }

    async fn status(&self, state: SessionState, id: &str) -> Option<String> {
        self.ssm
            .describe_sessions()
            .state(state)
            .send()
            .await
            .unwrap()
            .sessions()
            .iter()
            .find(|s| s.session_id() == Some(id))
            .map(|s| s.status().unwrap().as_str().to_string())
    }

    /// The session's events in its stream of `group`, found by session id.
    async fn logged(&self, group: &str, id: &str) -> Vec<Json> {
        self.logs
            .filter_log_events()
            .log_group_name(group)
            .log_stream_names(id)
            .filter_pattern(format!("{{ $.sessionId = \"{id}\" }}"))
            .send()
            .await
            .unwrap()
            .events()
            .iter()
            .map(|e| serde_json::from_str(e.message().unwrap()).unwrap())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_audit_on_a_real_host() {
    let Some((lab, _dir)) = lab("session_audit_on_a_real_host").await else {
        return;
    };
    // Timed from here: the hosts lock may have been waited for.
    let test_started = Instant::now();
    let group = "/hastack/sessions";
    lab.logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    lab.document(
        "SSM-SessionManagerRunShell",
        json!({"cloudWatchLogGroupName": group, "cloudWatchStreamingEnabled": true,
               "cloudWatchEncryptionEnabled": false, "runAsEnabled": true, "runAsDefaultUser": "deploy",
               "idleSessionTimeout": "20"}),
    )
    .await;

    // The audited session: a command, its output, who ran it; then TerminateSession.
    let nonce = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let mut c = Client::spawn();
    let id = lab
        .session(
            &mut c,
            None,
            &format!("echo audit-{nonce}; whoami\n"),
            &format!("\\naudit-{nonce}\\r?\\ndeploy\\r?\\n"),
        )
        .await;
    let matched = c.event("matched", 20).await;
    assert!(matched["output"].as_str().unwrap().contains("whoami"));
    assert_eq!(
        lab.status(SessionState::Active, &id).await.as_deref(),
        Some("Connected")
    );
    lab.ssm
        .terminate_session()
        .session_id(&id)
        .send()
        .await
        .unwrap();
    let closed = c.event("channel_closed", 10).await;
    assert_eq!(closed["payload"]["SessionId"], id.as_str());
    c.event("closed", 10).await;
    // The shell is hung up: nothing of the session's user runs on in the host.
    let mut left = String::from("?");
    for _ in 0..20 {
        let cmd = lab
            .ssm
            .send_command()
            .instance_ids(&lab.node)
            .document_name("AWS-RunShellScript")
            .parameters("commands", vec!["pgrep -u deploy -a || true".into()])
            .send()
            .await
            .unwrap();
        let inv = finished_invocation(
            &lab.ssm,
            cmd.command().unwrap().command_id().unwrap(),
            &lab.node,
        )
        .await;
        left = inv
            .standard_output_content()
            .unwrap_or("")
            .trim()
            .to_string();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, "", "the terminated session's processes");
    assert_eq!(
        lab.status(SessionState::History, &id).await.as_deref(),
        Some("Terminated")
    );
    let events = lab.logged(group, &id).await;
    assert!(!events.is_empty(), "no session events logged");
    let lines: Vec<String> = events
        .iter()
        .flat_map(|e| e["sessionData"].as_array().unwrap().clone())
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert!(
        lines.iter().any(|l| l == &format!("audit-{nonce}")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "deploy"), "{lines:?}");
    for e in &events {
        assert_eq!(e["sessionId"], id.as_str());
        assert_eq!(e["target"]["id"], lab.node.as_str());
        assert_eq!(e["userIdentity"]["arn"], lab.caller_arn.as_str());
        assert_eq!(e["runAsUser"], "deploy");
        assert_eq!(e["awsRegion"], "us-east-1");
        assert_eq!(e["eventVersion"], "1.0");
    }

    // Start latency, StartSession to the first shell output, over a few sessions that each end
    // by the shell's exit (as ssm-user: run-as off).
    lab.document(
        "hastack-Plain",
        json!({"cloudWatchLogGroupName": group, "cloudWatchStreamingEnabled": false}),
    )
    .await;
    let mut latencies = vec![];
    for _ in 0..5 {
        let mut c = Client::spawn();
        let t0 = Instant::now();
        let id = lab
            .session(&mut c, Some("hastack-Plain"), "whoami; exit\n", "ssm-user")
            .await;
        c.event("first_output", 20).await;
        latencies.push(t0.elapsed());
        c.event("matched", 10).await;
        c.event("channel_closed", 10).await;
        assert_eq!(
            lab.status(SessionState::History, &id).await.as_deref(),
            Some("Terminated")
        );
        // Without streaming: the transcript, one plain event, at the end.
        let transcript = lab
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(&id)
            .send()
            .await
            .unwrap();
        let text: String = transcript
            .events()
            .iter()
            .map(|e| e.message().unwrap())
            .collect();
        assert!(text.contains("\nssm-user\n"), "{text:?}");
    }
    latencies.sort();
    println!(
        "session start latency (StartSession to first shell output) over {}: p50 {:?}, max {:?}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies.last().unwrap()
    );

    // Encryption required, the group has no KMS key: the agent refuses, nothing is logged.
    let plain = "/hastack/unencrypted";
    lab.logs
        .create_log_group()
        .log_group_name(plain)
        .send()
        .await
        .unwrap();
    lab.document(
        "hastack-Encrypted",
        json!({"cloudWatchLogGroupName": plain, "cloudWatchEncryptionEnabled": true}),
    )
    .await;
    let mut c = Client::spawn();
    let id = lab
        .session(&mut c, Some("hastack-Encrypted"), "id\n", "")
        .await;
    let closed = c.event("channel_closed", 10).await;
    assert!(
        closed["payload"]["Output"]
            .as_str()
            .unwrap()
            .contains("encryption is not set up"),
        "{closed}"
    );
    assert_eq!(
        lab.status(SessionState::History, &id).await.as_deref(),
        Some("Failed")
    );
    let streams = lab
        .logs
        .describe_log_streams()
        .log_group_name(plain)
        .send()
        .await
        .unwrap();
    assert!(streams.log_streams().is_empty(), "{streams:?}");

    // A log group that does not exist: the session runs, nothing is logged (as on AWS).
    let missing = "/hastack/never-created";
    lab.document(
        "hastack-NoGroup",
        json!({"cloudWatchLogGroupName": missing, "cloudWatchStreamingEnabled": true}),
    )
    .await;
    let mut c = Client::spawn();
    let id = lab
        .session(
            &mut c,
            Some("hastack-NoGroup"),
            "echo unlogged\n",
            "\\nunlogged\\r?\\n",
        )
        .await;
    c.event("matched", 20).await;
    lab.ssm
        .terminate_session()
        .session_id(&id)
        .send()
        .await
        .unwrap();
    c.event("channel_closed", 10).await;
    let groups = lab
        .logs
        .describe_log_groups()
        .log_group_name_prefix(missing)
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "{groups:?}");
    assert_eq!(
        lab.status(SessionState::History, &id).await.as_deref(),
        Some("Terminated")
    );
    lab.r.stop().await;
    println!(
        "session_audit_on_a_real_host took {:?} (host ready to end)",
        test_started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ends_at_idle_timeout_and_max_duration() {
    let Some((lab, _dir)) = lab("session_ends_at_idle_timeout_and_max_duration").await else {
        return;
    };
    let test_started = Instant::now();
    let minute = LatencyProfile::fast().session_minute;
    for (doc, inputs, reason) in [
        (
            "hastack-Idle",
            json!({"idleSessionTimeout": "1"}),
            "inactivity",
        ),
        (
            "hastack-Short",
            json!({"idleSessionTimeout": "20", "maxSessionDuration": "1"}),
            "maximum duration",
        ),
    ] {
        lab.document(doc, inputs).await;
        let mut c = Client::spawn();
        let t0 = Instant::now();
        let id = lab.session(&mut c, Some(doc), "", "").await;
        c.event("first_output", 20).await;
        assert_eq!(
            lab.status(SessionState::Active, &id).await.as_deref(),
            Some("Connected"),
            "{doc}"
        );
        let closed = c.event("channel_closed", 20).await;
        let took = t0.elapsed().as_secs_f64();
        assert!(
            took >= minute && took < minute + 5.0,
            "{doc}: ended after {took:.1} s, one session minute is {minute} s"
        );
        assert!(
            closed["payload"]["Output"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{doc}: {closed}"
        );
        assert_eq!(
            lab.status(SessionState::History, &id).await.as_deref(),
            Some("Terminated"),
            "{doc}"
        );
    }
    lab.r.stop().await;
    println!(
        "session_ends_at_idle_timeout_and_max_duration took {:?} (host ready to end)",
        test_started.elapsed()
    );
}

/// `InteractiveCommands` sessions need the handshake (the independent client does not do one,
/// so this side is ours, built on hastack-local's framing): HandshakeRequest with the
/// SessionType action, HandshakeResponse, HandshakeComplete, then the command's output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_command_session_shakes_hands() {
    use futures_util::{SinkExt, StreamExt};
    use hastack_local::ssm::agent_message::{AgentMessage, PayloadType};
    use tokio_tungstenite::tungstenite::Message;
    let Some((lab, _dir)) = lab("interactive_command_session_shakes_hands").await else {
        return;
    };
    let s = lab
        .ssm
        .start_session()
        .target(&lab.node)
        .document_name("AWS-StartInteractiveCommand")
        .parameters("command", vec!["id -un; echo done-$((6*7))".into()])
        .send()
        .await
        .unwrap();
    let url = s.stream_url().unwrap();
    let addr = url.trim_start_matches("ws://").split('/').next().unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    ws.send(Message::text(
        json!({"MessageSchemaVersion": "1.0", "RequestId": uuid::Uuid::new_v4().to_string(),
               "TokenValue": s.token_value().unwrap(), "ClientId": "test", "ClientVersion": "1.2.0.0"})
        .to_string(),
    ))
    .await
    .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let request = loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s")
            .expect("the channel open")
            .unwrap();
        if let Message::Binary(b) = frame {
            break AgentMessage::decode(&b).unwrap();
        }
    };
    assert_eq!(
        (request.message_type.as_str(), request.payload_type),
        ("output_stream_data", PayloadType::HandshakeRequest as u32)
    );
    let r: Json = serde_json::from_slice(&request.payload).unwrap();
    let action = &r["RequestedClientActions"][0];
    assert_eq!(action["ActionType"], "SessionType");
    assert_eq!(
        action["ActionParameters"]["SessionType"],
        "InteractiveCommands"
    );
    assert_eq!(
        action["ActionParameters"]["Properties"]["linux"]["commands"],
        "id -un; echo done-$((6*7))"
    );
    let ack = request.acknowledgement(now());
    ws.send(Message::binary(ack.encode())).await.unwrap();
    let response = AgentMessage::new(
        "input_stream_data",
        0,
        1,
        PayloadType::HandshakeResponse,
        json!({"ClientVersion": "1.2.0.0", "ProcessedClientActions": [{"ActionType": "SessionType", "ActionStatus": 1}], "Errors": []})
            .to_string()
            .into_bytes(),
        now(),
    );
    ws.send(Message::binary(response.encode())).await.unwrap();
    let mut output = String::new();
    let mut acked = false;
    let mut completed = false;
    let closed = loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s");
        let b = match frame {
            Some(Ok(Message::Binary(b))) => b,
            // Frames that are not data (ping, pong) are the WebSocket's own business.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            // Say what ended the channel, not only that it ended: this failed once in six runs.
            other => panic!(
                "the channel ended without channel_closed ({other:?}); output {output:?}, \
                 response acknowledged {acked}"
            ),
        };
        let m = AgentMessage::decode(&b).unwrap();
        match m.message_type.as_str() {
            "acknowledge" => {
                let a: Json = serde_json::from_slice(&m.payload).unwrap();
                acked |= a["AcknowledgedMessageId"] == response.message_id.to_string();
            }
            "output_stream_data" => {
                // The agent may close right after the command's last output.
                let _ = ws
                    .send(Message::binary(m.acknowledgement(now()).encode()))
                    .await;
                if m.payload_type == PayloadType::HandshakeComplete as u32 {
                    completed = true;
                } else {
                    assert!(completed, "output before HandshakeComplete");
                    output.push_str(&String::from_utf8_lossy(&m.payload));
                }
            }
            "channel_closed" => break serde_json::from_slice::<Json>(&m.payload).unwrap(),
            _ => {}
        }
    };
    assert!(acked, "the HandshakeResponse was not acknowledged");
    assert!(output.contains("ssm-user\r\ndone-42"), "{output:?}");
    assert_eq!(closed["SessionId"], s.session_id().unwrap());
    assert_eq!(
        lab.status(SessionState::History, s.session_id().unwrap())
            .await
            .as_deref(),
        Some("Terminated")
    );
    lab.r.stop().await;
}

/// Without hosts (runs anywhere): the data channel checks the token before anything, and a
/// node with no host behind it fails the session with a message that says why.
#[tokio::test]
async fn data_channel_checks_the_token_and_fails_sessions_without_a_host() {
    use futures_util::{SinkExt, StreamExt};
    use hastack_local::ssm::agent_message::AgentMessage;
    use tokio_tungstenite::tungstenite::Message;
    let (r, _clock) = emulator().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk_config(&r));
    let a = ssm
        .create_activation()
        .iam_role("HastackSSMRole")
        .send()
        .await
        .unwrap();
    let (_, j) = admin(
        &r,
        "ssm/register",
        json!({"code": a.activation_code().unwrap(), "id": a.activation_id().unwrap(), "hostname": "web-1", "ip": "198.18.0.2"}),
    )
    .await;
    let node = j["instanceId"].as_str().unwrap().to_string();
    let s = ssm.start_session().target(&node).send().await.unwrap();
    let (id, url) = (s.session_id().unwrap(), s.stream_url().unwrap());
    let addr = url.trim_start_matches("ws://").split('/').next().unwrap();
    let open = |token: &str| {
        Message::text(
            json!({"MessageSchemaVersion": "1.0", "RequestId": "r", "TokenValue": token})
                .to_string(),
        )
    };
    let connect = async || {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio_tungstenite::client_async(url, tcp).await.unwrap().0
    };
    let status = async || {
        ssm.describe_sessions()
            .state(SessionState::Active)
            .send()
            .await
            .unwrap()
            .sessions()
            .first()
            .map(|s| s.status().unwrap().as_str().to_string())
    };

    // A wrong token: the socket closes, no agent message, the session still waits.
    let mut ws = connect().await;
    ws.send(open("not-the-token")).await.unwrap();
    while let Some(Ok(m)) = ws.next().await {
        assert!(!m.is_binary(), "an agent message for a wrong token");
    }
    assert_eq!(status().await.as_deref(), Some("Connecting"));

    // The right one: the agent cannot start a shell without a host, and says so.
    let mut ws = connect().await;
    ws.send(open(s.token_value().unwrap())).await.unwrap();
    let closed = loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => {
                let m = AgentMessage::decode(&b).unwrap();
                if m.message_type == "channel_closed" {
                    break serde_json::from_slice::<Json>(&m.payload).unwrap();
                }
            }
            Some(Ok(_)) => {}
            other => panic!("no channel_closed: {other:?}"),
        }
    };
    assert_eq!(closed["SessionId"], id);
    assert!(
        closed["Output"]
            .as_str()
            .unwrap()
            .contains("not backed by a hastack-local host"),
        "{closed}"
    );
    let failed = ssm
        .describe_sessions()
        .state(SessionState::History)
        .send()
        .await
        .unwrap();
    let f = &failed.sessions()[0];
    assert_eq!(f.status().unwrap().as_str(), "Failed");
    assert!(f.details().unwrap().contains("not backed"), "{f:?}");
    // The token is a secret: DescribeSessions never shows it.
    assert!(!format!("{f:?}").contains(s.token_value().unwrap()));
    r.stop().await;
}
