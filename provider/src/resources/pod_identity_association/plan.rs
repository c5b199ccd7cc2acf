//! Validation and planning of `eks_pod_identity_association`: the computed
//! values a plan knows (tags_all, external_id, the made role's name, path
//! and expected policies), replacement of a made role, and the warning for a
//! cluster without the pod identity agent.
//!
//! Owns: ValidateResourceConfig and PlanResourceChange of this resource.
//! Does not own: the rules themselves (`schema::association`) or the
//! service-account attributes (`super::service_account`).

use super::service_account;
use super::state::made_role_arn;
use crate::aws::Clients;
use crate::aws::eks::addon::AGENT_ADDON;
use crate::aws::eks::cluster;
use crate::spec_map::{self, input_bool, input_str, input_string_map, role_config, string_map};
use schema::association::{self as rules, AssociationConfig, AssociationState};
use schema::input::Stage;
use schema::role::{self, PriorMadeRole, RoleLocation};
use schema::tags::{self, Tags};
use schema::{Input, policy};
use tfplugin::{AttrPath, Diagnostic, Diagnostics, PlanRequest, PlanResponse, Value};

/// The attributes the made role's expected shape depends on.
const SHAPE_INPUTS: [&str; 10] = [
    "cluster_name",
    "namespace",
    "service_account",
    "permission_policy_arns",
    "permission_policy",
    "well_known_policies",
    "well_known_policy_scopes",
    "permissions_boundary_arn",
    "trust_conditions",
    "restrict_to_cluster",
];

/// ValidateResourceConfig: the rules that need no AWS call, on known values
/// only (Terraform's validate walk passes module inputs and `each.value`
/// parts as unknown); plan judges them again when they are known.
pub(super) fn validate(config: &Value) -> Diagnostics {
    // Default tags and the partition are known only after configuration;
    // the rules that need them run again at plan time.
    let mut input = config_of(config, Input::Null, "aws");
    // role_arn beside a role_name that names the same role is what
    // `terraform plan -generate-config-out` writes for a made role; whether
    // it is this resource's made role only the prior state tells, so plan
    // judges it.
    if let (Input::Known(arn), Input::Known(name)) = (&input.role.role_arn, &input.role.role_name)
        && schema::names::parse_role_arn(arn).is_ok_and(|r| r.name == *name)
    {
        input.role.role_arn = Input::Unknown;
    }
    spec_map::problems_to_diagnostics(rules::check_config(&input, Stage::Validate))
}

