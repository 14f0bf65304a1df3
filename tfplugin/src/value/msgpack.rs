//! cty's msgpack encoding, as Terraform core speaks it.
//!
//! Unknown is msgpack extension 0; a refined unknown is extension 12 whose payload we keep
//! verbatim. `dynamic` values travel as a two-element array `[type JSON, value]`. Numbers are
//! integers, exact floats, or text (see `number`); values nest at most [`MAX_DEPTH`] deep.
use std::collections::BTreeMap;
use std::str::FromStr;

use bigdecimal::{BigDecimal, ToPrimitive};
use rmp::Marker;

use super::{number, Type, Value, ValueError, MAX_DEPTH};

const EXT_UNKNOWN: i8 = 0;
const EXT_REFINED_UNKNOWN: i8 = 12;

pub(super) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let mut r = bytes;
    let v = read_value(&mut r, ty, 0)?;
    if !r.is_empty() {
        return Err(ValueError::new(format!(
            "{} trailing bytes after msgpack value",
            r.len()
        )));
    }
    Ok(v)
}

pub(super) fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, v, ty, 0)?;
    Ok(out)
}

fn err<E: std::fmt::Debug>(e: E) -> ValueError {
    ValueError::new(format!("msgpack: {e:?}"))
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], ValueError> {
    if r.len() < n {
        return Err(ValueError::new("msgpack: unexpected end of input"));
    }
    let (a, b) = r.split_at(n);
    *r = b;
    Ok(a)
}

fn be_uint(r: &mut &[u8], n: usize) -> Result<u64, ValueError> {
    Ok(take(r, n)?
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// A decoded msgpack item header, enough to build any cty value.
enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

fn read_item<'a>(r: &mut &'a [u8]) -> Result<Item<'a>, ValueError> {
    let m = rmp::decode::read_marker(r).map_err(|e| err(e.0))?;
    Ok(match m {
        Marker::Null => Item::Nil,
        Marker::True => Item::Bool(true),
        Marker::False => Item::Bool(false),
        Marker::FixPos(n) => Item::Int(i128::from(n)),
        Marker::FixNeg(n) => Item::Int(i128::from(n)),
        Marker::U8 => Item::Int(i128::from(be_uint(r, 1)?)),
        Marker::U16 => Item::Int(i128::from(be_uint(r, 2)?)),
        Marker::U32 => Item::Int(i128::from(be_uint(r, 4)?)),
        Marker::U64 => Item::Int(i128::from(be_uint(r, 8)?)),
        Marker::I8 => Item::Int(i128::from(be_uint(r, 1)? as u8 as i8)),
        Marker::I16 => Item::Int(i128::from(be_uint(r, 2)? as u16 as i16)),
        Marker::I32 => Item::Int(i128::from(be_uint(r, 4)? as u32 as i32)),
        Marker::I64 => Item::Int(i128::from(be_uint(r, 8)? as i64)),
        Marker::F32 => Item::Float(f64::from(f32::from_bits(be_uint(r, 4)? as u32))),
        Marker::F64 => Item::Float(f64::from_bits(be_uint(r, 8)?)),
        Marker::FixStr(n) => Item::Str(take(r, n as usize)?),
        Marker::Str8 => {
            let n = be_uint(r, 1)? as usize;
            Item::Str(take(r, n)?)
        }
        Marker::Str16 => {
            let n = be_uint(r, 2)? as usize;
            Item::Str(take(r, n)?)
        }
        Marker::Str32 => {
            let n = be_uint(r, 4)? as usize;
            Item::Str(take(r, n)?)
        }
        Marker::Bin8 => {
            let n = be_uint(r, 1)? as usize;
            Item::Bin(take(r, n)?)
        }
        Marker::Bin16 => {
            let n = be_uint(r, 2)? as usize;
            Item::Bin(take(r, n)?)
        }
        Marker::Bin32 => {
            let n = be_uint(r, 4)? as usize;
            Item::Bin(take(r, n)?)
        }
        Marker::FixArray(n) => Item::Array(n as usize),
        Marker::Array16 => Item::Array(be_uint(r, 2)? as usize),
        Marker::Array32 => Item::Array(be_uint(r, 4)? as usize),
        Marker::FixMap(n) => Item::Map(n as usize),
        Marker::Map16 => Item::Map(be_uint(r, 2)? as usize),
        Marker::Map32 => Item::Map(be_uint(r, 4)? as usize),
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16 => {
            let n = match m {
                Marker::FixExt1 => 1,
                Marker::FixExt2 => 2,
                Marker::FixExt4 => 4,
                Marker::FixExt8 => 8,
                _ => 16,
            };
            let t = take(r, 1)?[0] as i8;
            Item::Ext(t, take(r, n)?)
        }
        Marker::Ext8 | Marker::Ext16 | Marker::Ext32 => {
            let n = match m {
                Marker::Ext8 => be_uint(r, 1)?,
                Marker::Ext16 => be_uint(r, 2)?,
                _ => be_uint(r, 4)?,
            } as usize;
            let t = take(r, 1)?[0] as i8;
            Item::Ext(t, take(r, n)?)
        }
        Marker::Reserved => return Err(ValueError::new("msgpack: reserved marker")),
    })
}

