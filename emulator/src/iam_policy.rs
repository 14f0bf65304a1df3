//! IAM policy documents as hastack-local evaluates them: STS session policies (AssumeRole's
//! `Policy`), checked by the operations that enforce them. A leaf: a document and a request in,
//! a decision out; it knows no service and no wire.
//!
//! Understood: `Statement` as one object or a list; `Effect` `Allow`/`Deny`; `Action` or
//! `NotAction` (`service:action`, case-insensitive, `*` and `?` wildcards); `Resource` or
//! `NotResource` (`*` and `?`, case-sensitive); `Condition` with the operators of [`Test`], each
//! also as `…IfExists` and behind `ForAnyValue:` / `ForAllValues:`. Condition keys are
//! case-insensitive; a key with several values in the request matches if any value does.
//!
//! Not understood, and how that shows: a statement whose `Condition` uses any other operator
//! (`ArnLike`, `DateLessThan`, `Null`, …) never matches: it neither allows nor denies. Policy
//! variables (`${aws:username}`) are not substituted: they are compared as written.
use std::collections::BTreeMap;

use serde::Deserialize;

/// Why a policy document is refused (STS answers `MalformedPolicyDocument` with the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("The policy is not in the valid JSON format.")]
    NotJson,
    #[error("Syntax errors in policy.")]
    Syntax,
    #[error("Policy statement must contain actions.")]
    NoActions,
    #[error("Policy statement must contain resources.")]
    NoResources,
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(deserialize_with = "list")]
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement; `Action`/`NotAction` and `Resource`/`NotResource` are exclusive pairs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Statement {
    #[serde(default)]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(default, deserialize_with = "some_list")]
    pub action: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_list")]
    pub not_action: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_list")]
    pub resource: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_list")]
    pub not_resource: Option<Vec<String>>,
    /// Operator → condition key → the values it accepts.
    #[serde(default)]
    pub condition: BTreeMap<String, BTreeMap<String, Values>>,
}

/// A condition's values: strings, booleans and numbers, compared as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "OneOrMany<Scalar>")]
pub struct Values(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> From<OneOrMany<T>> for Vec<T> {
    fn from(v: OneOrMany<T>) -> Self {
        match v {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Flag(bool),
    Number(serde_json::Number),
}

impl From<OneOrMany<Scalar>> for Values {
    fn from(v: OneOrMany<Scalar>) -> Self {
        let text = |s: Scalar| match s {
            Scalar::Text(t) => t,
            Scalar::Flag(b) => b.to_string(),
            Scalar::Number(n) => n.to_string(),
        };
        Values(Vec::from(v).into_iter().map(text).collect())
    }
}

fn list<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    OneOrMany::deserialize(d).map(Vec::from)
}

fn some_list<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    list(d).map(Some)
}

/// The condition tests understood. `String*` compare case-sensitively (`Like`: `*` and `?`
/// wildcards); `Bool` compares `true`/`false` case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    StringEquals,
    StringNotEquals,
    StringLike,
    StringNotLike,
    Bool,
}

/// How a test applies to a key with several values in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// No qualifier: any value matching is enough (a negated test: no value may match).
    Single,
    ForAnyValue,
    ForAllValues,
}

/// A condition operator, e.g. `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub set: SetOp,
    pub test: Test,
    pub if_exists: bool,
}

