//! Stored state RPCs: upgrading state and identities written by older
//! schema versions, identity schemas, and moves between resource types.
//!
//! Owns: reading stored JSON at full precision and handing older versions
//! to the resource's upgrader. Does not own: the resource lifecycle (see
//! `resource`).

use tonic::{Request, Response};

use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::value::{Value, ValueError};

use super::service::{ProviderService, Res, tri};
use super::wire::{diags_to_proto, encode_dv, identity_to_proto};

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

pub(super) async fn move_state(
    r: Request<pb::move_resource_state::Request>,
) -> Res<pb::move_resource_state::Response> {
    let r = r.into_inner();
    let d = Diagnostics::from(Diagnostic::error(
        "Move resource state not supported",
        format!(
            "This provider cannot move state from {} ({}) to {}.",
            r.source_type_name, r.source_provider_address, r.target_type_name
        ),
    ));
    Ok(Response::new(pb::move_resource_state::Response {
        diagnostics: diags_to_proto(&d),
        ..Default::default()
    }))
}
