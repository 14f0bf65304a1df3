//! Generates `docs/` from the committed schema snapshot: every page comes from the schema's
//! own (Markdown) descriptions, so docs and code cannot drift apart. Each page starts with the
//! Terraform Registry's front matter; [`validate`] checks the tree as the registry reads it.
use std::fmt::Write;

use serde_json::Value as Json;

mod coverage;
pub mod front_matter;
pub mod validate;

use front_matter::{plain_summary, FrontMatter};

/// The registry's sidebar group of each resource (a name missing here renders `""`, which
/// the validation refuses for a resource page).
const SUBCATEGORY: [(&str, &str); 7] = [
    ("hastack_lightsail_ha_instance", "Web tier"),
    ("hastack_lightsail_load_balancer", "Web tier"),
    ("hastack_lightsail_lb_attachment", "Web tier"),
    ("hastack_mysql_replica_set", "Data tier"),
    ("hastack_redis_replica_group", "Data tier"),
    ("hastack_ssm_session_policy", "Operations"),
    ("hastack_cloudwatch_log_pipeline", "Operations"),
];

/// The provider's short name (`hastack` of `registry.terraform.io/hastack/hastack`) and schema.
fn provider(doc: &Json) -> (&str, &Json) {
    doc["provider_schemas"]
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.rsplit('/').next().unwrap_or(k.as_str()), v))
        .unwrap_or(("", &Json::Null))
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

/// The type of an attribute: its `type`, or its nested attributes' nesting.
fn attr_type(a: &Json) -> String {
    match (a.get("type"), a["nested_type"]["nesting_mode"].as_str()) {
        (Some(t), _) => type_name(t),
        (None, Some("single")) => "object".into(),
        (None, Some(mode)) => format!("{mode}(object)"),
        (None, None) => "nested".into(),
    }
}

/// The field types of the object inside `t` (itself, or in a list, set or map of it).
fn object_fields(t: &Json) -> Option<&serde_json::Map<String, Json>> {
    match t {
        Json::Array(a) if a.len() == 2 && a[0] == "object" => a[1].as_object(),
        Json::Array(a) if a.len() == 2 => object_fields(&a[1]),
        _ => None,
    }
}

fn heading(depth: usize) -> String {
    "#".repeat(depth.min(6))
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
    let ty = attr_type(a);
    format!(
        "- `{name}` ({ty}, {}) {}\n",
        flags.join(", "),
        a["description"].as_str().unwrap_or("").replace('\n', " ")
    )
}

/// A block's attributes (settable, then computed), the schemas nested in them, then its
/// blocks; `path` names it in headings (`a.b`), empty at the top.
fn block(out: &mut String, b: &Json, path: &[&str], depth: usize) {
    let empty = serde_json::Map::new();
    let attrs = b["attributes"].as_object().unwrap_or(&empty);
    let of = if path.is_empty() {
        String::new()
    } else {
        format!(" of `{}`", path.join("."))
    };
    let settable: Vec<_> = attrs
        .iter()
        .filter(|(_, a)| a["required"] == true || a["optional"] == true)
        .collect();
    let computed: Vec<_> = attrs
        .iter()
        .filter(|(_, a)| a["computed"] == true && a["required"] != true && a["optional"] != true)
        .collect();
    for (title, list) in [("Arguments", settable), ("Attributes", computed)] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{} {title}{of}\n", heading(depth));
            for (n, a) in list {
                out.push_str(&attr_line(n, a));
            }
        }
    }
    for (n, a) in attrs {
        nested(out, a, &[path, &[n.as_str()]].concat(), depth + 1);
    }
    for (n, nb) in b["block_types"].as_object().unwrap_or(&empty) {
        let here = [path, &[n.as_str()]].concat();
        let _ = writeln!(out, "\n{} Block `{}`\n", heading(depth), here.join("."));
        let _ = writeln!(out, "{}", nb["block"]["description"].as_str().unwrap_or(""));
        block(out, &nb["block"], &here, depth + 1);
    }
}

/// The attributes of a nested attribute, or the fields of an object-typed one, under a
/// heading naming its path; deeper ones after it.
fn nested(out: &mut String, a: &Json, path: &[&str], depth: usize) {
    let title = format!(
        "\n{} Nested schema for `{}`\n\n",
        heading(depth),
        path.join(".")
    );
    if let Some(attrs) = a["nested_type"]["attributes"].as_object() {
        out.push_str(&title);
        for (n, inner) in attrs {
            out.push_str(&attr_line(n, inner));
        }
        for (n, inner) in attrs {
            nested(out, inner, &[path, &[n.as_str()]].concat(), depth + 1);
        }
    } else if let Some(fields) = a.get("type").and_then(object_fields) {
        out.push_str(&title);
        for (n, t) in fields {
            let _ = writeln!(out, "- `{n}` ({})", type_name(t));
        }
        for (n, t) in fields {
            let field = serde_json::json!({ "type": t });
            nested(out, &field, &[path, &[n.as_str()]].concat(), depth + 1);
        }
    }
}

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

/// The front matter of a page: `title`, the group (none for the provider page), and the first
/// paragraph of its description as plain text.
fn page_start(title: String, subcategory: Option<&str>, description: &str) -> String {
    FrontMatter {
        page_title: Some(title),
        subcategory: subcategory.map(str::to_string),
        description: Some(plain_summary(description)),
    }
    .render()
        + "\n"
}

