//! The `Value` model: a Terraform value, with unknown at any depth.
//!
//! Owns: `Value`, access to its parts, equality as Terraform sees it (sets
//! ignore order), finding unknowns and the type a dynamic value is sent
//! with. Does not own: its JSON forms (see `json`) or msgpack (see `codec`).

use std::collections::BTreeMap;

use super::number::Number;
use super::path::AttrPath;
use super::types::Type;

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
