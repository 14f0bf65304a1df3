//! Parameter Store. SecureString values are stored encrypted with AES-256-GCM under a key
//! that exists only in this emulator's memory; `WithDecryption` decrypts them.
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use serde_json::{json, Value as Json};

use super::error::err;
use super::{ctx_arn, req_str, Backend};
use crate::error::AwsError;
use crate::Ctx;

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

fn decrypt(b: &mut Backend, name: &str, stored: &str) -> Result<String, AwsError> {
    let k = key(b);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| err("InternalServerError", "stored value is corrupt"))?;
    let (nonce, ct) = raw.split_at(NONCE_LEN.min(raw.len()));
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| err("InternalServerError", "stored value is corrupt"))?;
    let mut buf = ct.to_vec();
    let plain = k
        .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf)
        .map_err(|_| err("InternalServerError", "stored value failed authentication"))?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| err("InternalServerError", "stored value is not UTF-8"))
}

pub fn put_parameter(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "Name")?.to_string();
    let value = input
        .get("Value")
        .and_then(Json::as_str)
        .ok_or_else(|| super::error::validation("Value is required"))?
        .to_string();
    let overwrite = input
        .get("Overwrite")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let existing = b.parameters.get(&name).cloned();
    if existing.is_some() && !overwrite {
        return Err(err("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."));
    }
    let kind = input
        .get("Type")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| existing.as_ref().map(|p| p.kind.clone()))
        .unwrap_or_else(|| "String".into());
    if !["String", "StringList", "SecureString"].contains(&kind.as_str()) {
        return Err(err(
            "UnsupportedParameterType",
            format!("Parameter type {kind} is not supported"),
        ));
    }
    if value.len() > 4096 {
        return Err(super::error::validation(
            "Value must be at most 4096 characters for the Standard tier",
        ));
    }
    if let Some(pattern) = input.get("AllowedPattern").and_then(Json::as_str) {
        if pattern.is_empty() {
            return Err(err(
                "InvalidAllowedPatternException",
                "AllowedPattern is empty",
            ));
        }
    }
    let stored = if kind == "SecureString" {
        encrypt(b, &name, &value)
    } else {
        value
    };
    let version = existing.as_ref().map(|p| p.version + 1).unwrap_or(1);
    b.parameters.insert(
        name.clone(),
        Parameter {
            name,
            stored,
            version,
            modified: ctx.now,
            description: input
                .get("Description")
                .and_then(Json::as_str)
                .unwrap_or("")
                .into(),
            key_id: (kind == "SecureString").then(|| {
                input
                    .get("KeyId")
                    .and_then(Json::as_str)
                    .unwrap_or("alias/aws/ssm")
                    .to_string()
            }),
            data_type: input
                .get("DataType")
                .and_then(Json::as_str)
                .unwrap_or("text")
                .into(),
            kind,
        },
    );
    Ok(json!({"Version": version, "Tier": "Standard"}))
}

fn parameter_json(
    b: &mut Backend,
    ctx: &Ctx<'_>,
    name: &str,
    decrypt_it: bool,
) -> Result<Option<Json>, AwsError> {
    let Some(p) = b.parameters.get(name).cloned() else {
        return Ok(None);
    };
    let value = if p.kind == "SecureString" && decrypt_it {
        decrypt(b, &p.name, &p.stored)?
    } else {
        p.stored.clone()
    };
    let path = p.name.trim_start_matches('/');
    Ok(Some(json!({
        "Name": p.name, "Type": p.kind, "Value": value, "Version": p.version, "LastModifiedDate": p.modified,
        "ARN": ctx_arn(ctx, &format!("parameter/{path}")), "DataType": p.data_type,
    })))
}

pub fn get_parameter(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "Name")?.to_string();
    let dec = input
        .get("WithDecryption")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let p = parameter_json(b, ctx, &name, dec)?
        .ok_or_else(|| err("ParameterNotFound", format!("Parameter {name} not found.")))?;
    Ok(json!({"Parameter": p}))
}

pub fn get_parameters(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let names: Vec<String> = crate::input::str_list(input, "Names");
    if names.is_empty() {
        return Err(super::error::validation("1 validation error detected: Value null at 'names' failed to satisfy constraint: Member must not be null"));
    }
    let dec = input
        .get("WithDecryption")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
    for n in names {
        match parameter_json(b, ctx, &n, dec)? {
            Some(p) => found.push(p),
            None => invalid.push(n),
        }
    }
    Ok(json!({"Parameters": found, "InvalidParameters": invalid}))
}

pub fn delete_parameter(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "Name")?;
    b.parameters
        .remove(name)
        .ok_or_else(|| err("ParameterNotFound", format!("Parameter {name} not found.")))?;
    Ok(json!({}))
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
}
