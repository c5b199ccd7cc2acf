//! The pod identity association operations: Create, Describe, List,
//! Update, Delete.
//!
//! This module owns their validation (IDs, session policy rules, duplicate
//! service accounts, delete consistency, ownership by addons), the IAM check
//! of the role, clientRequestToken idempotency, and the strict-mode rules of
//! UpdatePodIdentityAssociation (FACTS.md F9–F11). Addon-owned associations
//! are created and removed by the `addons` module through
//! [`new_association`] and [`check_session_policy`]; like AWS, this module
//! also lets them be updated and deleted directly (FACTS.md F6).

use serde_json::{Value, json};

use crate::Emulator;
use crate::error::{ApiError, Code};
use crate::iam::{RoleRules, check_pass_role, check_role};
use crate::ids;
use crate::state::{Association, Region, Tombstone, remember, replay};
use crate::strict::{Rule, Strict};
use crate::wire::{Ctx, fingerprint, opt_bool, opt_str, opt_tags, paginate, req_str};

/// EKS's limit of associations per cluster: "Up to 5,000 EKS Pod Identity
/// associations per cluster" (EKS User Guide, pod-identities page,
/// `#pod-id-limits`; FACTS.md F7).
pub const MAX_ASSOCIATIONS_PER_CLUSTER: usize = 5000;

/// Largest session policy strict mode accepts (rule S5, FACTS.md F10):
/// the limit of the STS `AssumeRole` `Policy` EKS passes it to ("The
/// plaintext that you use for both inline and managed session policies
/// can't exceed 2,048 characters"); EKS documents no limit of its own.
pub const MAX_POLICY_LEN: usize = 2048;

/// Strict rule S6 (FACTS.md F15): an association ID that is not 19
/// characters long is refused before the look-up. IDs are `a-` + 17
/// characters (`../shared/reference/aws-facts.md`), but no public source
/// shows EKS checking the length; normal mode just finds no association.
pub fn check_association_id(strict: &Strict, id: &str) -> Result<(), ApiError> {
    if strict.has(Rule::S6) && id.len() != 19 {
        return Err(ApiError::strict(
            "S6",
            "The parameter associationId should be 19 characters long.",
        ));
    }
    Ok(())
}

/// The ResourceNotFoundException for a missing association.
pub fn association_not_found(cluster: &str, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "No Pod Identity Association found for id: {id} in cluster: {cluster}"
    ))
    .cluster(cluster)
}

/// A session policy needs disableSessionTags = true (model: "When using
/// this policy, disableSessionTags must be set to true"; the message is
/// the emulator's, FACTS.md F10) and must be a JSON object (model: "An
/// optional IAM policy in JSON format"); strict rule S5 also caps it at
/// [`MAX_POLICY_LEN`] characters.
pub fn check_session_policy(
    strict: &Strict,
    policy: Option<&str>,
    disable_session_tags: bool,
) -> Result<(), ApiError> {
    let Some(policy) = policy else {
        return Ok(());
    };
    if !disable_session_tags {
        return Err(ApiError::invalid_parameter(
            "A session policy can only be used when disableSessionTags is set to true",
        ));
    }
    if strict.has(Rule::S5) && policy.chars().count() > MAX_POLICY_LEN {
        return Err(ApiError::strict(
            "S5",
            format!(
                "The policy must be at most {MAX_POLICY_LEN} characters long (the STS session policy limit; EKS documents none)"
            ),
        ));
    }
    match serde_json::from_str::<Value>(policy) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(ApiError::invalid_parameter(
            "The policy is not a valid JSON policy document",
        )),
    }
}

fn check_target_role(target: Option<&str>) -> Result<(), ApiError> {
    match target {
        Some(t) if !t.is_empty() && ids::parse_role_arn(t).is_none() => Err(
            ApiError::invalid_parameter(format!("Invalid target role ARN: {t}")),
        ),
        _ => Ok(()),
    }
}

/// Refuses a create for a service account that has an association, or had
/// one deleted within the delete-consistency delay.
pub fn check_service_account_free(
    region: &Region,
    cluster: &str,
    namespace: &str,
    service_account: &str,
    delete_delay_secs: f64,
) -> Result<(), ApiError> {
    if let Some(existing) =
        region.find_association_by_service_account(cluster, namespace, service_account)
    {
        return Err(ApiError::in_use(format!(
            "Association already exists: {}",
            existing.association_id
        ))
        .cluster(cluster));
    }
    let key = (
        cluster.to_owned(),
        namespace.to_owned(),
        service_account.to_owned(),
    );
    if let Some(tomb) = region.tombstones.get(&key)
        && tomb.at.elapsed().as_secs_f64() < delete_delay_secs
    {
        // The deleted association is still being cleaned up.
        return Err(
            ApiError::in_use(format!("Association already exists: {}", tomb.id)).cluster(cluster),
        );
    }
    Ok(())
}

