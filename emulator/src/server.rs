//! HTTP front: SigV4 check, awsJson1_1 dispatch by `X-Amz-Target`, faults, call counts.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value as Json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::effects::Effect;
use crate::error::AwsError;
use crate::service;
use crate::sigv4::{self, SignedRequest};
use crate::state::FaultKind;
use crate::Emulator;

const MAX_BODY: usize = 16 << 20;
const JSON_1_1: &str = "application/x-amz-json-1.1";

pub type Body = Full<Bytes>;

/// How a request was framed, and so how its answer must be.
#[derive(Clone, Copy, PartialEq)]
enum Protocol {
    Json11,
    Json10,
    Cbor,
    /// awsQuery (STS): form-encoded in, XML out.
    Query,
}

pub fn json_response(status: u16, body: &Json, error_type: Option<&str>) -> Response<Body> {
    respond(Protocol::Json11, status, body, error_type)
}

/// An awsQuery answer: XML.
fn respond_xml(status: u16, xml: String, request_id: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-amzn-requestid", request_id)
        .header("content-type", "text/xml")
        .body(Full::new(Bytes::from(xml)))
        .expect("valid response")
}

fn respond_error(protocol: Protocol, e: &AwsError) -> Response<Body> {
    if protocol == Protocol::Query {
        let id = uuid::Uuid::new_v4().to_string();
        return respond_xml(e.status, crate::query::error(e, &id), &id);
    }
    let mut r = respond(protocol, e.status, &e.body(), Some(&e.code));
    if let Some(q) = e
        .query_error
        .as_deref()
        .and_then(|q| hyper::header::HeaderValue::from_str(q).ok())
    {
        r.headers_mut().insert("x-amzn-query-error", q);
    }
    r
}

fn respond(
    protocol: Protocol,
    status: u16,
    body: &Json,
    error_type: Option<&str>,
) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string());
    if let Some(t) = error_type {
        b = b.header("x-amzn-errortype", t);
    }
    let bytes = match protocol {
        Protocol::Cbor => {
            b = b
                .header("content-type", "application/cbor")
                .header("smithy-protocol", "rpc-v2-cbor");
            crate::cloudwatch::protocol::encode(body)
        }
        p => {
            b = b.header(
                "content-type",
                if p == Protocol::Json10 {
                    "application/x-amz-json-1.0"
                } else {
                    JSON_1_1
                },
            );
            let mut plain = body.clone();
            crate::cloudwatch::protocol::unmark_timestamps(&mut plain);
            serde_json::to_vec(&plain).unwrap_or_default()
        }
    };
    b.body(Full::new(Bytes::from(bytes)))
        .expect("valid response")
}

fn error_response(e: &AwsError) -> Response<Body> {
    respond(Protocol::Json11, e.status, &e.body(), Some(&e.code))
}

/// The admin calls the stand-in agents on hosts make (everything else is loopback only).
const HOST_ADMIN: [&str; 4] = [
    "ssm/register",
    "ssm/credentials",
    "ssm/get-parameter",
    "logs/put",
];

/// Whether a connection is local: both ends on a loopback address (the hosts' bridge is not).
pub fn is_loopback(peer: SocketAddr, local: SocketAddr) -> bool {
    peer.ip().to_canonical().is_loopback() && local.ip().to_canonical().is_loopback()
}

/// Whether a caller may use the admin call `/_hastack/<path>`: any from loopback, only the
/// agents' calls (`HOST_ADMIN`) from elsewhere.
fn admin_allowed(loopback: bool, path: &str) -> bool {
    loopback || HOST_ADMIN.contains(&path)
}

