//! Resource `eks_addon_pod_identity` (design §3): an addon with the pod
//! identity associations that give it IAM permissions and the roles made
//! for them.
//!
//! Owns, in order: schema, plan (version resolution, plan-time checks against
//! DescribeAddonConfiguration, the entries' computed values), create, read,
//! update, delete, import, and this resource's helpers. State, spec and the
//! pure rules: `schema::addon`; made roles: `crate::made_role`, the same code
//! as for `eks_pod_identity_association`.

use crate::clients::Clients;
use crate::eks::{self, AddonVersions};
use crate::errors::{AwsError, made_role_diagnostic, to_diagnostic};
use crate::iam;
use crate::made_role;
use crate::resources::pod_identity_association::role_source_input;
use crate::resources::{empty_response, prior_of, setup, unconfigured, with_error};
use crate::retry::{self, Attempt, Observed, WaitError};
use crate::spec_map::{self, input_bool, input_str, input_string_map};
use async_trait::async_trait;
use aws_sdk_eks::types::{Addon, AddonPodIdentityAssociations, IpFamily, ResolveConflicts};
use schema::Input;
use schema::addon::{
    self as rules, AddonAssociation, AddonInput, AddonState, Recommended, Timeouts,
};

use schema::role;
use schema::tags::{self, Tags};
use std::collections::{BTreeMap, BTreeSet};

use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, ImportedResource, PlanRequest, PlanResponse, ReadRequest,
    ReadResponse, Resource, Schema, Value,
};

/// The resource.
pub struct AddonPodIdentity;

impl AddonPodIdentity {
    fn tf_schema() -> Schema {
        spec_map::to_schema(&rules::spec())
    }
}

const ENTRIES: &str = "pod_identity_associations";

