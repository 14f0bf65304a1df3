//! hastack-local's wire inputs, in process: a request body framed as awsJson, rpcv2-CBOR or
//! awsQuery becomes the handlers' input as `server::handle` makes it, then runs against the
//! service's table (`Service::call`) with a signed root caller, and the answer is rendered as
//! the server would. Several calls per input share one state, so later calls meet what earlier
//! ones made; the emulator's clock moves on between calls. What a call does outside its backend
//! is settled as `server::settle` does without hosts (CloudWatch points, load balancer configs).
//! Hosts are off: nothing runs, nothing touches the machine.
use std::sync::Arc;

use hastack_local::clock::ManualClock;
use hastack_local::cloudwatch::protocol as cbor;
use hastack_local::error::AwsError;
use hastack_local::profile::LatencyProfile;
use hastack_local::service::{Protocol, Service};
use hastack_local::sigv4::Caller;
use hastack_local::ssm::agent_message::{AgentMessage, PayloadType};
use hastack_local::state::State;
use hastack_local::{registry, Ctx, Emulator, DEFAULT_ACCESS_KEY, DEFAULT_ACCOUNT};
use serde_json::Value as Json;

/// At most this many calls per input (each may be slow: regexes, policies, pages).
const MAX_CALLS: usize = 16;
const REGION: &str = "us-east-1";
/// 2026-01-01T00:00:00Z.
const START: f64 = 1_767_225_600.0;

fn emulator() -> &'static Emulator {
    thread_local! {
        static EMU: &'static Emulator = Box::leak(Box::new(Emulator::new(
            LatencyProfile::fast(),
            Arc::new(ManualClock::new(START)),
        )));
    }
    EMU.with(|e| *e)
}

/// Calls sharing one emulator state, as one client's session.
pub struct Calls {
    emu: &'static Emulator,
    state: State,
    now: f64,
}

impl Default for Calls {
    fn default() -> Self {
        Calls {
            emu: emulator(),
            state: State::default(),
            now: START,
        }
    }
}

impl Calls {
    /// Run `operation` of `service` on `input` as the default account's root, then settle its
    /// effects.
    pub fn call(
        &mut self,
        service: &dyn Service,
        operation: &str,
        input: &Json,
    ) -> Result<Json, AwsError> {
        let caller = Caller {
            access_key: DEFAULT_ACCESS_KEY.into(),
            account: DEFAULT_ACCOUNT.into(),
            region: REGION.into(),
            service: service.signing_name().into(),
            arn: format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root"),
            user_id: DEFAULT_ACCOUNT.into(),
            session_policy: None,
        };
        let mut ctx = Ctx::new(self.emu, self.now, DEFAULT_ACCOUNT, REGION);
        ctx.caller = Some(&caller);
        let result = service
            .call(&mut self.state, &ctx, operation, input)
            .unwrap_or_else(|| Err(AwsError::unknown_operation(operation)));
        let fx = hastack_local::effects::sort(ctx.outbox.take());
        if !fx.metric_points.is_empty() {
            self.state
                .backend::<hastack_local::cloudwatch::Backend>(DEFAULT_ACCOUNT, REGION)
                .ingest(fx.metric_points);
        }
        if fx.resync {
            let _ = hastack_local::lightsail::desired_load_balancers(
                self.state
                    .backend::<hastack_local::lightsail::Backend>(DEFAULT_ACCOUNT, REGION),
            );
        }
        let _ = service.summary(
            &mut self.state,
            &Ctx::new(self.emu, self.now, DEFAULT_ACCOUNT, REGION),
        );
        // Long enough for operations and instances of the fast profile to settle.
        self.now += 0.4;
        crate::note(|| match &result {
            Ok(j) => format!("{}.{operation}: {j}", service.name()),
            Err(e) => format!("{}.{operation}: {} {}", service.name(), e.code, e.message),
        });
        result
    }
}

/// The service for an `X-Amz-Target` prefix (as the server finds it), else one picked from the
/// prefix's bytes among `candidates`.
fn service_for(prefix: &[u8], candidates: &[&'static dyn Service]) -> &'static dyn Service {
    std::str::from_utf8(prefix)
        .ok()
        .and_then(|p| candidates.iter().copied().find(|s| s.target_prefix() == p))
        .unwrap_or_else(|| candidates[crate::pick(prefix, candidates.len())])
}

/// The operation named `name` in `service`'s table, else one picked from the name's bytes.
fn operation_for(service: &dyn Service, name: &[u8]) -> &'static str {
    let ops = service.operations();
    std::str::from_utf8(name)
        .ok()
        .and_then(|n| ops.iter().copied().find(|o| *o == n))
        .unwrap_or_else(|| ops[crate::pick(name, ops.len())])
}

/// The services spoken as awsJson (1.1, and CloudWatch's 1.0).
fn json_services() -> Vec<&'static dyn Service> {
    registry::SERVICES
        .iter()
        .copied()
        .filter(|s| s.protocol() != Protocol::AwsQuery)
        .collect()
}

