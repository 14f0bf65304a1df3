//! `hastack-local`: run the emulator (`serve`, `up`/`down` in the background) and talk to its
//! admin API (`status`, `faults`, `calls`, `disappear`).
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use hastack_local::clock::SystemClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::{Emulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use http_body_util::{BodyExt, Full};
use serde_json::Value as Json;

#[derive(Parser)]
#[command(
    name = "hastack-local",
    version,
    about = "Offline AWS stand-in for hastack: Lightsail, SSM, CloudWatch Logs, CloudWatch and STS, with instances as real hosts"
)]
struct Cli {
    /// Where `up` keeps its pid, port and log files.
    #[arg(long, global = true, default_value_os_t = default_state_dir())]
    state_dir: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve in the foreground.
    Serve(ServeArgs),
    /// Start in the background and print the environment to export.
    Up(ServeArgs),
    /// Show whether it runs, its profile and what it serves.
    Status,
    /// Stop the background emulator and wait until it is gone.
    Down,
    /// Inject, list or clear faults.
    Faults {
        #[command(subcommand)]
        action: FaultCmd,
    },
    /// API calls per operation since start (or the last reset), and the faults injected into them.
    Calls,
    /// What exists, per account and region.
    State,
    /// The hosts behind instances, with their addresses and boot output.
    Hosts,
    /// Where each load balancer listens (`http://127.0.0.1:PORT`).
    LoadBalancers,
    /// Take a host down or bring it back: stop (all its processes die), start, partition
    /// (its traffic dropped), restore.
    Outage {
        /// stop | start | partition | restore
        action: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
    /// Stop every host in an availability zone.
    FailZone {
        #[arg(long)]
        zone: String,
    },
    /// Forget every resource, fault and call count.
    Reset,
    /// Delete a resource behind the provider's back.
    Disappear {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    #[arg(long, default_value_t = 4566)]
    port: u16,
    /// `fast` (tests) or `realistic` (demos, benchmarks).
    #[arg(long, default_value = "fast")]
    profile: String,
    /// Do not turn instances into real hosts (network and mount namespaces; needs root).
    #[arg(long)]
    no_hosts: bool,
}

#[derive(Subcommand)]
enum FaultCmd {
    /// e.g. `faults add --operation Lightsail.CreateInstances --fault throttling --count 2`, or
    /// `faults add --operation '*' --fault service_unavailable --rate 0.2 --seed 7`
    Add {
        /// `Service.Operation`, or `*` for every operation.
        #[arg(long)]
        operation: String,
        /// throttling | service_unavailable | internal_failure | fail_operation | latency
        #[arg(long)]
        fault: String,
        #[arg(long)]
        count: Option<u32>,
        #[arg(long)]
        error_code: Option<String>,
        #[arg(long, default_value = "")]
        error_details: String,
        #[arg(long)]
        millis: Option<u64>,
        /// Hit this share of the matching calls (0 < rate <= 1) instead of every one.
        #[arg(long)]
        rate: Option<f64>,
        /// Seed for the rate's draws (the same seed gives the same faults); chosen when absent.
        #[arg(long)]
        seed: Option<u64>,
    },
    List,
    Clear,
}

fn default_state_dir() -> PathBuf {
    std::env::temp_dir().join("hastack-local")
}

async fn serve(dir: &Path, args: &ServeArgs) -> Result<()> {
    let profile = LatencyProfile::by_name(&args.profile)
        .with_context(|| format!("unknown profile {:?}: use fast or realistic", args.profile))?;
    let mut emu = Emulator::new(profile, Arc::new(SystemClock));
    if !args.no_hosts {
        emu = emu.with_hosts(dir.to_path_buf());
    }
    if let Err(reason) = emu.hosts.availability() {
        eprintln!("hastack-local: instances will not be hosts: {reason}");
    }
    let running = hastack_local::server::start(emu, args.port)
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    eprintln!(
        "hastack-local listening on {} (profile {})",
        running.endpoint(),
        args.profile
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    running.stop().await;
    Ok(())
}

/// One admin API call over loopback HTTP/1.1.
async fn admin(port: u16, method: &str, path: &str, body: Option<Json>) -> Result<(u16, Json)> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let bytes = body
        .map(|b| serde_json::to_vec(&b))
        .transpose()?
        .unwrap_or_default();
    let req = hyper::Request::builder()
        .method(method)
        .uri(format!("/_hastack/{path}"))
        .header("host", format!("127.0.0.1:{port}"))
        .body(Full::new(bytes::Bytes::from(bytes)))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&body).unwrap_or(Json::Null)))
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .map(|s| s.trim().to_string())
}

