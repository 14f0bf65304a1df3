//! Parameter Store. SecureString values are stored encrypted with AES-256-GCM under a key
//! that exists only in this emulator's memory, bound to the parameter's name; reading with
//! decryption decrypts them.
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;

use super::error::{fail, required, Result, SsmCode};
use super::Backend;

#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: String,
    pub kind: String,
    /// Plain text, or for SecureString base64(nonce ‖ ciphertext ‖ tag).
    pub stored: String,
    pub version: i64,
    pub modified: f64,
    pub description: String,
    pub key_id: Option<String>,
    pub data_type: String,
    /// Earlier versions, oldest first (Parameter Store keeps 100 in all): what a
    /// `name:version` selector reads.
    pub earlier: Vec<Earlier>,
    /// Set on a read through a `name:version` selector.
    pub selector: Option<String>,
}

/// One earlier version of a parameter.
#[derive(Clone, Debug)]
pub struct Earlier {
    pub version: i64,
    pub stored: String,
    pub modified: f64,
}

/// Parameter Store's limit on versions kept per parameter.
const VERSIONS_KEPT: usize = 100;

/// What PutParameter asks for.
#[derive(Clone, Debug, Default)]
pub struct PutParameter {
    pub name: String,
    pub value: Option<String>,
    pub kind: Option<String>,
    pub overwrite: bool,
    pub description: Option<String>,
    pub key_id: Option<String>,
    pub data_type: Option<String>,
    pub allowed_pattern: Option<String>,
}

/// A parameter as read: its record and its value (decrypted when asked and a SecureString).
#[derive(Clone, Debug)]
pub struct Read {
    pub parameter: Parameter,
    pub value: String,
}

fn key(b: &mut Backend) -> LessSafeKey {
    let bytes = b.secure_key.get_or_insert_with(|| {
        let mut k = [0u8; 32];
        SystemRandom::new().fill(&mut k).expect("system randomness");
        k
    });
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte key"))
}

fn encrypt(b: &mut Backend, name: &str, plain: &str) -> String {
    let k = key(b);
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .expect("system randomness");
    let mut buf = plain.as_bytes().to_vec();
    k.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(name.as_bytes()),
        &mut buf,
    )
    .expect("seal");
    let mut out = nonce.to_vec();
    out.extend(buf);
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn decrypt(b: &mut Backend, name: &str, stored: &str) -> Result<String> {
    let corrupt = |why: &str| fail(SsmCode::InternalServerError, why.to_string());
    let k = key(b);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| corrupt("stored value is corrupt"))?;
    let (nonce, ct) = raw.split_at(NONCE_LEN.min(raw.len()));
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt("stored value is corrupt"))?;
    let mut buf = ct.to_vec();
    let plain = k
        .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf)
        .map_err(|_| corrupt("stored value failed authentication"))?;
    String::from_utf8(plain.to_vec()).map_err(|_| corrupt("stored value is not UTF-8"))
}

fn not_found(name: &str) -> super::error::SsmError {
    fail(
        SsmCode::ParameterNotFound,
        format!("Parameter {name} not found."),
    )
}

impl Backend {
    /// Create or (with `overwrite`) update a parameter; its new version.
    pub fn put_parameter(&mut self, now: f64, req: PutParameter) -> Result<i64> {
        let name = required(&req.name, "Name")?.to_string();
        let value = req
            .value
            .ok_or_else(|| fail(SsmCode::Validation, "Value is required"))?;
        let existing = self.parameters.get(&name).cloned();
        if existing.is_some() && !req.overwrite {
            return Err(fail(SsmCode::ParameterAlreadyExists, "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."));
        }
        let kind = req
            .kind
            .or_else(|| existing.as_ref().map(|p| p.kind.clone()))
            .unwrap_or_else(|| "String".into());
        if !["String", "StringList", "SecureString"].contains(&kind.as_str()) {
            return Err(fail(
                SsmCode::UnsupportedParameterType,
                format!("Parameter type {kind} is not supported"),
            ));
        }
        if value.len() > 4096 {
            return Err(fail(
                SsmCode::Validation,
                "Value must be at most 4096 characters for the Standard tier",
            ));
        }
        if req.allowed_pattern.as_deref() == Some("") {
            return Err(fail(
                SsmCode::InvalidAllowedPattern,
                "AllowedPattern is empty",
            ));
        }
        let stored = if kind == "SecureString" {
            encrypt(self, &name, &value)
        } else {
            value
        };
        let version = existing.as_ref().map(|p| p.version + 1).unwrap_or(1);
        let mut earlier = Vec::new();
        if let Some(p) = existing {
            earlier = p.earlier;
            earlier.push(Earlier {
                version: p.version,
                stored: p.stored,
                modified: p.modified,
            });
            let extra = (earlier.len() + 1).saturating_sub(VERSIONS_KEPT);
            earlier.drain(..extra);
        }
        self.parameters.insert(
            name.clone(),
            Parameter {
                name,
                stored,
                version,
                modified: now,
                description: req.description.unwrap_or_default(),
                key_id: (kind == "SecureString")
                    .then(|| req.key_id.unwrap_or_else(|| "alias/aws/ssm".into())),
                data_type: req.data_type.unwrap_or_else(|| "text".into()),
                kind,
                earlier,
                selector: None,
            },
        );
        Ok(version)
    }

