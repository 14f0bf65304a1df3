//! AWS Security Token Service (`AWSSecurityTokenServiceV20110615`, awsQuery): GetCallerIdentity,
//! AssumeRole and AssumeRoleWithWebIdentity. Issued credentials are temporary: SigV4
//! verification accepts them with their session token until they expire (on the emulator's
//! clock), and they act in the role's account. `wire` reads the form and renders the result
//! (the XML framing is `query`'s), `backend` holds the credentials and the rules.
pub mod backend;
pub mod wire;

pub use backend::{Backend, StsError};

pub type Handler = crate::Handler<Backend>;

/// STS as a service: awsQuery, one backend for the whole emulator (its credentials work in
/// every region). The web identity call is unsigned: the token is the credential.
pub static SERVICE: crate::service::Table<Backend> = crate::service::Table {
    name: "STS",
    model: "sts",
    target_prefix: "AWSSecurityTokenServiceV20110615",
    signing_name: "sts",
    protocol: crate::service::Protocol::AwsQuery,
    scope: crate::service::Scope::Global,
    operations: wire::OPERATIONS,
    unsigned: &["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"],
    summary: None,
};

/// ISO 8601, as the query protocol writes timestamps.
pub fn iso8601(secs: f64) -> String {
    aws_smithy_types::DateTime::from_secs_f64(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}
