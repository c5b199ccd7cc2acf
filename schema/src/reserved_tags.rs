//! The tags the provider itself writes on AWS objects, in one place.
//!
//! Owns: every reserved tag key, its value and meaning, how many each kind
//! of object carries (so that plan-time checks count them against AWS's
//! limits), the owner tag's value format (kept within IAM's rules, with a
//! parser that recognises every form ever written), and IAM's stricter
//! rules for tag keys and values, which made roles must follow. Does not
//! own: tagging calls (provider crate) or the user's own tag rules shared by
//! EKS and IAM (`crate::tags`).
//!
//! | key | on | value | meaning |
//! |---|---|---|---|
//! | [`PENDING_TAG`] `eks-tools:creating` | associations and made roles, only while the create that makes them runs | RFC 3339 time | creation pending: an object still carrying it long after that time was left by an interrupted apply and may be adopted by the next apply that asks for exactly it (`docs/guides/ownership.md`); removed as the last step of create |
//! | [`CREATED_BY_TAG`] `eks-tools:created-by` | associations made by 0.1.0 (legacy; no longer written) | [`CREATED_BY_VALUE`] | kept reserved and hidden from `tags`/`tags_all`; never leads to adoption |
//! | [`OWNER_TAG`] `eks-tools:pod-identity` | roles the provider makes | [`owner_tag_value`]: `cluster/namespace/service_account`, hashed when longer than IAM allows; on an `eks_pod_identity_role`'s role [`shared_role_owner_value`]: `pod-identity-role:<name>` | marks the role as made for that service account (or that shared role): only such a role is adopted (never someone else's role with the same name) |
//! | [`WELL_KNOWN_TAG`] `eks-tools:well-known-policies` | roles the provider makes with `well_known_policies` | the names, space-separated | lets an import reconstruct `well_known_policies` exactly |
//!
//! A new reserved tag must be added here, to [`ASSOCIATION_TAGS`] or
//! [`MADE_ROLE_TAGS`], so that the limit checks count it.

use crate::tags::{MAX_KEY_LEN, MAX_TAGS, MAX_VALUE_LEN, Tags};
use sha2::{Digest, Sha256};

/// Tag on every pod identity association this provider creates.
pub const CREATED_BY_TAG: &str = "eks-tools:created-by";
/// The creation-pending marker on a new association or made role (value:
/// an RFC 3339 time), removed as the last step of the create.
pub const PENDING_TAG: &str = "eks-tools:creating";
/// Value of [`CREATED_BY_TAG`].
pub const CREATED_BY_VALUE: &str = "terraform-provider-eks";
/// Tag that marks a role as made by this provider for one service account;
/// its value is [`owner_tag_value`]. It lets an apply that died after
/// creating the role adopt it instead of failing or leaking it.
pub const OWNER_TAG: &str = "eks-tools:pod-identity";
/// Tag on a made role listing its well-known policy names (space-separated),
/// so that an import can reconstruct `well_known_policies` exactly.
pub const WELL_KNOWN_TAG: &str = "eks-tools:well-known-policies";

/// Every reserved key the provider writes on an association it creates.
pub const ASSOCIATION_TAGS: [&str; 1] = [PENDING_TAG];
/// Every reserved key the provider may write on a role it makes (the
/// well-known tag only when the role has well-known policies; limits count
/// both, so that adding well-known policies later never breaks the limit).
pub const MADE_ROLE_TAGS: [&str; 3] = [OWNER_TAG, WELL_KNOWN_TAG, PENDING_TAG];

/// Every reserved key.
pub const ALL: [&str; 4] = [CREATED_BY_TAG, PENDING_TAG, OWNER_TAG, WELL_KNOWN_TAG];

/// True when `key` is one the provider reserves for itself. IAM compares
/// keys without regard to case, so this does too.
pub fn is_reserved(key: &str) -> bool {
    ALL.iter().any(|r| r.eq_ignore_ascii_case(key))
}

/// How many tags of the user's (default tags included) an association may
/// carry: all of EKS's limit. The creation lease ([`PENDING_TAG`]) lives on
/// an association only while its create runs; with 50 tags of the user's,
/// the create sends 49 beside the lease and the 50th goes on once the
/// lease is gone (issue 23 item 5: EKS and the AWS provider allow 50, and
/// a finished association carries no tag of the provider's).
pub const fn association_user_tag_limit() -> usize {
    MAX_TAGS
}

/// How many tags of the user's a made role may carry: IAM's limit less the
/// provider's own.
pub const fn made_role_user_tag_limit() -> usize {
    MAX_TAGS - MADE_ROLE_TAGS.len()
}

