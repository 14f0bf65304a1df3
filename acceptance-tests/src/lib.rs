//! Acceptance-test harness: drives the real `terraform` CLI against the freshly built
//! provider, step by step, in the style of terraform-plugin-testing.
//!
//! Each test gets its own directory, CLI configuration (`dev_overrides` to our binary), HOME
//! and environment; tests run in parallel. Gated by `TF_ACC=1`. A failed test keeps its
//! directory and prints Terraform's output.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;

pub mod docs;
pub mod emulator;
pub mod schema_compat;
mod state;
pub use state::State;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{0}")]
    Setup(String),
    #[error("step {step}: {message}")]
    Step { step: usize, message: String },
}

/// Where terraform and the provider binary are.
#[derive(Clone, Debug)]
pub struct Harness {
    pub terraform: PathBuf,
    pub provider_dir: PathBuf,
}

/// True when acceptance tests should run (`TF_ACC=1`). In CI they must: there, a run without
/// `TF_ACC` fails instead of passing every acceptance test without running it.
pub fn enabled() -> bool {
    let on = std::env::var("TF_ACC").is_ok_and(|v| !v.is_empty() && v != "0");
    if !on {
        let thread = std::thread::current();
        let test = thread.name().unwrap_or("an acceptance test");
        cannot_run(test, "set TF_ACC=1 to run acceptance tests");
    }
    on
}

/// Whether every test must run: in CI (`CI=true`) or with `HASTACK_REQUIRE_ALL=1`.
pub fn require_all() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("HASTACK_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Whether this is the second Terraform version's pass (`HASTACK_ACC_SECOND_PASS=1`, set by
/// `scripts/test.sh` for the oldest supported Terraform). The data tier's `_basic` tests then
/// run the steps whose outcome can depend on Terraform (create, import, a planned switchover,
/// a write-only password, destroy, the secrets scan) and leave out those that only exercise the
/// provider's own work (members moved to new instances, a member added and removed), which
/// the first pass runs.
pub fn second_pass() -> bool {
    std::env::var("HASTACK_ACC_SECOND_PASS").is_ok_and(|v| v == "1")
}

/// A test that cannot run here (no root, no hosts, an old Terraform): in CI a failure, never
/// a pass; elsewhere a `SKIPPED` line that `scripts/test.sh` counts in its closing line.
pub fn cannot_run(test: &str, reason: &str) {
    if require_all() {
        panic!("{test} cannot run here: {reason}. CI runs every test: provide what it needs (scripts/setup.sh, root).");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

/// A measured figure (write loss, RTO, latency, API calls): printed like any test output, and
/// also appended to the file `HASTACK_FIGURES` names, which `scripts/test.sh` prints at the end
/// of a run (cargo captures a passing test's output, and the figures are what a run is for).
pub fn figure(line: &str) {
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("HASTACK_FIGURES") {
        use std::io::Write;
        let test = std::thread::current()
            .name()
            .unwrap_or("?")
            .rsplit("::")
            .next()
            .unwrap_or("?")
            .to_string();
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{test}: {}", line.replace('\n', "\n    "));
        }
    }
}

/// [`figure`] with `format!` arguments.
#[macro_export]
macro_rules! figure {
    ($($arg:tt)*) => {
        $crate::figure(&format!($($arg)*))
    };
}

fn find_terraform() -> Result<PathBuf, HarnessError> {
    if let Ok(p) = std::env::var("TF_ACC_TERRAFORM_PATH") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            HarnessError::Setup(
                "no terraform on PATH and TF_ACC_TERRAFORM_PATH unset; run scripts/setup.sh".into(),
            )
        })
}

/// The directory holding `terraform-provider-hastack`: `HASTACK_PROVIDER_DIR`, else the
/// cargo target directory this test binary was built in.
fn find_provider_dir() -> Result<PathBuf, HarnessError> {
    if let Ok(p) = std::env::var("HASTACK_PROVIDER_DIR") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| HarnessError::Setup(e.to_string()))?;
    // <target>/<profile>/deps/<test-binary>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| HarnessError::Setup("cannot locate target dir".into()))?;
    if dir.join("terraform-provider-hastack").is_file() {
        Ok(dir.to_path_buf())
    } else {
        Err(HarnessError::Setup(format!(
            "{} has no terraform-provider-hastack; run `cargo build -p terraform-provider-hastack` first",
            dir.display()
        )))
    }
}

