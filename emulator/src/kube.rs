//! A minimal Kubernetes API per cluster: core/v1 namespaces and service
//! accounts (get, list, create, replace, patch, delete), served over HTTPS
//! on a loopback port of its own, with a CA made for the cluster (its PEM is
//! the cluster's `certificateAuthority.data`, its URL the `endpoint`).
//! Requests must carry a valid EKS bearer token for this cluster
//! (`k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL that
//! signs `x-k8s-aws-id` = the cluster name; checked by [`token`]).
//!
//! This module owns the object store, the Kubernetes wire format (objects,
//! lists, `Status` errors, merge and JSON patches) and the TLS listener. It
//! knows nothing about EKS resources.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Map, Value, json};

use crate::ids;
use crate::wire::Query;

/// Namespaces every cluster starts with (each with a `default` service account).
pub const INITIAL_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Failures starting a cluster's Kubernetes API.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The CA or server certificate could not be made.
    #[error("generating the cluster certificates")]
    Cert(#[source] rcgen::Error),
    /// The TLS configuration was refused.
    #[error("configuring TLS")]
    Tls(#[source] rustls::Error),
    /// No loopback port could be bound.
    #[error("binding a loopback port")]
    Bind(#[source] std::io::Error),
}

/// A running Kubernetes API. Dropping the last handle stops the listener.
pub struct KubeApi {
    /// `https://127.0.0.1:PORT`.
    pub endpoint: String,
    /// PEM of the cluster CA.
    pub ca_pem: String,
    /// The objects.
    pub store: Arc<Mutex<KubeStore>>,
    abort: tokio::task::AbortHandle,
}

impl std::fmt::Debug for KubeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeApi")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

impl KubeApi {
    /// Locks the store (a poisoned lock is taken over).
    pub fn lock(&self) -> MutexGuard<'_, KubeStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts the Kubernetes API of cluster `cluster` on a free loopback port
/// (tokens are accepted only for that cluster). Must be called inside a
/// Tokio runtime.
pub fn start(cluster: &str) -> Result<KubeApi, KubeError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };

    let ca_key = KeyPair::generate().map_err(KubeError::Cert)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(KubeError::Cert)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kubernetes");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(KubeError::Cert)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(KubeError::Cert)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "kubernetes".to_owned()])
        .map_err(KubeError::Cert)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let cert = params.signed_by(&key, &issuer).map_err(KubeError::Cert)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(KubeError::Tls)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(KubeError::Tls)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let listener =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(KubeError::Bind)?;
    listener.set_nonblocking(true).map_err(KubeError::Bind)?;
    let port = listener.local_addr().map_err(KubeError::Bind)?.port();
    let listener = tokio::net::TcpListener::from_std(listener).map_err(KubeError::Bind)?;

    let store = Arc::new(Mutex::new(KubeStore::new()));
    let state = ApiState {
        store: store.clone(),
        cluster: cluster.to_owned(),
    };
    let router = Router::new().fallback(handle).with_state(state);
    let task = tokio::spawn(serve(listener, acceptor, router));
    Ok(KubeApi {
        endpoint: format!("https://127.0.0.1:{port}"),
        ca_pem: ca_cert.pem(),
        store,
        abort: task.abort_handle(),
    })
}

async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
) {
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(_) => {
                // E.g. out of file descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The two kinds of object served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// core/v1 Namespace (cluster-scoped).
    Namespace,
    /// core/v1 ServiceAccount (namespaced).
    ServiceAccount,
}

impl Kind {
    fn kind(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::ServiceAccount => "ServiceAccount",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::ServiceAccount => "serviceaccounts",
        }
    }

    fn from_kind(kind: &str) -> Option<Kind> {
        match kind {
            "Namespace" => Some(Kind::Namespace),
            "ServiceAccount" => Some(Kind::ServiceAccount),
            _ => None,
        }
    }
}

