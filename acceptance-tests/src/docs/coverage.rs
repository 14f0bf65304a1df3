//! Which schema items a page lists: each attribute, block, nested attribute and object field
//! must be a `- \`name\` (…` item under the heading of its parent — "Arguments" or
//! "Attributes" at the top, a heading naming `a.b` in backticks below — and each block must
//! have its "Block `a.b`" heading. Headings and items inside fenced code do not count.
use serde_json::Value as Json;

use super::front_matter::FrontMatter;
use super::validate::Report;

/// The lines of a Markdown body outside fenced code blocks.
pub(super) fn prose_lines(body: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    body.lines().filter(move |l| {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// Which headings an item may be listed under.
type HeadingTest = Box<dyn Fn(&str) -> bool>;

/// A page's headings, each with the names of the `- \`name\` (…` items under it.
pub(super) struct Coverage {
    page: String,
    sections: Vec<(String, Vec<String>)>,
    checked: usize,
    problems: Vec<String>,
}

impl Coverage {
    pub(super) fn new(page: String, text: &str) -> Coverage {
        let body = FrontMatter::parse(text).map(|(_, b)| b).unwrap_or(text);
        let mut sections = vec![(String::new(), Vec::new())];
        for line in prose_lines(body) {
            if line.starts_with('#') {
                let heading = line.trim_start_matches('#').trim().to_string();
                sections.push((heading, Vec::new()));
            } else if let Some(item) = line.strip_prefix("- `") {
                if let Some((name, rest)) = item.split_once('`') {
                    if rest.starts_with(" (") {
                        let last = sections.last_mut().expect("one section at least");
                        last.1.push(name.to_string());
                    }
                }
            }
        }
        Coverage {
            page,
            sections,
            checked: 0,
            problems: Vec::new(),
        }
    }

    /// `name` is listed under a heading `under` accepts; `what` names the item in a problem.
    pub(super) fn bullet_under(
        &mut self,
        under: &dyn Fn(&str) -> bool,
        where_: &str,
        name: &str,
        what: &str,
    ) {
        self.checked += 1;
        let found = self
            .sections
            .iter()
            .any(|(h, items)| under(h) && items.iter().any(|i| i == name));
        if !found {
            self.problems.push(format!(
                "{}: `{what}` is not documented (no \"- `{name}` (\" item under {where_})",
                self.page
            ));
        }
    }

    pub(super) fn heading(&mut self, wanted: &dyn Fn(&str) -> bool, what: &str) {
        self.checked += 1;
        if !self.sections.iter().any(|(h, _)| wanted(h)) {
            self.problems.push(format!("{}: no {what}", self.page));
        }
    }

    /// An item at `path` (parent names, then its own) is listed under its parent's heading:
    /// "Arguments"/"Attributes" at the top, a heading naming `a.b` in backticks below.
    fn item(&mut self, path: &[String]) {
        let (name, parent) = path.split_last().expect("a name");
        let parent = parent.join(".");
        let (under, where_): (HeadingTest, String) = if parent.is_empty() {
            (
                Box::new(|h: &str| h == "Arguments" || h == "Attributes"),
                "Arguments or Attributes".into(),
            )
        } else {
            let tick = format!("`{parent}`");
            let where_ = format!("a heading naming {tick}");
            (Box::new(move |h: &str| h.contains(&tick)), where_)
        };
        self.bullet_under(&*under, &where_, name, &path.join("."));
    }

    pub(super) fn block(&mut self, b: &Json, path: &[String]) {
        let empty = serde_json::Map::new();
        for (k, a) in b["attributes"].as_object().unwrap_or(&empty) {
            let here: Vec<String> = path.iter().cloned().chain([k.clone()]).collect();
            self.item(&here);
            if a.get("nested_type").is_some() {
                self.block(&a["nested_type"], &here);
            } else {
                self.object_fields(&a["type"], &here);
            }
        }
        for (k, nb) in b["block_types"].as_object().unwrap_or(&empty) {
            let here: Vec<String> = path.iter().cloned().chain([k.clone()]).collect();
            let title = format!("Block `{}`", here.join("."));
            self.heading(&|h: &str| h == title, &format!("\"{title}\" heading"));
            self.block(&nb["block"], &here);
        }
    }

    /// The fields of an object type (also inside lists, sets and maps), each listed under a
    /// heading naming the attribute.
    fn object_fields(&mut self, ty: &Json, path: &[String]) {
        match ty {
            Json::Array(a) if a.len() == 2 && a[0] == "object" => {
                for (f, fty) in a[1].as_object().into_iter().flatten() {
                    let here: Vec<String> = path.iter().cloned().chain([f.clone()]).collect();
                    self.item(&here);
                    self.object_fields(fty, &here);
                }
            }
            Json::Array(a) if a.len() == 2 => self.object_fields(&a[1], path),
            _ => {}
        }
    }

    pub(super) fn finish(self, r: &mut Report) {
        r.schema_items += self.checked;
        r.problems.extend(self.problems);
    }
}
