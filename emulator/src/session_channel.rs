//! Session Manager data channels: the WebSocket a client opens at a session's `StreamUrl`, and
//! the stand-in agent at the other end that runs a shell on the node's host.
//!
//! The exchange is the real one (amazon-ssm-agent `session/datachannel`, session-manager-plugin
//! `datachannel/streaming.go`): the client's first frame is the JSON open-data-channel message
//! with the session's token; after it every frame is a binary agent message
//! (`ssm::agent_message`). The client sends `input_stream_data` (keystrokes, `size`, the
//! terminate flag), the agent answers each with an `acknowledge` and sends the shell's output as
//! `output_stream_data`; the end of the session is a `channel_closed`. A `Standard_Stream` session
//! without a KMS key needs no handshake (the agent's `RequireHandshake` is false for it); an
//! `InteractiveCommands` session (AWS-StartInteractiveCommand) does: HandshakeRequest with the
//! SessionType action, HandshakeResponse, HandshakeComplete, then its command runs on the pty.
//! Not emulated, and failing the session with a message that says so: KMS encryption of session
//! data (`kmsKeyId`), `Port` and `NonInteractiveCommands` sessions.
//!
//! The agent's rules: the shell runs as `ssm-user` (created when missing) or, with `runAsEnabled`,
//! as `runAsDefaultUser` (which must exist); `idleSessionTimeout` (no input for that long) and
//! `maxSessionDuration` end the session, in minutes of the latency profile's `session_minute`.
//! Logging to CloudWatch Logs (amazon-ssm-agent `sessionutil`, `cloudwatchlogsservice`): a
//! stream named after the session in `cloudWatchLogGroupName`; with `cloudWatchStreamingEnabled`
//! every second a JSON event of the new lines, else the transcript when the session ends; a group
//! that does not exist means nothing is logged; `cloudWatchEncryptionEnabled` with a group that
//! has no KMS key means the session fails.
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::hosts::shell::HostShell;
use crate::ssm::agent_message::{self as am, AgentMessage, PayloadType};
use crate::ssm::sessions::{Preferences, SessionStatus, SSM_USER};
use crate::Emulator;

pub const PATH_PREFIX: &str = "/v1/data-channel/";

type Body = http_body_util::Full<bytes::Bytes>;

/// The agent streams session output to CloudWatch every second.
const LOG_FLUSH: Duration = Duration::from_secs(1);
/// A CloudWatch Logs event holds at most 256 KiB; the agent keeps to 200 kB.
const MAX_EVENT_BYTES: usize = 200_000;
/// The agent reads the pty in chunks of this size (`StreamDataPayloadSize`).
const CHUNK: usize = 1024;
/// How long the agent waits for the client's HandshakeResponse (`handshakeTimeout`).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// What the stand-in agent reports as its version in the handshake.
const AGENT_VERSION: &str = "3.3.0.0-hastack-local";
/// How long the client has to send the open-data-channel message.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Body::from(text.to_string()))
        .expect("valid response")
}

/// The session's (account, region), found by its id.
fn scope_of(emu: &Emulator, id: &str) -> Option<(String, String)> {
    let mut st = emu.state.lock().expect("state lock");
    st.scopes().into_iter().find(|(a, r)| {
        st.backend::<crate::ssm::Backend>(a, r)
            .session(id)
            .is_some()
    })
}

/// Accept a WebSocket upgrade on `/v1/data-channel/<session-id>` (loopback clients only).
pub fn upgrade(emu: Arc<Emulator>, mut req: Request<Incoming>, loopback: bool) -> Response<Body> {
    if !loopback {
        return plain(
            StatusCode::FORBIDDEN,
            "data channels are served to loopback clients only",
        );
    }
    let id = req
        .uri()
        .path()
        .strip_prefix(PATH_PREFIX)
        .unwrap_or("")
        .to_string();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let Some(key) = header("sec-websocket-key") else {
        return plain(StatusCode::BAD_REQUEST, "a data channel is a WebSocket");
    };
    if !header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return plain(StatusCode::BAD_REQUEST, "a data channel is a WebSocket");
    }
    let Some((account, region)) = scope_of(&emu, &id) else {
        return plain(StatusCode::NOT_FOUND, "no such session");
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(
                    hyper_util::rt::TokioIo::new(upgraded),
                    Role::Server,
                    None,
                )
                .await;
                let span = tracing::info_span!("data_channel", session = %id);
                let _ = tracing::Instrument::instrument(
                    Channel::new(emu, account, region, id).run(ws),
                    span,
                )
                .await;
            }
            Err(e) => tracing::warn!(error = %e, "data channel upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .body(Body::default())
        .expect("valid response")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(1)
}

