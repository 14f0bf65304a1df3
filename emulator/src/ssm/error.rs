//! SSM's errors: typed in the backend (`SsmError`: a code SSM declares and a message), shaped on
//! the wire as `__type` and `message`.
use crate::error::AwsError;

/// The error codes SSM's operations declare (and ValidationException and AccessDeniedException,
/// common to all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsmCode {
    Validation,
    InternalServerError,
    InvalidNextToken,
    InvalidActivationId,
    InvalidActivation,
    InvalidParameters,
    InvalidFilterKey,
    InvalidInstanceId,
    DuplicateInstanceId,
    InvalidCommandId,
    InvocationDoesNotExist,
    InvalidPluginName,
    InvalidDocument,
    InvalidDocumentVersion,
    InvalidDocumentContent,
    InvalidDocumentSchemaVersion,
    InvalidDocumentOperation,
    DocumentAlreadyExists,
    DuplicateDocumentContent,
    ParameterNotFound,
    ParameterVersionNotFound,
    ParameterAlreadyExists,
    UnsupportedParameterType,
    InvalidAllowedPattern,
    ServiceSettingNotFound,
    TargetNotConnected,
    InvalidResourceId,
    InvalidResourceType,
    TooManyTagsError,
    AssociationDoesNotExist,
    AssociationAlreadyExists,
    InvalidTarget,
    AccessDenied,
}

impl SsmCode {
    pub fn as_str(self) -> &'static str {
        use SsmCode::*;
        match self {
            Validation => "ValidationException",
            InternalServerError => "InternalServerError",
            InvalidNextToken => "InvalidNextToken",
            InvalidActivationId => "InvalidActivationId",
            InvalidActivation => "InvalidActivation",
            InvalidParameters => "InvalidParameters",
            InvalidFilterKey => "InvalidFilterKey",
            InvalidInstanceId => "InvalidInstanceId",
            DuplicateInstanceId => "DuplicateInstanceId",
            InvalidCommandId => "InvalidCommandId",
            InvocationDoesNotExist => "InvocationDoesNotExist",
            InvalidPluginName => "InvalidPluginName",
            InvalidDocument => "InvalidDocument",
            InvalidDocumentVersion => "InvalidDocumentVersion",
            InvalidDocumentContent => "InvalidDocumentContent",
            InvalidDocumentSchemaVersion => "InvalidDocumentSchemaVersion",
            InvalidDocumentOperation => "InvalidDocumentOperation",
            DocumentAlreadyExists => "DocumentAlreadyExists",
            DuplicateDocumentContent => "DuplicateDocumentContent",
            ParameterNotFound => "ParameterNotFound",
            ParameterVersionNotFound => "ParameterVersionNotFound",
            ParameterAlreadyExists => "ParameterAlreadyExists",
            UnsupportedParameterType => "UnsupportedParameterType",
            InvalidAllowedPattern => "InvalidAllowedPatternException",
            ServiceSettingNotFound => "ServiceSettingNotFound",
            TargetNotConnected => "TargetNotConnected",
            InvalidResourceId => "InvalidResourceId",
            InvalidResourceType => "InvalidResourceType",
            TooManyTagsError => "TooManyTagsError",
            AssociationDoesNotExist => "AssociationDoesNotExist",
            AssociationAlreadyExists => "AssociationAlreadyExists",
            InvalidTarget => "InvalidTarget",
            AccessDenied => "AccessDeniedException",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SsmError {
    pub code: SsmCode,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, SsmError>;

pub fn fail(code: SsmCode, message: impl Into<String>) -> SsmError {
    SsmError {
        code,
        message: message.into(),
    }
}

/// A required member that is absent or empty, as SSM's validation words it.
pub fn missing(member: &str) -> SsmError {
    let mut c = member.chars();
    let lower = c
        .next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default();
    fail(
        SsmCode::Validation,
        format!("1 validation error detected: Value null at '{lower}' failed to satisfy constraint: Member must not be null"),
    )
}

/// `value`, or the validation error for a missing `member`.
pub fn required<'s>(value: &'s str, member: &str) -> Result<&'s str> {
    if value.is_empty() {
        Err(missing(member))
    } else {
        Ok(value)
    }
}

impl From<SsmError> for AwsError {
    fn from(e: SsmError) -> Self {
        AwsError::new(400, e.code.as_str(), e.message)
    }
}
