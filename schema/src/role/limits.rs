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
/// Most managed policies attachable to a role (the raised IAM quota; the default is 10).
pub const MAX_MANAGED_POLICIES: usize = 20;
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
