use super::*;
use crate::env::MapEnv;
use aws_credential_types::provider::ProvideCredentials;

fn cfg(pairs: Vec<(&str, Value)>) -> Value {
    let mut v = Value::Null;
    let t = schema().value_type();
    let j = serde_json::json!({});
    v = Value::from_json(&j, &t)
        .map(|mut base| {
            for (k, val) in pairs {
                *base.get_mut(k).unwrap() = val;
            }
            base
        })
        .unwrap_or(v);
    v
}

fn s(x: &str) -> Value {
    Value::string(x)
}

/// (name, provider block settings, the attribute path an error must name)
type Case = (
    &'static str,
    Vec<(&'static str, Value)>,
    Option<&'static str>,
);

#[test]
fn validate_cases_name_the_attribute() {
    let cases: Vec<Case> = vec![
        ("empty_is_fine", vec![], None),
        ("good_region", vec![("region", s("eu-west-2"))], None),
        ("gov_region", vec![("region", s("us-gov-west-1"))], None),
        ("bad_region", vec![("region", s("moon-1"))], Some("region")),
        (
            "unknown_region_skipped",
            vec![("region", Value::unknown())],
            None,
        ),
        (
            "access_key_alone",
            vec![("access_key", s("AKID"))],
            Some("secret_key"),
        ),
        (
            "secret_key_alone",
            vec![("secret_key", s("x"))],
            Some("access_key"),
        ),
        (
            "negative_retries",
            vec![("max_retries", Value::number(-1))],
            Some("max_retries"),
        ),
        (
            "assume_role_without_arn",
            vec![(
                "assume_role",
                Value::object([
                    ("role_arn", Value::Null),
                    ("session_name", s("ci")),
                    ("external_id", Value::Null),
                ]),
            )],
            Some("assume_role.role_arn"),
        ),
        (
            "assume_role_bad_arn",
            vec![(
                "assume_role",
                Value::object([
                    ("role_arn", s("deployer")),
                    ("session_name", Value::Null),
                    ("external_id", Value::Null),
                ]),
            )],
            Some("assume_role.role_arn"),
        ),
        (
            "endpoint_not_url",
            vec![(
                "endpoints",
                Value::object([("lightsail", s("localhost:4566"))]),
            )],
            Some("endpoints.lightsail"),
        ),
        (
            "endpoint_ftp",
            vec![("endpoints", Value::object([("ssm", s("ftp://x"))]))],
            Some("endpoints.ssm"),
        ),
        ("empty_profile", vec![("profile", s(" "))], Some("profile")),
        (
            "token_without_keys",
            vec![("token", s("session-token"))],
            Some("token"),
        ),
        (
            "assume_role_bad_session_name",
            vec![(
                "assume_role",
                Value::object([
                    ("role_arn", s("arn:aws:iam::123456789012:role/deployer")),
                    ("session_name", s("ci run")),
                    ("external_id", Value::Null),
                ]),
            )],
            Some("assume_role.session_name"),
        ),
        (
            "assume_role_short_external_id",
            vec![(
                "assume_role",
                Value::object([
                    ("role_arn", s("arn:aws:iam::123456789012:role/deployer")),
                    ("session_name", s("ci@example.com")),
                    ("external_id", s("x")),
                ]),
            )],
            Some("assume_role.external_id"),
        ),
        (
            "endpoint_query",
            vec![(
                "endpoints",
                Value::object([("sts", s("https://sts.amazonaws.com/?a=1"))]),
            )],
            Some("endpoints.sts"),
        ),
        (
            "endpoint_ok",
            vec![(
                "endpoints",
                Value::object([("logs", s("http://127.0.0.1:4566"))]),
            )],
            None,
        ),
    ];
    for (name, pairs, want) in cases {
        let d = validate(&cfg(pairs));
        let got = d
            .iter()
            .find_map(|x| x.attribute.as_ref().map(|p| p.to_string()));
        assert_eq!(got.as_deref(), want, "{name}: {d:?}");
        assert_eq!(d.has_errors(), want.is_some(), "{name}");
    }
}

#[test]
fn endpoint_precedence() {
    let env = MapEnv::default()
        .with("AWS_ENDPOINT_URL", "http://all:1")
        .with("AWS_ENDPOINT_URL_SSM", "http://ssm:2");
    let model = |v: Value| -> ProviderModel { v.to_model().unwrap() };
    let explicit = model(cfg(vec![(
        "endpoints",
        Value::object([("ssm", s("http://explicit:3"))]),
    )]));
    assert_eq!(
        resolve_endpoint(&explicit, "ssm", "SSM", &env).as_deref(),
        Some("http://explicit:3")
    );
    let none = model(cfg(vec![]));
    assert_eq!(
        resolve_endpoint(&none, "ssm", "SSM", &env).as_deref(),
        Some("http://ssm:2")
    );
    assert_eq!(
        resolve_endpoint(&none, "lightsail", "LIGHTSAIL", &env).as_deref(),
        Some("http://all:1")
    );
    assert_eq!(
        resolve_endpoint(&none, "lightsail", "LIGHTSAIL", &MapEnv::default()),
        None
    );
}

#[tokio::test]
async fn static_credentials_and_default_tags() {
    let c = cfg(vec![
        ("region", s("us-east-1")),
        ("access_key", s("AKIDEXAMPLE")),
        ("secret_key", s("secret")),
        (
            "default_tags",
            Value::object([("tags", Value::Map([("team".to_string(), s("web"))].into()))]),
        ),
        (
            "endpoints",
            Value::object([("lightsail", s("http://127.0.0.1:4566"))]),
        ),
    ]);
    let got = configure(&c, &MapEnv::default()).await.expect("configures");
    let creds = got
        .sdk
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(
        got.default_tags.get("team").map(String::as_str),
        Some("web")
    );
    assert_eq!(
        got.for_service("lightsail").endpoint_url(),
        Some("http://127.0.0.1:4566")
    );
    assert_eq!(got.sdk.region().unwrap().as_ref(), "us-east-1");
}

#[tokio::test]
async fn profile_from_shared_files() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("config");
    let creds = dir.path().join("credentials");
    std::fs::write(&conf, "[profile deploy]\nregion = eu-central-1\n").unwrap();
    std::fs::write(
        &creds,
        "[deploy]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s3cret\n",
    )
    .unwrap();
    let c = cfg(vec![
        ("profile", s("deploy")),
        (
            "shared_config_files",
            Value::List(vec![s(conf.to_str().unwrap())]),
        ),
        (
            "shared_credentials_files",
            Value::List(vec![s(creds.to_str().unwrap())]),
        ),
    ]);
    let got = configure(&c, &MapEnv::default()).await.expect("configures");
    assert_eq!(got.sdk.region().unwrap().as_ref(), "eu-central-1");
    let k = got
        .sdk
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(k.access_key_id(), "AKIDPROFILE");
}

// "No credentials" is covered by the acceptance tests, where the Terraform process runs with
// AWS_EC2_METADATA_DISABLED=true: here the default chain would fall through to the instance
// metadata service, an address outside this machine.

#[test]
fn a_missing_shared_file_fails_at_plan() {
    let c = Value::object([(
        "shared_credentials_files",
        Value::List(vec![Value::string("/nonexistent/hastack/credentials")]),
    )]);
    let d = validate(&c);
    let at: Vec<String> = d
        .iter()
        .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
        .collect();
    assert_eq!(at, ["shared_credentials_files[0]"]);
}

#[test]
fn default_tags_follow_the_tag_rules() {
    let c = Value::object([(
        "default_tags",
        Value::object([(
            "tags",
            Value::Map([("aws:team".to_string(), Value::string("x"))].into()),
        )]),
    )]);
    let d = validate(&c);
    let at: Vec<String> = d
        .iter()
        .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
        .collect();
    assert!(
        at.iter().any(|a| a.starts_with("default_tags.tags")),
        "{at:?}"
    );
}
