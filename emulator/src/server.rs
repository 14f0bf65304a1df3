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
use crate::lightsail;
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

/// Services: target prefix (and CBOR service name), SigV4 signing name, display name, JSON version.
const SERVICES: &[(&str, &str, &str, Protocol)] = &[
    (
        "Lightsail_20161128",
        "lightsail",
        "Lightsail",
        Protocol::Json11,
    ),
    ("AmazonSSM", "ssm", "SSM", Protocol::Json11),
    ("Logs_20140328", "logs", "Logs", Protocol::Json11),
    (
        "GraniteServiceVersion20100801",
        "monitoring",
        "CloudWatch",
        Protocol::Json10,
    ),
    (STS_PREFIX, "sts", "STS", Protocol::Query),
];

const STS_PREFIX: &str = "AWSSecurityTokenServiceV20110615";

async fn handle(emu: Arc<Emulator>, req: Request<Incoming>) -> Response<Body> {
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
    let (prefix, operation, protocol) = if let Some(rest) = path.strip_prefix("/service/") {
        match rest.split_once("/operation/") {
            Some((svc, op)) if header("smithy-protocol").as_deref() == Some("rpc-v2-cbor") => {
                (svc.to_string(), op.to_string(), Protocol::Cbor)
            }
            _ => return error_response(&AwsError::unknown_operation(&path)),
        }
    } else if let Some(q) = &query_input {
        let action = q.get("Action").and_then(Json::as_str).unwrap_or("");
        (STS_PREFIX.to_string(), action.to_string(), Protocol::Query)
    } else {
        let target = header("x-amz-target").unwrap_or_default();
        match target.split_once('.') {
            Some((p, o)) => (p.to_string(), o.to_string(), Protocol::Json11),
            None => return error_response(&AwsError::unknown_operation(&target)),
        }
    };
    let target = format!("{prefix}.{operation}");
    let Some((_, signing_name, service, json_version)) =
        SERVICES.iter().find(|(p, ..)| *p == prefix)
    else {
        return error_response(&AwsError::unknown_operation(&target));
    };
    let protocol = if protocol == Protocol::Cbor {
        Protocol::Cbor
    } else {
        *json_version
    };
    let fail = |e: &AwsError| respond_error(protocol, e);
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: &path,
        query: parts.uri.query().unwrap_or(""),
        headers: headers.clone(),
        body: &body,
    };
    let now = emu.clock.now();
    // STS's web identity call is not signed: the token is the credential.
    let unsigned = *service == "STS"
        && crate::sts::UNSIGNED.contains(&operation.as_str())
        && header("authorization").is_none();
    let caller = if unsigned {
        None
    } else {
        match sigv4::verify(&signed, &|k| emu.credential(k), now) {
            Ok(c) => Some(c),
            Err(e) => return fail(&e),
        }
    };
    if let Some(c) = &caller {
        if c.service != *signing_name {
            return fail(&AwsError::new(
                400,
                "InvalidSignatureException",
                format!("Credential should be scoped to correct service: '{signing_name}'."),
            ));
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
    let key = format!("{service}.{operation}");
    let account_of = caller.as_ref().map(|c| c.account.as_str()).unwrap_or("-");
    let span = tracing::info_span!("aws_call", op = %key, account = %account_of);
    let _enter = span.enter();
    let faults = {
        let mut st = emu.state.lock().expect("state lock");
        *st.calls.entry(key.clone()).or_default() += 1;
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
    if *service == "STS" {
        let result = {
            let mut st = emu.state.lock().expect("state lock");
            let ctx = crate::sts::StsCtx {
                now,
                caller: caller.as_ref(),
            };
            match crate::sts::handler(&operation) {
                Some(h) => h(&mut st.sts, &ctx, &input),
                None => Err(AwsError::unknown_operation(&target)),
            }
        };
        return match result {
            Ok(j) => {
                let id = uuid::Uuid::new_v4().to_string();
                respond_xml(200, crate::query::success(&operation, &j, &id), &id)
            }
            Err(e) => fail(&e),
        };
    }
    let Some(caller) = caller else {
        return fail(&AwsError::new(
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let mut ctx = crate::Ctx::new(&emu, now, &caller.account, &caller.region);
    ctx.fail_operations = fail_operations;
    let result = {
        let mut st = emu.state.lock().expect("state lock");
        let b = st.backends(&caller.account, &caller.region);
        let unknown = || Err(AwsError::unknown_operation(&target));
        match *service {
            "Lightsail" => lightsail::handlers::handler(operation.as_str())
                .map_or_else(unknown, |h| h(&mut b.lightsail, &ctx, &input)),
            "SSM" => crate::ssm::handler(&operation)
                .map_or_else(unknown, |h| h(&mut b.ssm, &ctx, &input)),
            "Logs" => crate::logs::handlers::handler(&operation)
                .map_or_else(unknown, |h| h(&mut b.logs, &ctx, &input)),
            "CloudWatch" => crate::cloudwatch::handlers::handler(&operation)
                .map_or_else(unknown, |h| h(&mut b.cloudwatch, &ctx, &input)),
            _ => unknown(),
        }
    };
    let mut effects = ctx.outbox.take();
    // Calls that can change load balancers or their instances re-sync the data plane.
    if *service == "Lightsail" && !operation.starts_with("Get") {
        effects.push(Effect::ResyncLoadBalancers);
    }
    settle(&emu, &caller.account, &caller.region, effects).await;
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
        let b = st.backends(account, region);
        if !fx.metric_points.is_empty() {
            b.cloudwatch.ingest(fx.metric_points);
        }
        (fx.resync && emu.hosts.availability().is_ok())
            .then(|| crate::lightsail::desired_load_balancers(&b.lightsail))
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
    crate::ssm::commands::record_outcome(&mut st.backends(&account, &region).ssm, &x, res, now);
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
        let (stream, _peer): (_, SocketAddr) = tokio::select! {
            r = listener.accept() => r?,
            _ = shutdown.wait_for(|s| *s) => return Ok(()),
        };
        let emu = emu.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let emu = emu.clone();
                async move { Ok::<_, Infallible>(handle(emu, req).await) }
            });
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            let _ = builder
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
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
