//! The addon operations: CreateAddon, DescribeAddon, ListAddons,
//! UpdateAddon, DeleteAddon, DescribeUpdate, ListUpdates,
//! DescribeAddonVersions and DescribeAddonConfiguration.
//!
//! This module owns addon validation against the catalogue (supported
//! addon, version and service accounts), the addon-owned pod identity
//! associations (created and replaced through `podIdentityAssociations`,
//! removed with the addon unless `preserve`), and the start of status
//! transitions; `state::Region::settle` completes them.

mod request;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Emulator;
use crate::associations::{
    bury, check_association_role, check_service_account_free, new_association,
};
use crate::catalogue::{AddonSpec, VersionSpec};
use crate::error::ApiError;
use crate::ids;
use crate::state::{Addon, Pending, Region, Transition, Update, remember, replay};
use crate::wire::{Ctx, paginate};

use self::request::{
    CREATE_OP, CreateRequest, PodIdentityRequest, UPDATE_OP, UpdateRequest,
    check_configuration_values, check_service_account_role,
};

/// `No addon: {addon} found in cluster: {cluster}` (ResourceNotFoundException).
pub fn addon_not_found(cluster: &str, addon: &str) -> ApiError {
    ApiError::not_found(format!("No addon: {addon} found in cluster: {cluster}"))
        .cluster(cluster)
        .addon(addon)
}

fn not_supported_in(addon: &str, k8s: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "Addon {addon} specified is not supported in {k8s} kubernetes version"
    ))
    .addon(addon)
}

fn version_not_supported(addon: &str) -> ApiError {
    ApiError::invalid_parameter("Addon version specified is not supported").addon(addon)
}

/// Checks a pod identity list against a version: the version supports pod
/// identity and every service account is one the addon declares.
fn check_pod_identity(
    spec: &AddonSpec,
    version: &VersionSpec,
    requested: &[PodIdentityRequest],
) -> Result<(), ApiError> {
    if requested.is_empty() {
        return Ok(());
    }
    let declared = spec.pod_identity_of(version);
    if declared.is_empty() {
        return Err(ApiError::invalid_parameter(format!(
            "Pod Identity feature is not supported for addon version: {}",
            version.addon_version
        ))
        .addon(&spec.addon_name));
    }
    for r in requested {
        if !declared
            .iter()
            .any(|d| d.service_account == r.service_account)
        {
            return Err(ApiError::invalid_parameter(format!(
                "Service account {} in pod identity configuration is not supported for addon {}",
                r.service_account, spec.addon_name
            ))
            .addon(&spec.addon_name));
        }
    }
    Ok(())
}

/// Resolves the version for a cluster: the one asked for, or the default.
fn resolve_version<'c>(
    spec: &'c AddonSpec,
    k8s: &str,
    requested: Option<&str>,
) -> Result<&'c VersionSpec, ApiError> {
    if !spec.supports_cluster(k8s) {
        return Err(not_supported_in(&spec.addon_name, k8s));
    }
    match requested {
        Some(v) => spec
            .find_version(v)
            .filter(|v| v.cluster_versions.iter().any(|c| c == k8s))
            .ok_or_else(|| version_not_supported(&spec.addon_name)),
        None => spec
            .default_version(k8s)
            .ok_or_else(|| not_supported_in(&spec.addon_name, k8s)),
    }
}

fn addon_json(region: &Region, addon: &Addon) -> Value {
    let arns = region
        .owned_associations(&addon.addon_arn)
        .into_iter()
        .map(|a| a.association_arn.clone())
        .collect();
    addon.to_json(arns)
}

/// The checks of CreateAddon that need the region; returns the version.
fn check_create<'c>(
    region: &Region,
    spec: Option<&'c AddonSpec>,
    cluster: &str,
    req: &CreateRequest,
    delete_delay: f64,
) -> Result<(&'c AddonSpec, &'c VersionSpec, String), ApiError> {
    let (addon_name, version) = (req.addon_name.as_str(), req.version.as_deref());
    let (namespace, pod_identity) = (req.namespace_config.as_deref(), &req.pod_identity);
    let c = region.require_active_cluster(cluster)?;
    if region
        .addons
        .contains_key(&(cluster.to_owned(), addon_name.to_owned()))
    {
        return Err(ApiError::in_use("Addon already exists.")
            .cluster(cluster)
            .addon(addon_name));
    }
    let spec = spec.ok_or_else(|| not_supported_in(addon_name, &c.version))?;
    let v = resolve_version(spec, &c.version, version)?;
    check_pod_identity(spec, v, pod_identity)?;
    let ns = namespace.unwrap_or(&spec.default_namespace).to_owned();
    for r in pod_identity {
        check_service_account_free(region, cluster, &ns, &r.service_account, delete_delay)?;
    }
    Ok((spec, v, ns))
}