/// Why a running session ended.
enum End {
    /// TerminateSession, or the client's terminate flag.
    Terminated,
    ShellExited,
    ClientGone,
    Idle,
    MaxDuration,
}

struct Channel {
    emu: Arc<Emulator>,
    account: String,
    region: String,
    id: String,
    out_seq: i64,
    expected_in: i64,
    /// Input that arrived ahead of its turn, by sequence number.
    early: BTreeMap<i64, AgentMessage>,
}

impl Channel {
    fn new(emu: Arc<Emulator>, account: String, region: String, id: String) -> Self {
        Channel {
            emu,
            account,
            region,
            id,
            out_seq: 0,
            expected_in: 0,
            early: BTreeMap::new(),
        }
    }

    fn with_ssm<T>(&self, f: impl FnOnce(&mut crate::ssm::Backend) -> T) -> T {
        let mut st = self.emu.state.lock().expect("state lock");
        f(st.backend::<crate::ssm::Backend>(&self.account, &self.region))
    }

    fn end(&self, status: SessionStatus, details: Option<String>) {
        let now = self.emu.clock.now();
        self.with_ssm(|b| b.end_session(now, &self.id, status, details));
    }

    async fn send(&mut self, ws: &mut Ws, m: AgentMessage) -> bool {
        ws.send(Message::binary(m.encode())).await.is_ok()
    }

    async fn send_output(&mut self, ws: &mut Ws, kind: PayloadType, data: Vec<u8>) -> bool {
        let flags = u64::from(self.out_seq == 0);
        let m = AgentMessage::new(
            am::OUTPUT_STREAM_DATA,
            self.out_seq,
            flags,
            kind,
            data,
            now_ms(),
        );
        self.out_seq += 1;
        self.send(ws, m).await
    }

    /// The service's `channel_closed`, then the WebSocket's close.
    async fn close(&mut self, ws: &mut Ws, target: &str, output: &str) {
        let content = json!({
            "MessageType": am::CHANNEL_CLOSED, "MessageId": uuid::Uuid::new_v4().to_string(),
            "CreatedDate": crate::sts::iso8601(self.emu.clock.now()),
            "DestinationId": target, "SessionId": self.id, "SchemaVersion": 1, "Output": output,
        });
        let m = AgentMessage::new(
            am::CHANNEL_CLOSED,
            0,
            0,
            PayloadType::Output,
            content.to_string().into_bytes(),
            now_ms(),
        );
        let _ = self.send(ws, m).await;
        let _ = ws.close(None).await;
    }

    /// Wait for the open-data-channel message; true when its token is the session's.
    async fn opened(&self, ws: &mut Ws) -> bool {
        let first = tokio::time::timeout(OPEN_TIMEOUT, ws.next()).await;
        let Ok(Some(Ok(Message::Text(t)))) = first else {
            return false;
        };
        let Ok(open) = serde_json::from_str::<Json>(t.as_str()) else {
            return false;
        };
        let token = open.get("TokenValue").and_then(Json::as_str).unwrap_or("");
        self.with_ssm(|b| {
            b.session(&self.id).is_some_and(|s| {
                s.status == SessionStatus::Connecting
                    && !token.is_empty()
                    && s.token.as_bytes() == token.as_bytes()
            })
        })
    }

