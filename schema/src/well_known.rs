//! The catalogue of well-known IAM policies: ready-made grants a user asks
//! for by name (`well_known_policies = ["aws-load-balancer-controller"]`) on
//! a role the provider makes for a pod identity association.
//!
//! Owns: the catalogue itself (embedded from
//! `schema/data/well_known/catalogue.json`), name resolution (canonical
//! kebab-case names, plus eksctl's camelCase names as aliases), `${partition}`
//! substitution, and rendering one entry or several combined entries as an
//! IAM policy document, checked against IAM's inline policy size limit.
//! Does not own: creating roles or attaching anything (the provider does
//! that), nor the other inline policies a role may carry.
//!
//! The seven entries with an eksctl name carry exactly eksctl's grants
//! (`schema/data/well_known/eksctl-reference.json` is a copy of the project's
//! reference data and the tests compare against it). The others follow the
//! IAM policy each project documents for its controller; where the project
//! scopes resources to the user's own ARNs (a bucket, a queue, a CA), the
//! entry uses the documented ARN form with `*` and its `notes` say so; its
//! `scopes` declare how `well_known_policy_scopes`
//! ([`crate::well_known_scope`]) puts the user's ARNs back
//! ([`combine_scoped`]). Without scopes every entry renders as before,
//! except one written per cluster (`karpenter`, from Karpenter's own
//! CloudFormation template): its `${cluster_name}`, `${region}` and
//! `${account_id}` come from each ARN of the required `cluster_arns`
//! (`per_cluster` in the catalogue), and it cannot be rendered without them
//! ([`render`], [`combine_scoped`] and [`missing_scopes`] say so).
//!
//! Sizes (compact JSON, which is also how IAM counts, since IAM ignores
//! whitespace; measured for `aws-us-gov`, the longest partition name):
//! `aws-load-balancer-controller` alone is 5,287 characters of the 10,240 a
//! role's inline policies may hold; eksctl's seven together are 6,868; every
//! inline entry together is well over the limit, so [`combine`] refuses
//! that combination (the tests print these numbers).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

pub use crate::well_known_scope::WellKnownScopes;

/// IAM's limit, in characters without whitespace, on the inline policies of
/// one role taken together. [`combine`] keeps its document under it; a caller
/// that adds more inline policies to the same role must count those too
/// (see [`policy_chars`]).
pub const INLINE_POLICY_MAX_CHARS: usize = 10_240;

/// The placeholder in catalogue ARNs that [`lookup`] replaces with the
/// partition.
pub const PARTITION_PLACEHOLDER: &str = "${partition}";

/// The policy language version of every document this module renders.
const POLICY_VERSION: &str = "2012-10-17";

const CATALOGUE_JSON: &str = include_str!("../data/well_known/catalogue.json");

/// One catalogue entry resolved for a partition.
#[derive(Debug, Clone, PartialEq)]
pub struct WellKnownPolicy {
    /// The canonical (kebab-case) name.
    pub name: &'static str,
    /// eksctl's name for the same policy (`wellKnownPolicies` key), if any.
    pub eksctl_name: Option<&'static str>,
    /// AWS managed policy ARNs to attach, partition applied.
    pub managed_policy_arns: Vec<String>,
    /// Statements of the inline policy, partition applied; empty when the
    /// entry is managed policies only.
    pub statements: Vec<Value>,
    /// Where the grants come from: project and documentation page.
    pub source: &'static str,
    /// How the grants differ from the source (wildcards in place of the
    /// user's own ARNs, caveats), if they do.
    pub notes: Option<&'static str>,
    /// The scopes (`well_known_policy_scopes` keys) this entry takes, sorted.
    pub scopes: Vec<&'static str>,
    /// The scopes this entry cannot be rendered without (`cluster_arns`
    /// for an entry written per cluster); while one is missing,
    /// `statements` keep the entry's placeholders and [`combine_scoped`]
    /// refuses it.
    pub required_scopes: Vec<&'static str>,
}

/// How one scope changes an entry's statements, as declared in the
/// catalogue (`scopes` of an entry). Statement indexes are those of the
/// entry's `inline` list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeRule {
    /// The scope kind (a [`crate::well_known_scope::KINDS`] key).
    scope: String,
    /// Statements whose `Resource` becomes the scope's values.
    #[serde(default)]
    resource_of: Vec<usize>,
    /// Statements added only when the scope is given, each with `Resource`
    /// = the scope's values (grants the source documents for the user's own
    /// resources and that have no sensible wildcard, such as KMS keys).
    #[serde(default)]
    add: Vec<Value>,
    /// Actions moved out of a statement into one statement per value, with
    /// a condition naming the value (a tag condition per cluster).
    #[serde(default)]
    split: Option<SplitRule>,
    /// The scope (`cluster_arns`, required) names the clusters the entry
    /// is written for: every statement that uses [`CLUSTER_PLACEHOLDERS`]
    /// is written once per cluster ARN, with its name, region and account.
    #[serde(default)]
    per_cluster: bool,
}

/// See [`ScopeRule::split`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitRule {
    /// The statement the actions leave.
    statement: usize,
    /// The actions that get the condition.
    actions: Vec<String>,
    /// The condition of one statement per value; `${value}` (in keys and
    /// values) is the scope value. Without it, one statement with
    /// `Resource` = the scope's values.
    #[serde(default)]
    condition: Option<Value>,
}

/// The placeholder of a scope value in a [`SplitRule`] condition.
const VALUE_PLACEHOLDER: &str = "${value}";

/// The placeholders of a per-cluster entry (`per_cluster` in the catalogue):
/// the cluster's name, region and account, as Karpenter's CloudFormation
/// template writes `${ClusterName}`, `${AWS::Region}` and
/// `${AWS::AccountId}`.
pub const CLUSTER_PLACEHOLDERS: [&str; 3] = ["${cluster_name}", "${region}", "${account_id}"];

/// The catalogue file as stored.
#[derive(Deserialize)]
struct CatalogueFile {
    policies: Vec<Entry>,
}

/// One entry as stored, before partition substitution.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default)]
    eksctl_name: Option<String>,
    source: String,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    managed: Vec<String>,
    #[serde(default)]
    inline: Vec<Value>,
    #[serde(default)]
    scopes: Vec<ScopeRule>,
}

/// The parsed catalogue, sorted by canonical name. The data is embedded at
/// compile time and the tests prove it parses, so an error here is a bug in
/// this crate; it still travels as an error rather than a panic.
fn catalogue() -> Result<&'static [Entry], String> {
    static CATALOGUE: OnceLock<Result<Vec<Entry>, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| parse_catalogue(CATALOGUE_JSON))
        .as_deref()
        .map_err(|e| format!("the built-in well-known policy catalogue is invalid (a provider bug, please report it): {e}"))
}

