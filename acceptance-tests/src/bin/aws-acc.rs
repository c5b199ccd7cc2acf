//! `aws-acc`: the AWS mode's tools outside the tests (scripts/test-aws.sh
//! runs them), with the same settings and signed client as the tests
//! (`acceptance_tests::aws`).
//!
//! ```text
//! aws-acc check                 the credentials' account, the cluster's status and version
//! aws-acc sweep [RUN]           delete what runs (or run RUN) left behind
//! aws-acc leftovers [RUN]       list it without deleting; exit 1 when there is any
//! aws-acc report OUT LOG...     write OUT.md and OUT.json from cargo test logs
//! ```
//!
//! What a run leaves, as the AWS provider's sweepers find it: pod identity
//! associations in `EKS_TEST_CLUSTER` whose namespace or service account
//! starts with `tf-acc-` (`tf-acc-<RUN>-` with a run ID); IAM roles tagged
//! `eks-test-run` (with the value RUN), and roles the provider made for
//! such service accounts of that cluster (its owner tag,
//! `schema::reserved_tags::OWNER_TAG`), each with its attached and inline
//! policies. Nothing else is touched.
//!
//! Errors from AWS never panic here: each is reported and counted, the
//! sweep goes on with the next object, and the exit code says whether any
//! failed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use acceptance_tests::Answer;
use acceptance_tests::aws::{self, Client, NAME_PREFIX, RUN_TAG, Settings};
use schema::reserved_tags::{OWNER_TAG, OwnerTag, parse_owner_tag};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("check") => check(),
        Some("sweep") => sweep(args.get(1).map(String::as_str), true),
        Some("leftovers") => sweep(args.get(1).map(String::as_str), false),
        Some("report") if args.len() >= 3 => report(&args[1], &args[2..]),
        _ => Err("usage: aws-acc check | sweep [RUN] | leftovers [RUN] | report OUT LOG...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aws-acc: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client() -> Result<(Settings, Client), String> {
    let settings = Settings::from_env()?;
    let client = Client::from_settings(&settings)?;
    Ok((settings, client))
}

/// An answer's body as JSON, or why not.
fn json_of(answer: &Answer, what: &str) -> Result<Value, String> {
    if !answer.ok() {
        return Err(format!("{what}: HTTP {}: {}", answer.status, answer.body));
    }
    serde_json::from_str(&answer.body).map_err(|e| format!("{what}: not JSON ({e})"))
}

/// The named cluster's DescribeCluster `cluster`.
fn describe_cluster(settings: &Settings, client: &Client) -> Result<Value, String> {
    let what = format!("DescribeCluster {}", settings.cluster);
    let answer = client.eks("GET", &format!("/clusters/{}", settings.cluster), None)?;
    Ok(json_of(&answer, &what)?["cluster"].clone())
}

// ---- check -----------------------------------------------------------------------

/// Prints `key=value` lines the script shows and puts in the report.
fn check() -> Result<(), String> {
    let (settings, client) = client()?;
    let account = client.account_id()?;
    let cluster = describe_cluster(&settings, &client)?;
    let field = |k: &str| cluster[k].as_str().unwrap_or("?").to_string();
    println!("account={account}");
    println!("region={}", settings.region);
    println!("cluster={}", settings.cluster);
    println!("cluster_status={}", field("status"));
    println!("kubernetes_version={}", field("version"));
    println!("platform_version={}", field("platformVersion"));
    println!("eks_endpoint={}", settings.endpoints.eks);
    println!("iam_endpoint={}", settings.endpoints.iam);
    if cluster["status"] != "ACTIVE" {
        return Err(format!(
            "cluster {} is {}, not ACTIVE",
            settings.cluster,
            field("status")
        ));
    }
    Ok(())
}

// ---- sweep -----------------------------------------------------------------------

