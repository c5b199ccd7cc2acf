//! Schemas: what a provider, resource or data source accepts and stores.
//!
//! Owns: the builder model (`Schema`, `Block`, `Attribute`, `NestedBlock`),
//! the types implied by a schema, plan hints (requires-replace,
//! use-state-for-unknown, defaults) and attribute validators with the walk
//! that runs them. Does not own: the wire form (see `server`) or planning
//! (see `plan`).

use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics};
use crate::value::{AttrPath, Type, Value};

/// A versioned schema: the version drives state upgrades.
#[derive(Clone, Default)]
pub struct Schema {
    /// schema version (state written with an older version is upgraded)
    pub version: i64,
    /// top-level block
    pub block: Block,
}

impl Schema {
    /// A schema with version 0.
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }
    /// Sets the version.
    pub fn with_version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }
    /// The object type of values conforming to this schema.
    pub fn ty(&self) -> Type {
        self.block.ty()
    }
}

/// A set of attributes and nested blocks.
#[derive(Clone, Default)]
pub struct Block {
    /// attributes, in declaration order
    pub attributes: Vec<Attribute>,
    /// nested blocks
    pub blocks: Vec<NestedBlock>,
    /// markdown description
    pub description: String,
    /// whether the block is deprecated
    pub deprecated: bool,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Block::default()
    }
    /// Sets the markdown description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// Adds an attribute.
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    /// Adds a nested block.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    /// Marks the block deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
    /// Looks up an attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    /// The object type of this block.
    pub fn ty(&self) -> Type {
        let mut m = std::collections::BTreeMap::new();
        for a in &self.attributes {
            m.insert(a.name.clone(), a.ty());
        }
        for b in &self.blocks {
            m.insert(b.name.clone(), b.ty());
        }
        Type::Object(m)
    }
}

/// How a nested attribute or block holds its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestingMode {
    /// one object (or null)
    Single,
    /// a list of objects
    List,
    /// a set of objects
    Set,
    /// a map of objects
    Map,
    /// one object that is never null (blocks only; as `Single` for attributes)
    Group,
}

impl NestingMode {
    fn wrap(self, obj: Type) -> Type {
        match self {
            NestingMode::Single | NestingMode::Group => obj,
            NestingMode::List => Type::list(obj),
            NestingMode::Set => Type::set(obj),
            NestingMode::Map => Type::map(obj),
        }
    }
}

/// A validator: gets a known, non-null value; `Err` text becomes the detail.
pub type Validator = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync + 'static>;

/// One attribute of a block.
#[derive(Clone)]
pub struct Attribute {
    /// attribute name
    pub name: String,
    /// value type (for nested attributes, the implied type)
    pub ty: Type,
    /// nested attributes: nesting mode and the nested block (attributes only)
    pub nested: Option<(NestingMode, Block)>,
    /// must be set in configuration
    pub required: bool,
    /// may be set in configuration
    pub optional: bool,
    /// set by the provider (with `optional`: when not configured)
    pub computed: bool,
    /// hidden in plan output
    pub sensitive: bool,
    /// deprecation message, if deprecated
    pub deprecated: Option<String>,
    /// markdown description
    pub description: String,
    /// a change forces replacement
    pub requires_replace: bool,
    /// computed value keeps its prior state value in plans instead of unknown
    pub use_state_for_unknown: bool,
    /// value used when configuration leaves the attribute null
    pub default: Option<Value>,
    /// validators, run on known non-null configuration values
    pub validators: Vec<Validator>,
    /// semantic equality of string values: a proposed value equal in meaning
    /// to the prior one is planned as the prior one, before anything is
    /// decided (terraform-plugin-framework's semantic equality)
    pub semantic_equal: Option<fn(&str, &str) -> bool>,
    /// changing only this attribute makes no API call (a setting of the
    /// provider's own, such as timeouts or a conflict policy): it does not
    /// count when deciding whether computed attributes become unknown
    pub inert: bool,
}

impl Attribute {
    /// An attribute of any type; prefer the typed constructors.
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            nested: None,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: None,
            description: String::new(),
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
            validators: Vec::new(),
            semantic_equal: None,
            inert: false,
        }
    }
    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Attribute::new(name, Type::String)
    }
    /// A bool attribute.
    pub fn bool(name: &str) -> Self {
        Attribute::new(name, Type::Bool)
    }
    /// A number attribute.
    pub fn number(name: &str) -> Self {
        Attribute::new(name, Type::Number)
    }
    /// A list attribute.
    pub fn list(name: &str, elem: Type) -> Self {
        Attribute::new(name, Type::list(elem))
    }
    /// A set attribute.
    pub fn set(name: &str, elem: Type) -> Self {
        Attribute::new(name, Type::set(elem))
    }
    /// A map attribute.
    pub fn map(name: &str, elem: Type) -> Self {
        Attribute::new(name, Type::map(elem))
    }
    /// A nested attribute holding objects described by `block` (attributes only).
    pub fn nested(name: &str, mode: NestingMode, block: Block) -> Self {
        let mode = if mode == NestingMode::Group {
            NestingMode::Single
        } else {
            mode
        };
        let mut a = Attribute::new(name, mode.wrap(block.ty()));
        a.nested = Some((mode, block));
        a
    }
    /// Must be configured.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// May be configured.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    /// Set by the provider.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    /// Hidden in plan output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Deprecated, with a message saying what to use instead.
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.deprecated = Some(msg.into());
        self
    }
    /// Markdown description (user documentation; write sentences).
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// A change to this attribute replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// Computed value stays at its prior value in plans instead of unknown.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }
    /// String values equal in meaning by `f` are the same value: a proposed
    /// value that means the prior one is planned as the prior one.
    pub fn semantic_equality(mut self, f: fn(&str, &str) -> bool) -> Self {
        self.semantic_equal = Some(f);
        self
    }
    /// Changing only this attribute makes no API call: computed attributes
    /// stay known when nothing else changes.
    pub fn inert(mut self) -> Self {
        self.inert = true;
        self
    }
    /// Value planned when configuration leaves the attribute null (the
    /// attribute should be optional and computed).
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    /// Adds a validator.
    pub fn validator(
        mut self,
        f: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Arc::new(f));
        self
    }
    /// The value type.
    pub fn ty(&self) -> Type {
        self.ty.clone()
    }
}

