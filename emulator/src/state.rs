//! The emulator's world: per-account, per-region resources (clusters, pod
//! identity associations, addons, updates), idempotency records and
//! delete tombstones, plus the fault injector.
//!
//! This module owns the resource records and their JSON rendering in the
//! shapes of the EKS model; it does not validate requests (the operation
//! modules do) and does no I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::faults::{Faults, Injector};
use crate::iam::TrustLedger;
use crate::kube::KubeApi;

/// Everything the emulator holds.
#[derive(Debug, Default)]
pub struct World {
    /// Resources per (account, region).
    pub regions: BTreeMap<(String, String), Region>,
    /// Faults, counters and the random source.
    pub injector: Injector,
    /// The trust policies read from IAM (fault `trust_rewrite_delay_secs`).
    pub trust_ledger: TrustLedger,
}

impl World {
    /// The region's state, created empty on first use.
    pub fn region(&mut self, account: &str, region: &str) -> &mut Region {
        self.regions
            .entry((account.to_owned(), region.to_owned()))
            .or_default()
    }

    /// The region's state with its due addon transitions completed.
    pub fn settled(&mut self, account: &str, region: &str) -> &mut Region {
        let faults = self.injector.faults.clone();
        let r = self.region(account, region);
        r.settle(&faults);
        r
    }

    /// Brings every addon transition that is due to its end.
    pub fn settle_all(&mut self) {
        let faults = self.injector.faults.clone();
        for region in self.regions.values_mut() {
            region.settle(&faults);
        }
    }
}

/// Resources of one account in one region.
#[derive(Debug, Default)]
pub struct Region {
    /// Clusters by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// Pod identity associations by ID.
    pub associations: BTreeMap<String, Association>,
    /// Addons by (cluster, addon name).
    pub addons: BTreeMap<(String, String), Addon>,
    /// Updates by ID.
    pub updates: BTreeMap<String, Update>,
    /// Idempotency records by (operation, cluster, clientRequestToken).
    pub tokens: HashMap<(String, String, String), Idempotent>,
    /// Recently deleted associations by (cluster, namespace, service account).
    pub tombstones: HashMap<(String, String, String), Tombstone>,
    /// Sequence for creation order.
    pub seq: u64,
}

/// A request already answered under a clientRequestToken.
#[derive(Debug, Clone)]
pub struct Idempotent {
    /// The canonical request (path + body) it answered.
    pub fingerprint: String,
    /// The response body it returned.
    pub response: Value,
}

/// A deleted association, remembered for the delete-consistency fault.
#[derive(Debug, Clone)]
pub struct Tombstone {
    /// When it was deleted.
    pub at: Instant,
    /// Its ID.
    pub id: String,
}

