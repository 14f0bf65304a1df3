//! What runs on the members: the setup script (`node.sh` with `agent.py` inside), the users
//! script (`users.sh`, on the primary), the status script, and what the agent reports.
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::model::Model;
use crate::resources::replica::{b64, check, render, Unsafe};

const SETUP: &str = include_str!("node.sh");
const AGENT: &str = include_str!("agent.py");
const USERS: &str = include_str!("users.sh");
pub const STATUS: &str = include_str!("status.sh");

/// Server variables hastack owns.
pub const OWNED: [&str; 24] = [
    "server_id",
    "bind_address",
    "port",
    "socket",
    "datadir",
    "log_bin",
    "log_slave_updates",
    "binlog_format",
    "gtid_domain_id",
    "gtid_strict_mode",
    "sync_binlog",
    "innodb_flush_log_at_trx_commit",
    "sync_master_info",
    "relay_log_recovery",
    "skip_slave_start",
    "read_only",
    "super_read_only",
    "slave_net_timeout",
    "skip_networking",
    "log_bin_basename",
    "gtid_slave_pos",
    "gtid_binlog_state",
    "replicate_do_db",
    "replicate_ignore_db",
];
pub const OWNED_PREFIXES: [&str; 5] =
    ["rpl_semi_sync", "relay_log", "binlog_", "master_", "slave_"];

pub fn owned(name: &str) -> bool {
    let n = name.replace('-', "_");
    OWNED.contains(&n.as_str()) || OWNED_PREFIXES.iter().any(|p| n.starts_with(p))
}

pub fn parameter(set: &str, what: &str) -> String {
    format!("/hastack/mysql/{set}/{what}")
}

pub fn repl_parameter(set: &str) -> String {
    parameter(set, "replication-password")
}

pub fn user_parameter(set: &str, user: &str) -> String {
    parameter(set, &format!("users/{user}"))
}

/// How the set behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub ttl: Duration,
    pub automatic: bool,
    pub block: Duration,
    pub semisync_timeout_ms: u64,
    pub parameters: BTreeMap<String, String>,
}

/// A day: semi-synchronous replication never silently falls back to asynchronous.
pub const SEMISYNC_TIMEOUT_MS: u64 = 86_400_000;

fn dur(a: &tfplugin::Attr<String>, default: Duration) -> Duration {
    a.value()
        .and_then(|s| tfplugin::timeouts::parse_duration(s).ok())
        .unwrap_or(default)
}

impl Settings {
    pub fn of(m: &Model) -> Settings {
        Settings {
            ttl: dur(&m.failure_detection_timeout, Duration::from_secs(5)),
            automatic: m
                .automatic_failover_enabled
                .value()
                .copied()
                .unwrap_or(true),
            block: dur(&m.failover_block_period, Duration::from_secs(300)),
            semisync_timeout_ms: SEMISYNC_TIMEOUT_MS,
            parameters: m.parameters.value().cloned().unwrap_or_default(),
        }
    }
}

const PRUNE: &str = include_str!("prune.sh");

/// The script that removes from etcd every member whose address is not in `keep`.
pub fn prune(keep: &[String]) -> Result<String, Unsafe> {
    render(PRUNE, &[("KEEP", &keep.join(" "))])
}

/// The etcd members: the first three (five from seven members on).
pub fn etcd_members(members: &[String]) -> &[String] {
    let n = if members.len() >= 7 { 5 } else { 3 };
    &members[..n.min(members.len())]
}

/// The setup script for every member of `set` (`members`: private addresses by index);
/// `join`: the address of a member replacing an etcd member of the running set, if any.
pub fn setup(
    set: &str,
    region: &str,
    members: &[String],
    primary: &str,
    join: Option<&str>,
    s: &Settings,
) -> Result<String, Unsafe> {
    let params: Vec<String> = s
        .parameters
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    check(&params.iter().map(String::as_str).collect::<Vec<_>>())?;
    let (ttl, block) = (s.ttl.as_secs().to_string(), s.block.as_secs().to_string());
    render(
        SETUP,
        &[
            ("SET", set),
            ("REGION", region),
            ("MEMBERS", &members.join(" ")),
            ("ETCD_MEMBERS", &etcd_members(members).join(" ")),
            ("ETCD_JOIN", join.unwrap_or("")),
            ("PRIMARY", primary),
            ("TTL", &ttl),
            ("AUTO", if s.automatic { "true" } else { "false" }),
            ("BLOCK", &block),
            ("SEMISYNC_TIMEOUT_MS", &s.semisync_timeout_ms.to_string()),
            ("REPL_PARAM", &repl_parameter(set)),
            ("PARAMETERS_B64", &b64(&params.join("\n"))),
            ("AGENT_B64", &b64(AGENT)),
        ],
    )
}

