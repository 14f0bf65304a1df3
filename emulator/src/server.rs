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

use crate::error::AwsError;
use crate::lightsail;
use crate::sigv4::{self, SignedRequest};
use crate::state::FaultKind;
use crate::Emulator;

const MAX_BODY: usize = 16 << 20;
const JSON_1_1: &str = "application/x-amz-json-1.1";

pub type Body = Full<Bytes>;

pub fn json_response(status: u16, body: &Json, error_type: Option<&str>) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", JSON_1_1)
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string());
    if let Some(t) = error_type {
        b = b.header("x-amzn-errortype", t);
    }
    b.body(Full::new(Bytes::from(
        serde_json::to_vec(body).unwrap_or_default(),
    )))
    .expect("valid response")
}

fn error_response(e: &AwsError) -> Response<Body> {
    json_response(e.status, &e.body(), Some(&e.code))
}

/// A JSON-protocol service this emulator serves: target prefix, SigV4 signing name, display name.
const SERVICES: &[(&str, &str, &str)] = &[("Lightsail_20161128", "lightsail", "Lightsail")];

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
        return crate::admin::handle(&emu, parts.method.as_str(), rest, &body);
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
    let target = headers
        .iter()
        .find(|(k, _)| k == "x-amz-target")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: &path,
        query: parts.uri.query().unwrap_or(""),
        headers,
        body: &body,
    };
    let caller = match sigv4::verify(&signed, &emu.credentials) {
        Ok(c) => c,
        Err(e) => return error_response(&e),
    };
    let Some((prefix, operation)) = target.split_once('.') else {
        return error_response(&AwsError::unknown_operation(&target));
    };
    let Some((_, signing_name, service)) = SERVICES.iter().find(|(p, _, _)| *p == prefix) else {
        return error_response(&AwsError::unknown_operation(&target));
    };
    if caller.service != *signing_name {
        return error_response(&AwsError::new(
            400,
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{signing_name}'."),
        ));
    }
    let input: Json = if body.is_empty() {
        Json::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(j) => j,
            Err(e) => {
                return error_response(&AwsError::serialization(format!(
                    "request body is not JSON: {e}"
                )))
            }
        }
    };
    let key = format!("{service}.{operation}");
    let span = tracing::info_span!("aws_call", op = %key, account = %caller.account, region = %caller.region);
    let _enter = span.enter();
    let faults = {
        let mut st = emu.state.lock().expect("state lock");
        *st.calls.entry(key.clone()).or_default() += 1;
        st.take_faults(&key)
    };
    let mut fail_operations = None;
    for f in faults {
        match f {
            FaultKind::Throttling => return error_response(&AwsError::throttling()),
            FaultKind::ServiceUnavailable => {
                return error_response(&AwsError::service_unavailable())
            }
            FaultKind::InternalFailure => return error_response(&AwsError::internal_failure()),
            FaultKind::FailOperation {
                error_code,
                error_details,
            } => fail_operations = Some((error_code, error_details)),
            FaultKind::Latency { millis } => {
                tokio::time::sleep(Duration::from_millis(millis)).await
            }
        }
    }
    let result = match *service {
        "Lightsail" => match lightsail::handlers::handler(operation) {
            None => Err(AwsError::unknown_operation(&target)),
            Some(h) => {
                let ctx = lightsail::Ctx {
                    now: emu.clock.now(),
                    account: &caller.account,
                    region: &caller.region,
                    profile: &emu.profile,
                    fail_operations,
                };
                let mut st = emu.state.lock().expect("state lock");
                h(
                    &mut st.backends(&caller.account, &caller.region).lightsail,
                    &ctx,
                    &input,
                )
            }
        },
        _ => Err(AwsError::unknown_operation(&target)),
    };
    match result {
        Ok(mut j) => {
            strip_nulls(&mut j);
            json_response(200, &j, None)
        }
        Err(e) => {
            tracing::debug!(code = %e.code, "error response");
            error_response(&e)
        }
    }
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
    }
}

/// Start serving on 127.0.0.1:`port` (0 picks a free port).
pub async fn start(emu: Emulator, port: u16) -> std::io::Result<Running> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let emulator = Arc::new(emu);
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(serve(emulator.clone(), listener, rx));
    Ok(Running {
        addr,
        emulator,
        stop,
        task,
    })
}
