//! Terraform values and types, independent of the wire.
//!
//! Owns: the `Type` and `Value` model (including unknown at any depth),
//! arbitrary-precision `Number`s, attribute paths, cty's JSON type syntax and
//! conversion of values to and from JSON (state upgrade, typed state, JSON
//! `DynamicValue`s). Does not own: msgpack encoding (see `codec`), schemas
//! (see `schema`).

mod error;
mod json;
mod model;
mod number;
mod path;
mod types;

pub use error::ValueError;
pub use model::Value;
pub use number::Number;
pub use path::{AttrPath, PathStep};
pub use types::Type;
