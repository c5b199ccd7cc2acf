//! IAM policy documents: decoding what IAM returns and comparing meaning, not text.
//!
//! Owns: percent-decoding of documents as IAM returns them, parsing, the
//! checks of a document a user writes (JSON object with a `Statement`), and
//! a semantic equality that ignores key order, whitespace, a single value
//! written as a string or a one-element list (actions, resources,
//! principals, condition values), the case IAM ignores (action names,
//! condition keys), and the order of list members where IAM gives order no
//! meaning; [`planned_text`] turns that equality into a plan without diff.
//! Does not own: fetching documents.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Largest session policy, in characters: STS's limit for a session policy
/// ("can't exceed 2,048 characters", AssumeRole), which EKS passes on; the
/// EKS model gives `policy` no limit of its own (emulator/FACTS.md F10, S5).
pub const SESSION_POLICY_MAX_LEN: usize = 2048;

/// Why a document could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON is not an object.
    #[error("must be a JSON object with \"Version\" and \"Statement\"")]
    NotObject,
    /// Percent-decoding produced invalid UTF-8.
    #[error("is not valid percent-encoded UTF-8")]
    BadEncoding,
}

/// Parses a policy document written by a user or returned by AWS.
pub fn parse(text: &str) -> Result<Value, PolicyError> {
    let v: Value = serde_json::from_str(text).map_err(|e| PolicyError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(PolicyError::NotObject);
    }
    Ok(v)
}

/// Decodes a percent-encoded document as IAM returns it, then parses it.
/// A document that is already plain JSON is parsed as it is.
pub fn parse_iam(text: &str) -> Result<Value, PolicyError> {
    if let Ok(v) = parse(text) {
        return Ok(v);
    }
    let decoded = percent_decode_str(text)
        .decode_utf8()
        .map_err(|_| PolicyError::BadEncoding)?;
    parse(&decoded)
}

/// Checks a document given by a user: a JSON object with a `Statement`
/// (an object or a list of objects), within `max_len` characters.
pub fn check_document(text: &str, max_len: usize) -> Result<(), String> {
    let doc = parse(text).map_err(|e| format!("The policy document {e}."))?;
    let statements_ok = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().all(Value::is_object),
        Some(Value::Object(_)) => true,
        _ => false,
    };
    if !statements_ok {
        return Err("The policy document needs a \"Statement\": a statement object or a list of them, such as {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}. IAM refuses a document without one.".into());
    }
    let len = minified_len(text);
    if len > max_len {
        return Err(format!(
            "The policy document is {len} characters long without whitespace; the limit is {max_len}. Split it or use a managed policy."
        ));
    }
    Ok(())
}

/// Checks a session policy (EKS `policy`).
pub fn check_session_policy(text: &str) -> Result<(), String> {
    check_document(text, SESSION_POLICY_MAX_LEN)
}

fn minified_len(text: &str) -> usize {
    serde_json::from_str::<Value>(text)
        .map(|v| v.to_string().chars().count())
        .unwrap_or(text.len())
}

/// True when two documents mean the same (see module docs).
pub fn equivalent(a: &str, b: &str) -> bool {
    match (parse_iam(a), parse_iam(b)) {
        (Ok(x), Ok(y)) => canonical(&normalize(&x)) == canonical(&normalize(&y)),
        _ => a == b,
    }
}

/// The text a plan (or a read) records for a document: the prior text when
/// it means the same as the configured one, else the configured text.
///
/// Terraform accepts a planned value that differs from the configuration
/// when it is the prior state's value unchanged (the provider says the two
/// are equivalent), so a change of whitespace, key order, or `"x"` vs
/// `["x"]` plans no update — also right after import, when the prior text
/// is IAM's own (percent-encoded) rendering.
pub fn planned_text(config: &str, prior: Option<&str>) -> String {
    match prior {
        Some(p) if equivalent(config, p) => p.to_string(),
        _ => config.to_string(),
    }
}

