//! SSM documents: versions, `$LATEST` / `$DEFAULT`, the built-in `AWS-RunShellScript`.
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use super::error::err;
use super::{req_str, tags_from, tags_json, Backend};
use crate::error::AwsError;
use crate::Ctx;

#[derive(Clone, Debug)]
pub struct Version {
    pub content: String,
    pub created: f64,
    pub version_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Document {
    pub name: String,
    pub owner: String,
    pub document_type: String,
    pub versions: Vec<Version>,
    /// 1-based.
    pub default_version: usize,
    pub tags: BTreeMap<String, String>,
}

pub use super::aws_documents::RUN_SHELL_SCRIPT;

fn builtin(name: &str) -> Option<Document> {
    let (document_type, content) = super::aws_documents::content(name)?;
    Some(Document {
        name: name.into(),
        owner: "Amazon".into(),
        document_type: document_type.into(),
        versions: vec![Version {
            content,
            created: 1_500_000_000.0,
            version_name: None,
        }],
        default_version: 1,
        tags: BTreeMap::new(),
    })
}

/// A document by name, built-ins included.
pub fn find(b: &Backend, name: &str) -> Option<Document> {
    b.documents.get(name).cloned().or_else(|| builtin(name))
}

/// Resolve `$LATEST`, `$DEFAULT` or a number to a 1-based version.
pub fn resolve_version(d: &Document, v: Option<&str>) -> Result<usize, AwsError> {
    match v {
        None | Some("") | Some("$DEFAULT") => Ok(d.default_version),
        Some("$LATEST") => Ok(d.versions.len()),
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=d.versions.len()).contains(n))
            .ok_or_else(|| {
                err(
                    "InvalidDocumentVersion",
                    format!("The document version {n} is not valid"),
                )
            }),
    }
}

/// The document types hastack-local keeps.
pub const DOCUMENT_TYPES: &[&str] = &["Command", "Session"];

/// Parse and check a document's JSON content against its type's schema.
pub fn parse_content(content: &str, format: &str, document_type: &str) -> Result<Json, AwsError> {
    if format == "YAML" {
        return Err(err(
            "InvalidDocumentContent",
            "hastack-local accepts JSON document content only",
        ));
    }
    let j: Json = serde_json::from_str(content).map_err(|e| {
        err(
            "InvalidDocumentContent",
            format!("Document content is not valid JSON: {e}"),
        )
    })?;
    match document_type {
        "Command" => check_command(&j)?,
        "Session" => super::session_content::check(&j)?,
        other => {
            return Err(err(
                "InvalidDocumentContent",
                format!(
                    "hastack-local does not implement {other} documents (it keeps {})",
                    DOCUMENT_TYPES.join(" and ")
                ),
            ))
        }
    }
    Ok(j)
}

fn check_command(j: &Json) -> Result<(), AwsError> {
    match j.get("schemaVersion").and_then(Json::as_str) {
        Some("2.2") | Some("1.2") => {}
        _ => {
            return Err(err(
                "InvalidDocumentSchemaVersion",
                "Command documents need schemaVersion 2.2",
            ))
        }
    }
    if j.get("mainSteps")
        .and_then(Json::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err(err(
            "InvalidDocumentContent",
            "mainSteps must list at least one step",
        ));
    }
    Ok(())
}

fn description(d: &Document, version: usize, ctx: &Ctx<'_>) -> Json {
    let v = &d.versions[version - 1];
    let content: Json = serde_json::from_str(&v.content).unwrap_or(Json::Null);
    let params: Vec<Json> = content
        .get("parameters")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(name, p)| {
                    let mut j = json!({"Name": name, "Type": p.get("type").and_then(Json::as_str).unwrap_or("String"), "Description": p.get("description").and_then(Json::as_str).unwrap_or("")});
                    if let Some(d) = p.get("default") {
                        j["DefaultValue"] = json!(d.as_str().map(str::to_string).unwrap_or_else(|| d.to_string()));
                    }
                    j
                })
                .collect()
        })
        .unwrap_or_default();
    let hash = hex::encode(Sha256::digest(v.content.as_bytes()));
    let platforms: &[&str] = if d.document_type == "Session" {
        &["Windows", "Linux", "MacOS"]
    } else {
        &["Linux", "MacOS"]
    };
    let mut j = json!({
        "Hash": hash, "HashType": "Sha256", "Name": d.name, "Owner": if d.owner == "Amazon" { "Amazon".to_string() } else { ctx.account.to_string() },
        "CreatedDate": v.created, "Status": "Active", "DocumentVersion": version.to_string(),
        "Description": content.get("description").and_then(Json::as_str).unwrap_or(""),
        "Parameters": params, "PlatformTypes": platforms, "DocumentType": d.document_type,
        "SchemaVersion": content.get("schemaVersion").and_then(Json::as_str).unwrap_or("2.2"),
        "LatestVersion": d.versions.len().to_string(), "DefaultVersion": d.default_version.to_string(),
        "DocumentFormat": "JSON", "Tags": tags_json(&d.tags),
    });
    if let Some(n) = &v.version_name {
        j["VersionName"] = json!(n);
    }
    j
}

