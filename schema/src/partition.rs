//! The AWS partitions: which regions belong to which, their DNS suffix, and
//! the region IAM (a global service) is signed for in each.
//!
//! Owns: the partition table, copied from the AWS SDK for Rust's partition
//! data (`partitions.json`, embedded in `src/endpoint_lib.rs` of
//! aws-sdk-iam 1.133.0, aws-sdk-sts 1.124.0 and aws-sdk-eks 1.160.0, all
//! three identical) and from IAM's endpoint rules (the `signingRegion` of
//! each partition's global IAM endpoint, `src/config/endpoint.rs` of
//! aws-sdk-iam 1.133.0); [`partition_of`], the region → partition rule; and
//! the list of partition IDs that ARNs may name. Does not own: endpoints or
//! signing (the provider's AWS layer asks the SDK). The provider has a unit
//! test that resolves IAM and STS endpoints with the SDK for one region of
//! every partition and compares them with this table, so an SDK update that
//! changes the data fails a test instead of going unnoticed.

use regex_lite::Regex;
use std::sync::LazyLock;

/// One AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// The partition ID, as written in ARNs (`arn:<id>:…`).
    pub id: &'static str,
    /// The SDK's `regionRegex`: the regions of this partition.
    pub region_regex: &'static str,
    /// The SDK's `dnsSuffix`: every regional endpoint host ends with it.
    pub dns_suffix: &'static str,
    /// The SDK's `implicitGlobalRegion`: where a global service lives.
    pub implicit_global_region: &'static str,
    /// The region IAM requests are signed for (IAM is global; the
    /// `signingRegion` of the partition's IAM endpoint). Not always the
    /// implicit global region: `aws-cn` signs IAM for `cn-north-1`.
    pub iam_signing_region: &'static str,
    /// A region of the partition, for examples and tests.
    pub sample_region: &'static str,
}

/// Every partition, in the SDK's order (which decides nothing: the region
/// patterns do not overlap).
pub const PARTITIONS: [Partition; 8] = [
    Partition {
        id: "aws",
        region_regex: r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        dns_suffix: "amazonaws.com",
        implicit_global_region: "us-east-1",
        iam_signing_region: "us-east-1",
        sample_region: "us-west-2",
    },
    Partition {
        id: "aws-cn",
        region_regex: r"^cn\-\w+\-\d+$",
        dns_suffix: "amazonaws.com.cn",
        implicit_global_region: "cn-northwest-1",
        iam_signing_region: "cn-north-1",
        sample_region: "cn-northwest-1",
    },
    Partition {
        id: "aws-eusc",
        region_regex: r"^eusc\-(de)\-\w+\-\d+$",
        dns_suffix: "amazonaws.eu",
        implicit_global_region: "eusc-de-east-1",
        iam_signing_region: "eusc-de-east-1",
        sample_region: "eusc-de-east-1",
    },
    Partition {
        id: "aws-iso",
        region_regex: r"^us\-iso\-\w+\-\d+$",
        dns_suffix: "c2s.ic.gov",
        implicit_global_region: "us-iso-east-1",
        iam_signing_region: "us-iso-east-1",
        sample_region: "us-iso-west-1",
    },
    Partition {
        id: "aws-iso-b",
        region_regex: r"^us\-isob\-\w+\-\d+$",
        dns_suffix: "sc2s.sgov.gov",
        implicit_global_region: "us-isob-east-1",
        iam_signing_region: "us-isob-east-1",
        sample_region: "us-isob-east-1",
    },
    Partition {
        id: "aws-iso-e",
        region_regex: r"^eu\-isoe\-\w+\-\d+$",
        dns_suffix: "cloud.adc-e.uk",
        implicit_global_region: "eu-isoe-west-1",
        iam_signing_region: "eu-isoe-west-1",
        sample_region: "eu-isoe-west-1",
    },
    Partition {
        id: "aws-iso-f",
        region_regex: r"^us\-isof\-\w+\-\d+$",
        dns_suffix: "csp.hci.ic.gov",
        implicit_global_region: "us-isof-south-1",
        iam_signing_region: "us-isof-south-1",
        sample_region: "us-isof-east-1",
    },
    Partition {
        id: "aws-us-gov",
        region_regex: r"^us\-gov\-\w+\-\d+$",
        dns_suffix: "amazonaws.com",
        implicit_global_region: "us-gov-west-1",
        iam_signing_region: "us-gov-west-1",
        sample_region: "us-gov-east-1",
    },
];

