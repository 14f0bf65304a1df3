//! The YAML front matter the Terraform Registry reads at the top of each page: `page_title`,
//! `subcategory` and `description` (tfplugindocs' registry layout forbids `layout` and
//! `sidebar_current`, which only the legacy `website/docs` layout uses).
//!
//! We read a strict subset of YAML: one `key: value` per line, each value a double- or
//! single-quoted string or a literal block scalar (`|-`/`|`). A plain scalar is refused, since
//! YAML may read it as something other than a string (`true`, `1.0`, `null`).

/// The keys a registry page may carry.
pub const KEYS: [&str; 3] = ["page_title", "subcategory", "description"];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrontMatter {
    pub page_title: Option<String>,
    pub subcategory: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrontMatterError {
    #[error("no front matter: a registry page starts with a `---` line")]
    Missing,
    #[error("the front matter is not closed by a `---` line")]
    Unclosed,
    #[error("front matter line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("front matter key `{0}` is not one the registry reads here (allowed: page_title, subcategory, description)")]
    UnknownKey(String),
    #[error("front matter key `{0}` appears twice")]
    Duplicate(String),
}

impl FrontMatter {
    /// The `---` block, ending with a newline: the title and subcategory double-quoted, the
    /// description a literal block.
    pub fn render(&self) -> String {
        let mut out = String::from("---\n");
        if let Some(t) = &self.page_title {
            out += &format!("page_title: {}\n", quoted(t));
        }
        if let Some(s) = &self.subcategory {
            out += &format!("subcategory: {}\n", quoted(s));
        }
        if let Some(d) = &self.description {
            out += "description: |-\n";
            for line in d.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out += &format!("  {line}\n");
                }
            }
        }
        out + "---\n"
    }

    /// The front matter at the top of `page` and the rest of the page.
    pub fn parse(page: &str) -> Result<(FrontMatter, &str), FrontMatterError> {
        let rest = page
            .strip_prefix("---\n")
            .or_else(|| page.strip_prefix("---\r\n"))
            .ok_or(FrontMatterError::Missing)?;
        let mut lines: Vec<&str> = Vec::new();
        let mut offset = page.len() - rest.len();
        let mut body = None;
        for line in rest.split_inclusive('\n') {
            offset += line.len();
            if line.trim_end() == "---" {
                body = Some(&page[offset..]);
                break;
            }
            lines.push(line.trim_end_matches(['\n', '\r']));
        }
        let body = body.ok_or(FrontMatterError::Unclosed)?;
        let mut fm = FrontMatter::default();
        let mut i = 0;
        while i < lines.len() {
            let (n, line) = (i + 2, lines[i]);
            i += 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let syntax = |message: &str| FrontMatterError::Syntax {
                line: n,
                message: message.to_string(),
            };
            if line.starts_with([' ', '\t']) {
                return Err(syntax("indented line outside a block scalar"));
            }
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| syntax("expected `key: value`"))?;
            let value = value.trim();
            let text = match value {
                "|" | "|-" => {
                    let mut block = Vec::new();
                    while i < lines.len()
                        && (lines[i].trim().is_empty() || lines[i].starts_with(' '))
                    {
                        block.push(lines[i]);
                        i += 1;
                    }
                    literal_block(&block, value == "|")
                }
                v if v.starts_with('"') => double_quoted(v).map_err(|m| syntax(&m))?,
                v if v.starts_with('\'') => single_quoted(v).map_err(|m| syntax(&m))?,
                "" => return Err(syntax(&format!("`{key}` has no value"))),
                _ => {
                    return Err(syntax(&format!(
                        "`{key}`: quote the value (\"…\") or use a block scalar (|-)"
                    )))
                }
            };
            let slot = match key {
                "page_title" => &mut fm.page_title,
                "subcategory" => &mut fm.subcategory,
                "description" => &mut fm.description,
                other => return Err(FrontMatterError::UnknownKey(other.to_string())),
            };
            if slot.replace(text).is_some() {
                return Err(FrontMatterError::Duplicate(key.to_string()));
            }
        }
        Ok((fm, body))
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            '\n' => out += "\\n",
            '\t' => out += "\\t",
            c => out.push(c),
        }
    }
    out + "\""
}

fn double_quoted(v: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = v[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let rest: String = chars.collect();
                return if rest.trim().is_empty() {
                    Ok(out)
                } else {
                    Err(format!("text after the closing quote: {rest:?}"))
                };
            }
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => return Err(format!("unsupported escape \\{}", other.unwrap_or(' '))),
            },
            c => out.push(c),
        }
    }
    Err("unclosed double quote".into())
}

