use super::*;
use std::str::FromStr;

fn obj_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("count", Type::Number),
        ("tags", Type::map(Type::String)),
        ("zones", Type::list(Type::String)),
        ("anything", Type::Dynamic),
    ])
}

#[test]
fn msgpack_round_trip_cases() {
    let cases: Vec<(&str, Value, Type)> = vec![
        ("null", Value::Null, Type::String),
        ("unknown", Value::unknown(), Type::Number),
        (
            "refined_unknown",
            Value::Unknown(Some(vec![0x81, 0x01, 0xc3])),
            Type::String,
        ),
        ("small_int", Value::number(3), Type::Number),
        ("negative", Value::number(-70000), Type::Number),
        (
            "big_int",
            Value::Number(BigDecimal::from_str("123456789012345678901234567890").unwrap()),
            Type::Number,
        ),
        (
            "exact_float",
            Value::Number(BigDecimal::from_str("0.5").unwrap()),
            Type::Number,
        ),
        (
            "inexact_decimal",
            Value::Number(BigDecimal::from_str("0.1").unwrap()),
            Type::Number,
        ),
        (
            "object",
            Value::object([
                ("name", Value::string("web")),
                ("count", Value::number(2)),
                (
                    "tags",
                    Value::Map([("a".to_string(), Value::string("b"))].into()),
                ),
                (
                    "zones",
                    Value::List(vec![Value::string("us-east-1a"), Value::unknown()]),
                ),
                (
                    "anything",
                    Value::Dynamic(
                        Box::new(Type::list(Type::Bool)),
                        Box::new(Value::List(vec![Value::Bool(true)])),
                    ),
                ),
            ]),
            obj_type(),
        ),
        (
            "tuple",
            Value::Tuple(vec![Value::string("a"), Value::number(1)]),
            Type::Tuple(vec![Type::String, Type::Number]),
        ),
    ];
    for (name, v, t) in cases {
        let bytes = v.to_msgpack(&t).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = Value::from_msgpack(&bytes, &t).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, v, "{name}");
    }
}

#[test]
fn unknown_is_ext_zero_like_terraform() {
    assert_eq!(
        Value::unknown().to_msgpack(&Type::String).unwrap(),
        vec![0xd4, 0x00, 0x00]
    );
}

#[test]
fn numbers_beyond_f64_travel_as_strings_without_loss() {
    let n = BigDecimal::from_str("0.1000000000000000000000000001").unwrap();
    let bytes = Value::Number(n.clone()).to_msgpack(&Type::Number).unwrap();
    assert_eq!(bytes[0] & 0xe0, 0xa0, "fixstr expected");
    assert_eq!(
        Value::from_msgpack(&bytes, &Type::Number).unwrap(),
        Value::Number(n)
    );
}

#[test]
fn decodes_object_with_missing_attributes_as_null() {
    // {"name": "x"} only.
    let bytes = [0x81, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'x'];
    let v = Value::from_msgpack(&bytes, &obj_type()).unwrap();
    assert_eq!(v.get("name").as_str(), Some("x"));
    assert!(v.get("count").is_null());
}

#[test]
fn rejects_type_mismatch_and_trailing_bytes() {
    assert!(Value::from_msgpack(&[0xc3], &Type::String).is_err());
    assert!(Value::from_msgpack(&[0xc3, 0xc3], &Type::Bool).is_err());
}

#[test]
fn json_numbers_are_lossless() {
    let v = Value::from_json_bytes(
        b"{\"count\": 12345678901234567890.000000000001}",
        &Type::object([("count", Type::Number)]),
    )
    .unwrap();
    assert_eq!(
        v.get("count").as_number().unwrap().to_string(),
        "12345678901234567890.000000000001"
    );
    assert_eq!(
        v.to_json().unwrap().to_string(),
        "{\"count\":12345678901234567890.000000000001}"
    );
}