/// A Kubernetes error: an HTTP status and a `Status` object.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeStatus {
    /// HTTP status.
    pub code: u16,
    /// The `Status` body.
    pub body: Value,
}

fn status(code: u16, reason: &str, message: String, kind: Option<Kind>, name: &str) -> KubeStatus {
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), name.into());
    }
    if let Some(k) = kind {
        details.insert("kind".into(), k.plural().into());
    }
    KubeStatus {
        code,
        body: json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details,
            "code": code,
        }),
    }
}

fn not_found(kind: Kind, name: &str) -> KubeStatus {
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", kind.plural()),
        Some(kind),
        name,
    )
}

fn bad_request(message: impl Into<String>) -> KubeStatus {
    status(400, "BadRequest", message.into(), None, "")
}

type Key = (Kind, String, String);

/// The objects of one cluster.
#[derive(Debug)]
pub struct KubeStore {
    objects: BTreeMap<Key, Value>,
    resource_version: u64,
}

impl Default for KubeStore {
    fn default() -> Self {
        KubeStore::new()
    }
}

fn key(kind: Kind, namespace: Option<&str>, name: &str) -> Key {
    match kind {
        Kind::Namespace => (kind, String::new(), name.to_owned()),
        Kind::ServiceAccount => (
            kind,
            namespace.unwrap_or_default().to_owned(),
            name.to_owned(),
        ),
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn pointer_parts(path: &str) -> Result<Vec<String>, KubeStatus> {
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| bad_request(format!("invalid JSON pointer {path}")))?;
    Ok(rest
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// RFC 6902 JSON patch: add, remove, replace, test (objects and arrays).
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), KubeStatus> {
    let ops = ops
        .as_array()
        .ok_or_else(|| bad_request("a JSON patch must be a list of operations"))?;
    for op in ops {
        let verb = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let mut parts = pointer_parts(path)?;
        let last = parts.pop().unwrap_or_default();
        let parent_path: String = parts
            .iter()
            .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
            .collect();
        if verb == "test" {
            if target.pointer(path) != op.get("value") {
                return Err(status(
                    422,
                    "Invalid",
                    format!("test operation failed at {path}"),
                    None,
                    "",
                ));
            }
            continue;
        }
        let parent = target.pointer_mut(&parent_path).ok_or_else(|| {
            status(
                422,
                "Invalid",
                format!("path {path} does not exist"),
                None,
                "",
            )
        })?;
        let value = op.get("value").cloned();
        match (verb, parent) {
            ("add" | "replace", Value::Object(map)) => {
                let Some(v) = value else {
                    return Err(bad_request(format!("{verb} at {path} needs a value")));
                };
                if verb == "replace" && !map.contains_key(&last) {
                    return Err(status(
                        422,
                        "Invalid",
                        format!("path {path} does not exist"),
                        None,
                        "",
                    ));
                }
                map.insert(last, v);
            }
            ("remove", Value::Object(map)) => {
                if map.remove(&last).is_none() {
                    return Err(status(
                        422,
                        "Invalid",
                        format!("path {path} does not exist"),
                        None,
                        "",
                    ));
                }
            }
            (verb, Value::Array(items)) => {
                let index = if last == "-" {
                    items.len()
                } else {
                    last.parse::<usize>()
                        .map_err(|_| bad_request(format!("bad index in {path}")))?
                };
                match verb {
                    "add" if index <= items.len() => {
                        items.insert(index, value.unwrap_or(Value::Null))
                    }
                    "replace" if index < items.len() => items[index] = value.unwrap_or(Value::Null),
                    "remove" if index < items.len() => {
                        items.remove(index);
                    }
                    _ => {
                        return Err(status(
                            422,
                            "Invalid",
                            format!("path {path} does not exist"),
                            None,
                            "",
                        ));
                    }
                }
            }
            (verb, _) => {
                return Err(bad_request(format!(
                    "unsupported JSON patch operation {verb} at {path}"
                )));
            }
        }
    }
    Ok(())
}

/// Whether labels match a selector of `k=v`, `k==v`, `k!=v`, `k`, `!k`
/// terms joined by commas.
pub fn matches_selector(labels: Option<&Map<String, Value>>, selector: &str) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                get(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                get(k.trim()) == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                get(k.trim()).is_none()
            } else {
                get(term).is_some()
            }
        })
}