/// What a first look at the region found: an earlier answer to replay,
/// or the IAM propagation delay to judge roles with.
enum FirstLook {
    Replay(Value),
    New { iam_delay: f64 },
}

/// CreateAddon: the addon starts CREATING with its associations in place.
pub async fn create(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let req = CreateRequest::parse(cluster, &body)?;
    let spec = em.catalogue.find_addon(&req.addon_name);
    let iam_delay = match first_look_create(em, ctx, cluster, &req, spec)? {
        FirstLook::Replay(previous) => return Ok(previous),
        FirstLook::New { iam_delay } => iam_delay,
    };
    check_configuration_values(req.configuration_values.as_deref(), spec)?;
    check_roles(
        em,
        ctx,
        req.sa_role.as_deref(),
        &req.pod_identity,
        iam_delay,
    )
    .await?;

    let mut world = em.world();
    let faults = world.injector.faults.clone();
    let region = world.settled(&ctx.account, &ctx.region);
    if let Some(previous) = replay(region, CREATE_OP, cluster, req.token.as_deref(), &req.fp)? {
        return Ok(previous);
    }
    let delete_delay = faults.delete_consistency_delay_secs;
    let (spec, v, ns) = check_create(region, spec, cluster, &req, delete_delay)?;
    let addon = new_addon(ctx, cluster, &req, spec, v, ns, faults.addon_transition());
    add_service_accounts(region, &addon);
    for r in &req.pod_identity {
        let a = new_association(
            ctx,
            region,
            cluster,
            &addon.namespace,
            &r.service_account,
            &r.role_arn,
            Some(addon.addon_arn.clone()),
        );
        region.associations.insert(a.association_id.clone(), a);
    }
    let out = json!({ "addon": addon_json(region, &addon) });
    region
        .addons
        .insert((cluster.to_owned(), req.addon_name.clone()), addon);
    remember(
        region,
        CREATE_OP,
        cluster,
        req.token.as_deref(),
        req.fp,
        &out,
    );
    Ok(out)
}

/// CreateAddon's region checks before the IAM look-ups (which are made
/// without holding the world), or the replay of an earlier answer.
fn first_look_create(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    req: &CreateRequest,
    spec: Option<&AddonSpec>,
) -> Result<FirstLook, ApiError> {
    let mut world = em.world();
    let faults = world.injector.faults.clone();
    let region = world.settled(&ctx.account, &ctx.region);
    if let Some(previous) = replay(region, CREATE_OP, cluster, req.token.as_deref(), &req.fp)? {
        return Ok(FirstLook::Replay(previous));
    }
    check_create(
        region,
        spec,
        cluster,
        req,
        faults.delete_consistency_delay_secs,
    )?;
    Ok(FirstLook::New {
        iam_delay: faults.iam_propagation_delay_secs,
    })
}

/// The roles a request names: its IRSA role (FACTS.md F2, F3) and each
/// pod identity association's role.
async fn check_roles(
    em: &Emulator,
    ctx: &Ctx,
    sa_role: Option<&str>,
    pod_identity: &[PodIdentityRequest],
    iam_delay: f64,
) -> Result<(), ApiError> {
    if let Some(role) = sa_role {
        check_service_account_role(&ctx.account, role)?;
    }
    for r in pod_identity {
        check_association_role(em, ctx, &r.role_arn, iam_delay).await?;
    }
    Ok(())
}

