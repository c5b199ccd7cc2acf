//! The service's registry: what the provider offers, read once at start.
//!
//! Owns: `ProviderService` (the provider, its schemas and types by name, the
//! configured data, the stop token), the lookups every RPC starts with and
//! the `tri!` shorthand the RPC bodies share. Does not own: any RPC's steps
//! (see the sibling modules) or wire conversions (see `wire`).

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::{Response, Status};

use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{
    Ctx, DataSource, EphemeralResource, Function, ListResource, Provider, Resource,
};
use crate::schema::Schema;
use crate::value::Type;

/// A managed resource type with its schema, value type and identity.
pub(super) struct ResourceEntry {
    pub(super) imp: Arc<dyn Resource>,
    pub(super) schema: Schema,
    pub(super) ty: Type,
    pub(super) identity: Option<(Schema, Type)>,
}

/// A data source with its schema and value type.
pub(super) struct DataEntry {
    pub(super) imp: Arc<dyn DataSource>,
    pub(super) schema: Schema,
    pub(super) ty: Type,
}

/// An ephemeral resource with its schema and value type.
pub(super) struct EphemeralEntry {
    pub(super) imp: Arc<dyn EphemeralResource>,
    pub(super) schema: Schema,
    pub(super) ty: Type,
}

/// A list resource with its `config` block's schema and type.
pub(super) struct ListEntry {
    pub(super) imp: Arc<dyn ListResource>,
    /// the `config` block's schema
    pub(super) schema: Schema,
    pub(super) ty: Type,
}

/// Protocol 6 service state.
pub struct ProviderService {
    pub(super) provider: Arc<dyn Provider>,
    pub(super) provider_schema: Schema,
    pub(super) provider_ty: Type,
    pub(super) resources: BTreeMap<String, ResourceEntry>,
    pub(super) data_sources: BTreeMap<String, DataEntry>,
    pub(super) ephemerals: BTreeMap<String, EphemeralEntry>,
    pub(super) lists: BTreeMap<String, ListEntry>,
    pub(super) functions: BTreeMap<String, Arc<dyn Function>>,
    pub(super) data: RwLock<Option<Arc<dyn Any + Send + Sync>>>,
    pub(super) terraform_version: RwLock<String>,
    pub(super) stop: CancellationToken,
}

/// What every RPC answers: a response, or a gRPC error for what the
/// protocol cannot express as a diagnostic.
pub(super) type Res<T> = Result<Response<T>, Status>;

impl ProviderService {
    /// Builds the service, reading schemas from the provider once.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let provider_schema = provider.schema();
        let provider_ty = provider_schema.ty();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.ty();
                let identity = r.identity_schema().map(|s| {
                    let t = s.ty();
                    (s, t)
                });
                (
                    r.type_name().to_string(),
                    ResourceEntry {
                        imp: r,
                        schema,
                        ty,
                        identity,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.ty();
                (d.type_name().to_string(), DataEntry { imp: d, schema, ty })
            })
            .collect();
        let ephemerals = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| {
                let schema = e.schema();
                let ty = schema.ty();
                (
                    e.type_name().to_string(),
                    EphemeralEntry { imp: e, schema, ty },
                )
            })
            .collect();
        let lists = provider
            .list_resources()
            .into_iter()
            .map(|l| {
                let schema = l.schema();
                let ty = schema.ty();
                (l.type_name().to_string(), ListEntry { imp: l, schema, ty })
            })
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect();
        ProviderService {
            provider,
            provider_schema,
            provider_ty,
            resources,
            data_sources,
            ephemerals,
            lists,
            functions,
            data: RwLock::new(None),
            terraform_version: RwLock::new(String::new()),
            stop: CancellationToken::new(),
        }
    }

    pub(super) fn ctx(&self) -> Ctx {
        let data = self.data.read().map(|d| d.clone()).unwrap_or(None);
        let v = self
            .terraform_version
            .read()
            .map(|v| v.clone())
            .unwrap_or_default();
        Ctx::new(self.stop.clone(), data, &v)
    }

    pub(super) fn resource(&self, name: &str) -> Result<&ResourceEntry, Diagnostics> {
        self.resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider does not support the resource type {name:?}."),
            )
            .into()
        })
    }

    pub(super) fn ephemeral(&self, name: &str) -> Result<&EphemeralEntry, Diagnostics> {
        self.ephemerals.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown ephemeral resource type",
                format!("This provider does not support the ephemeral resource type {name:?}."),
            )
            .into()
        })
    }

    /// The list resource `name` and the managed resource it lists (which
    /// must have an identity: every event carries one).
    pub(super) fn list(&self, name: &str) -> Result<(&ListEntry, &ResourceEntry), Diagnostics> {
        let unknown = || {
            Diagnostics::from(Diagnostic::error(
                "Unknown list resource type",
                format!("This provider does not support the list resource type {name:?}."),
            ))
        };
        let l = self.lists.get(name).ok_or_else(unknown)?;
        let r = self.resources.get(name).filter(|r| r.identity.is_some());
        Ok((l, r.ok_or_else(unknown)?))
    }

    pub(super) fn data_source(&self, name: &str) -> Result<&DataEntry, Diagnostics> {
        self.data_sources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("This provider does not support the data source {name:?}."),
            )
            .into()
        })
    }
}

/// Collapses `Result<T, Diagnostics>` plumbing inside an RPC body.
macro_rules! tri {
    ($e:expr, $diags:ident) => {
        match $e {
            Ok(v) => v,
            Err(d) => {
                $diags.extend(d);
                return;
            }
        }
    };
    ($e:expr, $diags:ident, $ret:expr) => {
        match $e {
            Ok(v) => v,
            Err(d) => {
                $diags.extend(d);
                return $ret;
            }
        }
    };
}
pub(super) use tri;