/// PlanResourceChange.
pub(super) async fn plan(clients: &Clients, req: &PlanRequest, resp: &mut PlanResponse) {
    let tags_all = match input_string_map(&req.config, "tags") {
        Input::Null => Input::Known(clients.default_tags.clone()),
        Input::Known(t) => Input::Known(tags::merge(&clients.default_tags, &t)),
        Input::Unknown => Input::Unknown,
    };
    let prior: Option<AssociationState> = req
        .prior_state
        .as_ref()
        .and_then(|p| spec_map::from_value(p, "prior state").ok());
    let mut input = config_of(&req.config, tags_all.clone(), clients.partition);
    if let (Input::Known(arn), Some(made)) = (
        &input.role.role_arn,
        prior.as_ref().filter(|p| p.created_role == Some(true)),
    ) && Some(arn)
        == made_role_arn(made)
            .or_else(|| made.role_arn.clone())
            .as_ref()
    {
        // role_arn naming the role this resource made, beside its
        // role-creation attributes (generated config after an import):
        // the role stays made.
        input.role.role_arn = Input::Null;
    }
    resp.diagnostics
        .extend(spec_map::problems_to_diagnostics(rules::check_config(
            &input,
            Stage::Plan,
        )));
    resp.planned.set(
        "tags_all",
        match tags_all {
            Input::Known(t) => string_map(&t),
            _ => Value::Unknown,
        },
    );
    let external_id =
        planned_external_id(prior.as_ref(), &input_str(&req.config, "target_role_arn"));
    resp.planned.set(
        "external_id",
        match external_id {
            Some(Some(id)) => Value::string(id),
            Some(None) => Value::Null,
            None => Value::Unknown,
        },
    );
    plan_what_read_found(req, prior.as_ref(), &mut resp.planned);
    warn_roles_left(req, prior.as_ref(), &mut resp.diagnostics);
    plan_policy_text(&req.config, prior.as_ref(), &mut resp.planned);
    replace_on_session_policy_removal(req, prior.as_ref(), resp);
    // Only a new role (create, or another role_arn): a plan that changes
    // nothing asks EKS nothing more.
    if let (Input::Known(arn), Some(cluster)) = (
        &input.role.role_arn,
        req.config.get("cluster_name").as_str(),
    ) && prior
        .as_ref()
        .is_none_or(|p| p.role_arn.as_deref() != Some(arn.as_str()))
    {
        check_role_account(clients, cluster, arn, &mut resp.diagnostics).await;
    }
    if input.role.makes_role() == Input::Known(true) {
        plan_made_role(clients, &req.config, prior.as_ref(), resp).await;
    } else {
        plan_given_role(&mut resp.planned);
    }
    service_account::plan(prior.as_ref(), &mut resp.planned);
    if prior.is_none() {
        // We never create addon-owned associations.
        resp.planned.set("owner_arn", Value::Null);
        if let Some(cluster) = req.config.get("cluster_name").as_str() {
            warn_without_agent(clients, cluster, &mut resp.diagnostics).await;
        }
    }
}

/// The warning for made roles an earlier switch left (their deletion
/// failed), which this apply deletes.
fn warn_roles_left(req: &PlanRequest, prior: Option<&AssociationState>, diags: &mut Diagnostics) {
    let left = super::read::Private::from_bytes(&req.prior_private).roles_to_delete;
    if !left.is_empty() && prior.is_some() {
        diags.push(tfplugin::Diagnostic::warning(
            "IAM roles this resource made and no longer uses are deleted by this apply",
            format!(
                "An earlier apply switched the association away from {} and could not delete it then. This apply deletes it (tags_all shows as changing so that there is an apply to do it).",
                left.join(", ")
            ),
        ));
    }
}

/// Removing a session policy replaces the association (issue 23 item 9):
/// no AWS source documents a way to clear `policy` on
/// UpdatePodIdentityAssociation (emulator/FACTS.md F10: the model says
/// nothing, the AWS provider's and eksctl's support set and change it
/// only), and an update that may be refused, or keep the policy, is no way
/// to remove a restriction. A new association without it is.
fn replace_on_session_policy_removal(
    req: &PlanRequest,
    prior: Option<&AssociationState>,
    resp: &mut PlanResponse,
) {
    if prior.is_some_and(|p| p.session_policy.is_some() && p.association_id.is_some())
        && req.config.get("session_policy").is_null()
    {
        resp.requires_replace
            .push(tfplugin::AttrPath::root("session_policy"));
    }
}

/// What read left for the plan: an association to make again (the
/// resource was kept for its made role), or a made role whose tags changed
/// outside Terraform.
fn plan_what_read_found(req: &PlanRequest, prior: Option<&AssociationState>, planned: &mut Value) {
    if let Some(p) = prior.filter(|p| p.association_id.is_none()) {
        // Kept for its made role after the association vanished: apply
        // creates the association again.
        for attr in ["id", "association_id", "association_arn", "created_at"] {
            planned.set(attr, Value::Unknown);
        }
        tracing::debug!(
            "association of {}/{} to be made again",
            p.namespace,
            p.service_account
        );
    }
    let private = super::read::Private::from_bytes(&req.prior_private);
    if !private.roles_to_delete.is_empty() && prior.is_some() {
        // Made roles a switch left behind (their deletion failed): apply
        // deletes them, so the plan must have a change to apply.
        planned.set("tags_all", Value::Unknown);
    }
    if private.role_tags_drift && prior.is_some_and(|p| p.created_role == Some(true)) {
        // The made role's tags were changed outside Terraform: tags_all
        // (which the role carries too) shows as changing, and apply tags the
        // role again.
        planned.set("tags_all", Value::Unknown);
    }
}

