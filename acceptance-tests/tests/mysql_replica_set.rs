//! hastack_mysql_replica_set on hastack-local with hosts: real MariaDB, etcd and the agents on
//! three members, an app instance writing through its HAProxy sidecar, import, a planned
//! switchover under load, and no password anywhere but in Parameter Store and on the members.
mod common;

use acceptance_tests::{State, Step};
use common::{app_ns, hosts_emulator, netns_of, resource_example, secret, with_emulator};

fn set(s: &State) -> Result<serde_json::Value, String> {
    s.resource("hastack_mysql_replica_set.db")
        .cloned()
        .ok_or_else(|| "no hastack_mysql_replica_set.db in state".into())
}

/// The app user's password, read from its Parameter Store parameter.
fn app_password(api: u16, s: &State) -> Result<String, String> {
    secret(
        api,
        set(s)?["password_parameters"]["app"].as_str().unwrap_or(""),
    )
}

/// `mariadb` as `user` inside namespace `ns` against `host:port`: the rows, tab-separated.
fn sql(
    ns: &str,
    host: &str,
    port: u16,
    user: &str,
    password: &str,
    query: &str,
) -> Result<String, String> {
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "timeout",
            "10",
            "mariadb",
            "-N",
            "-B",
            "--connect-timeout=3",
        ])
        .args(["-h", host, "-P", &port.to_string(), "-u", user, "-e", query])
        .env("MYSQL_PWD", password)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn check_set(s: &State, api: u16, primary_index: usize) -> Result<(), String> {
    let g = set(s)?;
    let members = g["members"].as_array().ok_or("no members")?;
    if members.len() != 3 {
        return Err(format!("{} members", members.len()));
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
        if m["role"] != role {
            return Err(format!("member {i}: {m}"));
        }
    }
    let param = g["password_parameters"]["app"]
        .as_str()
        .ok_or("no app password parameter")?;
    let pw = secret(api, param)?;
    let repl = secret(
        api,
        g["password_parameters"]["replication"]
            .as_str()
            .unwrap_or(""),
    )?;
    if s.raw().contains(&pw) || s.raw().contains(&repl) {
        return Err("a password is in the state".into());
    }
    // Through the app's sidecar: a write on the primary, read back from a replica.
    let ns = app_ns(s)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let id = format!("acc-{}-{primary_index}-{nanos}", std::process::id());
    sql(&ns, "127.0.0.1", 3306, "app", &pw, &format!("CREATE TABLE IF NOT EXISTS shop.t (id VARCHAR(64) PRIMARY KEY); INSERT INTO shop.t VALUES ('{id}')"))?;
    let host = sql(&ns, "127.0.0.1", 3306, "app", &pw, "SELECT @@hostname")?;
    if host != want {
        return Err(format!(
            "the writer port reached {host}, not the primary {want}"
        ));
    }
    let mut last = String::new();
    for _ in 0..20 {
        last = sql(
            &ns,
            "127.0.0.1",
            3307,
            "app",
            &pw,
            &format!("SELECT @@hostname, COUNT(*) FROM shop.t WHERE id = '{id}'"),
        )?;
        if last.ends_with("\t1") && !last.starts_with(want) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if !last.ends_with("\t1") || last.starts_with(want) {
        return Err(format!("the reader port answered {last:?}"));
    }
    // Apps never write on a replica: it is read-only for them.
    let replica = members
        .iter()
        .enumerate()
        .find(|(i, _)| *i != primary_index)
        .map(|(_, m)| m["private_ip"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    let refused = sql(
        &ns,
        &replica,
        3306,
        "app",
        &pw,
        "INSERT INTO shop.t VALUES ('must-fail')",
    );
    if !refused.as_ref().is_err_and(|e| {
        e.contains("read-only") || e.contains("READ-ONLY") || e.contains("read only")
    }) {
        return Err(format!("a write on replica {replica}: {refused:?}"));
    }
    Ok(())
}

/// A failed statement is not echoed by the mariadb client on a member (Debian's client prints
/// it by default, and the users' and replication statements carry passwords).
fn failed_statement_not_echoed(api: u16, node: &str) -> Result<(), String> {
    let (_, out) = common::run_shell(
        api,
        node,
        "printf \"ALTER USER 'hastack_nobody'@'%%' IDENTIFIED BY 'must-not-echo';\\n\" | mariadb 2>&1; true",
    )?;
    if out.contains("must-not-echo") || !out.contains("ERROR 1396") {
        return Err(format!("a failed statement on a member printed {out:?}"));
    }
    Ok(())
}

/// Every member has `max_connections`, the `audit` database, no `report` user and an
/// `auditor` user as `want` says (tab-separated counts), read as root on the member.
fn configured_everywhere(api: u16, ms: &[loss::Member], want: &str) -> Result<(), String> {
    let query = "SELECT @@global.max_connections, \
        (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'audit'), \
        (SELECT COUNT(*) FROM mysql.user WHERE user = 'report'), \
        (SELECT COUNT(*) FROM mysql.user WHERE user = 'auditor')";
    for m in ms {
        let (status, out) =
            common::run_shell(api, &m.node, &format!("mariadb -N -B -e \"{query}\""))?;
        if status != "Success" || out.trim() != want {
            return Err(format!(
                "{}: {status} {:?}, want {want:?}",
                m.name,
                out.trim()
            ));
        }
    }
    Ok(())
}

/// The Parameter Store name of `user`'s password in set `g` (as the app user's is named).
fn node_param(g: &serde_json::Value, user: &str) -> String {
    g["password_parameters"]["app"]
        .as_str()
        .unwrap_or("")
        .trim_end_matches("app")
        .to_string()
        + user
}

/// The writers `w` (ids starting with `prefix`) are done: every acknowledged id is on the
/// primary, none was never attempted, and no two members were writable at once.
fn no_write_lost(
    s: &State,
    api: u16,
    w: std::process::Child,
    prefix: &str,
    what: &str,
) -> Result<(), String> {
    let log = loss::finish_writers(w)?;
    let pw = app_password(api, s)?;
    let query = format!("SELECT id FROM shop.ids WHERE id LIKE '{prefix}%'");
    let fin: std::collections::BTreeSet<String> =
        sql(&app_ns(s)?, "127.0.0.1", 3306, "app", &pw, &query)?
            .lines()
            .map(str::to_string)
            .collect();
    let (acked, lost, phantom, _) = loss::tally(&log, &fin);
    acceptance_tests::figure!(
        "mysql {what}: {acked} writes acknowledged, {lost} lost, {phantom} never written"
    );
    if lost > 0 || phantom > 0 || acked < 100 {
        return Err(format!(
            "{what}: {acked} acknowledged, {lost} lost, {phantom} phantom"
        ));
    }
    let two = log["samples"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x[1].as_array().is_some_and(|w| w.len() > 1))
    });
    if two {
        return Err(format!("{what}: two writable members at once"));
    }
    Ok(())
}

/// A switchover asked for while the primary's agent is down: the request goes into etcd as
/// `switchover.sh` writes it, and the agent that starts then finds writes on and the request
/// already there. It must still stop writes, publish where they stopped and let go once `to`
/// has everything (an agent that only stopped writes on the loop that first saw the request
/// held the switchover until it was abandoned). The step's writers check that nothing
/// acknowledged was lost.
fn handover_after_agent_restart(
    api: u16,
    from: &loss::Member,
    to: &loss::Member,
) -> Result<(), String> {
    let ask = r#"set -e
k=$(printf %s /hastack/mysql/db/switchover | base64 -w0)
v=$(printf '%s %s' TO "$(date +%s.%N)" | base64 -w0)
systemctl stop hastack-mysql-agent
curl -sf -X POST -d "{\"key\":\"$k\",\"value\":\"$v\"}" http://127.0.0.1:2379/v3/kv/put >/dev/null
systemctl start hastack-mysql-agent
echo asked
"#
    .replace("TO", &to.ip);
    let (status, out) = common::run_shell(api, &from.node, &ask)?;
    if status != "Success" || !out.contains("asked") {
        return Err(format!(
            "asking for a switchover on {}: {status}: {out}",
            from.name
        ));
    }
    let started = std::time::Instant::now();
    // Within 30 s (a switchover under load takes 1-3 s; an abandoned one 50 s).
    let wait = |url: &str| {
        format!(
            "for i in $(seq 1 150); do curl -sf -o /dev/null {url} && {{ echo yes; exit 0; }}; \
             sleep 0.2; done; echo no"
        )
    };
    let (_, out) = common::run_shell(api, &to.node, &wait("http://127.0.0.1:8008/primary"))?;
    if !out.contains("yes") {
        let (_, st) = common::run_shell(api, &from.node, "curl -s http://127.0.0.1:8008/status")?;
        return Err(format!(
            "{} did not become primary within 30 s of a switchover asked while {}'s agent \
             restarted; {}'s agent says {st}",
            to.name, from.name, from.name
        ));
    }
    let took = started.elapsed();
    let (_, out) = common::run_shell(api, &from.node, &wait("http://127.0.0.1:8008/replica"))?;
    if !out.contains("yes") {
        return Err(format!(
            "{} did not follow {} after the switchover",
            from.name, to.name
        ));
    }
    acceptance_tests::figure(&format!(
        "mysql switchover asked during an agent restart: {} primary after {:.1} s",
        to.name,
        took.as_secs_f64()
    ));
    Ok(())
}

type Found = std::sync::Mutex<(Vec<String>, Vec<String>)>;

/// Every password of the set (for the secrets scan) and its members' nodes (whose histories
/// are scanned) into `found`; the report user's generated password into `report`.
fn record_secrets(
    api: u16,
    s: &State,
    found: &Found,
    report: &std::sync::Mutex<String>,
) -> Result<(), String> {
    let g = set(s)?;
    let params = g["password_parameters"]
        .as_object()
        .ok_or("no password_parameters")?;
    let mut f = found.lock().unwrap();
    for p in params.values() {
        f.0.push(secret(api, p.as_str().unwrap_or(""))?);
    }
    f.1 = loss::members(s)?.into_iter().map(|m| m.node).collect();
    *report.lock().unwrap() = secret(api, params["report"].as_str().unwrap_or(""))?;
    Ok(())
}

#[test]
fn mysql_replica_set_basic() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let switched = resource_example("hastack_mysql_replica_set").replace(
        "  tags       = { tier = \"db\" }",
        "  tags       = { tier = \"db\" }\n  primary    = \"db-1\"",
    );
    assert!(switched.contains("primary    = \"db-1\""));
    let switched_bigger = switched.replacen("bundle_id", "bundle_id = \"large_3_0\"\n  #", 1);
    assert!(switched_bigger.contains("large_3_0"));
    // The second Terraform version's pass leaves out the move to new instances and the fourth
    // member (see acceptance_tests::second_pass).
    let short = acceptance_tests::second_pass();
    // A password given write-only (password_wo + password_version) replaces the generated one.
    let given = format!(
        "Given-{}-pw",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let report_given = if short { &switched } else { &switched_bigger }.replace(
        "privileges = [\"SELECT\"] }",
        &format!("privileges = [\"SELECT\"], password_wo = \"{given}\", password_version = 1 }}"),
    );
    assert!(report_given.contains("password_wo"));
    // Users, databases and parameters change in place, and a fourth member joins; then the
    // set shrinks back to three.
    let changed = report_given
        .replace("databases = [\"shop\"]", "databases = [\"shop\", \"audit\"]")
        .replace(
            &format!("{{ name = \"report\", database = \"shop\", privileges = [\"SELECT\"], password_wo = \"{given}\", password_version = 1 }}"),
            "{ name = \"auditor\", database = \"audit\", privileges = [\"SELECT\"] }",
        )
        .replace("max_connections = \"300\"", "max_connections = \"250\"");
    let grown = changed.replace("instance_count     = 3", "instance_count     = 4");
    assert!(grown.contains("auditor") && !grown.contains("report") && grown.contains("250"));
    assert!(grown.contains("instance_count     = 4"));
    let given1 = given.clone();
    let report_pw: std::sync::Arc<std::sync::Mutex<String>> = Default::default();
    let (r0, r1, r2) = (report_pw.clone(), report_pw.clone(), report_pw.clone());
    let writers: std::sync::Arc<std::sync::Mutex<Option<std::process::Child>>> = Default::default();
    let (w1, w2, w3, w4) = (
        writers.clone(),
        writers.clone(),
        writers.clone(),
        writers.clone(),
    );
    let before: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (before1, before2) = (before.clone(), before.clone());
    // Every password and every member, for the secrets check after the last step.
    let found: std::sync::Arc<Found> = Default::default();
    let (f0, f1, f2, f3) = (found.clone(), found.clone(), found.clone(), found.clone());
    // The first three members while there are four: they stay when the set shrinks.
    let kept: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (k1, k2) = (kept.clone(), kept.clone());
    let trace_dir = tempfile::tempdir().expect("tempdir");
    let trace = trace_dir.path().join("provider-trace.log");
    let trace2 = trace.clone();
    let mut tc = with_emulator("mysql_replica_set_basic", &e)
        .env("TF_LOG_PROVIDER", "trace")
        .env("TF_LOG_PATH", trace.to_str().expect("utf-8 path"))
        .step(
            Step::new(resource_example("hastack_mysql_replica_set"))
                .check(move |s| {
                    check_set(s, api, 0)?;
                    failed_statement_not_echoed(api, &loss::members(s)?[1].node)?;
                    // Writes flow through the sidecar across the next step's switchover.
                    let pw = app_password(api, s)?;
                    let app = app_ns(s)?;
                    sql(
                        &app,
                        "127.0.0.1",
                        3306,
                        "app",
                        &pw,
                        "CREATE TABLE IF NOT EXISTS shop.ids (id VARCHAR(64) PRIMARY KEY)",
                    )?;
                    let ms = loss::members(s)?;
                    *w1.lock().unwrap() = Some(loss::start_writers(&app, &ms, &pw, "switch-", 45)?);
                    Ok(())
                })
                .import_verify(
                    "hastack_mysql_replica_set.db",
                    "db",
                    &[
                        "ssm_role",
                        "databases",
                        "users",
                        "parameters",
                        "tags",
                        "timeouts",
                        "members",
                        "password_parameters",
                    ],
                ),
        )
        // A planned switchover by naming another member, under load.
        .step(Step::new(switched).check(move |s| {
            check_set(s, api, 1)?;
            let w = w2.lock().unwrap().take().ok_or("no writers")?;
            no_write_lost(s, api, w, "switch-", "switchover")?;
            if short {
                return record_secrets(api, s, &f0, &r0);
            }
            let pw = app_password(api, s)?;
            let ms = loss::members(s)?;
            // Writers run across a switchover with a restarted agent and the next step's move
            // to new instances.
            *w3.lock().unwrap() = Some(loss::start_writers(&app_ns(s)?, &ms, &pw, "move-", 150)?);
            handover_after_agent_restart(api, &ms[1], &ms[2])?;
            *before1.lock().unwrap() = ms.into_iter().map(|m| m.name).collect();
            Ok(())
        }));
    if !short {
        tc = tc
            // A bundle change moves every member to a new instance, one at a time, the primary
            // last after a switchover; etcd follows; no acknowledged write is lost; the configured
            // primary is primary again after.
            .step(Step::new(switched_bigger).check(move |s| {
                let ms = loss::members(s)?;
                let old = before2.lock().unwrap().clone();
                if let Some(m) = ms.iter().find(|m| old.contains(&m.name)) {
                    return Err(format!("{} was not moved to a new instance", m.name));
                }
                if set(s)?["bundle_id"] != "large_3_0" {
                    return Err(format!("bundle_id {}", set(s)?["bundle_id"]));
                }
                check_set(s, api, 1)?;
                let w = w4.lock().unwrap().take().ok_or("no writers")?;
                no_write_lost(s, api, w, "move-", "move to new instances")?;
                // etcd's members are the first three members' new addresses, no more.
                let (_, out) = common::run_shell(
                    api,
                    &ms[0].node,
                    "curl -s -X POST -d '{}' http://127.0.0.1:2379/v3/cluster/member/list",
                )?;
                let list: serde_json::Value =
                    serde_json::from_str(&out).map_err(|e| format!("member list {out}: {e}"))?;
                let mut peers: Vec<String> = list["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|m| m["peerURLs"].as_array().cloned().unwrap_or_default())
                    .filter_map(|u| {
                        u.as_str().map(|u| {
                            u.trim_start_matches("http://")
                                .trim_end_matches(":2380")
                                .to_string()
                        })
                    })
                    .collect();
                peers.sort();
                let mut want: Vec<String> = ms.iter().take(3).map(|m| m.ip.clone()).collect();
                want.sort();
                if peers != want {
                    return Err(format!("etcd members {peers:?}, want {want:?}"));
                }
                record_secrets(api, s, &f1, &r1)
            }));
    }
    tc = tc
        // password_wo: the given password becomes the report user's (its parameter's new
        // version); the generated one it replaces no longer logs in.
        .step(Step::new(report_given).check(move |s| {
            let g = set(s)?;
            let param = g["password_parameters"]["report"].as_str().unwrap_or("");
            if secret(api, param)? != given1 {
                return Err(format!(
                    "{param} does not hold the password given in password_wo"
                ));
            }
            if g["users"].to_string().contains(&given1) {
                return Err("the state holds password_wo".into());
            }
            let app = app_ns(s)?;
            sql(
                &app,
                "127.0.0.1",
                3306,
                "report",
                &given1,
                "SELECT COUNT(*) FROM shop.ids",
            )
            .map_err(|e| format!("report with the given password: {e}"))?;
            let old = r2.lock().unwrap().clone();
            if sql(&app, "127.0.0.1", 3306, "report", &old, "SELECT 1").is_ok() {
                return Err(
                    "the generated password still logs in after password_wo replaced it".into(),
                );
            }
            Ok(())
        }));
    if !short {
        tc = tc
            // In place: a new database, a user dropped (its parameter too) and one added, a server
            // variable changed on every member, and a fourth member streaming from the primary.
            .step(Step::new(grown).check(move |s| {
                let ms = loss::members(s)?;
                if ms.len() != 4 {
                    return Err(format!("{} members, want 4", ms.len()));
                }
                let app = app_ns(s)?;
                // Members are listed by index; `primary = "db-1"` names the second.
                let p = loss::settled(&app, &ms, std::time::Duration::from_secs(60))?;
                if p != 1 {
                    return Err(format!("{} is primary, want db-1's member", ms[p].name));
                }
                // The new member started from a copy of the primary's data, not a replay of
                // its whole binlog.
                let (_, copied) = common::run_shell(
                    api,
                    &ms[3].node,
                    "grep -h 'copied .* data at' /var/log/hastack-mysql-agent.log || true",
                )?;
                let copied = copied.trim();
                if copied.is_empty() {
                    return Err(format!(
                        "{} did not start from a copy of the primary's data",
                        ms[3].name
                    ));
                }
                // Its copy carries the users, in force (not only as rows of mysql.global_priv).
                let app_pw = app_password(api, s)?;
                sql(
                    &app,
                    &ms[3].ip,
                    3306,
                    "app",
                    &app_pw,
                    "SELECT COUNT(*) FROM shop.ids",
                )
                .map_err(|e| format!("app on the new member {}: {e}", ms[3].name))?;
                acceptance_tests::figure(&format!(
                    "mysql new member: {}",
                    copied
                        .rsplit("hastack-mysql-agent: ")
                        .next()
                        .unwrap_or(copied)
                ));
                // A copy left unfinished (its marker outlives a failed load or a restart) is
                // made again, and the member settles back with everything and nothing else: a
                // database only it had (as a diverged tail's would be) is gone.
                let (_, out) = common::run_shell(
                    api,
                    &ms[3].node,
                    "mariadb -e 'SET sql_log_bin=0; CREATE DATABASE hastack_stray' && \
                     touch /var/lib/hastack/mysql-copying && sleep 5 && \
                     grep -c 'an unfinished copy: copying' /var/log/hastack-mysql-agent.log || true",
                )?;
                if out.trim() == "0" || out.trim().is_empty() {
                    return Err(format!(
                        "{} did not copy again after an unfinished copy ({out:?})",
                        ms[3].name
                    ));
                }
                if loss::settled(&app, &ms, std::time::Duration::from_secs(60))? != 1 {
                    return Err("the primary moved while a replica copied again".into());
                }
                // Its binlog continues from the copy's position (no write came after it), so a
                // copy taken from it, or its own first write as primary, follows on.
                let (_, out) = common::run_shell(
                    api,
                    &ms[3].node,
                    "mariadb -N -B -e \"SELECT @@gtid_binlog_pos, @@gtid_current_pos, \
                     (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'hastack_stray')\"",
                )?;
                let f: Vec<&str> = out.trim().split('\t').collect();
                if f.len() != 3 || f[0].is_empty() || f[0] != f[1] || f[2] != "0" {
                    return Err(format!(
                        "{} after copying again: binlog position, position, stray databases = {out:?}",
                        ms[3].name
                    ));
                }
                *k1.lock().unwrap() = ms.iter().take(3).map(|m| m.name.clone()).collect();
                configured_everywhere(api, &ms, "250\t1\t0\t1")?;
                let g = set(s)?;
                let params = &g["password_parameters"];
                if !params["report"].is_null() {
                    return Err(format!("a dropped user's parameter is listed: {params}"));
                }
                let dropped = node_param(&g, "report");
                if secret(api, &dropped).is_ok() {
                    return Err(format!("{dropped} outlived its user"));
                }
                let pw = secret(
                    api,
                    params["auditor"].as_str().ok_or("no auditor parameter")?,
                )?;
                let seen = sql(
                    &app,
                    "127.0.0.1",
                    3307,
                    "auditor",
                    &pw,
                    "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'audit'",
                )
                .map_err(|e| format!("auditor through the reader port: {e}"))?;
                if seen != "1" {
                    return Err(format!("auditor sees {seen} audit databases"));
                }
                // The secrets scan looks for it too (the fourth member goes in the next step, so its
                // histories are not scanned).
                f3.lock().unwrap().0.push(pw);
                Ok(())
            }))
            // Back to three: the fourth member goes, the others keep their roles and data.
            .step(Step::new(changed).check(move |s| {
                let ms = loss::members(s)?;
                let names: Vec<String> = ms.iter().map(|m| m.name.clone()).collect();
                let kept = k2.lock().unwrap().clone();
                if names != kept {
                    return Err(format!("members {names:?}, want the first three: {kept:?}"));
                }
                check_set(s, api, 1)?;
                configured_everywhere(api, &ms, "250\t1\t0\t1")
            }));
    }
    tc
        // No password in the state, any plan or apply output, the provider's trace log, a Run
        // Command's record, a boot log or a member's histories.
        .check_output(move |dir, output| {
            let mut f = f2.lock().unwrap().clone();
            f.0.push(given.clone());
            if f.0.len() < 2 {
                return Err(format!(
                    "{} passwords found (app and replication expected)",
                    f.0.len()
                ));
            }
            common::secrets_hidden(api, dir, output, &trace2, &f.0, &f.1)
        })
        .run();
}

mod loss {
    //! The write-loss test: writers through the sidecar while the primary is killed, stopped,
    //! partitioned, its zone failed, or cut off from its peers (still reachable by apps); then
    //! every member's rows are compared with what the writers were told.
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use super::*;
    use acceptance_tests::emulator::Emulator;
    use serde_json::{json, Value};

    fn now() -> f64 {
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
        set(s)?["members"]
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

    /// A member's agent status, asked from namespace `ns`.
    pub fn agent(ns: &str, ip: &str) -> Result<Value, String> {
        let out = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "curl",
                "-s",
                "-m",
                "2",
                &format!("http://{ip}:8008/status"),
            ])
            .output()
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&out.stdout).map_err(|e| format!("agent on {ip}: {e}"))
    }

    /// With automatic failover off, or within the block period after one, nothing replaces a
    /// stopped primary: for three leases (15 s) no other member becomes writable and their
    /// agents say `why`; once the host is back, its member does not take the lease again
    /// either (10 s): the operator decides.
    pub fn no_automatic_failover(api: u16, s: &State, why: &str) -> Result<(), String> {
        let app = app_ns(s)?;
        let ms = members(s)?;
        let p = settled(&app, &ms, Duration::from_secs(120))?;
        let primary = &ms[p];
        let admin = Emulator::admin_on(api);
        let (code, out) = admin("POST", "hosts/stop", &json!({"name": primary.name}));
        if code != 200 {
            return Err(format!("stop {}: {out}", primary.name));
        }
        let none_writable = |ms: &[&Member], secs: u64| -> Result<Vec<Value>, String> {
            let until = Instant::now() + Duration::from_secs(secs);
            let mut last = Vec::new();
            while Instant::now() < until {
                last = ms
                    .iter()
                    .map(|m| agent(&app, &m.ip).unwrap_or(Value::Null))
                    .collect();
                if let Some(w) = last.iter().find(|a| a["writable"] == true) {
                    return Err(format!("a member became writable ({why}): {w}"));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Ok(last)
        };
        let others: Vec<&Member> = ms.iter().filter(|m| m.ip != primary.ip).collect();
        let last = none_writable(&others, 15)?;
        if !last
            .iter()
            .all(|a| a["last_error"].as_str().is_some_and(|e| e.contains(why)))
        {
            return Err(format!(
                "the agents do not say why there is no primary: {last:?}"
            ));
        }
        common::start_hosts(api, std::slice::from_ref(&primary.name))?;
        let started = Instant::now();
        while agent(&app, &primary.ip).is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("{}'s agent did not come back", primary.name));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        none_writable(&ms.iter().collect::<Vec<_>>(), 10)?;
        Ok(())
    }

    /// The members elected a primary and settled around it within 60 s.
    pub fn elected(s: &State) -> Result<(), String> {
        settled(&app_ns(s)?, &members(s)?, Duration::from_secs(60)).map(|_| ())
    }

    /// The index of the one primary, once every replica streams from it and all have applied
    /// the same transactions, within `limit`.
    pub fn settled(app: &str, ms: &[Member], limit: Duration) -> Result<usize, String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < limit {
            let st: Vec<Value> = ms
                .iter()
                .map(|m| agent(app, &m.ip).unwrap_or(Value::Null))
                .collect();
            let primaries: Vec<usize> = (0..ms.len())
                .filter(|i| st[*i]["role"] == "primary" && st[*i]["writable"] == true)
                .collect();
            if let [p] = primaries[..] {
                let ok = st
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != p)
                    .all(|(_, s)| {
                        s["role"] == "replica"
                            && s["io"] == "Yes"
                            && s["sql"] == "Yes"
                            && s["master_host"] == ms[p].ip.as_str()
                    });
                let gtids: BTreeSet<String> = st
                    .iter()
                    .map(|s| s["gtid"].as_str().unwrap_or("").to_string())
                    .collect();
                if ok && gtids.len() == 1 && st[p]["semisync_on"] == true {
                    return Ok(p);
                }
            }
            last = st
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    if let Some(o) = s.as_object_mut() {
                        o.remove("app_users");
                    }
                    s.to_string()
                })
                .collect::<Vec<_>>()
                .join("\n");
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(format!("the set did not settle in {limit:?}:\n{last}"))
    }

    pub fn start_writers(
        app: &str,
        ms: &[Member],
        pw: &str,
        prefix: &str,
        seconds: u32,
    ) -> Result<std::process::Child, String> {
        let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/mysql_loss.py");
        let mut args: Vec<String> = vec![
            "netns".into(),
            "exec".into(),
            app.into(),
            "/usr/bin/python3".into(),
        ];
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
            .env("MYSQL_PWD", pw)
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

    /// (acknowledged, lost, phantom, the lost ids' acknowledgement times) against `fin`.
    pub fn tally(log: &Value, fin: &BTreeSet<String>) -> (usize, usize, usize, Vec<f64>) {
        let ok: Vec<(String, f64)> = log["ok"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let info: BTreeSet<&str> = log["info"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let okset: BTreeSet<&str> = ok.iter().map(|(i, _)| i.as_str()).collect();
        let phantom = fin
            .iter()
            .filter(|i| !okset.contains(i.as_str()) && !info.contains(i.as_str()))
            .count();
        let lost: Vec<f64> = ok
            .iter()
            .filter(|(i, _)| !fin.contains(i))
            .map(|(_, t)| *t)
            .collect();
        (ok.len(), lost.len(), phantom, lost)
    }

    /// Every member's ids with `prefix` (asked directly, from the app's namespace).
    fn finals(
        app: &str,
        ms: &[Member],
        pw: &str,
        prefix: &str,
    ) -> Result<Vec<BTreeSet<String>>, String> {
        ms.iter()
            .map(|m| {
                Ok(sql(
                    app,
                    &m.ip,
                    3306,
                    "app",
                    pw,
                    &format!("SELECT id FROM shop.ids WHERE id LIKE '{prefix}%'"),
                )?
                .lines()
                .map(str::to_string)
                .collect())
            })
            .collect()
    }

    /// Cut (or restore) the primary's traffic to and from the other members; apps still reach it.
    fn isolate(p: &Member, others: &[&Member], cut: bool) -> Result<(), String> {
        let rules = if cut {
            let ips: Vec<&str> = others.iter().map(|m| m.ip.as_str()).collect();
            let set = ips.join(", ");
            format!("table inet hastack_test {{\n chain out {{ type filter hook output priority 0; ip daddr {{ {set} }} drop; }}\n chain inp {{ type filter hook input priority 0; ip saddr {{ {set} }} drop; }}\n}}\n")
        } else {
            "delete table inet hastack_test\n".into()
        };
        let mut child = std::process::Command::new("ip")
            .args(["netns", "exec", &p.ns, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        use std::io::Write;
        child
            .stdin
            .take()
            .ok_or("stdin")?
            .write_all(rules.as_bytes())
            .map_err(|e| e.to_string())?;
        let st = child.wait().map_err(|e| e.to_string())?;
        if st.success() {
            Ok(())
        } else {
            Err(format!("nft on {} failed", p.name))
        }
    }

    /// Whether the etcd on `m` leads the etcd cluster (`None`: it did not answer).
    fn etcd_leads(m: &Member) -> Option<bool> {
        let out = std::process::Command::new("ip")
            .args([
                "netns", "exec", &m.ns, "curl", "-s", "-m", "2", "-XPOST", "-d", "{}",
            ])
            .arg(format!("http://{}:2379/v3/maintenance/status", m.ip))
            .output()
            .ok()?;
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        let leader = v["leader"].as_str()?;
        Some(Some(leader) == v["header"]["member_id"].as_str())
    }

    /// The primary's agent hands etcd's leadership to another member (checked every 5 s), so
    /// that losing the primary's host never also costs an etcd election.
    fn etcd_leader_elsewhere(fault: &str, primary: &Member) -> Result<(), String> {
        let started = Instant::now();
        loop {
            match etcd_leads(primary) {
                Some(false) => return Ok(()),
                _ if started.elapsed() > Duration::from_secs(15) => {
                    return Err(format!(
                        "{fault}: 15 s after the set settled, etcd's leader is still the primary's ({}), or its etcd does not answer",
                        primary.name
                    ))
                }
                _ => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    /// From the agents' logs after `since`: the first "no leader" on a survivor and when the
    /// new primary promoted itself.
    fn events(api: u16, ms: &[Member], old: usize, new: usize, since: f64) -> (f64, f64) {
        let grab = |m: &Member, what: &str| -> f64 {
            let script = format!("grep -E '{what}' /var/log/hastack-mysql-agent.log | awk '$2 >= {since} {{print $2; exit}}'");
            common::run_shell(api, &m.node, &script)
                .ok()
                .and_then(|(_, out)| out.trim().parse().ok())
                .unwrap_or(0.0)
        };
        let detect = ms
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != old)
            .map(|(_, m)| grab(m, "no leader"))
            .filter(|t| *t > 0.0)
            .fold(f64::MAX, f64::min);
        (detect, grab(&ms[new], "promoting"))
    }

    pub struct Round {
        pub acked: usize,
        pub lost: usize,
        pub rto: f64,
        pub detection: f64,
        pub election: f64,
        pub routing: f64,
        pub max_writable: usize,
    }

    pub fn round(api: u16, s: &State, pw: &str, n: usize, fault: &str) -> Result<Round, String> {
        let app = app_ns(s)?;
        let ms = members(s)?;
        let p = settled(&app, &ms, Duration::from_secs(120))?;
        let primary = &ms[p];
        let others: Vec<&Member> = ms.iter().filter(|m| m.ip != primary.ip).collect();
        etcd_leader_elsewhere(fault, primary)?;
        let prefix = format!("r{n}-");
        let writers = start_writers(&app, &ms, pw, &prefix, 22)?;
        std::thread::sleep(Duration::from_secs(4));
        let admin = Emulator::admin_on(api);
        let fault_at = now();
        let mut stopped = Vec::new();
        match fault {
            "kill" => {
                common::run_shell(api, &primary.node, "pkill -9 -x mariadbd; echo killed")?;
            }
            "stop" | "partition" => {
                let (code, out) = admin(
                    "POST",
                    &format!("hosts/{fault}"),
                    &json!({"name": primary.name}),
                );
                if code != 200 {
                    return Err(format!("{fault}: {out}"));
                }
            }
            "zone" => {
                stopped = common::fail_primary_zone(api, s, &primary.zone)?;
            }
            "isolate" | "isolate-async" => isolate(primary, &others, true)?,
            _ => unreachable!(),
        }
        let log = finish_writers(writers)?;
        match fault {
            "kill" => {}
            "stop" => common::start_hosts(api, std::slice::from_ref(&primary.name))?,
            // Every host the zone took, not only the primary's.
            "zone" => common::start_hosts(api, &stopped)?,
            "partition" => {
                admin("POST", "hosts/restore", &json!({"name": primary.name}));
            }
            _ => isolate(primary, &others, false)?,
        }
        let ms = members(s)?;
        let logs = || -> String {
            ms.iter()
                .map(|m| {
                    let tail = common::run_shell(
                        api,
                        &m.node,
                        "tail -n 25 /var/log/hastack-mysql-agent.log; \
                         mariadb -N -e 'SELECT @@gtid_binlog_pos, @@gtid_slave_pos, @@gtid_current_pos' 2>&1; \
                         mariadb -e 'SHOW SLAVE STATUS\\G' 2>&1 | grep -E 'Gtid|Using_Gtid|Exec_Master|Read_Master|Errno|Error|State|Running'; \
                         journalctl -u mariadb -n 15 --no-pager 2>/dev/null | tail -n 15; \
                         tail -n 15 /var/log/mysql/error.log 2>/dev/null; true",
                    )
                    .map(|(_, o)| o)
                    .unwrap_or_else(|e| e);
                    format!("\n--- {} ({}):\n{tail}", m.name, m.ip)
                })
                .collect()
        };
        let newp =
            settled(&app, &ms, Duration::from_secs(180)).map_err(|e| format!("{e}{}", logs()))?;
        // A killed mariadbd is restarted at once by its supervisor (mysqld_safe, systemd): the
        // member may keep its lease and recover in place. Every other fault must move it.
        if newp == p && fault != "kill" {
            return Err(format!(
                "{fault}: {} is still primary: no failover happened{}",
                ms[p].name,
                logs()
            ));
        }
        let fin = finals(&app, &ms, pw, &prefix)?;
        if fin.iter().any(|f| f != &fin[0]) {
            return Err(format!(
                "{fault}: the members' rows differ: {:?}",
                fin.iter().map(BTreeSet::len).collect::<Vec<_>>()
            ));
        }
        // Every member must answer with a checksum: a failed query is an error, not "".
        let sums = ms
            .iter()
            .map(|m| {
                let line = sql(&app, &m.ip, 3306, "app", pw, "CHECKSUM TABLE shop.ids")
                    .map_err(|e| format!("{fault}: CHECKSUM TABLE on {}: {e}", m.name))?;
                match line.split('\t').nth(1) {
                    Some(sum) if !sum.is_empty() && sum != "NULL" => Ok(sum.to_string()),
                    _ => Err(format!(
                        "{fault}: CHECKSUM TABLE on {} said {line:?}",
                        m.name
                    )),
                }
            })
            .collect::<Result<BTreeSet<String>, String>>()?;
        if sums.len() != 1 {
            return Err(format!(
                "{fault}: CHECKSUM TABLE differs across members: {sums:?}"
            ));
        }
        let (acked, lost, phantom, lost_times) = tally(&log, &fin[0]);
        if phantom > 0 {
            return Err(format!(
                "{fault}: {phantom} ids that were never written are in the table"
            ));
        }
        if acked < 100 {
            return Err(format!(
                "{fault}: only {acked} acknowledged writes: not a meaningful test"
            ));
        }
        let max_writable = log["samples"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s[1].as_array().map(Vec::len).unwrap_or(0))
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let mut oks: Vec<f64> = log["ok"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p[1].as_f64()).collect())
            .unwrap_or_default();
        oks.retain(|t| *t > fault_at - 1.0);
        oks.sort_by(|a, b| a.total_cmp(b));
        let (gap_start, gap_end) = oks
            .windows(2)
            .map(|w| (w[0], w[1]))
            .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
            .unwrap_or((fault_at, fault_at));
        let fault_t = if fault == "kill" {
            gap_start.max(fault_at)
        } else {
            fault_at
        };
        let (detect, promoted) = if newp == p {
            (fault_t, fault_t)
        } else {
            events(api, &ms, p, newp, fault_t - 1.0)
        };
        if lost > 0 {
            acceptance_tests::figure!("{fault}: {lost} acknowledged writes lost, acknowledged {:.2}s to {:.2}s after the fault", lost_times.iter().cloned().fold(f64::MAX, f64::min) - fault_at, lost_times.iter().cloned().fold(f64::MIN, f64::max) - fault_at);
        }
        Ok(Round {
            acked,
            lost,
            rto: gap_end - fault_t,
            detection: detect - fault_t,
            election: promoted - detect,
            routing: gap_end - promoted,
            max_writable,
        })
    }
}

/// Rounds per fault: 1 in CI, more from `scripts/chaos.sh` (HASTACK_MYSQL_ROUNDS).
fn rounds() -> usize {
    std::env::var("HASTACK_MYSQL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

#[test]
fn mysql_replica_set_loses_no_acknowledged_write() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let only = std::env::var("HASTACK_MYSQL_FAULTS").unwrap_or_default();
    let faults: Vec<&'static str> = (0..rounds())
        .flat_map(|_| ["kill", "isolate", "stop", "partition", "zone"])
        .filter(|f| only.is_empty() || only.split(',').any(|o| o == *f))
        .collect();
    // Back-to-back failovers: no block period. The output names nothing that moves.
    let config = common::app_outside_data_zones(&resource_example("hastack_mysql_replica_set"))
        .replace(
            "  tags       = { tier = \"db\" }",
            "  tags       = { tier = \"db\" }\n  failover_block_period = \"0s\"",
        )
        .split("output \"db_writer\"")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(config.contains("failover_block_period"));
    let manual = config.replace(
        "  failover_block_period = \"0s\"",
        "  failover_block_period = \"0s\"\n  automatic_failover_enabled = false",
    );
    assert!(manual.contains("automatic_failover_enabled = false"));
    // Still off, `primary` names a member: a promotion by hand.
    let named = manual.replace(
        "  automatic_failover_enabled = false",
        "  automatic_failover_enabled = false\n  primary    = \"db-2\"",
    );
    assert!(named.contains("primary    = \"db-2\""));
    let blocked = config.replace(
        "failover_block_period = \"0s\"",
        "failover_block_period = \"300s\"",
    );
    assert!(blocked.contains("300s"));
    let params: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (p1, p2) = (params.clone(), params.clone());
    // The primary the apply left, and the one the rounds left: a moved primary is a plan warning.
    let primaries: std::sync::Arc<std::sync::Mutex<(String, String)>> = Default::default();
    let (moved1, moved2) = (primaries.clone(), primaries.clone());
    with_emulator("mysql_replica_set_loss", &e)
        .step(Step::new(config.clone()).check(move |s| {
            let applied = set(s)?["current_primary"].as_str().unwrap_or("").to_string();
            let pw = app_password(api, s)?;
            let app = app_ns(s)?;
            sql(&app, "127.0.0.1", 3306, "app", &pw, "CREATE TABLE IF NOT EXISTS shop.ids (id VARCHAR(64) PRIMARY KEY)")?;
            let mut rtos = Vec::new();
            for (n, fault) in faults.iter().enumerate() {
                let r = loss::round(api, s, &pw, n, fault)?;
                acceptance_tests::figure!(
                    "mysql loss round {n} ({fault}): {} acknowledged, {} lost; RTO {:.2}s (detection {:.2}s, election {:.2}s, routing {:.2}s); at most {} writable member(s) at once",
                    r.acked, r.lost, r.rto, r.detection, r.election, r.routing, r.max_writable
                );
                if r.lost > 0 {
                    return Err(format!("{fault}: {} acknowledged writes lost", r.lost));
                }
                if r.max_writable > 1 {
                    return Err(format!("{fault}: the sampler saw {} writable members at once", r.max_writable));
                }
                rtos.push(r.rto);
            }
            rtos.sort_by(|a, b| a.total_cmp(b));
            if !rtos.is_empty() {
                acceptance_tests::figure!("mysql loss: {} rounds, 0 acknowledged writes lost; RTO p50 {:.2}s max {:.2}s", rtos.len(), rtos[rtos.len() / 2], rtos[rtos.len() - 1]);
            }
            // The negative control: with a 10 ms semi-sync timeout (it falls back to asynchronous
            // replication), the same isolation must lose acknowledged writes, or this test
            // could not see a loss.
            if only.is_empty() || only.contains("control") {
                let ms = loss::members(s)?;
                for m in &ms {
                    common::run_shell(api, &m.node, "mariadb -e 'SET GLOBAL rpl_semi_sync_master_timeout = 10'")?;
                }
                match loss::round(api, s, &pw, 99, "isolate") {
                    Ok(r) if r.lost > 0 => acceptance_tests::figure!("mysql negative control (semi-sync timeout 10 ms, primary isolated): {} of {} acknowledged writes lost, as expected", r.lost, r.acked),
                    Ok(r) => return Err(format!("negative control: semi-sync at 10 ms lost nothing of {} writes: the test cannot see a loss", r.acked)),
                    Err(e) => return Err(format!("negative control: {e}")),
                }
            }
            let ms = loss::members(s)?;
            let now = loss::settled(&app, &ms, std::time::Duration::from_secs(180))?;
            *moved1.lock().unwrap() = (applied, ms[now].name.clone());
            Ok(())
        }))
        // automatic_failover_enabled = false, in place: a stopped primary is not replaced…
        .step(Step::new(manual.clone()).check(move |s| {
            loss::no_automatic_failover(api, s, "automatic failover is off")
        }))
        // …until `primary` names a member: with no primary to hand over, the apply's switchover
        // request makes the agents elect the most advanced member, which hands over to the
        // named one (a promotion by hand; every member then has the same transactions).
        .step(Step::new(named).check(move |s| {
            let ms = loss::members(s)?;
            let p = loss::settled(&app_ns(s)?, &ms, std::time::Duration::from_secs(60))?;
            if p != 2 || set(s)?["current_primary"] != ms[2].name.as_str() {
                return Err(format!(
                    "{} is primary (current_primary {}), want {}, named in primary",
                    ms[p].name,
                    set(s)?["current_primary"],
                    ms[2].name
                ));
            }
            // Which member the election made primary first (the agents restarted with the
            // previous step's configuration, so only this promotion counts): the named one
            // itself, or another that handed over to it.
            let app = app_ns(s)?;
            let elected: Vec<&str> = ms
                .iter()
                .filter(|m| {
                    loss::agent(&app, &m.ip).is_ok_and(|a| a["failovers"].as_u64() == Some(1))
                })
                .map(|m| m.name.as_str())
                .collect();
            acceptance_tests::figure(&format!(
                "mysql promotion by hand: elected {elected:?}, primary now {}",
                ms[2].name
            ));
            if elected.len() != 1 {
                return Err(format!("{elected:?} counted an election, want one member"));
            }
            Ok(())
        }))
        // That promotion began with an election, an automatic failover as far as the block
        // period goes: within a 300 s block period after it, a stopped primary is not replaced
        // (automatic failover back on); with no block period the apply elects one.
        .step(Step::new(blocked).check(move |s| {
            loss::no_automatic_failover(api, s, "failover blocked until")
        }))
        .step(Step::new(config.clone()).check(loss::elected))
        // _disappears: every member deleted out of band is drift (the set is gone from state)…
        .step(
            Step::new(config.clone())
                .check(move |_| common::delete_instances(api, "db").map(|_| ()))
                .expect_drift(),
        )
        // …and the next apply builds the set again, passwords kept in Parameter Store.
        .step(Step::new(config).check(move |s| {
            check_set(s, api, 0)?;
            let g = set(s)?;
            *p1.lock().unwrap() = g["password_parameters"]
                .as_object()
                .ok_or("no password_parameters")?
                .values()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            Ok(())
        }))
        .check_output(move |_, out| {
            let (applied, now) = moved2.lock().unwrap().clone();
            common::failover_warned(out, &applied, &now)
        })
        // Destroy leaves no password parameter behind.
        .check_destroy(move |_| {
            let names = p2.lock().unwrap().clone();
            if names.len() < 2 {
                return Err(format!("{} password parameters recorded", names.len()));
            }
            for n in &names {
                if common::parameter_exists(api, n)? {
                    return Err(format!("{n} is left after destroy"));
                }
            }
            Ok(())
        })
        .run();
}