/// Puts a document into a canonical form in which two documents that mean
/// the same to IAM are equal: `Statement` is a sorted list of statements
/// (a single object becomes a one-element list); in each statement,
/// `Action`/`NotAction` are sorted sets of lowercased names (IAM ignores
/// their case), `Resource`/`NotResource` sorted sets, `Principal` and
/// `NotPrincipal` objects of sorted sets (`"*"` is `{"AWS": ["*"]}`), and
/// `Condition` operators map lowercased condition keys (IAM ignores their
/// case) to sorted sets of strings (a JSON `true` or `10` is the string IAM
/// compares). Anything else is kept as written.
pub fn normalize(v: &Value) -> Value {
    let Value::Object(doc) = v else {
        return v.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, val) in doc {
        let n = if k == "Statement" {
            let list = match val {
                Value::Array(items) => items.iter().map(normalize_statement).collect(),
                Value::Object(_) => vec![normalize_statement(val)],
                other => vec![other.clone()],
            };
            sorted_set(list)
        } else {
            val.clone()
        };
        out.insert(k.clone(), n);
    }
    Value::Object(out)
}

/// True when two statements mean the same (the statement-level part of
/// [`equivalent`]).
pub fn same_statement(a: &Value, b: &Value) -> bool {
    canonical(&normalize_statement(a)) == canonical(&normalize_statement(b))
}

fn normalize_statement(v: &Value) -> Value {
    let Value::Object(stmt) = v else {
        return v.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, val) in stmt {
        let n = match k.as_str() {
            "Action" | "NotAction" => sorted_set(
                string_set(val)
                    .into_iter()
                    .map(|s| match s {
                        Value::String(a) => Value::String(a.to_ascii_lowercase()),
                        other => other,
                    })
                    .collect(),
            ),
            "Resource" | "NotResource" => sorted_set(string_set(val)),
            "Principal" | "NotPrincipal" => normalize_principal(val),
            "Condition" => normalize_condition(val),
            _ => val.clone(),
        };
        out.insert(k.clone(), n);
    }
    Value::Object(out)
}

