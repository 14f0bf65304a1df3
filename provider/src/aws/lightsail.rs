//! Lightsail: client construction and waiting for Operations.
use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lightsail::types::{Operation, OperationStatus, Tag};
use aws_sdk_lightsail::Client;
use tokio_util::sync::CancellationToken;

use crate::config::Configured;

pub fn client(c: &Configured) -> Client {
    Client::new(&c.for_service("lightsail"))
}

/// Why waiting for operations did not end in success.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WaitError {
    #[error("operation {id} ({kind}) failed: {code}: {details}")]
    Failed {
        id: String,
        kind: String,
        code: String,
        details: String,
    },
    #[error("timed out after {0:?} waiting for operations {1:?}")]
    TimedOut(Duration, Vec<String>),
    #[error("cancelled (Terraform asked the provider to stop)")]
    Cancelled,
    #[error("GetOperation failed: {0}")]
    Api(String),
}

/// Wait until every operation has succeeded, polling with backoff (100 ms growing by half to 5 s),
/// within `timeout`, stopping at once when `cancel` fires.
#[tracing::instrument(skip_all, fields(operations = ops.len()))]
pub async fn wait_operations(
    client: &Client,
    ops: &[Operation],
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), WaitError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pending: Vec<String> = ops
        .iter()
        .filter_map(|o| o.id().map(str::to_string))
        .collect();
    let mut backoff = crate::aws::Backoff::operations();
    // Operations returned already terminal need no poll.
    for o in ops {
        check(o, &mut pending)?;
    }
    while !pending.is_empty() {
        tokio::select! {
            _ = cancel.cancelled() => return Err(WaitError::Cancelled),
            _ = tokio::time::sleep_until((tokio::time::Instant::now() + backoff.next().unwrap_or_default()).min(deadline)) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(WaitError::TimedOut(timeout, pending));
        }
        // Operations of one call finish together: poll the oldest pending one, and the next
        // only once it is done, so a batch costs about one call per round, not one per op.
        for id in pending.clone() {
            let op = client
                .get_operation()
                .operation_id(&id)
                .send()
                .await
                .map_err(|e| WaitError::Api(crate::aws::describe("GetOperation", &e).1))?
                .operation
                .ok_or_else(|| {
                    WaitError::Api(format!("GetOperation {id} returned no operation"))
                })?;
            check(&op, &mut pending)?;
            if pending.contains(&id) {
                break;
            }
        }
    }
    Ok(())
}

fn check(op: &Operation, pending: &mut Vec<String>) -> Result<(), WaitError> {
    let id = op.id().unwrap_or_default().to_string();
    match op.status() {
        Some(OperationStatus::Succeeded) | Some(OperationStatus::Completed) => {
            pending.retain(|p| *p != id);
            Ok(())
        }
        Some(OperationStatus::Failed) => Err(WaitError::Failed {
            id,
            kind: op
                .operation_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            code: op.error_code().unwrap_or("").to_string(),
            details: op.error_details().unwrap_or("").to_string(),
        }),
        _ => Ok(()),
    }
}

/// Lightsail tags from a map.
pub fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Make the tags of Lightsail resource `name` exactly `want` (it has `have`): untag what went,
/// tag what is new or changed, each waited for. No call when nothing differs.
#[tracing::instrument(skip_all, fields(resource = name))]
pub async fn sync_tags(
    client: &Client,
    name: &str,
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
    let removed: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        let out = client
            .untag_resource()
            .resource_name(name)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| crate::aws::describe("UntagResource", &e).1)?;
        wait_operations(client, out.operations(), left(), cancel)
            .await
            .map_err(|e| e.to_string())?;
    }
    let changed: BTreeMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        let out = client
            .tag_resource()
            .resource_name(name)
            .set_tags(Some(tags(&changed)))
            .send()
            .await
            .map_err(|e| crate::aws::describe("TagResource", &e).1)?;
        wait_operations(client, out.operations(), left(), cancel)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
