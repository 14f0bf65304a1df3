//! The plugin binary Terraform launches.
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use terraform_provider_hastack::{env::OsEnv, HastackProvider, ADDRESS};
use tfplugin::plugin::{serve, PluginError, ServeOptions};

#[derive(Parser)]
#[command(
    name = "terraform-provider-hastack",
    version,
    about = "Terraform provider for a highly available web stack on AWS Lightsail"
)]
struct Args {
    /// Serve without TLS for a debugger and print a TF_REATTACH_PROVIDERS line.
    #[arg(long)]
    debug: bool,
}

/// Targets capped whatever the level: at trace the AWS SDK prints raw response bodies and
/// `Debug` of whole outputs, which carry secrets (a CreateActivation answer holds the
/// activation code). `aws` matches every target that starts with it — every `aws_*` crate,
/// present and future — so none of them logs above debug.
const SECRET_SAFE: &str = "h2=warn,hyper=warn,tower=warn,rustls=warn,aws=debug";

fn init_logging() {
    // Terraform reads plugin stderr; TF_LOG_PROVIDER / TF_LOG pick the level.
    let level = ["TF_LOG_PROVIDER_HASTACK", "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|v| match v.to_ascii_lowercase().as_str() {
            "trace" | "json" => "trace",
            "debug" => "debug",
            "info" => "info",
            "warn" => "warn",
            _ => "error",
        })
        .unwrap_or("warn");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "{level},{SECRET_SAFE}"
        )))
        .try_init();
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let env = Arc::new(OsEnv);
    let provider = HastackProvider::new(env.clone());
    let opts = ServeOptions {
        address: ADDRESS.to_string(),
        debug: args.debug,
    };
    match rt.block_on(serve(provider, opts, env.as_ref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(PluginError::NotLaunchedByTerraform) => {
            eprintln!("{}", tfplugin::plugin::handshake::NOT_A_PLUGIN_MESSAGE);
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("terraform-provider-hastack: {e}");
            ExitCode::FAILURE
        }
    }
}
