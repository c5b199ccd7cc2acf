//! The trust policy of a made role: the pods.eks.amazonaws.com statement,
//! the user's extra conditions and the restriction to one cluster, and the
//! reverse (a found trust policy back into those attributes, for import).
//!
//! Owns: building, checking and splitting trust policies. Does not own:
//! comparing policy documents (`crate::policy`).

use crate::policy;
use serde_json::{Value, json};

/// The service principal a pod identity role must trust.
pub const PODS_PRINCIPAL: &str = "pods.eks.amazonaws.com";

/// The session tag that carries the cluster's ARN, set by EKS Pod Identity
/// when it assumes the role with session tags on (EKS User Guide,
/// pod-id-abac "List of session tags added by EKS Pod Identity";
/// emulator/FACTS.md F12).
pub const CLUSTER_ARN_TAG_KEY: &str = "aws:RequestTag/eks-cluster-arn";

/// The trust policy of a made role: exactly the pods.eks.amazonaws.com
/// statement with sts:AssumeRole and sts:TagSession, plus the conditions asked for.
///
/// `conditions` is a user Condition block (`{"StringEquals": {...}}`);
/// `cluster_arn` (with `restrict_to_cluster`) adds the documented
/// conditions that hold only for pods of that cluster: `aws:SourceAccount`
/// (the cluster's account; EKS best-practices guide) and the
/// `eks-cluster-arn` session tag (issue 27: it replaces `aws:SourceArn` =
/// the cluster ARN, which no AWS source says EKS sends; public trust
/// policies use the association ARN there, so the cluster ARN would never
/// match and lock the workload out).
pub fn trust_policy(conditions: Option<&Value>, cluster_arn: Option<&str>) -> Value {
    let mut cond = conditions.cloned().unwrap_or_else(|| json!({}));
    if let Some(arn) = cluster_arn {
        let account = arn.split(':').nth(4).unwrap_or_default().to_string();
        merge_condition(
            &mut cond,
            "StringEquals",
            "aws:SourceAccount",
            json!(account),
        );
        merge_condition(&mut cond, "StringEquals", CLUSTER_ARN_TAG_KEY, json!(arn));
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": PODS_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    });
    if cond.as_object().is_some_and(|o| !o.is_empty()) {
        statement["Condition"] = cond;
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

fn merge_condition(cond: &mut Value, operator: &str, key: &str, value: Value) {
    if !cond.is_object() {
        *cond = json!({});
    }
    let op = &mut cond[operator];
    if !op.is_object() {
        *op = json!({});
    }
    op[key] = value;
}

/// Checks `trust_conditions`: a JSON object of condition operators, each an
/// object of condition keys.
pub fn check_trust_conditions(text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("trust_conditions is not valid JSON: {e}."))?;
    let ok = v
        .as_object()
        .is_some_and(|ops| ops.values().all(|keys| keys.is_object()));
    if ok {
        Ok(())
    } else {
        Err("trust_conditions must be an IAM Condition block: a JSON object such as {\"StringEquals\": {\"aws:RequestTag/team\": \"payments\"}}.".into())
    }
}

/// Splits a made role's trust policy back into `trust_conditions` (JSON, or
/// `None` when there are none) and `restrict_to_cluster`, for import.
pub fn split_trust(trust_policy: &str) -> (Option<String>, bool) {
    let Ok(doc) = policy::parse_iam(trust_policy) else {
        return (None, false);
    };
    let statement = match &doc["Statement"] {
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    let mut cond = statement
        .get("Condition")
        .cloned()
        .unwrap_or_else(|| json!({}));
    // The restriction as written now (the session tag), or by a version
    // before issue 27 (`aws:SourceArn`): read as `restrict_to_cluster`, so
    // a role of that version shows a trust to repair, not a new setting.
    let restrict = (cond["StringEquals"].get(CLUSTER_ARN_TAG_KEY).is_some()
        && cond["StringEquals"].get("aws:SourceAccount").is_some())
        || cond["ArnEquals"].get("aws:SourceArn").is_some();
    if restrict {
        for (op, key) in [
            ("ArnEquals", "aws:SourceArn"),
            ("StringEquals", "aws:SourceAccount"),
            ("StringEquals", CLUSTER_ARN_TAG_KEY),
        ] {
            if let Some(m) = cond.get_mut(op).and_then(Value::as_object_mut) {
                m.remove(key);
            }
        }
    }
    if let Some(ops) = cond.as_object_mut() {
        ops.retain(|_, keys| keys.as_object().is_some_and(|k| !k.is_empty()));
    }
    let rest = cond
        .as_object()
        .is_some_and(|o| !o.is_empty())
        .then(|| cond.to_string());
    (rest, restrict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policy_is_exactly_the_pods_statement() {
        let t = trust_policy(None, None);
        assert_eq!(
            t,
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]})
        );
    }

    #[test]
    fn restrict_to_cluster_adds_source_conditions() {
        let user = json!({"StringEquals": {"aws:RequestTag/team": "a"}});
        let t = trust_policy(
            Some(&user),
            Some("arn:aws:eks:us-east-1:123456789012:cluster/c1"),
        );
        let cond = &t["Statement"][0]["Condition"];
        assert_eq!(cond["StringEquals"]["aws:SourceAccount"], "123456789012");
        assert_eq!(cond["StringEquals"]["aws:RequestTag/team"], "a");
        assert_eq!(
            cond["StringEquals"]["aws:RequestTag/eks-cluster-arn"],
            "arn:aws:eks:us-east-1:123456789012:cluster/c1"
        );
        // Never aws:SourceArn = the cluster ARN (issue 27): no source says
        // EKS sends it, and the association ARN public policies use there
        // would never match it.
        assert!(cond.get("ArnEquals").is_none(), "{cond}");
    }

    #[test]
    fn a_restriction_written_before_is_read_as_restrict_to_cluster() {
        let old = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnEquals": {"aws:SourceArn": "arn:aws:eks:us-east-1:123456789012:cluster/c1"}
            }
        }]});
        assert_eq!(split_trust(&old.to_string()), (None, true));
        // ...and differs from the trust wanted now, so it is rewritten.
        let now = trust_policy(None, Some("arn:aws:eks:us-east-1:123456789012:cluster/c1"));
        assert_ne!(now, old);
    }

    #[test]
    fn split_trust_inverts_trust_policy() {
        let user = json!({"StringEquals": {"aws:RequestTag/team": "a"}});
        let t = trust_policy(
            Some(&user),
            Some("arn:aws:eks:us-east-1:123456789012:cluster/c1"),
        )
        .to_string();
        let (rest, restrict) = split_trust(&t);
        assert!(restrict);
        assert_eq!(
            rest.map(|r| serde_json::from_str::<Value>(&r).ok()),
            Some(Some(user))
        );
        assert_eq!(
            split_trust(&trust_policy(None, None).to_string()),
            (None, false)
        );
        let (_, restrict) = split_trust(
            &trust_policy(None, Some("arn:aws:eks:us-east-1:123456789012:cluster/c1")).to_string(),
        );
        assert!(restrict);
    }
}
