//! Session policies on SSM's operations: what the session policy of an assumed role's
//! credentials (AssumeRole's `Policy`, see `crate::iam_policy`) lets StartSession do.
//! Credentials without one are not checked: there is no IAM, so nothing else limits a caller.
use std::collections::BTreeMap;

use super::error::{fail, Result, SsmCode};
use super::Backend;
use crate::iam_policy::{Context, Decision, Policy, Request};
use crate::Ctx;

/// The document of a session that names none (the Session Manager preferences).
pub const DEFAULT_SESSION_DOCUMENT: &str = "SSM-SessionManagerRunShell";

const START_SESSION: &str = "ssm:StartSession";

/// A session target's ARN: a managed node (`mi-…`) or an EC2 instance.
pub fn target_arn(ctx: &Ctx<'_>, target: &str) -> String {
    if target.starts_with("mi-") {
        format!(
            "arn:aws:ssm:{}:{}:managed-instance/{target}",
            ctx.region, ctx.account
        )
    } else {
        format!(
            "arn:aws:ec2:{}:{}:instance/{target}",
            ctx.region, ctx.account
        )
    }
}

/// A document's ARN; Amazon's own (`AWS-…`) name no account.
pub fn document_arn(ctx: &Ctx<'_>, name: &str) -> String {
    let account = if name.starts_with("AWS-") {
        ""
    } else {
        ctx.account
    };
    format!("arn:aws:ssm:{}:{account}:document/{name}", ctx.region)
}

/// The condition keys of a StartSession check: the resource's tags (`ssm:resourceTag/K`, and
/// the global `aws:ResourceTag/K`), and `ssm:SessionDocumentAccessCheck` = `true` when the
/// request names a document (absent otherwise).
fn session_context(tags: &BTreeMap<String, String>, names_document: bool) -> Context {
    let mut c = Context::default();
    for (k, v) in tags {
        c = c
            .with(&format!("ssm:resourceTag/{k}"), vec![v.clone()])
            .with(&format!("aws:ResourceTag/{k}"), vec![v.clone()]);
    }
    if names_document {
        c = c.with("ssm:SessionDocumentAccessCheck", vec!["true".into()]);
    }
    c
}

/// The policy's decision on `action` on `resource`, as AccessDeniedException when not allowed
/// (in AWS's words).
fn authorize(
    ctx: &Ctx<'_>,
    policy: &Policy,
    action: &str,
    resource: &str,
    context: &Context,
) -> Result<()> {
    let why = match policy.evaluate(&Request {
        action,
        resource,
        context,
    }) {
        Decision::Allow => return Ok(()),
        Decision::ExplicitDeny => "with an explicit deny in a session policy".to_string(),
        Decision::ImplicitDeny => format!("because no session policy allows the {action} action"),
    };
    let user = ctx.caller.map(|c| c.arn.as_str()).unwrap_or_default();
    Err(fail(
        SsmCode::AccessDenied,
        format!(
            "User: {user} is not authorized to perform: {action} on resource: {resource} {why}"
        ),
    ))
}

impl Backend {
    /// StartSession under the caller's session policy, evaluated twice as AWS does: on the
    /// target (its tags) and on the document (its tags; the preferences document when the
    /// request names none). Both must be allowed.
    pub fn authorize_start_session(
        &self,
        ctx: &Ctx<'_>,
        target: &str,
        document: Option<&str>,
    ) -> Result<()> {
        let Some(policy) = ctx.caller.and_then(|c| c.session_policy.as_deref()) else {
            return Ok(());
        };
        let named = document.filter(|d| !d.is_empty());
        let node_tags = self
            .nodes
            .get(target)
            .map(|n| n.tags.clone())
            .unwrap_or_default();
        let context = session_context(&node_tags, named.is_some());
        authorize(
            ctx,
            policy,
            START_SESSION,
            &target_arn(ctx, target),
            &context,
        )?;
        let name = named.unwrap_or(DEFAULT_SESSION_DOCUMENT);
        let doc_tags = super::documents::find(self, name)
            .map(|d| d.tags)
            .unwrap_or_default();
        let context = session_context(&doc_tags, named.is_some());
        authorize(
            ctx,
            policy,
            START_SESSION,
            &document_arn(ctx, name),
            &context,
        )
    }
}
