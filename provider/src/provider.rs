//! The provider: its configuration block, and the one list of resources and
//! data sources it serves.
//!
//! Owns: registration (exactly the types `schema::registry` lists, which
//! docgen documents) and ConfigureProvider (building [`Clients`]). Does not
//! own: any resource logic.

use crate::aws::Clients;
use crate::data_sources::addon_pod_identity_configuration::AddonPodIdentityConfiguration;
use crate::data_sources::pod_identity_associations::PodIdentityAssociations;
use crate::data_sources::well_known_policy::WellKnownPolicy;
use crate::errors::config_diagnostic;
use crate::resources::addon_pod_identity::AddonPodIdentity;
use crate::resources::pod_identity_association::PodIdentityAssociation;
use crate::resources::pod_identity_migration::PodIdentityMigration;
use crate::spec_map;
use async_trait::async_trait;
use schema::provider_config::{self, ProviderConfig};
use std::any::Any;
use std::sync::Arc;
use tfplugin::{
    DataSource, Diagnostics, EphemeralResource, Function, Provider, Resource, Schema, Value,
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

    async fn configure(
        &self,
        config: &Value,
        _terraform_version: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics> {
        if !config.is_fully_known() {
            // Values from resources not yet created; Terraform calls us again
            // at apply. Unknowns read as unset here.
            tracing::info!(
                "provider configuration has values known only at apply; they count as unset for now"
            );
        }
        let cfg: ProviderConfig =
            spec_map::from_value(config, "provider configuration").map_err(Diagnostics::from)?;
        match Clients::new(&cfg).await {
            Ok(c) => {
                tracing::info!(region = %c.region, "eks provider configured for region {}", c.region);
                Ok(Arc::new(c))
            }
            Err(e) => Err(Diagnostics::from(config_diagnostic(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schema::registry::{DATA_SOURCE_TYPES, EPHEMERAL_TYPES, FUNCTIONS, RESOURCE_TYPES};

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
        let functions: Vec<&str> = p.functions().iter().map(|f| f.name()).collect();
        assert_eq!(functions, FUNCTIONS);
    }
}