/// A nested block.
#[derive(Clone)]
pub struct NestedBlock {
    /// block type name
    pub name: String,
    /// how the block repeats
    pub nesting: NestingMode,
    /// the block's content
    pub block: Block,
    /// minimum count (0: none)
    pub min_items: i64,
    /// maximum count (0: none)
    pub max_items: i64,
}

impl NestedBlock {
    /// A nested block.
    pub fn new(name: &str, nesting: NestingMode, block: Block) -> Self {
        NestedBlock {
            name: name.to_string(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
    /// Minimum number of blocks.
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }
    /// Maximum number of blocks.
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }
    /// The value type of the block.
    pub fn ty(&self) -> Type {
        self.nesting.wrap(self.block.ty())
    }
}

/// Runs validators (and deprecation warnings) over a configuration value.
pub(crate) fn validate_block(block: &Block, v: &Value, path: &AttrPath, out: &mut Diagnostics) {
    if !matches!(v, Value::Map(_)) {
        return;
    }
    for a in &block.attributes {
        let av = v.get(&a.name);
        let p = path_attr(path, &a.name);
        if av.is_null() || av.is_unknown() {
            continue;
        }
        if let Some(msg) = &a.deprecated {
            out.push(Diagnostic::warning("Argument is deprecated", msg.clone()).at(p.clone()));
        }
        if av.is_fully_known() {
            for f in &a.validators {
                if let Err(detail) = f(av) {
                    out.push(
                        Diagnostic::error(format!("Invalid value for {}", a.name), detail)
                            .at(p.clone()),
                    );
                }
            }
        }
        if let Some((mode, nb)) = &a.nested {
            walk_nested(*mode, nb, av, &p, out);
        }
    }
    for b in &block.blocks {
        let bv = v.get(&b.name);
        let p = path_attr(path, &b.name);
        walk_nested(b.nesting, &b.block, bv, &p, out);
    }
}

fn path_attr(path: &AttrPath, name: &str) -> AttrPath {
    path.clone().attr(name)
}

fn walk_nested(mode: NestingMode, b: &Block, v: &Value, p: &AttrPath, out: &mut Diagnostics) {
    match (mode, v) {
        (NestingMode::Single | NestingMode::Group, Value::Map(_)) => validate_block(b, v, p, out),
        (NestingMode::List, Value::List(l)) => {
            for (i, e) in l.iter().enumerate() {
                validate_block(b, e, &p.clone().index(i as i64), out);
            }
        }
        // Protocol 6 paths cannot name a set element: report at the set.
        (NestingMode::Set, Value::Set(l)) => {
            for e in l {
                validate_block(b, e, p, out);
            }
        }
        (NestingMode::Map, Value::Map(m)) => {
            for (k, e) in m {
                validate_block(b, e, &p.clone().key(k), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_types() {
        let s = Schema::new(
            Block::new()
                .attr(Attribute::string("id").computed())
                .attr(Attribute::nested(
                    "rules",
                    NestingMode::List,
                    Block::new().attr(Attribute::number("port").required()),
                ))
                .block(NestedBlock::new(
                    "timeouts",
                    NestingMode::Single,
                    Block::new().attr(Attribute::string("create").optional()),
                )),
        );
        assert_eq!(
            s.ty(),
            Type::object([
                ("id", Type::String),
                ("rules", Type::list(Type::object([("port", Type::Number)]))),
                ("timeouts", Type::object([("create", Type::String)])),
            ])
        );
    }

    #[test]
    fn validators_report_element_paths() {
        let b = Block::new().attr(Attribute::nested(
            "rules",
            NestingMode::List,
            Block::new().attr(Attribute::number("port").required().validator(
                |v| match v.as_i64() {
                    Some(p) if (1..=65535).contains(&p) => Ok(()),
                    _ => Err("port must be between 1 and 65535".into()),
                },
            )),
        ));
        let ty = b.ty();
        let v = Value::from_json(
            &serde_json::json!({"rules": [{"port": 80}, {"port": 0}]}),
            &ty,
        )
        .unwrap();
        let mut d = Diagnostics::default();
        validate_block(&b, &v, &AttrPath::default(), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].attribute,
            Some(AttrPath::root("rules").index(1).attr("port"))
        );
    }
}