impl KubeStore {
    /// A store with the initial namespaces and their `default` service accounts.
    pub fn new() -> KubeStore {
        let mut store = KubeStore {
            objects: BTreeMap::new(),
            resource_version: 0,
        };
        for ns in INITIAL_NAMESPACES {
            store
                .upsert(json!({"kind": "Namespace", "metadata": {"name": ns}}))
                .ok();
            store
                .upsert(json!({"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}))
                .ok();
        }
        store
    }

    fn next_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Fills apiVersion, kind, namespace, uid, creationTimestamp and a new
    /// resourceVersion; keeps identity fields of `previous`.
    fn stamp(
        &mut self,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
        obj: &mut Value,
        previous: Option<&Value>,
    ) {
        let version = self.next_version();
        let Some(o) = obj.as_object_mut() else {
            return;
        };
        o.insert("apiVersion".into(), "v1".into());
        o.insert("kind".into(), kind.kind().into());
        let meta = o.entry("metadata").or_insert_with(|| json!({}));
        if !meta.is_object() {
            *meta = json!({});
        }
        if let Some(m) = meta.as_object_mut() {
            m.insert("name".into(), name.into());
            if let (Kind::ServiceAccount, Some(ns)) = (kind, namespace) {
                m.insert("namespace".into(), ns.into());
            }
            let prev = previous.and_then(|p| p.get("metadata"));
            let uid = prev
                .and_then(|p| p.get("uid"))
                .cloned()
                .unwrap_or_else(|| ids::uuid().into());
            let created = prev
                .and_then(|p| p.get("creationTimestamp"))
                .cloned()
                .unwrap_or_else(|| ids::rfc3339(ids::now_epoch()).into());
            m.insert("uid".into(), uid);
            m.insert("creationTimestamp".into(), created);
            m.insert("resourceVersion".into(), version.into());
        }
        if kind == Kind::Namespace {
            o.entry("spec")
                .or_insert_with(|| json!({"finalizers": ["kubernetes"]}));
            o.insert("status".into(), json!({"phase": "Active"}));
        }
    }

    fn require_namespace(&self, namespace: &str) -> Result<(), KubeStatus> {
        if self
            .objects
            .contains_key(&key(Kind::Namespace, None, namespace))
        {
            Ok(())
        } else {
            Err(not_found(Kind::Namespace, namespace))
        }
    }

    /// GET one object.
    pub fn get(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, KubeStatus> {
        self.objects
            .get(&key(kind, namespace, name))
            .cloned()
            .ok_or_else(|| not_found(kind, name))
    }

    /// GET a list (one namespace, or all when `namespace` is `None`).
    pub fn list(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Value, KubeStatus> {
        // Listing in a missing namespace is an empty list, as in Kubernetes.
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|((k, ns, _), _)| {
                *k == kind && namespace.is_none_or(|n| kind == Kind::Namespace || ns == n)
            })
            .filter(|(_, v)| {
                selector.is_none_or(|s| {
                    matches_selector(v.pointer("/metadata/labels").and_then(Value::as_object), s)
                })
            })
            .map(|(_, v)| v.clone())
            .collect();
        Ok(json!({
            "kind": format!("{}List", kind.kind()),
            "apiVersion": "v1",
            "metadata": {"resourceVersion": self.resource_version.to_string()},
            "items": items,
        }))
    }

    /// POST: create.
    pub fn create(
        &mut self,
        kind: Kind,
        namespace: Option<&str>,
        mut obj: Value,
    ) -> Result<Value, KubeStatus> {
        if !obj.is_object() {
            return Err(bad_request("the body must be a JSON object"));
        }
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                status(
                    422,
                    "Invalid",
                    format!(
                        "{} \"\" is invalid: metadata.name: Required value: name is required",
                        kind.kind()
                    ),
                    Some(kind),
                    "",
                )
            })?;
        if let Some(body_ns) = obj.pointer("/metadata/namespace").and_then(Value::as_str)
            && kind == Kind::ServiceAccount
            && Some(body_ns) != namespace
        {
            return Err(bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if let (Kind::ServiceAccount, Some(ns)) = (kind, namespace) {
            self.require_namespace(ns)?;
        }
        let k = key(kind, namespace, &name);
        if self.objects.contains_key(&k) {
            return Err(status(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", kind.plural()),
                Some(kind),
                &name,
            ));
        }
        self.stamp(kind, namespace, &name, &mut obj, None);
        self.objects.insert(k, obj.clone());
        Ok(obj)
    }

    /// PUT: replace.
    pub fn replace(
        &mut self,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
    ) -> Result<Value, KubeStatus> {
        let k = key(kind, namespace, name);
        let previous = self
            .objects
            .get(&k)
            .cloned()
            .ok_or_else(|| not_found(kind, name))?;
        if !obj.is_object() {
            return Err(bad_request("the body must be a JSON object"));
        }
        self.stamp(kind, namespace, name, &mut obj, Some(&previous));
        self.objects.insert(k, obj.clone());
        Ok(obj)
    }

    /// PATCH: JSON merge, strategic merge (as merge: only maps are
    /// patched here), JSON patch, or server-side apply (merge, creating).
    pub fn patch(
        &mut self,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
        content_type: &str,
        patch: Value,
    ) -> Result<Value, KubeStatus> {
        let k = key(kind, namespace, name);
        let apply = content_type.starts_with("application/apply-patch");
        let previous = match self.objects.get(&k) {
            Some(p) => Some(p.clone()),
            None if apply => None,
            None => return Err(not_found(kind, name)),
        };
        if previous.is_none()
            && let (Kind::ServiceAccount, Some(ns)) = (kind, namespace)
        {
            self.require_namespace(ns)?;
        }
        let mut obj = previous
            .clone()
            .unwrap_or_else(|| json!({"metadata": {"name": name}}));
        if content_type.starts_with("application/json-patch+json") {
            json_patch(&mut obj, &patch)?;
        } else if content_type.starts_with("application/merge-patch+json")
            || content_type.starts_with("application/strategic-merge-patch+json")
            || apply
        {
            merge_patch(&mut obj, &patch);
        } else {
            return Err(status(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, not {content_type}"
                ),
                None,
                "",
            ));
        }
        self.stamp(kind, namespace, name, &mut obj, previous.as_ref());
        self.objects.insert(k, obj.clone());
        Ok(obj)
    }

    /// DELETE: removes the object (a namespace with its service accounts)
    /// and returns it.
    pub fn delete(
        &mut self,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, KubeStatus> {
        let obj = self
            .objects
            .remove(&key(kind, namespace, name))
            .ok_or_else(|| not_found(kind, name))?;
        if kind == Kind::Namespace {
            self.objects
                .retain(|(k, ns, _), _| !(*k == Kind::ServiceAccount && ns == name));
        }
        Ok(obj)
    }

    /// Creates or replaces an object given with its `kind` (admin and addon
    /// use); a service account's namespace is created when missing.
    pub fn upsert(&mut self, obj: Value) -> Result<Value, KubeStatus> {
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .and_then(Kind::from_kind)
            .ok_or_else(|| bad_request("kind must be Namespace or ServiceAccount"))?;
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad_request("metadata.name is required"))?
            .to_owned();
        let namespace = match kind {
            Kind::Namespace => None,
            Kind::ServiceAccount => Some(
                obj.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_owned(),
            ),
        };
        if let Some(ns) = &namespace
            && self.require_namespace(ns).is_err()
        {
            self.create(Kind::Namespace, None, json!({"metadata": {"name": ns}}))?;
        }
        let ns = namespace.as_deref();
        if self.objects.contains_key(&key(kind, ns, &name)) {
            self.replace(kind, ns, &name, obj)
        } else {
            self.create(kind, ns, obj)
        }
    }

    /// Every object: `{"namespaces": [...], "serviceAccounts": [...]}`.
    pub fn dump(&self) -> Value {
        let of = |kind: Kind| -> Vec<Value> {
            self.objects
                .iter()
                .filter(|((k, _, _), _)| *k == kind)
                .map(|(_, v)| v.clone())
                .collect()
        };
        json!({"namespaces": of(Kind::Namespace), "serviceAccounts": of(Kind::ServiceAccount)})
    }
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
    fn store_starts_with_the_usual_namespaces() {
        let store = KubeStore::new();
        let list = store.list(Kind::Namespace, None, None).unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 4);
        let sa = store
            .get(Kind::ServiceAccount, Some("kube-system"), "default")
            .unwrap();
        assert_eq!(sa["metadata"]["namespace"], "kube-system");
    }

    #[test]
    fn create_patch_delete_service_account() {
        let mut store = KubeStore::new();
        let sa = store
            .create(
                Kind::ServiceAccount,
                Some("default"),
                json!({"metadata": {"name": "app", "labels": {"a": "1"}}}),
            )
            .unwrap();
        assert_eq!(sa["kind"], "ServiceAccount");
        let uid = sa["metadata"]["uid"].clone();
        let err = store
            .create(
                Kind::ServiceAccount,
                Some("default"),
                json!({"metadata": {"name": "app"}}),
            )
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.body["reason"], "AlreadyExists");
        let err = store
            .create(
                Kind::ServiceAccount,
                Some("nope"),
                json!({"metadata": {"name": "app"}}),
            )
            .unwrap_err();
        assert_eq!(err.code, 404);

        let patched = store
            .patch(
                Kind::ServiceAccount,
                Some("default"),
                "app",
                "application/merge-patch+json",
                json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}, "labels": {"a": null}}}),
            )
            .unwrap();
        assert_eq!(patched["metadata"]["uid"], uid);
        assert_eq!(
            patched["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::1:role/r"
        );
        assert!(patched["metadata"]["labels"].get("a").is_none());

        let patched = store
            .patch(
                Kind::ServiceAccount,
                Some("default"),
                "app",
                "application/json-patch+json",
                json!([{"op": "remove", "path": "/metadata/annotations/eks.amazonaws.com~1role-arn"}]),
            )
            .unwrap();
        assert_eq!(patched["metadata"]["annotations"], json!({}));

        let list = store.list(Kind::ServiceAccount, None, None).unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 5);
        store.delete(Kind::Namespace, None, "default").unwrap();
        assert_eq!(
            store
                .get(Kind::ServiceAccount, Some("default"), "app")
                .unwrap_err()
                .code,
            404
        );
    }

    #[test]
    fn selectors() {
        let labels = json!({"app": "x", "tier": "web"});
        let l = labels.as_object();
        assert!(matches_selector(l, "app=x,tier"));
        assert!(matches_selector(l, "app!=y,!missing"));
        assert!(!matches_selector(l, "app=y"));
        assert!(!matches_selector(None, "app"));
    }

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

