//! Terraform values and types, independent of the wire.
//!
//! Owns: the `Type` and `Value` model (including unknown at any depth),
//! arbitrary-precision `Number`s, attribute paths, cty's JSON type syntax and
//! conversion of values to and from JSON (state upgrade, typed state, JSON
//! `DynamicValue`s). Does not own: msgpack encoding (see `codec`), schemas
//! (see `schema`).

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type (cty type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `dynamic` (any type; encoded with its concrete type on the wire)
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`
    Object(BTreeMap<String, Type>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

/// Why a value could not be converted or decoded.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The value does not have the shape the type asks for.
    #[error("{path}: expected {expected}, found {found}")]
    Mismatch {
        /// where in the value (`.a[0]`; empty for the root)
        path: String,
        /// what the type wanted
        expected: String,
        /// what was there
        found: String,
    },
    /// The bytes are not valid msgpack for the type.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// The text is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A type description (cty type JSON) could not be understood.
    #[error("invalid type description: {0}")]
    Type(String),
    /// Converting between a Rust struct and a value failed in serde.
    #[error("typed conversion: {0}")]
    Serde(#[source] serde_json::Error),
}

impl Type {
    /// `list(elem)`
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }
    /// `set(elem)`
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }
    /// `map(elem)`
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }
    /// `object({name = type, ...})`
    pub fn object<S: Into<String>>(attrs: impl IntoIterator<Item = (S, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// cty's JSON type syntax: `"string"`, `["list","string"]`, `["object",{..}]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value as J, json};
        match self {
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(a) => {
                let m: serde_json::Map<String, J> =
                    a.iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
                json!(["object", m])
            }
            Type::Tuple(e) => json!(["tuple", e.iter().map(Type::to_json).collect::<Vec<_>>()]),
        }
    }

    /// The type as cty JSON bytes, as the protocol carries it.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses cty's JSON type syntax (optional-attribute lists are accepted and ignored).
    pub fn from_json(j: &serde_json::Value) -> Result<Type, ValueError> {
        use serde_json::Value as J;
        let bad = || ValueError::Type(j.to_string());
        match j {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            J::Array(a) if a.len() >= 2 => {
                let kind = a[0].as_str().ok_or_else(bad)?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(&a[1])?)),
                    "set" => Ok(Type::set(Type::from_json(&a[1])?)),
                    "map" => Ok(Type::map(Type::from_json(&a[1])?)),
                    "object" => {
                        let m = a[1].as_object().ok_or_else(bad)?;
                        let mut out = BTreeMap::new();
                        for (k, v) in m {
                            out.insert(k.clone(), Type::from_json(v)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let e = a[1].as_array().ok_or_else(bad)?;
                        Ok(Type::Tuple(
                            e.iter().map(Type::from_json).collect::<Result<_, _>>()?,
                        ))
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// Parses cty JSON type bytes.
    pub fn from_json_bytes(b: &[u8]) -> Result<Type, ValueError> {
        let j: serde_json::Value =
            serde_json::from_slice(b).map_err(|e| ValueError::Json(e.to_string()))?;
        Type::from_json(&j)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

/// An arbitrary-precision number, kept as canonical decimal text so that equal
/// numbers compare equal (`1.50` and `15e-1` are both `1.5`). Very large or
/// small magnitudes use scientific notation (`1e400`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

/// Plain notation is used while the number needs at most this many digits.
const PLAIN_DIGITS: i64 = 40;

impl Number {
    /// A number from an `i64`.
    pub fn from_i64(i: i64) -> Number {
        Number(i.to_string())
    }
    /// A number from a `u64`.
    pub fn from_u64(i: u64) -> Number {
        Number(i.to_string())
    }
    /// A number from an `f64`; infinities are kept, NaN gives `None`.
    pub fn from_f64(f: f64) -> Option<Number> {
        if f.is_nan() {
            None
        } else if f.is_infinite() {
            Some(Number(
                if f > 0.0 { "Infinity" } else { "-Infinity" }.into(),
            ))
        } else {
            // Rust prints the shortest text that reads back as the same f64.
            Number::parse(&format!("{f}"))
        }
    }
    /// Parses decimal text (`-12.5`, `1e400`, `0012.30`), normalising it.
    pub fn parse(text: &str) -> Option<Number> {
        let t = text.trim();
        match t {
            "Infinity" | "+Infinity" | "+Inf" | "Inf" => return Some(Number("Infinity".into())),
            "-Infinity" | "-Inf" => return Some(Number("-Infinity".into())),
            _ => {}
        }
        let (neg, rest) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mant, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], &mant[i + 1..]),
            None => (mant, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut digits: String = format!("{int}{frac}");
        let mut e = exp.checked_sub(frac.len() as i64)?;
        let lead = digits.len() - digits.trim_start_matches('0').len();
        digits.drain(..lead);
        let trimmed = digits.trim_end_matches('0').len();
        e = e.checked_add((digits.len() - trimmed) as i64)?;
        digits.truncate(trimmed);
        if digits.is_empty() {
            return Some(Number("0".into()));
        }
        let n = digits.len() as i64;
        let body = if (0..=PLAIN_DIGITS - n).contains(&e) {
            format!("{digits}{}", "0".repeat(e as usize))
        } else if (-PLAIN_DIGITS..0).contains(&e) {
            let point = -e;
            if n > point {
                let (a, b) = digits.split_at((n - point) as usize);
                format!("{a}.{b}")
            } else {
                format!("0.{}{digits}", "0".repeat((point - n) as usize))
            }
        } else {
            let sci = e.checked_add(n - 1)?;
            let (a, b) = digits.split_at(1);
            if b.is_empty() {
                format!("{a}e{sci}")
            } else {
                format!("{a}.{b}e{sci}")
            }
        };
        Some(Number(if neg { format!("-{body}") } else { body }))
    }
    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The value as `i64` when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
    /// The value as `u64` when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }
    /// The nearest `f64` (may lose precision or be infinite).
    pub fn as_f64(&self) -> f64 {
        match self.0.as_str() {
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or(f64::NAN),
        }
    }
    /// True for the infinities.
    pub fn is_infinite(&self) -> bool {
        self.0.ends_with("Infinity")
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Terraform value. `Unknown` may appear at any depth during planning.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// null of any type
    Null,
    /// not yet known (only in plans)
    Unknown,
    /// a bool
    Bool(bool),
    /// a number
    Number(Number),
    /// a string
    String(String),
    /// a list or tuple
    List(Vec<Value>),
    /// a set (order carries no meaning)
    Set(Vec<Value>),
    /// a map or object
    Map(BTreeMap<String, Value>),
}

static NULL: Value = Value::Null;

impl Value {
    /// An attribute or map element; `&Value::Null` when absent or not a map.
    pub fn get(&self, key: &str) -> &Value {
        match self {
            Value::Map(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    /// Mutable access to an attribute or map element, if present.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Value::Map(m) => m.get_mut(key),
            _ => None,
        }
    }
    /// Sets an attribute or map element (a `Null` or non-map becomes a map).
    pub fn set(&mut self, key: &str, v: Value) {
        if !matches!(self, Value::Map(_)) {
            *self = Value::Map(BTreeMap::new());
        }
        if let Value::Map(m) = self {
            m.insert(key.to_string(), v);
        }
    }
    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The number as `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    /// Elements of a list, tuple or set.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }
    /// Entries of a map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// True for null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// True for a (wholly) unknown value.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// True when no unknown appears anywhere inside.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) => v.iter().all(Value::is_fully_known),
            Value::Map(m) => m.values().all(Value::is_fully_known),
            _ => true,
        }
    }
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    /// A number value from an `i64`.
    pub fn from_i64(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }

    /// Equality where sets compare without regard to order.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equals(y))
            }
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.iter().any(|y| x.equals(y)))
                    && b.iter().all(|y| a.iter().any(|x| x.equals(y)))
            }
            (Value::Map(a), Value::Map(b)) => {
                // Absent keys and null attributes are the same thing.
                a.iter().all(|(k, v)| v.equals(b.get(k).unwrap_or(&NULL)))
                    && b.iter().all(|(k, v)| v.equals(a.get(k).unwrap_or(&NULL)))
            }
            _ => self == other,
        }
    }

    /// Replaces every unknown inside with null; returns the paths replaced.
    pub fn unknowns_to_null(&mut self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        fn walk(v: &mut Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
            match v {
                Value::Unknown => {
                    *v = Value::Null;
                    out.push(path.clone());
                }
                Value::List(l) | Value::Set(l) => {
                    for (i, e) in l.iter_mut().enumerate() {
                        walk(e, &path.clone().index(i as i64), out);
                    }
                }
                Value::Map(m) => {
                    for (k, e) in m.iter_mut() {
                        walk(e, &path.clone().attr(k), out);
                    }
                }
                _ => {}
            }
        }
        walk(self, &AttrPath::default(), &mut out);
        out
    }

    /// The type a dynamic value is sent with: lists become tuples, maps objects.
    pub fn infer_type(&self) -> Type {
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(v) => Type::Tuple(v.iter().map(Value::infer_type).collect()),
            Value::Set(v) => Type::set(
                v.iter()
                    .map(Value::infer_type)
                    .find(|t| *t != Type::Dynamic)
                    .unwrap_or(Type::Dynamic),
            ),
            Value::Map(m) => {
                Type::Object(m.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect())
            }
        }
    }

    /// JSON for typed access and debugging: unknown becomes null, numbers become
    /// JSON numbers (a number beyond `f64` range becomes its decimal string).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Unknown => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::String(s) => J::String(s.clone()),
            Value::Number(n) => number_to_json(n),
            Value::List(v) | Value::Set(v) => J::Array(v.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// Converts JSON to a value of type `ty`, coercing like Terraform: missing
    /// object attributes become null, unknown ones are dropped, arrays fill
    /// sets, numbers and bools become strings where a string is wanted.
    pub fn from_json(json: &serde_json::Value, ty: &Type) -> Result<Value, ValueError> {
        decode_json(&JsonNode::from_serde(json), ty, &mut String::new())
    }

    /// Like [`Value::from_json`] but from JSON text, keeping every digit of
    /// numbers (`123456789012345678901234567890`, `1e400`).
    pub fn from_json_str(text: &str, ty: &Type) -> Result<Value, ValueError> {
        let node = JsonNode::parse(text)?;
        decode_json(&node, ty, &mut String::new())
    }

    /// JSON text keeping every digit of numbers; unknown is written as null.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }
}

fn number_to_json(n: &Number) -> serde_json::Value {
    if let Some(i) = n.as_i64() {
        return i.into();
    }
    if let Some(u) = n.as_u64() {
        return u.into();
    }
    let f = n.as_f64();
    match serde_json::Number::from_f64(f) {
        Some(j) if !n.is_infinite() => serde_json::Value::Number(j),
        _ => serde_json::Value::String(n.as_str().to_string()),
    }
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_infinite() => {
            out.push_str(&serde_json::Value::from(n.as_str()).to_string())
        }
        Value::Number(n) => out.push_str(n.as_str()),
        Value::String(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Value::List(l) | Value::Set(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(e, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                out.push(':');
                write_json(e, out);
            }
            out.push('}');
        }
    }
}

/// JSON tree that keeps numbers as text (serde_json without
/// `arbitrary_precision` would round them, and that feature would change
/// serde_json for the whole workspace).
#[derive(Debug, Clone)]
enum JsonNode {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<JsonNode>),
    Object(Vec<(String, JsonNode)>),
}

impl JsonNode {
    fn from_serde(j: &serde_json::Value) -> JsonNode {
        use serde_json::Value as J;
        match j {
            J::Null => JsonNode::Null,
            J::Bool(b) => JsonNode::Bool(*b),
            J::Number(n) => JsonNode::Number(n.to_string()),
            J::String(s) => JsonNode::String(s.clone()),
            J::Array(a) => JsonNode::Array(a.iter().map(JsonNode::from_serde).collect()),
            J::Object(o) => JsonNode::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), JsonNode::from_serde(v)))
                    .collect(),
            ),
        }
    }

    fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            JsonNode::Null => J::Null,
            JsonNode::Bool(b) => J::Bool(*b),
            JsonNode::Number(n) => Number::parse(n)
                .map(|n| number_to_json(&n))
                .unwrap_or(J::Null),
            JsonNode::String(s) => J::String(s.clone()),
            JsonNode::Array(a) => J::Array(a.iter().map(JsonNode::to_serde).collect()),
            JsonNode::Object(o) => {
                J::Object(o.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect())
            }
        }
    }

    fn parse(text: &str) -> Result<JsonNode, ValueError> {
        let mut p = JsonParser {
            s: text.as_bytes(),
            i: 0,
            text,
        };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("trailing characters"));
        }
        Ok(v)
    }

    fn kind(&self) -> &'static str {
        match self {
            JsonNode::Null => "null",
            JsonNode::Bool(_) => "bool",
            JsonNode::Number(_) => "number",
            JsonNode::String(_) => "string",
            JsonNode::Array(_) => "array",
            JsonNode::Object(_) => "object",
        }
    }
}

/// Nesting limit for JSON text, so hostile input cannot overflow the stack.
const MAX_JSON_DEPTH: usize = 256;

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl JsonParser<'_> {
    fn err(&self, what: &str) -> ValueError {
        ValueError::Json(format!("{what} at byte {}", self.i))
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn lit(&mut self, word: &str, v: JsonNode) -> Result<JsonNode, ValueError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("unexpected token"))
        }
    }
    fn value(&mut self, depth: usize) -> Result<JsonNode, ValueError> {
        if depth > MAX_JSON_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.lit("null", JsonNode::Null),
            Some(b't') => self.lit("true", JsonNode::Bool(true)),
            Some(b'f') => self.lit("false", JsonNode::Bool(false)),
            Some(b'"') => Ok(JsonNode::String(self.string()?)),
            Some(b'[') => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(JsonNode::Array(out));
                }
                loop {
                    out.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(JsonNode::Array(out));
                        }
                        _ => return Err(self.err("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(JsonNode::Object(out));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected key"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.err("expected :"));
                    }
                    self.i += 1;
                    out.push((k, self.value(depth + 1)?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(JsonNode::Object(out));
                        }
                        _ => return Err(self.err("expected , or }")),
                    }
                }
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                let t = &self.text[start..self.i];
                if Number::parse(t).is_none() {
                    return Err(self.err("invalid number"));
                }
                Ok(JsonNode::Number(t.to_string()))
            }
        }
    }
    fn string(&mut self) -> Result<String, ValueError> {
        // Find the closing quote, honouring escapes, then let serde_json
        // unescape the slice (it handles \u surrogate pairs).
        let start = self.i;
        self.i += 1;
        loop {
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'\\') => self.i += 2,
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(_) => self.i += 1,
            }
        }
        let slice = self
            .text
            .get(start..self.i)
            .ok_or_else(|| self.err("bad string"))?;
        serde_json::from_str(slice).map_err(|e| ValueError::Json(e.to_string()))
    }
}

fn mismatch(path: &str, expected: &Type, found: &str) -> ValueError {
    ValueError::Mismatch {
        path: path.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

fn decode_json(j: &JsonNode, ty: &Type, path: &mut String) -> Result<Value, ValueError> {
    if matches!(j, JsonNode::Null) {
        return Ok(Value::Null);
    }
    let len = path.len();
    let r = match (ty, j) {
        (Type::String, JsonNode::String(s)) => Value::String(s.clone()),
        (Type::String, JsonNode::Number(n)) => {
            Value::String(Number::parse(n).map(|n| n.0).unwrap_or_else(|| n.clone()))
        }
        (Type::String, JsonNode::Bool(b)) => Value::String(b.to_string()),
        (Type::Number, JsonNode::Number(n)) | (Type::Number, JsonNode::String(n)) => {
            Value::Number(Number::parse(n).ok_or_else(|| mismatch(path, ty, "non-number"))?)
        }
        (Type::Bool, JsonNode::Bool(b)) => Value::Bool(*b),
        (Type::Bool, JsonNode::String(s)) if s == "true" || s == "false" => {
            Value::Bool(s == "true")
        }
        (Type::List(e), JsonNode::Array(a)) | (Type::Set(e), JsonNode::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, x) in a.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                out.push(decode_json(x, e, path)?);
                path.truncate(len);
            }
            if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            }
        }
        (Type::Tuple(ts), JsonNode::Array(a)) => {
            if ts.len() != a.len() {
                return Err(mismatch(path, ty, &format!("array of {}", a.len())));
            }
            let mut out = Vec::with_capacity(a.len());
            for (i, (x, t)) in a.iter().zip(ts).enumerate() {
                path.push_str(&format!("[{i}]"));
                out.push(decode_json(x, t, path)?);
                path.truncate(len);
            }
            Value::List(out)
        }
        (Type::Map(e), JsonNode::Object(o)) => {
            let mut out = BTreeMap::new();
            for (k, x) in o {
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), decode_json(x, e, path)?);
                path.truncate(len);
            }
            Value::Map(out)
        }
        (Type::Object(attrs), JsonNode::Object(o)) => {
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                let v = match o.iter().find(|(k, _)| k == name) {
                    Some((_, x)) => {
                        path.push('.');
                        path.push_str(name);
                        let v = decode_json(x, at, path)?;
                        path.truncate(len);
                        v
                    }
                    None => Value::Null,
                };
                out.insert(name.clone(), v);
            }
            Value::Map(out)
        }
        (Type::Dynamic, JsonNode::Object(o))
            if o.len() == 2 && o.iter().any(|(k, _)| k == "value") =>
        {
            // cty's JSON for a dynamic value: {"value": ..., "type": ...}.
            let tj = o
                .iter()
                .find(|(k, _)| k == "type")
                .map(|(_, t)| t.to_serde())
                .ok_or_else(|| mismatch(path, ty, "object without type"))?;
            let t = Type::from_json(&tj)?;
            let v = o
                .iter()
                .find(|(k, _)| k == "value")
                .map(|(_, v)| v)
                .unwrap_or(&JsonNode::Null);
            decode_json(v, &t, path)?
        }
        (Type::Dynamic, x) => infer_json(x),
        (t, x) => return Err(mismatch(path, t, x.kind())),
    };
    Ok(r)
}

fn infer_json(j: &JsonNode) -> Value {
    match j {
        JsonNode::Null => Value::Null,
        JsonNode::Bool(b) => Value::Bool(*b),
        JsonNode::Number(n) => Number::parse(n).map(Value::Number).unwrap_or(Value::Null),
        JsonNode::String(s) => Value::String(s.clone()),
        JsonNode::Array(a) => Value::List(a.iter().map(infer_json).collect()),
        JsonNode::Object(o) => {
            Value::Map(o.iter().map(|(k, v)| (k.clone(), infer_json(v))).collect())
        }
    }
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `.name`
    Attr(String),
    /// `["key"]`
    Key(String),
    /// `[3]`
    Index(i64),
}

/// A path to an attribute, as Terraform shows it in diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// A path starting at a top-level attribute.
    pub fn root(name: &str) -> Self {
        AttrPath(vec![PathStep::Attr(name.to_string())])
    }
    /// Appends `.name`.
    pub fn attr(mut self, n: &str) -> Self {
        self.0.push(PathStep::Attr(n.to_string()));
        self
    }
    /// Appends `[i]`.
    pub fn index(mut self, i: i64) -> Self {
        self.0.push(PathStep::Index(i));
        self
    }
    /// Appends `["k"]`.
    pub fn key(mut self, k: &str) -> Self {
        self.0.push(PathStep::Key(k.to_string()));
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                PathStep::Attr(a) if i == 0 => f.write_str(a)?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_canonical() {
        for (a, b) in [
            ("1.50", "1.5"),
            ("15e-1", "1.5"),
            ("-0012.300", "-12.3"),
            ("0.000", "0"),
            ("1e400", "1e400"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("1e3", "1000"),
            ("0.001", "0.001"),
            ("-2.5e-60", "-2.5e-60"),
        ] {
            assert_eq!(Number::parse(a).unwrap().as_str(), b, "{a}");
        }
        assert!(Number::parse("abc").is_none());
        for bad in [
            "1e",
            ".",
            "-",
            "1.2.3",
            "1e99999999999999999999",
            "--1",
            "1e+-2",
        ] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Number::parse("9e9223372036854775807").unwrap().as_str(),
            "9e9223372036854775807"
        );
        assert!(Number::parse("99e9223372036854775807").is_none());
        assert_eq!(
            Number::parse("1e-9223372036854775808").unwrap().as_str(),
            "1e-9223372036854775808"
        );
        assert!(Number::parse("").is_none());
        assert_eq!(Number::from_f64(0.1).unwrap().as_str(), "0.1");
    }

    #[test]
    fn json_round_trip_keeps_big_numbers() {
        let ty = Type::object([
            ("a", Type::Number),
            ("b", Type::list(Type::Number)),
            ("c", Type::set(Type::String)),
        ]);
        let text = r#"{"a":1e400,"b":[123456789012345678901234567890,0.1],"c":["x"]}"#;
        let v = Value::from_json_str(text, &ty).unwrap();
        assert_eq!(v.get("a"), &Value::Number(Number::parse("1e400").unwrap()));
        assert_eq!(v.to_json_string(), text);
        assert!(matches!(v.get("c"), Value::Set(_)));
    }

    #[test]
    fn to_json_turns_unknowns_into_null_at_any_depth() {
        let mut v = Value::Null;
        v.set("a", Value::Unknown);
        v.set("l", Value::List(vec![Value::Unknown, Value::from_i64(1)]));
        v.set(
            "m",
            Value::Map(BTreeMap::from([("k".into(), Value::Unknown)])),
        );
        assert_eq!(
            v.to_json(),
            serde_json::json!({"a": null, "l": [null, 1], "m": {"k": null}})
        );
        assert_eq!(
            v.to_json_string(),
            r#"{"a":null,"l":[null,1],"m":{"k":null}}"#
        );
        let big = Value::Number(Number::parse("1e400").unwrap());
        assert_eq!(big.to_json(), serde_json::json!("1e400"));
    }

    #[test]
    fn from_json_coerces() {
        let ty = Type::object([("a", Type::String), ("b", Type::Bool), ("n", Type::Number)]);
        let v = Value::from_json(&serde_json::json!({"a": 5, "x": 1, "n": "7"}), &ty).unwrap();
        assert_eq!(v.get("a").as_str(), Some("5"));
        assert!(v.get("b").is_null());
        assert_eq!(v.get("n").as_i64(), Some(7));
        assert!(v.as_map().unwrap().get("x").is_none());
        let e = Value::from_json(&serde_json::json!({"b": [1]}), &ty).unwrap_err();
        assert!(e.to_string().contains(".b"), "{e}");
    }

    #[test]
    fn dynamic_json_with_type_wrapper() {
        let v = Value::from_json_str(
            r#"{"value":["a"],"type":["list","string"]}"#,
            &Type::Dynamic,
        )
        .unwrap();
        assert_eq!(v, Value::List(vec![Value::string("a")]));
    }

    #[test]
    fn type_json_round_trip() {
        let t = Type::object([
            ("l", Type::list(Type::String)),
            ("t", Type::Tuple(vec![Type::Bool, Type::Dynamic])),
            ("m", Type::map(Type::set(Type::Number))),
        ]);
        assert_eq!(Type::from_json_bytes(&t.to_json_bytes()).unwrap(), t);
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::Set(vec![Value::string("a"), Value::string("b")]);
        let b = Value::Set(vec![Value::string("b"), Value::string("a")]);
        assert!(a.equals(&b));
        assert!(!a.equals(&Value::Set(vec![Value::string("a")])));
    }

    #[test]
    fn unknown_detection_is_deep() {
        let mut v = Value::Null;
        v.set(
            "a",
            Value::List(vec![Value::Map(BTreeMap::from([(
                "x".into(),
                Value::Unknown,
            )]))]),
        );
        assert!(!v.is_fully_known());
        assert_eq!(
            v.unknowns_to_null(),
            vec![AttrPath::root("a").index(0).attr("x")]
        );
        assert!(v.is_fully_known());
        assert_eq!(
            AttrPath::root("a").index(0).key("k").to_string(),
            "a[0][\"k\"]"
        );
    }
}
