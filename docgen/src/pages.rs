//! What the documentation consists of: one page per resource and data source
//! the provider registers, each from its spec, its example files under
//! `examples/` and its hand-written notes under `docgen/notes/`.
//!
//! Owns: the map from type name to spec (the one place a new resource must
//! be added to get a page), where examples and notes live, and the extra
//! generated sections (the well-known policy catalogue). Does not own: the
//! markdown layout (`crate::render`) or the list of registered types
//! (`schema::registry`, which the provider registers exactly; read through
//! [`registered`]).

use crate::Error;
use crate::render::{FunctionPage, IndexPage, Page, PageKind};
use schema::ResourceSpec;
use schema::registry::{DATA_SOURCE_TYPES, EPHEMERAL_TYPES, FUNCTIONS, LIST_TYPES, RESOURCE_TYPES};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The resource and data source type names the provider serves, sorted.
pub fn registered() -> (Vec<String>, Vec<String>) {
    let mut resources: Vec<String> = RESOURCE_TYPES.iter().map(|t| t.to_string()).collect();
    let mut data_sources: Vec<String> = DATA_SOURCE_TYPES.iter().map(|t| t.to_string()).collect();
    resources.sort();
    data_sources.sort();
    (resources, data_sources)
}

/// The ephemeral resource type names and function names, sorted.
pub fn registered_extras() -> (Vec<String>, Vec<String>) {
    let mut ephemerals: Vec<String> = EPHEMERAL_TYPES.iter().map(|t| t.to_string()).collect();
    let mut functions: Vec<String> = FUNCTIONS.iter().map(|t| t.to_string()).collect();
    ephemerals.sort();
    functions.sort();
    (ephemerals, functions)
}

/// The list resource type names, sorted.
pub fn registered_lists() -> Vec<String> {
    let mut lists: Vec<String> = LIST_TYPES.iter().map(|t| t.to_string()).collect();
    lists.sort();
    lists
}

/// The spec of a list resource's `config` block.
pub fn list_spec(type_name: &str) -> Option<ResourceSpec> {
    match type_name {
        schema::association::TYPE_NAME => Some(schema::lists::association_spec()),
        schema::addon::TYPE_NAME => Some(schema::lists::addon_spec()),
        schema::pod_identity_role::TYPE_NAME => Some(schema::lists::role_spec()),
        _ => None,
    }
}

/// The page of a list resource: example
/// `examples/list-resources/<type>/list-resource.tfquery.hcl`, notes
/// `docgen/notes/list-<type>.md`.
pub fn list_page(repo: &Path, type_name: &str) -> Result<Page, Error> {
    let spec = list_spec(type_name).ok_or_else(|| Error::UnknownType {
        name: type_name.to_string(),
    })?;
    let dir = repo.join("examples/list-resources").join(type_name);
    Ok(Page {
        kind: PageKind::ListResource,
        spec,
        example: example(dir.join("list-resource.tfquery.hcl"))?,
        import: None,
        notes: notes(repo, &format!("list-{type_name}"))?,
        extra: None,
    })
}

/// The spec of an ephemeral resource type.
pub fn ephemeral_spec(type_name: &str) -> Option<ResourceSpec> {
    match type_name {
        schema::cluster_auth::TYPE_NAME => Some(schema::cluster_auth::spec()),
        _ => None,
    }
}

/// The page of an ephemeral resource.
pub fn ephemeral_page(repo: &Path, type_name: &str) -> Result<Page, Error> {
    let spec = ephemeral_spec(type_name).ok_or_else(|| Error::UnknownType {
        name: type_name.to_string(),
    })?;
    let dir = repo.join("examples/ephemeral-resources").join(type_name);
    Ok(Page {
        kind: PageKind::EphemeralResource,
        spec,
        example: example(dir.join("ephemeral-resource.tf"))?,
        import: None,
        notes: notes(repo, type_name)?,
        extra: None,
    })
}

/// The page of a function: signature from `schema::functions`, example
/// and notes from the repo.
pub fn function_page(repo: &Path, name: &str) -> Result<FunctionPage, Error> {
    let (_, signature, summary) = schema::functions::SIGNATURES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| Error::UnknownType {
            name: name.to_string(),
        })?;
    let mut notes = read(
        &repo
            .join("docgen/notes/functions")
            .join(format!("{name}.md")),
    )?;
    if name == schema::functions::TRUST_POLICY_FUNCTION {
        notes.push_str("\n## Options\n\n| option | condition |\n|---|---|\n");
        for (k, d) in schema::functions::TRUST_OPTIONS {
            let _ = writeln!(notes, "| `{k}` | {d} |");
        }
    }
    Ok(FunctionPage {
        name: name.to_string(),
        signature: signature.to_string(),
        summary: summary.to_string(),
        example: example(
            repo.join("examples/functions")
                .join(name)
                .join("function.tf"),
        )?,
        notes,
    })
}

