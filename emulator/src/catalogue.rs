//! The addon catalogue: which addons and versions exist, which Kubernetes
//! versions each supports, the default version per Kubernetes version, and
//! each addon's pod identity configuration and configuration schema. The
//! data lives in `data/addons.json` and, for the addons whose real
//! DescribeAddonConfiguration output is published, `data/schemas/*.json`
//! (both compiled in; FACTS.md F8 names each source); this module owns
//! their types and look-ups and renders the DescribeAddonVersions /
//! DescribeAddonConfiguration shapes. It does not validate values against
//! a schema (`config_schema` does).

use serde::Deserialize;
use serde_json::{Value, json};

/// The catalogue file.
const BUILTIN: &str = include_str!("../data/addons.json");

/// Published DescribeAddonConfiguration outputs (FACTS.md F8), served for
/// every version of their addon instead of the catalogue's own schema.
const PUBLISHED: [&str; 2] = [
    include_str!("../data/schemas/vpc-cni.json"),
    include_str!("../data/schemas/coredns.json"),
];

/// One file of `data/schemas/`: a real DescribeAddonConfiguration output
/// and where it was published (`_source`, not read here).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Published {
    /// The addon it belongs to.
    addon_name: String,
    /// The version it was published for (FACTS.md F8; the emulator serves
    /// it for all versions of the addon).
    addon_version: String,
    /// The schema: the wire string as published, or (when the source shows
    /// it pretty-printed) the JSON itself.
    configuration_schema: Value,
}

/// All addons and the Kubernetes versions clusters may run.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalogue {
    /// Kubernetes versions a cluster may be created with.
    pub kubernetes_versions: Vec<String>,
    /// Addons, by name order of the file.
    pub addons: Vec<AddonSpec>,
}

/// One addon.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonSpec {
    /// Name.
    pub addon_name: String,
    /// Type (networking, storage, ...).
    #[serde(rename = "type")]
    pub addon_type: String,
    /// Publisher.
    pub publisher: String,
    /// Owner (aws, community).
    pub owner: String,
    /// Namespace the addon installs into.
    pub default_namespace: String,
    /// Whether its versions need IAM permissions.
    pub requires_iam_permissions: bool,
    /// Service accounts and recommended policies (for versions with pod
    /// identity support).
    pub pod_identity_configuration: Vec<PodIdentityConfig>,
    /// JSON schema of the configuration values: the published one
    /// (`data/schemas/`) or, where none is published, the emulator's own
    /// from `data/addons.json`.
    #[serde(default)]
    pub configuration_schema: Value,
    /// `configuration_schema` as DescribeAddonConfiguration serves it: the
    /// published text unchanged where there is one.
    #[serde(skip)]
    pub configuration_schema_text: String,
    /// The version whose published schema is served, if one is.
    #[serde(skip)]
    pub published_schema_version: Option<String>,
    /// Versions, newest first.
    pub versions: Vec<VersionSpec>,
}

/// A service account of an addon that can use pod identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityConfig {
    /// Service account name.
    pub service_account: String,
    /// Recommended managed policy ARNs.
    pub recommended_managed_policies: Vec<String>,
}

/// One version of an addon.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionSpec {
    /// Version string.
    pub addon_version: String,
    /// Whether this version supports EKS Pod Identity.
    pub pod_identity: bool,
    /// Kubernetes versions it runs on.
    pub cluster_versions: Vec<String>,
    /// Kubernetes versions for which it is the default.
    pub default_for: Vec<String>,
}

impl Catalogue {
    /// The compiled-in catalogue.
    pub fn builtin() -> Catalogue {
        // The files are part of the crate and a unit test parses them, so
        // a failure here is a build defect, not bad input.
        let mut cat: Catalogue =
            serde_json::from_str(BUILTIN).expect("data/addons.json is a valid catalogue");
        for addon in &mut cat.addons {
            addon.configuration_schema_text = addon.configuration_schema.to_string();
        }
        for text in PUBLISHED {
            let published: Published =
                serde_json::from_str(text).expect("data/schemas/*.json are valid");
            cat.use_published(published);
        }
        cat
    }

    /// Serves a published schema for its addon.
    fn use_published(&mut self, published: Published) {
        let Some(addon) = self
            .addons
            .iter_mut()
            .find(|a| a.addon_name == published.addon_name)
        else {
            return;
        };
        let (text, schema) = match published.configuration_schema {
            Value::String(text) => {
                let schema =
                    serde_json::from_str(&text).expect("a published configurationSchema is JSON");
                (text, schema)
            }
            schema => (schema.to_string(), schema),
        };
        addon.configuration_schema_text = text;
        addon.configuration_schema = schema;
        addon.published_schema_version = Some(published.addon_version);
    }