/// A new association record (not yet inserted).
#[allow(clippy::too_many_arguments)]
pub fn new_association(
    ctx: &Ctx,
    region: &mut Region,
    cluster: &str,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
    owner_arn: Option<String>,
) -> Association {
    let id = ids::association_id();
    let now = ids::now_epoch();
    Association {
        cluster_name: cluster.to_owned(),
        namespace: namespace.to_owned(),
        service_account: service_account.to_owned(),
        role_arn: role_arn.to_owned(),
        association_arn: ids::association_arn(&ctx.region, &ctx.account, cluster, &id),
        association_id: id,
        tags: Default::default(),
        created_at: now,
        modified_at: now,
        owner_arn,
        disable_session_tags: false,
        target_role_arn: None,
        external_id: None,
        policy: None,
        seq: region.next_seq(),
    }
}

/// Records a deleted association for the delete-consistency fault.
pub fn bury(region: &mut Region, association: &Association) {
    region.tombstones.insert(
        (
            association.cluster_name.clone(),
            association.namespace.clone(),
            association.service_account.clone(),
        ),
        Tombstone {
            at: std::time::Instant::now(),
            id: association.association_id.clone(),
        },
    );
}

/// The check EKS makes of the role an association (standalone or an
/// addon's) names: in the cluster's account, visible in IAM (fault
/// `iam_propagation_delay_secs`), and trusting pods.eks.amazonaws.com as
/// EKS reads the trust — the previous document for a while after a rewrite
/// (fault `trust_rewrite_delay_secs`, FACTS.md F16) — with
/// `sts:TagSession` too under strict rule S4 (F12).
pub async fn check_association_role(
    em: &Emulator,
    ctx: &Ctx,
    role_arn: &str,
    propagation_delay_secs: f64,
) -> Result<(), ApiError> {
    let rules = RoleRules {
        propagation_delay_secs,
        require_tag_session: em.config.strict.has(Rule::S4),
    };
    let visible = |current: &str| {
        let mut world = em.world();
        let delay = world.injector.faults.trust_rewrite_delay();
        world
            .trust_ledger
            .visible(role_arn, current, delay, std::time::Instant::now())
    };
    check_role(em.iam.as_ref(), &ctx.account, role_arn, rules, visible).await
}

/// Refuses a create in a cluster that has [`MAX_ASSOCIATIONS_PER_CLUSTER`]
/// associations (FACTS.md F7).
fn check_quota(region: &Region, cluster: &str) -> Result<(), ApiError> {
    let count = region
        .associations
        .values()
        .filter(|a| a.cluster_name == cluster)
        .count();
    if count >= MAX_ASSOCIATIONS_PER_CLUSTER {
        return Err(ApiError::new(
            Code::ResourceLimitExceeded,
            format!("Cluster {cluster} already has the maximum of {MAX_ASSOCIATIONS_PER_CLUSTER} pod identity associations"),
        )
        .cluster(cluster));
    }
    Ok(())
}

const CREATE_OP: &str = "CreatePodIdentityAssociation";
const UPDATE_OP: &str = "UpdatePodIdentityAssociation";

/// CreatePodIdentityAssociation.
pub async fn create(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let namespace = req_str(&body, "namespace")?;
    let service_account = req_str(&body, "serviceAccount")?;
    let role_arn = req_str(&body, "roleArn")?;
    let token = opt_str(&body, "clientRequestToken")?;
    let tags = opt_tags(&body)?.unwrap_or_default();
    let disable_session_tags = opt_bool(&body, "disableSessionTags")?.unwrap_or(false);
    let target = opt_str(&body, "targetRoleArn")?.filter(|t| !t.is_empty());
    let policy = opt_str(&body, "policy")?.filter(|p| !p.is_empty());
    let fp = fingerprint(&format!("{CREATE_OP}/{cluster}"), &body);

    let (iam_delay, delete_delay) = {
        let mut world = em.world();
        let faults = world.injector.faults.clone();
        let region = world.settled(&ctx.account, &ctx.region);
        region.require_active_cluster(cluster)?;
        if let Some(previous) = replay(region, CREATE_OP, cluster, token.as_deref(), &fp)? {
            return Ok(previous);
        }
        check_service_account_free(
            region,
            cluster,
            &namespace,
            &service_account,
            faults.delete_consistency_delay_secs,
        )?;
        (
            faults.iam_propagation_delay_secs,
            faults.delete_consistency_delay_secs,
        )
    };
    check_session_policy(&em.config.strict, policy.as_deref(), disable_session_tags)?;
    check_target_role(target.as_deref())?;
    check_association_role(em, ctx, &role_arn, iam_delay).await?;

    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    region.require_active_cluster(cluster)?;
    if let Some(previous) = replay(region, CREATE_OP, cluster, token.as_deref(), &fp)? {
        return Ok(previous);
    }
    check_service_account_free(region, cluster, &namespace, &service_account, delete_delay)?;
    check_quota(region, cluster)?;
    let mut association = new_association(
        ctx,
        region,
        cluster,
        &namespace,
        &service_account,
        &role_arn,
        None,
    );
    association.tags = tags;
    association.disable_session_tags = disable_session_tags;
    // externalId comes with a target role (FACTS.md F11); whether AWS may
    // return one without is undocumented, so strict mode always does.
    association.external_id = (target.is_some() || em.config.strict.has(Rule::X1)).then(ids::uuid);
    association.target_role_arn = target;
    association.policy = policy;
    let out = json!({ "association": association.to_json() });
    region
        .associations
        .insert(association.association_id.clone(), association);
    remember(region, CREATE_OP, cluster, token.as_deref(), fp, &out);
    Ok(out)
}

