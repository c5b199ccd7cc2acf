//! Syntax of the names and identifiers users type: Kubernetes names, EKS
//! cluster names, IAM role ARNs, association IDs and import IDs.
//!
//! Owns: every check that can be made on a string alone, with an error text
//! that says what is wrong and how to fix it. Does not own: checks that need
//! AWS (does the role exist, is it trusted).

/// Checks an AWS region name such as `us-west-2`, `us-gov-west-1` or
/// `cn-north-1`: lowercase words joined by `-`, the last a number.
pub fn check_region(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('-').collect();
    let words_ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()));
    let number_ok = parts
        .last()
        .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if words_ok && number_ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not an AWS region name, such as \"us-west-2\" or \"eu-central-1\"."
        ))
    }
}

/// Checks a DNS-1123 label (a Kubernetes namespace name).
pub fn check_dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!(
            "{s:?} must be 1 to 63 characters long (a DNS-1123 label), it has {}.",
            s.len()
        ));
    }
    check_dns_chars(s, false)
}

/// Checks a DNS-1123 subdomain (a Kubernetes service account name).
pub fn check_dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!(
            "{s:?} must be 1 to 253 characters long (a DNS-1123 subdomain), it has {}.",
            s.len()
        ));
    }
    check_dns_chars(s, true)?;
    for part in s.split('.') {
        if part.is_empty() || part.len() > 63 {
            return Err(format!(
                "{s:?} must consist of dot-separated parts of 1 to 63 characters (a DNS-1123 subdomain)."
            ));
        }
        check_dns_chars(part, false)?;
    }
    Ok(())
}

fn check_dns_chars(s: &str, dots: bool) -> Result<(), String> {
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.');
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = s.chars().all(allowed)
        && s.chars().next().is_some_and(alnum)
        && s.chars().last().is_some_and(alnum);
    if ok {
        Ok(())
    } else {
        let what = if dots {
            "lowercase letters, digits, '-' and '.'"
        } else {
            "lowercase letters, digits and '-'"
        };
        Err(format!(
            "{s:?} is not a valid Kubernetes name: use only {what}, starting and ending with a letter or digit (for example \"my-app\")."
        ))
    }
}

/// Checks an EKS cluster name: 1–100 characters, `^[0-9A-Za-z][A-Za-z0-9\-_]*`.
pub fn check_cluster_name(s: &str) -> Result<(), String> {
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if s.is_empty() || s.len() > 100 || !first_ok || !rest_ok {
        return Err(format!(
            "{s:?} is not a valid EKS cluster name: 1 to 100 letters, digits, '-' or '_', starting with a letter or digit."
        ));
    }
    Ok(())
}

/// The parts of an IAM role ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    /// One of [`crate::partition::PARTITIONS`], such as `aws` or `aws-iso-b`.
    pub partition: String,
    /// Twelve-digit account ID.
    pub account: String,
    /// Role path, `/` or `/a/b/`.
    pub path: String,
    /// Role name.
    pub name: String,
}

/// Parses an IAM role ARN, path included (`arn:aws:iam::123456789012:role/path/name`).
pub fn parse_role_arn(s: &str) -> Result<RoleArn, String> {
    let bad = || {
        format!(
            "{s:?} is not an IAM role ARN: expected arn:PARTITION:iam::ACCOUNT_ID:role/NAME (a path such as role/team/NAME is allowed)."
        )
    };
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    if crate::partition::by_id(partition).is_none() {
        return Err(format!(
            "{}; the partition must be one of {}.",
            bad(),
            crate::partition::ids_text()
        ));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let Some(rest) = resource.strip_prefix("role/") else {
        return Err(bad());
    };
    let (path, name) = match rest.rfind('/') {
        Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
        None => ("/".to_string(), rest),
    };
    check_role_name(name).map_err(|e| format!("{}; {e}", bad()))?;
    Ok(RoleArn {
        partition: partition.to_string(),
        account: account.to_string(),
        path,
        name: name.to_string(),
    })
}

/// Checks a role ARN (see [`parse_role_arn`]).
pub fn check_role_arn(s: &str) -> Result<(), String> {
    parse_role_arn(s).map(|_| ())
}

/// Checks an IAM role name: 1–64 characters of `[\w+=,.@-]`.
pub fn check_role_name(s: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if s.is_empty() || s.len() > 64 || !s.chars().all(ok_char) {
        return Err(format!(
            "{s:?} is not a valid IAM role name: 1 to 64 letters, digits or _+=,.@- characters."
        ));
    }
    Ok(())
}

/// Checks an association ID: `a-` followed by 17 lowercase letters or digits.
pub fn check_association_id(s: &str) -> Result<(), String> {
    let ok = s.len() == 19
        && s.starts_with("a-")
        && s[2..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a pod identity association ID: expected \"a-\" followed by 17 lowercase letters or digits."
        ))
    }
}

