//! Discovery for `eks_pod_identity_migration`, read-only: the agent, the
//! cluster's OIDC provider, addons on IRSA, IRSA service accounts, their
//! associations and their roles' trust policies.
//!
//! Owns: turning the cluster into a `schema::migration::Discovery` (the
//! task planner's input), the addons' namespaces, and plan notes
//! (warnings). Does not own: the task plan
//! (`schema::migration::plan_migration`) or any change.

use super::saved::CONCURRENCY;
use crate::aws::eks::addon::{self, AGENT_ADDON};
use crate::aws::eks::{association, cluster};
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::kube;
use futures::stream::{self, StreamExt};
use schema::migration::{
    self as rules, AddonFinding, Agent, Discovery, MigrationPlan, MigrationState, RoleFinding,
    ServiceAccountFinding,
};
use schema::names::parse_role_arn;
use schema::reserved_tags;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tfplugin::{AttrPath, Diagnostic};

/// Tags eksctl puts on the IRSA roles it makes for a cluster (value: the cluster).
const EKSCTL_CLUSTER_TAGS: [&str; 2] = [
    "alpha.eksctl.io/cluster-name",
    "eksctl.cluster.k8s.io/v1alpha1/cluster-name",
];

/// An existing association: (ID, role ARN).
type Existing = (String, String);

/// A service account to consider: (namespace, name, IRSA role ARN).
type Candidate = (String, String, String);

/// What discovery found of the cluster itself.
struct ClusterFacts {
    account: String,
    agent: Agent,
    oidc_provider_arn: Option<String>,
}

/// What discovery found: the planner's input, each IRSA addon's namespace,
/// and plan notes (warnings).
pub(super) struct Found {
    pub(super) discovery: Discovery,
    /// Addon name → its namespace, so that its service accounts are matched
    /// against its role's trust as `system:serviceaccount:<ns>:<sa>`.
    pub(super) addon_namespaces: BTreeMap<String, String>,
    pub(super) notes: Vec<Diagnostic>,
}

impl Found {
    /// The migration plan: an addon is switched only for the service
    /// accounts its IRSA trust allowed (issue 12 item 9).
    pub(super) fn plan(&self) -> MigrationPlan {
        rules::plan_migration(&self.discovery, &self.addon_namespaces)
    }
}

/// Finds what the plan needs (see the module documentation). `known` is
/// association ID → role of what a prior apply migrated. `None` when the
/// cluster does not exist (the caller decides: a warning at plan, an error
/// at apply).
pub(super) async fn discover(
    c: &Arc<Clients>,
    cfg: &MigrationState,
    known: &BTreeMap<String, String>,
) -> Result<Option<Found>, Diagnostic> {
    let cluster = &cfg.cluster_name;
    let summary = format!("planning the pod identity migration of cluster {cluster}");
    let mut notes = Vec::new();
    let Some(facts) = cluster_facts(c, cluster, &summary).await? else {
        return Ok(None);
    };
    if facts.agent == Agent::Missing && cfg.install_agent == Some(false) {
        notes.push(Diagnostic::warning(
            format!("Cluster {cluster} has no EKS Pod Identity agent"),
            "install_agent is false: the associations will be made, but pods get no credentials from them until the eks-pod-identity-agent addon runs.",
        ));
    }
    // Addons: those on IRSA. Their service accounts never migrate as plain ones.
    let (addons, addon_sas, addon_namespaces) = discover_addons(c, cluster, &mut notes)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    let addons: Vec<AddonFinding> = if cfg.include_addons == Some(false) {
        vec![]
    } else {
        addons
    };
    let (candidates, annotated) = candidates(c, cfg, &summary).await?;
    let (mut sas, roles_kept_on_irsa) = choose(
        cfg,
        &facts.account,
        candidates,
        &annotated,
        &addon_sas,
        &mut notes,
    );
    find_associations(c, cluster, known, &mut sas)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    let roles = find_roles(c, cluster, &sas, &addons)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    Ok(Some(Found {
        discovery: Discovery {
            agent: facts.agent,
            install_agent: cfg.install_agent != Some(false),
            remove_oidc_trust: cfg.remove_oidc_trust == Some(true),
            oidc_provider_arn: facts.oidc_provider_arn,
            addons,
            service_accounts: sas,
            roles,
            roles_kept_on_irsa,
        },
        addon_namespaces,
        notes,
    }))
}

