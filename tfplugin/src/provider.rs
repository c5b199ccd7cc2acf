//! The interface providers are written against: `Provider`, `Resource`,
//! `DataSource`, `Function`, the request/response structs and `Ctx`.
//!
//! Owns: what resource code sees. No wire types appear here; the gRPC adapter
//! (`server`) converts at the edge.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::Schema;
use crate::value::{Type, Value};

/// Per-call context: provider data from `configure` and the stop signal.
#[derive(Clone)]
pub struct Ctx {
    stop: CancellationToken,
    data: Option<Arc<dyn Any + Send + Sync>>,
    terraform_version: Arc<str>,
}

impl Ctx {
    /// A context outside a server (for unit tests of resources).
    pub fn detached(data: Option<Arc<dyn Any + Send + Sync>>) -> Self {
        Ctx::new(CancellationToken::new(), data, "")
    }
    pub(crate) fn new(
        stop: CancellationToken,
        data: Option<Arc<dyn Any + Send + Sync>>,
        terraform_version: &str,
    ) -> Self {
        Ctx {
            stop,
            data,
            terraform_version: terraform_version.into(),
        }
    }
    /// What `Provider::configure` returned, if configured and of type `T`.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.data.clone()?.downcast::<T>().ok()
    }
    /// True once Terraform asked the provider to stop (StopProvider).
    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
    /// Resolves when Terraform asks the provider to stop.
    pub async fn stopped(&self) {
        self.stop.cancelled().await
    }
    /// The Terraform version from ConfigureProvider (empty before that).
    pub fn terraform_version(&self) -> &str {
        &self.terraform_version
    }
}

/// A provider: its schema, its resources, data sources and functions.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider configuration schema.
    fn schema(&self) -> Schema;
    /// Every managed resource type.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    /// Every data source type.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
    /// Provider-defined functions.
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![]
    }
    /// Every ephemeral resource type (Terraform ≥ 1.10, OpenTofu ≥ 1.11).
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![]
    }
    /// Every list resource type (protocol 6.10, `terraform query`,
    /// Terraform ≥ 1.14). Each names a managed resource of this provider
    /// that has an identity.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![]
    }
    /// Extra validation of the provider configuration (after schema validators).
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Configures the provider; the returned data is available as `Ctx::data`.
    /// The config may contain unknown values (e.g. a region from another
    /// resource): handle them gracefully.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics>;
}

/// Input to `Resource::plan`.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// state before the change; `None` on create
    pub prior_state: Option<Value>,
    /// configuration (may contain unknowns)
    pub config: Value,
    /// Terraform's proposed new state
    pub proposed: Value,
    /// private data from the prior state
    pub prior_private: Vec<u8>,
    /// identity from the prior state
    pub prior_identity: Option<Value>,
}

/// Output of planning; starts as the framework's plan.
#[derive(Debug, Clone)]
pub struct PlanResponse {
    /// planned new state
    pub planned: Value,
    /// attributes whose change forces replacement
    pub requires_replace: Vec<crate::value::AttrPath>,
    /// private data to carry to apply
    pub private: Vec<u8>,
    /// problems
    pub diagnostics: Diagnostics,
    /// planned identity
    pub identity: Option<Value>,
}

/// Input to create and update.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// state before the change; `None` on create
    pub prior_state: Option<Value>,
    /// the planned state (unknowns are for the resource to fill)
    pub planned: Value,
    /// configuration
    pub config: Value,
    /// private data from the plan
    pub private: Vec<u8>,
    /// planned identity
    pub identity: Option<Value>,
}

/// Output of create and update. A non-null `new_state` with errors is a
/// partial state: Terraform keeps it and taints the resource.
#[derive(Debug, Clone)]
pub struct ApplyResponse {
    /// resulting state (must be wholly known)
    pub new_state: Value,
    /// private data to store
    pub private: Vec<u8>,
    /// problems
    pub diagnostics: Diagnostics,
    /// resulting identity
    pub identity: Option<Value>,
}

impl ApplyResponse {
    /// A failed apply that leaves no state behind.
    pub fn failed(diagnostics: Diagnostics) -> Self {
        ApplyResponse {
            new_state: Value::Null,
            private: vec![],
            diagnostics,
            identity: None,
        }
    }
}

/// Input to read.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// current state
    pub state: Value,
    /// private data
    pub private: Vec<u8>,
    /// current identity
    pub identity: Option<Value>,
}

/// Output of read.
#[derive(Debug, Clone)]
pub struct ReadResponse {
    /// `None`: the object is gone and is removed from state
    pub new_state: Option<Value>,
    /// private data
    pub private: Vec<u8>,
    /// problems
    pub diagnostics: Diagnostics,
    /// identity
    pub identity: Option<Value>,
}

/// Input to delete.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    /// state being destroyed
    pub prior_state: Value,
    /// private data
    pub private: Vec<u8>,
}

/// Input to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// the import ID (empty when importing by identity)
    pub id: String,
    /// identity, when importing by identity
    pub identity: Option<Value>,
}