impl Region {
    /// Next creation sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The association for a service account, if any.
    pub fn find_association_by_service_account(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Option<&Association> {
        self.associations.values().find(|a| {
            a.cluster_name == cluster
                && a.namespace == namespace
                && a.service_account == service_account
        })
    }

    /// Fails unless the cluster exists and is ACTIVE.
    pub fn require_active_cluster(&self, name: &str) -> Result<&Cluster, ApiError> {
        let cluster = self
            .clusters
            .get(name)
            .ok_or_else(|| ApiError::cluster_not_found(name))?;
        if cluster.status != "ACTIVE" {
            return Err(ApiError::invalid_request(format!(
                "Cluster '{name}' is not in ACTIVE status"
            ))
            .cluster(name));
        }
        Ok(cluster)
    }

    /// ARNs of the associations an addon owns, in creation order.
    pub fn owned_associations(&self, owner_arn: &str) -> Vec<&Association> {
        let mut owned: Vec<&Association> = self
            .associations
            .values()
            .filter(|a| a.owner_arn.as_deref() == Some(owner_arn))
            .collect();
        owned.sort_by_key(|a| a.seq);
        owned
    }

    /// Removes a cluster and everything in it.
    pub fn remove_cluster(&mut self, name: &str) -> Option<Cluster> {
        let cluster = self.clusters.remove(name)?;
        self.associations.retain(|_, a| a.cluster_name != name);
        self.addons.retain(|(c, _), _| c != name);
        self.updates.retain(|_, u| u.cluster_name != name);
        self.tombstones.retain(|(c, _, _), _| c != name);
        self.tokens.retain(|(_, c, _), _| c != name);
        Some(cluster)
    }

    /// Brings every addon transition that is due to its end, applying the
    /// `addon_fail` fault.
    pub fn settle(&mut self, faults: &Faults) {
        let now = Instant::now();
        for cluster in self.clusters.values_mut() {
            if cluster.active_at.is_some_and(|at| at <= now) {
                cluster.active_at = None;
                cluster.status = "ACTIVE".to_owned();
            }
        }
        let mut gone = Vec::new();
        for (key, addon) in self.addons.iter_mut() {
            let Some(pending) = addon.pending.clone() else {
                apply_lasting_health(addon, faults);
                continue;
            };
            if pending.until > now {
                continue;
            }
            addon.pending = None;
            addon.modified_at = crate::ids::now_epoch();
            let failure = faults
                .addon_fail
                .as_ref()
                .filter(|f| f.addon_name == addon.addon_name);
            match pending.transition {
                Transition::Delete => gone.push(key.clone()),
                Transition::Create | Transition::Update { .. } => {
                    let update_id = match &pending.transition {
                        Transition::Update { update_id } => Some(update_id.clone()),
                        _ => None,
                    };
                    match failure {
                        Some(f) => {
                            addon.status = match (&pending.transition, f.status.as_str()) {
                                (Transition::Create, "UPDATE_FAILED") => "CREATE_FAILED".to_owned(),
                                (Transition::Update { .. }, "CREATE_FAILED") => {
                                    "UPDATE_FAILED".to_owned()
                                }
                                (_, s) => s.to_owned(),
                            };
                            addon.health = vec![json!({
                                "code": f.code,
                                "message": f.message,
                                "resourceIds": [],
                            })];
                            if let Some(u) = update_id.and_then(|id| self.updates.get_mut(&id)) {
                                u.status = "Failed".to_owned();
                                u.errors = vec![json!({
                                    "errorCode": f.code,
                                    "errorMessage": f.message,
                                    "resourceIds": [],
                                })];
                            }
                        }
                        None => {
                            addon.status = "ACTIVE".to_owned();
                            addon.health = Vec::new();
                            addon.lasting_health = false;
                            // A lasting health issue does not fail the
                            // update: the Update is Successful and the
                            // addon DEGRADED (FACTS.md F5).
                            apply_lasting_health(addon, faults);
                            if let Some(u) = update_id.and_then(|id| self.updates.get_mut(&id)) {
                                u.status = "Successful".to_owned();
                            }
                        }
                    }
                }
            }
        }
        for key in gone {
            self.remove_deleted_addon(&key, now);
        }
    }

    /// Removes an addon whose delete completed: its service accounts
    /// (unless `preserve`) and its associations (kept and made standalone
    /// with `preserve`; else removed, with a tombstone).
    fn remove_deleted_addon(&mut self, key: &(String, String), now: Instant) {
        let Some(addon) = self.addons.remove(key) else {
            return;
        };
        if !addon.preserve {
            let kube = self
                .clusters
                .get(&addon.cluster_name)
                .and_then(|c| c.kube.clone());
            if let Some(kube) = kube {
                let mut store = kube.lock();
                for sa in &addon.service_accounts {
                    store
                        .delete(
                            crate::kube::Kind::ServiceAccount,
                            Some(&addon.namespace),
                            sa,
                        )
                        .ok();
                }
            }
        }
        let owned: Vec<String> = self
            .owned_associations(&addon.addon_arn)
            .into_iter()
            .map(|a| a.association_id.clone())
            .collect();
        for id in owned {
            if addon.preserve {
                // Preserved associations outlive their owner and become
                // standalone, so they can be managed (or adopted) again.
                if let Some(a) = self.associations.get_mut(&id) {
                    a.owner_arn = None;
                }
            } else if let Some(a) = self.associations.remove(&id) {
                self.tombstones.insert(
                    (
                        a.cluster_name.clone(),
                        a.namespace.clone(),
                        a.service_account.clone(),
                    ),
                    Tombstone {
                        at: now,
                        id: a.association_id.clone(),
                    },
                );
            }
        }
    }
}

/// Applies the `addon_degraded` fault to an addon at rest (FACTS.md F5):
/// ACTIVE becomes DEGRADED with the issue while the fault names the addon,
/// and returns to ACTIVE when it no longer does. Other statuses (failed
/// ones, transitions) are left alone.
fn apply_lasting_health(addon: &mut Addon, faults: &Faults) {
    let at_rest = addon.status == "ACTIVE" || (addon.status == "DEGRADED" && addon.lasting_health);
    if !at_rest {
        return;
    }
    match faults.degraded(&addon.addon_name) {
        Some(h) => {
            let issue = json!({"code": h.code, "message": h.message, "resourceIds": []});
            if addon.status != "DEGRADED" || addon.health.first() != Some(&issue) {
                addon.status = "DEGRADED".to_owned();
                addon.health = vec![issue];
                addon.lasting_health = true;
                addon.modified_at = crate::ids::now_epoch();
            }
        }
        None if addon.lasting_health => {
            addon.status = "ACTIVE".to_owned();
            addon.health = Vec::new();
            addon.lasting_health = false;
            addon.modified_at = crate::ids::now_epoch();
        }
        None => {}
    }
}

/// A cluster (always ACTIVE once created).
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Kubernetes version.
    pub version: String,
    /// API server endpoint.
    pub endpoint: String,
    /// Cluster IAM role.
    pub role_arn: String,
    /// Status.
    pub status: String,
    /// When a CREATING cluster becomes ACTIVE.
    pub active_at: Option<Instant>,
    /// OIDC issuer URL.
    pub oidc_issuer: String,
    /// Base64 PEM of the cluster CA.
    pub certificate_authority: String,
    /// Cluster UUID.
    pub id: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `resourcesVpcConfig` as returned.
    pub vpc_config: Value,
    /// `kubernetesNetworkConfig` as returned.
    pub network_config: Value,
    /// `accessConfig` as returned.
    pub access_config: Value,
    /// `computeConfig` as returned (Auto Mode), when given.
    pub compute_config: Option<Value>,
    /// `storageConfig`, when given.
    pub storage_config: Option<Value>,
    /// `logging` as returned.
    pub logging: Value,
    /// `upgradePolicy` as returned.
    pub upgrade_policy: Value,
    /// `deletionProtection`.
    pub deletion_protection: bool,
    /// The cluster's Kubernetes API, when served.
    pub kube: Option<Arc<KubeApi>>,
}

