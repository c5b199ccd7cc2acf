//! Provider-defined functions: `provider::eks::pod_identity_trust_policy`,
//! `provider::eks::role_name` and `provider::eks::well_known_policy`.
//!
//! Owns: their signatures and the glue between Terraform values and the pure
//! logic in `schema::functions` (which owns what they compute). Functions
//! run without the provider's configuration and make no AWS call.

use schema::functions as f;
use std::sync::Arc;
use tfplugin::{
    Function, FunctionDefinition, FunctionError, FunctionParameter, Type, Value, async_trait,
};

/// Every function the provider serves.
pub fn all() -> Vec<Arc<dyn Function>> {
    vec![
        Arc::new(TrustPolicy),
        Arc::new(RoleName),
        Arc::new(WellKnownPolicy),
    ]
}

fn error(argument: i64, text: String) -> FunctionError {
    FunctionError {
        text,
        argument: Some(argument),
    }
}

fn string_arg(args: &[Value], i: usize) -> Result<String, FunctionError> {
    args.get(i)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| error(i as i64, "a string is required".into()))
}

/// `pod_identity_trust_policy(options)`.
struct TrustPolicy;

#[async_trait]
impl Function for TrustPolicy {
    fn name(&self) -> &'static str {
        f::TRUST_POLICY_FUNCTION
    }
    fn definition(&self) -> FunctionDefinition {
        let options: Vec<String> = f::TRUST_OPTIONS
            .iter()
            .map(|(k, d)| format!("- `{k}`: {d}"))
            .collect();
        let mut options_param = FunctionParameter::new("options", Type::map(Type::String));
        options_param.allow_null = true;
        options_param.description = format!(
            "Conditions to add, all optional (null or `{{}}` for none):\n{}",
            options.join("\n")
        );
        FunctionDefinition {
            parameters: vec![options_param],
            variadic: None,
            return_type: Type::String,
            summary: "The trust policy an EKS Pod Identity role needs.".into(),
            description: "Returns the JSON trust policy that lets `pods.eks.amazonaws.com` `sts:AssumeRole` and `sts:TagSession` — the document this provider puts on the roles it makes — with only the conditions AWS documents for EKS Pod Identity: `aws:SourceAccount`, `aws:SourceOrgId`, and the session tags EKS Pod Identity attaches (`eks-cluster-arn`, `kubernetes-namespace`, `kubernetes-service-account`). Use it as `assume_role_policy` of an `aws_iam_role`.".into(),
            deprecation: None,
        }
    }
    async fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let mut options = serde_json::Map::new();
        if let Some(Value::Map(m)) = args.first() {
            for (k, v) in m {
                let value = match v {
                    Value::String(s) => serde_json::Value::String(s.clone()),
                    _ => serde_json::Value::Null,
                };
                options.insert(k.clone(), value);
            }
        }
        f::pod_identity_trust_policy(&options)
            .map(Value::string)
            .map_err(|e| error(0, e))
    }
}

/// `role_name(cluster_arn, namespace, service_account)`.
struct RoleName;

#[async_trait]
impl Function for RoleName {
    fn name(&self) -> &'static str {
        f::ROLE_NAME_FUNCTION
    }
    fn definition(&self) -> FunctionDefinition {
        let mut cluster = FunctionParameter::new("cluster_arn", Type::String);
        cluster.description = "ARN of the EKS cluster (the name depends on its partition, account and region, so that two regions never share a role).".into();
        let mut namespace = FunctionParameter::new("namespace", Type::String);
        namespace.description = "Kubernetes namespace of the service account.".into();
        let mut sa = FunctionParameter::new("service_account", Type::String);
        sa.description = "Name of the service account.".into();
        FunctionDefinition {
            parameters: vec![cluster, namespace, sa],
            variadic: None,
            return_type: Type::String,
            summary: "The name this provider gives the role it makes for a service account.".into(),
            description: "Returns the IAM role name `eks_pod_identity_association` generates when `role_name` is left out: `eks-pi-` and the cluster, namespace and service account (cut to fit), then a hash of the partition, account, region, cluster, namespace and service account; at most 64 characters. Roles made by provider versions before 0.2 keep their earlier name.".into(),
            deprecation: None,
        }
    }
    async fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let cluster_arn = string_arg(&args, 0)?;
        let namespace = string_arg(&args, 1)?;
        let sa = string_arg(&args, 2)?;
        f::role_name(&cluster_arn, &namespace, &sa)
            .map(Value::string)
            .map_err(|e| {
                let arg = if e.starts_with("namespace") {
                    1
                } else if e.starts_with("service_account") {
                    2
                } else {
                    0
                };
                error(arg, e)
            })
    }
}

