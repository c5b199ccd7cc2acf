//! Ephemeral resource `eks_cluster_auth`: a cluster's endpoint, CA and a
//! short-lived EKS token, for configuring the Kubernetes or Helm provider
//! without writing the token anywhere. Result and spec:
//! `schema::cluster_auth`. One DescribeCluster and no other AWS call (the
//! token is presigned locally with the provider's credentials).

use crate::aws::Clients;
use crate::aws::eks::cluster;
use crate::aws::token::{TOKEN_EXPIRY, eks_token};
use crate::errors::to_diagnostic_at;
use crate::spec_map;
use async_trait::async_trait;
use schema::cluster_auth::{self as spec, ClusterAuth as Result_};
use tfplugin::{
    AttrPath, Ctx, Diagnostic, Diagnostics, EphemeralOpenResponse, EphemeralResource, Schema, Value,
};

/// The ephemeral resource.
pub struct ClusterAuth;

fn failed(d: Diagnostic) -> EphemeralOpenResponse {
    EphemeralOpenResponse {
        result: Value::Null,
        private: None,
        diagnostics: d.into(),
    }
}

/// `when` as RFC 3339 (UTC, whole seconds).
fn rfc3339(when: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(when).replace_nanosecond(0);
    t.ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[async_trait]
impl EphemeralResource for ClusterAuth {
    fn type_name(&self) -> &'static str {
        spec::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        spec_map::to_schema(&spec::spec())
    }

    async fn open(&self, ctx: &Ctx, config: Value) -> EphemeralOpenResponse {
        let Some(clients) = ctx.data::<Clients>() else {
            return failed(crate::resources::unconfigured());
        };
        let mut auth: Result_ = match spec_map::from_value(&config, "configuration") {
            Ok(a) => a,
            Err(d) => return failed(d),
        };
        let clients = match crate::resources::regional(&clients, auth.region.as_deref()) {
            Ok(c) => c,
            Err(d) => return failed(d),
        };
        let found = match cluster::find_by_name(&clients, &auth.name).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return failed(
                    Diagnostic::error(
                        "EKS cluster not found",
                        format!(
                            "There is no EKS cluster {:?} in {} for these credentials. Check `name` and `region` (null: the provider's).",
                            auth.name, clients.region
                        ),
                    )
                    .at(AttrPath::root("name")),
                );
            }
            Err(e) => {
                return failed(to_diagnostic_at(
                    format!("reading EKS cluster {}", auth.name),
                    &e,
                    "name",
                ));
            }
        };
        let expires = std::time::SystemTime::now() + TOKEN_EXPIRY;
        let token = match eks_token(&clients, &auth.name).await {
            Ok(t) => t,
            Err(e) => {
                return failed(Diagnostic::error(
                    format!("making an EKS token for cluster {}", auth.name),
                    format!("{e}. The token is presigned with the provider's AWS credentials."),
                ));
            }
        };
        auth.endpoint = found.endpoint;
        auth.cluster_ca_certificate = found.ca_data;
        auth.token = Some(token);
        auth.expiration = Some(rfc3339(expires));
        match spec_map::to_value(&auth, &self.schema()) {
            Ok(result) => EphemeralOpenResponse {
                result,
                private: None,
                diagnostics: Diagnostics::default(),
            },
            Err(d) => failed(d),
        }
    }
}
