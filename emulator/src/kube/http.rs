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
    let segments: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let selector = query.get("labelSelector");
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let m = parts.method.clone();
    use Kind::{Namespace as Ns, ServiceAccount as Sa};
    match (m, s.as_slice()) {
        (Method::GET, ["version"]) => reply(
            Ok(
                json!({"major": "1", "minor": "31", "gitVersion": "v1.31.0-eks-emulator", "platform": "linux/amd64"}),
            ),
            false,
        ),
        (Method::GET, ["api"]) => reply(
            Ok(json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})),
            false,
        ),
        (Method::GET, ["apis"]) => reply(
            Ok(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})),
            false,
        ),
        (Method::GET, ["api", "v1"]) => reply(Ok(api_resources()), false),
        (Method::GET, ["api", "v1", "namespaces"]) => reply(store.list(Ns, None, selector), false),
        (Method::POST, ["api", "v1", "namespaces"]) => reply(store.create(Ns, None, body), true),
        (Method::GET, ["api", "v1", "namespaces", n]) => reply(store.get(Ns, None, n), false),
        (Method::PUT, ["api", "v1", "namespaces", n]) => {
            reply(store.replace(Ns, None, n, body), false)
        }
        (Method::PATCH, ["api", "v1", "namespaces", n]) => {
            reply(store.patch(Ns, None, n, &content_type, body), false)
        }
        (Method::DELETE, ["api", "v1", "namespaces", n]) => reply(store.delete(Ns, None, n), false),
        (Method::GET, ["api", "v1", "serviceaccounts"]) => {
            reply(store.list(Sa, None, selector), false)
        }
        (Method::GET, ["api", "v1", "namespaces", ns, "serviceaccounts"]) => {
            reply(store.list(Sa, Some(ns), selector), false)
        }
        (Method::POST, ["api", "v1", "namespaces", ns, "serviceaccounts"]) => {
            reply(store.create(Sa, Some(ns), body), true)
        }
        (Method::GET, ["api", "v1", "namespaces", ns, "serviceaccounts", n]) => {
            reply(store.get(Sa, Some(ns), n), false)
        }
        (Method::PUT, ["api", "v1", "namespaces", ns, "serviceaccounts", n]) => {
            reply(store.replace(Sa, Some(ns), n, body), false)
        }
        (Method::PATCH, ["api", "v1", "namespaces", ns, "serviceaccounts", n]) => {
            reply(store.patch(Sa, Some(ns), n, &content_type, body), false)
        }
        (Method::DELETE, ["api", "v1", "namespaces", ns, "serviceaccounts", n]) => {
            reply(store.delete(Sa, Some(ns), n), false)
        }
        (method, _) => reply(
            Err(status(
                404,
                "NotFound",
                format!(
                    "the server could not find the requested resource ({method} {})",
                    parts.uri.path()
                ),
                None,
                "",
            )),
            false,
        ),
    }
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
