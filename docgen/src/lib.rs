//! Generates the provider's registry documentation (`docs/`) from the schema
//! specs, the examples under `examples/` and the notes under `docgen/notes/`.
//!
//! Owns: the set of files that make up the docs ([`generate`]), writing
//! them ([`write`]) and comparing them with what is committed ([`check`]).
//! Does not own: descriptions (the `schema` crate's specs are the single
//! source), the list of registered types (the provider), the layout of one
//! page ([`render`]).
#![deny(missing_docs)]

pub mod pages;
pub mod render;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why the docs could not be generated or compared.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be written or removed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A registered type has no example to show.
    #[error(
        "{path} is missing: every resource and data source page shows a full example; write it"
    )]
    MissingExample {
        /// Where the example belongs.
        path: PathBuf,
    },
    /// The provider registers a type docgen has no spec for.
    #[error(
        "the provider registers {name}, but docgen does not know its spec: add it to docgen/src/pages.rs (resource_spec or data_source_spec)"
    )]
    UnknownType {
        /// The type name.
        name: String,
    },
    /// The well-known policy catalogue could not be read.
    #[error("well-known policy catalogue: {message}")]
    Catalogue {
        /// What the schema crate said.
        message: String,
    },
}

/// Generated docs: path relative to the docs folder → file content.
pub type Docs = BTreeMap<PathBuf, String>;

/// The folders under the docs folder whose `.md` files are all generated
/// (a stale page there is removed by [`write`] and reported by [`check`]).
pub const GENERATED_DIRS: [&str; 5] = [
    "resources",
    "data-sources",
    "ephemeral-resources",
    "list-resources",
    "functions",
];

/// Every docs file, for the types the provider registers, read from `repo`.
pub fn generate(repo: &Path) -> Result<Docs, Error> {
    let (resources, data_sources) = pages::registered();
    generate_for(repo, &resources, &data_sources)
}

/// Every docs file for the given type names (sorted by the caller or not:
/// the output is ordered by path either way).
pub fn generate_for(
    repo: &Path,
    resources: &[String],
    data_sources: &[String],
) -> Result<Docs, Error> {
    let mut resources = resources.to_vec();
    let mut data_sources = data_sources.to_vec();
    resources.sort();
    data_sources.sort();
    let mut docs = Docs::new();
    for r in &resources {
        let page = pages::resource_page(repo, r)?;
        docs.insert(
            Path::new("resources").join(format!("{}.md", render::file_stem(r))),
            render::page(&page),
        );
    }
    for d in &data_sources {
        let page = pages::data_source_page(repo, d)?;
        docs.insert(
            Path::new("data-sources").join(format!("{}.md", render::file_stem(d))),
            render::page(&page),
        );
    }
    let (ephemerals, functions) = pages::registered_extras();
    for e in &ephemerals {
        let page = pages::ephemeral_page(repo, e)?;
        docs.insert(
            Path::new("ephemeral-resources").join(format!("{}.md", render::file_stem(e))),
            render::page(&page),
        );
    }
    for l in &pages::registered_lists() {
        let page = pages::list_page(repo, l)?;
        docs.insert(
            Path::new("list-resources").join(format!("{}.md", render::file_stem(l))),
            render::page(&page),
        );
    }
    for f in &functions {
        let page = pages::function_page(repo, f)?;
        docs.insert(
            Path::new("functions").join(format!("{f}.md")),
            render::function_page(&page),
        );
    }
    let index = pages::index_page(repo, resources, data_sources)?;
    docs.insert(PathBuf::from("index.md"), render::index(&index));
    Ok(docs)
}

/// The `.md` files currently in the generated folders of `out`, relative to it.
fn existing_pages(out: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    for dir in GENERATED_DIRS {
        let entries = match std::fs::read_dir(out.join(dir)) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(Error::Read {
                    path: out.join(dir),
                    source,
                });
            }
        };
        for entry in entries {
            let entry = entry.map_err(|source| Error::Read {
                path: out.join(dir),
                source,
            })?;
            let name = entry.file_name();
            if Path::new(&name).extension().is_some_and(|e| e == "md") {
                found.push(Path::new(dir).join(name));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Writes `docs` under `out`, removing stale pages from the generated
/// folders. Returns the relative paths written or removed.
pub fn write(out: &Path, docs: &Docs) -> Result<Vec<PathBuf>, Error> {
    let mut touched = Vec::new();
    for stale in existing_pages(out)? {
        if !docs.contains_key(&stale) {
            let path = out.join(&stale);
            std::fs::remove_file(&path).map_err(|source| Error::Write { path, source })?;
            touched.push(stale);
        }
    }
    for (rel, text) in docs {
        let path = out.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        touched.push(rel.clone());
    }
    Ok(touched)
}

/// How a committed docs file differs from the generated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Generated, but not in the docs folder.
    Missing(PathBuf),
    /// In both, with different content.
    Changed(PathBuf),
    /// In a generated folder, but no longer generated.
    Stale(PathBuf),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing(p) => write!(f, "missing: {}", p.display()),
            Difference::Changed(p) => write!(f, "changed: {}", p.display()),
            Difference::Stale(p) => write!(f, "stale:   {}", p.display()),
        }
    }
}

