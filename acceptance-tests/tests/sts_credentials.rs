//! The provider's credentials through STS on hastack-local: the `assume_role` block, and the web
//! identity variables Terraform Cloud's dynamic credentials set (AWS_ROLE_ARN +
//! AWS_WEB_IDENTITY_TOKEN_FILE, no keys). Either way the resources land in the role's account.
use acceptance_tests::emulator::Emulator;
use acceptance_tests::{Step, TestCase};
use serde_json::json;

const ROLE_ACCOUNT: &str = "210987654321";

/// base64url without padding (JWT segments); this test's only need for it.
fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn config(provider_body: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    hastack = {{ source = "hastack/hastack" }}
  }}
}}
provider "hastack" {{
{provider_body}
}}
resource "hastack_lightsail_load_balancer" "front" {{
  name          = "via-sts"
  instance_port = 80
}}
"#
    )
}

/// The load balancer is in the role's account, STS was called as `operation`, and hastack-local
/// saw every Lightsail call signed with the temporary credentials of `role/session` (an `ASIA`
/// access key), none with the long-term keys.
fn in_role_account(
    e: &Emulator,
    operation: &'static str,
    role_session: &'static str,
) -> impl Fn(&acceptance_tests::State) -> Result<(), String> {
    let admin = Emulator::admin_on(e.port);
    move |s| {
        let arn = s
            .resource("hastack_lightsail_load_balancer.front")
            .and_then(|r| r["arn"].as_str().map(str::to_string))
            .ok_or("no load balancer")?;
        if !arn.starts_with(&format!("arn:aws:lightsail:us-east-1:{ROLE_ACCOUNT}:")) {
            return Err(format!("{arn} is not in the role's account"));
        }
        let (_, state) = admin("GET", "state", &json!({}));
        let lbs = &state[format!("{ROLE_ACCOUNT}/us-east-1")]["lightsail"]["load_balancers"];
        if *lbs != json!(["via-sts"]) {
            return Err(format!(
                "role account's load balancers: {lbs}; state {state}"
            ));
        }
        let (_, calls) = admin("GET", "calls", &json!({}));
        if calls[operation].as_u64().unwrap_or(0) == 0 {
            return Err(format!("{operation} was not called: {calls}"));
        }
        let (_, callers) = admin("GET", "callers", &json!({}));
        let role_arn = format!("arn:aws:sts::{ROLE_ACCOUNT}:assumed-role/{role_session}");
        let mut lightsail_signers = Vec::new();
        for (arn, keys) in callers.as_object().into_iter().flatten() {
            for (key, ops) in keys.as_object().into_iter().flatten() {
                if ops
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(op, _)| op.starts_with("Lightsail."))
                {
                    lightsail_signers.push((arn.clone(), key.clone()));
                }
            }
        }
        if lightsail_signers.is_empty()
            || !lightsail_signers
                .iter()
                .all(|(arn, key)| *arn == role_arn && key.starts_with("ASIA"))
        {
            return Err(format!(
                "Lightsail calls were signed by {lightsail_signers:?}, expected only {role_arn} (ASIA… keys)"
            ));
        }
        Ok(())
    }
}

#[test]
fn sts_assume_role_block() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let tc = e
        .env()
        .iter()
        .fold(TestCase::new("sts_assume_role_block"), |tc, (k, v)| {
            tc.env(k, v)
        });
    tc.step(
        Step::new(config(&format!(
            "  assume_role {{\n    role_arn     = \"arn:aws:iam::{ROLE_ACCOUNT}:role/deployer\"\n    session_name = \"terraform\"\n  }}"
        )))
        .check(in_role_account(&e, "STS.AssumeRole", "deployer/terraform")),
    )
    .run();
}

/// A JWT like the one HCP Terraform writes for a run (its signature is not checked by
/// hastack-local: there is no identity provider here).
fn tfc_token() -> String {
    let enc = |j: serde_json::Value| b64url(j.to_string().as_bytes());
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    format!(
        "{}.{}.c2ln",
        enc(json!({"alg": "RS256", "typ": "JWT"})),
        enc(
            json!({"iss": "https://app.terraform.io", "aud": "aws.workload.identity", "sub": "organization:hastack:project:default:workspace:web:run_phase:apply", "exp": exp})
        )
    )
}

/// hastack-local's environment without the long-term keys.
fn keyless_env(e: &Emulator, name: &str) -> TestCase {
    e.env()
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("AWS_ACCESS_KEY_ID") && !k.starts_with("AWS_SECRET_ACCESS_KEY")
        })
        .fold(TestCase::new(name), |tc, (k, v)| tc.env(k, v))
}

#[test]
fn sts_web_identity_like_terraform_cloud() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("tfc-token.jwt");
    std::fs::write(&token_file, tfc_token()).unwrap();
    // The endpoint and region as before; no keys: the role's web identity is the credential.
    let tc = keyless_env(&e, "sts_web_identity")
        .env(
            "AWS_ROLE_ARN",
            &format!("arn:aws:iam::{ROLE_ACCOUNT}:role/tfc-dynamic"),
        )
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .env("AWS_ROLE_SESSION_NAME", "terraform-run");
    tc.step(Step::new(config("")).check(in_role_account(
        &e,
        "STS.AssumeRoleWithWebIdentity",
        "tfc-dynamic/terraform-run",
    )))
    .run();
}

/// HCP Terraform's other form: a shared config profile with `role_arn` and
/// `web_identity_token_file`, named by the provider's `shared_config_files` and `profile`
/// (no keys, no AWS_ROLE_ARN in the environment).
#[test]
fn sts_web_identity_from_shared_config_profile() {
    if !acceptance_tests::enabled() {
        return;
    }
    let e = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("tfc-token.jwt");
    std::fs::write(&token_file, tfc_token()).unwrap();
    let config_file = dir.path().join("aws-config");
    std::fs::write(
        &config_file,
        format!(
            "[profile tfc]\nrole_arn = arn:aws:iam::{ROLE_ACCOUNT}:role/tfc-profile\nweb_identity_token_file = {}\nrole_session_name = tfc-run\nregion = us-east-1\n",
            token_file.display()
        ),
    )
    .unwrap();
    // No credentials file at all: the profile's web identity is the only credential.
    let tc = keyless_env(&e, "sts_web_identity_profile").env(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/hastack-test-credentials",
    );
    tc.step(
        Step::new(config(&format!(
            "  profile             = \"tfc\"\n  shared_config_files = [\"{}\"]",
            config_file.display()
        )))
        .check(in_role_account(
            &e,
            "STS.AssumeRoleWithWebIdentity",
            "tfc-profile/tfc-run",
        )),
    )
    .run();
}
