//! Diagnostics: how every domain failure reaches the practitioner.
use std::fmt;

/// One step of an attribute path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attr(String),
    Key(String),
    Index(i64),
}

/// A path into a value, e.g. `endpoints.lightsail` or `public_ports[0].cidrs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    pub fn root(name: impl Into<String>) -> Self {
        AttributePath(vec![PathStep::Attr(name.into())])
    }
    pub fn attr(mut self, name: impl Into<String>) -> Self {
        self.0.push(PathStep::Attr(name.into()));
        self
    }
    pub fn index(mut self, i: i64) -> Self {
        self.0.push(PathStep::Index(i));
        self
    }
    pub fn key(mut self, k: impl Into<String>) -> Self {
        self.0.push(PathStep::Key(k.into()));
        self
    }
    /// Follow this path through a value (null where it leads nowhere).
    pub fn lookup<'v>(&self, v: &'v crate::Value) -> &'v crate::Value {
        static NULL: crate::Value = crate::Value::Null;
        let mut cur = v;
        for step in &self.0 {
            cur = match (step, cur) {
                (PathStep::Attr(a), _) => cur.get(a),
                (PathStep::Key(k), crate::Value::Map(m)) => m.get(k).unwrap_or(&NULL),
                (PathStep::Index(i), _) => cur
                    .elements()
                    .and_then(|e| usize::try_from(*i).ok().and_then(|i| e.get(i)))
                    .unwrap_or(&NULL),
                _ => &NULL,
            };
        }
        cur
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub attribute: Option<AttributePath>,
}

/// An ordered collection of diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }
    /// An error about one attribute; Terraform underlines it in the configuration.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary, detail, Some(path));
    }
    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary, detail, Some(path));
    }
    fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        attribute: Option<AttributePath>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            attribute,
        });
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<crate::ValueError> for Diagnostics {
    fn from(e: crate::ValueError) -> Self {
        let mut d = Diagnostics::new();
        d.error("Value conversion failed", e.to_string());
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn display_and_lookup() {
        let p = AttributePath::root("ports").index(1).attr("cidrs");
        assert_eq!(p.to_string(), "ports[1].cidrs");
        let v = Value::object([(
            "ports",
            Value::List(vec![
                Value::Null,
                Value::object([("cidrs", Value::string("x"))]),
            ]),
        )]);
        assert_eq!(p.lookup(&v).as_str(), Some("x"));
        assert!(AttributePath::root("ports").index(9).lookup(&v).is_null());
    }

    #[test]
    fn errors_and_warnings() {
        let mut d = Diagnostics::new();
        d.warning("w", "");
        assert!(!d.has_errors());
        d.attribute_error(AttributePath::root("region"), "bad", "");
        assert!(d.has_errors());
    }
}
