//! AWS plumbing shared by resources: clients, operation waits, error text.
pub mod instances;
pub mod lightsail;
pub mod ssm;

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
