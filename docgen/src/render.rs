//! Markdown rendering of one page, in the layout the Terraform registry reads
//! (the one `tfplugindocs` writes: front matter, example, `## Schema` with
//! Required / Optional / Read-Only groups and nested schemas, import).
//!
//! Owns: turning a [`ResourceSpec`] plus the page's example, import commands
//! and hand-written notes into text. Pure: no files, no clock, so the same
//! input always gives the same bytes. Does not own: finding the specs or
//! reading the examples (see `crate::pages`).

use schema::{Attr, BlockSpec, Kind, Mode, ResourceSpec};
use std::fmt::Write as _;

/// What a page documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// A managed resource (`docs/resources/`).
    Resource,
    /// A data source (`docs/data-sources/`).
    DataSource,
    /// An ephemeral resource (`docs/ephemeral-resources/`).
    EphemeralResource,
    /// A list resource (`docs/list-resources/`): its spec is the `config`
    /// block's.
    ListResource,
}

impl PageKind {
    /// The word the registry uses in titles.
    fn title(self) -> &'static str {
        match self {
            PageKind::Resource => "Resource",
            PageKind::DataSource => "Data Source",
            PageKind::EphemeralResource => "Ephemeral Resource",
            PageKind::ListResource => "List Resource",
        }
    }
}

/// Everything one resource or data source page is made of.
#[derive(Debug, Clone)]
pub struct Page {
    /// Resource or data source.
    pub kind: PageKind,
    /// The schema spec: descriptions, kinds, modes, defaults.
    pub spec: ResourceSpec,
    /// The full example (`examples/.../resource.tf` or `data-source.tf`).
    pub example: String,
    /// The import commands (`examples/resources/<type>/import.sh`), if the
    /// resource can be imported.
    pub import: Option<String>,
    /// Hand-written notes on behaviour users trip over (markdown), if any.
    pub notes: Option<String>,
    /// Further generated sections (markdown, with their own headings).
    pub extra: Option<String>,
}

/// The provider's index page.
#[derive(Debug, Clone)]
pub struct IndexPage {
    /// The provider configuration spec.
    pub spec: ResourceSpec,
    /// `examples/provider/provider.tf`.
    pub example: String,
    /// Hand-written sections (authentication, endpoints, logging).
    pub notes: String,
    /// Resource type names served, sorted.
    pub resources: Vec<String>,
    /// Data source type names served, sorted.
    pub data_sources: Vec<String>,
    /// Ephemeral resource type names served, sorted.
    pub ephemeral_resources: Vec<String>,
    /// List resource type names served, sorted.
    pub list_resources: Vec<String>,
    /// Function names served, sorted.
    pub functions: Vec<String>,
}

/// One provider-defined function's page.
#[derive(Debug, Clone)]
pub struct FunctionPage {
    /// Function name (called as `provider::eks::<name>`).
    pub name: String,
    /// Signature with parameter types.
    pub signature: String,
    /// One-line summary.
    pub summary: String,
    /// `examples/functions/<name>/function.tf`.
    pub example: String,
    /// `docgen/notes/functions/<name>.md`: what it returns, its arguments.
    pub notes: String,
}

/// A function page.
pub fn function_page(p: &FunctionPage) -> String {
    let mut out = front_matter(&format!("{} Function - eks", p.name), &p.summary);
    let _ = writeln!(
        out,
        "# {} (Function)
",
        p.name
    );
    out.push_str(&normalise(&p.summary));
    out.push_str("
Provider-defined function: Terraform ≥ 1.8, OpenTofu ≥ 1.7. It makes no AWS call and does not need the provider to be configured.

## Signature

```text
");
    let _ = writeln!(out, "provider::eks::{}", p.signature);
    out.push_str(
        "```

## Example Usage

```terraform
",
    );
    out.push_str(&normalise(&p.example));
    out.push_str(
        "```

",
    );
    out.push_str(&normalise(&p.notes));
    normalise(&out)
}

/// The registry's file name of a type: without the provider prefix (`eks_`).
pub fn file_stem(type_name: &str) -> &str {
    type_name.strip_prefix("eks_").unwrap_or(type_name)
}

/// Text as it goes into a page: Unix line ends, no trailing blanks on a line,
/// exactly one final newline (empty text stays empty).
pub fn normalise(text: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').trim_end())
        .collect();
    let joined = lines.join("\n");
    let trimmed = joined.trim_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// The first paragraph of a description (for front matter).
fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").next().unwrap_or(text).trim()
}

fn front_matter(title: &str, description: &str) -> String {
    front_matter_with(title, description, true)
}