/// The partition the SDK puts a region in when no pattern matches it.
pub const FALLBACK: &Partition = &PARTITIONS[0];

/// The compiled region patterns, in the order of [`PARTITIONS`]; `None`
/// for a pattern that does not compile (a test proves none is).
static PATTERNS: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    PARTITIONS
        .iter()
        .map(|p| Regex::new(p.region_regex).ok())
        .collect()
});

/// The partition whose region pattern matches `region`; `None` for a
/// region of no known partition.
pub fn partition_of(region: &str) -> Option<&'static Partition> {
    PARTITIONS
        .iter()
        .zip(PATTERNS.iter())
        .find(|(_, re)| re.as_ref().is_some_and(|re| re.is_match(region)))
        .map(|(p, _)| p)
}

/// The partition of `region` as the SDK resolves it: a region no pattern
/// matches is put in [`FALLBACK`] (`aws`), as the SDK's endpoint rules do.
pub fn resolve(region: &str) -> &'static Partition {
    partition_of(region).unwrap_or(FALLBACK)
}

/// The partition with this ID.
pub fn by_id(id: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| p.id == id)
}

/// Every partition ID, quoted and joined for error texts and descriptions
/// (`"aws", "aws-cn", …`).
pub fn ids_text() -> String {
    PARTITIONS
        .iter()
        .map(|p| format!("{:?}", p.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that `id` names a known partition.
pub fn check_id(id: &str) -> Result<(), String> {
    match by_id(id) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{id:?} is not an AWS partition; expected one of {}.",
            ids_text()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert!(PATTERNS.iter().all(Option::is_some));
    }

    #[test]
    fn every_partition_owns_its_sample_and_global_regions() {
        for p in &PARTITIONS {
            for region in [
                p.sample_region,
                p.implicit_global_region,
                p.iam_signing_region,
            ] {
                assert_eq!(partition_of(region).map(|p| p.id), Some(p.id), "{region}");
                assert!(crate::names::check_region(region).is_ok(), "{region}");
            }
        }
    }

    #[test]
    fn regions_map_to_partitions() {
        for (region, id) in [
            ("us-east-1", Some("aws")),
            ("mx-central-1", Some("aws")),
            ("il-central-1", Some("aws")),
            ("cn-north-1", Some("aws-cn")),
            ("us-gov-west-1", Some("aws-us-gov")),
            ("us-iso-east-1", Some("aws-iso")),
            ("us-isob-east-1", Some("aws-iso-b")),
            ("eu-isoe-west-1", Some("aws-iso-e")),
            ("us-isof-south-1", Some("aws-iso-f")),
            ("eusc-de-east-1", Some("aws-eusc")),
            ("eusc-fr-east-1", None),
            ("xx-east-1", None),
            ("us-east", None),
            ("", None),
        ] {
            assert_eq!(partition_of(region).map(|p| p.id), id, "{region}");
        }
        assert_eq!(resolve("xx-east-1").id, "aws");
    }

    #[test]
    fn ids_are_unique_and_checked() {
        for p in &PARTITIONS {
            assert_eq!(by_id(p.id), Some(p));
            assert!(check_id(p.id).is_ok());
        }
        for bad in ["", "azure", "aws:cn", "AWS", "aws-", "aws-iso-z"] {
            let e = check_id(bad).unwrap_err();
            assert!(e.contains("\"aws-iso-f\""), "{e}");
        }
    }
}
