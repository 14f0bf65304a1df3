//! What several acceptance test files share: SDK clients on the emulator, the test case with
//! its environment, the hosts lock, and a bounded HTTP GET.
#![allow(dead_code)]
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use acceptance_tests::emulator::Emulator;
use acceptance_tests::TestCase;
use aws_sdk_lightsail::Client;

/// hastack-local's default credentials.
fn credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        "AKIAHASTACKLOCAL0001",
        "hastack-local-secret",
        None,
        None,
        "test",
    )
}

pub fn lightsail_on(port: u16) -> Client {
    Client::from_conf(
        aws_sdk_lightsail::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_lightsail::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(credentials())
            .build(),
    )
}

pub fn ssm_on(port: u16) -> aws_sdk_ssm::Client {
    ssm_with(port, credentials())
}

/// Open rules of one instance: (from, to, protocol).
pub type OpenPorts = Vec<(i32, i32, String)>;

/// The public port states of every member, as Lightsail reports them.
pub fn port_states(port: u16, names: &[String]) -> Result<Vec<(String, OpenPorts)>, String> {
    let c = lightsail_on(port);
    block_on(async {
        let mut out = Vec::new();
        for n in names {
            let ps = c
                .get_instance_port_states()
                .instance_name(n)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            out.push((
                n.clone(),
                ps.port_states()
                    .iter()
                    .filter(|p| p.state() == Some(&aws_sdk_lightsail::types::PortState::Open))
                    .map(|p| {
                        (
                            p.from_port(),
                            p.to_port(),
                            p.protocol()
                                .map(|x| x.as_str().to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
            ));
        }
        Ok(out)
    })
}

/// An error naming each of `names` (Lightsail instances) with a rule of any protocol that
/// lets port 22 in.
pub fn port_22_closed(port: u16, names: &[String]) -> Result<(), String> {
    for (n, open) in port_states(port, names)? {
        if open.iter().any(|(f, t, _)| *f <= 22 && 22 <= *t) {
            return Err(format!("{n} has port 22 open"));
        }
    }
    Ok(())
}

/// An SSM client on the emulator signing with `creds` (e.g. an assumed role's).
pub fn ssm_with(port: u16, creds: aws_credential_types::Credentials) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(creds)
            .build(),
    )
}

/// Temporary credentials of `role_arn` limited by the session policy `policy` (STS AssumeRole
/// with `Policy`, as an operator's tooling would get them), and the session's ARN.
pub fn assume_role_with_policy(
    port: u16,
    role_arn: &str,
    policy: &str,
) -> Result<(aws_credential_types::Credentials, String), String> {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(credentials())
            .build(),
    );
    let out = block_on(
        sts.assume_role()
            .role_arn(role_arn)
            .role_session_name("operator")
            .policy(policy)
            .send(),
    )
    .map_err(|e| format!("AssumeRole: {e:?}"))?;
    let c = out
        .credentials()
        .ok_or("AssumeRole returned no credentials")?;
    let arn = out
        .assumed_role_user()
        .map(|u| u.arn().to_string())
        .ok_or("AssumeRole returned no user")?;
    Ok((
        aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "assumed",
        ),
        arn,
    ))
}

/// Run one future to completion on a fresh current-thread runtime (inside step checks).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

pub fn with_emulator(name: &str, e: &Emulator) -> TestCase {
    e.env()
        .iter()
        .fold(TestCase::new(name), |tc, (k, v)| tc.env(k, v))
}

/// One hastack-local with hosts at a time in this test binary (the bridge has one owner).
static HOSTS: Mutex<()> = Mutex::new(());

/// An emulator with hosts and the guard that keeps other tests of this binary off the
/// bridge, or `None` (with the reason printed) where hosts cannot run.
pub fn hosts_emulator() -> Option<(MutexGuard<'static, ()>, Emulator)> {
    hosts_emulator_with("fast")
}

