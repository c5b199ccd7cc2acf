//! The bridge between our specs and typed state (crate `schema`) and the
//! plugin layer's schemas and values (crate `tfplugin`).
//!
//! Owns: spec → `tfplugin::Schema`, typed state ↔ `Value`, configuration
//! values → `schema::Input`, and `Problem` → diagnostic. Nothing else in the
//! provider builds schemas or converts values by hand.

use schema::Input;
use schema::spec::{Attr, Kind, Mode, Problem, ResourceSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tfplugin::{
    AttrPath, Attribute, Block, Diagnostic, Diagnostics, NestedBlock, NestingMode, Schema, Type,
    Value,
};

/// The Terraform type of an attribute kind.
fn type_of(kind: &Kind) -> Type {
    match kind {
        Kind::String => Type::String,
        Kind::Bool => Type::Bool,
        Kind::Number => Type::Number,
        Kind::StringMap => Type::Map(Box::new(Type::String)),
        Kind::StringSet => Type::Set(Box::new(Type::String)),
        Kind::StringList => Type::List(Box::new(Type::String)),
        Kind::ObjectList(attrs) | Kind::NestedList(attrs) => Type::List(Box::new(Type::Object(
            attrs
                .iter()
                .map(|a| (a.name.to_string(), type_of(&a.kind)))
                .collect(),
        ))),
        // Written as a map of string sets: see `attribute`.
        Kind::NestedObject(_) => Type::Map(Box::new(Type::Set(Box::new(Type::String)))),
    }
}

/// The checks of an object written as a map (`Kind::NestedObject`): each
/// key one of the declared attributes, each value passing its check.
type ObjectKeys = Vec<(&'static str, Option<fn(&str) -> Result<(), String>>)>;

fn check_object_map(keys: &ObjectKeys, v: &Value) -> Result<(), String> {
    let Value::Map(entries) = v else {
        return Ok(());
    };
    for (key, value) in entries {
        let Some((_, check)) = keys.iter().find(|(k, _)| k == key) else {
            let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "`{key}` is not one of its keys; use {}.",
                names.join(", ")
            ));
        };
        if let Some(check) = check {
            run_check(*check, value).map_err(|e| format!("{key}: {e}"))?;
        }
    }
    Ok(())
}

/// Runs a string check on a value: a string, or each element of a collection.
fn run_check(check: fn(&str) -> Result<(), String>, v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) => check(s),
        Value::List(items) | Value::Set(items) => {
            items.iter().filter_map(Value::as_str).try_for_each(check)
        }
        _ => Ok(()),
    }
}

fn attribute(a: &Attr) -> Attribute {
    let mut at = match &a.kind {
        Kind::String => Attribute::string(a.name),
        Kind::Bool => Attribute::bool(a.name),
        Kind::Number => Attribute::number(a.name),
        Kind::StringMap => Attribute::map(a.name, Type::String),
        Kind::StringSet => Attribute::set(a.name, Type::String),
        Kind::StringList => Attribute::list(a.name, Type::String),
        // Computed lists of objects are plain list(object) types: simplest on
        // every Terraform version, and the user never writes them.
        Kind::ObjectList(_) => Attribute::list(a.name, strip_list(type_of(&a.kind))),
        Kind::NestedList(attrs) => {
            let mut inner = Block::new();
            for at in attrs {
                inner = inner.attr(attribute(at));
            }
            Attribute::nested(a.name, NestingMode::List, inner)
        }
        // A single nested attribute crashes Terraform 1.0.x whenever it is
        // null (objchange.proposedNewNestedType reads the attributes of a
        // null object: "interface conversion: interface {} is nil"). The
        // object is written as a map of string sets instead: the same HCL
        // (`{ key = [...] }`) on every engine, its keys checked here.
        Kind::NestedObject(attrs) => {
            let keys: ObjectKeys = attrs.iter().map(|at| (at.name, at.check)).collect();
            Attribute::map(a.name, Type::Set(Box::new(Type::String)))
                .validator(move |v: &Value| check_object_map(&keys, v))
        }
    };
    at = match (a.mode, a.default.is_some()) {
        (Mode::Required, _) => at.required(),
        (Mode::Optional, false) => at.optional(),
        (Mode::Optional, true) | (Mode::OptionalComputed, _) => at.optional().computed(),
        (Mode::Computed, _) => at.computed(),
    };
    at = at.description(a.description);
    if a.replace {
        at = at.requires_replace();
    }
    if a.stable {
        at = at.use_state_for_unknown();
    }
    if let Some(f) = a.equivalent {
        at = at.semantic_equality(f);
    }
    if a.inert {
        at = at.inert();
    }
    if a.sensitive {
        at = at.sensitive();
    }
    if let Some(d) = &a.default
        && let Ok(v) = Value::from_json(d, &type_of(&a.kind))
    {
        at = at.default(v);
    }
    if let Some(check) = a.check {
        at = at.validator(move |v: &Value| run_check(check, v));
    }
    at
}

