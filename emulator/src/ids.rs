//! Identifiers, ARNs and timestamps in the formats AWS uses (aws-facts.md
//! "Identifiers"), and the parsing of the ARNs the tagging API receives.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_HEX: &[u8] = b"0123456789ABCDEF";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// A pod identity association ID: `a-` + 17 lowercase alphanumerics.
pub fn association_id() -> String {
    format!("a-{}", random_from(LOWER_ALNUM, 17))
}

/// The 32 uppercase hex digits of a cluster's OIDC issuer and endpoint.
pub fn oidc_id() -> String {
    random_from(UPPER_HEX, 32)
}

/// A random UUID (v4), as EKS uses for external IDs, addon ARNs and updates.
pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Seconds since the epoch, with millisecond precision (EKS timestamps are
/// epoch seconds as JSON numbers).
pub fn now_epoch() -> f64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (elapsed.as_millis() as f64) / 1000.0
}

/// The partition of a region, by its prefix (botocore `partitions.json`,
/// `regionRegex` of each partition; FACTS.md F13): `cn-` aws-cn,
/// `us-gov-` aws-us-gov, `us-iso-` aws-iso, `us-isob-` aws-iso-b,
/// `eu-isoe-` aws-iso-e, `us-isof-` aws-iso-f, `eusc-` aws-eusc, any other
/// region aws.
pub fn partition(region: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 7] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// `arn:{partition}:eks:{region}:{account}:{resource}`: every EKS ARN the
/// emulator makes, in the partition of its region.
pub fn eks_arn(region: &str, account: &str, resource: &str) -> String {
    format!(
        "arn:{}:eks:{region}:{account}:{resource}",
        partition(region)
    )
}

/// `arn:{partition}:eks:{region}:{account}:cluster/{name}`.
pub fn cluster_arn(region: &str, account: &str, name: &str) -> String {
    eks_arn(region, account, &format!("cluster/{name}"))
}

/// `arn:{partition}:eks:{region}:{account}:podidentityassociation/{cluster}/{id}`.
pub fn association_arn(region: &str, account: &str, cluster: &str, id: &str) -> String {
    eks_arn(
        region,
        account,
        &format!("podidentityassociation/{cluster}/{id}"),
    )
}

/// `arn:{partition}:eks:{region}:{account}:addon/{cluster}/{addon}/{uuid}`.
pub fn addon_arn(region: &str, account: &str, cluster: &str, addon: &str) -> String {
    eks_arn(
        region,
        account,
        &format!("addon/{cluster}/{addon}/{}", uuid()),
    )
}

/// The resource an EKS ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EksResource {
    /// `cluster/{name}`.
    Cluster {
        /// Cluster name.
        name: String,
    },
    /// `podidentityassociation/{cluster}/{id}`.
    Association {
        /// Cluster name.
        cluster: String,
        /// Association ID.
        id: String,
    },
    /// `addon/{cluster}/{addon}/{uuid}`.
    Addon {
        /// Cluster name.
        cluster: String,
        /// Addon name.
        addon: String,
    },
}

/// A parsed EKS ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksArn {
    /// Region part.
    pub region: String,
    /// Account part.
    pub account: String,
    /// The resource.
    pub resource: EksResource,
}

/// Parses `arn:{partition}:eks:{region}:{account}:{resource}`; `None` when
/// it is not an EKS ARN of a resource type the emulator knows.
pub fn parse_eks_arn(arn: &str) -> Option<EksArn> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "eks" {
        return None;
    }
    let region = parts.next()?.to_owned();
    let account = parts.next()?.to_owned();
    let resource = parts.next()?;
    let segments: Vec<&str> = resource.split('/').collect();
    let resource = match segments.as_slice() {
        ["cluster", name] if !name.is_empty() => EksResource::Cluster {
            name: (*name).to_owned(),
        },
        ["podidentityassociation", cluster, id] if !cluster.is_empty() && !id.is_empty() => {
            EksResource::Association {
                cluster: (*cluster).to_owned(),
                id: (*id).to_owned(),
            }
        }
        ["addon", cluster, addon, _uuid] if !cluster.is_empty() && !addon.is_empty() => {
            EksResource::Addon {
                cluster: (*cluster).to_owned(),
                addon: (*addon).to_owned(),
            }
        }
        _ => return None,
    };
    Some(EksArn {
        region,
        account,
        resource,
    })
}

