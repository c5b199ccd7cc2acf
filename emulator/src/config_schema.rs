//! Addon `configurationValues` checked as EKS checks them: parsed, then
//! validated against the JSON schema that
//! DescribeAddonConfiguration serves for the addon (FACTS.md F8: "The
//! values that you provide are validated against the schema returned by
//! DescribeAddonConfiguration").
//!
//! This module owns the parsing, a small validator for the subset of JSON
//! Schema (drafts 6 and 7) the addon schemas use, and the error text. It
//! does not own the schemas: they live in `data/` (the catalogue).
//!
//! Supported keywords, at every depth: local `$ref`s (`#/definitions/..`,
//! as the published schemas use them), `type` (a name or a list),
//! `properties`, `additionalProperties` (a boolean or a schema),
//! `required`, `minProperties`/`maxProperties`, `enum`, `const`, `items`
//! (one schema), `minItems`/`maxItems`, `minLength`/`maxLength`, `pattern`,
//! `minimum`/`maximum`, `anyOf`/`oneOf`/`allOf`. Any other keyword
//! (`format`, `not`, ...) is ignored, i.e. accepted, and so is a `pattern`
//! the regex engine cannot read: the emulator errs on the side of AWS
//! accepting what it cannot judge.
//!
//! Messages: the one real text known (FACTS.md F8) is
//! `ConfigurationValue provided in request is not supported: Json schema
//! validation failed with error: [$.nodeSelector: is not defined in the
//! schema and the schema does not allow additional properties]`; the other
//! keywords are worded the same way (`$.path: ...`, the style of the
//! validator that text comes from). Only the prefix up to the first colon
//! and the additionalProperties text are documented.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The documented prefix of every refusal (FACTS.md F8).
pub const NOT_SUPPORTED: &str = "ConfigurationValue provided in request is not supported";

/// How deep `$ref`s are followed before the emulator stops (a cycle).
const MAX_REF_DEPTH: usize = 16;

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
    let errors = Validator::run(&parsed, schema);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{NOT_SUPPORTED}: Json schema validation failed with error: [{}]",
            errors.join(", ")
        )))
    }
}

/// One validation: the whole schema (for `$ref`s) and the violations found.
struct Validator<'a> {
    root: &'a Value,
    errors: Vec<String>,
}

impl<'a> Validator<'a> {
    /// Every violation of `schema` by `value`, as `$.path: ...` texts.
    fn run(value: &Value, schema: &'a Value) -> Vec<String> {
        let mut v = Validator {
            root: schema,
            errors: Vec::new(),
        };
        v.validate(value, schema, "$");
        v.errors
    }

    /// Whether `value` fits `schema` (for `anyOf`/`oneOf`).
    fn fits(&self, value: &Value, schema: &'a Value, path: &str) -> bool {
        let mut v = Validator {
            root: self.root,
            errors: Vec::new(),
        };
        v.validate(value, schema, path);
        v.errors.is_empty()
    }

    fn fail(&mut self, path: &str, text: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {text}"));
    }