fn strip_list(t: Type) -> Type {
    match t {
        Type::List(inner) => *inner,
        other => other,
    }
}

/// The Terraform schema of a spec.
pub fn to_schema(spec: &ResourceSpec) -> Schema {
    let mut block = Block::new().description(spec.description);
    for a in &spec.attrs {
        block = block.attr(attribute(a));
    }
    for b in &spec.blocks {
        let mut inner = Block::new().description(b.description);
        for a in &b.attrs {
            inner = inner.attr(attribute(a));
        }
        block = block.block(NestedBlock::new(b.name, NestingMode::Single, inner));
    }
    Schema {
        version: spec.version,
        block,
    }
}

/// A typed state from a value; unknown values read as null.
pub fn from_value<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T, Diagnostic> {
    tfplugin::typed::from_value(v).map_err(|e| {
        Diagnostic::error(
            format!("Unexpected {what} value"),
            format!("The provider could not read the {what}: {e}. This is a bug in the provider; please report it."),
        )
    })
}

/// A value from a typed state.
pub fn to_value<T: Serialize>(t: &T, schema: &Schema) -> Result<Value, Diagnostic> {
    tfplugin::typed::to_value(t, &schema.ty()).map_err(|e| {
        Diagnostic::error(
            "Unexpected state value",
            format!("The provider could not write its state: {e}. This is a bug in the provider; please report it."),
        )
    })
}

/// A string attribute of a configuration, as planning sees it.
pub fn input_str(v: &Value, key: &str) -> Input<String> {
    match v.get(key) {
        Value::Null => Input::Null,
        Value::String(s) => Input::Known(s.clone()),
        _ => Input::Unknown,
    }
}

/// A bool attribute of a configuration, as planning sees it.
pub fn input_bool(v: &Value, key: &str) -> Input<bool> {
    match v.get(key) {
        Value::Null => Input::Null,
        Value::Bool(b) => Input::Known(*b),
        _ => Input::Unknown,
    }
}

/// A map-of-strings attribute, as planning sees it (unknown if any part is).
pub fn input_string_map(v: &Value, key: &str) -> Input<std::collections::BTreeMap<String, String>> {
    match v.get(key) {
        Value::Null => Input::Null,
        m @ Value::Map(entries) if m.is_fully_known() => Input::Known(
            entries
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
        ),
        _ => Input::Unknown,
    }
}

/// A single nested object attribute, as planning sees it: known once every
/// part is (and it reads as `T`), else unknown.
pub fn input_object<T: DeserializeOwned>(v: &Value, key: &str) -> Input<T> {
    match v.get(key) {
        Value::Null => Input::Null,
        o if o.is_fully_known() => tfplugin::typed::from_value(o)
            .map(Input::Known)
            .unwrap_or(Input::Unknown),
        _ => Input::Unknown,
    }
}

/// Problems found by a rule, as diagnostics at their attributes.
pub fn problems_to_diagnostics(problems: Vec<Problem>) -> Diagnostics {
    let mut d = Diagnostics::default();
    for p in problems {
        let diagnostic = if p.warning {
            Diagnostic::warning(p.summary, p.detail)
        } else {
            Diagnostic::error(p.summary, p.detail)
        };
        d.push(diagnostic.at(AttrPath::root(p.attr)));
    }
    d
}