#[async_trait]
impl Resource for AddonPodIdentity {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Self::tf_schema()
    }

    async fn validate(&self, _ctx: &Ctx, config: &Value) -> Diagnostics {
        entry_problems(rules::check(&input_of(config, None, "aws")))
    }

    async fn plan(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        let Some(c) = ctx.data::<Clients>() else {
            return;
        };
        let cfg = &req.config;
        let prior: Option<AddonState> = req
            .prior_state
            .as_ref()
            .and_then(|p| spec_map::from_value(p, "prior state").ok());
        resp.diagnostics
            .extend(entry_problems(rules::check(&input_of(
                cfg,
                prior.as_ref(),
                c.partition,
            ))));
        let tags_all = match input_string_map(cfg, "tags") {
            Input::Null => Value::Map(string_pairs(&c.default_tags)),
            Input::Known(t) => Value::Map(string_pairs(&tags::merge(&c.default_tags, &t))),
            Input::Unknown => Value::Unknown,
        };
        resp.planned.set("tags_all", tags_all);
        resp.planned.set("status", Value::string("ACTIVE"));
        if let (Some(cluster), Some(addon)) = (
            cfg.get("cluster_name").as_str(),
            cfg.get("addon_name").as_str(),
        ) {
            resp.planned
                .set("id", Value::string(format!("{cluster}:{addon}")));
        }
        if resp.diagnostics.has_errors() {
            return;
        }
        plan_version_and_entries(&c, req, prior.as_ref(), resp).await;
    }

    async fn create(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        let mut resp = empty_response();
        let (c, planned) = match setup::<AddonState>(ctx, &req.planned) {
            Ok(v) => v,
            Err(d) => return with_error(resp, d),
        };
        let label = format!("{} on cluster {}", planned.addon_name, planned.cluster_name);
        let env = match Env::load(&c, &planned).await {
            Ok(e) => e,
            Err(d) => return with_error(resp, d),
        };
        let mut state = planned.clone();
        // Roles first: the addon's associations can only name roles that exist.
        let mut made_now: Vec<String> = Vec::new();
        if let Err(d) = put_roles(&c, &env, &mut state, &mut made_now).await {
            cleanup_roles(&c, &made_now, &mut resp.diagnostics).await;
            return with_error(resp, d);
        }
        let created = retry::until_done(ctx, "CreateAddon", retry::PROPAGATION_TIMEOUT, || async {
            let r = c
                .eks
                .create_addon()
                .cluster_name(&state.cluster_name)
                .addon_name(&state.addon_name)
                .addon_version(&env.version)
                .set_configuration_values(state.configuration_values.clone())
                .set_resolve_conflicts(
                    state
                        .resolve_conflicts_on_create
                        .as_deref()
                        .map(ResolveConflicts::from),
                )
                .set_service_account_role_arn(state.service_account_role_arn.clone())
                .set_pod_identity_associations(pod_identity_request(&state))
                .set_tags(non_empty(&state.tags_all))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("CreateAddon", e));
            match r {
                Ok(_) => Attempt::Done(Ok(())),
                Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
                Err(e) => Attempt::Done(Err(e)),
            }
        })
        .await;
        if let Err(e) = created {
            cleanup_roles(&c, &made_now, &mut resp.diagnostics).await;
            return with_error(
                resp,
                to_diagnostic(format!("creating EKS addon {label}"), &e),
            );
        }
        let timeout = Timeouts::of(state.timeouts.as_ref(), |t| t.create.as_ref());
        let waited =
            wait_addon_active(ctx, &c, &state.cluster_name, &state.addon_name, timeout).await;
        finish_apply(
            resp,
            &c,
            state,
            waited,
            &format!("creating EKS addon {label}"),
        )
        .await
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: Some(req.state.clone()),
            private: req.private,
            diagnostics: Diagnostics::default(),
            identity: req.identity,
        };
        let (c, prior) = match setup::<AddonState>(ctx, &req.state) {
            Ok(v) => v,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        match eks::find_addon_by_name(&c, &prior.cluster_name, &prior.addon_name).await {
            Ok(Some(addon)) => match state_from_remote(&c, &addon, &prior).await {
                Ok(state) => match spec_map::to_value(&state, &Self::tf_schema()) {
                    Ok(v) => resp.new_state = Some(v),
                    Err(d) => resp.diagnostics.push(d),
                },
                Err(e) => resp.diagnostics.push(to_diagnostic(
                    format!("reading the associations of EKS addon {}", prior.addon_name),
                    &e,
                )),
            },
            Ok(None) => {
                resp.new_state = None;
                resp.diagnostics.push(Diagnostic::warning(
                    format!("EKS addon {} on cluster {} is gone", prior.addon_name, prior.cluster_name),
                    "It was deleted outside Terraform. It is removed from the state; the next apply installs it again.",
                ));
            }
            Err(e) => resp.diagnostics.push(to_diagnostic(
                format!("reading EKS addon {}", prior.addon_name),
                &e,
            )),
        }
        resp
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        let mut resp = empty_response();
        let (c, planned) = match setup::<AddonState>(ctx, &req.planned) {
            Ok(v) => v,
            Err(d) => return with_error(resp, d),
        };
        let prior: AddonState = match prior_of(&req) {
            Ok(p) => p,
            Err(d) => return with_error(resp, d),
        };
        let label = format!("{} on cluster {}", planned.addon_name, planned.cluster_name);
        let env = match Env::load(&c, &planned).await {
            Ok(e) => e,
            Err(d) => return with_error(finish_state(resp, &prior), d),
        };
        let mut state = planned.clone();
        let mut made_now: Vec<String> = Vec::new();
        if let Err(d) = put_roles(&c, &env, &mut state, &mut made_now).await {
            cleanup_roles(&c, &made_now, &mut resp.diagnostics).await;
            return with_error(finish_state(resp, &prior), d);
        }
        let entries_changed = entry_pairs(&state) != entry_pairs(&prior)
            || state.pod_identity_associations.is_some()
                != prior.pod_identity_associations.is_some();
        let addon_changed = prior.resolved_version.as_deref() != Some(env.version.as_str())
            || !json_equal(&prior.configuration_values, &state.configuration_values)
            || prior.service_account_role_arn != state.service_account_role_arn;
        if entries_changed || addon_changed {
            let update =
                retry::until_done(ctx, "UpdateAddon", retry::PROPAGATION_TIMEOUT, || async {
                    let mut call = c
                        .eks
                        .update_addon()
                        .cluster_name(&state.cluster_name)
                        .addon_name(&state.addon_name)
                        .addon_version(&env.version)
                        .set_resolve_conflicts(
                            state
                                .resolve_conflicts_on_update
                                .as_deref()
                                .map(ResolveConflicts::from),
                        );
                    if !json_equal(&prior.configuration_values, &state.configuration_values) {
                        call = call.configuration_values(
                            state.configuration_values.clone().unwrap_or_default(),
                        );
                    }
                    if prior.service_account_role_arn != state.service_account_role_arn {
                        // An empty value removes IRSA from the addon.
                        call = call.service_account_role_arn(
                            state.service_account_role_arn.clone().unwrap_or_default(),
                        );
                    }
                    if entries_changed {
                        // The list replaces the owned set; [] removes them all.
                        call = call.set_pod_identity_associations(Some(
                            pod_identity_request(&state).unwrap_or_default(),
                        ));
                    }
                    match call
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("UpdateAddon", e))
                    {
                        Ok(out) => Attempt::Done(Ok(out.update.and_then(|u| u.id))),
                        Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
                        Err(e) => Attempt::Done(Err(e)),
                    }
                })
                .await;
            let timeout = Timeouts::of(state.timeouts.as_ref(), |t| t.update.as_ref());
            let update_id = match update {
                Ok(id) => id,
                Err(e) => {
                    cleanup_roles(&c, &made_now, &mut resp.diagnostics).await;
                    return with_error(
                        finish_state(resp, &prior),
                        to_diagnostic(format!("updating EKS addon {label}"), &e),
                    );
                }
            };
            if let Some(id) = update_id
                && let Err(e) = wait_update(
                    ctx,
                    &c,
                    &state.cluster_name,
                    &state.addon_name,
                    &id,
                    timeout,
                )
                .await
            {
                // The switch did not happen: the old roles stay, new state is read next time.
                return with_error(
                    finish_state(resp, &prior),
                    wait_diagnostic(format!("updating EKS addon {label}"), &e),
                );
            }
        }
        if let Err(e) = update_tags(&c, &prior, &state).await {
            return with_error(
                finish_state(resp, &prior),
                to_diagnostic(format!("tagging EKS addon {label}"), &e),
            );
        }
        // Cleanup after the switch: roles we made that no entry uses any more.
        let keep: BTreeSet<String> = made_role_names(&state);
        for old in made_role_names(&prior).difference(&keep) {
            if let Err(e) = iam::delete_role(&c, old).await {
                resp.diagnostics.push(to_diagnostic(
                    format!("deleting IAM role {old} no longer used by addon {label}"),
                    &e,
                ));
            }
        }
        let timeout = Timeouts::of(state.timeouts.as_ref(), |t| t.update.as_ref());
        let waited =
            wait_addon_active(ctx, &c, &state.cluster_name, &state.addon_name, timeout).await;
        finish_apply(
            resp,
            &c,
            state,
            waited,
            &format!("updating EKS addon {label}"),
        )
        .await
    }

    async fn delete(&self, ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let (c, prior) = match setup::<AddonState>(ctx, &req.prior_state) {
            Ok(v) => v,
            Err(d) => {
                diags.push(d);
                return diags;
            }
        };
        let label = format!("{} on cluster {}", prior.addon_name, prior.cluster_name);
        let preserve = prior.preserve_on_delete.unwrap_or(false);
        let r = c
            .eks
            .delete_addon()
            .cluster_name(&prior.cluster_name)
            .addon_name(&prior.addon_name)
            .preserve(preserve)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteAddon", e));
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                diags.push(to_diagnostic(format!("deleting EKS addon {label}"), &e));
                return diags;
            }
        }
        let timeout = Timeouts::of(prior.timeouts.as_ref(), |t| t.delete.as_ref());
        let what = format!("EKS addon {label}");
        let waited = retry::wait_for(
            ctx,
            what,
            &["DELETING", "ACTIVE", "DEGRADED"],
            &[],
            timeout,
            || async {
                Ok(
                    eks::find_addon_by_name(&c, &prior.cluster_name, &prior.addon_name)
                        .await?
                        .map(observe),
                )
            },
        )
        .await;
        if let Err(e) = waited {
            diags.push(wait_diagnostic(format!("deleting EKS addon {label}"), &e));
            return diags;
        }
        // preserve_on_delete keeps the associations, so their roles stay too.
        if !preserve {
            for name in made_role_names(&prior) {
                if let Err(e) = iam::delete_role(&c, &name).await {
                    diags.push(to_diagnostic(
                        format!("deleting IAM role {name} made for addon {label}"),
                        &e,
                    ));
                }
            }
        }
        diags
    }

    async fn import(&self, ctx: &Ctx, req: ImportRequest) -> ImportResponse {
        let mut resp = ImportResponse {
            imported: vec![],
            diagnostics: Diagnostics::default(),
        };
        let Some(c) = ctx.data::<Clients>() else {
            resp.diagnostics.push(unconfigured());
            return resp;
        };
        let Some((cluster, addon_name)) = req
            .id
            .split_once(':')
            .filter(|(a, b)| schema::names::check_cluster_name(a).is_ok() && !b.is_empty())
        else {
            resp.diagnostics.push(Diagnostic::error(
                "Invalid import ID for eks_addon_pod_identity",
                format!(
                    "{:?} is not CLUSTER_NAME:ADDON_NAME (for example my-cluster:vpc-cni).",
                    req.id
                ),
            ));
            return resp;
        };
        let addon = match eks::find_addon_by_name(&c, cluster, addon_name).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                resp.diagnostics.push(Diagnostic::error(
                    "Cannot import a non-existent EKS addon",
                    format!(
                        "No addon {addon_name} in cluster {cluster} (region {}).",
                        c.region
                    ),
                ));
                return resp;
            }
            Err(e) => {
                resp.diagnostics
                    .push(to_diagnostic(format!("importing EKS addon {}", req.id), &e));
                return resp;
            }
        };
        let base = AddonState {
            cluster_name: cluster.to_string(),
            addon_name: addon_name.to_string(),
            preserve_on_delete: Some(false),
            ..Default::default()
        };
        let mut state = match state_from_remote(&c, &addon, &base).await {
            Ok(s) => s,
            Err(e) => {
                resp.diagnostics
                    .push(to_diagnostic(format!("importing EKS addon {}", req.id), &e));
                return resp;
            }
        };
        state.addon_version = state.resolved_version.clone();
        let own: Tags = state
            .tags_all
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, v)| c.default_tags.get(k) != Some(v))
            .collect();
        state.tags = (!own.is_empty()).then_some(own);
        if let Some(version) = state.resolved_version.clone() {
            match eks::find_addon_pod_identity_configuration(&c, addon_name, &version).await {
                Ok(conf) => {
                    state.recommended = Some(
                        conf.into_iter()
                            .map(|(sa, policies)| Recommended {
                                service_account: sa,
                                managed_policy_arns: policies,
                            })
                            .collect(),
                    )
                }
                Err(e) => {
                    resp.diagnostics
                        .push(to_diagnostic(format!("importing EKS addon {}", req.id), &e));
                    return resp;
                }
            }
        }
        if let Err(e) = import_made_roles(&c, &mut state).await {
            resp.diagnostics.push(to_diagnostic(
                format!("importing the roles of EKS addon {}", req.id),
                &e,
            ));
            return resp;
        }
        match spec_map::to_value(&state, &Self::tf_schema()) {
            Ok(v) => resp.imported.push(ImportedResource {
                state: v,
                private: vec![],
                identity: None,
            }),
            Err(d) => resp.diagnostics.push(d),
        }
        resp
    }
}

