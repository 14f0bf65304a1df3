//! hastack_redis_replica_group on hastack-local with hosts: real Redis and Sentinel on three
//! members, an app instance reaching the primary through its HAProxy sidecar, import, a planned
//! switchover, and the auth token nowhere but in Parameter Store and on the members.
mod common;

use acceptance_tests::{State, Step};
use common::{app_ns, hosts_emulator, netns_of, resource_example, secret, with_emulator};

fn group(s: &State) -> Result<serde_json::Value, String> {
    s.resource("hastack_redis_replica_group.cache")
        .cloned()
        .ok_or_else(|| "no hastack_redis_replica_group.cache in state".into())
}

/// `redis-cli` inside namespace `ns` against the sidecar (127.0.0.1:6379).
pub fn sidecar_cli(ns: &str, token: &str, args: &[&str]) -> Result<String, String> {
    cli(ns, 6379, token, args)
}

/// `redis-cli` inside namespace `ns` against `host:port`, authenticating with `token`.
fn redis_cli(
    ns: &str,
    host: &str,
    port: u16,
    token: &str,
    args: &[&str],
) -> Result<std::process::Output, String> {
    std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "timeout",
            "5",
            "redis-cli",
            "--no-auth-warning",
        ])
        .args(["-h", host, "-p", &port.to_string()])
        .args(args)
        .env("REDISCLI_AUTH", token)
        .output()
        .map_err(|e| e.to_string())
}

