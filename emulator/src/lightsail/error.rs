//! Lightsail's errors: typed in the backend, shaped on the wire as Lightsail shapes them
//! (`__type` plus `code`, `docs`, `message`, `tip`).
use serde_json::json;

use crate::error::AwsError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LightsailError {
    #[error("The {kind} does not exist: {name}")]
    NotFound { kind: &'static str, name: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    OperationFailure(String),
}

impl LightsailError {
    pub fn code(&self) -> &'static str {
        match self {
            LightsailError::NotFound { .. } => "NotFoundException",
            LightsailError::InvalidInput(_) => "InvalidInputException",
            LightsailError::OperationFailure(_) => "OperationFailureException",
        }
    }
}

pub fn not_found(kind: &'static str, name: &str) -> LightsailError {
    LightsailError::NotFound {
        kind,
        name: name.to_string(),
    }
}

pub fn invalid_input(message: impl Into<String>) -> LightsailError {
    LightsailError::InvalidInput(message.into())
}

pub fn operation_failure(message: impl Into<String>) -> LightsailError {
    LightsailError::OperationFailure(message.into())
}

impl From<LightsailError> for AwsError {
    fn from(e: LightsailError) -> Self {
        let (code, message) = (e.code(), e.to_string());
        let mut out = AwsError::new(400, code, message.clone());
        out.extra = Some(Box::new(
            json!({"code": code, "docs": "https://docs.aws.amazon.com/lightsail/", "tip": "", "message": message}),
        ));
        out
    }
}
