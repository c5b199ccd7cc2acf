//! What a made role is allowed: the names of the inline policies the
//! provider writes, and the checks of the permission attributes (managed
//! policy and permissions boundary ARNs, the inline policy and its name).
//!
//! Owns: the syntax of the permission attributes. Does not own: IAM's
//! size limits of a role (`super::limits`) or the rules between attributes
//! (`super::config`).

use super::limits::INLINE_POLICY_MAX_LEN;
use crate::policy;

/// Name of the inline policy that holds `permission_policy`.
pub const INLINE_POLICY_NAME: &str = "permission-policy";
/// Name of the inline policy that holds the well-known policies' statements.
pub const WELL_KNOWN_POLICY_NAME: &str = "well-known-policies";

/// Checks a managed policy ARN (`arn:aws:iam::aws:policy/...` or
/// `arn:aws:iam::123456789012:policy/...`), in any partition of
/// [`crate::partition::PARTITIONS`].
pub fn check_policy_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = matches!(
        parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if crate::partition::by_id(partition).is_some()
                && (*account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
                && resource.starts_with("policy/") && resource.len() > "policy/".len()
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not an IAM managed policy ARN: expected arn:PARTITION:iam::aws:policy/NAME (AWS managed) or arn:PARTITION:iam::ACCOUNT_ID:policy/NAME, PARTITION one of {}.",
            crate::partition::ids_text()
        ))
    }
}

/// Checks an inline permission policy given by the user.
pub fn check_permission_policy(text: &str) -> Result<(), String> {
    policy::check_document(text, INLINE_POLICY_MAX_LEN)
}

/// Checks `permission_policy_name`: an IAM policy name (1–128 of letters,
/// digits and `+=,.@_-`, IAM's PutRolePolicy pattern `[\w+=,.@-]+`) other
/// than the one the provider keeps for well-known policies.
pub fn check_inline_policy_name(s: &str) -> Result<(), String> {
    if s == WELL_KNOWN_POLICY_NAME {
        return Err(format!(
            "{WELL_KNOWN_POLICY_NAME:?} is the inline policy the provider writes for well_known_policies; choose another name."
        ));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if s.is_empty() || s.len() > 128 || !s.chars().all(ok_char) {
        return Err(format!(
            "{s:?} is not an IAM policy name: 1 to 128 letters, digits and + = , . @ _ -."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::*;

    #[test]
    fn paths_arns_conditions() {
        assert!(check_role_path("/").is_ok());
        assert!(check_role_path("/a/b/").is_ok());
        for bad in ["", "a/", "/a", "//", "/a b/"] {
            assert!(check_role_path(bad).is_err(), "{bad}");
        }
        assert!(check_policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").is_ok());
        assert!(
            check_policy_arn("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
                .is_ok()
        );
        assert!(check_policy_arn("arn:aws:iam::123456789012:policy/mine").is_ok());
        for bad in [
            "arn:aws:iam::aws:role/x",
            "arn:aws:iam::12:policy/x",
            "AmazonS3ReadOnlyAccess",
            "arn:aws:iam::aws:policy/",
        ] {
            assert!(check_policy_arn(bad).is_err(), "{bad}");
        }
        assert!(check_trust_conditions(r#"{"StringEquals":{"k":"v"}}"#).is_ok());
        assert!(check_trust_conditions(r#"{"StringEquals":"v"}"#).is_err());
        assert!(check_trust_conditions("nope").is_err());
    }

    #[test]
    fn inline_policy_names_are_checked() {
        assert!(check_inline_policy_name("s3-access").is_ok());
        assert!(check_inline_policy_name("eksctl-prod-Policy1").is_ok());
        assert!(check_inline_policy_name("a,b=c.d@e_f+g").is_ok());
        assert!(check_inline_policy_name("").is_err());
        assert!(check_inline_policy_name("has space").is_err());
        assert!(check_inline_policy_name(&"x".repeat(129)).is_err());
        assert!(check_inline_policy_name(&"x".repeat(128)).is_ok());
        let e = check_inline_policy_name(WELL_KNOWN_POLICY_NAME).unwrap_err();
        assert!(e.contains("well_known_policies"), "{e}");
    }
}
