//! Ephemeral resource RPCs: validate, open, renew and close.
//!
//! Owns: the framework steps around the ephemeral resource's own code.
//! Does not own: managed resources (see `resource`).

use tonic::{Request, Response};

use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::schema::validate_block;
use crate::value::AttrPath;

use super::service::{ProviderService, Res, tri};
use super::wire::{decode_dv, diags_to_proto, encode_dv};

pub(super) async fn validate(
    svc: &ProviderService,
    r: Request<pb::validate_ephemeral_resource_config::Request>,
) -> Res<pb::validate_ephemeral_resource_config::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    async {
        let e = tri!(svc.ephemeral(&r.type_name), diags);
        let cfg = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
        validate_block(&e.schema.block, &cfg, &AttrPath::default(), &mut diags);
        diags.extend(e.imp.validate(&svc.ctx(), &cfg).await);
    }
    .await;
    Ok(Response::new(
        pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        },
    ))
}

pub(super) async fn open(
    svc: &ProviderService,
    r: Request<pb::open_ephemeral_resource::Request>,
) -> Res<pb::open_ephemeral_resource::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut result = None;
    let mut private = None;
    async {
        let e = tri!(svc.ephemeral(&r.type_name), diags);
        let cfg = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
        let out = e.imp.open(&svc.ctx(), cfg).await;
        diags.extend(out.diagnostics);
        if diags.has_errors() {
            return;
        }
        let mut value = out.result;
        if !value.unknowns_to_null().is_empty() {
            diags.error(
                "Provider returned unknown values",
                "The ephemeral resource left attributes unknown after open. This is a bug in the provider.",
            );
            return;
        }
        result = Some(tri!(encode_dv(&value, &e.ty, "result"), diags));
        private = out.private;
    }
    .await;
    Ok(Response::new(pb::open_ephemeral_resource::Response {
        diagnostics: diags_to_proto(&diags),
        result,
        private,
        deferred: None,
    }))
}

pub(super) async fn renew(
    r: Request<pb::renew_ephemeral_resource::Request>,
) -> Res<pb::renew_ephemeral_resource::Response> {
    // Never asked for: open sends no renew_at. Answer by keeping the
    // private data as it is.
    let r = r.into_inner();
    Ok(Response::new(pb::renew_ephemeral_resource::Response {
        diagnostics: vec![],
        private: r.private,
    }))
}

pub(super) async fn close(
    svc: &ProviderService,
    r: Request<pb::close_ephemeral_resource::Request>,
) -> Res<pb::close_ephemeral_resource::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    async {
        let e = tri!(svc.ephemeral(&r.type_name), diags);
        if let Some(private) = r.private {
            diags.extend(e.imp.close(&svc.ctx(), private).await);
        }
    }
    .await;
    Ok(Response::new(pb::close_ephemeral_resource::Response {
        diagnostics: diags_to_proto(&diags),
    }))
}
