//! `hastack_ssm_session_policy`: Session Manager preferences (a `Session` document, by default
//! the account's `SSM-SessionManagerRunShell`, adopted when it exists), the hybrid-node
//! activation tier, and least-privilege IAM policies as JSON for users to attach.
mod policy;
mod validate;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::timeouts::{self, Operation, TimeoutDefaults, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, Attribute, AttributePath, Block, Diagnostics, Known, Schema, Type};
use tokio::time::Instant;

use crate::aws::session_manager::{self as sm, Tier};
use crate::aws::{logs, ssm, OrGone};
use crate::config::Configured;
use crate::resources::common::{aws_error, error, merged_tags, own_tags};
pub use policy::sorted;
use policy::{Preferences, Scope};
use validate::{valid_document_name, validate};

pub struct SsmSessionPolicy;

const TYPE: &str = "hastack_ssm_session_policy";
/// The preferences document the console creates and sessions use without `--document-name`.
pub const DEFAULT_DOCUMENT: &str = "SSM-SessionManagerRunShell";
/// What the advanced tier costs per hybrid node (us-east-1, Dec 2026).
const ADVANCED_PER_HOUR: f64 = 0.00695;

/// The nodes of every hastack group: each carries `hastack:group = <group>`.
fn default_target_tags() -> BTreeMap<String, String> {
    [(ssm::GROUP_TAG.to_string(), "*".to_string())].into()
}

