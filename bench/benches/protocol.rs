//! Protocol benchmark: terraform-provider-hastack (our tfplugin) against a minimal provider
//! on tf-provider 0.2.2, measured in the same run on the same machine. Prints ratios
//! (ours / baseline: below 1.0 means we are faster or smaller). No assertions: numbers.
//!
//! Run with `scripts/bench.sh` (builds both in release mode first).
//!
//! Both providers are measured over plaintext gRPC: tf-provider 0.2.2 cannot complete a
//! TLS handshake with Terraform's AutoMTLS client certificate (it carries the CA bit, which
//! webpki rejects as an end-entity), so Terraform cannot launch it. For `terraform plan` both
//! are started by the benchmark and attached with TF_REATTACH_PROVIDERS. Our AutoMTLS numbers
//! (how Terraform always starts a provider) are printed on their own, with their ratios to the
//! baseline's plaintext ones, since that is the baseline's best case.
//!
//! `HASTACK_BENCH_PROVIDER=<path>` measures another build of our provider (e.g. a saved copy
//! of the previous one) instead of `<target>/release/terraform-provider-hastack`.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tfplugin::client::{client_identity, launch_with, provider_client, Plugin};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::{Type, Value};

const BASELINE: &str = env!("CARGO_BIN_EXE_terraform-provider-baseline");
const STARTS: usize = 20;
const SCHEMA_CALLS: usize = 300;
const FUNCTION_CALLS: usize = 1000;
const PLANS: usize = 5;
const PLAN_FUNCTION_CALLS: usize = 100;

fn ours() -> PathBuf {
    if let Some(p) = std::env::var_os("HASTACK_BENCH_PROVIDER") {
        return PathBuf::from(p);
    }
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
    /// Process start to the first GetProviderSchema answer on a new connection: with AutoMTLS
    /// this includes the TLS handshake, which Terraform always waits for next.
    first_call: Duration,
    schema: Duration,
    call: Duration,
    plan: Duration,
    rss_kib: u64,
}

async fn measure(bin: &Path, address: &str, tls: bool) -> Numbers {
    let bin_s = bin.to_str().unwrap();
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let id = tls.then(client_identity);
        let t = Instant::now();
        let p = launch_with(bin_s, &[], id);
        starts.push(t.elapsed());
        drop(p);
    }
    let mut first_calls = Vec::new();
    for _ in 0..STARTS {
        let id = tls.then(client_identity);
        let t = Instant::now();
        let p = launch_with(bin_s, &[], id);
        provider_client(&p)
            .await
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .unwrap();
        first_calls.push(t.elapsed());
        drop(p);
    }

    let p: Plugin = launch_with(bin_s, &[], tls.then(client_identity));
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
        first_call: median(first_calls),
        schema: median(schema),
        call: median(calls),
        plan: plan_time(bin, address),
        rss_kib,
    }
}

/// Median wall time of `terraform plan` on a configuration with 100 function calls, with the
/// provider started here and attached through TF_REATTACH_PROVIDERS.
fn plan_time(bin: &Path, address: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let (ns, name) = address.split_once('/').unwrap();
    let p = launch_with(bin.to_str().unwrap(), &[], None);
    let reattach = serde_json::json!({
        format!("registry.terraform.io/{address}"): {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": p.child.id(),
            "Test": true,
            "Addr": { "Network": p.handshake.network, "String": p.handshake.address },
        }
    });
    let mut tf = format!("terraform {{\n  required_providers {{\n    {name} = {{ source = \"{ns}/{name}\" }}\n  }}\n}}\n");
    for i in 0..PLAN_FUNCTION_CALLS {
        tf.push_str(&format!("output \"o{i}\" {{\n  value = provider::{name}::spread_zones({}, [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"])\n}}\n", i % 7 + 1));
    }
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    std::fs::write(dir.path().join("cli.tfrc"), "").unwrap();
    let terraform = std::env::var("TF_ACC_TERRAFORM_PATH").unwrap_or_else(|_| "terraform".into());
    let mut times = Vec::new();
    for _ in 0..PLANS {
        let t = Instant::now();
        let out = Command::new(&terraform)
            .current_dir(dir.path())
            .args(["plan", "-input=false", "-no-color", "-refresh=false"])
            .env("TF_CLI_CONFIG_FILE", dir.path().join("cli.tfrc"))
            .env("TF_REATTACH_PROVIDERS", reattach.to_string())
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
    drop(p);
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
    let ours_tls = measure(&ours(), "hastack/hastack", true).await;
    let ours = measure(&ours(), "hastack/hastack", false).await;
    let base = measure(Path::new(BASELINE), "bench/baseline", false).await;
    println!(
        "{:<52} {:>11} {:>11}   ratio (hastack/baseline)",
        "benchmark (plaintext gRPC, release builds)", "hastack", "tf-provider"
    );
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!("{name:<52} {a:>9.3}{unit} {b:>9.3}{unit}   {:.2}", a / b)
    };
    row(
        &format!("process start → handshake line (median of {STARTS})"),
        ms(ours.start),
        ms(base.start),
        "ms",
    );
    row(
        &format!("start → first GetProviderSchema answer (median of {STARTS})"),
        ms(ours.first_call),
        ms(base.first_call),
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
    println!(
        "\n{:<52} {:>11} {:>11}   ratio (hastack AutoMTLS/baseline plaintext)",
        "hastack with AutoMTLS, as Terraform runs it", "hastack", "tf-provider"
    );
    row(
        "process start → handshake line",
        ms(ours_tls.start),
        ms(base.start),
        "ms",
    );
    row(
        "start → first GetProviderSchema (with TLS handshake)",
        ms(ours_tls.first_call),
        ms(base.first_call),
        "ms",
    );
    row(
        "GetProviderSchema round trip",
        ms(ours_tls.schema),
        ms(base.schema),
        "ms",
    );
    row(
        "CallFunction round trip",
        ms(ours_tls.call),
        ms(base.call),
        "ms",
    );
    row(
        "peak RSS after the calls above",
        ours_tls.rss_kib as f64 / 1024.0,
        base.rss_kib as f64 / 1024.0,
        "MiB",
    );
}