/// The new addon, CREATING for the transition time.
fn new_addon(
    ctx: &Ctx,
    cluster: &str,
    req: &CreateRequest,
    spec: &AddonSpec,
    v: &VersionSpec,
    namespace: String,
    transition: Duration,
) -> Addon {
    let now = ids::now_epoch();
    Addon {
        addon_name: req.addon_name.clone(),
        cluster_name: cluster.to_owned(),
        status: "CREATING".to_owned(),
        addon_version: v.addon_version.clone(),
        health: Vec::new(),
        addon_arn: ids::addon_arn(&ctx.region, &ctx.account, cluster, &req.addon_name),
        created_at: now,
        modified_at: now,
        service_account_role_arn: req.sa_role.clone(),
        tags: req.tags.clone(),
        publisher: spec.publisher.clone(),
        owner: spec.owner.clone(),
        configuration_values: req.configuration_values.clone(),
        namespace_config: req.namespace_config.clone(),
        namespace,
        pending: Some(Pending {
            until: Instant::now() + transition,
            transition: Transition::Create,
        }),
        preserve: false,
        service_accounts: spec
            .pod_identity_configuration
            .iter()
            .map(|p| p.service_account.clone())
            .collect(),
        lasting_health: false,
    }
}

/// The addon's software brings its service accounts into the cluster.
fn add_service_accounts(region: &Region, addon: &Addon) {
    let Some(kube) = region
        .clusters
        .get(&addon.cluster_name)
        .and_then(|c| c.kube.clone())
    else {
        return;
    };
    let ns = &addon.namespace;
    let mut store = kube.lock();
    for sa in &addon.service_accounts {
        let exists = store
            .get(crate::kube::Kind::ServiceAccount, Some(ns), sa)
            .is_ok();
        if !exists {
            store
                .upsert(
                    json!({"kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}}),
                )
                .ok();
        }
    }
}

fn find_addon<'r>(region: &'r Region, cluster: &str, addon: &str) -> Result<&'r Addon, ApiError> {
    if !region.clusters.contains_key(cluster) {
        return Err(ApiError::cluster_not_found(cluster));
    }
    region
        .addons
        .get(&(cluster.to_owned(), addon.to_owned()))
        .ok_or_else(|| addon_not_found(cluster, addon))
}

/// DescribeAddon.
pub fn describe(em: &Emulator, ctx: &Ctx, cluster: &str, addon: &str) -> Result<Value, ApiError> {
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let a = find_addon(region, cluster, addon)?;
    Ok(json!({ "addon": addon_json(region, a) }))
}

/// ListAddons: names, paginated.
pub fn list(em: &Emulator, ctx: &Ctx, cluster: &str) -> Result<Value, ApiError> {
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    if !region.clusters.contains_key(cluster) {
        return Err(ApiError::cluster_not_found(cluster));
    }
    let names: Vec<(String, String)> = region
        .addons
        .keys()
        .filter(|(c, _)| c == cluster)
        .map(|(_, n)| (n.clone(), n.clone()))
        .collect();
    let (page, next) = paginate(ctx, names)?;
    let mut out = json!({ "addons": page });
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("nextToken".into(), next.into());
    }
    Ok(out)
}

/// The checks of UpdateAddon that need the region; returns the target
/// version.
fn check_update<'c>(
    em: &'c Emulator,
    region: &Region,
    cluster: &str,
    addon_name: &str,
    req: &UpdateRequest,
    delete_delay: f64,
) -> Result<&'c VersionSpec, ApiError> {
    let (version, pod_identity) = (req.version.as_deref(), req.pod_identity.as_deref());
    let addon = find_addon(region, cluster, addon_name)?;
    region.require_active_cluster(cluster)?;
    if matches!(addon.status.as_str(), "CREATING" | "UPDATING" | "DELETING") {
        // The real text (FACTS.md F4); DELETING is worded alike by assumption.
        return Err(ApiError::in_use(format!(
            "Addon {addon_name} cannot be updated as it is currently in {} state",
            addon.status
        ))
        .cluster(cluster)
        .addon(addon_name));
    }
    let k8s = region
        .clusters
        .get(cluster)
        .map(|c| c.version.clone())
        .unwrap_or_default();
    let spec = em
        .catalogue
        .find_addon(addon_name)
        .ok_or_else(|| not_supported_in(addon_name, &k8s))?;
    let v = resolve_version(spec, &k8s, Some(version.unwrap_or(&addon.addon_version)))?;
    match pod_identity {
        Some(list) => {
            check_pod_identity(spec, v, list)?;
            for r in list {
                let taken = region.find_association_by_service_account(
                    cluster,
                    &addon.namespace,
                    &r.service_account,
                );
                match taken {
                    Some(a) if a.owner_arn.as_deref() == Some(addon.addon_arn.as_str()) => {}
                    _ => check_service_account_free(
                        region,
                        cluster,
                        &addon.namespace,
                        &r.service_account,
                        delete_delay,
                    )?,
                }
            }
        }
        None => {
            // Keeping owned associations across a version change needs
            // pod identity support in the new version.
            if !region.owned_associations(&addon.addon_arn).is_empty()
                && spec.pod_identity_of(v).is_empty()
            {
                return Err(ApiError::invalid_parameter(format!(
                    "Pod Identity feature is not supported for addon version: {}",
                    v.addon_version
                ))
                .addon(addon_name));
            }
        }
    }
    Ok(v)
}

