//! Terraform values and types, independent of the wire.
//!
//! Owns: the `Type` and `Value` model (including unknown at any depth), attribute
//! paths, and conversion to and from JSON (for state upgrade and typed state).
//! Does not own: msgpack encoding (see `codec`), schemas (see `schema`).

use std::collections::BTreeMap;

/// A Terraform type (cty type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `dynamic` (any type; encoded with its concrete type on the wire)
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`; optional attributes are listed in the second field.
    Object(BTreeMap<String, Type>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

/// An arbitrary-precision number, kept as its decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(String);

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

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `.name`
    Attr(String),
    /// `["key"]`
    Key(String),
    /// `[3]`
    Index(i64),
}

/// A path to an attribute, as Terraform shows it in diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttrPath(pub Vec<PathStep>);
