//! IAM's limits on a made role: managed policies per role, the aggregate
//! size of its inline policies, the length of its path, and the tag that
//! records its well-known policy names (which must fit one tag value).
//!
//! Owns: those limits and the checks that need nothing but the value. Does
//! not own: adding up what a configuration asks for (`super::config`).

use crate::reserved_tags;

/// Tag on a made role listing its well-known policy names (see
/// [`reserved_tags::WELL_KNOWN_TAG`]).
pub const WELL_KNOWN_TAG: &str = reserved_tags::WELL_KNOWN_TAG;

/// IAM's limit on the aggregate size of a role's inline policies (characters, whitespace excluded).
pub const INLINE_POLICY_MAX_LEN: usize = 10_240;
/// Most managed policies attachable to a role: the highest the IAM quota
/// "Managed policies attached to an IAM role" can be raised to (IAM User
/// Guide, IAM and AWS STS quotas: default 10, adjustable up to 20).
pub const MAX_MANAGED_POLICIES: usize = 20;
/// The default of that quota: above it the plan warns (the account may not
/// have raised it), naming the quota.
pub const DEFAULT_MANAGED_POLICIES: usize = 10;
/// IAM's default quota on a role's trust policy, in characters without
/// whitespace ("Role trust policy length", ACLSizePerRole: 2,048 by
/// default, adjustable up to 4,096; IAM and AWS STS quotas).
pub const TRUST_POLICY_DEFAULT_MAX: usize = 2_048;
/// Longest role path.
pub const MAX_PATH_LEN: usize = 512;

/// Checks a role path: `/` or `/a/b/`, printable ASCII, at most 512 characters.
pub fn check_role_path(p: &str) -> Result<(), String> {
    let printable = p.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if p.len() > MAX_PATH_LEN
        || !p.starts_with('/')
        || !p.ends_with('/')
        || !printable
        || p.contains("//")
    {
        return Err(format!(
            "{p:?} is not a valid IAM role path: it must begin and end with '/', such as \"/\" or \"/pod-identity/\", with at most {MAX_PATH_LEN} printable characters."
        ));
    }
    Ok(())
}

/// The value of [`WELL_KNOWN_TAG`] for these names.
pub fn well_known_tag_value(names: &[String]) -> String {
    names.join(" ")
}

/// The well-known names must fit in one IAM tag value (it records them for import).
pub(super) fn check_well_known_tag(names: &[String]) -> Result<(), String> {
    let v = well_known_tag_value(names);
    reserved_tags::check_iam_value(&v).map_err(|e| {
        format!(
            "The provider records the well-known policy names on the role in the tag {WELL_KNOWN_TAG}, and their list {e}. Ask for fewer well-known policies on this role, or grant some with permission_policy_arns or permission_policy."
        )
    })
}

/// The size IAM counts of a policy document: characters without whitespace
/// (outside strings too: a rough upper bound inside them is fine for a
/// warning).
pub fn policy_size(doc: &serde_json::Value) -> usize {
    doc.to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// The warning for a trust policy of `size` characters over IAM's default
/// quota (`what` says whose trust it is).
pub fn trust_size_warning(what: &str, size: usize) -> Option<String> {
    (size > TRUST_POLICY_DEFAULT_MAX).then(|| {
        format!(
            "{what} comes to {size} characters; IAM's default quota for a role's trust policy (ACLSizePerRole, \"Role trust policy length\") is {TRUST_POLICY_DEFAULT_MAX}. Unless this account's quota was raised (up to 4,096, Service Quotas), IAM refuses it with LimitExceeded at apply. Shorten the conditions, or ask for the quota."
        )
    })
}