#[test]
fn json_dynamic_uses_value_and_type() {
    let t = Type::object([("d", Type::Dynamic)]);
    let v =
        Value::from_json_bytes(br#"{"d":{"value":["a"],"type":["list","string"]}}"#, &t).unwrap();
    assert_eq!(
        v.get("d"),
        &Value::Dynamic(
            Box::new(Type::list(Type::String)),
            Box::new(Value::List(vec![Value::string("a")]))
        )
    );
}

#[test]
fn serde_model_bridge() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct M {
        name: String,
        count: Option<i64>,
    }
    let t = Type::object([("name", Type::String), ("count", Type::Number)]);
    let v = Value::from_model(
        &M {
            name: "a".into(),
            count: None,
        },
        &t,
    )
    .unwrap();
    assert!(v.get("count").is_null());
    let m: M = v.to_model().unwrap();
    assert_eq!(
        m,
        M {
            name: "a".into(),
            count: None
        }
    );
    assert!(Value::unknown().to_model::<String>().is_err());
}

/// The fuzzers' regression inputs (`fuzz/regressions/<target>/<file>`, less the first byte that
/// picks the type: `number`, and the resource schema for state). Each hung or took minutes;
/// now each is refused on the way in, with the error that names the problem.
#[test]
fn fuzz_regressions_numbers_with_huge_exponents_are_refused() {
    use crate::proto::tfplugin6 as pb;
    use crate::server::convert::{from_dynamic, raw_state_json};
    let json = |text: &[u8]| {
        from_dynamic(
            Some(&pb::DynamicValue {
                msgpack: Vec::new(),
                json: text.to_vec(),
            }),
            &Type::Number,
        )
    };
    let msgpack = |bytes: &[u8]| {
        from_dynamic(
            Some(&pb::DynamicValue {
                msgpack: bytes.to_vec(),
                json: Vec::new(),
            }),
            &Type::Number,
        )
    };
    let state = |text: &[u8]| {
        let raw = pb::RawState {
            json: text.to_vec(),
            ..Default::default()
        };
        let ty = Type::object([("count", Type::Number), ("name", Type::String)]);
        Value::from_state_json(&raw_state_json(Some(&raw)).unwrap(), &ty)
    };
    let cases = [
        (
            "dynamic_value_json/number_exponent_encode_hang",
            json(b"1e100000000"),
        ),
        (
            "dynamic_value_json/number_negative_exponent_encode_hang",
            json(b"1e-100000000"),
        ),
        (
            "dynamic_value_json/number_exponent_redecode_slow",
            json(b"1e10000000"),
        ),
        (
            "dynamic_value_msgpack/number_exponent_encode_hang",
            msgpack(b"\xab1e100000000"),
        ),
        (
            "state_upgrade_json/number_exponent_encode_hang",
            state(br#"{"count":1e100000000,"name":"x"}"#),
        ),
    ];
    for (name, got) in cases {
        assert!(
            matches!(got, Err(ValueError::NumberOutOfRange { .. })),
            "{name}: {got:?}"
        );
    }
}

/// What the encoders are given by provider code is bounded the same way: an error, not a hang
/// or 10 MB of digits.
#[test]
fn encoders_refuse_numbers_out_of_range() {
    for (name, n) in [
        ("huge", BigDecimal::new(1.into(), -100_000_000)),
        ("tiny", BigDecimal::new(1.into(), 100_000_000)),
        (
            "just_past_the_bound",
            BigDecimal::new(1.into(), -(MAX_NUMBER_DIGITS as i64)),
        ),
    ] {
        let v = Value::Number(n);
        assert!(
            matches!(
                v.to_msgpack(&Type::Number),
                Err(ValueError::NumberOutOfRange { .. })
            ),
            "{name}: msgpack"
        );
        assert!(
            matches!(v.to_json(), Err(ValueError::NumberOutOfRange { .. })),
            "{name}: JSON"
        );
        assert_eq!(v.as_i64(), None, "{name}");
    }
}

/// Numbers as Terraform writes them (`big.Float.Text('f', -1)`: every digit) up to the bound
/// decode, and encode to the same value; those with few zeros to the same bytes.
#[test]
fn numbers_in_range_round_trip_unchanged() {
    let max = MAX_NUMBER_DIGITS as usize;
    let cases = [
        ("large", format!("1{}", "0".repeat(max - 1))),
        ("small", format!("0.{}1", "0".repeat(max - 2))),
        ("many_digits", format!("-{}", "7".repeat(max))),
        ("beyond_f64", "0.1000000000000000000000000001".to_string()),
        ("beyond_i64", "123456789012345678901234567890".to_string()),
    ];
    for (name, text) in cases {
        let mut bytes = Vec::new();
        rmp::encode::write_str(&mut bytes, &text).unwrap();
        let v =
            Value::from_msgpack(&bytes, &Type::Number).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = v.to_msgpack(&Type::Number).unwrap();
        assert_eq!(
            Value::from_msgpack(&again, &Type::Number).unwrap(),
            v,
            "{name}"
        );
        if text.len() < 40 {
            assert_eq!(again, bytes, "{name}: the same bytes");
        }
        let j = Value::from_json_bytes(text.as_bytes(), &Type::Number).unwrap();
        assert_eq!(j, v, "{name}: JSON");
        assert_eq!(
            Value::from_json(&j.to_json().unwrap(), &Type::Number).unwrap(),
            v,
            "{name}: JSON round trip"
        );
    }
    // The smallest float64, exact (1075 digits written out), stays a float64.
    let tiny = f64::from_bits(1);
    let mut bytes = Vec::new();
    rmp::encode::write_f64(&mut bytes, tiny).unwrap();
    let v = Value::from_msgpack(&bytes, &Type::Number).unwrap();
    assert_eq!(v.to_msgpack(&Type::Number).unwrap(), bytes);
}

/// `n` containers, each holding the next: dynamic values (`[type, value]` pairs) or a list type
/// nested `n` deep, around `true`.
fn nested_msgpack(n: usize, dynamic: bool) -> (Vec<u8>, Type) {
    let mut bytes = Vec::new();
    if dynamic {
        for _ in 1..n {
            bytes.extend(b"\x92\xc4\x09\"dynamic\"");
        }
        bytes.extend(b"\x92\xc4\x06\"bool\"\xc3");
        (bytes, Type::Dynamic)
    } else {
        bytes.extend(std::iter::repeat_n(0x91, n));
        bytes.push(0xc3);
        let ty = (0..n).fold(Type::Bool, |t, _| Type::list(t));
        (bytes, ty)
    }
}

#[test]
fn nesting_up_to_the_limit_decodes_and_encodes() {
    for dynamic in [true, false] {
        let (bytes, ty) = nested_msgpack(MAX_DEPTH, dynamic);
        let v = Value::from_msgpack(&bytes, &ty).unwrap_or_else(|e| panic!("{dynamic}: {e}"));
        assert_eq!(v.to_msgpack(&ty).unwrap(), bytes, "dynamic: {dynamic}");
        let j = v.to_json().unwrap();
        if !dynamic {
            assert_eq!(Value::from_json(&j, &ty).unwrap(), v);
        }

        let (bytes, ty) = nested_msgpack(MAX_DEPTH + 1, dynamic);
        assert_eq!(
            Value::from_msgpack(&bytes, &ty),
            Err(ValueError::TooDeep),
            "dynamic: {dynamic}"
        );
    }
}

/// The input that overflowed the stack (fuzz/regressions/README.md): 20,000 dynamic values one
/// inside another. Tests run on 2 MB stacks, as tokio's workers do.
#[test]
fn deeply_nested_dynamic_values_are_refused_not_a_stack_overflow() {
    let mut bytes = Vec::new();
    for _ in 0..20_000 {
        bytes.extend(b"\x92\xc4\x09\"dynamic\"");
    }
    bytes.push(0xc0);
    assert_eq!(
        Value::from_msgpack(&bytes, &Type::Dynamic),
        Err(ValueError::TooDeep)
    );
}

#[test]
fn json_and_encoders_keep_the_same_limit() {
    let nested = |n: usize| {
        let ty = (0..n).fold(Type::Bool, |t, _| Type::list(t));
        let j = (0..n).fold(serde_json::Value::Bool(true), |j, _| {
            serde_json::Value::Array(vec![j])
        });
        let v = (0..n).fold(Value::Bool(true), |v, _| Value::List(vec![v]));
        (ty, j, v)
    };
    let (ty, j, v) = nested(MAX_DEPTH);
    assert_eq!(Value::from_json(&j, &ty).unwrap(), v);
    assert_eq!(v.to_json().unwrap(), j);

    let (ty, j, v) = nested(MAX_DEPTH + 1);
    assert_eq!(Value::from_json(&j, &ty), Err(ValueError::TooDeep));
    assert_eq!(Value::from_state_json(&j, &ty), Err(ValueError::TooDeep));
    assert_eq!(v.to_msgpack(&ty), Err(ValueError::TooDeep));
    assert_eq!(v.to_json(), Err(ValueError::TooDeep));
}