// ---- helpers of this resource ----

fn finish_state(mut resp: ApplyResponse, state: &AddonState) -> ApplyResponse {
    match spec_map::to_value(state, &AddonPodIdentity::tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

fn string_pairs(t: &Tags) -> BTreeMap<String, Value> {
    t.iter()
        .map(|(k, v)| (k.clone(), Value::string(v)))
        .collect()
}

fn non_empty(t: &Option<Tags>) -> Option<std::collections::HashMap<String, String>> {
    t.as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| t.clone().into_iter().collect())
}

fn json_equal(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => {
            match (
                serde_json::from_str::<serde_json::Value>(x),
                serde_json::from_str::<serde_json::Value>(y),
            ) {
                (Ok(p), Ok(q)) => p == q,
                _ => x == y,
            }
        }
        (None, None) => true,
        _ => false,
    }
}

/// Problems with their attribute paths (entries under `pod_identity_associations[i]`).
fn entry_problems(problems: Vec<rules::EntryProblem>) -> Diagnostics {
    let mut d = Diagnostics::default();
    for (index, p) in problems {
        let path = match index {
            Some(i) => AttrPath::root(ENTRIES).index(i as i64).attr(p.attr),
            None => AttrPath::root(p.attr),
        };
        d.push(Diagnostic::error(p.summary, p.detail).at(path));
    }
    d
}