/// Finds (and with `delete`, deletes) what runs left; `Err` when anything
/// failed, or (without `delete`) when anything is left.
fn sweep(run: Option<&str>, delete: bool) -> Result<(), String> {
    if let Some(run) = run
        && !aws::valid_run(run)
    {
        return Err(format!("{run:?} is not a run ID"));
    }
    let (settings, client) = client()?;
    let prefix = match run {
        Some(run) => format!("{NAME_PREFIX}{run}-"),
        None => NAME_PREFIX.to_string(),
    };
    let verb = if delete { "deleting" } else { "left" };
    let mut found = 0;
    let mut errors = Vec::new();

    for (id, namespace, sa) in leftover_associations(&settings, &client, &prefix)? {
        found += 1;
        println!(
            "{verb}: association {id} ({namespace}/{sa}) in {}",
            settings.cluster
        );
        if delete {
            let path = format!(
                "/clusters/{}/pod-identity-associations/{id}",
                settings.cluster
            );
            match client.eks("DELETE", &path, None) {
                Ok(a) if a.ok() || a.status == 404 => {}
                Ok(a) => errors.push(format!(
                    "deleting association {id}: HTTP {}: {}",
                    a.status, a.body
                )),
                Err(e) => errors.push(format!("deleting association {id}: {e}")),
            }
        }
    }
    for (role, why) in leftover_roles(&settings, &client, run, &prefix, &mut errors)? {
        found += 1;
        println!("{verb}: role {role} ({why})");
        if delete && let Err(e) = delete_role(&client, &role) {
            errors.push(format!("deleting role {role}: {e}"));
        }
    }
    println!(
        "{found} object(s) {} for {}",
        if delete { "deleted" } else { "left" },
        run.map_or("any run".to_string(), |r| format!("run {r}"))
    );
    if !errors.is_empty() {
        return Err(format!(
            "{} failure(s):\n{}",
            errors.len(),
            errors.join("\n")
        ));
    }
    if !delete && found > 0 {
        return Err(format!("{found} object(s) left"));
    }
    Ok(())
}

/// (id, namespace, service account) of the cluster's associations whose
/// namespace or service account starts with `prefix`.
fn leftover_associations(
    settings: &Settings,
    client: &Client,
    prefix: &str,
) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!(
            "/clusters/{}/pod-identity-associations?maxResults=100",
            settings.cluster
        );
        if let Some(t) = &token {
            path.push_str(&format!("&nextToken={}", encode(t)));
        }
        let page = json_of(
            &client.eks("GET", &path, None)?,
            "ListPodIdentityAssociations",
        )?;
        for a in page["associations"].as_array().into_iter().flatten() {
            let text = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            let (ns, sa) = (text("namespace"), text("serviceAccount"));
            if ns.starts_with(prefix) || sa.starts_with(prefix) {
                out.push((text("associationId"), ns, sa));
            }
        }
        token = page["nextToken"].as_str().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Roles a run left, with why each is one: the run tag, or the provider's
/// owner tag for a test's service account in the named cluster. Only
/// roles whose names the harness (`tf-acc-`) or the provider (`eks-pi-`,
/// its generated names; tests give no other) make are read, so a large
/// account costs one ListRoleTags per candidate, not per role.
fn leftover_roles(
    settings: &Settings,
    client: &Client,
    run: Option<&str>,
    prefix: &str,
    errors: &mut Vec<String>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for role in list_role_names(client)? {
        if !(role.starts_with(NAME_PREFIX) || role.starts_with("eks-pi-")) {
            continue;
        }
        let tags = match role_tags(client, &role) {
            Ok(tags) => tags,
            Err(e) => {
                errors.push(format!("reading the tags of {role}: {e}"));
                continue;
            }
        };
        if let Some(value) = tags.get(RUN_TAG)
            && run.is_none_or(|r| r == value)
        {
            out.push((role, format!("{RUN_TAG}={value}")));
            continue;
        }
        if let Some(value) = tags.get(OWNER_TAG)
            && made_for_a_test(value, &settings.cluster, prefix)
        {
            out.push((role, format!("{OWNER_TAG}={value}")));
        }
    }
    Ok(out)
}

/// Whether an owner tag value names a service account of a test (namespace
/// or name starting with `prefix`) in `cluster`.
fn made_for_a_test(value: &str, cluster: &str, prefix: &str) -> bool {
    match parse_owner_tag(value) {
        Some(OwnerTag::Plain {
            cluster: c,
            namespace,
            service_account,
        }) => {
            c == cluster && (namespace.starts_with(prefix) || service_account.starts_with(prefix))
        }
        // The readable prefix of the hashed form is `cluster/namespace/sa`, cut.
        Some(OwnerTag::Hashed {
            prefix: readable, ..
        }) => readable
            .strip_prefix(&format!("{cluster}/"))
            .is_some_and(|rest| {
                rest.starts_with(prefix)
                    || rest
                        .split_once('/')
                        .is_some_and(|(_, sa)| sa.starts_with(prefix))
            }),
        None => false,
    }
}

/// Every role name of the account (follows `Marker`).
fn list_role_names(client: &Client) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("MaxItems", "1000")];
        if let Some(m) = &marker {
            params.push(("Marker", m));
        }
        let body = iam_ok(client, "ListRoles", &params)?;
        names.extend(xml_all(&body, "RoleName"));
        marker = match xml_all(&body, "IsTruncated").first().map(String::as_str) {
            Some("true") => xml_all(&body, "Marker").into_iter().next(),
            _ => None,
        };
        if marker.is_none() {
            return Ok(names);
        }
    }
}

