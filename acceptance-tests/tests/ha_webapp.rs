//! The whole stack as users write it: the `ha-webapp` module (examples/modules/ha-webapp) and
//! the environments that call it (examples/environments/{dev,staging,prod}).
//!
//! - The module's own `terraform test` suite: plan runs with a mocked provider (wiring, bad
//!   input refused naming the variable) and one apply against hastack-local.
//! - Each environment applied against hastack-local as a user would (`terraform get`,
//!   `validate`, `apply`), then: an empty plan, the app answering through the load balancer from
//!   every web instance with a write on the database primary, a read on a replica and a count
//!   in Redis, the app log in CloudWatch Logs (a stream per web instance), and a destroy that
//!   leaves no instance, load balancer or parameter behind. dev's apply is also scanned for
//!   its secrets (trace-level provider log, state, output, Run Command records, boot logs,
//!   histories).
//! - The dev environment under random API faults and failed operations (chaos).
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use acceptance_tests::emulator::Emulator;
use acceptance_tests::Workdir;
use common::{
    block_on, calls_and_faults, hosts_emulator, http_get, lb_port, lightsail_on, logs_on,
    parameter_exists, secret, secrets_hidden,
};
use serde_json::{json, Value as Json};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Copy every file under `from` to `to` in the work dir (relative path `to`).
fn copy_tree(w: &Workdir, from: &Path, to: &str) {
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let p = entry.expect("dir entry").path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue; // .terraform, lock files and state of someone's local run
        }
        let rel = if to.is_empty() {
            name
        } else {
            format!("{to}/{name}")
        };
        if p.is_dir() {
            copy_tree(w, &p, &rel);
        } else {
            w.write(
                &rel,
                &std::fs::read_to_string(&p).expect("read example file"),
            );
        }
    }
}

/// A work dir holding examples/environments/`env` and the module it calls. The root calls the
/// module by its place in the repository (`../../modules/ha-webapp`); here it sits beside it.
fn environment(e: &Emulator, env: &str, name: &str) -> Workdir {
    environment_with(e, env, name, &[])
}

/// [`environment`] with more environment variables for every terraform run.
fn environment_with(e: &Emulator, env: &str, name: &str, more: &[(&str, String)]) -> Workdir {
    let mut vars = e.env();
    vars.extend(more.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let w = Workdir::new(name, vars).expect("workdir");
    copy_tree(
        &w,
        &examples().join("modules/ha-webapp"),
        "modules/ha-webapp",
    );
    copy_tree(&w, &examples().join("environments").join(env), "");
    let main = std::fs::read_to_string(w.path().join("main.tf")).unwrap();
    assert!(
        main.contains("\"../../modules/ha-webapp\""),
        "{env}: module source"
    );
    w.write(
        "main.tf",
        &main.replace("\"../../modules/ha-webapp\"", "\"./modules/ha-webapp\""),
    );
    w
}

/// The number of `run` blocks in the module's test files: what `terraform test` must pass.
fn run_blocks(module: &Path) -> usize {
    std::fs::read_dir(module.join("tests"))
        .expect("tests dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".tftest.hcl"))
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("run \""))
                .count()
        })
        .sum()
}

#[test]
fn ha_webapp_module_terraform_test_basic() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_guard, e)) = hosts_emulator() else {
        return;
    };
    let module = examples().join("modules/ha-webapp");
    let want = run_blocks(&module);
    assert!(want >= 10, "only {want} run blocks in the module's tests");
    let mut w = Workdir::new("ha_webapp_tftest", e.env()).expect("workdir");
    copy_tree(&w, &module, "");
    let (code, out, err) = w.terraform_output(&["test", "-no-color"]);
    let summary = format!("Success! {want} passed, 0 failed.");
    assert!(
        code == Some(0) && out.contains(&summary),
        "terraform test: exit {code:?}, expected {summary:?}\n{out}\n{err}"
    );
    // The apply run destroyed what it made.
    let left = block_on(lightsail_on(e.port).get_instances().send())
        .expect("GetInstances")
        .instances()
        .len();
    assert_eq!(left, 0, "terraform test left {left} instances");
}

