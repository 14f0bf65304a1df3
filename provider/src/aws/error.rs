//! One error type for every AWS call and wait: "gone" and "transient" are never confused, and
//! the operation and AWS error code travel to the diagnostic verbatim.
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AwsError {
    /// The thing asked for does not exist (a finder's answer, not a failure).
    #[error("{what} not found")]
    NotFound { what: String },
    /// AWS kept throttling after the SDK's retries.
    #[error("{operation} failed: {code}: throttled by AWS after retries: {message}")]
    Throttled {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// Any other error AWS answered, with its code verbatim (empty when there was none, e.g.
    /// a connection failure).
    #[error("{operation} failed: {}{message}", if code.is_empty() { String::new() } else { format!("{code}: ") })]
    Api {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// A Lightsail operation ended `Failed`: its id, type, errorCode and errorDetails verbatim.
    #[error("operation {id} ({operation_type}) failed: {code}: {details}")]
    OperationFailed {
        id: String,
        operation_type: String,
        code: String,
        details: String,
    },
    /// A wait saw a state it cannot leave.
    #[error("{0}")]
    Wait(String),
    #[error("cancelled (Terraform asked the provider to stop)")]
    Cancelled,
    #[error("timed out waiting for {what} (after {after:?})")]
    TimedOut { after: Duration, what: String },
}

const THROTTLING: [&str; 6] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottledException",
];

impl AwsError {
    /// The error of an SDK call: its code verbatim and its whole context.
    pub fn from_sdk<E, R>(operation: &'static str, err: &SdkError<E, R>) -> AwsError
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        let code = err.code().unwrap_or("").to_string();
        let message = DisplayErrorContext(err).to_string();
        if THROTTLING.contains(&code.as_str()) {
            AwsError::Throttled {
                operation,
                code,
                message,
            }
        } else {
            AwsError::Api {
                operation,
                code,
                message,
            }
        }
    }

    pub fn not_found(what: impl Into<String>) -> AwsError {
        AwsError::NotFound { what: what.into() }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    /// Whether a Lightsail operation of one of `types` (e.g. `PutInstancePublicPorts`) failed.
    pub fn is_failed_operation(&self, types: &[&str]) -> bool {
        matches!(self, AwsError::OperationFailed { operation_type, .. } if types.contains(&operation_type.as_str()))
    }

    /// The AWS error code, when AWS gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Throttled { code, .. }
            | AwsError::Api { code, .. }
            | AwsError::OperationFailed { code, .. }
                if !code.is_empty() =>
            {
                Some(code)
            }
            _ => None,
        }
    }
}

/// `Ok(None)` for `NotFound`: for callers to whom "gone" is an answer.
pub trait OrGone<T> {
    fn or_gone(self) -> Result<Option<T>, AwsError>;
}

impl<T> OrGone<T> for Result<T, AwsError> {
    fn or_gone(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(t) => Ok(Some(t)),
            Err(AwsError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_operation_and_code() {
        let e = AwsError::Api {
            operation: "CreateInstances",
            code: "InvalidInputException".into(),
            message: "bad bundle".into(),
        };
        assert_eq!(
            e.to_string(),
            "CreateInstances failed: InvalidInputException: bad bundle"
        );
        assert_eq!(e.code(), Some("InvalidInputException"));
        let e = AwsError::Api {
            operation: "GetInstances",
            code: String::new(),
            message: "dispatch failure".into(),
        };
        assert_eq!(e.to_string(), "GetInstances failed: dispatch failure");
        assert_eq!(e.code(), None);
    }

    #[test]
    fn gone_is_an_answer_not_an_error() {
        let r: Result<u8, AwsError> = Err(AwsError::not_found("load balancer x"));
        assert_eq!(r.or_gone(), Ok(None));
        let r: Result<u8, AwsError> = Err(AwsError::Cancelled);
        assert!(r.or_gone().is_err());
    }
}
