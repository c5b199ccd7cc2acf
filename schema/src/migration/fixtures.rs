//! Test fixtures shared by the migration modules' tests: two OIDC
//! providers and an IRSA trust statement.

use serde_json::{Value, json};

/// The OIDC provider of the cluster being migrated.
pub const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AAA";
/// Another cluster's OIDC provider.
pub const OTHER: &str =
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/BBB";

/// An IRSA trust statement for `provider` and the subject `sub`.
pub fn irsa(provider: &str, sub: &str) -> Value {
    let host = provider.split("oidc-provider/").nth(1).unwrap();
    json!({"Effect": "Allow", "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{host}:sub"): sub, format!("{host}:aud"): "sts.amazonaws.com"}}})
}
