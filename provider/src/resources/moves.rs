//! What every move from the AWS provider shares (issue 26 item 1): which
//! sources are accepted, reading attributes out of the source state's JSON,
//! and the one diagnostic a refused move gives.
//!
//! A `moved` block from `aws_eks_pod_identity_association`,
//! `aws_eks_addon` or `aws_iam_role` of `hashicorp/aws` hands the AWS provider's state to the
//! target resource (MoveResourceState). Terraform calls it before it
//! configures the provider (OpenTofu after), so a move is a pure
//! translation of the state it is given: no AWS call, nothing made. The
//! read Terraform makes right after it fills in what only AWS knows.
//!
//! Owns: the source checks and the JSON readers. Does not own: each
//! resource's translation (its own `moves.rs`).

use serde_json::{Map, Value as Json};
use tfplugin::{Diagnostic, MoveRequest, MoveResponse, Schema, Value};

/// The provider addresses the AWS provider is installed from (Terraform's
/// registry, OpenTofu's).
pub(crate) const AWS_PROVIDERS: [&str; 2] = [
    "registry.terraform.io/hashicorp/aws",
    "registry.opentofu.org/hashicorp/aws",
];

/// Why a move is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum MoveError {
    /// The source is not the AWS provider.
    #[error(
        "{target} takes over only {accepted} of the AWS provider (hashicorp/aws), not {source_type} of {address}."
    )]
    OtherProvider {
        /// the target type
        target: &'static str,
        /// the type it accepts
        accepted: &'static str,
        /// the source's type
        source_type: String,
        /// the source's provider
        address: String,
    },
    /// The source is another resource type of the AWS provider.
    #[error(
        "{target} takes over only {accepted} of the AWS provider, not {source_type}. Move {source_type} to its own equivalent, if this provider has one: aws_eks_pod_identity_association moves to eks_pod_identity_association, aws_eks_addon to eks_addon_pod_identity, aws_iam_role to eks_pod_identity_role."
    )]
    OtherType {
        /// the target type
        target: &'static str,
        /// the type it accepts
        accepted: &'static str,
        /// the source's type
        source_type: String,
    },
    /// A schema version of the source that no known release wrote.
    #[error(
        "The {source_type} state has schema version {version}; the AWS provider releases this provider knows write version 0. Refresh it with the AWS provider release it came from, or remove it from state and import the object into {target}."
    )]
    Version {
        /// the target type
        target: &'static str,
        /// the source's type
        source_type: String,
        /// the source's schema version
        version: i64,
    },
    /// A state this provider's resource cannot hold as it is.
    #[error("The {source_type} state cannot move as it is: {detail}")]
    Unsupported {
        /// the source's type
        source_type: String,
        /// what it holds, and what to do
        detail: String,
    },
    /// A required attribute is missing or not a string.
    #[error(
        "The {source_type} state has no {attribute} (a string is expected): it is not a state the AWS provider writes."
    )]
    Missing {
        /// the source's type
        source_type: String,
        /// the attribute
        attribute: &'static str,
    },
}

impl MoveError {
    /// The diagnostic of a refused move to `target`.
    pub(crate) fn to_diagnostic(&self, target: &str) -> Diagnostic {
        Diagnostic::error(
            format!("Cannot move this state to {target}"),
            self.to_string(),
        )
    }
}

/// The source state's attributes, once the source is the AWS provider's
/// `accepted` type at schema version 0.
pub(crate) fn aws_source<'a>(
    req: &'a MoveRequest,
    accepted: &'static str,
    target: &'static str,
) -> Result<Source<'a>, MoveError> {
    if !AWS_PROVIDERS.contains(&req.source_provider_address.as_str()) {
        return Err(MoveError::OtherProvider {
            target,
            accepted,
            source_type: req.source_type_name.clone(),
            address: req.source_provider_address.clone(),
        });
    }
    if req.source_type_name != accepted {
        return Err(MoveError::OtherType {
            target,
            accepted,
            source_type: req.source_type_name.clone(),
        });
    }
    if req.source_schema_version != 0 {
        return Err(MoveError::Version {
            target,
            source_type: req.source_type_name.clone(),
            version: req.source_schema_version,
        });
    }
    static EMPTY: std::sync::OnceLock<Map<String, Json>> = std::sync::OnceLock::new();
    let attrs = req
        .source_state
        .as_object()
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new));
    Ok(Source {
        type_name: accepted,
        attrs,
    })
}

/// The source state's attributes.
pub(crate) struct Source<'a> {
    type_name: &'static str,
    attrs: &'a Map<String, Json>,
}

