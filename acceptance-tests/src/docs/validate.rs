//! Checks `docs/` as the Terraform Registry and `tfplugindocs validate` read it, and a little
//! more: the layout (`docs/index.md` and the registry's subdirectories, `.md` files only), each
//! page's front matter and size, one page per resource, data source and function of the schema
//! and no page without one, and every attribute, block, nested attribute, object field,
//! function parameter and identity attribute of the schema listed on its page.
//!
//! Freshness (the pages are what `gen-docs` renders from the schema snapshot) is checked
//! apart, by re-rendering: `tests/docs_validation.rs`.
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;

use super::coverage::{prose_lines, Coverage};
use super::front_matter::FrontMatter;

/// The registry truncates a larger document; tfplugindocs refuses one of this size or more.
pub const MAX_PAGE_BYTES: usize = 500_000;

/// The subdirectories of `docs/` the registry reads (tfplugindocs' registry layout, without
/// the deprecated `cdktf/` tree).
pub const REGISTRY_DIRS: [&str; 8] = [
    "resources",
    "data-sources",
    "ephemeral-resources",
    "list-resources",
    "actions",
    "functions",
    "state-stores",
    "guides",
];

/// Files at the top of `docs/` that are not registry pages (the registry ignores them), kept
/// there on purpose. Any other top-level file is an error: the registry would not show it.
pub const NON_REGISTRY_PAGES: [&str; 1] = ["emulator.md"];

/// Subcategories (the registry's sidebar groups) a resource page may have; data sources and
/// functions may also have none (`""`).
pub const SUBCATEGORIES: [&str; 3] = ["Web tier", "Data tier", "Operations"];

/// Subcategories a guide may have (the registry already lists guides under "Guides").
pub const GUIDE_SUBCATEGORIES: [&str; 1] = [""];

/// One entry of `docs/`, by path relative to it with `/` separators.
#[derive(Clone, Debug)]
pub enum Entry {
    Dir,
    File(Vec<u8>),
}