/// UpdateAddon: returns an Update; the addon is UPDATING until it settles.
/// `podIdentityAssociations` left out keeps the owned associations, `[]`
/// deletes them all, a list replaces the owned set (an association whose
/// service account stays keeps its ID and takes the new role).
pub async fn update(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    addon_name: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let req = UpdateRequest::parse(cluster, addon_name, &body)?;
    let iam_delay = match first_look_update(em, ctx, cluster, addon_name, &req)? {
        FirstLook::Replay(previous) => return Ok(previous),
        FirstLook::New { iam_delay } => iam_delay,
    };
    check_configuration_values(
        req.configuration_values.as_deref(),
        em.catalogue.find_addon(addon_name),
    )?;
    let roles = req.pod_identity.as_deref().unwrap_or_default();
    check_roles(em, ctx, req.sa_role.as_deref(), roles, iam_delay).await?;

    let mut world = em.world();
    let faults = world.injector.faults.clone();
    let region = world.settled(&ctx.account, &ctx.region);
    if let Some(previous) = replay(region, UPDATE_OP, cluster, req.token.as_deref(), &req.fp)? {
        return Ok(previous);
    }
    let delete_delay = faults.delete_consistency_delay_secs;
    let v = check_update(em, region, cluster, addon_name, &req, delete_delay)?;
    let key = (cluster.to_owned(), addon_name.to_owned());
    let Some(addon) = region.addons.get(&key).cloned() else {
        return Err(addon_not_found(cluster, addon_name));
    };
    if let Some(list) = &req.pod_identity {
        replace_owned(ctx, region, &addon, list);
    }
    let update = Update {
        id: ids::uuid(),
        cluster_name: cluster.to_owned(),
        addon_name: addon_name.to_owned(),
        status: "InProgress".to_owned(),
        params: update_params(&req),
        created_at: ids::now_epoch(),
        errors: Vec::new(),
        seq: region.next_seq(),
    };
    let out = json!({ "update": update.to_json() });
    if let Some(a) = region.addons.get_mut(&key) {
        start_update(a, v, &req, &update.id, faults.addon_transition());
    }
    region.updates.insert(update.id.clone(), update);
    remember(
        region,
        UPDATE_OP,
        cluster,
        req.token.as_deref(),
        req.fp,
        &out,
    );
    Ok(out)
}

/// UpdateAddon's region checks before the IAM look-ups (which are made
/// without holding the world), or the replay of an earlier answer.
fn first_look_update(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    addon_name: &str,
    req: &UpdateRequest,
) -> Result<FirstLook, ApiError> {
    let mut world = em.world();
    let faults = world.injector.faults.clone();
    let region = world.settled(&ctx.account, &ctx.region);
    if let Some(previous) = replay(region, UPDATE_OP, cluster, req.token.as_deref(), &req.fp)? {
        return Ok(FirstLook::Replay(previous));
    }
    let delete_delay = faults.delete_consistency_delay_secs;
    check_update(em, region, cluster, addon_name, req, delete_delay)?;
    Ok(FirstLook::New {
        iam_delay: faults.iam_propagation_delay_secs,
    })
}

