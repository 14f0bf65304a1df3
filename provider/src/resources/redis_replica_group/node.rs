//! What runs on the members: the setup script (`node.sh`) and the status script
//! (`status.sh`), rendered with checked values, and what the status script reports.
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::model::Model;

const SETUP: &str = include_str!("node.sh");
const STATUS: &str = include_str!("status.sh");

/// Settings hastack owns: users cannot set them through `parameters`.
pub const OWNED: [&str; 19] = [
    "bind",
    "port",
    "protected-mode",
    "daemonize",
    "pidfile",
    "logfile",
    "dir",
    "dbfilename",
    "requirepass",
    "masterauth",
    "masteruser",
    "replicaof",
    "slaveof",
    "appendonly",
    "appendfsync",
    "maxmemory-policy",
    "include",
    "aclfile",
    "unixsocket",
];
/// Owned prefixes (replication, TLS, the guards against loss).
pub const OWNED_PREFIXES: [&str; 6] = [
    "min-replicas-",
    "min-slaves-",
    "repl-",
    "replica-",
    "slave-",
    "tls-",
];

pub fn owned(name: &str) -> bool {
    OWNED.contains(&name) || OWNED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// What every member is configured with.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub quorum: i64,
    pub down_after: Duration,
    pub failover_timeout: Duration,
    pub parallel_syncs: i64,
    pub min_replicas: i64,
    pub max_lag: i64,
    pub appendonly: bool,
    pub maxmemory_policy: String,
    pub parameters: BTreeMap<String, String>,
    /// The auth token's parameter version the members use (written or found by this apply).
    pub token_version: i64,
    /// `auth_token_update_strategy = "rotate"`: the version before it stays valid.
    pub keep_previous: bool,
}

/// `auth_token_update_strategy` values: keep the previous token valid, or only the current one.
pub const ROTATE: &str = "rotate";
pub const SET: &str = "set";

pub const DEFAULT_DOWN_AFTER: Duration = Duration::from_millis(1500);
pub const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_secs(30);

fn num(n: &Option<serde_json::Number>) -> Option<i64> {
    n.as_ref().and_then(serde_json::Number::as_i64)
}

fn dur(s: &Option<String>, default: Duration) -> Duration {
    s.as_deref()
        .and_then(|s| tfplugin::timeouts::parse_duration(s).ok())
        .unwrap_or(default)
}

impl Settings {
    pub fn of(m: &Model) -> Settings {
        let count = m.count().unwrap_or(3).max(1);
        let s = m.sentinel.value().cloned().unwrap_or_default();
        Settings {
            quorum: num(&s.quorum).unwrap_or(count / 2 + 1),
            down_after: dur(&s.down_after, DEFAULT_DOWN_AFTER),
            failover_timeout: dur(&s.failover_timeout, DEFAULT_FAILOVER_TIMEOUT),
            parallel_syncs: num(&s.parallel_syncs).unwrap_or(1),
            min_replicas: m
                .min_replicas_to_write
                .value()
                .and_then(|n| n.as_i64())
                .unwrap_or(1),
            max_lag: m
                .min_replicas_max_lag
                .value()
                .and_then(|n| n.as_i64())
                .unwrap_or(2),
            appendonly: m.appendonly.value().copied().unwrap_or(true),
            maxmemory_policy: m.maxmemory_policy.value().cloned().unwrap_or_default(),
            parameters: m.parameters.value().cloned().unwrap_or_default(),
            token_version: 1,
            keep_previous: m
                .auth_token_update_strategy
                .value()
                .is_none_or(|s| s == ROTATE),
        }
    }
}

pub use crate::resources::replica::{b64, check, render, safe, Unsafe};

/// Where the members read the auth token.
pub fn token_parameter(group: &str) -> String {
    format!("/hastack/redis/{group}/auth-token")
}

/// The setup script for every member of `group` (`members`: private addresses).
pub fn setup(
    group: &str,
    region: &str,
    members: &[String],
    primary: &str,
    s: &Settings,
) -> Result<String, Unsafe> {
    let params: Vec<String> = s
        .parameters
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let ms = |d: Duration| d.as_millis().to_string();
    let (members, token) = (members.join(" "), token_parameter(group));
    let (quorum, down, timeout) = (
        s.quorum.to_string(),
        ms(s.down_after),
        ms(s.failover_timeout),
    );
    let (syncs, min, lag) = (
        s.parallel_syncs.to_string(),
        s.min_replicas.to_string(),
        s.max_lag.to_string(),
    );
    check(&params.iter().map(String::as_str).collect::<Vec<_>>())?;
    let p = b64(&params.join("\n"));
    render(
        SETUP,
        &[
            ("GROUP", group),
            ("REGION", region),
            ("TOKEN_PARAM", &token),
            ("TOKEN_VERSION", &s.token_version.to_string()),
            ("KEEP_PREVIOUS", if s.keep_previous { "yes" } else { "no" }),
            ("MEMBERS", &members),
            ("PRIMARY", primary),
            ("QUORUM", &quorum),
            ("DOWN_AFTER_MS", &down),
            ("FAILOVER_TIMEOUT_MS", &timeout),
            ("PARALLEL_SYNCS", &syncs),
            ("MIN_REPLICAS", &min),
            ("MAX_LAG", &lag),
            ("APPENDONLY", if s.appendonly { "yes" } else { "no" }),
            ("MAXMEMORY_POLICY", &s.maxmemory_policy),
            ("PARAMETERS_B64", &p),
        ],
    )
}

