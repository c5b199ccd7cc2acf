//! The trust policy rewrites of a migration: add the
//! `pods.eks.amazonaws.com` statement only when absent; remove only the
//! statements federated to this cluster's OIDC provider; everything else
//! kept as it is.
//!
//! Owns: reading and rewriting trust policy documents (statements,
//! principals, actions) and the OIDC provider ARN of an issuer. Does not
//! own: undoing the rewrites (`super::rollback`).

use serde_json::{Value, json};

/// The service principal of EKS Pod Identity.
pub const POD_IDENTITY_PRINCIPAL: &str = "pods.eks.amazonaws.com";
/// Sid of the statement the migration adds.
pub const POD_IDENTITY_SID: &str = "EksPodIdentity";

pub(super) fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

pub(super) fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => vec![],
    }
}

pub(super) fn allows(stmt: &Value, action: &str) -> bool {
    stmt.get("Effect").and_then(Value::as_str) == Some("Allow")
        && stmt.get("Action").is_some_and(|a| {
            strings(a)
                .iter()
                .any(|x| x.eq_ignore_ascii_case(action) || *x == "sts:*" || *x == "*")
        })
}

fn trusts_pod_identity(stmt: &Value) -> bool {
    stmt.get("Principal")
        .and_then(|p| p.get("Service"))
        .is_some_and(|s| strings(s).contains(&POD_IDENTITY_PRINCIPAL))
}

/// True when a statement already lets EKS Pod Identity assume the role with
/// session tags (`sts:AssumeRole` and `sts:TagSession`), however written.
pub fn has_pod_identity_trust(doc: &Value) -> bool {
    let stmts: Vec<&Value> = statements(doc)
        .into_iter()
        .filter(|s| trusts_pod_identity(s) && s.get("Condition").is_none())
        .collect();
    stmts.iter().any(|s| allows(s, "sts:AssumeRole"))
        && stmts.iter().any(|s| allows(s, "sts:TagSession"))
}

/// The statement the migration adds.
pub fn pod_identity_statement() -> Value {
    json!({
        "Sid": POD_IDENTITY_SID,
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"]
    })
}

/// The document with the pod identity statement added, or `None` when it
/// already has one (so re-running never duplicates it). Every other member
/// and statement is kept as it is.
pub fn add_pod_identity_trust(doc: &Value) -> Option<Value> {
    if has_pod_identity_trust(doc) {
        return None;
    }
    let mut out = doc.clone();
    let obj = out.as_object_mut()?;
    obj.entry("Version")
        .or_insert_with(|| Value::String("2012-10-17".into()));
    let new = pod_identity_statement();
    match obj.get_mut("Statement") {
        Some(Value::Array(items)) => items.push(new),
        Some(single @ Value::Object(_)) => {
            let first = single.take();
            *single = Value::Array(vec![first, new]);
        }
        _ => {
            obj.insert("Statement".into(), Value::Array(vec![new]));
        }
    }
    Some(out)
}

/// True when the statement trusts `provider_arn` (alone or among others).
pub fn is_federated_to(stmt: &Value, provider_arn: &str) -> bool {
    stmt.get("Principal")
        .and_then(|p| p.get("Federated"))
        .is_some_and(|f| strings(f).contains(&provider_arn))
}

/// True when the document has a statement federated to `provider_arn`.
pub fn has_oidc_trust(doc: &Value, provider_arn: &str) -> bool {
    statements(doc)
        .iter()
        .any(|s| is_federated_to(s, provider_arn))
}

/// The document without the trust of `provider_arn`, or `None` when there
/// is none. A statement federated to this provider alone is removed; one
/// that lists several providers keeps the others. Statements for other
/// clusters, services and accounts stay, and so does every other member.
pub fn remove_oidc_trust(doc: &Value, provider_arn: &str) -> Option<Value> {
    if !has_oidc_trust(doc, provider_arn) {
        return None;
    }
    let mut out = doc.clone();
    let obj = out.as_object_mut()?;
    let list: Vec<Value> = match obj.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => vec![],
    };
    let mut kept = Vec::new();
    for mut stmt in list {
        if !is_federated_to(&stmt, provider_arn) {
            kept.push(stmt);
            continue;
        }
        let Some(Value::Array(providers)) = stmt.pointer_mut("/Principal/Federated") else {
            continue; // federated to this provider alone: dropped
        };
        providers.retain(|p| p.as_str() != Some(provider_arn));
        if !providers.is_empty() {
            kept.push(stmt);
        }
    }
    obj.insert("Statement".into(), Value::Array(kept));
    Some(out)
}

/// The OIDC provider ARN of a cluster's issuer URL.
pub fn oidc_provider_arn(partition: &str, account: &str, issuer: &str) -> String {
    let host_path = issuer
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    format!("arn:{partition}:iam::{account}:oidc-provider/{host_path}")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn pod_identity_statement_is_added_once() {
        let doc = json!({"Version": "2012-10-17", "Statement": [irsa(PROVIDER, "system:serviceaccount:a:b")]});
        let once = add_pod_identity_trust(&doc).unwrap();
        assert_eq!(once["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(once["Statement"][0], doc["Statement"][0]);
        assert!(add_pod_identity_trust(&once).is_none());
    }

    #[test]
    fn odd_shapes_are_kept() {
        // A single statement object, string principal, array conditions, Sids.
        let doc = json!({"Version": "2012-10-17", "Id": "keep-me", "Statement": {
            "Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com", "AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:PrincipalTag/team": ["a", "b"]}}}});
        let out = add_pod_identity_trust(&doc).unwrap();
        assert_eq!(out["Id"], "keep-me");
        assert_eq!(out["Statement"][0], doc["Statement"]);
        assert_eq!(out["Statement"][1]["Sid"], POD_IDENTITY_SID);
        let star = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com", "x"]}, "Action": "sts:*"}]});
        assert!(add_pod_identity_trust(&star).is_none());
        // AssumeRole without TagSession is not enough for pod identity.
        let partial = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(add_pod_identity_trust(&partial).is_some());
    }

    #[test]
    fn only_this_clusters_oidc_trust_is_removed() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            irsa(PROVIDER, "system:serviceaccount:a:b"),
            irsa(OTHER, "system:serviceaccount:a:b"),
            {"Effect": "Allow", "Principal": {"Federated": [PROVIDER, OTHER]}, "Action": "sts:AssumeRoleWithWebIdentity"},
            pod_identity_statement(),
        ]});
        let out = remove_oidc_trust(&doc, PROVIDER).unwrap();
        let stmts = out["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[0], irsa(OTHER, "system:serviceaccount:a:b"));
        assert_eq!(stmts[1]["Principal"]["Federated"], json!([OTHER]));
        assert!(!has_oidc_trust(&out, PROVIDER));
        assert!(has_oidc_trust(&out, OTHER));
        assert!(remove_oidc_trust(&out, PROVIDER).is_none());
    }

    #[test]
    fn provider_arn_from_issuer() {
        assert_eq!(
            oidc_provider_arn(
                "aws",
                "123456789012",
                "https://oidc.eks.us-east-1.amazonaws.com/id/AAA"
            ),
            PROVIDER
        );
    }
}