fn defaults() -> TimeoutDefaults {
    TimeoutDefaults::default()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: Attr<String>,
    pub document_name: Attr<String>,
    pub target_tags: Attr<BTreeMap<String, String>>,
    pub cloudwatch_log_group_name: Attr<String>,
    pub cloudwatch_streaming: Attr<bool>,
    pub cloudwatch_encryption_required: Attr<bool>,
    pub kms_key_id: Attr<String>,
    pub s3_bucket_name: Attr<String>,
    pub s3_key_prefix: Attr<String>,
    pub s3_encryption_required: Attr<bool>,
    pub idle_timeout_minutes: Attr<i64>,
    pub max_duration_minutes: Attr<i64>,
    pub run_as_user: Attr<String>,
    pub shell_profile_linux: Attr<String>,
    pub enable_advanced_tier: Attr<bool>,
    pub tags: Attr<BTreeMap<String, String>>,
    pub tags_all: Attr<BTreeMap<String, String>>,
    pub document_arn: Attr<String>,
    pub default_version: Attr<String>,
    pub activation_tier: Attr<String>,
    pub operator_policy_json: Attr<String>,
    pub node_policy_json: Attr<String>,
    pub start_session_command: Attr<String>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    let computed =
        |name: &str, ty: Type, d: &str| Attribute::new(name, ty).computed().description(d);
    let opt = |name: &str, ty: Type, d: &str| Attribute::new(name, ty).optional().description(d);
    let dflt = |name: &str, ty: Type, d: &str| {
        Attribute::new(name, ty)
            .optional()
            .computed()
            .description(d)
    };
    Schema::new(
        0,
        Block::new("Session Manager preferences for an instance group: a `Session` document (shell sessions logged to CloudWatch Logs and/or S3, idle timeout, run-as user), the managed-instance tier hybrid nodes need for sessions, and two least-privilege IAM policy documents (JSON) for you to attach with your IAM tooling — the provider writes no IAM.\n\nBy default the document is `SSM-SessionManagerRunShell`, the one the console and `aws ssm start-session` use without `--document-name`; when it already exists (the console creates it) it is adopted and updated, never a `DocumentAlreadyExists` error. Updates create a new document version and make it the default, which is what sessions use.\n\nThe log group must exist when the policy is applied: Session Manager runs sessions and silently logs nothing when it does not, so the provider refuses.\n\nImport with the document name: `terraform import hastack_ssm_session_policy.x SSM-SessionManagerRunShell`.")
            .attribute(computed("id", Type::String, "The document name."))
            .attribute(dflt("document_name", Type::String, "The `Session` document holding the preferences. Default `SSM-SessionManagerRunShell` (adopted when it exists). Another name (3–128 letters, digits, `_`, `-`, `.`; no `AWS-`/`Amazon`/`amzn` prefix) makes a document operators must name with `--document-name`. Changing it replaces the resource.").requires_replace())
            .attribute(dflt("target_tags", Type::map(Type::String), "Which managed nodes operators may open sessions to: every tag must match (`operator_policy_json`; values may use `*` and `?`). Default `{ \"hastack:group\" = \"*\" }`: the nodes of every hastack instance group and replica group (they all carry `hastack:group`). Narrow it to one group with `{ \"hastack:group\" = hastack_lightsail_ha_instance.web.id }`."))
            .attribute(opt("cloudwatch_log_group_name", Type::String, "CloudWatch Logs group for session transcripts (one stream per session). It must exist when the policy is applied."))
            .attribute(dflt("cloudwatch_streaming", Type::Bool, "Stream session data to CloudWatch Logs as it happens (JSON events) instead of uploading the transcript when the session ends. Default `true`."))
            .attribute(dflt("cloudwatch_encryption_required", Type::Bool, "Only allow sessions when the log group is encrypted with a KMS key (checked at apply). Default `false`."))
            .attribute(opt("kms_key_id", Type::String, "KMS key (key id, `alias/<name>`, or key or alias ARN) that encrypts session data end to end. Operators then need `kms:GenerateDataKey`, nodes `kms:Decrypt` (in the policy JSONs)."))
            .attribute(opt("s3_bucket_name", Type::String, "S3 bucket for session transcripts (uploaded when a session ends): a bucket name (3–63 lower-case letters, digits, `.`, `-`), not an ARN."))
            .attribute(opt("s3_key_prefix", Type::String, "Key prefix for transcripts in `s3_bucket_name` (at most 1024 bytes)."))
            .attribute(dflt("s3_encryption_required", Type::Bool, "Only upload transcripts to an encrypted bucket. Default `false`."))
            .attribute(dflt("idle_timeout_minutes", Type::Number, "Minutes without input after which a session ends, 1–60. Default 20."))
            .attribute(opt("max_duration_minutes", Type::Number, "Longest a session may last, 1–1440 minutes. Unset: no limit."))
            .attribute(opt("run_as_user", Type::String, "Linux user sessions run as (must exist on the nodes). Unset: `ssm-user`."))
            .attribute(opt("shell_profile_linux", Type::String, "Commands run at the start of every Linux session (e.g. `exec bash`)."))
            .attribute(dflt("enable_advanced_tier", Type::Bool, "Switch the account and region to the advanced-instances tier, which hybrid nodes (`mi-…`, what hastack's Lightsail instances are) need for Session Manager. It costs $0.00695 per hybrid node per hour (about $5.07 a month each, us-east-1) for **every** hybrid node in the account and region; the plan says so. Destroy never downgrades the tier (that would end hybrid nodes' sessions). Default `false`."))
            .attribute(opt("tags", Type::map(Type::String), "Tags of the document; merged with the provider's `default_tags` (these win)."))
            .attribute(computed("tags_all", Type::map(Type::String), "All tags of the document, the provider's `default_tags` included."))
            .attribute(computed("document_arn", Type::String, "The document's ARN."))
            .attribute(computed("default_version", Type::String, "The document version sessions use."))
            .attribute(computed("activation_tier", Type::String, "The account and region's managed-instance tier: `standard` or `advanced`."))
            .attribute(computed("operator_policy_json", Type::String, "IAM policy (JSON) for operators: `ssm:StartSession` only to managed nodes with all `target_tags` and only with this document (`ssm:SessionDocumentAccessCheck`, so the logging preferences cannot be bypassed and unlogged SSH/port-forwarding documents are excluded), terminate/resume only their own sessions, and `kms:GenerateDataKey` when `kms_key_id` is set."))
            .attribute(computed("node_policy_json", Type::String, "IAM policy (JSON) for the nodes' role: Session Manager channels, `logs:CreateLogStream`/`PutLogEvents` on the session log group only, `s3:PutObject` under the prefix, `kms:Decrypt`. No `logs:CreateLogGroup`."))
            .attribute(computed("start_session_command", Type::String, "The AWS CLI command that opens a session with these preferences (replace `NODE_ID` with an `mi-…` id)."))
            .block(timeouts::block(&defaults())),
    )
}

