//! Stored state RPCs: upgrading state and identities written by older
//! schema versions, identity schemas, and moves between resource types.
//!
//! Owns: reading stored JSON at full precision and handing older versions
//! to the resource's upgrader. Does not own: the resource lifecycle (see
//! `resource`).

use tonic::{Request, Response};

use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::provider::MoveRequest;
use crate::value::{Value, ValueError};

use super::service::{ProviderService, Res, tri};
use super::wire::{diags_to_proto, encode_dv, encode_identity, identity_to_proto};

pub(super) async fn upgrade_state(
    svc: &ProviderService,
    r: Request<pb::upgrade_resource_state::Request>,
) -> Res<pb::upgrade_resource_state::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let state = async {
        let e = tri!(svc.resource(&r.type_name), diags, None);
        let raw = r.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if !raw.flatmap.is_empty() {
                diags.error(
                    "Legacy state format not supported",
                    "This resource's state is in the flatmap format of Terraform 0.11 and older, which this provider cannot read. Remove it from state and import it again.",
                );
                return None;
            }
            // No stored state at all: upgrade to null.
            return encode_dv(&Value::Null, &e.ty, "state").ok();
        }
        let text = tri!(
            std::str::from_utf8(&raw.json).map_err(|e| Diagnostics::from(Diagnostic::error(
                "Invalid stored state",
                format!("The stored state is not UTF-8: {e}.")
            ))),
            diags,
            None
        );
        let value = if r.version == e.schema.version {
            // Same version: decode the text directly, keeping every digit.
            Value::from_json_str(text, &e.ty)
        } else {
            let json: serde_json::Value = tri!(
                serde_json::from_str(text).map_err(|err| Diagnostics::from(
                    Diagnostic::error("Invalid stored state", format!("The stored state is not valid JSON: {err}."))
                )),
                diags,
                None
            );
            let up = tri!(e.imp.upgrade_state(r.version, json).await, diags, None);
            Value::from_json(&up, &e.ty)
        };
        let value = tri!(
            value.map_err(|err| Diagnostics::from(Diagnostic::error(
                "Invalid stored state",
                format!("The stored state does not match the schema of {}: {err}.", r.type_name)
            ))),
            diags,
            None
        );
        Some(tri!(encode_dv(&value, &e.ty, "state"), diags, None))
    }
    .await;
    Ok(Response::new(pb::upgrade_resource_state::Response {
        upgraded_state: state,
        diagnostics: diags_to_proto(&diags),
    }))
}

pub(super) async fn identity_schemas(
    svc: &ProviderService,
    _r: Request<pb::get_resource_identity_schemas::Request>,
) -> Res<pb::get_resource_identity_schemas::Response> {
    Ok(Response::new(pb::get_resource_identity_schemas::Response {
        identity_schemas: svc
            .resources
            .iter()
            .filter_map(|(k, e)| {
                e.identity
                    .as_ref()
                    .map(|(s, _)| (k.clone(), identity_to_proto(s)))
            })
            .collect(),
        diagnostics: vec![],
    }))
}

pub(super) async fn upgrade_identity(
    svc: &ProviderService,
    r: Request<pb::upgrade_resource_identity::Request>,
) -> Res<pb::upgrade_resource_identity::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let out = async {
        let e = tri!(svc.resource(&r.type_name), diags, None);
        let Some((s, ty)) = &e.identity else {
            diags.error(
                "Resource has no identity",
                format!(
                    "The resource type {} does not define an identity.",
                    r.type_name
                ),
            );
            return None;
        };
        // The stored JSON is in RawState.json (Terraform never sends a
        // flatmap identity).
        let raw = r.raw_identity.unwrap_or_default();
        let text = String::from_utf8_lossy(&raw.json);
        let invalid = |err: ValueError| {
            Diagnostics::from(Diagnostic::error(
                "Invalid stored identity",
                format!("{err}."),
            ))
        };
        let v = if r.version == s.version {
            tri!(
                Value::from_json_str(&text, ty).map_err(invalid),
                diags,
                None
            )
        } else {
            let json: serde_json::Value = tri!(
                serde_json::from_str(&text).map_err(|err| Diagnostics::from(Diagnostic::error(
                    "Invalid stored identity",
                    format!("The stored identity is not valid JSON: {err}.")
                ))),
                diags,
                None
            );
            let up = tri!(e.imp.upgrade_identity(r.version, json).await, diags, None);
            tri!(Value::from_json(&up, ty).map_err(invalid), diags, None)
        };
        Some(pb::ResourceIdentityData {
            identity_data: Some(tri!(encode_dv(&v, ty, "identity"), diags, None)),
        })
    }
    .await;
    Ok(Response::new(pb::upgrade_resource_identity::Response {
        upgraded_identity: out,
        diagnostics: diags_to_proto(&diags),
    }))
}

