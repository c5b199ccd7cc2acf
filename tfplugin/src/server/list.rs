//! List resource RPCs (Terraform's `list` blocks and queries): validating a
//! list's configuration and streaming what it finds.
//!
//! Owns: the event stream (the provider's events, then one closing event
//! with its diagnostics), the placing of diagnostics inside the `config`
//! block, and turning a panic in the provider's list into an error event.
//! Does not own: the resource that is listed (see `resource`).

use tonic::{Request, Response, Status};

use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::provider::{ListEvent, ListRequest, ListSink};
use crate::schema::validate_block;
use crate::value::{AttrPath, PathStep, Type, Value};

use super::service::{ProviderService, Res, tri};
use super::wire::{decode_dv, diags_to_proto, encode_dv};

/// The stream of list events answered to `ListResource`.
pub(super) type EventStream = std::pin::Pin<
    Box<dyn futures_core::Stream<Item = Result<pb::list_resource::Event, Status>> + Send>,
>;

pub(super) async fn validate(
    svc: &ProviderService,
    r: Request<pb::validate_list_resource_config::Request>,
) -> Res<pb::validate_list_resource_config::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    async {
        let (l, _) = tri!(svc.list(&r.type_name), diags);
        let cfg = tri!(decode_dv(r.config.as_ref(), &l.ty, "configuration"), diags);
        let mut found = Diagnostics::default();
        validate_block(&l.schema.block, &cfg, &AttrPath::default(), &mut found);
        found.extend(l.imp.validate(&svc.ctx(), &cfg).await);
        diags.extend(in_list_config(found));
    }
    .await;
    Ok(Response::new(pb::validate_list_resource_config::Response {
        diagnostics: diags_to_proto(&diags),
    }))
}

pub(super) async fn list(
    svc: &ProviderService,
    r: Request<pb::list_resource::Request>,
) -> Res<EventStream> {
    use tokio_stream::StreamExt;
    let r = r.into_inner();
    let fail = |d: Diagnostics| -> Res<EventStream> {
        let event = pb::list_resource::Event {
            diagnostic: diags_to_proto(&d),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(event)))))
    };
    let (l, res) = match svc.list(&r.type_name) {
        Ok(found) => found,
        Err(d) => return fail(d),
    };
    let cfg = match decode_dv(r.config.as_ref(), &l.ty, "configuration") {
        Ok(v) => v,
        Err(d) => return fail(d),
    };
    let (imp, res_ty) = (l.imp.clone(), res.ty.clone());
    let id_ty = res
        .identity
        .as_ref()
        .map(|(_, t)| t.clone())
        .unwrap_or(Type::Dynamic);
    let ctx = svc.ctx();
    let req = ListRequest {
        config: cfg,
        include_resource_object: r.include_resource_object,
        limit: r.limit,
    };
    // The provider's events, then one without identity that carries
    // the diagnostics `list` returned (if any): Terraform skips an
    // event with only warnings and stops at one with errors.
    let (tx, rx) = tokio::sync::mpsc::channel::<ListEvent>(16);
    let end = tx.clone();
    let type_name = r.type_name.clone();
    tokio::spawn(async move {
        // In a task of its own, so that a panic in the provider's list
        // ends the stream with an error instead of an empty list.
        let listed = tokio::spawn(async move {
            let mut sink = ListSink::new(tx, req.limit);
            imp.list(&ctx, req, &mut sink).await
        })
        .await;
        let d = listed.unwrap_or_else(|e| {
            Diagnostic::error(
                "The provider failed while listing",
                format!("Listing {type_name} stopped: {e}. This is a bug in the provider."),
            )
            .into()
        });
        if !d.is_empty() {
            let last = ListEvent {
                identity: Value::Null,
                display_name: String::new(),
                resource_object: None,
                diagnostics: in_list_config(d),
            };
            // Terraform may have stopped reading: nothing to tell then.
            let _ = end.send(last).await;
        }
    });
    let events = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(move |e| Ok(list_event_to_proto(e, &id_ty, &res_ty)));
    Ok(Response::new(Box::pin(events)))
}

fn in_list_config(d: Diagnostics) -> Diagnostics {
    Diagnostics(
        d.0.into_iter()
            .map(|mut d| {
                if let Some(p) = d.attribute.take() {
                    let mut steps = vec![PathStep::Attr("config".into())];
                    steps.extend(p.0);
                    d.attribute = Some(AttrPath(steps));
                }
                d
            })
            .collect(),
    )
}

/// One list event in its wire form. An event that cannot be encoded
/// becomes an error event (which ends Terraform's reading).
fn list_event_to_proto(e: ListEvent, id_ty: &Type, res_ty: &Type) -> pb::list_resource::Event {
    let mut diags = e.diagnostics;
    // No identity: the closing event that carries only diagnostics.
    let identity = match (!e.identity.is_null()).then(|| encode_dv(&e.identity, id_ty, "identity"))
    {
        None => None,
        Some(Ok(dv)) => Some(pb::ResourceIdentityData {
            identity_data: Some(dv),
        }),
        Some(Err(d)) => {
            diags.extend(d);
            None
        }
    };
    let resource_object = match e
        .resource_object
        .map(|o| encode_dv(&o, res_ty, "resource object"))
    {
        Some(Ok(dv)) => Some(dv),
        Some(Err(d)) => {
            diags.extend(d);
            None
        }
        None => None,
    };
    pb::list_resource::Event {
        identity,
        display_name: e.display_name,
        resource_object,
        diagnostic: diags_to_proto(&diags),
    }
}