async fn handle(emu: Arc<Emulator>, req: Request<Incoming>, loopback: bool) -> Response<Body> {
    if req
        .uri()
        .path()
        .starts_with(crate::session_channel::PATH_PREFIX)
    {
        return crate::session_channel::upgrade(emu, req, loopback);
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error_response(&AwsError::serialization(
                "request body too large or unreadable",
            ))
        }
    };
    let path = parts.uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/_hastack/") {
        // Hosts reach this server on the bridge for what their stand-in agents do; the rest
        // of the admin API (faults, outages, reset, state) answers on loopback only.
        if !admin_allowed(loopback, rest) {
            return json_response(
                403,
                &serde_json::json!({"error": format!("/_hastack/{rest} answers on loopback only; hosts may call {}", HOST_ADMIN.join(", "))}),
                None,
            );
        }
        let (status, out) = match serde_json::from_slice::<Json>(&body) {
            _ if body.is_empty() => {
                admin(
                    &emu,
                    parts.method.as_str(),
                    rest,
                    Json::Object(Default::default()),
                )
                .await
            }
            Ok(input) => admin(&emu, parts.method.as_str(), rest, input).await,
            Err(_) => (400, serde_json::json!({"error": "body is not JSON"})),
        };
        return json_response(status, &out, None);
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // awsJson: `X-Amz-Target: Prefix.Operation`; rpcv2-CBOR: `/service/<Service>/operation/<Operation>`;
    // awsQuery (STS): a form with `Action=Operation`.
    let form = header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        && header("x-amz-target").is_none();
    let query_input = form.then(|| crate::query::parse_form(&body));
    let (service, operation, framing) = if let Some(rest) = path.strip_prefix("/service/") {
        match rest.split_once("/operation/") {
            Some((svc, op)) if header("smithy-protocol").as_deref() == Some("rpc-v2-cbor") => {
                match crate::registry::by_prefix(svc) {
                    Some(s) => (s, op.to_string(), Protocol::Cbor),
                    None => return error_response(&AwsError::unknown_operation(&path)),
                }
            }
            _ => return error_response(&AwsError::unknown_operation(&path)),
        }
    } else if let Some(q) = &query_input {
        // awsQuery names no service: the one whose table has the action.
        let action = q.get("Action").and_then(Json::as_str).unwrap_or("");
        match crate::registry::SERVICES.iter().copied().find(|s| {
            s.protocol() == service::Protocol::AwsQuery && s.operations().contains(&action)
        }) {
            Some(s) => (s, action.to_string(), Protocol::Query),
            None => return error_response(&AwsError::unknown_operation(action)),
        }
    } else {
        let target = header("x-amz-target").unwrap_or_default();
        match target
            .split_once('.')
            .and_then(|(p, o)| Some((crate::registry::by_prefix(p)?, o)))
        {
            Some((s, o)) => (s, o.to_string(), Protocol::Json11),
            None => return error_response(&AwsError::unknown_operation(&target)),
        }
    };
    let target = format!("{}.{operation}", service.target_prefix());
    let protocol = match (framing, service.protocol()) {
        (Protocol::Cbor, _) => Protocol::Cbor,
        (_, service::Protocol::AwsJson10) => Protocol::Json10,
        (_, service::Protocol::AwsJson11) => Protocol::Json11,
        (_, service::Protocol::AwsQuery) => Protocol::Query,
    };
    let fail = |e: &AwsError| respond_error(protocol, e);
    // CloudWatch, the one service spoken in awsJson1_0 and rpcv2-CBOR here, is awsQueryCompatible.
    let dialect = match protocol {
        Protocol::Json11 => sigv4::Dialect::Json,
        Protocol::Json10 | Protocol::Cbor => sigv4::Dialect::QueryCompatible,
        Protocol::Query => sigv4::Dialect::Query,
    };
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: &path,
        query: parts.uri.query().unwrap_or(""),
        headers: headers.clone(),
        body: &body,
    };
    let now = emu.clock.now();
    // Some calls are not signed (STS's web identity call: the token is the credential).
    let unsigned = service.unsigned(&operation) && header("authorization").is_none();
    let caller = if unsigned {
        None
    } else {
        let wall = crate::clock::Clock::now(&crate::clock::SystemClock);
        match sigv4::check(&signed, &|k| emu.credential(k), now, wall) {
            Ok(c) => Some(c),
            Err(why) => return fail(&why.to_error(dialect)),
        }
    };
    if let Some(c) = &caller {
        if c.service != service.signing_name() {
            let why = sigv4::Refusal::WrongService(service.signing_name().to_string());
            return fail(&why.to_error(dialect));
        }
    }
    let input: Json = match protocol {
        Protocol::Query => query_input.unwrap_or_default(),
        Protocol::Cbor => match crate::cloudwatch::protocol::decode(&body) {
            Ok(j) => j,
            Err(e) => return fail(&AwsError::serialization(e)),
        },
        _ if body.is_empty() => Json::Object(Default::default()),
        _ => match serde_json::from_slice(&body) {
            Ok(j) => j,
            Err(e) => {
                return fail(&AwsError::serialization(format!(
                    "request body is not JSON: {e}"
                )))
            }
        },
    };
    let key = format!("{}.{operation}", service.name());
    let account_of = caller.as_ref().map(|c| c.account.as_str()).unwrap_or("-");
    let span = tracing::info_span!("aws_call", op = %key, account = %account_of);
    let _enter = span.enter();
    let faults = {
        let mut st = emu.state.lock().expect("state lock");
        *st.calls.entry(key.clone()).or_default() += 1;
        if let Some(c) = &caller {
            *st.callers
                .entry(c.arn.clone())
                .or_default()
                .entry(c.access_key.clone())
                .or_default()
                .entry(key.clone())
                .or_default() += 1;
        }
        st.take_faults(&key)
    };
    let mut fail_operations = None;
    for f in faults {
        match f {
            FaultKind::Throttling => return fail(&AwsError::throttling()),
            FaultKind::ServiceUnavailable => return fail(&AwsError::service_unavailable()),
            FaultKind::InternalFailure => return fail(&AwsError::internal_failure()),
            FaultKind::FailOperation {
                error_code,
                error_details,
            } => fail_operations = Some((error_code, error_details)),
            FaultKind::Latency { millis } => {
                tokio::time::sleep(Duration::from_millis(millis)).await
            }
        }
    }
    // An unsigned call acts in no account of its own (its region is the default one).
    let (account, region) = caller
        .as_ref()
        .map(|c| (c.account.clone(), c.region.clone()))
        .unwrap_or_else(|| (String::new(), "us-east-1".to_string()));
    let mut ctx = crate::Ctx::new(&emu, emu.clock.now(), &account, &region);
    ctx.fail_operations = fail_operations;
    ctx.caller = caller.as_ref();
    let result = {
        let mut st = emu.state.lock().expect("state lock");
        service
            .call(&mut st, &ctx, &operation, &input)
            .unwrap_or_else(|| Err(AwsError::unknown_operation(&target)))
    };
    let effects = ctx.outbox.take();
    settle(&emu, &account, &region, effects).await;
    if protocol == Protocol::Query {
        return match result {
            Ok(j) => {
                let id = uuid::Uuid::new_v4().to_string();
                respond_xml(200, crate::query::success(&operation, &j, &id), &id)
            }
            Err(e) => fail(&e),
        };
    }
    match result {
        Ok(mut j) => {
            strip_nulls(&mut j);
            respond(protocol, 200, &j, None)
        }
        Err(e) => {
            tracing::debug!(code = %e.code, "error response");
            fail(&e)
        }
    }
}

