//! `provider "hastack" { ... }`: schema, plan-time validation, and the AWS SDK configuration.
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use regex::Regex;
use serde::{Deserialize, Serialize};
use tfplugin::{
    Attr, Attribute, AttributePath, Block, Diagnostics, NestedBlock, Nesting, Schema, Type, Value,
};

use crate::env::Env;

/// The services whose endpoints can be overridden, with their `AWS_ENDPOINT_URL_*` suffix.
pub const SERVICES: [(&str, &str); 5] = [
    ("lightsail", "LIGHTSAIL"),
    ("ssm", "SSM"),
    ("cloudwatch", "CLOUDWATCH"),
    ("logs", "CLOUDWATCH_LOGS"),
    ("sts", "STS"),
];

pub fn schema() -> Schema {
    let s = |name: &str, d: &str| Attribute::new(name, Type::String).optional().description(d);
    Schema::new(
        0,
        Block::new("Configures how hastack reaches AWS. Every setting falls back to the standard AWS environment variables and shared files, like the AWS CLI.")
            .attribute(s("region", "AWS region, e.g. `us-east-1`. Default: `AWS_REGION`, then the profile's region."))
            .attribute(s("profile", "Named profile from the shared config and credentials files. Default: `AWS_PROFILE`."))
            .attribute(Attribute::new("shared_config_files", Type::list(Type::String)).optional().description("Paths of shared config files. Default `~/.aws/config`."))
            .attribute(Attribute::new("shared_credentials_files", Type::list(Type::String)).optional().description("Paths of shared credentials files. Default `~/.aws/credentials`."))
            .attribute(s("access_key", "Access key ID. Prefer environment variables or profiles over putting keys in configuration.").sensitive())
            .attribute(s("secret_key", "Secret access key; required with `access_key`.").sensitive())
            .attribute(s("token", "Session token for temporary credentials; only with `access_key` and `secret_key`.").sensitive())
            .attribute(Attribute::new("max_retries", Type::Number).optional().description("How many times a throttled or failed (5xx) AWS call is retried. Default 25."))
            .attribute(Attribute::new("skip_credentials_validation", Type::Bool).optional().description("Do not resolve credentials when the provider is configured. Default `false`."))
            .block(
                NestedBlock::new(
                    "assume_role",
                    Nesting::Single,
                    Block::new("Assume this IAM role with the base credentials before any call.")
                        .attribute(s("role_arn", "ARN of the role to assume, e.g. `arn:aws:iam::123456789012:role/deployer`. Required in this block."))
                        .attribute(s("session_name", "Session name recorded in CloudTrail: 2–64 letters, digits or `_+=,.@-`. Default `hastack`."))
                        .attribute(s("external_id", "External ID the role's trust policy requires: 2–1224 letters, digits or `_+=,.@:/-`.")),
                )
                .max_items(1),
            )
            .block(
                NestedBlock::new(
                    "endpoints",
                    Nesting::Single,
                    SERVICES.iter().fold(
                        Block::new("Custom service endpoints, e.g. for `hastack-local`. Each falls back to `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`."),
                        |b, (svc, env)| b.attribute(s(svc, &format!("Endpoint URL for {svc}. Env: `AWS_ENDPOINT_URL_{env}`."))),
                    ),
                )
                .max_items(1),
            )
            .block(
                NestedBlock::new(
                    "default_tags",
                    Nesting::Single,
                    Block::new("Tags added to every resource that supports tags; a resource's own tags win.")
                        .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("The tags.")),
                )
                .max_items(1),
            ),
    )
}

fn region_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$").expect("valid regex")
    })
}

fn role_arn_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$").expect("valid regex")
    })
}

/// STS's rules for `RoleSessionName` (2–64) and `ExternalId` (2–1224).
fn valid_sts_value(s: &str, max: usize, extra: &str) -> bool {
    (2..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c))
}

fn check_url(s: &str) -> Result<(), String> {
    let u = url::Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", u.scheme()));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err("an endpoint takes no query string or fragment".into());
    }
    Ok(())
}

