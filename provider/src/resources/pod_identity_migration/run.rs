//! One apply of `eks_pod_identity_migration`: carries out the planned tasks
//! in order (agent, addons one after another, then service accounts: trust,
//! associations, OIDC trust, annotations), every item tried and every
//! failure reported on its own.
//!
//! Owns: [`Run`] (the clients, what it saved for rollback, what it migrated
//! and its per-item errors, shared by the concurrent steps) and the steps.
//! Does not own: discovery (`super::discover`) or the addon calls
//! (`super::addons`).

use super::saved::{CONCURRENCY, Saved};
use super::{addons, discover};
use crate::aws::eks::addon::AGENT_ADDON;
use crate::aws::eks::association::{self, Created, NewAssociation};
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::kube::{self, Kube, ROLE_ARN_ANNOTATION};
use crate::ownership;
use futures::stream::{self, StreamExt};
use schema::migration::{self as rules, Migrated, Task, step};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tfplugin::{Ctx, Diagnostic, Diagnostics};

/// One apply (see the module documentation).
pub(super) struct Run<'a> {
    pub(super) ctx: &'a Ctx,
    pub(super) c: Arc<Clients>,
    pub(super) cluster: String,
    pub(super) saved: Mutex<Saved>,
    pub(super) diags: Mutex<Diagnostics>,
    pub(super) migrated: Mutex<BTreeMap<(String, String), Migrated>>,
}

/// A service account's association step: (target, role, succeeded).
type Outcome = (String, String, bool);

