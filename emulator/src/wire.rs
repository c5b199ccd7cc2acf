//! The REST-JSON helpers every operation uses: the request context
//! ([`Ctx`]: account, region from the SigV4 credential scope, query string
//! with repeated keys), the reading of body members, the TagMap limits,
//! pagination and request fingerprints for idempotency.
//!
//! This module owns no operation and no routing (that is [`crate::router`],
//! which calls the operations, which call these helpers): it depends on no
//! operation module. Signatures are not verified.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use base64::Engine;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::error::ApiError;

/// Region used when the request carries no credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Percent-decodes one path segment or query member.
pub fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// Query string members; list members are repeated keys.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=x%20y&b=z`.
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let unplus = |s: &str| decode(&s.replace('+', " "));
                (unplus(k), unplus(v))
            })
            .collect();
        Query(pairs)
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What an operation knows about its request besides the body.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The account (from the configuration).
    pub account: String,
    /// The region (from the credential scope).
    pub region: String,
    /// The query string.
    pub query: Query,
}

/// The region in `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/eks/aws4_request, ...`.
pub fn region_from_headers(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let scope = auth.split("Credential=").nth(1)?;
            let scope = scope.split([',', ' ']).next()?;
            let region = scope.split('/').nth(2)?;
            (!region.is_empty()).then(|| region.to_owned())
        })
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

/// Reads `maxResults` (1–100, default 100).
pub fn max_results(ctx: &Ctx) -> Result<usize, ApiError> {
    match ctx.query.get("maxResults") {
        None => Ok(100),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{raw}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
            ))),
        },
    }
}

/// One page of `items` (sorted by their key), from `nextToken` on, with the
/// token of the next page. The token encodes the key of the first item of
/// the next page, so deletions between pages skip nothing.
pub fn paginate<T>(
    ctx: &Ctx,
    mut items: Vec<(String, T)>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = max_results(ctx)?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start_key = match ctx.query.get("nextToken") {
        None | Some("") => None,
        Some(token) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::invalid_parameter("The nextToken provided is invalid"))?,
        ),
    };
    let mut rest: Vec<(String, T)> = items
        .into_iter()
        .filter(|(k, _)| start_key.as_ref().is_none_or(|s| k >= s))
        .collect();
    let next = if rest.len() > max {
        let key = rest[max].0.clone();
        rest.truncate(max);
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key))
    } else {
        None
    };
    Ok((rest.into_iter().map(|(_, v)| v).collect(), next))
}

/// The body's string member `name` (a non-string is an error).
pub fn opt_str(body: &Value, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "{name} must be a string"
        ))),
    }
}

/// The body's required non-empty string member `name`.
pub fn req_str(body: &Value, name: &str) -> Result<String, ApiError> {
    match opt_str(body, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ApiError::invalid_parameter(format!(
            "{name} is a required parameter and cannot be empty"
        ))),
    }
}

/// The body's boolean member `name`.
pub fn opt_bool(body: &Value, name: &str) -> Result<Option<bool>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "{name} must be a boolean"
        ))),
    }
}

/// The body's `tags` map (checked against the TagMap limits).
pub fn opt_tags(
    body: &Value,
) -> Result<Option<std::collections::BTreeMap<String, String>>, ApiError> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            let mut tags = std::collections::BTreeMap::new();
            for (k, v) in map {
                let Value::String(v) = v else {
                    return Err(ApiError::invalid_parameter(format!(
                        "The value of tag {k} must be a string"
                    )));
                };
                tags.insert(k.clone(), v.clone());
            }
            validate_tags(&tags).map_err(ApiError::invalid_parameter)?;
            Ok(Some(tags))
        }
        Some(_) => Err(ApiError::invalid_parameter("tags must be a map")),
    }
}

/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

/// Checks tags against the TagMap limits; the message names the problem.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("A resource can have at most {MAX_TAGS} tags"));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(format!("Tag key {k:?} must be 1 to 128 characters long"));
        }
        if v.chars().count() > 256 {
            return Err(format!(
                "The value of tag {k} must be at most 256 characters long"
            ));
        }
        // The model's TagMap: "Do not use aws:, AWS:, or any upper or
        // lowercase combination of such as a prefix for either keys or
        // values as it is reserved for Amazon Web Services use" (FACTS.md
        // F17).
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!("Tag key {k} uses the reserved prefix aws:"));
        }
        if v.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!(
                "The value of tag {k} uses the reserved prefix aws:"
            ));
        }
    }
    Ok(())
}

/// A canonical form of a request, to compare idempotent retries.
pub fn fingerprint(path: &str, body: &Value) -> String {
    // serde_json's map is ordered by key, so this is canonical.
    format!("{path} {body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_repeated_keys() {
        let q = Query::parse("tagKeys=a&tagKeys=b%2Fc&x=1+2");
        assert_eq!(q.all("tagKeys"), vec!["a", "b/c"]);
        assert_eq!(q.get("x"), Some("1 2"));
    }

    #[test]
    fn region_from_scope() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/eks/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        assert_eq!(region_from_headers(&h), "eu-west-1");
        assert_eq!(region_from_headers(&HeaderMap::new()), "us-east-1");
    }
}
