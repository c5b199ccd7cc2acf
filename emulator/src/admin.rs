//! The admin API under `/_emulator/`: reset, counters, faults and a state
//! dump for tests. It is not part of EKS: no faults or counters apply to it,
//! and its errors are plain `{"message": ...}` with status 400.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Emulator;
use crate::error::json_body;
use crate::faults::{Faults, Injector};

/// Logs an admin request when `EMULATOR_LOG=1`.
pub async fn log(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if std::env::var("EMULATOR_LOG").is_ok_and(|v| v == "1") {
        eprintln!(
            "{method} {path} op=admin status={}",
            response.status().as_u16()
        );
    }
    response
}

/// `POST /_emulator/reset`: clears all resources, counters and faults.
pub async fn reset(State(em): State<Arc<Emulator>>) -> Response {
    let mut world = em.world();
    world.regions.clear();
    world.injector = Injector::default();
    world.trust_ledger = Default::default();
    json_body(&json!({"reset": true}))
}

/// `GET /_emulator/counters`: calls per operation, plus `errors` per code.
pub async fn counters(State(em): State<Arc<Emulator>>) -> Response {
    let world = em.world();
    json_body(&world.injector.counters.to_json())
}

/// `POST /_emulator/counters/reset`.
pub async fn reset_counters(State(em): State<Arc<Emulator>>) -> Response {
    em.world().injector.counters = Default::default();
    json_body(&json!({"reset": true}))
}

/// `GET /_emulator/faults`.
pub async fn get_faults(State(em): State<Arc<Emulator>>) -> Response {
    let faults = em.world().injector.faults.clone();
    json_body(&serde_json::to_value(faults).unwrap_or(Value::Null))
}

/// `POST /_emulator/faults`: replaces the fault configuration (`{}` turns
/// every fault off).
pub async fn set_faults(State(em): State<Arc<Emulator>>, body: Bytes) -> Response {
    let parsed: Result<Faults, String> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Faults::default())
    } else {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    match parsed.and_then(|f| f.validate().map(|()| f)) {
        Ok(faults) => {
            em.world().injector.set_faults(faults.clone());
            json_body(&serde_json::to_value(faults).unwrap_or(Value::Null))
        }
        Err(message) => {
            let mut response = json_body(&json!({ "message": message }));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response.into_response()
        }
    }
}

/// `GET /_emulator/state`: every region's clusters, associations (full
/// shapes), addons and updates.
pub async fn state(State(em): State<Arc<Emulator>>) -> Response {
    let mut world = em.world();
    world.settle_all();
    let regions: Vec<Value> = world
        .regions
        .iter()
        .map(|((account, region), r)| {
            let addons: Vec<Value> = r
                .addons
                .values()
                .map(|a| {
                    let arns = r
                        .owned_associations(&a.addon_arn)
                        .into_iter()
                        .map(|x| x.association_arn.clone())
                        .collect();
                    a.to_json(arns)
                })
                .collect();
            let kubernetes: serde_json::Map<String, Value> = r
                .clusters
                .values()
                .filter_map(|c| c.kube.as_ref().map(|k| (c.name.clone(), k.lock().dump())))
                .collect();
            json!({
                "account": account,
                "region": region,
                "kubernetes": kubernetes,
                "clusters": r.clusters.values().map(|c| c.to_json()).collect::<Vec<_>>(),
                "associations": r.associations.values().map(|a| a.to_json()).collect::<Vec<_>>(),
                "addons": addons,
                "updates": r.updates.values().map(|u| {
                    let mut v = u.to_json();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("clusterName".into(), u.cluster_name.clone().into());
                        o.insert("addonName".into(), u.addon_name.clone().into());
                    }
                    v
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    json_body(&json!({ "regions": regions }))
}

fn find_kube(
    em: &Emulator,
    cluster: &str,
    query: Option<&str>,
) -> Result<Arc<crate::kube::KubeApi>, String> {
    let query = crate::wire::Query::parse(query.unwrap_or(""));
    let region = query.get("region");
    let world = em.world();
    let found: Vec<_> = world
        .regions
        .iter()
        .filter(|((_, r), _)| region.is_none_or(|want| want == r))
        .filter_map(|(_, r)| r.clusters.get(cluster))
        .collect();
    match found.as_slice() {
        [c] => c
            .kube
            .clone()
            .ok_or_else(|| format!("cluster {cluster} has no Kubernetes API")),
        [] => Err(format!("no cluster {cluster}")),
        _ => Err(format!(
            "cluster {cluster} exists in several regions: add ?region="
        )),
    }
}

fn admin_error(message: String) -> Response {
    let mut response = json_body(&json!({ "message": message }));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

/// `GET /_emulator/kubernetes/{cluster}[?region=]`: the cluster's
/// namespaces and service accounts.
pub async fn get_kubernetes(
    State(em): State<Arc<Emulator>>,
    Path(cluster): Path<String>,
    uri: Uri,
) -> Response {
    match find_kube(&em, &cluster, uri.query()) {
        Ok(kube) => json_body(&kube.lock().dump()),
        Err(message) => admin_error(message),
    }
}

/// `POST /_emulator/kubernetes/{cluster}[?region=]` with a Namespace or
/// ServiceAccount object: creates or replaces it (a service account's
/// namespace is created when missing), without a token.
pub async fn put_kubernetes(
    State(em): State<Arc<Emulator>>,
    Path(cluster): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let kube = match find_kube(&em, &cluster, uri.query()) {
        Ok(kube) => kube,
        Err(message) => return admin_error(message),
    };
    let obj: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let mut response = json_body(&json!({ "message": format!("not JSON: {e}") }));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return response;
        }
    };
    let result = kube.lock().upsert(obj);
    match result {
        Ok(v) => json_body(&v),
        Err(status) => {
            let mut response = json_body(&status.body);
            *response.status_mut() =
                StatusCode::from_u16(status.code).unwrap_or(StatusCode::BAD_REQUEST);
            response
        }
    }
}