/// EKS bearer tokens, checked the way STS and the AWS IAM authenticator
/// check them: the token is `k8s-aws-v1.` + base64url of a presigned STS
/// GetCallerIdentity URL; its SigV4 signature must cover the `host` and
/// `x-k8s-aws-id` headers, with `x-k8s-aws-id` = this cluster's name. The
/// cluster name is not in the URL, so only a signature check can tie a
/// token to a cluster: the emulator recomputes it with the secret of the
/// access key, as STS would. Known keys: `EKS_EMULATOR_CREDENTIALS`
/// (`AKID:SECRET,...`), default `test:test,testing:testing` (the moto
/// conventions). As aws-iam-authenticator's `pkg/token/token.go` checks
/// them: `X-Amz-Expires` must be 0–900, and a token is valid for 15
/// minutes after `X-Amz-Date` whatever `X-Amz-Expires` says (plus 5
/// minutes of clock skew for a date in the future).
pub mod token {
    use base64::Engine;
    use ring::{digest, hmac};
    use std::collections::BTreeMap;

    /// Largest `X-Amz-Expires` accepted (aws-iam-authenticator
    /// `pkg/token/token.go`: `expires < 0 || expires > 900` is refused).
    pub const MAX_EXPIRES_SECS: u64 = 900;
    /// How long a token is good for after its `X-Amz-Date`, whatever its
    /// `X-Amz-Expires` says (token.go: `presignedURLExpiration = 15 *
    /// time.Minute`, "presigned STS urls are valid for 15 minutes after
    /// timestamp in x-amz-date").
    pub const VALIDITY_SECS: u64 = 15 * 60;
    /// A token dated this far in the future is still taken: the authenticator
    /// does not look, STS (which checks the signature) allows SigV4's clock
    /// skew. The emulator's reading; not from token.go.
    const SKEW_SECS: u64 = 5 * 60;

