//! msgpack encoding of values, driven by the schema type, compatible with
//! cty's msgpack as Terraform uses it in `DynamicValue.msgpack`.
//!
//! Owns: null (nil), unknown (extension 0; refined unknowns, extension 12,
//! decode as plain unknown), dynamic values (`[type-json, value]`), and
//! numbers: integers as msgpack ints, anything else as its exact decimal
//! string (cty accepts strings for numbers, so no precision is lost), the
//! infinities as float64. Does not own: the value model (see `value`).

use std::collections::BTreeMap;

use rmp::Marker;

use crate::value::{Number, Type, Value, ValueError};

/// The bytes cty writes for an unknown value: fixext1, type 0, payload 0.
const UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

/// Encodes `v` as msgpack according to `ty`.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut out = Vec::with_capacity(64);
    enc(&mut out, v, ty)?;
    Ok(out)
}

/// Decodes msgpack bytes into a value of type `ty`.
pub fn decode(b: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let mut r = Reader { b, i: 0, depth: 0 };
    let v = r.value(ty)?;
    if r.i != b.len() {
        return Err(ValueError::Msgpack("trailing bytes".into()));
    }
    Ok(v)
}

fn werr<E: std::fmt::Display>(e: E) -> ValueError {
    ValueError::Msgpack(e.to_string())
}

fn wrong(v: &Value, ty: &Type) -> ValueError {
    ValueError::Mismatch {
        path: String::new(),
        expected: ty.to_string(),
        found: format!("{:?}", v.infer_type()),
    }
}

fn enc(out: &mut Vec<u8>, v: &Value, ty: &Type) -> Result<(), ValueError> {
    match v {
        Value::Null => {
            rmp::encode::write_nil(out).map_err(werr)?;
            return Ok(());
        }
        Value::Unknown => {
            out.extend_from_slice(&UNKNOWN);
            return Ok(());
        }
        _ => {}
    }
    match (ty, v) {
        (Type::Dynamic, _) => {
            let t = v.infer_type();
            rmp::encode::write_array_len(out, 2).map_err(werr)?;
            rmp::encode::write_bin(out, &t.to_json_bytes()).map_err(werr)?;
            enc(out, v, &t)?;
        }
        (Type::String, Value::String(s)) => rmp::encode::write_str(out, s).map_err(werr)?,
        (Type::Bool, Value::Bool(b)) => rmp::encode::write_bool(out, *b).map_err(werr)?,
        (Type::Number, Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                rmp::encode::write_sint(out, i).map_err(werr)?;
            } else if let Some(u) = n.as_u64() {
                rmp::encode::write_uint(out, u).map_err(werr)?;
            } else if n.is_infinite() {
                rmp::encode::write_f64(out, n.as_f64()).map_err(werr)?;
            } else {
                rmp::encode::write_str(out, n.as_str()).map_err(werr)?;
            }
        }
        (Type::List(e), Value::List(l)) | (Type::Set(e), Value::Set(l)) => {
            rmp::encode::write_array_len(out, len32(l.len())?).map_err(werr)?;
            for x in l {
                enc(out, x, e)?;
            }
        }
        // Be forgiving about list/set confusion in provider code: the type decides.
        (Type::List(e), Value::Set(l)) | (Type::Set(e), Value::List(l)) => {
            rmp::encode::write_array_len(out, len32(l.len())?).map_err(werr)?;
            for x in l {
                enc(out, x, e)?;
            }
        }
        (Type::Tuple(ts), Value::List(l)) if ts.len() == l.len() => {
            rmp::encode::write_array_len(out, len32(l.len())?).map_err(werr)?;
            for (x, t) in l.iter().zip(ts) {
                enc(out, x, t)?;
            }
        }
        (Type::Map(e), Value::Map(m)) => {
            rmp::encode::write_map_len(out, len32(m.len())?).map_err(werr)?;
            for (k, x) in m {
                rmp::encode::write_str(out, k).map_err(werr)?;
                enc(out, x, e)?;
            }
        }
        (Type::Object(attrs), Value::Map(m)) => {
            rmp::encode::write_map_len(out, len32(attrs.len())?).map_err(werr)?;
            for (k, t) in attrs {
                rmp::encode::write_str(out, k).map_err(werr)?;
                enc(out, m.get(k).unwrap_or(&Value::Null), t)?;
            }
        }
        _ => return Err(wrong(v, ty)),
    }
    Ok(())
}