/// MoveResourceState: the source state (JSON of a schema this provider
/// does not know) goes to the target resource's `move_state`; what it
/// returns is encoded with the target's schema, as import and read are.
pub(super) async fn move_state(
    svc: &ProviderService,
    r: Request<pb::move_resource_state::Request>,
) -> Res<pb::move_resource_state::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut resp = pb::move_resource_state::Response::default();
    async {
        let e = tri!(svc.resource(&r.target_type_name), diags);
        let source_state = tri!(move_source_state(r.source_state.as_ref()), diags);
        let source_identity = tri!(move_source_identity(r.source_identity.as_ref()), diags);
        let out = e
            .imp
            .move_state(
                &svc.ctx(),
                MoveRequest {
                    source_provider_address: r.source_provider_address.clone(),
                    source_type_name: r.source_type_name.clone(),
                    source_schema_version: r.source_schema_version,
                    source_state,
                    source_private: r.source_private.clone(),
                    source_identity,
                },
            )
            .await;
        let refused = out.diagnostics.has_errors();
        diags.extend(out.diagnostics);
        if refused {
            return;
        }
        if out.target_state.is_null() {
            diags.error(
                "Move gave no state",
                format!(
                    "The resource type {} accepted the move of {} but gave no state. This is a bug in the provider.",
                    r.target_type_name, r.source_type_name
                ),
            );
            return;
        }
        resp.target_state = Some(tri!(
            encode_dv(&out.target_state, &e.ty, "moved state"),
            diags
        ));
        resp.target_private = out.target_private;
        resp.target_identity = tri!(
            encode_identity(out.target_identity.as_ref(), &out.target_state, e),
            diags
        );
    }
    .await;
    resp.diagnostics = diags_to_proto(&diags);
    Ok(Response::new(resp))
}

/// The source state of a move: the JSON of `RawState` (protocol 6
/// providers never write the flatmap form, so a flatmap one is refused).
fn move_source_state(raw: Option<&pb::RawState>) -> Result<serde_json::Value, Diagnostics> {
    let raw = raw.cloned().unwrap_or_default();
    if raw.json.is_empty() {
        let detail = if raw.flatmap.is_empty() {
            "Terraform sent no source state to move."
        } else {
            "The source state is in the flatmap format of Terraform 0.11 and older, which this provider cannot read. Upgrade the source resource's state with its own provider first, or remove it from state and import the object."
        };
        return Err(Diagnostic::error("Cannot read the state to move", detail).into());
    }
    serde_json::from_slice(&raw.json).map_err(|err| {
        Diagnostic::error(
            "Cannot read the state to move",
            format!("The source state is not valid JSON: {err}."),
        )
        .into()
    })
}

/// The source identity of a move, as JSON (Terraform sends it in the
/// `json` field, the source schema being unknown here); `None` without one.
fn move_source_identity(
    id: Option<&pb::ResourceIdentityData>,
) -> Result<Option<serde_json::Value>, Diagnostics> {
    let Some(dv) = id.and_then(|i| i.identity_data.as_ref()) else {
        return Ok(None);
    };
    if dv.json.is_empty() {
        // Only msgpack, which cannot be read without the source's schema.
        return Ok(None);
    }
    serde_json::from_slice(&dv.json).map(Some).map_err(|err| {
        Diagnostic::error(
            "Cannot read the identity to move",
            format!("The source identity is not valid JSON: {err}."),
        )
        .into()
    })
}