    /// Why a token was refused (logged, never sent to the client).
    #[derive(Debug, thiserror::Error, PartialEq, Eq)]
    pub enum TokenError {
        /// No `Authorization: Bearer k8s-aws-v1.…` header.
        #[error("no EKS bearer token")]
        Missing,
        /// Not base64url of a URL.
        #[error("the token is not base64url of a URL")]
        Encoding,
        /// Not a presigned STS GetCallerIdentity URL.
        #[error("not a presigned STS GetCallerIdentity URL: {0}")]
        NotGetCallerIdentity(String),
        /// Outside its validity.
        #[error("the token is expired or not yet valid")]
        Expired,
        /// The access key is not known.
        #[error("unknown access key {0}")]
        UnknownKey(String),
        /// The signature does not match (wrong cluster, wrong secret, tampered).
        #[error("the signature does not match (a token for another cluster, or a wrong secret)")]
        Signature,
    }

    /// Seconds since the epoch now.
    pub fn now_secs() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn secret_of(akid: &str) -> Option<String> {
        let list = std::env::var("EKS_EMULATOR_CREDENTIALS")
            .unwrap_or_else(|_| "test:test,testing:testing".to_owned());
        list.split(',')
            .filter_map(|p| p.split_once(':'))
            .find(|(k, _)| k.trim() == akid)
            .map(|(_, s)| s.trim().to_owned())
    }

