//! Resource `eks_addon_pod_identity` (design §3): an addon with the pod
//! identity associations that give it IAM permissions and the roles made
//! for them.
//!
//! Owns the resource, one file a step: [`plan`] (validation, version
//! resolution, plan-time checks against DescribeAddonConfiguration, the
//! entries' computed values), [`apply`] (create, update, delete),
//! [`read`], [`import`], [`moves`] (taking over the AWS provider's
//! `aws_eks_addon` by a `moved` block), [`list`] (the list resource of
//! `terraform query`), the state they share ([`state`]), and the check
//! of `configuration_values` against the addon's JSON schema
//! ([`config_schema`]). State,
//! spec and the pure rules: `schema::addon`; AWS calls and
//! waits: `crate::aws::eks::addon`; made roles: `crate::ownership::made_role`, the same
//! code as for `eks_pod_identity_association`.

mod apply;
mod config_schema;
mod entries;
mod import;
mod list;
mod moves;
mod plan;
mod read;
mod roles;
mod state;

use crate::aws::Clients;
use async_trait::async_trait;
use schema::addon as rules;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Diagnostics, ImportRequest, ImportResponse,
    ListRequest, ListResource, ListSink, MoveRequest, MoveResponse, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The resource.
pub struct AddonPodIdentity;

#[async_trait]
impl Resource for AddonPodIdentity {
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
        if let Some(c) = ctx.data::<Clients>()
            && let Some(c) = crate::resources::plan_region(&c, req, resp)
        {
            plan::plan(&c, req, resp).await;
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
pub struct AddonPodIdentityList;

#[async_trait]
impl ListResource for AddonPodIdentityList {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        crate::spec_map::to_schema(&schema::lists::addon_spec())
    }

    async fn list(&self, ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
        list::list(ctx, req, sink).await
    }
}