/// The users script: `databases`, `users` (with their parameters) and users to drop.
pub fn users(set: &str, region: &str, m: &Model, drop: &[String]) -> Result<String, Unsafe> {
    let dbs = m.databases.value().cloned().unwrap_or_default();
    let lines: Vec<String> = m
        .users
        .value()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| {
            let privileges: Vec<String> = u
                .privileges()
                .iter()
                .map(|p| p.trim().replace(' ', "_"))
                .collect();
            format!(
                "{} {} {} {}",
                u.name,
                u.database,
                privileges.join(","),
                user_parameter(set, &u.name)
            )
        })
        .collect();
    check(&lines.iter().map(String::as_str).collect::<Vec<_>>())?;
    render(
        USERS,
        &[
            ("REGION", region),
            ("DATABASES", &dbs.join(" ")),
            ("DROP_USERS", &drop.join(" ")),
            ("USERS_B64", &b64(&lines.join("\n"))),
        ],
    )
}

/// The agent's `/status`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AgentStatus {
    #[serde(rename = "self")]
    pub me: String,
    pub role: String,
    pub leader: String,
    pub epoch: i64,
    pub writable: bool,
    pub read_only: bool,
    pub gtid: String,
    pub lag: Option<i64>,
    pub io: String,
    pub sql: String,
    pub master_host: String,
    pub semisync_master: bool,
    pub semisync_on: bool,
    pub semisync_clients: i64,
    pub mariadb_up: bool,
    pub last_failover: f64,
    pub app_users: Vec<String>,
    pub last_error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setup_script_carries_the_agent_and_no_password() {
        let s = Settings::of(&Model::default());
        assert_eq!(s.ttl, Duration::from_secs(5));
        let script = setup(
            "db",
            "us-east-1",
            &["10.0.0.1".into(), "10.0.0.2".into(), "10.0.0.3".into()],
            "10.0.0.1",
            Some("10.0.0.3"),
            &s,
        )
        .unwrap();
        assert!(script.contains("ETCD_MEMBERS='10.0.0.1 10.0.0.2 10.0.0.3'"));
        assert!(script.contains("ETCD_JOIN='10.0.0.3'"));
        assert!(script.contains("REPL_PARAM='/hastack/mysql/db/replication-password'"));
        assert!(script.contains("SEMISYNC_TIMEOUT_MS='86400000'"));
        assert!(script.contains(&b64(AGENT)));
    }

    #[test]
    fn the_prune_script_keeps_the_given_members() {
        let script = prune(&["10.0.0.1".into(), "10.0.0.4".into()]).unwrap();
        assert!(script.contains("KEEP='10.0.0.1 10.0.0.4'"));
        assert!(prune(&["10.0.0.1'; reboot #".into()]).is_err());
    }

    #[test]
    fn owned_variables() {
        for n in [
            "sync_binlog",
            "rpl_semi_sync_master_timeout",
            "read-only",
            "binlog_format",
            "slave_parallel_threads",
        ] {
            assert!(owned(n), "{n}");
        }
        assert!(!owned("max_connections"));
    }

    #[test]
    fn users_lines_name_their_parameter() {
        let m = Model {
            databases: tfplugin::Attr::some(vec!["app".into()]),
            users: tfplugin::Attr::some(vec![super::super::model::User {
                name: "web".into(),
                database: "app".into(),
                privileges: Some(vec!["SELECT".into(), "CREATE TEMPORARY TABLES".into()]),
                password_wo: None,
                password_version: None,
            }]),
            ..Default::default()
        };
        let script = users("db", "us-east-1", &m, &["old".into()]).unwrap();
        assert!(script.contains(&b64(
            "web app SELECT,CREATE_TEMPORARY_TABLES /hastack/mysql/db/users/web"
        )));
        assert!(script.contains("DROP_USERS='old'"));
    }
}
