//! Provider-defined functions (`provider::eks::<name>(...)`, Terraform ≥ 1.8,
//! OpenTofu ≥ 1.7): their names, signatures' documentation and pure logic.
//!
//! Owns: [`pod_identity_trust_policy`], [`role_name`] and
//! [`well_known_policy`] — what each function computes, with no I/O, so
//! that a user who builds roles with `aws_iam_role` gets exactly the
//! documents and names this provider would make. Does not own: the protocol
//! glue (the provider crate's `functions` module).
//!
//! The trust document offers only conditions AWS documents for EKS Pod
//! Identity: `aws:SourceAccount` and `aws:SourceOrgId` (global condition
//! keys for a service principal), and the session tags EKS Pod Identity
//! attaches (`eks-cluster-arn`, `kubernetes-namespace`,
//! `kubernetes-service-account`, checked as `aws:RequestTag/<tag>` on the
//! `sts:TagSession` the agent makes; EKS User Guide, pod-id-abac). No
//! `aws:SourceArn` value for `pods.eks.amazonaws.com` is documented
//! (emulator/FACTS.md F12), so none is offered.

use crate::role::{PODS_PRINCIPAL, RoleLocation, scoped_role_name};
use crate::well_known;
use serde_json::{Map, Value, json};

/// Names of the functions, as called after `provider::eks::`.
pub const FUNCTION_NAMES: [&str; 3] = [
    TRUST_POLICY_FUNCTION,
    ROLE_NAME_FUNCTION,
    WELL_KNOWN_POLICY_FUNCTION,
];
/// `provider::eks::pod_identity_trust_policy(options)`.
pub const TRUST_POLICY_FUNCTION: &str = "pod_identity_trust_policy";
/// `provider::eks::role_name(cluster_arn, namespace, service_account)`.
pub const ROLE_NAME_FUNCTION: &str = "role_name";
/// `provider::eks::well_known_policy(name, [scopes], [partition])`.
pub const WELL_KNOWN_POLICY_FUNCTION: &str = "well_known_policy";

/// Each function's signature and one-line summary, for the docs (the
/// provider crate's definitions carry the same parameters and types).
pub const SIGNATURES: [(&str, &str, &str); 3] = [
    (
        TRUST_POLICY_FUNCTION,
        "pod_identity_trust_policy(options map(string)) string",
        "The trust policy document an EKS Pod Identity role needs, with only documented conditions.",
    ),
    (
        ROLE_NAME_FUNCTION,
        "role_name(cluster_arn string, namespace string, service_account string) string",
        "The name this provider gives the role it makes for a service account.",
    ),
    (
        WELL_KNOWN_POLICY_FUNCTION,
        "well_known_policy(name string, options dynamic...) object({policy_json = string, managed_policy_arns = list(string)})",
        "A well-known IAM policy: its inline document and managed policy ARNs, scoped to your resources, for a partition.",
    ),
];

/// The options `pod_identity_trust_policy` understands (all optional).
pub const TRUST_OPTIONS: [(&str, &str); 5] = [
    (
        "source_account",
        "12-digit account ID: `aws:SourceAccount` must equal it.",
    ),
    (
        "source_org_id",
        "AWS Organizations ID (`o-...`): `aws:SourceOrgId` must equal it.",
    ),
    (
        "cluster_arn",
        "Only pods of this cluster: the `eks-cluster-arn` session tag must equal it (requires session tags, the default).",
    ),
    (
        "namespace",
        "Only pods in this namespace: the `kubernetes-namespace` session tag must equal it.",
    ),
    (
        "service_account",
        "Only pods of this service account: the `kubernetes-service-account` session tag must equal it.",
    ),
];

