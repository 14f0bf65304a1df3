//! SSM documents on the wire.
use serde::Deserialize;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use super::{parse, tag_map, tags_json, Answer, Tag};
use crate::ssm::documents::{resolve_version, Document, DocumentUpdate, NewDocument};
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct DocumentInput {
    name: String,
    content: String,
    document_format: Option<String>,
    document_type: Option<String>,
    document_version: Option<String>,
    version_name: Option<String>,
    tags: Vec<Tag>,
}

/// `DocumentDescription` of version `version` (1-based).
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

pub fn create_document(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: DocumentInput = parse(input)?;
    let d = b.create_document(
        ctx.now,
        ctx.account,
        NewDocument {
            name: i.name,
            content: i.content,
            format: i.document_format,
            document_type: i.document_type,
            version_name: i.version_name,
            tags: tag_map(i.tags),
        },
    )?;
    Ok(json!({"DocumentDescription": description(&d, 1, ctx)}))
}

pub fn get_document(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: DocumentInput = parse(input)?;
    let d = b.document(&i.name)?;
    let v = resolve_version(&d, i.document_version.as_deref())?;
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

pub fn describe_document(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: DocumentInput = parse(input)?;
    let d = b.document(&i.name)?;
    let v = resolve_version(&d, i.document_version.as_deref())?;
    Ok(json!({"Document": description(&d, v, ctx)}))
}

pub fn update_document(b: &mut Backend, ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: DocumentInput = parse(input)?;
    let (d, v) = b.update_document(
        ctx.now,
        DocumentUpdate {
            name: i.name,
            content: i.content,
            format: i.document_format,
            base_version: i.document_version,
            version_name: i.version_name,
        },
    )?;
    Ok(json!({"DocumentDescription": description(&d, v, ctx)}))
}

pub fn update_document_default_version(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: DocumentInput = parse(input)?;
    let (d, v) =
        b.update_document_default_version(&i.name, i.document_version.as_deref().unwrap_or(""))?;
    let mut desc = json!({"Name": d.name, "DefaultVersion": v.to_string()});
    if let Some(n) = &d.versions[v - 1].version_name {
        desc["DefaultVersionName"] = json!(n);
    }
    Ok(json!({"Description": desc}))
}

pub fn delete_document(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: DocumentInput = parse(input)?;
    b.delete_document(&i.name)?;
    Ok(json!({}))
}
