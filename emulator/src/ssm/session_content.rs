//! Session documents (DocumentType `Session`, schemaVersion 1.0): what the Session Manager
//! schema allows. `Standard_Stream` documents are the session preferences (the shape of
//! `SSM-SessionManagerRunShell`); `Port`, `InteractiveCommands` and `NonInteractiveCommands`
//! documents carry `properties` (the AWS-StartPortForwardingSession family).
use serde_json::Value as Json;

use super::error::{fail, SsmCode, SsmError};

pub const SESSION_TYPES: &[&str] = &[
    "Standard_Stream",
    "InteractiveCommands",
    "NonInteractiveCommands",
    "Port",
];

/// Inputs of a `Standard_Stream` document that take a string.
const STRING_INPUTS: &[&str] = &[
    "s3BucketName",
    "s3KeyPrefix",
    "cloudWatchLogGroupName",
    "kmsKeyId",
    "runAsDefaultUser",
];
/// Inputs that take a boolean.
const BOOL_INPUTS: &[&str] = &[
    "s3EncryptionEnabled",
    "cloudWatchEncryptionEnabled",
    "cloudWatchStreamingEnabled",
    "runAsEnabled",
];
/// Inputs that take a number of minutes, as a string, with their allowed range.
const MINUTE_INPUTS: &[(&str, i64, i64)] = &[
    ("idleSessionTimeout", 1, 60),
    ("maxSessionDuration", 1, 1440),
];

fn invalid(message: impl Into<String>) -> SsmError {
    fail(SsmCode::InvalidDocumentContent, message)
}

/// `{{ name }}` stands for a document parameter: any input may take one.
fn is_parameter_reference(v: &Json) -> bool {
    v.as_str()
        .map(str::trim)
        .is_some_and(|s| s.starts_with("{{") && s.ends_with("}}"))
}

/// Check a Session document's parsed content.
pub fn check(j: &Json) -> Result<(), SsmError> {
    if j.get("schemaVersion").and_then(Json::as_str) != Some("1.0") {
        return Err(fail(
            SsmCode::InvalidDocumentSchemaVersion,
            "Session documents need schemaVersion 1.0",
        ));
    }
    let session_type = j
        .get("sessionType")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("sessionType is required"))?;
    if !SESSION_TYPES.contains(&session_type) {
        return Err(invalid(format!(
            "sessionType {session_type} is not valid: use one of {}",
            SESSION_TYPES.join(", ")
        )));
    }
    match session_type {
        "Standard_Stream" => check_inputs(j.get("inputs")),
        _ => match j.get("properties") {
            Some(Json::Object(_)) => Ok(()),
            _ => Err(invalid(format!(
                "{session_type} documents need a properties object"
            ))),
        },
    }
}

fn check_inputs(inputs: Option<&Json>) -> Result<(), SsmError> {
    let Some(inputs) = inputs else {
        return Ok(());
    };
    let inputs = inputs
        .as_object()
        .ok_or_else(|| invalid("inputs must be an object"))?;
    for (key, v) in inputs {
        if is_parameter_reference(v) {
            continue;
        }
        let k = key.as_str();
        if STRING_INPUTS.contains(&k) {
            if !v.is_string() {
                return Err(invalid(format!("{k} must be a string")));
            }
        } else if BOOL_INPUTS.contains(&k) {
            if !v.is_boolean() {
                return Err(invalid(format!("{k} must be true or false")));
            }
        } else if let Some((_, lo, hi)) = MINUTE_INPUTS.iter().find(|(n, ..)| *n == k) {
            let minutes = match v {
                Json::String(s) if s.is_empty() => continue,
                Json::String(s) => s.parse::<i64>().ok(),
                Json::Number(n) => n.as_i64(),
                _ => None,
            };
            match minutes {
                Some(m) if (*lo..=*hi).contains(&m) => {}
                _ => {
                    return Err(invalid(format!(
                        "{k} must be a number of minutes from {lo} to {hi}, got {v}"
                    )))
                }
            }
        } else if k == "shellProfile" {
            let profile = v
                .as_object()
                .ok_or_else(|| invalid("shellProfile must be an object"))?;
            if let Some(other) = profile
                .keys()
                .find(|p| !["linux", "windows"].contains(&p.as_str()))
            {
                return Err(invalid(format!(
                    "shellProfile.{other} is not valid: use linux and windows"
                )));
            }
            if profile.values().any(|p| !p.is_string()) {
                return Err(invalid("shellProfile entries must be strings"));
            }
        } else {
            return Err(invalid(format!("{k} is not a Session Manager preference")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prefs(inputs: Json) -> Json {
        json!({"schemaVersion": "1.0", "description": "prefs", "sessionType": "Standard_Stream", "inputs": inputs})
    }

    #[test]
    fn session_documents_are_checked_against_the_schema() {
        let ok = [
            ("empty inputs", prefs(json!({}))),
            (
                "the console's default",
                prefs(
                    json!({"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": true, "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": true, "cloudWatchStreamingEnabled": true, "idleSessionTimeout": "20", "maxSessionDuration": "", "kmsKeyId": "", "runAsEnabled": false, "runAsDefaultUser": "", "shellProfile": {"windows": "", "linux": ""}}),
                ),
            ),
            (
                "range ends",
                prefs(json!({"idleSessionTimeout": "1", "maxSessionDuration": "1440"})),
            ),
            (
                "parameter reference",
                prefs(json!({"idleSessionTimeout": "{{ timeout }}"})),
            ),
            (
                "port forwarding",
                json!({"schemaVersion": "1.0", "sessionType": "Port", "properties": {"portNumber": "80"}}),
            ),
        ];
        for (name, doc) in ok {
            assert!(check(&doc).is_ok(), "{name}: {:?}", check(&doc));
        }
        let bad = [
            (
                "idle 0",
                prefs(json!({"idleSessionTimeout": "0"})),
                "InvalidDocumentContent",
            ),
            (
                "idle 61",
                prefs(json!({"idleSessionTimeout": "61"})),
                "InvalidDocumentContent",
            ),
            (
                "idle not a number",
                prefs(json!({"idleSessionTimeout": "soon"})),
                "InvalidDocumentContent",
            ),
            (
                "max 1441",
                prefs(json!({"maxSessionDuration": "1441"})),
                "InvalidDocumentContent",
            ),
            (
                "bool as string",
                prefs(json!({"runAsEnabled": "yes"})),
                "InvalidDocumentContent",
            ),
            (
                "unknown input",
                prefs(json!({"colour": "blue"})),
                "InvalidDocumentContent",
            ),
            (
                "shell profile key",
                prefs(json!({"shellProfile": {"mac": "zsh"}})),
                "InvalidDocumentContent",
            ),
            (
                "schema 2.2",
                json!({"schemaVersion": "2.2", "sessionType": "Standard_Stream"}),
                "InvalidDocumentSchemaVersion",
            ),
            (
                "session type",
                json!({"schemaVersion": "1.0", "sessionType": "Telepathy"}),
                "InvalidDocumentContent",
            ),
            (
                "port without properties",
                json!({"schemaVersion": "1.0", "sessionType": "Port"}),
                "InvalidDocumentContent",
            ),
        ];
        for (name, doc, code) in bad {
            assert_eq!(
                check(&doc).map_err(|e| e.code.as_str().to_string()),
                Err(code.to_string()),
                "{name}"
            );
        }
    }
}