fn find<'r>(region: &'r Region, cluster: &str, id: &str) -> Result<&'r Association, ApiError> {
    if !region.clusters.contains_key(cluster) {
        return Err(ApiError::cluster_not_found(cluster));
    }
    region
        .associations
        .get(id)
        .filter(|a| a.cluster_name == cluster)
        .ok_or_else(|| association_not_found(cluster, id))
}

/// UpdatePodIdentityAssociation requests whose effect AWS does not document,
/// refused in strict mode (FACTS.md, "Strict mode"):
/// - S1: `roleArn` left out (FACTS.md F9: every known client sends it; `""`
///   is refused in both modes before this);
/// - S2: `policy: ""` (F10: no documented way to clear the session policy);
/// - S3: a request that changes nothing (F9: "You must change at least one
///   of these in an update", error not documented).
fn strict_update_rules(
    strict: &Strict,
    current: &Association,
    body: &Value,
) -> Result<(), ApiError> {
    let role = body.get("roleArn").and_then(Value::as_str);
    let role = role.filter(|r| !r.is_empty());
    if strict.has(Rule::S1) && role.is_none() {
        return Err(ApiError::strict(
            "S1",
            "roleArn must be sent on every UpdatePodIdentityAssociation: what AWS does when it is left out is undocumented",
        ));
    }
    let policy = body.get("policy").and_then(Value::as_str);
    if strict.has(Rule::S2) && policy == Some("") {
        return Err(ApiError::strict(
            "S2",
            "policy \"\" does not clear the session policy in any AWS document",
        ));
    }
    let target = body.get("targetRoleArn").and_then(Value::as_str);
    let disable = body.get("disableSessionTags").and_then(Value::as_bool);
    let changes = role.is_some_and(|r| r != current.role_arn)
        || target.is_some_and(|t| Some(t) != current.target_role_arn.as_deref().or(Some("")))
        || disable.is_some_and(|d| d != current.disable_session_tags)
        || policy.is_some_and(|p| Some(p) != current.policy.as_deref());
    if strict.has(Rule::S3) && !changes {
        return Err(ApiError::strict(
            "S3",
            "the update changes none of roleArn, targetRoleArn, disableSessionTags, policy (\"You must change at least one of these in an update\")",
        ));
    }
    Ok(())
}

/// DescribePodIdentityAssociation.
pub fn describe(em: &Emulator, ctx: &Ctx, cluster: &str, id: &str) -> Result<Value, ApiError> {
    check_association_id(&em.config.strict, id)?;
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let a = find(region, cluster, id)?;
    Ok(json!({ "association": a.to_json() }))
}

/// ListPodIdentityAssociations: summaries (no roleArn, no tags), filtered
/// by namespace and serviceAccount, in creation order.
pub fn list(em: &Emulator, ctx: &Ctx, cluster: &str) -> Result<Value, ApiError> {
    let namespace = ctx.query.get("namespace").filter(|s| !s.is_empty());
    let service_account = ctx.query.get("serviceAccount").filter(|s| !s.is_empty());
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    if !region.clusters.contains_key(cluster) {
        return Err(ApiError::cluster_not_found(cluster));
    }
    let items: Vec<(String, Value)> = region
        .associations
        .values()
        .filter(|a| a.cluster_name == cluster)
        .filter(|a| namespace.is_none_or(|n| a.namespace == n))
        .filter(|a| service_account.is_none_or(|s| a.service_account == s))
        .map(|a| (format!("{:020}", a.seq), a.summary_json()))
        .collect();
    let (page, next) = paginate(ctx, items)?;
    let mut out = json!({ "associations": page });
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("nextToken".into(), next.into());
    }
    Ok(out)
}

