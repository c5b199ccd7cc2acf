//! `configuration_values` against the addon version's JSON schema
//! (DescribeAddonConfiguration `configurationSchema`), at plan time.
//!
//! EKS validates the values against that schema at apply (FACTS.md F8:
//! "ConfigurationValue provided in request is not supported: Json schema
//! validation failed with error: [$.nodeSelector: is not defined in the
//! schema ...]"); here the same mistakes are found at plan, each named by
//! its key in words a user can act on.
//!
//! Owns: a small validator for the subset of JSON Schema the addon schemas
//! use: `type` (a name or a list), `properties`, `additionalProperties`
//! (boolean or schema), `required`, `enum`, `const`, `items` (one schema),
//! `minItems`/`maxItems`, `minLength`/`maxLength`, `minimum`/`maximum`, and
//! local `$ref`s (`#/definitions/..`, `#/$defs/..`). Any other keyword
//! (`pattern`, `oneOf`, `format`, ...) is not judged: EKS has the last word
//! at apply, and a false error at plan would block a valid configuration.
//! Does not own: the JSON syntax check (the attribute's own check).

use serde_json::Value;

/// Every problem of `values` (JSON text) against `schema` (JSON schema
/// text), as sentences naming the key. Text that is not JSON (EKS also
/// takes YAML) and a schema that is not JSON are not judged.
pub(super) fn check_text(values: &str, schema: &str) -> Vec<String> {
    match (
        serde_json::from_str::<Value>(values),
        serde_json::from_str::<Value>(schema),
    ) {
        (Ok(v), Ok(s)) => check(&v, &s),
        _ => vec![],
    }
}

/// Every problem of `value` against `schema`.
pub(super) fn check(value: &Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    validate(value, schema, schema, "", &mut out);
    out
}

