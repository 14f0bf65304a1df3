//! The one state waiter (in the spirit of terraform-plugin-sdk's `retry.StateChangeConf`):
//! poll a status function with backoff until it says done, fails, the deadline passes or
//! Terraform asks the provider to stop.
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;

/// Poll intervals: start at `first`, grow by half each time, never above `cap`. Growth by 1.5
/// (not 2) keeps the overshoot after a wait ends under half the elapsed time.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration) -> Self {
        Backoff { next: first, cap }
    }

    /// Operations: 100 ms up to 5 s.
    pub fn operations() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(5))
    }

    /// States no operation reports (boot, registration, health): 250 ms up to 2 s, so the
    /// wait adds little of its own to an apply.
    pub fn states() -> Self {
        Self::new(Duration::from_millis(250), Duration::from_secs(2))
    }
}

impl Iterator for Backoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = d.mul_f64(1.5).min(self.cap);
        Some(d)
    }
}

/// What one look at the state found.
#[derive(Debug, PartialEq)]
pub enum Poll<T> {
    /// The target state: the wait is over.
    Done(T),
    /// Not yet; the text says what is awaited (it ends up in the time-out message).
    Pending(String),
}

/// Poll `status` until it returns `Done`, an error, or the wait ends. The first look is
/// immediate; each later one follows a backoff pause clamped to the deadline, and one last
/// look happens at the deadline itself before `TimedOut`.
pub async fn wait_until<T, F, Fut>(
    deadline: Instant,
    cancel: &CancellationToken,
    mut backoff: Backoff,
    mut status: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, AwsError>>,
{
    let started = Instant::now();
    loop {
        if cancel.is_cancelled() {
            return Err(AwsError::Cancelled);
        }
        let what = match status().await? {
            Poll::Done(t) => return Ok(t),
            Poll::Pending(what) => what,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(AwsError::TimedOut {
                after: now.saturating_duration_since(started),
                what,
            });
        }
        let pause = backoff
            .next()
            .unwrap_or_default()
            .min(deadline.saturating_duration_since(now));
        tokio::select! {
            _ = cancel.cancelled() => return Err(AwsError::Cancelled),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn backoff_grows_by_half_up_to_the_cap() {
        let ms: Vec<u128> = Backoff::operations()
            .take(12)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(ms[..5], [100, 150, 225, 337, 506]);
        assert_eq!(*ms.last().unwrap(), 5000);
        assert!(Backoff::states()
            .take(20)
            .all(|d| d <= Duration::from_secs(2)));
    }

    // The clock is tokio's paused clock: no test sleeps on the wall clock.
    #[tokio::test(start_paused = true)]
    async fn done_after_some_polls() {
        let n = Arc::new(AtomicUsize::new(0));
        let out = wait_until(
            Instant::now() + Duration::from_secs(60),
            &CancellationToken::new(),
            Backoff::states(),
            || {
                let n = n.clone();
                async move {
                    Ok(if n.fetch_add(1, Ordering::SeqCst) == 3 {
                        Poll::Done("ready")
                    } else {
                        Poll::Pending("ready".into())
                    })
                }
            },
        )
        .await;
        assert_eq!(out, Ok("ready"));
        assert_eq!(n.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn never_sleeps_past_the_deadline() {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(1100);
        let out: Result<(), _> = wait_until(
            deadline,
            &CancellationToken::new(),
            Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
            || async { Ok(Poll::Pending("healthy instances".into())) },
        )
        .await;
        match out {
            Err(AwsError::TimedOut { what, .. }) => assert_eq!(what, "healthy instances"),
            other => panic!("{other:?}"),
        }
        // Polls at 0, 1.0 s and at the deadline (1.1 s), not at 2.5 s.
        assert_eq!(Instant::now() - start, Duration::from_millis(1100));
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_the_wait() {
        let cancel = CancellationToken::new();
        let c2 = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            c2.cancel();
        });
        let out: Result<(), _> = wait_until(
            Instant::now() + Duration::from_secs(600),
            &cancel,
            Backoff::states(),
            || async { Ok(Poll::Pending("x".into())) },
        )
        .await;
        assert_eq!(out, Err(AwsError::Cancelled));
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_ends_the_wait() {
        let out: Result<(), _> = wait_until(
            Instant::now() + Duration::from_secs(600),
            &CancellationToken::new(),
            Backoff::states(),
            || async { Err(AwsError::Wait("operation failed".into())) },
        )
        .await;
        assert_eq!(out, Err(AwsError::Wait("operation failed".into())));
    }
}