fn single_quoted(v: &str) -> Result<String, String> {
    let inner = &v[1..];
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            let rest: String = chars.collect();
            return if rest.trim().is_empty() {
                Ok(out)
            } else {
                Err(format!("text after the closing quote: {rest:?}"))
            };
        }
        out.push(c);
    }
    Err("unclosed single quote".into())
}

/// A literal block's text: the first line's indentation removed from every line; `keep` (`|`)
/// keeps one final newline, `|-` none.
fn literal_block(lines: &[&str], keep: bool) -> String {
    let indent = lines
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .unwrap_or(0);
    let text = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim_end_matches('\n').to_string();
    if keep && !text.is_empty() {
        text + "\n"
    } else {
        text
    }
}

/// The first paragraph of a Markdown description as one line of plain text, as the registry
/// shows a page's description: code spans, emphasis and link targets removed.
pub fn plain_summary(markdown: &str) -> String {
    let first = markdown
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or("");
    let mut out = String::new();
    let mut rest = first;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            // [text](target) → text
            if let Some((text, after)) = rest[1..].split_once("](") {
                if let Some((_, tail)) = after.split_once(')') {
                    out += text;
                    rest = tail;
                    continue;
                }
            }
        }
        if rest.starts_with("**") || rest.starts_with("__") {
            rest = &rest[2..];
            continue;
        }
        if c != '`' {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_then_parse_gives_the_same_values() {
        let fm = FrontMatter {
            page_title: Some("hastack_x Resource - \"hastack\" \\ 1".into()),
            subcategory: Some("Data tier".into()),
            description: Some(
                "One line: with a colon, # and 'quotes'.\n\nAnd a second paragraph.".into(),
            ),
        };
        let page = fm.render() + "\n# Title\n";
        let (back, body) = FrontMatter::parse(&page).unwrap();
        assert_eq!(back, fm);
        assert_eq!(body, "\n# Title\n");
    }

    #[test]
    fn parse_cases() {
        let ok = |name: &str, text: &str, want: FrontMatter| {
            let (got, _) = FrontMatter::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, want, "{name}");
        };
        ok(
            "single quotes and a kept block",
            "---\npage_title: 'It''s'\ndescription: |\n    two\n    lines\n---\n",
            FrontMatter {
                page_title: Some("It's".into()),
                subcategory: None,
                description: Some("two\nlines\n".into()),
            },
        );
        ok(
            "comments, blank lines and an empty subcategory",
            "---\n# generated\n\nsubcategory: \"\"\n---\nbody",
            FrontMatter {
                subcategory: Some(String::new()),
                ..Default::default()
            },
        );
        let err = |name: &str, text: &str, want: &str| {
            let e = FrontMatter::parse(text).expect_err(name).to_string();
            assert!(e.contains(want), "{name}: {e:?} does not contain {want:?}");
        };
        err("no front matter", "# Title\n", "no front matter");
        err(
            "not closed",
            "---\npage_title: \"x\"\n# Title\n",
            "not closed",
        );
        err(
            "legacy key",
            "---\nlayout: \"aws\"\n---\n",
            "`layout` is not one",
        );
        err(
            "unknown key",
            "---\ntitle: \"x\"\n---\n",
            "`title` is not one",
        );
        err(
            "twice",
            "---\npage_title: \"a\"\npage_title: \"b\"\n---\n",
            "appears twice",
        );
        err(
            "plain scalar",
            "---\nsubcategory: Web tier\n---\n",
            "line 2: `subcategory`: quote",
        );
        err(
            "unclosed quote",
            "---\npage_title: \"x\n---\n",
            "unclosed double quote",
        );
        err(
            "trailing text",
            "---\npage_title: \"x\" y\n---\n",
            "after the closing quote",
        );
        err(
            "no colon",
            "---\npage_title\n---\n",
            "expected `key: value`",
        );
        err(
            "stray indent",
            "---\n  page_title: \"x\"\n---\n",
            "indented line",
        );
        err(
            "bad escape",
            "---\npage_title: \"\\x41\"\n---\n",
            "unsupported escape",
        );
    }

    #[test]
    fn plain_summary_cases() {
        for (name, md, want) in [
            (
                "code spans",
                "Uses `hastack_x` and `y`.",
                "Uses hastack_x and y.",
            ),
            ("first paragraph only", "One.\n\nTwo.", "One."),
            (
                "links keep their text",
                "See [the guide](https://x.y/z) now.",
                "See the guide now.",
            ),
            ("emphasis", "**No** loss, __ever__.", "No loss, ever."),
            ("snake_case survives", "a_b_c and *x*", "a_b_c and *x*"),
            ("lines joined", "a\nb  c", "a b c"),
        ] {
            assert_eq!(plain_summary(md), want, "{name}");
        }
    }
}