// ---- the owner tag -------------------------------------------------------------

/// Prefix of the hashed owner tag form.
const OWNER_HASH_MARK: &str = "@sha256:";
/// Hex digits of the hash in the hashed form (128 bits).
const OWNER_HASH_HEX: usize = 32;

fn owner_plain(cluster: &str, namespace: &str, service_account: &str) -> String {
    format!("{cluster}/{namespace}/{service_account}")
}

fn owner_hash(cluster: &str, namespace: &str, service_account: &str) -> String {
    let digest = Sha256::digest(format!("{cluster}\0{namespace}\0{service_account}").as_bytes());
    hex::encode(digest)[..OWNER_HASH_HEX].to_string()
}

/// The owner tag value for a service account's made role.
///
/// `cluster/namespace/service_account` whenever that fits IAM's rules for a
/// tag value (at most 256 characters of the allowed set) — the form every
/// earlier version wrote, so existing roles keep their tag. Longer (a
/// 100-character cluster name and a 253-character service account are
/// valid), it becomes `<readable prefix>@sha256:<32 hex digits>`: the prefix
/// is the plain form cut to fit, the hash covers the three parts joined by
/// NUL, so two service accounts never share a value. Always at most
/// [`MAX_VALUE_LEN`] characters and valid for IAM.
pub fn owner_tag_value(cluster: &str, namespace: &str, service_account: &str) -> String {
    let plain = owner_plain(cluster, namespace, service_account);
    if check_iam_value(&plain).is_ok() && !plain.contains(OWNER_HASH_MARK) {
        return plain;
    }
    let hash = owner_hash(cluster, namespace, service_account);
    let budget = MAX_VALUE_LEN - OWNER_HASH_MARK.len() - OWNER_HASH_HEX;
    let prefix: String = plain
        .chars()
        .map(|c| if iam_char(c) { c } else { '_' })
        .take(budget)
        .collect();
    format!("{prefix}{OWNER_HASH_MARK}{hash}")
}

/// The prefix of the owner tag value of an `eks_pod_identity_role`'s role.
pub const SHARED_ROLE_OWNER_PREFIX: &str = "pod-identity-role:";

/// The owner tag value of the role an `eks_pod_identity_role` makes:
/// `pod-identity-role:<role name>`. It contains no `/` and no `@sha256:`,
/// so [`parse_owner_tag`] never reads it as a service account's (an
/// association using the role never takes it for its own made role). A
/// comma, which role names allow and IAM tag values do not, becomes `_`
/// (the value is only ever compared with the role's own name's).
pub fn shared_role_owner_value(name: &str) -> String {
    format!("{SHARED_ROLE_OWNER_PREFIX}{}", name.replace(',', "_"))
}

/// An owner tag value, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerTag {
    /// `cluster/namespace/service_account` (every version writes this when it fits).
    Plain {
        /// Cluster name.
        cluster: String,
        /// Namespace.
        namespace: String,
        /// Service account.
        service_account: String,
    },
    /// `<prefix>@sha256:<hash>`: too long for the plain form.
    Hashed {
        /// The readable (cut) prefix.
        prefix: String,
        /// The hash of cluster, namespace and service account.
        hash: String,
    },
}

/// Parses an owner tag value; `None` when it is in no form this provider writes.
pub fn parse_owner_tag(value: &str) -> Option<OwnerTag> {
    if let Some((prefix, hash)) = value.rsplit_once(OWNER_HASH_MARK) {
        let ok = hash.len() == OWNER_HASH_HEX
            && hash
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        return ok.then(|| OwnerTag::Hashed {
            prefix: prefix.to_string(),
            hash: hash.to_string(),
        });
    }
    // Cluster names and namespaces contain no '/', so the first two split
    // points are the separators.
    let mut parts = value.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(c), Some(n), Some(s)) if !c.is_empty() && !n.is_empty() && !s.is_empty() => {
            Some(OwnerTag::Plain {
                cluster: c.to_string(),
                namespace: n.to_string(),
                service_account: s.to_string(),
            })
        }
        _ => None,
    }
}

impl OwnerTag {
    /// True when this owner tag names this service account (in either form).
    pub fn is_for(&self, cluster: &str, namespace: &str, service_account: &str) -> bool {
        match self {
            OwnerTag::Plain {
                cluster: c,
                namespace: n,
                service_account: s,
            } => c == cluster && n == namespace && s == service_account,
            OwnerTag::Hashed { hash, .. } => {
                *hash == owner_hash(cluster, namespace, service_account)
            }
        }
    }