/// What the plan knows of `external_id`: `None` means unknown until apply.
///
/// When EKS gives an association an external ID is undocumented
/// (emulator/FACTS.md F11; strict rule X1 gives every association one and
/// keeps it when the target role is cleared): only an association whose
/// target role stays as it is keeps the value it has; a new association or
/// a changed target role plans it unknown.
fn planned_external_id(
    prior: Option<&AssociationState>,
    target_role_arn: &Input<String>,
) -> Option<Option<String>> {
    let p = prior.filter(|p| p.association_id.is_some())?;
    let same = match target_role_arn {
        Input::Null => p.target_role_arn.is_none(),
        Input::Known(t) => p.target_role_arn.as_ref() == Some(t),
        Input::Unknown => false,
    };
    same.then(|| p.external_id.clone())
}

/// What the plan-time rules need of a configuration (values as written;
/// `disable_session_tags` after its default).
fn config_of(config: &Value, tags_all: Input<Tags>, partition: &str) -> AssociationConfig {
    AssociationConfig {
        session_policy: input_str(config, "session_policy"),
        disable_session_tags: match input_bool(config, "disable_session_tags") {
            Input::Null => Input::Known(false),
            v => v,
        },
        tags_all,
        role: role_config(config, partition),
    }
}

/// `permission_policy` and `session_policy` as planned: the prior text when
/// the configured one means the same (no update for whitespace, key order,
/// `"x"` vs `["x"]`, also right after import).
fn plan_policy_text(config: &Value, prior: Option<&AssociationState>, planned: &mut Value) {
    let prior_of = |attr: &str| match (attr, prior) {
        ("permission_policy", Some(p)) => p.permission_policy.clone(),
        ("session_policy", Some(p)) => p.session_policy.clone(),
        _ => None,
    };
    for attr in ["permission_policy", "session_policy"] {
        if let Some(text) = config.get(attr).as_str() {
            let kept = policy::planned_text(text, prior_of(attr).as_deref());
            planned.set(attr, Value::string(kept));
        }
    }
}

/// A given role must be in the cluster's account (issue 23 item 7): EKS
/// refuses any other ("Cross-account pass role is not allowed", FACTS.md
/// F2), and the cluster's ARN says its account. Once per cluster and
/// process (the ARN is cached); a cluster not there yet is decided at
/// apply. To reach another account, `target_role_arn` chains to it.
async fn check_role_account(
    c: &Clients,
    cluster: &str,
    role_arn: &str,
    diags: &mut tfplugin::Diagnostics,
) {
    let Ok(Some(cluster_arn)) = crate::aws::eks::cluster::find_arn_by_name(c, cluster).await else {
        return;
    };
    let account = |arn: &str| arn.split(':').nth(4).map(str::to_string);
    if let (Some(role), Some(own)) = (account(role_arn), account(&cluster_arn))
        && !role.is_empty()
        && role != own
    {
        diags.push(
            tfplugin::Diagnostic::error(
                "role_arn is in another account than the cluster",
                format!(
                    "{role_arn} is in account {role}, the cluster {cluster} in {own}: EKS accepts only a role of the cluster's own account (\"Cross-account pass role is not allowed\"). Use a role of account {own}; to reach account {role}, set target_role_arn to its role and give this one permission to assume it."
                ),
            )
            .at(tfplugin::AttrPath::root("role_arn")),
        );
    }
}