    /// The schema a local `$ref` points at, followed to the end.
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..MAX_REF_DEPTH {
            let target = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| self.root.pointer(pointer));
            match target {
                Some(t) => schema = t,
                None => return schema,
            }
        }
        schema
    }

    /// Appends every violation of `schema` by `value` at `path`.
    fn validate(&mut self, value: &Value, schema: &'a Value, path: &str) {
        let schema = self.resolve(schema);
        let Some(s) = schema.as_object() else {
            // `true`/`false` schemas: false refuses everything.
            if schema == &Value::Bool(false) {
                self.fail(path, "is not allowed by the schema");
            }
            return;
        };
        if !self.check_type(value, s, path) {
            // Nothing below applies to a value of the wrong type.
            return;
        }
        self.check_enum_and_const(value, s, path);
        self.check_combinators(value, s, path);
        match value {
            Value::Object(map) => self.check_object(map, s, path),
            Value::Array(items) => self.check_array(items, s, path),
            Value::String(text) => self.check_string(text, s, path),
            Value::Number(n) => self.check_number(n.as_f64(), s, path),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// `type`; false (and one error) when the value has another type.
    fn check_type(&mut self, value: &Value, s: &Map<String, Value>, path: &str) -> bool {
        let expected: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return true,
        };
        let actual = type_of(value);
        if expected.is_empty() || expected.iter().any(|e| type_matches(actual, e)) {
            return true;
        }
        self.fail(
            path,
            format!("{actual} found, {} expected", expected.join(", ")),
        );
        false
    }

    fn check_enum_and_const(&mut self, value: &Value, s: &Map<String, Value>, path: &str) {
        if let Some(Value::Array(allowed)) = s.get("enum")
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(display).collect();
            self.fail(
                path,
                format!(
                    "does not have a value in the enumeration [{}]",
                    list.join(", ")
                ),
            );
        }
        if let Some(constant) = s.get("const")
            && constant != value
        {
            self.fail(
                path,
                format!("must be a constant value {}", display(constant)),
            );
        }
    }

    /// `allOf` (each branch's own errors), `anyOf` and `oneOf` (a count).
    fn check_combinators(&mut self, value: &Value, s: &'a Map<String, Value>, path: &str) {
        if let Some(Value::Array(all)) = s.get("allOf") {
            for branch in all {
                self.validate(value, branch, path);
            }
        }
        if let Some(Value::Array(any)) = s.get("anyOf")
            && !any.iter().any(|b| self.fits(value, b, path))
        {
            self.fail(
                path,
                format!(
                    "should be valid to any of the schemas {}",
                    Value::from(any.clone())
                ),
            );
        }
        if let Some(Value::Array(one)) = s.get("oneOf") {
            let valid = one.iter().filter(|b| self.fits(value, b, path)).count();
            if valid != 1 {
                self.fail(
                    path,
                    format!("should be valid to one and only one schema, but {valid} are valid"),
                );
            }
        }
    }

    fn check_object(&mut self, map: &Map<String, Value>, s: &'a Map<String, Value>, path: &str) {
        let properties = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = s.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    self.fail(&format!("{path}.{name}"), "is missing but it is required");
                }
            }
        }
        let count = map.len() as u64;
        if let Some(min) = s.get("minProperties").and_then(Value::as_u64)
            && count < min
        {
            self.fail(path, format!("should have a minimum of {min} properties"));
        }
        if let Some(max) = s.get("maxProperties").and_then(Value::as_u64)
            && count > max
        {
            self.fail(path, format!("may only have a maximum of {max} properties"));
        }
        for (key, child) in map {
            let child_path = format!("{path}.{key}");
            match (properties.and_then(|p| p.get(key)), s.get("additionalProperties")) {
                (Some(child_schema), _) => self.validate(child, child_schema, &child_path),
                (None, Some(Value::Bool(false))) => self.fail(
                    &child_path,
                    "is not defined in the schema and the schema does not allow additional properties",
                ),
                (None, Some(extra @ Value::Object(_))) => {
                    self.validate(child, extra, &child_path)
                }
                (None, _) => {}
            }
        }
    }

    fn check_array(&mut self, items: &[Value], s: &'a Map<String, Value>, path: &str) {
        let count = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Value::as_u64)
            && count < min
        {
            self.fail(
                path,
                format!("there must be a minimum of {min} items in the array"),
            );
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
            && count > max
        {
            self.fail(
                path,
                format!("there must be a maximum of {max} items in the array"),
            );
        }
        if let Some(item_schema) = s.get("items").filter(|i| !i.is_array()) {
            for (i, item) in items.iter().enumerate() {
                self.validate(item, item_schema, &format!("{path}[{i}]"));
            }
        }
    }

    fn check_string(&mut self, text: &str, s: &Map<String, Value>, path: &str) {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            self.fail(path, format!("must be at least {min} characters long"));
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            self.fail(path, format!("may only be {max} characters long"));
        }
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
            && let Ok(re) = regex_lite::Regex::new(pattern)
            && !re.is_match(text)
        {
            self.fail(path, format!("does not match the regex pattern {pattern}"));
        }
    }

    fn check_number(&mut self, x: Option<f64>, s: &Map<String, Value>, path: &str) {
        let Some(x) = x else { return };
        if let Some(min) = s.get("minimum").and_then(Value::as_f64)
            && x < min
        {
            self.fail(path, format!("must have a minimum value of {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64)
            && x > max
        {
            self.fail(path, format!("must have a maximum value of {max}"));
        }
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

    /// The vpc-cni schema as the catalogue serves it (published, FACTS.md
    /// F8): `env` is a `$ref` to a closed object.
    fn vpc_cni() -> Value {
        crate::catalogue::Catalogue::builtin()
            .find_addon("vpc-cni")
            .expect("vpc-cni")
            .configuration_schema
            .clone()
    }

    /// Issue 27: the AWS provider's TestAccEKSAddon_configurationValues
    /// expects `{"env": {"INVALID_FIELD": "2"}}` refused on vpc-cni.
    #[test]
    fn nested_unknown_key_is_refused_through_refs() {
        let m = check(r#"{"env": {"INVALID_FIELD": "2"}}"#, &vpc_cni())
            .unwrap_err()
            .message;
        assert_eq!(
            m,
            "ConfigurationValue provided in request is not supported: Json schema validation failed with error: [$.env.INVALID_FIELD: is not defined in the schema and the schema does not allow additional properties]"
        );
        let ok = r#"{"env": {"WARM_ENI_TARGET":"2","ENABLE_POD_ENI":"true"},"resources": {"limits":{"cpu":"100m","memory":"100Mi"},"requests":{"cpu":"100m","memory":"100Mi"}}}"#;
        assert!(check(ok, &vpc_cni()).is_ok());
        let m = check(r#"{"resources": {"limits": {"gpu": "1"}}}"#, &vpc_cni())
            .unwrap_err()
            .message;
        assert!(m.contains("[$.resources.limits.gpu: is not defined"), "{m}");
        let m = check(
            r#"{"eniConfig": {"create": true, "region": "r", "subnets": {}}}"#,
            &vpc_cni(),
        )
        .unwrap_err()
        .message;
        assert!(
            m.contains("$.eniConfig.subnets: should have a minimum of 1 properties"),
            "{m}"
        );
    }

    #[test]
    fn pattern_any_of_one_of_all_of() {
        let s = json!({
            "type": "object",
            "properties": {
                "pdb": {"anyOf": [{"type": "string", "pattern": ".*%$"}, {"type": "integer"}]},
                "one": {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
                "all": {"allOf": [{"type": "string"}, {"maxLength": 2}]},
                "odd": {"type": "string", "pattern": "("}
            }
        });
        for ok in [
            r#"{"pdb": "50%"}"#,
            r#"{"pdb": 1}"#,
            r#"{"one": -1}"#,
            r#"{"one": 0.5}"#,
            r#"{"all": "ab"}"#,
            r#"{"odd": "not judged"}"#,
        ] {
            assert!(check(ok, &s).is_ok(), "{ok}");
        }
        let m = check(r#"{"pdb": "50"}"#, &s).unwrap_err().message;
        assert!(
            m.contains("$.pdb: should be valid to any of the schemas"),
            "{m}"
        );
        let m = check(r#"{"one": 1}"#, &s).unwrap_err().message;
        assert!(
            m.contains("$.one: should be valid to one and only one schema, but 2 are valid"),
            "{m}"
        );
        let m = check(r#"{"all": "abc"}"#, &s).unwrap_err().message;
        assert!(m.contains("$.all: may only be 2 characters long"), "{m}");
        let p = json!({"type": "string", "pattern": "^a+$"});
        assert!(Validator::run(&json!("aa"), &p).is_empty());
        assert_eq!(
            Validator::run(&json!("b"), &p),
            vec!["$: does not match the regex pattern ^a+$"]
        );
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
