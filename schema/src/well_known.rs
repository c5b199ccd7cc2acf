//! The catalogue of well-known IAM policies (being written).
