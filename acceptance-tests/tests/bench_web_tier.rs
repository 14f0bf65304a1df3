//! Benchmark (run by scripts/bench.sh, ignored otherwise): `terraform apply` of examples/web-tier
//! on hastack-local's `realistic` profile, as a ratio of its critical path, and the API calls
//! each AWS operation took against the fewest that could do the job; and the same at 5, 20 and
//! 50 instances. Prints numbers; asserts only that the applies and destroys worked.

use std::collections::BTreeMap;
use std::time::Instant;

mod common;

use acceptance_tests::emulator::Emulator;
use acceptance_tests::Workdir;
use common::web_tier;
use serde_json::{json, Value as Json};

/// The fewest calls of each operation an apply of the web tier (3 instances in 3 zones, one
/// load balancer, one attachment) needs, and why. Polls count one per thing waited for.
fn minimum(instances: u64, zones: u64) -> Vec<(&'static str, u64, &'static str)> {
    vec![
        ("SSM.CreateActivation", 1, "one activation for the group"),
        ("Lightsail.CreateInstances", zones, "one call per zone"),
        (
            "Lightsail.PutInstancePublicPorts",
            instances,
            "one per instance",
        ),
        ("SSM.DeleteActivation", 1, "once every member registered"),
        ("Lightsail.CreateLoadBalancer", 1, ""),
        (
            "Lightsail.AttachInstancesToLoadBalancer",
            1,
            "all members at once",
        ),
        (
            "Lightsail.GetOperation",
            2 * instances + 2,
            "each returned operation seen terminal once",
        ),
        (
            "Lightsail.GetInstances",
            1,
            "one read that finds every member running",
        ),
        (
            "SSM.DescribeInstanceInformation",
            1,
            "one read that finds every node Online",
        ),
        (
            "Lightsail.GetLoadBalancer",
            2,
            "read-back after create, one health read",
        ),
        ("Lightsail.GetRegions", 1, "zones checked at plan"),
        ("Lightsail.GetBundles", 1, "bundle checked at plan"),
        ("Lightsail.GetBlueprints", 1, "blueprint checked at plan"),
    ]
}

/// Seconds of a Terraform duration such as `21s` or `1m2s`.
fn seconds(d: &str) -> Option<f64> {
    let (m, s) = match d.split_once('m') {
        Some((m, s)) => (m.parse::<f64>().ok()?, s),
        None => (0.0, d),
    };
    Some(m * 60.0 + s.trim_end_matches('s').parse::<f64>().unwrap_or(0.0))
}

/// (resource address, seconds) of each "Creation complete after …" line.
fn completions(out: &str) -> Vec<(String, f64)> {
    out.lines()
        .filter_map(|l| {
            let (addr, rest) = l.split_once(": Creation complete after ")?;
            Some((addr.to_string(), seconds(rest.split_whitespace().next()?)?))
        })
        .collect()
}

const RUNS: usize = 3;

/// The web tier's critical path in seconds, before the first health check and with a full
/// health-check interval after the attach: members create (one op) and get their ports (one
/// op) while booting; the attachment needs the members Online and the load balancer's create
/// op; then its attach op; then the first health check after it, within one interval.
fn critical_path(op: f64, boot: f64, interval: f64) -> (f64, f64) {
    let before_health = boot.max(2.0 * op) + op;
    (before_health, before_health + interval)
}

/// hastack-local with hosts on its `realistic` profile and the profile's (operation, instance
/// boot, health-check interval) seconds, or `None` (said why) where hosts cannot run.
fn realistic() -> Option<(Emulator, (f64, f64, f64))> {
    let e = Emulator::start_with_profile("realistic");
    let (_, status) = e.admin("GET", "status", &json!({}));
    if status["hosts"]["available"] != true {
        eprintln!(
            "benchmark skipped: hastack-local has no hosts here: {}",
            status["hosts"]["reason"]
        );
        return None;
    }
    let f = |k: &str| status["profile"][k].as_f64().unwrap_or(0.0);
    Some((
        e,
        (
            f("operation"),
            f("instance_boot"),
            f("health_check_interval"),
        ),
    ))
}

