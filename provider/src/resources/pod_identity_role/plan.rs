//! Validation and planning of `eks_pod_identity_role`: the checks of every
//! made role and of the role's own settings, `tags_all`, the default path,
//! the name (unknown until apply when made from `name_prefix`, then kept),
//! and the role's expected policies and trust (so that a plan after apply
//! is empty and drift read from IAM shows as a change).
//!
//! Owns: ValidateResourceConfig and PlanResourceChange of this resource.
//! Does not own: the rules (`schema::pod_identity_role`, `schema::role`).

use super::state;
use crate::aws::Clients;
use crate::spec_map::{
    self, input_object, input_str, input_string_map, input_string_set, string_map,
};
use schema::Input;
use schema::input::Stage;
use schema::pod_identity_role::{self as rules, PodIdentityRoleState, RoleResourceConfig};
use schema::policy;
use schema::role::RoleConfig;
use schema::tags::{self, Tags};
use tfplugin::{AttrPath, Diagnostics, PlanRequest, PlanResponse, Value};

/// The attributes the role's expected policies and trust depend on (not
/// the name: the owner tag is not among them).
const SHAPE_INPUTS: [&str; 7] = [
    "permission_policy_arns",
    "permission_policy",
    "permission_policy_name",
    "well_known_policies",
    "well_known_policy_scopes",
    "permissions_boundary_arn",
    "trust_conditions",
];

/// The plan-time view of a configuration.
fn config_of(config: &Value, tags_all: Input<Tags>, partition: &str) -> RoleResourceConfig {
    RoleResourceConfig {
        role: RoleConfig {
            role_arn: Input::Null,
            role_name: input_str(config, "name"),
            role_path: input_str(config, "path"),
            permission_policy_arns: input_string_set(config, "permission_policy_arns"),
            permission_policy: input_str(config, "permission_policy"),
            permission_policy_name: input_str(config, "permission_policy_name"),
            well_known_policies: input_string_set(config, "well_known_policies"),
            well_known_policy_scopes: input_object(config, "well_known_policy_scopes"),
            permissions_boundary_arn: input_str(config, "permissions_boundary_arn"),
            trust_conditions: input_str(config, "trust_conditions"),
            restrict_to_cluster: Input::Null,
            partition: partition.to_string(),
        },
        name_prefix: input_str(config, "name_prefix"),
        max_session_duration: match config.get("max_session_duration") {
            Value::Null => Input::Null,
            Value::Number(n) => Input::Known(n.as_f64()),
            _ => Input::Unknown,
        },
        tags_all,
    }
}

/// ValidateResourceConfig: the rules on known values only (default tags
/// and the partition are judged again at plan).
pub(super) fn validate(config: &Value) -> Diagnostics {
    let input = config_of(config, Input::Null, "aws");
    spec_map::problems_to_diagnostics(rules::check_config(&input, Stage::Validate))
}

/// PlanResourceChange.
pub(super) fn plan(clients: &Clients, req: &PlanRequest, resp: &mut PlanResponse) {
    if req.config.is_null() {
        return;
    }
    let tags_all = match input_string_map(&req.config, "tags") {
        Input::Null => Input::Known(clients.default_tags.clone()),
        Input::Known(t) => Input::Known(tags::merge(&clients.default_tags, &t)),
        Input::Unknown => Input::Unknown,
    };
    let input = config_of(&req.config, tags_all.clone(), clients.partition);
    resp.diagnostics
        .extend(spec_map::problems_to_diagnostics(rules::check_config(
            &input,
            Stage::Plan,
        )));
    let prior: Option<PodIdentityRoleState> = req
        .prior_state
        .as_ref()
        .filter(|p| !p.is_null())
        .and_then(|p| spec_map::from_value(p, "prior state").ok());
    let drifted = prior.is_some() && state::drifted(&req.prior_private);
    if let Some(p) = prior.as_ref().filter(|_| drifted) {
        moved_in_warning(p, &req.prior_private, resp);
    }
    resp.planned.set(
        "tags_all",
        match tags_all {
            // The provider's own tags were changed outside Terraform: a
            // change to apply, which writes them again.
            Input::Known(t) if !drifted => string_map(&t),
            _ => Value::Unknown,
        },
    );
    plan_name(req, resp);
    if req.config.get("path").is_null() {
        resp.planned.set("path", Value::string("/"));
    }
    if let Some(text) = req.config.get("permission_policy").as_str() {
        let prior_text = prior.as_ref().and_then(|p| p.permission_policy.as_deref());
        resp.planned.set(
            "permission_policy",
            Value::string(policy::planned_text(text, prior_text)),
        );
    }
    match expected(clients, &resp.planned) {
        Some(w) => {
            resp.planned.set(
                "attached_policy_arns",
                spec_map::string_set(&w.shape.managed_policy_arns),
            );
            resp.planned.set(
                "inline_policies",
                string_map(&rules::inline_policies_of(&w.shape)),
            );
            let trust = match prior.as_ref().and_then(|p| p.trust_policy.clone()) {
                Some(t) if policy::equivalent(&t, &w.shape.trust_policy) => t,
                _ => w.shape.trust_policy,
            };
            resp.planned.set("trust_policy", Value::string(trust));
        }
        None => {
            for attr in ["attached_policy_arns", "inline_policies", "trust_policy"] {
                resp.planned.set(attr, Value::Unknown);
            }
        }
    }
}

