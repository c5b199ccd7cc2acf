//! Scopes of well-known policies: the user's own resources (hosted zones,
//! buckets, keys, queues, CAs, ...) that replace the wildcards of the
//! catalogue's statements, written once per role as
//! `well_known_policy_scopes = { hosted_zone_arns = [...], ... }`.
//!
//! Owns: [`WellKnownScopes`] (the attribute's value, a state twin of
//! [`attr`]), the scope kinds ([`KINDS`]: name, what each holds and the
//! syntax of its values) and the checks of given values against the
//! resource's partition. Does not own: which statements a scope replaces
//! (each catalogue entry declares that in `catalogue.json`, read by
//! `crate::well_known`), nor the rule that a scope must serve a chosen entry
//! (`crate::well_known::check_scopes`, which knows the entries).
//!
//! One attribute for every entry, rather than inputs per policy as in
//! terraform-aws-modules/eks-pod-identity (`external_dns_hosted_zone_arns`,
//! `cert_manager_hosted_zone_arns`, ...): a role carries one inline
//! document, and a hosted zone is the same hosted zone for every entry on
//! that role, so one list per kind of resource says it once. A scope left
//! out (null) keeps the entry's wildcard; an empty list drops the grant.

use crate::spec::{Attr, Kind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The attribute's name, beside `well_known_policies`.
pub const ATTR: &str = "well_known_policy_scopes";

/// The value of `well_known_policy_scopes`: field names are its attribute
/// names; a null field is a scope not given.
/// Written as a map (see `Kind::NestedObject`): a scope not given is left
/// out of it, never a null entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct WellKnownScopes {
    /// Route 53 hosted zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_arns: Option<BTreeSet<String>>,
    /// Clusters whose Auto Scaling groups the cluster autoscaler may change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler_cluster_names: Option<BTreeSet<String>>,
    /// KMS keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arns: Option<BTreeSet<String>>,
    /// S3 buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket_arns: Option<BTreeSet<String>>,
    /// S3 object paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket_path_arns: Option<BTreeSet<String>>,
    /// SSM parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssm_parameter_arns: Option<BTreeSet<String>>,
    /// Secrets Manager secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_manager_arns: Option<BTreeSet<String>>,
    /// SQS queues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs_queue_arns: Option<BTreeSet<String>>,
    /// AWS Private CA certificate authorities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acm_pca_arns: Option<BTreeSet<String>>,
    /// Amazon Managed Service for Prometheus workspaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_workspace_arns: Option<BTreeSet<String>>,
    /// FSx for Lustre S3 data repository service-linked roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsx_lustre_service_role_arns: Option<BTreeSet<String>>,
    /// Elastic Load Balancing target groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arns: Option<BTreeSet<String>>,
    /// EKS clusters (Karpenter: its cluster, region and account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arns: Option<BTreeSet<String>>,
    /// IAM roles that may be passed to EC2 (Karpenter's node roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_role_arns: Option<BTreeSet<String>>,
}

/// One kind of scope: its key (an attribute of [`ATTR`]), what it holds,
/// and the syntax of one value.
#[derive(Debug, Clone, Copy)]
pub struct ScopeKind {
    /// Attribute name.
    pub key: &'static str,
    /// What one value is, for messages and documentation.
    pub what: &'static str,
    /// An example value (partition `aws`).
    pub example: &'static str,
    /// Syntax of one value (service and resource type; not the partition).
    pub check: fn(&str) -> Result<(), String>,
}

