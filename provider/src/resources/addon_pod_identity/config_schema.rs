//! `configuration_values` against the addon version's JSON schema
//! (DescribeAddonConfiguration `configurationSchema`), at plan time.
//!
//! EKS validates the values against that schema at apply (FACTS.md F8:
//! "ConfigurationValue provided in request is not supported: Json schema
//! validation failed with error: [$.nodeSelector: is not defined in the
//! schema ...]"); here the same mistakes are found at plan, each named by
//! its key path (`env.INVALID_FIELD`, `tolerations[0].key`) in words a
//! user can act on.
//!
//! Owns: a small validator for the subset of JSON Schema the addon schemas
//! use, applied at every depth: local `$ref`s (`#/definitions/..`,
//! `#/$defs/..`; the published schemas reach every nested object through
//! one), `type` (a name or a list), `properties`, `additionalProperties`
//! (boolean or schema), `required`, `minProperties`/`maxProperties`,
//! `enum`, `const`, `items` (one schema), `minItems`/`maxItems`,
//! `minLength`/`maxLength`, `pattern`, `minimum`/`maximum`,
//! `anyOf`/`oneOf`/`allOf`. Any other keyword (`format`, `not`, ...) and a
//! `pattern` the regex engine cannot read are not judged: EKS has the last
//! word at apply, and a false error at plan would block a valid
//! configuration.
//! Does not own: the JSON syntax check (the attribute's own check).

use serde_json::{Map, Value};

/// How deep `$ref`s are followed before giving up (a cycle).
const MAX_REF_DEPTH: usize = 16;

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
    let mut v = Validator {
        root: schema,
        out: Vec::new(),
    };
    v.validate(value, schema, "");
    v.out
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

fn fits_type(actual: &str, expected: &str) -> bool {
    actual == expected || (expected == "number" && actual == "integer")
}

/// One check: the whole schema (for `$ref`s) and the problems found.
struct Validator<'a> {
    root: &'a Value,
    out: Vec<String>,
}

impl<'a> Validator<'a> {
    /// Whether `value` fits `schema` (for `anyOf`/`oneOf`).
    fn fits(&self, value: &Value, schema: &'a Value, path: &str) -> bool {
        let mut v = Validator {
            root: self.root,
            out: Vec::new(),
        };
        v.validate(value, schema, path);
        v.out.is_empty()
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

    fn validate(&mut self, value: &Value, schema: &'a Value, path: &str) {
        let schema = self.resolve(schema);
        let Some(s) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                self.out
                    .push(format!("{} is not allowed here", shown(path)));
            }
            return;
        };
        if !self.check_type(value, s, path) {
            return;
        }
        self.check_enum_and_const(value, s, path);
        self.check_combinators(value, s, path);
        match value {
            Value::Object(map) => self.object(map, s, path),
            Value::Array(items) => self.array(items, s, path),
            Value::String(text) => self.string(text, s, path),
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    self.bounds(x, s, ("minimum", "maximum"), path, "");
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// `type`; false (and one problem) when the value has another type.
    fn check_type(&mut self, value: &Value, s: &Map<String, Value>, path: &str) -> bool {
        let expected: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return true,
        };
        let actual = type_name(value);
        if expected.is_empty() || expected.iter().any(|e| fits_type(actual, e)) {
            return true;
        }
        self.out.push(format!(
            "{} must be {}, not {actual} {value}",
            shown(path),
            expected.join(" or ")
        ));
        false
    }

