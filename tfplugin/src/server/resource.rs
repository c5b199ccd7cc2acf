//! Managed resource lifecycle RPCs: read, plan, apply (create, update,
//! delete) and import.
//!
//! Owns: the framework steps around the resource's own code (framework
//! planning before the resource plans, checks that apply left nothing
//! unknown, identities derived from state). Does not own: state upgrades and
//! identities at rest (see `upgrade`).

use tonic::{Request, Response};

use crate::diag::Diagnostics;
use crate::plan;
use crate::proto::tfplugin6 as pb;
use crate::provider::{
    ApplyRequest, DeleteRequest, ImportRequest, PlanRequest, PlanResponse, ReadRequest,
};
use crate::value::Value;

use super::service::{ProviderService, Res, tri};
use super::wire::{
    decode_dv, decode_identity, diags_to_proto, encode_dv, encode_identity, path_to_proto,
};

pub(super) async fn read(
    svc: &ProviderService,
    r: Request<pb::read_resource::Request>,
) -> Res<pb::read_resource::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut resp = pb::read_resource::Response {
        new_state: r.current_state.clone(),
        private: r.private.clone(),
        ..Default::default()
    };
    async {
        let e = tri!(svc.resource(&r.type_name), diags);
        let state = tri!(decode_dv(r.current_state.as_ref(), &e.ty, "state"), diags);
        let identity = tri!(decode_identity(r.current_identity.as_ref(), e), diags);
        let out = e
            .imp
            .read(
                &svc.ctx(),
                ReadRequest {
                    state,
                    private: r.private.clone(),
                    identity,
                },
            )
            .await;
        diags.extend(out.diagnostics);
        resp.private = out.private;
        let new_state = out.new_state.unwrap_or(Value::Null);
        resp.new_state = Some(tri!(encode_dv(&new_state, &e.ty, "state"), diags));
        if !new_state.is_null() {
            resp.new_identity = tri!(encode_identity(out.identity.as_ref(), &new_state, e), diags);
        }
    }
    .await;
    resp.diagnostics = diags_to_proto(&diags);
    Ok(Response::new(resp))
}

pub(super) async fn plan(
    svc: &ProviderService,
    r: Request<pb::plan_resource_change::Request>,
) -> Res<pb::plan_resource_change::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut resp = pb::plan_resource_change::Response {
        planned_state: r.proposed_new_state.clone(),
        planned_private: r.prior_private.clone(),
        ..Default::default()
    };
    async {
        let e = tri!(svc.resource(&r.type_name), diags);
        let prior = tri!(
            decode_dv(r.prior_state.as_ref(), &e.ty, "prior state"),
            diags
        );
        let proposed = tri!(
            decode_dv(r.proposed_new_state.as_ref(), &e.ty, "proposed state"),
            diags
        );
        let config = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
        let prior_identity = tri!(decode_identity(r.prior_identity.as_ref(), e), diags);
        let prior = if prior.is_null() { None } else { Some(prior) };
        let fp = plan::plan(&e.schema.block, prior.as_ref(), &config, &proposed);
        let mut out = PlanResponse {
            planned: fp.planned,
            requires_replace: fp.requires_replace,
            private: r.prior_private.clone(),
            diagnostics: Diagnostics::default(),
            // A destroyed object has no identity left to plan.
            identity: if proposed.is_null() {
                None
            } else {
                prior_identity.clone()
            },
        };
        if !proposed.is_null() {
            let req = PlanRequest {
                prior_state: prior,
                config,
                proposed,
                prior_private: r.prior_private.clone(),
                prior_identity,
            };
            e.imp.plan(&svc.ctx(), &req, &mut out).await;
        }
        diags.extend(out.diagnostics);
        resp.planned_state = Some(tri!(encode_dv(&out.planned, &e.ty, "planned state"), diags));
        resp.requires_replace = out.requires_replace.iter().map(path_to_proto).collect();
        resp.planned_private = out.private;
        // A plan's identity is the prior one (or the resource's): never
        // derived from a planned state, whose attributes may be unknown.
        resp.planned_identity = tri!(
            encode_identity(out.identity.as_ref(), &Value::Null, e),
            diags
        );
    }
    .await;
    resp.diagnostics = diags_to_proto(&diags);
    Ok(Response::new(resp))
}

pub(super) async fn apply(
    svc: &ProviderService,
    r: Request<pb::apply_resource_change::Request>,
) -> Res<pb::apply_resource_change::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut resp = pb::apply_resource_change::Response {
        new_state: r.prior_state.clone(),
        private: r.planned_private.clone(),
        ..Default::default()
    };
    async {
        let e = tri!(svc.resource(&r.type_name), diags);
        let prior = tri!(decode_dv(r.prior_state.as_ref(), &e.ty, "prior state"), diags);
        let planned = tri!(decode_dv(r.planned_state.as_ref(), &e.ty, "planned state"), diags);
        let config = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
        let identity = tri!(decode_identity(r.planned_identity.as_ref(), e), diags);
        let ctx = svc.ctx();
        if planned.is_null() {
            let d = e
                .imp
                .delete(&ctx, DeleteRequest { prior_state: prior, private: r.planned_private.clone() })
                .await;
            let failed = d.has_errors();
            diags.extend(d);
            if !failed {
                resp.new_state = Some(tri!(encode_dv(&Value::Null, &e.ty, "state"), diags));
            }
            return;
        }
        let req = ApplyRequest {
            prior_state: if prior.is_null() { None } else { Some(prior) },
            planned,
            config,
            private: r.planned_private.clone(),
            identity,
        };
        let mut out = if req.prior_state.is_none() {
            e.imp.create(&ctx, req).await
        } else {
            e.imp.update(&ctx, req).await
        };
        diags.extend(out.diagnostics);
        let left = out.new_state.unknowns_to_null();
        if !left.is_empty() {
            let paths: Vec<String> = left.iter().map(|p| p.to_string()).collect();
            diags.error(
                "Provider returned unknown values after apply",
                format!(
                    "The provider left these attributes unknown after apply: {}. This is a bug in the provider.",
                    paths.join(", ")
                ),
            );
        }
        resp.new_state = Some(tri!(encode_dv(&out.new_state, &e.ty, "new state"), diags));
        resp.private = out.private;
        resp.new_identity = tri!(
            encode_identity(out.identity.as_ref(), &out.new_state, e),
            diags
        );
    }
    .await;
    resp.diagnostics = diags_to_proto(&diags);
    Ok(Response::new(resp))
}

pub(super) async fn import(
    svc: &ProviderService,
    r: Request<pb::import_resource_state::Request>,
) -> Res<pb::import_resource_state::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut imported = Vec::new();
    async {
        let e = tri!(svc.resource(&r.type_name), diags);
        let identity = tri!(decode_identity(r.identity.as_ref(), e), diags);
        let out = e
            .imp
            .import(
                &svc.ctx(),
                ImportRequest {
                    id: r.id.clone(),
                    identity,
                },
            )
            .await;
        diags.extend(out.diagnostics);
        for i in out.imported {
            imported.push(pb::import_resource_state::ImportedResource {
                type_name: r.type_name.clone(),
                state: Some(tri!(encode_dv(&i.state, &e.ty, "imported state"), diags)),
                private: i.private,
                identity: tri!(encode_identity(i.identity.as_ref(), &i.state, e), diags),
            });
        }
    }
    .await;
    Ok(Response::new(pb::import_resource_state::Response {
        imported_resources: imported,
        diagnostics: diags_to_proto(&diags),
        deferred: None,
    }))
}