fn role_tags(client: &Client, role: &str) -> Result<BTreeMap<String, String>, String> {
    let body = iam_ok(
        client,
        "ListRoleTags",
        &[("RoleName", role), ("MaxItems", "100")],
    )?;
    Ok(xml_all(&body, "Key")
        .into_iter()
        .zip(xml_all(&body, "Value"))
        .collect())
}

/// Deletes a role as IAM requires: managed policies detached, inline
/// policies and instance profile memberships removed first. Gone is done.
fn delete_role(client: &Client, role: &str) -> Result<(), String> {
    let body = iam_ok(client, "ListAttachedRolePolicies", &[("RoleName", role)])?;
    for arn in xml_all(&body, "PolicyArn") {
        iam_ok(
            client,
            "DetachRolePolicy",
            &[("RoleName", role), ("PolicyArn", &arn)],
        )?;
    }
    let body = iam_ok(client, "ListRolePolicies", &[("RoleName", role)])?;
    for policy in xml_all(&body, "member") {
        iam_ok(
            client,
            "DeleteRolePolicy",
            &[("RoleName", role), ("PolicyName", &policy)],
        )?;
    }
    let body = iam_ok(client, "ListInstanceProfilesForRole", &[("RoleName", role)])?;
    for profile in xml_all(&body, "InstanceProfileName") {
        iam_ok(
            client,
            "RemoveRoleFromInstanceProfile",
            &[("RoleName", role), ("InstanceProfileName", &profile)],
        )?;
    }
    iam_ok(client, "DeleteRole", &[("RoleName", role)])?;
    Ok(())
}

/// An IAM call's body when it succeeded; NoSuchEntity (already gone) is an
/// empty body.
fn iam_ok(client: &Client, action: &str, params: &[(&str, &str)]) -> Result<String, String> {
    let answer = client.iam(action, params)?;
    if answer.body.contains("<Code>NoSuchEntity</Code>") {
        return Ok(String::new());
    }
    if !answer.ok() {
        return Err(format!(
            "IAM {action}: HTTP {}: {}",
            answer.status, answer.body
        ));
    }
    Ok(answer.body)
}

fn xml_all(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(
            after[..end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    out
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---- report ----------------------------------------------------------------------

/// One test's outcome.
struct Outcome {
    binary: String,
    name: String,
    result: &'static str,
    reason: String,
}

/// Reads cargo's `test NAME ... ok|FAILED|ignored` lines (under each
/// `Running tests/BINARY.rs` line) and the record of what ran, and writes
/// `OUT.md` and `OUT.json`. Context (versions, region, cluster) comes from
/// the environment the script sets (`REPORT_*`) and from DescribeCluster.
fn report(out: &str, logs: &[String]) -> Result<(), String> {
    let record_path = std::env::var("EKS_TEST_AWS_RECORD").unwrap_or_default();
    let record = parse_record(&std::fs::read_to_string(&record_path).unwrap_or_default());
    let mut outcomes = Vec::new();
    for log in logs {
        let text = std::fs::read_to_string(log).map_err(|e| format!("reading {log}: {e}"))?;
        outcomes.extend(parse_log(&text, &record));
    }
    let count = |r: &str| outcomes.iter().filter(|o| o.result == r).count();
    let (passed, failed, skipped) = (count("passed"), count("failed"), count("skipped"));

    let context = report_context();

    let mut md = String::from("# Acceptance tests against AWS\n\n| | |\n|---|---|\n");
    for (k, v) in &context {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    md.push_str(&format!(
        "\n**{passed} passed, {failed} failed, {skipped} skipped** (skipped tests need the local world)\n\n\
         | test | result | reason |\n|---|---|---|\n"
    ));
    let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
    sorted.sort_by_key(|o| {
        (
            o.result != "failed",
            o.result != "passed",
            o.binary.clone(),
            o.name.clone(),
        )
    });
    for o in &sorted {
        md.push_str(&format!(
            "| {}::{} | {} | {} |\n",
            o.binary, o.name, o.result, o.reason
        ));
    }
    let report = json!({
        "context": context.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
        "tests": sorted.iter().map(|o| json!({
            "binary": o.binary, "test": o.name, "result": o.result, "reason": o.reason,
        })).collect::<Vec<_>>(),
    });
    let md_path = format!("{out}.md");
    let json_path = format!("{out}.json");
    if let Some(dir) = Path::new(out).parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(&md_path, md).map_err(|e| format!("writing {md_path}: {e}"))?;
    let pretty = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, pretty).map_err(|e| format!("writing {json_path}: {e}"))?;
    println!("report: {md_path} ({passed} passed, {failed} failed, {skipped} skipped)");
    Ok(())
}

/// What the report says of the run: engine, provider, run ID and times
/// (from the script's `REPORT_*` variables), and the region, cluster and
/// endpoints as the account answers.
fn report_context() -> Vec<(String, String)> {
    let mut context: Vec<(String, String)> = Vec::new();
    for key in ["engine", "provider", "run", "started", "seconds"] {
        let var = format!("REPORT_{}", key.to_uppercase());
        context.push((
            key.into(),
            std::env::var(var).unwrap_or_else(|_| "?".into()),
        ));
    }
    match client().and_then(|(s, c)| Ok((describe_cluster(&s, &c)?, s))) {
        Ok((cluster, s)) => {
            context.push(("region".into(), s.region.clone()));
            context.push(("cluster".into(), s.cluster.clone()));
            for (k, f) in [
                ("kubernetes_version", "version"),
                ("platform_version", "platformVersion"),
            ] {
                context.push((k.into(), cluster[f].as_str().unwrap_or("?").to_string()));
            }
            let real = !s.endpoints.eks.starts_with("http://");
            context.push((
                "endpoints".into(),
                if real {
                    "AWS".into()
                } else {
                    s.endpoints.eks.clone()
                },
            ));
        }
        Err(e) => context.push(("cluster".into(), format!("unknown ({e})"))),
    }
    context
}

/// The record (`acceptance_tests::aws::record`): test → `None` when it
/// ran, `Some(reason)` when it was skipped.
fn parse_record(text: &str) -> BTreeMap<String, Option<String>> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(t), Some("ran"), _) => Some((t.to_string(), None)),
                (Some(t), Some("skipped"), r) => {
                    Some((t.to_string(), Some(r.unwrap_or_default().to_string())))
                }
                _ => None,
            }
        })
        .collect()
}

