//! `terraform-provider-aws` (stand-in): what the acceptance tests of
//! `moved` blocks (tests/moves.rs) give Terraform and OpenTofu as
//! `hashicorp/aws`, through dev_overrides, instead of the real AWS provider
//! (a 900 MB download this machine does not have).
//!
//! Both engines need the provider of every resource in state: Terraform
//! refuses to plan without it ("This state requires provider
//! registry.terraform.io/hashicorp/aws, but that provider isn't
//! available"), OpenTofu fails loading its schemas. Neither calls it for a
//! cross-provider move (the target provider's MoveResourceState gets the
//! stored JSON), so this stand-in only serves the schemas of the resource
//! types the moves and guides take, as the AWS provider's source has them
//! (internal/service/eks/pod_identity_association.go and addon.go at
//! commit 00a35305dc1b, 2026, a v6 release; internal/service/iam/role.go
//! at 0040ea6911af; all schema version 0), and refuses every change: it
//! can never touch the world. A `removed { lifecycle { destroy = false } }`
//! block (the guides' way out for `aws_iam_role_policy_attachment`) only
//! reads the stored object, which it returns unchanged.
//!
//! Owns: nothing else. It is not a model of the AWS provider.

use std::any::Any;
use std::process::ExitCode;
use std::sync::Arc;

use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Ctx, DataSource, DeleteRequest, Diagnostic,
    Diagnostics, NestedBlock, NestingMode, Provider, ReadRequest, ReadResponse, Resource, Schema,
    ServeOptions, Type, Value, async_trait,
};

struct StandIn;

#[async_trait]
impl Provider for StandIn {
    fn schema(&self) -> Schema {
        Schema::new(Block::new().attr(Attribute::string("region").optional()))
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(Frozen("aws_eks_pod_identity_association")),
            Arc::new(Frozen("aws_eks_addon")),
            Arc::new(Frozen("aws_iam_role")),
            Arc::new(Frozen("aws_iam_role_policy_attachment")),
        ]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![]
    }
    async fn configure(
        &self,
        _config: &Value,
        _terraform_version: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics> {
        Ok(Arc::new(()))
    }
}

/// `aws_eks_pod_identity_association` as the AWS provider declares it.
fn association_schema() -> Schema {
    let s = |n| Attribute::string(n);
    Schema::new(
        Block::new()
            .attr(s("association_arn").computed())
            .attr(s("association_id").computed())
            .attr(s("cluster_name").required())
            .attr(
                Attribute::bool("disable_session_tags")
                    .optional()
                    .computed(),
            )
            .attr(s("external_id").computed())
            .attr(s("id").computed())
            .attr(s("namespace").required())
            .attr(s("region").optional().computed())
            .attr(s("role_arn").required())
            .attr(s("service_account").required())
            .attr(Attribute::map("tags", Type::String).optional())
            .attr(
                Attribute::map("tags_all", Type::String)
                    .optional()
                    .computed(),
            )
            .attr(s("target_role_arn").optional()),
    )
}

/// `aws_eks_addon` as the AWS provider declares it (SDKv2: `id` and the
/// `timeouts` block are the SDK's).
fn addon_schema() -> Schema {
    let s = |n| Attribute::string(n);
    Schema::new(
        Block::new()
            .attr(s("addon_name").required())
            .attr(s("addon_version").optional().computed())
            .attr(s("arn").computed())
            .attr(s("cluster_name").required())
            .attr(s("configuration_values").optional().computed())
            .attr(s("created_at").computed())
            .attr(s("id").optional().computed())
            .attr(s("modified_at").computed())
            .attr(Attribute::bool("preserve").optional())
            .attr(s("region").optional().computed())
            .attr(s("resolve_conflicts_on_create").optional())
            .attr(s("resolve_conflicts_on_update").optional())
            .attr(s("service_account_role_arn").optional())
            .attr(Attribute::map("tags", Type::String).optional())
            .attr(
                Attribute::map("tags_all", Type::String)
                    .optional()
                    .computed(),
            )
            .block(NestedBlock::new(
                "pod_identity_association",
                NestingMode::Set,
                Block::new()
                    .attr(s("role_arn").required())
                    .attr(s("service_account").required()),
            ))
            .block(NestedBlock::new(
                "timeouts",
                NestingMode::Single,
                Block::new()
                    .attr(s("create").optional())
                    .attr(s("update").optional())
                    .attr(s("delete").optional()),
            )),
    )
}