/// One imported object.
#[derive(Debug, Clone)]
pub struct ImportedResource {
    /// state (Terraform calls read next)
    pub state: Value,
    /// private data
    pub private: Vec<u8>,
    /// identity
    pub identity: Option<Value>,
}

/// Output of import.
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// imported objects
    pub imported: Vec<ImportedResource>,
    /// problems
    pub diagnostics: Diagnostics,
}

/// Input to `Resource::move_state`: an object of another resource type,
/// possibly of another provider, that a `moved` block hands to this one
/// (Terraform ≥ 1.8, OpenTofu ≥ 1.8). The source's schema is not known to
/// this provider, so its state comes as JSON.
#[derive(Debug, Clone)]
pub struct MoveRequest {
    /// The source's provider, such as `registry.terraform.io/hashicorp/aws`.
    pub source_provider_address: String,
    /// The source's resource type, such as `aws_eks_addon`.
    pub source_type_name: String,
    /// The schema version the source state was written with.
    pub source_schema_version: i64,
    /// The source state as stored (JSON; numbers beyond f64 are rounded).
    pub source_state: serde_json::Value,
    /// The source's private data, as the source provider left it.
    pub source_private: Vec<u8>,
    /// The source's identity (JSON), when it has one.
    pub source_identity: Option<serde_json::Value>,
}

/// Output of `Resource::move_state`.
#[derive(Debug, Clone)]
pub struct MoveResponse {
    /// The state in this resource's schema (null when refused).
    pub target_state: Value,
    /// Private data to store with it.
    pub target_private: Vec<u8>,
    /// The identity (`None`: derived from the state, as on import).
    pub target_identity: Option<Value>,
    /// problems
    pub diagnostics: Diagnostics,
}