/// UpdatePodIdentityAssociation: members left out keep their value;
/// `targetRoleArn: ""` clears the target role and its external ID,
/// `policy: ""` clears the session policy.
pub async fn update(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    id: &str,
    body: Value,
) -> Result<Value, ApiError> {
    check_association_id(&em.config.strict, id)?;
    let role_arn = opt_str(&body, "roleArn")?;
    // `roleArn: ""` is a role of no account: EKS refuses it as it refuses
    // another account's role (FACTS.md F9, eksctl #8718), in both modes.
    if let Some(role) = &role_arn {
        check_pass_role(&ctx.account, role)?;
    }
    let token = opt_str(&body, "clientRequestToken")?;
    let disable_session_tags = opt_bool(&body, "disableSessionTags")?;
    let target = opt_str(&body, "targetRoleArn")?;
    let policy = opt_str(&body, "policy")?;
    let fp = fingerprint(&format!("{UPDATE_OP}/{cluster}/{id}"), &body);

    let iam_delay = {
        let mut world = em.world();
        let faults = world.injector.faults.clone();
        let region = world.settled(&ctx.account, &ctx.region);
        let current = find(region, cluster, id)?;
        // Addon-owned associations may be updated directly (FACTS.md F6).
        region.require_active_cluster(cluster)?;
        if let Some(previous) = replay(region, UPDATE_OP, cluster, token.as_deref(), &fp)? {
            return Ok(previous);
        }
        let new_disable = disable_session_tags.unwrap_or(current.disable_session_tags);
        let new_policy = match &policy {
            None => current.policy.clone(),
            Some(p) if p.is_empty() => None,
            Some(p) => Some(p.clone()),
        };
        check_session_policy(&em.config.strict, new_policy.as_deref(), new_disable)?;
        strict_update_rules(&em.config.strict, current, &body)?;
        faults.iam_propagation_delay_secs
    };
    check_target_role(target.as_deref())?;
    if let Some(role) = &role_arn {
        check_association_role(em, ctx, role, iam_delay).await?;
    }

    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    find(region, cluster, id)?;
    if let Some(previous) = replay(region, UPDATE_OP, cluster, token.as_deref(), &fp)? {
        return Ok(previous);
    }
    let a = region
        .associations
        .get_mut(id)
        .ok_or_else(|| association_not_found(cluster, id))?;
    let new_disable = disable_session_tags.unwrap_or(a.disable_session_tags);
    let new_policy = match policy {
        None => a.policy.clone(),
        Some(p) if p.is_empty() => None,
        Some(p) => Some(p),
    };
    // Checked again on the current record: a concurrent update may have
    // changed the other half of the rule.
    check_session_policy(&em.config.strict, new_policy.as_deref(), new_disable)?;
    if let Some(role) = role_arn {
        a.role_arn = role;
    }
    a.disable_session_tags = new_disable;
    a.policy = new_policy;
    if let Some(t) = target {
        set_target_role(&em.config.strict, a, t);
    }
    a.modified_at = ids::now_epoch();
    let out = json!({ "association": a.to_json() });
    remember(region, UPDATE_OP, cluster, token.as_deref(), fp, &out);
    Ok(out)
}

/// Sets (or, with `""`, clears) an association's target role and its
/// external ID (FACTS.md F11).
fn set_target_role(strict: &Strict, a: &mut Association, target: String) {
    if target.is_empty() {
        a.target_role_arn = None;
        // Whether AWS drops the external ID with the target role is
        // undocumented (FACTS.md F11): strict mode keeps it.
        if !strict.has(Rule::X1) {
            a.external_id = None;
        }
        return;
    }
    // Strict mode: a different target role gets a new external ID
    // (undocumented either way, FACTS.md F11).
    let changed = a.target_role_arn.as_deref() != Some(target.as_str());
    if a.external_id.is_none() || (strict.has(Rule::X1) && changed) {
        a.external_id = Some(ids::uuid());
    }
    a.target_role_arn = Some(target);
}

/// DeletePodIdentityAssociation: returns the deleted association.
pub fn delete(em: &Emulator, ctx: &Ctx, cluster: &str, id: &str) -> Result<Value, ApiError> {
    check_association_id(&em.config.strict, id)?;
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    // Addon-owned associations may be deleted directly (FACTS.md F6).
    find(region, cluster, id)?;
    region.require_active_cluster(cluster)?;
    let a = region
        .associations
        .remove(id)
        .ok_or_else(|| association_not_found(cluster, id))?;
    bury(region, &a);
    Ok(json!({ "association": a.to_json() }))
}