    /// A parameter and its value (decrypted when `decrypt`), or None. `name:version` reads an
    /// earlier version (names cannot contain ':'); a version that is not kept is an error.
    pub fn read_parameter(&mut self, name: &str, decrypt_it: bool) -> Result<Option<Read>> {
        let (base, selector) = match name.rsplit_once(':') {
            Some((base, v)) => (base, Some(v)),
            None => (name, None),
        };
        let Some(mut p) = self.parameters.get(base).cloned() else {
            return Ok(None);
        };
        if let Some(v) = selector {
            let wanted: i64 = v.parse().map_err(|_| {
                fail(
                    SsmCode::ParameterVersionNotFound,
                    format!("Systems Manager could not find version {v} of {base}. Verify the version and try again."),
                )
            })?;
            if wanted != p.version {
                let e = p.earlier.iter().find(|e| e.version == wanted).cloned().ok_or_else(|| {
                    fail(
                        SsmCode::ParameterVersionNotFound,
                        format!("Systems Manager could not find version {wanted} of {base}. Verify the version and try again."),
                    )
                })?;
                (p.version, p.stored, p.modified) = (e.version, e.stored, e.modified);
            }
            p.selector = Some(format!(":{v}"));
        }
        let value = if p.kind == "SecureString" && decrypt_it {
            decrypt(self, &p.name, &p.stored)?
        } else {
            p.stored.clone()
        };
        Ok(Some(Read {
            parameter: p,
            value,
        }))
    }

    /// A parameter that must exist.
    pub fn parameter(&mut self, name: &str, decrypt_it: bool) -> Result<Read> {
        let name = required(name, "Name")?;
        self.read_parameter(name, decrypt_it)?
            .ok_or_else(|| not_found(name))
    }

    pub fn delete_parameter(&mut self, name: &str) -> Result<()> {
        let name = required(name, "Name")?;
        self.parameters
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_strings_are_encrypted_at_rest_and_bound_to_their_name() {
        let mut b = Backend::default();
        let stored = encrypt(&mut b, "/db/password", "hunter2");
        assert!(!stored.contains("hunter2"));
        assert_eq!(decrypt(&mut b, "/db/password", &stored).unwrap(), "hunter2");
        assert!(
            decrypt(&mut b, "/other/name", &stored).is_err(),
            "ciphertext moved to another name must not decrypt"
        );
        assert_ne!(
            encrypt(&mut b, "/db/password", "hunter2"),
            stored,
            "fresh nonce each time"
        );
    }

    #[test]
    fn put_then_read_with_and_without_decryption() {
        let mut b = Backend::default();
        let put = |name: &str, kind: &str| PutParameter {
            name: name.into(),
            value: Some("s3cret".into()),
            kind: Some(kind.into()),
            ..Default::default()
        };
        assert_eq!(b.put_parameter(1.0, put("/p", "SecureString")).unwrap(), 1);
        assert_eq!(
            b.put_parameter(2.0, put("/p", "SecureString"))
                .unwrap_err()
                .code,
            SsmCode::ParameterAlreadyExists
        );
        assert_eq!(b.parameter("/p", true).unwrap().value, "s3cret");
        assert_ne!(b.parameter("/p", false).unwrap().value, "s3cret");
        assert_eq!(
            b.put_parameter(1.0, put("/q", "Binary")).unwrap_err().code,
            SsmCode::UnsupportedParameterType
        );
        b.delete_parameter("/p").unwrap();
        assert_eq!(
            b.parameter("/p", true).unwrap_err().code,
            SsmCode::ParameterNotFound
        );
    }

    #[test]
    fn a_version_selector_reads_an_earlier_value() {
        let mut b = Backend::default();
        for (v, value) in ["first-token", "second-token"].iter().enumerate() {
            let req = PutParameter {
                name: "/t".into(),
                value: Some(value.to_string()),
                kind: Some("SecureString".into()),
                overwrite: v > 0,
                ..Default::default()
            };
            assert_eq!(b.put_parameter(v as f64, req).unwrap(), v as i64 + 1);
        }
        let latest = b.parameter("/t", true).unwrap();
        assert_eq!(
            (latest.value.as_str(), latest.parameter.version),
            ("second-token", 2)
        );
        assert_eq!(latest.parameter.selector, None);
        let first = b.parameter("/t:1", true).unwrap();
        assert_eq!(
            (first.value.as_str(), first.parameter.version),
            ("first-token", 1)
        );
        assert_eq!(first.parameter.name, "/t");
        assert_eq!(first.parameter.selector.as_deref(), Some(":1"));
        assert_eq!(b.parameter("/t:2", true).unwrap().value, "second-token");
        for missing in ["/t:3", "/t:x"] {
            assert_eq!(
                b.parameter(missing, true).unwrap_err().code,
                SsmCode::ParameterVersionNotFound
            );
        }
        assert_eq!(
            b.parameter("/u:1", true).unwrap_err().code,
            SsmCode::ParameterNotFound
        );
    }
}
