//! A made role as a value ([`RoleShape`]: policies, boundary, trust,
//! tags) and the smallest set of IAM calls from one shape to another.
//!
//! Owns: the role diff. Does not own: the IAM calls themselves (the
//! provider's AWS layer) or what shape is wanted (`super::wanted`).

use super::permissions::{INLINE_POLICY_NAME, WELL_KNOWN_POLICY_NAME};
use crate::policy;
use crate::tags::{self, TagChange, Tags};
use std::collections::BTreeSet;

/// A made role as configured or as found in IAM.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleShape {
    /// Attached managed policies.
    pub managed_policy_arns: BTreeSet<String>,
    /// The inline policy `permission_policy` is stored as, if any.
    pub permission_policy: Option<String>,
    /// Its name (`None`: [`INLINE_POLICY_NAME`]).
    pub permission_policy_name: Option<String>,
    /// Inline policy [`WELL_KNOWN_POLICY_NAME`], if any.
    pub well_known_policy: Option<String>,
    /// Permissions boundary.
    pub permissions_boundary_arn: Option<String>,
    /// Trust policy document.
    pub trust_policy: String,
    /// Tags (owner tag included).
    pub tags: Tags,
    /// Description (IAM reports none as empty or absent). `None` in a wanted
    /// shape: not managed, left as IAM has it (the made role of an
    /// association or addon entry).
    pub description: Option<String>,
    /// MaxSessionDuration in seconds. `None` in a wanted shape: not managed.
    pub max_session_duration: Option<i64>,
}

/// The settings UpdateRole writes: both are sent, each the wanted value or
/// the one found (UpdateRole's parameters are optional, but an
/// implementation that resets an omitted one must not lose it).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoleSettings {
    /// Description (`None`: send none).
    pub description: Option<String>,
    /// MaxSessionDuration (`None`: send none).
    pub max_session_duration: Option<i64>,
}

/// The IAM calls that turn one [`RoleShape`] into another, never more.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoleChange {
    /// AttachRolePolicy.
    pub attach: Vec<String>,
    /// DetachRolePolicy.
    pub detach: Vec<String>,
    /// PutRolePolicy (name, document).
    pub put_inline: Vec<(String, String)>,
    /// DeleteRolePolicy.
    pub delete_inline: Vec<String>,
    /// PutRolePermissionsBoundary (`Some(Some)`) or DeleteRolePermissionsBoundary (`Some(None)`).
    pub boundary: Option<Option<String>>,
    /// UpdateAssumeRolePolicy.
    pub trust_policy: Option<String>,
    /// TagRole / UntagRole.
    pub tags: TagChange,
    /// UpdateRole (description, longest session).
    pub settings: Option<RoleSettings>,
}

impl RoleChange {
    /// True when the role is already as wanted.
    pub fn is_empty(&self) -> bool {
        self.attach.is_empty()
            && self.detach.is_empty()
            && self.put_inline.is_empty()
            && self.delete_inline.is_empty()
            && self.boundary.is_none()
            && self.trust_policy.is_none()
            && self.tags.is_empty()
            && self.settings.is_none()
    }
}

impl RoleShape {
    /// The name of the inline policy `permission_policy` is stored as.
    pub fn permission_policy_name(&self) -> &str {
        self.permission_policy_name
            .as_deref()
            .unwrap_or(INLINE_POLICY_NAME)
    }
}

fn inline_change(
    name: &str,
    actual: &Option<String>,
    wanted: &Option<String>,
    change: &mut RoleChange,
) {
    match (actual, wanted) {
        (Some(a), Some(w)) if policy::equivalent(a, w) => {}
        (_, Some(w)) => change.put_inline.push((name.to_string(), w.clone())),
        (Some(_), None) => change.delete_inline.push(name.to_string()),
        (None, None) => {}
    }
}

/// The smallest change from `actual` to `wanted`.
pub fn plan_role_change(actual: &RoleShape, wanted: &RoleShape) -> RoleChange {
    let mut c = RoleChange {
        attach: wanted
            .managed_policy_arns
            .difference(&actual.managed_policy_arns)
            .cloned()
            .collect(),
        detach: actual
            .managed_policy_arns
            .difference(&wanted.managed_policy_arns)
            .cloned()
            .collect(),
        ..Default::default()
    };
    let (was, wants) = (
        actual.permission_policy_name(),
        wanted.permission_policy_name(),
    );
    if was == wants {
        inline_change(
            wants,
            &actual.permission_policy,
            &wanted.permission_policy,
            &mut c,
        );
    } else {
        // Renamed: the new one is put first (the apply runs puts before
        // deletes), so the role never lacks the permission.
        inline_change(wants, &None, &wanted.permission_policy, &mut c);
        inline_change(was, &actual.permission_policy, &None, &mut c);
    }
    inline_change(
        WELL_KNOWN_POLICY_NAME,
        &actual.well_known_policy,
        &wanted.well_known_policy,
        &mut c,
    );
    if actual.permissions_boundary_arn != wanted.permissions_boundary_arn {
        c.boundary = Some(wanted.permissions_boundary_arn.clone());
    }
    if !policy::equivalent(&actual.trust_policy, &wanted.trust_policy) {
        c.trust_policy = Some(wanted.trust_policy.clone());
    }
    c.tags = tags::diff(&actual.tags, &wanted.tags);
    c.settings = settings_change(actual, wanted);
    c
}

