//! The gRPC adapter for protocol 6: implements the generated `Provider`
//! service on top of our `Provider` trait.
//!
//! Owns: wire conversions (DynamicValue, diagnostics, attribute paths,
//! schemas) and the order of framework steps inside each RPC. Every problem
//! becomes a diagnostic in the response; a gRPC error is only returned for
//! what the protocol itself cannot express. Does not own: the handshake and
//! listeners (see `serve`).

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::codec;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::plan;
use crate::proto::tfplugin6 as pb;
use crate::provider::{
    ApplyRequest, Ctx, DataSource, DeleteRequest, EphemeralResource, Function, ImportRequest,
    ListEvent, ListRequest, ListResource, ListSink, PlanRequest, PlanResponse, Provider,
    ReadRequest, Resource,
};
use crate::schema::{Attribute, Block, NestingMode, Schema, validate_block};
use crate::value::{AttrPath, PathStep, Type, Value};

struct ResourceEntry {
    imp: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
    identity: Option<(Schema, Type)>,
}

struct DataEntry {
    imp: Arc<dyn DataSource>,
    schema: Schema,
    ty: Type,
}

struct EphemeralEntry {
    imp: Arc<dyn EphemeralResource>,
    schema: Schema,
    ty: Type,
}

struct ListEntry {
    imp: Arc<dyn ListResource>,
    /// the `config` block's schema
    schema: Schema,
    ty: Type,
}

/// Protocol 6 service state.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    provider_ty: Type,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, DataEntry>,
    ephemerals: BTreeMap<String, EphemeralEntry>,
    lists: BTreeMap<String, ListEntry>,
    functions: BTreeMap<String, Arc<dyn Function>>,
    data: RwLock<Option<Arc<dyn Any + Send + Sync>>>,
    terraform_version: RwLock<String>,
    stop: CancellationToken,
}

type Res<T> = Result<Response<T>, Status>;

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

    fn ctx(&self) -> Ctx {
        let data = self.data.read().map(|d| d.clone()).unwrap_or(None);
        let v = self
            .terraform_version
            .read()
            .map(|v| v.clone())
            .unwrap_or_default();
        Ctx::new(self.stop.clone(), data, &v)
    }

    fn resource(&self, name: &str) -> Result<&ResourceEntry, Diagnostics> {
        self.resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider does not support the resource type {name:?}."),
            )
            .into()
        })
    }

    fn ephemeral(&self, name: &str) -> Result<&EphemeralEntry, Diagnostics> {
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
    fn list(&self, name: &str) -> Result<(&ListEntry, &ResourceEntry), Diagnostics> {
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

    fn data_source(&self, name: &str) -> Result<&DataEntry, Diagnostics> {
        self.data_sources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("This provider does not support the data source {name:?}."),
            )
            .into()
        })
    }
}

// ---------------------------------------------------------------- conversions

fn decode_dv(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let r = if !dv.msgpack.is_empty() {
        codec::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        std::str::from_utf8(&dv.json)
            .map_err(|e| crate::value::ValueError::Json(e.to_string()))
            .and_then(|s| Value::from_json_str(s, ty))
    } else {
        Ok(Value::Null)
    };
    r.map_err(|e| {
        Diagnostic::error(
            format!("Invalid {what} from Terraform"),
            format!("The provider could not decode the {what}: {e}."),
        )
        .into()
    })
}

fn encode_dv(v: &Value, ty: &Type, what: &str) -> Result<pb::DynamicValue, Diagnostics> {
    codec::encode(v, ty)
        .map(|msgpack| pb::DynamicValue { msgpack, json: vec![] })
        .map_err(|e| {
            Diagnostic::error(
                format!("Invalid {what} from provider"),
                format!("The provider produced a {what} that does not match its schema: {e}. This is a bug in the provider."),
            )
            .into()
        })
}