/// Why a test that cargo says passed but never reached the harness is skipped.
const NEVER_RAN: &str = "returned before reaching the harness \
     (a switch of its own is off, e.g. EKS_MODEL, TF_ACC_RELEASE)";

fn parse_log(text: &str, record: &BTreeMap<String, Option<String>>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut binary = String::from("?");
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Running ") {
            // `Running tests/association.rs (target/debug/deps/association-…)`
            binary = rest
                .split_whitespace()
                .next()
                .and_then(|p| Path::new(p).file_stem())
                .and_then(|s| s.to_str())
                .unwrap_or("?")
                .to_string();
            continue;
        }
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let (result, reason) = match (result, record.get(name)) {
            (r, _) if r.starts_with("FAILED") => ("failed", "see the log".to_string()),
            ("ok", Some(None)) => ("passed", String::new()),
            ("ok", Some(Some(reason))) => ("skipped", reason.clone()),
            ("ok", None) => ("skipped", NEVER_RAN.to_string()),
            ("ignored", _) => ("skipped", "#[ignore]".to_string()),
            _ => continue,
        };
        out.push(Outcome {
            binary: binary.clone(),
            name: name.to_string(),
            result,
            reason,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_tags_of_test_service_accounts_are_recognised() {
        assert!(made_for_a_test(
            "c/default/tf-acc-run1-x",
            "c",
            "tf-acc-run1-"
        ));
        assert!(made_for_a_test("c/tf-acc-run1-x/sa", "c", "tf-acc-"));
        assert!(!made_for_a_test(
            "c/default/tf-acc-run2-x",
            "c",
            "tf-acc-run1-"
        ));
        assert!(!made_for_a_test(
            "other/default/tf-acc-run1-x",
            "c",
            "tf-acc-"
        ));
        assert!(!made_for_a_test("c/default/app", "c", "tf-acc-"));
        let hashed = format!(
            "c/default/tf-acc-r-{}@sha256:{}",
            "x".repeat(20),
            "0".repeat(32)
        );
        assert!(made_for_a_test(&hashed, "c", "tf-acc-r-"));
    }

    #[test]
    fn the_log_gives_each_test_its_outcome_and_only_what_ran_passes() {
        let log = "     Running tests/association.rs (target/debug/deps/association-abc)\n\
                   test association_basic ... ok\n\
                   test association_in_another_region ... ok\n\
                   test association_tags ... FAILED\n\
                   test model_ownership_invariants ... ok\n";
        let record = parse_record(
            "association_basic\tran\nassociation_tags\tran\n\
             association_in_another_region\tskipped\tregions\n",
        );
        let outcomes = parse_log(log, &record);
        let got: Vec<(&str, &str, &str)> = outcomes
            .iter()
            .map(|o| (o.binary.as_str(), o.name.as_str(), o.result))
            .collect();
        assert_eq!(
            got,
            vec![
                ("association", "association_basic", "passed"),
                ("association", "association_in_another_region", "skipped"),
                ("association", "association_tags", "failed"),
                ("association", "model_ownership_invariants", "skipped"),
            ]
        );
    }
}
