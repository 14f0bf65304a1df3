//! Lightsail: client construction and waiting for Operations.
use std::time::Duration;

use aws_sdk_lightsail::types::{Operation, OperationStatus};
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