/// Plan of an association with a given role: nothing made.
fn plan_given_role(planned: &mut Value) {
    for attr in [
        "role_name",
        "role_path",
        "attached_policy_arns",
        "inline_policies",
        "trust_policy",
    ] {
        planned.set(attr, Value::Null);
    }
    planned.set("created_role", Value::Bool(false));
}

/// The made role's planned name and path: as configured; else the name a
/// role already made for this service account has (never renamed); else
/// the name scoped to the cluster's partition, account and region
/// (`location`, from its ARN); unknown while any part is. Path: `/`.
fn made_role_name_and_path(
    cfg: &Value,
    prior: Option<&AssociationState>,
    location: Option<&RoleLocation<'_>>,
) -> (Value, Value) {
    let name = match cfg.get("role_name") {
        Value::Null => match (
            cfg.get("cluster_name").as_str(),
            cfg.get("namespace").as_str(),
            cfg.get("service_account").as_str(),
        ) {
            (Some(c), Some(n), Some(s)) => {
                let prior_made = prior
                    .filter(|p| p.created_role == Some(true))
                    .and_then(|p| {
                        Some(PriorMadeRole {
                            role_name: p.role_name.as_deref()?,
                            cluster: &p.cluster_name,
                            namespace: &p.namespace,
                            service_account: &p.service_account,
                        })
                    });
                role::planned_role_name(None, prior_made.as_ref(), c, n, s, location)
                    .map(Value::string)
                    .unwrap_or(Value::Unknown)
            }
            _ => Value::Unknown,
        },
        v => v.clone(),
    };
    let path = match cfg.get("role_path") {
        Value::Null => Value::string("/"),
        v => v.clone(),
    };
    (name, path)
}

/// The attributes that force a new made role (and so a new association):
/// the role vanished, or its name or path changed. Empty: the role stays.
fn made_role_replacement(
    prior: Option<&AssociationState>,
    name: &Value,
    path: &Value,
) -> Vec<&'static str> {
    let Some(p) = prior.filter(|p| p.created_role == Some(true)) else {
        return vec![];
    };
    let mut replace = vec![];
    if p.role_arn.is_none() {
        replace.push("role_arn");
    }
    if name.as_str() != p.role_name.as_deref() {
        replace.push("role_name");
    }
    if path.as_str() != p.role_path.as_deref() {
        replace.push("role_path");
    }
    replace
}

/// Plan of an association whose role the provider makes: name, path,
/// replacement when the role must be made anew, and the role's expected
/// policies and trust (so that drift found by read shows as a change).
async fn plan_made_role(
    c: &Clients,
    cfg: &Value,
    prior: Option<&AssociationState>,
    resp: &mut PlanResponse,
) {
    // The cluster's ARN only when the name depends on it: a new role's
    // generated name (scoped to partition, account and region). A role
    // made earlier keeps its name, so its plans ask nothing.
    let (mut name, path) = made_role_name_and_path(cfg, prior, None);
    if name.is_unknown()
        && cfg.get("role_name").is_null()
        && let Some(cluster) = cfg.get("cluster_name").as_str()
        && let Some(arn) = cluster::find_arn_by_name(c, cluster).await.ok().flatten()
    {
        let location = RoleLocation::from_cluster_arn(&arn);
        name = made_role_name_and_path(cfg, prior, location.as_ref()).0;
    }
    resp.planned.set("role_name", name.clone());
    resp.planned.set("role_path", path.clone());
    resp.planned.set("created_role", Value::Bool(true));
    let replace = made_role_replacement(prior, &name, &path);
    resp.requires_replace
        .extend(replace.iter().map(|a| AttrPath::root(a)));
    // The made role's own ARN, not the one read found on the association:
    // an association pointed at another role by hand plans back to it.
    let kept_arn = prior
        .filter(|p| p.created_role == Some(true) && replace.is_empty())
        .and_then(|p| made_role_arn(p).or_else(|| p.role_arn.clone()));
    resp.planned.set(
        "role_arn",
        kept_arn.map(Value::string).unwrap_or(Value::Unknown),
    );
    match expected_role(c, &resp.planned).await {
        Some(w) => {
            resp.planned.set(
                "attached_policy_arns",
                spec_map::string_set(&w.shape.managed_policy_arns),
            );
            resp.planned.set(
                "inline_policies",
                string_map(&rules::inline_policies_of(&w.shape)),
            );
            resp.planned
                .set("trust_policy", Value::string(w.shape.trust_policy));
        }
        None => {
            for attr in ["attached_policy_arns", "inline_policies", "trust_policy"] {
                resp.planned.set(attr, Value::Unknown);
            }
        }
    }
}