fn text(a: &Attr<String>) -> String {
    a.value().cloned().unwrap_or_default()
}

fn non_empty(s: String) -> Attr<String> {
    if s.is_empty() {
        Attr::null()
    } else {
        Attr::some(s)
    }
}

/// The preferences the model asks for; `None` while any is unknown.
fn preferences(m: &Model) -> Option<Preferences> {
    let strings = [
        &m.cloudwatch_log_group_name,
        &m.kms_key_id,
        &m.s3_bucket_name,
        &m.s3_key_prefix,
        &m.run_as_user,
        &m.shell_profile_linux,
    ];
    if strings.iter().any(|a| a.is_unknown())
        || [
            &m.cloudwatch_streaming,
            &m.cloudwatch_encryption_required,
            &m.s3_encryption_required,
        ]
        .iter()
        .any(|a| a.is_unknown())
        || m.idle_timeout_minutes.is_unknown()
        || m.max_duration_minutes.is_unknown()
    {
        return None;
    }
    Some(Preferences {
        s3_bucket_name: text(&m.s3_bucket_name),
        s3_key_prefix: text(&m.s3_key_prefix),
        s3_encryption: m.s3_encryption_required.value() == Some(&true),
        log_group: text(&m.cloudwatch_log_group_name),
        cloudwatch_encryption: m.cloudwatch_encryption_required.value() == Some(&true),
        cloudwatch_streaming: m.cloudwatch_streaming.value() != Some(&false),
        kms_key_id: text(&m.kms_key_id),
        run_as_user: text(&m.run_as_user),
        idle_timeout: m.idle_timeout_minutes.value().copied().unwrap_or(20),
        max_duration: m.max_duration_minutes.value().copied().unwrap_or(0),
        shell_profile_linux: text(&m.shell_profile_linux),
    })
}

/// The computed attributes that follow from the preferences, target tags and where they live.
fn derived(m: &mut Model, prefs: &Preferences, region: &str, tier: &Tier) {
    let document = text(&m.document_name);
    let account = sm::account_of(&tier.arn).unwrap_or("");
    let partition = tier.arn.split(':').nth(1).unwrap_or("aws");
    let empty = BTreeMap::new();
    let (tags, tags_known) = match &m.target_tags {
        Known::Known(t) => (t.as_ref().unwrap_or(&empty), true),
        Known::Unknown => (&empty, false),
    };
    let scope = Scope {
        partition,
        region,
        account,
        document: &document,
        target_tags: tags,
    };
    m.id = Attr::some(document.clone());
    m.document_arn = Attr::some(format!(
        "arn:{partition}:ssm:{region}:{account}:document/{document}"
    ));
    m.operator_policy_json = if tags_known {
        Attr::some(policy::operator_policy(&scope, prefs))
    } else {
        Known::Unknown
    };
    m.node_policy_json = Attr::some(policy::node_policy(&scope, prefs));
    m.start_session_command = Attr::some(if document == DEFAULT_DOCUMENT {
        format!("aws ssm start-session --region {region} --target NODE_ID")
    } else {
        format!(
            "aws ssm start-session --region {region} --target NODE_ID --document-name {document}"
        )
    });
}