fn decode_identity(
    id: Option<&pb::ResourceIdentityData>,
    entry: &ResourceEntry,
) -> Result<Option<Value>, Diagnostics> {
    match (id.and_then(|i| i.identity_data.as_ref()), &entry.identity) {
        (Some(dv), Some((_, ty))) => {
            let v = decode_dv(Some(dv), ty, "identity")?;
            Ok(if v.is_null() { None } else { Some(v) })
        }
        _ => Ok(None),
    }
}

/// The identity of `state`: the one the resource gave, else the state's
/// attributes of the identity's attribute names (a resource whose identity
/// attributes are all state attributes need not build it).
fn encode_identity(
    v: Option<&Value>,
    state: &Value,
    entry: &ResourceEntry,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
    let derived = match (&entry.identity, v) {
        (Some((s, _)), None) if !state.is_null() => {
            let mut id = Value::Null;
            for a in &s.block.attributes {
                id.set(&a.name, state.get(&a.name).clone());
            }
            Some(id)
        }
        _ => None,
    };
    match (v.or(derived.as_ref()), &entry.identity) {
        (Some(v), Some((_, ty))) if !v.is_null() => Ok(Some(pb::ResourceIdentityData {
            identity_data: Some(encode_dv(v, ty, "identity")?),
        })),
        _ => Ok(None),
    }
}

/// Diagnostics of a list resource's `config` block, with their attribute
/// paths from the `list` block (Terraform places them in that body).
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

/// Converts a path to its wire form.
pub fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Converts diagnostics to their wire form.
pub fn diags_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.attribute.as_ref().map(path_to_proto),
        })
        .collect()
}

fn attr_to_proto(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested) = match &a.nested {
        Some((mode, b)) => {
            use pb::schema::object::NestingMode as N;
            let n = match mode {
                NestingMode::Single | NestingMode::Group => N::Single,
                NestingMode::List => N::List,
                NestingMode::Set => N::Set,
                NestingMode::Map => N::Map,
            };
            (
                vec![],
                Some(pb::schema::Object {
                    attributes: b.attributes.iter().map(attr_to_proto).collect(),
                    nesting: n as i32,
                    min_items: 0,
                    max_items: 0,
                }),
            )
        }
        None => (a.ty.to_json_bytes(), None),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type: nested,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated.is_some(),
        write_only: false,
    }
}

fn block_to_proto(b: &Block, version: i64) -> pb::schema::Block {
    use pb::schema::nested_block::NestingMode as N;
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attr_to_proto).collect(),
        block_types: b
            .blocks
            .iter()
            .map(|nb| pb::schema::NestedBlock {
                type_name: nb.name.clone(),
                block: Some(block_to_proto(&nb.block, 0)),
                nesting: match nb.nesting {
                    NestingMode::Single => N::Single,
                    NestingMode::List => N::List,
                    NestingMode::Set => N::Set,
                    NestingMode::Map => N::Map,
                    NestingMode::Group => N::Group,
                } as i32,
                min_items: nb.min_items,
                max_items: nb.max_items,
            })
            .collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
    }
}

/// Converts a schema to its wire form.
pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block, s.version)),
    }
}

fn identity_to_proto(s: &Schema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .block
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required,
                optional_for_import: !a.required,
                description: a.description.clone(),
            })
            .collect(),
    }
}

fn param_to_proto(p: &crate::provider::FunctionParameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}