    async fn run(mut self, mut ws: Ws) {
        if !self.opened(&mut ws).await {
            tracing::info!("data channel refused: bad token or session not connecting");
            let _ = ws.close(None).await;
            return;
        }
        let Some(s) = self.with_ssm(|b| {
            b.session_connected(&self.id);
            b.session(&self.id).cloned()
        }) else {
            return;
        };
        let host = self.with_ssm(|b| b.nodes.get(&s.target).and_then(|n| n.host.clone()));
        let started = Instant::now();
        let prepared = match self.handshake_if_required(&mut ws, &s.prefs).await {
            Ok(()) => self.start(&s.prefs, host.as_deref()).await,
            Err(e) => Err(e),
        };
        let log = match prepared {
            Ok(x) => x,
            Err(why) => {
                tracing::info!(reason = %why, "session failed");
                self.end(SessionStatus::Failed, Some(why.clone()));
                self.close(&mut ws, &s.target, &why).await;
                return;
            }
        };
        let (shell, mut log) = log;
        let user = s.prefs.run_as_user().to_string();
        log.header = SessionLogHeader {
            region: self.region.clone(),
            target: s.target.clone(),
            user_arn: s.owner.clone(),
            run_as: user,
            session_id: self.id.clone(),
        };
        let minute = self.emu.profile.session_minute;
        let idle = Duration::from_secs_f64(f64::from(s.prefs.idle_minutes) * minute);
        let max = s
            .prefs
            .max_minutes
            .map(|m| Duration::from_secs_f64(f64::from(m) * minute));
        let end = self
            .pump(&mut ws, shell, &mut log, &s.prefs, idle, max, started)
            .await;
        log.flush(&self.emu, &self.account, &self.region, true);
        let (status, message) = match end {
            End::Terminated => (SessionStatus::Terminated, ""),
            End::ShellExited => (SessionStatus::Terminated, ""),
            End::ClientGone => (SessionStatus::Terminated, ""),
            End::Idle => (
                SessionStatus::Terminated,
                "Your session timed out due to inactivity and has been terminated.",
            ),
            End::MaxDuration => (
                SessionStatus::Terminated,
                "Your session has been terminated because it reached its maximum duration.",
            ),
        };
        self.end(status, None);
        if !matches!(end, End::ClientGone) {
            self.close(&mut ws, &s.target, message).await;
        }
    }