/// Carry out the effects a call recorded for `account`/`region`: CloudWatch data points at
/// once, the data plane's re-sync and published names, host actions (in order, before the call
/// is answered: they are part of it), then Run Command deliveries in the background (they
/// record their outcome in SSM).
pub async fn settle(emu: &Arc<Emulator>, account: &str, region: &str, effects: Vec<Effect>) {
    let fx = crate::effects::sort(effects);
    let lbs = {
        let mut st = emu.state.lock().expect("state lock");
        if !fx.metric_points.is_empty() {
            st.backend::<crate::cloudwatch::Backend>(account, region)
                .ingest(fx.metric_points);
        }
        (fx.resync && emu.hosts.availability().is_ok()).then(|| {
            crate::lightsail::desired_load_balancers(
                st.backend::<crate::lightsail::Backend>(account, region),
            )
        })
    };
    if let Some(lbs) = lbs {
        emu.plane.sync(&format!("{account}/{region}"), lbs).await;
        let emu2 = emu.clone();
        let _ =
            tokio::task::spawn_blocking(move || emu2.hosts.publish_names(emu2.plane.names())).await;
    }
    if !fx.hosts.is_empty() {
        let emu2 = emu.clone();
        let (a, r) = (account.to_string(), region.to_string());
        let actions = fx.hosts;
        let _ =
            tokio::task::spawn_blocking(move || crate::hosts::apply(&emu2.hosts, &a, &r, actions))
                .await;
    }
    for x in fx.run {
        tokio::spawn(run_command(
            emu.clone(),
            account.to_string(),
            region.to_string(),
            x,
        ));
    }
}

/// An admin API call (in process), then its effects carried out as after an API call: a
/// disappeared instance's host and a disappeared load balancer's listener really go away.
pub async fn admin(emu: &Arc<Emulator>, method: &str, path: &str, input: Json) -> (u16, Json) {
    let reply = crate::admin::call(emu, method, path, input);
    if let Some((account, region)) = &reply.scope {
        settle(emu, account, region, reply.effects).await;
    }
    (reply.status, reply.body)
}

/// Run one Run Command invocation on its host and have SSM record the outcome.
async fn run_command(
    emu: Arc<Emulator>,
    account: String,
    region: String,
    x: crate::effects::ExecRequest,
) {
    let e2 = emu.clone();
    let req = x.clone();
    let res = tokio::task::spawn_blocking(move || {
        e2.hosts.exec(
            &req.host,
            &req.script,
            &req.workdir,
            Duration::from_secs(req.timeout_secs),
        )
    })
    .await;
    let failed = |why: String| crate::hosts::ExecResult {
        code: -1,
        stdout: String::new(),
        stderr: format!("hastack-local: {why}"),
        timed_out: false,
    };
    let res = match res {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => failed(e.to_string()),
        Err(e) => failed(e.to_string()),
    };
    let now = emu.clock.now();
    let mut st = emu.state.lock().expect("state lock");
    crate::ssm::commands::record_outcome(
        st.backend::<crate::ssm::Backend>(&account, &region),
        &x,
        res,
        now,
    );
}