/// What an import ID of `eks_pod_identity_association` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssociationImportId {
    /// `cluster_name,association_id` (the AWS provider's format).
    ById {
        /// Cluster name.
        cluster: String,
        /// Association ID.
        association_id: String,
    },
    /// `cluster_name/namespace/service_account`.
    ByServiceAccount {
        /// Cluster name.
        cluster: String,
        /// Namespace.
        namespace: String,
        /// Service account name.
        service_account: String,
    },
}

/// Parses an import ID in either format, checking each part.
pub fn parse_association_import_id(id: &str) -> Result<AssociationImportId, String> {
    const FORMATS: &str = "Use CLUSTER_NAME,ASSOCIATION_ID (for example my-cluster,a-abcdefghijklmnopq) or CLUSTER_NAME/NAMESPACE/SERVICE_ACCOUNT (for example my-cluster/kube-system/my-sa).";
    if let Some((cluster, association_id)) = id.split_once(',') {
        check_cluster_name(cluster).map_err(|e| format!("{e} {FORMATS}"))?;
        check_association_id(association_id).map_err(|e| format!("{e} {FORMATS}"))?;
        return Ok(AssociationImportId::ById {
            cluster: cluster.to_string(),
            association_id: association_id.to_string(),
        });
    }
    let parts: Vec<&str> = id.split('/').collect();
    if let [cluster, namespace, service_account] = parts.as_slice() {
        check_cluster_name(cluster).map_err(|e| format!("{e} {FORMATS}"))?;
        check_dns1123_label(namespace).map_err(|e| format!("{e} {FORMATS}"))?;
        check_dns1123_subdomain(service_account).map_err(|e| format!("{e} {FORMATS}"))?;
        return Ok(AssociationImportId::ByServiceAccount {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
        });
    }
    Err(format!(
        "{id:?} is not an import ID for a pod identity association. {FORMATS}"
    ))
}

#[cfg(test)]
mod tests {

    #[test]
    fn region_names() {
        for ok in [
            "us-west-2",
            "us-gov-west-1",
            "cn-north-1",
            "eu-isoe-west-1",
            "ap-southeast-5",
        ] {
            assert_eq!(check_region(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "us-west",
            "US-WEST-2",
            "us_west_2",
            "uswest2",
            "us--2",
            "us-west-2a",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn namespace_labels() {
        assert!(check_dns1123_label("kube-system").is_ok());
        assert!(check_dns1123_label("a").is_ok());
        for bad in ["", "Bad_NS", "-a", "a-", "a.b", &"a".repeat(64)] {
            assert!(check_dns1123_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_account_subdomains() {
        assert!(check_dns1123_subdomain("my.sa-1").is_ok());
        for bad in ["", "My", "a..b", ".a", "a_b", &"a".repeat(254)] {
            assert!(check_dns1123_subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_names() {
        assert!(check_cluster_name("my_cluster-1").is_ok());
        assert!(check_cluster_name("-x").is_err());
        assert!(check_cluster_name("").is_err());
        assert!(check_cluster_name(&"c".repeat(101)).is_err());
    }

    #[test]
    fn role_arns_with_and_without_path() {
        let r = parse_role_arn("arn:aws:iam::123456789012:role/team/a/app").unwrap();
        assert_eq!((r.path.as_str(), r.name.as_str()), ("/team/a/", "app"));
        let r = parse_role_arn("arn:aws-cn:iam::123456789012:role/app").unwrap();
        assert_eq!((r.partition.as_str(), r.path.as_str()), ("aws-cn", "/"));
        for p in &crate::partition::PARTITIONS {
            let r = parse_role_arn(&format!("arn:{}:iam::123456789012:role/app", p.id)).unwrap();
            assert_eq!(r.partition, p.id);
        }
        let e = parse_role_arn("arn:aws-iso-z:iam::123456789012:role/app").unwrap_err();
        assert!(e.contains("\"aws-iso-b\""), "{e}");
        for bad in [
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:s3:::bucket",
            "arn:foo:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "role/x",
        ] {
            assert!(parse_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn association_ids() {
        assert!(check_association_id("a-abcdefghij1234567").is_ok());
        assert!(check_association_id("a-abc").is_err());
        assert!(check_association_id("b-abcdefghij1234567").is_err());
        assert!(check_association_id("a-ABCDEFGHIJ1234567").is_err());
    }

    #[test]
    fn import_ids_both_formats() {
        assert_eq!(
            parse_association_import_id("c1,a-abcdefghij1234567"),
            Ok(AssociationImportId::ById {
                cluster: "c1".into(),
                association_id: "a-abcdefghij1234567".into()
            })
        );
        assert_eq!(
            parse_association_import_id("c1/ns/sa"),
            Ok(AssociationImportId::ByServiceAccount {
                cluster: "c1".into(),
                namespace: "ns".into(),
                service_account: "sa".into()
            })
        );
        for bad in ["c1", "c1,a-x", "c1/ns", "c1/NS/sa", "c1/ns/sa/x", ""] {
            let err = parse_association_import_id(bad).unwrap_err();
            assert!(err.contains("CLUSTER_NAME,ASSOCIATION_ID"), "{bad}: {err}");
        }
    }
}
