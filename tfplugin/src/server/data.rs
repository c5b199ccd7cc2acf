//! Data source and provider function RPCs.
//!
//! Owns: reading a data source (nothing left unknown) and calling a
//! function (arguments decoded by their parameter's type, errors as
//! function errors rather than diagnostics). Does not own: managed
//! resources (see `resource`).

use tonic::{Request, Response};

use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;

use super::service::{ProviderService, Res, tri};
use super::wire::{decode_dv, diags_to_proto, encode_dv, function_to_proto};

pub(super) async fn read(
    svc: &ProviderService,
    r: Request<pb::read_data_source::Request>,
) -> Res<pb::read_data_source::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let mut state = None;
    async {
        let e = tri!(svc.data_source(&r.type_name), diags);
        let cfg = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
        let mut out = e.imp.read(&svc.ctx(), cfg).await;
        diags.extend(out.diagnostics);
        let left = out.state.unknowns_to_null();
        if !left.is_empty() {
            diags.error(
                "Provider returned unknown values",
                "The data source left attributes unknown after read. This is a bug in the provider.",
            );
        }
        state = Some(tri!(encode_dv(&out.state, &e.ty, "data"), diags));
    }
    .await;
    Ok(Response::new(pb::read_data_source::Response {
        state,
        diagnostics: diags_to_proto(&diags),
        deferred: None,
    }))
}

pub(super) async fn functions(
    svc: &ProviderService,
    _r: Request<pb::get_functions::Request>,
) -> Res<pb::get_functions::Response> {
    Ok(Response::new(pb::get_functions::Response {
        functions: svc
            .functions
            .iter()
            .map(|(k, f)| (k.clone(), function_to_proto(f.as_ref())))
            .collect(),
        diagnostics: vec![],
    }))
}

pub(super) async fn call_function(
    svc: &ProviderService,
    r: Request<pb::call_function::Request>,
) -> Res<pb::call_function::Response> {
    let r = r.into_inner();
    let ferr = |text: String, argument: Option<i64>| {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text,
                function_argument: argument,
            }),
        }))
    };
    let Some(f) = svc.functions.get(&r.name) else {
        return ferr(format!("This provider has no function {:?}.", r.name), None);
    };
    let def = f.definition();
    let mut args = Vec::with_capacity(r.arguments.len());
    for (i, a) in r.arguments.iter().enumerate() {
        let param = def.parameters.get(i).or(def.variadic.as_ref());
        let Some(param) = param else {
            return ferr("Too many arguments.".into(), Some(i as i64));
        };
        match decode_dv(Some(a), &param.ty, "argument") {
            Ok(v) => args.push(v),
            Err(_) => return ferr("Invalid argument value.".into(), Some(i as i64)),
        }
    }
    match f.call(args).await {
        Ok(v) => match encode_dv(&v, &def.return_type, "result") {
            Ok(dv) => Ok(Response::new(pb::call_function::Response {
                result: Some(dv),
                error: None,
            })),
            Err(_) => ferr(
                "The function returned a value of the wrong type. This is a bug in the provider."
                    .into(),
                None,
            ),
        },
        Err(e) => ferr(e.text, e.argument),
    }
}