/// The status script (one JSON line per member).
pub fn status(group: &str, region: &str) -> Result<String, Unsafe> {
    render(
        STATUS,
        &[
            ("GROUP", group),
            ("REGION", region),
            ("TOKEN_PARAM", &token_parameter(group)),
        ],
    )
}

/// One member's report.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct NodeStatus {
    pub addresses: Vec<String>,
    pub redis_up: bool,
    /// `primary`, `replica` or `down`.
    pub role: String,
    pub offset: i64,
    pub link_status: String,
    pub primary_host: String,
    pub connected_replicas: i64,
    pub sentinel_up: bool,
    pub sentinel_primary: String,
    pub sentinel_flags: String,
    pub sentinel_replicas: i64,
    pub sentinel_sentinels: i64,
    pub failover_epoch: i64,
}

/// The primary most Sentinels name (ties: the lowest address), if any answers.
pub fn agreed_primary(reports: &[NodeStatus]) -> Option<String> {
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reports.iter().filter(|r| !r.sentinel_primary.is_empty()) {
        *votes.entry(&r.sentinel_primary).or_default() += 1;
    }
    let best = votes.values().copied().max()?;
    votes
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(ip, _)| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::of(&Model {
            instance_count: tfplugin::Attr::some(3.into()),
            ..Default::default()
        })
    }

    #[test]
    fn defaults_are_fast_and_guarded() {
        let s = settings();
        assert_eq!(s.quorum, 2);
        assert_eq!(s.down_after, Duration::from_millis(1500));
        assert_eq!((s.min_replicas, s.max_lag, s.appendonly), (1, 2, true));
    }

    #[test]
    fn the_setup_script_carries_settings_and_no_token() {
        let mut s = settings();
        s.parameters.insert("hz".into(), "20".into());
        let script = setup(
            "cache",
            "us-east-1",
            &["198.18.0.2".into(), "198.18.0.3".into()],
            "198.18.0.2",
            &s,
        )
        .unwrap();
        assert!(script.contains("MEMBERS='198.18.0.2 198.18.0.3'"));
        assert!(script.contains("DOWN_AFTER_MS='1500'"));
        assert!(script.contains("TOKEN_PARAM='/hastack/redis/cache/auth-token'"));
        assert!(script.contains("TOKEN_VERSION='1'") && script.contains("KEEP_PREVIOUS='yes'"));
        assert!(script.contains(&b64("hz 20")));
        assert!(
            !regex::Regex::new("@[A-Z_0-9]+@").unwrap().is_match(&script),
            "every placeholder is filled"
        );
    }

    #[test]
    fn unsafe_values_are_refused() {
        let mut s = settings();
        s.maxmemory_policy = "x'; rm -rf / #".into();
        assert!(setup("cache", "us-east-1", &[], "", &s).is_err());
    }

    #[test]
    fn owned_settings() {
        for n in [
            "requirepass",
            "replicaof",
            "min-replicas-max-lag",
            "repl-backlog-size",
        ] {
            assert!(owned(n), "{n}");
        }
        assert!(!owned("hz"));
    }

    #[test]
    fn the_primary_is_what_most_sentinels_say() {
        let r = |ip: &str| NodeStatus {
            sentinel_primary: ip.into(),
            ..Default::default()
        };
        assert_eq!(
            agreed_primary(&[r("10.0.0.2"), r("10.0.0.3"), r("10.0.0.3")]).as_deref(),
            Some("10.0.0.3")
        );
        assert_eq!(agreed_primary(&[r(""), NodeStatus::default()]), None);
        let line = r#"{"addresses":["10.0.0.2"],"redis_up":true,"role":"primary","offset":42,"link_status":"","primary_host":"","connected_replicas":2,"sentinel_up":true,"sentinel_primary":"10.0.0.2","sentinel_flags":"master","sentinel_replicas":2,"sentinel_sentinels":3,"failover_epoch":0}"#;
        let got: NodeStatus =
            crate::resources::replica::last_json(&format!("noise\n{line}\n")).unwrap();
        assert_eq!((got.role.as_str(), got.offset), ("primary", 42));
    }
}
