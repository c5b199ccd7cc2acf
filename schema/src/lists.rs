//! The list resources (`list` blocks in `.tfquery.hcl` files, `terraform
//! query`, Terraform >= 1.14): the `config` block of each, and what each
//! event shows people.
//!
//! Owns: the specs and state structs of the three `config` blocks, and the
//! display names. The provider's list code finds the objects; the events'
//! identities and objects are those of the managed resources.

use crate::names::{
    check_cluster_name, check_dns1123_label, check_dns1123_subdomain, check_region,
};
use crate::spec::{Attr, Kind, ResourceSpec};
use serde::{Deserialize, Serialize};

/// The `config` block of `list "eks_pod_identity_association"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AssociationListConfig {
    /// Only this cluster (null: every cluster of the region).
    pub cluster_name: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this service account.
    pub service_account: Option<String>,
    /// The region to look in (null: the provider's).
    pub region: Option<String>,
    /// List associations whose role this provider made too (null: false).
    pub include_managed: Option<bool>,
}

/// The `config` block's spec for `eks_pod_identity_association`.
pub fn association_spec() -> ResourceSpec {
    ResourceSpec {
        name: crate::association::TYPE_NAME,
        description: "Finds the pod identity associations of a cluster (or of every cluster of the region), for `terraform query`: each result is an association with its resource identity, and with `include_resource = true` (or `-generate-config-out`) its whole state, exactly as an import gives it. Left out, each with a warning that counts them: associations owned by an EKS addon (they are managed through `eks_addon_pod_identity`), and associations whose role this provider made for their service account (the role carries the owner tag `eks-tools:pod-identity` for its whole life, so they already belong to a Terraform state: importing them into a second one would make two states own them, and a destroy in either would delete them under the other). Deciding that reads each association and its role (DescribePodIdentityAssociation and GetRole, one GetRole per role), also without `include_resource`; `include_managed = true` skips it.",
        version: 0,
        attrs: vec![
            Attr::optional(
                "cluster_name",
                Kind::String,
                "Only this cluster's associations. Null: every cluster of the region (ListClusters).",
            )
            .check(check_cluster_name),
            Attr::optional("namespace", Kind::String, "Only associations in this namespace.")
                .check(check_dns1123_label),
            Attr::optional(
                "service_account",
                Kind::String,
                "Only associations of this service account.",
            )
            .check(check_dns1123_subdomain),
            Attr::optional(
                "region",
                Kind::String,
                "The region to look in, when it is not the provider's (as the resource's `region`). Results carry it in their identity and state.",
            )
            .check(check_region),
            Attr::optional(
                "include_managed",
                Kind::Bool,
                "Also list the associations whose role this provider made (the owner tag), which another Terraform state probably owns. Default false. Set it only to adopt them after their state was lost, or once the owning state has let go of them (`terraform state rm`); with `include_resource`, a warning counts them. With true, an identity-only listing makes no call per association (one ListPodIdentityAssociations per cluster).",
            ),
        ],
        blocks: vec![],
    }
}

/// The `config` block of `list "eks_addon_pod_identity"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AddonListConfig {
    /// Only this cluster (null: every cluster of the region).
    pub cluster_name: Option<String>,
    /// Only this addon.
    pub addon_name: Option<String>,
    /// Only addons with at least one pod identity association.
    pub with_pod_identity_only: Option<bool>,
    /// The region to look in (null: the provider's).
    pub region: Option<String>,
    /// List addons with roles this provider made too (null: false).
    pub include_managed: Option<bool>,
}

/// The `config` block's spec for `eks_addon_pod_identity`.
pub fn addon_spec() -> ResourceSpec {
    ResourceSpec {
        name: crate::addon::TYPE_NAME,
        description: "Finds the addons of a cluster (or of every cluster of the region), for `terraform query`: each result is an addon with its resource identity, and with `include_resource = true` (or `-generate-config-out`) its whole state, exactly as an import gives it (its pod identity associations, and the roles this provider made recognised by their owner tag). An addon with a pod identity association whose role this provider made (`eks_addon_pod_identity` tags it `eks-tools:pod-identity` for its whole life) is left out, with a warning that counts them: it already belongs to a Terraform state, and importing it into a second one would make two states own it, and a destroy in either would delete it under the other. Deciding that describes each addon, its associations and their roles, also without `include_resource`; `include_managed = true` skips it.",
        version: 0,
        attrs: vec![
            Attr::optional(
                "cluster_name",
                Kind::String,
                "Only this cluster's addons. Null: every cluster of the region (ListClusters).",
            )
            .check(check_cluster_name),
            Attr::optional("addon_name", Kind::String, "Only this addon (such as `vpc-cni`)."),
            Attr::optional(
                "with_pod_identity_only",
                Kind::Bool,
                "Only addons that have at least one pod identity association (what an IRSA-to-pod-identity review wants). Default false. With true, each addon is described (one DescribeAddon each) even without `include_resource`.",
            ),
            Attr::optional(
                "region",
                Kind::String,
                "The region to look in, when it is not the provider's (as the resource's `region`). Results carry it in their identity and state.",
            )
            .check(check_region),
            Attr::optional(
                "include_managed",
                Kind::Bool,
                "Also list the addons with roles this provider made (the owner tag), which another Terraform state probably owns. Default false. Set it only to adopt them after their state was lost, or once the owning state has let go of them (`terraform state rm`); with `include_resource`, a warning counts them. With true (and `with_pod_identity_only` false), an identity-only listing makes no call per addon (one ListAddons per cluster).",
            ),
        ],
        blocks: vec![],
    }
}

