//! The provider: its configuration block, and the one list of resources and
//! data sources it serves.
//!
//! Owns: registration (exactly the types `schema::registry` lists, which
//! docgen documents) and ConfigureProvider (building [`Clients`]: refusing
//! values of the wrong type as user errors, and, while the configuration
//! holds values known only at apply, [`Clients::deferred`], which refuses
//! to call AWS rather than fall back to the environment's defaults). Does
//! not own: any resource logic.

use crate::aws::Clients;
use crate::aws::clients::ConfigError;
use crate::data_sources::addon_pod_identity_configuration::AddonPodIdentityConfiguration;
use crate::data_sources::pod_identity_associations::PodIdentityAssociations;
use crate::data_sources::well_known_policy::WellKnownPolicy;
use crate::errors::config_diagnostic;
use crate::resources::addon_pod_identity::AddonPodIdentity;
use crate::resources::pod_identity_association::PodIdentityAssociation;
use crate::resources::pod_identity_migration::PodIdentityMigration;
use crate::resources::pod_identity_role::PodIdentityRole;
use crate::spec_map;
use async_trait::async_trait;
use schema::provider_config::{self, ProviderConfig};
use std::any::Any;
use std::sync::Arc;
use tfplugin::{
    AttrPath, DataSource, Diagnostic, Diagnostics, EphemeralResource, Function, ListResource,
    Provider, Resource, Schema, Value,
};

/// Registry source address of this provider.
pub const ADDRESS: &str = "registry.terraform.io/eks-tools/eks";

/// The `eks` provider.
#[derive(Default)]
pub struct EksProvider;

#[async_trait]
impl Provider for EksProvider {
    fn schema(&self) -> Schema {
        spec_map::to_schema(&provider_config::spec())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(PodIdentityAssociation),
            Arc::new(AddonPodIdentity),
            Arc::new(PodIdentityMigration),
            Arc::new(PodIdentityRole),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(PodIdentityAssociations),
            Arc::new(WellKnownPolicy),
            Arc::new(AddonPodIdentityConfiguration),
        ]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        crate::functions::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![Arc::new(
            crate::ephemeral_resources::cluster_auth::ClusterAuth,
        )]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![
            Arc::new(crate::resources::pod_identity_association::PodIdentityAssociationList),
            Arc::new(crate::resources::addon_pod_identity::AddonPodIdentityList),
            Arc::new(crate::resources::pod_identity_role::PodIdentityRoleList),
        ]
    }

    async fn configure(
        &self,
        config: &Value,
        _terraform_version: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics> {
        check_types(config)?;
        let cfg: ProviderConfig =
            spec_map::from_value(config, "provider configuration").map_err(Diagnostics::from)?;
        let unknown = unknown_attributes(config);
        if !unknown.is_empty() {
            // Values from resources not yet created; Terraform calls us again
            // at apply with them known. Until then no AWS call is made: the
            // environment's region or account would be the wrong one.
            tracing::info!(
                "provider configuration has values known only at apply ({}); AWS is not called before they are known",
                unknown.join(", ")
            );
            return Ok(Arc::new(Clients::deferred(&cfg, unknown)));
        }
        match Clients::new(&cfg).await {
            Ok(c) => {
                tracing::info!(region = %c.region, "eks provider configured for region {}", c.region);
                Ok(Arc::new(c))
            }
            // A value of the block itself that can never work: at once.
            Err(e @ ConfigError::MaxRetries(_)) => Err(Diagnostics::from(config_diagnostic(&e))),
            // What the environment lacks (a region, a profile): said at the
            // first AWS call, so that what calls no AWS still works
            // (issue 23 item 8: OpenTofu configures the provider to call
            // its functions).
            Err(e) => {
                let d = config_diagnostic(&e);
                tracing::warn!(
                    "provider configuration not usable for AWS calls: {}",
                    d.detail
                );
                Ok(Arc::new(Clients::refusing(
                    &cfg,
                    format!("{}: {}", d.summary, d.detail),
                )))
            }
        }
    }
}