/// A role that arrived by a `moved` block and does not carry the owner tag
/// yet: the plan says that apply adds it (`tags_all` shows as known after
/// apply for it), so the statement of ownership is reviewed in the plan.
fn moved_in_warning(prior: &PodIdentityRoleState, private: &[u8], resp: &mut PlanResponse) {
    if state::moved_in(private).is_none() {
        return;
    }
    resp.diagnostics.push(tfplugin::Diagnostic::warning(
        format!("IAM role {} becomes this provider's own", prior.name),
        format!(
            "The role arrived by a moved block, which states that {}.<name> owns it. Apply adds the owner tag {} = {} to the role (tags_all shows as known after apply for it); from then on destroying this resource deletes the role. Any other change in this plan is a difference between the role and this configuration.",
            rules::TYPE_NAME,
            schema::reserved_tags::OWNER_TAG,
            schema::reserved_tags::shared_role_owner_value(&prior.name),
        ),
    ));
}

/// `id`, `name` and `name_prefix`. A name made from `name_prefix` is
/// unknown until the create makes it, then kept (the framework keeps a
/// computed value whose configuration is null). A `name_prefix` not
/// configured stays what the state has (null, or what an import read from
/// the name): left out of the configuration it asks for nothing, so it
/// replaces nothing.
fn plan_name(req: &PlanRequest, resp: &mut PlanResponse) {
    if req.config.get("name_prefix").is_null() {
        let prior = req
            .prior_state
            .as_ref()
            .map(|p| p.get("name_prefix").clone())
            .unwrap_or(Value::Null);
        resp.planned.set("name_prefix", prior);
        let at = AttrPath::root("name_prefix");
        resp.requires_replace.retain(|p| *p != at);
    }
    resp.planned.set("id", resp.planned.get("name").clone());
}

/// The role the plan asks for, when everything it depends on is known.
fn expected(c: &Clients, planned: &Value) -> Option<schema::role::WantedRole> {
    if !SHAPE_INPUTS.iter().all(|k| planned.get(k).is_fully_known()) {
        return None;
    }
    let mut v = planned.clone();
    if !planned.get("name").is_fully_known() {
        // Made at apply from name_prefix; the policies and trust do not
        // depend on it.
        v.set("name", Value::string("name-made-at-apply"));
    }
    // tags do not shape the policies; an unknown tags_all must not stop it.
    v.set("tags_all", Value::Null);
    v.set("tags", Value::Null);
    let s = spec_map::from_value::<PodIdentityRoleState>(&v, "plan").ok()?;
    rules::wanted_role(&s, c.partition).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_maps_name_and_path_to_the_role_rules() {
        let mut cfg = Value::Null;
        cfg.set("name", Value::string("r"));
        cfg.set("path", Value::string("/p/"));
        let c = config_of(&cfg, Input::Null, "aws");
        assert_eq!(c.role.role_name, Input::Known("r".to_string()));
        assert_eq!(c.role.role_path, Input::Known("/p/".to_string()));
        assert_eq!(c.role.role_arn, Input::Null);
        // No permission source: refused at plan, at its attributes.
        let d = validate(&cfg);
        assert!(d.has_errors(), "{d:?}");
        assert!(d.0.iter().all(|d| !d.detail.contains("role_name")), "{d:?}");
    }

    fn request(prior: Option<Value>, config: Value) -> PlanRequest {
        PlanRequest {
            prior_state: prior,
            proposed: config.clone(),
            config,
            prior_private: vec![],
            prior_identity: None,
        }
    }

    fn response(planned: Value, requires_replace: Vec<AttrPath>) -> PlanResponse {
        PlanResponse {
            planned,
            requires_replace,
            private: vec![],
            diagnostics: Diagnostics::default(),
            identity: None,
        }
    }

    #[test]
    fn a_name_prefix_left_out_keeps_the_states_and_replaces_nothing() {
        // Imported: the state has the prefix read from the name; the
        // configuration names the role instead.
        let mut prior = Value::Null;
        prior.set("name", Value::string("app-0190000000000123456789abcd"));
        prior.set("name_prefix", Value::string("app-"));
        let mut config = Value::Null;
        config.set("name", Value::string("app-0190000000000123456789abcd"));
        let req = request(Some(prior.clone()), config);
        let mut planned = prior.clone();
        planned.set("name_prefix", Value::Unknown);
        let mut resp = response(planned, vec![AttrPath::root("name_prefix")]);
        plan_name(&req, &mut resp);
        assert_eq!(resp.planned.get("name_prefix").as_str(), Some("app-"));
        assert_eq!(resp.requires_replace, vec![]);
        assert_eq!(
            resp.planned.get("id").as_str(),
            Some("app-0190000000000123456789abcd")
        );
    }

    /// `plan_name` of a create configured with `key` = `value`, the other
    /// of name and name_prefix unknown as the framework plans it.
    fn create_with(key: &str, value: &str, other: &str) -> PlanResponse {
        let mut config = Value::Null;
        config.set(key, Value::string(value));
        let req = request(None, config.clone());
        let mut planned = config;
        planned.set(other, Value::Unknown);
        let mut resp = response(planned, vec![]);
        plan_name(&req, &mut resp);
        resp
    }

    #[test]
    fn a_name_made_at_apply_is_unknown_and_so_is_the_id() {
        let resp = create_with("name_prefix", "app-", "name");
        assert!(!resp.planned.get("id").is_fully_known());
        assert_eq!(resp.planned.get("name_prefix").as_str(), Some("app-"));
        // A create that names the role: no prefix.
        let resp = create_with("name", "r", "name_prefix");
        assert!(resp.planned.get("name_prefix").is_null());
        assert_eq!(resp.planned.get("id").as_str(), Some("r"));
    }
}