/// The Update's `params`: what the request changes, in EKS's order.
fn update_params(req: &UpdateRequest) -> Vec<Value> {
    let mut params = Vec::new();
    if let Some(version) = &req.version {
        params.push(json!({"type": "AddonVersion", "value": version}));
    }
    if let Some(role) = &req.sa_role {
        params.push(json!({"type": "ServiceAccountRoleArn", "value": role}));
    }
    if let Some(resolve) = &req.resolve {
        params.push(json!({"type": "ResolveConflicts", "value": resolve}));
    }
    if let Some(values) = &req.configuration_values {
        params.push(json!({"type": "ConfigurationValues", "value": values}));
    }
    if let Some(list) = &req.pod_identity {
        let value: Vec<Value> = list
            .iter()
            .map(|r| json!({"serviceAccount": r.service_account, "roleArn": r.role_arn}))
            .collect();
        params.push(
            json!({"type": "PodIdentityAssociations", "value": Value::Array(value).to_string()}),
        );
    }
    params
}

/// The addon takes the request and is UPDATING for the transition time.
fn start_update(
    a: &mut Addon,
    v: &VersionSpec,
    req: &UpdateRequest,
    update_id: &str,
    transition: Duration,
) {
    a.addon_version = v.addon_version.clone();
    // FACTS.md F1: no role in the request = the node role from now on.
    a.service_account_role_arn = req.sa_role.clone();
    if let Some(values) = &req.configuration_values {
        a.configuration_values = (!values.is_empty()).then(|| values.clone());
    }
    a.status = "UPDATING".to_owned();
    a.health = Vec::new();
    a.lasting_health = false;
    a.modified_at = ids::now_epoch();
    a.pending = Some(Pending {
        until: Instant::now() + transition,
        transition: Transition::Update {
            update_id: update_id.to_owned(),
        },
    });
}

/// Makes the addon's owned associations match `list`.
fn replace_owned(ctx: &Ctx, region: &mut Region, addon: &Addon, list: &[PodIdentityRequest]) {
    let owned: Vec<(String, String)> = region
        .owned_associations(&addon.addon_arn)
        .into_iter()
        .map(|a| (a.association_id.clone(), a.service_account.clone()))
        .collect();
    for (id, sa) in owned {
        match list.iter().find(|r| r.service_account == sa) {
            Some(r) => {
                if let Some(a) = region.associations.get_mut(&id)
                    && a.role_arn != r.role_arn
                {
                    a.role_arn = r.role_arn.clone();
                    a.modified_at = ids::now_epoch();
                }
            }
            None => {
                if let Some(a) = region.associations.remove(&id) {
                    bury(region, &a);
                }
            }
        }
    }
    for r in list {
        let exists = region
            .find_association_by_service_account(
                &addon.cluster_name,
                &addon.namespace,
                &r.service_account,
            )
            .is_some();
        if !exists {
            let a = new_association(
                ctx,
                region,
                &addon.cluster_name,
                &addon.namespace,
                &r.service_account,
                &r.role_arn,
                Some(addon.addon_arn.clone()),
            );
            region.associations.insert(a.association_id.clone(), a);
        }
    }
}

/// DeleteAddon: the addon is DELETING until it settles; then it is gone
/// with its owned associations, unless `preserve=true`.
pub fn delete(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    addon_name: &str,
) -> Result<Value, ApiError> {
    let preserve = match ctx.query.get("preserve") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "preserve must be true or false, not {other}"
            )));
        }
    };
    let mut world = em.world();
    let transition = world.injector.faults.addon_transition();
    let region = world.settled(&ctx.account, &ctx.region);
    find_addon(region, cluster, addon_name)?;
    let key = (cluster.to_owned(), addon_name.to_owned());
    let Some(addon) = region.addons.get_mut(&key) else {
        return Err(addon_not_found(cluster, addon_name));
    };
    let mut overtaken = None;
    if addon.status != "DELETING" {
        // An update still running is overtaken by the delete.
        if let Some(Pending {
            transition: Transition::Update { update_id },
            ..
        }) = &addon.pending
        {
            overtaken = Some(update_id.clone());
        }
        addon.status = "DELETING".to_owned();
        addon.modified_at = ids::now_epoch();
        addon.preserve = preserve;
        addon.pending = Some(Pending {
            until: Instant::now() + transition,
            transition: Transition::Delete,
        });
    }
    let addon = addon.clone();
    if let Some(u) = overtaken.and_then(|id| region.updates.get_mut(&id)) {
        u.status = "Cancelled".to_owned();
    }
    Ok(json!({ "addon": addon_json(region, &addon) }))
}