/// State from what AWS has: the document's default version and the tier.
fn state_from(
    doc: &sm::SessionDocument,
    prefs: &Preferences,
    tier: &Tier,
    prior: &Model,
    cfg: &Configured,
) -> Model {
    let mut m = Model {
        document_name: Attr::some(doc.name.clone()),
        // Not kept by AWS: what the configuration said, or the default (after an import).
        target_tags: if prior.target_tags.is_null() {
            Attr::some(default_target_tags())
        } else {
            prior.target_tags.clone()
        },
        cloudwatch_log_group_name: non_empty(prefs.log_group.clone()),
        cloudwatch_streaming: Attr::some(prefs.cloudwatch_streaming),
        cloudwatch_encryption_required: Attr::some(prefs.cloudwatch_encryption),
        kms_key_id: non_empty(prefs.kms_key_id.clone()),
        s3_bucket_name: non_empty(prefs.s3_bucket_name.clone()),
        s3_key_prefix: non_empty(prefs.s3_key_prefix.clone()),
        s3_encryption_required: Attr::some(prefs.s3_encryption),
        idle_timeout_minutes: Attr::some(prefs.idle_timeout),
        max_duration_minutes: if prefs.max_duration > 0 {
            Attr::some(prefs.max_duration)
        } else {
            Attr::null()
        },
        run_as_user: non_empty(prefs.run_as_user.clone()),
        shell_profile_linux: non_empty(prefs.shell_profile_linux.clone()),
        enable_advanced_tier: Attr::some(prior.enable_advanced_tier.value() == Some(&true)),
        tags: own_tags(&doc.tags, prior.tags.value(), &cfg.default_tags),
        tags_all: Attr::some(doc.tags.clone()),
        default_version: Attr::some(doc.default_version.clone()),
        activation_tier: Attr::some(tier.value.clone()),
        timeouts: prior.timeouts.clone(),
        ..Model::default()
    };
    derived(&mut m, prefs, &cfg.region(), tier);
    m
}

/// The log group must exist (else sessions log nothing), and be encrypted when that is required
/// (else every session is refused).
async fn check_log_group(cfg: &Configured, prefs: &Preferences) -> Result<(), Diagnostics> {
    if prefs.log_group.is_empty() {
        return Ok(());
    }
    let c = logs::client(cfg);
    match logs::find_log_group(&c, &prefs.log_group).await.or_gone() {
        Ok(Some(g)) if prefs.cloudwatch_encryption && g.kms_key_id.is_none() => Err(error(
            "Session log group is not encrypted",
            format!("cloudwatch_encryption_required is true but log group {} has no KMS key: Session Manager would refuse every session. Associate a key with the group (or set cloudwatch_encryption_required = false).", prefs.log_group),
        )),
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(error(
            "Session log group does not exist",
            format!("CloudWatch Logs group {:?} (cloudwatch_log_group_name) does not exist. Session Manager would run sessions and log nothing, so the policy is not applied. Create the group first (for instance with hastack_cloudwatch_log_pipeline or aws_cloudwatch_log_group, and a depends_on).", prefs.log_group),
        )),
        Err(e) => Err(aws_error("Error checking the session log group", &e)),
    }
}

/// Read the document and the tier into state; `Ok(None)` when the document is gone.
async fn read_state(
    cfg: &Configured,
    name: &str,
    prior: &Model,
) -> Result<Option<Model>, Diagnostics> {
    let c = ssm::client(cfg);
    let doc = match sm::find_document(&c, name).await.or_gone() {
        Ok(Some(d)) => d,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err(aws_error(
                "Error reading Session Manager preferences document",
                &e,
            ))
        }
    };
    let Some(prefs) = (doc.document_type == "Session")
        .then(|| policy::parse_document(&doc.content))
        .flatten()
    else {
        return Err(error("Not a Session Manager preferences document", format!("SSM document {name} is a {} document, not a Session document of type Standard_Stream.", doc.document_type)));
    };
    let tier = sm::activation_tier(&c)
        .await
        .map_err(|e| aws_error("Error reading the activation tier", &e))?;
    Ok(Some(state_from(&doc, &prefs, &tier, prior, cfg)))
}