impl Cluster {
    /// The `Cluster` shape.
    pub fn to_json(&self) -> Value {
        let mut c = json!({
            "name": self.name,
            "arn": self.arn,
            "createdAt": self.created_at,
            "version": self.version,
            "endpoint": self.endpoint,
            "roleArn": self.role_arn,
            "resourcesVpcConfig": self.vpc_config,
            "kubernetesNetworkConfig": self.network_config,
            "logging": self.logging,
            "identity": {"oidc": {"issuer": self.oidc_issuer}},
            "status": self.status,
            "certificateAuthority": {"data": self.certificate_authority},
            "platformVersion": "eks.1",
            "tags": self.tags,
            "id": self.id,
            "health": {"issues": []},
            "accessConfig": self.access_config,
            "upgradePolicy": self.upgrade_policy,
            "deletionProtection": self.deletion_protection,
        });
        if let Some(obj) = c.as_object_mut() {
            if let Some(compute) = &self.compute_config {
                obj.insert("computeConfig".into(), compute.clone());
            }
            if let Some(storage) = &self.storage_config {
                obj.insert("storageConfig".into(), storage.clone());
            }
        }
        c
    }
}

/// A pod identity association.
#[derive(Debug, Clone)]
pub struct Association {
    /// Cluster name.
    pub cluster_name: String,
    /// Namespace.
    pub namespace: String,
    /// Service account.
    pub service_account: String,
    /// Role assumed by the pods.
    pub role_arn: String,
    /// ARN.
    pub association_arn: String,
    /// ID.
    pub association_id: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Creation time.
    pub created_at: f64,
    /// Last modification.
    pub modified_at: f64,
    /// The owning addon's ARN.
    pub owner_arn: Option<String>,
    /// Session tags disabled.
    pub disable_session_tags: bool,
    /// Cross-account target role.
    pub target_role_arn: Option<String>,
    /// External ID for the target role's trust.
    pub external_id: Option<String>,
    /// Session policy.
    pub policy: Option<String>,
    /// Creation order.
    pub seq: u64,
}

