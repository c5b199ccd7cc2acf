//! The description of a resource, data source or provider configuration.
//!
//! Owns: [`ResourceSpec`], [`Attr`], [`BlockSpec`] and [`Problem`] — our own
//! model of a schema, written once per resource next to its state struct and
//! turned into Terraform's schema by the provider crate (and into docs).
//! Descriptions are user documentation: whole sentences.

/// The value type of an attribute.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A string.
    String,
    /// A bool.
    Bool,
    /// A whole number.
    Number,
    /// A map of strings.
    StringMap,
    /// A set of strings.
    StringSet,
    /// A list of strings.
    StringList,
    /// A computed list of objects with these attributes.
    ObjectList(Vec<Attr>),
    /// A list nested attribute: objects the user writes, each attribute with
    /// its own mode (so an omitted list and an empty one differ).
    NestedList(Vec<Attr>),
    /// One object the user writes (`x = { key = [...] }`), null when left
    /// out: its attributes are optional string sets. Terraform sees a map of
    /// string sets (a single nested attribute crashes Terraform 1.0.x), and
    /// the provider checks its keys.
    NestedObject(Vec<Attr>),
}

/// Who sets an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The user must set it.
    Required,
    /// The user may set it.
    Optional,
    /// Only the provider sets it.
    Computed,
    /// The user may set it; otherwise the provider does.
    OptionalComputed,
}

/// A check of one known string value; the error says what is wrong and how to fix it.
pub type StringCheck = fn(&str) -> Result<(), String>;

/// One attribute.
#[derive(Debug, Clone)]
pub struct Attr {
    /// Attribute name, equal to the state struct's field name.
    pub name: &'static str,
    /// Value type.
    pub kind: Kind,
    /// Who sets it.
    pub mode: Mode,
    /// User documentation (markdown).
    pub description: &'static str,
    /// A change replaces the resource.
    pub replace: bool,
    /// A computed value that does not change once set (plans keep the prior value).
    pub stable: bool,
    /// Never shown in plans or logs.
    pub sensitive: bool,
    /// Default when the user leaves it null.
    pub default: Option<serde_json::Value>,
    /// Syntax check for string values (and each element of string sets/lists/maps).
    pub check: Option<StringCheck>,
    /// Two string values that mean the same (a policy's JSON with other
    /// whitespace or key order): a plan keeps the prior text, and nothing
    /// changes because of the rewrite.
    pub equivalent: Option<fn(&str, &str) -> bool>,
    /// Changing only this attribute makes no AWS call (a setting of how the
    /// provider calls, such as a conflict policy): computed attributes stay
    /// known when nothing else changes.
    pub inert: bool,
}

impl Attr {
    fn new(name: &'static str, kind: Kind, mode: Mode, description: &'static str) -> Self {
        Attr {
            name,
            kind,
            mode,
            description,
            replace: false,
            stable: false,
            sensitive: false,
            default: None,
            check: None,
            equivalent: None,
            inert: false,
        }
    }
    /// A required attribute.
    pub fn required(name: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Mode::Required, description)
    }
    /// An optional attribute.
    pub fn optional(name: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Mode::Optional, description)
    }
    /// A computed attribute.
    pub fn computed(name: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Mode::Computed, description)
    }
    /// An optional attribute the provider fills when absent.
    pub fn optional_computed(name: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Mode::OptionalComputed, description)
    }
    /// A change forces replacement.
    pub fn replace(mut self) -> Self {
        self.replace = true;
        self
    }
    /// Once known, the value is kept in plans.
    pub fn stable(mut self) -> Self {
        self.stable = true;
        self
    }
    /// Sensitive value.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Default value; makes the attribute optional+computed on the wire.
    pub fn default(mut self, v: serde_json::Value) -> Self {
        self.default = Some(v);
        self
    }
    /// Syntax check of string values.
    pub fn check(mut self, f: StringCheck) -> Self {
        self.check = Some(f);
        self
    }
    /// Values equal by `f` mean the same (see [`Attr::equivalent`]).
    pub fn equivalent_by(mut self, f: fn(&str, &str) -> bool) -> Self {
        self.equivalent = Some(f);
        self
    }
    /// Changing only this attribute makes no AWS call (see [`Attr::inert`]).
    pub fn inert(mut self) -> Self {
        self.inert = true;
        self
    }
}

/// A single nested block (such as `assume_role {}`).
#[derive(Debug, Clone)]
pub struct BlockSpec {
    /// Block name.
    pub name: &'static str,
    /// User documentation.
    pub description: &'static str,
    /// Its attributes.
    pub attrs: Vec<Attr>,
}

/// A resource, data source or provider configuration.
#[derive(Debug, Clone)]
pub struct ResourceSpec {
    /// Type name, such as `eks_pod_identity_association`.
    pub name: &'static str,
    /// User documentation of the whole resource.
    pub description: &'static str,
    /// Schema version (state upgrades).
    pub version: i64,
    /// Attributes.
    pub attrs: Vec<Attr>,
    /// Single nested blocks.
    pub blocks: Vec<BlockSpec>,
}

impl ResourceSpec {
    /// Names of all top-level attributes and blocks, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.attrs
            .iter()
            .map(|a| a.name)
            .chain(self.blocks.iter().map(|b| b.name))
            .collect()
    }
}

/// A problem found in configuration before any AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The attribute it concerns (top-level name).
    pub attr: &'static str,
    /// One-line summary.
    pub summary: String,
    /// What is wrong and how to fix it.
    pub detail: String,
    /// A warning: the plan goes on (a limit AWS may have raised, a size
    /// only AWS can judge), the user is told.
    pub warning: bool,
}

impl Problem {
    /// A problem with `attr` (an error).
    pub fn new(attr: &'static str, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem {
            attr,
            summary: summary.into(),
            detail: detail.into(),
            warning: false,
        }
    }

    /// A warning about `attr`.
    pub fn warning(
        attr: &'static str,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            warning: true,
            ..Problem::new(attr, summary, detail)
        }
    }
}

#[cfg(test)]
pub(crate) mod twins {
    //! Shared test helper: a state struct and its spec have the same keys.
    use super::ResourceSpec;
    use serde::Serialize;

    /// Asserts that serializing `state` yields exactly the spec's attribute names.
    pub fn assert_twins<T: Serialize + Default>(spec: &ResourceSpec) {
        let json = serde_json::to_value(T::default()).unwrap_or_default();
        let mut keys: Vec<String> = json
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let mut names: Vec<String> = spec.names().iter().map(|s| s.to_string()).collect();
        keys.sort();
        names.sort();
        assert_eq!(
            keys, names,
            "state struct and schema of {} differ",
            spec.name
        );
    }
}
