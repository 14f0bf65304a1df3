//! AWS plumbing shared by resources: clients, operation waits, error text.
pub mod instances;
pub mod lightsail;
pub mod ssm;

use std::time::Duration;

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An AWS call failed: the operation's error code verbatim, and its full context.
pub fn describe<E: std::error::Error + ProvideErrorMetadata + 'static, R: std::fmt::Debug>(
    op: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> (String, String) {
    let code = err.code().unwrap_or("").to_string();
    let detail = format!(
        "{op} failed: {}{}",
        if code.is_empty() {
            String::new()
        } else {
            format!("{code}: ")
        },
        DisplayErrorContext(err)
    );
    (code, detail)
}

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

#[cfg(test)]
mod tests {
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
}
