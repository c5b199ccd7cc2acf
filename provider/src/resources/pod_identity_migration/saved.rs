//! What the migration changed, kept in Terraform's private state for
//! rollback, and the limits every step of the migration shares.
//!
//! Owns: [`Saved`] and its byte format, [`CONCURRENCY`] and
//! [`ADDON_TIMEOUT`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// How many roles, associations or annotations are worked on at once:
/// enough to keep a 500-service-account migration short, low enough to
/// stay under IAM's and EKS's default request rates (the SDK's standard
/// retry handles the rest).
pub(super) const CONCURRENCY: usize = 8;

/// How long the agent install and an addon switch may take. EKS addons
/// usually settle within two minutes; 15 minutes is the AWS provider's
/// default addon timeout.
pub(super) const ADDON_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What the migration changed, kept in private state for rollback: never
/// shown, never overwritten once saved (a re-run keeps the first original).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(super) struct Saved {
    /// Role ARN → its trust policy before the migration first changed it.
    pub(super) trust: BTreeMap<String, String>,
    /// `namespace/name` → the role ARN of the annotation it removed.
    pub(super) annotations: BTreeMap<String, String>,
    /// Addon → its IRSA role before the switch.
    pub(super) addons: BTreeMap<String, String>,
}

impl Saved {
    /// The saved changes; unreadable bytes (or none) are nothing saved.
    pub(super) fn from_bytes(b: &[u8]) -> Saved {
        serde_json::from_slice(b).unwrap_or_default()
    }

    /// The bytes for private state.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_round_trips_and_tolerates_garbage() {
        let mut s = Saved::default();
        s.trust.insert("arn".into(), "{}".into());
        assert_eq!(Saved::from_bytes(&s.to_bytes()), s);
        assert_eq!(Saved::from_bytes(b"not json"), Saved::default());
        assert_eq!(Saved::from_bytes(b""), Saved::default());
    }
}