/// What the rules need of a configuration (and the prior state).
fn input_of(cfg: &Value, prior: Option<&AddonState>, partition: &str) -> AddonInput {
    let entries = match cfg.get(ENTRIES) {
        Value::Null => Input::Null,
        Value::List(items) => Input::Known(
            items
                .iter()
                .map(|item| {
                    (
                        input_str(item, "service_account"),
                        role_source_input(item, partition),
                    )
                })
                .collect(),
        ),
        _ => Input::Unknown,
    };
    AddonInput {
        addon_name: input_str(cfg, "addon_name"),
        service_account_role_arn: input_str(cfg, "service_account_role_arn"),
        use_recommended: input_bool(cfg, "use_recommended_pod_identity"),
        entries,
        prior_service_accounts: prior
            .and_then(|p| p.pod_identity_associations.as_ref())
            .map(|e| e.iter().map(|a| a.service_account.clone()).collect())
            .unwrap_or_default(),
    }
}

/// What apply needs to know of the cluster and the addon.
struct Env {
    version: String,
    namespace: String,
    cluster_arn: Option<String>,
}

impl Env {
    async fn load(c: &Clients, s: &AddonState) -> Result<Env, Diagnostic> {
        let cluster = match eks::find_cluster_by_name(c, &s.cluster_name).await {
            Ok(Some(cl)) => cl,
            Ok(None) => {
                return Err(Diagnostic::error(
                    format!("Cluster {} not found", s.cluster_name),
                    "Check cluster_name and the provider's region.",
                )
                .at(AttrPath::root("cluster_name")));
            }
            Err(e) => {
                return Err(to_diagnostic(
                    format!("looking up cluster {}", s.cluster_name),
                    &e,
                ));
            }
        };
        let namespace = match &s.namespace {
            Some(ns) => ns.clone(),
            None => {
                let k8s = cluster.version.clone().unwrap_or_default();
                match eks::find_addon_versions(c, &s.addon_name, &k8s).await {
                    Ok(v) => v
                        .map(|v| v.namespace)
                        .unwrap_or_else(|| "kube-system".into()),
                    Err(e) => {
                        return Err(to_diagnostic(
                            format!("looking up addon {}", s.addon_name),
                            &e,
                        ));
                    }
                }
            }
        };
        let version = s
            .resolved_version
            .clone()
            .or_else(|| s.addon_version.clone().filter(|v| v != rules::LATEST))
            .unwrap_or_default();
        Ok(Env {
            version,
            namespace,
            cluster_arn: cluster.arn,
        })
    }
}

/// Makes (or converges) the roles of entries without a given role, and
/// records role ARNs and names in `state`. Names of roles created now are
/// pushed to `made_now` so a failure can remove them.
async fn put_roles(
    c: &Clients,
    env: &Env,
    state: &mut AddonState,
    made_now: &mut Vec<String>,
) -> Result<(), Diagnostic> {
    let cluster = state.cluster_name.clone();
    let tags = state.tags_all.clone();
    let Some(entries) = state.pod_identity_associations.as_mut() else {
        return Ok(());
    };
    for e in entries.iter_mut() {
        if e.created_role != Some(true) {
            e.created_role = Some(false);
            continue;
        }
        let wanted = role::wanted_role(
            &e.role_request(&cluster, &env.namespace, tags.as_ref()),
            c.partition,
            env.cluster_arn.as_deref(),
        )
        .map_err(|m| Diagnostic::error("Invalid role-creation attributes", m))?;
        let summary = format!(
            "making IAM role {} for service account {}",
            wanted.name, e.service_account
        );
        let arn = match made_role::converge_role(c, &wanted).await {
            Ok(Some(found)) => found.arn,
            Ok(None) => {
                let owner = role::owner_tag_value(&cluster, &env.namespace, &e.service_account);
                match made_role::ensure_role(c, &wanted, &owner).await {
                    Ok(made_role::Ensured::Created(arn)) => {
                        made_now.push(wanted.name.clone());
                        arn
                    }
                    Ok(made_role::Ensured::Adopted(arn)) => arn,
                    Err(err) => return Err(made_role_diagnostic(summary, &err)),
                }
            }
            Err(err) => return Err(to_diagnostic(summary, &err)),
        };
        e.role_arn = Some(arn);
        e.role_name = Some(wanted.name);
        e.role_path = Some(wanted.path);
    }
    Ok(())
}

