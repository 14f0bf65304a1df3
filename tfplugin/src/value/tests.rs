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
