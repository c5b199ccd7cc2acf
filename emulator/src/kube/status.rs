//! Kubernetes `Status` errors: an HTTP status and a `Status` object
//! (`NotFound`, `AlreadyExists`, `BadRequest`, `Invalid`, `Unauthorized`).
//!
//! This module owns only the error format; the store, the patches and the
//! handlers raise them.

use serde_json::{Map, Value, json};

use super::kind::Kind;

/// A Kubernetes error: an HTTP status and a `Status` object.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeStatus {
    /// HTTP status.
    pub code: u16,
    /// The `Status` body.
    pub body: Value,
}

pub(crate) fn status(
    code: u16,
    reason: &str,
    message: String,
    kind: Option<Kind>,
    name: &str,
) -> KubeStatus {
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), name.into());
    }
    if let Some(k) = kind {
        details.insert("kind".into(), k.plural().into());
    }
    KubeStatus {
        code,
        body: json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details,
            "code": code,
        }),
    }
}

pub(crate) fn not_found(kind: Kind, name: &str) -> KubeStatus {
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", kind.plural()),
        Some(kind),
        name,
    )
}

pub(crate) fn bad_request(message: impl Into<String>) -> KubeStatus {
    status(400, "BadRequest", message.into(), None, "")
}