/// Front matter; `subcategory` only where the registry takes it: HashiCorp's
/// `tfplugindocs validate` refuses it on the provider's index page
/// ("YAML frontmatter should not contain subcategory", issue 26).
fn front_matter_with(title: &str, description: &str, subcategory: bool) -> String {
    let mut s = String::from("---\n");
    let _ = writeln!(s, "page_title: \"{title}\"");
    if subcategory {
        s.push_str("subcategory: \"\"\n");
    }
    s.push_str("description: |-\n");
    for line in first_paragraph(description).lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("---\n\n");
    s
}

/// The type as the registry writes it, e.g. `Set of String`.
fn type_label(kind: &Kind) -> &'static str {
    match kind {
        Kind::String => "String",
        Kind::Bool => "Boolean",
        Kind::Number => "Number",
        Kind::StringMap => "Map of String",
        Kind::StringSet => "Set of String",
        Kind::StringList => "List of String",
        Kind::ObjectList(_) => "List of Object",
        Kind::NestedList(_) => "Attributes List",
        Kind::NestedObject(_) => "Map of Set of String",
    }
}

/// The nested attributes of a kind, if it has any.
fn nested(kind: &Kind) -> Option<&[Attr]> {
    match kind {
        Kind::ObjectList(a) | Kind::NestedList(a) | Kind::NestedObject(a) => Some(a),
        _ => None,
    }
}

/// The anchor of a nested schema; `path` is dotted from the top level.
fn anchor(prefix: &str, path: &str) -> String {
    format!("{prefix}--{}", path.replace('.', "--"))
}

fn default_label(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("`\"{s}\"`"),
        other => format!("`{other}`"),
    }
}

/// One bullet: name, type with qualifiers, description, link to a nested schema.
fn attr_line(a: &Attr, path: &str) -> String {
    let mut quals = vec![type_label(&a.kind).to_string()];
    if let Some(d) = &a.default {
        quals.push(format!("default {}", default_label(d)));
    }
    if a.replace {
        quals.push("forces replacement".into());
    }
    if a.sensitive {
        quals.push("sensitive".into());
    }
    if a.check.is_some() {
        quals.push("validated at plan time".into());
    }
    let mut line = format!(
        "- `{}` ({}) {}",
        a.name,
        quals.join(", "),
        a.description.trim()
    );
    if nested(&a.kind).is_some() {
        let _ = write!(
            line,
            " (see [below for nested schema](#{}))",
            anchor("nestedatt", path)
        );
    }
    line.push('\n');
    line
}

