//! The kinds of object a cluster's Kubernetes API serves, with their
//! `kind` and plural (path) names.
//!
//! This module owns only the names; the store keeps the objects.

/// The two kinds of object served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// core/v1 Namespace (cluster-scoped).
    Namespace,
    /// core/v1 ServiceAccount (namespaced).
    ServiceAccount,
}

impl Kind {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::ServiceAccount => "ServiceAccount",
        }
    }

    pub(crate) fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::ServiceAccount => "serviceaccounts",
        }
    }

    pub(crate) fn from_kind(kind: &str) -> Option<Kind> {
        match kind {
            "Namespace" => Some(Kind::Namespace),
            "ServiceAccount" => Some(Kind::ServiceAccount),
            _ => None,
        }
    }
}