/// The provider-block attributes (`region`, `assume_role.role_arn`, ...)
/// whose values are unknown, leaving out `default_tags`, which decides
/// nothing about where or as whom calls go.
pub fn unknown_attributes(config: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(top) = config.as_map() else {
        return out;
    };
    for (name, v) in top {
        if name == "default_tags" {
            continue;
        }
        match v {
            Value::Unknown => out.push(name.clone()),
            Value::List(blocks) => {
                for b in blocks {
                    match b {
                        Value::Unknown => out.push(name.clone()),
                        Value::Map(m) => out.extend(
                            m.iter()
                                .filter(|(_, x)| !x.is_fully_known())
                                .map(|(k, _)| format!("{name}.{k}")),
                        ),
                        _ => {}
                    }
                }
            }
            other if !other.is_fully_known() => out.push(name.clone()),
            _ => {}
        }
    }
    out.dedup();
    out
}

/// Values Terraform's types let through but the provider's do not (a
/// number that is not whole), as errors on the attribute.
fn check_types(config: &Value) -> Result<(), Diagnostics> {
    if let Value::Number(n) = config.get("max_retries")
        && n.as_i64().is_none()
    {
        return Err(Diagnostics::from(
            Diagnostic::error(
                "Invalid max_retries",
                format!(
                    "max_retries is {}, which is not a whole number. Set it to a whole number of at least 1 (the default is 25).",
                    n.as_str()
                ),
            )
            .at(AttrPath::root("max_retries")),
        ));
    }
    Ok(())
}

/// The request context is the AWS layer's stop signal (the protocol type
/// stays at this edge).
impl crate::aws::Stop for tfplugin::Ctx {
    fn stopped(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(tfplugin::Ctx::stopped(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schema::registry::{
        DATA_SOURCE_TYPES, EPHEMERAL_TYPES, FUNCTIONS, LIST_TYPES, RESOURCE_TYPES,
    };

    #[test]
    fn unknown_attributes_names_attributes_and_block_fields() {
        let mut c = Value::Null;
        c.set("region", Value::Unknown);
        c.set("default_tags", Value::Unknown);
        c.set("profile", Value::String("p".into()));
        let mut role = Value::Null;
        role.set("role_arn", Value::Unknown);
        role.set("session_name", Value::String("s".into()));
        c.set("assume_role", Value::List(vec![role]));
        assert_eq!(
            unknown_attributes(&c),
            vec!["assume_role.role_arn", "region"]
        );
        let mut known = Value::Null;
        known.set("region", Value::String("us-east-1".into()));
        assert!(unknown_attributes(&known).is_empty());
    }

    #[test]
    fn max_retries_not_whole_is_a_user_error() {
        let mut c = Value::Null;
        c.set(
            "max_retries",
            Value::Number(tfplugin::Number::parse("2.5").unwrap()),
        );
        let d = check_types(&c).unwrap_err();
        let text = format!("{d:?}");
        assert!(text.contains("max_retries is 2.5"), "{text}");
        assert!(!text.contains("bug"), "{text}");
        c.set("max_retries", Value::Number(tfplugin::Number::from_i64(3)));
        assert!(check_types(&c).is_ok());
    }

    #[test]
    fn registers_exactly_the_schema_registry() {
        let p = EksProvider;
        let resources: Vec<&str> = p.resources().iter().map(|r| r.type_name()).collect();
        let data_sources: Vec<&str> = p.data_sources().iter().map(|d| d.type_name()).collect();
        assert_eq!(resources, RESOURCE_TYPES);
        assert_eq!(data_sources, DATA_SOURCE_TYPES);
        let ephemerals: Vec<&str> = p
            .ephemeral_resources()
            .iter()
            .map(|e| e.type_name())
            .collect();
        assert_eq!(ephemerals, EPHEMERAL_TYPES);
        let lists: Vec<&str> = p.list_resources().iter().map(|l| l.type_name()).collect();
        assert_eq!(lists, LIST_TYPES);
        // Every list resource lists a managed resource that has an identity.
        for l in p.list_resources() {
            let r = p
                .resources()
                .into_iter()
                .find(|r| r.type_name() == l.type_name());
            assert!(
                r.and_then(|r| r.identity_schema()).is_some(),
                "{}",
                l.type_name()
            );
        }
        let functions: Vec<&str> = p.functions().iter().map(|f| f.name()).collect();
        assert_eq!(functions, FUNCTIONS);
    }
}
