//! SSM's error shapes: `__type` and `message` (and `Message` for some).
use crate::error::AwsError;

pub fn err(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::new(400, code, message)
}

pub fn validation(message: impl Into<String>) -> AwsError {
    err("ValidationException", message)
}