impl Harness {
    /// The (major, minor) version of the terraform the tests run, e.g. (1, 15).
    pub fn terraform_version(&self) -> Option<(u32, u32)> {
        let out = Command::new(&self.terraform)
            .args(["version", "-json"])
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .ok()?;
        let j: Json = serde_json::from_slice(&out.stdout).ok()?;
        let mut parts = j["terraform_version"].as_str()?.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    }

    pub fn get() -> Result<&'static Harness, HarnessError> {
        static H: OnceLock<Result<Harness, String>> = OnceLock::new();
        H.get_or_init(|| {
            Ok(Harness {
                terraform: find_terraform().map_err(|e| e.to_string())?,
                provider_dir: find_provider_dir().map_err(|e| e.to_string())?,
            })
        })
        .as_ref()
        .map_err(|e| HarnessError::Setup(e.clone()))
    }
}

/// The version the filesystem mirror advertises for the freshly built provider: the
/// workspace's (one version string, in Cargo.toml).
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

type Check = Box<dyn Fn(&State) -> Result<(), String>>;

/// One step: apply a configuration (or expect it to fail), then check.
pub struct Step {
    config: String,
    expect_error: Option<Regex>,
    check: Option<Check>,
    import: Option<ImportStep>,
    env: Vec<(String, String)>,
    expect_drift: bool,
}

struct ImportStep {
    address: String,
    id: String,
    ignore: Vec<String>,
}