    /// An addon by name.
    pub fn find_addon(&self, name: &str) -> Option<&AddonSpec> {
        self.addons.iter().find(|a| a.addon_name == name)
    }
}

impl AddonSpec {
    /// A version by name.
    pub fn find_version(&self, version: &str) -> Option<&VersionSpec> {
        self.versions.iter().find(|v| v.addon_version == version)
    }

    /// Whether any version runs on `k8s`.
    pub fn supports_cluster(&self, k8s: &str) -> bool {
        self.versions
            .iter()
            .any(|v| v.cluster_versions.iter().any(|c| c == k8s))
    }

    /// The default version for `k8s`.
    pub fn default_version(&self, k8s: &str) -> Option<&VersionSpec> {
        self.versions
            .iter()
            .find(|v| v.default_for.iter().any(|c| c == k8s))
            .or_else(|| {
                self.versions
                    .iter()
                    .find(|v| v.cluster_versions.iter().any(|c| c == k8s))
            })
    }

    /// The pod identity configuration of a version (empty without support).
    pub fn pod_identity_of(&self, version: &VersionSpec) -> &[PodIdentityConfig] {
        if version.pod_identity {
            &self.pod_identity_configuration
        } else {
            &[]
        }
    }

    /// The `AddonInfo` shape, with the versions `keep` selects.
    pub fn info_json(&self, keep: impl Fn(&VersionSpec) -> bool) -> Value {
        let versions: Vec<Value> = self
            .versions
            .iter()
            .filter(|v| keep(v))
            .map(|v| {
                let compat: Vec<Value> = v
                    .cluster_versions
                    .iter()
                    .map(|c| {
                        json!({
                            "clusterVersion": c,
                            "platformVersions": ["*"],
                            "defaultVersion": v.default_for.contains(c),
                        })
                    })
                    .collect();
                json!({
                    "addonVersion": v.addon_version,
                    "architecture": ["amd64", "arm64"],
                    "computeTypes": ["ec2"],
                    "compatibilities": compat,
                    "requiresConfiguration": false,
                    "requiresIamPermissions": self.requires_iam_permissions,
                })
            })
            .collect();
        json!({
            "addonName": self.addon_name,
            "type": self.addon_type,
            "addonVersions": versions,
            "publisher": self.publisher,
            "owner": self.owner,
            "defaultNamespace": self.default_namespace,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_has_one_default_per_kubernetes_version() {
        let cat = Catalogue::builtin();
        for addon in &cat.addons {
            for k8s in &cat.kubernetes_versions {
                let defaults = addon
                    .versions
                    .iter()
                    .filter(|v| v.default_for.contains(k8s))
                    .count();
                assert_eq!(defaults, 1, "{} on {k8s}", addon.addon_name);
                for v in &addon.versions {
                    for d in &v.default_for {
                        assert!(v.cluster_versions.contains(d));
                    }
                }
            }
        }
    }

    #[test]
    fn pod_identity_minimum_versions() {
        let cat = Catalogue::builtin();
        let vpc = cat.find_addon("vpc-cni").unwrap();
        assert!(vpc.find_version("v1.15.5-eksbuild.1").unwrap().pod_identity);
        assert!(!vpc.find_version("v1.15.1-eksbuild.1").unwrap().pod_identity);
        for name in [
            "vpc-cni",
            "aws-ebs-csi-driver",
            "aws-efs-csi-driver",
            "amazon-cloudwatch-observability",
            "eks-pod-identity-agent",
            "coredns",
            "kube-proxy",
            "metrics-server",
        ] {
            assert!(cat.find_addon(name).is_some(), "{name}");
        }
        let cw = cat.find_addon("amazon-cloudwatch-observability").unwrap();
        assert_eq!(cw.default_namespace, "amazon-cloudwatch");
    }

    #[test]
    fn every_addon_has_a_schema_and_the_published_ones_are_served_as_published() {
        let cat = Catalogue::builtin();
        for addon in &cat.addons {
            assert!(
                addon.configuration_schema.is_object(),
                "{}",
                addon.addon_name
            );
            let served: Value = serde_json::from_str(&addon.configuration_schema_text).unwrap();
            assert_eq!(served, addon.configuration_schema, "{}", addon.addon_name);
        }
        let vpc = cat.find_addon("vpc-cni").unwrap();
        assert_eq!(
            vpc.published_schema_version.as_deref(),
            Some("v1.15.1-eksbuild.1")
        );
        assert!(
            vpc.configuration_schema_text
                .starts_with(r##"{"$ref":"#/definitions/VpcCni","##)
        );
        let coredns = cat.find_addon("coredns").unwrap();
        assert_eq!(
            coredns.published_schema_version.as_deref(),
            Some("v1.11.1-eksbuild.8")
        );
        assert!(
            cat.find_addon("aws-ebs-csi-driver")
                .unwrap()
                .published_schema_version
                .is_none()
        );
    }
}