/// [`hosts_emulator`] on latency profile `profile` (`fast` or `realistic`).
pub fn hosts_emulator_with(profile: &str) -> Option<(MutexGuard<'static, ()>, Emulator)> {
    let guard = HOSTS.lock().unwrap_or_else(|p| p.into_inner());
    let e = Emulator::start_with_profile(profile);
    let (_, status) = e.admin("GET", "status", &serde_json::json!({}));
    if status["hosts"]["available"] != true {
        acceptance_tests::cannot_run(
            "a test with hosts",
            &format!(
                "hastack-local has no hosts here: {}",
                status["hosts"]["reason"]
            ),
        );
        return None;
    }
    Some((guard, e))
}

/// GET `path` from `127.0.0.1:port` with a 2 s budget: the body, or why it failed.
pub fn http_get(port: u16, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let (head, body) = out.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    Ok(body.trim().to_string())
}

/// The loopback port of the first load balancer's listener, as hastack-local lists it (0 when
/// there is none yet).
pub fn lb_port(api: u16) -> u16 {
    let admin = Emulator::admin_on(api);
    let (_, lbs) = admin("GET", "load-balancers", &serde_json::json!({}));
    lbs.as_array()
        .and_then(|a| a.first().cloned())
        .and_then(|l| {
            l["endpoint"]
                .as_str()
                .and_then(|u| u.rsplit(':').next()?.parse().ok())
        })
        .unwrap_or(0u16)
}

/// hastack-local's counts since it started: (API calls, faults injected, the injected faults by
/// operation and kind).
pub fn calls_and_faults(api: u16) -> (u64, u64, serde_json::Value) {
    let admin = Emulator::admin_on(api);
    let (_, calls) = admin("GET", "calls", &serde_json::json!({}));
    let (_, injected) = admin("GET", "faults/injected", &serde_json::json!({}));
    let total = |j: &serde_json::Value| -> u64 {
        j.as_object()
            .map(|m| m.values().map(|v| v.as_u64().unwrap_or(0)).sum())
            .unwrap_or(0)
    };
    let faults = injected
        .as_object()
        .map(|m| m.values().map(total).sum())
        .unwrap_or(0);
    (total(&calls), faults, injected)
}

/// Run `script` on managed node `node` with AWS-RunShellScript and wait (≤ 60 s) for it:
/// (status, stdout).
pub fn run_shell(port: u16, node: &str, script: &str) -> Result<(String, String), String> {
    let ssm = ssm_on(port);
    block_on(async {
        let sent = ssm
            .send_command()
            .document_name("AWS-RunShellScript")
            .instance_ids(node)
            .parameters("commands", vec![script.to_string()])
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let id = sent
            .command()
            .and_then(|c| c.command_id())
            .ok_or("no command id")?
            .to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(inv) = ssm
                .get_command_invocation()
                .command_id(&id)
                .instance_id(node)
                .send()
                .await
            {
                let status = inv
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                if status != "Pending" && status != "InProgress" {
                    return Ok((
                        status,
                        inv.standard_output_content().unwrap_or("").to_string(),
                    ));
                }
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("command {id} on {node} did not finish in 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

// Ops tier: CloudWatch Logs and CloudWatch clients on the emulator.
pub fn logs_on(port: u16) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(credentials())
            .build(),
    )
}

pub fn cloudwatch_on(port: u16) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(credentials())
            .build(),
    )
}

/// examples/web-tier/main.tf: the web tier (instance group, load balancer, attachment).
pub fn web_tier() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/web-tier/main.tf");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// An example under `examples/resources/<dir>/resource.tf`, with the provider requirement.
pub fn resource_example(dir: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/resources")
        .join(dir)
        .join("resource.tf");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    format!("terraform {{\n  required_providers {{\n    hastack = {{ source = \"hastack/hastack\" }}\n  }}\n}}\n{text}")
}

/// The network namespace of the host with private address `ip` (hastack-local's `hstk-N`).
pub fn netns_of(ip: &str) -> Result<String, String> {
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map_err(|e| e.to_string())?;
    for ns in String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("hstk-"))
    {
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", ns, "ip", "-4", "-o", "addr"])
            .output()
            .map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&out.stdout).contains(&format!("inet {ip}/")) {
            return Ok(ns.to_string());
        }
    }
    Err(format!("no host namespace has {ip}"))
}

