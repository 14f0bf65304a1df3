//! SSM documents: types (Command, Session), versions, `$LATEST` / `$DEFAULT`, the default
//! version, and the Amazon-owned documents.
use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::error::{fail, required, Result, SsmCode};
use super::Backend;

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

/// What CreateDocument asks for.
#[derive(Clone, Debug, Default)]
pub struct NewDocument {
    pub name: String,
    pub content: String,
    pub format: Option<String>,
    pub document_type: Option<String>,
    pub version_name: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// What UpdateDocument asks for.
#[derive(Clone, Debug, Default)]
pub struct DocumentUpdate {
    pub name: String,
    pub content: String,
    pub format: Option<String>,
    pub base_version: Option<String>,
    pub version_name: Option<String>,
}

pub use super::aws_documents::RUN_SHELL_SCRIPT;

/// The document types hastack-local keeps.
pub const DOCUMENT_TYPES: &[&str] = &["Command", "Session"];

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
pub fn resolve_version(d: &Document, v: Option<&str>) -> Result<usize> {
    match v {
        None | Some("") | Some("$DEFAULT") => Ok(d.default_version),
        Some("$LATEST") => Ok(d.versions.len()),
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=d.versions.len()).contains(n))
            .ok_or_else(|| {
                fail(
                    SsmCode::InvalidDocumentVersion,
                    format!("The document version {n} is not valid"),
                )
            }),
    }
}

/// Parse and check a document's content (JSON) against its type's schema.
pub fn parse_content(content: &str, format: &str, document_type: &str) -> Result<Json> {
    if format == "YAML" {
        return Err(fail(
            SsmCode::InvalidDocumentContent,
            "hastack-local accepts JSON document content only",
        ));
    }
    let j: Json = serde_json::from_str(content).map_err(|e| {
        fail(
            SsmCode::InvalidDocumentContent,
            format!("Document content is not valid JSON: {e}"),
        )
    })?;
    match document_type {
        "Command" => check_command(&j)?,
        "Session" => super::session_content::check(&j)?,
        other => {
            return Err(fail(
                SsmCode::InvalidDocumentContent,
                format!(
                    "hastack-local does not implement {other} documents (it keeps {})",
                    DOCUMENT_TYPES.join(" and ")
                ),
            ))
        }
    }
    Ok(j)
}

fn check_command(j: &Json) -> Result<()> {
    match j.get("schemaVersion").and_then(Json::as_str) {
        Some("2.2") | Some("1.2") => {}
        _ => {
            return Err(fail(
                SsmCode::InvalidDocumentSchemaVersion,
                "Command documents need schemaVersion 2.2",
            ))
        }
    }
    if j.get("mainSteps")
        .and_then(Json::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err(fail(
            SsmCode::InvalidDocumentContent,
            "mainSteps must list at least one step",
        ));
    }
    Ok(())
}

fn no_such(name: &str) -> super::error::SsmError {
    fail(
        SsmCode::InvalidDocument,
        format!("Document {name} does not exist in your account"),
    )
}

impl Backend {
    /// A new document (version 1, the default); it is returned.
    pub fn create_document(&mut self, now: f64, owner: &str, req: NewDocument) -> Result<Document> {
        let name = required(&req.name, "Name")?.to_string();
        let content = required(&req.content, "Content")?.to_string();
        if name.starts_with("AWS-") || name.starts_with("Amazon") {
            return Err(fail(
                SsmCode::Validation,
                "Document names may not start with AWS- or Amazon",
            ));
        }
        if find(self, &name).is_some() {
            return Err(fail(
                SsmCode::DocumentAlreadyExists,
                "Document with same name already exists",
            ));
        }
        let document_type = req.document_type.unwrap_or_else(|| "Command".into());
        parse_content(
            &content,
            req.format.as_deref().unwrap_or("JSON"),
            &document_type,
        )?;
        let d = Document {
            name: name.clone(),
            owner: owner.into(),
            document_type,
            versions: vec![Version {
                content,
                created: now,
                version_name: req.version_name,
            }],
            default_version: 1,
            tags: req.tags,
        };
        self.documents.insert(name, d.clone());
        Ok(d)
    }

    /// A document (yours or Amazon's) by name.
    pub fn document(&self, name: &str) -> Result<Document> {
        let name = required(name, "Name")?;
        find(self, name).ok_or_else(|| no_such(name))
    }

    /// One of your documents, to change.
    fn owned_document(&mut self, name: &str) -> Result<&mut Document> {
        let name = required(name, "Name")?;
        if builtin(name).is_some() {
            return Err(fail(
                SsmCode::InvalidDocumentOperation,
                "Amazon-owned documents cannot be changed",
            ));
        }
        self.documents.get_mut(name).ok_or_else(|| no_such(name))
    }

    /// A new version, based on `$LATEST` (the only base AWS accepts), of the document's type;
    /// the document and the new version's number.
    pub fn update_document(&mut self, now: f64, req: DocumentUpdate) -> Result<(Document, usize)> {
        let content = required(&req.content, "Content")?.to_string();
        let d = self.owned_document(&req.name)?;
        parse_content(
            &content,
            req.format.as_deref().unwrap_or("JSON"),
            &d.document_type,
        )?;
        let base = resolve_version(d, req.base_version.as_deref().or(Some("$LATEST")))?;
        if base != d.versions.len() {
            return Err(fail(
                SsmCode::InvalidDocumentVersion,
                "Updates must be based on $LATEST",
            ));
        }
        if d.versions.iter().any(|v| v.content == content) {
            return Err(fail(SsmCode::DuplicateDocumentContent, "The content of the association document matches another document. Change the content of the document and try again."));
        }
        d.versions.push(Version {
            content,
            created: now,
            version_name: req.version_name,
        });
        Ok((d.clone(), d.versions.len()))
    }

    /// Move the default version (what sessions and commands without a version use).
    pub fn update_document_default_version(
        &mut self,
        name: &str,
        version: &str,
    ) -> Result<(Document, usize)> {
        let version = required(version, "DocumentVersion")?.to_string();
        let d = self.owned_document(name)?;
        let v = resolve_version(d, Some(&version))?;
        d.default_version = v;
        Ok((d.clone(), v))
    }

    pub fn delete_document(&mut self, name: &str) -> Result<()> {
        let name = self.owned_document(name)?.name.clone();
        self.documents.remove(&name);
        Ok(())
    }
}