/// AWS omits absent members rather than sending `null`; so do we.
fn strip_nulls(j: &mut Json) {
    match j {
        Json::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Json::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Serve until `shutdown` becomes true.
pub async fn serve(
    emu: Arc<Emulator>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            r = listener.accept() => r?,
            _ = shutdown.wait_for(|s| *s) => return Ok(()),
        };
        let loopback = stream
            .local_addr()
            .is_ok_and(|local| is_loopback(peer, local));
        let emu = emu.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let emu = emu.clone();
                async move { Ok::<_, Infallible>(handle(emu, req, loopback).await) }
            });
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            // With upgrades: Session Manager data channels are WebSockets.
            let _ = builder
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// A running emulator on a loopback port, for tests and embedding.
pub struct Running {
    pub addr: SocketAddr,
    pub emulator: Arc<Emulator>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let emu = self.emulator.clone();
        emu.plane.shutdown();
        let _ = tokio::task::spawn_blocking(move || emu.hosts.shutdown()).await;
        if let Some(path) = &self.emulator.call_log {
            let names: String = self
                .emulator
                .state
                .lock()
                .expect("state lock")
                .calls
                .keys()
                .map(|k| format!("{k}\n"))
                .collect();
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = f.write_all(names.as_bytes());
            }
        }
    }
}

/// Start serving on 127.0.0.1:`port` (0 picks a free port).
pub async fn start(emu: Emulator, port: u16) -> std::io::Result<Running> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let _ = emu.stream_base.set(format!("ws://{addr}"));
    let emulator = Arc::new(emu);
    let (stop, rx) = watch::channel(false);
    if emulator.hosts.availability().is_ok() {
        // Hosts reach the emulator (agent registration, log shipping) on the bridge address.
        match emulator.hosts.ensure_bridge() {
            Ok(()) => match TcpListener::bind((crate::hosts::BRIDGE_IP, addr.port())).await {
                Ok(l) => {
                    emulator.hosts.set_port(addr.port());
                    emulator.plane.enable_bridge();
                    tokio::spawn(serve(emulator.clone(), l, rx.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen on the hosts' bridge"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot create the hosts' bridge"),
        }
    }
    let task = tokio::spawn(serve(emulator.clone(), listener, rx));
    Ok(Running {
        addr,
        emulator,
        stop,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_connections_are_local() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        for (case, peer, local, want) in [
            ("both loopback", "127.0.0.1:40000", "127.0.0.1:4566", true),
            (
                "another loopback address",
                "127.0.0.2:40000",
                "127.0.0.1:4566",
                true,
            ),
            ("IPv6 loopback", "[::1]:40000", "[::1]:4566", true),
            (
                "IPv4-mapped loopback",
                "[::ffff:127.0.0.1]:40000",
                "[::ffff:127.0.0.1]:4566",
                true,
            ),
            (
                "a host on the bridge",
                "198.18.0.12:40000",
                "198.18.0.1:4566",
                false,
            ),
            (
                "a bridge peer on a loopback socket",
                "198.18.0.12:40000",
                "127.0.0.1:4566",
                false,
            ),
            (
                "a loopback peer on the bridge socket",
                "127.0.0.1:40000",
                "198.18.0.1:4566",
                false,
            ),
            (
                "IPv4-mapped remote",
                "[::ffff:192.0.2.7]:40000",
                "[::ffff:127.0.0.1]:4566",
                false,
            ),
            ("unspecified", "0.0.0.0:40000", "127.0.0.1:4566", false),
        ] {
            assert_eq!(is_loopback(addr(peer), addr(local)), want, "{case}");
        }
    }

    #[test]
    fn from_elsewhere_only_the_agents_admin_calls_answer() {
        for path in HOST_ADMIN {
            assert!(admin_allowed(false, path), "{path}");
            assert!(admin_allowed(true, path), "{path}");
        }
        for path in [
            "reset",
            "faults",
            "state",
            "calls",
            "callers",
            "disappear",
            "hosts/stop",
            "hosts/fail-zone",
            "ssm/connectivity",
            "ssm/register/../../reset",
            "",
        ] {
            assert!(!admin_allowed(false, path), "{path}");
            assert!(admin_allowed(true, path), "{path}");
        }
    }
}
