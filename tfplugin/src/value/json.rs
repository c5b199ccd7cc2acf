//! Values to and from JSON, keeping every digit of numbers.
//!
//! Owns: JSON text and `serde_json` trees as values of a type (with
//! Terraform's coercions and cty's dynamic wrapper), a JSON parser that keeps
//! numbers as text, and writing values as JSON. Used by state upgrades, typed
//! state and JSON `DynamicValue`s. Does not own: the value model (see
//! `model`).

use std::collections::BTreeMap;

use super::error::ValueError;
use super::model::Value;
use super::number::Number;
use super::types::Type;

impl Value {
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
            Some(b'[') => self.array(depth),
            Some(b'{') => self.object(depth),
            Some(_) => self.number(),
        }
    }
    /// An array; `self.i` is at its `[`.
    fn array(&mut self, depth: usize) -> Result<JsonNode, ValueError> {
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
    /// An object, keeping its keys in order; `self.i` is at its `{`.
    fn object(&mut self, depth: usize) -> Result<JsonNode, ValueError> {
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
    /// A number, kept as its text.
    fn number(&mut self) -> Result<JsonNode, ValueError> {
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
        (Type::String, JsonNode::Number(n)) => Value::String(
            Number::parse(n)
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|| n.clone()),
        ),
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
        (Type::Object(attrs), JsonNode::Object(o)) => decode_object(attrs, o, path)?,
        (Type::Dynamic, JsonNode::Object(o))
            if o.len() == 2 && o.iter().any(|(k, _)| k == "value") =>
        {
            decode_dynamic(o, path)?
        }
        (Type::Dynamic, x) => infer_json(x),
        (t, x) => return Err(mismatch(path, t, x.kind())),
    };
    Ok(r)
}

/// An object of `attrs`: a missing attribute is null, an unknown one dropped.
fn decode_object(
    attrs: &BTreeMap<String, Type>,
    o: &[(String, JsonNode)],
    path: &mut String,
) -> Result<Value, ValueError> {
    let len = path.len();
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
    Ok(Value::Map(out))
}

/// cty's JSON for a dynamic value: `{"value": ..., "type": ...}`.
fn decode_dynamic(o: &[(String, JsonNode)], path: &mut String) -> Result<Value, ValueError> {
    let tj = o
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, t)| t.to_serde())
        .ok_or_else(|| mismatch(path, &Type::Dynamic, "object without type"))?;
    let t = Type::from_json(&tj)?;
    let v = o
        .iter()
        .find(|(k, _)| k == "value")
        .map(|(_, v)| v)
        .unwrap_or(&JsonNode::Null);
    decode_json(v, &t, path)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