/// (path under `docs/`, content) of every generated page.
pub fn render(doc: &Json) -> Vec<(String, String)> {
    let (short, p) = provider(doc);
    let mut pages = Vec::new();
    let description = p["provider"]["block"]["description"].as_str().unwrap_or("");
    let mut index = page_start(format!("Provider: {short}"), None, description);
    index.push_str("# hastack provider\n\n<!-- generated from schemas/hastack.json by `cargo run -p acceptance-tests --bin gen-docs`; do not edit -->\n\n");
    let _ = writeln!(index, "{description}");
    index.push_str("\n```hcl\n");
    index.push_str(include_str!("../../examples/provider/provider.tf"));
    index.push_str("```\n");
    block(&mut index, &p["provider"]["block"], &[], 2);
    pages.push(("index.md".to_string(), index));
    let empty = serde_json::Map::new();
    for (kind, dir, word) in [
        ("resource_schemas", "resources", "Resource"),
        ("data_source_schemas", "data-sources", "Data Source"),
    ] {
        for (name, s) in p[kind].as_object().unwrap_or(&empty) {
            let description = s["block"]["description"].as_str().unwrap_or("");
            let group = SUBCATEGORY
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, g)| g);
            let mut page = page_start(format!("{name} {word} - {short}"), Some(group), description);
            let _ = write!(
                page,
                "# {name}\n\n<!-- generated from schemas/hastack.json; do not edit -->\n\n{description}\n"
            );
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
            block(&mut page, &s["block"], &[], 2);
            if kind == "resource_schemas" {
                import_section(&mut page, name, &p["resource_identity_schemas"][name]);
            }
            let stem = name.strip_prefix(&format!("{short}_")).unwrap_or(name);
            pages.push((format!("{dir}/{stem}.md"), page));
        }
    }
    for (name, f) in p["functions"].as_object().unwrap_or(&empty) {
        let summary = f["summary"].as_str().unwrap_or("");
        let mut page = page_start(format!("{name} function - {short}"), Some(""), summary);
        let _ = writeln!(
            page,
            "# provider::{short}::{name}\n\n<!-- generated from schemas/hastack.json; do not edit -->\n\n{summary}\n\n{}\n\n## Parameters\n",
            f["description"].as_str().unwrap_or("")
        );
        let params = f["parameters"].as_array().into_iter().flatten();
        for prm in params.chain(f.get("variadic_parameter")) {
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
    use serde_json::json;
    use validate::Entry;

    /// What `render` writes passes `validate::check`, for a schema with every shape the
    /// renderer handles: nested attributes in nested attributes, object fields (in a list),
    /// blocks in blocks, an identity, a variadic function.
    #[test]
    fn rendered_pages_pass_the_validation() {
        let schema = json!({"provider_schemas": {"registry.terraform.io/hastack/hastack": {
            "provider": {"block": {"description": "The `provider`.\n\nMore.", "attributes": {
                "region": {"type": "string", "optional": true, "description": "R."}}}},
            "resource_schemas": {"hastack_lightsail_ha_instance": {"block": {
                "description": "A **group** of [instances](https://x.y).",
                "attributes": {
                    "id": {"type": "string", "computed": true},
                    "members": {"type": ["list", ["object", {"zone": "string", "ports": ["set", ["object", {"from": "number"}]]}]], "computed": true},
                    "files": {"nested_type": {"nesting_mode": "list", "attributes": {
                        "path": {"type": "string", "required": true},
                        "filters": {"nested_type": {"nesting_mode": "map", "attributes": {
                            "type": {"type": "string", "required": true}}}, "optional": true}}}, "optional": true}
                },
                "block_types": {"outer": {"nesting_mode": "list", "block": {
                    "attributes": {"a": {"type": "string", "optional": true}},
                    "block_types": {"inner": {"nesting_mode": "single", "block": {
                        "attributes": {"b": {"type": "number", "computed": true}}}}}}}}
            }}},
            "data_source_schemas": {"hastack_provider_info": {"block": {"description": "Info.", "attributes": {
                "region": {"type": "string", "computed": true}}}}},
            "resource_identity_schemas": {"hastack_lightsail_ha_instance": {"attributes": {
                "name_prefix": {"type": "string", "required_for_import": true}}}},
            "functions": {"f": {"summary": "F.", "description": "", "return_type": "number",
                "parameters": [{"name": "n", "type": "number"}],
                "variadic_parameter": {"name": "rest", "type": "string"}}}
        }}});
        let pages = render(&schema);
        let tree: Vec<(String, Entry)> = ["resources", "data-sources", "functions"]
            .into_iter()
            .map(|d| (d.to_string(), Entry::Dir))
            .chain(
                pages
                    .iter()
                    .map(|(p, c)| (p.clone(), Entry::File(c.clone().into_bytes()))),
            )
            .collect();
        let report = validate::check(&tree, &schema);
        assert!(report.problems.is_empty(), "{:#?}", report.problems);
        assert_eq!(report.pages, 4);
        // id, members, members.zone, members.ports, members.ports.from, files, files.path,
        // files.filters, files.filters.type, outer, outer.a, outer.inner, outer.inner.b,
        // name_prefix; region (data source); n, rest, Returns; region (provider).
        assert_eq!(report.schema_items, 19);
        let ha = &pages
            .iter()
            .find(|(p, _)| p == "resources/lightsail_ha_instance.md")
            .unwrap()
            .1;
        assert!(
            ha.starts_with("---\npage_title: \"hastack_lightsail_ha_instance Resource - hastack\"\nsubcategory: \"Web tier\"\ndescription: |-\n  A group of instances.\n---\n\n# hastack_lightsail_ha_instance\n"),
            "{ha}"
        );
        assert!(ha.contains(
            "\n#### Nested schema for `files.filters`\n\n- `type` (string, required) \n"
        ));
        assert!(ha.contains("\n### Block `outer.inner`\n"));
        assert!(pages[0].1.starts_with(
            "---\npage_title: \"Provider: hastack\"\ndescription: |-\n  The provider.\n---\n"
        ));
    }
}
