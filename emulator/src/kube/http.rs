//! The HTTP side of a cluster's Kubernetes API: the bearer-token gate (the
//! check itself is [`super::token`]), the routing of core/v1 paths, query
//! strings and PATCH content types to the store, discovery, and the JSON
//! replies.
//!
//! This module owns the handlers; the objects are [`super::store`]'s.

use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::kind::Kind;
use super::status::{KubeStatus, bad_request, status};
use super::store::KubeStore;
use super::token;
use crate::wire::Query;

/// The router of one cluster's API: every request goes through [`handle`].
pub fn router(store: Arc<Mutex<KubeStore>>, cluster: &str) -> axum::Router {
    let state = ApiState {
        store,
        cluster: cluster.to_owned(),
    };
    axum::Router::new().fallback(handle).with_state(state)
}

/// What a cluster's Kubernetes API handler holds.
#[derive(Clone)]
struct ApiState {
    store: Arc<Mutex<KubeStore>>,
    cluster: String,
}

/// Checks the request's EKS bearer token for `cluster` now (see
/// [`token`]). The client gets a bare 401 `Status`, as from EKS; the
/// reason is returned for the log.
pub fn check_token(headers: &HeaderMap, cluster: &str) -> Result<(), (KubeStatus, String)> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    token::verify(auth, cluster, token::now_secs()).map_err(|e| {
        (
            status(401, "Unauthorized", "Unauthorized".to_owned(), None, ""),
            e.to_string(),
        )
    })
}

fn reply(result: Result<Value, KubeStatus>, created: bool) -> Response {
    let (code, body) = match result {
        Ok(v) => (if created { 201 } else { 200 }, v),
        Err(s) => (s.code, s.body),
    };
    let mut response = body.to_string().into_response();
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Every request of a cluster's Kubernetes API.
async fn handle(State(state): State<ApiState>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let log = std::env::var("EMULATOR_LOG").is_ok_and(|v| v == "1");
    if let Err((s, why)) = check_token(request.headers(), &state.cluster) {
        if log {
            eprintln!(
                "kube {} {method} {path} status=401 token refused: {why}",
                state.cluster
            );
        }
        return reply(Err(s), false);
    }
    let response = route(state.store, request).await;
    if log {
        eprintln!(
            "kube {} {method} {path} status={}",
            state.cluster,
            response.status().as_u16()
        );
    }
    response
}

/// A request, routed by method and path to discovery or the store.
async fn route(store: Arc<Mutex<KubeStore>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query().unwrap_or(""));
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(s) => return reply(Err(s), false),
    };
    let segments = path_segments(parts.uri.path());
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let call = Call {
        selector: query.get("labelSelector"),
        content_type: &content_type,
        body,
    };
    discovery(&parts.method, &s)
        .or_else(|| objects(&mut store, &parts.method, &s, call))
        .unwrap_or_else(|| not_found(&parts.method, parts.uri.path()))
}

/// A path's segments, percent-decoded.
fn path_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// What a store call takes from the request besides its path.
struct Call<'a> {
    selector: Option<&'a str>,
    content_type: &'a str,
    body: Value,
}

/// The discovery paths: version, API groups and core/v1's resources.
fn discovery(method: &Method, s: &[&str]) -> Option<Response> {
    if method != Method::GET {
        return None;
    }
    let found = match s {
        ["version"] => {
            json!({"major": "1", "minor": "31", "gitVersion": "v1.31.0-eks-emulator", "platform": "linux/amd64"})
        }
        ["api"] => json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ["apis"] => json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        ["api", "v1"] => api_resources(),
        _ => return None,
    };
    Some(reply(Ok(found), false))
}

/// Namespaces and service accounts: the store's verbs by method and path.
fn objects(store: &mut KubeStore, method: &Method, s: &[&str], call: Call) -> Option<Response> {
    use Kind::{Namespace as Ns, ServiceAccount as Sa};
    let Call {
        selector,
        content_type,
        body,
    } = call;
    let (kind, ns, name) = match s {
        ["api", "v1", "namespaces"] => (Ns, None, None),
        ["api", "v1", "namespaces", n] => (Ns, None, Some(*n)),
        ["api", "v1", "serviceaccounts"] if method == Method::GET => (Sa, None, None),
        ["api", "v1", "namespaces", ns, "serviceaccounts"] => (Sa, Some(*ns), None),
        ["api", "v1", "namespaces", ns, "serviceaccounts", n] => (Sa, Some(*ns), Some(*n)),
        _ => return None,
    };
    let response = match (method.clone(), name) {
        (Method::GET, None) => reply(store.list(kind, ns, selector), false),
        (Method::POST, None) => reply(store.create(kind, ns, body), true),
        (Method::GET, Some(n)) => reply(store.get(kind, ns, n), false),
        (Method::PUT, Some(n)) => reply(store.replace(kind, ns, n, body), false),
        (Method::PATCH, Some(n)) => reply(store.patch(kind, ns, n, content_type, body), false),
        (Method::DELETE, Some(n)) => reply(store.delete(kind, ns, n), false),
        _ => return None,
    };
    Some(response)
}

/// 404 for a path or method not served.
fn not_found(method: &Method, path: &str) -> Response {
    reply(
        Err(status(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({method} {path})"),
            None,
            "",
        )),
        false,
    )
}

/// Discovery: the resources of core/v1 served here.
fn api_resources() -> Value {
    let verbs = ["create", "delete", "get", "list", "patch", "update"];
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "namespaces", "singularName": "namespace", "namespaced": false,
             "kind": "Namespace", "verbs": verbs, "shortNames": ["ns"]},
            {"name": "serviceaccounts", "singularName": "serviceaccount", "namespaced": true,
             "kind": "ServiceAccount", "verbs": verbs, "shortNames": ["sa"]},
        ],
    })
}

async fn read_body(body: Body) -> Result<Value, KubeStatus> {
    let bytes = to_bytes(body, 1 << 20)
        .await
        .map_err(|e| bad_request(format!("could not read the body: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| bad_request(format!("the body is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_for_the_cluster() {
        let now = token::now_secs();
        let token = token::presign("test", "test", "us-west-2", "c1", now, 60);
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        assert!(check_token(&h, "c1").is_ok());
        let (s, why) = check_token(&h, "c2").unwrap_err();
        assert_eq!(s.code, 401);
        assert!(why.contains("signature"), "{why}");
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(check_token(&h, "c1").unwrap_err().0.code, 401);
        assert!(check_token(&HeaderMap::new(), "c1").is_err());
    }
}