/// The trust policy document EKS Pod Identity needs: `pods.eks.amazonaws.com`
/// may `sts:AssumeRole` and `sts:TagSession`, with the conditions `options`
/// asks for (a map of [`TRUST_OPTIONS`] keys; null for none). Errors name
/// the bad option.
pub fn pod_identity_trust_policy(options: &Map<String, Value>) -> Result<String, String> {
    let known: Vec<&str> = TRUST_OPTIONS.iter().map(|(k, _)| *k).collect();
    let mut equals = Map::new();
    for (key, value) in options {
        if !known.contains(&key.as_str()) {
            return Err(format!(
                "unknown option {key:?}; the options are {}",
                known.join(", ")
            ));
        }
        let Some(text) = value.as_str() else {
            if value.is_null() {
                continue;
            }
            return Err(format!("option {key:?} must be a string"));
        };
        check_option(key, text)?;
        let condition_key = match key.as_str() {
            "source_account" => "aws:SourceAccount",
            "source_org_id" => "aws:SourceOrgId",
            "cluster_arn" => "aws:RequestTag/eks-cluster-arn",
            "namespace" => "aws:RequestTag/kubernetes-namespace",
            _ => "aws:RequestTag/kubernetes-service-account",
        };
        equals.insert(condition_key.to_string(), json!(text));
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": PODS_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    });
    if !equals.is_empty() {
        statement["Condition"] = json!({ "StringEquals": equals });
    }
    let doc = json!({"Version": "2012-10-17", "Statement": [statement]});
    Ok(doc.to_string())
}

fn check_option(key: &str, text: &str) -> Result<(), String> {
    let ok = match key {
        "source_account" => text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()),
        "source_org_id" => {
            text.starts_with("o-")
                && (12..=34).contains(&text.len())
                && text[2..].bytes().all(|b| b.is_ascii_alphanumeric())
        }
        "cluster_arn" => RoleLocation::from_cluster_arn(text).is_some(),
        _ => !text.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        let want = match key {
            "source_account" => "a 12-digit account ID",
            "source_org_id" => "an Organizations ID such as o-a1b2c3d4e5",
            "cluster_arn" => {
                "an EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>)"
            }
            _ => "a non-empty name",
        };
        Err(format!("option {key:?} is {text:?}; it must be {want}"))
    }
}

/// The name this provider gives the role it makes for a service account
/// when `role_name` is left out, for the cluster `cluster_arn` (the name
/// depends on the partition, account and region, which the ARN carries, so
/// that two regions never share a role).
pub fn role_name(
    cluster_arn: &str,
    namespace: &str,
    service_account: &str,
) -> Result<String, String> {
    let location = RoleLocation::from_cluster_arn(cluster_arn).ok_or_else(|| {
        format!(
            "{cluster_arn:?} is not an EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>)"
        )
    })?;
    let cluster = cluster_arn.rsplit('/').next().unwrap_or_default();
    crate::names::check_dns1123_label(namespace).map_err(|e| format!("namespace: {e}"))?;
    crate::names::check_dns1123_subdomain(service_account)
        .map_err(|e| format!("service_account: {e}"))?;
    Ok(scoped_role_name(
        &location,
        cluster,
        namespace,
        service_account,
    ))
}

/// The argument of `well_known_policy` an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnownArg {
    /// The name.
    Name,
    /// The scopes object.
    Scopes,
    /// The partition.
    Partition,
}