/// DescribeUpdate.
pub fn describe_update(
    em: &Emulator,
    ctx: &Ctx,
    cluster: &str,
    id: &str,
) -> Result<Value, ApiError> {
    let addon = ctx.query.get("addonName").filter(|a| !a.is_empty());
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    if !region.clusters.contains_key(cluster) {
        return Err(ApiError::cluster_not_found(cluster));
    }
    let update = region
        .updates
        .get(id)
        .filter(|u| u.cluster_name == cluster && addon.is_none_or(|a| u.addon_name == a))
        .ok_or_else(|| {
            ApiError::not_found(format!("No update found for ID: {id}")).cluster(cluster)
        })?;
    Ok(json!({ "update": update.to_json() }))
}

/// ListUpdates: update IDs of the cluster (or of one addon), oldest first.
pub fn list_updates(em: &Emulator, ctx: &Ctx, cluster: &str) -> Result<Value, ApiError> {
    let addon = ctx.query.get("addonName").filter(|a| !a.is_empty());
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    if !region.clusters.contains_key(cluster) {
        return Err(ApiError::cluster_not_found(cluster));
    }
    if let Some(a) = addon {
        find_addon(region, cluster, a)?;
    }
    let ids: Vec<(String, String)> = region
        .updates
        .values()
        .filter(|u| u.cluster_name == cluster && addon.is_none_or(|a| u.addon_name == a))
        .map(|u| (format!("{:020}", u.seq), u.id.clone()))
        .collect();
    let (page, next) = paginate(ctx, ids)?;
    let mut out = json!({ "updateIds": page });
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("nextToken".into(), next.into());
    }
    Ok(out)
}

/// DescribeAddonVersions, filtered by kubernetesVersion, addonName, types,
/// publishers and owners; paginated by addon.
pub fn describe_versions(em: &Emulator, ctx: &Ctx) -> Result<Value, ApiError> {
    let k8s = ctx.query.get("kubernetesVersion").filter(|s| !s.is_empty());
    let name = ctx.query.get("addonName").filter(|s| !s.is_empty());
    let types = ctx.query.all("types");
    let publishers = ctx.query.all("publishers");
    let owners = ctx.query.all("owners");
    let items: Vec<(String, Value)> = em
        .catalogue
        .addons
        .iter()
        .filter(|a| name.is_none_or(|n| a.addon_name == n))
        .filter(|a| types.is_empty() || types.contains(&a.addon_type.as_str()))
        .filter(|a| publishers.is_empty() || publishers.contains(&a.publisher.as_str()))
        .filter(|a| owners.is_empty() || owners.contains(&a.owner.as_str()))
        .filter(|a| k8s.is_none_or(|k| a.supports_cluster(k)))
        .map(|a| {
            let info =
                a.info_json(|v| k8s.is_none_or(|k| v.cluster_versions.iter().any(|c| c == k)));
            (a.addon_name.clone(), info)
        })
        .collect();
    let (page, next) = paginate(ctx, items)?;
    let mut out = json!({ "addons": page });
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("nextToken".into(), next.into());
    }
    Ok(out)
}

/// DescribeAddonConfiguration: the configuration schema and the pod
/// identity configuration (empty when the version has no support).
pub fn describe_configuration(em: &Emulator, ctx: &Ctx) -> Result<Value, ApiError> {
    let name = ctx
        .query
        .get("addonName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("addonName is a required parameter"))?;
    let version = ctx
        .query
        .get("addonVersion")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("addonVersion is a required parameter"))?;
    let spec = em
        .catalogue
        .find_addon(name)
        .ok_or_else(|| ApiError::not_found(format!("Addon {name} not found")).addon(name))?;
    let v = spec
        .find_version(version)
        .ok_or_else(|| version_not_supported(name))?;
    let pod_identity: Vec<Value> = spec
        .pod_identity_of(v)
        .iter()
        .map(|p| {
            json!({
                "serviceAccount": p.service_account,
                "recommendedManagedPolicies": p.recommended_managed_policies,
            })
        })
        .collect();
    Ok(json!({
        "addonName": spec.addon_name,
        "addonVersion": v.addon_version,
        "configurationSchema": spec.configuration_schema_text,
        "podIdentityConfiguration": pod_identity,
    }))
}
