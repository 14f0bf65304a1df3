//! smithy rpcv2-CBOR ↔ the JSON values handlers work on. Timestamps are CBOR tag 1 on the wire;
//! handlers mark output timestamps as `{"__timestamp": seconds}` so each protocol can encode
//! them its own way (tag 1 for CBOR, a plain number for awsJson1_0).
use ciborium::value::Value as Cbor;
use serde_json::{json, Value as Json};

const TS: &str = "__timestamp";

/// A timestamp output member.
pub fn ts(seconds: f64) -> Json {
    json!({ TS: seconds })
}

pub fn cbor_to_json(v: &Cbor) -> Result<Json, String> {
    Ok(match v {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => Json::Bool(*b),
        Cbor::Integer(i) => {
            let n: i128 = (*i).into();
            Json::Number(serde_json::Number::from_i128(n).ok_or("integer out of range")?)
        }
        Cbor::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Cbor::Text(s) => Json::String(s.clone()),
        Cbor::Bytes(b) => {
            use base64::Engine;
            Json::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Cbor::Array(a) => Json::Array(a.iter().map(cbor_to_json).collect::<Result<_, _>>()?),
        Cbor::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m {
                let Cbor::Text(k) = k else {
                    return Err("map keys must be text".into());
                };
                o.insert(k.clone(), cbor_to_json(v)?);
            }
            Json::Object(o)
        }
        // Tag 1: epoch-seconds timestamp; inputs are plain numbers to handlers.
        Cbor::Tag(1, inner) => cbor_to_json(inner)?,
        Cbor::Tag(_, inner) => cbor_to_json(inner)?,
        _ => return Err("unsupported CBOR item".into()),
    })
}

pub fn json_to_cbor(v: &Json) -> Cbor {
    match v {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Array(a) => Cbor::Array(a.iter().map(json_to_cbor).collect()),
        Json::Object(o) => match (o.len(), o.get(TS).and_then(Json::as_f64)) {
            (1, Some(t)) => Cbor::Tag(1, Box::new(Cbor::Float(t))),
            _ => Cbor::Map(
                o.iter()
                    .map(|(k, v)| (Cbor::Text(k.clone()), json_to_cbor(v)))
                    .collect(),
            ),
        },
    }
}

/// For the JSON protocol: timestamps become plain epoch-second numbers.
pub fn unmark_timestamps(v: &mut Json) {
    match v {
        Json::Object(o) => {
            if o.len() == 1 {
                if let Some(t) = o.get(TS).cloned() {
                    *v = t;
                    return;
                }
            }
            o.values_mut().for_each(unmark_timestamps);
        }
        Json::Array(a) => a.iter_mut().for_each(unmark_timestamps),
        _ => {}
    }
}

pub fn decode(body: &[u8]) -> Result<Json, String> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let v: Cbor =
        ciborium::de::from_reader(body).map_err(|e| format!("request body is not CBOR: {e}"))?;
    cbor_to_json(&v)
}

pub fn encode(v: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(&json_to_cbor(v), &mut out).expect("CBOR into a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_timestamps() {
        let v = json!({"A": [1, 2.5, "x", true], "T": ts(1_790_000_000.5), "M": {"k": null}});
        let bytes = encode(&v);
        let back: Cbor = ciborium::de::from_reader(bytes.as_slice()).unwrap();
        let Cbor::Map(m) = &back else { panic!() };
        assert!(m
            .iter()
            .any(|(k, v)| k == &Cbor::Text("T".into()) && matches!(v, Cbor::Tag(1, _))));
        let j = cbor_to_json(&back).unwrap();
        assert_eq!(j["T"], json!(1_790_000_000.5));
        let mut plain = v.clone();
        unmark_timestamps(&mut plain);
        assert_eq!(plain["T"], json!(1_790_000_000.5));
    }
}
