//! The official Rust SDK (aws-sdk-sts, and aws-config's assume-role provider, which the
//! provider's `assume_role` block uses) against hastack-local: temporary credentials act in the
//! role's account, need their session token, and stop working when they expire.
mod common;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use base64::Engine;
use common::*;
use serde_json::json;

const ROLE: &str = "arn:aws:iam::210987654321:role/deploy/terraform";

fn lightsail_with(
    r: &hastack_local::server::Running,
    creds: Credentials,
) -> aws_sdk_lightsail::Client {
    let conf = sdk_config(r)
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build();
    aws_sdk_lightsail::Client::new(&conf)
}

fn jwt(claims: serde_json::Value) -> String {
    let e = |j: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j.to_string())
    };
    format!(
        "{}.{}.c2ln",
        e(&json!({"alg": "RS256", "typ": "JWT"})),
        e(&claims)
    )
}

#[tokio::test]
async fn assume_role_credentials_act_in_the_role_account_and_expire() {
    let (r, clock) = emulator().await;
    let sts = aws_sdk_sts::Client::new(&sdk_config(&r));
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(
        (me.account(), me.arn()),
        (Some("123456789012"), Some("arn:aws:iam::123456789012:root"))
    );
    let out = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("tf-run")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let c = out.credentials.unwrap();
    assert!(c.access_key_id.starts_with("ASIA"));
    assert_eq!(
        out.assumed_role_user.unwrap().arn,
        "arn:aws:sts::210987654321:assumed-role/terraform/tf-run"
    );
    let temp = Credentials::new(
        c.access_key_id.clone(),
        c.secret_access_key.clone(),
        Some(c.session_token.clone()),
        None,
        "assumed",
    );
    // The role's session acts in the role's account.
    let ls = lightsail_with(&r, temp.clone());
    ls.create_load_balancer()
        .load_balancer_name("in-role-account")
        .instance_port(80)
        .send()
        .await
        .unwrap();
    let own = aws_sdk_lightsail::Client::new(&sdk_config(&r));
    assert!(own
        .get_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancers()
        .is_empty());
    assert_eq!(
        ls.get_load_balancers()
            .send()
            .await
            .unwrap()
            .load_balancers()
            .len(),
        1
    );
    let who = aws_sdk_sts::Client::new(
        &sdk_config(&r)
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(temp.clone()))
            .build(),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap();
    assert_eq!(who.account(), Some("210987654321"));
    // Role chaining is limited to one hour.
    let chained = aws_sdk_sts::Client::new(
        &sdk_config(&r)
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(temp.clone()))
            .build(),
    )
    .assume_role()
    .role_arn(ROLE)
    .role_session_name("again")
    .duration_seconds(7200)
    .send()
    .await
    .unwrap_err();
    assert_eq!(
        chained.into_service_error().meta().code(),
        Some("ValidationError")
    );
    // Without the session token the key is not recognised.
    let no_token = lightsail_with(
        &r,
        Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            None,
            None,
            "t",
        ),
    );
    let e = no_token.get_regions().send().await.unwrap_err();
    assert_eq!(
        e.into_service_error().meta().code(),
        Some("UnrecognizedClientException")
    );
    // 900 s later the credentials are expired.
    clock.advance(901.0);
    let e = ls.get_load_balancers().send().await.unwrap_err();
    assert_eq!(
        e.into_service_error().meta().code(),
        Some("ExpiredTokenException")
    );
    let bad = sts
        .assume_role()
        .role_arn("terraform")
        .role_session_name("tf-run")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        bad.into_service_error().meta().code(),
        Some("ValidationError")
    );
    r.stop().await;
}

#[tokio::test]
async fn aws_config_assume_role_provider_and_web_identity() {
    let (r, clock) = emulator().await;
    // A loaded configuration (time source and sleep included), as the provider loads one.
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(r.endpoint())
        .credentials_provider(sdk_config(&r).credentials_provider().unwrap())
        .load()
        .await;
    // What the provider's assume_role block builds.
    let provider = aws_config::sts::AssumeRoleProvider::builder(ROLE)
        .session_name("hastack")
        .configure(&conf)
        .build()
        .await;
    let ls = aws_sdk_lightsail::Client::new(
        &conf
            .clone()
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build(),
    );
    assert!(!ls.get_regions().send().await.unwrap().regions().is_empty());
    // Terraform Cloud's dynamic credentials: a signed OIDC token for a role (unsigned call).
    let token = jwt(json!({
        "iss": "https://app.terraform.io", "aud": "aws.workload.identity",
        "sub": "organization:hastack:project:p:workspace:w:run_phase:apply",
        "exp": clock_now(&clock) + 600.0,
    }));
    let sts = aws_sdk_sts::Client::new(&conf);
    let out = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/tfc")
        .role_session_name("terraform-run")
        .web_identity_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.audience(), Some("aws.workload.identity"));
    assert_eq!(out.provider(), Some("app.terraform.io"));
    assert!(out
        .subject_from_web_identity_token()
        .unwrap()
        .starts_with("organization:hastack"));
    let c = out.credentials.unwrap();
    let ls = lightsail_with(
        &r,
        Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "wi",
        ),
    );
    assert!(!ls.get_regions().send().await.unwrap().regions().is_empty());
    clock.advance(601.0);
    let late = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/tfc")
        .role_session_name("terraform-run")
        .web_identity_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        late.into_service_error().meta().code(),
        Some("ExpiredTokenException")
    );
    r.stop().await;
}

fn clock_now(c: &hastack_local::clock::ManualClock) -> f64 {
    use hastack_local::clock::Clock;
    c.now()
}
