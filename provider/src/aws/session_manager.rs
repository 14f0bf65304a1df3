//! Session Manager preferences: `Session` documents (find, create, new default version, delete,
//! tags) and the managed-instance activation tier.
use std::collections::BTreeMap;

use aws_sdk_ssm::types::{DocumentFormat, DocumentType, ResourceTypeForTagging, Tag};
use aws_sdk_ssm::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;
use super::wait::{wait_until, Backoff, Poll};

/// The service setting hybrid nodes' tier lives in.
pub const ACTIVATION_TIER: &str = "/ssm/managed-instance/activation-tier";

/// A document as Read needs it: the default version's content, versions and tags.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionDocument {
    pub name: String,
    pub document_type: String,
    pub content: String,
    pub default_version: String,
    pub latest_version: String,
    pub tags: BTreeMap<String, String>,
}

/// The activation tier: value (`standard`/`advanced`), status and the setting's ARN (which
/// names the account).
#[derive(Clone, Debug, PartialEq)]
pub struct Tier {
    pub value: String,
    pub status: String,
    pub arn: String,
}

fn tags(t: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| AwsError::Api {
            operation: "Tag",
            code: String::new(),
            message: e.to_string(),
        })
}

/// The document `name` with its default version's content; `NotFound` when it does not exist.
#[tracing::instrument(skip_all, fields(document = name))]
pub async fn find_document(c: &Client, name: &str) -> Result<SessionDocument, AwsError> {
    let described = match c.describe_document().name(name).send().await {
        Ok(d) => d,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_invalid_document()) =>
        {
            return Err(AwsError::not_found(format!("SSM document {name}")))
        }
        Err(e) => return Err(AwsError::from_sdk("DescribeDocument", &e)),
    };
    let Some(d) = described.document else {
        return Err(AwsError::not_found(format!("SSM document {name}")));
    };
    let got = c
        .get_document()
        .name(name)
        .document_version(d.default_version().unwrap_or("$DEFAULT"))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetDocument", &e))?;
    Ok(SessionDocument {
        name: name.to_string(),
        document_type: d
            .document_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        content: got.content.unwrap_or_default(),
        default_version: d.default_version().unwrap_or("").to_string(),
        latest_version: d.latest_version().unwrap_or("").to_string(),
        tags: d
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    })
}

#[tracing::instrument(skip_all, fields(document = name))]
pub async fn create_document(
    c: &Client,
    name: &str,
    content: &str,
    t: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    c.create_document()
        .name(name)
        .content(content)
        .document_type(DocumentType::Session)
        .document_format(DocumentFormat::Json)
        .set_tags(Some(tags(t)?).filter(|t| !t.is_empty()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateDocument", &e))?;
    Ok(())
}

/// Make `content` the document's default version: a new version on `$LATEST` (an update
/// based on an older version fails with InvalidDocumentVersion), then the default moved to
/// it, since sessions use the default version. Content some version already holds
/// (DuplicateDocumentContent: AWS compares with every version) makes that version the default.
#[tracing::instrument(skip_all, fields(document = name))]
pub async fn set_default_content(c: &Client, name: &str, content: &str) -> Result<(), AwsError> {
    let version = match c
        .update_document()
        .name(name)
        .content(content)
        .document_format(DocumentFormat::Json)
        .document_version("$LATEST")
        .send()
        .await
    {
        Ok(out) => out
            .document_description
            .and_then(|d| d.document_version)
            .unwrap_or_default(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_duplicate_document_content()) =>
        {
            version_holding(c, name, content).await?
        }
        Err(e) => return Err(AwsError::from_sdk("UpdateDocument", &e)),
    };
    c.update_document_default_version()
        .name(name)
        .document_version(version)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateDocumentDefaultVersion", &e))?;
    Ok(())
}

/// The newest version of the document whose content is `content`.
async fn version_holding(c: &Client, name: &str, content: &str) -> Result<String, AwsError> {
    let d = c
        .describe_document()
        .name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeDocument", &e))?;
    let latest: u32 = d
        .document
        .and_then(|d| d.latest_version)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let want: Option<serde_json::Value> = serde_json::from_str(content).ok();
    for v in (1..=latest).rev() {
        let got = c
            .get_document()
            .name(name)
            .document_version(v.to_string())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetDocument", &e))?;
        let have = got.content().unwrap_or("");
        if have == content || (want.is_some() && serde_json::from_str(have).ok() == want) {
            return Ok(v.to_string());
        }
    }
    Err(AwsError::Api {
        operation: "UpdateDocument",
        code: "DuplicateDocumentContent".into(),
        message: format!(
            "SSM reports the content of {name} as a duplicate, but no version holds it"
        ),
    })
}

/// Make the document's tags `want` (it has `have`).
#[tracing::instrument(skip_all, fields(document = name))]
pub async fn sync_document_tags(
    c: &Client,
    name: &str,
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let gone: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !gone.is_empty() {
        c.remove_tags_from_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(name)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("RemoveTagsFromResource", &e))?;
    }
    let changed: BTreeMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        c.add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(name)
            .set_tags(Some(tags(&changed)?))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("AddTagsToResource", &e))?;
    }
    Ok(())
}

