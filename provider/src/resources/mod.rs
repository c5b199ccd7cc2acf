//! The provider's resources, one folder each (a file a step: plan, apply,
//! read, import, and the state they share), and the few helpers every
//! resource's apply needs (so that no resource writes them again). No
//! resource imports another: what two share lives in `crate::aws`,
//! `crate::made_role` or `crate::spec_map`.
pub mod addon_pod_identity;
pub mod pod_identity_association;
pub mod pod_identity_migration;

use crate::aws::Clients;
use crate::spec_map;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, Diagnostic, Diagnostics, ReadRequest, ReadResponse, Value,
};

/// The diagnostic for a call before ConfigureProvider.
pub(crate) fn unconfigured() -> Diagnostic {
    Diagnostic::error(
        "Provider not configured",
        "The eks provider was used before its configuration was applied. This is a bug in the provider or Terraform.",
    )
}

/// The configured clients and the typed state of `v`.
pub(crate) fn setup<T: DeserializeOwned>(
    ctx: &Ctx,
    v: &Value,
) -> Result<(Arc<Clients>, T), Diagnostic> {
    let clients = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let state = spec_map::from_value(v, "state")?;
    Ok((clients, state))
}

/// The typed prior state of an update.
pub(crate) fn prior_of<T: DeserializeOwned>(req: &ApplyRequest) -> Result<T, Diagnostic> {
    match &req.prior_state {
        Some(p) => spec_map::from_value(p, "prior state"),
        None => Err(Diagnostic::error(
            "Update without prior state",
            "This is a bug in the provider.",
        )),
    }
}

/// An apply response with no state yet.
pub(crate) fn empty_response() -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        private: vec![],
        diagnostics: Diagnostics::default(),
        identity: None,
    }
}

/// `resp` with one more (error) diagnostic.
pub(crate) fn with_error(mut resp: ApplyResponse, d: Diagnostic) -> ApplyResponse {
    resp.diagnostics.push(d);
    resp
}

/// The start of every read: a response that keeps the state as it is, the
/// configured clients and the typed prior state; or, when those cannot be
/// had, the response with the error.
pub(crate) fn read_setup<T: DeserializeOwned>(
    ctx: &Ctx,
    req: ReadRequest,
) -> Result<(ReadResponse, Arc<Clients>, T), ReadResponse> {
    let mut resp = ReadResponse {
        new_state: Some(req.state.clone()),
        private: req.private,
        diagnostics: Diagnostics::default(),
        identity: req.identity,
    };
    match setup::<T>(ctx, &req.state) {
        Ok((clients, prior)) => Ok((resp, clients, prior)),
        Err(d) => {
            resp.diagnostics.push(d);
            Err(resp)
        }
    }
}
