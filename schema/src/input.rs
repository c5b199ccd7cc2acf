//! A configuration value as planning sees it: absent, not yet known, or known.
//!
//! Owns: the three-state [`Input`] type used by plan-time rules, so that rules
//! never treat a value that is only known at apply time as absent.

/// One configuration value at plan time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input<T> {
    /// The attribute is not set (null).
    #[default]
    Null,
    /// The attribute is set to a value that will only be known during apply.
    Unknown,
    /// The attribute is set to this value.
    Known(T),
}

impl<T> Input<T> {
    /// True when the attribute is set, known or not.
    pub fn is_set(&self) -> bool {
        !matches!(self, Input::Null)
    }

    /// The value when it is known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Input::Known(v) => Some(v),
            _ => None,
        }
    }

    /// True when the value is known (or null), so a rule can decide now.
    pub fn is_decided(&self) -> bool {
        !matches!(self, Input::Unknown)
    }
}