/// A set-of-strings attribute, as planning sees it (unknown if any part is).
pub fn input_string_set(v: &Value, key: &str) -> Input<std::collections::BTreeSet<String>> {
    match v.get(key) {
        Value::Null => Input::Null,
        s @ (Value::Set(items) | Value::List(items)) if s.is_fully_known() => Input::Known(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
        ),
        _ => Input::Unknown,
    }
}

/// A set of strings as a value.
pub fn string_set(items: &std::collections::BTreeSet<String>) -> Value {
    Value::Set(items.iter().map(Value::string).collect())
}

/// Where the role of a configuration (an association, or one addon entry)
/// comes from: what the role-source rules of `schema::association` need.
pub fn role_source_input(config: &Value, partition: &str) -> schema::association::RoleSourceInput {
    let is_set = |k: &str| {
        let v = config.get(k);
        !v.is_null() && *v != Value::Bool(false)
    };
    schema::association::RoleSourceInput {
        role_arn: input_str(config, "role_arn"),
        role_creation_set: schema::association::ROLE_CREATION_ATTRS
            .iter()
            .copied()
            .filter(|a| is_set(a))
            .collect(),
        permission_policy_arns: input_string_set(config, "permission_policy_arns"),
        well_known_policies: input_string_set(config, "well_known_policies"),
        permission_policy: input_str(config, "permission_policy"),
        partition: partition.to_string(),
    }
}

/// Every role attribute of a configuration (an association, or one addon
/// entry) as null, unknown or known, for the stage-aware role rules
/// (`schema::role::check_role_config`). Read from the *configuration*, not
/// the planned state: `role_name` and `role_path` are optional + computed and
/// `restrict_to_cluster` has a default, so only the config says what the
/// user wrote.
pub fn role_config(config: &Value, partition: &str) -> schema::role::RoleConfig {
    schema::role::RoleConfig {
        role_arn: input_str(config, "role_arn"),
        role_name: input_str(config, "role_name"),
        role_path: input_str(config, "role_path"),
        permission_policy_arns: input_string_set(config, "permission_policy_arns"),
        permission_policy: input_str(config, "permission_policy"),
        permission_policy_name: input_str(config, "permission_policy_name"),
        well_known_policies: input_string_set(config, "well_known_policies"),
        well_known_policy_scopes: input_object(config, "well_known_policy_scopes"),
        permissions_boundary_arn: input_str(config, "permissions_boundary_arn"),
        trust_conditions: input_str(config, "trust_conditions"),
        restrict_to_cluster: input_bool(config, "restrict_to_cluster"),
        partition: partition.to_string(),
    }
}

/// A string map (tags) as a `Value`.
pub fn string_map(t: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Map(
        t.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object written as a map (Kind::NestedObject): a key that is not
    /// one of its attributes is refused, naming the keys; values pass their
    /// own checks. (A single nested attribute crashed Terraform 1.0.3.)
    #[test]
    fn an_object_written_as_a_map_checks_its_keys_and_values() {
        let keys: ObjectKeys = vec![
            (
                "hosted_zone_arns",
                Some(|s: &str| {
                    if s.starts_with("arn:") {
                        Ok(())
                    } else {
                        Err("not an ARN".into())
                    }
                }),
            ),
            ("kms_key_arns", None),
        ];
        let map = |k: &str, v: &str| {
            Value::Map([(k.to_string(), Value::Set(vec![Value::string(v)]))].into())
        };
        assert_eq!(
            check_object_map(&keys, &map("hosted_zone_arns", "arn:x")),
            Ok(())
        );
        let typo = check_object_map(&keys, &map("hosted_zone_arn", "arn:x")).unwrap_err();
        assert!(typo.contains("hosted_zone_arns, kms_key_arns"), "{typo}");
        let bad = check_object_map(&keys, &map("hosted_zone_arns", "Z1")).unwrap_err();
        assert!(bad.starts_with("hosted_zone_arns: "), "{bad}");
        assert_eq!(check_object_map(&keys, &Value::Null), Ok(()));
        assert_eq!(
            type_of(&Kind::NestedObject(vec![])),
            Type::Map(Box::new(Type::Set(Box::new(Type::String))))
        );
    }
}
