//! The provider's resources, one folder each (a file a step: plan, apply,
//! read, import, and the state they share), and the few helpers every
//! resource's apply needs (so that no resource writes them again). No
//! resource imports another: what two share lives in `crate::aws`,
//! `crate::ownership::made_role` or `crate::spec_map`, or, for what `terraform query`
//! and import say about objects another state may own, in [`adoption`], or,
//! for `moved` blocks from the AWS provider, in [`moves`].
pub mod addon_pod_identity;
mod adoption;
mod moves;
pub mod pod_identity_association;
pub mod pod_identity_migration;
pub mod pod_identity_role;

use crate::aws::Clients;
use crate::spec_map;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, Diagnostic, Diagnostics, ReadRequest, ReadResponse, Value,
};

/// The diagnostic for a call before ConfigureProvider.
pub(crate) fn unconfigured() -> Diagnostic {
    Diagnostic::error(
        "Provider not configured",
        "The eks provider was used before its configuration was applied. This is a bug in the provider or Terraform.",
    )
}

/// The configured clients for the region of `v` (its `region` attribute;
/// null: the region its ARN names, so that an object made before a change
/// of the provider's region is still read, changed and deleted where it
/// is (issue 23 item 1); no ARN either: the provider's), and the typed
/// state.
pub(crate) fn setup<T: DeserializeOwned>(
    ctx: &Ctx,
    v: &Value,
) -> Result<(Arc<Clients>, T), Diagnostic> {
    let provider = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let at = recorded_region(v);
    let clients = regional(&provider, at.as_deref())?;
    // The state records the region the object is in (issue 23 item 1): a
    // state written before it did is given the region its ARN names, and a
    // plan made before the provider's region was known the provider's.
    let mut v = v.clone();
    if !v.is_null() && v.get("region").as_str().is_none() {
        v.set(
            "region",
            Value::string(at.as_deref().unwrap_or(&provider.region)),
        );
    }
    let state = spec_map::from_value(&v, "state")?;
    Ok((clients, state))
}

/// The region a state or plan `v` is in: its `region`, else the region of
/// its association or addon ARN (`arn:PARTITION:eks:REGION:…`), else
/// `None` (the provider's).
pub(crate) fn recorded_region(v: &Value) -> Option<String> {
    if let Some(r) = v.get("region").as_str() {
        return Some(r.to_string());
    }
    ["association_arn", "addon_arn"].iter().find_map(|attr| {
        let arn = v.get(attr).as_str()?;
        let mut parts = arn.split(':');
        (parts.next() == Some("arn"))
            .then(|| parts.nth(2))
            .flatten()
            .filter(|r| !r.is_empty())
            .map(str::to_string)
    })
}

/// The clients for `region` (`None`: the provider's).
pub(crate) fn regional(
    clients: &Arc<Clients>,
    region: Option<&str>,
) -> Result<Arc<Clients>, Diagnostic> {
    clients.in_region(region).map_err(|e| {
        Diagnostic::error(
            "Region not served by this provider block",
            format!("{e}. A provider block serves the regions of its own partition: use a provider block (an alias) configured for that partition, and `provider = eks.<alias>` on this resource."),
        )
        .at(tfplugin::AttrPath::root("region"))
    })
}

/// An import ID's `@region` suffix (as in the AWS provider v6): the ID
/// without it, and the region. No suffix: the provider's region.
pub(crate) fn import_region(id: &str) -> Result<(&str, Option<&str>), Diagnostic> {
    match id.rsplit_once('@') {
        None => Ok((id, None)),
        Some((rest, region)) => match schema::names::check_region(region) {
            Ok(()) => Ok((rest, Some(region))),
            Err(e) => Err(Diagnostic::error(
                "Invalid region in the import ID",
                format!(
                    "{e} Write the ID, then `@` and the cluster's region, such as `my-cluster,a-0123456789abcdefg@us-west-2`, or leave `@region` out for the provider's region."
                ),
            )),
        },
    }
}

/// What every import starts from: the ID without its `@region`, the
/// clients for that region, and the value of `region` in the imported
/// state (null for the provider's own region).
pub(crate) struct ImportStart<'a> {
    /// The import ID without `@region`.
    pub id: &'a str,
    /// The clients for the region the resource is in.
    pub clients: Arc<Clients>,
    /// `region` in the imported state.
    pub region: Option<String>,
}

/// The start of an import of `id` or, when the ID is empty, of `identity`
/// (whose optional `region` plays the part of `@region`; see
/// [`ImportStart`]).
pub(crate) fn import_start<'a>(
    ctx: &Ctx,
    id: &'a str,
    identity: Option<&'a Value>,
) -> Result<ImportStart<'a>, Diagnostic> {
    let provider = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let (id, region) = match identity {
        Some(identity) if id.is_empty() => {
            let region = identity.get("region").as_str();
            if let Some(Err(e)) = region.map(schema::names::check_region) {
                return Err(Diagnostic::error(
                    "Invalid region in the import identity",
                    e,
                ));
            }
            (id, region)
        }
        _ => import_region(id)?,
    };
    Ok(ImportStart {
        id,
        clients: regional(&provider, region)?,
        region: region_value(&provider, region),
    })
}

/// The value of a resource's `region` for a resource found in `region`
/// (`None`: the provider's): always the region itself, as a resource's
/// state records it (issue 23 item 1).
pub(crate) fn region_value(clients: &Clients, region: Option<&str>) -> Option<String> {
    Some(region.unwrap_or(&clients.region).to_string())
}

