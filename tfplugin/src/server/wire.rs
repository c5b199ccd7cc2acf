//! Wire conversions: our values, diagnostics, paths and schemas to and from
//! their protocol 6 forms.
//!
//! Owns: `DynamicValue` decoding and encoding (with the diagnostics that say
//! which side was wrong), resource identities on the wire, and the wire form
//! of schemas, functions and capabilities. Does not own: the order of steps
//! inside an RPC (see the sibling modules).

use crate::codec;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::proto::tfplugin6 as pb;
use crate::provider::{Function, FunctionParameter};
use crate::schema::{Attribute, Block, NestingMode, Schema};
use crate::value::{AttrPath, PathStep, Type, Value};

use super::service::ResourceEntry;

/// A value from Terraform (msgpack or JSON; absent is null), or an error
/// diagnostic naming `what` could not be decoded.
pub(super) fn decode_dv(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let r = if !dv.msgpack.is_empty() {
        codec::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        std::str::from_utf8(&dv.json)
            .map_err(|e| crate::value::ValueError::Json(e.to_string()))
            .and_then(|s| Value::from_json_str(s, ty))
    } else {
        Ok(Value::Null)
    };
    r.map_err(|e| {
        Diagnostic::error(
            format!("Invalid {what} from Terraform"),
            format!("The provider could not decode the {what}: {e}."),
        )
        .into()
    })
}

/// A value for Terraform in msgpack, or an error diagnostic saying the
/// provider produced a `what` its schema does not allow.
pub(super) fn encode_dv(v: &Value, ty: &Type, what: &str) -> Result<pb::DynamicValue, Diagnostics> {
    codec::encode(v, ty)
        .map(|msgpack| pb::DynamicValue { msgpack, json: vec![] })
        .map_err(|e| {
            Diagnostic::error(
                format!("Invalid {what} from provider"),
                format!("The provider produced a {what} that does not match its schema: {e}. This is a bug in the provider."),
            )
            .into()
        })
}

/// The identity Terraform sent, if the resource has one and it is not null.
pub(super) fn decode_identity(
    id: Option<&pb::ResourceIdentityData>,
    entry: &ResourceEntry,
) -> Result<Option<Value>, Diagnostics> {
    match (id.and_then(|i| i.identity_data.as_ref()), &entry.identity) {
        (Some(dv), Some((_, ty))) => {
            let v = decode_dv(Some(dv), ty, "identity")?;
            Ok(if v.is_null() { None } else { Some(v) })
        }
        _ => Ok(None),
    }
}

/// The identity of `state`: the one the resource gave, else the state's
/// attributes of the identity's attribute names (a resource whose identity
/// attributes are all state attributes need not build it).
pub(super) fn encode_identity(
    v: Option<&Value>,
    state: &Value,
    entry: &ResourceEntry,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
    let derived = match (&entry.identity, v) {
        (Some((s, _)), None) if !state.is_null() => {
            let mut id = Value::Null;
            for a in &s.block.attributes {
                id.set(&a.name, state.get(&a.name).clone());
            }
            Some(id)
        }
        _ => None,
    };
    match (v.or(derived.as_ref()), &entry.identity) {
        (Some(v), Some((_, ty))) if !v.is_null() => Ok(Some(pb::ResourceIdentityData {
            identity_data: Some(encode_dv(v, ty, "identity")?),
        })),
        _ => Ok(None),
    }
}

/// Diagnostics of a list resource's `config` block, with their attribute
/// Converts a path to its wire form.
pub fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Converts diagnostics to their wire form.
pub fn diags_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.attribute.as_ref().map(path_to_proto),
        })
        .collect()
}

fn attr_to_proto(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested) = match &a.nested {
        Some((mode, b)) => {
            use pb::schema::object::NestingMode as N;
            let n = match mode {
                NestingMode::Single | NestingMode::Group => N::Single,
                NestingMode::List => N::List,
                NestingMode::Set => N::Set,
                NestingMode::Map => N::Map,
            };
            (
                vec![],
                Some(pb::schema::Object {
                    attributes: b.attributes.iter().map(attr_to_proto).collect(),
                    nesting: n as i32,
                    min_items: 0,
                    max_items: 0,
                }),
            )
        }
        None => (a.ty.to_json_bytes(), None),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type: nested,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated.is_some(),
        write_only: false,
    }
}

fn block_to_proto(b: &Block, version: i64) -> pb::schema::Block {
    use pb::schema::nested_block::NestingMode as N;
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attr_to_proto).collect(),
        block_types: b
            .blocks
            .iter()
            .map(|nb| pb::schema::NestedBlock {
                type_name: nb.name.clone(),
                block: Some(block_to_proto(&nb.block, 0)),
                nesting: match nb.nesting {
                    NestingMode::Single => N::Single,
                    NestingMode::List => N::List,
                    NestingMode::Set => N::Set,
                    NestingMode::Map => N::Map,
                    NestingMode::Group => N::Group,
                } as i32,
                min_items: nb.min_items,
                max_items: nb.max_items,
            })
            .collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
    }
}

