//! CreateCluster, DescribeCluster, ListClusters and DeleteCluster.
//!
//! Clusters are ACTIVE as soon as they are created; each gets a unique OIDC
//! issuer and endpoint, a CA, and the Auto Mode `computeConfig` when asked.
//! Deleting a cluster removes its associations, addons and updates.

use base64::Engine;
use serde_json::{Value, json};

use crate::Emulator;
use std::sync::Arc;

use crate::error::{ApiError, Code};
use crate::state::Cluster;
use crate::wire::{Ctx, opt_bool, opt_str, opt_tags, paginate, req_str};
use crate::{ids, kube};

/// Kubernetes version of a cluster created without one.
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.31";

fn valid_cluster_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 100
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn fake_ca() -> String {
    let mut der = Vec::with_capacity(64);
    for _ in 0..4 {
        der.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    let inner = base64::engine::general_purpose::STANDARD.encode(der);
    let pem = format!("-----BEGIN CERTIFICATE-----\n{inner}\n-----END CERTIFICATE-----\n");
    base64::engine::general_purpose::STANDARD.encode(pem)
}

/// What CreateCluster asks for, checked.
struct CreateRequest {
    name: String,
    role_arn: String,
    version: String,
    tags: std::collections::BTreeMap<String, String>,
    deletion_protection: bool,
}

/// CreateCluster.
pub fn create(em: &Emulator, ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req = parse_create(em, &body)?;
    let oidc = ids::oidc_id();
    let region = &ctx.region;
    let kube = start_kubernetes_api(em, &req.name)?;
    let (endpoint, certificate_authority) = endpoint_and_ca(kube.as_deref(), &oidc, region);
    let cluster = Cluster {
        arn: ids::cluster_arn(region, &ctx.account, &req.name),
        created_at: ids::now_epoch(),
        version: req.version,
        endpoint,
        role_arn: req.role_arn,
        status: "ACTIVE".to_owned(),
        active_at: None,
        oidc_issuer: format!("https://oidc.eks.{region}.amazonaws.com/id/{oidc}"),
        certificate_authority,
        id: ids::uuid(),
        tags: req.tags,
        vpc_config: vpc_config_of(&body, &oidc),
        network_config: network_config_of(&body),
        access_config: access_config_of(&body),
        compute_config: compute_config_of(&body),
        storage_config: body.get("storageConfig").filter(|v| v.is_object()).cloned(),
        logging: logging_of(&body),
        upgrade_policy: upgrade_policy_of(&body),
        deletion_protection: req.deletion_protection,
        kube,
        name: req.name,
    };
    insert(em, ctx, cluster)
}

/// The request's own checks, in EKS's order: name, role, VPC, version.
fn parse_create(em: &Emulator, body: &Value) -> Result<CreateRequest, ApiError> {
    let name = req_str(body, "name")?;
    if !valid_cluster_name(&name) {
        return Err(ApiError::invalid_parameter(format!(
            "The cluster name {name} is invalid: it must match ^[0-9A-Za-z][A-Za-z0-9\\-_]* and be 1 to 100 characters long"
        )));
    }
    let role_arn = req_str(body, "roleArn")?;
    if !body.get("resourcesVpcConfig").is_some_and(Value::is_object) {
        return Err(ApiError::invalid_parameter(
            "resourcesVpcConfig is a required parameter",
        ));
    }
    let version =
        opt_str(body, "version")?.unwrap_or_else(|| DEFAULT_KUBERNETES_VERSION.to_owned());
    if !em.catalogue.kubernetes_versions.contains(&version) {
        return Err(ApiError::invalid_parameter(format!(
            "unsupported Kubernetes version {version}"
        )));
    }
    Ok(CreateRequest {
        name,
        role_arn,
        version,
        tags: opt_tags(body)?.unwrap_or_default(),
        deletion_protection: opt_bool(body, "deletionProtection")?.unwrap_or(false),
    })
}

/// The cluster's own Kubernetes API, when the emulator serves them.
fn start_kubernetes_api(em: &Emulator, name: &str) -> Result<Option<Arc<kube::KubeApi>>, ApiError> {
    if !em.config.kubernetes_api {
        return Ok(None);
    }
    let api = kube::start(name).map_err(|e| {
        ApiError::new(
            Code::Server,
            format!("Unable to start the cluster's Kubernetes API: {e}"),
        )
    })?;
    Ok(Some(Arc::new(api)))
}

/// The endpoint and CA: the served Kubernetes API's, or made-up ones.
fn endpoint_and_ca(kube: Option<&kube::KubeApi>, oidc: &str, region: &str) -> (String, String) {
    match kube {
        Some(api) => (
            api.endpoint.clone(),
            base64::engine::general_purpose::STANDARD.encode(&api.ca_pem),
        ),
        None => (
            format!("https://{oidc}.gr7.{region}.eks.amazonaws.com"),
            fake_ca(),
        ),
    }
}

/// `resourcesVpcConfig` as DescribeCluster shows it (defaults filled in,
/// IDs made from the OIDC ID).
fn vpc_config_of(body: &Value, oidc: &str) -> Value {
    let vpc = body.get("resourcesVpcConfig").unwrap_or(&Value::Null);
    json!({
        "subnetIds": vpc.get("subnetIds").cloned().unwrap_or(json!([])),
        "securityGroupIds": vpc.get("securityGroupIds").cloned().unwrap_or(json!([])),
        "clusterSecurityGroupId": format!("sg-{}", &oidc[..17].to_ascii_lowercase()),
        "vpcId": format!("vpc-{}", &oidc[15..32].to_ascii_lowercase()),
        "endpointPublicAccess": vpc.get("endpointPublicAccess").and_then(Value::as_bool).unwrap_or(true),
        "endpointPrivateAccess": vpc.get("endpointPrivateAccess").and_then(Value::as_bool).unwrap_or(false),
        "publicAccessCidrs": vpc.get("publicAccessCidrs").cloned().unwrap_or(json!(["0.0.0.0/0"])),
    })
}

/// `kubernetesNetworkConfig`, with an IPv6 service range for IPv6.
fn network_config_of(body: &Value) -> Value {
    let requested_net = body.get("kubernetesNetworkConfig");
    let ip_family = requested_net
        .and_then(|n| n.get("ipFamily"))
        .and_then(Value::as_str)
        .unwrap_or("ipv4");
    let mut network_config = json!({
        "serviceIpv4Cidr": requested_net
            .and_then(|n| n.get("serviceIpv4Cidr"))
            .and_then(Value::as_str)
            .unwrap_or("10.100.0.0/16"),
        "ipFamily": ip_family,
    });
    if ip_family == "ipv6"
        && let Some(obj) = network_config.as_object_mut()
    {
        obj.insert("serviceIpv6Cidr".into(), json!("fd00:ec2::/108"));
    }
    network_config
}

/// The Auto Mode `computeConfig`, when asked for.
fn compute_config_of(body: &Value) -> Option<Value> {
    body.get("computeConfig")
        .filter(|c| c.is_object())
        .map(|c| {
            let enabled = c.get("enabled").and_then(Value::as_bool).unwrap_or(false);
            let mut out = json!({ "enabled": enabled });
            if let Some(obj) = out.as_object_mut() {
                for key in ["nodePools", "nodeRoleArn"] {
                    if let Some(v) = c.get(key) {
                        obj.insert(key.into(), v.clone());
                    }
                }
            }
            out
        })
}

fn access_config_of(body: &Value) -> Value {
    json!({
        "bootstrapClusterCreatorAdminPermissions": body
            .pointer("/accessConfig/bootstrapClusterCreatorAdminPermissions")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        "authenticationMode": body
            .pointer("/accessConfig/authenticationMode")
            .and_then(Value::as_str)
            .unwrap_or("API_AND_CONFIG_MAP"),
    })
}

fn logging_of(body: &Value) -> Value {
    body.get("logging").cloned().unwrap_or_else(|| {
        json!({"clusterLogging": [{
            "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
            "enabled": false
        }]})
    })
}

fn upgrade_policy_of(body: &Value) -> Value {
    json!({
        "supportType": body
            .pointer("/upgradePolicy/supportType")
            .and_then(Value::as_str)
            .unwrap_or("EXTENDED"),
    })
}

/// Stores the new cluster (CREATING for a while under the
/// `cluster_creating_ms` fault), unless the name is taken.
fn insert(em: &Emulator, ctx: &Ctx, mut cluster: Cluster) -> Result<Value, ApiError> {
    let mut world = em.world();
    let creating_ms = world.injector.faults.cluster_creating_ms.unwrap_or(0);
    let region = world.settled(&ctx.account, &ctx.region);
    if region.clusters.contains_key(&cluster.name) {
        return Err(ApiError::in_use(format!(
            "Cluster already exists with name: {}",
            cluster.name
        ))
        .cluster(&cluster.name));
    }
    if creating_ms > 0 {
        cluster.status = "CREATING".to_owned();
        cluster.active_at =
            Some(std::time::Instant::now() + std::time::Duration::from_millis(creating_ms));
    }
    let out = cluster.to_json();
    region.clusters.insert(cluster.name.clone(), cluster);
    Ok(json!({ "cluster": out }))
}

/// DescribeCluster.
pub fn describe(em: &Emulator, ctx: &Ctx, name: &str) -> Result<Value, ApiError> {
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let cluster = region
        .clusters
        .get(name)
        .ok_or_else(|| ApiError::cluster_not_found(name))?;
    Ok(json!({ "cluster": cluster.to_json() }))
}

/// ListClusters.
pub fn list(em: &Emulator, ctx: &Ctx) -> Result<Value, ApiError> {
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let names: Vec<(String, String)> = region
        .clusters
        .keys()
        .map(|n| (n.clone(), n.clone()))
        .collect();
    let (page, next) = paginate(ctx, names)?;
    let mut out = json!({ "clusters": page });
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("nextToken".into(), next.into());
    }
    Ok(out)
}

/// DeleteCluster: the cluster is returned as DELETING and is gone at once,
/// with everything in it.
pub fn delete(em: &Emulator, ctx: &Ctx, name: &str) -> Result<Value, ApiError> {
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    match region.clusters.get(name) {
        None => return Err(ApiError::cluster_not_found(name)),
        Some(c) if c.deletion_protection => {
            return Err(ApiError::invalid_request(format!(
                "Cluster {name} has deletion protection enabled"
            ))
            .cluster(name));
        }
        Some(_) => {}
    }
    let mut cluster = region
        .remove_cluster(name)
        .ok_or_else(|| ApiError::cluster_not_found(name))?;
    cluster.status = "DELETING".to_owned();
    Ok(json!({ "cluster": cluster.to_json() }))
}
