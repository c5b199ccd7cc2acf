//! Resource `eks_pod_identity_association` (design §2): one service
//! account's pod identity association, with a given role or one the
//! provider makes, and optionally the service account itself.
//!
//! Owns the resource, one file a step: [`plan`] (validate and plan),
//! [`apply`] (create, update, delete), [`read`], [`import`], the state
//! they share ([`state`]), and the service account's life
//! ([`service_account`]). The state struct, spec and pure rules live in
//! `schema::association`; AWS calls in `crate::aws`; the made role's life
//! in `crate::made_role`.

mod apply;
mod import;
mod plan;
mod read;
mod service_account;
mod state;

use crate::aws::Clients;
use async_trait::async_trait;
use schema::association as rules;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Diagnostics, ImportRequest, ImportResponse,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
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

    async fn validate(&self, _ctx: &Ctx, config: &Value) -> Diagnostics {
        plan::validate(config)
    }

    async fn plan(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        if let Some(clients) = ctx.data::<Clients>() {
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
}