/// The `provider "hastack"` block. Values may be unknown while the block depends on other
/// resources: those are checked once known.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderModel {
    pub region: Attr<String>,
    pub profile: Attr<String>,
    pub shared_config_files: Attr<Vec<String>>,
    pub shared_credentials_files: Attr<Vec<String>>,
    pub access_key: Attr<String>,
    pub secret_key: Attr<String>,
    pub token: Attr<String>,
    pub max_retries: Attr<serde_json::Number>,
    pub skip_credentials_validation: Attr<bool>,
    pub assume_role: Attr<AssumeRole>,
    /// Service name (see [`SERVICES`]) → endpoint URL.
    pub endpoints: Attr<BTreeMap<String, Option<String>>>,
    pub default_tags: Attr<DefaultTags>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AssumeRole {
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DefaultTags {
    pub tags: Option<BTreeMap<String, String>>,
}

impl ProviderModel {
    fn from_value(config: &Value) -> Result<ProviderModel, Diagnostics> {
        config.to_model().map_err(|e| {
            let mut d = Diagnostics::new();
            d.error(
                "Unreadable provider configuration",
                format!("The provider block does not fit the provider's model: {e}. This is a bug in the provider."),
            );
            d
        })
    }

    fn endpoint(&self, service: &str) -> Option<&String> {
        self.endpoints
            .value()
            .and_then(|m| m.get(service))
            .and_then(Option::as_ref)
    }

    pub fn default_tags(&self) -> BTreeMap<String, String> {
        self.default_tags
            .value()
            .and_then(|t| t.tags.clone())
            .unwrap_or_default()
    }
}

/// Plan-time checks. Unknown values are skipped: they are checked again once known.
pub fn validate(config: &Value) -> Diagnostics {
    match ProviderModel::from_value(config) {
        Ok(m) => validate_model(&m),
        Err(d) => d,
    }
}

fn validate_model(m: &ProviderModel) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(r) = m.region.value() {
        if !region_re().is_match(r) {
            d.attribute_error(
                AttributePath::root("region"),
                "Invalid AWS region",
                format!("{r:?} is not an AWS region name such as \"us-east-1\" or \"eu-west-2\"."),
            );
        }
    }
    let (ak, sk) = (&m.access_key, &m.secret_key);
    if ak.is_null() != sk.is_null() && !ak.is_unknown() && !sk.is_unknown() {
        let missing = if ak.is_null() {
            "access_key"
        } else {
            "secret_key"
        };
        d.attribute_error(
            AttributePath::root(missing),
            "Incomplete static credentials",
            "access_key and secret_key must be set together.",
        );
    }
    if m.profile.value().is_some_and(|p| p.trim().is_empty()) {
        d.attribute_error(
            AttributePath::root("profile"),
            "Empty value",
            "profile must name a profile; leave it out for AWS_PROFILE or the default profile.",
        );
    }
    if m.token.value().is_some() && ak.is_null() && sk.is_null() {
        d.attribute_error(
            AttributePath::root("token"),
            "Token without keys",
            "token is the session token of temporary static credentials: set access_key and secret_key with it, or leave all three out.",
        );
    }
    if let Some(n) = m.max_retries.value() {
        if n.as_i64().is_none_or(|n| !(0..=100).contains(&n)) {
            d.attribute_error(
                AttributePath::root("max_retries"),
                "Invalid max_retries",
                format!("{n} must be a whole number from 0 to 100."),
            );
        }
    }
    if let Some(ar) = m.assume_role.value() {
        let path = AttributePath::root("assume_role").attr("role_arn");
        match &ar.role_arn {
            None => d.attribute_error(path, "Missing role_arn", "An assume_role block needs role_arn: the ARN of the role to assume."),
            Some(a) if !role_arn_re().is_match(a) => {
                d.attribute_error(path, "Invalid role ARN", format!("{a:?} is not an IAM role ARN such as \"arn:aws:iam::123456789012:role/deployer\"."))
            }
            _ => {}
        }
        if let Some(n) = ar
            .session_name
            .as_deref()
            .filter(|n| !valid_sts_value(n, 64, ""))
        {
            d.attribute_error(
                AttributePath::root("assume_role").attr("session_name"),
                "Invalid session name",
                format!("{n:?} must be 2–64 letters, digits or _+=,.@- (STS's rule for a role session name)."),
            );
        }
        if let Some(x) = ar
            .external_id
            .as_deref()
            .filter(|x| !valid_sts_value(x, 1224, ":/"))
        {
            d.attribute_error(
                AttributePath::root("assume_role").attr("external_id"),
                "Invalid external ID",
                format!("{x:?} must be 2–1224 letters, digits or _+=,.@:/- (STS's rule for an external ID)."),
            );
        }
    }
    for (key, files) in [
        ("shared_config_files", &m.shared_config_files),
        ("shared_credentials_files", &m.shared_credentials_files),
    ] {
        for (i, f) in files.value().into_iter().flatten().enumerate() {
            let path = match f.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(|h| std::path::Path::new(&h).join(rest))
                    .unwrap_or_else(|| f.into()),
                None => f.into(),
            };
            if !path.is_file() {
                d.attribute_error(
                    AttributePath::root(key).index(i as i64),
                    "Shared file not found",
                    format!("{f:?} does not exist or is not a file."),
                );
            }
        }
    }
    if let Some(DefaultTags { tags: Some(tags) }) = m.default_tags.value() {
        crate::resources::common::check_tags(
            tags,
            AttributePath::root("default_tags").attr("tags"),
            &mut d,
        );
    }
    for (svc, _) in SERVICES {
        if let Some(u) = m.endpoint(svc) {
            if let Err(e) = check_url(u) {
                d.attribute_error(
                    AttributePath::root("endpoints").attr(svc),
                    "Invalid endpoint URL",
                    format!(
                        "{u:?} is not an endpoint URL: {e}. Example: \"http://127.0.0.1:4566\"."
                    ),
                );
            }
        }
    }
    d
}

/// What configuring the provider produces; resources take their clients from here.
#[derive(Clone, Debug)]
pub struct Configured {
    pub sdk: SdkConfig,
    /// Resolved endpoint per service (`None`: the SDK's default for the region).
    pub endpoints: BTreeMap<String, String>,
    pub default_tags: BTreeMap<String, String>,
}

