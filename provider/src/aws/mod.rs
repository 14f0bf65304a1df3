//! AWS plumbing per service, below the resources: clients, finders (whose "not found" is
//! [`AwsError::NotFound`]), status reads, and the one waiter. Nothing here imports from
//! `resources/` or `fleet/`.
pub mod error;
pub mod instances;
pub mod lightsail;
pub mod ssm;
pub mod wait;

pub use error::{AwsError, OrGone};
pub use wait::{wait_until, Backoff, Poll};