fn normalize_principal(v: &Value) -> Value {
    match v {
        Value::String(s) if s == "*" => serde_json::json!({"AWS": ["*"]}),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, val)| (k.clone(), sorted_set(string_set(val))))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn normalize_condition(v: &Value) -> Value {
    let Value::Object(ops) = v else {
        return v.clone();
    };
    Value::Object(
        ops.iter()
            .map(|(op, keys)| {
                let n = match keys {
                    Value::Object(keys) => Value::Object(
                        keys.iter()
                            .map(|(k, vals)| {
                                let vals = string_set(vals)
                                    .into_iter()
                                    .map(|x| match x {
                                        Value::Bool(b) => Value::String(b.to_string()),
                                        Value::Number(n) => Value::String(n.to_string()),
                                        other => other,
                                    })
                                    .collect();
                                (k.to_ascii_lowercase(), sorted_set(vals))
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (op.clone(), n)
            })
            .collect(),
    )
}

/// A value IAM reads as a set: a single value or a list of them.
fn string_set(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// A sorted, deduplicated list (by canonical text).
fn sorted_set(items: Vec<Value>) -> Value {
    let mut keyed: Vec<(String, Value)> = items.into_iter().map(|i| (canonical(&i), i)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
}

/// JSON text with object keys sorted at every level, whatever the order in
/// which the map keeps them (serde_json keeps insertion order when a crate
/// in the build turns on its `preserve_order` feature).
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_order_and_singletons_do_not_matter() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let b = r#"{ "Statement": {"Resource": ["*"], "Action": ["s3:GetObject"], "Effect": "Allow"},
                     "Version": "2012-10-17" }"#;
        assert!(equivalent(a, b));
    }

    #[test]
    fn action_order_does_not_matter_but_content_does() {
        let a = r#"{"Statement":[{"Effect":"Allow","Action":["a:B","a:C"],"Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Action":["a:C","a:B"],"Resource":"*"}]}"#;
        let c = r#"{"Statement":[{"Effect":"Allow","Action":["a:C"],"Resource":"*"}]}"#;
        assert!(equivalent(a, b));
        assert!(!equivalent(a, c));
    }

    #[test]
    fn percent_encoded_documents_from_iam() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(plain, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert!(equivalent(plain, &encoded));
        // moto leaves '/' unencoded
        let moto = encoded.replace("%2F", "/");
        assert_eq!(parse_iam(&moto).unwrap(), parse(plain).unwrap());
    }

    #[test]
    fn condition_values_compare_as_sets() {
        let a =
            r#"{"Statement":[{"Effect":"Allow","Condition":{"StringEquals":{"k":["x","y"]}}}]}"#;
        let b =
            r#"{"Statement":[{"Effect":"Allow","Condition":{"StringEquals":{"k":["y","x"]}}}]}"#;
        let c = r#"{"Statement":[{"Effect":"Allow","Condition":{"StringEquals":{"k":"x"}}}]}"#;
        assert!(equivalent(a, b));
        assert!(!equivalent(a, c));
    }

    #[test]
    fn singletons_everywhere_compare_equal() {
        // Action / NotAction / Resource / NotResource as a string or a one-element list.
        for key in ["Action", "NotAction", "Resource", "NotResource"] {
            let a = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","{key}":"s3:GetObject"}}]}}"#
            );
            let b = format!(
                r#"{{"Statement":[{{"{key}":["s3:GetObject"],"Effect":"Allow"}}],"Version":"2012-10-17"}}"#
            );
            assert!(equivalent(&a, &b), "{key}");
        }
        // Principals and NotPrincipals: a single string or a one-element list.
        for key in ["Principal", "NotPrincipal"] {
            let a = format!(
                r#"{{"Statement":[{{"Effect":"Allow","{key}":{{"AWS":"arn:aws:iam::123456789012:root"}},"Action":"sts:AssumeRole"}}]}}"#
            );
            let b = format!(
                r#"{{"Statement":[{{"Effect":"Allow","{key}":{{"AWS":["arn:aws:iam::123456789012:root"]}},"Action":["sts:AssumeRole"]}}]}}"#
            );
            assert!(equivalent(&a, &b), "{key}");
        }
        // Condition values: a string, a one-element list, and for bools and
        // numbers the JSON scalar or its string.
        let a = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"StringEquals":{"aws:PrincipalTag/team":"a"}}}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"StringEquals":{"aws:PrincipalTag/team":["a"]},"Bool":{"aws:SecureTransport":"true"},"NumericLessThan":{"s3:max-keys":["10"]}}}]}"#;
        assert!(equivalent(a, b));
        // Action names are case-insensitive in IAM; resources are not.
        let lower = r#"{"Statement":[{"Effect":"Allow","Action":"s3:getobject","Resource":"arn:aws:s3:::B/*"}]}"#;
        let upper = r#"{"Statement":[{"Effect":"Allow","Action":"S3:GetObject","Resource":"arn:aws:s3:::B/*"}]}"#;
        let other_resource = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(equivalent(lower, upper));
        assert!(!equivalent(upper, other_resource));
        // Principal "*" is the same as {"AWS": "*"}.
        let star =
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#;
        let aws_star = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
        assert!(equivalent(star, aws_star));
    }

    #[test]
    fn planned_text_keeps_the_prior_text_of_the_same_meaning() {
        let prior = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let config = r#"{ "Statement": [ { "Resource": "*", "Action": ["s3:GetObject"], "Effect": "Allow" } ], "Version": "2012-10-17" }"#;
        assert_eq!(planned_text(config, Some(prior)), prior);
        let changed = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
        assert_eq!(planned_text(changed, Some(prior)), changed);
        assert_eq!(planned_text(config, None), config);
        // After import the prior text is IAM's, percent-encoded: kept too.
        let encoded: String =
            percent_encoding::utf8_percent_encode(prior, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert_eq!(planned_text(config, Some(&encoded)), encoded);
    }

    #[test]
    fn a_document_without_statement_is_refused() {
        for bad in [
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Version":"2012-10-17","Statement":"s3:*"}"#,
            r#"{"Version":"2012-10-17","Statement":[1]}"#,
        ] {
            let e = check_document(bad, 10_240).unwrap_err();
            assert!(e.contains("Statement"), "{bad}: {e}");
        }
        assert!(
            check_document(
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
                10_240
            )
            .is_ok()
        );
    }

    #[test]
    fn user_documents_are_checked() {
        assert!(check_session_policy(r#"{"Version":"2012-10-17","Statement":[]}"#).is_ok());
        assert!(
            check_session_policy("not json")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            check_session_policy("[1]")
                .unwrap_err()
                .contains("JSON object")
        );
        let big = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"{}"}}]}}"#,
            "x".repeat(3000)
        );
        assert!(
            check_session_policy(&big)
                .unwrap_err()
                .contains("limit is 2048")
        );
    }
}