/// Create or update: document content, tags, tier; then read back.
async fn apply(
    cfg: &Configured,
    ctx: &tfplugin::resource::Context,
    planned: &Model,
    prior: Option<&Model>,
    until: Instant,
) -> Applied<Model> {
    let Some(prefs) = preferences(planned) else {
        return Applied::failed(
            prior.cloned(),
            error(
                "Unknown preferences",
                "Preferences are still unknown at apply.".into(),
            ),
        );
    };
    if let Err(d) = check_log_group(cfg, &prefs).await {
        return Applied::failed(prior.cloned(), d);
    }
    let c = ssm::client(cfg);
    let name = text(&planned.document_name);
    let content = policy::document(&prefs);
    let tags = merged_tags(&cfg.default_tags, planned.tags.value());
    let existing = match sm::find_document(&c, &name).await.or_gone() {
        Ok(d) => d,
        Err(e) => {
            return Applied::failed(
                prior.cloned(),
                aws_error("Error reading Session Manager preferences document", &e),
            )
        }
    };
    let done = match existing {
        None => sm::create_document(&c, &name, &content, &tags).await,
        // Adopt the console's document (or ours, on update): a new default version.
        Some(d) if prior.is_some() || name == DEFAULT_DOCUMENT => {
            match sm::set_default_content(&c, &name, &content).await {
                Ok(()) => sm::sync_document_tags(&c, &name, &tags, &d.tags).await,
                Err(e) => Err(e),
            }
        }
        Some(_) => {
            return Applied::failed(None, error("Document already exists", format!("SSM document {name} already exists (DocumentAlreadyExists). Import it to manage it: terraform import {TYPE}.<name> {name}")))
        }
    };
    let partial = || Model {
        id: Attr::some(name.clone()),
        ..planned.clone()
    };
    if let Err(e) = done {
        return Applied::failed(
            prior.cloned(),
            aws_error("Error writing Session Manager preferences", &e),
        );
    }
    if planned.enable_advanced_tier.value() == Some(&true) {
        let tier = match sm::activation_tier(&c).await {
            Ok(t) => t,
            Err(e) => {
                return Applied::failed(
                    Some(partial()),
                    aws_error("Error reading the activation tier", &e),
                )
            }
        };
        if tier.value != "advanced" {
            if let Err(e) = sm::enable_advanced_tier(&c, until, &ctx.cancel).await {
                return Applied::failed(
                    Some(partial()),
                    aws_error("Error switching to the advanced-instances tier", &e),
                );
            }
        }
    }
    match read_state(cfg, &name, planned).await {
        Ok(Some(m)) => Applied::ok(m),
        Ok(None) => Applied::failed(
            None,
            error(
                "Document vanished",
                format!("SSM document {name} disappeared during apply."),
            ),
        ),
        Err(d) => Applied::failed(Some(partial()), d),
    }
}

