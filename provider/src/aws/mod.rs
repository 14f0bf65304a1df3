//! AWS plumbing per service, below the resources: clients, finders (whose "not found" is
//! [`AwsError::NotFound`]), status reads, and the one waiter. Nothing here imports from
//! `resources/` or `fleet/`.
pub mod error;
pub mod instances;
pub mod lightsail;
pub mod params;
pub mod run;
pub mod ssm;
pub mod wait;
// Ops tier.
pub mod cloudwatch;
pub mod logs;
pub mod session_manager;
pub mod state_manager;

pub use error::{AwsError, OrGone};
pub use wait::{wait_until, Backoff, Poll};