/// The differences between the docs under `out` and `docs` (empty: up to date).
pub fn check(out: &Path, docs: &Docs) -> Result<Vec<Difference>, Error> {
    let mut diffs = Vec::new();
    for (rel, text) in docs {
        let path = out.join(rel);
        match std::fs::read_to_string(&path) {
            Ok(found) if &found == text => {}
            Ok(_) => diffs.push(Difference::Changed(rel.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                diffs.push(Difference::Missing(rel.clone()))
            }
            Err(source) => return Err(Error::Read { path, source }),
        }
    }
    for page in existing_pages(out)? {
        if !docs.contains_key(&page) {
            diffs.push(Difference::Stale(page));
        }
    }
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    #[test]
    fn every_registered_type_has_a_spec() {
        let (resources, data_sources) = pages::registered();
        assert!(!resources.is_empty() && !data_sources.is_empty());
        for r in &resources {
            assert!(pages::resource_spec(r).is_some(), "no spec for {r}");
        }
        for d in &data_sources {
            assert!(pages::data_source_spec(d).is_some(), "no spec for {d}");
        }
    }

    #[test]
    fn generates_every_page_deterministically() {
        let a = generate(&repo()).unwrap();
        let b = generate(&repo()).unwrap();
        assert_eq!(a, b);
        assert!(a.contains_key(Path::new("index.md")));
        assert!(a.contains_key(Path::new("resources/pod_identity_association.md")));
        assert!(a.contains_key(Path::new("resources/addon_pod_identity.md")));
        assert!(a.contains_key(Path::new("data-sources/pod_identity_associations.md")));
        assert!(a.contains_key(Path::new("data-sources/well_known_policy.md")));
        // Every attribute of every page is documented.
        for (rel, spec) in [
            (
                "resources/pod_identity_association.md",
                pages::resource_spec("eks_pod_identity_association"),
            ),
            (
                "resources/addon_pod_identity.md",
                pages::resource_spec("eks_addon_pod_identity"),
            ),
        ] {
            let text = &a[Path::new(rel)];
            for name in spec.unwrap().names() {
                assert!(
                    text.contains(&format!("- `{name}` (")),
                    "{rel} lacks {name}"
                );
            }
        }
    }

    #[test]
    fn migration_gets_a_page_once_registered() {
        // The spec exists; the page follows registration in the provider.
        let docs = generate_for(&repo(), &["eks_pod_identity_migration".to_string()], &[]);
        match docs {
            Ok(d) => assert!(d.contains_key(Path::new("resources/pod_identity_migration.md"))),
            // Until its example is written, the error says where it belongs.
            Err(Error::MissingExample { path }) => {
                assert!(path.ends_with("eks_pod_identity_migration/resource.tf"))
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// CI's guard (through `cargo test --workspace`): the committed docs
    /// are what the schema, examples and notes generate.
    #[test]
    fn committed_docs_are_up_to_date() {
        let docs = generate(&repo()).unwrap();
        let diffs = check(&repo().join("docs"), &docs).unwrap();
        let list: Vec<String> = diffs.iter().map(ToString::to_string).collect();
        assert!(
            diffs.is_empty(),
            "docs/ is out of date; run scripts/docs.sh and commit docs/:\n  {}",
            list.join("\n  ")
        );
    }

    #[test]
    fn unknown_types_are_an_error() {
        let e = generate_for(&repo(), &["eks_nothing".to_string()], &[]).unwrap_err();
        assert!(matches!(e, Error::UnknownType { .. }), "{e}");
    }

    #[test]
    fn write_then_check_is_clean_and_detects_changes() {
        let dir = tempfile::tempdir().unwrap();
        let docs = generate(&repo()).unwrap();
        std::fs::create_dir_all(dir.path().join("resources")).unwrap();
        std::fs::write(dir.path().join("resources/old.md"), "old").unwrap();
        write(dir.path(), &docs).unwrap();
        assert!(
            !dir.path().join("resources/old.md").exists(),
            "stale page kept"
        );
        assert_eq!(check(dir.path(), &docs).unwrap(), vec![]);
        // A second write changes nothing.
        assert_eq!(write(dir.path(), &docs).unwrap(), Vec::<PathBuf>::new());

        std::fs::write(dir.path().join("index.md"), "edited by hand").unwrap();
        std::fs::remove_file(dir.path().join("data-sources/well_known_policy.md")).unwrap();
        std::fs::write(dir.path().join("resources/extra.md"), "x").unwrap();
        let diffs = check(dir.path(), &docs).unwrap();
        assert_eq!(
            diffs,
            vec![
                Difference::Missing(PathBuf::from("data-sources/well_known_policy.md")),
                Difference::Changed(PathBuf::from("index.md")),
                Difference::Stale(PathBuf::from("resources/extra.md")),
            ]
        );
    }
}
