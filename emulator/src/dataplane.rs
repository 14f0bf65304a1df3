//! The load balancers' data plane, beside `hosts` (it runs listeners and reports health;
//! Lightsail says what should run: `lightsail::desired_load_balancers`). Each Lightsail load
//! balancer listens on a real loopback port, health-checks its attached instances on
//! `instance_port` + `health_check_path`, and proxies HTTP round-robin to the healthy ones. A request whose target fails to connect is
//! retried on the next healthy target, and that target is marked unhealthy at once.
//!
//! With hosts (the bridge exists), each load balancer also gets an address of its own on the
//! bridge and listens there on port 80, and its DNS name is published for that address (see
//! `hosts::names`): `curl http://<dnsName>/` works from the machine and from every host.
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What one load balancer should do, derived from Lightsail state.
#[derive(Clone, Debug, PartialEq)]
pub struct LbConfig {
    pub dns_name: String,
    pub instance_port: u16,
    pub health_check_path: String,
    /// (instance name, private address)
    pub targets: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Initial,
    Healthy,
    Unhealthy,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Initial => "initial",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

struct Shared {
    config: Mutex<LbConfig>,
    health: Mutex<HashMap<String, Health>>,
    next: AtomicUsize,
}

struct Runtime {
    port: u16,
    /// The load balancer's own address on the hosts' bridge (port 80), when there is a bridge.
    address: Option<String>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

/// Where one load balancer answers.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Endpoint {
    pub load_balancer: String,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub dns_name: String,
    /// The address `dns_name` resolves to (port 80), with hosts.
    pub address: Option<String>,
}

/// All load balancers' listeners, keyed `account/region/name`.
#[derive(Default)]
pub struct DataPlane {
    lbs: Mutex<HashMap<String, Runtime>>,
    /// Seconds between health checks.
    pub interval: Mutex<f64>,
    /// Whether load balancers get bridge addresses (set once the hosts' bridge exists).
    bridge: Mutex<bool>,
}

/// Load balancers' bridge addresses: 198.18.255.2 to .254 (instances' addresses never get there).
fn bridge_address(n: u32) -> String {
    format!("198.18.255.{}", n + 2)
}
const BRIDGE_ADDRESSES: u32 = 253;

impl DataPlane {
    pub fn new(interval: f64) -> Self {
        DataPlane {
            lbs: Mutex::default(),
            interval: Mutex::new(interval),
            bridge: Mutex::new(false),
        }
    }

    /// From now on load balancers also listen on addresses of their own on the hosts' bridge.
    pub fn enable_bridge(&self) {
        *self.bridge.lock().expect("lb lock") = true;
    }

    /// (DNS name, bridge address) of every load balancer that has one.
    pub fn names(&self) -> Vec<(String, String)> {
        self.lbs
            .lock()
            .expect("lb lock")
            .values()
            .filter_map(|rt| {
                let name = rt.shared.config.lock().expect("lb lock").dns_name.clone();
                rt.address.clone().map(|a| (name, a))
            })
            .collect()
    }

    /// Make the running listeners match `desired` for one account and region.
    pub async fn sync(&self, scope: &str, desired: Vec<(String, LbConfig)>) {
        let mut to_start = Vec::new();
        {
            let mut lbs = self.lbs.lock().expect("lb lock");
            let prefix = format!("{scope}/");
            let keep: Vec<String> = desired
                .iter()
                .map(|(n, _)| format!("{prefix}{n}"))
                .collect();
            lbs.retain(|k, rt| {
                let live = !k.starts_with(&prefix) || keep.contains(k);
                if !live {
                    let _ = rt.stop.send(true);
                    if let Some(a) = &rt.address {
                        if let Err(e) = crate::hosts::del_bridge_address(a) {
                            tracing::warn!(address = %a, error = %e, "cannot remove a load balancer's address");
                        }
                    }
                }
                live
            });
            for (name, cfg) in desired {
                let key = format!("{prefix}{name}");
                match lbs.get(&key) {
                    Some(rt) => {
                        let mut c = rt.shared.config.lock().expect("lb lock");
                        if *c != cfg {
                            rt.shared
                                .health
                                .lock()
                                .expect("lb lock")
                                .retain(|n, _| cfg.targets.iter().any(|(t, _)| t == n));
                            *c = cfg;
                        }
                    }
                    None => to_start.push((key, cfg)),
                }
            }
        }
        for (key, cfg) in to_start {
            let Ok(listener) = TcpListener::bind(("127.0.0.1", 0)).await else {
                continue;
            };
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            let shared = Arc::new(Shared {
                config: Mutex::new(cfg),
                health: Mutex::default(),
                next: AtomicUsize::new(0),
            });
            let (stop, rx) = watch::channel(false);
            let interval = *self.interval.lock().expect("lb lock");
            tokio::spawn(serve(listener, shared.clone(), rx.clone()));
            let address = if *self.bridge.lock().expect("lb lock") {
                self.listen_on_bridge(&key, shared.clone(), rx.clone())
                    .await
            } else {
                None
            };
            tokio::spawn(health_checks(shared.clone(), interval, rx));
            self.lbs.lock().expect("lb lock").insert(
                key,
                Runtime {
                    port,
                    address,
                    shared,
                    stop,
                },
            );
        }
    }