/// `emulator_json11`: one call a line, `Prefix.Operation {json body}` (the `X-Amz-Target`
/// header, a space, the body). The body is parsed as the server parses it (empty is `{}`);
/// the answer is rendered as its JSON response.
pub fn json11(data: &[u8]) {
    let services = json_services();
    let mut calls = Calls::default();
    for line in data.split(|b| *b == b'\n').take(MAX_CALLS) {
        let (target, body) = match line.iter().position(|b| *b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        let (prefix, op) = match target.iter().position(|b| *b == b'.') {
            Some(i) => (&target[..i], &target[i + 1..]),
            None => (target, &b""[..]),
        };
        let service = service_for(prefix, &services);
        let operation = operation_for(service, op);
        let input: Json = if body.is_empty() {
            Json::Object(Default::default())
        } else {
            match serde_json::from_slice(body) {
                Ok(j) => j,
                Err(e) => {
                    crate::note(|| format!("not JSON: {e}"));
                    continue;
                }
            }
        };
        let out = match calls.call(service, operation, &input) {
            Ok(j) => j,
            Err(e) => e.body(),
        };
        let _ = hastack_local::server::json_response(200, &out, None);
    }
}

/// Every service's operations, in registry order: what a `/service/<S>/operation/<O>` path names.
fn all_operations() -> Vec<(&'static dyn Service, &'static str)> {
    registry::SERVICES
        .iter()
        .flat_map(|s| s.operations().into_iter().map(move |o| (*s, o)))
        .collect()
}

/// `emulator_cbor`: rpcv2-CBOR calls, each `[operation byte][length: u16 big-endian][body]`
/// (the operation byte indexes every service's operations in registry order, modulo; a short
/// body takes what is left). Any service answers rpcv2-CBOR, as the server routes it by path;
/// the answer is encoded back to CBOR.
pub fn cbor(data: &[u8]) {
    let ops = all_operations();
    let mut calls = Calls::default();
    let mut rest = data;
    for _ in 0..MAX_CALLS {
        let Some((&op, tail)) = rest.split_first() else {
            break;
        };
        let len = match tail {
            [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => 0,
        };
        let tail = tail.get(2..).unwrap_or_default();
        let (body, next) = tail.split_at(len.min(tail.len()));
        rest = next;
        let (service, operation) = ops[usize::from(op) % ops.len()];
        let input = match cbor::decode(body) {
            Ok(j) => j,
            Err(e) => {
                crate::note(|| format!("not CBOR: {e}"));
                continue;
            }
        };
        let out = match calls.call(service, operation, &input) {
            Ok(j) => j,
            Err(e) => e.body(),
        };
        let bytes = cbor::encode(&out);
        // What the server sends must be CBOR its own decoder reads.
        if let Err(e) = cbor::decode(&bytes) {
            panic!("the CBOR answer to {operation} does not decode: {e}");
        }
    }
}

/// `emulator_query`: awsQuery (STS) calls, one form-encoded body a line. The service is the
/// awsQuery one whose table has the form's `Action` (else one action picked from its bytes);
/// the answer is rendered as XML.
pub fn query(data: &[u8]) {
    let services: Vec<&'static dyn Service> = registry::SERVICES
        .iter()
        .copied()
        .filter(|s| s.protocol() == Protocol::AwsQuery)
        .collect();
    let mut calls = Calls::default();
    for body in data.split(|b| *b == b'\n').take(MAX_CALLS) {
        let form = hastack_local::query::parse_form(body);
        let action = form.get("Action").and_then(Json::as_str).unwrap_or("");
        let service = services
            .iter()
            .copied()
            .find(|s| s.operations().contains(&action))
            .unwrap_or_else(|| service_for(action.as_bytes(), &services));
        let operation = operation_for(service, action.as_bytes());
        let xml = match calls.call(service, operation, &form) {
            Ok(j) => hastack_local::query::success(operation, &j, "fuzz"),
            Err(e) => hastack_local::query::error(&e, "fuzz"),
        };
        assert!(xml.starts_with('<'), "not XML: {xml}");
    }
}

/// `emulator_agent_message`: one Session Manager data-channel frame (what a client sends on the
/// WebSocket), decoded as the session loop does: acknowledged, its payload read by type (a
/// terminal size is JSON, a flag a big-endian u32, output goes to the transcript), and encoded
/// again.
pub fn agent_message(data: &[u8]) {
    let m = match AgentMessage::decode(data) {
        Ok(m) => m,
        Err(e) => return crate::note(|| format!("refused: {e}")),
    };
    crate::note(|| format!("decoded: {m:?}"));
    let ack = m.acknowledgement(1);
    let ack_back = AgentMessage::decode(&ack.encode()).expect("an acknowledgement decodes");
    assert_eq!(ack_back.payload, ack.payload);
    let ack_json: Json = serde_json::from_slice(&ack.payload).expect("an acknowledgement is JSON");
    assert_eq!(
        ack_json["AcknowledgedMessageSequenceNumber"].as_i64(),
        Some(m.sequence_number)
    );
    match PayloadType::from_u32(m.payload_type) {
        Some(PayloadType::Size) => {
            if let Ok(size) = serde_json::from_slice::<Json>(&m.payload) {
                let dim = |k: &str| {
                    size.get(k)
                        .and_then(Json::as_u64)
                        .unwrap_or(0)
                        .min(u64::from(u16::MAX))
                };
                let _ = (dim("cols"), dim("rows"));
            }
        }
        Some(PayloadType::Output) | Some(PayloadType::StdErr) => {
            let _ =
                hastack_local::session_channel::strip_ansi(&String::from_utf8_lossy(&m.payload));
        }
        _ => {}
    }
    // Encoding writes the standard header length and digest: the payload and numbers survive.
    let again = AgentMessage::decode(&m.encode()).expect("an encoded message decodes");
    assert_eq!(again.payload, m.payload);
    assert_eq!(again.sequence_number, m.sequence_number);
    assert_eq!(again.created_ms, m.created_ms);
    assert_eq!(again.message_id, m.message_id);
}
