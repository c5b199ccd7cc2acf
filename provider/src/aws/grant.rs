//! The grant every write to a role or an association takes. It lives in
//! the AWS layer so that the layer names the type without depending on the
//! gate above it; only the gate (`crate::ownership`) makes one, which
//! `ownership`'s test `grants_are_issued_only_by_the_gate` holds (Rust's
//! visibility cannot name a module that is not an ancestor).

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
    /// Stated by the user: a `moved` block handed this very role (IAM's
    /// RoleId as the moved state records it) to the resource, which tags it
    /// as its own (`crate::ownership::moved`).
    Moved,
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

/// A grant on `proof`: for the gate's own use (see the module doc).
pub(crate) fn issue(proof: Proof) -> Grant {
    Grant { proof }
}