/// The guard of `m`, also when a step panicked while holding it: what
/// the other steps recorded (saved originals, migrated items, their
/// diagnostics) is still true and must not be lost.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Run<'_> {
    /// What the run migrated, saved for rollback and reported, poisoned
    /// or not (see [`lock`]).
    pub(super) fn finish(self) -> (Vec<Migrated>, Saved, Diagnostics) {
        (
            self.migrated
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .into_values()
                .collect(),
            self.saved
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
            self.diags
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Adds a per-item diagnostic (error or warning).
    fn report(&self, d: Diagnostic) {
        lock(&self.diags).push(d);
    }

    fn record(&self, kind: &str, target: &str, f: impl FnOnce(&mut Migrated)) {
        let mut g = lock(&self.migrated);
        let m = g
            .entry((kind.to_string(), target.to_string()))
            .or_insert_with(|| Migrated {
                kind: kind.to_string(),
                target: target.to_string(),
                ..Default::default()
            });
        f(m);
    }

    /// Carries out `tasks`.
    pub(super) async fn execute(&self, tasks: &[Task]) {
        let of = |s: &'static str| tasks.iter().filter(move |t| t.step == s);
        // 1. The agent.
        if of(step::INSTALL_AGENT).next().is_some() {
            match addons::install_agent(self.ctx, &self.c, &self.cluster).await {
                Ok(created) => self.record("agent", AGENT_ADDON, |m| m.created = created),
                Err(e) => self.report(Diagnostic::error(
                    format!("installing {AGENT_ADDON} on cluster {}", self.cluster),
                    format!("{e}\n\nThe other tasks continue; pods get pod identity credentials only once the agent runs."),
                )),
            }
        }
        // 2. Addons, one after another (each switch rolls the addon's pods).
        let addon_targets: BTreeSet<&str> =
            of(step::SWITCH_ADDON).map(|t| t.target.as_str()).collect();
        for addon in addon_targets {
            self.migrate_addon(addon, tasks).await;
        }
        // 3. Service accounts: trust first (once per role), then associations,
        //    then OIDC trust and annotations where asked.
        let trust_failed = self.update_service_account_trust(tasks).await;
        let to_create: Vec<Task> = of(step::CREATE_ASSOCIATION).cloned().collect();
        let created = self.create_associations(to_create, &trust_failed).await;
        let role_complete = |role: &str| created.iter().all(|(_, r, ok)| r != role || *ok);
        for t in of(step::REMOVE_OIDC_TRUST).filter(|t| t.target.contains('/')) {
            if !role_complete(&t.role_arn) || trust_failed.contains(&t.role_arn) {
                continue; // reported already; the OIDC trust stays until all moved
            }
            self.remove_oidc(&t.target, &t.role_arn, "service_account")
                .await;
        }
        let annotations: Vec<Task> = of(step::REMOVE_ANNOTATION).cloned().collect();
        if !annotations.is_empty() {
            self.remove_annotations(&annotations, &created).await;
        }
    }

    /// Adds the pod identity trust to the service accounts' roles (once per
    /// role); returns the roles whose trust could not be updated.
    async fn update_service_account_trust(&self, tasks: &[Task]) -> BTreeSet<String> {
        let sa_trust: Vec<Task> = tasks
            .iter()
            .filter(|t| t.step == step::UPDATE_TRUST && t.target.contains('/'))
            .map(|t| (t.role_arn.clone(), t.clone()))
            .collect::<BTreeMap<String, Task>>()
            .into_values()
            .collect();
        let failures: Vec<Option<String>> = stream::iter(sa_trust)
            .map(|t: Task| async move {
                match self.update_trust(&t.role_arn).await {
                    Ok(()) => None,
                    Err(e) => {
                        self.report(to_diagnostic(
                            format!(
                                "migrating {} of cluster {}: updating the trust policy of {}",
                                t.target, self.cluster, t.role_arn
                            ),
                            &e,
                        ));
                        Some(t.role_arn)
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        failures.into_iter().flatten().collect()
    }

    /// Creates the associations (not for roles whose trust update failed).
    async fn create_associations(
        &self,
        tasks: Vec<Task>,
        trust_failed: &BTreeSet<String>,
    ) -> Vec<Outcome> {
        stream::iter(tasks)
            .map(move |t: Task| async move {
                if trust_failed.contains(&t.role_arn) {
                    self.report(Diagnostic::error(
                        format!("migrating {} of cluster {}: association not created", t.target, self.cluster),
                        format!("The trust policy of {} could not be updated (see the error above), so EKS would refuse the role. The next apply tries again.", t.role_arn),
                    ));
                    return (t.target, t.role_arn, false);
                }
                let ok = self.create_association(&t).await;
                (t.target, t.role_arn, ok)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    }

    /// Adds the pod identity statement to a role's trust when absent,
    /// saving the original first.
    async fn update_trust(&self, role_arn: &str) -> Result<(), AwsError> {
        let Some(found) = iam::find_trust_by_arn(&self.c, role_arn).await? else {
            return Err(AwsError::service(
                "GetRole",
                "NoSuchEntity",
                format!("the role {role_arn} does not exist"),
            ));
        };
        let Some(new) = rules::add_pod_identity_trust(&found.trust) else {
            return Ok(());
        };
        self.put_trust(&found.name, role_arn, &found.trust, &new)
            .await
    }

    /// Replaces a role's trust, saving the original once.
    async fn put_trust(
        &self,
        name: &str,
        arn: &str,
        old: &Json,
        new: &Json,
    ) -> Result<(), AwsError> {
        lock(&self.saved)
            .trust
            .entry(arn.to_string())
            .or_insert_with(|| old.to_string());
        ownership::update_named_trust(&self.c, name, &new.to_string()).await
    }

    /// Removes this cluster's OIDC trust from a role (after its users moved).
    async fn remove_oidc(&self, target: &str, role_arn: &str, kind: &str) {
        let result = async {
            let Some(provider) = discover::oidc_provider_arn(&self.c, &self.cluster).await? else {
                return Ok(());
            };
            let Some(role) = iam::find_trust_by_arn(&self.c, role_arn).await? else {
                return Ok(());
            };
            if let Some(new) = rules::remove_oidc_trust(&role.trust, &provider) {
                self.put_trust(&role.name, role_arn, &role.trust, &new)
                    .await?;
            }
            Ok::<(), AwsError>(())
        }
        .await;
        match result {
            Ok(()) => self.record(kind, target, |m| {
                m.role_arn = role_arn.to_string();
                m.oidc_trust_removed = true;
            }),
            Err(e) => self.report(to_diagnostic(
                format!(
                    "migrating {target} of cluster {}: removing the OIDC trust of {role_arn}",
                    self.cluster
                ),
                &e,
            )),
        }
    }

    /// Creates (or recognises) one service account's association.
    async fn create_association(&self, t: &Task) -> bool {
        let Some((ns, sa)) = rules::split_target(&t.target) else {
            return false;
        };
        match create_or_find_association(self.ctx, &self.c, &self.cluster, ns, sa, &t.role_arn)
            .await
        {
            Ok((id, created)) => {
                self.record("service_account", &t.target, |m| {
                    m.role_arn = t.role_arn.clone();
                    m.association_id = id;
                    m.created = m.created || created;
                });
                true
            }
            Err(e) => {
                self.report(to_diagnostic(
                    format!(
                        "migrating {} of cluster {}: creating its pod identity association",
                        t.target, self.cluster
                    ),
                    &e,
                ));
                false
            }
        }
    }

    /// Removes IRSA annotations of service accounts whose association exists.
    async fn remove_annotations(&self, tasks: &[Task], created: &[Outcome]) {
        let kube = match kube::connect(&self.c, &self.cluster).await {
            Ok(k) => k,
            Err(e) => {
                self.report(kube::to_diagnostic(
                    format!("removing IRSA annotations in cluster {}", self.cluster),
                    &e,
                ));
                return;
            }
        };
        let kube = &kube;
        stream::iter(tasks.to_vec())
            .map(|t: Task| async move {
                // Only after the association exists.
                if created
                    .iter()
                    .any(|(target, _, ok)| target == &t.target && !*ok)
                {
                    return;
                }
                if let Err(msg) = self.remove_annotation(kube, &t).await {
                    self.report(msg);
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
    }

    async fn remove_annotation(&self, kube: &Kube, t: &Task) -> Result<(), Diagnostic> {
        let (ns, sa) = rules::split_target(&t.target).unwrap_or_default();
        let summary = format!(
            "migrating {} of cluster {}: removing its IRSA annotation",
            t.target, self.cluster
        );
        let has = association::find_id_by_service_account(&self.c, &self.cluster, ns, sa)
            .await
            .map_err(|e| to_diagnostic(&summary, &e))?;
        let Some(id) = has else {
            return Err(Diagnostic::error(
                summary,
                "It has no pod identity association, so the annotation stays.",
            ));
        };
        let current = kube
            .find_service_account(ns, sa)
            .await
            .map_err(|e| kube::to_diagnostic(&summary, &e))?;
        if let Some(role) = current.as_ref().and_then(|s| s.irsa_role_arn()) {
            lock(&self.saved)
                .annotations
                .entry(t.target.clone())
                .or_insert_with(|| role.to_string());
            kube.annotate_service_account(ns, sa, ROLE_ARN_ANNOTATION, None)
                .await
                .map_err(|e| kube::to_diagnostic(&summary, &e))?;
        }
        self.record("service_account", &t.target, |m| {
            m.role_arn = t.role_arn.clone();
            if m.association_id.is_empty() {
                m.association_id = id;
            }
            m.annotation_removed = true;
        });
        Ok(())
    }

    /// The addon's service accounts its IRSA role's trust allowed, read now
    /// (issue 12 item 9); `None` (reported) when none is, or on error:
    /// then nothing of the addon is changed.
    async fn allowed_service_accounts(&self, addon: &str, role: &str) -> Option<Vec<String>> {
        match addons::trusted_service_accounts(&self.c, &self.cluster, addon, role).await {
            Ok(t) if t.allowed.is_empty() => {
                self.report(Diagnostic::warning(
                    format!("Addon {addon} of cluster {} stays on IRSA", self.cluster),
                    format!(
                        "The trust policy of its IRSA role {} no longer allows any of its service accounts ({}), so none may get the role through pod identity. Nothing was changed. Give the service accounts roles with eks_addon_pod_identity, or fix the trust and apply again.",
                        role,
                        t.refused.join(", ")
                    ),
                ));
                None
            }
            Ok(t) => Some(t.allowed),
            Err(e) => {
                self.report(Diagnostic::error(
                    format!("migrating addon {addon} of cluster {}: reading which of its service accounts the trust of {} allows", self.cluster, role),
                    format!("{e}\n\nNothing was changed; the next apply tries again."),
                ));
                None
            }
        }
    }

    /// Which service accounts the role's trust allowed (read now), trust,
    /// switch for those only, then (only after the switch succeeded) OIDC
    /// trust removal. An addon none of whose service accounts is allowed is
    /// left as it is.
    async fn migrate_addon(&self, addon: &str, tasks: &[Task]) {
        let mine = |s: &str| tasks.iter().find(|t| t.step == s && t.target == addon);
        let Some(switch) = mine(step::SWITCH_ADDON) else {
            return;
        };
        let Some(allowed) = self.allowed_service_accounts(addon, &switch.role_arn).await else {
            return;
        };
        let rewrite = mine(step::UPDATE_TRUST).is_some();
        if rewrite && let Err(e) = self.update_trust(&switch.role_arn).await {
            self.report(to_diagnostic(
                format!(
                    "migrating addon {addon} of cluster {}: updating the trust policy of {}",
                    self.cluster, switch.role_arn
                ),
                &e,
            ));
            return;
        }
        lock(&self.saved)
            .addons
            .entry(addon.to_string())
            .or_insert_with(|| switch.role_arn.clone());
        if let Err(e) = addons::switch_to_pod_identity(
            self.ctx,
            &self.c,
            &self.cluster,
            addon,
            &switch.role_arn,
            &allowed,
            rewrite,
        )
        .await
        {
            self.report(Diagnostic::error(
                format!("migrating addon {addon} of cluster {}: switching it to pod identity", self.cluster),
                format!("{e}\n\nIts IRSA role and trust are unchanged apart from the added pod identity statement; the next apply tries again."),
            ));
            return;
        }
        self.record("addon", addon, |m| m.role_arn = switch.role_arn.clone());
        if mine(step::REMOVE_OIDC_TRUST).is_some() {
            self.remove_oidc(addon, &switch.role_arn, "addon").await;
        }
    }
}

/// Creates the association, or finds the existing one for the same role:
/// (association ID, created now). Discovery found none; one made since is
/// recognised from EKS's "already exists" answer, so no lookup comes first.
async fn create_or_find_association(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    ns: &str,
    sa: &str,
    role: &str,
) -> Result<(String, bool), AwsError> {
    let new = NewAssociation {
        cluster: cluster.to_string(),
        namespace: ns.to_string(),
        service_account: sa.to_string(),
        settings: schema::association::Settings {
            role_arn: Some(role.to_string()),
            ..Default::default()
        },
        tags: c.default_tags.clone(),
        // The trust was updated moments ago (IAM is eventually consistent).
        trust_just_changed: true,
        // The same token on every retry of this create: a lost answer is
        // answered with the association it made.
        request_token: Some(ownership::Lease::new().request_token(&format!("{cluster}/{ns}/{sa}"))),
    };
    match association::create(ctx, c, &ownership::creating(), &new).await? {
        Created::New(a) => a
            .association_id
            .map(|id| (id, true))
            .ok_or(AwsError::Incomplete {
                operation: "CreatePodIdentityAssociation",
                field: "association",
            }),
        Created::Existing(a) => recognise(a, role).map(|id| (id, false)),
    }
}

/// An existing association counts as migrated only if it uses the same role.
fn recognise(a: association::Association, role: &str) -> Result<String, AwsError> {
    let id = a.association_id.unwrap_or_default();
    match a.settings.role_arn {
        Some(r) if r == role => Ok(id),
        other => Err(AwsError::service(
            "CreatePodIdentityAssociation",
            "ResourceInUseException",
            format!(
                "the service account already has association {id} with role {}; it is left as it is",
                other.unwrap_or_else(|| "unknown".into())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_association_is_migrated_only_with_the_same_role() {
        let a = association::Association {
            association_id: Some("a-1".into()),
            settings: schema::association::Settings {
                role_arn: Some("r".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(recognise(a.clone(), "r").ok().as_deref(), Some("a-1"));
        let e = recognise(a, "other")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("already has association a-1 with role r"), "{e}");
    }

    #[test]
    fn a_step_that_panicked_holding_a_lock_loses_nothing() {
        let ctx = Ctx::detached(None);
        let run = Run {
            ctx: &ctx,
            c: Arc::new(Clients::deferred(
                &schema::provider_config::ProviderConfig::default(),
                vec![],
            )),
            cluster: "prod".into(),
            saved: Mutex::new(Saved::default()),
            diags: Mutex::new(Diagnostics::default()),
            migrated: Mutex::new(BTreeMap::new()),
        };
        run.report(Diagnostic::error("before", "reported before the panic"));
        // A step panics while it holds every lock: each mutex is poisoned.
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _d = run.diags.lock();
            let _s = run.saved.lock();
            let _m = run.migrated.lock();
            panic!("a step failed");
        }));
        assert!(poisoned.is_err());
        assert!(run.diags.is_poisoned() && run.saved.is_poisoned());
        run.report(Diagnostic::error("after", "reported after the panic"));
        run.record("service_account", "ns/app", |m| m.role_arn = "r".into());
        lock(&run.saved)
            .trust
            .insert("arn:aws:iam::1:role/r".into(), "{}".into());
        let (migrated, saved, diags) = run.finish();
        let summaries: Vec<&str> = diags.0.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries, ["before", "after"]);
        assert_eq!(migrated.len(), 1);
        assert_eq!(migrated[0].role_arn, "r");
        assert!(saved.trust.contains_key("arn:aws:iam::1:role/r"));
    }
}