/// Converts a schema to its wire form.
pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block, s.version)),
    }
}

/// Converts an identity schema to its wire form.
pub(super) fn identity_to_proto(s: &Schema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .block
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required,
                optional_for_import: !a.required,
                description: a.description.clone(),
            })
            .collect(),
    }
}

fn param_to_proto(p: &FunctionParameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}

/// Converts a function's definition to its wire form.
pub(super) fn function_to_proto(f: &dyn Function) -> pb::Function {
    let d = f.definition();
    pb::Function {
        parameters: d.parameters.iter().map(param_to_proto).collect(),
        variadic_parameter: d.variadic.as_ref().map(param_to_proto),
        r#return: Some(pb::function::Return {
            r#type: d.return_type.to_json_bytes(),
        }),
        summary: d.summary,
        description: d.description,
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: d.deprecation.unwrap_or_default(),
    }
}

/// What this server supports beyond the protocol's minimum.
pub(super) fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;

    #[test]
    fn schema_encoding() {
        let s = Schema::new(
            Block::new()
                .description("A thing.")
                .attr(Attribute::string("id").computed().description("The ID."))
                .attr(Attribute::map("tags", Type::String).optional().sensitive())
                .attr(Attribute::string("old").optional().deprecated("Use new."))
                .attr(
                    Attribute::nested(
                        "rules",
                        NestingMode::Set,
                        Block::new().attr(Attribute::number("port").required()),
                    )
                    .optional(),
                )
                .block(
                    NestedBlock::new(
                        "timeouts",
                        NestingMode::List,
                        Block::new().attr(Attribute::string("create").optional()),
                    )
                    .max_items(1),
                ),
        )
        .with_version(2);
        let p = schema_to_proto(&s);
        assert_eq!(p.version, 2);
        let b = p.block.unwrap();
        assert_eq!(b.version, 2);
        assert_eq!(b.description_kind, pb::StringKind::Markdown as i32);
        let id = &b.attributes[0];
        assert_eq!(
            (id.name.as_str(), id.computed, id.optional),
            ("id", true, false)
        );
        assert_eq!(id.r#type, br#""string""#);
        assert_eq!(b.attributes[1].r#type, br#"["map","string"]"#);
        assert!(b.attributes[1].sensitive);
        assert!(b.attributes[2].deprecated);
        let rules = &b.attributes[3];
        assert!(rules.r#type.is_empty());
        let nt = rules.nested_type.as_ref().unwrap();
        assert_eq!(nt.nesting, pb::schema::object::NestingMode::Set as i32);
        assert_eq!(nt.attributes[0].r#type, br#""number""#);
        let tb = &b.block_types[0];
        assert_eq!(tb.type_name, "timeouts");
        assert_eq!(
            tb.nesting,
            pb::schema::nested_block::NestingMode::List as i32
        );
        assert_eq!(tb.max_items, 1);
    }

    #[test]
    fn dynamic_values_decode_from_msgpack_or_json() {
        let ty = Type::object([("a", Type::String), ("n", Type::Number)]);
        let json = pb::DynamicValue {
            msgpack: vec![],
            json: br#"{"a":"x","n":1e400}"#.to_vec(),
        };
        let v = decode_dv(Some(&json), &ty, "state").unwrap();
        assert_eq!(v.get("a").as_str(), Some("x"));
        assert_eq!(v.get("n").to_json(), serde_json::json!("1e400"));
        let mp = encode_dv(&v, &ty, "state").unwrap();
        assert_eq!(decode_dv(Some(&mp), &ty, "state").unwrap(), v);
        assert!(decode_dv(None, &ty, "state").unwrap().is_null());
        let bad = pb::DynamicValue {
            msgpack: vec![0x92],
            json: vec![],
        };
        let d = decode_dv(Some(&bad), &ty, "state").unwrap_err();
        assert!(d.has_errors());
        assert!(!d.0[0].detail.contains("panicked"));
    }

    #[test]
    fn diagnostics_encoding() {
        let d = Diagnostics(vec![
            Diagnostic::error("bad", "why").at(AttrPath::root("a").index(2).key("k")),
            Diagnostic::warning("meh", ""),
        ]);
        let p = diags_to_proto(&d);
        assert_eq!(p[0].severity, 1);
        assert_eq!(p[1].severity, 2);
        use pb::attribute_path::step::Selector;
        let steps: Vec<_> = p[0]
            .attribute
            .as_ref()
            .unwrap()
            .steps
            .iter()
            .map(|s| s.selector.clone().unwrap())
            .collect();
        assert_eq!(
            steps,
            vec![
                Selector::AttributeName("a".into()),
                Selector::ElementKeyInt(2),
                Selector::ElementKeyString("k".into())
            ]
        );
        assert!(p[1].attribute.is_none());
    }
}