/// Every file and directory under `dir`, sorted by path.
pub fn read_tree(dir: &Path) -> std::io::Result<Vec<(String, Entry)>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Entry)>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let rel = e.path().strip_prefix(root).expect("under root").to_owned();
            let rel = rel
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            if e.file_type()?.is_dir() {
                out.push((rel, Entry::Dir));
                walk(root, &e.path(), out)?;
            } else {
                out.push((rel, Entry::File(std::fs::read(e.path())?)));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// What was checked, and what is wrong (each problem names its file).
#[derive(Debug, Default)]
pub struct Report {
    pub pages: usize,
    /// Attributes, blocks, nested attributes, object fields, parameters and identity
    /// attributes found on their pages or reported missing.
    pub schema_items: usize,
    pub problems: Vec<String>,
}

/// The subdirectories whose pages document one schema object each: (directory, schema key,
/// the type word of the page title tfplugindocs writes).
const SCHEMA_DIRS: [(&str, &str, &str); 6] = [
    ("resources", "resource_schemas", "Resource"),
    ("data-sources", "data_source_schemas", "Data Source"),
    (
        "ephemeral-resources",
        "ephemeral_resource_schemas",
        "Ephemeral Resource",
    ),
    ("list-resources", "list_resource_schemas", "List Resource"),
    ("actions", "action_schemas", "Action"),
    ("state-stores", "state_store_schemas", "State Store"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Index,
    Guide,
    Function,
    /// A page of one of [`SCHEMA_DIRS`].
    Schema(&'static str),
}

/// Checks the tree of `docs/` against the provider schema (`terraform providers schema -json`).
pub fn check(tree: &[(String, Entry)], schema: &Json) -> Report {
    let mut r = Report::default();
    let (address, p) = schema["provider_schemas"]
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.as_str(), v))
        .unwrap_or(("", &Json::Null));
    let provider = address.rsplit('/').next().unwrap_or("");
    if provider.is_empty() {
        r.problems
            .push("the schema has no provider_schemas entry".into());
        return r;
    }
    let pages = registry_pages(tree, provider, &mut r);
    schema_objects(&pages, p, provider, &mut r);
    r
}

/// Which registry page `path` is: `Ok(None)` for what the registry does not read and is
/// allowed (a listed non-registry page, a registry directory, the inside of a directory
/// reported already), `Err` for what is not allowed.
fn classify(path: &str, entry: &Entry) -> Result<Option<Kind>, String> {
    let parts: Vec<&str> = path.split('/').collect();
    Ok(Some(match (parts.as_slice(), entry) {
        (["index.md"], Entry::File(_)) => Kind::Index,
        ([name], Entry::File(_)) if NON_REGISTRY_PAGES.contains(name) => return Ok(None),
        ([_], Entry::File(_)) => return Err("the registry shows only docs/index.md and the pages in its subdirectories: move it to docs/guides/ (with front matter) or list it in NON_REGISTRY_PAGES".into()),
        ([dir], Entry::Dir) if REGISTRY_DIRS.contains(dir) => return Ok(None),
        ([_], Entry::Dir) => {
            return Err(format!(
                "not a directory the registry reads ({})",
                REGISTRY_DIRS.join(", ")
            ))
        }
        ([dir, _], Entry::Dir) if REGISTRY_DIRS.contains(dir) => {
            return Err("the registry reads no subdirectories here: one .md file per page".into())
        }
        ([dir, file], Entry::File(_)) if REGISTRY_DIRS.contains(dir) => {
            if !file.ends_with(".md") || file.starts_with('.') {
                return Err("registry pages are `.md` files (nothing else here)".into());
            }
            match *dir {
                "guides" => Kind::Guide,
                "functions" => Kind::Function,
                d => Kind::Schema(
                    SCHEMA_DIRS
                        .iter()
                        .find(|(sd, _, _)| *sd == d)
                        .map(|(sd, _, _)| *sd)
                        .expect("REGISTRY_DIRS are guides, functions and SCHEMA_DIRS"),
                ),
            }
        }
        _ => return Ok(None),
    }))
}

/// The registry pages of the tree by kind and name, each checked on its own: layout, size,
/// encoding, front matter, links.
fn registry_pages(
    tree: &[(String, Entry)],
    provider: &str,
    r: &mut Report,
) -> BTreeMap<(Kind, String), String> {
    let mut pages = BTreeMap::new();
    for (path, entry) in tree {
        let problem = |m: &str| format!("docs/{path}: {m}");
        let kind = match classify(path, entry) {
            Ok(Some(kind)) => kind,
            Ok(None) => continue,
            Err(m) => {
                r.problems.push(problem(&m));
                continue;
            }
        };
        let Entry::File(bytes) = entry else {
            continue;
        };
        r.pages += 1;
        if bytes.len() >= MAX_PAGE_BYTES {
            r.problems.push(problem(&format!(
                "{} bytes: the registry's limit is {MAX_PAGE_BYTES}",
                bytes.len()
            )));
        }
        let Ok(text) = String::from_utf8(bytes.clone()) else {
            r.problems.push(problem("not UTF-8"));
            continue;
        };
        let name = path
            .rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".md"))
            .unwrap_or("")
            .to_string();
        for m in page_problems(kind, provider, &name, &text) {
            r.problems.push(problem(&m));
        }
        pages.insert((kind, name), text);
    }
    if !pages.contains_key(&(Kind::Index, "index".into())) {
        r.problems
            .push("docs/index.md is missing: the registry's provider page".into());
    }
    pages
}

