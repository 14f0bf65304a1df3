//! Protocol benchmark: terraform-provider-hastack (our tfplugin) against a minimal provider
//! on tf-provider 0.2.2, measured in the same run on the same machine. Prints ratios
//! (ours / baseline: below 1.0 means we are faster or smaller). No assertions: numbers.
//!
//! Run with `scripts/bench.sh` (builds both in release mode first).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tfplugin::client::{launch, provider_client, Plugin};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::{Type, Value};

const BASELINE: &str = env!("CARGO_BIN_EXE_terraform-provider-baseline");
const STARTS: usize = 20;
const SCHEMA_CALLS: usize = 300;
const FUNCTION_CALLS: usize = 1000;
const PLANS: usize = 5;
const PLAN_FUNCTION_CALLS: usize = 100;

fn ours() -> PathBuf {
    // <target>/release/deps/protocol-xxxx → <target>/release/terraform-provider-hastack
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("terraform-provider-hastack");
    assert!(
        p.is_file(),
        "{} missing: run `cargo build --release -p terraform-provider-hastack`",
        p.display()
    );
    p
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Numbers {
    start: Duration,
    schema: Duration,
    call: Duration,
    plan: Duration,
    rss_kib: u64,
}

async fn measure(bin: &Path, address: &str) -> Numbers {
    let bin_s = bin.to_str().unwrap();
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let t = Instant::now();
        let p = launch(bin_s, &[]);
        starts.push(t.elapsed());
        drop(p);
    }

    let p: Plugin = launch(bin_s, &[]);
    let mut c = provider_client(&p).await;
    let mut schema = Vec::new();
    for _ in 0..SCHEMA_CALLS {
        let t = Instant::now();
        c.get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .unwrap();
        schema.push(t.elapsed());
    }
    let zones = Value::List(
        ["us-east-1a", "us-east-1b", "us-east-1c"]
            .iter()
            .map(|z| Value::string(*z))
            .collect(),
    );
    let args = vec![
        pb::DynamicValue {
            msgpack: Value::number(5).to_msgpack(&Type::Number).unwrap(),
            json: vec![],
        },
        pb::DynamicValue {
            msgpack: zones.to_msgpack(&Type::list(Type::String)).unwrap(),
            json: vec![],
        },
    ];
    let mut calls = Vec::new();
    for _ in 0..FUNCTION_CALLS {
        let t = Instant::now();
        let r = c
            .call_function(pb::call_function::Request {
                name: "spread_zones".into(),
                arguments: args.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(r.error.is_none(), "{:?}", r.error);
        calls.push(t.elapsed());
    }
    let rss_kib = peak_rss_kib(p.child.id());
    drop(p);

    Numbers {
        start: median(starts),
        schema: median(schema),
        call: median(calls),
        plan: plan_time(bin, address),
        rss_kib,
    }
}

/// Median wall time of `terraform plan` on a configuration with 100 function calls.
fn plan_time(bin: &Path, address: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let pdir = dir.path().join("plugins");
    std::fs::create_dir_all(&pdir).unwrap();
    let (ns, name) = address.split_once('/').unwrap();
    std::fs::copy(bin, pdir.join(format!("terraform-provider-{name}"))).unwrap();
    std::fs::write(
        dir.path().join("cli.tfrc"),
        format!("provider_installation {{\n  dev_overrides {{\n    \"{address}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n", pdir.display()),
    )
    .unwrap();
    let mut tf = format!("terraform {{\n  required_providers {{\n    {name} = {{ source = \"{ns}/{name}\" }}\n  }}\n}}\n");
    for i in 0..PLAN_FUNCTION_CALLS {
        tf.push_str(&format!("output \"o{i}\" {{\n  value = provider::{name}::spread_zones({}, [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"])\n}}\n", i % 7 + 1));
    }
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let terraform = std::env::var("TF_ACC_TERRAFORM_PATH").unwrap_or_else(|_| "terraform".into());
    let mut times = Vec::new();
    for _ in 0..PLANS {
        let t = Instant::now();
        let out = Command::new(&terraform)
            .current_dir(dir.path())
            .args(["plan", "-input=false", "-no-color", "-refresh=false"])
            .env("TF_CLI_CONFIG_FILE", dir.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "plan failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        times.push(t.elapsed());
    }
    median(times)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let ours = measure(&ours(), "hastack/hastack").await;
    let base = measure(Path::new(BASELINE), "bench/baseline").await;
    println!("benchmark                                  hastack     tf-provider   ratio (hastack/baseline)");
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!("{name:<42} {a:>9.3}{unit} {b:>9.3}{unit}   {:.2}", a / b)
    };
    row(
        &format!("process start → handshake line (median of {STARTS})"),
        ms(ours.start),
        ms(base.start),
        "ms",
    );
    row(
        &format!("GetProviderSchema round trip (median of {SCHEMA_CALLS})"),
        ms(ours.schema),
        ms(base.schema),
        "ms",
    );
    row(
        &format!("CallFunction round trip (median of {FUNCTION_CALLS})"),
        ms(ours.call),
        ms(base.call),
        "ms",
    );
    row(
        &format!("terraform plan, {PLAN_FUNCTION_CALLS} function calls (median of {PLANS})"),
        ms(ours.plan),
        ms(base.plan),
        "ms",
    );
    row(
        "peak RSS after the calls above",
        ours.rss_kib as f64 / 1024.0,
        base.rss_kib as f64 / 1024.0,
        "MiB",
    );
}