fn len32(n: usize) -> Result<u32, ValueError> {
    u32::try_from(n).map_err(|_| ValueError::Msgpack("collection too large".into()))
}

/// Nesting limit, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 256;

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ValueError> {
        let end = self.i.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| ValueError::Msgpack("unexpected end of data".into()))?;
        let s = &self.b[self.i..end];
        self.i = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ValueError> {
        Ok(self.take(1)?[0])
    }
    fn be(&mut self, n: usize) -> Result<u64, ValueError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }
    fn marker(&mut self) -> Result<Marker, ValueError> {
        Ok(Marker::from_u8(self.u8()?))
    }
    fn peek(&self) -> Result<Marker, ValueError> {
        self.b
            .get(self.i)
            .map(|b| Marker::from_u8(*b))
            .ok_or_else(|| ValueError::Msgpack("unexpected end of data".into()))
    }

    /// Reads an extension (after its marker) and returns its type.
    fn ext(&mut self, m: Marker) -> Result<i8, ValueError> {
        let len = match m {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => self.be(1)? as usize,
            Marker::Ext16 => self.be(2)? as usize,
            Marker::Ext32 => self.be(4)? as usize,
            _ => return Err(ValueError::Msgpack("not an extension".into())),
        };
        let t = self.u8()? as i8;
        self.take(len)?;
        Ok(t)
    }

    fn str_len(&mut self, m: Marker) -> Result<Option<usize>, ValueError> {
        Ok(Some(match m {
            Marker::FixStr(n) => n as usize,
            Marker::Str8 | Marker::Bin8 => self.be(1)? as usize,
            Marker::Str16 | Marker::Bin16 => self.be(2)? as usize,
            Marker::Str32 | Marker::Bin32 => self.be(4)? as usize,
            _ => return Ok(None),
        }))
    }

    fn string(&mut self, m: Marker) -> Result<Option<String>, ValueError> {
        match self.str_len(m)? {
            Some(n) => {
                let s = std::str::from_utf8(self.take(n)?).map_err(werr)?;
                Ok(Some(s.to_string()))
            }
            None => Ok(None),
        }
    }

    fn array_len(&mut self, m: Marker) -> Result<Option<usize>, ValueError> {
        Ok(Some(match m {
            Marker::FixArray(n) => n as usize,
            Marker::Array16 => self.be(2)? as usize,
            Marker::Array32 => self.be(4)? as usize,
            _ => return Ok(None),
        }))
    }

    fn map_len(&mut self, m: Marker) -> Result<Option<usize>, ValueError> {
        Ok(Some(match m {
            Marker::FixMap(n) => n as usize,
            Marker::Map16 => self.be(2)? as usize,
            Marker::Map32 => self.be(4)? as usize,
            _ => return Ok(None),
        }))
    }

    fn number(&mut self, m: Marker) -> Result<Option<Number>, ValueError> {
        let n = match m {
            Marker::FixPos(v) => Number::from_u64(u64::from(v)),
            Marker::FixNeg(v) => Number::from_i64(i64::from(v)),
            Marker::U8 => Number::from_u64(self.be(1)?),
            Marker::U16 => Number::from_u64(self.be(2)?),
            Marker::U32 => Number::from_u64(self.be(4)?),
            Marker::U64 => Number::from_u64(self.be(8)?),
            Marker::I8 => Number::from_i64(i64::from(self.be(1)? as u8 as i8)),
            Marker::I16 => Number::from_i64(i64::from(self.be(2)? as u16 as i16)),
            Marker::I32 => Number::from_i64(i64::from(self.be(4)? as u32 as i32)),
            Marker::I64 => Number::from_i64(self.be(8)? as i64),
            Marker::F32 => Number::from_f64(f64::from(f32::from_bits(self.be(4)? as u32)))
                .ok_or_else(|| ValueError::Msgpack("NaN is not a number".into()))?,
            Marker::F64 => Number::from_f64(f64::from_bits(self.be(8)?))
                .ok_or_else(|| ValueError::Msgpack("NaN is not a number".into()))?,
            m => match self.string(m)? {
                Some(s) => Number::parse(&s)
                    .ok_or_else(|| ValueError::Msgpack(format!("invalid number {s:?}")))?,
                None => return Ok(None),
            },
        };
        Ok(Some(n))
    }

    fn value(&mut self, ty: &Type) -> Result<Value, ValueError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ValueError::Msgpack("nesting too deep".into()));
        }
        let r = self.value_inner(ty);
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self, ty: &Type) -> Result<Value, ValueError> {
        let m = self.marker()?;
        match m {
            Marker::Null => return Ok(Value::Null),
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => {
                // 0: unknown; 12: unknown with refinements (we drop them).
                self.ext(m)?;
                return Ok(Value::Unknown);
            }
            _ => {}
        }
        let bad = |what: &str| mismatch(ty, what);
        Ok(match ty {
            Type::String => Value::String(self.string(m)?.ok_or_else(|| bad("non-string"))?),
            Type::Number => Value::Number(self.number(m)?.ok_or_else(|| bad("non-number"))?),
            Type::Bool => match m {
                Marker::True => Value::Bool(true),
                Marker::False => Value::Bool(false),
                _ => return Err(bad("non-bool")),
            },
            Type::List(e) | Type::Set(e) => {
                let n = self.array_len(m)?.ok_or_else(|| bad("non-array"))?;
                let mut out = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    out.push(self.value(e)?);
                }
                if matches!(ty, Type::Set(_)) {
                    Value::Set(out)
                } else {
                    Value::List(out)
                }
            }
            Type::Tuple(ts) => {
                let n = self.array_len(m)?.ok_or_else(|| bad("non-array"))?;
                if n != ts.len() {
                    return Err(bad("tuple of wrong length"));
                }
                let mut out = Vec::with_capacity(n);
                for t in ts {
                    out.push(self.value(t)?);
                }
                Value::List(out)
            }
            Type::Map(e) => {
                let n = self.map_len(m)?.ok_or_else(|| bad("non-map"))?;
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let km = self.marker()?;
                    let k = self.string(km)?.ok_or_else(|| bad("non-string key"))?;
                    out.insert(k, self.value(e)?);
                }
                Value::Map(out)
            }
            Type::Object(attrs) => self.object(m, ty, attrs)?,
            Type::Dynamic => self.dynamic(m, ty)?,
        })
    }

    /// An object of `attrs` (marker `m` read); an attribute the type does
    /// not have is an error, a missing one is null.
    fn object(
        &mut self,
        m: Marker,
        ty: &Type,
        attrs: &BTreeMap<String, Type>,
    ) -> Result<Value, ValueError> {
        let n = self.map_len(m)?.ok_or_else(|| mismatch(ty, "non-map"))?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let km = self.marker()?;
            let k = self
                .string(km)?
                .ok_or_else(|| mismatch(ty, "non-string key"))?;
            let t = attrs
                .get(&k)
                .ok_or_else(|| ValueError::Msgpack(format!("unsupported attribute {k:?}")))?;
            out.insert(k, self.value(t)?);
        }
        for k in attrs.keys() {
            out.entry(k.clone()).or_insert(Value::Null);
        }
        Ok(Value::Map(out))
    }

    /// A dynamic value (marker `m` read): `[type JSON, value]`.
    fn dynamic(&mut self, m: Marker, ty: &Type) -> Result<Value, ValueError> {
        if self.array_len(m)? != Some(2) {
            return Err(mismatch(ty, "dynamic value without type"));
        }
        let tm = self.marker()?;
        let n = self
            .str_len(tm)?
            .ok_or_else(|| mismatch(ty, "dynamic type not bytes"))?;
        let t = Type::from_json_bytes(self.take(n)?)?;
        if self.peek()? == Marker::Null {
            self.i += 1;
            return Ok(Value::Null);
        }
        self.value(&t)
    }
}

