//! Schema, validation and configuration RPCs: what the provider offers,
//! whether a configuration is valid, and configuring the provider.
//!
//! Owns: the order of framework steps in these RPCs (schema validation
//! before the provider's own). Does not own: resource lifecycles (see
//! `resource`) or wire conversions (see `wire`).

use tonic::{Request, Response};

use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::schema::validate_block;
use crate::value::AttrPath;

use super::service::{ProviderService, Res, tri};
use super::wire::{capabilities, decode_dv, diags_to_proto, function_to_proto, schema_to_proto};

pub(super) async fn metadata(
    svc: &ProviderService,
    _r: Request<pb::get_metadata::Request>,
) -> Res<pb::get_metadata::Response> {
    use pb::get_metadata as m;
    Ok(Response::new(m::Response {
        server_capabilities: Some(capabilities()),
        diagnostics: vec![],
        data_sources: svc
            .data_sources
            .keys()
            .map(|k| m::DataSourceMetadata {
                type_name: k.clone(),
            })
            .collect(),
        resources: svc
            .resources
            .keys()
            .map(|k| m::ResourceMetadata {
                type_name: k.clone(),
            })
            .collect(),
        functions: svc
            .functions
            .keys()
            .map(|k| m::FunctionMetadata { name: k.clone() })
            .collect(),
        ephemeral_resources: svc
            .ephemerals
            .keys()
            .map(|k| m::EphemeralMetadata {
                type_name: k.clone(),
            })
            .collect(),
        list_resources: svc
            .lists
            .keys()
            .map(|k| m::ListResourceMetadata {
                type_name: k.clone(),
            })
            .collect(),
    }))
}

pub(super) async fn provider_schema(
    svc: &ProviderService,
    _r: Request<pb::get_provider_schema::Request>,
) -> Res<pb::get_provider_schema::Response> {
    Ok(Response::new(pb::get_provider_schema::Response {
        provider: Some(schema_to_proto(&svc.provider_schema)),
        resource_schemas: svc
            .resources
            .iter()
            .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
            .collect(),
        data_source_schemas: svc
            .data_sources
            .iter()
            .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
            .collect(),
        diagnostics: vec![],
        provider_meta: None,
        server_capabilities: Some(capabilities()),
        functions: svc
            .functions
            .iter()
            .map(|(k, f)| (k.clone(), function_to_proto(f.as_ref())))
            .collect(),
        ephemeral_resource_schemas: svc
            .ephemerals
            .iter()
            .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
            .collect(),
        list_resource_schemas: svc
            .lists
            .iter()
            .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
            .collect(),
    }))
}

pub(super) async fn validate_provider(
    svc: &ProviderService,
    r: Request<pb::validate_provider_config::Request>,
) -> Res<pb::validate_provider_config::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let out = |d: &Diagnostics| {
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_proto(d),
        }))
    };
    let cfg = match decode_dv(r.config.as_ref(), &svc.provider_ty, "configuration") {
        Ok(v) => v,
        Err(d) => return out(&d),
    };
    validate_block(
        &svc.provider_schema.block,
        &cfg,
        &AttrPath::default(),
        &mut diags,
    );
    diags.extend(svc.provider.validate_config(&cfg).await);
    out(&diags)
}

pub(super) async fn validate_resource(
    svc: &ProviderService,
    r: Request<pb::validate_resource_config::Request>,
) -> Res<pb::validate_resource_config::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let d = async {
        let e = tri!(svc.resource(&r.type_name), diags, diags);
        let cfg = tri!(
            decode_dv(r.config.as_ref(), &e.ty, "configuration"),
            diags,
            diags
        );
        validate_block(&e.schema.block, &cfg, &AttrPath::default(), &mut diags);
        diags.extend(e.imp.validate(&svc.ctx(), &cfg).await);
        diags
    }
    .await;
    Ok(Response::new(pb::validate_resource_config::Response {
        diagnostics: diags_to_proto(&d),
    }))
}

pub(super) async fn validate_data_source(
    svc: &ProviderService,
    r: Request<pb::validate_data_resource_config::Request>,
) -> Res<pb::validate_data_resource_config::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    let d = async {
        let e = tri!(svc.data_source(&r.type_name), diags, diags);
        let cfg = tri!(
            decode_dv(r.config.as_ref(), &e.ty, "configuration"),
            diags,
            diags
        );
        validate_block(&e.schema.block, &cfg, &AttrPath::default(), &mut diags);
        diags.extend(e.imp.validate(&svc.ctx(), &cfg).await);
        diags
    }
    .await;
    Ok(Response::new(pb::validate_data_resource_config::Response {
        diagnostics: diags_to_proto(&d),
    }))
}

pub(super) async fn configure(
    svc: &ProviderService,
    r: Request<pb::configure_provider::Request>,
) -> Res<pb::configure_provider::Response> {
    let r = r.into_inner();
    let mut diags = Diagnostics::default();
    async {
        let cfg = tri!(
            decode_dv(r.config.as_ref(), &svc.provider_ty, "configuration"),
            diags
        );
        if let Ok(mut v) = svc.terraform_version.write() {
            *v = r.terraform_version.clone();
        }
        let data = tri!(
            svc.provider.configure(&cfg, &r.terraform_version).await,
            diags
        );
        if let Ok(mut d) = svc.data.write() {
            *d = Some(data);
        }
    }
    .await;
    Ok(Response::new(pb::configure_provider::Response {
        diagnostics: diags_to_proto(&diags),
    }))
}