#[test]
fn ha_webapp_environments_apply_and_serve() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_guard, e)) = hosts_emulator() else {
        return;
    };
    let mut figures = Vec::new();
    for env in ["dev", "staging", "prod"] {
        let started = Instant::now();
        // dev's runs log the provider at trace level for the secrets scan.
        let trace = std::env::temp_dir().join(format!(
            "hastack-ha-webapp-{env}-{}.trace",
            std::process::id()
        ));
        let logging = [
            ("TF_LOG_PROVIDER", "trace".to_string()),
            ("TF_LOG_PATH", trace.display().to_string()),
        ];
        let scan = env == "dev";
        let mut w = environment_with(
            &e,
            env,
            &format!("ha_webapp_{env}"),
            if scan { &logging } else { &[] },
        );
        let tf = |w: &mut Workdir, args: &[&str]| {
            w.terraform(args)
                .unwrap_or_else(|err| panic!("{env}: terraform {args:?}: {err}"))
        };
        tf(&mut w, &["get", "-no-color"]);
        tf(&mut w, &["validate", "-no-color"]);
        tf(
            &mut w,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        );
        let applied = started.elapsed();
        let (code, out, err) =
            w.terraform_output(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        assert_eq!(
            code,
            Some(0),
            "{env}: plan after apply not empty:\n{out}\n{err}"
        );
        let outputs: Json = serde_json::from_str(&tf(&mut w, &["output", "-json"])).unwrap();
        let served = serves(&e, env, &outputs);
        logs_shipped(&e, env, &outputs);
        if scan {
            secrets_stay_secret(&e, &mut w, env, &trace);
        }
        tf(
            &mut w,
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
        );
        nothing_left(&e, env);
        // After destroy, which logs to it too.
        let _ = std::fs::remove_file(&trace);
        figures.push(format!(
            "{env}: apply {:.1} s, {served} requests served, total with checks and destroy {:.1} s",
            applied.as_secs_f64(),
            started.elapsed().as_secs_f64()
        ));
    }
    acceptance_tests::figure!(
        "ha-webapp environments on hastack-local:\n  {}",
        figures.join("\n  ")
    );
}

/// The stack's parameters: its secrets (the database's and Redis's passwords) and the agent
/// configuration.
fn stack_parameters(env: &str) -> [String; 4] {
    let stack = format!("shop-{env}");
    [
        format!("/hastack/mysql/{stack}-db/users/app"),
        format!("/hastack/mysql/{stack}-db/replication-password"),
        format!("/hastack/redis/{stack}-cache/auth-token"),
        format!("AmazonCloudWatch-hastack-{stack}-web"),
    ]
}

/// The database and Redis passwords of the applied stack are in none of: the state files,
/// `terraform show -json`, anything Terraform printed, the provider's trace log, hastack-local's
/// record of Run Command parameters and output, the hosts' boot logs, the nodes' shell and
/// client histories.
fn secrets_stay_secret(e: &Emulator, w: &mut Workdir, env: &str, trace: &Path) {
    let show = w
        .terraform(&["show", "-json", "-no-color"])
        .unwrap_or_else(|err| panic!("{env}: terraform show: {err}"));
    let secrets: Vec<String> = stack_parameters(env)[..3]
        .iter()
        .map(|p| secret(e.port, p).unwrap_or_else(|err| panic!("{env}: {p}: {err}")))
        .collect();
    let mut nodes = Vec::new();
    collect_strings(
        &serde_json::from_str(&show).expect("show -json"),
        "ssm_instance_id",
        &mut nodes,
    );
    nodes.sort();
    nodes.dedup();
    assert!(nodes.len() >= 7, "{env}: nodes in state: {nodes:?}");
    let printed = format!("{}\n{show}", w.log());
    secrets_hidden(e.port, w.path(), &printed, trace, &secrets, &nodes)
        .unwrap_or_else(|m| panic!("{env}: {m}"));
    acceptance_tests::figure!(
        "{env}: {} secrets found in none of the state, output, trace log ({} bytes), Run Command \
         records, boot logs or the histories of {} nodes",
        secrets.len(),
        std::fs::metadata(trace).map(|m| m.len()).unwrap_or(0),
        nodes.len()
    );
}

/// Every managed node id (`mi-…`) under a key named `key`, anywhere in `j` (output types in
/// `show -json` name the key too, with the value "string").
fn collect_strings(j: &Json, key: &str, out: &mut Vec<String>) {
    match j {
        Json::Object(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) if k == key && s.starts_with("mi-") => out.push(s.to_string()),
                    _ => collect_strings(v, key, out),
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|v| collect_strings(v, key, out)),
        _ => {}
    }
}