fn function_to_proto(f: &dyn Function) -> pb::Function {
    let d = f.definition();
    pb::Function {
        parameters: d.parameters.iter().map(param_to_proto).collect(),
        variadic_parameter: d.variadic.as_ref().map(param_to_proto),
        r#return: Some(pb::function::Return {
            r#type: d.return_type.to_json_bytes(),
        }),
        summary: d.summary,
        description: d.description,
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: d.deprecation.unwrap_or_default(),
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: false,
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

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> Res<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: vec![],
            data_sources: self
                .data_sources
                .keys()
                .map(|k| m::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|k| m::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|k| m::FunctionMetadata { name: k.clone() })
                .collect(),
            ephemeral_resources: self
                .ephemerals
                .keys()
                .map(|k| m::EphemeralMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            list_resources: self
                .lists
                .keys()
                .map(|k| m::ListResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(capabilities()),
            functions: self
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), function_to_proto(f.as_ref())))
                .collect(),
            ephemeral_resource_schemas: self
                .ephemerals
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            list_resource_schemas: self
                .lists
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
        }))
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let out = |d: &Diagnostics| {
            Ok(Response::new(pb::validate_provider_config::Response {
                diagnostics: diags_to_proto(d),
            }))
        };
        let cfg = match decode_dv(r.config.as_ref(), &self.provider_ty, "configuration") {
            Ok(v) => v,
            Err(d) => return out(&d),
        };
        validate_block(
            &self.provider_schema.block,
            &cfg,
            &AttrPath::default(),
            &mut diags,
        );
        diags.extend(self.provider.validate_config(&cfg).await);
        out(&diags)
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let d = async {
            let e = tri!(self.resource(&r.type_name), diags, diags);
            let cfg = tri!(
                decode_dv(r.config.as_ref(), &e.ty, "configuration"),
                diags,
                diags
            );
            validate_block(&e.schema.block, &cfg, &AttrPath::default(), &mut diags);
            diags.extend(e.imp.validate(&self.ctx(), &cfg).await);
            diags
        }
        .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_proto(&d),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let d = async {
            let e = tri!(self.data_source(&r.type_name), diags, diags);
            let cfg = tri!(
                decode_dv(r.config.as_ref(), &e.ty, "configuration"),
                diags,
                diags
            );
            validate_block(&e.schema.block, &cfg, &AttrPath::default(), &mut diags);
            diags.extend(e.imp.validate(&self.ctx(), &cfg).await);
            diags
        }
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_proto(&d),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let state = async {
            let e = tri!(self.resource(&r.type_name), diags, None);
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

    async fn get_resource_identity_schemas(
        &self,
        _r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Res<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
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

    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> Res<pb::upgrade_resource_identity::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let out = async {
            let e = tri!(self.resource(&r.type_name), diags, None);
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
            let invalid = |err: crate::value::ValueError| {
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
                    serde_json::from_str(&text).map_err(|err| Diagnostics::from(
                        Diagnostic::error(
                            "Invalid stored identity",
                            format!("The stored identity is not valid JSON: {err}.")
                        )
                    )),
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

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        async {
            let cfg = tri!(
                decode_dv(r.config.as_ref(), &self.provider_ty, "configuration"),
                diags
            );
            if let Ok(mut v) = self.terraform_version.write() {
                *v = r.terraform_version.clone();
            }
            let data = tri!(
                self.provider.configure(&cfg, &r.terraform_version).await,
                diags
            );
            if let Ok(mut d) = self.data.write() {
                *d = Some(data);
            }
        }
        .await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
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
            let e = tri!(self.resource(&r.type_name), diags);
            let state = tri!(decode_dv(r.current_state.as_ref(), &e.ty, "state"), diags);
            let identity = tri!(decode_identity(r.current_identity.as_ref(), e), diags);
            let out = e
                .imp
                .read(
                    &self.ctx(),
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
                resp.new_identity =
                    tri!(encode_identity(out.identity.as_ref(), &new_state, e), diags);
            }
        }
        .await;
        resp.diagnostics = diags_to_proto(&diags);
        Ok(Response::new(resp))
    }

    async fn plan_resource_change(
        &self,
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
            let e = tri!(self.resource(&r.type_name), diags);
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
                e.imp.plan(&self.ctx(), &req, &mut out).await;
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

    async fn apply_resource_change(
        &self,
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
            let e = tri!(self.resource(&r.type_name), diags);
            let prior = tri!(decode_dv(r.prior_state.as_ref(), &e.ty, "prior state"), diags);
            let planned = tri!(decode_dv(r.planned_state.as_ref(), &e.ty, "planned state"), diags);
            let config = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
            let identity = tri!(decode_identity(r.planned_identity.as_ref(), e), diags);
            let ctx = self.ctx();
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

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let mut imported = Vec::new();
        async {
            let e = tri!(self.resource(&r.type_name), diags);
            let identity = tri!(decode_identity(r.identity.as_ref(), e), diags);
            let out = e
                .imp
                .import(
                    &self.ctx(),
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

    async fn move_resource_state(
        &self,
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

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let mut state = None;
        async {
            let e = tri!(self.data_source(&r.type_name), diags);
            let cfg = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
            let mut out = e.imp.read(&self.ctx(), cfg).await;
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

    async fn validate_ephemeral_resource_config(
        &self,
        r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Res<pb::validate_ephemeral_resource_config::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        async {
            let e = tri!(self.ephemeral(&r.type_name), diags);
            let cfg = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
            validate_block(&e.schema.block, &cfg, &AttrPath::default(), &mut diags);
            diags.extend(e.imp.validate(&self.ctx(), &cfg).await);
        }
        .await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags_to_proto(&diags),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Res<pb::open_ephemeral_resource::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        let mut result = None;
        let mut private = None;
        async {
            let e = tri!(self.ephemeral(&r.type_name), diags);
            let cfg = tri!(decode_dv(r.config.as_ref(), &e.ty, "configuration"), diags);
            let out = e.imp.open(&self.ctx(), cfg).await;
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

    async fn renew_ephemeral_resource(
        &self,
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

    async fn close_ephemeral_resource(
        &self,
        r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Res<pb::close_ephemeral_resource::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        async {
            let e = tri!(self.ephemeral(&r.type_name), diags);
            if let Some(private) = r.private {
                diags.extend(e.imp.close(&self.ctx(), private).await);
            }
        }
        .await;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    type ListResourceStream = std::pin::Pin<
        Box<dyn futures_core::Stream<Item = Result<pb::list_resource::Event, Status>> + Send>,
    >;

    async fn validate_list_resource_config(
        &self,
        r: Request<pb::validate_list_resource_config::Request>,
    ) -> Res<pb::validate_list_resource_config::Response> {
        let r = r.into_inner();
        let mut diags = Diagnostics::default();
        async {
            let (l, _) = tri!(self.list(&r.type_name), diags);
            let cfg = tri!(decode_dv(r.config.as_ref(), &l.ty, "configuration"), diags);
            let mut found = Diagnostics::default();
            validate_block(&l.schema.block, &cfg, &AttrPath::default(), &mut found);
            found.extend(l.imp.validate(&self.ctx(), &cfg).await);
            diags.extend(in_list_config(found));
        }
        .await;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn list_resource(
        &self,
        r: Request<pb::list_resource::Request>,
    ) -> Res<Self::ListResourceStream> {
        use tokio_stream::StreamExt;
        let r = r.into_inner();
        let fail = |d: Diagnostics| -> Res<Self::ListResourceStream> {
            let event = pb::list_resource::Event {
                diagnostic: diags_to_proto(&d),
                ..Default::default()
            };
            Ok(Response::new(Box::pin(tokio_stream::once(Ok(event)))))
        };
        let (l, res) = match self.list(&r.type_name) {
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
        let ctx = self.ctx();
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

    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> Res<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), function_to_proto(f.as_ref())))
                .collect(),
            diagnostics: vec![],
        }))
    }

    async fn call_function(
        &self,
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
        let Some(f) = self.functions.get(&r.name) else {
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
                Ok(dv) => Ok(Response::new(pb::call_function::Response { result: Some(dv), error: None })),
                Err(_) => ferr("The function returned a value of the wrong type. This is a bug in the provider.".into(), None),
            },
            Err(e) => ferr(e.text, e.argument),
        }
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider received; cancelling in-flight work");
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;

    #[test]
    fn schema_encoding() {
        let s = Schema::new(
            Block::new()
                .description("A thing.")
                .attr(Attribute::string("id").computed().description("The ID."))
                .attr(Attribute::map("tags", Type::String).optional().sensitive())
                .attr(Attribute::string("old").optional().deprecated("Use new."))
                .attr(
                    Attribute::nested(
                        "rules",
                        NestingMode::Set,
                        Block::new().attr(Attribute::number("port").required()),
                    )
                    .optional(),
                )
                .block(
                    NestedBlock::new(
                        "timeouts",
                        NestingMode::List,
                        Block::new().attr(Attribute::string("create").optional()),
                    )
                    .max_items(1),
                ),
        )
        .with_version(2);
        let p = schema_to_proto(&s);
        assert_eq!(p.version, 2);
        let b = p.block.unwrap();
        assert_eq!(b.version, 2);
        assert_eq!(b.description_kind, pb::StringKind::Markdown as i32);
        let id = &b.attributes[0];
        assert_eq!(
            (id.name.as_str(), id.computed, id.optional),
            ("id", true, false)
        );
        assert_eq!(id.r#type, br#""string""#);
        assert_eq!(b.attributes[1].r#type, br#"["map","string"]"#);
        assert!(b.attributes[1].sensitive);
        assert!(b.attributes[2].deprecated);
        let rules = &b.attributes[3];
        assert!(rules.r#type.is_empty());
        let nt = rules.nested_type.as_ref().unwrap();
        assert_eq!(nt.nesting, pb::schema::object::NestingMode::Set as i32);
        assert_eq!(nt.attributes[0].r#type, br#""number""#);
        let tb = &b.block_types[0];
        assert_eq!(tb.type_name, "timeouts");
        assert_eq!(
            tb.nesting,
            pb::schema::nested_block::NestingMode::List as i32
        );
        assert_eq!(tb.max_items, 1);
    }

    #[test]
    fn dynamic_values_decode_from_msgpack_or_json() {
        let ty = Type::object([("a", Type::String), ("n", Type::Number)]);
        let json = pb::DynamicValue {
            msgpack: vec![],
            json: br#"{"a":"x","n":1e400}"#.to_vec(),
        };
        let v = decode_dv(Some(&json), &ty, "state").unwrap();
        assert_eq!(v.get("a").as_str(), Some("x"));
        assert_eq!(v.get("n").to_json(), serde_json::json!("1e400"));
        let mp = encode_dv(&v, &ty, "state").unwrap();
        assert_eq!(decode_dv(Some(&mp), &ty, "state").unwrap(), v);
        assert!(decode_dv(None, &ty, "state").unwrap().is_null());
        let bad = pb::DynamicValue {
            msgpack: vec![0x92],
            json: vec![],
        };
        let d = decode_dv(Some(&bad), &ty, "state").unwrap_err();
        assert!(d.has_errors());
        assert!(!d.0[0].detail.contains("panicked"));
    }

    #[test]
    fn diagnostics_encoding() {
        let d = Diagnostics(vec![
            Diagnostic::error("bad", "why").at(AttrPath::root("a").index(2).key("k")),
            Diagnostic::warning("meh", ""),
        ]);
        let p = diags_to_proto(&d);
        assert_eq!(p[0].severity, 1);
        assert_eq!(p[1].severity, 2);
        use pb::attribute_path::step::Selector;
        let steps: Vec<_> = p[0]
            .attribute
            .as_ref()
            .unwrap()
            .steps
            .iter()
            .map(|s| s.selector.clone().unwrap())
            .collect();
        assert_eq!(
            steps,
            vec![
                Selector::AttributeName("a".into()),
                Selector::ElementKeyInt(2),
                Selector::ElementKeyString("k".into())
            ]
        );
        assert!(p[1].attribute.is_none());
    }
}
