//! Tags: limits, merging provider `default_tags` with resource `tags`, and the
//! smallest change from one tag set to another.
//!
//! Owns: tag rules that need no AWS call. Does not own: TagResource calls.

use std::collections::BTreeMap;

/// A set of tags.
pub type Tags = BTreeMap<String, String>;

/// Most tags on one resource (EKS and IAM).
pub const MAX_TAGS: usize = 50;
/// Longest tag key.
pub const MAX_KEY_LEN: usize = 128;
/// Longest tag value.
pub const MAX_VALUE_LEN: usize = 256;

/// Merges provider default tags with resource tags; resource tags win.
pub fn merge(defaults: &Tags, tags: &Tags) -> Tags {
    let mut all = defaults.clone();
    all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// Checks the merged set against AWS limits.
pub fn check(tags: &Tags) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "{} tags (default_tags included) exceed the AWS limit of {MAX_TAGS} per resource; remove some.",
            tags.len()
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > MAX_KEY_LEN {
            return Err(format!(
                "Tag key {k:?} must be 1 to {MAX_KEY_LEN} characters long."
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!(
                "Tag key {k:?} uses the reserved prefix \"aws:\"; choose another key."
            ));
        }
        // The EKS model's TagMap: "Do not use aws:, AWS:, or any upper or
        // lowercase combination of such as a prefix for either keys or
        // values" (emulator/FACTS.md F17).
        if v.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!(
                "The value of tag {k:?} starts with the reserved prefix \"aws:\", which EKS refuses for keys and values alike; choose another value."
            ));
        }
        if v.chars().count() > MAX_VALUE_LEN {
            return Err(format!(
                "The value of tag {k:?} must be at most {MAX_VALUE_LEN} characters long."
            ));
        }
    }
    Ok(())
}

/// The calls that turn `old` into `new`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagChange {
    /// Tags to add or overwrite (TagResource).
    pub set: Tags,
    /// Keys to remove (UntagResource).
    pub remove: Vec<String>,
}

impl TagChange {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// The smallest change from `old` to `new`.
pub fn diff(old: &Tags, new: &Tags) -> TagChange {
    TagChange {
        set: new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        remove: old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resource_tags_win_over_defaults() {
        let all = merge(&t(&[("team", "a"), ("env", "dev")]), &t(&[("team", "b")]));
        assert_eq!(all, t(&[("env", "dev"), ("team", "b")]));
    }

    #[test]
    fn diff_is_minimal() {
        let d = diff(
            &t(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &t(&[("a", "1"), ("b", "x"), ("d", "4")]),
        );
        assert_eq!(d.set, t(&[("b", "x"), ("d", "4")]));
        assert_eq!(d.remove, vec!["c".to_string()]);
        assert!(diff(&t(&[("a", "1")]), &t(&[("a", "1")])).is_empty());
    }

    #[test]
    fn limits() {
        assert!(check(&t(&[("a", "1")])).is_ok());
        let many: Tags = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(check(&many).unwrap_err().contains("limit of 50"));
        assert!(check(&t(&[(&"k".repeat(129), "")])).is_err());
        assert!(check(&t(&[("k", &"v".repeat(257))])).is_err());
        assert!(
            check(&t(&[("aws:x", "v")]))
                .unwrap_err()
                .contains("reserved")
        );
        assert!(check(&t(&[("", "v")])).is_err());
        assert!(
            check(&t(&[("k", "AWS:x")]))
                .unwrap_err()
                .contains("reserved")
        );
    }
}
