//! What the migration changed, kept in Terraform's private state for
//! rollback, and the limits every step of the migration shares.
//!
//! Owns: [`Saved`] and its byte format, reading what an earlier apply
//! recorded (the stored state and [`Saved`]) with an error that says how to
//! recover when it cannot be read, [`CONCURRENCY`] and [`ADDON_TIMEOUT`].

use schema::migration::MigrationState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tfplugin::{Diagnostic, Value};

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
    /// The saved changes; no bytes are nothing saved. Bytes that are not
    /// a record are an error, never taken for nothing saved: an apply would
    /// then overwrite the originals rollback restores.
    pub(super) fn from_bytes(b: &[u8]) -> Result<Saved, serde_json::Error> {
        if b.is_empty() {
            return Ok(Saved::default());
        }
        serde_json::from_slice(b)
    }

    /// The bytes for private state.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What was saved for rollback in private state, or an error diagnostic
/// saying that it cannot be read and how to recover (`cluster` names the
/// migration).
pub(super) fn read_saved(private: &[u8], cluster: &str) -> Result<Saved, Diagnostic> {
    Saved::from_bytes(private).map_err(|e| {
        Diagnostic::error(
            format!("Unreadable rollback record of the migration of cluster {cluster}"),
            format!(
                "The provider could not read what the migration saved for rollback in its private state: {e}. It holds the original trust policies, service account annotations and addon roles that rollback restores, so nothing was done rather than overwrite or ignore it. To recover, restore the state from before this error (the backend's version history or terraform.tfstate.backup, then terraform state push). Without it, rollback cannot restore the originals: set rollback_on_destroy = false and undo the migration by hand (the roles' trust policies, the eks.amazonaws.com/role-arn annotations, the addons' service account roles)."
            ),
        )
    })
}

/// The stored state of a migration (`what`: "state", "prior state"), or an
/// error diagnostic saying that it cannot be read and how to recover.
pub(super) fn read_state(v: &Value, what: &str) -> Result<MigrationState, Diagnostic> {
    tfplugin::typed::from_value(v).map_err(|e| {
        let cluster = v.get("cluster_name").as_str().unwrap_or("(unknown)");
        Diagnostic::error(
            format!("Unreadable {what} of the migration of cluster {cluster}"),
            format!(
                "The provider could not read the stored {what} of eks_pod_identity_migration: {e}. It records the associations the migration made and what it migrated, which drift checks and rollback need, so nothing was done rather than lose it. To recover, restore the state from before this error (the backend's version history or terraform.tfstate.backup, then terraform state push), or use the provider version that wrote it. If no good copy remains, terraform state rm this resource and apply again: the migration finds what is migrated already, but rollback then cannot undo the earlier apply."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_round_trips_and_nothing_is_nothing_saved() {
        let mut s = Saved::default();
        s.trust.insert("arn".into(), "{}".into());
        assert_eq!(Saved::from_bytes(&s.to_bytes()).unwrap(), s);
        assert_eq!(Saved::from_bytes(b"").unwrap(), Saved::default());
    }

    #[test]
    fn unreadable_rollback_record_is_an_error_that_says_how_to_recover() {
        let d = read_saved(b"not json", "prod").unwrap_err();
        assert_eq!(d.severity, tfplugin::Severity::Error);
        assert!(d.summary.contains("rollback record"), "{}", d.summary);
        assert!(d.summary.contains("prod"), "{}", d.summary);
        assert!(d.detail.contains("private state"), "{}", d.detail);
        assert!(d.detail.contains("terraform state push"), "{}", d.detail);
        assert!(
            d.detail.contains("rollback_on_destroy = false"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn unreadable_stored_state_is_an_error_that_says_how_to_recover() {
        let mut v = Value::Null;
        v.set("cluster_name", Value::string("prod"));
        v.set("rollback_on_destroy", Value::string("not a bool"));
        let d = read_state(&v, "prior state").unwrap_err();
        assert_eq!(d.severity, tfplugin::Severity::Error);
        assert_eq!(
            d.summary,
            "Unreadable prior state of the migration of cluster prod"
        );
        assert!(d.detail.contains("rollback"), "{}", d.detail);
        assert!(d.detail.contains("terraform state push"), "{}", d.detail);
    }
}