/// The cluster's account, agent and OIDC provider; `None` when there is no
/// such cluster.
async fn cluster_facts(
    c: &Clients,
    cluster: &str,
    summary: &str,
) -> Result<Option<ClusterFacts>, Diagnostic> {
    let Some(found) = cluster::find_by_name(c, cluster)
        .await
        .map_err(|e| to_diagnostic(summary, &e))?
    else {
        return Ok(None);
    };
    let account = found.account();
    let oidc_provider_arn = found
        .oidc_issuer
        .as_deref()
        .map(|issuer| rules::oidc_provider_arn(c.partition, &account, issuer));
    let agent = if found.auto_mode {
        Agent::AutoMode
    } else {
        match addon::find_by_name(c, cluster, AGENT_ADDON).await {
            Ok(Some(_)) => Agent::Present,
            Ok(None) => Agent::Missing,
            Err(e) => return Err(to_diagnostic(summary, &e)),
        }
    };
    Ok(Some(ClusterFacts {
        account,
        agent,
        oidc_provider_arn,
    }))
}

/// This cluster's OIDC provider ARN (`None`: no cluster, or no issuer).
pub(super) async fn oidc_provider_arn(
    c: &Clients,
    cluster: &str,
) -> Result<Option<String>, AwsError> {
    let found = cluster::find_by_name(c, cluster).await?;
    Ok(found.and_then(|f| {
        let account = f.account();
        f.oidc_issuer
            .map(|issuer| rules::oidc_provider_arn(c.partition, &account, &issuer))
    }))
}

/// The service accounts to consider (the explicit list, or every annotated
/// one through Kubernetes), and `namespace/name` → IRSA role of the
/// annotated ones (read when the list or OIDC trust removal needs them).
async fn candidates(
    c: &Arc<Clients>,
    cfg: &MigrationState,
    summary: &str,
) -> Result<(Vec<Candidate>, BTreeMap<String, String>), Diagnostic> {
    let need_kube = cfg.service_accounts.is_none() || cfg.remove_oidc_trust == Some(true);
    let listed = if need_kube {
        let k = kube::connect(c, &cfg.cluster_name)
            .await
            .map_err(|e| kube::to_diagnostic(summary, &e))?;
        k.list_service_accounts()
            .await
            .map_err(|e| kube::to_diagnostic(summary, &e))?
    } else {
        vec![]
    };
    let annotated: BTreeMap<String, String> = listed
        .iter()
        .filter_map(|sa| {
            sa.irsa_role_arn().map(|r| {
                (
                    format!("{}/{}", sa.namespace, sa.name),
                    r.trim().to_string(),
                )
            })
        })
        .collect();
    let candidates = match &cfg.service_accounts {
        Some(list) => list
            .iter()
            .map(|e| (e.namespace.clone(), e.name.clone(), e.role_arn.clone()))
            .collect(),
        None => annotated
            .iter()
            .filter_map(|(t, r)| {
                rules::split_target(t).map(|(ns, n)| (ns.to_string(), n.to_string(), r.clone()))
            })
            .collect(),
    };
    Ok((candidates, annotated))
}

/// The candidates that migrate: not excluded, not an addon's, with a role
/// in the cluster's account. Also the roles that stay on IRSA.
fn choose(
    cfg: &MigrationState,
    account: &str,
    candidates: Vec<Candidate>,
    annotated: &BTreeMap<String, String>,
    addon_sas: &[Candidate],
    notes: &mut Vec<Diagnostic>,
) -> (Vec<ServiceAccountFinding>, BTreeSet<String>) {
    let exclude = cfg.exclude.clone().unwrap_or_default();
    let is_addon_sa = |ns: &str, name: &str, role: &str| {
        addon_sas
            .iter()
            .any(|(ans, aname, arole)| aname == name && (ans == ns || arole == role))
    };
    let mut roles_kept_on_irsa = BTreeSet::new();
    let mut sas = Vec::new();
    for (ns, name, role) in candidates {
        let target = format!("{ns}/{name}");
        if exclude.contains(&target) {
            roles_kept_on_irsa.insert(role);
            continue;
        }
        if is_addon_sa(&ns, &name, &role) {
            continue;
        }
        match parse_role_arn(&role) {
            Ok(r) if r.account == account || account.is_empty() => {}
            Ok(_) => {
                notes.push(Diagnostic::warning(
                    format!("{target} is not migrated"),
                    format!("Its role {role} is in another account; pod identity needs a role in the cluster's account (use eks_pod_identity_association with target_role_arn for cross-account access)."),
                ));
                roles_kept_on_irsa.insert(role);
                continue;
            }
            Err(e) => {
                notes.push(Diagnostic::warning(format!("{target} is not migrated"), e));
                continue;
            }
        }
        sas.push(ServiceAccountFinding {
            annotated: annotated.contains_key(&target),
            namespace: ns,
            name,
            role_arn: role,
            association: None,
        });
    }
    sas.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    sas.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);
    (sas, roles_kept_on_irsa)
}