/// UpdateRole's settings when a managed description or longest session
/// differs from what was found (an absent description is the empty one).
fn settings_change(actual: &RoleShape, wanted: &RoleShape) -> Option<RoleSettings> {
    let found_description = actual.description.clone().unwrap_or_default();
    let description_differs = wanted
        .description
        .as_ref()
        .is_some_and(|d| *d != found_description);
    let duration_differs = wanted
        .max_session_duration
        .is_some_and(|m| actual.max_session_duration != Some(m));
    (description_differs || duration_differs).then(|| RoleSettings {
        description: wanted
            .description
            .clone()
            .or_else(|| actual.description.clone()),
        max_session_duration: wanted.max_session_duration.or(actual.max_session_duration),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::*;

    #[test]
    fn role_change_touches_only_what_changed() {
        let trust = trust_policy(None, None).to_string();
        let actual = RoleShape {
            managed_policy_arns: ["a".to_string(), "b".to_string()].into(),
            permission_policy: Some(
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
            ),
            trust_policy: trust.clone(),
            ..Default::default()
        };
        let mut wanted = actual.clone();
        assert!(plan_role_change(&actual, &wanted).is_empty());
        wanted.managed_policy_arns = ["b".to_string(), "c".to_string()].into();
        wanted.permission_policy = None;
        wanted.permissions_boundary_arn = Some("arn:aws:iam::aws:policy/PowerUserAccess".into());
        let c = plan_role_change(&actual, &wanted);
        assert_eq!(c.attach, vec!["c".to_string()]);
        assert_eq!(c.detach, vec!["a".to_string()]);
        assert_eq!(c.delete_inline, vec![INLINE_POLICY_NAME.to_string()]);
        assert!(c.put_inline.is_empty());
        assert_eq!(
            c.boundary,
            Some(Some("arn:aws:iam::aws:policy/PowerUserAccess".into()))
        );
        assert_eq!(c.trust_policy, None);
        // A semantically equal inline policy in other text: no call.
        let mut reformatted = actual.clone();
        reformatted.permission_policy = Some(
            r#"{ "Statement": { "Resource": "*", "Action": ["s3:*"], "Effect": "Allow" } }"#.into(),
        );
        assert!(plan_role_change(&actual, &reformatted).is_empty());
        // A renamed inline policy: the new name is put, the old deleted.
        let mut renamed = actual.clone();
        renamed.permission_policy_name = Some("s3-access".into());
        let c = plan_role_change(&actual, &renamed);
        assert_eq!(c.put_inline.len(), 1);
        assert_eq!(c.put_inline[0].0, "s3-access");
        assert_eq!(c.delete_inline, vec![INLINE_POLICY_NAME.to_string()]);
        assert!(plan_role_change(&renamed, &renamed).is_empty());
        // The default written out is the default.
        let mut explicit = actual.clone();
        explicit.permission_policy_name = Some(INLINE_POLICY_NAME.into());
        assert!(plan_role_change(&actual, &explicit).is_empty());
    }

    #[test]
    fn settings_change_only_when_managed_and_different() {
        let found = RoleShape {
            description: None,
            max_session_duration: Some(3600),
            ..Default::default()
        };
        // Not managed (an association's made role): never an UpdateRole.
        assert!(plan_role_change(&found, &RoleShape::default()).is_empty());
        // No description is the empty one.
        let none = RoleShape {
            description: Some(String::new()),
            ..Default::default()
        };
        assert!(plan_role_change(&found, &none).is_empty());
        // A description: both settings are sent, the duration as found.
        let described = RoleShape {
            description: Some("d".into()),
            ..Default::default()
        };
        assert_eq!(
            plan_role_change(&found, &described).settings,
            Some(RoleSettings {
                description: Some("d".into()),
                max_session_duration: Some(3600),
            })
        );
        // A longer session: the description as wanted.
        let longer = RoleShape {
            description: Some(String::new()),
            max_session_duration: Some(7200),
            ..Default::default()
        };
        assert_eq!(
            plan_role_change(&found, &longer).settings,
            Some(RoleSettings {
                description: Some(String::new()),
                max_session_duration: Some(7200),
            })
        );
    }
}
