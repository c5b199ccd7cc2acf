//! Resource `eks_pod_identity_role` (issue 25 item 3): one IAM role the
//! provider makes and owns for EKS Pod Identity, for many associations to
//! use through their `role_arn`.
//!
//! Owns the resource, one file a step: [`plan`] (validate and plan),
//! [`apply`] (create, update, delete), [`read`] (read and import), the
//! state they share ([`state`]), names made from `name_prefix`
//! ([`naming`]), the list resource ([`list`]), and [`moves`] (taking over
//! the AWS provider's `aws_iam_role` by a `moved` block).
//!
//! Ownership (docs/guides/ownership.md): the role carries the owner tag
//! `eks-tools:pod-identity` = `pod-identity-role:<name>`
//! (`ownership::Subject::SharedRole`), and every write goes through the
//! ownership gate: created with the creation lease, adopted only when a
//! dead apply left it (lease expired), never when it is somebody else's.
//! The made role's life (make, converge, delete) is
//! `crate::ownership::made_role`'s, shared with the association.

mod apply;
mod list;
mod moves;
mod naming;
mod plan;
mod read;
mod state;

use crate::aws::Clients;
use async_trait::async_trait;
use schema::pod_identity_role as rules;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Diagnostics, ImportRequest, ImportResponse,
    ListRequest, ListResource, ListSink, MoveRequest, MoveResponse, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The resource.
pub struct PodIdentityRole;

#[async_trait]
impl Resource for PodIdentityRole {
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
        if let Some(clients) = ctx.data::<Clients>() {
            plan::plan(&clients, req, resp);
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
        read::import(ctx, req).await
    }

    async fn move_state(&self, _ctx: &Ctx, req: MoveRequest) -> MoveResponse {
        moves::move_state(&req)
    }
}

/// The list resource of the same type (`terraform query`).
pub struct PodIdentityRoleList;

#[async_trait]
impl ListResource for PodIdentityRoleList {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        crate::spec_map::to_schema(&schema::lists::role_spec())
    }

    async fn list(&self, ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
        list::list(ctx, req, sink).await
    }
}