/// A parsed IAM role ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    /// Account part.
    pub account: String,
    /// The role name: the last segment of the resource path.
    pub name: String,
}

/// Parses `arn:{partition}:iam::{account}:role/{path}{name}`.
pub fn parse_role_arn(arn: &str) -> Option<RoleArn> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "iam" || !parts.next()?.is_empty() {
        return None;
    }
    let account = parts.next()?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let path = parts.next()?.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !valid_name {
        return None;
    }
    Some(RoleArn {
        account: account.to_owned(),
        name: name.to_owned(),
    })
}

/// Formats epoch seconds as RFC 3339 UTC (`2026-11-29T00:19:29Z`), as
/// Kubernetes writes `creationTimestamp`.
pub fn rfc3339(epoch: f64) -> String {
    let secs = epoch.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an ISO-8601 UTC timestamp as IAM returns it
/// (`2026-11-29T00:19:29.652422Z`, or with `+00:00`) into epoch seconds.
pub fn parse_iso8601(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let time = time
        .trim_end_matches('Z')
        .trim_end_matches("+00:00")
        .trim_end_matches("+0000");
    let mut t = time.split(':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let second: f64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3_600 + minute * 60) as f64 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn association_id_format() {
        let id = association_id();
        assert_eq!(id.len(), 19);
        assert!(id.starts_with("a-"));
        assert!(
            id[2..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn oidc_id_format() {
        let id = oidc_id();
        assert_eq!(id.len(), 32);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
        );
    }

    #[test]
    fn role_arn_with_path() {
        let arn = parse_role_arn("arn:aws:iam::123456789012:role/some/path/name").unwrap();
        assert_eq!(arn.name, "name");
        assert_eq!(arn.account, "123456789012");
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::12:role/x").is_none());
        assert!(parse_role_arn("not-an-arn").is_none());
    }

    #[test]
    fn eks_arns() {
        let a = parse_eks_arn("arn:aws:eks:us-west-2:123456789012:podidentityassociation/c1/a-1")
            .unwrap();
        assert_eq!(a.region, "us-west-2");
        assert_eq!(
            a.resource,
            EksResource::Association {
                cluster: "c1".into(),
                id: "a-1".into()
            }
        );
        let c = parse_eks_arn("arn:aws:eks:us-west-2:123456789012:cluster/c1").unwrap();
        assert_eq!(c.resource, EksResource::Cluster { name: "c1".into() });
        assert!(parse_eks_arn("arn:aws:iam::123456789012:role/x").is_none());
    }

    #[test]
    fn arns_are_in_the_partition_of_their_region() {
        for (region, want) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(partition(region), want, "{region}");
            assert_eq!(
                cluster_arn(region, "123456789012", "c1"),
                format!("arn:{want}:eks:{region}:123456789012:cluster/c1")
            );
            let a = association_arn(region, "123456789012", "c1", "a-1");
            assert!(a.starts_with(&format!("arn:{want}:eks:")), "{a}");
            assert_eq!(parse_eks_arn(&a).map(|p| p.region), Some(region.to_owned()));
            let addon = addon_arn(region, "123456789012", "c1", "vpc-cni");
            assert!(addon.starts_with(&format!("arn:{want}:eks:")), "{addon}");
        }
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_911_569.7), "2026-11-29T00:19:29Z");
        assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn iso8601() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_iso8601("2026-11-29T00:19:29.5Z"),
            Some(1_795_911_569.5)
        );
        assert_eq!(
            parse_iso8601("2026-11-29T00:19:29.5+00:00"),
            Some(1_795_911_569.5)
        );
    }
}
