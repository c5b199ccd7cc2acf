//! What CreateAddon and UpdateAddon ask for: their members read from the
//! body and the checks that need nothing but the request (and the
//! catalogue's schema): `resolveConflicts`, `podIdentityAssociations`,
//! `configurationValues` (FACTS.md F8), `serviceAccountRoleArn` (F2, F3).
//!
//! Does not own the checks that need the region (the cluster, the addon,
//! the service accounts in use) or the IAM look-ups: `addons` does.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use serde_json::Value;

use crate::catalogue::AddonSpec;
use crate::config_schema;
use crate::error::ApiError;
use crate::iam::check_pass_role;
use crate::ids;
use crate::wire::{fingerprint, opt_str, opt_tags, req_str};

/// The operation names idempotency records are kept under.
pub(super) const CREATE_OP: &str = "CreateAddon";
pub(super) const UPDATE_OP: &str = "UpdateAddon";

/// CreateAddon's members.
pub(super) struct CreateRequest {
    pub addon_name: String,
    pub version: Option<String>,
    pub sa_role: Option<String>,
    pub token: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub configuration_values: Option<String>,
    pub pod_identity: Vec<PodIdentityRequest>,
    pub namespace_config: Option<String>,
    /// The request's fingerprint, for `clientRequestToken` replays.
    pub fp: String,
}

impl CreateRequest {
    /// Reads the body, in the order EKS reports problems.
    pub fn parse(cluster: &str, body: &Value) -> Result<CreateRequest, ApiError> {
        let addon_name = req_str(body, "addonName")?;
        let version = opt_str(body, "addonVersion")?.filter(|v| !v.is_empty());
        let sa_role = opt_str(body, "serviceAccountRoleArn")?;
        check_resolve_conflicts(body)?;
        Ok(CreateRequest {
            addon_name,
            version,
            sa_role,
            token: opt_str(body, "clientRequestToken")?,
            tags: opt_tags(body)?.unwrap_or_default(),
            configuration_values: opt_str(body, "configurationValues")?.filter(|v| !v.is_empty()),
            pod_identity: parse_pod_identity(body)?.unwrap_or_default(),
            namespace_config: body
                .pointer("/namespaceConfig/namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            fp: fingerprint(&format!("{CREATE_OP}/{cluster}"), body),
        })
    }
}

/// UpdateAddon's members. `serviceAccountRoleArn` left out means the addon
/// loses its IRSA role and falls back to the node role (FACTS.md F1); `""`
/// is refused (F2).
pub(super) struct UpdateRequest {
    pub version: Option<String>,
    pub sa_role: Option<String>,
    pub resolve: Option<String>,
    pub token: Option<String>,
    pub configuration_values: Option<String>,
    /// Left out: no change; `[]`: delete the owned associations.
    pub pod_identity: Option<Vec<PodIdentityRequest>>,
    /// The request's fingerprint, for `clientRequestToken` replays.
    pub fp: String,
}

impl UpdateRequest {
    /// Reads the body, in the order EKS reports problems.
    pub fn parse(cluster: &str, addon_name: &str, body: &Value) -> Result<UpdateRequest, ApiError> {
        Ok(UpdateRequest {
            version: opt_str(body, "addonVersion")?.filter(|v| !v.is_empty()),
            sa_role: opt_str(body, "serviceAccountRoleArn")?,
            resolve: check_resolve_conflicts(body)?,
            token: opt_str(body, "clientRequestToken")?,
            configuration_values: opt_str(body, "configurationValues")?,
            pod_identity: parse_pod_identity(body)?,
            fp: fingerprint(&format!("{UPDATE_OP}/{cluster}/{addon_name}"), body),
        })
    }
}

/// One `{serviceAccount, roleArn}` of a request.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PodIdentityRequest {
    pub service_account: String,
    pub role_arn: String,
}

fn parse_pod_identity(body: &Value) -> Result<Option<Vec<PodIdentityRequest>>, ApiError> {
    let items = match body.get("podIdentityAssociations") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "podIdentityAssociations must be a list",
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut seen = BTreeSet::new();
    for item in items {
        let service_account = req_str(item, "serviceAccount")?;
        let role_arn = req_str(item, "roleArn")?;
        if !seen.insert(service_account.clone()) {
            return Err(ApiError::invalid_parameter(format!(
                "Service account {service_account} appears more than once in the pod identity configuration"
            )));
        }
        out.push(PodIdentityRequest {
            service_account,
            role_arn,
        });
    }
    Ok(Some(out))
}

fn check_resolve_conflicts(body: &Value) -> Result<Option<String>, ApiError> {
    let value = opt_str(body, "resolveConflicts")?;
    if let Some(v) = &value
        && !["OVERWRITE", "NONE", "PRESERVE"].contains(&v.as_str())
    {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{v}' at 'resolveConflicts' failed to satisfy constraint: Member must satisfy enum value set: [OVERWRITE, NONE, PRESERVE]"
        )));
    }
    Ok(value)
}

/// `configurationValues` against the schema DescribeAddonConfiguration
/// serves for the addon (FACTS.md F8). An unknown addon has no schema: its
/// own error comes first.
pub(super) fn check_configuration_values(
    values: Option<&str>,
    spec: Option<&AddonSpec>,
) -> Result<(), ApiError> {
    match (values, spec) {
        (Some(v), Some(spec)) => config_schema::check(v, &spec.configuration_schema),
        _ => Ok(()),
    }
}

/// `serviceAccountRoleArn` as EKS checks it when present: in the cluster's
/// account and not empty (FACTS.md F2, F3: `Cross-account pass role is not
/// allowed.`), then a role ARN.
pub(super) fn check_service_account_role(account: &str, role: &str) -> Result<(), ApiError> {
    check_pass_role(account, role)?;
    if ids::parse_role_arn(role).is_none() {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid role ARN: {role}"
        )));
    }
    Ok(())
}