/// `redis-cli` inside namespace `ns` against `127.0.0.1:port` (Redis or Sentinel there).
pub fn cli(ns: &str, port: u16, token: &str, args: &[&str]) -> Result<String, String> {
    let out = redis_cli(ns, "127.0.0.1", port, token, args)?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether Redis (6379) or Sentinel (26379) on `ip` accepts `token`, asked from namespace `ns`.
fn accepts(ns: &str, ip: &str, port: u16, token: &str) -> Result<bool, String> {
    let out = redis_cli(ns, ip, port, token, &["PING"])?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    if stdout.trim() == "PONG" && !stderr.contains("WRONGPASS") {
        Ok(true)
    } else if stderr.contains("WRONGPASS") || stdout.contains("NOAUTH") {
        Ok(false)
    } else {
        Err(format!("PING {ip}:{port}: {stdout} {stderr}"))
    }
}

/// Every member's Redis and Sentinel accept (or refuse) each of `tokens` as `want` says.
fn tokens_accepted(s: &State, tokens: &[(&str, &str, bool)]) -> Result<(), String> {
    let ns = app_ns(s)?;
    for m in loss::members(s)? {
        for port in [6379, 26379] {
            for (what, token, want) in tokens {
                if accepts(&ns, &m.ip, port, token)? != *want {
                    return Err(format!(
                        "{}:{port} {} the {what} token",
                        m.name,
                        if *want { "refuses" } else { "accepts" }
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_group(s: &State, api: u16, primary_index: usize) -> Result<(), String> {
    let g = group(s)?;
    let members = g["members"].as_array().ok_or("no members")?;
    if members.len() != 3 {
        return Err(format!("{} members", members.len()));
    }
    let zones: std::collections::BTreeSet<&str> =
        members.iter().filter_map(|m| m["zone"].as_str()).collect();
    if zones.len() != 3 {
        return Err(format!("members in zones {zones:?}"));
    }
    let want = members[primary_index]["name"].as_str().unwrap_or("");
    if g["current_primary"] != want {
        return Err(format!(
            "current_primary {} (want {want})",
            g["current_primary"]
        ));
    }
    for (i, m) in members.iter().enumerate() {
        let role = if i == primary_index {
            "primary"
        } else {
            "replica"
        };
        if m["role"] != role || (role == "replica" && m["link_status"] != "up") {
            return Err(format!("member {i}: {m}"));
        }
    }
    let param = g["auth_token_parameter"].as_str().ok_or("no parameter")?;
    let token = secret(api, param)?;
    if s.raw().contains(&token) {
        return Err("the auth token is in the state".into());
    }
    // Through the app's sidecar: a write lands on the primary and reaches the replicas.
    let ns = app_ns(s)?;
    let key = format!("acc-{}", std::process::id());
    let ok = sidecar_cli(&ns, &token, &["SET", &key, want])?;
    if ok != "OK" {
        return Err(format!("SET through the sidecar: {ok}"));
    }
    let role = sidecar_cli(&ns, &token, &["ROLE"])?;
    if !role.starts_with("master") {
        return Err(format!("the sidecar reached a {role}"));
    }
    let acked = sidecar_cli(&ns, &token, &["WAIT", "2", "2000"])?;
    if acked != "2" {
        return Err(format!("WAIT 2: {acked} replicas"));
    }
    // Every member runs with the group's settings: the defaults (appendonly, the write
    // guard) and the example's maxmemory_policy.
    for m in members {
        let ip = m["private_ip"].as_str().unwrap_or("");
        for (key, want) in [
            ("appendonly", "yes"),
            ("min-replicas-to-write", "1"),
            ("min-replicas-max-lag", "2"),
            ("maxmemory-policy", "allkeys-lru"),
        ] {
            let out = redis_cli(&ns, ip, 6379, &token, &["CONFIG", "GET", key])?;
            let got = String::from_utf8_lossy(&out.stdout);
            if got.split_whitespace().collect::<Vec<_>>() != [key, want] {
                return Err(format!("{ip}: CONFIG GET {key} answered {:?}", got.trim()));
            }
        }
    }
    Ok(())
}

/// The writers `w` (sets `<prefix>plain` and `<prefix>wait`) are done: every acknowledged
/// write of either mode is in the primary's set, none was never attempted, and none was refused
/// for its token.
fn no_write_lost(
    s: &State,
    token: &str,
    w: std::process::Child,
    prefix: &str,
    what: &str,
) -> Result<(), String> {
    let log = loss::finish_writers(w)?;
    let ns = app_ns(s)?;
    for mode in ["plain", "wait"] {
        let fin: std::collections::BTreeSet<String> =
            sidecar_cli(&ns, token, &["SMEMBERS", &format!("{prefix}{mode}")])?
                .lines()
                .map(str::to_string)
                .collect();
        let (acked, lost, phantom) = loss::tally(&log, mode, &fin);
        let refused = log[mode]["auth_refused"].as_u64().unwrap_or(u64::MAX);
        acceptance_tests::figure!("{what}: {mode} writes {acked} acknowledged, {lost} lost, {phantom} never written, {refused} refused for auth");
        if lost > 0 || phantom > 0 || acked < 100 || refused > 0 {
            return Err(format!("{what}, {mode} writes: {acked} acknowledged, {lost} lost, {phantom} phantom, {refused} auth refusals"));
        }
    }
    Ok(())
}

#[test]
fn redis_replica_group_basic() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let switched = resource_example("hastack_redis_replica_group").replace(
        "  maxmemory_policy = \"allkeys-lru\"",
        "  maxmemory_policy = \"allkeys-lru\"\n  primary          = \"cache-1\"",
    );
    assert!(switched.contains("primary          = \"cache-1\""));
    // Step 3 rotates the token in place (a generated one: only the version changes); step 4
    // drops the previous one and switches back, so Sentinel must work with the new token.
    let rotated = switched.replace(
        "  primary          = \"cache-1\"",
        "  primary          = \"cache-1\"\n  auth_token_wo_version = 2",
    );
    assert!(rotated.contains("auth_token_wo_version = 2"));
    let set_back = rotated.replace(
        "  primary          = \"cache-1\"",
        "  primary          = \"cache-0\"\n  auth_token_update_strategy = \"set\"",
    );
    assert!(set_back.contains("\"set\""));
    // (before the last step: a destroy plans with the last step's configuration)
    let moved = rotated.replacen("small_3_0", "medium_3_0", 1);
    assert!(moved.contains("medium_3_0"));
    let writers: std::sync::Arc<std::sync::Mutex<Option<std::process::Child>>> = Default::default();
    let (w1, w2, w3, w4) = (
        writers.clone(),
        writers.clone(),
        writers.clone(),
        writers.clone(),
    );
    let old_token: std::sync::Arc<std::sync::Mutex<String>> = Default::default();
    let (o1, o2, o3) = (old_token.clone(), old_token.clone(), old_token.clone());
    // The token and every member, for the secrets check after the last step.
    let found: std::sync::Arc<std::sync::Mutex<(Vec<String>, Vec<String>)>> = Default::default();
    let (f1, f2) = (found.clone(), found.clone());
    let trace_dir = tempfile::tempdir().expect("tempdir");
    let trace = trace_dir.path().join("provider-trace.log");
    let trace2 = trace.clone();
    with_emulator("redis_replica_group_basic", &e)
        .env("TF_LOG_PROVIDER", "trace")
        .env("TF_LOG_PATH", trace.to_str().expect("utf-8 path"))
        .step(
            Step::new(resource_example("hastack_redis_replica_group"))
                .check(move |s| {
                    check_group(s, api, 0)?;
                    // Writes flow through the sidecar across the next step's switchover.
                    let token = secret(
                        api,
                        group(s)?["auth_token_parameter"].as_str().unwrap_or(""),
                    )?;
                    let ms = loss::members(s)?;
                    *w1.lock().unwrap() = Some(loss::start_writers(s, &ms, &token, "switch-", 40)?);
                    Ok(())
                })
                .import_verify(
                    "hastack_redis_replica_group.cache",
                    "cache",
                    &[
                        "ssm_role",
                        "sentinel",
                        "maxmemory_policy",
                        "tags",
                        "timeouts",
                        "members",
                    ],
                ),
        )
        // A planned switchover by naming another member.
        .step(Step::new(switched).check(move |s| {
            check_group(s, api, 1)?;
            let w = w2.lock().unwrap().take().ok_or("no writers")?;
            let token = secret(
                api,
                group(s)?["auth_token_parameter"].as_str().unwrap_or(""),
            )?;
            no_write_lost(s, &token, w, "switch-", "switchover")?;
            // Writers with this token run across the next step's rotation.
            let ms = loss::members(s)?;
            *w3.lock().unwrap() = Some(loss::start_writers(s, &ms, &token, "rotate-", 40)?);
            *o1.lock().unwrap() = token;
            Ok(())
        }))
        // Rotation: both tokens work everywhere, the sidecar moved to the new one, and clients
        // with the old token saw no refusal and lost nothing.
        .step(Step::new(rotated).check(move |s| {
            let old = o2.lock().unwrap().clone();
            let param = group(s)?["auth_token_parameter"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let new = secret(api, &param)?;
            if new == old {
                return Err("the token did not change".into());
            }
            let sidecar = s
                .resource("hastack_lightsail_ha_instance.app")
                .map(|r| r["sidecars"][0]["auth_parameter"].clone())
                .unwrap_or_default();
            if sidecar != format!("{param}:2") {
                return Err(format!("the app's sidecar reads {sidecar}, not version 2"));
            }
            tokens_accepted(s, &[("old", &old, true), ("new", &new, true)])?;
            check_group(s, api, 1)?;
            let w = w4.lock().unwrap().take().ok_or("no writers")?;
            no_write_lost(s, &new, w, "rotate-", "rotation")
        }))
        // A bundle change would replace every member: refused at plan, nothing touched.
        .step(
            Step::new(moved)
                .expect_error("bundle_id.*not supported yet|not supported yet.*bundle_id"),
        )
        // "set": the old token stops working; a switchover back works with the new one.
        .step(Step::new(set_back).check(move |s| {
            let old = o3.lock().unwrap().clone();
            let new = secret(
                api,
                group(s)?["auth_token_parameter"].as_str().unwrap_or(""),
            )?;
            tokens_accepted(s, &[("old", &old, false), ("new", &new, true)])?;
            check_group(s, api, 0)?;
            let mut f = f1.lock().unwrap();
            f.0 = vec![old, new];
            f.1 = loss::members(s)?.into_iter().map(|m| m.node).collect();
            Ok(())
        }))
        // No token in the state, any plan or apply output, the provider's trace log, a Run
        // Command's record, a boot log or a member's histories.
        .check_output(move |dir, output| {
            let f = f2.lock().unwrap();
            common::secrets_hidden(api, dir, output, &trace2, &f.0, &f.1)
        })
        .run();
}

mod loss {
    //! The loss test: writers through the sidecar while the primary is killed, stopped,
    //! partitioned and its zone failed; then every member's final set is compared with what
    //! the writers were told.
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use super::*;
    use acceptance_tests::emulator::Emulator;
    use serde_json::{json, Value};

    pub fn now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }

    pub struct Member {
        pub name: String,
        pub zone: String,
        pub ip: String,
        pub ns: String,
        pub node: String,
    }

    pub fn members(s: &State) -> Result<Vec<Member>, String> {
        group(s)?["members"]
            .as_array()
            .ok_or("no members")?
            .iter()
            .map(|m| {
                let ip = m["private_ip"].as_str().unwrap_or("").to_string();
                Ok(Member {
                    name: m["name"].as_str().unwrap_or("").into(),
                    zone: m["zone"].as_str().unwrap_or("").into(),
                    ns: netns_of(&ip)?,
                    ip,
                    node: m["ssm_instance_id"].as_str().unwrap_or("").into(),
                })
            })
            .collect()
    }

    /// The one member that says it is master with both replicas connected and every
    /// Sentinel agreeing, within `limit`.
    pub fn settled(ms: &[Member], token: &str, limit: Duration) -> Result<usize, String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < limit {
            let roles: Vec<String> = ms
                .iter()
                .map(|m| {
                    cli(&m.ns, 6379, token, &["ROLE"]).unwrap_or_else(|e| format!("error {e}"))
                })
                .collect();
            let masters: Vec<usize> = (0..ms.len())
                .filter(|i| roles[*i].starts_with("master"))
                .collect();
            if let [p] = masters[..] {
                let replicas_ok =
                    roles
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != p)
                        .all(|(_, r)| {
                            r.starts_with("slave")
                                && r.contains(&ms[p].ip)
                                && r.contains("connected")
                        });
                let sentinels_ok = ms.iter().all(|m| {
                    cli(
                        &m.ns,
                        26379,
                        token,
                        &["SENTINEL", "get-master-addr-by-name", "cache"],
                    )
                    .is_ok_and(|a| a.lines().next() == Some(ms[p].ip.as_str()))
                });
                let offsets: BTreeSet<String> = ms
                    .iter()
                    .map(|m| {
                        cli(&m.ns, 6379, token, &["INFO", "replication"])
                            .unwrap_or_default()
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("master_repl_offset:")
                                    .or(l.strip_prefix("slave_repl_offset:"))
                                    .map(str::to_string)
                            })
                            .unwrap_or_default()
                    })
                    .collect();
                if replicas_ok && sentinels_ok && offsets.len() == 1 {
                    return Ok(p);
                }
            }
            last = format!("{roles:?}");
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(format!("the group did not settle in {limit:?}: {last}"))
    }

    /// `tools/redis_loss.py` in the app instance's namespace for `seconds`.
    pub fn start_writers(
        s: &State,
        ms: &[Member],
        token: &str,
        prefix: &str,
        seconds: u32,
    ) -> Result<std::process::Child, String> {
        let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/redis_loss.py");
        let mut args: Vec<String> =
            vec!["netns".into(), "exec".into(), app_ns(s)?, "python3".into()];
        args.push(tool.display().to_string());
        args.extend([
            "--seconds".into(),
            seconds.to_string(),
            "--prefix".into(),
            prefix.into(),
            "--members".into(),
        ]);
        args.extend(ms.iter().map(|m| m.ip.clone()));
        std::process::Command::new("ip")
            .args(&args)
            .env("REDISCLI_AUTH", token)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())
    }

    pub fn finish_writers(w: std::process::Child) -> Result<Value, String> {
        let out = w.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("writers: {}", String::from_utf8_lossy(&out.stderr)));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("writers' output: {e}"))
    }

    /// (acknowledged, lost, phantom) of `mode`'s writes against the final set `fin`.
    pub fn tally(log: &Value, mode: &str, fin: &BTreeSet<String>) -> (usize, usize, usize) {
        let ok = times(&log[mode]);
        let info: BTreeSet<String> = log[mode]["info"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let okset: BTreeSet<&String> = ok.iter().map(|(i, _)| i).collect();
        let phantom = fin
            .iter()
            .filter(|i| !okset.contains(i) && !info.contains(*i))
            .count();
        let lost = ok.iter().filter(|(i, _)| !fin.contains(i)).count();
        (ok.len(), lost, phantom)
    }

    /// What one round found.
    pub struct Round {
        pub fault: &'static str,
        pub acked_wait: usize,
        pub lost_wait: usize,
        pub acked_plain: usize,
        pub lost_plain: usize,
        /// Seconds from the fault to the first acknowledged write after it.
        pub rto: f64,
        pub detection: f64,
        pub election: f64,
        pub routing: f64,
        /// Longest time two members accepted writes at once (sampler, s).
        pub two_writers: f64,
    }

    fn times(log: &Value) -> Vec<(String, f64)> {
        log["ok"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// On the new primary `m`, after `since`: when its Sentinel saw the primary objectively
    /// down (`+odown`, or else subjectively, `+sdown`), and when its Redis became a master
    /// (`MASTER MODE enabled`).
    fn promotion_events(api: u16, m: &Member, since: f64) -> Result<(f64, f64), String> {
        let script = format!(
            r#"python3 - <<'PY'
import datetime
def first(path, needle):
    for line in open(path):
        parts = line.split(" ", 6)
        if len(parts) < 7 or needle not in line:
            continue
        try:
            t = datetime.datetime.strptime(" ".join(parts[1:5]), "%d %b %Y %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            continue
        if t >= {since}:
            return t
    return 0.0
# A Sentinel that learns of the failover from the leader first may never log +odown itself;
# its own +sdown is then when it saw the primary down.
print(first("/var/log/redis/redis-sentinel.log", "+odown master") or first("/var/log/redis/redis-sentinel.log", "+sdown master"), first("/var/log/redis/redis-server.log", "MASTER MODE enabled"))
PY"#
        );
        let (status, out) = common::run_shell(api, &m.node, &script)?;
        let v: Vec<f64> = out
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        match (status.as_str(), v.as_slice()) {
            ("Success", [o, s]) if *o > 0.0 => Ok((*o, *s)),
            _ => Err(format!("promotion events on {}: {status} {out}", m.name)),
        }
    }

    /// How many times the members' Sentinels logged turning `ip` from a primary into a replica.
    fn conversions(api: u16, ms: &[Member], ip: &str) -> Result<usize, String> {
        let mut n = 0;
        for m in ms {
            let (st, out) = common::run_shell(
                api,
                &m.node,
                &format!("grep -c -F '+convert-to-slave slave {ip}:6379 ' /var/log/redis/redis-sentinel.log || true"),
            )?;
            if st != "Success" {
                return Err(format!("Sentinel log on {}: {st} {out}", m.name));
            }
            n += out.trim().parse::<usize>().unwrap_or(0);
        }
        Ok(n)
    }

    pub fn round(
        api: u16,
        s: &State,
        token: &str,
        n: usize,
        fault: &'static str,
    ) -> Result<Round, String> {
        let ms = members(s)?;
        let p = settled(&ms, token, Duration::from_secs(90))?;
        let primary = &ms[p];
        let prefix = format!("r{n}-");
        // Faults that restart the primary's host: how often the Sentinels had converted it.
        let restarts = matches!(fault, "stop" | "zone" | "stop-unguarded");
        let converted_before = if restarts {
            conversions(api, &ms, &primary.ip)?
        } else {
            0
        };
        let writers = start_writers(s, &ms, token, &prefix, 14)?;
        std::thread::sleep(Duration::from_secs(4));
        let admin = Emulator::admin_on(api);
        // The negative control: without the boot-time rejoin, the host starts as a primary.
        if fault == "stop-unguarded" {
            common::run_shell(
                api,
                &primary.node,
                "rm -f /etc/systemd/system/redis-server.service.d/hastack-rejoin.conf; systemctl daemon-reload; echo removed",
            )?;
        }
        let fault_at = now();
        let mut stopped = Vec::new();
        match fault {
            "kill" => {
                let (st, out) =
                    common::run_shell(api, &primary.node, "pkill -9 -x redis-server; echo killed")?;
                if st != "Success" {
                    return Err(format!("kill: {st} {out}"));
                }
            }
            "stop" | "stop-unguarded" | "partition" => {
                let (code, out) = admin(
                    "POST",
                    &format!("hosts/{}", fault.trim_end_matches("-unguarded")),
                    &json!({"name": primary.name}),
                );
                if code != 200 {
                    return Err(format!("{fault}: {out}"));
                }
            }
            "zone" => {
                stopped = common::fail_primary_zone(api, s, &primary.zone)?;
            }
            _ => unreachable!(),
        }
        let log = finish_writers(writers)?;
        // Bring the old primary back; it must rejoin as a replica.
        match fault {
            "kill" => {
                common::run_shell(api, &primary.node, "systemctl start redis-server")?;
            }
            "stop" | "stop-unguarded" => {
                common::start_hosts(api, std::slice::from_ref(&primary.name))?
            }
            // Every host the zone took, not only the primary's.
            "zone" => common::start_hosts(api, &stopped)?,
            _ => {
                let (code, out) = admin("POST", "hosts/restore", &json!({"name": primary.name}));
                if code != 200 {
                    return Err(format!("restore: {out}"));
                }
            }
        }
        let ms = members(s)?;
        let newp = settled(&ms, token, Duration::from_secs(120))?;
        if newp == p {
            return Err(format!(
                "{fault}: {} is still primary: no failover happened",
                ms[p].name
            ));
        }
        // A host that stopped as primary starts as a replica of the new one (its boot asks the
        // other Sentinels): no Sentinel ever had to turn it from a primary into a replica.
        if fault == "stop-unguarded" {
            // The Sentinels turn a primary that shows up again into a replica 8 s after they
            // see it: wait for that, or the check below could not see a host coming back wrong.
            let started = std::time::Instant::now();
            while conversions(api, &ms, &primary.ip)? == converted_before {
                if started.elapsed() > Duration::from_secs(30) {
                    return Err(format!("negative control: {} started as a primary without the rejoin, and no Sentinel logged +convert-to-slave within 30 s: the check cannot see it", primary.name));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        if matches!(fault, "stop" | "zone") {
            let after = conversions(api, &ms, &primary.ip)?;
            if after > converted_before {
                return Err(format!(
                    "{fault}: {} came back as a primary: the Sentinels logged {} +convert-to-slave for it",
                    primary.name,
                    after - converted_before
                ));
            }
        }
        // Every member has the same final sets.
        let mut finals: Vec<[BTreeSet<String>; 2]> = Vec::new();
        for m in &ms {
            let set = |mode: &str| -> Result<BTreeSet<String>, String> {
                Ok(cli(
                    &m.ns,
                    6379,
                    token,
                    &["SMEMBERS", &format!("{prefix}{mode}")],
                )?
                .lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect())
            };
            finals.push([set("plain")?, set("wait")?]);
        }
        if finals.iter().any(|f| f != &finals[0]) {
            return Err(format!("{fault}: the members' final sets differ"));
        }
        let mut lost = [0usize; 2];
        let mut acked = [0usize; 2];
        let max_lag = 2.0;
        for (k, mode) in ["plain", "wait"].iter().enumerate() {
            let ok = times(&log[mode]);
            let info: BTreeSet<String> = log[mode]["info"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let okset: BTreeSet<&String> = ok.iter().map(|(i, _)| i).collect();
            let phantom: Vec<&String> = finals[0][k]
                .iter()
                .filter(|i| !okset.contains(i) && !info.contains(*i))
                .collect();
            if !phantom.is_empty() {
                return Err(format!(
                    "{fault}/{mode}: {} ids never written are in the set, e.g. {:?}",
                    phantom.len(),
                    phantom.first()
                ));
            }
            let lost_ids: Vec<&(String, f64)> = ok
                .iter()
                .filter(|(i, _)| !finals[0][k].contains(i))
                .collect();
            acked[k] = ok.len();
            lost[k] = lost_ids.len();
            if let (Some(a), Some(b)) = (
                lost_ids.iter().map(|(_, t)| t - fault_at).reduce(f64::min),
                lost_ids.iter().map(|(_, t)| t - fault_at).reduce(f64::max),
            ) {
                acceptance_tests::figure!(
                    "{fault}/{mode}: {} lost, acknowledged from {a:.2}s to {b:.2}s after the fault",
                    lost_ids.len()
                );
            }
            // A plain write can only be lost if it was acknowledged within the window: before
            // the fault by less than the lag, or after it by a primary that had not yet seen
            // its replicas go (at most min_replicas_max_lag, plus a second of the replicas'
            // once-a-second acknowledgements).
            let outside = lost_ids
                .iter()
                .find(|(_, t)| *t < fault_at - (max_lag + 1.0) || *t > fault_at + max_lag + 1.0);
            if let Some((i, t)) = outside {
                let mut dump = String::new();
                for m in &ms {
                    let info =
                        cli(&m.ns, 6379, token, &["INFO", "replication"]).unwrap_or_default();
                    dump.push_str(&format!("\n--- {} {}:\n{info}", m.name, m.ip));
                    if let Ok((_, log)) = common::run_shell(api, &m.node, "tail -n 40 /var/log/redis/redis-sentinel.log; tail -n 30 /var/log/redis/redis-server.log") {
                        dump.push_str(&log);
                    }
                }
                let mut by_server: std::collections::BTreeMap<String, usize> = Default::default();
                for (id, _) in &lost_ids {
                    let srv = log[mode]["ok"]
                        .as_array()
                        .and_then(|a| a.iter().find(|p| p[0] == id.as_str()))
                        .and_then(|p| p[2].as_str())
                        .unwrap_or("?");
                    *by_server.entry(srv.to_string()).or_default() += 1;
                }
                return Err(format!("{fault}/{mode}: {i} was acknowledged {:.1}s from the fault and lost (outside the min_replicas_max_lag window); {} lost in all, acknowledged by {by_server:?}; the primary was {}{dump}", t - fault_at, lost_ids.len(), primary.ip));
            }
        }
        if acked[1] < 50 || acked[0] < 50 {
            return Err(format!(
                "{fault}: too few acknowledged writes ({acked:?}) for a meaningful test"
            ));
        }
        let first_ok = times(&log["plain"])
            .into_iter()
            .chain(times(&log["wait"]))
            .map(|(_, t)| t)
            .filter(|t| *t > fault_at + 0.05)
            .filter(|t| {
                // After the outage: the first acknowledgement of the new primary.
                *t > fault_at
            })
            .fold(f64::MAX, f64::min);
        // Writes right after the fault may still have been acknowledged by a primary that
        // had not died yet (a kill takes a Run Command): count from the longest gap instead.
        let mut oks: Vec<f64> = times(&log["plain"])
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| *t > fault_at - 1.0)
            .collect();
        oks.sort_by(|a, b| a.total_cmp(b));
        let (gap_start, gap_end) = oks
            .windows(2)
            .map(|w| (w[0], w[1]))
            .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
            .unwrap_or((fault_at, first_ok));
        let fault_t = if fault == "kill" {
            gap_start.max(fault_at)
        } else {
            fault_at
        };
        let witness = ms
            .iter()
            .find(|m| m.ip == ms[newp].ip)
            .ok_or("no new primary")?;
        let (mut odown, switch) = promotion_events(api, witness, fault_t - 1.0)?;
        if switch <= 0.0 {
            return Err(format!(
                "{fault}: the new primary {} logged no MASTER MODE",
                witness.name
            ));
        }
        // Detection: the first Sentinel of any survivor to see the primary objectively down.
        for m in ms
            .iter()
            .filter(|m| m.ip != primary.ip && m.ip != witness.ip)
        {
            if let Ok((o, _)) = promotion_events(api, m, fault_t - 1.0) {
                odown = odown.min(o);
            }
        }
        // The sampler: the longest run of samples with two writable primaries.
        let mut two = 0.0f64;
        let mut since: Option<f64> = None;
        for smp in log["samples"].as_array().cloned().unwrap_or_default() {
            let t = smp[0].as_f64().unwrap_or(0.0);
            let n = smp[1].as_array().map(Vec::len).unwrap_or(0);
            if n >= 2 {
                let s0 = *since.get_or_insert(t);
                two = two.max(t - s0);
            } else {
                since = None;
            }
        }
        if two > max_lag + 0.5 {
            return Err(format!(
                "{fault}: two primaries accepted writes for {two:.1}s (> min_replicas_max_lag)"
            ));
        }
        Ok(Round {
            fault,
            acked_wait: acked[1],
            lost_wait: lost[1],
            acked_plain: acked[0],
            lost_plain: lost[0],
            rto: gap_end - fault_t,
            detection: odown - fault_t,
            election: switch - odown,
            routing: gap_end - switch,
            two_writers: two,
        })
    }
}

/// The example with `count` members and Sentinel's `down_after`.
fn resized(config: &str, count: usize, down_after: &str) -> String {
    let out = config
        .replace(
            "instance_count     = 3",
            &format!("instance_count     = {count}"),
        )
        .replace(
            "down_after = \"1500ms\"",
            &format!("down_after = \"{down_after}\""),
        );
    assert!(out.contains(&format!("= {count}")) && out.contains(down_after));
    out
}

/// `count` members: one primary (the state's `current_primary`), every other one a replica
/// with its link up, and every member's Sentinel detecting failures after `down_after_ms`
/// (asked on the member, with the token read there from Parameter Store).
fn resized_ok(s: &State, api: u16, count: usize, down_after_ms: u64) -> Result<(), String> {
    let g = group(s)?;
    let members = g["members"].as_array().ok_or("no members")?;
    if members.len() != count {
        return Err(format!("{} members (want {count})", members.len()));
    }
    let primaries: Vec<&serde_json::Value> =
        members.iter().filter(|m| m["role"] == "primary").collect();
    if primaries.len() != 1 || g["current_primary"] != primaries[0]["name"] {
        return Err(format!(
            "primaries {primaries:?}, current_primary {}",
            g["current_primary"]
        ));
    }
    if let Some(m) = members
        .iter()
        .find(|m| m["role"] != "primary" && (m["role"] != "replica" || m["link_status"] != "up"))
    {
        return Err(format!("member {m}"));
    }
    let param = g["auth_token_parameter"].as_str().ok_or("no parameter")?;
    let script = format!(
        "REDISCLI_AUTH=$(aws ssm get-parameter --region us-east-1 --name '{param}' --with-decryption \
         --query Parameter.Value --output text) redis-cli --no-auth-warning -p 26379 \
         SENTINEL master cache | tr -d '\\r' | grep -A1 -x down-after-milliseconds | tail -n1"
    );
    for m in members {
        let node = m["ssm_instance_id"].as_str().unwrap_or("");
        let (status, out) = common::run_shell(api, node, &script)?;
        if status != "Success" || out.trim() != down_after_ms.to_string() {
            return Err(format!(
                "{}: Sentinel down-after-milliseconds {out:?} ({status}), want {down_after_ms}",
                m["name"]
            ));
        }
    }
    Ok(())
}

/// Rounds per fault: 1 in CI, more from `scripts/chaos.sh` (HASTACK_REDIS_ROUNDS).
fn rounds() -> usize {
    std::env::var("HASTACK_REDIS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

#[test]
fn redis_replica_group_loses_no_wait_confirmed_write() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let only = std::env::var("HASTACK_REDIS_FAULTS").unwrap_or_default();
    let faults: Vec<&'static str> = (0..rounds())
        .flat_map(|_| ["zone", "kill", "stop", "partition"])
        .filter(|f| only.is_empty() || only.split(',').any(|o| o == *f))
        .collect();
    // The primary moves with every round: an output naming it would change (as it should).
    let config = common::app_outside_data_zones(&resource_example("hastack_redis_replica_group"))
        .split("output \"redis_primary\"")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(config.contains("redis_writer") && !config.contains("redis_primary"));
    let param: std::sync::Arc<std::sync::Mutex<String>> = Default::default();
    let (p1, p2) = (param.clone(), param.clone());
    // The primary the apply left, and the one the rounds left: a moved primary is a plan warning.
    let primaries: std::sync::Arc<std::sync::Mutex<(String, String)>> = Default::default();
    let (moved1, moved2) = (primaries.clone(), primaries.clone());
    with_emulator("redis_replica_group_loss", &e)
        .step(Step::new(config.clone()).check(move |s| {
            let g = group(s)?;
            let applied = g["current_primary"].as_str().unwrap_or("").to_string();
            let token = secret(api, g["auth_token_parameter"].as_str().unwrap_or(""))?;
            let mut table = Vec::new();
            for (n, fault) in faults.iter().enumerate() {
                let r = loss::round(api, s, &token, n, fault)?;
                acceptance_tests::figure!(
                    "redis loss round {n} ({fault}): WAIT writes {} acked, {} lost; plain writes {} acked, {} lost; RTO {:.2}s (detection {:.2}s, election {:.2}s, routing {:.2}s); two writable primaries for {:.1}s at most",
                    r.acked_wait, r.lost_wait, r.acked_plain, r.lost_plain, r.rto, r.detection, r.election, r.routing, r.two_writers
                );
                if r.lost_wait > 0 {
                    return Err(format!("{}: {} WAIT-confirmed writes lost", r.fault, r.lost_wait));
                }
                table.push(r);
            }
            // The negative control: a stop without the boot-time rejoin must be seen.
            if only.is_empty() || only.contains("control") {
                let r = loss::round(api, s, &token, 99, "stop-unguarded")
                    .map_err(|e| format!("negative control: {e}"))?;
                acceptance_tests::figure!(
                    "redis negative control (the old primary's host restarted without the rejoin): a Sentinel turned it from a primary into a replica, as expected; {} WAIT and {} plain writes lost",
                    r.lost_wait, r.lost_plain
                );
            }
            let mut rtos: Vec<f64> = table.iter().map(|r| r.rto).collect();
            rtos.sort_by(|a, b| a.total_cmp(b));
            acceptance_tests::figure!(
                "redis loss: {} rounds, 0 WAIT-confirmed writes lost, {} plain writes lost of {}; RTO p50 {:.2}s max {:.2}s",
                table.len(),
                table.iter().map(|r| r.lost_plain).sum::<usize>(),
                table.iter().map(|r| r.acked_plain).sum::<usize>(),
                rtos[rtos.len() / 2],
                rtos[rtos.len() - 1]
            );
            let ms = loss::members(s)?;
            let now = loss::settled(&ms, &token, std::time::Duration::from_secs(120))?;
            *moved1.lock().unwrap() = (applied, ms[now].name.clone());
            Ok(())
        }))
        // Update in place: a fourth member joins as a replica and Sentinel's detection time
        // changes on every member…
        .step(Step::new(resized(&config, 4, "2000ms")).check(move |s| resized_ok(s, api, 4, 2000)))
        // …and back: the highest index leaves, the others keep replicating.
        .step(Step::new(config.clone()).check(move |s| resized_ok(s, api, 3, 1500)))
        // _disappears: every member deleted out of band is drift (the group is gone from state)…
        .step(
            Step::new(config.clone())
                .check(move |_| common::delete_instances(api, "cache").map(|_| ()))
                .expect_drift(),
        )
        // …and the next apply builds the group again, its token kept in Parameter Store.
        .step(Step::new(config).check(move |s| {
            check_group(s, api, 0)?;
            *p1.lock().unwrap() = group(s)?["auth_token_parameter"]
                .as_str()
                .ok_or("no auth_token_parameter")?
                .to_string();
            Ok(())
        }))
        .check_output(move |_, out| {
            let (applied, now) = moved2.lock().unwrap().clone();
            common::failover_warned(out, &applied, &now)
        })
        // Destroy leaves no token parameter behind.
        .check_destroy(move |_| {
            let name = p2.lock().unwrap().clone();
            if name.is_empty() {
                return Err("no token parameter recorded".into());
            }
            if common::parameter_exists(api, &name)? {
                return Err(format!("{name} is left after destroy"));
            }
            Ok(())
        })
        .run();
}