fn utf8(b: &[u8]) -> Result<String, ValueError> {
    String::from_utf8(b.to_vec()).map_err(|_| ValueError::new("msgpack: string is not UTF-8"))
}

/// The value of type `ty` inside `depth` containers.
fn read_value(r: &mut &[u8], ty: &Type, depth: usize) -> Result<Value, ValueError> {
    let item = read_item(r)?;
    if matches!(item, Item::Array(_) | Item::Map(_)) && depth >= MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    let depth = depth + 1;
    match item {
        Item::Nil => return Ok(Value::Null),
        Item::Ext(EXT_UNKNOWN, _) => return Ok(Value::Unknown(None)),
        Item::Ext(EXT_REFINED_UNKNOWN, payload) => {
            return Ok(Value::Unknown(Some(payload.to_vec())))
        }
        Item::Ext(t, _) => {
            return Err(ValueError::new(format!(
                "msgpack: unexpected extension type {t}"
            )))
        }
        _ => {}
    }
    let mismatch = |what: &str| {
        ValueError::new(format!(
            "msgpack: expected {what} for type {}",
            ty.to_json()
        ))
    };
    match ty {
        Type::Bool => match item {
            Item::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(mismatch("bool")),
        },
        Type::String => match item {
            Item::Str(s) => Ok(Value::String(utf8(s)?)),
            _ => Err(mismatch("string")),
        },
        Type::Number => match item {
            Item::Int(i) => Ok(Value::Number(int_decimal(i))),
            Item::Float(f) => float_decimal(f).map(Value::Number),
            Item::Str(s) => number::parse(&utf8(s)?).map(Value::Number),
            _ => Err(mismatch("number")),
        },
        Type::List(et) | Type::Set(et) => match item {
            Item::Array(n) => {
                let mut v = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    v.push(read_value(r, et, depth)?);
                }
                Ok(if matches!(ty, Type::List(_)) {
                    Value::List(v)
                } else {
                    Value::Set(v)
                })
            }
            _ => Err(mismatch("array")),
        },
        Type::Tuple(ets) => match item {
            Item::Array(n) if n == ets.len() => Ok(Value::Tuple(
                ets.iter()
                    .map(|et| read_value(r, et, depth))
                    .collect::<Result<_, _>>()?,
            )),
            _ => Err(mismatch("array of the tuple's length")),
        },
        Type::Map(et) => match item {
            Item::Map(n) => {
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = read_key(r)?;
                    m.insert(k, read_value(r, et, depth)?);
                }
                Ok(Value::Map(m))
            }
            _ => Err(mismatch("map")),
        },
        Type::Object { attrs, .. } => match item {
            Item::Map(n) => {
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = read_key(r)?;
                    let at = attrs.get(&k).ok_or_else(|| {
                        ValueError::new(format!("msgpack: unsupported attribute {k:?}"))
                    })?;
                    let v = read_value(r, at, depth)?;
                    m.insert(k, v);
                }
                for k in attrs.keys() {
                    m.entry(k.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(m))
            }
            _ => Err(mismatch("map for object")),
        },
        Type::Dynamic => match item {
            Item::Array(2) => {
                let type_json = match read_item(r)? {
                    Item::Bin(b) | Item::Str(b) => b,
                    _ => {
                        return Err(ValueError::new(
                            "msgpack: dynamic value's type must be bytes",
                        ))
                    }
                };
                let t = Type::from_json_bytes(type_json)?;
                let v = read_value(r, &t, depth)?;
                Ok(match v {
                    Value::Null | Value::Unknown(_) => v,
                    v => Value::Dynamic(Box::new(t), Box::new(v)),
                })
            }
            _ => Err(mismatch("[type, value] pair")),
        },
    }
}

fn int_decimal(i: i128) -> BigDecimal {
    BigDecimal::from_str(&i.to_string()).expect("integer text is a decimal")
}

fn float_decimal(f: f64) -> Result<BigDecimal, ValueError> {
    if !f.is_finite() {
        return Err(ValueError::new("msgpack: number is not finite"));
    }
    // Exact binary value of the float: Terraform only sends floats that are exact.
    BigDecimal::try_from(f).map_err(|e| ValueError::new(format!("msgpack: float {f}: {e}")))
}