impl Association {
    /// The `PodIdentityAssociation` shape.
    pub fn to_json(&self) -> Value {
        let mut a = Map::new();
        a.insert("clusterName".into(), self.cluster_name.clone().into());
        a.insert("namespace".into(), self.namespace.clone().into());
        a.insert("serviceAccount".into(), self.service_account.clone().into());
        a.insert("roleArn".into(), self.role_arn.clone().into());
        a.insert("associationArn".into(), self.association_arn.clone().into());
        a.insert("associationId".into(), self.association_id.clone().into());
        a.insert("tags".into(), json!(self.tags));
        a.insert("createdAt".into(), self.created_at.into());
        a.insert("modifiedAt".into(), self.modified_at.into());
        if let Some(owner) = &self.owner_arn {
            a.insert("ownerArn".into(), owner.clone().into());
        }
        a.insert(
            "disableSessionTags".into(),
            self.disable_session_tags.into(),
        );
        if let Some(target) = &self.target_role_arn {
            a.insert("targetRoleArn".into(), target.clone().into());
        }
        if let Some(external) = &self.external_id {
            a.insert("externalId".into(), external.clone().into());
        }
        if let Some(policy) = &self.policy {
            a.insert("policy".into(), policy.clone().into());
        }
        Value::Object(a)
    }

    /// The `PodIdentityAssociationSummary` shape (no roleArn, no tags).
    pub fn summary_json(&self) -> Value {
        let mut a = Map::new();
        a.insert("clusterName".into(), self.cluster_name.clone().into());
        a.insert("namespace".into(), self.namespace.clone().into());
        a.insert("serviceAccount".into(), self.service_account.clone().into());
        a.insert("associationArn".into(), self.association_arn.clone().into());
        a.insert("associationId".into(), self.association_id.clone().into());
        if let Some(owner) = &self.owner_arn {
            a.insert("ownerArn".into(), owner.clone().into());
        }
        Value::Object(a)
    }
}

/// A transition an addon is going through.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// CREATING → ACTIVE.
    Create,
    /// UPDATING → ACTIVE, completing an Update.
    Update {
        /// The update's ID.
        update_id: String,
    },
    /// DELETING → gone.
    Delete,
}

/// A transition in progress, due at `until`.
#[derive(Debug, Clone)]
pub struct Pending {
    /// When it completes.
    pub until: Instant,
    /// What completes.
    pub transition: Transition,
}