    /// The agent's handshake (`datachannel.PerformHandshake`), which only command sessions
    /// require (and KMS-encrypted ones, which hastack-local does not emulate): a
    /// HandshakeRequest with the SessionType action, the client's HandshakeResponse within
    /// 15 s, a HandshakeComplete. Input that arrives meanwhile is acknowledged and dropped.
    async fn handshake_if_required(
        &mut self,
        ws: &mut Ws,
        prefs: &Preferences,
    ) -> Result<(), String> {
        if !prefs.kms_key_id.is_empty() {
            return Err("hastack-local does not emulate KMS encryption of session data (kmsKeyId): the session cannot start".into());
        }
        match prefs.session_type.as_str() {
            "Standard_Stream" => return Ok(()),
            "InteractiveCommands" => {}
            other => {
                return Err(format!(
                    "hastack-local runs Standard_Stream and InteractiveCommands sessions; {other} sessions are not emulated"
                ))
            }
        }
        let began = Instant::now();
        let request = json!({
            "AgentVersion": AGENT_VERSION,
            "RequestedClientActions": [{"ActionType": "SessionType", "ActionParameters": {
                "SessionType": prefs.session_type, "Properties": prefs.properties,
            }}],
        });
        if !self
            .send_output(
                ws,
                PayloadType::HandshakeRequest,
                request.to_string().into_bytes(),
            )
            .await
        {
            return Err("the client went away during the handshake".into());
        }
        let deadline = tokio::time::Instant::now() + HANDSHAKE_TIMEOUT;
        let response = loop {
            let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) => return Err("Handshake timed out. Please ensure that you have the latest version of the session manager plugin.".into()),
                Ok(Some(Ok(Message::Binary(b)))) => b,
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    return Err("the client went away during the handshake".into())
                }
                Ok(Some(Ok(_))) => continue,
            };
            let Ok(m) = AgentMessage::decode(&frame) else {
                continue;
            };
            if m.message_type != am::INPUT_STREAM_DATA {
                continue;
            }
            let due = match self.accept_input(ws, m).await {
                Some(due) => due,
                None => return Err("the client went away during the handshake".into()),
            };
            if let Some(r) = due
                .into_iter()
                .find(|m| m.payload_type == PayloadType::HandshakeResponse as u32)
            {
                break r;
            }
        };
        let response: Json = serde_json::from_slice(&response.payload)
            .map_err(|e| format!("Unmarshalling of HandshakeResponse message failed, {e}"))?;
        for action in response["ProcessedClientActions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if action["ActionStatus"].as_i64() != Some(1) {
                return Err(format!(
                    "{} failed on client with status {} error: {}",
                    action["ActionType"].as_str().unwrap_or(""),
                    action["ActionStatus"],
                    action["Error"].as_str().unwrap_or("")
                ));
            }
        }
        let complete = json!({
            "HandshakeTimeToComplete": began.elapsed().as_nanos() as u64,
            "CustomerMessage": "",
        });
        if !self
            .send_output(
                ws,
                PayloadType::HandshakeComplete,
                complete.to_string().into_bytes(),
            )
            .await
        {
            return Err("the client went away during the handshake".into());
        }
        Ok(())
    }

    /// Acknowledge an `input_stream_data` message and return the messages now due, in sequence
    /// order (early ones wait for their turn, resends are only acknowledged). None: the client
    /// is gone.
    async fn accept_input(&mut self, ws: &mut Ws, m: AgentMessage) -> Option<Vec<AgentMessage>> {
        if !self.send(ws, m.acknowledgement(now_ms())).await {
            return None;
        }
        if m.sequence_number >= self.expected_in {
            self.early.insert(m.sequence_number, m);
        }
        let mut due = vec![];
        while let Some(m) = self.early.remove(&self.expected_in) {
            self.expected_in += 1;
            due.push(m);
        }
        Some(due)
    }

    /// What the agent does before the shell runs: check the logging and the user, then start
    /// the shell (or the command). An error is the session's failure.
    async fn start(
        &self,
        prefs: &Preferences,
        host: Option<&str>,
    ) -> Result<(HostShell, SessionLog), String> {
        let command = match (prefs.session_type.as_str(), &prefs.command) {
            ("InteractiveCommands", Some(c)) if !c.trim().is_empty() => Some(c.clone()),
            ("InteractiveCommands", _) => {
                return Err("the document's properties.linux.commands is empty".into())
            }
            _ => None,
        };
        let log = SessionLog::open(&self.emu, &self.account, &self.region, &self.id, prefs)?;
        let Some(host) = host.map(str::to_string) else {
            return Err(format!(
                "hastack-local: the node is not backed by a hastack-local host ({}), so no shell can run",
                self.emu
                    .hosts
                    .availability()
                    .err()
                    .unwrap_or_else(|| "registered through the admin API".into())
            ));
        };
        let user = prefs.run_as_user().to_string();
        if prefs.run_as_enabled && !prefs.run_as_elevated && user.is_empty() {
            return Err("please set the RunAs default user".into());
        }
        if !crate::hosts::shell::valid_user(&user) {
            return Err(format!("{user:?} is not a valid user name"));
        }
        let emu = self.emu.clone();
        let profile = prefs.shell_profile_linux.clone();
        let shell = tokio::task::spawn_blocking(move || {
            let check = crate::hosts::shell::user_check_script(&user, user == SSM_USER);
            emu.hosts
                .prepare(&host, &check)
                .map_err(|e| format!("Unable to start command: {e}"))?;
            let mut shell = emu
                .hosts
                .open_shell(&host, &user, command.as_deref(), 80, 24)
                .map_err(|e| format!("Unable to start command: {e}"))?;
            // The agent types the shell profile into the new shell.
            if command.is_none() && !profile.trim().is_empty() {
                let _ = shell.master.write_all(format!("{profile}\n").as_bytes());
            }
            Ok::<_, String>(shell)
        })
        .await
        .map_err(|e| e.to_string())??;
        Ok((shell, log))
    }

    #[allow(clippy::too_many_arguments)]
    async fn pump(
        &mut self,
        ws: &mut Ws,
        shell: HostShell,
        log: &mut SessionLog,
        _prefs: &Preferences,
        idle: Duration,
        max: Option<Duration>,
        started: Instant,
    ) -> End {
        let (tx, mut output) = mpsc::channel::<Vec<u8>>(64);
        let mut reader = match shell.master.try_clone() {
            Ok(r) => r,
            Err(_) => return End::ShellExited,
        };
        std::thread::spawn(move || {
            let mut buf = [0u8; CHUNK];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.blocking_send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let mut last_input = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut last_flush = Instant::now();
        let mut writer = match shell.master.try_clone() {
            Ok(w) => w,
            Err(_) => return End::ShellExited,
        };
        let end = loop {
            tokio::select! {
                chunk = output.recv() => match chunk {
                    Some(data) => {
                        log.record(&data);
                        if !self.send_output(ws, PayloadType::Output, data).await {
                            break End::ClientGone;
                        }
                    }
                    None => break End::ShellExited,
                },
                frame = ws.next() => match frame {
                    Some(Ok(Message::Binary(b))) => {
                        let m = match AgentMessage::decode(&b) {
                            Ok(m) => m,
                            Err(e) => {
                                tracing::debug!(error = %e, "ignoring a malformed agent message");
                                continue;
                            }
                        };
                        match m.message_type.as_str() {
                            am::INPUT_STREAM_DATA => {
                                let Some(due) = self.accept_input(ws, m).await else {
                                    break End::ClientGone;
                                };
                                let mut ended = None;
                                for m in due {
                                    match PayloadType::from_u32(m.payload_type) {
                                        Some(PayloadType::Output) => {
                                            last_input = Instant::now();
                                            let _ = writer.write_all(&m.payload);
                                        }
                                        Some(PayloadType::Size) => {
                                            if let Ok(size) = serde_json::from_slice::<Json>(&m.payload) {
                                                let dim = |k: &str| size.get(k).and_then(Json::as_u64).unwrap_or(0).min(u16::MAX as u64) as u16;
                                                if dim("cols") > 0 && dim("rows") > 0 {
                                                    shell.resize(dim("cols"), dim("rows"));
                                                }
                                            }
                                        }
                                        Some(PayloadType::Flag) => {
                                            let flag = m.payload.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                                            if flag == Some(am::FLAG_TERMINATE_SESSION) {
                                                ended = Some(End::Terminated);
                                            }
                                        }
                                        _ => {}
                                    }
                                }
                                if let Some(e) = ended {
                                    break e;
                                }
                            }
                            // Output needs no resend here (the stream is one TCP connection).
                            am::ACKNOWLEDGE | am::START_PUBLICATION | am::PAUSE_PUBLICATION => {}
                            other => tracing::debug!(message_type = other, "ignoring an agent message"),
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break End::ClientGone,
                    Some(Ok(_)) => {}
                },
                _ = tick.tick() => {
                    let ended = self.with_ssm(|b| b.session(&self.id).map(|s| s.ended.is_some()).unwrap_or(true));
                    if ended {
                        break End::Terminated;
                    }
                    if last_input.elapsed() >= idle {
                        break End::Idle;
                    }
                    if max.is_some_and(|m| started.elapsed() >= m) {
                        break End::MaxDuration;
                    }
                    if last_flush.elapsed() >= LOG_FLUSH {
                        last_flush = Instant::now();
                        log.flush(&self.emu, &self.account, &self.region, false);
                    }
                }
            }
        };
        // Whatever the shell printed before it went away still belongs to the transcript.
        while let Ok(data) = output.try_recv() {
            log.record(&data);
            if !matches!(end, End::ClientGone) {
                let _ = self.send_output(ws, PayloadType::Output, data).await;
            }
        }
        tokio::task::spawn_blocking(move || shell.close());
        end
    }
}

#[derive(Default)]
struct SessionLogHeader {
    region: String,
    target: String,
    user_arn: String,
    run_as: String,
    session_id: String,
}

/// Where and how a session's output is logged.
#[derive(Default)]
struct SessionLog {
    /// None: no logging (no group named, or the group does not exist).
    group: Option<String>,
    streaming: bool,
    header: SessionLogHeader,
    /// Output not yet logged (streaming: a partial last line stays here).
    pending: Vec<u8>,
}

/// Remove terminal control sequences (colours, cursor movement, titles) and carriage returns,
/// as the agent does before logging.
pub fn strip_ansi(s: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r|\x07",
        )
        .expect("valid regex")
    });
    re.replace_all(s, "").into_owned()
}

