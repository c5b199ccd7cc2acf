//! Why a value could not be converted or decoded: the one error type of
//! the value model, its JSON and msgpack codecs and typed conversion.

/// Why a value could not be converted or decoded.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The value does not have the shape the type asks for.
    #[error("{path}: expected {expected}, found {found}")]
    Mismatch {
        /// where in the value (`.a[0]`; empty for the root)
        path: String,
        /// what the type wanted
        expected: String,
        /// what was there
        found: String,
    },
    /// The bytes are not valid msgpack for the type.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// The text is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A type description (cty type JSON) could not be understood.
    #[error("invalid type description: {0}")]
    Type(String),
    /// Converting between a Rust struct and a value failed in serde.
    #[error("typed conversion: {0}")]
    Serde(#[source] serde_json::Error),
}