/// What `terraform query` shows for an association.
pub fn association_display_name(cluster: &str, namespace: &str, service_account: &str) -> String {
    format!("{cluster}: {namespace}/{service_account}")
}

/// The `config` block of `list "eks_pod_identity_role"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RoleListConfig {
    /// Only roles whose path begins with this (null: `/`, every path).
    pub path_prefix: Option<String>,
    /// Only roles whose name begins with this.
    pub name_prefix: Option<String>,
}

/// Checks a `path_prefix` by IAM's ListRoles rules: begins with `/`, then
/// at most 511 characters from `!` to `~`.
fn check_path_prefix(p: &str) -> Result<(), String> {
    let printable = p
        .chars()
        .skip(1)
        .all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if !p.starts_with('/') || p.len() > 512 || !printable {
        return Err(format!(
            "{p:?} is not an IAM path prefix: it begins with '/', such as \"/\" or \"/pod-identity/\", with at most 512 printable characters."
        ));
    }
    Ok(())
}

/// The `config` block's spec for `eks_pod_identity_role`.
pub fn role_spec() -> ResourceSpec {
    ResourceSpec {
        name: crate::pod_identity_role::TYPE_NAME,
        description: "Finds the IAM roles that `eks_pod_identity_role` made, for `terraform query`: only roles carrying this resource kind's owner tag (`eks-tools:pod-identity` = `pod-identity-role:<name>`); roles anybody else made, and the roles an association or addon entry made for its service account, are never listed. Each result is a role with its resource identity, and with `include_resource = true` (or `-generate-config-out`) its whole state, exactly as an import gives it. A role listed here was made by some Terraform state: use it to find one whose state was lost (or that a kill left between its creation and the state's write) and import it, never to import a role another state still manages (destroying either would delete it under the other). A role still being created (it carries the creation lease `eks-tools:creating`) is left out, with a warning that counts them. IAM's ListRoles does not report tags, so the listing reads each role under `path_prefix` (GetRole, a few at a time): narrow it with `path_prefix` or `name_prefix` in a large account.",
        version: 0,
        attrs: vec![
            Attr::optional(
                "path_prefix",
                Kind::String,
                "Only roles whose path begins with this, such as `/pod-identity/`. Default `/`: every path.",
            )
            .check(check_path_prefix),
            Attr::optional(
                "name_prefix",
                Kind::String,
                "Only roles whose name begins with this (such as an `eks_pod_identity_role`'s `name_prefix`). Filtered before any GetRole.",
            ),
        ],
        blocks: vec![],
    }
}

/// What `terraform query` shows for a role: its path and name.
pub fn role_display_name(path: &str, name: &str) -> String {
    format!("{path}{name}")
}

/// What `terraform query` shows for an addon.
pub fn addon_display_name(cluster: &str, addon: &str) -> String {
    format!("{cluster}: {addon}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_say_cluster_and_object() {
        assert_eq!(
            association_display_name("prod", "kube-system", "external-dns"),
            "prod: kube-system/external-dns"
        );
        assert_eq!(addon_display_name("prod", "vpc-cni"), "prod: vpc-cni");
        assert_eq!(role_display_name("/pi/", "shared"), "/pi/shared");
    }

    #[test]
    fn role_list_path_prefix_follows_iam() {
        for ok in ["/", "/pod-identity/", "/pod"] {
            assert!(check_path_prefix(ok).is_ok(), "{ok}");
        }
        for bad in ["", "pod/", "/a b", &format!("/{}", "a".repeat(512))] {
            assert!(check_path_prefix(bad).is_err(), "{bad}");
        }
        let names: Vec<_> = role_spec().attrs.iter().map(|x| x.name).collect();
        assert_eq!(names, ["path_prefix", "name_prefix"]);
    }

    #[test]
    fn specs_check_their_names() {
        let a = association_spec();
        let names: Vec<_> = a.attrs.iter().map(|x| x.name).collect();
        assert_eq!(
            names,
            [
                "cluster_name",
                "namespace",
                "service_account",
                "region",
                "include_managed"
            ]
        );
        assert!(
            a.attrs
                .iter()
                .all(|x| x.mode == crate::spec::Mode::Optional)
        );
        let b = addon_spec();
        let names: Vec<_> = b.attrs.iter().map(|x| x.name).collect();
        assert_eq!(
            names,
            [
                "cluster_name",
                "addon_name",
                "with_pod_identity_only",
                "region",
                "include_managed"
            ]
        );
    }
}