    /// Give load balancer `key` a free bridge address and serve it there on port 80.
    async fn listen_on_bridge(
        &self,
        key: &str,
        shared: Arc<Shared>,
        stop: watch::Receiver<bool>,
    ) -> Option<String> {
        let taken: Vec<String> = self
            .lbs
            .lock()
            .expect("lb lock")
            .values()
            .filter_map(|rt| rt.address.clone())
            .collect();
        let address = (0..BRIDGE_ADDRESSES)
            .map(bridge_address)
            .find(|a| !taken.contains(a))?;
        let a = address.clone();
        let added = tokio::task::spawn_blocking(move || crate::hosts::add_bridge_address(&a)).await;
        if let Ok(Err(e)) | Err(e) =
            added.map_err(|e| crate::hosts::HostError::Command(e.to_string()))
        {
            tracing::warn!(lb = %key, error = %e, "cannot add the load balancer's address");
            return None;
        }
        match TcpListener::bind((address.as_str(), 80)).await {
            Ok(l) => {
                tokio::spawn(serve(l, shared, stop));
                Some(address)
            }
            Err(e) => {
                tracing::warn!(lb = %key, %address, error = %e, "cannot listen on port 80");
                let _ = crate::hosts::del_bridge_address(&address);
                None
            }
        }
    }

    /// The health of `instance` behind load balancer `key`, when it has a data plane.
    pub fn health(&self, key: &str, instance: &str) -> Option<Health> {
        let lbs = self.lbs.lock().expect("lb lock");
        let rt = lbs.get(key)?;
        let h = rt
            .shared
            .health
            .lock()
            .expect("lb lock")
            .get(instance)
            .copied()
            .unwrap_or(Health::Initial);
        Some(h)
    }

    /// `http://127.0.0.1:PORT` of load balancer `key`.
    pub fn endpoint(&self, key: &str) -> Option<String> {
        self.lbs
            .lock()
            .expect("lb lock")
            .get(key)
            .map(|rt| format!("http://127.0.0.1:{}", rt.port))
    }

    pub fn endpoints(&self) -> Vec<Endpoint> {
        let mut out: Vec<Endpoint> = self
            .lbs
            .lock()
            .expect("lb lock")
            .iter()
            .map(|(k, rt)| Endpoint {
                load_balancer: k.clone(),
                endpoint: format!("http://127.0.0.1:{}", rt.port),
                dns_name: rt.shared.config.lock().expect("lb lock").dns_name.clone(),
                address: rt.address.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.load_balancer.cmp(&b.load_balancer));
        out
    }

    /// Stop every listener and give back the bridge addresses.
    pub fn shutdown(&self) {
        for (_, rt) in self.lbs.lock().expect("lb lock").drain() {
            let _ = rt.stop.send(true);
            if let Some(a) = &rt.address {
                let _ = crate::hosts::del_bridge_address(a);
            }
        }
    }
}

async fn check(ip: &str, port: u16, path: &str, timeout: Duration) -> bool {
    let req = Request::get(path)
        .header("host", ip)
        .header("user-agent", "ELB-HealthChecker/2.0")
        .body(Full::new(Bytes::new()));
    match tokio::time::timeout(timeout, forward(ip, port, req.expect("valid request"))).await {
        Ok(Ok(resp)) => resp.status().is_success(),
        _ => false,
    }
}

async fn health_checks(shared: Arc<Shared>, interval: f64, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs_f64(interval.max(0.05));
    loop {
        let cfg = shared.config.lock().expect("lb lock").clone();
        for (name, ip) in &cfg.targets {
            let ok = check(ip, cfg.instance_port, &cfg.health_check_path, every).await;
            shared.health.lock().expect("lb lock").insert(
                name.clone(),
                if ok {
                    Health::Healthy
                } else {
                    Health::Unhealthy
                },
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn forward(
    ip: &str,
    port: u16,
    req: Request<Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, String> {
    let stream = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect((ip, port)))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

async fn proxy(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return status(StatusCode::BAD_REQUEST, "unreadable request body");
    };
    let cfg = shared.config.lock().expect("lb lock").clone();
    let healthy: Vec<(String, String)> = {
        let h = shared.health.lock().expect("lb lock");
        cfg.targets
            .iter()
            .filter(|(n, _)| h.get(n) == Some(&Health::Healthy))
            .cloned()
            .collect()
    };
    if healthy.is_empty() {
        return status(StatusCode::SERVICE_UNAVAILABLE, "no healthy instances");
    }
    let start = shared.next.fetch_add(1, Ordering::Relaxed);
    for k in 0..healthy.len() {
        let (name, ip) = &healthy[(start + k) % healthy.len()];
        let mut req = Request::builder().method(parts.method.clone()).uri(
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
        );
        for (h, v) in parts.headers.iter() {
            req = req.header(h, v);
        }
        let req = req
            .header("x-forwarded-proto", "http")
            .body(Full::new(body.clone()))
            .expect("valid request");
        match forward(ip, cfg.instance_port, req).await {
            Ok(resp) => return resp,
            Err(_) => {
                // Passive health check: a target that refuses connections is out at once.
                shared
                    .health
                    .lock()
                    .expect("lb lock")
                    .insert(name.clone(), Health::Unhealthy);
            }
        }
    }
    status(
        StatusCode::SERVICE_UNAVAILABLE,
        "no healthy instances answered",
    )
}

fn status(code: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::from(msg.to_string())))
        .expect("valid response")
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => continue },
            _ = stop.wait_for(|s| *s) => return,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(proxy(shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}