/// The web instances' names, from the root's `web_instances` output.
fn web_names(outputs: &Json) -> Vec<String> {
    outputs["web_instances"]["value"]
        .as_object()
        .expect("web_instances output")
        .keys()
        .cloned()
        .collect()
}

/// Requests through the load balancer until every web instance has answered (≤ 60 s, ≤ 300
/// requests): each a write on the database primary, a read on a replica, a count in Redis.
fn serves(e: &Emulator, env: &str, outputs: &Json) -> usize {
    let port = lb_port(e.port);
    assert_ne!(port, 0, "{env}: no load balancer with a loopback endpoint");
    let web = web_names(outputs);
    let db_primary = outputs["db_primary"]["value"].as_str().unwrap().to_string();
    let mut seen = std::collections::BTreeSet::new();
    let mut last_hits = 0;
    let mut last_error = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    while seen.len() < web.len() && Instant::now() < deadline && n < 300 {
        n += 1;
        match http_get(port, "/")
            .and_then(|b| serde_json::from_str::<Json>(&b).map_err(|e| e.to_string()))
        {
            Ok(page) => {
                assert_eq!(page["db_primary"], db_primary.as_str(), "{env}: {page}");
                assert_ne!(
                    page["db_reader"],
                    db_primary.as_str(),
                    "{env}: read on the primary: {page}"
                );
                let hits = page["redis_hits"].as_i64().unwrap_or(0);
                assert!(hits > last_hits, "{env}: Redis count did not grow: {page}");
                last_hits = hits;
                assert!(
                    page["zone"].as_str().unwrap_or("").starts_with("us-east-1"),
                    "{env}: {page}"
                );
                seen.insert(page["instance"].as_str().unwrap_or("").to_string());
            }
            Err(err) => last_error = err,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let want: std::collections::BTreeSet<String> = web.into_iter().collect();
    assert_eq!(
        seen, want,
        "{env}: not every web instance served (last error: {last_error})"
    );
    n
}

/// The app log reaches CloudWatch Logs: a stream per web instance with its requests (≤ 30 s).
fn logs_shipped(e: &Emulator, env: &str, outputs: &Json) {
    let group = outputs["log_group_names"]["value"]["app"]
        .as_str()
        .expect("app log group")
        .to_string();
    let web = web_names(outputs);
    let logs = logs_on(e.port);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut missing = Vec::new();
        let mut seen = Vec::new();
        for stream in &web {
            let messages: Vec<String> = block_on(
                logs.get_log_events()
                    .log_group_name(&group)
                    .log_stream_name(stream)
                    .send(),
            )
            .map(|r| {
                r.events()
                    .iter()
                    .filter_map(|ev| ev.message().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
            // app.py: "<time> <client> <instance> "GET / HTTP/1.x" 200 -"
            if !messages.iter().any(|m| {
                m.contains(stream.as_str()) && m.contains("\"GET / HTTP/1.") && m.contains(" 200 ")
            }) {
                missing.push(stream.clone());
            }
            seen.extend(messages.into_iter().take(3));
        }
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{env}: no request lines in {group} for {missing:?} after 30 s; lines there: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// After destroy: no instance, load balancer or hastack parameter in hastack-local.
fn nothing_left(e: &Emulator, env: &str) {
    let ls = lightsail_on(e.port);
    let instances = block_on(ls.get_instances().send()).expect("GetInstances");
    assert!(
        instances.instances().is_empty(),
        "{env}: instances left: {:?}",
        instances
            .instances()
            .iter()
            .map(|i| i.name())
            .collect::<Vec<_>>()
    );
    let lbs = block_on(ls.get_load_balancers().send()).expect("GetLoadBalancers");
    assert!(
        lbs.load_balancers().is_empty(),
        "{env}: load balancers left"
    );
    let left: Vec<String> = stack_parameters(env)
        .into_iter()
        .filter(|name| parameter_exists(e.port, name).unwrap_or(true))
        .collect();
    assert!(left.is_empty(), "{env}: parameters left: {left:?}");
}

/// The Lightsail calls that return operations, each failed now and then by the chaos test.
const FAILING_OPERATIONS: [&str; 8] = [
    "CreateInstances",
    "PutInstancePublicPorts",
    "CreateLoadBalancer",
    "UpdateLoadBalancerAttribute",
    "AttachInstancesToLoadBalancer",
    "DetachInstancesFromLoadBalancer",
    "DeleteLoadBalancer",
    "DeleteInstance",
];
/// The error code those failed operations carry (it must reach the diagnostics verbatim).
const FAILED_CODE: &str = "ChaosInjectedFailure";

/// The dev environment (every resource type hastack has) under random API faults: about 20 %
/// of all calls fail (throttling, 503, 500 at 7 % each, on every operation), and 15 % of
/// the Lightsail operations each changing call starts end `Failed`. Apply converges (an apply that
/// fails must name the AWS error code, and a next one converges), the plan after it is empty,
/// and destroy (faults still on) leaves nothing behind.
#[test]
fn ha_webapp_converges_under_random_api_faults() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_guard, e)) = hosts_emulator() else {
        return;
    };
    // HASTACK_FAULT_SEED varies the schedule (scripts/chaos.sh runs several).
    let base: u64 = std::env::var("HASTACK_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    for (seed, fault) in [
        (base + 1, "throttling"),
        (base + 2, "service_unavailable"),
        (base + 3, "internal_failure"),
    ] {
        let (status, body) = e.admin(
            "POST",
            "faults",
            &json!({"operation": "*", "fault": fault, "rate": 0.07, "seed": seed}),
        );
        assert_eq!(status, 200, "{body}");
    }
    // Lightsail operations that are accepted and then end `Failed`, on every changing call.
    for (i, op) in FAILING_OPERATIONS.iter().enumerate() {
        let (status, body) = e.admin(
            "POST",
            "faults",
            &json!({"operation": format!("Lightsail.{op}"), "fault": "fail_operation",
                    "error_code": FAILED_CODE, "error_details": "injected by hastack-local's fault schedule",
                    "rate": 0.15, "seed": base + 10 + i as u64}),
        );
        assert_eq!(status, 200, "{body}");
    }
    let mut w = environment(&e, "dev", "ha_webapp_faults");
    w.terraform(&["get", "-no-color"]).expect("terraform get");
    // Until it converges: at most 5 applies (and 5 destroys), each failure naming its cause.
    let converge = |w: &mut Workdir, args: &[&str]| -> usize {
        for attempt in 1..=5 {
            let (code, out, err) = w.terraform_output(args);
            if code == Some(0) {
                return attempt;
            }
            assert!(
                [
                    "Throttling",
                    "ServiceUnavailable",
                    "InternalFailure",
                    FAILED_CODE
                ]
                .iter()
                .any(|c| err.contains(c)),
                "terraform {args:?} failed without an injected AWS error code:\n{out}\n{err}"
            );
            eprintln!("attempt {attempt} of terraform {args:?} failed as injected:\n{err}");
        }
        panic!("terraform {args:?} did not converge in 5 attempts");
    };
    let applies = converge(
        &mut w,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    let (code, out, err) =
        w.terraform_output(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(code, Some(0), "plan after apply not empty:\n{out}\n{err}");
    let destroys = converge(
        &mut w,
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
    );
    nothing_left(&e, "dev");
    let (all, faults, injected) = calls_and_faults(e.port);
    let failed_operations: u64 = injected
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|v| v["fail_operation"].as_u64())
                .sum()
        })
        .unwrap_or(0);
    // The nodes' own calls (their scripts read secrets from Parameter Store) are under the
    // same schedule: a member whose script gave up on a throttled call once read as `down`.
    let (_, callers) = e.admin("GET", "callers", &json!({}));
    let node_reads: u64 = callers
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(arn, _)| arn.rsplit('/').next().is_some_and(|s| s.starts_with("mi-")))
        .flat_map(|(_, keys)| keys.as_object().into_iter().flatten())
        .filter_map(|(_, ops)| ops["SSM.GetParameter"].as_u64())
        .sum();
    let read_faults = injected["SSM.GetParameter"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum::<u64>())
        .unwrap_or(0);
    acceptance_tests::figure!(
        "ha-webapp dev under random faults (seed {base}): {applies} apply run(s), {destroys} \
         destroy run(s), {all} API calls, {faults} faults injected ({failed_operations} failed \
         operations); {node_reads} GetParameter calls from nodes, {read_faults} GetParameter \
         calls failed"
    );
    assert!(
        node_reads > 0 && read_faults > 0,
        "the nodes' Parameter Store reads were not under the fault schedule: {node_reads} calls, {read_faults} faults"
    );
    assert!(
        faults * 100 >= all * 10,
        "only {faults} faults in {all} calls: {injected}"
    );
}