impl Source<'_> {
    /// A required string attribute.
    pub(crate) fn required(&self, attribute: &'static str) -> Result<String, MoveError> {
        self.text(attribute).ok_or_else(|| MoveError::Missing {
            source_type: self.type_name.to_string(),
            attribute,
        })
    }

    /// A string attribute; null, absent and `""` (how the AWS provider's
    /// SDKv2 resources store an unset string) are `None`.
    pub(crate) fn text(&self, attribute: &str) -> Option<String> {
        self.attrs
            .get(attribute)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// A whole-number attribute (null, absent or not a whole number: `None`).
    pub(crate) fn number(&self, attribute: &str) -> Option<i64> {
        self.attrs.get(attribute).and_then(Json::as_i64)
    }

    /// A bool attribute (null or absent: `None`).
    pub(crate) fn flag(&self, attribute: &str) -> Option<bool> {
        self.attrs.get(attribute).and_then(Json::as_bool)
    }

    /// The strings of a list or set attribute (null and absent: empty).
    pub(crate) fn strings(&self, attribute: &str) -> std::collections::BTreeSet<String> {
        self.attrs
            .get(attribute)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A map of strings; null, absent and empty are `None` (an empty map
    /// and no map plan the same in a configuration without it).
    pub(crate) fn tags(&self, attribute: &str) -> Option<schema::tags::Tags> {
        let m = self.attrs.get(attribute)?.as_object()?;
        let tags: schema::tags::Tags = m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        (!tags.is_empty()).then_some(tags)
    }

    /// An object attribute (a single block), as stored.
    pub(crate) fn object(&self, attribute: &str) -> Option<&Map<String, Json>> {
        self.attrs.get(attribute)?.as_object()
    }

    /// The type this source is.
    pub(crate) fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The objects of a list or set attribute (block), as stored.
    pub(crate) fn objects(&self, attribute: &str) -> Vec<&Map<String, Json>> {
        self.attrs
            .get(attribute)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_object)
            .collect()
    }

    /// The region: the state's own (`region`, AWS provider v6), else the
    /// one the ARN in `arn_attribute` names (v5 states have none), as this
    /// provider records it.
    pub(crate) fn region(&self, arn_attribute: &str) -> Option<String> {
        self.text("region").or_else(|| {
            let arn = self.text(arn_attribute)?;
            let mut parts = arn.split(':');
            (parts.next() == Some("arn"))
                .then(|| parts.nth(2))
                .flatten()
                .filter(|r| !r.is_empty())
                .map(str::to_string)
        })
    }
}

/// The answer to a move: the translated state `moved` (or the refusal),
/// in the target's `schema`, with the target's private state and identity
/// (`None`: derived from the state by Terraform) made from it.
pub(crate) fn respond<S: serde::Serialize>(
    moved: Result<S, MoveError>,
    target: &str,
    schema: &Schema,
    private: impl FnOnce(&S) -> Vec<u8>,
    identity: impl FnOnce(&S) -> Option<Value>,
) -> MoveResponse {
    let state = match moved {
        Ok(s) => s,
        Err(e) => return MoveResponse::refused(e.to_diagnostic(target).into()),
    };
    match crate::spec_map::to_value(&state, schema) {
        Ok(v) => MoveResponse {
            target_state: v,
            target_private: private(&state),
            target_identity: identity(&state),
            diagnostics: Default::default(),
        },
        Err(d) => MoveResponse::refused(d.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(address: &str, type_name: &str, version: i64) -> MoveRequest {
        MoveRequest {
            source_provider_address: address.into(),
            source_type_name: type_name.into(),
            source_schema_version: version,
            source_state: serde_json::json!({
                "cluster_name": "c",
                "empty": "",
                "tags": {},
                "association_arn": "arn:aws:eks:eu-west-1:111122223333:podidentityassociation/c/a-1"
            }),
            source_private: vec![],
            source_identity: None,
        }
    }

    #[test]
    fn only_the_aws_provider_and_the_accepted_type_at_version_0_are_moved() {
        let t = "aws_eks_addon";
        for address in AWS_PROVIDERS {
            assert!(aws_source(&request(address, t, 0), t, "eks_addon_pod_identity").is_ok());
        }
        let r = request("registry.terraform.io/acme/aws", t, 0);
        let other = aws_source(&r, t, "eks_addon_pod_identity");
        assert!(matches!(other, Err(MoveError::OtherProvider { .. })));
        let r = request(AWS_PROVIDERS[0], "aws_eks_cluster", 0);
        let wrong = aws_source(&r, t, "eks_addon_pod_identity").err();
        let text = wrong.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains("aws_eks_pod_identity_association moves to eks_pod_identity_association"),
            "{text}"
        );
        let r = request(AWS_PROVIDERS[0], t, 1);
        let newer = aws_source(&r, t, "eks_addon_pod_identity");
        assert!(matches!(newer, Err(MoveError::Version { version: 1, .. })));
    }

    #[test]
    fn unset_values_read_as_none_and_the_region_falls_back_to_the_arn() {
        let r = request(AWS_PROVIDERS[1], "aws_eks_pod_identity_association", 0);
        let s = aws_source(&r, "aws_eks_pod_identity_association", "x").ok();
        let Some(s) = s else {
            panic!("accepted source refused");
        };
        assert_eq!(s.required("cluster_name").ok().as_deref(), Some("c"));
        assert!(matches!(
            s.required("namespace"),
            Err(MoveError::Missing {
                attribute: "namespace",
                ..
            })
        ));
        assert_eq!(s.text("empty"), None);
        assert_eq!(s.tags("tags"), None);
        assert_eq!(s.region("association_arn").as_deref(), Some("eu-west-1"));
    }
}