/// `aws_iam_role` as the AWS provider declares it
/// (internal/service/iam/role.go at commit 0040ea6911af; SDKv2: `id` is
/// the SDK's; `inline_policy` a set block).
fn role_schema() -> Schema {
    let s = |n| Attribute::string(n);
    Schema::new(
        Block::new()
            .attr(s("arn").computed())
            .attr(s("assume_role_policy").required())
            .attr(s("create_date").computed())
            .attr(s("description").optional())
            .attr(Attribute::bool("force_detach_policies").optional())
            .attr(s("id").optional().computed())
            .attr(
                Attribute::set("managed_policy_arns", Type::String)
                    .optional()
                    .computed(),
            )
            .attr(Attribute::number("max_session_duration").optional())
            .attr(s("name").optional().computed())
            .attr(s("name_prefix").optional().computed())
            .attr(s("path").optional())
            .attr(s("permissions_boundary").optional())
            .attr(Attribute::map("tags", Type::String).optional())
            .attr(
                Attribute::map("tags_all", Type::String)
                    .optional()
                    .computed(),
            )
            .attr(s("unique_id").computed())
            .block(NestedBlock::new(
                "inline_policy",
                NestingMode::Set,
                Block::new()
                    .attr(s("name").optional())
                    .attr(s("policy").optional()),
            )),
    )
}

/// `aws_iam_role_policy_attachment` as the AWS provider declares it
/// (internal/service/iam/role_policy_attachment.go; SDKv2).
fn attachment_schema() -> Schema {
    let s = |n| Attribute::string(n);
    Schema::new(
        Block::new()
            .attr(s("id").optional().computed())
            .attr(s("policy_arn").required())
            .attr(s("role").required()),
    )
}

/// A resource type whose objects stay as stored: read changes nothing,
/// every change is refused.
struct Frozen(&'static str);

impl Frozen {
    fn refuse(&self) -> Diagnostics {
        Diagnostic::error(
            "Stand-in AWS provider",
            format!(
                "This is the acceptance tests' stand-in for hashicorp/aws: it serves the schema of {} and changes nothing.",
                self.0
            ),
        )
        .into()
    }
}

#[async_trait]
impl Resource for Frozen {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn schema(&self) -> Schema {
        match self.0 {
            "aws_eks_addon" => addon_schema(),
            "aws_iam_role" => role_schema(),
            "aws_iam_role_policy_attachment" => attachment_schema(),
            _ => association_schema(),
        }
    }
    async fn create(&self, _ctx: &Ctx, _req: ApplyRequest) -> ApplyResponse {
        ApplyResponse::failed(self.refuse())
    }
    async fn read(&self, _ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: Some(req.state),
            private: req.private,
            diagnostics: Diagnostics::default(),
            identity: req.identity,
        }
    }
    async fn update(&self, _ctx: &Ctx, _req: ApplyRequest) -> ApplyResponse {
        ApplyResponse::failed(self.refuse())
    }
    async fn delete(&self, _ctx: &Ctx, _req: DeleteRequest) -> Diagnostics {
        self.refuse()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = ServeOptions {
        provider_address: "registry.terraform.io/hashicorp/aws".to_string(),
    };
    match tfplugin::serve(Arc::new(StandIn), opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-aws (stand-in): {e}");
            ExitCode::FAILURE
        }
    }
}