/// A SecureString's value, as a member or an app reads it with its own credentials.
pub fn secret(port: u16, parameter: &str) -> Result<String, String> {
    block_on(
        ssm_on(port)
            .get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send(),
    )
    .map_err(|e| format!("{e:?}"))?
    .parameter
    .and_then(|p| p.value)
    .ok_or_else(|| "no value".into())
}

/// Delete out of band (Lightsail's DeleteInstance, as a person in the console would) every
/// instance whose name starts with `prefix-`: the names deleted.
pub fn delete_instances(port: u16, prefix: &str) -> Result<Vec<String>, String> {
    let c = lightsail_on(port);
    let all = block_on(c.get_instances().send()).map_err(|e| format!("{e:?}"))?;
    let names: Vec<String> = all
        .instances()
        .iter()
        .filter_map(|i| i.name())
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .map(str::to_string)
        .collect();
    for n in &names {
        block_on(c.delete_instance().instance_name(n).send()).map_err(|e| format!("{n}: {e:?}"))?;
    }
    if names.is_empty() {
        return Err(format!("no instance named {prefix}-…"));
    }
    Ok(names)
}

/// Whether SSM parameter `name` exists (false only on `ParameterNotFound`).
pub fn parameter_exists(port: u16, name: &str) -> Result<bool, String> {
    match block_on(ssm_on(port).get_parameter().name(name).send()) {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_parameter_not_found()) =>
        {
            Ok(false)
        }
        Err(e) => Err(format!("GetParameter {name}: {e:?}")),
    }
}

/// The name of the examples' app instance (`hastack_lightsail_ha_instance.app`).
#[allow(dead_code)]
pub fn app_host(s: &acceptance_tests::State) -> Result<String, String> {
    s.resource("hastack_lightsail_ha_instance.app")
        .and_then(|r| r["instances"][0]["name"].as_str().map(str::to_string))
        .ok_or_else(|| "no app instance".to_string())
}

/// The network namespace of the examples' app instance (`hastack_lightsail_ha_instance.app`).
pub fn app_ns(s: &acceptance_tests::State) -> Result<String, String> {
    let ip = s
        .resource("hastack_lightsail_ha_instance.app")
        .and_then(|r| r["instances"][0]["private_ip"].as_str().map(str::to_string))
        .ok_or("no app instance")?;
    netns_of(&ip)
}