/// An installed addon.
#[derive(Debug, Clone)]
pub struct Addon {
    /// Addon name.
    pub addon_name: String,
    /// Cluster name.
    pub cluster_name: String,
    /// Status.
    pub status: String,
    /// Installed version.
    pub addon_version: String,
    /// Health issues (`AddonIssue` shapes).
    pub health: Vec<Value>,
    /// ARN.
    pub addon_arn: String,
    /// Creation time.
    pub created_at: f64,
    /// Last modification.
    pub modified_at: f64,
    /// IRSA role.
    pub service_account_role_arn: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Publisher.
    pub publisher: String,
    /// Owner.
    pub owner: String,
    /// Configuration values (JSON or YAML string).
    pub configuration_values: Option<String>,
    /// Namespace from the request's namespaceConfig, if given.
    pub namespace_config: Option<String>,
    /// The namespace the addon (and its associations) live in.
    pub namespace: String,
    /// Transition in progress.
    pub pending: Option<Pending>,
    /// Delete with `preserve=true`: keep the owned associations.
    pub preserve: bool,
    /// Service accounts the addon created in the cluster's Kubernetes API.
    pub service_accounts: Vec<String>,
    /// The status and health come from the `addon_degraded` fault (and go
    /// back to ACTIVE when it is lifted).
    pub lasting_health: bool,
}

impl Addon {
    /// The `Addon` shape; `associations` are the owned association ARNs.
    pub fn to_json(&self, associations: Vec<String>) -> Value {
        let mut a = Map::new();
        a.insert("addonName".into(), self.addon_name.clone().into());
        a.insert("clusterName".into(), self.cluster_name.clone().into());
        a.insert("status".into(), self.status.clone().into());
        a.insert("addonVersion".into(), self.addon_version.clone().into());
        a.insert("health".into(), json!({ "issues": self.health }));
        a.insert("addonArn".into(), self.addon_arn.clone().into());
        a.insert("createdAt".into(), self.created_at.into());
        a.insert("modifiedAt".into(), self.modified_at.into());
        if let Some(role) = &self.service_account_role_arn {
            a.insert("serviceAccountRoleArn".into(), role.clone().into());
        }
        a.insert("tags".into(), json!(self.tags));
        a.insert("publisher".into(), self.publisher.clone().into());
        a.insert("owner".into(), self.owner.clone().into());
        if let Some(values) = &self.configuration_values {
            a.insert("configurationValues".into(), values.clone().into());
        }
        a.insert("podIdentityAssociations".into(), json!(associations));
        if let Some(ns) = &self.namespace_config {
            a.insert("namespaceConfig".into(), json!({ "namespace": ns }));
        }
        Value::Object(a)
    }
}

/// An update of an addon.
#[derive(Debug, Clone)]
pub struct Update {
    /// ID (UUID).
    pub id: String,
    /// Cluster name.
    pub cluster_name: String,
    /// Addon name.
    pub addon_name: String,
    /// InProgress, Failed, Cancelled or Successful.
    pub status: String,
    /// `UpdateParam` shapes.
    pub params: Vec<Value>,
    /// Creation time.
    pub created_at: f64,
    /// `ErrorDetail` shapes.
    pub errors: Vec<Value>,
    /// Creation order.
    pub seq: u64,
}

impl Update {
    /// The `Update` shape.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "type": "AddonUpdate",
            "params": self.params,
            "createdAt": self.created_at,
            "errors": self.errors,
        })
    }
}

/// The response recorded for `token` of operation `op` on `cluster`, when
/// the same request comes again (EKS `clientRequestToken` idempotency); a
/// token reused for a different request is refused, as EKS does.
pub(crate) fn replay(
    region: &Region,
    op: &str,
    cluster: &str,
    token: Option<&str>,
    fp: &str,
) -> Result<Option<Value>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    match region
        .tokens
        .get(&(op.to_owned(), cluster.to_owned(), token.to_owned()))
    {
        None => Ok(None),
        Some(rec) if rec.fingerprint == fp => Ok(Some(rec.response.clone())),
        Some(_) => Err(ApiError::invalid_request(format!(
            "The client request token {token} has already been used for a different request"
        ))),
    }
}

/// Records the response to a request carrying `token`, for [`replay`].
pub(crate) fn remember(
    region: &mut Region,
    op: &str,
    cluster: &str,
    token: Option<&str>,
    fp: String,
    response: &Value,
) {
    if let Some(token) = token {
        region.tokens.insert(
            (op.to_owned(), cluster.to_owned(), token.to_owned()),
            Idempotent {
                fingerprint: fp,
                response: response.clone(),
            },
        );
    }
}
