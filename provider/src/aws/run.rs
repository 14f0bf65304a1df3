//! SSM Run Command: a shell script (`AWS-RunShellScript`) on managed nodes, waited for.
//! Scripts carry no secret: nodes read secrets from Parameter Store themselves.
use aws_sdk_ssm::types::CommandInvocationStatus;
use aws_sdk_ssm::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;
use super::wait::{wait_until, Backoff, Poll};

/// How one node ran a command.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub node: String,
    /// `Success`, `Failed`, `TimedOut`, `Cancelled`, …
    pub status: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Invocation {
    pub fn succeeded(&self) -> bool {
        self.status == "Success"
    }
}

/// What to run where.
pub struct Script<'a> {
    pub nodes: &'a [String],
    /// Shown in the console and `list-commands` (at most 100 characters).
    pub comment: &'a str,
    pub script: &'a str,
    /// The script's execution timeout on the node, in seconds.
    pub timeout_s: u32,
}

fn terminal(s: &CommandInvocationStatus) -> bool {
    !matches!(
        s,
        CommandInvocationStatus::Pending
            | CommandInvocationStatus::InProgress
            | CommandInvocationStatus::Delayed
            | CommandInvocationStatus::Cancelling
    )
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Send `s` and wait until every node has finished it (whatever the outcome).
pub async fn run(
    c: &Client,
    s: Script<'_>,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<Vec<Invocation>, AwsError> {
    match run_within(c, s, deadline, cancel).await? {
        Ran::All(done) => Ok(done),
        Ran::Partly { error, .. } => Err(error),
    }
}

/// What [`run_within`] saw by its deadline.
pub enum Ran {
    /// Every node finished.
    All(Vec<Invocation>),
    /// The deadline came first: the nodes that finished, and the timeout.
    Partly {
        done: Vec<Invocation>,
        error: AwsError,
    },
}

/// Send `s` and wait until every node has finished it or `deadline` comes (then the nodes that
/// finished by then). A failure to send or to ask, and cancellation, are errors.
#[tracing::instrument(skip_all, fields(comment = s.comment, nodes = s.nodes.len()))]
pub async fn run_within(
    c: &Client,
    s: Script<'_>,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<Ran, AwsError> {
    let comment: String = s.comment.chars().take(100).collect();
    let sent = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(s.nodes.to_vec()))
        .comment(comment)
        .parameters("commands", vec![s.script.to_string()])
        .parameters("executionTimeout", vec![s.timeout_s.to_string()])
        .timeout_seconds(30)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("SendCommand", &e))?;
    let id = sent
        .command()
        .and_then(|c| c.command_id())
        .ok_or_else(|| AwsError::Wait("SendCommand returned no command id".into()))?
        .to_string();
    tracing::debug!(command = id, "sent");
    let done: std::sync::Mutex<Vec<Invocation>> = std::sync::Mutex::new(Vec::new());
    let done = &done;
    let waited = wait_until(
        deadline,
        cancel,
        Backoff::new(
            std::time::Duration::from_millis(200),
            std::time::Duration::from_secs(1),
        ),
        || {
            let id = id.clone();
            let pending: Vec<String> = s
                .nodes
                .iter()
                .filter(|n| !lock(done).iter().any(|d| &d.node == *n))
                .cloned()
                .collect();
            async move {
                for node in &pending {
                    let inv = match c
                        .get_command_invocation()
                        .command_id(&id)
                        .instance_id(node)
                        .send()
                        .await
                    {
                        Ok(inv) => inv,
                        // Not yet delivered: the invocation appears shortly after SendCommand.
                        Err(e) if e.code() == Some("InvocationDoesNotExist") => continue,
                        Err(e) => return Err(AwsError::from_sdk("GetCommandInvocation", &e)),
                    };
                    let Some(status) = inv.status() else { continue };
                    if terminal(status) {
                        lock(done).push(Invocation {
                            node: node.clone(),
                            status: status.as_str().to_string(),
                            code: inv.response_code(),
                            stdout: inv.standard_output_content().unwrap_or("").to_string(),
                            stderr: inv.standard_error_content().unwrap_or("").to_string(),
                        });
                    }
                }
                let left = pending.len()
                    - lock(done)
                        .iter()
                        .filter(|d| pending.contains(&d.node))
                        .count();
                Ok(if left == 0 {
                    Poll::Done(())
                } else {
                    Poll::Pending(format!("command {id} to finish on {left} node(s)"))
                })
            }
        },
    )
    .await;
    let mut done = std::mem::take(&mut *lock(done));
    done.sort_by_key(|d| s.nodes.iter().position(|n| *n == d.node));
    match waited {
        Ok(()) => Ok(Ran::All(done)),
        Err(error @ AwsError::TimedOut { .. }) => Ok(Ran::Partly { done, error }),
        Err(e) => Err(e),
    }
}

/// The invocations, or an error naming each node that did not succeed and the end of what
/// it printed.
pub fn all_succeeded(what: &str, invs: Vec<Invocation>) -> Result<Vec<Invocation>, AwsError> {
    let failed: Vec<String> = invs
        .iter()
        .filter(|i| !i.succeeded())
        .map(|i| {
            let tail: String = i
                .stderr
                .lines()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            format!("{}: {} (exit {}):\n{tail}", i.node, i.status, i.code)
        })
        .collect();
    if failed.is_empty() {
        Ok(invs)
    } else {
        Err(AwsError::Wait(format!(
            "{what} failed on {}",
            failed.join("\n")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(node: &str, status: &str, stderr: &str) -> Invocation {
        Invocation {
            node: node.into(),
            status: status.into(),
            code: if status == "Success" { 0 } else { 1 },
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn failures_name_the_node_and_the_last_lines() {
        let err = all_succeeded(
            "redis setup",
            vec![
                inv("mi-1", "Success", ""),
                inv("mi-2", "Failed", "a\nb\nredis-server: bad config"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("redis setup failed on mi-2: Failed (exit 1)"),
            "{err}"
        );
        assert!(err.contains("bad config"), "{err}");
        assert!(!err.contains("mi-1"), "{err}");
    }
}