fn parse_catalogue(text: &str) -> Result<Vec<Entry>, String> {
    let file: CatalogueFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut entries = file.policies;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut seen = BTreeSet::new();
    for e in &entries {
        let kebab = !e.name.is_empty()
            && !e.name.starts_with('-')
            && !e.name.ends_with('-')
            && e.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !kebab {
            return Err(format!("name {:?} is not kebab-case", e.name));
        }
        for n in std::iter::once(&e.name).chain(e.eksctl_name.as_ref()) {
            if !seen.insert(n.as_str()) {
                return Err(format!("name {n:?} appears twice"));
            }
        }
        if e.managed.is_empty() && e.inline.is_empty() {
            return Err(format!("{:?} grants nothing", e.name));
        }
        if e.source.trim().is_empty() {
            return Err(format!("{:?} has no source", e.name));
        }
        if let Some(s) = e.inline.iter().find(|s| !s.is_object()) {
            return Err(format!(
                "{:?} has a statement that is not an object: {s}",
                e.name
            ));
        }
        for r in &e.scopes {
            check_rule(e, r).map_err(|why| format!("{:?}, scope {:?}: {why}", e.name, r.scope))?;
        }
    }
    Ok(entries)
}

/// A scope rule names a known scope kind and statements that exist, and
/// changes something.
fn check_rule(e: &Entry, r: &ScopeRule) -> Result<(), String> {
    if crate::well_known_scope::kind(&r.scope).is_none() {
        return Err("no such scope kind".into());
    }
    if r.resource_of.is_empty() && r.add.is_empty() && r.split.is_none() && !r.per_cluster {
        return Err("changes nothing".into());
    }
    if r.per_cluster
        && (r.scope != "cluster_arns"
            || !Value::Array(e.inline.clone())
                .to_string()
                .contains(CLUSTER_PLACEHOLDERS[0]))
    {
        return Err(
            "per_cluster is for cluster_arns, on an entry that uses ${cluster_name}".into(),
        );
    }
    for &i in &r.resource_of {
        let s = e.inline.get(i).ok_or(format!("no statement {i}"))?;
        let mut res = Vec::new();
        strings_of(&s["Resource"], &mut res);
        // A placeholder stands for the template's own resource, which the
        // scope replaces as it replaces a wildcard.
        if !res.iter().any(|r| r.contains('*') || r.contains("${")) {
            return Err(format!("statement {i} has no wildcard resource to scope"));
        }
    }
    if let Some(a) = r
        .add
        .iter()
        .find(|a| !a.is_object() || a.get("Resource").is_some())
    {
        return Err(format!(
            "an added statement must be an object without Resource: {a}"
        ));
    }
    if let Some(sp) = &r.split {
        let s = e
            .inline
            .get(sp.statement)
            .ok_or(format!("no statement {}", sp.statement))?;
        let mut actions = Vec::new();
        strings_of(&s["Action"], &mut actions);
        if sp.actions.is_empty() || sp.actions.iter().any(|a| !actions.contains(a)) {
            return Err(format!(
                "split actions must be actions of statement {}",
                sp.statement
            ));
        }
        if let Some(c) = &sp.condition
            && !c.to_string().contains(VALUE_PLACEHOLDER)
        {
            return Err(format!(
                "the split condition does not use {VALUE_PLACEHOLDER}"
            ));
        }
    }
    Ok(())
}

/// The strings of a string or an array of strings.
fn strings_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings_of(i, out)),
        _ => {}
    }
}

/// Checks that `partition` is one of the AWS partitions
/// ([`crate::partition::PARTITIONS`]).
pub fn check_partition(partition: &str) -> Result<(), String> {
    crate::partition::check_id(partition)
}

/// Resolves a canonical or eksctl name to its stored entry.
fn resolve(name: &str) -> Result<&'static Entry, String> {
    let entries = catalogue()?;
    entries
        .iter()
        .find(|e| e.name == name || e.eksctl_name.as_deref() == Some(name))
        .ok_or_else(|| unknown_name(entries, name))
}

/// The error text for a name that is not in the catalogue: what was asked,
/// every valid canonical name, a guess when one is close, and how to fix it.
fn unknown_name(entries: &[Entry], name: &str) -> String {
    let valid: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let aliases: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.eksctl_name.as_deref())
        .collect();
    let guess = suggest(entries, name)
        .map(|g| format!(" Did you mean {g:?}?"))
        .unwrap_or_default();
    format!(
        "{name:?} is not a well-known policy.{guess} Valid names: {}. eksctl's names ({}) are accepted too. \
         Use one of these names, or grant the permissions with your own policy instead.",
        valid.join(", "),
        aliases.join(", "),
    )
}

/// A canonical name equal to `name` once case, punctuation and a leading
/// `aws` are ignored (catches `AWSLoadBalancerController`,
/// `aws-fsx-lustre-csi`).
fn suggest<'a>(entries: &'a [Entry], name: &str) -> Option<&'a str> {
    fn fold(s: &str) -> String {
        let s: String = s
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match s.strip_prefix("aws") {
            Some(rest) if !rest.is_empty() => rest.to_string(),
            _ => s,
        }
    }
    let want = fold(name);
    entries
        .iter()
        .find(|e| {
            fold(&e.name) == want || e.eksctl_name.as_deref().is_some_and(|a| fold(a) == want)
        })
        .map(|e| e.name.as_str())
}

/// Replaces the partition placeholder in every string value of `v`.
fn substitute(v: &Value, partition: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(PARTITION_PLACEHOLDER, partition)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| substitute(i, partition)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, partition)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn materialize(e: &'static Entry, partition: &str) -> WellKnownPolicy {
    materialize_scoped(e, partition, &WellKnownScopes::default())
}

/// Replaces `${value}` in every key and string of `v`.
fn with_value(v: &Value, value: &str) -> Value {
    replace_all(v, &[(VALUE_PLACEHOLDER, value)])
}

