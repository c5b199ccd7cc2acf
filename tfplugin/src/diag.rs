//! Diagnostics: how problems travel back to Terraform.
//!
//! Owns: `Severity`, `Diagnostic` and `Diagnostics`. Problems are values inside
//! responses, never transport errors, and never carry backtraces or `Debug`
//! dumps. Does not own: their wire form (see `server`).

use crate::value::AttrPath;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown to the user; the operation goes on.
    Warning,
}

/// One problem report, optionally pointing at an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// error or warning
    pub severity: Severity,
    /// one line, shown first
    pub summary: String,
    /// the cause and what to do
    pub detail: String,
    /// the attribute it is about, if any
    pub attribute: Option<AttrPath>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }
    /// A warning diagnostic.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }
    /// Points the diagnostic at an attribute.
    pub fn at(mut self, path: AttrPath) -> Self {
        self.attribute = Some(path);
        self
    }
}

/// A list of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// Adds all of another list.
    pub fn extend(&mut self, o: Diagnostics) {
        self.0.extend(o.0);
    }
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    /// Adds an error.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }
    /// Adds a warning.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}