    /// AWS URI encoding (RFC 3986 unreserved characters kept).
    fn encode(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    fn decode(s: &str) -> String {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    }

    fn hmac(key: &[u8], data: &str) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
            .as_ref()
            .to_vec()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `YYYYMMDDTHHMMSSZ` → epoch seconds.
    fn parse_amz_date(s: &str) -> Option<u64> {
        if s.len() != 16 || !s.ends_with('Z') || s.as_bytes().get(8) != Some(&b'T') {
            return None;
        }
        let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
        let (y, m, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
        let (hh, mm, ss) = (n(9, 11)?, n(11, 13)?, n(13, 15)?);
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
    }

    fn amz_date(secs: u64) -> String {
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!(
            "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    /// The signature of a GET of `host` `/` with `query` (without the
    /// signature) and the signed headers host and x-k8s-aws-id.
    fn signature(
        secret: &str,
        host: &str,
        cluster: &str,
        query: &BTreeMap<String, String>,
        payload_hash: &str,
    ) -> Option<String> {
        let credential = query.get("X-Amz-Credential")?;
        let parts: Vec<&str> = credential.split('/').collect();
        let [_, date, region, service, "aws4_request"] = parts.as_slice() else {
            return None;
        };
        let amz_date = query.get("X-Amz-Date")?;
        let canonical_query = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let canonical = format!(
            "GET\n/\n{canonical_query}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\nhost;x-k8s-aws-id\n{payload_hash}"
        );
        let scope = format!("{date}/{region}/{service}/aws4_request");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
        );
        let k = hmac(format!("AWS4{secret}").as_bytes(), date);
        let k = hmac(&k, region);
        let k = hmac(&k, service);
        let k = hmac(&k, "aws4_request");
        Some(hex(&hmac(&k, &to_sign)))
    }

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// Checks an `Authorization` header value for `cluster` at `now`.
    pub fn verify(auth: Option<&str>, cluster: &str, now: u64) -> Result<(), TokenError> {
        let token = auth
            .and_then(|a| a.strip_prefix("Bearer "))
            .and_then(|t| t.trim().strip_prefix("k8s-aws-v1."))
            .ok_or(TokenError::Missing)?;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(TokenError::Encoding)?;
        let not = |why: &str| TokenError::NotGetCallerIdentity(why.to_owned());
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| not("not https"))?;
        let (host, path_query) = rest.split_once('/').ok_or_else(|| not("no path"))?;
        let query_text = path_query
            .strip_prefix('?')
            .ok_or_else(|| not("path is not /"))?;
        let sts_host = host == "sts.amazonaws.com"
            || (host.starts_with("sts.")
                && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")));
        if !sts_host {
            return Err(not("not an STS host"));
        }
        let mut query: BTreeMap<String, String> = query_text
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        let get = |k: &str| query.get(k).map(String::as_str);
        if get("Action") != Some("GetCallerIdentity") {
            return Err(not("Action is not GetCallerIdentity"));
        }
        if get("Version") != Some("2011-06-15") {
            return Err(not("Version is not 2011-06-15"));
        }
        if get("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
            return Err(not("not signed with AWS4-HMAC-SHA256"));
        }
        if get("X-Amz-SignedHeaders") != Some("host;x-k8s-aws-id") {
            return Err(not("the signed headers are not host;x-k8s-aws-id"));
        }
        let credential = get("X-Amz-Credential").ok_or_else(|| not("no credential"))?;
        let akid = credential.split('/').next().unwrap_or_default().to_owned();
        if credential.split('/').nth(3) != Some("sts") {
            return Err(not("not signed for sts"));
        }
        let date = get("X-Amz-Date")
            .and_then(parse_amz_date)
            .ok_or_else(|| not("bad X-Amz-Date"))?;
        // aws-iam-authenticator pkg/token/token.go: "We validate
        // x-amz-expires is between 0 and 15 minutes (900 seconds) although
        // currently pre-signed STS URLs, and therefore tokens, expire
        // exactly 15 minutes after the x-amz-date header, regardless of
        // x-amz-expires."
        let expires = get("X-Amz-Expires").unwrap_or_default();
        if !expires.parse::<u64>().is_ok_and(|e| e <= MAX_EXPIRES_SECS) {
            return Err(not(&format!(
                "invalid X-Amz-Expires parameter in pre-signed URL: {expires}"
            )));
        }
        if now + SKEW_SECS < date || now > date + VALIDITY_SECS {
            return Err(TokenError::Expired);
        }
        let given = query
            .remove("X-Amz-Signature")
            .ok_or_else(|| not("no signature"))?;
        let secret = secret_of(&akid).ok_or(TokenError::UnknownKey(akid))?;
        let matches = [EMPTY_SHA256, "UNSIGNED-PAYLOAD"].iter().any(|payload| {
            signature(&secret, host, cluster, &query, payload).as_deref() == Some(given.as_str())
        });
        if matches {
            Ok(())
        } else {
            Err(TokenError::Signature)
        }
    }

    /// Makes a token as `aws eks get-token` does (for tests and tools).
    pub fn presign(
        akid: &str,
        secret: &str,
        region: &str,
        cluster: &str,
        now: u64,
        expires: u64,
    ) -> String {
        let host = format!("sts.{region}.amazonaws.com");
        let amz_date = amz_date(now);
        let mut query: BTreeMap<String, String> = [
            ("Action", "GetCallerIdentity".to_owned()),
            ("Version", "2011-06-15".to_owned()),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
            (
                "X-Amz-Credential",
                format!("{akid}/{}/{region}/sts/aws4_request", &amz_date[..8]),
            ),
            ("X-Amz-Date", amz_date.clone()),
            ("X-Amz-Expires", expires.to_string()),
            ("X-Amz-SignedHeaders", "host;x-k8s-aws-id".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let sig = signature(secret, &host, cluster, &query, EMPTY_SHA256).unwrap_or_default();
        query.insert("X-Amz-Signature".to_owned(), sig);
        let q = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = format!("https://{host}/?{q}");
        format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const NOW: u64 = 1_700_000_000;

        fn bearer(t: &str) -> String {
            format!("Bearer {t}")
        }

        #[test]
        fn dates_round_trip() {
            assert_eq!(amz_date(NOW), "20231114T221320Z");
            assert_eq!(parse_amz_date("20231114T221320Z"), Some(NOW));
            assert_eq!(parse_amz_date("2023-11-14"), None);
        }

        #[test]
        fn a_token_is_good_for_its_cluster_only() {
            let t = presign("test", "test", "us-east-1", "prod", NOW, 60);
            assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 10), Ok(()));
            assert_eq!(
                verify(Some(&bearer(&t)), "dev", NOW + 10),
                Err(TokenError::Signature)
            );
            // X-Amz-Expires (60) does not shorten it: 15 minutes from
            // X-Amz-Date, as aws-iam-authenticator has it.
            assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 61), Ok(()));
            assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 900), Ok(()));
            assert_eq!(
                verify(Some(&bearer(&t)), "prod", NOW + 901),
                Err(TokenError::Expired)
            );
            let wrong_secret = presign("test", "nope", "us-east-1", "prod", NOW, 60);
            assert_eq!(
                verify(Some(&bearer(&wrong_secret)), "prod", NOW),
                Err(TokenError::Signature)
            );
            let unknown = presign("AKIAOTHER", "x", "us-east-1", "prod", NOW, 60);
            assert!(matches!(
                verify(Some(&bearer(&unknown)), "prod", NOW),
                Err(TokenError::UnknownKey(_))
            ));
        }

