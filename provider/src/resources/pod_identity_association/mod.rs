//! Resource `eks_pod_identity_association` (design §2): one service
//! account's pod identity association, with a given role or one the
//! provider makes, and optionally the service account itself.
//!
//! Owns the resource, one file a step: [`plan`] (validate and plan),
//! [`apply`] (create, update, delete), [`read`], [`import`], [`list`] (the
//! list resource of `terraform query`), the state
//! they share ([`state`]), the service account's life
//! ([`service_account`]), and the advice for a service account whose
//! association is not ours ([`advice`]).
//!
//! Ownership (docs/guides/ownership.md): the resource owns exactly the
//! association it created and the role it made, nothing else. Every write
//! goes through the ownership gate (`crate::ownership`): both carry a
//! creation lease (`eks-tools:creating`) only while its create runs; a
//! found association or role is adopted only when nobody renewed that lease
//! for a lease period (an interrupted apply) and it is exactly what the
//! plan asks for; anything finished belongs to someone else and is refused
//! with the import command. The resource stays while anything it
//! made exists (association_id null when only the made role is left), and
//! destroy deletes all of it. Out-of-band changes to what it owns show in
//! the plan: the association's role, the made role's policies (extra inline
//! ones too), trust, boundary and tags. The state struct, spec and pure rules live in
//! `schema::association`; AWS calls in `crate::aws`; the made role's life
//! in `crate::ownership::made_role`.

mod advice;
mod apply;
mod import;
mod list;
mod moves;
mod plan;
mod read;
mod service_account;
mod state;

use crate::aws::Clients;
use async_trait::async_trait;
use schema::association as rules;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Diagnostics, ImportRequest, ImportResponse,
    ListRequest, ListResource, ListSink, MoveRequest, MoveResponse, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The resource.
pub struct PodIdentityAssociation;

#[async_trait]
impl Resource for PodIdentityAssociation {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        state::tf_schema()
    }

    fn identity_schema(&self) -> Option<Schema> {
        Some(state::identity_schema())
    }

    async fn upgrade_identity(
        &self,
        version: i64,
        raw: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        state::upgrade_identity(version, raw)
    }

    async fn validate(&self, _ctx: &Ctx, config: &Value) -> Diagnostics {
        plan::validate(config)
    }

    async fn plan(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        if let Some(clients) = ctx.data::<Clients>()
            && let Some(clients) = crate::resources::plan_region(&clients, req, resp)
        {
            plan::plan(&clients, req, resp).await;
        }
    }

    async fn create(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        apply::create(ctx, req).await
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        read::read(ctx, req).await
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        apply::update(ctx, req).await
    }

    async fn delete(&self, ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
        apply::delete(ctx, req).await
    }

    async fn import(&self, ctx: &Ctx, req: ImportRequest) -> ImportResponse {
        import::import(ctx, req).await
    }

    async fn move_state(&self, _ctx: &Ctx, req: MoveRequest) -> MoveResponse {
        moves::move_state(&req)
    }
}

/// The list resource of the same type name (`terraform query`).
pub struct PodIdentityAssociationList;

#[async_trait]
impl ListResource for PodIdentityAssociationList {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        crate::spec_map::to_schema(&schema::lists::association_spec())
    }

    async fn list(&self, ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
        list::list(ctx, req, sink).await
    }
}
