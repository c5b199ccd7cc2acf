//! Data source `eks_addon_pod_identity_configuration` (design §5): an addon
//! version's pod identity needs, with default/`latest` resolved. State and
//! spec: `schema::addon_config_data`.

use crate::aws::Clients;
use crate::aws::eks::{addon, cluster};
use crate::errors::to_diagnostic;
use crate::spec_map;
use async_trait::async_trait;
use schema::addon::{LATEST, Recommended};
use schema::addon_config_data::{self as spec, AddonConfigurationData};
use tfplugin::{
    AttrPath, Ctx, DataReadResponse, DataSource, Diagnostic, Diagnostics, Schema, Value,
};

/// The data source.
pub struct AddonPodIdentityConfiguration;

#[async_trait]
impl DataSource for AddonPodIdentityConfiguration {
    fn type_name(&self) -> &'static str {
        spec::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        spec_map::to_schema(&spec::spec())
    }

    async fn read(&self, ctx: &Ctx, config: Value) -> DataReadResponse {
        let mut resp = DataReadResponse {
            state: Value::Null,
            diagnostics: Diagnostics::default(),
        };
        let Some(c) = ctx.data::<Clients>() else {
            resp.diagnostics.push(Diagnostic::error(
                "Provider not configured",
                "This is a bug in the provider or Terraform.",
            ));
            return resp;
        };
        let mut d: AddonConfigurationData = match spec_map::from_value(&config, "configuration") {
            Ok(d) => d,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        let c = match crate::resources::regional(&c, d.region.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                resp.diagnostics.push(e);
                return resp;
            }
        };
        match describe(&c, &mut d).await {
            Ok(()) => match spec_map::to_value(&d, &self.schema()) {
                Ok(v) => resp.state = v,
                Err(e) => resp.diagnostics.push(e),
            },
            Err(e) => resp.diagnostics.push(e),
        }
        resp
    }
}

async fn describe(c: &Clients, d: &mut AddonConfigurationData) -> Result<(), Diagnostic> {
    let summary = format!("describing addon {}", d.addon_name);
    let version = match d.addon_version.as_deref() {
        Some(v) if v != LATEST => v.to_string(),
        asked => {
            let k8s = match (&d.kubernetes_version, &d.cluster_name) {
                (Some(k), _) => k.clone(),
                (None, Some(cluster)) => match cluster::find_by_name(c, cluster).await {
                    Ok(Some(cl)) => cl.version.unwrap_or_default(),
                    Ok(None) => {
                        return Err(Diagnostic::error(
                            format!("Cluster {cluster} not found"),
                            "Check cluster_name and region (null: the provider's region).",
                        )
                        .at(AttrPath::root("cluster_name")));
                    }
                    Err(e) => return Err(to_diagnostic(summary, &e)),
                },
                (None, None) => {
                    return Err(Diagnostic::error(
                        "A Kubernetes version is needed",
                        "To resolve the default or `latest` addon version, set kubernetes_version (such as \"1.31\") or cluster_name, or give addon_version exactly.",
                    )
                    .at(AttrPath::root("addon_version")));
                }
            };
            let versions = match addon::find_versions(c, &d.addon_name, &k8s).await {
                Ok(Some(v)) => v,
                Ok(None) => {
                    return Err(Diagnostic::error(
                        format!("Addon {} is not available", d.addon_name),
                        format!(
                            "Addon {} specified is not supported in {k8s} kubernetes version.",
                            d.addon_name
                        ),
                    )
                    .at(AttrPath::root("addon_name")));
                }
                Err(e) => return Err(to_diagnostic(summary, &e)),
            };
            let chosen = if asked == Some(LATEST) {
                addon::newest(&versions.versions)
            } else {
                versions.default.clone()
            };
            chosen.ok_or_else(|| {
                Diagnostic::error(
                    format!("No version of {} for Kubernetes {k8s}", d.addon_name),
                    "",
                )
            })?
        }
    };
    let conf = addon::find_pod_identity_configuration(c, &d.addon_name, &version)
        .await
        .map_err(|e| to_diagnostic(summary.clone(), &e))?;
    let requires_iam = addon::find_requires_iam(c, &d.addon_name, &version)
        .await
        .map_err(|e| to_diagnostic(summary, &e))?;
    d.resolved_version = Some(version);
    d.supports_pod_identity = Some(!conf.is_empty());
    d.requires_iam_permissions = Some(requires_iam);
    d.service_accounts = Some(
        conf.into_iter()
            .map(|(sa, policies)| Recommended {
                service_account: sa,
                managed_policy_arns: policies,
            })
            .collect(),
    );
    Ok(())
}
