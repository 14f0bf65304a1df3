//! The `timeouts { create = "30m" }` block every resource offers.
use std::time::Duration;

use crate::diag::{AttributePath, Diagnostics};
use crate::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::value::{Type, Value};

/// Which operations a resource's `timeouts` block covers, and their defaults.
#[derive(Clone, Debug)]
pub struct TimeoutDefaults {
    pub create: Duration,
    pub read: Duration,
    pub update: Duration,
    pub delete: Duration,
}

impl Default for TimeoutDefaults {
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(n * 60);
        TimeoutDefaults {
            create: m(30),
            read: m(5),
            update: m(30),
            delete: m(20),
        }
    }
}

/// The operation a timeout applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// The block to add to a resource schema.
pub fn block(defaults: &TimeoutDefaults) -> NestedBlock {
    let attr = |op: Operation, d: Duration| {
        Attribute::new(op.name(), Type::String).optional().description(format!(
            "How long to wait for {} to finish, as a duration such as `\"30m\"` or `\"1h30m\"`. Default `{}`.",
            op.name(),
            format_duration(d)
        ))
    };
    NestedBlock::new(
        "timeouts",
        Nesting::Single,
        Block::new("Limits on how long each operation may take.")
            .attribute(attr(Operation::Create, defaults.create))
            .attribute(attr(Operation::Read, defaults.read))
            .attribute(attr(Operation::Update, defaults.update))
            .attribute(attr(Operation::Delete, defaults.delete)),
    )
}

/// The `timeouts` block in a resource's model (`timeouts: Attr<Timeouts>`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timeouts {
    pub create: Option<String>,
    pub read: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

impl Timeouts {
    /// The timeout for `op`: the block's value when set and valid, else the default.
    pub fn of(
        block: &crate::value::Attr<Timeouts>,
        op: Operation,
        defaults: &TimeoutDefaults,
    ) -> Duration {
        let t = block.value();
        let set = match op {
            Operation::Create => t.and_then(|t| t.create.as_deref()),
            Operation::Read => t.and_then(|t| t.read.as_deref()),
            Operation::Update => t.and_then(|t| t.update.as_deref()),
            Operation::Delete => t.and_then(|t| t.delete.as_deref()),
        };
        set.and_then(|s| parse_duration(s).ok())
            .unwrap_or_else(|| defaults.of(op))
    }
}

impl TimeoutDefaults {
    pub fn of(&self, op: Operation) -> Duration {
        match op {
            Operation::Create => self.create,
            Operation::Read => self.read,
            Operation::Update => self.update,
            Operation::Delete => self.delete,
        }
    }
}

/// The timeout for `op` from a resource's configuration or state value.
pub fn get(value: &Value, op: Operation, defaults: &TimeoutDefaults) -> Duration {
    let default = match op {
        Operation::Create => defaults.create,
        Operation::Read => defaults.read,
        Operation::Update => defaults.update,
        Operation::Delete => defaults.delete,
    };
    value
        .get("timeouts")
        .get(op.name())
        .as_str()
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

/// Plan-time validation of the `timeouts` block.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    for op in [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ] {
        if let Some(s) = config.get("timeouts").get(op.name()).as_str() {
            if let Err(e) = parse_duration(s) {
                diags.attribute_error(
                    AttributePath::root("timeouts").attr(op.name()),
                    "Invalid timeout",
                    format!("{s:?} is not a duration: {e}. Use a number and a unit, e.g. \"30s\", \"10m\", \"1h30m\"."),
                );
            }
        }
    }
}

/// Parse a Go-style duration ("1h30m", "90s", "1.5h", "250ms").
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let n: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("bad number {:?}", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err("missing unit".into()),
            u => return Err(format!("unknown unit {u:?}")),
        };
        rest = &rest[unit_len..];
        total += n * secs;
    }
    Ok(Duration::from_secs_f64(total))
}

pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, sec) => format!("{h}h{m}m{sec}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("seconds", "45s", 45.0),
            ("minutes", "30m", 1800.0),
            ("compound", "1h30m", 5400.0),
            ("fraction", "1.5h", 5400.0),
            ("millis", "250ms", 0.25),
            ("zero", "0", 0.0),
        ];
        for (name, s, want) in cases {
            assert_eq!(parse_duration(s).unwrap().as_secs_f64(), want, "{name}");
        }
        for bad in ["", "10", "abc", "5 minutes", "1d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn reads_config_and_defaults() {
        let d = TimeoutDefaults::default();
        let v = Value::object([("timeouts", Value::object([("create", Value::string("2m"))]))]);
        assert_eq!(get(&v, Operation::Create, &d), Duration::from_secs(120));
        assert_eq!(get(&v, Operation::Delete, &d), d.delete);
        assert_eq!(get(&Value::Null, Operation::Read, &d), d.read);
    }

    #[test]
    fn validate_names_the_attribute() {
        let v = Value::object([(
            "timeouts",
            Value::object([("update", Value::string("soon"))]),
        )]);
        let mut diags = Diagnostics::new();
        validate(&v, &mut diags);
        assert_eq!(
            diags.0[0].attribute.as_ref().unwrap().to_string(),
            "timeouts.update"
        );
    }
}