fn block_line(b: &BlockSpec, path: &str) -> String {
    format!(
        "- `{}` (Block, Optional) {} (see [below for nested schema](#{}))\n",
        b.name,
        b.description.trim(),
        anchor("nestedblock", path)
    )
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// Which attributes a group of the schema section lists.
type GroupFilter = fn(Mode) -> bool;

/// Required / Optional / Read-Only groups of `attrs` (and `blocks`, which are
/// optional), then the nested schemas they link to. Top-level groups get
/// `###` headings; nested ones plain labels, as the registry shows them.
fn schema_section(attrs: &[Attr], blocks: &[BlockSpec], parent: &str, top: bool) -> String {
    let mut out = String::new();
    let groups: [(&str, GroupFilter); 3] = [
        ("Required", |m| m == Mode::Required),
        ("Optional", |m| {
            matches!(m, Mode::Optional | Mode::OptionalComputed)
        }),
        ("Read-Only", |m| m == Mode::Computed),
    ];
    for (title, wanted) in groups {
        let members: Vec<&Attr> = attrs.iter().filter(|a| wanted(a.mode)).collect();
        let with_blocks = title == "Optional" && !blocks.is_empty();
        if members.is_empty() && !with_blocks {
            continue;
        }
        if top {
            let _ = writeln!(out, "### {title}\n");
        } else {
            let _ = writeln!(out, "{title}:\n");
        }
        for a in members {
            out.push_str(&attr_line(a, &join(parent, a.name)));
        }
        if with_blocks {
            for b in blocks {
                out.push_str(&block_line(b, &join(parent, b.name)));
            }
        }
        out.push('\n');
    }
    for a in attrs {
        if let Some(inner) = nested(&a.kind) {
            let path = join(parent, a.name);
            let _ = writeln!(out, "<a id=\"{}\"></a>", anchor("nestedatt", &path));
            let _ = writeln!(out, "### Nested Schema for `{path}`\n");
            out.push_str(&schema_section(inner, &[], &path, false));
        }
    }
    for b in blocks {
        let path = join(parent, b.name);
        let _ = writeln!(out, "<a id=\"{}\"></a>", anchor("nestedblock", &path));
        let _ = writeln!(out, "### Nested Schema for `{path}`\n");
        out.push_str(&schema_section(&b.attrs, &[], &path, false));
    }
    out
}

/// `terraform import ADDRESS ID` lines of an import script as (address, id).
pub fn import_commands(script: &str) -> Vec<(String, String)> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("terraform"), Some("import"), Some(address), Some(id))
                    if words.next().is_none() =>
                {
                    Some((address.to_string(), id.trim_matches('"').to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

fn import_section(script: &str) -> String {
    let mut out = String::from("## Import\n\nImport is supported using the following syntax:\n\n");
    let _ = write!(out, "```shell\n{}```\n", normalise(script));
    let commands = import_commands(script);
    if !commands.is_empty() {
        out.push_str(
            "\nIn Terraform 1.5 and later an `import` block does the same during `terraform apply`:\n\n```terraform\n",
        );
        for (i, (address, id)) in commands.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = write!(out, "import {{\n  to = {address}\n  id = \"{id}\"\n}}\n");
        }
        out.push_str("```\n");
    }
    out
}

/// A resource or data source page.
pub fn page(p: &Page) -> String {
    let name = p.spec.name;
    let mut out = front_matter(
        &format!("{name} {} - eks", p.kind.title()),
        p.spec.description,
    );
    let _ = writeln!(out, "# {name} ({})\n", p.kind.title());
    out.push_str(&normalise(p.spec.description));
    out.push_str("\n## Example Usage\n\n```terraform\n");
    out.push_str(&normalise(&p.example));
    out.push_str(match p.kind {
        PageKind::ListResource => "```\n\n## Schema of the `config` block\n\n",
        _ => "```\n\n## Schema\n\n",
    });
    out.push_str(&schema_section(&p.spec.attrs, &p.spec.blocks, "", true));
    if let Some(notes) = p.notes.as_deref().map(normalise).filter(|n| !n.is_empty()) {
        out.push_str("## Behaviours worth knowing\n\n");
        out.push_str(&notes);
        out.push('\n');
    }
    if let Some(extra) = p.extra.as_deref().map(normalise).filter(|n| !n.is_empty()) {
        out.push_str(&extra);
        out.push('\n');
    }
    if let Some(script) = &p.import {
        out.push_str(&import_section(script));
    }
    normalise(&out)
}

/// The provider's index page.
pub fn index(p: &IndexPage) -> String {
    let mut out = front_matter_with("Provider: eks", p.spec.description, false);
    out.push_str("# eks Provider\n\n");
    out.push_str(&normalise(p.spec.description));
    out.push_str("\n## Example Usage\n\n```terraform\n");
    out.push_str(&normalise(&p.example));
    out.push_str("```\n\n");
    out.push_str(&normalise(&p.notes));
    out.push_str("\n## Resources and data sources\n\n");
    for r in &p.resources {
        let _ = writeln!(out, "- [`{r}`](resources/{}.md) (resource)", file_stem(r));
    }
    for d in &p.data_sources {
        let _ = writeln!(
            out,
            "- [`{d}`](data-sources/{}.md) (data source)",
            file_stem(d)
        );
    }
    for e in &p.ephemeral_resources {
        let _ = writeln!(
            out,
            "- [`{e}`](ephemeral-resources/{}.md) (ephemeral resource)",
            file_stem(e)
        );
    }
    for l in &p.list_resources {
        let _ = writeln!(
            out,
            "- [`{l}`](list-resources/{}.md) (list resource, `terraform query`)",
            file_stem(l)
        );
    }
    for f in &p.functions {
        let _ = writeln!(out, "- [`provider::eks::{f}`](functions/{f}.md) (function)");
    }
    out.push_str("\n## Schema\n\n");
    out.push_str(&schema_section(&p.spec.attrs, &p.spec.blocks, "", true));
    normalise(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schema::Attr;

    fn spec() -> ResourceSpec {
        ResourceSpec {
            name: "eks_thing",
            description: "Makes a thing.\n\nSecond paragraph.",
            version: 0,
            attrs: vec![
                Attr::required("cluster_name", Kind::String, "The cluster.").replace(),
                Attr::optional("flag", Kind::Bool, "A flag.").default(serde_json::json!(false)),
                Attr::optional(
                    "items",
                    Kind::NestedList(vec![
                        Attr::required("name", Kind::String, "Item name."),
                        Attr::computed("id", Kind::String, "Item ID."),
                    ]),
                    "Items.",
                ),
                Attr::computed("arn", Kind::String, "The ARN."),
            ],
            blocks: vec![BlockSpec {
                name: "timeouts",
                description: "Waits.",
                attrs: vec![Attr::optional("create", Kind::String, "Create wait.")],
            }],
        }
    }

    fn thing_page() -> Page {
        Page {
            kind: PageKind::Resource,
            spec: spec(),
            example: "resource \"eks_thing\" \"x\" {\r\n  cluster_name = \"c\"   \r\n}\n\n\n"
                .into(),
            import: Some("# by cluster\nterraform import eks_thing.x c,a-1\n".into()),
            notes: Some("- Watch out.".into()),
            extra: None,
        }
    }

    #[test]
    fn page_has_registry_layout() {
        let text = page(&thing_page());
        assert!(text.starts_with(
            "---\npage_title: \"eks_thing Resource - eks\"\nsubcategory: \"\"\ndescription: |-\n  Makes a thing.\n---\n"
        ));
        for needle in [
            "# eks_thing (Resource)",
            "## Example Usage",
            "### Required\n\n- `cluster_name` (String, forces replacement) The cluster.",
            "- `flag` (Boolean, default `false`) A flag.",
            "- `items` (Attributes List) Items. (see [below for nested schema](#nestedatt--items))",
            "### Read-Only\n\n- `arn` (String) The ARN.",
            "- `timeouts` (Block, Optional) Waits. (see [below for nested schema](#nestedblock--timeouts))",
            "<a id=\"nestedatt--items\"></a>\n### Nested Schema for `items`\n\nRequired:\n\n- `name` (String) Item name.",
            "Read-Only:\n\n- `id` (String) Item ID.",
            "<a id=\"nestedblock--timeouts\"></a>",
            "## Behaviours worth knowing\n\n- Watch out.",
            "```shell\n# by cluster\nterraform import eks_thing.x c,a-1\n```",
            "import {\n  to = eks_thing.x\n  id = \"c,a-1\"\n}",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        // The example is normalised: no CR, no trailing blanks, one final newline.
        assert!(text.contains(
            "```terraform\nresource \"eks_thing\" \"x\" {\n  cluster_name = \"c\"\n}\n```"
        ));
        assert!(!text.contains('\r'));
        assert!(text.ends_with("}\n```\n"));
    }

    #[test]
    fn page_is_deterministic() {
        assert_eq!(page(&thing_page()), page(&thing_page()));
    }

    #[test]
    fn sections_without_content_are_left_out() {
        let mut p = thing_page();
        p.import = None;
        p.notes = Some("  \n".into());
        p.kind = PageKind::DataSource;
        let text = page(&p);
        assert!(!text.contains("## Import"));
        assert!(!text.contains("Behaviours worth knowing"));
        assert!(text.contains("# eks_thing (Data Source)"));
    }

    #[test]
    fn import_commands_are_parsed_from_the_script() {
        let script = "# comment: terraform import a b\nterraform import eks_x.a \"c/ns/sa\"\nterraform import too many words here\necho hi\n";
        assert_eq!(
            import_commands(script),
            vec![("eks_x.a".to_string(), "c/ns/sa".to_string())]
        );
    }

    #[test]
    fn file_stems_drop_the_provider_prefix() {
        assert_eq!(
            file_stem("eks_pod_identity_association"),
            "pod_identity_association"
        );
        assert_eq!(file_stem("other"), "other");
    }

    #[test]
    fn normalise_trims_and_keeps_one_newline() {
        assert_eq!(normalise("\n\na  \r\nb\n\n"), "a\nb\n");
        assert_eq!(normalise(" \n"), "");
    }

    #[test]
    fn index_links_every_page() {
        let text = index(&IndexPage {
            spec: spec(),
            example: "provider \"eks\" {}".into(),
            notes: "## Authentication\n\nThe chain.".into(),
            resources: vec!["eks_thing".into()],
            data_sources: vec!["eks_things".into()],
            ephemeral_resources: vec!["eks_auth".into()],
            list_resources: vec!["eks_thing".into()],
            functions: vec!["role_name".into()],
        });
        assert!(text.contains(
            "- [`eks_thing`](list-resources/thing.md) (list resource, `terraform query`)"
        ));
        assert!(text.contains("- [`eks_auth`](ephemeral-resources/auth.md) (ephemeral resource)"));
        assert!(text.contains("- [`provider::eks::role_name`](functions/role_name.md) (function)"));
        assert!(text.contains("- [`eks_thing`](resources/thing.md) (resource)"));
        assert!(text.contains("- [`eks_things`](data-sources/things.md) (data source)"));
        assert!(text.contains("## Authentication"));
        assert!(text.contains("## Schema"));
    }
}