impl Step {
    pub fn new(config: impl Into<String>) -> Self {
        Step {
            config: config.into(),
            expect_error: None,
            check: None,
            import: None,
            env: Vec::new(),
            expect_drift: false,
        }
    }
    /// The plan (or apply) must fail with output matching `pattern`.
    pub fn expect_error(mut self, pattern: &str) -> Self {
        self.expect_error = Some(Regex::new(pattern).expect("valid regex"));
        self
    }
    pub fn check(mut self, f: impl Fn(&State) -> Result<(), String> + 'static) -> Self {
        self.check = Some(Box::new(f));
        self
    }
    /// After apply, import `address` by `id` into a fresh state and compare attributes.
    pub fn import_verify(mut self, address: &str, id: &str, ignore: &[&str]) -> Self {
        self.import = Some(ImportStep {
            address: address.into(),
            id: id.into(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
        });
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// The check changes the world behind Terraform's back (e.g. deletes the resource): the
    /// refreshed plan must then show changes instead of being empty.
    pub fn expect_drift(mut self) -> Self {
        self.expect_drift = true;
        self
    }
}

/// A test: steps run in order in one working directory, then destroy.
pub struct TestCase {
    name: String,
    steps: Vec<Step>,
    env: Vec<(String, String)>,
    check_destroy: Option<Check>,
    check_output: Option<OutputCheck>,
    files: Vec<(String, String)>,
    init: bool,
}

/// A check of what the run left behind before its destroy: the working directory (state file,
/// logs the test asked Terraform to write) and every command's output so far.
type OutputCheck = Box<dyn Fn(&Path, &str) -> Result<(), String>>;

impl TestCase {
    pub fn new(name: &str) -> Self {
        TestCase {
            name: name.into(),
            steps: Vec::new(),
            env: Vec::new(),
            check_destroy: None,
            check_output: None,
            files: Vec::new(),
            init: false,
        }
    }
    pub fn step(mut self, s: Step) -> Self {
        self.steps.push(s);
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// An extra file in the working directory (e.g. a shared credentials file).
    pub fn file(mut self, name: &str, content: &str) -> Self {
        self.files.push((name.into(), content.into()));
        self
    }
    /// Install the provider the way users do: from a local filesystem mirror, with
    /// `terraform init` (instead of `dev_overrides`, which needs no init).
    pub fn with_init(mut self) -> Self {
        self.init = true;
        self
    }
    pub fn check_destroy(mut self, f: impl Fn(&State) -> Result<(), String> + 'static) -> Self {
        self.check_destroy = Some(Box::new(f));
        self
    }

    /// After the last step, before the destroy: `f(working directory, every command's output)`.
    pub fn check_output(mut self, f: impl Fn(&Path, &str) -> Result<(), String> + 'static) -> Self {
        self.check_output = Some(Box::new(f));
        self
    }

    /// Run the test; panics with Terraform's output on failure. Skips (with a note) unless TF_ACC is set.
    pub fn run(self) {
        if !enabled() {
            return;
        }
        let h = Harness::get().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::Builder::new()
            .prefix(&format!("hastack-acc-{}-", self.name))
            .tempdir()
            .expect("tempdir");
        let mut run = Run {
            h,
            dir: dir.path().to_path_buf(),
            env: self.env.clone(),
            log: String::new(),
        };
        run.setup(&self.files, self.init);
        match run.steps(&self) {
            Ok(()) => {}
            Err(e) => {
                let kept = dir.keep();
                panic!("acceptance test {} failed: {e}\nworking directory kept at {}\n--- terraform output ---\n{}", self.name, kept.display(), run.log);
            }
        }
    }
}

/// A bare working directory with the provider installed (dev_overrides), for benchmarks and
/// checks that drive terraform commands one by one.
pub struct Workdir {
    run: Run<'static>,
    _dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new(name: &str, env: Vec<(String, String)>) -> Result<Workdir, HarnessError> {
        let h = Harness::get()?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("hastack-{name}-"))
            .tempdir()
            .map_err(|e| HarnessError::Setup(e.to_string()))?;
        let mut run = Run {
            h,
            dir: dir.path().to_path_buf(),
            env,
            log: String::new(),
        };
        run.setup(&[], false);
        Ok(Workdir { run, _dir: dir })
    }

    pub fn write(&self, name: &str, content: &str) {
        let path = self.run.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directory");
        }
        std::fs::write(path, content).expect("write file");
    }

    /// The working directory Terraform runs in.
    pub fn path(&self) -> &Path {
        &self.run.dir
    }

    /// Run terraform with `args`: its stdout, or its stderr when it failed.
    pub fn terraform(&mut self, args: &[&str]) -> Result<String, String> {
        let dir = self.run.dir.clone();
        self.run.ok(&dir, args, &[])
    }

    /// Run terraform with `args` whatever its exit status: (status code, stdout, stderr).
    pub fn terraform_output(&mut self, args: &[&str]) -> (Option<i32>, String, String) {
        let dir = self.run.dir.clone();
        let out = self.run.terraform(&dir, args, &[]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Start terraform with `args` and `env` without waiting for it (for tests that signal it):
    /// its stdout and stderr go to `<name>.out` and `<name>.err` in the work dir.
    pub fn spawn(
        &mut self,
        name: &str,
        args: &[&str],
        env: &[(String, String)],
    ) -> std::io::Result<std::process::Child> {
        let dir = self.run.dir.clone();
        let mut cmd = self.run.command(&dir, args, env);
        cmd.stdout(std::fs::File::create(dir.join(format!("{name}.out")))?)
            .stderr(std::fs::File::create(dir.join(format!("{name}.err")))?);
        self.run
            .log
            .push_str(&format!("$ terraform {} (started)\n", args.join(" ")));
        cmd.spawn()
    }

    /// Everything terraform printed so far.
    pub fn log(&self) -> &str {
        &self.run.log
    }
}

struct Run<'a> {
    h: &'a Harness,
    dir: PathBuf,
    env: Vec<(String, String)>,
    log: String,
}

impl Run<'_> {
    fn setup(&mut self, files: &[(String, String)], init: bool) {
        let cli = if init {
            let mirror = self.dir.join("mirror");
            let pkg = mirror.join(format!(
                "registry.terraform.io/hastack/hastack/{VERSION}/{}",
                platform()
            ));
            std::fs::create_dir_all(&pkg).expect("mirror dir");
            std::fs::copy(
                self.h.provider_dir.join("terraform-provider-hastack"),
                pkg.join(format!("terraform-provider-hastack_v{VERSION}")),
            )
            .expect("copy provider into mirror");
            // No `direct` source: init never reaches for the network.
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
                mirror.display()
            )
        } else {
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"hastack/hastack\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                self.h.provider_dir.display()
            )
        };
        std::fs::write(self.dir.join("cli.tfrc"), cli).expect("write cli config");
        std::fs::create_dir_all(self.dir.join("home")).expect("home");
        for (name, content) in files {
            std::fs::write(self.dir.join(name), content).expect("write file");
        }
    }

    fn terraform(&mut self, dir: &Path, args: &[&str], step_env: &[(String, String)]) -> Output {
        let out = self
            .command(dir, args, step_env)
            .output()
            .expect("run terraform");
        self.log.push_str(&format!(
            "$ terraform {} (exit {})\n{}{}\n",
            args.join(" "),
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        out
    }

    /// The terraform command for `args` in `dir`, in the test's clean environment.
    fn command(&self, dir: &Path, args: &[&str], step_env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(&self.h.terraform);
        cmd.current_dir(dir).args(args);
        // A clean, offline environment: no developer credentials, no instance metadata calls.
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("TF_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("TF_CLI_CONFIG_FILE", self.dir.join("cli.tfrc"))
            .env("HOME", self.dir.join("home"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in self.env.iter().chain(step_env) {
            cmd.env(k, v);
        }
        cmd
    }

    fn ok(
        &mut self,
        dir: &Path,
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<String, String> {
        let out = self.terraform(dir, args, env);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "terraform {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn state(&mut self, dir: &Path, env: &[(String, String)]) -> Result<State, String> {
        let text = self.ok(dir, &["show", "-json", "-no-color"], env)?;
        let j: Json =
            serde_json::from_str(&text).map_err(|e| format!("terraform show -json: {e}"))?;
        Ok(State::new(j))
    }

    fn empty_plan(&mut self, refresh: bool, env: &[(String, String)]) -> Result<(), String> {
        let dir = self.dir.clone();
        let mut args = vec!["plan", "-input=false", "-no-color", "-detailed-exitcode"];
        if !refresh {
            args.push("-refresh=false");
        }
        let out = self.terraform(&dir, &args, env);
        match out.status.code() {
            Some(0) => Ok(()),
            Some(2) => Err(format!(
                "plan after apply is not empty (refresh={refresh}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )),
            _ => Err(format!(
                "plan failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    fn drift_plan(&mut self, env: &[(String, String)]) -> Result<(), String> {
        let dir = self.dir.clone();
        let out = self.terraform(
            &dir,
            &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
            env,
        );
        match out.status.code() {
            Some(2) => Ok(()),
            Some(0) => Err(
                "expected the refreshed plan to show the out-of-band change, but it is empty"
                    .into(),
            ),
            _ => Err(format!(
                "plan failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    fn steps(&mut self, tc: &TestCase) -> Result<(), HarnessError> {
        let dir = self.dir.clone();
        let mut applied = false;
        for (i, step) in tc.steps.iter().enumerate() {
            let fail = |message: String| HarnessError::Step {
                step: i + 1,
                message,
            };
            std::fs::write(dir.join("main.tf"), &step.config).map_err(|e| fail(e.to_string()))?;
            if tc.init && i == 0 {
                self.ok(&dir, &["init", "-input=false", "-no-color"], &step.env)
                    .map_err(fail)?;
            }
            if let Some(re) = &step.expect_error {
                let out = self.terraform(
                    &dir,
                    &["apply", "-auto-approve", "-input=false", "-no-color"],
                    &step.env,
                );
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                if out.status.success() {
                    return Err(fail(format!(
                        "expected an error matching {re}, but apply succeeded"
                    )));
                }
                // Terraform wraps long messages: match the text with whitespace runs folded too.
                let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if !re.is_match(&text) && !re.is_match(&folded) {
                    return Err(fail(format!("error output does not match {re}")));
                }
                // A failed apply may still have created something (kept in state): then the
                // test ends with a destroy as usual. A check sees the state it left.
                let st = self.state(&dir, &step.env).map_err(fail)?;
                if let Some(check) = &step.check {
                    check(&st).map_err(fail)?;
                }
                if !st.resources().is_empty() {
                    applied = true;
                }
                continue;
            }
            self.ok(&dir, &["validate", "-no-color"], &step.env)
                .map_err(fail)?;
            self.ok(
                &dir,
                &["apply", "-auto-approve", "-input=false", "-no-color"],
                &step.env,
            )
            .map_err(fail)?;
            applied = true;
            let st = self.state(&dir, &step.env).map_err(fail)?;
            if let Some(check) = &step.check {
                check(&st).map_err(fail)?;
            }
            if step.expect_drift {
                self.drift_plan(&step.env).map_err(fail)?;
                continue;
            }
            self.empty_plan(false, &step.env).map_err(fail)?;
            self.empty_plan(true, &step.env).map_err(fail)?;
            if let Some(imp) = &step.import {
                self.import_verify(imp, &st, &step.env).map_err(fail)?;
            }
        }
        if let Some(c) = &tc.check_output {
            c(&dir, &self.log).map_err(|m| HarnessError::Step {
                step: tc.steps.len(),
                message: format!("output check: {m}"),
            })?;
        }
        if applied {
            let env = tc.steps.last().map(|s| s.env.clone()).unwrap_or_default();
            self.ok(
                &dir,
                &["destroy", "-auto-approve", "-input=false", "-no-color"],
                &env,
            )
            .map_err(|m| HarnessError::Step {
                step: tc.steps.len() + 1,
                message: m,
            })?;
            let st = self.state(&dir, &env).map_err(|m| HarnessError::Step {
                step: tc.steps.len() + 1,
                message: m,
            })?;
            if !st.resources().is_empty() {
                return Err(HarnessError::Step {
                    step: tc.steps.len() + 1,
                    message: "resources left in state after destroy".into(),
                });
            }
            if let Some(c) = &tc.check_destroy {
                c(&st).map_err(|m| HarnessError::Step {
                    step: tc.steps.len() + 1,
                    message: m,
                })?;
            }
        }
        Ok(())
    }

    fn import_verify(
        &mut self,
        imp: &ImportStep,
        applied: &State,
        env: &[(String, String)],
    ) -> Result<(), String> {
        let idir = self.dir.join("import");
        std::fs::create_dir_all(&idir).map_err(|e| e.to_string())?;
        std::fs::copy(self.dir.join("main.tf"), idir.join("main.tf")).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(idir.join("terraform.tfstate"));
        self.ok(
            &idir,
            &["import", "-input=false", "-no-color", &imp.address, &imp.id],
            env,
        )?;
        let imported = self.state(&idir, env)?;
        let want = applied
            .resource(&imp.address)
            .ok_or("applied state lacks the resource")?;
        let got = imported
            .resource(&imp.address)
            .ok_or("imported state lacks the resource")?;
        state::compare(want, got, &imp.ignore)
    }
}

/// The live `terraform providers schema -json` of the freshly built provider.
pub fn live_provider_schema() -> Result<Json, HarnessError> {
    let h = Harness::get()?;
    let dir = tempfile::Builder::new()
        .prefix("hastack-schema-")
        .tempdir()
        .map_err(|e| HarnessError::Setup(e.to_string()))?;
    let mut run = Run {
        h,
        dir: dir.path().to_path_buf(),
        env: Vec::new(),
        log: String::new(),
    };
    run.setup(&[], false);
    std::fs::write(dir.path().join("main.tf"), "terraform {\n  required_providers {\n    hastack = { source = \"hastack/hastack\" }\n  }\n}\n")
        .map_err(|e| HarnessError::Setup(e.to_string()))?;
    let path = dir.path().to_path_buf();
    let text = run
        .ok(&path, &["providers", "schema", "-json"], &[])
        .map_err(|m| HarnessError::Setup(format!("{m}\n{}", run.log)))?;
    serde_json::from_str(&text).map_err(|e| HarnessError::Setup(format!("schema JSON: {e}")))
}

/// Path of the committed schema snapshot.
pub fn snapshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/hastack.json")
}
