//! Strict mode: which of the rules for undocumented behaviour are on
//! (FACTS.md, "Strict mode"). `EKS_EMULATOR_STRICT=1` (or `--strict`) turns
//! them all on; a comma-separated list (`S1,X1`) turns on only those, so
//! that a client can be fixed one rule at a time and a failure traced to
//! its rule.
//!
//! This module owns the rule names and their parsing; the operations apply
//! the rules.

use std::collections::BTreeSet;
use std::fmt;

/// One strict-mode rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// UpdatePodIdentityAssociation without `roleArn` is refused (F9).
    S1,
    /// UpdatePodIdentityAssociation with `policy: ""` is refused (F10).
    S2,
    /// UpdatePodIdentityAssociation that changes nothing is refused (F9).
    S3,
    /// A role whose trust lets pods.eks.amazonaws.com `sts:AssumeRole` but
    /// not `sts:TagSession` is refused (F12).
    S4,
    /// A session `policy` over 2,048 characters is refused (F10).
    S5,
    /// An association ID that is not 19 characters long is refused before
    /// the look-up (F15).
    S6,
    /// `externalId` from creation on, renewed with each new target role,
    /// kept when the target is cleared (F11).
    X1,
    /// TagResource and UntagResource move the association's or addon's
    /// `modifiedAt` (F14).
    X2,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 8] = [
        Rule::S1,
        Rule::S2,
        Rule::S3,
        Rule::S4,
        Rule::S5,
        Rule::S6,
        Rule::X1,
        Rule::X2,
    ];

    fn parse(name: &str) -> Option<Rule> {
        Rule::ALL
            .into_iter()
            .find(|r| r.to_string().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Rule::S1 => "S1",
            Rule::S2 => "S2",
            Rule::S3 => "S3",
            Rule::S4 => "S4",
            Rule::S5 => "S5",
            Rule::S6 => "S6",
            Rule::X1 => "X1",
            Rule::X2 => "X2",
        };
        f.write_str(name)
    }
}

/// The rules that are on (none: normal mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Strict(BTreeSet<Rule>);

impl Strict {
    /// Normal mode.
    pub fn off() -> Strict {
        Strict::default()
    }

    /// Every rule.
    pub fn all() -> Strict {
        Strict(Rule::ALL.into_iter().collect())
    }

    /// Whether `rule` is on.
    pub fn has(&self, rule: Rule) -> bool {
        self.0.contains(&rule)
    }

    /// Whether any rule is on.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// `1`/`true`/`all`: every rule; empty/`0`/`false`: none; else a
    /// comma-separated list of rule names. An unknown name is an error.
    pub fn parse(value: &str) -> Result<Strict, String> {
        let v = value.trim();
        if v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false") {
            return Ok(Strict::off());
        }
        if v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("all") {
            return Ok(Strict::all());
        }
        v.split(',')
            .map(|name| {
                Rule::parse(name.trim()).ok_or_else(|| {
                    let known: Vec<String> = Rule::ALL.iter().map(Rule::to_string).collect();
                    format!(
                        "unknown strict-mode rule {name:?} (known: {})",
                        known.join(", ")
                    )
                })
            })
            .collect::<Result<BTreeSet<Rule>, String>>()
            .map(Strict)
    }
}

impl fmt::Display for Strict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(Rule::to_string).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_none_and_lists() {
        assert_eq!(Strict::parse("1").unwrap(), Strict::all());
        assert_eq!(Strict::parse("TRUE").unwrap(), Strict::all());
        assert_eq!(Strict::parse("all").unwrap(), Strict::all());
        for off in ["", "0", "false"] {
            assert!(!Strict::parse(off).unwrap().any(), "{off:?}");
        }
        let some = Strict::parse("s1, X1").unwrap();
        assert!(some.has(Rule::S1) && some.has(Rule::X1));
        assert!(!some.has(Rule::S2) && !some.has(Rule::S3));
        assert_eq!(some.to_string(), "S1,X1");
        assert!(Strict::parse("S1,S9").is_err());
    }
}
