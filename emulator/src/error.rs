//! Errors shaped the way AWS JSON protocols shape them, so SDK error matching works.
use serde_json::{json, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub status: u16,
    /// The `__type`, e.g. `NotFoundException`.
    pub code: String,
    pub message: String,
    /// Extra members of the error shape (Lightsail's `code`, `docs`, `tip`).
    pub extra: Option<Box<Json>>,
    /// For awsQueryCompatible services (CloudWatch): the `x-amzn-query-error` header,
    /// `Code;Sender`, which SDKs match error codes on.
    pub query_error: Option<String>,
}

impl AwsError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
            extra: None,
            query_error: None,
        }
    }
    /// An error of an awsQueryCompatible service: shape name in `__type`, query code in a header.
    pub fn query_compatible(
        status: u16,
        shape: &str,
        query_code: &str,
        message: impl Into<String>,
    ) -> Self {
        let mut e = Self::new(status, shape, message);
        e.query_error = Some(format!("{query_code};Sender"));
        e
    }

    pub fn throttling() -> Self {
        Self::new(400, "ThrottlingException", "Rate exceeded")
    }
    pub fn service_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailableException",
            "Service is unavailable. Please try again later.",
        )
    }
    pub fn internal_failure() -> Self {
        Self::new(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
    pub fn unknown_operation(target: &str) -> Self {
        Self::new(
            400,
            "UnknownOperationException",
            format!("hastack-local does not implement {target}"),
        )
    }
    pub fn serialization(msg: impl Into<String>) -> Self {
        Self::new(400, "SerializationException", msg)
    }

    /// The awsJson1_1 body.
    pub fn body(&self) -> Json {
        let mut b = json!({"__type": self.code, "message": self.message});
        if let (Some(Json::Object(extra)), Some(obj)) = (self.extra.as_deref(), b.as_object_mut()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        b
    }
}