pub fn create_document(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = req_str(input, "Name")?.to_string();
    let content = req_str(input, "Content")?.to_string();
    if name.starts_with("AWS-") || name.starts_with("Amazon") {
        return Err(err(
            "ValidationException",
            "Document names may not start with AWS- or Amazon",
        ));
    }
    if find(b, &name).is_some() {
        return Err(err(
            "DocumentAlreadyExists",
            "Document with same name already exists",
        ));
    }
    let document_type = input
        .get("DocumentType")
        .and_then(Json::as_str)
        .unwrap_or("Command")
        .to_string();
    parse_content(&content, format_of(input), &document_type)?;
    let d = Document {
        name: name.clone(),
        owner: ctx.account.into(),
        document_type,
        versions: vec![Version {
            content,
            created: ctx.now,
            version_name: input
                .get("VersionName")
                .and_then(Json::as_str)
                .map(str::to_string),
        }],
        default_version: 1,
        tags: tags_from(input),
    };
    let out = description(&d, 1, ctx);
    b.documents.insert(name, d);
    Ok(json!({"DocumentDescription": out}))
}

fn existing(b: &Backend, input: &Json) -> Result<Document, AwsError> {
    let name = req_str(input, "Name")?;
    find(b, name).ok_or_else(|| {
        err(
            "InvalidDocument",
            format!("Document {name} does not exist in your account"),
        )
    })
}

pub fn get_document(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let d = existing(b, input)?;
    let v = resolve_version(&d, input.get("DocumentVersion").and_then(Json::as_str))?;
    let ver = &d.versions[v - 1];
    let mut j = json!({
        "Name": d.name, "CreatedDate": ver.created, "DocumentVersion": v.to_string(), "Status": "Active",
        "Content": ver.content, "DocumentType": d.document_type, "DocumentFormat": "JSON",
    });
    if let Some(n) = &ver.version_name {
        j["VersionName"] = json!(n);
    }
    Ok(j)
}

pub fn describe_document(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let d = existing(b, input)?;
    let v = resolve_version(&d, input.get("DocumentVersion").and_then(Json::as_str))?;
    Ok(json!({"Document": description(&d, v, ctx)}))
}

fn owned<'b>(b: &'b mut Backend, input: &Json) -> Result<&'b mut Document, AwsError> {
    let name = req_str(input, "Name")?;
    if builtin(name).is_some() {
        return Err(err(
            "InvalidDocumentOperation",
            "Amazon-owned documents cannot be changed",
        ));
    }
    b.documents.get_mut(name).ok_or_else(|| {
        err(
            "InvalidDocument",
            format!("Document {name} does not exist in your account"),
        )
    })
}

fn format_of(input: &Json) -> &str {
    input
        .get("DocumentFormat")
        .and_then(Json::as_str)
        .unwrap_or("JSON")
}

pub fn update_document(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let content = req_str(input, "Content")?.to_string();
    let d = owned(b, input)?;
    // A new version keeps the document's type and must fit that type's schema.
    parse_content(&content, format_of(input), &d.document_type)?;
    let base = resolve_version(
        d,
        input
            .get("DocumentVersion")
            .and_then(Json::as_str)
            .or(Some("$LATEST")),
    )?;
    if base != d.versions.len() {
        return Err(err(
            "InvalidDocumentVersion",
            "Updates must be based on $LATEST",
        ));
    }
    if d.versions.iter().any(|v| v.content == content) {
        return Err(err("DuplicateDocumentContent", "The content of the association document matches another document. Change the content of the document and try again."));
    }
    d.versions.push(Version {
        content,
        created: ctx.now,
        version_name: input
            .get("VersionName")
            .and_then(Json::as_str)
            .map(str::to_string),
    });
    let latest = d.versions.len();
    Ok(json!({"DocumentDescription": description(d, latest, ctx)}))
}

pub fn update_document_default_version(
    b: &mut Backend,
    _ctx: &Ctx<'_>,
    input: &Json,
) -> Result<Json, AwsError> {
    let d = owned(b, input)?;
    let v = resolve_version(d, Some(req_str(input, "DocumentVersion")?))?;
    d.default_version = v;
    let mut desc = json!({"Name": d.name, "DefaultVersion": v.to_string()});
    if let Some(n) = &d.versions[v - 1].version_name {
        desc["DefaultVersionName"] = json!(n);
    }
    Ok(json!({"Description": desc}))
}

pub fn delete_document(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Result<Json, AwsError> {
    let name = owned(b, input)?.name.clone();
    b.documents.remove(&name);
    Ok(json!({}))
}