/// Every scope kind, in attribute order.
pub const KINDS: [ScopeKind; 14] = [
    ScopeKind {
        key: "hosted_zone_arns",
        what: "Route 53 hosted zone ARN",
        example: "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
        check: |s| arn(s, "route53", Where::Global, Some("hostedzone/")),
    },
    ScopeKind {
        key: "autoscaler_cluster_names",
        what: "EKS cluster name",
        example: "my-cluster",
        check: crate::names::check_cluster_name,
    },
    ScopeKind {
        key: "kms_key_arns",
        what: "KMS key ARN",
        example: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        check: |s| arn(s, "kms", Where::Regional, Some("key/")),
    },
    ScopeKind {
        key: "s3_bucket_arns",
        what: "S3 bucket ARN",
        example: "arn:aws:s3:::my-bucket",
        check: |s| {
            arn(s, "s3", Where::Global, None)?;
            if resource(s).contains('/') {
                return Err(format!(
                    "{s:?} names objects, not a bucket: write the bucket ARN (arn:PARTITION:s3:::BUCKET) here, and object paths in s3_bucket_path_arns."
                ));
            }
            Ok(())
        },
    },
    ScopeKind {
        key: "s3_bucket_path_arns",
        what: "S3 object path ARN",
        example: "arn:aws:s3:::my-bucket/backups/*",
        check: |s| {
            arn(s, "s3", Where::Global, None)?;
            match resource(s).split_once('/') {
                Some((bucket, path)) if !bucket.is_empty() && !path.is_empty() => Ok(()),
                _ => Err(format!(
                    "{s:?} is not an object path: write arn:PARTITION:s3:::BUCKET/PATH (such as arn:aws:s3:::my-bucket/*)."
                )),
            }
        },
    },
    ScopeKind {
        key: "ssm_parameter_arns",
        what: "SSM parameter ARN",
        example: "arn:aws:ssm:eu-west-1:123456789012:parameter/my-app/*",
        check: |s| arn(s, "ssm", Where::Regional, Some("parameter/")),
    },
    ScopeKind {
        key: "secrets_manager_arns",
        what: "Secrets Manager secret ARN",
        example: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:my-app/*",
        check: |s| arn(s, "secretsmanager", Where::Regional, Some("secret:")),
    },
    ScopeKind {
        key: "sqs_queue_arns",
        what: "SQS queue ARN",
        example: "arn:aws:sqs:eu-west-1:123456789012:my-queue",
        check: |s| {
            arn(s, "sqs", Where::Regional, None)?;
            if resource(s).contains(['/', ':']) {
                return Err(format!(
                    "{s:?} is not a queue ARN: write arn:PARTITION:sqs:REGION:ACCOUNT:QUEUE."
                ));
            }
            Ok(())
        },
    },
    ScopeKind {
        key: "acm_pca_arns",
        what: "AWS Private CA certificate authority ARN",
        example: "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012",
        check: |s| {
            arn(
                s,
                "acm-pca",
                Where::Regional,
                Some("certificate-authority/"),
            )
        },
    },
    ScopeKind {
        key: "prometheus_workspace_arns",
        what: "Amazon Managed Service for Prometheus workspace ARN",
        example: "arn:aws:aps:eu-west-1:123456789012:workspace/ws-12345678-1234-1234-1234-123456789012",
        check: |s| arn(s, "aps", Where::Regional, Some("workspace/")),
    },
    ScopeKind {
        key: "fsx_lustre_service_role_arns",
        what: "IAM role ARN (the FSx for Lustre S3 data repository service-linked role)",
        example: "arn:aws:iam::123456789012:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0",
        check: |s| arn(s, "iam", Where::Account, Some("role/")),
    },
    ScopeKind {
        key: "target_group_arns",
        what: "Elastic Load Balancing target group ARN",
        example: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
        check: |s| {
            arn(
                s,
                "elasticloadbalancing",
                Where::Regional,
                Some("targetgroup/"),
            )
        },
    },
    ScopeKind {
        key: "cluster_arns",
        what: "EKS cluster ARN",
        example: "arn:aws:eks:eu-west-1:123456789012:cluster/my-cluster",
        check: check_cluster_arn,
    },
    ScopeKind {
        key: "node_role_arns",
        what: "IAM role ARN (a node role)",
        example: "arn:aws:iam::123456789012:role/KarpenterNodeRole-my-cluster",
        check: |s| arn(s, "iam", Where::Account, Some("role/")),
    },
];

/// A cluster ARN names one cluster exactly: its name, region and account
/// are written into tag conditions and ARNs (`StringEquals`), where a
/// wildcard would match nothing or too much.
fn check_cluster_arn(s: &str) -> Result<(), String> {
    arn(s, "eks", Where::Regional, Some("cluster/"))?;
    let exact = || {
        format!(
            "{s:?} is not one cluster's ARN: write arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME with no wildcard (the policy puts the name, region and account into exact conditions)."
        )
    };
    let Some(c) = ClusterArn::parse(s) else {
        return Err(exact());
    };
    let account_ok = c.account.len() == 12 && c.account.bytes().all(|b| b.is_ascii_digit());
    let region_ok = c
        .region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !account_ok || !region_ok || crate::names::check_cluster_name(c.name).is_err() {
        return Err(exact());
    }
    Ok(())
}

/// The parts of an EKS cluster ARN
/// (`arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`) that a per-cluster
/// policy is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterArn<'a> {
    /// Partition.
    pub partition: &'a str,
    /// Region.
    pub region: &'a str,
    /// Account ID.
    pub account: &'a str,
    /// Cluster name.
    pub name: &'a str,
}

impl<'a> ClusterArn<'a> {
    /// The parts of `s`, when it has the form of a cluster ARN (values are
    /// not checked further; [`KINDS`] does that at validation).
    pub fn parse(s: &'a str) -> Option<Self> {
        match s.splitn(6, ':').collect::<Vec<_>>().as_slice() {
            ["arn", partition, "eks", region, account, resource] => {
                let name = resource.strip_prefix("cluster/")?;
                let all = [*partition, *region, *account, name];
                (!all.iter().any(|p| p.is_empty())).then_some(ClusterArn {
                    partition,
                    region,
                    account,
                    name,
                })
            }
            _ => None,
        }
    }
}

/// The scope kind named `key`.
pub fn kind(key: &str) -> Option<&'static ScopeKind> {
    KINDS.iter().find(|k| k.key == key)
}

/// Where a service's ARNs live.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Where {
    /// No region, no account (Route 53, S3).
    Global,
    /// No region, an account (IAM).
    Account,
    /// A region and an account.
    Regional,
}

/// The resource part of an ARN (after the fifth colon).
fn resource(s: &str) -> &str {
    s.splitn(6, ':').nth(5).unwrap_or("")
}

/// Checks an ARN's service, region and account fields and the start of its
/// resource. Wildcards (`*`, `?`) are accepted where IAM accepts them:
/// in the region, account and resource, never in the service or the
/// resource type, so a value always stays within its kind.
fn arn(s: &str, service: &str, place: Where, prefix: Option<&str>) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let form = match (place, prefix) {
        (Where::Global, p) => format!("arn:PARTITION:{service}:::{}NAME", p.unwrap_or("")),
        (Where::Account, p) => format!("arn:PARTITION:{service}::ACCOUNT:{}NAME", p.unwrap_or("")),
        (Where::Regional, p) => format!(
            "arn:PARTITION:{service}:REGION:ACCOUNT:{}NAME",
            p.unwrap_or("")
        ),
    };
    let bad = |why: &str| Err(format!("{s:?} {why}: write {form}."));
    let [a, partition, svc, region, account, res] = parts.as_slice() else {
        return bad("is not an ARN");
    };
    if *a != "arn" || partition.is_empty() {
        return bad("is not an ARN");
    }
    if *svc != service {
        return bad(&format!("is an ARN of {svc:?}, not of {service:?}"));
    }
    let (region_ok, account_ok) = match place {
        Where::Global => (region.is_empty(), account.is_empty()),
        Where::Account => (region.is_empty(), !account.is_empty()),
        Where::Regional => (!region.is_empty(), !account.is_empty()),
    };
    if !region_ok || !account_ok {
        return bad("has the wrong region or account fields");
    }
    match prefix {
        Some(p) if !res.starts_with(p) || res.len() == p.len() => {
            bad(&format!("does not name a {p:?} resource"))
        }
        None if res.is_empty() => bad("names no resource"),
        _ => Ok(()),
    }
}

impl WellKnownScopes {
    /// Each scope kind with its value, in [`KINDS`] order.
    pub fn entries(&self) -> [(&'static str, Option<&BTreeSet<String>>); 14] {
        [
            ("hosted_zone_arns", self.hosted_zone_arns.as_ref()),
            (
                "autoscaler_cluster_names",
                self.autoscaler_cluster_names.as_ref(),
            ),
            ("kms_key_arns", self.kms_key_arns.as_ref()),
            ("s3_bucket_arns", self.s3_bucket_arns.as_ref()),
            ("s3_bucket_path_arns", self.s3_bucket_path_arns.as_ref()),
            ("ssm_parameter_arns", self.ssm_parameter_arns.as_ref()),
            ("secrets_manager_arns", self.secrets_manager_arns.as_ref()),
            ("sqs_queue_arns", self.sqs_queue_arns.as_ref()),
            ("acm_pca_arns", self.acm_pca_arns.as_ref()),
            (
                "prometheus_workspace_arns",
                self.prometheus_workspace_arns.as_ref(),
            ),
            (
                "fsx_lustre_service_role_arns",
                self.fsx_lustre_service_role_arns.as_ref(),
            ),
            ("target_group_arns", self.target_group_arns.as_ref()),
            ("cluster_arns", self.cluster_arns.as_ref()),
            ("node_role_arns", self.node_role_arns.as_ref()),
        ]
    }

    /// The scope kinds given (non-null), in [`KINDS`] order.
    pub fn given(&self) -> Vec<&'static str> {
        self.entries()
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect()
    }

    /// Whether no scope is given.
    pub fn is_empty(&self) -> bool {
        self.given().is_empty()
    }

    /// The values a scope stands for, sorted; `None` when it is not given.
    /// `s3_bucket_path_arns` not given but `s3_bucket_arns` given stands for
    /// every object of those buckets (`BUCKET/*`), so that naming a bucket
    /// scopes both the bucket and the object statements.
    pub fn values(&self, key: &str) -> Option<Vec<String>> {
        if key == "s3_bucket_path_arns" && self.s3_bucket_path_arns.is_none() {
            return self
                .s3_bucket_arns
                .as_ref()
                .map(|b| b.iter().map(|a| format!("{a}/*")).collect());
        }
        self.entries()
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v)
            .map(|v| v.iter().cloned().collect())
    }

    /// Syntax and partition of every given value, at plan (validation
    /// checks the syntax through each attribute's check, and knows no
    /// partition): one message per bad value, naming the scope, what it
    /// should hold and how to fix it.
    pub fn problems(&self, partition: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (key, values) in self.entries() {
            let Some(kind) = kind(key) else { continue };
            for v in values.into_iter().flatten() {
                if let Err(e) = (kind.check)(v) {
                    out.push(format!(
                        "{ATTR}.{key}: {e} Each value is a {} (such as {}).",
                        kind.what, kind.example
                    ));
                } else if v.starts_with("arn:") && crate::role::arn_partition(v) != Some(partition)
                {
                    let p = partition;
                    out.push(format!(
                        "{ATTR}.{key}: {v:?} is in another partition than this resource's region ({p}); IAM would accept it and grant nothing. Use an ARN of {p}."
                    ));
                }
            }
        }
        out
    }
}

/// A syntax check per scope attribute (no partition: that needs the
/// region, so [`WellKnownScopes::problems`] checks it at plan).
fn check_of(key: &str) -> fn(&str) -> Result<(), String> {
    kind(key).map(|k| k.check).unwrap_or(|_| Ok(()))
}

/// The `well_known_policy_scopes` attribute, the same on an association and
/// on an addon entry. `entries_note` names where the scopes apply.
pub fn attr() -> Attr {
    let inner = KINDS
        .iter()
        .map(|k| Attr::optional(k.key, Kind::StringSet, description(k.key)).check(check_of(k.key)))
        .collect();
    Attr::optional(
        ATTR,
        Kind::NestedObject(inner),
        "Scopes the well-known policies of the role the provider makes to your own resources, such as `{ hosted_zone_arns = [aws_route53_zone.main.arn] }`: each scope replaces the wildcard `Resource` (or adds the `Condition`) of the statements that grant on that kind of resource, in every chosen entry that takes it (the `eks_well_known_policy` data source and the catalogue list which entries take which scope). A scope left out keeps the entry unscoped, granting on every such resource as it does without scopes; an empty list removes the grant. Values are checked at plan: the right service, resource type and this resource's partition; a scope that no chosen entry takes is an error naming the entries that would.",
    )
}

/// The description of one scope attribute.
fn description(key: &str) -> &'static str {
    match key {
        "hosted_zone_arns" => {
            "Route 53 hosted zones (`arn:PARTITION:route53:::hostedzone/ID`) where `external-dns` and `cert-manager` may change records. Unscoped: every hosted zone."
        }
        "autoscaler_cluster_names" => {
            "Clusters whose Auto Scaling groups `auto-scaler` may resize and terminate instances in: `SetDesiredCapacity` and `TerminateInstanceInAutoScalingGroup` get the condition `aws:ResourceTag/k8s.io/cluster-autoscaler/<name> = owned` (one statement per cluster; the cluster-autoscaler README's policy). Unscoped: every group."
        }
        "kms_key_arns" => {
            "KMS keys (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`): `external-secrets` may decrypt with them (unscoped: every key); `ebs-csi-controller` and `velero` get the KMS grants their projects document for encrypted volumes and backups only when keys are given."
        }
        "s3_bucket_arns" => {
            "S3 buckets (`arn:PARTITION:s3:::BUCKET`) that `mountpoint-s3-csi` and `velero` may list; unless `s3_bucket_path_arns` is given, their objects (`BUCKET/*`) too. Unscoped: every bucket."
        }
        "s3_bucket_path_arns" => {
            "S3 object paths (`arn:PARTITION:s3:::BUCKET/PATH`) that `mountpoint-s3-csi` and `velero` may read and write. Unscoped: every object, or those of `s3_bucket_arns`."
        }
        "ssm_parameter_arns" => {
            "SSM parameters (`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`) that `external-secrets` and `secrets-store-csi-provider-aws` may read. Unscoped: every parameter."
        }
        "secrets_manager_arns" => {
            "Secrets Manager secrets (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`) that `external-secrets` and `secrets-store-csi-provider-aws` may read and `external-secrets-push` may write. Unscoped: every secret."
        }
        "sqs_queue_arns" => {
            "SQS queues (`arn:PARTITION:sqs:REGION:ACCOUNT:NAME`) that `node-termination-handler` may receive from and delete messages of (unscoped: every queue), and that `karpenter` reads interruption events from (not given: the queue of Karpenter's CloudFormation template, named after each cluster; empty: no interruption statement)."
        }
        "acm_pca_arns" => {
            "Private certificate authorities (`arn:PARTITION:acm-pca:REGION:ACCOUNT:certificate-authority/ID`) that `privateca-issuer` may issue from. Unscoped: every CA."
        }
        "prometheus_workspace_arns" => {
            "Amazon Managed Service for Prometheus workspaces (`arn:PARTITION:aps:REGION:ACCOUNT:workspace/ID`) that `amazon-managed-service-prometheus` may write to and query. Unscoped: every workspace."
        }
        "fsx_lustre_service_role_arns" => {
            "The FSx for Lustre S3 data repository service-linked roles (`arn:PARTITION:iam::ACCOUNT:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/NAME`) that `fsx-lustre-csi` may create and put policies on. Unscoped: every such role."
        }
        "target_group_arns" => {
            "Target groups (`arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`) that `lb-controller-targetgroup-binding-only` may modify and register targets in. Unscoped: every target group."
        }
        "cluster_arns" => {
            "EKS clusters (`arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`, exact, no wildcard) that `karpenter` manages nodes for: required by `karpenter`, whose statements name the cluster, its region and account in tag conditions and ARNs (Karpenter's CloudFormation template's `${ClusterName}`, `${AWS::Region}`, `${AWS::AccountId}`); they are written once per cluster. Not filled in from the association's own cluster: write it, such as `[data.aws_eks_cluster.this.arn]`."
        }
        "node_role_arns" => {
            "Node roles (`arn:PARTITION:iam::ACCOUNT:role/NAME`) that `karpenter` may pass to EC2 (`iam:PassRole`) for the nodes it launches. Not given: the node role of Karpenter's CloudFormation template, `KarpenterNodeRole-<cluster>` in each cluster's account."
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_the_struct_fields_in_order() {
        let keys: Vec<&str> = KINDS.iter().map(|k| k.key).collect();
        let fields: Vec<&str> = WellKnownScopes::default()
            .entries()
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(keys, fields);
        // Every scope given (an empty set): a struct field missing for a
        // key would drop it on the way through.
        let full: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|k| (k.to_string(), serde_json::json!([])))
            .collect();
        let scopes: WellKnownScopes =
            serde_json::from_value(serde_json::Value::Object(full)).unwrap();
        let json = serde_json::to_value(scopes).unwrap();
        let mut names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        names.sort_unstable();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "state struct and attribute are twins");
        for k in KINDS {
            assert!(!description(k.key).is_empty(), "{}", k.key);
            assert_eq!((k.check)(k.example), Ok(()), "{}", k.key);
        }
    }

    #[test]
    fn values_of_the_wrong_kind_are_refused() {
        let bad = [
            ("hosted_zone_arns", "arn:aws:route53:::change/C1"),
            ("hosted_zone_arns", "Z0123"),
            ("kms_key_arns", "arn:aws:kms:eu-west-1:123456789012:alias/x"),
            ("kms_key_arns", "arn:aws:kms:::key/x"),
            ("s3_bucket_arns", "arn:aws:s3:::b/*"),
            ("s3_bucket_path_arns", "arn:aws:s3:::b"),
            (
                "ssm_parameter_arns",
                "arn:aws:secretsmanager:eu-west-1:1:secret:x",
            ),
            (
                "secrets_manager_arns",
                "arn:aws:secretsmanager:eu-west-1:1:parameter/x",
            ),
            ("sqs_queue_arns", "arn:aws:sqs:eu-west-1:1:"),
            ("acm_pca_arns", "arn:aws:acm:eu-west-1:1:certificate/x"),
            (
                "prometheus_workspace_arns",
                "arn:aws:aps:eu-west-1:1:rulegroupsnamespace/x",
            ),
            ("fsx_lustre_service_role_arns", "arn:aws:iam::1:policy/x"),
            (
                "target_group_arns",
                "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/y",
            ),
            ("autoscaler_cluster_names", "not a cluster"),
        ];
        for (key, v) in bad {
            assert!((kind(key).unwrap().check)(v).is_err(), "{key}: {v}");
        }
        let good = [
            (
                "secrets_manager_arns",
                "arn:aws:secretsmanager:*:*:secret:dev-*",
            ),
            ("s3_bucket_path_arns", "arn:aws-cn:s3:::b/velero/*"),
            (
                "sqs_queue_arns",
                "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q",
            ),
        ];
        for (key, v) in good {
            assert_eq!((kind(key).unwrap().check)(v), Ok(()), "{key}: {v}");
        }
    }

    #[test]
    fn problems_name_the_scope_and_the_partition() {
        let s = WellKnownScopes {
            hosted_zone_arns: Some(["arn:aws-cn:route53:::hostedzone/Z1".to_string()].into()),
            kms_key_arns: Some(["arn:aws:s3:::b".to_string()].into()),
            ..Default::default()
        };
        let p = s.problems("aws");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("well_known_policy_scopes.hosted_zone_arns"),
            "{}",
            p[0]
        );
        assert!(p[0].contains("another partition"), "{}", p[0]);
        assert!(
            p[1].contains("kms_key_arns") && p[1].contains("KMS key ARN"),
            "{}",
            p[1]
        );
        assert!(s.problems("aws-cn")[0].contains("KMS key ARN"));
    }

    #[test]
    fn bucket_arns_scope_their_objects_unless_paths_are_given() {
        let mut s = WellKnownScopes {
            s3_bucket_arns: Some(["arn:aws:s3:::b".to_string()].into()),
            ..Default::default()
        };
        assert_eq!(
            s.values("s3_bucket_path_arns"),
            Some(vec!["arn:aws:s3:::b/*".to_string()])
        );
        s.s3_bucket_path_arns = Some(["arn:aws:s3:::b/velero/*".to_string()].into());
        assert_eq!(
            s.values("s3_bucket_path_arns"),
            Some(vec!["arn:aws:s3:::b/velero/*".to_string()])
        );
        assert_eq!(s.values("kms_key_arns"), None);
        assert_eq!(s.given(), ["s3_bucket_arns", "s3_bucket_path_arns"]);
    }
}