#[test]
#[ignore = "benchmark: run by scripts/bench.sh"]
fn bench_web_tier_apply_realistic() {
    let Some((e, (op, boot, interval))) = realistic() else {
        return;
    };
    let (before_health, critical_hi) = critical_path(op, boot, interval);
    println!("web-tier apply on hastack-local `realistic` (operation {op} s, boot {boot} s, health check every {interval} s), {RUNS} runs:");
    let mut w = Workdir::new("bench-web-tier", e.env()).expect("workdir");
    w.write("main.tf", &web_tier());
    w.terraform(&["validate", "-no-color"]).expect("validate");
    let mut applies = Vec::new();
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for run in 1..=RUNS {
        e.admin("POST", "calls/reset", &json!({}));
        let t = Instant::now();
        let out = w
            .terraform(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .unwrap_or_else(|err| panic!("apply failed: {err}\n{}", w.log()));
        let apply_s = t.elapsed().as_secs_f64();
        applies.push(apply_s);
        if run == 1 {
            counted = call_counts(&e);
        }
        let parts: Vec<String> = completions(&out)
            .iter()
            .map(|(a, s)| format!("{} {s:.0} s", a.rsplit('.').nth(1).unwrap_or(a)))
            .collect();
        println!(
            "  run {run}: apply {apply_s:.2} s (ratio {:.2} to {before_health:.0} s, {:.2} to {critical_hi:.0} s); {}",
            apply_s / before_health,
            apply_s / critical_hi,
            parts.join(", ")
        );
        let t = Instant::now();
        w.terraform(&["destroy", "-auto-approve", "-input=false", "-no-color"])
            .unwrap_or_else(|err| panic!("destroy failed: {err}\n{}", w.log()));
        // Detach (one op), then the members' and the load balancer's deletes (one op each, in parallel).
        let destroy_s = t.elapsed().as_secs_f64();
        println!(
            "         destroy {destroy_s:.2} s (ratio {:.2} to {:.0} s)",
            destroy_s / (2.0 * op),
            2.0 * op
        );
    }
    applies.sort_by(f64::total_cmp);
    let median = applies[RUNS / 2];
    println!("  critical path: {before_health:.0} s before the first health check, {critical_hi:.0} s if it comes a full interval later");
    println!(
        "  median apply {median:.2} s: ratio {:.2} / {:.2}",
        median / before_health,
        median / critical_hi
    );
    println!("API calls of the first apply (its plan phase included) against the minimum:");
    println!(
        "  {:<42} {:>6} {:>8}  note",
        "operation", "calls", "minimum"
    );
    let mut total = (0u64, 0u64);
    for (name, min, why) in minimum(3, 3) {
        let n = counted.get(name).copied().unwrap_or(0);
        total.0 += n;
        total.1 += min;
        println!("  {name:<42} {n:>6} {min:>8}  {why}");
    }
    for (name, n) in &counted {
        if !minimum(3, 3).iter().any(|(m, _, _)| m == name) {
            total.0 += n;
            println!("  {name:<42} {n:>6} {:>8}  not needed", 0);
        }
    }
    println!(
        "  {:<42} {:>6} {:>8}  ratio {:.2}",
        "total",
        total.0,
        total.1,
        total.0 as f64 / total.1 as f64
    );
    let (_, state) = e.admin("GET", "state", &json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["lightsail"]["instances"],
        Json::Array(vec![])
    );
}

/// (operation, calls) of hastack-local's call counts.
fn call_counts(e: &Emulator) -> BTreeMap<String, u64> {
    let (_, calls) = e.admin("GET", "calls", &json!({}));
    calls
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// The web tier at 5, 20 and 50 instances (`HASTACK_SCALE_COUNTS` to change) on the
/// `realistic` profile: apply and destroy time against the critical path (which does not grow
/// with the count: members launch and boot in parallel), API calls against the minimum, and
/// how time grows from the smallest to the largest fleet (goal: ≤ 2×). Then `terraform plan`
/// of the largest state with its refresh against `-refresh=false` (the same plan without the
/// provider's reads; goal ≤ 1.1×).
#[test]
#[ignore = "benchmark: run by scripts/bench.sh"]
fn bench_web_tier_scale_realistic() {
    let counts: Vec<u64> = std::env::var("HASTACK_SCALE_COUNTS")
        .unwrap_or_else(|_| "5,20,50".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let Some((e, (op, boot, interval))) = realistic() else {
        return;
    };
    let (_, critical) = critical_path(op, boot, interval);
    println!("web tier by fleet size on hastack-local `realistic` (critical path {critical:.0} s with a full health-check interval):");
    println!(
        "  {:>9} {:>8} {:>6} {:>9} {:>6} {:>8} {:>6}",
        "instances", "apply s", "ratio", "destroy s", "calls", "minimum", "ratio"
    );
    let mut w = Workdir::new("bench-scale", e.env()).expect("workdir");
    w.write("main.tf", &web_tier());
    let mut rows = Vec::new();
    let mut plans = None;
    for (i, n) in counts.iter().enumerate() {
        let var = format!("-var=instance_count={n}");
        e.admin("POST", "calls/reset", &json!({}));
        let t = Instant::now();
        w.terraform(&["apply", "-auto-approve", "-input=false", "-no-color", &var])
            .unwrap_or_else(|err| panic!("apply of {n} failed: {err}"));
        let apply_s = t.elapsed().as_secs_f64();
        let calls: u64 = call_counts(&e).values().sum();
        let min: u64 = minimum(*n, 3).iter().map(|(_, m, _)| m).sum();
        if i + 1 == counts.len() {
            // Plans of the largest state: with the provider's reads, and without them.
            let mut timed = |args: &[&str]| {
                let mut all: Vec<f64> = (0..3)
                    .map(|_| {
                        let t = Instant::now();
                        w.terraform(args).expect("plan");
                        t.elapsed().as_secs_f64()
                    })
                    .collect();
                all.sort_by(f64::total_cmp);
                all[1]
            };
            let refreshed = timed(&["plan", "-input=false", "-no-color", &var]);
            let bare = timed(&["plan", "-input=false", "-no-color", "-refresh=false", &var]);
            plans = Some((*n, refreshed, bare));
        }
        let t = Instant::now();
        w.terraform(&[
            "destroy",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &var,
        ])
        .unwrap_or_else(|err| panic!("destroy of {n} failed: {err}"));
        let destroy_s = t.elapsed().as_secs_f64();
        println!(
            "  {n:>9} {apply_s:>8.2} {:>6.2} {destroy_s:>9.2} {calls:>6} {min:>8} {:>6.2}",
            apply_s / critical,
            calls as f64 / min as f64
        );
        rows.push((*n, apply_s, destroy_s));
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!(
            "  growth {} → {} instances: apply {:.2}×, destroy {:.2}× (goal ≤ 2×)",
            first.0,
            last.0,
            last.1 / first.1,
            last.2 / first.2
        );
    }
    if let Some((n, refreshed, bare)) = plans {
        println!(
            "  plan of the {n}-instance state (median of 3): {refreshed:.2} s with the provider's reads, {bare:.2} s with -refresh=false: ratio {:.2} (goal ≤ 1.1)",
            refreshed / bare
        );
    }
    let (_, state) = e.admin("GET", "state", &json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["lightsail"]["instances"],
        Json::Array(vec![])
    );
}

#[test]
fn terraform_durations_parse() {
    assert_eq!(seconds("21s"), Some(21.0));
    assert_eq!(seconds("1m2s"), Some(62.0));
    let out =
        "hastack_lightsail_ha_instance.web: Creation complete after 21s [id=web]\nother line\n";
    assert_eq!(
        completions(out),
        vec![("hastack_lightsail_ha_instance.web".to_string(), 21.0)]
    );
}