#[async_trait]
impl TypedResource for SsmSessionPolicy {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: Validate<'_, Model>) -> Diagnostics {
        validate(&req.config)
    }

    async fn modify_plan(&self, req: Plan<'_, Configured, Model>) -> Planned<Model> {
        let mut d = Diagnostics::new();
        let mut p = req.planned;
        let cfg = &req.config;
        let default = |c: &Attr<bool>, v: bool| {
            if c.is_null() {
                Attr::some(v)
            } else {
                c.clone()
            }
        };
        p.cloudwatch_streaming = default(&cfg.cloudwatch_streaming, true);
        p.cloudwatch_encryption_required = default(&cfg.cloudwatch_encryption_required, false);
        p.s3_encryption_required = default(&cfg.s3_encryption_required, false);
        p.enable_advanced_tier = default(&cfg.enable_advanced_tier, false);
        if cfg.idle_timeout_minutes.is_null() {
            p.idle_timeout_minutes = Attr::some(20);
        }
        if cfg.document_name.is_null() {
            p.document_name = Attr::some(DEFAULT_DOCUMENT.into());
        }
        if cfg.target_tags.is_null() {
            p.target_tags = Attr::some(default_target_tags());
        }
        if let (Known::Known(tags), Some(c)) = (&p.tags, req.client) {
            p.tags_all = Attr::some(merged_tags(&c.default_tags, tags.as_ref()));
        } else {
            p.tags_all = Known::Unknown;
        }
        let prior_content = req
            .prior
            .as_ref()
            .and_then(preferences)
            .map(|x| policy::document(&x));
        let prefs = preferences(&p);
        let content = prefs.as_ref().map(policy::document);
        p.default_version = match &req.prior {
            Some(prior) if content.is_some() && content == prior_content => {
                prior.default_version.clone()
            }
            _ => Known::Unknown,
        };
        let tier = match req.client {
            Some(c) => sm::activation_tier(&ssm::client(c)).await.ok(),
            None => None,
        };
        match (&prefs, &tier, req.client, &p.document_name) {
            (Some(prefs), Some(tier), Some(c), Known::Known(Some(_))) => {
                derived(&mut p, prefs, &c.region(), tier)
            }
            _ => {
                for a in [
                    &mut p.operator_policy_json,
                    &mut p.node_policy_json,
                    &mut p.document_arn,
                    &mut p.start_session_command,
                ] {
                    *a = Known::Unknown;
                }
                p.id = p.document_name.clone();
            }
        }
        let wants_advanced = p.enable_advanced_tier.value() == Some(&true);
        let changed = req
            .prior
            .as_ref()
            .is_none_or(|x| x.enable_advanced_tier.value() != p.enable_advanced_tier.value());
        p.activation_tier = match &tier {
            Some(t) if wants_advanced || t.value == "advanced" => Attr::some("advanced".into()),
            Some(t) => Attr::some(t.value.clone()),
            None => Known::Unknown,
        };
        if let Some(t) = tier.as_ref().filter(|t| t.value != "advanced" && changed) {
            if wants_advanced {
                d.attribute_warning(AttributePath::root("enable_advanced_tier"), "The advanced-instances tier costs money", format!("This apply switches the account's managed-instance tier in this region from {} to advanced: every hybrid node (mi-…) in the account and region is then billed ${ADVANCED_PER_HOUR} per hour (about ${:.2} a month each). Destroying this resource does not switch it back.", t.value, ADVANCED_PER_HOUR * 730.0));
            } else {
                d.attribute_warning(AttributePath::root("enable_advanced_tier"), "Hybrid nodes need the advanced-instances tier for sessions", format!("The managed-instance tier is {} in this region: Session Manager refuses sessions to hybrid nodes (mi-…, which hastack's Lightsail instances are) until it is advanced. Set enable_advanced_tier = true to switch (${ADVANCED_PER_HOUR} per hybrid node per hour).", t.value));
            }
        }
        Planned {
            planned: p,
            requires_replace: Vec::new(),
            private: req.private,
            diagnostics: d,
        }
    }

    async fn create(&self, req: Create<'_, Configured, Model>) -> Applied<Model> {
        let until =
            Instant::now() + Timeouts::of(&req.planned.timeouts, Operation::Create, &defaults());
        apply(req.client, req.ctx, &req.planned, None, until).await
    }

    async fn read(&self, req: Read<'_, Configured, Model>) -> ReadOutcome<Model> {
        let name = text(&req.state.document_name);
        match read_state(req.client, &name, &req.state).await {
            Ok(Some(m)) => ReadOutcome::found(m, req.private),
            Ok(None) => ReadOutcome::gone(),
            Err(d) => ReadOutcome::failed(req.state, req.private, d),
        }
    }

    async fn update(&self, req: Update<'_, Configured, Model>) -> Applied<Model> {
        let until =
            Instant::now() + Timeouts::of(&req.planned.timeouts, Operation::Update, &defaults());
        apply(req.client, req.ctx, &req.planned, Some(&req.prior), until).await
    }

    /// Deletes the document; never touches the tier.
    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let name = text(&req.state.document_name);
        match sm::delete_document(&ssm::client(req.client), &name).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => aws_error("Error deleting Session Manager preferences document", &e),
        }
    }

    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        let mut d = Diagnostics::new();
        if !(req.id == DEFAULT_DOCUMENT || valid_document_name(&req.id)) {
            d.error(
                "Invalid import ID",
                format!("{:?} is not an SSM document name.", req.id),
            );
            return Imported {
                state: None,
                identity: None,
                diagnostics: d,
            };
        }
        let m = Model {
            id: Attr::some(req.id.clone()),
            document_name: Attr::some(req.id),
            ..Model::default()
        };
        Imported {
            state: Some(m),
            identity: None,
            diagnostics: d,
        }
    }
}

/// Registered with the provider.
pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(SsmSessionPolicy, data)
}