impl Configured {
    /// The region in use (configure fails without one).
    pub fn region(&self) -> String {
        self.sdk.region().map(|r| r.to_string()).unwrap_or_default()
    }

    /// The SDK configuration for one service, with its endpoint applied.
    pub fn for_service(&self, service: &str) -> SdkConfig {
        match self.endpoints.get(service) {
            Some(url) => self.sdk.to_builder().endpoint_url(url).build(),
            None => self.sdk.clone(),
        }
    }
}

/// Endpoint for `service`: explicit setting, then `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`.
pub fn resolve_endpoint(
    m: &ProviderModel,
    service: &str,
    env_suffix: &str,
    env: &dyn Env,
) -> Option<String> {
    m.endpoint(service)
        .cloned()
        .or_else(|| env.var(&format!("AWS_ENDPOINT_URL_{env_suffix}")))
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
}

/// Build the AWS configuration from a validated `provider` block.
pub async fn configure(config: &Value, env: &dyn Env) -> Result<Configured, Diagnostics> {
    let m = ProviderModel::from_value(config)?;
    configure_model(&m, env).await
}

#[tracing::instrument(skip_all, fields(region = m.region.value(), profile = m.profile.value()))]
async fn configure_model(m: &ProviderModel, env: &dyn Env) -> Result<Configured, Diagnostics> {
    let mut d = validate_model(m);
    if d.has_errors() {
        return Err(d);
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(r) = m.region.value() {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(p) = m.profile.value() {
        loader = loader.profile_name(p);
    }
    let (cfg_files, cred_files) = (
        m.shared_config_files.value().cloned().unwrap_or_default(),
        m.shared_credentials_files
            .value()
            .cloned()
            .unwrap_or_default(),
    );
    if !cfg_files.is_empty() || !cred_files.is_empty() {
        use aws_runtime::env_config::file::{
            EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
        };
        let mut b = ProfileFiles::builder();
        if cfg_files.is_empty() {
            b = b.include_default_config_file(true);
        }
        if cred_files.is_empty() {
            b = b.include_default_credentials_file(true);
        }
        for f in cfg_files {
            b = b.with_file(ProfileFileKind::Config, f);
        }
        for f in cred_files {
            b = b.with_file(ProfileFileKind::Credentials, f);
        }
        loader = loader.profile_files(b.build());
    }
    if let (Some(ak), Some(sk)) = (m.access_key.value(), m.secret_key.value()) {
        let token = m.token.value().cloned();
        loader = loader.credentials_provider(Credentials::new(
            ak,
            sk,
            token,
            None,
            "hastack-provider-config",
        ));
    }
    let retries = m.max_retries.value().and_then(|n| n.as_i64()).unwrap_or(25) as u32;
    loader = loader.retry_config(
        RetryConfig::standard()
            .with_max_attempts(retries + 1)
            .with_max_backoff(Duration::from_secs(20)),
    );
    let mut sdk = loader.load().await;

    let endpoints: BTreeMap<String, String> = SERVICES
        .iter()
        .filter_map(|(svc, suffix)| {
            resolve_endpoint(m, svc, suffix, env).map(|u| (svc.to_string(), u))
        })
        .collect();

    if sdk.region().is_none() {
        d.attribute_error(
            AttributePath::root("region"),
            "No AWS region",
            "Set region in the provider block, AWS_REGION in the environment, or a region in the selected profile.",
        );
        return Err(d);
    }

    let ar = m.assume_role.value().cloned().unwrap_or_default();
    if let Some(arn) = ar.role_arn.as_deref() {
        let sts_cfg = match endpoints.get("sts") {
            Some(u) => sdk.to_builder().endpoint_url(u).build(),
            None => sdk.clone(),
        };
        let mut b = aws_config::sts::AssumeRoleProvider::builder(arn)
            .session_name(ar.session_name.as_deref().unwrap_or("hastack"));
        if let Some(x) = ar.external_id.as_deref() {
            b = b.external_id(x);
        }
        let p = b.configure(&sts_cfg).build().await;
        sdk = sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(p))
            .build();
    } else if m.skip_credentials_validation.value() != Some(&true) {
        // Resolve now so a missing or broken credential source is reported at plan time.
        let Some(provider) = sdk.credentials_provider() else {
            d.error("No AWS credentials", "No credential source is configured.");
            return Err(d);
        };
        let resolved =
            tokio::time::timeout(Duration::from_secs(15), provider.provide_credentials()).await;
        let err = match resolved {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => {
                Some(aws_smithy_types::error::display::DisplayErrorContext(e).to_string())
            }
            Err(_) => Some("timed out after 15s".to_string()),
        };
        if let Some(e) = err {
            d.error(
                "No valid AWS credentials",
                format!("Could not resolve AWS credentials: {e}\n\nSet access_key/secret_key, a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or another standard credential source."),
            );
            return Err(d);
        }
    }

    let default_tags = m.default_tags();
    Ok(Configured {
        sdk,
        endpoints,
        default_tags,
    })
}

#[cfg(test)]
mod tests;
