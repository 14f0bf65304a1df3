//! Lightsail: the client, Operation waits, tags, load balancers.
use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lightsail::types::{LoadBalancer, Operation, OperationStatus, Tag};
use aws_sdk_lightsail::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;
use super::wait::{wait_until, Backoff, Poll};
use crate::config::Configured;

pub fn client(c: &Configured) -> Client {
    Client::new(&c.for_service("lightsail"))
}

/// The operation's failure as an error: id, type, errorCode and errorDetails verbatim.
fn failed(op: &Operation) -> AwsError {
    AwsError::OperationFailed {
        id: op.id().unwrap_or_default().to_string(),
        operation_type: op
            .operation_type()
            .map(|t| t.as_str())
            .unwrap_or_default()
            .to_string(),
        code: op.error_code().unwrap_or("").to_string(),
        details: op.error_details().unwrap_or("").to_string(),
    }
}

/// Wait until every operation has succeeded, polling with backoff (100 ms growing by half to
/// 5 s) until `deadline`, stopping at once when `cancel` fires.
#[tracing::instrument(skip_all, fields(operations = ops.len()))]
pub async fn wait_operations(
    client: &Client,
    ops: &[Operation],
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), AwsError> {
    let mut pending: Vec<String> = Vec::new();
    // Operations returned already terminal need no poll.
    for o in ops {
        match o.status() {
            Some(OperationStatus::Succeeded) | Some(OperationStatus::Completed) => {}
            Some(OperationStatus::Failed) => return Err(failed(o)),
            _ => pending.extend(o.id().map(str::to_string)),
        }
    }
    if pending.is_empty() {
        return Ok(());
    }
    let pending = std::sync::Mutex::new(pending);
    let mut first = true;
    wait_until(deadline, cancel, Backoff::operations(), || {
        let skip = std::mem::replace(&mut first, false);
        let pending = &pending;
        async move {
            if skip {
                // The call that returned the operations just happened: pause before the first look.
                let left = pending.lock().expect("pending").clone();
                return Ok(Poll::Pending(format!("operations {left:?}")));
            }
            // Operations of one call finish together: poll the oldest pending one, and the
            // next only once it is done, so a batch costs about one call per round.
            let ids = pending.lock().expect("pending").clone();
            for id in ids {
                let op = get_operation(client, &id).await?;
                match op.status() {
                    Some(OperationStatus::Succeeded) | Some(OperationStatus::Completed) => {
                        pending.lock().expect("pending").retain(|p| *p != id);
                    }
                    Some(OperationStatus::Failed) => return Err(failed(&op)),
                    _ => break,
                }
            }
            let left = pending.lock().expect("pending").clone();
            Ok(if left.is_empty() {
                Poll::Done(())
            } else {
                Poll::Pending(format!("operations {left:?}"))
            })
        }
    })
    .await
}

async fn get_operation(client: &Client, id: &str) -> Result<Operation, AwsError> {
    client
        .get_operation()
        .operation_id(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetOperation", &e))?
        .operation
        .ok_or_else(|| AwsError::Wait(format!("GetOperation {id} returned no operation")))
}

/// Lightsail tags from a map.
pub fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// A map from Lightsail tags.
pub fn tag_map(t: &[Tag]) -> BTreeMap<String, String> {
    t.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
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
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), AwsError> {
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
            .map_err(|e| AwsError::from_sdk("UntagResource", &e))?;
        wait_operations(client, out.operations(), deadline, cancel).await?;
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
            .map_err(|e| AwsError::from_sdk("TagResource", &e))?;
        wait_operations(client, out.operations(), deadline, cancel).await?;
    }
    Ok(())
}

/// The load balancer `name`; `NotFound` when it does not exist.
#[tracing::instrument(skip_all, fields(load_balancer = name))]
pub async fn find_load_balancer(c: &Client, name: &str) -> Result<LoadBalancer, AwsError> {
    match c.get_load_balancer().load_balancer_name(name).send().await {
        Ok(out) => out
            .load_balancer
            .ok_or_else(|| AwsError::not_found(format!("load balancer {name}"))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            Err(AwsError::not_found(format!("load balancer {name}")))
        }
        Err(e) => Err(AwsError::from_sdk("GetLoadBalancer", &e)),
    }
}

/// (attached instance, health) of a load balancer; `NotFound` when it does not exist.
pub async fn lb_health(c: &Client, lb: &str) -> Result<Vec<(String, String)>, AwsError> {
    let l = find_load_balancer(c, lb).await?;
    Ok(l.instance_health_summary()
        .iter()
        .filter_map(|h| {
            Some((
                h.instance_name()?.to_string(),
                h.instance_health()
                    .map(|x| x.as_str().to_string())
                    .unwrap_or_default(),
            ))
        })
        .collect())
}

/// Until every instance in `names` is healthy on `lb` (all attached ones when `names` is
/// `None`); the last health read.
pub async fn wait_healthy(
    c: &Client,
    lb: &str,
    names: Option<&[&str]>,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<Vec<(String, String)>, AwsError> {
    wait_until(deadline, cancel, Backoff::states(), || async move {
        let health = lb_health(c, lb).await?;
        let sick: Vec<String> = health
            .iter()
            .filter(|(n, _)| names.is_none_or(|w| w.contains(&n.as_str())))
            .filter(|(_, h)| h != "healthy")
            .map(|(n, h)| format!("{n}: {h}"))
            .collect();
        let missing: Vec<&str> = names
            .unwrap_or_default()
            .iter()
            .filter(|n| !health.iter().any(|(h, _)| h == *n))
            .copied()
            .collect();
        Ok(if sick.is_empty() && missing.is_empty() {
            Poll::Done(health)
        } else if let Some([one]) = names {
            Poll::Pending(format!("{one} to be healthy on load balancer {lb}"))
        } else {
            Poll::Pending(format!(
                "instances to be healthy on load balancer {lb} (now {})",
                sick.iter()
                    .map(String::as_str)
                    .chain(missing.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    })
    .await
}

/// A deadline `timeout` from now.
pub fn deadline(timeout: Duration) -> Instant {
    Instant::now() + timeout
}