impl SessionLog {
    /// The agent's checks before a session starts: no group named, or a group that does not
    /// exist, means no logging; encryption required on a group without a KMS key is refused.
    fn open(
        emu: &Arc<Emulator>,
        account: &str,
        region: &str,
        session_id: &str,
        prefs: &Preferences,
    ) -> Result<Self, String> {
        let mut log = SessionLog {
            streaming: prefs.cloudwatch_streaming,
            ..Default::default()
        };
        if prefs.log_group.is_empty() {
            return Ok(log);
        }
        let ctx = crate::Ctx::new(emu, emu.clock.now(), account, region);
        let mut st = emu.state.lock().expect("state lock");
        let logs = st.backend::<crate::logs::Backend>(account, region);
        let Ok(group) = logs.group(&prefs.log_group) else {
            tracing::info!(group = %prefs.log_group, "the session's log group does not exist: nothing is logged");
            return Ok(log);
        };
        if prefs.cloudwatch_encryption && group.kms_key_id.is_none() {
            return Err(format!(
                "We couldn't start the session because encryption is not set up on the selected CloudWatch Logs log group {}. Either encrypt the log group or choose an option to enable logging without encryption.",
                prefs.log_group
            ));
        }
        // A stream that exists already (a resumed session) is used as it is.
        let _ = logs.create_log_stream(&ctx, &prefs.log_group, session_id);
        log.group = Some(prefs.log_group.clone());
        Ok(log)
    }