/// The value at hand does not have the shape `ty` asks for.
fn mismatch(ty: &Type, found: &str) -> ValueError {
    ValueError::Mismatch {
        path: String::new(),
        expected: ty.to_string(),
        found: found.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(v: &Value, ty: &Type) -> Value {
        decode(&encode(v, ty).unwrap(), ty).unwrap()
    }

    fn num(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap())
    }

    #[test]
    fn scalars_round_trip() {
        for (v, t) in [
            (Value::string("héllo"), Type::String),
            (Value::Bool(true), Type::Bool),
            (Value::from_i64(-5), Type::Number),
            (Value::from_i64(i64::MIN), Type::Number),
            (num("18446744073709551615"), Type::Number),
            (num("123456789012345678901234567890"), Type::Number),
            (num("1e400"), Type::Number),
            (num("0.1"), Type::Number),
            (num("-Infinity"), Type::Number),
            (Value::Null, Type::String),
            (Value::Unknown, Type::Number),
        ] {
            assert_eq!(rt(&v, &t), v, "{t}");
        }
    }

    #[test]
    fn matches_cty_bytes() {
        assert_eq!(encode(&Value::Unknown, &Type::String).unwrap(), UNKNOWN);
        assert_eq!(encode(&Value::Null, &Type::String).unwrap(), [0xc0]);
        // big numbers travel as strings, like cty
        let b = encode(&num("1e400"), &Type::Number).unwrap();
        assert_eq!(b[0], 0xa5);
        // float64 from Terraform decodes
        let mut f = vec![0xcb];
        f.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        assert_eq!(decode(&f, &Type::Number).unwrap(), num("1.5"));
        // refined unknown (ext 12 with a map payload)
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3];
        assert_eq!(decode(&refined, &Type::String).unwrap(), Value::Unknown);
    }

    #[test]
    fn unknown_at_every_depth() {
        let ty = Type::object([
            ("l", Type::list(Type::object([("x", Type::String)]))),
            ("s", Type::set(Type::String)),
            ("m", Type::map(Type::Number)),
            ("t", Type::Tuple(vec![Type::Bool, Type::String])),
            ("d", Type::Dynamic),
        ]);
        let mut inner = Value::Null;
        inner.set("x", Value::Unknown);
        let mut v = Value::Null;
        v.set("l", Value::List(vec![inner, Value::Unknown]));
        v.set("s", Value::Set(vec![Value::string("a"), Value::Unknown]));
        v.set(
            "m",
            Value::Map(BTreeMap::from([("k".into(), Value::Unknown)])),
        );
        v.set("t", Value::List(vec![Value::Unknown, Value::string("z")]));
        v.set("d", Value::Unknown);
        assert_eq!(rt(&v, &ty), v);
        for k in ["l", "s", "m", "t", "d"] {
            let mut w = v.clone();
            w.set(k, Value::Unknown);
            assert_eq!(rt(&w, &ty), w);
        }
        assert_eq!(rt(&Value::Unknown, &ty), Value::Unknown);
    }

    #[test]
    fn dynamic_carries_type() {
        let v = Value::List(vec![Value::string("a"), Value::from_i64(1)]);
        let b = encode(&v, &Type::Dynamic).unwrap();
        assert_eq!(b[0], 0x92);
        assert_eq!(decode(&b, &Type::Dynamic).unwrap(), v);
        let mut obj = Value::Null;
        obj.set("k", Value::Bool(false));
        assert_eq!(rt(&obj, &Type::Dynamic), obj);
        assert_eq!(rt(&Value::Null, &Type::Dynamic), Value::Null);
        // a dynamic with a list type, as Terraform may send it
        let mut b = vec![0x92];
        rmp::encode::write_bin(&mut b, br#"["list","string"]"#).unwrap();
        b.extend_from_slice(&[0x91, 0xa1, b'x']);
        assert_eq!(
            decode(&b, &Type::Dynamic).unwrap(),
            Value::List(vec![Value::string("x")])
        );
    }

    #[test]
    fn objects_fill_missing_and_reject_unknown_attrs() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        let v = decode(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap();
        assert!(v.get("b").is_null());
        assert_eq!(v.get("a").as_str(), Some("x"));
        assert!(decode(&[0x81, 0xa1, b'z', 0xc0], &ty).is_err());
        assert!(decode(&[0x92], &Type::list(Type::String)).is_err());
        assert!(decode(&[0xa1, b'x', 0x00], &Type::String).is_err());
    }
}