/// A well-known policy with `scopes` (an object of
/// `well_known_policy_scopes` keys, each a list of strings; null or absent
/// for none) applied, for `partition`: when not given, the partition of
/// the scopes' ARNs, else `aws`. Returns the inline document (null when
/// the entry is managed policies only) and the managed policy ARNs. The
/// scopes are checked as on a made role at plan: known keys, values of the
/// right service, resource type and partition, keys the entry takes, and
/// the keys it needs (`karpenter`'s `cluster_arns`).
pub fn well_known_policy(
    name: &str,
    scopes: Option<&Map<String, Value>>,
    partition: Option<&str>,
) -> Result<(Option<String>, Vec<String>), (WellKnownArg, String)> {
    use WellKnownArg as A;
    let scopes = match scopes {
        Some(m) => scopes_of(m).map_err(|e| (A::Scopes, e))?,
        None => well_known::WellKnownScopes::default(),
    };
    let partition = match partition {
        Some(p) => p.to_string(),
        None => scopes
            .entries()
            .into_iter()
            .flat_map(|(_, v)| v.into_iter().flatten())
            .find_map(|v| crate::role::arn_partition(v))
            .unwrap_or("aws")
            .to_string(),
    };
    well_known::check_partition(&partition).map_err(|e| (A::Partition, e))?;
    well_known::check_name(name).map_err(|e| (A::Name, e))?;
    let names = [name.to_string()];
    let mut problems = scopes.problems(&partition);
    problems.extend(well_known::check_scopes(&names, &scopes));
    problems.extend(well_known::missing_scopes(&names, &scopes));
    if !problems.is_empty() {
        return Err((A::Scopes, problems.join(" ")));
    }
    let p = well_known::render(name, &scopes, &partition).map_err(|e| (A::Scopes, e))?;
    Ok((well_known::policy_json(&p), p.managed_policy_arns.clone()))
}

