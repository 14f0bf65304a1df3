//! Instances as real Linux hosts: each is a network namespace on a private bridge with its own
//! addresses, and a long-lived init in its own mount, UTS and PID namespaces (private `/etc`,
//! `/var` overlays, fresh `/run`, `/tmp`). Stopping a host kills everything in it.
//!
//! The bridge lives in 198.18.0.0/15 (the benchmarking range), has no route out and no NAT:
//! hosts reach each other and the emulator's bridge address, nothing else.
//!
//! A leaf: it executes and reports, and knows nothing of the services (which record outcomes).
pub mod names;
pub mod net;
pub mod shell;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use net::{add_bridge_address, del_bridge_address, BRIDGE_IP};

/// The machine's hosts file, where load balancers' names are published.
const MACHINE_HOSTS_FILE: &str = "/etc/hosts";

const INIT: &str = include_str!("files/host-init.sh");
const SSM_AGENT: &str = include_str!("files/amazon-ssm-agent");
const SYSTEMCTL: &str = include_str!("files/systemctl");
const CW_AGENT: &str = include_str!("files/amazon-cloudwatch-agent-ctl");
const AWS_CLI: &str = include_str!("files/aws");

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("hosts unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Command(String),
    #[error("no host {0}")]
    NoSuchHost(String),
}

/// What a command run on a host produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecResult {
    pub code: i64,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    Running,
    Stopped,
}

struct Host {
    index: u32,
    name: String,
    zone: String,
    dir: PathBuf,
    private_ip: String,
    public_ip: String,
    init: Option<Child>,
    power: Power,
    partitioned: bool,
}

impl Host {
    fn netns(&self) -> String {
        format!("hstk-{}", self.index)
    }
    fn veth(&self) -> String {
        format!("hstkv{}", self.index)
    }
    /// PID 1 of the host's PID namespace (the child of `unshare`).
    fn init_pid(&self) -> Option<u32> {
        let unshare = self.init.as_ref()?.id();
        let children =
            std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }
}

/// What a new host is made from.
#[derive(Clone, Copy, Debug)]
pub struct HostSpec<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub zone: &'a str,
    pub private_ip: &'a str,
    pub public_ip: &'a str,
    pub account: &'a str,
    pub user_data: &'a str,
}

/// A snapshot of one host, for handlers and the admin API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostView {
    pub key: String,
    pub name: String,
    pub zone: String,
    pub private_ip: String,
    pub public_ip: String,
    pub running: bool,
    pub partitioned: bool,
    pub boot_log: String,
}

pub struct HostManager {
    available: Result<(), String>,
    dir: PathBuf,
    /// Where hosts reach the emulator (`http://198.18.0.1:PORT`).
    endpoint: Mutex<String>,
    hosts: Mutex<HashMap<String, Host>>,
    next: Mutex<u32>,
    /// Held while this manager owns the bridge: one hastack-local with hosts per machine.
    bridge: Mutex<Option<std::fs::File>>,
    /// The published block of load balancer names (see `names`).
    names: Mutex<String>,
}

fn tool(name: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(name).exists())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

impl HostManager {
    /// Hosts under `dir`; unavailable (and saying why) without root, Linux or the tools.
    pub fn new(dir: PathBuf) -> Self {
        let available = if !cfg!(target_os = "linux") {
            Err("hosts need Linux network and mount namespaces".to_string())
        } else if !is_root() {
            Err("hosts need root (network namespaces, bridges, mounts)".to_string())
        } else if let Some(missing) = ["ip", "unshare", "nsenter", "bash", "curl"]
            .iter()
            .find(|t| !tool(t))
        {
            Err(format!("hosts need `{missing}` (run scripts/setup.sh)"))
        } else {
            Ok(())
        };
        HostManager {
            available,
            dir,
            endpoint: Mutex::new(String::new()),
            hosts: Mutex::default(),
            next: Mutex::new(1),
            bridge: Mutex::new(None),
            names: Mutex::default(),
        }
    }

    /// A manager that never creates hosts (unit tests, non-root runs), with the reason.
    pub fn disabled(reason: &str) -> Self {
        let mut m = HostManager::new(std::env::temp_dir());
        m.available = Err(reason.to_string());
        m
    }

    pub fn availability(&self) -> Result<(), String> {
        self.available.clone()
    }

    /// The emulator listens on the bridge at this port too, so hosts can reach it.
    pub fn set_port(&self, port: u16) {
        *self.endpoint.lock().expect("hosts lock") = format!("http://{BRIDGE_IP}:{port}");
    }