/// Replaces each placeholder with its value in every key and string of `v`.
fn replace_all(v: &Value, pairs: &[(&str, &str)]) -> Value {
    let text = |s: &str| {
        pairs
            .iter()
            .fold(s.to_string(), |acc, (p, value)| acc.replace(p, value))
    };
    match v {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.iter().map(|i| replace_all(i, pairs)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (text(k), replace_all(v, pairs)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The statements of a per-cluster entry for the given cluster ARNs: a
/// statement that uses a [`CLUSTER_PLACEHOLDERS`] once per cluster (an
/// ARN that is not a cluster ARN is skipped; [`check_required`] refuses it
/// first), every other statement once, repeats dropped.
fn per_cluster(statements: Vec<Value>, clusters: &[String]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut push = |s: Value| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for s in statements {
        let text = s.to_string();
        if !CLUSTER_PLACEHOLDERS.iter().any(|p| text.contains(p)) {
            push(s);
            continue;
        }
        for arn in clusters {
            let Some(c) = crate::well_known_scope::ClusterArn::parse(arn) else {
                continue;
            };
            let [name, region, account] = CLUSTER_PLACEHOLDERS;
            push(replace_all(
                &s,
                &[(name, c.name), (region, c.region), (account, c.account)],
            ));
        }
    }
    out
}

/// An entry's required scopes ([`ScopeRule::per_cluster`]) are given, and
/// each value is of the form the statements need.
fn check_required(e: &Entry, scopes: &WellKnownScopes) -> Result<(), String> {
    for r in e.scopes.iter().filter(|r| r.per_cluster) {
        let key = &r.scope;
        let Some(values) = scopes.values(key) else {
            return Err(format!(
                "{name} needs well_known_policy_scopes.{key}: its statements name the cluster, its region and its account in tag conditions and ARNs, which have no wildcard form. Add {key} = [the cluster's ARN] (such as data.aws_eks_cluster.this.arn; one ARN per cluster the role serves) to well_known_policy_scopes.",
                name = e.name
            ));
        };
        if let Some(bad) = values
            .iter()
            .find(|v| crate::well_known_scope::ClusterArn::parse(v).is_none())
        {
            return Err(format!(
                "well_known_policy_scopes.{key}: {bad:?} is not an EKS cluster ARN (arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME)."
            ));
        }
    }
    Ok(())
}

/// An entry's statements with the given scopes applied (see
/// [`ScopeRule`]): a scoped `Resource` is always a list (sorted), a
/// statement left with nothing to grant (an empty scope, every action
/// split out) is dropped, and added statements come after the entry's own.
fn scoped_statements(e: &Entry, scopes: &WellKnownScopes) -> Vec<Value> {
    let mut own: Vec<Option<Value>> = e.inline.iter().cloned().map(Some).collect();
    let mut added = Vec::new();
    for r in &e.scopes {
        let Some(values) = scopes.values(&r.scope) else {
            continue;
        };
        let resources = Value::Array(values.iter().cloned().map(Value::String).collect());
        for &i in &r.resource_of {
            if let Some(Some(s)) = own.get_mut(i) {
                s["Resource"] = resources.clone();
            }
            if values.is_empty() {
                own[i] = None;
            }
        }
        if !values.is_empty() {
            for a in &r.add {
                let mut a = a.clone();
                a["Resource"] = resources.clone();
                added.push(a);
            }
        }
        if let Some(sp) = &r.split
            && let Some(Some(s)) = own.get_mut(sp.statement)
        {
            let mut actions = Vec::new();
            strings_of(&s["Action"], &mut actions);
            let resource = s["Resource"].clone();
            actions.retain(|a| !sp.actions.contains(a));
            if actions.is_empty() {
                own[sp.statement] = None;
            } else {
                s["Action"] = Value::Array(actions.into_iter().map(Value::String).collect());
            }
            match &sp.condition {
                Some(c) => {
                    for v in &values {
                        added.push(serde_json::json!({
                            "Effect": "Allow",
                            "Action": sp.actions,
                            "Resource": resource,
                            "Condition": with_value(c, v),
                        }));
                    }
                }
                None if !values.is_empty() => added.push(serde_json::json!({
                    "Effect": "Allow",
                    "Action": sp.actions,
                    "Resource": resources,
                })),
                None => {}
            }
        }
    }
    let statements: Vec<Value> = own.into_iter().flatten().chain(added).collect();
    match e.scopes.iter().find(|r| r.per_cluster) {
        Some(r) => match scopes.values(&r.scope) {
            Some(clusters) => per_cluster(statements, &clusters),
            None => statements,
        },
        None => statements,
    }
}

/// One entry resolved for a partition with scopes applied.
fn materialize_scoped(
    e: &'static Entry,
    partition: &str,
    scopes: &WellKnownScopes,
) -> WellKnownPolicy {
    let mut taken: Vec<&'static str> = e
        .scopes
        .iter()
        .filter_map(|r| crate::well_known_scope::kind(&r.scope).map(|k| k.key))
        .collect();
    taken.sort_unstable();
    taken.dedup();
    let required_scopes = e
        .scopes
        .iter()
        .filter(|r| r.per_cluster)
        .filter_map(|r| crate::well_known_scope::kind(&r.scope).map(|k| k.key))
        .collect();
    WellKnownPolicy {
        name: &e.name,
        eksctl_name: e.eksctl_name.as_deref(),
        managed_policy_arns: e
            .managed
            .iter()
            .map(|a| a.replace(PARTITION_PLACEHOLDER, partition))
            .collect(),
        statements: scoped_statements(e, scopes)
            .iter()
            .map(|s| substitute(s, partition))
            .collect(),
        source: &e.source,
        notes: e.notes.as_deref(),
        scopes: taken,
        required_scopes,
    }
}

/// Resolves a canonical or eksctl name for a partition; unknown names give
/// `Err(String)` whose text lists every valid canonical name and says how to
/// fix it. An entry with required scopes keeps its placeholders here (see
/// [`WellKnownPolicy::required_scopes`]); [`render`] fills them.
pub fn lookup(name: &str, partition: &str) -> Result<WellKnownPolicy, String> {
    check_partition(partition)?;
    Ok(materialize(resolve(name)?, partition))
}

/// Every entry of the catalogue for a partition, sorted by canonical name.
pub fn all(partition: &str) -> Result<Vec<WellKnownPolicy>, String> {
    check_partition(partition)?;
    Ok(catalogue()?
        .iter()
        .map(|e| materialize(e, partition))
        .collect())
}

/// All canonical names, sorted.
pub fn names() -> Vec<&'static str> {
    // An unparsable catalogue lists nothing here; lookup and check_name
    // report it.
    let mut names: Vec<&'static str> = catalogue()
        .map(|es| es.iter().map(|e| e.name.as_str()).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

/// Checks one name, usable as a `fn(&str) -> Result<(), String>` validator
/// (unknown names give the same error text as [`lookup`]).
pub fn check_name(name: &str) -> Result<(), String> {
    resolve(name).map(|_| ())
}

/// Checks several names at once: every name that is not in the catalogue
/// is reported, each once, in one message (with a guess for each where one
/// is close), followed by the valid names and how to fix it.
pub fn check_names(names: &[String]) -> Result<(), String> {
    let entries = catalogue()?;
    let bad: BTreeSet<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| resolve(n).is_err())
        .collect();
    let bad: Vec<&str> = bad.into_iter().collect();
    match bad.as_slice() {
        [] => Ok(()),
        [one] => Err(unknown_name(entries, one)),
        several => {
            let guesses: Vec<String> = several
                .iter()
                .filter_map(|n| suggest(entries, n).map(|g| format!("{g:?} for {n:?}")))
                .collect();
            let guess = if guesses.is_empty() {
                String::new()
            } else {
                format!(" Did you mean {}?", guesses.join(", "))
            };
            let valid: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            let aliases: Vec<&str> = entries
                .iter()
                .filter_map(|e| e.eksctl_name.as_deref())
                .collect();
            let quoted: Vec<String> = several.iter().map(|n| format!("{n:?}")).collect();
            Err(format!(
                "{} are not well-known policies.{guess} Valid names: {}. eksctl's names ({}) are accepted too. \
                 Use these names, or grant the permissions with your own policy instead.",
                quoted.join(", "),
                valid.join(", "),
                aliases.join(", "),
            ))
        }
    }
}

/// Renders statements as a full policy document, compact JSON.
fn render_document(statements: &[Value]) -> String {
    serde_json::json!({ "Version": POLICY_VERSION, "Statement": statements }).to_string()
}

/// The size of a policy document as IAM counts it against its limits:
/// characters, not counting whitespace outside string values.
pub fn policy_chars(doc: &str) -> usize {
    let (mut n, mut in_string, mut escaped) = (0, false, false);
    for c in doc.chars() {
        if in_string {
            n += 1;
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            n += 1;
            in_string = c == '"';
        }
    }
    n
}

/// The combined result of several names: managed ARNs (sorted, deduplicated)
/// and one inline policy document `{"Version":"2012-10-17","Statement":[...]}`
/// (`None` if no inline statements), as a JSON string.
///
/// The result does not depend on the order of `names`, and a name given twice
/// (or under both its names) counts once. Statements that two entries share
/// verbatim appear once. A document over [`INLINE_POLICY_MAX_CHARS`] is an
/// error that gives each entry's size and how to fix it.
pub fn combine(names: &[String], partition: &str) -> Result<(Vec<String>, Option<String>), String> {
    combine_scoped(names, &WellKnownScopes::default(), partition)
}

/// As [`combine`], with `scopes` applied to every chosen entry that takes
/// them (a scope that none takes changes nothing here; [`check_scopes`]
/// reports it).
pub fn combine_scoped(
    names: &[String],
    scopes: &WellKnownScopes,
    partition: &str,
) -> Result<(Vec<String>, Option<String>), String> {
    check_partition(partition)?;
    let mut chosen: BTreeMap<&'static str, &'static Entry> = BTreeMap::new();
    for name in names {
        let e = resolve(name)?;
        check_required(e, scopes)?;
        chosen.insert(&e.name, e);
    }
    let mut managed = BTreeSet::new();
    let mut statements: Vec<Value> = Vec::new();
    for e in chosen.values() {
        let p = materialize_scoped(e, partition, scopes);
        managed.extend(p.managed_policy_arns);
        for s in p.statements {
            if !statements.contains(&s) {
                statements.push(s);
            }
        }
    }
    let managed: Vec<String> = managed.into_iter().collect();
    if statements.is_empty() {
        return Ok((managed, None));
    }
    let doc = render_document(&statements);
    let size = policy_chars(&doc);
    if size > INLINE_POLICY_MAX_CHARS {
        let sizes: Vec<String> = chosen
            .values()
            .filter_map(|e| {
                policy_json(&materialize_scoped(e, partition, scopes))
                    .map(|d| format!("{} {}", e.name, policy_chars(&d)))
            })
            .collect();
        return Err(format!(
            "The well-known policies {} make an inline policy of {size} characters, over IAM's limit of \
             {INLINE_POLICY_MAX_CHARS} characters for a role's inline policies (sizes: {}). \
             Ask for fewer well-known policies on this role: split them across service accounts, \
             each with its own role.",
            chosen.keys().copied().collect::<Vec<_>>().join(", "),
            sizes.join(", "),
        ));
    }
    Ok((managed, Some(doc)))
}

/// The chosen entries' required scopes that are missing or malformed
/// (a per-cluster entry without `cluster_arns`), one message each, each
/// naming the scope key and how to fix it. Unknown names are left to
/// [`check_names`].
pub fn missing_scopes(names: &[String], scopes: &WellKnownScopes) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .iter()
        .filter_map(|n| resolve(n).ok())
        .filter(|e| seen.insert(e.name.as_str()))
        .filter_map(|e| check_required(e, scopes).err())
        .collect()
}

/// A single entry with `scopes` applied, for the data source and the
/// function: as [`lookup`], refusing what [`combine_scoped`] refuses (a
/// required scope missing).
pub fn render(
    name: &str,
    scopes: &WellKnownScopes,
    partition: &str,
) -> Result<WellKnownPolicy, String> {
    check_partition(partition)?;
    let e = resolve(name)?;
    check_required(e, scopes)?;
    Ok(materialize_scoped(e, partition, scopes))
}

/// The AWS managed policies of several names (sorted, deduplicated),
/// which no scope changes: what an import needs to tell a role's own
/// managed policies from those of its well-known policies, whatever the
/// scopes (which a role does not record) were.
pub fn managed_policy_arns(names: &[String], partition: &str) -> Result<Vec<String>, String> {
    check_partition(partition)?;
    let mut managed = BTreeSet::new();
    for name in names {
        let e = resolve(name)?;
        managed.extend(materialize(e, partition).managed_policy_arns);
    }
    Ok(managed.into_iter().collect())
}

/// Every scope that no chosen entry takes, one message each, naming the
/// entries of the catalogue that would take it. Unknown names are left to
/// [`check_names`].
pub fn check_scopes(names: &[String], scopes: &WellKnownScopes) -> Vec<String> {
    let Ok(entries) = catalogue() else {
        return vec![];
    };
    let chosen: Vec<&Entry> = names.iter().filter_map(|n| resolve(n).ok()).collect();
    let takes = |e: &Entry, key: &str| e.scopes.iter().any(|r| r.scope == key);
    scopes
        .given()
        .into_iter()
        .filter(|key| !chosen.iter().any(|e| takes(e, key)))
        .map(|key| {
            let would: Vec<&str> = entries
                .iter()
                .filter(|e| takes(e, key))
                .map(|e| e.name.as_str())
                .collect();
            format!(
                "well_known_policy_scopes.{key} scopes none of the chosen well-known policies ({}); it scopes {}. Remove {key}, or add one of those to well_known_policies.",
                if names.is_empty() { "none".to_string() } else { names.join(", ") },
                would.join(", "),
            )
        })
        .collect()
}

/// A single entry rendered as a full policy document JSON string (inline
/// statements only; `None` when the entry is managed-only), for a data
/// source's `policy_json`.
pub fn policy_json(p: &WellKnownPolicy) -> Option<String> {
    (!p.statements.is_empty()).then(|| render_document(&p.statements))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTITIONS: [&str; 8] = [
        "aws",
        "aws-cn",
        "aws-eusc",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-e",
        "aws-iso-f",
        "aws-us-gov",
    ];

    #[test]
    fn the_test_partitions_are_every_partition() {
        let ids: Vec<&str> = crate::partition::PARTITIONS.iter().map(|p| p.id).collect();
        assert_eq!(ids, PARTITIONS);
    }

    const EKSCTL_REFERENCE: &str = include_str!("../data/well_known/eksctl-reference.json");

    /// eksctl's seven, as (canonical, eksctl) names.
    const EKSCTL: [(&str, &str); 7] = [
        ("image-builder", "imageBuilder"),
        ("auto-scaler", "autoScaler"),
        ("aws-load-balancer-controller", "awsLoadBalancerController"),
        ("external-dns", "externalDNS"),
        ("cert-manager", "certManager"),
        ("ebs-csi-controller", "ebsCSIController"),
        ("efs-csi-controller", "efsCSIController"),
    ];

    fn reference() -> Value {
        serde_json::from_str(EKSCTL_REFERENCE).expect("embedded eksctl reference parses")
    }

    /// Every string anywhere in a JSON value.
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|i| strings(i, out)),
            Value::Object(m) => m.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }

    fn owned(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn well_known_check_names_reports_every_unknown_name_once() {
        assert!(check_names(&owned(&["external-dns", "externalDNS"])).is_ok());
        let e = check_names(&owned(&["nope-a", "external-dns", "nope-b", "nope-a"])).unwrap_err();
        assert_eq!(e.matches("\"nope-a\"").count(), 1, "{e}");
        assert_eq!(e.matches("\"nope-b\"").count(), 1, "{e}");
        assert!(e.contains("are not well-known policies"), "{e}");
        assert!(e.contains("external-dns"), "{e}");
        let one = check_names(&owned(&["AWSLoadBalancerController"])).unwrap_err();
        assert!(
            one.contains("Did you mean \"aws-load-balancer-controller\""),
            "{one}"
        );
    }

    #[test]
    fn well_known_catalogue_parses() {
        let entries = catalogue().expect("catalogue parses and validates");
        assert!(entries.len() >= 20, "only {} entries", entries.len());
        let names = names();
        assert_eq!(names.len(), entries.len());
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for required in [
            "velero",
            "external-secrets",
            "cloudwatch-observability",
            "mountpoint-s3-csi",
            "fsx-lustre-csi",
            "node-termination-handler",
            "vpc-cni-ipv4",
            "vpc-cni-ipv6",
            "amazon-managed-service-prometheus",
            "appmesh-controller",
            "appmesh-envoy-proxy",
            "gateway-controller",
            "lb-controller-targetgroup-binding-only",
            "privateca-issuer",
            "pganalyze",
            "vpc-cni-cloudwatch-logs",
            "external-secrets-push",
            "fsx-openzfs-csi",
        ] {
            assert!(names.contains(&required), "{required} missing");
        }
    }

    #[test]
    fn well_known_parse_rejects_bad_data() {
        let dup = r#"{"policies":[{"name":"a","source":"s","managed":["x"]},{"name":"b","eksctl_name":"a","source":"s","managed":["x"]}]}"#;
        assert!(parse_catalogue(dup).unwrap_err().contains("twice"));
        let empty = r#"{"policies":[{"name":"a","source":"s"}]}"#;
        assert!(
            parse_catalogue(empty)
                .unwrap_err()
                .contains("grants nothing")
        );
        let camel = r#"{"policies":[{"name":"aB","source":"s","managed":["x"]}]}"#;
        assert!(parse_catalogue(camel).unwrap_err().contains("kebab"));
        let extra = r#"{"policies":[{"name":"a","source":"s","managed":["x"],"typo":1}]}"#;
        assert!(parse_catalogue(extra).is_err());
    }

    #[test]
    fn well_known_every_entry_renders_in_every_partition() {
        for partition in PARTITIONS {
            for name in names() {
                let p = lookup(name, partition).unwrap();
                assert_eq!(p.name, name);
                assert!(!p.source.is_empty());
                assert!(!p.managed_policy_arns.is_empty() || !p.statements.is_empty());
                for arn in &p.managed_policy_arns {
                    assert!(
                        arn.starts_with(&format!("arn:{partition}:iam::aws:policy/")),
                        "{name}: {arn}"
                    );
                }
                match policy_json(&p) {
                    None => assert!(p.statements.is_empty()),
                    Some(doc) => {
                        assert!(!doc.contains(PARTITION_PLACEHOLDER), "{name}: {doc}");
                        let v: Value = serde_json::from_str(&doc).unwrap();
                        assert_eq!(v["Version"], POLICY_VERSION);
                        let statements = v["Statement"].as_array().unwrap();
                        assert_eq!(statements, &p.statements);
                        for s in statements {
                            assert_eq!(s["Effect"], "Allow", "{name}: {s}");
                            assert!(
                                s["Action"].is_string() || s["Action"].is_array(),
                                "{name}: {s}"
                            );
                            assert!(
                                s["Resource"].is_string() || s["Resource"].is_array(),
                                "{name}: {s}"
                            );
                        }
                        assert!(policy_chars(&doc) <= INLINE_POLICY_MAX_CHARS, "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn well_known_eksctl_entries_match_embedded_reference() {
        let reference = reference();
        let policies = reference["policies"].as_object().unwrap();
        let keys: BTreeSet<&str> = policies.keys().map(String::as_str).collect();
        let aliases: BTreeSet<&str> = all("aws")
            .unwrap()
            .iter()
            .filter_map(|p| p.eksctl_name)
            .collect();
        assert_eq!(keys, aliases, "catalogue aliases are eksctl's names");
        for partition in PARTITIONS {
            for (canonical, eksctl) in EKSCTL {
                let want = substitute(&policies[eksctl], partition);
                for name in [canonical, eksctl] {
                    let p = lookup(name, partition).unwrap();
                    assert_eq!(p.name, canonical);
                    assert_eq!(p.eksctl_name, Some(eksctl));
                    let managed = serde_json::to_value(&p.managed_policy_arns).unwrap();
                    assert_eq!(
                        managed,
                        want.get("managed").cloned().unwrap_or(Value::Array(vec![])),
                        "{name}"
                    );
                    let inline = Value::Array(p.statements.clone());
                    assert_eq!(
                        inline,
                        want.get("inline").cloned().unwrap_or(Value::Array(vec![])),
                        "{name}"
                    );
                }
            }
            let ipv6 = lookup("vpc-cni-ipv6", partition).unwrap();
            assert_eq!(
                Value::Array(ipv6.statements),
                substitute(&reference["vpcCniIpv6"]["inline"], partition)
            );
        }
    }

    #[test]
    fn well_known_embedded_reference_matches_shared_reference() {
        let Ok(path) = std::env::var("WELL_KNOWN_REFERENCE") else {
            eprintln!(
                "note: WELL_KNOWN_REFERENCE is not set; not comparing with the shared reference file"
            );
            return;
        };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let shared: Value = serde_json::from_str(&text).unwrap();
        let embedded = reference();
        assert_eq!(
            shared["policies"], embedded["policies"],
            "{path} differs from the embedded copy"
        );
        assert_eq!(
            shared["vpcCniIpv6"], embedded["vpcCniIpv6"],
            "{path} differs from the embedded copy"
        );
    }

    #[test]
    fn well_known_aliases_resolve() {
        for (canonical, eksctl) in EKSCTL {
            assert_eq!(
                lookup(eksctl, "aws").unwrap(),
                lookup(canonical, "aws").unwrap()
            );
            assert_eq!(check_name(eksctl), Ok(()));
            assert_eq!(check_name(canonical), Ok(()));
        }
    }

    #[test]
    fn well_known_unknown_name_lists_valid_ones() {
        let err = lookup("kyverno", "aws").unwrap_err();
        for name in names() {
            assert!(err.contains(name), "{name} missing from: {err}");
        }
        assert!(err.contains("\"kyverno\""));
        assert!(err.contains("imageBuilder"));
        assert!(!err.contains("Did you mean"));
        assert_eq!(check_name("kyverno").unwrap_err(), err);
        assert_eq!(
            combine(&owned(&["velero", "kyverno"]), "aws").unwrap_err(),
            err
        );
        for (typo, want) in [
            ("aws-fsx-lustre-csi", "fsx-lustre-csi"),
            ("AWSLoadBalancerController", "aws-load-balancer-controller"),
            ("External_DNS", "external-dns"),
        ] {
            let err = check_name(typo).unwrap_err();
            assert!(err.contains(&format!("Did you mean \"{want}\"?")), "{err}");
        }
        assert!(check_name("").is_err());
    }

    #[test]
    fn well_known_partition_substitution() {
        for partition in PARTITIONS {
            for p in all(partition).unwrap() {
                let mut all_strings = p.managed_policy_arns.clone();
                p.statements
                    .iter()
                    .for_each(|s| strings(s, &mut all_strings));
                for s in all_strings.iter().filter(|s| s.starts_with("arn:")) {
                    assert!(
                        s.starts_with(&format!("arn:{partition}:")),
                        "{}: {s}",
                        p.name
                    );
                }
                assert!(
                    all_strings
                        .iter()
                        .all(|s| !s.contains(PARTITION_PLACEHOLDER))
                );
            }
        }
        let cn = lookup("external-dns", "aws-cn").unwrap();
        assert_eq!(
            cn.statements[0]["Resource"],
            "arn:aws-cn:route53:::hostedzone/*"
        );
        let cn = lookup("vpc-cni-ipv4", "aws-cn").unwrap();
        assert_eq!(
            cn.managed_policy_arns,
            ["arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy"]
        );
        let iso = lookup("vpc-cni-ipv4", "aws-iso-b").unwrap();
        assert_eq!(
            iso.managed_policy_arns,
            ["arn:aws-iso-b:iam::aws:policy/AmazonEKS_CNI_Policy"]
        );
        for bad in [
            "",
            "azure",
            "aws:cn",
            "AWS",
            "aws-",
            "aws-iso-z",
            "${partition}",
        ] {
            assert!(lookup("velero", bad).is_err(), "{bad:?}");
            assert!(combine(&owned(&["velero"]), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn well_known_combine_dedupes_and_sorts() {
        let (managed, doc) = combine(
            &owned(&["cloudwatch-observability", "adot-collector"]),
            "aws",
        )
        .unwrap();
        assert_eq!(
            managed,
            [
                "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
                "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess",
                "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
            ]
        );
        assert_eq!(doc, None);

        let a = combine(
            &owned(&["external-dns", "cert-manager", "externalDNS"]),
            "aws",
        )
        .unwrap();
        let b = combine(&owned(&["cert-manager", "external-dns"]), "aws").unwrap();
        assert_eq!(a, b);
        let doc: Value = serde_json::from_str(a.1.as_deref().unwrap()).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        // The hostedzone/* ChangeResourceRecordSets statement is in both.
        assert_eq!(statements.len(), 3 + 2 - 1);
        assert!(a.0.is_empty());

        let (managed, doc) = combine(
            &owned(&["image-builder", "efs-csi-controller"]),
            "aws-us-gov",
        )
        .unwrap();
        assert_eq!(
            managed,
            ["arn:aws-us-gov:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"]
        );
        let efs = lookup("efs-csi-controller", "aws-us-gov").unwrap();
        assert_eq!(doc, policy_json(&efs));

        assert_eq!(combine(&[], "aws").unwrap(), (vec![], None));
    }

    #[test]
    fn well_known_combine_typical_controllers_fit() {
        let names = owned(&[
            "image-builder",
            "aws-load-balancer-controller",
            "external-dns",
            "cert-manager",
            "auto-scaler",
            "efs-csi-controller",
            "ebs-csi-controller",
        ]);
        let (_, doc) = combine(&names, "aws-us-gov").unwrap();
        let size = policy_chars(doc.as_deref().unwrap());
        eprintln!("eksctl's seven combined: {size} characters");
        assert!(size <= INLINE_POLICY_MAX_CHARS);
    }

    #[test]
    fn well_known_combine_of_every_entry_is_over_the_limit() {
        let every: Vec<String> = names().into_iter().map(String::from).collect();
        // With every scope (karpenter needs its cluster), each kind once.
        let scopes = every_scope();
        let mut statements = Vec::new();
        for e in catalogue().unwrap() {
            for s in materialize_scoped(e, "aws-us-gov", &scopes).statements {
                if !statements.contains(&s) {
                    statements.push(s);
                }
            }
        }
        let size = policy_chars(&render_document(&statements));
        eprintln!("every inline entry combined (aws-us-gov): {size} characters");
        let err = combine_scoped(&every, &scopes, "aws-us-gov").unwrap_err();
        assert!(err.contains(&size.to_string()), "{err}");
        assert!(err.contains("10240"), "{err}");
        assert!(err.contains("aws-load-balancer-controller 5287"), "{err}");
        assert!(err.contains("fewer"), "{err}");
    }

    /// Example values of every scope kind, in the `aws` partition.
    fn every_scope() -> WellKnownScopes {
        let one = |k: &str| {
            Some(
                [crate::well_known_scope::kind(k)
                    .unwrap()
                    .example
                    .to_string()]
                .into_iter()
                .collect(),
            )
        };
        WellKnownScopes {
            hosted_zone_arns: one("hosted_zone_arns"),
            autoscaler_cluster_names: one("autoscaler_cluster_names"),
            kms_key_arns: one("kms_key_arns"),
            s3_bucket_arns: one("s3_bucket_arns"),
            s3_bucket_path_arns: one("s3_bucket_path_arns"),
            ssm_parameter_arns: one("ssm_parameter_arns"),
            secrets_manager_arns: one("secrets_manager_arns"),
            sqs_queue_arns: one("sqs_queue_arns"),
            acm_pca_arns: one("acm_pca_arns"),
            prometheus_workspace_arns: one("prometheus_workspace_arns"),
            fsx_lustre_service_role_arns: one("fsx_lustre_service_role_arns"),
            target_group_arns: one("target_group_arns"),
            cluster_arns: one("cluster_arns"),
            node_role_arns: one("node_role_arns"),
        }
    }

    #[test]
    fn well_known_every_scope_kind_scopes_some_entry() {
        let taken: BTreeSet<&str> = all("aws")
            .unwrap()
            .iter()
            .flat_map(|p| p.scopes.clone())
            .collect();
        let kinds: BTreeSet<&str> = crate::well_known_scope::KINDS
            .iter()
            .map(|k| k.key)
            .collect();
        assert_eq!(taken, kinds);
    }

    #[test]
    fn well_known_scoped_entries_lose_their_wildcards() {
        let scopes = every_scope();
        // The wildcard each scope kind replaces.
        let wildcards = [
            ("hosted_zone_arns", "hostedzone/*"),
            ("kms_key_arns", ":key/*"),
            ("s3_bucket_arns", "s3:::*\""),
            ("s3_bucket_path_arns", "s3:::*/*"),
            ("ssm_parameter_arns", "parameter/*"),
            ("secrets_manager_arns", "secret:*"),
            ("sqs_queue_arns", "sqs:*:*:*"),
            ("acm_pca_arns", "certificate-authority/*"),
            ("prometheus_workspace_arns", "workspace/*"),
            ("fsx_lustre_service_role_arns", "lustre.fsx.amazonaws.com/*"),
        ];
        for name in names() {
            let e = resolve(name).unwrap();
            let scoped = materialize_scoped(e, "aws", &scopes);
            let doc = serde_json::to_string(&scoped.statements).unwrap();
            for (key, wildcard) in wildcards {
                if scoped.scopes.contains(&key) {
                    assert!(!doc.contains(wildcard), "{name} {key}: {doc}");
                }
            }
            let unscoped = materialize(e, "aws");
            assert_eq!(
                unscoped.statements,
                e.inline
                    .iter()
                    .map(|s| substitute(s, "aws"))
                    .collect::<Vec<_>>(),
                "{name}: no scope, no change"
            );
            if scoped.scopes.is_empty() {
                assert_eq!(scoped.statements, unscoped.statements, "{name}");
            } else {
                assert_ne!(scoped.statements, unscoped.statements, "{name}");
            }
        }
    }

    #[test]
    fn well_known_auto_scaler_gets_one_tag_condition_per_cluster() {
        let scopes = WellKnownScopes {
            autoscaler_cluster_names: Some(["a".to_string(), "b".to_string()].into()),
            ..Default::default()
        };
        let p = materialize_scoped(resolve("auto-scaler").unwrap(), "aws", &scopes);
        assert_eq!(p.statements.len(), 4);
        assert_eq!(
            p.statements[1]["Action"],
            serde_json::json!([
                "ec2:DescribeImages",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup"
            ])
        );
        for (s, c) in p.statements[2..].iter().zip(["a", "b"]) {
            assert_eq!(
                s["Condition"],
                serde_json::json!({"StringEquals": {format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{c}"): "owned"}})
            );
            assert_eq!(s["Resource"], "*");
        }
        let none = WellKnownScopes {
            autoscaler_cluster_names: Some(BTreeSet::new()),
            ..Default::default()
        };
        let p = materialize_scoped(resolve("auto-scaler").unwrap(), "aws", &none);
        let text = serde_json::to_string(&p.statements).unwrap();
        assert!(!text.contains("SetDesiredCapacity"), "{text}");
    }

    #[test]
    fn well_known_empty_scope_drops_the_grant_and_kms_is_added_only_when_given() {
        let scopes = WellKnownScopes {
            ssm_parameter_arns: Some(BTreeSet::new()),
            ..Default::default()
        };
        let p = materialize_scoped(resolve("external-secrets").unwrap(), "aws", &scopes);
        let text = serde_json::to_string(&p.statements).unwrap();
        assert!(!text.contains("ssm:GetParameter\""), "{text}");
        assert!(text.contains("secret:*"), "{text}");
        let ebs = lookup("ebs-csi-controller", "aws").unwrap();
        assert!(ebs.statements.is_empty());
        let keys = WellKnownScopes {
            kms_key_arns: Some(["arn:aws:kms:eu-west-1:123456789012:key/k".to_string()].into()),
            ..Default::default()
        };
        let (managed, doc) = combine_scoped(&owned(&["ebs-csi-controller"]), &keys, "aws").unwrap();
        assert_eq!(managed.len(), 1);
        let doc: Value = serde_json::from_str(doc.as_deref().unwrap()).unwrap();
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);
        for s in doc["Statement"].as_array().unwrap() {
            assert_eq!(
                s["Resource"],
                serde_json::json!(["arn:aws:kms:eu-west-1:123456789012:key/k"])
            );
        }
    }

    #[test]
    fn well_known_check_scopes_names_the_entries_that_would_take_one() {
        let scopes = WellKnownScopes {
            hosted_zone_arns: Some(["arn:aws:route53:::hostedzone/Z".to_string()].into()),
            sqs_queue_arns: Some(["arn:aws:sqs:eu-west-1:1:q".to_string()].into()),
            ..Default::default()
        };
        assert!(
            check_scopes(
                &owned(&["externalDNS", "node-termination-handler"]),
                &scopes
            )
            .is_empty()
        );
        let e = check_scopes(&owned(&["velero"]), &scopes);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].contains("hosted_zone_arns") && e[0].contains("cert-manager, external-dns"),
            "{}",
            e[0]
        );
        assert!(
            e[1].contains("sqs_queue_arns") && e[1].contains("node-termination-handler"),
            "{}",
            e[1]
        );
        let e = check_scopes(&[], &scopes);
        assert!(e[0].contains("(none)"), "{}", e[0]);
    }

    #[test]
    fn well_known_parse_rejects_bad_scope_rules() {
        let base = r#"{"policies":[{"name":"a","source":"s","inline":[{"Effect":"Allow","Action":["x:Y"],"Resource":"arn:${partition}:sqs:*:*:*"}],"scopes":[RULE]}]}"#;
        for (rule, why) in [
            (
                r#"{"scope":"nope","resource_of":[0]}"#,
                "no such scope kind",
            ),
            (r#"{"scope":"sqs_queue_arns"}"#, "changes nothing"),
            (
                r#"{"scope":"sqs_queue_arns","resource_of":[3]}"#,
                "no statement 3",
            ),
            (
                r#"{"scope":"sqs_queue_arns","add":[{"Effect":"Allow","Action":"x:Z","Resource":"*"}]}"#,
                "without Resource",
            ),
            (
                r#"{"scope":"sqs_queue_arns","split":{"statement":0,"actions":["x:Q"]}}"#,
                "split actions",
            ),
        ] {
            let err = parse_catalogue(&base.replace("RULE", rule)).unwrap_err();
            assert!(err.contains(why), "{rule}: {err}");
        }
        assert!(
            parse_catalogue(
                &base.replace("RULE", r#"{"scope":"sqs_queue_arns","resource_of":[0]}"#)
            )
            .is_ok()
        );
    }

    #[test]
    fn well_known_policy_chars_ignores_whitespace_outside_strings() {
        assert_eq!(
            policy_chars(r#"{ "a b" : [ 1 , "\" x" ] }"#),
            r#"{"a b":[1,"\" x"]}"#.len()
        );
        let p = lookup("aws-load-balancer-controller", "aws").unwrap();
        let doc = policy_json(&p).unwrap();
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&doc).unwrap()).unwrap();
        assert_eq!(policy_chars(&pretty), policy_chars(&doc));
        assert_eq!(policy_chars(&doc), doc.chars().count());
    }
}

#[cfg(test)]
mod karpenter_tests {
    //! The `karpenter` entry: Karpenter's CloudFormation template written
    //! per cluster (`cluster_arns`), its node role and queue replaceable.
    use super::*;
    use serde_json::json;

    const CLUSTER: &str = "arn:aws:eks:eu-west-1:123456789012:cluster/prod";
    const NODE_ROLE: &str = "arn:aws:iam::123456789012:role/prod-nodes";
    const QUEUE: &str = "arn:aws:sqs:eu-west-1:123456789012:prod-interruptions";

    fn set(items: &[&str]) -> Option<BTreeSet<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    fn karpenter(scopes: &WellKnownScopes) -> Result<Vec<Value>, String> {
        render("karpenter", scopes, "aws").map(|p| p.statements)
    }

    /// The statement granting `action` (the first that does).
    fn granting<'a>(statements: &'a [Value], action: &str) -> Vec<&'a Value> {
        statements
            .iter()
            .filter(|s| {
                let mut a = Vec::new();
                strings_of(&s["Action"], &mut a);
                a.iter().any(|x| x == action)
            })
            .collect()
    }

    #[test]
    fn karpenter_needs_its_cluster() {
        let err = karpenter(&WellKnownScopes::default()).unwrap_err();
        assert!(
            err.contains("well_known_policy_scopes.cluster_arns"),
            "{err}"
        );
        assert!(err.contains("data.aws_eks_cluster"), "{err}");
        let names = vec!["karpenter".to_string(), "external-dns".to_string()];
        let combined = combine_scoped(&names, &WellKnownScopes::default(), "aws").unwrap_err();
        assert_eq!(combined, err);
        assert_eq!(missing_scopes(&names, &WellKnownScopes::default()), [err]);
        let given = WellKnownScopes {
            cluster_arns: set(&[CLUSTER]),
            ..Default::default()
        };
        assert!(missing_scopes(&names, &given).is_empty());
        // An import tells managed policies apart without the scopes.
        let with_ebs = vec!["karpenter".to_string(), "ebs-csi-controller".to_string()];
        assert_eq!(
            managed_policy_arns(&with_ebs, "aws").unwrap(),
            ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
        );
        let p = lookup("karpenter", "aws").unwrap();
        assert_eq!(p.required_scopes, ["cluster_arns"]);
        assert_eq!(
            p.scopes,
            ["cluster_arns", "node_role_arns", "sqs_queue_arns"]
        );
        let mut text = Vec::new();
        p.statements
            .iter()
            .for_each(|s| strings_of(&s["Resource"], &mut text));
        assert!(
            text.iter().any(|r| r.contains("${cluster_name}")),
            "{text:?}"
        );
    }

    #[test]
    fn karpenter_is_the_template_for_one_cluster() {
        let scopes = WellKnownScopes {
            cluster_arns: set(&[CLUSTER]),
            node_role_arns: set(&[NODE_ROLE]),
            sqs_queue_arns: set(&[QUEUE]),
            ..Default::default()
        };
        let s = karpenter(&scopes).unwrap();
        // The template's eighteen statements, each once.
        assert_eq!(s.len(), 18);
        let doc = render_document(&s);
        assert!(!doc.contains("${"), "{doc}");
        assert!(!doc.contains("Sid"), "{doc}");
        let pass = granting(&s, "iam:PassRole");
        assert_eq!(pass.len(), 1);
        assert_eq!(pass[0]["Resource"], json!([NODE_ROLE]));
        assert_eq!(
            pass[0]["Condition"],
            json!({"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}})
        );
        let queue = granting(&s, "sqs:ReceiveMessage");
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0]["Resource"], json!([QUEUE]));
        assert_eq!(
            granting(&s, "eks:DescribeCluster")[0]["Resource"],
            json!(CLUSTER)
        );
        let delete = granting(&s, "ec2:TerminateInstances")[0];
        assert_eq!(
            delete["Condition"],
            json!({
                "StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/prod": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
            })
        );
        assert_eq!(
            delete["Resource"],
            json!([
                "arn:aws:ec2:eu-west-1:*:instance/*",
                "arn:aws:ec2:eu-west-1:*:launch-template/*"
            ])
        );
        let profiles = granting(&s, "iam:CreateInstanceProfile")[0];
        assert_eq!(
            profiles["Resource"],
            "arn:aws:iam::123456789012:instance-profile/*"
        );
        assert_eq!(
            profiles["Condition"]["StringEquals"],
            json!({
                "aws:RequestTag/kubernetes.io/cluster/prod": "owned",
                "aws:RequestTag/eks:eks-cluster-name": "prod",
                "aws:RequestTag/topology.kubernetes.io/region": "eu-west-1"
            })
        );
        assert_eq!(
            granting(&s, "arc-zonal-shift:GetManagedResource")[0]["Condition"],
            json!({"StringEquals": {"arc-zonal-shift:ResourceIdentifier": CLUSTER}})
        );
        let size = policy_chars(&doc);
        eprintln!("karpenter, one cluster: {size} characters");
        assert!(size <= INLINE_POLICY_MAX_CHARS);
    }

    #[test]
    fn karpenter_defaults_to_the_templates_node_role_and_queue() {
        let scopes = WellKnownScopes {
            cluster_arns: set(&[CLUSTER]),
            ..Default::default()
        };
        let s = karpenter(&scopes).unwrap();
        assert_eq!(
            granting(&s, "iam:PassRole")[0]["Resource"],
            "arn:aws:iam::123456789012:role/KarpenterNodeRole-prod"
        );
        assert_eq!(
            granting(&s, "sqs:DeleteMessage")[0]["Resource"],
            "arn:aws:sqs:eu-west-1:123456789012:prod"
        );
        let no_queue = WellKnownScopes {
            sqs_queue_arns: set(&[]),
            ..scopes
        };
        let s = karpenter(&no_queue).unwrap();
        assert!(granting(&s, "sqs:DeleteMessage").is_empty());
        assert_eq!(s.len(), 17);
    }

    #[test]
    fn karpenter_writes_cluster_statements_once_per_cluster() {
        let other = "arn:aws:eks:us-east-1:123456789012:cluster/dev";
        let scopes = WellKnownScopes {
            cluster_arns: set(&[CLUSTER, other]),
            node_role_arns: set(&[NODE_ROLE]),
            ..Default::default()
        };
        let s = karpenter(&scopes).unwrap();
        let describe = granting(&s, "eks:DescribeCluster");
        let arns: Vec<&Value> = describe.iter().map(|s| &s["Resource"]).collect();
        assert_eq!(arns, [&json!(CLUSTER), &json!(other)]);
        // Pricing and ListInstanceProfiles name no cluster: once.
        assert_eq!(granting(&s, "pricing:GetProducts").len(), 1);
        assert_eq!(granting(&s, "iam:ListInstanceProfiles").len(), 1);
        // PassRole was replaced by the node roles: the same for both.
        assert_eq!(granting(&s, "iam:PassRole").len(), 1);
        // GetInstanceProfile names only the account, the same for both:
        // once. The other fourteen name the cluster or its region: twice.
        assert_eq!(granting(&s, "iam:GetInstanceProfile").len(), 1);
        assert_eq!(s.len(), 2 + 1 + 1 + 14 * 2);
        let unique: BTreeSet<String> = s.iter().map(Value::to_string).collect();
        assert_eq!(unique.len(), s.len());
        let size = policy_chars(&render_document(&s));
        eprintln!("karpenter, two clusters: {size} characters");
        let names = ["karpenter".to_string()];
        let combined = combine_scoped(&names, &scopes, "aws");
        assert_eq!(
            combined.is_ok(),
            size <= INLINE_POLICY_MAX_CHARS,
            "{combined:?}"
        );
    }

    #[test]
    fn karpenter_in_another_partition() {
        let scopes = WellKnownScopes {
            cluster_arns: set(&["arn:aws-cn:eks:cn-north-1:123456789012:cluster/prod"]),
            ..Default::default()
        };
        let p = render("karpenter", &scopes, "aws-cn").unwrap();
        let doc = render_document(&p.statements);
        assert!(!doc.contains("arn:aws:"), "{doc}");
        assert!(
            doc.contains("arn:aws-cn:ec2:cn-north-1:*:instance/*"),
            "{doc}"
        );
        assert!(
            scopes.problems("aws")[0].contains("another partition"),
            "the plan refuses a cluster of another partition"
        );
        let bad = WellKnownScopes {
            cluster_arns: set(&["arn:aws:eks:eu-west-1:*:cluster/prod"]),
            ..Default::default()
        };
        assert!(
            bad.problems("aws")[0].contains("no wildcard"),
            "{:?}",
            bad.problems("aws")
        );
    }
}
