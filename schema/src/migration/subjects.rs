//! Which of an addon's service accounts its IRSA role's trust allowed (as
//! eksctl reads the `sub` condition, `StringLike` globs included): only
//! those get the role through pod identity.
//!
//! Owns: matching `system:serviceaccount:ns:sa` subjects. Does not own:
//! the trust policy rewrites (`super::trust`).

use super::trust::{allows, statements, strings};
use serde_json::Value;

/// Which of an addon's service accounts its IRSA role's trust allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedAccounts {
    /// Service accounts that get the role through pod identity.
    pub allowed: Vec<String>,
    /// Service accounts that do not (reported as skipped).
    pub refused: Vec<String>,
    /// The subjects the trust names (`system:serviceaccount:ns:sa`
    /// patterns), for messages; empty when it names none.
    pub named: Vec<String>,
    /// Whether the trust has any web-identity statement for this cluster's
    /// OIDC provider at all.
    pub trusts_cluster: bool,
}

const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
const SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// The `sub` patterns of a web-identity statement, with whether they are
/// globs (`StringLike`); `None` when the statement has no `sub` condition.
fn sub_patterns(stmt: &Value, host: Option<&str>) -> Option<Vec<(String, bool)>> {
    let cond = stmt.get("Condition")?.as_object()?;
    let mut out = Vec::new();
    let mut found = false;
    for (op, keys) in cond {
        let glob = match op.as_str() {
            "StringEquals" => false,
            "StringLike" => true,
            _ => continue,
        };
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for (key, values) in keys {
            let key_lc = key.to_ascii_lowercase();
            let is_sub = match host {
                Some(h) => key_lc == format!("{}:sub", h.to_ascii_lowercase()),
                None => key_lc.ends_with(":sub"),
            };
            if is_sub {
                found = true;
                out.extend(strings(values).into_iter().map(|v| (v.to_string(), glob)));
            }
        }
    }
    found.then_some(out)
}

/// IAM's `StringLike` match: `*` any run of characters, `?` one character.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn subject_allows(pattern: &str, glob: bool, namespace: Option<&str>, sa: &str) -> bool {
    match namespace {
        Some(ns) => {
            let subject = format!("{SUBJECT_PREFIX}{ns}:{sa}");
            if glob {
                glob_match(pattern, &subject)
            } else {
                pattern == subject
            }
        }
        // Namespace unknown: the service account part of the subject only.
        None => {
            let Some(rest) = pattern.strip_prefix(SUBJECT_PREFIX) else {
                return glob && glob_match(pattern, &format!("{SUBJECT_PREFIX}x:{sa}"));
            };
            let Some((_, name)) = rest.rsplit_once(':') else {
                return false;
            };
            if glob {
                glob_match(name, sa)
            } else {
                name == sa
            }
        }
    }
}

/// Which of `service_accounts` (an addon's, in `namespace`) the IRSA trust
/// `trust` allowed, read as eksctl reads it: the statements that allow
/// `sts:AssumeRoleWithWebIdentity` to this cluster's OIDC provider
/// (`oidc_provider_arn`; any OIDC provider when unknown), and their
/// `<issuer>:sub` condition under `StringEquals` (exact) or `StringLike`
/// (with `*` and `?`), such as `system:serviceaccount:kube-system:efs-csi-controller-sa`.
///
/// A service account is allowed when a named subject matches it; none is
/// when no statement trusts this cluster's provider. When the trust names
/// no subject at all (no `sub` condition), the role cannot be
/// tied to one service account: an addon with a single service account
/// gets it (as eksctl does), one with several gets none (each is refused,
/// to be given a role explicitly). `namespace` unknown (`None`) matches the
/// service account's name in any namespace.
pub fn trusted_service_accounts(
    trust: &Value,
    oidc_provider_arn: Option<&str>,
    namespace: Option<&str>,
    service_accounts: &[String],
) -> TrustedAccounts {
    let host = oidc_provider_arn.and_then(|a| a.split_once("oidc-provider/").map(|(_, h)| h));
    let mut patterns: Vec<(String, bool)> = Vec::new();
    let mut trusts_cluster = false;
    for stmt in statements(trust) {
        let federated = stmt
            .get("Principal")
            .and_then(|p| p.get("Federated"))
            .is_some_and(|f| match oidc_provider_arn {
                Some(arn) => strings(f).contains(&arn),
                None => strings(f).iter().any(|x| x.contains(":oidc-provider/")),
            });
        if !federated || !allows(stmt, WEB_IDENTITY) {
            continue;
        }
        trusts_cluster = true;
        if let Some(p) = sub_patterns(stmt, host) {
            patterns.extend(p);
        }
    }
    let mut out = TrustedAccounts {
        named: patterns.iter().map(|(p, _)| p.clone()).collect(),
        trusts_cluster,
        ..Default::default()
    };
    out.named.sort();
    out.named.dedup();
    for sa in service_accounts {
        let ok = if !trusts_cluster {
            false
        } else if patterns.is_empty() {
            service_accounts.len() == 1
        } else {
            patterns
                .iter()
                .any(|(p, glob)| subject_allows(p, *glob, namespace, sa))
        };
        if ok {
            out.allowed.push(sa.clone());
        } else {
            out.refused.push(sa.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_globs() {
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*", ""));
        assert!(glob_match(
            "system:serviceaccount:*:x",
            "system:serviceaccount:ns:x"
        ));
        assert!(!glob_match(
            "system:serviceaccount:*:x",
            "system:serviceaccount:ns:y"
        ));
    }
}