    fn record(&mut self, data: &[u8]) {
        if self.group.is_some() {
            self.pending.extend_from_slice(data);
        }
    }

    /// The events to put now: streaming, one JSON event of the complete lines (all of them at
    /// the end); otherwise, at the end, the transcript.
    fn take_events(&mut self, last: bool) -> Vec<String> {
        if self.group.is_none() || (!self.streaming && !last) {
            return vec![];
        }
        let cut = if last {
            self.pending.len()
        } else {
            match self.pending.iter().rposition(|&c| c == b'\n') {
                Some(i) => i + 1,
                None => return vec![],
            }
        };
        let text: Vec<u8> = self.pending.drain(..cut).collect();
        let text = strip_ansi(&String::from_utf8_lossy(&text));
        if text.trim().is_empty() {
            return vec![];
        }
        if !self.streaming {
            return split_at_lines(&text, MAX_EVENT_BYTES);
        }
        let mut events = vec![];
        let mut lines: Vec<&str> = vec![];
        let mut size = 0;
        for line in text.lines() {
            if size + line.len() > MAX_EVENT_BYTES / 2 && !lines.is_empty() {
                events.push(self.event(&lines));
                lines.clear();
                size = 0;
            }
            size += line.len();
            lines.push(line);
        }
        if !lines.is_empty() {
            events.push(self.event(&lines));
        }
        events
    }