/// How a path is shown: `env.WARM_IP_TARGET`, `tolerations[0].key`; the
/// top level as "the top level".
fn shown(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("`{path}`")
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The schema a local `$ref` points at (depth-limited against cycles).
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..16 {
        let Some(r) = s.get("$ref").and_then(Value::as_str) else {
            return s;
        };
        let Some(pointer) = r.strip_prefix('#') else {
            return s;
        };
        match root.pointer(pointer) {
            Some(target) => s = target,
            None => return s,
        }
    }
    s
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn fits(actual: &str, expected: &str) -> bool {
    actual == expected || (expected == "number" && actual == "integer")
}

fn validate(value: &Value, schema: &Value, root: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(schema, root);
    let Some(s) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            out.push(format!("{} is not allowed here", shown(path)));
        }
        return;
    };
    let expected: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = type_name(value);
    if !expected.is_empty() && !expected.iter().any(|e| fits(actual, e)) {
        out.push(format!(
            "{} must be {}, not {actual} {value}",
            shown(path),
            expected.join(" or ")
        ));
        return;
    }
    if let Some(Value::Array(allowed)) = s.get("enum")
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        out.push(format!(
            "{} is {value}, which is not one of {}",
            shown(path),
            list.join(", ")
        ));
    }
    if let Some(c) = s.get("const")
        && c != value
    {
        out.push(format!("{} must be {c}", shown(path)));
    }
    match value {
        Value::Object(map) => object(map, s, root, path, out),
        Value::Array(items) => array(items, s, root, path, out),
        Value::String(text) => bounds(
            text.chars().count() as f64,
            s,
            "minLength",
            "maxLength",
            path,
            "characters long",
            out,
        ),
        Value::Number(n) => {
            if let Some(x) = n.as_f64() {
                bounds(x, s, "minimum", "maximum", path, "", out);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn object(
    map: &serde_json::Map<String, Value>,
    s: &serde_json::Map<String, Value>,
    root: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let properties = s.get("properties").and_then(Value::as_object);
    for name in s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(name) {
            out.push(format!("`{}` is required", child(path, name)));
        }
    }
    for (key, v) in map {
        let at = child(path, key);
        match (
            properties.and_then(|p| p.get(key)),
            s.get("additionalProperties"),
        ) {
            (Some(sub), _) => validate(v, sub, root, &at, out),
            (None, Some(Value::Bool(false))) => {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                out.push(format!(
                    "key `{key}` is not a setting of this addon version at {} (it allows: {})",
                    shown(path),
                    if known.is_empty() {
                        "nothing".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
            }
            (None, Some(extra @ Value::Object(_))) => validate(v, extra, root, &at, out),
            (None, _) => {}
        }
    }
}

fn array(
    items: &[Value],
    s: &serde_json::Map<String, Value>,
    root: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    bounds(
        items.len() as f64,
        s,
        "minItems",
        "maxItems",
        path,
        "items long",
        out,
    );
    if let Some(item) = s.get("items").filter(|i| i.is_object()) {
        for (i, v) in items.iter().enumerate() {
            validate(v, item, root, &format!("{path}[{i}]"), out);
        }
    }
}

/// `min`/`max` keywords on a measure (a length, a count, a number).
fn bounds(
    x: f64,
    s: &serde_json::Map<String, Value>,
    min: &str,
    max: &str,
    path: &str,
    unit: &str,
    out: &mut Vec<String>,
) {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    if let Some(m) = s.get(min).and_then(Value::as_f64)
        && x < m
    {
        out.push(format!("{} must be at least {m}{unit}", shown(path)));
    }
    if let Some(m) = s.get(max).and_then(Value::as_f64)
        && x > m
    {
        out.push(format!("{} must be at most {m}{unit}", shown(path)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "replicaCount": {"type": "integer", "minimum": 1},
                "mode": {"enum": ["iptables", "ipvs"]},
                "resources": {"$ref": "#/definitions/Resources"},
                "tolerations": {"type": "array", "items": {"type": "object", "required": ["key"]}}
            },
            "definitions": {
                "Resources": {"type": "object", "additionalProperties": false,
                    "properties": {"limits": {"type": "object"}}}
            }
        })
    }

    #[test]
    fn valid_values_pass() {
        let v = json!({"env": {"A": "1"}, "replicaCount": 2, "mode": "ipvs",
            "resources": {"limits": {}}, "tolerations": [{"key": "k"}]});
        assert_eq!(check(&v, &schema()), Vec::<String>::new());
    }

    #[test]
    fn an_unknown_key_is_named_with_the_allowed_ones() {
        let p = check(&json!({"nodeSelector": {}}), &schema());
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("key `nodeSelector`"), "{}", p[0]);
        assert!(
            p[0].contains("env, mode, replicaCount, resources, tolerations")
                || p[0].contains("env"),
            "{}",
            p[0]
        );
        let nested = check(&json!({"resources": {"requests": {}}}), &schema());
        assert!(
            nested[0].contains("key `requests`") && nested[0].contains("`resources`"),
            "{nested:?}"
        );
    }

    #[test]
    fn types_enums_bounds_required_items() {
        let p = check(
            &json!({"env": {"A": 1}, "replicaCount": 0, "mode": "x", "tolerations": [{}]}),
            &schema(),
        );
        let all = p.join("\n");
        assert!(
            all.contains("`env.A` must be string, not integer 1"),
            "{all}"
        );
        assert!(all.contains("`replicaCount` must be at least 1"), "{all}");
        assert!(
            all.contains("`mode` is \"x\", which is not one of \"iptables\", \"ipvs\""),
            "{all}"
        );
        assert!(all.contains("`tolerations[0].key` is required"), "{all}");
        assert_eq!(p.len(), 4, "{all}");
    }

    #[test]
    fn text_that_is_not_json_is_not_judged() {
        assert!(check_text("env:\n  A: 1\n", &schema().to_string()).is_empty());
        assert!(check_text("{}", "not a schema").is_empty());
        assert_eq!(check_text(r#"{"x":1}"#, &schema().to_string()).len(), 1);
    }
}