/// Where a secret must never be: the state file (and its backup), Terraform's output for every
/// command the test ran (plans included), the provider's trace log, hastack-local's record of
/// every Run Command (parameters and output), the hosts' boot logs, and the shell and client
/// histories on `nodes`. `trace` must be a TF_LOG_PROVIDER=trace log with SendCommand lines in
/// it, so that a leak there would show.
pub fn secrets_hidden(
    port: u16,
    dir: &std::path::Path,
    output: &str,
    trace: &std::path::Path,
    secrets: &[String],
    nodes: &[String],
) -> Result<(), String> {
    if secrets.is_empty() || secrets.iter().any(|s| s.len() < 8) {
        return Err(format!(
            "{} secrets to look for, some too short to search",
            secrets.len()
        ));
    }
    let leak = |place: &str, text: &str| -> Result<(), String> {
        match secrets.iter().position(|s| text.contains(s.as_str())) {
            Some(i) => Err(format!("secret #{i} is in {place}")),
            None => Ok(()),
        }
    };
    for f in ["terraform.tfstate", "terraform.tfstate.backup"] {
        leak(f, &std::fs::read_to_string(dir.join(f)).unwrap_or_default())?;
    }
    leak("Terraform's output", output)?;
    let log = std::fs::read_to_string(trace).map_err(|e| format!("trace log: {e}"))?;
    if !log.contains("SendCommand") {
        return Err(format!(
            "the trace log has no SendCommand line ({} bytes)",
            log.len()
        ));
    }
    leak("the provider's trace log", &log)?;
    let ssm = ssm_on(port);
    let records = block_on(async {
        let mut text = String::new();
        let mut token = None;
        loop {
            let page = ssm
                .list_commands()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            for c in page.commands() {
                text.push_str(&format!("{:?}\n", c.parameters()));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let mut token = None;
        let mut invocations = 0;
        loop {
            let page = ssm
                .list_command_invocations()
                .details(true)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            for i in page.command_invocations() {
                invocations += 1;
                for p in i.command_plugins() {
                    text.push_str(p.output().unwrap_or(""));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok::<_, String>((text, invocations))
    })?;
    if records.1 == 0 {
        return Err("hastack-local recorded no Run Command invocation".into());
    }
    leak("a Run Command's parameters or output", &records.0)?;
    let admin = acceptance_tests::emulator::Emulator::admin_on(port);
    let (_, hosts) = admin("GET", "hosts", &serde_json::json!({}));
    leak("a host's boot log", &hosts.to_string())?;
    // Read the histories whole and search here: a grep on the node would put the secret into
    // a command's parameters.
    for node in nodes {
        let (_, text) = run_shell(
            port,
            node,
            "for f in /root/.bash_history /root/.mysql_history /root/.mariadb_history \
             /root/.rediscli_history /home/*/.bash_history /var/lib/redis/.rediscli_history; \
             do [ -f \"$f\" ] && cat \"$f\"; done; true",
        )?;
        leak(&format!("a shell or client history on {node}"), &text)?;
    }
    Ok(())
}

/// Other engineers' and CI's host tests hold the machine-wide hosts lock; an emulator started
/// meanwhile waits for it longer than the harness's admin calls do. Wait (≤ 15 min) until it
/// is free, as `flock -n` sees it.
pub fn wait_for_hosts_lock() {
    let lock = std::env::temp_dir().join("hastack-local-hosts.lock");
    let deadline = std::time::Instant::now() + Duration::from_secs(900);
    while std::time::Instant::now() < deadline {
        let free = std::process::Command::new("flock")
            .arg("-n")
            .arg(&lock)
            .arg("true")
            .status()
            .map(|s| s.success())
            .unwrap_or(true);
        if free {
            return;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// A Session Manager client we did not write (npm ssm-session over ws; scripts/setup.sh
/// installs it in emulator/tests/node): the events `session.js` reports, as JSON lines.
pub struct SessionClient {
    child: std::process::Child,
    /// Kept open: the client reads its one job line, then runs until its channel closes.
    _stdin: std::process::ChildStdin,
    events: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl SessionClient {
    /// Attach to a session: type `input` once the shell prints, report `matched` when the output
    /// matches the regex `until`. The token goes through stdin, never on a command line.
    pub fn attach(url: &str, token: &str, input: &str, until: &str) -> SessionClient {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../emulator/tests/node");
        assert!(
            dir.join("node_modules/ssm-session").is_dir(),
            "the session client is not installed in {}: run scripts/setup.sh",
            dir.display()
        );
        let mut child = std::process::Command::new("node")
            .arg("session.js")
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node (scripts/setup.sh installs it)");
        let job = serde_json::json!({"url": url, "token": token, "input": input, "until": until});
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{job}").expect("job");
        let out = child.stdout.take().expect("stdout");
        let (tx, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(e) = serde_json::from_str(&line) {
                    if tx.send(e).is_err() {
                        break;
                    }
                }
            }
        });
        SessionClient {
            child,
            _stdin: stdin,
            events,
        }
    }

    /// The next event named `name` within `secs` (earlier ones are passed over).
    pub fn event(&self, name: &str, secs: u64) -> Result<serde_json::Value, String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        let mut seen = vec![];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) if e["event"] == name => return Ok(e),
                Ok(e) => seen.push(e),
                Err(_) => return Err(format!("no {name} within {secs} s; saw {seen:?}")),
            }
        }
    }
}

impl Drop for SessionClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// After an automatic failover (the primary moved from `applied` to `now` with no apply in
/// between), Terraform's output must carry the replica resources' plan warning naming `now`;
/// when the primary came back to `applied`, it must not claim a failover. `out`: every
/// command's output so far (Terraform wraps diagnostics, so words are compared, not lines).
#[allow(dead_code)]
pub fn failover_warned(out: &str, applied: &str, now: &str) -> Result<(), String> {
    let flat = out
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ");
    let said = format!("{now} was promoted: an automatic failover happened since the last apply, which left {applied} primary.");
    let warned = flat.contains(&said);
    match (applied == now, warned) {
        (false, true) | (true, false) => Ok(()),
        (false, false) => Err(format!(
            "the primary moved from {applied} to {now}, and no plan warned: {said:?}"
        )),
        (true, true) => Err(format!(
            "{now} is still the applied primary, yet a plan warned of a failover"
        )),
    }
}

/// A data tier's loss test runs its writers on the app instance: the app goes to a zone no
/// data member uses (the examples put it in us-east-1c, beside a member), so a zone failure
/// takes the primary's zone and never the writers with it.
#[allow(dead_code)]
pub fn app_outside_data_zones(config: &str) -> String {
    let moved = config.replace(
        "  availability_zones = [\"us-east-1c\"]\n  blueprint_id       = \"debian_12\"\n  bundle_id          = \"nano_3_0\"",
        "  availability_zones = [\"us-east-1d\"]\n  blueprint_id       = \"debian_12\"\n  bundle_id          = \"nano_3_0\"",
    );
    assert!(
        moved.contains("[\"us-east-1d\"]"),
        "the app group's zone was not found in the example"
    );
    moved
}

/// Fail a whole zone through hastack-local's admin API: every host in it stops. Returns the
/// names of the stopped hosts, to start them again with [`start_hosts`].
#[allow(dead_code)]
pub fn fail_zone(api: u16, zone: &str) -> Result<Vec<String>, String> {
    let (code, out) = Emulator::admin_on(api)(
        "POST",
        "hosts/fail-zone",
        &serde_json::json!({"zone": zone}),
    );
    if code != 200 {
        return Err(format!("fail-zone {zone}: {out}"));
    }
    Ok(out["stopped"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str())
                // Host keys are account/region/name.
                .map(|k| k.rsplit('/').next().unwrap_or(k).to_string())
                .collect()
        })
        .unwrap_or_default())
}

/// A loss round's zone fault: fail the primary's zone, which must not hold the writers' app
/// host (see [`app_outside_data_zones`]). Returns the stopped hosts, as [`fail_zone`].
#[allow(dead_code)]
pub fn fail_primary_zone(
    api: u16,
    s: &acceptance_tests::State,
    zone: &str,
) -> Result<Vec<String>, String> {
    let stopped = fail_zone(api, zone)?;
    if stopped.contains(&app_host(s)?) {
        return Err(format!("zone {zone}: the writers' app host failed with it"));
    }
    Ok(stopped)
}

/// Start stopped hosts again (after [`fail_zone`] or `hosts/stop`).
#[allow(dead_code)]
pub fn start_hosts(api: u16, names: &[String]) -> Result<(), String> {
    let admin = Emulator::admin_on(api);
    for n in names {
        let (code, out) = admin("POST", "hosts/start", &serde_json::json!({"name": n}));
        if code != 200 {
            return Err(format!("start {n}: {out}"));
        }
    }
    Ok(())
}
