//! Addon `configurationValues` checked as EKS checks them: parsed, then
//! validated against the JSON schema that
//! DescribeAddonConfiguration serves for the addon (FACTS.md F8: "The
//! values that you provide are validated against the schema returned by
//! DescribeAddonConfiguration").
//!
//! This module owns the parsing, a small validator for the subset of JSON
//! Schema (draft 7) the catalogue's schemas use, and the error text. It
//! does not own the schemas: they live in `data/addons.json`.
//!
//! Supported keywords: `type` (a name or a list), `properties`,
//! `additionalProperties` (a boolean or a schema), `required`, `enum`,
//! `const`, `items` (one schema), `minItems`/`maxItems`,
//! `minLength`/`maxLength`, `minimum`/`maximum`. Any other keyword
//! (`pattern`, `$ref`, `oneOf`, ...) is ignored, i.e. accepted: the
//! emulator errs on the side of AWS accepting what it cannot judge.
//!
//! Messages: the one real text known (FACTS.md F8) is
//! `ConfigurationValue provided in request is not supported: Json schema
//! validation failed with error: [$.nodeSelector: is not defined in the
//! schema and the schema does not allow additional properties]`; the other
//! keywords are worded the same way (`$.path: ...`, the style of the
//! validator that text comes from). Only the prefix up to the first colon
//! is a documented text.

use serde_json::Value;

use crate::error::ApiError;

/// The documented prefix of every refusal (FACTS.md F8).
pub const NOT_SUPPORTED: &str = "ConfigurationValue provided in request is not supported";

/// Parses `configurationValues` and validates it against `schema`. An
/// empty string is "no values" and passes. JSON is checked; anything that
/// does not start with `{` is taken for YAML, which EKS also accepts, and
/// passes unchecked: the emulator has no YAML parser (a known gap, see
/// FACTS.md F8), and errs on the side of accepting.
pub fn check(values: &str, schema: &Value) -> Result<(), ApiError> {
    if !values.trim_start().starts_with('{') {
        return Ok(());
    }
    let parsed: Value = serde_json::from_str(values).map_err(|e| {
        ApiError::invalid_parameter(format!("{NOT_SUPPORTED}: the JSON is not valid: {e}"))
    })?;
    let mut errors = Vec::new();
    validate(&parsed, schema, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{NOT_SUPPORTED}: Json schema validation failed with error: [{}]",
            errors.join(", ")
        )))
    }
}

/// The JSON Schema type name of a value (an integral number is `integer`).
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(actual: &str, expected: &str) -> bool {
    actual == expected || (expected == "number" && actual == "integer")
}