/// The plan's part of a resource's `region` (issue 23 item 1): the region
/// the resource is in is recorded in its state, as the AWS provider v6
/// does. Null in the configuration means the provider's region, so the
/// planned value is the provider's region; a change of the region the
/// resource is in (the provider's region changed, or `region` written to
/// another) is a replacement shown in the plan, and writing the provider's
/// own region plans nothing. Returns the clients for the planned region
/// (`None` while it is unknown).
pub(crate) fn plan_region(
    clients: &Arc<Clients>,
    req: &tfplugin::PlanRequest,
    resp: &mut tfplugin::PlanResponse,
) -> Option<Arc<Clients>> {
    let configured = req.config.get("region");
    if let Some(problem) = &clients.config_problem
        && !req.config.is_null()
    {
        // Said at plan for every resource (a destroy still plans, and fails
        // at its own first AWS call).
        resp.diagnostics.push(Diagnostic::error(
            "Provider configuration not usable",
            problem.clone(),
        ));
        return None;
    }
    let prior = req.prior_state.as_ref().filter(|p| !p.is_null());
    if req.config.is_null() {
        // Destroy: the region the resource is in.
        let at = prior.and_then(recorded_region);
        return regional(clients, at.as_deref()).ok();
    }
    let was = prior.and_then(recorded_region);
    let planned = match configured.as_str() {
        Some(r) => Some(r.to_string()),
        None if configured.is_unknown() => None,
        // The provider's region is known only once its configuration is:
        // until then an existing resource is taken to stay where it is (a
        // replacement for every unknown provider value would be worse);
        // a new one learns its region at apply.
        None if !clients.unknown_config.is_empty() => was.clone(),
        None => Some(clients.region.clone()),
    };
    if prior.is_some() && (planned.is_none() || planned != was) {
        resp.requires_replace
            .push(tfplugin::AttrPath::root("region"));
    }
    let Some(region) = planned else {
        resp.planned.set("region", Value::Unknown);
        return None;
    };
    resp.planned.set("region", Value::string(&region));
    match regional(clients, Some(&region)) {
        Ok(c) => Some(c),
        Err(d) => {
            resp.diagnostics.push(d);
            None
        }
    }
}

/// How many objects a list resource reads at once when Terraform asks for
/// them (as the associations data source describes).
pub(crate) const LIST_CONCURRENCY: usize = 8;

/// The start of a list resource's listing: the typed `config` block, the
/// clients for its `region`, and that region as the listed objects' states
/// write it (null for the provider's own).
pub(crate) fn list_setup<T: DeserializeOwned>(
    ctx: &Ctx,
    config: &Value,
) -> Result<(T, Arc<Clients>, Option<String>), Diagnostic> {
    let provider = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    // Terraform sends an object of nulls for a list block without `config`;
    // a null config means the same.
    let empty = Value::Map(Default::default());
    let cfg = spec_map::from_value(
        if config.is_null() { &empty } else { config },
        "configuration",
    )?;
    let region = config.get("region").as_str();
    let clients = regional(&provider, region)?;
    Ok((cfg, clients, region_value(&provider, region)))
}

/// The clusters a list resource looks in: the one its `cluster_name`
/// names, else every cluster of the region, by name.
pub(crate) async fn list_clusters(
    clients: &Clients,
    named: Option<&str>,
) -> Result<Vec<String>, Diagnostic> {
    match named {
        Some(c) => Ok(vec![c.to_string()]),
        None => {
            let mut names = crate::aws::eks::cluster::list_names(clients)
                .await
                .map_err(|e| crate::errors::to_diagnostic("listing EKS clusters", &e))?;
            names.sort();
            Ok(names)
        }
    }
}

/// A list resource's `cluster_name` names a cluster that does not exist.
pub(crate) fn no_such_cluster(name: &str, region: &str) -> Diagnostic {
    Diagnostic::error(
        "No such EKS cluster",
        format!(
            "Cluster {name} does not exist in region {region}. Check `cluster_name` (and `region`), or leave `cluster_name` out to list every cluster of the region."
        ),
    )
    .at(tfplugin::AttrPath::root("cluster_name"))
}

/// The typed prior state of an update.
pub(crate) fn prior_of<T: DeserializeOwned>(req: &ApplyRequest) -> Result<T, Diagnostic> {
    match &req.prior_state {
        Some(p) => spec_map::from_value(p, "prior state"),
        None => Err(Diagnostic::error(
            "Update without prior state",
            "This is a bug in the provider.",
        )),
    }
}

/// An apply response with no state yet.
pub(crate) fn empty_response() -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        private: vec![],
        diagnostics: Diagnostics::default(),
        identity: None,
    }
}

/// `resp` with one more (error) diagnostic.
pub(crate) fn with_error(mut resp: ApplyResponse, d: Diagnostic) -> ApplyResponse {
    resp.diagnostics.push(d);
    resp
}

/// The start of every read: a response that keeps the state as it is, the
/// configured clients and the typed prior state; or, when those cannot be
/// had, the response with the error.
pub(crate) fn read_setup<T: DeserializeOwned>(
    ctx: &Ctx,
    req: ReadRequest,
) -> Result<(ReadResponse, Arc<Clients>, T), ReadResponse> {
    let mut resp = ReadResponse {
        new_state: Some(req.state.clone()),
        private: req.private,
        diagnostics: Diagnostics::default(),
        identity: req.identity,
    };
    match setup::<T>(ctx, &req.state) {
        Ok((clients, prior)) => Ok((resp, clients, prior)),
        Err(d) => {
            resp.diagnostics.push(d);
            Err(resp)
        }
    }
}