fn read_key(r: &mut &[u8]) -> Result<String, ValueError> {
    match read_item(r)? {
        Item::Str(s) => utf8(s),
        _ => Err(ValueError::new("msgpack: map key must be a string")),
    }
}

fn w<E: std::fmt::Debug>(res: Result<impl Sized, E>) -> Result<(), ValueError> {
    res.map(|_| ()).map_err(err)
}

fn write_unknown(out: &mut Vec<u8>, refinement: &Option<Vec<u8>>) -> Result<(), ValueError> {
    match refinement {
        None => {
            w(rmp::encode::write_ext_meta(out, 1, EXT_UNKNOWN))?;
            out.push(0);
        }
        Some(p) => {
            w(rmp::encode::write_ext_meta(
                out,
                p.len() as u32,
                EXT_REFINED_UNKNOWN,
            ))?;
            out.extend_from_slice(p);
        }
    }
    Ok(())
}

/// As cty writes numbers: an exact `int64`, else an exact `float64`, else text.
fn write_number(out: &mut Vec<u8>, n: &BigDecimal) -> Result<(), ValueError> {
    // First: every other step is bounded only for numbers in range.
    number::check(n)?;
    if let Some(i) = number::to_i64(n) {
        return w(rmp::encode::write_sint(out, i));
    }
    if !n.is_integer() {
        if let Some(f) = n.to_f64() {
            if float_decimal(f).ok().as_ref() == Some(n) {
                return w(rmp::encode::write_f64(out, f));
            }
        }
    }
    w(rmp::encode::write_str(out, &number::text(n)?))
}

/// `v` of type `ty` inside `depth` containers.
fn write_value(out: &mut Vec<u8>, v: &Value, ty: &Type, depth: usize) -> Result<(), ValueError> {
    let container = match v {
        Value::List(_) | Value::Set(_) | Value::Map(_) | Value::Object(_) | Value::Tuple(_) => true,
        // Written as a [type, value] pair only where the type is dynamic.
        Value::Dynamic(..) => *ty == Type::Dynamic,
        _ => false,
    };
    if container && depth >= MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    let inner_depth = depth + 1;
    let mismatch = || {
        ValueError::new(format!(
            "value {v:?} does not conform to type {}",
            ty.to_json()
        ))
    };
    match (v, ty) {
        (Value::Null, _) => w(rmp::encode::write_nil(out)),
        (Value::Unknown(r), _) => write_unknown(out, r),
        (Value::Dynamic(t, inner), Type::Dynamic) => {
            w(rmp::encode::write_array_len(out, 2))?;
            w(rmp::encode::write_bin(out, &t.to_json_bytes()))?;
            write_value(out, inner, t, inner_depth)
        }
        (Value::Dynamic(_, inner), _) => write_value(out, inner, ty, depth),
        (_, Type::Dynamic) => Err(ValueError::new(
            "a known value of a dynamic attribute must be a Value::Dynamic that names its type",
        )),
        (Value::Bool(b), Type::Bool) => w(rmp::encode::write_bool(out, *b)),
        (Value::String(s), Type::String) => w(rmp::encode::write_str(out, s)),
        (Value::Number(n), Type::Number) => write_number(out, n),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            w(rmp::encode::write_array_len(out, items.len() as u32))?;
            items
                .iter()
                .try_for_each(|i| write_value(out, i, et, inner_depth))
        }
        (Value::Tuple(items), Type::Tuple(ets)) if items.len() == ets.len() => {
            w(rmp::encode::write_array_len(out, items.len() as u32))?;
            items
                .iter()
                .zip(ets)
                .try_for_each(|(i, t)| write_value(out, i, t, inner_depth))
        }
        (Value::Map(m), Type::Map(et)) => {
            w(rmp::encode::write_map_len(out, m.len() as u32))?;
            for (k, v) in m {
                w(rmp::encode::write_str(out, k))?;
                write_value(out, v, et, inner_depth)?;
            }
            Ok(())
        }
        (Value::Object(m), Type::Object { attrs, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(ValueError::new(format!(
                    "object has attribute {extra:?} that its type lacks"
                )));
            }
            w(rmp::encode::write_map_len(out, attrs.len() as u32))?;
            for (k, at) in attrs {
                w(rmp::encode::write_str(out, k))?;
                write_value(out, m.get(k).unwrap_or(&Value::Null), at, inner_depth)?;
            }
            Ok(())
        }
        _ => Err(mismatch()),
    }
}