    fn check_enum_and_const(&mut self, value: &Value, s: &Map<String, Value>, path: &str) {
        if let Some(Value::Array(allowed)) = s.get("enum")
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            self.out.push(format!(
                "{} is {value}, which is not one of {}",
                shown(path),
                list.join(", ")
            ));
        }
        if let Some(c) = s.get("const")
            && c != value
        {
            self.out.push(format!("{} must be {c}", shown(path)));
        }
    }

    /// `allOf` (each branch's own problems), `anyOf` and `oneOf` (a count).
    fn check_combinators(&mut self, value: &Value, s: &'a Map<String, Value>, path: &str) {
        if let Some(Value::Array(all)) = s.get("allOf") {
            for branch in all {
                self.validate(value, branch, path);
            }
        }
        if let Some(Value::Array(any)) = s.get("anyOf")
            && !any.iter().any(|b| self.fits(value, b, path))
        {
            self.out.push(format!(
                "{} is {value}, which fits none of the {} forms the schema allows (anyOf)",
                shown(path),
                any.len()
            ));
        }
        if let Some(Value::Array(one)) = s.get("oneOf") {
            let n = one.iter().filter(|b| self.fits(value, b, path)).count();
            if n != 1 {
                self.out.push(format!(
                    "{} is {value}, which fits {n} of the {} forms the schema allows; it must fit exactly one (oneOf)",
                    shown(path),
                    one.len()
                ));
            }
        }
    }

    fn object(&mut self, map: &Map<String, Value>, s: &'a Map<String, Value>, path: &str) {
        let properties = s.get("properties").and_then(Value::as_object);
        for name in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(name) {
                self.out
                    .push(format!("`{}` is required", child(path, name)));
            }
        }
        self.bounds(
            map.len() as f64,
            s,
            ("minProperties", "maxProperties"),
            path,
            "keys",
        );
        for (key, v) in map {
            let at = child(path, key);
            match (
                properties.and_then(|p| p.get(key)),
                s.get("additionalProperties"),
            ) {
                (Some(sub), _) => self.validate(v, sub, &at),
                (None, Some(Value::Bool(false))) => self.unknown_key(&at, properties, path),
                (None, Some(extra @ Value::Object(_))) => self.validate(v, extra, &at),
                (None, _) => {}
            }
        }
    }

    /// A key the schema does not allow, named by its whole path, with the
    /// keys allowed where it is.
    fn unknown_key(&mut self, at: &str, properties: Option<&Map<String, Value>>, path: &str) {
        let known: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        self.out.push(format!(
            "key `{at}` is not a setting of this addon version (at {} it allows: {})",
            shown(path),
            if known.is_empty() {
                "nothing".to_string()
            } else {
                known.join(", ")
            }
        ));
    }

    fn array(&mut self, items: &[Value], s: &'a Map<String, Value>, path: &str) {
        self.bounds(
            items.len() as f64,
            s,
            ("minItems", "maxItems"),
            path,
            "items long",
        );
        if let Some(item) = s.get("items").filter(|i| !i.is_array()) {
            for (i, v) in items.iter().enumerate() {
                self.validate(v, item, &format!("{path}[{i}]"));
            }
        }
    }

    fn string(&mut self, text: &str, s: &Map<String, Value>, path: &str) {
        self.bounds(
            text.chars().count() as f64,
            s,
            ("minLength", "maxLength"),
            path,
            "characters long",
        );
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
            && let Ok(re) = regex_lite::Regex::new(pattern)
            && !re.is_match(text)
        {
            self.out.push(format!(
                "{} is {:?}, which does not match the pattern `{pattern}`",
                shown(path),
                text
            ));
        }
    }

    /// `min`/`max` keywords on a measure (a length, a count, a number).
    fn bounds(
        &mut self,
        x: f64,
        s: &Map<String, Value>,
        (min, max): (&str, &str),
        path: &str,
        unit: &str,
    ) {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        if let Some(m) = s.get(min).and_then(Value::as_f64)
            && x < m
        {
            self.out
                .push(format!("{} must be at least {m}{unit}", shown(path)));
        }
        if let Some(m) = s.get(max).and_then(Value::as_f64)
            && x > m
        {
            self.out
                .push(format!("{} must be at most {m}{unit}", shown(path)));
        }
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
            nested[0].contains("key `resources.requests`")
                && nested[0].contains("at `resources` it allows: limits"),
            "{nested:?}"
        );
    }

    /// vpc-cni v1.15.1-eksbuild.1's schema as DescribeAddonConfiguration
    /// publishes it (AWS CLI reference; emulator/FACTS.md F8), cut to the
    /// parts the tests use: the top level and `env` are closed objects
    /// reached through `$ref`s.
    const VPC_CNI: &str = r##"{"$ref":"#/definitions/VpcCni","$schema":"http://json-schema.org/draft-06/schema#","definitions":{"Env":{"additionalProperties":false,"properties":{"ENABLE_POD_ENI":{"format":"boolean","type":"string"},"WARM_ENI_TARGET":{"format":"integer","type":"string"}},"title":"Env","type":"object"},"Limits":{"additionalProperties":false,"properties":{"cpu":{"type":"string"},"memory":{"type":"string"}},"title":"Limits","type":"object"},"Resources":{"additionalProperties":false,"properties":{"limits":{"$ref":"#/definitions/Limits"},"requests":{"$ref":"#/definitions/Limits"}},"title":"Resources","type":"object"},"VpcCni":{"additionalProperties":false,"properties":{"env":{"$ref":"#/definitions/Env"},"resources":{"$ref":"#/definitions/Resources"}},"title":"VpcCni","type":"object"}},"description":"vpc-cni"}"##;

    /// Issue 27: the AWS provider's TestAccEKSAddon_configurationValues
    /// expects `{"env": {"INVALID_FIELD": "2"}}` refused; here it is
    /// refused at plan, named by its whole path.
    #[test]
    fn a_nested_unknown_key_is_named_by_its_path() {
        let p = check_text(r#"{"env": {"INVALID_FIELD": "2"}}"#, VPC_CNI);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("key `env.INVALID_FIELD` is not a setting"),
            "{}",
            p[0]
        );
        assert!(
            p[0].contains("at `env` it allows: ENABLE_POD_ENI, WARM_ENI_TARGET"),
            "{}",
            p[0]
        );
        let valid = r#"{"env": {"WARM_ENI_TARGET":"2","ENABLE_POD_ENI":"true"},"resources": {"limits":{"cpu":"100m","memory":"100Mi"},"requests":{"cpu":"100m","memory":"100Mi"}}}"#;
        assert_eq!(check_text(valid, VPC_CNI), Vec::<String>::new());
        let deep = check_text(r#"{"resources": {"limits": {"gpu": "1"}}}"#, VPC_CNI);
        assert!(deep[0].contains("key `resources.limits.gpu`"), "{deep:?}");
    }

    #[test]
    fn pattern_combinators_and_property_counts() {
        let s = json!({
            "type": "object",
            "properties": {
                "pdb": {"anyOf": [{"type": "string", "pattern": ".*%$"}, {"type": "integer"}]},
                "one": {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
                "all": {"allOf": [{"type": "string"}, {"maxLength": 2}]},
                "subnets": {"type": "object", "minProperties": 1},
                "odd": {"type": "string", "pattern": "("}
            }
        });
        for ok in [
            json!({"pdb": "50%"}),
            json!({"pdb": 1}),
            json!({"one": -1}),
            json!({"all": "ab"}),
            json!({"subnets": {"a": {}}}),
            json!({"odd": "not judged"}),
        ] {
            assert_eq!(check(&ok, &s), Vec::<String>::new(), "{ok}");
        }
        let all = check(
            &json!({"pdb": "50", "one": 1, "all": "abc", "subnets": {}}),
            &s,
        )
        .join(
            "
",
        );
        assert!(
            all.contains("`pdb` is \"50\", which fits none of the 2 forms"),
            "{all}"
        );
        assert!(
            all.contains("`one` is 1, which fits 2 of the 2 forms"),
            "{all}"
        );
        assert!(
            all.contains("`all` must be at most 2 characters long"),
            "{all}"
        );
        assert!(all.contains("`subnets` must be at least 1 keys"), "{all}");
        let p = check(&json!("b"), &json!({"type": "string", "pattern": "^a+$"}));
        assert_eq!(
            p,
            vec!["the top level is \"b\", which does not match the pattern `^a+$`"]
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
