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

/// The trust policy of a made role: exactly the pods.eks.amazonaws.com
/// statement with sts:AssumeRole and sts:TagSession, plus the conditions asked for.
///
/// `conditions` is a user Condition block (`{"StringEquals": {...}}`);
/// `cluster_arn` (with `restrict_to_cluster`) adds aws:SourceAccount and
/// aws:SourceArn of the cluster.
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
        merge_condition(&mut cond, "ArnEquals", "aws:SourceArn", json!(arn));
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
    let restrict = cond["ArnEquals"].get("aws:SourceArn").is_some();
    if restrict {
        for (op, key) in [
            ("ArnEquals", "aws:SourceArn"),
            ("StringEquals", "aws:SourceAccount"),
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
            cond["ArnEquals"]["aws:SourceArn"],
            "arn:aws:eks:us-east-1:123456789012:cluster/c1"
        );
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