/// `well_known_policy(name, [scopes], [partition])`.
struct WellKnownPolicy;

fn well_known_type() -> Type {
    Type::object([
        ("policy_json", Type::String),
        ("managed_policy_arns", Type::list(Type::String)),
    ])
}

#[async_trait]
impl Function for WellKnownPolicy {
    fn name(&self) -> &'static str {
        f::WELL_KNOWN_POLICY_FUNCTION
    }
    fn definition(&self) -> FunctionDefinition {
        let mut name = FunctionParameter::new("name", Type::String);
        name.description = "Name of the policy, such as `external-dns` (eksctl's names such as `externalDNS` work too).".into();
        // Dynamic, so that the partition string of earlier versions
        // (`well_known_policy("x", "aws-cn")`) and a scopes object are both
        // accepted, in either order.
        let mut options = FunctionParameter::new("options", Type::Dynamic);
        options.allow_null = true;
        options.description = "Optional, up to two, in any order: the scopes, an object of `well_known_policy_scopes` keys each with a list of ARNs (or names), such as `{ cluster_arns = [data.aws_eks_cluster.this.arn] }` (`karpenter` needs it); and the partition, `aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`, `aws-iso`, `aws-iso-b`, `aws-iso-e` or `aws-iso-f` (default: the partition of the scopes' ARNs, else `aws`).".into();
        FunctionDefinition {
            parameters: vec![name],
            variadic: Some(options),
            return_type: well_known_type(),
            summary: "A well-known IAM policy: inline document and managed policy ARNs, optionally scoped.".into(),
            description: "Returns `{ policy_json, managed_policy_arns }` for one entry of the catalogue that `well_known_policies` uses: the inline policy document (null when the entry is managed policies only) and the AWS managed policies, for a partition, with the scopes applied as `well_known_policy_scopes` applies them on the roles this provider makes. Scopes are checked as there: known keys, ARNs of the right service, resource type and partition, keys the entry takes, and the keys it needs.".into(),
            deprecation: None,
        }
    }
    async fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let name = string_arg(&args, 0)?;
        let (mut scopes, mut partition) = (None, None);
        for (i, arg) in args.iter().enumerate().skip(1) {
            match arg {
                Value::Null => {}
                Value::String(p) if partition.is_none() => partition = Some((i, p.as_str())),
                Value::Map(_) if scopes.is_none() => {
                    let serde_json::Value::Object(m) = arg.to_json() else {
                        continue;
                    };
                    scopes = Some((i, m));
                }
                _ => {
                    return Err(error(
                        i as i64,
                        "after the name come at most one scopes object and one partition string"
                            .into(),
                    ));
                }
            }
        }
        let (doc, managed) = f::well_known_policy(
            &name,
            scopes.as_ref().map(|(_, m)| m),
            partition.map(|(_, p)| p),
        )
        .map_err(|(arg, e)| {
            let at = match arg {
                f::WellKnownArg::Name => 0,
                f::WellKnownArg::Scopes => scopes.as_ref().map_or(1, |(i, _)| *i),
                f::WellKnownArg::Partition => partition.map_or(1, |(i, _)| i),
            };
            error(at as i64, e)
        })?;
        let mut out = Value::Null;
        out.set("policy_json", doc.map_or(Value::Null, Value::string));
        out.set(
            "managed_policy_arns",
            Value::List(managed.into_iter().map(Value::string).collect()),
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn trust_policy_from_a_map() {
        let mut m = std::collections::BTreeMap::new();
        m.insert("source_account".to_string(), Value::string("123456789012"));
        let out = TrustPolicy.call(vec![Value::Map(m)]).await.unwrap();
        let text = out.as_str().unwrap_or_default().to_string();
        assert!(text.contains("aws:SourceAccount"), "{text}");
        let plain = TrustPolicy.call(vec![Value::Null]).await.unwrap();
        assert!(!plain.as_str().unwrap_or_default().contains("Condition"));
        let mut bad = std::collections::BTreeMap::new();
        bad.insert("nope".to_string(), Value::string("x"));
        let e = TrustPolicy.call(vec![Value::Map(bad)]).await.unwrap_err();
        assert_eq!(e.argument, Some(0));
    }

    #[tokio::test]
    async fn role_name_errors_point_at_the_argument() {
        let ok = RoleName
            .call(vec![
                Value::string("arn:aws:eks:us-west-2:123456789012:cluster/prod"),
                Value::string("default"),
                Value::string("api"),
            ])
            .await
            .unwrap();
        assert!(
            ok.as_str()
                .unwrap_or_default()
                .starts_with("eks-pi-prod-default-api")
        );
        let e = RoleName
            .call(vec![
                Value::string("arn:aws:eks:us-west-2:123456789012:cluster/prod"),
                Value::string("NOT_A_LABEL"),
                Value::string("api"),
            ])
            .await
            .unwrap_err();
        assert_eq!(e.argument, Some(1));
    }

    #[tokio::test]
    async fn well_known_policy_with_and_without_partition() {
        let out = WellKnownPolicy
            .call(vec![
                Value::string("ebs-csi-controller"),
                Value::string("aws-us-gov"),
            ])
            .await
            .unwrap();
        let arns = out.get("managed_policy_arns");
        assert!(matches!(arns, Value::List(l) if !l.is_empty()));
        let e = WellKnownPolicy
            .call(vec![Value::string("external-dns"), Value::string("mars")])
            .await
            .unwrap_err();
        assert_eq!(e.argument, Some(1));
        let e = WellKnownPolicy
            .call(vec![Value::string("nope")])
            .await
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
    }

    #[tokio::test]
    async fn well_known_policy_with_scopes_in_either_order() {
        let mut scopes = Value::Null;
        scopes.set(
            "hosted_zone_arns",
            Value::List(vec![Value::string("arn:aws-cn:route53:::hostedzone/Z1")]),
        );
        for args in [
            vec![
                Value::string("external-dns"),
                scopes.clone(),
                Value::string("aws-cn"),
            ],
            vec![
                Value::string("external-dns"),
                Value::string("aws-cn"),
                scopes.clone(),
            ],
            vec![Value::string("external-dns"), scopes.clone()],
        ] {
            let out = WellKnownPolicy.call(args).await.unwrap();
            let doc = out
                .get("policy_json")
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(doc.contains("arn:aws-cn:route53:::hostedzone/Z1"), "{doc}");
            assert!(!doc.contains("hostedzone/*"), "{doc}");
        }
        let e = WellKnownPolicy
            .call(vec![
                Value::string("external-dns"),
                Value::string("aws"),
                scopes.clone(),
            ])
            .await
            .unwrap_err();
        assert_eq!(e.argument, Some(2), "{}", e.text);
        assert!(e.text.contains("another partition"), "{}", e.text);
        let e = WellKnownPolicy
            .call(vec![Value::string("external-dns"), scopes.clone(), scopes])
            .await
            .unwrap_err();
        assert_eq!(e.argument, Some(2));
    }
}