/// Delete the document; already gone is fine.
#[tracing::instrument(skip_all, fields(document = name))]
pub async fn delete_document(c: &Client, name: &str) -> Result<(), AwsError> {
    match c.delete_document().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_invalid_document()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteDocument", &e)),
    }
}

#[tracing::instrument(skip_all)]
pub async fn activation_tier(c: &Client) -> Result<Tier, AwsError> {
    let out = c
        .get_service_setting()
        .setting_id(ACTIVATION_TIER)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetServiceSetting", &e))?;
    let s = out.service_setting.ok_or_else(|| AwsError::Api {
        operation: "GetServiceSetting",
        code: String::new(),
        message: "the answer has no ServiceSetting".into(),
    })?;
    Ok(Tier {
        value: s.setting_value().unwrap_or("standard").to_string(),
        status: s.status().unwrap_or("").to_string(),
        arn: s.arn().unwrap_or("").to_string(),
    })
}

/// Switch the account and region to the advanced tier and wait until AWS no longer reports
/// `PendingUpdate`. Never the other way: downgrading ends hybrid nodes' sessions.
#[tracing::instrument(skip_all)]
pub async fn enable_advanced_tier(
    c: &Client,
    until: Instant,
    cancel: &CancellationToken,
) -> Result<Tier, AwsError> {
    c.update_service_setting()
        .setting_id(ACTIVATION_TIER)
        .setting_value("advanced")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateServiceSetting", &e))?;
    wait_until(until, cancel, Backoff::states(), || async {
        let t = activation_tier(c).await?;
        Ok(if t.status == "PendingUpdate" || t.value != "advanced" {
            Poll::Pending(format!(
                "activation tier advanced (now {} {})",
                t.value, t.status
            ))
        } else {
            Poll::Done(t)
        })
    })
    .await
}

/// The caller's (partition, account), from the activation tier setting's ARN: one SSM call,
/// no STS or IAM permission needed.
pub async fn partition_account(c: &Client) -> Result<(String, String), AwsError> {
    let t = activation_tier(c).await?;
    let partition = t.arn.split(':').nth(1).unwrap_or("aws").to_string();
    let account = account_of(&t.arn).unwrap_or("").to_string();
    Ok((partition, account))
}

/// The account in an ARN (`arn:aws:ssm:R:ACCOUNT:…`).
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_from_arn() {
        assert_eq!(
            account_of("arn:aws:ssm:us-east-1:123456789012:servicesetting/ssm/managed-instance/activation-tier"),
            Some("123456789012")
        );
        assert_eq!(account_of("nonsense"), None);
    }
}
