//! The REST-JSON edge: maps method + path to an EKS operation (the
//! `requestUri`s of the model), reads the region from the SigV4 credential
//! scope, parses query strings (repeated keys) and bodies, applies injected
//! faults and counters, runs the operation and writes the response.
//!
//! Signatures are not verified. Operations never see HTTP types: they get a
//! [`Ctx`] and the parsed JSON body.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::error::{ApiError, Code, json_body};
use crate::{Emulator, addons, associations, clusters, tags};

/// Region used when the request carries no credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Largest accepted request body.
const MAX_BODY: usize = 1 << 20;

/// An EKS operation with its URI parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// POST /clusters
    CreateCluster,
    /// GET /clusters
    ListClusters,
    /// GET /clusters/{name}
    DescribeCluster(String),
    /// DELETE /clusters/{name}
    DeleteCluster(String),
    /// POST /clusters/{name}/pod-identity-associations
    CreatePodIdentityAssociation(String),
    /// GET /clusters/{name}/pod-identity-associations
    ListPodIdentityAssociations(String),
    /// GET /clusters/{name}/pod-identity-associations/{associationId}
    DescribePodIdentityAssociation(String, String),
    /// POST /clusters/{name}/pod-identity-associations/{associationId}
    UpdatePodIdentityAssociation(String, String),
    /// DELETE /clusters/{name}/pod-identity-associations/{associationId}
    DeletePodIdentityAssociation(String, String),
    /// POST /clusters/{name}/addons
    CreateAddon(String),
    /// GET /clusters/{name}/addons
    ListAddons(String),
    /// GET /clusters/{name}/addons/{addonName}
    DescribeAddon(String, String),
    /// DELETE /clusters/{name}/addons/{addonName}
    DeleteAddon(String, String),
    /// POST /clusters/{name}/addons/{addonName}/update
    UpdateAddon(String, String),
    /// GET /clusters/{name}/updates
    ListUpdates(String),
    /// GET /clusters/{name}/updates/{updateId}
    DescribeUpdate(String, String),
    /// GET /addons/supported-versions
    DescribeAddonVersions,
    /// GET /addons/configuration-schemas
    DescribeAddonConfiguration,
    /// POST /tags/{resourceArn}
    TagResource(String),
    /// DELETE /tags/{resourceArn}
    UntagResource(String),
    /// GET /tags/{resourceArn}
    ListTagsForResource(String),
}

