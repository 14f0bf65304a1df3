//! SSM Parameter Store, for secrets the nodes read themselves: SecureString parameters are
//! written and deleted here, never read back (their values stay out of the provider's memory
//! after the write and out of Terraform's state).
use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::error::AwsError;

/// Whether parameter `name` exists, and its version.
#[tracing::instrument(skip_all, fields(name = name))]
pub async fn version(c: &Client, name: &str) -> Result<Option<i64>, AwsError> {
    match c.get_parameter().name(name).send().await {
        Ok(o) => Ok(o.parameter().map(|p| p.version())),
        Err(e) if e.code() == Some("ParameterNotFound") => Ok(None),
        Err(e) => Err(AwsError::from_sdk("GetParameter", &e)),
    }
}

/// Write a SecureString (the value is never logged).
#[tracing::instrument(skip_all, fields(name = name, overwrite = overwrite))]
pub async fn put_secure(
    c: &Client,
    name: &str,
    value: &str,
    description: &str,
    overwrite: bool,
) -> Result<i64, AwsError> {
    c.put_parameter()
        .name(name)
        .value(value)
        .description(description)
        .r#type(ParameterType::SecureString)
        .overwrite(overwrite)
        .send()
        .await
        .map(|o| o.version())
        .map_err(|e| AwsError::from_sdk("PutParameter", &e))
}

/// Delete `name`; one already gone is fine.
#[tracing::instrument(skip_all, fields(name = name))]
pub async fn delete(c: &Client, name: &str) -> Result<(), AwsError> {
    match c.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ParameterNotFound") => Ok(()),
        Err(e) => Err(AwsError::from_sdk("DeleteParameter", &e)),
    }
}

/// A random secret of `len` characters from the OS's generator: letters and digits only, so
/// it needs no quoting anywhere (configuration files, URLs, `AUTH`).
pub fn generate(len: usize) -> Result<String, AwsError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::getrandom(&mut buf)
            .map_err(|e| AwsError::Wait(format!("no random numbers from the OS: {e}")))?;
        // Rejection sampling: 248 = 4 × 62, so every character is equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[(*b % 62) as usize] as char);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_secrets_are_alphanumeric_and_differ() {
        let a = super::generate(32).unwrap();
        let b = super::generate(32).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