        #[test]
        fn x_amz_expires_over_900_is_refused() {
            let t = presign("test", "test", "us-east-1", "prod", NOW, 900);
            assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 10), Ok(()));
            let t = presign("test", "test", "us-east-1", "prod", NOW, 901);
            assert!(matches!(
                verify(Some(&bearer(&t)), "prod", NOW + 10),
                Err(TokenError::NotGetCallerIdentity(why)) if why.contains("X-Amz-Expires")
            ));
            let t = presign("test", "test", "us-east-1", "prod", NOW, 3600);
            assert!(verify(Some(&bearer(&t)), "prod", NOW + 10).is_err());
        }

        #[test]
        fn only_get_caller_identity_counts() {
            let url = "https://sts.us-east-1.amazonaws.com/?Action=AssumeRole&Version=2011-06-15";
            let t = format!(
                "k8s-aws-v1.{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
            );
            assert!(matches!(
                verify(Some(&bearer(&t)), "prod", NOW),
                Err(TokenError::NotGetCallerIdentity(_))
            ));
            let evil = "https://evil.example.com/?Action=GetCallerIdentity";
            let t = format!(
                "k8s-aws-v1.{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(evil)
            );
            assert!(verify(Some(&bearer(&t)), "prod", NOW).is_err());
            assert_eq!(verify(None, "prod", NOW), Err(TokenError::Missing));
            assert_eq!(
                verify(Some("Bearer k8s-aws-v1.!!!"), "prod", NOW),
                Err(TokenError::Encoding)
            );
        }
    }
}