    fn event(&self, lines: &[&str]) -> String {
        let h = &self.header;
        json!({
            "eventVersion": "1.0",
            "eventTime": crate::sts::iso8601(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0),
            ),
            "awsRegion": h.region,
            "target": {"id": h.target},
            "userIdentity": {"arn": h.user_arn},
            "runAsUser": h.run_as,
            "sessionId": h.session_id,
            "sessionData": lines,
        })
        .to_string()
    }

    /// Put what is due in the session's stream (the group may have gone meanwhile: then
    /// nothing is logged).
    fn flush(&mut self, emu: &Arc<Emulator>, account: &str, region: &str, last: bool) {
        let events = self.take_events(last);
        let Some(group) = self.group.clone() else {
            return;
        };
        if events.is_empty() {
            return;
        }
        let ctx = crate::Ctx::new(emu, emu.clock.now(), account, region);
        let ts = (ctx.now * 1000.0) as i64;
        let mut st = emu.state.lock().expect("state lock");
        // The agent puts at most 4 events a call.
        for batch in events.chunks(4) {
            let put = st
                .backend::<crate::logs::Backend>(account, region)
                .put_log_events(
                    &ctx,
                    &group,
                    &self.header.session_id,
                    batch.iter().map(|e| (ts, e.clone())).collect(),
                );
            if let Err(e) = put {
                tracing::info!(error = %e, "session log not written");
                break;
            }
        }
        // Metric filters on the group turn matching events into data points (the only effect
        // PutLogEvents has).
        let points = crate::effects::sort(ctx.outbox.take()).metric_points;
        if !points.is_empty() {
            st.backend::<crate::cloudwatch::Backend>(account, region)
                .ingest(points);
        }
    }
}

/// `text` in pieces of at most `max` bytes, cut after a newline where one is.
fn split_at_lines(text: &str, max: usize) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while rest.len() > max {
        let mut cut = rest[..max].rfind('\n').map(|i| i + 1).unwrap_or(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streaming_log() -> SessionLog {
        SessionLog {
            group: Some("/sessions".into()),
            streaming: true,
            header: SessionLogHeader {
                region: "eu-west-1".into(),
                target: "mi-0123".into(),
                user_arn: "arn:aws:iam::123456789012:user/ops".into(),
                run_as: "ssm-user".into(),
                session_id: "ops-0abc".into(),
            },
            pending: vec![],
        }
    }

    #[test]
    fn control_sequences_are_stripped() {
        for (name, raw, clean) in [
            ("colour", "\x1b[01;32mok\x1b[0m", "ok"),
            ("title", "\x1b]0;ssm-user@web-1: ~\x07$ ls", "$ ls"),
            ("carriage return", "line\r\n", "line\n"),
            ("bracketed paste", "\x1b[?2004h$ ", "$ "),
        ] {
            assert_eq!(strip_ansi(raw), clean, "{name}");
        }
    }

    #[test]
    fn streaming_events_carry_complete_lines_and_who() {
        let mut log = streaming_log();
        log.record(b"$ echo audit-1\r\naudit-1\r\n$ who");
        let events = log.take_events(false);
        assert_eq!(events.len(), 1);
        let e: Json = serde_json::from_str(&events[0]).unwrap();
        assert_eq!(e["sessionData"], json!(["$ echo audit-1", "audit-1"]));
        assert_eq!(e["target"]["id"], "mi-0123");
        assert_eq!(
            e["userIdentity"]["arn"],
            "arn:aws:iam::123456789012:user/ops"
        );
        assert_eq!(e["runAsUser"], "ssm-user");
        assert_eq!(e["sessionId"], "ops-0abc");
        assert_eq!(e["awsRegion"], "eu-west-1");
        assert_eq!(e["eventVersion"], "1.0");
        // The partial line waits for its end, or for the session's.
        assert!(log.take_events(false).is_empty());
        let last: Json = serde_json::from_str(&log.take_events(true)[0]).unwrap();
        assert_eq!(last["sessionData"], json!(["$ who"]));
    }

    #[test]
    fn without_streaming_the_transcript_comes_at_the_end() {
        let mut log = streaming_log();
        log.streaming = false;
        log.record(b"a\r\nb\r\n");
        assert!(log.take_events(false).is_empty());
        assert_eq!(log.take_events(true), vec!["a\nb\n".to_string()]);
    }

    #[test]
    fn no_group_no_events() {
        let mut log = streaming_log();
        log.group = None;
        log.record(b"secret\n");
        assert!(log.take_events(true).is_empty());
    }

    #[test]
    fn transcripts_split_at_lines() {
        assert_eq!(
            split_at_lines("aaa\nbbb\ncc", 5),
            vec!["aaa\n", "bbb\n", "cc"]
        );
        assert_eq!(split_at_lines("abcdefgh", 5), vec!["abcde", "fgh"]);
    }
}