impl Route {
    /// The operation name, as counted and as faults name it.
    pub fn operation(&self) -> &'static str {
        match self {
            Route::CreateCluster => "CreateCluster",
            Route::ListClusters => "ListClusters",
            Route::DescribeCluster(_) => "DescribeCluster",
            Route::DeleteCluster(_) => "DeleteCluster",
            Route::CreatePodIdentityAssociation(_) => "CreatePodIdentityAssociation",
            Route::ListPodIdentityAssociations(_) => "ListPodIdentityAssociations",
            Route::DescribePodIdentityAssociation(..) => "DescribePodIdentityAssociation",
            Route::UpdatePodIdentityAssociation(..) => "UpdatePodIdentityAssociation",
            Route::DeletePodIdentityAssociation(..) => "DeletePodIdentityAssociation",
            Route::CreateAddon(_) => "CreateAddon",
            Route::ListAddons(_) => "ListAddons",
            Route::DescribeAddon(..) => "DescribeAddon",
            Route::DeleteAddon(..) => "DeleteAddon",
            Route::UpdateAddon(..) => "UpdateAddon",
            Route::ListUpdates(_) => "ListUpdates",
            Route::DescribeUpdate(..) => "DescribeUpdate",
            Route::DescribeAddonVersions => "DescribeAddonVersions",
            Route::DescribeAddonConfiguration => "DescribeAddonConfiguration",
            Route::TagResource(_) => "TagResource",
            Route::UntagResource(_) => "UntagResource",
            Route::ListTagsForResource(_) => "ListTagsForResource",
        }
    }
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// Finds the operation for a method and a raw (percent-encoded) path.
pub fn route(method: &Method, raw_path: &str) -> Option<Route> {
    // The ARN in /tags/{resourceArn} is one percent-encoded segment; take
    // the whole rest so that an unencoded `/` in it works too.
    if let Some(arn) = raw_path.strip_prefix("/tags/") {
        let arn = decode(arn.trim_end_matches('/'));
        if arn.is_empty() {
            return None;
        }
        return match *method {
            Method::POST => Some(Route::TagResource(arn)),
            Method::DELETE => Some(Route::UntagResource(arn)),
            Method::GET => Some(Route::ListTagsForResource(arn)),
            _ => None,
        };
    }
    let segments: Vec<String> = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method.clone();
    let r = match (m, s.as_slice()) {
        (Method::POST, ["clusters"]) => Route::CreateCluster,
        (Method::GET, ["clusters"]) => Route::ListClusters,
        (Method::GET, ["clusters", n]) => Route::DescribeCluster(n.to_string()),
        (Method::DELETE, ["clusters", n]) => Route::DeleteCluster(n.to_string()),
        (Method::POST, ["clusters", n, "pod-identity-associations"]) => {
            Route::CreatePodIdentityAssociation(n.to_string())
        }
        (Method::GET, ["clusters", n, "pod-identity-associations"]) => {
            Route::ListPodIdentityAssociations(n.to_string())
        }
        (Method::GET, ["clusters", n, "pod-identity-associations", id]) => {
            Route::DescribePodIdentityAssociation(n.to_string(), id.to_string())
        }
        (Method::POST, ["clusters", n, "pod-identity-associations", id]) => {
            Route::UpdatePodIdentityAssociation(n.to_string(), id.to_string())
        }
        (Method::DELETE, ["clusters", n, "pod-identity-associations", id]) => {
            Route::DeletePodIdentityAssociation(n.to_string(), id.to_string())
        }
        (Method::POST, ["clusters", n, "addons"]) => Route::CreateAddon(n.to_string()),
        (Method::GET, ["clusters", n, "addons"]) => Route::ListAddons(n.to_string()),
        (Method::GET, ["clusters", n, "addons", a]) => {
            Route::DescribeAddon(n.to_string(), a.to_string())
        }
        (Method::DELETE, ["clusters", n, "addons", a]) => {
            Route::DeleteAddon(n.to_string(), a.to_string())
        }
        (Method::POST, ["clusters", n, "addons", a, "update"]) => {
            Route::UpdateAddon(n.to_string(), a.to_string())
        }
        (Method::GET, ["clusters", n, "updates"]) => Route::ListUpdates(n.to_string()),
        (Method::GET, ["clusters", n, "updates", u]) => {
            Route::DescribeUpdate(n.to_string(), u.to_string())
        }
        (Method::GET, ["addons", "supported-versions"]) => Route::DescribeAddonVersions,
        (Method::GET, ["addons", "configuration-schemas"]) => Route::DescribeAddonConfiguration,
        _ => return None,
    };
    Some(r)
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

fn log_enabled() -> bool {
    std::env::var("EMULATOR_LOG").is_ok_and(|v| v == "1")
}

/// The fallback handler: every EKS operation.
pub async fn dispatch(State(em): State<Arc<Emulator>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let method = parts.method.clone();
    let Some(route) = route(&method, &path) else {
        let err = ApiError::new(
            Code::UnknownOperation,
            format!("No operation matches {method} {path}"),
        );
        if log_enabled() {
            eprintln!("{method} {path} op=- status={}", err.code.status().as_u16());
        }
        return err.into_response();
    };
    let op = route.operation();
    let ctx = Ctx {
        account: em.config.account_id.clone(),
        region: region_from_headers(&parts.headers),
        query: Query::parse(parts.uri.query().unwrap_or("")),
    };
    let decision = em.world().injector.begin(op);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let result = match decision.error {
        Some(err) => Err(err),
        None => match read_json(body).await {
            Ok(body) => match run(&em, &ctx, route, body).await {
                Ok(value) => match decision.error_after {
                    Some(lost) => Err(lost),
                    None => Ok(value),
                },
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        },
    };
    let (mut response, error) = match result {
        Ok(value) => (json_body(&value), None),
        Err(err) => {
            em.world().injector.count_error(err.code);
            let summary = format!(" error={} message={:?}", err.code.as_str(), err.message);
            (err.into_response(), Some(summary))
        }
    };
    if let Ok(id) = HeaderValue::from_str(&crate::ids::uuid()) {
        response.headers_mut().insert("x-amzn-RequestId", id);
    }
    if log_enabled() {
        eprintln!(
            "{method} {path} op={op} region={} status={}{}",
            ctx.region,
            response.status().as_u16(),
            error.unwrap_or_default()
        );
    }
    response
}

async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| ApiError::new(Code::BadRequest, format!("could not read body: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid_parameter(format!("The request body is not valid JSON: {e}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid_parameter(
            "The request body must be a JSON object",
        ));
    }
    Ok(value)
}

async fn run(em: &Emulator, ctx: &Ctx, route: Route, body: Value) -> Result<Value, ApiError> {
    match route {
        Route::CreateCluster => clusters::create(em, ctx, body),
        Route::ListClusters => clusters::list(em, ctx),
        Route::DescribeCluster(name) => clusters::describe(em, ctx, &name),
        Route::DeleteCluster(name) => clusters::delete(em, ctx, &name),
        Route::CreatePodIdentityAssociation(c) => associations::create(em, ctx, &c, body).await,
        Route::ListPodIdentityAssociations(c) => associations::list(em, ctx, &c),
        Route::DescribePodIdentityAssociation(c, id) => associations::describe(em, ctx, &c, &id),
        Route::UpdatePodIdentityAssociation(c, id) => {
            associations::update(em, ctx, &c, &id, body).await
        }
        Route::DeletePodIdentityAssociation(c, id) => associations::delete(em, ctx, &c, &id),
        Route::CreateAddon(c) => addons::create(em, ctx, &c, body).await,
        Route::ListAddons(c) => addons::list(em, ctx, &c),
        Route::DescribeAddon(c, a) => addons::describe(em, ctx, &c, &a),
        Route::DeleteAddon(c, a) => addons::delete(em, ctx, &c, &a),
        Route::UpdateAddon(c, a) => addons::update(em, ctx, &c, &a, body).await,
        Route::ListUpdates(c) => addons::list_updates(em, ctx, &c),
        Route::DescribeUpdate(c, u) => addons::describe_update(em, ctx, &c, &u),
        Route::DescribeAddonVersions => addons::describe_versions(em, ctx),
        Route::DescribeAddonConfiguration => addons::describe_configuration(em, ctx),
        Route::TagResource(arn) => tags::tag(em, ctx, &arn, body),
        Route::UntagResource(arn) => tags::untag(em, ctx, &arn),
        Route::ListTagsForResource(arn) => tags::list(em, ctx, &arn),
    }
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
            crate::tags::validate(&tags).map_err(ApiError::invalid_parameter)?;
            Ok(Some(tags))
        }
        Some(_) => Err(ApiError::invalid_parameter("tags must be a map")),
    }
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
    fn routes_match_the_model() {
        assert_eq!(
            route(&Method::GET, "/clusters/c1/pod-identity-associations/a-1"),
            Some(Route::DescribePodIdentityAssociation(
                "c1".into(),
                "a-1".into()
            ))
        );
        assert_eq!(
            route(
                &Method::GET,
                "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fc1"
            ),
            Some(Route::ListTagsForResource(
                "arn:aws:eks:us-east-1:123456789012:cluster/c1".into()
            ))
        );
        assert_eq!(
            route(&Method::POST, "/clusters/c1/addons/vpc-cni/update"),
            Some(Route::UpdateAddon("c1".into(), "vpc-cni".into()))
        );
        assert_eq!(route(&Method::PUT, "/clusters"), None);
    }

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
