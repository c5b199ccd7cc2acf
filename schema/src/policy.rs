//! IAM policy documents: decoding what IAM returns and comparing meaning, not text.
//!
//! Owns: percent-decoding of documents as IAM returns them, parsing, and a
//! semantic equality that ignores key order, whitespace, a single value
//! written as a string or a one-element list, and the order of list members
//! where IAM gives order no meaning. Does not own: fetching documents.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Largest session policy EKS accepts, in characters (EKS `policy` member).
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

/// Checks a document given by a user: JSON object, within `max_len` characters.
pub fn check_document(text: &str, max_len: usize) -> Result<(), String> {
    parse(text).map_err(|e| format!("The policy document {e}."))?;
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
        (Ok(x), Ok(y)) => normalize(&x) == normalize(&y),
        _ => a == b,
    }
}

/// Keys whose values IAM treats as unordered sets of strings.
const SET_KEYS: [&str; 6] = [
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Statement",
    "Principal",
];

/// Puts a document into a canonical form: singletons become one-element
/// lists, and members of set-like lists are sorted.
pub fn normalize(v: &Value) -> Value {
    normalize_in(v, None)
}

fn normalize_in(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::Object(map) => {
            let in_condition_or_principal = matches!(key, Some("Condition") | Some("Principal"));
            let mut out = serde_json::Map::new();
            for (k, val) in map {
                let n = if in_condition_or_principal || key.is_some_and(is_condition_operator) {
                    // Condition values and principal values are sets of strings.
                    as_sorted_set(&normalize_in(val, Some(k)))
                } else if SET_KEYS.contains(&k.as_str()) {
                    as_sorted_set(&normalize_in(val, Some(k)))
                } else {
                    normalize_in(val, Some(k))
                };
                out.insert(k.clone(), n);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| normalize_in(i, key)).collect()),
        other => other.clone(),
    }
}

fn is_condition_operator(key: &str) -> bool {
    // Condition blocks are {Operator: {ConditionKey: values}}; the operator
    // level is reached with key == "Condition", the next with the operator.
    key.starts_with("String")
        || key.starts_with("Arn")
        || key.starts_with("Numeric")
        || key.starts_with("Date")
        || key.starts_with("Bool")
        || key.starts_with("IpAddress")
        || key.starts_with("NotIpAddress")
        || key.starts_with("ForAnyValue")
        || key.starts_with("ForAllValues")
        || key == "Null"
        || key == "BinaryEquals"
}

/// A statement object (it has an `Effect`), written without the list around it.
fn key_is_statement(v: &Value) -> bool {
    v.get("Effect").is_some()
}

fn as_sorted_set(v: &Value) -> Value {
    let mut items = match v {
        Value::Array(a) => a.clone(),
        Value::Object(_) if key_is_statement(v) => vec![v.clone()],
        Value::Object(_) => return v.clone(),
        other => vec![other.clone()],
    };
    items.sort_by_key(|i| i.to_string());
    items.dedup();
    Value::Array(items)
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