    /// The cluster, when the form names it (the hashed form may have cut it).
    pub fn cluster(&self) -> Option<&str> {
        match self {
            OwnerTag::Plain { cluster, .. } => Some(cluster),
            OwnerTag::Hashed { prefix, .. } => prefix.split_once('/').map(|(c, _)| c),
        }
    }
}

/// True when an owner tag value (as found on a role) marks it as made for
/// this service account, in any form this provider ever wrote. Use this
/// instead of comparing with [`owner_tag_value`]: it also accepts the plain
/// form of a value that a later version writes hashed.
pub fn owner_tag_matches(
    value: &str,
    cluster: &str,
    namespace: &str,
    service_account: &str,
) -> bool {
    parse_owner_tag(value).is_some_and(|o| o.is_for(cluster, namespace, service_account))
}

// ---- IAM's rules -----------------------------------------------------------------

/// A character IAM accepts in tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
///
/// Letters are approximated with `char::is_alphabetic` (which also admits a
/// few combining marks IAM may refuse); separators are white space that is
/// not a control character (so a tab or a newline is refused, as by IAM).
pub fn iam_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

/// Checks a tag value against IAM's rules (EKS accepts more, so a value fine
/// on an association may still be refused on a made role).
pub fn check_iam_value(v: &str) -> Result<(), String> {
    if v.chars().count() > MAX_VALUE_LEN {
        return Err(format!(
            "is {} characters long; IAM allows at most {MAX_VALUE_LEN}",
            v.chars().count()
        ));
    }
    if let Some(c) = v.chars().find(|c| !iam_char(*c)) {
        return Err(format!(
            "contains {c:?}, which IAM does not allow in tags (allowed: letters, digits, spaces and _ . : / = + - @)"
        ));
    }
    Ok(())
}

/// Checks a tag key against IAM's rules.
pub fn check_iam_key(k: &str) -> Result<(), String> {
    let n = k.chars().count();
    if n == 0 || n > MAX_KEY_LEN {
        return Err(format!(
            "must be 1 to {MAX_KEY_LEN} characters long for IAM"
        ));
    }
    if let Some(c) = k.chars().find(|c| !iam_char(*c)) {
        return Err(format!(
            "contains {c:?}, which IAM does not allow in tags (allowed: letters, digits, spaces and _ . : / = + - @)"
        ));
    }
    Ok(())
}

/// Problems of a made role's user tags (default tags included) under IAM's
/// rules, as sentences naming the tag: keys and values IAM refuses, keys
/// that differ only in case (IAM treats them as one), reserved keys, and
/// more tags than fit beside the provider's own.
pub fn made_role_tag_problems(tags: &Tags) -> Vec<String> {
    let mut out = Vec::new();
    let limit = made_role_user_tag_limit();
    if tags.len() > limit {
        out.push(format!(
            "The role the provider makes would carry {} tags of yours (tags and the provider's default_tags) and {} of the provider's own ({}); IAM allows {MAX_TAGS} per role, so at most {limit} of yours. Remove {} tag(s).",
            tags.len(),
            MADE_ROLE_TAGS.len(),
            MADE_ROLE_TAGS.join(", "),
            tags.len() - limit
        ));
    }
    let mut seen: Tags = Tags::new();
    for (k, v) in tags {
        if let Err(e) = check_iam_key(k) {
            out.push(format!(
                "Tag key {k:?} {e}, and the tags are copied onto the role the provider makes."
            ));
        }
        if let Err(e) = check_iam_value(v) {
            out.push(format!(
                "The value of tag {k:?} ({v:?}) {e}. EKS accepts it on the association, but the tags are copied onto the role the provider makes, and IAM would refuse it."
            ));
        }
        if is_reserved(k) {
            out.push(format!(
                "Tag key {k:?} is reserved: the provider writes it on the roles it makes. Choose another key."
            ));
        }
        if let Some(first) = seen.insert(k.to_lowercase(), k.clone()) {
            out.push(format!(
                "Tag keys {first:?} and {k:?} differ only in case; IAM treats them as the same key, so the role the provider makes cannot carry both."
            ));
        }
    }
    out
}

