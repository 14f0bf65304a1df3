//! `hastack-local up` / `status` / `faults` / `calls` / `down`, as a person runs them; after
//! `down` nothing is left running.
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hastack-local");

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--state-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `down` when the test ends, passing or not, so a failed assertion leaves nothing running.
struct Down<'a>(&'a std::path::Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = run(self.0, &["down"]);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn up_status_faults_down_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let _down = Down(dir.path());
    let port = free_port();
    let up = run(
        dir.path(),
        &[
            "up",
            "--port",
            &port.to_string(),
            "--profile",
            "realistic",
            "--no-hosts",
        ],
    );
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let out = String::from_utf8_lossy(&up.stdout);
    assert!(
        out.contains(&format!("export AWS_ENDPOINT_URL=http://127.0.0.1:{port}")),
        "{out}"
    );
    assert!(out.contains("export AWS_ACCESS_KEY_ID="));
    let pid: u32 = std::fs::read_to_string(dir.path().join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    let again = run(dir.path(), &["up", "--port", &port.to_string()]);
    assert!(!again.status.success(), "a second up must refuse");

    let status = run(dir.path(), &["status"]);
    assert!(status.status.success());
    let j: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(j["profile"]["name"], "realistic");
    assert_eq!(
        j["hosts"]["available"], false,
        "with --no-hosts, status says plainly that instances are not hosts"
    );

    let add = run(
        dir.path(),
        &[
            "faults",
            "add",
            "--operation",
            "Lightsail.GetRegions",
            "--fault",
            "throttling",
            "--count",
            "1",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let list = run(dir.path(), &["faults", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("throttling"));
    let rated = run(
        dir.path(),
        &[
            "faults",
            "add",
            "--operation",
            "*",
            "--fault",
            "service_unavailable",
            "--rate",
            "0.2",
            "--seed",
            "7",
        ],
    );
    assert!(
        rated.status.success(),
        "{}",
        String::from_utf8_lossy(&rated.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&rated.stdout).unwrap();
    assert_eq!(listed[1]["rate"], 0.2);
    assert_eq!(listed[1]["seed"], 7);
    let bad_rate = run(
        dir.path(),
        &[
            "faults",
            "add",
            "--operation",
            "*",
            "--fault",
            "throttling",
            "--rate",
            "2",
        ],
    );
    assert!(!bad_rate.status.success(), "a rate above 1 is refused");
    assert!(run(dir.path(), &["faults", "clear"]).status.success());
    let calls = run(dir.path(), &["calls"]);
    assert!(calls.status.success());
    let calls: serde_json::Value = serde_json::from_slice(&calls.stdout).unwrap();
    assert!(
        calls["calls"].is_object() && calls["faults_injected"].is_object(),
        "{calls}"
    );
    assert!(run(dir.path(), &["state"]).status.success());
    assert!(run(dir.path(), &["hosts"]).status.success());
    assert!(run(dir.path(), &["load-balancers"]).status.success());
    let outage = run(dir.path(), &["outage", "stop", "--name", "nothing"]);
    assert!(
        !outage.status.success(),
        "an outage of a host that does not exist fails"
    );
    assert!(!run(dir.path(), &["outage", "explode", "--name", "x"])
        .status
        .success());
    assert!(run(dir.path(), &["fail-zone", "--zone", "us-east-1a"])
        .status
        .success());
    assert!(run(dir.path(), &["reset"]).status.success());
    let bad = run(
        dir.path(),
        &["disappear", "--kind", "instance", "--name", "nothing"],
    );
    assert!(!bad.status.success());

    let down = run(dir.path(), &["down"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    // Gone, or a zombie waiting for its (re)parent to reap it: either way no longer running.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "process {pid} still runs after down: {stat}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers after down"
    );
    assert!(!dir.path().join("pid").exists());
    assert!(!run(dir.path(), &["status"]).status.success());
}
