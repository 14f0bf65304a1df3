//! Generates `docs/` from the committed schema snapshot: every page comes from the schema's
//! own (Markdown) descriptions, so docs and code cannot drift apart.
use std::fmt::Write;

use serde_json::Value as Json;

fn provider(doc: &Json) -> &Json {
    doc["provider_schemas"]
        .as_object()
        .and_then(|m| m.values().next())
        .unwrap_or(&Json::Null)
}

fn type_name(t: &Json) -> String {
    match t {
        Json::String(s) => s.clone(),
        Json::Array(a) if a.len() >= 2 && a[0] == "object" => "object".into(),
        Json::Array(a) if a.len() >= 2 => {
            format!("{}({})", a[0].as_str().unwrap_or(""), type_name(&a[1]))
        }
        _ => "nested".into(),
    }
}

fn attr_line(name: &str, a: &Json) -> String {
    let mut flags = Vec::new();
    for f in [
        "required",
        "optional",
        "computed",
        "sensitive",
        "write_only",
        "deprecated",
    ] {
        if a[f].as_bool() == Some(true) {
            flags.push(f.replace('_', "-"));
        }
    }
    let ty = a
        .get("type")
        .map(type_name)
        .unwrap_or_else(|| "nested".into());
    format!(
        "- `{name}` ({ty}, {}) {}\n",
        flags.join(", "),
        a["description"].as_str().unwrap_or("").replace('\n', " ")
    )
}

fn block(out: &mut String, b: &Json, heading: &str, depth: usize) {
    let empty = serde_json::Map::new();
    let attrs = b["attributes"].as_object().unwrap_or(&empty);
    let settable: Vec<_> = attrs
        .iter()
        .filter(|(_, a)| a["required"] == true || a["optional"] == true)
        .collect();
    let computed: Vec<_> = attrs
        .iter()
        .filter(|(_, a)| a["computed"] == true && a["required"] != true && a["optional"] != true)
        .collect();
    if !settable.is_empty() {
        let _ = writeln!(out, "\n{} Arguments{heading}\n", "#".repeat(depth));
        for (n, a) in settable {
            out.push_str(&attr_line(n, a));
        }
    }
    if !computed.is_empty() {
        let _ = writeln!(out, "\n{} Attributes{heading}\n", "#".repeat(depth));
        for (n, a) in computed {
            out.push_str(&attr_line(n, a));
        }
    }
    for (n, nb) in b["block_types"].as_object().unwrap_or(&empty) {
        let _ = writeln!(out, "\n{} Block `{n}`\n", "#".repeat(depth));
        let _ = writeln!(out, "{}", nb["block"]["description"].as_str().unwrap_or(""));
        block(out, &nb["block"], &format!(" of `{n}`"), depth + 1);
    }
}

/// (relative path, content) of every generated page.
/// How to import: by `id`, and by identity where the resource has one.
fn import_section(out: &mut String, name: &str, identity: &Json) {
    let _ = write!(
        out,
        "\n## Import\n\nBy the `id` attribute:\n\n```sh\nterraform import {name}.example <id>\n```\n"
    );
    let Some(attrs) = identity["attributes"].as_object() else {
        return;
    };
    let _ = write!(
        out,
        "\nOr, with Terraform 1.12 and later, by identity:\n\n```hcl\nimport {{\n  to       = {name}.example\n  identity = {{ {} }}\n}}\n```\n\n",
        attrs
            .iter()
            .filter(|(_, a)| a["required_for_import"] == true)
            .map(|(k, _)| format!("{k} = \"…\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (k, a) in attrs {
        let need = if a["required_for_import"] == true {
            "required"
        } else {
            "optional"
        };
        let _ = writeln!(
            out,
            "- `{k}` ({need}) {}",
            a["description"].as_str().unwrap_or("")
        );
    }
}

pub fn render(doc: &Json) -> Vec<(String, String)> {
    let p = provider(doc);
    let mut pages = Vec::new();
    let mut index = String::from("# hastack provider\n\n<!-- generated from schemas/hastack.json by `cargo run -p acceptance-tests --bin gen-docs`; do not edit -->\n\n");
    let _ = writeln!(
        index,
        "{}",
        p["provider"]["block"]["description"].as_str().unwrap_or("")
    );
    index.push_str("\n```hcl\n");
    index.push_str(include_str!("../../examples/provider/provider.tf"));
    index.push_str("```\n");
    block(&mut index, &p["provider"]["block"], "", 2);
    pages.push(("index.md".to_string(), index));
    let empty = serde_json::Map::new();
    for (kind, dir) in [
        ("resource_schemas", "resources"),
        ("data_source_schemas", "data-sources"),
    ] {
        for (name, s) in p[kind].as_object().unwrap_or(&empty) {
            let mut page = format!(
                "# {name}\n\n<!-- generated from schemas/hastack.json; do not edit -->\n\n"
            );
            let _ = writeln!(page, "{}", s["block"]["description"].as_str().unwrap_or(""));
            let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../examples")
                .join(dir)
                .join(name)
                .join(if kind == "resource_schemas" {
                    "resource.tf"
                } else {
                    "data-source.tf"
                });
            if let Ok(tf) = std::fs::read_to_string(&example) {
                let _ = write!(page, "\n## Example\n\n```hcl\n{tf}```\n");
            }
            block(&mut page, &s["block"], "", 2);
            if kind == "resource_schemas" {
                import_section(&mut page, name, &p["resource_identity_schemas"][name]);
            }
            pages.push((
                format!("{dir}/{}.md", name.trim_start_matches("hastack_")),
                page,
            ));
        }
    }
    for (name, f) in p["functions"].as_object().unwrap_or(&empty) {
        let mut page = format!("# provider::hastack::{name}\n\n<!-- generated from schemas/hastack.json; do not edit -->\n\n");
        let _ = writeln!(
            page,
            "{}\n\n{}\n\n## Parameters\n",
            f["summary"].as_str().unwrap_or(""),
            f["description"].as_str().unwrap_or("")
        );
        for prm in f["parameters"].as_array().into_iter().flatten() {
            let _ = writeln!(
                page,
                "- `{}` ({}) {}",
                prm["name"].as_str().unwrap_or(""),
                type_name(&prm["type"]),
                prm["description"].as_str().unwrap_or("")
            );
        }
        let _ = writeln!(page, "\n## Returns\n\n{}", type_name(&f["return_type"]));
        pages.push((format!("functions/{name}.md"), page));
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/ must be regenerated whenever the schema snapshot changes.
    #[test]
    fn committed_docs_match_the_schema_snapshot() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let doc: Json = serde_json::from_str(
            &std::fs::read_to_string(root.join("schemas/hastack.json")).unwrap(),
        )
        .unwrap();
        let pages = render(&doc);
        assert!(pages.iter().any(|(p, _)| p == "functions/spread_zones.md"));
        for (path, content) in pages {
            let on_disk =
                std::fs::read_to_string(root.join("docs").join(&path)).unwrap_or_default();
            assert!(
                on_disk == content,
                "docs/{path} is stale: run `cargo run -p acceptance-tests --bin gen-docs`"
            );
        }
    }
}
