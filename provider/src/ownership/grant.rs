//! The grant every write to a role or an association takes: its own file so
//! that the AWS layer can name the type without depending on the gate's
//! rules, while only the gate (`crate::ownership`, this module's parent)
//! can make one.

/// How a write proves the object is this resource's to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// This resource's state records that it made the object.
    Recorded,
    /// This apply created it (or a create whose answer was lost did).
    CreatedNow,
    /// Left unfinished by a dead apply and taken over by the rules.
    Adopted,
    /// Named by the user's configuration for a change the resource records
    /// and can undo (the migration's trust statements).
    Named,
}

/// Permission to write one object, with its proof. Only the ownership gate
/// makes grants ([`issue`] is visible to it alone), so every write to a
/// role or an association has passed it.
#[derive(Debug, Clone)]
pub struct Grant {
    proof: Proof,
}

impl Grant {
    /// The proof this grant was given on.
    pub fn proof(&self) -> Proof {
        self.proof
    }
}

/// A grant on `proof`: for the gate's own use.
pub(in crate::ownership) fn issue(proof: Proof) -> Grant {
    Grant { proof }
}
