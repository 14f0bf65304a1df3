//! `provider::hastack::spread_zones(count, zones)`: the availability zone of each index.
//!
//! Round-robin over `zones` in the order given, so growing `count` never moves an
//! existing index to another zone.
use tfplugin::{Function, FunctionError, Parameter, Signature, Type, Value};

/// Lightsail allows at most a few hundred instances per region; this bounds memory, not policy.
const MAX_COUNT: i64 = 10_000;

pub struct SpreadZones;

impl Function for SpreadZones {
    fn name(&self) -> &str {
        "spread_zones"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new("count", Type::Number, "How many instances to place (a whole number, 0 or more)."),
                Parameter::new("zones", Type::list(Type::String), "The availability zones to use, in order, e.g. `[\"us-east-1a\", \"us-east-1b\"]`. No duplicates."),
            ],
            variadic: None,
            returns: Type::list(Type::String),
            summary: "The availability zone of each instance index, round-robin.".into(),
            description: "Returns a list of `count` zones: index `i` gets `zones[i % length(zones)]`. \
Adding instances never changes the zone of an existing index, so a `count` increase never moves or \
replaces running instances.\n\n```hcl\nprovider::hastack::spread_zones(4, [\"us-east-1a\", \"us-east-1b\"])\n\
# [\"us-east-1a\", \"us-east-1b\", \"us-east-1a\", \"us-east-1b\"]\n```"
                .into(),
            deprecation: String::new(),
        }
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let [count, zones] = <[Value; 2]>::try_from(args)
            .map_err(|_| FunctionError::general("spread_zones takes 2 arguments"))?;
        let count = count
            .as_i64()
            .filter(|n| (0..=MAX_COUNT).contains(n))
            .ok_or_else(|| {
                FunctionError::argument(
                    0,
                    format!("count must be a whole number from 0 to {MAX_COUNT}"),
                )
            })?;
        let zones: Vec<&str> = zones
            .elements()
            .unwrap_or_default()
            .iter()
            .map(|z| z.as_str().filter(|s| !s.is_empty()))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                FunctionError::argument(1, "zones must not contain null or empty strings")
            })?;
        if zones.is_empty() {
            return Err(FunctionError::argument(
                1,
                "zones must list at least one availability zone",
            ));
        }
        if let Some(dup) = zones
            .iter()
            .enumerate()
            .find(|(i, z)| zones[..*i].contains(z))
        {
            return Err(FunctionError::argument(
                1,
                format!("zone {:?} is listed twice", dup.1),
            ));
        }
        Ok(Value::List(
            (0..count as usize)
                .map(|i| Value::string(zones[i % zones.len()]))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones(z: &[&str]) -> Value {
        Value::List(z.iter().map(|s| Value::string(*s)).collect())
    }

    fn call(count: i64, z: &[&str]) -> Result<Vec<String>, FunctionError> {
        let v = SpreadZones.call(vec![Value::number(count), zones(z)])?;
        Ok(v.elements()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect())
    }

    #[test]
    fn round_robin_cases() {
        let cases: [(&str, i64, &[&str], &[&str]); 4] = [
            ("zero", 0, &["a"], &[]),
            ("fewer_than_zones", 2, &["a", "b", "c"], &["a", "b"]),
            ("wraps", 5, &["a", "b"], &["a", "b", "a", "b", "a"]),
            ("single_zone", 3, &["a"], &["a", "a", "a"]),
        ];
        for (name, n, z, want) in cases {
            assert_eq!(call(n, z).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn growing_count_keeps_existing_indices() {
        let z = ["us-east-1a", "us-east-1b", "us-east-1c"];
        let small = call(4, &z).unwrap();
        let big = call(9, &z).unwrap();
        assert_eq!(&big[..4], &small[..]);
    }

    #[test]
    fn bad_arguments_name_their_index() {
        assert_eq!(call(-1, &["a"]).unwrap_err().argument, Some(0));
        assert_eq!(call(1, &[]).unwrap_err().argument, Some(1));
        assert_eq!(call(1, &["a", "a"]).unwrap_err().argument, Some(1));
        let frac = SpreadZones.call(vec![Value::Number("1.5".parse().unwrap()), zones(&["a"])]);
        assert_eq!(frac.unwrap_err().argument, Some(0));
    }
}
