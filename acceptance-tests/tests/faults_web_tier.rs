//! Chaos: examples/web-tier applied, planned and destroyed while about a fifth of every API call
//! fails at random (throttling, 503 and 500, seeded: reproducible) on hastack-local with hosts.
//! The provider retries, the tier converges and serves through its load balancer's DNS name, and
//! the emulator's counts show the faults were really injected.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use acceptance_tests::{State, Step};
use common::{calls_and_faults, hosts_emulator, web_tier, with_emulator};
use serde_json::json;

/// GET `http://host/` (port 80, the name through the system resolver) with a 2 s budget.
fn get_by_name(host: &str) -> Result<String, String> {
    let mut s = TcpStream::connect((host, 80)).map_err(|e| format!("{host}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok();
    write!(s, "GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let (head, body) = out.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    Ok(body.trim().to_string())
}

/// Every member answers through the load balancer's DNS name.
fn serves_through_its_name(s: &State) -> Result<(), String> {
    let dns = s
        .output("load_balancer_dns_name")
        .and_then(|v| v.as_str())
        .ok_or("no load_balancer_dns_name output")?;
    let members = s
        .resource("hastack_lightsail_ha_instance.web")
        .and_then(|r| r["instances"].as_array().cloned())
        .ok_or("no instances")?
        .len();
    let mut hosts = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let body = get_by_name(dns)?;
        hosts.insert(body.split(' ').next().unwrap_or("").to_string());
    }
    if hosts.len() != members {
        return Err(format!(
            "answers came from {hosts:?}, want all {members} members"
        ));
    }
    Ok(())
}

#[test]
fn web_tier_converges_under_random_faults() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    // About 20% of all calls fail (1 - 0.93^3): throttling, 503 and 500, 7% each.
    for (seed, fault) in [
        (11, "throttling"),
        (12, "service_unavailable"),
        (13, "internal_failure"),
    ] {
        let (status, body) = e.admin(
            "POST",
            "faults",
            &json!({"operation": "*", "fault": fault, "rate": 0.07, "seed": seed}),
        );
        assert_eq!(status, 200, "{body}");
    }
    with_emulator("faults_web_tier", &e)
        .step(Step::new(web_tier()).check(serves_through_its_name))
        .run();
    let (all, faults, injected) = calls_and_faults(e.port);
    acceptance_tests::figure!("{all} API calls, {faults} faults injected: {injected}");
    assert!(
        faults * 100 >= all * 10,
        "only {faults} faults in {all} calls: {injected}"
    );
    for kind in ["throttling", "service_unavailable", "internal_failure"] {
        assert!(
            injected
                .as_object()
                .is_some_and(|m| m.values().any(|v| v.get(kind).is_some())),
            "no {kind} injected: {injected}"
        );
    }
}