/// Appends to `errors` every violation of `schema` by `value` at `path`.
fn validate(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        // `true`/`false` schemas: false refuses everything.
        if schema == &Value::Bool(false) {
            errors.push(format!("{path}: is not allowed by the schema"));
        }
        return;
    };
    let actual = type_of(value);
    let expected: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !expected.is_empty() && !expected.iter().any(|e| type_matches(actual, e)) {
        errors.push(format!(
            "{path}: {actual} found, {} expected",
            expected.join(", ")
        ));
        // Nothing below applies to a value of the wrong type.
        return;
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(display).collect();
        errors.push(format!(
            "{path}: does not have a value in the enumeration [{}]",
            list.join(", ")
        ));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        errors.push(format!(
            "{path}: must be a constant value {}",
            display(constant)
        ));
    }
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(Value::Array(required)) = schema.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        errors.push(format!("{path}.{name}: is missing but it is required"));
                    }
                }
            }
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                match properties.and_then(|p| p.get(key)) {
                    Some(child_schema) => validate(child, child_schema, &child_path, errors),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => errors.push(format!(
                            "{child_path}: is not defined in the schema and the schema does not allow additional properties"
                        )),
                        Some(extra @ Value::Object(_)) => {
                            validate(child, extra, &child_path, errors)
                        }
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                errors.push(format!(
                    "{path}: there must be a minimum of {min} items in the array"
                ));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > max
            {
                errors.push(format!(
                    "{path}: there must be a maximum of {max} items in the array"
                ));
            }
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    validate(item, item_schema, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                errors.push(format!("{path}: must be at least {min} characters long"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                errors.push(format!("{path}: may only be {max} characters long"));
            }
        }
        Value::Number(n) => {
            let Some(x) = n.as_f64() else { return };
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                errors.push(format!("{path}: must have a minimum value of {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                errors.push(format!("{path}: must have a maximum value of {max}"));
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// A value as the messages show it: strings bare, the rest as JSON.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": [],
            "properties": {
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "enableNetworkPolicy": {"type": "string", "enum": ["true", "false"]},
                "replicaCount": {"type": "integer", "minimum": 1, "maximum": 10},
                "tolerations": {"type": "array", "maxItems": 2, "items": {"type": "object"}},
                "name": {"type": ["string", "null"], "minLength": 2, "maxLength": 4},
            }
        })
    }

    fn message(values: &str) -> String {
        check(values, &schema()).unwrap_err().message
    }

    #[test]
    fn valid_json_and_yaml_pass() {
        let ok = [
            "",
            "{}",
            r#"{"env": {"A": "1"}, "enableNetworkPolicy": "true", "replicaCount": 3}"#,
            "env:\n  A: \"1\"\nreplicaCount: 2\n",
            "not: [checked, yaml]\n",
            r#"{"name": null, "replicaCount": 4.0}"#,
        ];
        for v in ok {
            assert!(check(v, &schema()).is_ok(), "{v}");
        }
    }

    #[test]
    fn unknown_key_gives_the_real_text() {
        assert_eq!(
            message(r#"{"nodeSelector": {"a": "b"}}"#),
            "ConfigurationValue provided in request is not supported: Json schema validation failed with error: [$.nodeSelector: is not defined in the schema and the schema does not allow additional properties]"
        );
    }

    #[test]
    fn each_keyword_refuses() {
        let cases = [
            (r#"{"env": "x"}"#, "$.env: string found, object expected"),
            (
                r#"{"env": {"A": 1}}"#,
                "$.env.A: integer found, string expected",
            ),
            (
                r#"{"enableNetworkPolicy": "yes"}"#,
                "$.enableNetworkPolicy: does not have a value in the enumeration [true, false]",
            ),
            (
                r#"{"replicaCount": 0}"#,
                "$.replicaCount: must have a minimum value of 1",
            ),
            (
                r#"{"replicaCount": 11}"#,
                "$.replicaCount: must have a maximum value of 10",
            ),
            (
                r#"{"replicaCount": 1.5}"#,
                "$.replicaCount: number found, integer expected",
            ),
            (
                r#"{"tolerations": [{}, {}, {}]}"#,
                "$.tolerations: there must be a maximum of 2 items in the array",
            ),
            (
                r#"{"tolerations": ["x"]}"#,
                "$.tolerations[0]: string found, object expected",
            ),
            (
                r#"{"name": "a"}"#,
                "$.name: must be at least 2 characters long",
            ),
            (
                r#"{"name": "abcde"}"#,
                "$.name: may only be 4 characters long",
            ),
        ];
        for (values, expected) in cases {
            let m = message(values);
            assert!(m.contains(expected), "{values}: {m}");
            assert!(m.starts_with(NOT_SUPPORTED), "{m}");
        }
    }

    #[test]
    fn required_and_several_errors() {
        let s = json!({"type": "object", "required": ["a"], "additionalProperties": false});
        let m = check(r#"{"b": 1}"#, &s).unwrap_err().message;
        assert!(m.contains("$.a: is missing but it is required"), "{m}");
        assert!(m.contains(", $.b: is not defined"), "{m}");
    }

    #[test]
    fn malformed_json_is_refused() {
        for v in ["{not json", "{\"a\": 1"] {
            let m = message(v);
            assert!(
                m.starts_with(&format!("{NOT_SUPPORTED}: the JSON is not valid")),
                "{v}: {m}"
            );
        }
    }
}