/// Problems of an association's user tags (default tags included) given
/// the provider's own: more than fit, and reserved keys.
pub fn association_tag_problems(tags: &Tags) -> Vec<String> {
    let mut out = Vec::new();
    let limit = association_user_tag_limit();
    if tags.len() > limit {
        out.push(format!(
            "The association would carry {} tags (tags and the provider's default_tags); EKS allows {MAX_TAGS} per association. Remove {} tag(s).",
            tags.len(),
            tags.len() - limit
        ));
    }
    for k in tags.keys().filter(|k| is_reserved(k)) {
        out.push(format!(
            "Tag key {k:?} is reserved: the provider writes it itself. Choose another key."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_role_owner_never_parses_as_a_service_account() {
        let v = shared_role_owner_value("app,role@x");
        assert_eq!(v, "pod-identity-role:app_role@x");
        assert!(check_iam_value(&v).is_ok());
        assert_eq!(parse_owner_tag(&v), None);
        assert!(!owner_tag_matches(&v, "pod-identity-role:app", "x", "y"));
    }

    #[test]
    fn owner_tag_short_form_is_unchanged() {
        // The form every earlier version wrote: existing roles keep their tag.
        assert_eq!(owner_tag_value("c", "ns", "sa"), "c/ns/sa");
        assert!(owner_tag_matches("c/ns/sa", "c", "ns", "sa"));
        assert!(!owner_tag_matches("c/ns/sa", "c", "ns", "sb"));
        assert!(!owner_tag_matches("c/ns/sa", "d", "ns", "sa"));
    }

    #[test]
    fn owner_tag_long_names_are_hashed_within_iam_rules() {
        let (c, n, s) = ("c".repeat(100), "n".repeat(63), "s".repeat(253));
        let v = owner_tag_value(&c, &n, &s);
        assert!(v.chars().count() <= MAX_VALUE_LEN, "{}", v.len());
        assert!(check_iam_value(&v).is_ok());
        assert!(v.starts_with(&format!("{c}/{n}/")));
        assert!(owner_tag_matches(&v, &c, &n, &s));
        // Same readable prefix, different service account: different value.
        let s2 = format!("{}t", "s".repeat(252));
        let v2 = owner_tag_value(&c, &n, &s2);
        assert_ne!(v, v2);
        assert!(!owner_tag_matches(&v, &c, &n, &s2));
        // The plain form of the long name (never writable to IAM, but
        // recognised) still matches.
        assert!(owner_tag_matches(&format!("{c}/{n}/{s}"), &c, &n, &s));
        assert_eq!(
            parse_owner_tag(&v).and_then(|o| o.cluster().map(str::to_string)),
            Some(c.clone())
        );
    }

    #[test]
    fn owner_tag_parser_refuses_foreign_values() {
        for bad in ["", "c", "c/ns", "c//sa", "x@sha256:zz", "x@sha256:abc"] {
            assert_eq!(parse_owner_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn iam_value_rules() {
        assert!(check_iam_value("team a_b.c:d/e=f+g-h@i ü 3").is_ok());
        assert!(check_iam_value("a,b").unwrap_err().contains("','"));
        assert!(check_iam_value("a\tb").is_err());
        assert!(check_iam_value("x*").is_err());
        assert!(
            check_iam_value(&"v".repeat(257))
                .unwrap_err()
                .contains("256")
        );
        assert!(check_iam_key("").is_err());
        assert!(check_iam_key("k#").is_err());
    }

    #[test]
    fn made_role_tags_count_the_providers_own() {
        let t = |n: usize| -> Tags { (0..n).map(|i| (format!("k{i}"), "v".into())).collect() };
        assert!(made_role_tag_problems(&t(47)).is_empty());
        let p = made_role_tag_problems(&t(48));
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("at most 47"), "{}", p[0]);
        // The lease is gone before the 50th tag goes on: all 50 are the user's.
        assert!(association_tag_problems(&t(50)).is_empty());
        let p = association_tag_problems(&t(51));
        assert!(p[0].contains("EKS allows 50"), "{}", p[0]);
    }

    #[test]
    fn made_role_tags_refuse_what_iam_refuses() {
        let tags: Tags = [
            ("Team".to_string(), "a".to_string()),
            ("team".to_string(), "b".to_string()),
            ("cost".to_string(), "a,b".to_string()),
            ("EKS-Tools:Pod-Identity".to_string(), "x".to_string()),
        ]
        .into();
        let p = made_role_tag_problems(&tags);
        assert!(
            p.iter()
                .any(|m| m.contains("\"cost\"") && m.contains("','")),
            "{p:?}"
        );
        assert!(p.iter().any(|m| m.contains("differ only in case")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("reserved")), "{p:?}");
        assert!(
            association_tag_problems(&tags)
                .iter()
                .any(|m| m.contains("reserved"))
        );
    }
}