/// One page per resource, data source (…) and function of the schema, none without one, and
/// every item of each listed on its page; the provider block on the index.
fn schema_objects(
    pages: &BTreeMap<(Kind, String), String>,
    p: &Json,
    provider: &str,
    r: &mut Report,
) {
    let empty = serde_json::Map::new();
    let prefix = format!("{provider}_");
    for (dir, key, _) in SCHEMA_DIRS {
        let schemas = p[key].as_object().unwrap_or(&empty);
        for (name, s) in schemas {
            let stem = name.strip_prefix(&prefix).unwrap_or(name);
            let Some(text) = pages.get(&(Kind::Schema(dir), stem.to_string())) else {
                r.problems.push(format!(
                    "docs/{dir}/{stem}.md is missing: {name} has no page"
                ));
                continue;
            };
            let mut c = Coverage::new(format!("docs/{dir}/{stem}.md"), text);
            c.block(&s["block"], &[]);
            if dir == "resources" {
                let identity = &p["resource_identity_schemas"][name]["attributes"];
                for k in identity.as_object().into_iter().flatten().map(|(k, _)| k) {
                    c.bullet_under(&|h: &str| h == "Import", "the Import section", k, k);
                }
            }
            c.finish(r);
        }
        for (_, stem) in pages.keys().filter(|(k, _)| *k == Kind::Schema(dir)) {
            if !schemas.contains_key(&format!("{prefix}{stem}")) {
                r.problems.push(format!(
                    "docs/{dir}/{stem}.md: the schema has no {prefix}{stem}: a page for nothing (renamed or removed?)"
                ));
            }
        }
    }
    let functions = p["functions"].as_object().unwrap_or(&empty);
    for (name, f) in functions {
        let Some(text) = pages.get(&(Kind::Function, name.clone())) else {
            r.problems.push(format!(
                "docs/functions/{name}.md is missing: function {name} has no page"
            ));
            continue;
        };
        let mut c = Coverage::new(format!("docs/functions/{name}.md"), text);
        let params = f["parameters"].as_array().into_iter().flatten();
        for prm in params.chain(f.get("variadic_parameter")) {
            let n = prm["name"].as_str().unwrap_or("");
            c.bullet_under(&|h: &str| h == "Parameters", "Parameters", n, n);
        }
        c.heading(&|h: &str| h == "Returns", "a Returns section");
        c.finish(r);
    }
    for (_, stem) in pages.keys().filter(|(k, _)| *k == Kind::Function) {
        if !functions.contains_key(stem) {
            r.problems.push(format!(
                "docs/functions/{stem}.md: the schema has no function {stem}: a page for nothing"
            ));
        }
    }
    if let Some(text) = pages.get(&(Kind::Index, "index".into())) {
        let mut c = Coverage::new("docs/index.md".into(), text);
        c.block(&p["provider"]["block"], &[]);
        c.finish(r);
    }
}

