//! Lightsail's error shapes: `__type` plus `code`, `docs`, `message`, `tip`.
use serde_json::json;

use crate::error::AwsError;

fn lightsail(code: &str, message: String) -> AwsError {
    let mut e = AwsError::new(400, code, message.clone());
    e.extra = Some(Box::new(
        json!({"code": code, "docs": "https://docs.aws.amazon.com/lightsail/", "tip": "", "message": message}),
    ));
    e
}

pub fn not_found(kind: &str, name: &str) -> AwsError {
    lightsail(
        "NotFoundException",
        format!("The {kind} does not exist: {name}"),
    )
}

pub fn invalid_input(message: impl Into<String>) -> AwsError {
    lightsail("InvalidInputException", message.into())
}

pub fn operation_failure(message: impl Into<String>) -> AwsError {
    lightsail("OperationFailureException", message.into())
}
