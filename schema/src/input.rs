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

/// When a rule runs, which decides what an unknown value means to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Terraform's validate walk (`terraform validate`, and the start of
    /// every plan): module inputs, `each.value` and `count.index` are all
    /// still unknown, so a rule decides on known values only and leaves the
    /// rest to plan. An unknown value may turn out null (`var.x ? arn :
    /// null`), so it is never a conflict here.
    Validate,
    /// Planning (and apply, where every value is known): variables and
    /// `each.value` are known; a value still unknown comes from a resource
    /// not yet made and is almost always set, and the provider must decide
    /// now what the plan does, so a rule treats it as set where that is the
    /// safe reading (a conflict is reported, saying the value is not known
    /// yet).
    Plan,
}