/// Front matter and links of one page.
fn page_problems(kind: Kind, provider: &str, name: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (fm, body) = match FrontMatter::parse(text) {
        Ok(x) => x,
        Err(e) => return vec![e.to_string()],
    };
    let title = match kind {
        Kind::Index => Some(format!("Provider: {provider}")),
        Kind::Schema(dir) => SCHEMA_DIRS
            .iter()
            .find(|(d, _, _)| *d == dir)
            .map(|(_, _, word)| format!("{provider}_{name} {word} - {provider}")),
        Kind::Function => Some(format!("{name} function - {provider}")),
        Kind::Guide => None,
    };
    match (&fm.page_title, title) {
        (None, _) => out.push("front matter has no page_title".into()),
        (Some(t), _) if t.trim().is_empty() => out.push("page_title is empty".into()),
        (Some(t), Some(want)) if *t != want => out.push(format!(
            "page_title is {t:?}; the registry convention is {want:?}"
        )),
        _ => {}
    }
    if fm
        .description
        .as_deref()
        .is_none_or(|d| d.trim().is_empty())
    {
        out.push("front matter has no description (the registry's summary of the page)".into());
    }
    match (kind, fm.subcategory.as_deref()) {
        (Kind::Index, Some(_)) => {
            out.push("the provider page (index.md) may not have a subcategory".into())
        }
        (Kind::Index, None) | (Kind::Guide, None) => {}
        (_, None) => out.push("front matter has no subcategory".into()),
        (Kind::Guide, Some(s)) if !GUIDE_SUBCATEGORIES.contains(&s) => out.push(format!(
            "guide subcategory {s:?} is not one of {GUIDE_SUBCATEGORIES:?}"
        )),
        (Kind::Schema("resources"), Some(s)) if !SUBCATEGORIES.contains(&s) => out.push(format!(
            "subcategory {s:?} is not one of {SUBCATEGORIES:?} (a resource must have one)"
        )),
        (Kind::Schema(_) | Kind::Function, Some(s))
            if !s.is_empty() && !SUBCATEGORIES.contains(&s) =>
        {
            out.push(format!(
                "subcategory {s:?} is not \"\" or one of {SUBCATEGORIES:?}"
            ))
        }
        _ => {}
    }
    for line in prose_lines(body) {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let target = rest.split([')', ' ']).next().unwrap_or("");
            let path = target.split('#').next().unwrap_or("");
            if !target.contains("://") && !target.starts_with('#') && path.ends_with(".md") {
                out.push(format!("link to {target:?}: the registry serves pages without `.md`, so a relative link to a file breaks there"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Json {
        json!({"provider_schemas": {"registry.terraform.io/hastack/hastack": {
            "provider": {"block": {"attributes": {"region": {"type": "string", "optional": true}}}},
            "resource_schemas": {"hastack_thing": {"block": {
                "attributes": {
                    "name": {"type": "string", "required": true},
                    "members": {"type": ["list", ["object", {"zone": "string"}]], "computed": true},
                    "files": {"nested_type": {"nesting_mode": "list", "attributes": {
                        "path": {"type": "string", "required": true}}}, "optional": true}
                },
                "block_types": {"timeouts": {"nesting_mode": "single", "block": {
                    "attributes": {"create": {"type": "string", "optional": true}}}}}
            }}},
            "data_source_schemas": {},
            "resource_identity_schemas": {"hastack_thing": {"attributes": {"name": {"type": "string"}}}},
            "functions": {"spread": {"parameters": [{"name": "count", "type": "number"}], "return_type": "number"}}
        }}})
    }

    fn page(fm: &str, body: &str) -> Entry {
        Entry::File(format!("---\n{fm}---\n\n{body}").into_bytes())
    }

    fn good() -> Vec<(String, Entry)> {
        let d = "description: |-\n  Text.\n";
        vec![
            ("index.md".into(), page(&format!("page_title: \"Provider: hastack\"\n{d}"), "## Arguments\n\n- `region` (string, optional) R.\n")),
            ("resources".into(), Entry::Dir),
            ("resources/thing.md".into(), page(
                &format!("page_title: \"hastack_thing Resource - hastack\"\nsubcategory: \"Web tier\"\n{d}"),
                "```hcl\n# Arguments\n```\n## Arguments\n\n- `name` (string, required) N.\n- `files` (list(object), optional) F.\n\n## Attributes\n\n- `members` (list(object), computed) M.\n\n### Nested schema for `files`\n\n- `path` (string, required) P.\n\n### Nested schema for `members`\n\n- `zone` (string)\n\n## Block `timeouts`\n\n### Arguments of `timeouts`\n\n- `create` (string, optional) C.\n\n## Import\n\n- `name` (required) N.\n",
            )),
            ("functions".into(), Entry::Dir),
            ("functions/spread.md".into(), page(
                &format!("page_title: \"spread function - hastack\"\nsubcategory: \"\"\n{d}"),
                "## Parameters\n\n- `count` (number) C.\n\n## Returns\n\nnumber\n",
            )),
            ("guides".into(), Entry::Dir),
            ("guides/start.md".into(), page(&format!("page_title: \"Start\"\nsubcategory: \"\"\n{d}"), "See [x](../resources/thing) and [y](https://e.x/a.md).\n")),
            ("emulator.md".into(), Entry::File(b"# not a registry page\n".to_vec())),
        ]
    }

    #[test]
    fn a_valid_tree_passes_and_everything_is_counted() {
        let r = check(&good(), &schema());
        assert!(r.problems.is_empty(), "{:#?}", r.problems);
        assert_eq!(r.pages, 4);
        // name, files, files.path, members, members.zone, timeouts (heading), timeouts.create,
        // identity name; count, Returns; region.
        assert_eq!(r.schema_items, 11);
    }

    /// Each case changes the valid tree and names a piece of the problem it must cause.
    #[test]
    fn broken_trees_fail_with_the_reason() {
        type Edit = Box<dyn Fn(&mut Vec<(String, Entry)>)>;
        let set = |path: &'static str, e: Entry| -> Edit {
            let e = std::cell::RefCell::new(Some(e));
            Box::new(move |t: &mut Vec<(String, Entry)>| {
                let e = e.borrow_mut().take().unwrap_or(Entry::Dir);
                match t.iter_mut().find(|(p, _)| p == path) {
                    Some(slot) => slot.1 = e,
                    None => t.push((path.into(), e)),
                }
            })
        };
        let replace = |path: &'static str, from: &'static str, to: &'static str| -> Edit {
            Box::new(move |t: &mut Vec<(String, Entry)>| {
                let slot = t.iter_mut().find(|(p, _)| p == path).expect("page");
                let Entry::File(b) = &slot.1 else {
                    panic!("not a file")
                };
                let text = String::from_utf8(b.clone()).unwrap();
                assert!(text.contains(from), "{path} has no {from:?}");
                slot.1 = Entry::File(text.replacen(from, to, 1).into_bytes());
            })
        };
        let remove = |path: &'static str| -> Edit {
            Box::new(move |t: &mut Vec<(String, Entry)>| t.retain(|(p, _)| p != path))
        };
        let cases: Vec<(&str, Edit, &str)> = vec![
            ("no front matter", replace("resources/thing.md", "---\npage_title", "page_title"), "docs/resources/thing.md: no front matter"),
            ("legacy key", replace("resources/thing.md", "subcategory:", "sidebar_current:"), "`sidebar_current` is not one"),
            ("no description", replace("functions/spread.md", "description: |-\n  Text.\n", ""), "functions/spread.md: front matter has no description"),
            ("wrong title", replace("resources/thing.md", "Resource - hastack", "Resource"), "the registry convention is \"hastack_thing Resource - hastack\""),
            ("index with subcategory", replace("index.md", "page_title", "subcategory: \"Web tier\"\npage_title"), "index.md) may not have a subcategory"),
            ("unknown subcategory", replace("resources/thing.md", "Web tier", "Misc"), "subcategory \"Misc\" is not one of"),
            ("resource without subcategory", replace("resources/thing.md", "subcategory: \"Web tier\"\n", ""), "thing.md: front matter has no subcategory"),
            ("guide without title", replace("guides/start.md", "page_title: \"Start\"\n", ""), "guides/start.md: front matter has no page_title"),
            ("attribute missing", replace("resources/thing.md", "- `name` (string, required) N.\n", ""), "`name` is not documented (no \"- `name` (\" item under Arguments or Attributes)"),
            ("nested attribute missing", replace("resources/thing.md", "- `path` (", "- path ("), "`files.path` is not documented"),
            ("object field missing", replace("resources/thing.md", "- `zone` (string)", "zone"), "`members.zone` is not documented"),
            ("under the wrong heading", replace("resources/thing.md", "### Nested schema for `files`", "### Nested schema for `other`"), "`files.path` is not documented (no \"- `path` (\" item under a heading naming `files`)"),
            ("block heading missing", replace("resources/thing.md", "## Block `timeouts`", "## Timeouts"), "no \"Block `timeouts`\" heading"),
            ("identity attribute missing", replace("resources/thing.md", "## Import", "## Importing"), "under the Import section"),
            ("parameter missing", replace("functions/spread.md", "- `count`", "- count"), "`count` is not documented"),
            ("heading inside code does not count", replace("resources/thing.md", "## Arguments\n\n- `name`", "```\n## Arguments\n\n- `name`"), "`name` is not documented"),
            ("resource page missing", remove("resources/thing.md"), "docs/resources/thing.md is missing: hastack_thing has no page"),
            ("function page missing", remove("functions/spread.md"), "function spread has no page"),
            ("index missing", remove("index.md"), "docs/index.md is missing"),
            ("orphan resource page", set("resources/gone.md", page("page_title: \"hastack_gone Resource - hastack\"\nsubcategory: \"Web tier\"\ndescription: \"x\"\n", "")), "resources/gone.md: the schema has no hastack_gone"),
            ("orphan function page", set("functions/gone.md", page("page_title: \"gone function - hastack\"\nsubcategory: \"\"\ndescription: \"x\"\n", "")), "the schema has no function gone"),
            ("stray top-level page", set("data-tier.md", Entry::File(b"# x".to_vec())), "docs/data-tier.md: the registry shows only docs/index.md"),
            ("unknown directory", set("website", Entry::Dir), "docs/website: not a directory the registry reads"),
            ("nested directory", set("guides/more", Entry::Dir), "docs/guides/more: the registry reads no subdirectories"),
            ("wrong extension", set("guides/start.html.markdown", Entry::File(b"x".to_vec())), "registry pages are `.md` files"),
            ("too big", set("guides/big.md", page("page_title: \"Big\"\ndescription: \"x\"\n", &"x".repeat(MAX_PAGE_BYTES))), "guides/big.md: 500"),
            ("relative .md link", replace("guides/start.md", "../resources/thing", "../resources/thing.md#import"), "link to \"../resources/thing.md#import\""),
        ];
        for (name, edit, want) in cases {
            let mut tree = good();
            edit(&mut tree);
            let r = check(&tree, &schema());
            assert!(
                r.problems.iter().any(|p| p.contains(want)),
                "{name}: no problem contains {want:?}; got {:#?}",
                r.problems
            );
        }
    }
}