fn running_port(dir: &Path) -> Result<u16> {
    read(dir, "port")
        .and_then(|p| p.parse().ok())
        .context("hastack-local is not running (no port file); start it with `hastack-local up`")
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

async fn up(dir: &Path, args: &ServeArgs) -> Result<()> {
    if let Some(pid) = read(dir, "pid").and_then(|p| p.parse::<u32>().ok()) {
        if alive(pid) {
            bail!("hastack-local already runs (pid {pid}); `hastack-local down` first");
        }
    }
    std::fs::create_dir_all(dir)?;
    let log = std::fs::File::create(dir.join("hastack-local.log"))?;
    let exe = std::env::current_exe()?;
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .args([
                "serve",
                "--port",
                &args.port.to_string(),
                "--profile",
                &args.profile,
            ])
            .args(args.no_hosts.then_some("--no-hosts"))
            .arg("--state-dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()?
    };
    std::fs::write(dir.join("pid"), child.id().to_string())?;
    std::fs::write(dir.join("port"), args.port.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while admin(args.port, "GET", "status", None).await.is_err() {
        if Instant::now() > deadline || !alive(child.id()) {
            let log = std::fs::read_to_string(dir.join("hastack-local.log")).unwrap_or_default();
            let _ = std::fs::remove_file(dir.join("pid"));
            let _ = std::fs::remove_file(dir.join("port"));
            bail!("hastack-local did not start:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "# hastack-local is up (pid {}, profile {}). Export:",
        child.id(),
        args.profile
    );
    println!("export AWS_ENDPOINT_URL=http://127.0.0.1:{}", args.port);
    println!("export AWS_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY}");
    println!("export AWS_SECRET_ACCESS_KEY={DEFAULT_SECRET_KEY}");
    println!("export AWS_REGION=us-east-1");
    Ok(())
}

async fn down(dir: &Path) -> Result<()> {
    let Some(pid) = read(dir, "pid").and_then(|p| p.parse::<u32>().ok()) else {
        println!("hastack-local is not running");
        return Ok(());
    };
    if alive(pid) {
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(pid) {
            if Instant::now() > deadline {
                Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for f in ["pid", "port"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    println!("hastack-local stopped (pid {pid})");
    Ok(())
}

fn print(j: &Json) {
    println!("{}", serde_json::to_string_pretty(j).unwrap_or_default());
}

async fn run(cli: Cli) -> Result<()> {
    let dir = &cli.state_dir;
    match cli.cmd {
        Cmd::Serve(a) => serve(dir, &a).await,
        Cmd::Up(a) => up(dir, &a).await,
        Cmd::Down => down(dir).await,
        Cmd::Status => {
            let (_, j) = admin(running_port(dir)?, "GET", "status", None)
                .await
                .context("hastack-local does not answer")?;
            print(&j);
            Ok(())
        }
        Cmd::State => {
            print(&admin(running_port(dir)?, "GET", "state", None).await?.1);
            Ok(())
        }
        Cmd::Hosts => {
            print(&admin(running_port(dir)?, "GET", "hosts", None).await?.1);
            Ok(())
        }
        Cmd::LoadBalancers => {
            print(
                &admin(running_port(dir)?, "GET", "load-balancers", None)
                    .await?
                    .1,
            );
            Ok(())
        }
        Cmd::Outage {
            action,
            name,
            region,
        } => {
            if !["stop", "start", "partition", "restore"].contains(&action.as_str()) {
                bail!("outage action must be stop, start, partition or restore");
            }
            let (status, j) = admin(
                running_port(dir)?,
                "POST",
                &format!("hosts/{action}"),
                Some(serde_json::json!({"name": name, "region": region})),
            )
            .await?;
            print(&j);
            if status != 200 {
                bail!("admin API answered {status}");
            }
            Ok(())
        }
        Cmd::FailZone { zone } => {
            print(
                &admin(
                    running_port(dir)?,
                    "POST",
                    "hosts/fail-zone",
                    Some(serde_json::json!({"zone": zone})),
                )
                .await?
                .1,
            );
            Ok(())
        }
        Cmd::Reset => {
            print(&admin(running_port(dir)?, "POST", "reset", None).await?.1);
            Ok(())
        }
        Cmd::Calls => {
            let port = running_port(dir)?;
            let calls = admin(port, "GET", "calls", None).await?.1;
            let injected = admin(port, "GET", "faults/injected", None).await?.1;
            print(&serde_json::json!({"calls": calls, "faults_injected": injected}));
            Ok(())
        }
        Cmd::Faults { action } => {
            let port = running_port(dir)?;
            let (status, j) = match action {
                FaultCmd::Add {
                    operation,
                    fault,
                    count,
                    error_code,
                    error_details,
                    millis,
                    rate,
                    seed,
                } => {
                    let mut f = serde_json::json!({"operation": operation, "fault": fault});
                    if let Some(c) = count {
                        f["count"] = c.into();
                    }
                    if let Some(c) = error_code {
                        f["error_code"] = c.into();
                        f["error_details"] = error_details.into();
                    }
                    if let Some(m) = millis {
                        f["millis"] = m.into();
                    }
                    if let Some(r) = rate {
                        f["rate"] = r.into();
                    }
                    if let Some(s) = seed {
                        f["seed"] = s.into();
                    }
                    admin(port, "POST", "faults", Some(f)).await?
                }
                FaultCmd::List => admin(port, "GET", "faults", None).await?,
                FaultCmd::Clear => admin(port, "DELETE", "faults", None).await?,
            };
            print(&j);
            if status != 200 {
                bail!("admin API answered {status}");
            }
            Ok(())
        }
        Cmd::Disappear { kind, name, region } => {
            let (status, j) = admin(
                running_port(dir)?,
                "POST",
                "disappear",
                Some(serde_json::json!({"kind": kind, "name": name, "region": region})),
            )
            .await?;
            print(&j);
            if status != 200 {
                bail!("admin API answered {status}");
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("HASTACK_LOCAL_LOG"))
        .try_init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hastack-local: {e:#}");
            ExitCode::FAILURE
        }
    }
}