/// The spec of a resource type. `eks_pod_identity_migration` is here already:
/// its page appears as soon as `schema::registry` lists it.
pub fn resource_spec(type_name: &str) -> Option<ResourceSpec> {
    use schema::{addon, association, migration, pod_identity_role};
    match type_name {
        association::TYPE_NAME => Some(association::spec()),
        pod_identity_role::TYPE_NAME => Some(pod_identity_role::spec()),
        addon::TYPE_NAME => Some(addon::spec()),
        migration::TYPE_NAME => Some(migration::spec()),
        _ => None,
    }
}

/// The spec of a data source type.
pub fn data_source_spec(type_name: &str) -> Option<ResourceSpec> {
    use schema::{addon_config_data, associations_data, well_known_data};
    match type_name {
        associations_data::TYPE_NAME => Some(associations_data::spec()),
        addon_config_data::TYPE_NAME => Some(addon_config_data::spec()),
        well_known_data::TYPE_NAME => Some(well_known_data::spec()),
        _ => None,
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// An example file that must exist.
fn example(path: PathBuf) -> Result<String, Error> {
    if !path.is_file() {
        return Err(Error::MissingExample { path });
    }
    read(&path)
}

/// The notes of a type: `docgen/notes/<type>.md`, if written.
fn notes(repo: &Path, type_name: &str) -> Result<Option<String>, Error> {
    read_optional(&repo.join("docgen/notes").join(format!("{type_name}.md")))
}

/// The page of a resource.
pub fn resource_page(repo: &Path, type_name: &str) -> Result<Page, Error> {
    let spec = resource_spec(type_name).ok_or_else(|| Error::UnknownType {
        name: type_name.to_string(),
    })?;
    let dir = repo.join("examples/resources").join(type_name);
    Ok(Page {
        kind: PageKind::Resource,
        spec,
        example: example(dir.join("resource.tf"))?,
        import: read_optional(&dir.join("import.sh"))?,
        notes: notes(repo, type_name)?,
        extra: None,
    })
}

/// The page of a data source.
pub fn data_source_page(repo: &Path, type_name: &str) -> Result<Page, Error> {
    let spec = data_source_spec(type_name).ok_or_else(|| Error::UnknownType {
        name: type_name.to_string(),
    })?;
    let dir = repo.join("examples/data-sources").join(type_name);
    let extra = if type_name == schema::well_known_data::TYPE_NAME {
        Some(well_known_catalogue()?)
    } else {
        None
    };
    Ok(Page {
        kind: PageKind::DataSource,
        spec,
        example: example(dir.join("data-source.tf"))?,
        import: None,
        notes: notes(repo, type_name)?,
        extra,
    })
}

/// The provider's index page.
pub fn index_page(
    repo: &Path,
    resources: Vec<String>,
    data_sources: Vec<String>,
) -> Result<IndexPage, Error> {
    let (ephemeral_resources, functions) = registered_extras();
    Ok(IndexPage {
        spec: schema::provider_config::spec(),
        example: example(repo.join("examples/provider/provider.tf"))?,
        notes: read(&repo.join("docgen/notes/index.md"))?,
        resources,
        data_sources,
        ephemeral_resources,
        list_resources: registered_lists(),
        functions,
    })
}

/// A table of the well-known policy catalogue (names valid in
/// `well_known_policies` and in this data source), rendered for `aws`.
pub fn well_known_catalogue() -> Result<String, Error> {
    let all = schema::well_known::all("aws").map_err(|message| Error::Catalogue { message })?;
    let mut out = String::from(
        "## The catalogue\n\nNames accepted by `name` here and by `well_known_policies` on `eks_pod_identity_association` and `eks_addon_pod_identity` (eksctl's names work too). ARNs shown for the `aws` partition.\n\nThe *scopes* column lists the keys of `well_known_policy_scopes` an entry takes. Without them such an entry is **unscoped**: it grants on every hosted zone, bucket, secret, parameter, key, queue, CA, workspace, role or target group of that kind, as its notes say; with them it grants on yours only. A key marked *required* has no unscoped form: the entry cannot be used without it (`karpenter`'s `cluster_arns`; its statements, counted here before they are written per cluster, name the cluster, region and account). Entries without scopes grant what their source documents, whatever the scopes.\n\n| name | eksctl name | AWS managed policies | inline statements | scopes | source | notes |\n|---|---|---|---|---|---|---|\n",
    );
    for p in all {
        let managed = if p.managed_policy_arns.is_empty() {
            "—".to_string()
        } else {
            p.managed_policy_arns
                .iter()
                .map(|a| format!("`{}`", a.rsplit('/').next().unwrap_or(a)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let scopes = if p.scopes.is_empty() {
            "—".to_string()
        } else {
            p.scopes
                .iter()
                .map(|k| {
                    if p.required_scopes.contains(k) {
                        format!("`{k}` (required)")
                    } else {
                        format!("`{k}`")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            p.name,
            p.eksctl_name.map_or("—".to_string(), |n| format!("`{n}`")),
            managed,
            p.statements.len(),
            scopes,
            p.source.replace('|', "\\|"),
            p.notes.unwrap_or("—").replace('|', "\\|"),
        );
    }
    Ok(out)
}
