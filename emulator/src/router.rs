//! The EKS API's router: maps method + path to an operation (the
//! `requestUri`s of the model), applies injected faults and counters, reads
//! the JSON body, runs the operation and writes the response, with its
//! request ID and log line.
//!
//! This module owns the dispatch from the edge to the operation modules
//! (`clusters`, `associations`, `addons`, `tags`); the operations never see
//! HTTP types, only a [`Ctx`] and the parsed body. Arrows run router →
//! operations → [`crate::wire`].

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::{ApiError, Code, json_body};
use crate::wire::{Ctx, Query, decode, region_from_headers};
use crate::{Emulator, addons, associations, clusters, tags};

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
}