/// Existing associations of the service accounts (one list call), described
/// only where they exist and a prior apply did not record them.
async fn find_associations(
    c: &Clients,
    cluster: &str,
    known: &BTreeMap<String, String>,
    sas: &mut [ServiceAccountFinding],
) -> Result<(), AwsError> {
    let existing: BTreeMap<(String, String), String> = association::list(c, cluster, None, None)
        .await?
        .into_iter()
        .filter_map(|a| Some(((a.namespace?, a.service_account?), a.association_id?)))
        .collect();
    // Associations this migration recorded keep the role it gave them
    // (read drops the ones that are gone), so only others are described.
    let mut lookups: Vec<(usize, String)> = Vec::new();
    for (i, sa) in sas.iter_mut().enumerate() {
        let Some(id) = existing.get(&(sa.namespace.clone(), sa.name.clone())) else {
            continue;
        };
        match known.get(id) {
            Some(role) => sa.association = Some((id.clone(), role.clone())),
            None => lookups.push((i, id.clone())),
        }
    }
    let described: Vec<Result<(usize, Option<Existing>), AwsError>> = stream::iter(lookups)
        .map(|(i, id)| async move {
            let a = association::find_by_id(c, cluster, &id).await?;
            Ok((i, a.map(|a| (id, a.settings.role_arn.unwrap_or_default()))))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for r in described {
        let (i, a) = r?;
        sas[i].association = a;
    }
    Ok(())
}

/// The trust of every role involved: one GetRole each.
async fn find_roles(
    c: &Clients,
    cluster: &str,
    sas: &[ServiceAccountFinding],
    addons: &[AddonFinding],
) -> Result<BTreeMap<String, RoleFinding>, AwsError> {
    let arns: BTreeSet<String> = sas
        .iter()
        .map(|s| s.role_arn.clone())
        .chain(addons.iter().map(|a| a.role_arn.clone()))
        .collect();
    let found: Vec<Result<(String, RoleFinding), AwsError>> = stream::iter(arns)
        .map(|arn| async move {
            let f = find_role_finding(c, cluster, &arn).await?;
            Ok((arn, f))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    found.into_iter().collect()
}

/// Addons on IRSA that support pod identity, every IRSA addon's service
/// accounts as (namespace, name, role), and addon → namespace.
async fn discover_addons(
    c: &Clients,
    cluster: &str,
    notes: &mut Vec<Diagnostic>,
) -> Result<(Vec<AddonFinding>, Vec<Candidate>, BTreeMap<String, String>), AwsError> {
    let names = addon::list_names(c, cluster).await?;
    let described: Vec<Result<Option<addon::Addon>, AwsError>> = stream::iter(names)
        .map(|n| async move { addon::find_by_name(c, cluster, &n).await })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut found = Vec::new();
    let mut sas = Vec::new();
    let mut namespaces = BTreeMap::new();
    for a in described {
        let Some(a) = a? else { continue };
        let Some(role) = a
            .settings
            .service_account_role_arn
            .clone()
            .filter(|r| !r.is_empty())
        else {
            continue;
        };
        if !a.association_arns.is_empty() {
            continue; // already on pod identity
        }
        let version = a.settings.addon_version.clone().unwrap_or_default();
        let config = addon::find_pod_identity_configuration(c, &a.name, &version).await?;
        let ns = a
            .namespace
            .clone()
            .unwrap_or_else(|| "kube-system".to_string());
        if config.is_empty() {
            notes.push(Diagnostic::warning(
                format!("Addon {} stays on IRSA", a.name),
                format!("Version {version} of {} does not support pod identity; update the addon first to migrate it.", a.name),
            ));
            continue;
        }
        let accounts: Vec<String> = config.into_iter().map(|(sa, _)| sa).collect();
        for sa in &accounts {
            sas.push((ns.clone(), sa.clone(), role.clone()));
        }
        namespaces.insert(a.name.clone(), ns);
        found.push(AddonFinding {
            name: a.name,
            role_arn: role,
            service_accounts: accounts,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((found, sas, namespaces))
}

/// A role's trust policy and whether it was made for this cluster; a
/// missing role (or one at another path) has no trust.
async fn find_role_finding(c: &Clients, cluster: &str, arn: &str) -> Result<RoleFinding, AwsError> {
    let Some(found) = iam::find_trust_by_arn(c, arn).await? else {
        return Ok(RoleFinding::default());
    };
    Ok(RoleFinding {
        owned: made_for_cluster(&found.tags, cluster),
        trust: Some(found.trust),
    })
}

/// Whether a role's tags say it was made for this cluster (by eksctl, or
/// by this provider: its owner tag, plain `cluster/ns/sa` or hashed when
/// that is too long for IAM, read by `schema::reserved_tags`).
fn made_for_cluster(tags: &BTreeMap<String, String>, cluster: &str) -> bool {
    EKSCTL_CLUSTER_TAGS
        .iter()
        .any(|t| tags.get(*t).map(String::as_str) == Some(cluster))
        || tags
            .get(reserved_tags::OWNER_TAG)
            .and_then(|o| reserved_tags::parse_owner_tag(o))
            .is_some_and(|t| t.cluster() == Some(cluster))
}

/// The error for a migration whose cluster does not exist at apply.
pub(super) fn cluster_not_found(c: &Clients, cluster: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Cluster {cluster} not found"),
        format!(
            "No EKS cluster {cluster} in region {}. Check cluster_name and the provider's region.",
            c.region
        ),
    )
    .at(AttrPath::root("cluster_name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MigrationState {
        MigrationState {
            cluster_name: "c".into(),
            exclude: Some(["ns/excluded".to_string()].into()),
            ..Default::default()
        }
    }

    fn candidate(ns: &str, name: &str, account: &str) -> Candidate {
        (
            ns.into(),
            name.into(),
            format!("arn:aws:iam::{account}:role/{name}"),
        )
    }

    #[test]
    fn choose_skips_excluded_addon_and_foreign_service_accounts() {
        let candidates = vec![
            candidate("ns", "app", "111111111111"),
            candidate("ns", "app", "111111111111"),
            candidate("ns", "excluded", "111111111111"),
            candidate("kube-system", "aws-node", "111111111111"),
            candidate("ns", "foreign", "222222222222"),
            ("ns".into(), "broken".into(), "not an arn".into()),
        ];
        let addon_sas = vec![candidate("kube-system", "aws-node", "111111111111")];
        let annotated: BTreeMap<String, String> = [("ns/app".to_string(), "x".to_string())].into();
        let mut notes = vec![];
        let (sas, kept) = choose(
            &cfg(),
            "111111111111",
            candidates,
            &annotated,
            &addon_sas,
            &mut notes,
        );
        assert_eq!(sas.len(), 1, "{sas:?}");
        assert_eq!(sas[0].name, "app");
        assert!(sas[0].annotated);
        assert_eq!(kept.len(), 2);
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn roles_made_for_the_cluster_by_eksctl_or_us() {
        let tags = |k: &str, v: &str| -> BTreeMap<String, String> {
            [(k.to_string(), v.to_string())].into()
        };
        assert!(made_for_cluster(
            &tags("alpha.eksctl.io/cluster-name", "c"),
            "c"
        ));
        assert!(!made_for_cluster(
            &tags("alpha.eksctl.io/cluster-name", "other"),
            "c"
        ));
        assert!(made_for_cluster(
            &tags(reserved_tags::OWNER_TAG, "c/ns/sa"),
            "c"
        ));
        assert!(!made_for_cluster(
            &tags(reserved_tags::OWNER_TAG, "cc/ns/sa"),
            "c"
        ));
        assert!(!made_for_cluster(&BTreeMap::new(), "c"));
        assert!(!made_for_cluster(
            &tags(reserved_tags::OWNER_TAG, "not an owner tag"),
            "c"
        ));
        // Not an owner tag this provider writes (the old prefix test took it).
        assert!(!made_for_cluster(
            &tags(reserved_tags::OWNER_TAG, "c/"),
            "c"
        ));
        // A long owner tag is hashed; its readable prefix still names the cluster.
        let long_sa = "s".repeat(253);
        let hashed = reserved_tags::owner_tag_value("c", "ns", &long_sa);
        assert!(hashed.contains("@sha256:"), "{hashed}");
        assert!(made_for_cluster(
            &tags(reserved_tags::OWNER_TAG, &hashed),
            "c"
        ));
        let other = reserved_tags::owner_tag_value("cc", "ns", &long_sa);
        assert!(!made_for_cluster(
            &tags(reserved_tags::OWNER_TAG, &other),
            "c"
        ));
    }
}