/// The made role the plan stands for, when everything it depends on is
/// known (with `restrict_to_cluster`, the cluster must exist already).
async fn expected_role(c: &Clients, planned: &Value) -> Option<rules::WantedRole> {
    let known = SHAPE_INPUTS.iter().all(|k| planned.get(k).is_fully_known());
    if !known {
        return None;
    }
    let state = spec_map::from_value::<AssociationState>(planned, "plan").ok()?;
    let cluster_arn = if state.restrict_to_cluster == Some(true) {
        Some(
            cluster::find_arn_by_name(c, &state.cluster_name)
                .await
                .ok()
                .flatten()?,
        )
    } else {
        None
    };
    rules::wanted_role(&state, c.partition, cluster_arn.as_deref()).ok()
}

/// Adds a warning when the cluster cannot hand out pod identity credentials.
async fn warn_without_agent(c: &Clients, cluster: &str, diags: &mut Diagnostics) {
    match cluster::find_agent_by_cluster(c, cluster).await {
        Ok(Some(false)) => diags.push(
            Diagnostic::warning(
                format!("Cluster {cluster} has no EKS Pod Identity agent"),
                format!(
                    "The association will be created, but pods get no credentials from it until the {AGENT_ADDON} addon runs on the cluster (EKS Auto Mode clusters include it). Install it with an eks_addon_pod_identity resource with addon_name = \"{AGENT_ADDON}\"."
                ),
            )
            .at(AttrPath::root("cluster_name")),
        ),
        Ok(_) => {}
        Err(e) => tracing::debug!("agent check for cluster {cluster} skipped: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::Null;
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    #[test]
    fn given_role_plans_nothing_made() {
        let mut planned = config(&[("role_name", Value::Unknown)]);
        plan_given_role(&mut planned);
        assert!(planned.get("role_name").is_null());
        assert_eq!(planned.get("created_role"), &Value::Bool(false));
    }

    #[test]
    fn made_role_name_is_generated_or_unknown() {
        let cfg = config(&[
            ("cluster_name", Value::string("c")),
            ("namespace", Value::string("ns")),
            ("service_account", Value::string("sa")),
        ]);
        let arn = "arn:aws:eks:eu-west-1:123456789012:cluster/c";
        let here = RoleLocation::from_cluster_arn(arn);
        let (name, path) = made_role_name_and_path(&cfg, None, here.as_ref());
        let scoped = here.map(|l| role::scoped_role_name(&l, "c", "ns", "sa"));
        assert_eq!(name.as_str(), scoped.as_deref());
        assert_eq!(path.as_str(), Some("/"));
        // No location (the cluster does not exist yet): unknown until apply.
        assert_eq!(made_role_name_and_path(&cfg, None, None).0, Value::Unknown);
        // A role made earlier keeps its (generated) name: never renamed.
        let old = role::generated_role_name("c", "ns", "sa");
        let prior = AssociationState {
            cluster_name: "c".into(),
            namespace: "ns".into(),
            service_account: "sa".into(),
            created_role: Some(true),
            role_name: Some(old.clone()),
            ..Default::default()
        };
        let (name, _) = made_role_name_and_path(&cfg, Some(&prior), here.as_ref());
        assert_eq!(name.as_str(), Some(old.as_str()));
        let cfg = config(&[("namespace", Value::Unknown)]);
        assert_eq!(made_role_name_and_path(&cfg, None, None).0, Value::Unknown);
        let cfg = config(&[
            ("role_name", Value::string("mine")),
            ("role_path", Value::string("/x/")),
        ]);
        let (name, path) = made_role_name_and_path(&cfg, None, None);
        assert_eq!((name.as_str(), path.as_str()), (Some("mine"), Some("/x/")));
    }

    #[test]
    fn made_role_is_replaced_when_gone_renamed_or_moved() {
        let prior = AssociationState {
            created_role: Some(true),
            role_arn: Some("arn".into()),
            role_name: Some("r".into()),
            role_path: Some("/".into()),
            ..Default::default()
        };
        let (r, root) = (Value::string("r"), Value::string("/"));
        assert!(made_role_replacement(Some(&prior), &r, &root).is_empty());
        assert_eq!(
            made_role_replacement(Some(&prior), &Value::string("s"), &root),
            vec!["role_name"]
        );
        assert_eq!(
            made_role_replacement(Some(&prior), &r, &Value::string("/p/")),
            vec!["role_path"]
        );
        let gone = AssociationState {
            role_arn: None,
            ..prior.clone()
        };
        assert_eq!(
            made_role_replacement(Some(&gone), &r, &root),
            vec!["role_arn"]
        );
        let given = AssociationState {
            created_role: Some(false),
            ..prior
        };
        assert!(made_role_replacement(Some(&given), &Value::string("s"), &root).is_empty());
        assert!(made_role_replacement(None, &r, &root).is_empty());
    }

    #[test]
    fn validate_judges_known_values_only() {
        // role_arn = each.value.role_arn beside well_known_policies = each.value.wkp:
        // both unknown at validate, one of them null at plan.
        let cfg = config(&[
            ("role_arn", Value::Unknown),
            ("well_known_policies", Value::Unknown),
        ]);
        assert!(!validate(&cfg).has_errors());
        let cfg = config(&[
            (
                "role_arn",
                Value::string("arn:aws:iam::123456789012:role/r"),
            ),
            ("permission_policy_arns", Value::Set(vec![])),
        ]);
        assert!(
            !validate(&cfg).has_errors(),
            "[] beside role_arn asks for nothing"
        );
    }

    #[test]
    fn policy_text_kept_when_it_means_the_same() {
        let prior = AssociationState {
            permission_policy: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#.into()),
            ..Default::default()
        };
        let cfg = config(&[(
            "permission_policy",
            Value::string(
                r#"{ "Statement": [{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}], "Version":"2012-10-17" }"#,
            ),
        )]);
        let mut planned = cfg.clone();
        plan_policy_text(&cfg, Some(&prior), &mut planned);
        assert_eq!(
            planned.get("permission_policy").as_str(),
            prior.permission_policy.as_deref()
        );
    }

    #[test]
    fn validate_refuses_role_arn_with_role_creation_attributes() {
        let cfg = config(&[
            (
                "role_arn",
                Value::string("arn:aws:iam::123456789012:role/r"),
            ),
            ("role_name", Value::string("x")),
        ]);
        assert!(validate(&cfg).has_errors());
        let cfg = config(&[(
            "role_arn",
            Value::string("arn:aws:iam::123456789012:role/r"),
        )]);
        assert!(!validate(&cfg).has_errors());
        // Generated config of a made role: role_arn names role_name's role;
        // plan decides (accepted only beside the made role in state).
        let cfg = config(&[
            (
                "role_arn",
                Value::string("arn:aws:iam::123456789012:role/r"),
            ),
            ("role_name", Value::string("r")),
            (
                "well_known_policies",
                Value::Set(vec![Value::string("cert-manager")]),
            ),
        ]);
        assert!(!validate(&cfg).has_errors());
    }
}