async fn cleanup_roles(c: &Clients, names: &[String], diags: &mut Diagnostics) {
    for name in names {
        if let Err(e) = iam::delete_role(c, name).await {
            diags.push(Diagnostic::warning(
                format!("IAM role {name} could not be cleaned up"),
                format!("{e}. The next apply adopts it (it carries the provider's owner tag)."),
            ));
        }
    }
}

/// The request list of (service account, role) pairs; `None` when omitted.
fn pod_identity_request(s: &AddonState) -> Option<Vec<AddonPodIdentityAssociations>> {
    s.pod_identity_associations.as_ref().map(|entries| {
        entries
            .iter()
            .filter_map(|e| {
                AddonPodIdentityAssociations::builder()
                    .service_account(&e.service_account)
                    .role_arn(e.role_arn.clone().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect()
    })
}

fn entry_pairs(s: &AddonState) -> BTreeSet<(String, String)> {
    s.pod_identity_associations
        .iter()
        .flatten()
        .map(|e| {
            (
                e.service_account.clone(),
                e.role_arn.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn made_role_names(s: &AddonState) -> BTreeSet<String> {
    s.pod_identity_associations
        .iter()
        .flatten()
        .filter(|e| e.created_role == Some(true))
        .filter_map(|e| e.role_name.clone())
        .collect()
}

fn observe(a: Addon) -> Observed<Addon> {
    let detail = a
        .health
        .as_ref()
        .and_then(|h| h.issues.as_ref())
        .map(|issues| {
            issues
                .iter()
                .map(|i| {
                    format!(
                        "{}: {}",
                        i.code
                            .as_ref()
                            .map(|c| c.as_str().to_string())
                            .unwrap_or_default(),
                        i.message.clone().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    Observed {
        state: a
            .status
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        detail,
        value: a,
    }
}

/// Waits for ACTIVE. DEGRADED while creating is waited on (it often passes),
/// not accepted: a timeout in DEGRADED reports the health issues.
async fn wait_addon_active(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    addon: &str,
    timeout: std::time::Duration,
) -> Result<Addon, WaitError> {
    let what = format!("EKS addon {addon} on cluster {cluster}");
    let r = retry::wait_for(
        ctx,
        what.clone(),
        &["CREATING", "UPDATING", "DEGRADED"],
        &["ACTIVE"],
        timeout,
        || async {
            Ok(eks::find_addon_by_name(c, cluster, addon)
                .await?
                .map(observe))
        },
    )
    .await?;
    r.ok_or(WaitError::Gone { what })
}

async fn wait_update(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    addon: &str,
    id: &str,
    timeout: std::time::Duration,
) -> Result<(), WaitError> {
    let what = format!("update {id} of EKS addon {addon}");
    retry::wait_for(
        ctx,
        what,
        &["InProgress"],
        &["Successful"],
        timeout,
        || async {
            let out = c
                .eks
                .describe_update()
                .name(cluster)
                .addon_name(addon)
                .update_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeUpdate", e))?;
            Ok(out.update.map(|u| Observed {
                state: u
                    .status
                    .as_ref()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                detail: u
                    .errors
                    .unwrap_or_default()
                    .iter()
                    .map(|e| e.error_message.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("; "),
                value: (),
            }))
        },
    )
    .await
    .map(|_| ())
}

fn wait_diagnostic(summary: String, e: &WaitError) -> Diagnostic {
    match e {
        WaitError::Aws(a) => to_diagnostic(summary, a),
        other => Diagnostic::error(
            summary,
            format!(
                "{other}.\n\nCheck the addon's health issues in the EKS console or with `aws eks describe-addon`; fix them (or raise the timeouts) and run apply again: it continues from the saved state."
            ),
        ),
    }
}

/// After the addon call and wait: the final state (with association IDs),
/// or a partial state with the error (Terraform then marks it tainted).
async fn finish_apply(
    resp: ApplyResponse,
    c: &Clients,
    mut state: AddonState,
    waited: Result<Addon, WaitError>,
    summary: &str,
) -> ApplyResponse {
    match waited {
        Ok(addon) => {
            state.addon_arn = addon.addon_arn.clone();
            state.status = addon.status.as_ref().map(|s| s.as_str().to_string());
            state.resolved_version = addon.addon_version.clone();
            if let Err(e) = fill_association_ids(c, &addon, &mut state).await {
                let resp = finish_state(resp, &state);
                return with_error(
                    resp,
                    to_diagnostic(format!("{summary}: reading its associations"), &e),
                );
            }
            finish_state(resp, &state)
        }
        Err(e) => {
            state.status = Some("FAILED".into());
            let resp = finish_state(resp, &state);
            with_error(resp, wait_diagnostic(summary.to_string(), &e))
        }
    }
}

/// The addon's associations: service account → (id, arn, role).
async fn remote_associations(
    c: &Clients,
    addon: &Addon,
) -> Result<BTreeMap<String, (String, String, String)>, AwsError> {
    let cluster = addon.cluster_name.clone().unwrap_or_default();
    let mut out = BTreeMap::new();
    for arn in addon.pod_identity_associations.clone().unwrap_or_default() {
        let Some(id) = arn.rsplit('/').next().map(str::to_string) else {
            continue;
        };
        if let Some(a) = eks::find_association_by_id(c, &cluster, &id).await? {
            out.insert(
                a.service_account.clone().unwrap_or_default(),
                (id, arn.clone(), a.role_arn.clone().unwrap_or_default()),
            );
        }
    }
    Ok(out)
}

async fn fill_association_ids(
    c: &Clients,
    addon: &Addon,
    state: &mut AddonState,
) -> Result<(), AwsError> {
    let remote = remote_associations(c, addon).await?;
    if let Some(entries) = state.pod_identity_associations.as_mut() {
        for e in entries.iter_mut() {
            if let Some((id, arn, _)) = remote.get(&e.service_account) {
                e.association_id = Some(id.clone());
                e.association_arn = Some(arn.clone());
            }
        }
    }
    Ok(())
}

/// The state for the addon as EKS reports it, keeping from `prior` what EKS
/// does not report (role-creation attributes, the user's text of JSON).
async fn state_from_remote(
    c: &Clients,
    addon: &Addon,
    prior: &AddonState,
) -> Result<AddonState, AwsError> {
    let mut s = prior.clone();
    s.addon_arn = addon.addon_arn.clone();
    s.status = addon.status.as_ref().map(|x| x.as_str().to_string());
    s.resolved_version = addon.addon_version.clone();
    s.id = Some(format!("{}:{}", prior.cluster_name, prior.addon_name));
    s.service_account_role_arn = addon
        .service_account_role_arn
        .clone()
        .filter(|a| !a.is_empty());
    s.configuration_values = match (&addon.configuration_values, &prior.configuration_values) {
        (Some(remote), Some(ours)) if json_equal(&Some(remote.clone()), &Some(ours.clone())) => {
            Some(ours.clone())
        }
        (Some(remote), _) if !remote.is_empty() => Some(remote.clone()),
        _ => None,
    };
    let remote_tags: Tags = addon.tags.clone().unwrap_or_default().into_iter().collect();
    s.tags_all = Some(remote_tags);
    let remote = remote_associations(c, addon).await?;
    let prior_entries = prior.pod_identity_associations.clone().unwrap_or_default();
    let mut entries: Vec<AddonAssociation> = Vec::new();
    for e in &prior_entries {
        if let Some((id, arn, role_arn)) = remote.get(&e.service_account) {
            let mut e = e.clone();
            e.association_id = Some(id.clone());
            e.association_arn = Some(arn.clone());
            if e.created_role != Some(true) {
                e.role_arn = Some(role_arn.clone());
            }
            entries.push(e);
        }
    }
    for (sa, (id, arn, role_arn)) in &remote {
        if !prior_entries.iter().any(|e| &e.service_account == sa) {
            entries.push(AddonAssociation {
                service_account: sa.clone(),
                role_arn: Some(role_arn.clone()),
                created_role: Some(false),
                restrict_to_cluster: None,
                association_id: Some(id.clone()),
                association_arn: Some(arn.clone()),
                ..Default::default()
            });
        }
    }
    s.pod_identity_associations = match (&prior.pod_identity_associations, entries.is_empty()) {
        (None, true) => None,
        _ => Some(entries),
    };
    Ok(s)
}

/// On import: entries whose role carries our owner tag are made roles.
async fn import_made_roles(c: &Clients, state: &mut AddonState) -> Result<(), AwsError> {
    let cluster = state.cluster_name.clone();
    let namespace = match &state.namespace {
        Some(ns) => ns.clone(),
        None => {
            let k8s = eks::find_cluster_by_name(c, &cluster)
                .await?
                .and_then(|cl| cl.version)
                .unwrap_or_default();
            eks::find_addon_versions(c, &state.addon_name, &k8s)
                .await?
                .map(|v| v.namespace)
                .unwrap_or_else(|| "kube-system".into())
        }
    };
    state.namespace = Some(namespace.clone());
    let Some(entries) = state.pod_identity_associations.as_mut() else {
        return Ok(());
    };
    for e in entries.iter_mut() {
        let Some(Ok(parsed)) = e.role_arn.as_deref().map(schema::names::parse_role_arn) else {
            continue;
        };
        let Some(found) = iam::find_role_by_name(c, &parsed.name).await? else {
            continue;
        };
        let owner = role::owner_tag_value(&cluster, &namespace, &e.service_account);
        if found.shape.tags.get(role::OWNER_TAG) != Some(&owner) {
            continue;
        }
        e.created_role = Some(true);
        e.role_name = Some(parsed.name);
        e.role_path = Some(found.path);
        e.permission_policy_arns = (!found.shape.managed_policy_arns.is_empty())
            .then(|| found.shape.managed_policy_arns.clone());
        e.permission_policy = found.shape.permission_policy.clone();
        e.permissions_boundary_arn = found.shape.permissions_boundary_arn.clone();
    }
    Ok(())
}

async fn update_tags(c: &Clients, prior: &AddonState, state: &AddonState) -> Result<(), AwsError> {
    let change = tags::diff(
        &prior.tags_all.clone().unwrap_or_default(),
        &state.tags_all.clone().unwrap_or_default(),
    );
    let arn = prior.addon_arn.clone().unwrap_or_default();
    if !change.set.is_empty() {
        c.eks
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(change.set.into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", e))?;
    }
    if !change.remove.is_empty() {
        c.eks
            .untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(change.remove))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", e))?;
    }
    Ok(())
}

/// Plan of the version, the recommended configuration and the entries.
async fn plan_version_and_entries(
    c: &Clients,
    req: &PlanRequest,
    prior: Option<&AddonState>,
    resp: &mut PlanResponse,
) {
    let cfg = &req.config;
    let (Some(cluster_name), Some(addon)) = (
        cfg.get("cluster_name").as_str(),
        cfg.get("addon_name").as_str(),
    ) else {
        mark_unknown(resp);
        return;
    };
    let cluster = match eks::find_cluster_by_name(c, cluster_name).await {
        Ok(Some(cl)) => cl,
        // Not there yet (made in the same apply): decided at apply.
        Ok(None) => {
            mark_unknown(resp);
            return;
        }
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up cluster {cluster_name}"),
                &e,
            ));
            return;
        }
    };
    let k8s = cluster.version.clone().unwrap_or_default();
    let ipv6 = cluster
        .kubernetes_network_config
        .as_ref()
        .and_then(|n| n.ip_family.as_ref())
        == Some(&IpFamily::Ipv6);
    let versions = match eks::find_addon_versions(c, addon, &k8s).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            resp.diagnostics.push(
                Diagnostic::error(
                    format!("Addon {addon} is not available"),
                    format!("Addon {addon} specified is not supported in {k8s} kubernetes version. Check addon_name."),
                )
                .at(AttrPath::root("addon_name")),
            );
            return;
        }
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up versions of addon {addon}"),
                &e,
            ));
            return;
        }
    };
    // A replacement (another addon or cluster) starts from nothing.
    let prior = prior.filter(|p| p.addon_name == addon && p.cluster_name == cluster_name);
    let Some(version) = resolve_version(cfg, prior, &versions, &k8s, addon, &mut resp.diagnostics)
    else {
        mark_unknown(resp);
        return;
    };
    if cfg.get("addon_version").is_null() {
        resp.planned.set("addon_version", Value::string(&version));
    }
    resp.planned
        .set("resolved_version", Value::string(&version));
    resp.planned
        .set("namespace", Value::string(&versions.namespace));
    let configuration = match eks::find_addon_pod_identity_configuration(c, addon, &version).await {
        Ok(p) => p,
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up the pod identity configuration of {addon} {version}"),
                &e,
            ));
            return;
        }
    };
    let recommended: Vec<Recommended> = configuration
        .iter()
        .map(|(sa, policies)| Recommended {
            service_account: sa.clone(),
            managed_policy_arns: policies.clone(),
        })
        .collect();
    if let Ok(v) = tfplugin::typed::to_value(&recommended, &recommended_type()) {
        resp.planned.set("recommended", v);
    }
    // The entries the configuration stands for.
    let use_recommended = cfg.get("use_recommended_pod_identity").as_bool() == Some(true);
    let entries: Option<Vec<Value>> = match cfg.get(ENTRIES) {
        Value::List(items) => Some(items.clone()),
        Value::Null if use_recommended => {
            let made = rules::recommended_entries(addon, &recommended, ipv6);
            Some(
                made.iter()
                    .filter_map(|e| tfplugin::typed::to_value(e, &entry_type()).ok())
                    .collect(),
            )
        }
        Value::Null => None,
        _ => {
            resp.planned.set(ENTRIES, Value::Unknown);
            return;
        }
    };
    let supported: Vec<String> = configuration.iter().map(|(sa, _)| sa.clone()).collect();
    let sas: Vec<Input<String>> = entries
        .iter()
        .flatten()
        .map(|e| input_str(e, "service_account"))
        .collect();
    resp.diagnostics
        .extend(entry_problems(rules::check_against_configuration(
            addon, &version, &sas, &supported,
        )));
    let Some(entries) = entries else {
        resp.planned.set(ENTRIES, Value::Null);
        return;
    };
    let prior_entries: Vec<AddonAssociation> = prior
        .and_then(|p| p.pod_identity_associations.clone())
        .unwrap_or_default();
    let mut planned_entries = Vec::new();
    for e in entries {
        planned_entries.push(plan_entry(
            e,
            cluster_name,
            &versions.namespace,
            &prior_entries,
        ));
    }
    // Association IDs survive only when the set of (service account, role) is unchanged.
    let pairs: Option<BTreeSet<(String, String)>> = planned_entries
        .iter()
        .map(|e| {
            Some((
                e.get("service_account").as_str()?.to_string(),
                e.get("role_arn").as_str()?.to_string(),
            ))
        })
        .collect();
    let prior_pairs: BTreeSet<(String, String)> = prior_entries
        .iter()
        .map(|e| {
            (
                e.service_account.clone(),
                e.role_arn.clone().unwrap_or_default(),
            )
        })
        .collect();
    let ids_stable = pairs.as_ref() == Some(&prior_pairs);
    for e in planned_entries.iter_mut() {
        let sa = e
            .get("service_account")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let prior_entry = prior_entries.iter().find(|p| p.service_account == sa);
        match (ids_stable, prior_entry) {
            (true, Some(p)) => {
                e.set(
                    "association_id",
                    p.association_id
                        .clone()
                        .map(Value::string)
                        .unwrap_or(Value::Null),
                );
                e.set(
                    "association_arn",
                    p.association_arn
                        .clone()
                        .map(Value::string)
                        .unwrap_or(Value::Null),
                );
            }
            _ => {
                e.set("association_id", Value::Unknown);
                e.set("association_arn", Value::Unknown);
            }
        }
    }
    resp.planned.set(ENTRIES, Value::List(planned_entries));
}

/// One entry's plan: given role, or a made role with its name, path and
/// (when unchanged) its ARN.
fn plan_entry(mut e: Value, cluster: &str, namespace: &str, prior: &[AddonAssociation]) -> Value {
    let sa = e.get("service_account").as_str().map(str::to_string);
    let prior_entry = sa
        .as_ref()
        .and_then(|sa| prior.iter().find(|p| &p.service_account == sa));
    if !e.get("role_arn").is_null() && e.get("created_role") != &Value::Bool(true) {
        for attr in ["role_name", "role_path"] {
            e.set(attr, Value::Null);
        }
        e.set("created_role", Value::Bool(false));
        return e;
    }
    let name = match (e.get("role_name"), &sa) {
        (Value::String(n), _) => Value::string(n),
        (Value::Null | Value::Unknown, Some(sa)) => {
            Value::string(role::generated_role_name(cluster, namespace, sa))
        }
        _ => Value::Unknown,
    };
    let path = match e.get("role_path") {
        Value::String(p) => Value::string(p),
        _ => Value::string("/"),
    };
    let kept_arn = prior_entry
        .filter(|p| {
            p.created_role == Some(true)
                && p.role_name.as_deref() == name.as_str()
                && p.role_path.as_deref() == path.as_str()
        })
        .and_then(|p| p.role_arn.clone());
    e.set(
        "role_arn",
        kept_arn.map(Value::string).unwrap_or(Value::Unknown),
    );
    e.set("role_name", name);
    e.set("role_path", path);
    e.set("created_role", Value::Bool(true));
    if e.get("restrict_to_cluster").is_null() {
        e.set("restrict_to_cluster", Value::Null);
    }
    e
}

fn resolve_version(
    cfg: &Value,
    prior: Option<&AddonState>,
    versions: &AddonVersions,
    k8s: &str,
    addon: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let newest = || {
        versions
            .versions
            .iter()
            .max_by_key(|v| eks::version_key(v))
            .cloned()
    };
    match cfg.get("addon_version") {
        // Absent: the default, but never a silent upgrade of an installed addon.
        Value::Null => prior
            .and_then(|p| p.resolved_version.clone())
            .or_else(|| versions.default.clone())
            .or_else(newest),
        Value::String(v) if v == rules::LATEST => newest(),
        Value::String(v) if versions.versions.contains(v) => Some(v.clone()),
        Value::String(v) => {
            let mut listed: Vec<&String> = versions.versions.iter().collect();
            listed.sort_by_key(|v| std::cmp::Reverse(eks::version_key(v)));
            diags.push(
                Diagnostic::error(
                    format!("Addon version {v} is not available"),
                    format!(
                        "Addon version specified is not supported: {addon} {v} is not compatible with Kubernetes {k8s}. Compatible versions: {}; or write \"latest\", or leave addon_version out for the default.",
                        listed.iter().take(8).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(AttrPath::root("addon_version")),
            );
            None
        }
        _ => None,
    }
}

fn mark_unknown(resp: &mut PlanResponse) {
    for attr in ["resolved_version", "recommended", "namespace"] {
        if resp.planned.get(attr).is_null() {
            resp.planned.set(attr, Value::Unknown);
        }
    }
}

fn recommended_type() -> tfplugin::Type {
    match AddonPodIdentity::tf_schema().ty() {
        tfplugin::Type::Object(attrs) => attrs
            .get("recommended")
            .cloned()
            .unwrap_or(tfplugin::Type::Dynamic),
        _ => tfplugin::Type::Dynamic,
    }
}

fn entry_type() -> tfplugin::Type {
    match AddonPodIdentity::tf_schema().ty() {
        tfplugin::Type::Object(attrs) => match attrs.get(ENTRIES) {
            Some(tfplugin::Type::List(inner)) => (**inner).clone(),
            _ => tfplugin::Type::Dynamic,
        },
        _ => tfplugin::Type::Dynamic,
    }
}