impl Operator {
    /// None for an operator not understood (the statement then does not match).
    pub fn parse(name: &str) -> Option<Self> {
        let (set, rest) = match name.split_once(':') {
            None => (SetOp::Single, name),
            Some(("ForAnyValue", r)) => (SetOp::ForAnyValue, r),
            Some(("ForAllValues", r)) => (SetOp::ForAllValues, r),
            Some(_) => return None,
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let test = match rest {
            "StringEquals" => Test::StringEquals,
            "StringNotEquals" => Test::StringNotEquals,
            "StringLike" => Test::StringLike,
            "StringNotLike" => Test::StringNotLike,
            "Bool" => Test::Bool,
            _ => return None,
        };
        Some(Operator {
            set,
            test,
            if_exists,
        })
    }

    /// Whether the request's `values` for the key (None: absent) satisfy the test against the
    /// policy's `wanted`. An absent key fails unless the operator is `…IfExists`, a negated
    /// test without qualifier (AWS: "the condition is true" then) or `ForAllValues:`.
    pub fn holds(&self, values: Option<&[String]>, wanted: &[String]) -> bool {
        let negated = matches!(self.test, Test::StringNotEquals | Test::StringNotLike);
        let Some(values) = values.filter(|v| !v.is_empty()) else {
            return match self.set {
                SetOp::Single => self.if_exists || negated,
                SetOp::ForAnyValue => self.if_exists,
                SetOp::ForAllValues => true,
            };
        };
        let hit = |v: &String| {
            wanted.iter().any(|w| match self.test {
                Test::StringEquals | Test::StringNotEquals => w == v,
                Test::StringLike | Test::StringNotLike => glob(w, v, false),
                Test::Bool => w.eq_ignore_ascii_case(v),
            }) != negated
        };
        match (self.set, negated) {
            (SetOp::Single, true) | (SetOp::ForAllValues, _) => values.iter().all(hit),
            (SetOp::Single, false) | (SetOp::ForAnyValue, _) => values.iter().any(hit),
        }
    }
}

/// `*` matches any run of characters, `?` any one character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()));
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it has swallowed up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || same(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            star = Some((sp, st + 1));
            pi = sp + 1;
            ti = st + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The request context: condition keys (case-insensitive) and their values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context(BTreeMap<String, Vec<String>>);

impl Context {
    pub fn with(mut self, key: &str, values: Vec<String>) -> Self {
        self.0.insert(key.to_ascii_lowercase(), values);
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.0.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// What a request asks: an action on a resource, in a context.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

/// The outcome: an explicit deny wins; otherwise allowed only if some Allow matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

impl Statement {
    fn check(&self) -> Result<(), PolicyError> {
        match (&self.action, &self.not_action) {
            (Some(_), Some(_)) => return Err(PolicyError::Syntax),
            (None, None) => return Err(PolicyError::NoActions),
            _ => {}
        }
        match (&self.resource, &self.not_resource) {
            (Some(_), Some(_)) => Err(PolicyError::Syntax),
            (None, None) => Err(PolicyError::NoResources),
            _ => Ok(()),
        }
    }

    /// Whether the statement applies to the request (its effect aside).
    pub fn matches(&self, r: &Request<'_>) -> bool {
        let any = |patterns: &[String], text: &str, ignore_case: bool| {
            patterns.iter().any(|p| glob(p, text, ignore_case))
        };
        let action = match (&self.action, &self.not_action) {
            (Some(a), _) => any(a, r.action, true),
            (None, Some(n)) => !any(n, r.action, true),
            (None, None) => false,
        };
        let resource = match (&self.resource, &self.not_resource) {
            (Some(a), _) => any(a, r.resource, false),
            (None, Some(n)) => !any(n, r.resource, false),
            (None, None) => false,
        };
        action
            && resource
            && self.condition.iter().all(|(op, keys)| {
                Operator::parse(op).is_some_and(|op| {
                    keys.iter()
                        .all(|(key, wanted)| op.holds(r.context.get(key), &wanted.0))
                })
            })
    }
}

impl Policy {
    /// A policy from its JSON text, checked as IAM checks its grammar.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|_| PolicyError::NotJson)?;
        let p = Policy::deserialize(json).map_err(|_| PolicyError::Syntax)?;
        p.statement.iter().try_for_each(Statement::check)?;
        Ok(p)
    }

    pub fn evaluate(&self, r: &Request<'_>) -> Decision {
        let mut allowed = false;
        for s in self.statement.iter().filter(|s| s.matches(r)) {
            match s.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

#[cfg(test)]
mod tests;
