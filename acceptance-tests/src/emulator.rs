//! A `hastack-local` for one test: started from the same cargo target directory on a free
//! loopback port, stopped when dropped. Gives the environment Terraform needs to use it.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

pub struct Emulator {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("HASTACK_LOCAL_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .join("hastack-local")
}

impl Emulator {
    /// Start one (API only: instances are not hosts here).
    pub fn start() -> Emulator {
        Self::launch(false)
    }

    /// Start one whose instances are real hosts (needs root; see `hastack-local status`).
    pub fn start_with_hosts() -> Emulator {
        Self::launch(true)
    }

    /// Start one with hosts and the given latency profile (`fast` or `realistic`).
    pub fn start_with_profile(profile: &str) -> Emulator {
        Self::launch_with(true, profile)
    }

    fn launch(hosts: bool) -> Emulator {
        Self::launch_with(hosts, "fast")
    }

    /// Start one on a free port; a start that lost its port to another process (it exits, or
    /// another process answers there) is tried again on a new port, up to three times.
    fn launch_with(hosts: bool, profile: &str) -> Emulator {
        let mut why = String::new();
        for _ in 0..3 {
            match Self::try_launch(hosts, profile) {
                Ok(e) => return e,
                Err(e) => why = e,
            }
        }
        panic!("hastack-local did not start in 3 tries: {why}")
    }

    fn try_launch(hosts: bool, profile: &str) -> Result<Emulator, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = binary();
        assert!(
            bin.is_file(),
            "{} missing: run `cargo build -p hastack-local`",
            bin.display()
        );
        let log = dir.path().join("stderr.log");
        let child = Command::new(bin)
            .args([
                "serve",
                "--port",
                &port.to_string(),
                "--profile",
                profile,
                "--state-dir",
            ])
            .arg(dir.path())
            .args((!hosts).then_some("--no-hosts"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(&log).expect("stderr log"),
            ))
            .spawn()
            .expect("start hastack-local");
        let mut e = Emulator {
            child,
            port,
            _dir: dir,
        };
        // Ready when its own admin API answers (the pid says whose), not when something
        // accepts a connection on the port: the port was free a moment ago, but another process
        // may have taken it since, and a hosts-enabled emulator listens before it has set its
        // bridge up (waiting, bounded, for another emulator's to go).
        let deadline = Instant::now() + Duration::from_secs(150);
        let pid = e.child.id() as u64;
        loop {
            if let Ok(Some(status)) = e.child.try_wait() {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "on port {port} it exited at start ({status}):\n{log}"
                ));
            }
            let answer = try_admin_call(port, "GET", "status", &Json::Object(Default::default()));
            match answer {
                Ok((200, status)) if status["pid"].as_u64() == Some(pid) => return Ok(e),
                Ok((200, status)) => {
                    return Err(format!(
                        "port {port} is another process's ({})",
                        status["pid"]
                    ))
                }
                Ok((code, body)) if Instant::now() >= deadline => {
                    return Err(format!("status answered {code} {body}"))
                }
                Err(why) if Instant::now() >= deadline => return Err(why),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The variables that point the provider (and any AWS SDK) at this emulator.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_ACCESS_KEY_ID", "AKIAHASTACKLOCAL0001".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "hastack-local-secret".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// One call to the admin API: (status, JSON).
    pub fn admin(&self, method: &str, path: &str, body: &Json) -> (u16, Json) {
        Self::admin_on(self.port)(method, path, body)
    }

    /// An admin caller for the emulator on `port`, usable inside step checks.
    pub fn admin_on(port: u16) -> impl Fn(&str, &str, &Json) -> (u16, Json) {
        move |method, path, body| admin_call(port, method, path, body)
    }
}

fn admin_call(port: u16, method: &str, path: &str, body: &Json) -> (u16, Json) {
    try_admin_call(port, method, path, body)
        .unwrap_or_else(|e| panic!("hastack-local admin {method} {path}: {e}"))
}

fn try_admin_call(port: u16, method: &str, path: &str, body: &Json) -> Result<(u16, Json), String> {
    {
        let payload = body.to_string();
        let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        write!(s, "{method} /_hastack/{path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}", payload.len()).map_err(|e| format!("write: {e}"))?;
        let mut out = String::new();
        s.read_to_string(&mut out)
            .map_err(|e| format!("read: {e}"))?;
        let status = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| serde_json::from_str(b).unwrap_or(Json::Null))
            .unwrap_or(Json::Null);
        Ok((status, body))
    }
}

impl Drop for Emulator {
    /// SIGTERM, so a hosts-enabled emulator tears its hosts down; SIGKILL after 10 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
