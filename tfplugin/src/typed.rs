//! Typed access: converting between `Value`s and Rust structs with serde.
//!
//! Owns: `from_value` and `to_value`. Goes through JSON, so unknown values read
//! as `None`/null; check `Value::is_fully_known` first where that matters.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::value::{Type, Value, ValueError};

/// Reads a struct from a value (unknowns read as null).
pub fn from_value<T: DeserializeOwned>(v: &Value) -> Result<T, ValueError> {
    serde_json::from_value(v.to_json()).map_err(ValueError::Serde)
}

/// Writes a struct as a value of type `ty` (missing attributes become null).
pub fn to_value<T: Serialize>(t: &T, ty: &Type) -> Result<Value, ValueError> {
    let j = serde_json::to_value(t).map_err(ValueError::Serde)?;
    Value::from_json(&j, ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct S {
        name: String,
        tags: Option<std::collections::BTreeMap<String, String>>,
        n: Option<i64>,
    }

    #[test]
    fn struct_round_trip() {
        let ty = Type::object([
            ("name", Type::String),
            ("tags", Type::map(Type::String)),
            ("n", Type::Number),
            ("extra", Type::Bool),
        ]);
        let s = S {
            name: "a".into(),
            tags: None,
            n: Some(3),
        };
        let v = to_value(&s, &ty).unwrap();
        assert!(v.get("extra").is_null());
        assert_eq!(from_value::<S>(&v).unwrap(), s);
    }
}