impl MoveResponse {
    /// A refused move: no state, the diagnostics say why.
    pub fn refused(diagnostics: Diagnostics) -> Self {
        MoveResponse {
            target_state: Value::Null,
            target_private: vec![],
            target_identity: None,
            diagnostics,
        }
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// Type name, e.g. `eks_pod_identity_association`.
    fn type_name(&self) -> &'static str;
    /// Schema of the resource.
    fn schema(&self) -> Schema;
    /// Identity schema (flat attributes only; version in `Schema.version`).
    fn identity_schema(&self) -> Option<Schema> {
        None
    }
    /// Extra validation (after schema validators).
    async fn validate(&self, _ctx: &Ctx, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Upgrades state JSON written by schema `version` to the current schema.
    async fn upgrade_state(
        &self,
        _version: i64,
        raw: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Ok(raw)
    }
    /// Upgrades identity JSON written by identity schema `version` to the
    /// current identity schema (the default refuses any other version).
    async fn upgrade_identity(
        &self,
        version: i64,
        _raw: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Err(Diagnostic::error(
            "Unsupported identity version",
            format!(
                "Stored identity version {version} of {} cannot be upgraded.",
                self.type_name()
            ),
        )
        .into())
    }
    /// Adjusts the plan; called after the framework applied defaults,
    /// computed-unknown marking, use_state_for_unknown and requires_replace.
    async fn plan(&self, _ctx: &Ctx, _req: &PlanRequest, _resp: &mut PlanResponse) {}
    /// Creates the object.
    async fn create(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse;
    /// Reads the object.
    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse;
    /// Updates the object in place.
    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse;
    /// Deletes the object (gone already counts as success).
    async fn delete(&self, ctx: &Ctx, req: DeleteRequest) -> Diagnostics;
    /// Takes over an object of another resource type (a `moved` block
    /// across types or providers). The default refuses every move.
    ///
    /// Terraform calls it before ConfigureProvider (OpenTofu after), so
    /// `ctx.data()` may be `None`: a move translates the state it is given
    /// and calls nothing; the read Terraform makes next fills in the rest.
    async fn move_state(&self, _ctx: &Ctx, req: MoveRequest) -> MoveResponse {
        MoveResponse::refused(
            Diagnostic::error(
                "Move resource state not supported",
                format!(
                    "The resource type {} cannot take over {} of {}: it accepts no moves from other resource types.",
                    self.type_name(),
                    req.source_type_name,
                    req.source_provider_address
                ),
            )
            .into(),
        )
    }
    /// Imports existing objects by ID or identity.
    async fn import(&self, _ctx: &Ctx, _req: ImportRequest) -> ImportResponse {
        ImportResponse {
            imported: vec![],
            diagnostics: Diagnostic::error(
                "Resource import not supported",
                format!("The resource type {} is not importable.", self.type_name()),
            )
            .into(),
        }
    }
}

/// Output of a data source read.
#[derive(Debug, Clone)]
pub struct DataReadResponse {
    /// the data read
    pub state: Value,
    /// problems
    pub diagnostics: Diagnostics,
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// Type name.
    fn type_name(&self) -> &'static str;
    /// Schema.
    fn schema(&self) -> Schema;
    /// Extra validation (after schema validators).
    async fn validate(&self, _ctx: &Ctx, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Reads the data.
    async fn read(&self, ctx: &Ctx, config: Value) -> DataReadResponse;
}

/// Output of opening an ephemeral resource.
#[derive(Debug, Clone)]
pub struct EphemeralOpenResponse {
    /// the result: never written to plan or state by Terraform
    pub result: Value,
    /// private data Terraform hands back to `close`
    pub private: Option<Vec<u8>>,
    /// problems
    pub diagnostics: Diagnostics,
}

/// An ephemeral resource type: a value Terraform obtains for the length of
/// one run (a credential, say) and never stores in plan or state. The
/// protocol's renewal is not offered: `open` returns a value that must last
/// the run, and the type's documentation says how long it does.
#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    /// Type name.
    fn type_name(&self) -> &'static str;
    /// Schema.
    fn schema(&self) -> Schema;
    /// Extra validation (after schema validators).
    async fn validate(&self, _ctx: &Ctx, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Opens the resource. The config is wholly known (Terraform defers
    /// opening until it is).
    async fn open(&self, ctx: &Ctx, config: Value) -> EphemeralOpenResponse;
    /// Closes it (only called when `open` returned private data).
    async fn close(&self, _ctx: &Ctx, _private: Vec<u8>) -> Diagnostics {
        Diagnostics::default()
    }
}

/// Input to `ListResource::list`.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// the `config` block (wholly known; null attributes where unset)
    pub config: Value,
    /// whether Terraform wants each object's whole state
    /// (`include_resource = true`, and always for `-generate-config-out`)
    pub include_resource_object: bool,
    /// how many objects Terraform reads before it stops the stream
    pub limit: i64,
}

/// One object a list resource found.
#[derive(Debug, Clone)]
pub struct ListEvent {
    /// the managed resource's identity of the object
    pub identity: Value,
    /// a short name for people
    pub display_name: String,
    /// the object as the managed resource's state (only when asked for)
    pub resource_object: Option<Value>,
    /// warnings about this object
    pub diagnostics: Diagnostics,
}

/// Where a list resource sends what it finds, one object at a time, while
/// Terraform reads them.
pub struct ListSink {
    tx: tokio::sync::mpsc::Sender<ListEvent>,
    sent: i64,
    limit: i64,
}

impl ListSink {
    /// A sink whose events go to `tx`, full after `limit` of them (the
    /// server makes one per ListResource call; tests make their own).
    pub fn new(tx: tokio::sync::mpsc::Sender<ListEvent>, limit: i64) -> Self {
        ListSink { tx, sent: 0, limit }
    }
    /// Sends one object. False when the list should stop: the limit is
    /// reached or Terraform stopped reading.
    pub async fn send(&mut self, event: ListEvent) -> bool {
        if self.is_full() || self.tx.send(event).await.is_err() {
            return false;
        }
        self.sent += 1;
        !self.is_full()
    }
    /// True once `limit` objects were sent (no more are read).
    pub fn is_full(&self) -> bool {
        self.sent >= self.limit
    }
}

/// A list resource type: finds existing objects of the managed resource of
/// the same type name, so that `terraform query` can show them and write
/// their import blocks and configuration.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// Type name (the managed resource's).
    fn type_name(&self) -> &'static str;
    /// Schema of the `config` block.
    fn schema(&self) -> Schema;
    /// Extra validation of the `config` block (after schema validators).
    async fn validate(&self, _ctx: &Ctx, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Finds the objects and sends each to `sink`; the diagnostics returned
    /// end the stream (errors make Terraform discard the list).
    async fn list(&self, ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics;
}

/// One function parameter.
#[derive(Debug, Clone)]
pub struct FunctionParameter {
    /// display name
    pub name: String,
    /// type constraint
    pub ty: Type,
    /// markdown description
    pub description: String,
    /// null arguments are passed instead of rejected by Terraform
    pub allow_null: bool,
    /// unknown arguments are passed instead of short-circuiting to unknown
    pub allow_unknown: bool,
}

impl FunctionParameter {
    /// A parameter that takes neither null nor unknown.
    pub fn new(name: &str, ty: Type) -> Self {
        FunctionParameter {
            name: name.to_string(),
            ty,
            description: String::new(),
            allow_null: false,
            allow_unknown: false,
        }
    }
}

/// What a function takes and returns.
#[derive(Debug, Clone)]
pub struct FunctionDefinition {
    /// positional parameters
    pub parameters: Vec<FunctionParameter>,
    /// variadic final parameter
    pub variadic: Option<FunctionParameter>,
    /// return type
    pub return_type: Type,
    /// one-line summary
    pub summary: String,
    /// markdown description
    pub description: String,
    /// deprecation message, if deprecated
    pub deprecation: Option<String>,
}

/// A function failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// message for the user
    pub text: String,
    /// index of the offending argument
    pub argument: Option<i64>,
}

/// A provider-defined function.
#[async_trait]
pub trait Function: Send + Sync + 'static {
    /// Function name (called as `provider::<name>::<fn>`).
    fn name(&self) -> &'static str;
    /// Signature and documentation.
    fn definition(&self) -> FunctionDefinition;
    /// Runs the function; variadic arguments follow the positional ones.
    async fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError>;
}
