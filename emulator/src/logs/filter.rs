//! CloudWatch Logs filter patterns: the term syntax (`ERROR`, `"exact phrase"`, `?A ?B` for any
//! of, `-term` to exclude) and simple JSON selectors (`{ $.level = "error" }`,
//! `{ $.latency > 100 }`). Space-delimited patterns (`[ip, user, ...]`) are not supported and
//! are rejected, never silently matched.
use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    All,
    Terms {
        required: Vec<String>,
        any_of: Vec<String>,
        excluded: Vec<String>,
    },
    Json {
        path: Vec<String>,
        op: String,
        value: String,
    },
}

pub fn parse(p: &str) -> Result<Pattern, String> {
    let p = p.trim();
    if p.is_empty() || p == "\"\"" {
        return Ok(Pattern::All);
    }
    if p.starts_with('[') {
        return Err(
            "space-delimited filter patterns ([...]) are not supported by hastack-local".into(),
        );
    }
    if let Some(inner) = p.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let inner = inner.trim();
        let op = ["!=", ">=", "<=", "=", ">", "<"]
            .into_iter()
            .find(|op| inner.contains(op))
            .ok_or("a JSON filter needs a comparison")?;
        let (lhs, rhs) = inner
            .split_once(op)
            .ok_or("a JSON filter needs a comparison")?;
        let lhs = lhs.trim();
        if lhs.contains("&&") || lhs.contains("||") || rhs.contains("&&") || rhs.contains("||") {
            return Err("compound JSON filter patterns are not supported by hastack-local".into());
        }
        let path = lhs
            .strip_prefix("$.")
            .ok_or("a JSON selector starts with $.")?
            .split('.')
            .map(str::to_string)
            .collect();
        return Ok(Pattern::Json {
            path,
            op: op.into(),
            value: rhs.trim().trim_matches('"').to_string(),
        });
    }
    let (mut required, mut any_of, mut excluded) = (vec![], vec![], vec![]);
    let mut rest = p;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let (prefix, body) = match rest.chars().next() {
            Some('?') => (Some('?'), &rest[1..]),
            Some('-') => (Some('-'), &rest[1..]),
            _ => (None, rest),
        };
        let (term, after) = if let Some(q) = body.strip_prefix('"') {
            let end = q.find('"').ok_or("unterminated quote in filter pattern")?;
            (q[..end].to_string(), &q[end + 1..])
        } else {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            (body[..end].to_string(), &body[end..])
        };
        match prefix {
            Some('?') => any_of.push(term),
            Some('-') => excluded.push(term),
            _ => required.push(term),
        }
        rest = after;
    }
    Ok(Pattern::Terms {
        required,
        any_of,
        excluded,
    })
}

impl Pattern {
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms {
                required,
                any_of,
                excluded,
            } => {
                required.iter().all(|t| message.contains(t.as_str()))
                    && (any_of.is_empty() || any_of.iter().any(|t| message.contains(t.as_str())))
                    && !excluded.iter().any(|t| message.contains(t.as_str()))
            }
            Pattern::Json { path, op, value } => {
                let Ok(j) = serde_json::from_str::<Json>(message) else {
                    return false;
                };
                let mut cur = &j;
                for p in path {
                    match cur.get(p) {
                        Some(v) => cur = v,
                        None => return false,
                    }
                }
                let text = cur
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| cur.to_string());
                match (cur.as_f64(), value.parse::<f64>().ok()) {
                    (Some(a), Some(b)) => match op.as_str() {
                        "=" => a == b,
                        "!=" => a != b,
                        ">" => a > b,
                        "<" => a < b,
                        ">=" => a >= b,
                        _ => a <= b,
                    },
                    _ => match op.as_str() {
                        "=" => wildcard_eq(&text, value),
                        "!=" => !wildcard_eq(&text, value),
                        _ => false,
                    },
                }
            }
        }
    }

    /// The numeric value a metric transformation's `metricValue` names in `message`.
    pub fn extract(message: &str, metric_value: &str) -> Option<f64> {
        match metric_value.strip_prefix("$.") {
            None => metric_value.parse().ok(),
            Some(path) => {
                let j: Json = serde_json::from_str(message).ok()?;
                let mut cur = &j;
                for p in path.split('.') {
                    cur = cur.get(p)?;
                }
                cur.as_f64().or_else(|| cur.as_str()?.parse().ok())
            }
        }
    }
}

impl Pattern {
    /// A dimension value: `$.field` from a JSON message, or a literal.
    pub fn extract_text(message: &str, expr: &str) -> Option<String> {
        match expr.strip_prefix("$.") {
            None => Some(expr.to_string()),
            Some(path) => {
                let j: Json = serde_json::from_str(message).ok()?;
                let mut cur = &j;
                for p in path.split('.') {
                    cur = cur.get(p)?;
                }
                Some(
                    cur.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| cur.to_string()),
                )
            }
        }
    }
}

fn wildcard_eq(text: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => text.starts_with(prefix),
        None => text == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_cases() {
        let cases = [
            ("empty", "", "anything", true),
            ("term", "ERROR", "2026 ERROR disk full", true),
            ("term_missing", "ERROR", "all good", false),
            ("two_terms", "ERROR disk", "ERROR disk full", true),
            (
                "two_terms_one_missing",
                "ERROR memory",
                "ERROR disk full",
                false,
            ),
            ("phrase", "\"disk full\"", "ERROR disk full", true),
            ("any_of", "?WARN ?ERROR", "WARN low", true),
            ("any_of_none", "?WARN ?ERROR", "INFO ok", false),
            ("exclude", "ERROR -retry", "ERROR retry 1", false),
            (
                "json_eq",
                "{ $.level = \"error\" }",
                r#"{"level":"error"}"#,
                true,
            ),
            (
                "json_eq_other",
                "{ $.level = \"error\" }",
                r#"{"level":"info"}"#,
                false,
            ),
            ("json_gt", "{ $.latency > 100 }", r#"{"latency":250}"#, true),
            (
                "json_nested",
                "{ $.http.status = 500 }",
                r#"{"http":{"status":500}}"#,
                true,
            ),
            (
                "json_wildcard",
                "{ $.path = \"/api*\" }",
                r#"{"path":"/api/users"}"#,
                true,
            ),
            (
                "json_not_json",
                "{ $.level = \"error\" }",
                "plain text",
                false,
            ),
        ];
        for (name, pattern, message, want) in cases {
            assert_eq!(parse(pattern).unwrap().matches(message), want, "{name}");
        }
        assert!(parse("[ip, user]").is_err());
        assert!(parse("{ $.a = 1 && $.b = 2 }").is_err());
    }

    #[test]
    fn extracts_metric_values() {
        assert_eq!(Pattern::extract("x", "1"), Some(1.0));
        assert_eq!(
            Pattern::extract(r#"{"latency": 42}"#, "$.latency"),
            Some(42.0)
        );
        assert_eq!(Pattern::extract("x", "$.latency"), None);
    }
}
