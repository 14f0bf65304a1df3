//! hastack-local: an offline stand-in for the AWS services hastack uses, speaking their real
//! wire protocols (SigV4-signed awsJson 1.0/1.1, rpcv2-CBOR, awsQuery). Laid out per service
//! like moto (wire and backend; see `service` and `registry`); state is kept per (account,
//! region); time is injectable and state transitions follow a latency profile.
#![forbid(unsafe_code)]

pub mod admin;
pub mod clock;
pub mod cloudwatch;
pub mod dataplane;
pub mod effects;
pub mod error;
pub mod hosts;
pub mod iam_policy;
pub mod input;
pub mod lightsail;
pub mod logs;
pub mod profile;
pub mod query;
pub mod registry;
pub mod server;
pub mod service;
pub mod session_channel;
pub mod sigv4;
pub mod ssm;
pub mod state;
pub mod sts;

use std::sync::{Arc, Mutex};

use clock::Clock;
use profile::LatencyProfile;
use sigv4::Credential;

/// The default credentials, documented in the README.
pub const DEFAULT_ACCESS_KEY: &str = "AKIAHASTACKLOCAL0001";
pub const DEFAULT_SECRET_KEY: &str = "hastack-local-secret";
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Everything one handler call sees besides its input.
pub struct Ctx<'a> {
    pub now: f64,
    pub account: &'a str,
    pub region: &'a str,
    pub profile: &'a LatencyProfile,
    /// Set by fault injection: the operations (Lightsail) this call returns end Failed with this.
    pub fail_operations: Option<(String, String)>,
    /// The real hosts behind instances (or the reason there are none).
    pub hosts: &'a hosts::HostManager,
    /// The load balancers' listeners and health checks.
    pub plane: &'a dataplane::DataPlane,
    /// What the call does outside its backend, carried out after it.
    pub outbox: effects::Outbox,
    /// Who signed the call (absent for unsigned calls and the admin API).
    pub caller: Option<&'a sigv4::Caller>,
    /// Where Session Manager data channels are served (`ws://127.0.0.1:PORT`).
    pub stream_base: String,
}

impl<'a> Ctx<'a> {
    pub fn new(emu: &'a Emulator, now: f64, account: &'a str, region: &'a str) -> Self {
        Ctx {
            now,
            account,
            region,
            profile: &emu.profile,
            fail_operations: None,
            hosts: &emu.hosts,
            plane: &emu.plane,
            outbox: effects::Outbox::default(),
            caller: None,
            stream_base: emu
                .stream_base
                .get()
                .cloned()
                .unwrap_or_else(|| "ws://127.0.0.1".into()),
        }
    }

    pub fn emit(&self, e: effects::Effect) {
        self.outbox.push(e);
    }
}

/// A handler: one operation of one service, on that service's backend.
pub type Handler<B> =
    fn(&mut B, &Ctx<'_>, &serde_json::Value) -> Result<serde_json::Value, error::AwsError>;

pub struct Emulator {
    pub state: Mutex<state::State>,
    pub clock: Arc<dyn Clock>,
    pub profile: LatencyProfile,
    pub credentials: Vec<Credential>,
    /// When set, `Running::stop` appends the `Service.Operation` names called to this file
    /// (the SDK suites use it to report which operations they exercised).
    pub call_log: Option<std::path::PathBuf>,
    pub hosts: hosts::HostManager,
    pub plane: dataplane::DataPlane,
    /// Set once serving: the loopback base of Session Manager stream URLs.
    pub stream_base: std::sync::OnceLock<String>,
}

impl Emulator {
    pub fn new(profile: LatencyProfile, clock: Arc<dyn Clock>) -> Self {
        Emulator {
            plane: dataplane::DataPlane::new(profile.health_check_interval),
            state: Mutex::default(),
            clock,
            profile,
            credentials: vec![Credential::root(
                DEFAULT_ACCESS_KEY,
                DEFAULT_SECRET_KEY,
                DEFAULT_ACCOUNT,
            )],
            call_log: None,
            stream_base: std::sync::OnceLock::new(),
            hosts: hosts::HostManager::disabled(
                "hosts are off (hastack-local serve without --no-hosts turns them on)",
            ),
        }
    }

    /// Instances become real hosts, kept under `dir`.
    pub fn with_hosts(mut self, dir: std::path::PathBuf) -> Self {
        self.hosts = hosts::HostManager::new(dir);
        self
    }

    pub fn with_call_log(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.call_log = path;
        self
    }

    pub fn with_credentials(mut self, creds: Vec<Credential>) -> Self {
        self.credentials.extend(creds);
        self
    }

    /// The credential with this access key: configured, or issued by STS (expired ones too,
    /// so that verification can say they expired).
    pub fn credential(&self, access_key: &str) -> Option<Credential> {
        self.credentials
            .iter()
            .find(|c| c.access_key == access_key)
            .cloned()
            .or_else(|| {
                let mut st = self.state.lock().expect("state lock");
                st.global::<sts::Backend>().issued.get(access_key).cloned()
            })
    }
}