    pub fn ensure_bridge(&self) -> Result<(), HostError> {
        let mut owned = self.bridge.lock().expect("hosts lock");
        if owned.is_none() {
            // The bridge's address can live on one bridge only: wait (bounded) for another
            // hastack-local on this machine to finish with it.
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(std::env::temp_dir().join("hastack-local-hosts.lock"))
                .map_err(|e| HostError::Command(format!("hosts lock: {e}")))?;
            let deadline = Instant::now() + Duration::from_secs(120);
            while lock.try_lock().is_err() {
                if Instant::now() > deadline {
                    return Err(HostError::Command(
                        "another hastack-local with hosts has held the bridge for 2 minutes".into(),
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            net::create_bridge()?;
            // A block left by a crashed run names load balancers that no longer exist.
            if let Err(e) = names::write_block(Path::new(MACHINE_HOSTS_FILE), "") {
                tracing::warn!(error = %e, "cannot clean the machine's hosts file");
            }
            *owned = Some(lock);
        }
        Ok(())
    }

    /// Bring up a new host and boot it (user data runs once, at this first boot).
    pub fn create(&self, spec: &HostSpec<'_>) -> Result<(), HostError> {
        let HostSpec {
            key,
            name,
            zone,
            private_ip,
            public_ip,
            account,
            user_data,
        } = *spec;
        self.available.clone().map_err(HostError::Unavailable)?;
        self.ensure_bridge()?;
        let index = {
            let mut n = self.next.lock().expect("hosts lock");
            *n += 1;
            *n - 1
        };
        let dir = self.dir.join("hosts").join(format!("{index}-{name}"));
        std::fs::create_dir_all(dir.join("tools"))
            .map_err(|e| HostError::Command(e.to_string()))?;
        let write = |f: &str, c: &str| {
            std::fs::write(dir.join(f), c).map_err(|e| HostError::Command(format!("{f}: {e}")))
        };
        write("user-data", user_data)?;
        write("private-ip", private_ip)?;
        write("init.sh", INIT)?;
        write("tools/amazon-ssm-agent", SSM_AGENT)?;
        write("tools/systemctl", SYSTEMCTL)?;
        write("tools/amazon-cloudwatch-agent-ctl", CW_AGENT)?;
        write("tools/aws", AWS_CLI)?;
        write("lb-hosts", &self.names.lock().expect("hosts lock"))?;
        let endpoint = self.endpoint.lock().expect("hosts lock").clone();
        // Keys are account/region/name.
        let region = key.split('/').nth(1).unwrap_or("us-east-1");
        write("env", &format!("HASTACK_ENDPOINT={endpoint}\nHASTACK_ACCOUNT={account}\nHASTACK_REGION={region}\nHASTACK_PRIVATE_IP={private_ip}\nHASTACK_PUBLIC_IP={public_ip}\nexport HASTACK_ENDPOINT HASTACK_ACCOUNT HASTACK_REGION HASTACK_PRIVATE_IP HASTACK_PUBLIC_IP\n"))?;
        let mut host = Host {
            index,
            name: name.into(),
            zone: zone.into(),
            dir,
            private_ip: private_ip.into(),
            public_ip: public_ip.into(),
            init: None,
            power: Power::Stopped,
            partitioned: false,
        };
        net::create_host_net(&host.netns(), &host.veth(), private_ip, public_ip)?;
        boot(&mut host)?;
        self.hosts
            .lock()
            .expect("hosts lock")
            .insert(key.to_string(), host);
        Ok(())
    }

    fn with<T>(
        &self,
        key: &str,
        f: impl FnOnce(&mut Host) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let mut hosts = self.hosts.lock().expect("hosts lock");
        let h = hosts
            .get_mut(key)
            .ok_or_else(|| HostError::NoSuchHost(key.to_string()))?;
        f(h)
    }

    /// Abrupt stop: every process in the host dies.
    pub fn stop(&self, key: &str) -> Result<(), HostError> {
        self.with(key, |h| {
            kill(h);
            Ok(())
        })
    }

    pub fn start(&self, key: &str) -> Result<(), HostError> {
        self.with(key, |h| {
            if h.power == Power::Running {
                Ok(())
            } else {
                boot(h)
            }
        })
    }

    pub fn reboot(&self, key: &str) -> Result<(), HostError> {
        self.with(key, |h| {
            kill(h);
            boot(h)
        })
    }

    /// Drop (or restore) all of the host's traffic.
    pub fn partition(&self, key: &str, cut: bool) -> Result<(), HostError> {
        self.with(key, |h| {
            net::link(&h.veth(), !cut)?;
            h.partitioned = cut;
            Ok(())
        })
    }

    pub fn delete(&self, key: &str) -> Result<(), HostError> {
        let host = self.hosts.lock().expect("hosts lock").remove(key);
        if let Some(mut h) = host {
            kill(&mut h);
            net::delete_host_net(&h.netns(), &h.veth())?;
            let _ = std::fs::remove_dir_all(&h.dir);
        }
        Ok(())
    }

    /// Tear everything down: hosts, namespaces, bridge. Called on shutdown.
    pub fn shutdown(&self) {
        let keys: Vec<String> = self
            .hosts
            .lock()
            .expect("hosts lock")
            .keys()
            .cloned()
            .collect();
        for k in keys {
            let _ = self.delete(&k);
        }
        let mut owned = self.bridge.lock().expect("hosts lock");
        if owned.take().is_some() {
            if let Err(e) = names::write_block(Path::new(MACHINE_HOSTS_FILE), "") {
                tracing::warn!(error = %e, "cannot clean the machine's hosts file");
            }
            // Dropping the file releases the lock, after the bridge is gone.
            let _ = net::delete_bridge();
        }
    }

    /// Publish load balancers' names (name, address) in the machine's hosts file and every
    /// host's (running hosts at once, the others at their next boot). Only while this manager
    /// owns the bridge, whose addresses the names point at.
    pub fn publish_names(&self, mut entries: Vec<(String, String)>) {
        if self.bridge.lock().expect("hosts lock").is_none() {
            return;
        }
        entries.sort();
        let block = names::block(&entries);
        {
            let mut current = self.names.lock().expect("hosts lock");
            if *current == block {
                return;
            }
            current.clone_from(&block);
        }
        if let Err(e) = names::write_block(Path::new(MACHINE_HOSTS_FILE), &block) {
            tracing::warn!(error = %e, "cannot publish load balancer names in the machine's hosts file");
        }
        let keys: Vec<(String, PathBuf, bool)> = self
            .hosts
            .lock()
            .expect("hosts lock")
            .iter()
            .map(|(k, h)| (k.clone(), h.dir.clone(), h.power == Power::Running))
            .collect();
        for (key, dir, running) in keys {
            if let Err(e) = std::fs::write(dir.join("lb-hosts"), &block) {
                tracing::warn!(host = %key, error = %e, "cannot write the host's names");
                continue;
            }
            if running {
                // Partitioned hosts too: this is the host's file, not its network.
                if let Err(e) = self.exec_any(&key, names::APPLY_IN_HOST, Duration::from_secs(5)) {
                    tracing::warn!(host = %key, error = %e, "cannot update the host's hosts file");
                }
            }
        }
    }

    pub fn view(&self, key: &str) -> Option<HostView> {
        let hosts = self.hosts.lock().expect("hosts lock");
        hosts.get(key).map(|h| view(key, h))
    }

    pub fn views(&self) -> Vec<HostView> {
        let hosts = self.hosts.lock().expect("hosts lock");
        hosts.iter().map(|(k, h)| view(k, h)).collect()
    }

    /// The host key whose private address is `ip`.
    pub fn by_ip(&self, ip: &str) -> Option<String> {
        self.hosts
            .lock()
            .expect("hosts lock")
            .iter()
            .find(|(_, h)| h.private_ip == ip)
            .map(|(k, _)| k.clone())
    }

    /// Keys of the hosts in `zone`.
    pub fn in_zone(&self, zone: &str) -> Vec<String> {
        self.hosts
            .lock()
            .expect("hosts lock")
            .iter()
            .filter(|(_, h)| h.zone == zone)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Run a maintenance script in a running host (reachable over the network or not).
    fn exec_any(
        &self,
        key: &str,
        script: &str,
        timeout: Duration,
    ) -> Result<ExecResult, HostError> {
        let pid = self.with(key, |h| {
            h.init_pid()
                .ok_or_else(|| HostError::Command(format!("{} has no init process", h.name)))
        })?;
        let r = nsenter(pid, script, "/", timeout)?;
        if r.code == 0 {
            Ok(r)
        } else {
            Err(HostError::Command(format!(
                "exit {}: {}",
                r.code,
                r.stderr.trim()
            )))
        }
    }

    /// Run `script` with bash as root inside the host, in `workdir`, within `timeout`.
    pub fn exec(
        &self,
        key: &str,
        script: &str,
        workdir: &str,
        timeout: Duration,
    ) -> Result<ExecResult, HostError> {
        let pid = self.with(key, |h| {
            if h.power != Power::Running || h.partitioned {
                return Err(HostError::Command(format!("{} is not reachable", h.name)));
            }
            h.init_pid()
                .ok_or_else(|| HostError::Command(format!("{} has no init process", h.name)))
        })?;
        nsenter(pid, script, workdir, timeout)
    }
}

/// Run `script` with bash as root in the namespaces of `pid` (a host's init).
fn nsenter(
    pid: u32,
    script: &str,
    workdir: &str,
    timeout: Duration,
) -> Result<ExecResult, HostError> {
    let pid = pid.to_string();
    let wd = if workdir.is_empty() { "/" } else { workdir };
    let mut child = Command::new("nsenter")
        .args([
            "--target",
            &pid,
            "--mount",
            "--uts",
            "--ipc",
            "--net",
            "--pid",
            &format!("--wd={wd}"),
            "--",
            "bash",
            "-c",
        ])
        .arg(format!(
            ". /run/hastack/env; export PATH=/run/hastack/bin:$PATH; {script}"
        ))
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", "/root")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HostError::Command(format!("nsenter: {e}")))?;
    let (out_pipe, err_pipe) = (child.stdout.take(), child.stderr.take());
    let (out_t, err_t) = (drain(out_pipe), drain(err_pipe));
    let deadline = Instant::now() + timeout;
    let (code, timed_out) = loop {
        if let Some(st) = child
            .try_wait()
            .map_err(|e| HostError::Command(e.to_string()))?
        {
            break (st.code().map(i64::from).unwrap_or(-1), false);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break (-1, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(ExecResult {
        code,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
        timed_out,
    })
}

/// Read a child's pipe to the end on a thread of its own (so neither pipe can fill and block).
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

fn view(key: &str, h: &Host) -> HostView {
    HostView {
        key: key.into(),
        name: h.name.clone(),
        zone: h.zone.clone(),
        private_ip: h.private_ip.clone(),
        public_ip: h.public_ip.clone(),
        running: h.power == Power::Running,
        partitioned: h.partitioned,
        boot_log: std::fs::read_to_string(h.dir.join("boot.log")).unwrap_or_default(),
    }
}

fn boot(h: &mut Host) -> Result<(), HostError> {
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &h.netns(),
            "unshare",
            "--mount",
            "--uts",
            "--ipc",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "--propagation",
            "private",
            "bash",
        ])
        .arg(h.dir.join("init.sh"))
        .arg(&h.dir)
        .arg(&h.name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(h.dir.join("boot.log"))
                .map(Stdio::from)
                .unwrap_or(Stdio::null()),
        )
        .spawn()
        .map_err(|e| HostError::Command(format!("boot {}: {e}", h.name)))?;
    h.init = Some(child);
    h.power = Power::Running;
    Ok(())
}

fn kill(h: &mut Host) {
    if let Some(mut c) = h.init.take() {
        if let Some(pid) = h.init_pid() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = c.kill();
        let _ = c.wait();
    }
    h.power = Power::Stopped;
}

impl Drop for HostManager {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What a call asks of the hosts behind instances.
#[derive(Clone, Debug, PartialEq)]
pub enum HostAction {
    Create {
        name: String,
        zone: String,
        private_ip: String,
        public_ip: String,
        user_data: String,
    },
    Stop(String),
    Start(String),
    Reboot(String),
    Delete(String),
}

/// Carry out host actions for `account`/`region`, in order (a failure is logged, not fatal).
pub fn apply(hosts: &HostManager, account: &str, region: &str, actions: Vec<HostAction>) {
    use HostAction as A;
    if hosts.availability().is_err() {
        return;
    }
    for a in actions {
        let key = |name: &str| format!("{account}/{region}/{name}");
        let result = match &a {
            A::Create {
                name,
                zone,
                private_ip,
                public_ip,
                user_data,
            } => hosts.create(&HostSpec {
                key: &key(name),
                name,
                zone,
                private_ip,
                public_ip,
                account,
                user_data,
            }),
            A::Stop(n) => hosts.stop(&key(n)),
            A::Start(n) => hosts.start(&key(n)),
            A::Reboot(n) => hosts.reboot(&key(n)),
            A::Delete(n) => hosts.delete(&key(n)),
        };
        if let Err(e) = result {
            tracing::warn!(action = ?a, error = %e, "host action failed");
        }
    }
}