/// The scopes of an object written in HCL: every key a scope kind, every
/// value a list of strings or null (not given).
fn scopes_of(m: &Map<String, Value>) -> Result<well_known::WellKnownScopes, String> {
    let attr = crate::well_known_scope::ATTR;
    let mut given = Map::new();
    for (key, value) in m {
        if crate::well_known_scope::kind(key).is_none() {
            let keys: Vec<&str> = crate::well_known_scope::KINDS
                .iter()
                .map(|k| k.key)
                .collect();
            return Err(format!(
                "{key:?} is not a scope; the keys of {attr} are {}.",
                keys.join(", ")
            ));
        }
        match value {
            Value::Null => {}
            Value::Array(items) if items.iter().all(Value::is_string) => {
                given.insert(key.clone(), value.clone());
            }
            _ => return Err(format!("{attr}.{key} must be a list of strings.")),
        }
    }
    serde_json::from_value(Value::Object(given)).map_err(|e| format!("{attr}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn trust_policy_without_options_is_the_plain_statement() {
        let doc: Value =
            serde_json::from_str(&pod_identity_trust_policy(&Map::new()).unwrap()).unwrap();
        assert_eq!(
            doc,
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]
            }]})
        );
    }

    #[test]
    fn trust_policy_conditions_are_documented_keys_only() {
        let doc: Value = serde_json::from_str(
            &pod_identity_trust_policy(&opts(json!({
                "source_account": "123456789012",
                "cluster_arn": "arn:aws:eks:us-west-2:123456789012:cluster/prod",
                "namespace": "payments",
                "service_account": null,
            })))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            doc["Statement"][0]["Condition"],
            json!({"StringEquals": {
                "aws:SourceAccount": "123456789012",
                "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:us-west-2:123456789012:cluster/prod",
                "aws:RequestTag/kubernetes-namespace": "payments",
            }})
        );
        assert!(!doc.to_string().contains("SourceArn"));
    }

    #[test]
    fn trust_policy_errors_name_the_option() {
        let e = pod_identity_trust_policy(&opts(json!({"source_acount": "1"}))).unwrap_err();
        assert!(
            e.contains("source_acount") && e.contains("source_account"),
            "{e}"
        );
        let e = pod_identity_trust_policy(&opts(json!({"source_account": "12"}))).unwrap_err();
        assert!(e.contains("12-digit"), "{e}");
        let e = pod_identity_trust_policy(&opts(json!({"cluster_arn": "prod"}))).unwrap_err();
        assert!(e.contains("cluster ARN"), "{e}");
        assert!(pod_identity_trust_policy(&opts(json!({"source_org_id": "o-a1b2c3d4e5"}))).is_ok());
    }

    #[test]
    fn role_name_matches_the_provider_and_differs_per_region() {
        let west = role_name(
            "arn:aws:eks:us-west-2:123456789012:cluster/prod",
            "default",
            "api",
        )
        .unwrap();
        let east = role_name(
            "arn:aws:eks:us-east-1:123456789012:cluster/prod",
            "default",
            "api",
        )
        .unwrap();
        assert_ne!(west, east);
        assert!(west.starts_with("eks-pi-prod-default-api"), "{west}");
        assert!(west.len() <= 64);
        let loc = RoleLocation::from_cluster_arn("arn:aws:eks:us-west-2:123456789012:cluster/prod")
            .unwrap();
        assert_eq!(west, scoped_role_name(&loc, "prod", "default", "api"));
        assert!(
            role_name("prod", "default", "api")
                .unwrap_err()
                .contains("cluster ARN")
        );
        assert!(
            role_name(
                "arn:aws:eks:us-west-2:123456789012:cluster/prod",
                "Bad_NS",
                "api"
            )
            .unwrap_err()
            .starts_with("namespace")
        );
    }

    #[test]
    fn well_known_policy_per_partition() {
        let (doc, managed) = well_known_policy("external-dns", None, None).unwrap();
        assert!(doc.unwrap_or_default().contains("route53"));
        assert!(managed.is_empty());
        let (_, managed) = well_known_policy("ebs-csi-controller", None, Some("aws-cn")).unwrap();
        assert!(
            managed.iter().all(|a| a.starts_with("arn:aws-cn:")),
            "{managed:?}"
        );
        let err = |r: Result<_, (WellKnownArg, String)>| r.map(|_| ()).unwrap_err().0;
        assert_eq!(
            err(well_known_policy("nope", None, None)),
            WellKnownArg::Name
        );
        assert_eq!(
            err(well_known_policy("external-dns", None, Some("mars"))),
            WellKnownArg::Partition
        );
    }

    #[test]
    fn well_known_policy_scoped_takes_the_partition_of_its_arns() {
        let scopes = opts(json!({
            "cluster_arns": ["arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/prod"],
            "node_role_arns": ["arn:aws-us-gov:iam::123456789012:role/nodes"],
            "sqs_queue_arns": null,
        }));
        let (doc, managed) = well_known_policy("karpenter", Some(&scopes), None).unwrap();
        let doc = doc.unwrap_or_default();
        assert!(managed.is_empty());
        assert!(
            doc.contains("arn:aws-us-gov:iam::123456789012:role/nodes"),
            "{doc}"
        );
        assert!(
            doc.contains("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:prod"),
            "{doc}"
        );
        assert!(!doc.contains("arn:aws:"), "{doc}");
        let (e_arg, e) = well_known_policy("karpenter", Some(&scopes), Some("aws")).unwrap_err();
        assert_eq!(e_arg, WellKnownArg::Scopes);
        assert!(e.contains("another partition"), "{e}");
        let (_, e) = well_known_policy("karpenter", None, None).unwrap_err();
        assert!(e.contains("cluster_arns"), "{e}");
        let (_, e) = well_known_policy("karpenter", Some(&opts(json!({"clusters": ["x"]}))), None)
            .unwrap_err();
        assert!(
            e.contains("\"clusters\" is not a scope") && e.contains("cluster_arns"),
            "{e}"
        );
        let (_, e) = well_known_policy(
            "velero",
            Some(&opts(
                json!({"hosted_zone_arns": ["arn:aws:route53:::hostedzone/Z"]}),
            )),
            None,
        )
        .unwrap_err();
        assert!(e.contains("external-dns"), "{e}");
        let (_, e) = well_known_policy("velero", Some(&opts(json!({"s3_bucket_arns": "b"}))), None)
            .unwrap_err();
        assert!(e.contains("list of strings"), "{e}");
    }
}
