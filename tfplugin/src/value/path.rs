//! Attribute paths, as Terraform shows them in diagnostics.

use std::fmt;

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

impl AttrPath {
    /// A path starting at a top-level attribute.
    pub fn root(name: &str) -> Self {
        AttrPath(vec![PathStep::Attr(name.to_string())])
    }
    /// Appends `.name`.
    pub fn attr(mut self, n: &str) -> Self {
        self.0.push(PathStep::Attr(n.to_string()));
        self
    }
    /// Appends `[i]`.
    pub fn index(mut self, i: i64) -> Self {
        self.0.push(PathStep::Index(i));
        self
    }
    /// Appends `["k"]`.
    pub fn key(mut self, k: &str) -> Self {
        self.0.push(PathStep::Key(k.to_string()));
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                PathStep::Attr(a) if i == 0 => f.write_str(a)?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
