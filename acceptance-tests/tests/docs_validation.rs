//! docs/ as the Terraform Registry reads it (in the spirit of `tfplugindocs validate`), and
//! up to date with the schema snapshot. Needs neither Terraform nor hastack-local: always runs.
use std::path::{Path, PathBuf};

use acceptance_tests::docs::{render, validate};
use serde_json::Value as Json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema() -> Json {
    let text =
        std::fs::read_to_string(root().join("schemas/hastack.json")).expect("schemas/hastack.json");
    serde_json::from_str(&text).expect("schemas/hastack.json is JSON")
}

/// Layout, front matter, page sizes, one page per schema object and none without one, every
/// attribute, block, nested attribute, object field, parameter and identity attribute listed.
#[test]
fn docs_are_valid_registry_docs() {
    let tree = validate::read_tree(&root().join("docs")).expect("docs/ is readable");
    let schema = schema();
    let report = validate::check(&tree, &schema);
    eprintln!(
        "checked {} registry pages and {} schema items on them",
        report.pages, report.schema_items
    );
    assert!(
        report.problems.is_empty(),
        "docs/ is not valid for the Terraform Registry ({} problems):\n{}",
        report.problems.len(),
        report.problems.join("\n")
    );
    // Not vacuous: the index, a page per generated object, at least one guide.
    let p = &schema["provider_schemas"]["registry.terraform.io/hastack/hastack"];
    let objects = ["resource_schemas", "data_source_schemas", "functions"]
        .iter()
        .map(|k| p[k].as_object().map_or(0, |m| m.len()))
        .sum::<usize>();
    assert!(objects > 0, "the schema lists no resources");
    assert!(report.pages > objects + 1, "{} pages", report.pages);
    assert!(
        report.schema_items > objects,
        "{} items",
        report.schema_items
    );
}

/// docs/ must be regenerated whenever the schema snapshot changes.
#[test]
fn committed_docs_match_the_schema_snapshot() {
    let pages = render(&schema());
    assert!(pages.iter().any(|(p, _)| p == "functions/spread_zones.md"));
    let stale: Vec<String> = pages
        .into_iter()
        .filter(|(path, content)| {
            std::fs::read_to_string(root().join("docs").join(path))
                .ok()
                .as_ref()
                != Some(content)
        })
        .map(|(path, _)| format!("docs/{path}"))
        .collect();
    assert!(
        stale.is_empty(),
        "stale or missing: {}; run `cargo run -p acceptance-tests --bin gen-docs`",
        stale.join(", ")
    );
}
