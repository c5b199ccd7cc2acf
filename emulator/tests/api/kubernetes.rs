//! The per-cluster Kubernetes API, over real TLS with the cluster's CA.

use std::sync::Arc;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

use crate::support::Eks;

struct Kube {
    cluster: String,
    host_port: String,
    tls: tokio_rustls::TlsConnector,
}

fn token(cluster: &str) -> String {
    use eks_emulator::kube::token;
    token::presign("test", "test", "us-west-2", cluster, token::now_secs(), 60)
}

impl Kube {
    /// A client for a cluster, trusting only its CA.
    fn for_cluster(cluster: &Value) -> Kube {
        let endpoint = cluster["endpoint"].as_str().unwrap();
        let host_port = endpoint.strip_prefix("https://").unwrap().to_owned();
        let pem = base64::engine::general_purpose::STANDARD
            .decode(cluster["certificateAuthority"]["data"].as_str().unwrap())
            .unwrap();
        let pem = String::from_utf8(pem).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(der)).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Kube {
            cluster: cluster["name"].as_str().unwrap().to_owned(),
            host_port,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<Value>,
        with_token: bool,
    ) -> (u16, Value) {
        let tcp = tokio::net::TcpStream::connect(&self.host_port)
            .await
            .unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let tls = self.tls.connect(name, tcp).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host_port)
            .header("content-type", content_type);
        if with_token {
            request = request.header("authorization", format!("Bearer {}", token(&self.cluster)));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let response = sender
            .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, "application/json", None, true).await
    }
}

#[tokio::test]
async fn kubernetes_service_accounts_over_tls() {
    let eks = Eks::new().await;
    let cluster = eks.cluster("c1").await;
    assert!(
        cluster["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    let kube = Kube::for_cluster(&cluster);

    let (code, body) = kube
        .call("GET", "/api/v1/namespaces", "application/json", None, false)
        .await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(body["kind"], "Status");

    // A valid token for another cluster is refused: the cluster name is signed.
    let other = Kube {
        cluster: "another-cluster".to_owned(),
        host_port: kube.host_port.clone(),
        tls: kube.tls.clone(),
    };
    let (code, body) = other.get("/api/v1/namespaces").await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(body["reason"], "Unauthorized");

    let (code, list) = kube.get("/api/v1/namespaces").await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "NamespaceList");
    assert_eq!(list["items"].as_array().unwrap().len(), 4);

    let (code, ns) = kube
        .call(
            "POST",
            "/api/v1/namespaces",
            "application/json",
            Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})),
            true,
        )
        .await;
    assert_eq!(code, 201, "{ns}");
    let (code, sa) = kube
        .call(
            "POST",
            "/api/v1/namespaces/apps/serviceaccounts",
            "application/json",
            Some(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "web", "labels": {"tier": "web"}}})),
            true,
        )
        .await;
    assert_eq!(code, 201, "{sa}");
    assert_eq!(sa["metadata"]["namespace"], "apps");
    let (code, dup) = kube
        .call(
            "POST",
            "/api/v1/namespaces/apps/serviceaccounts",
            "application/json",
            Some(json!({"metadata": {"name": "web"}})),
            true,
        )
        .await;
    assert_eq!(code, 409);
    assert_eq!(dup["reason"], "AlreadyExists");

    let role = "arn:aws:iam::123456789012:role/web";
    let (code, patched) = kube
        .call(
            "PATCH",
            "/api/v1/namespaces/apps/serviceaccounts/web",
            "application/merge-patch+json",
            Some(json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": role}}})),
            true,
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    assert_eq!(
        patched["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        role
    );
    let (_, all) = kube.get("/api/v1/serviceaccounts").await;
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["metadata"]["name"] == "web")
    );
    let (_, sel) = kube
        .get("/api/v1/namespaces/apps/serviceaccounts?labelSelector=tier%3Dweb")
        .await;
    assert_eq!(sel["items"].as_array().unwrap().len(), 1);

    let (code, _) = kube
        .call(
            "DELETE",
            "/api/v1/namespaces/apps/serviceaccounts/web",
            "application/json",
            None,
            true,
        )
        .await;
    assert_eq!(code, 200);
    let (code, missing) = kube
        .get("/api/v1/namespaces/apps/serviceaccounts/web")
        .await;
    assert_eq!(code, 404);
    assert_eq!(missing["reason"], "NotFound");
    assert_eq!(missing["message"], "serviceaccounts \"web\" not found");
}

#[tokio::test]
async fn kubernetes_admin_seed_and_addon_service_accounts() {
    let eks = Eks::new().await;
    let cluster = eks.cluster("c1").await;
    let kube = Kube::for_cluster(&cluster);
    let seeded = eks
        .admin(
            "POST",
            "/_emulator/kubernetes/c1",
            json!({"kind": "ServiceAccount", "metadata": {"name": "legacy", "namespace": "irsa",
                "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/legacy"}}}),
        )
        .await;
    assert_eq!(seeded["metadata"]["namespace"], "irsa");
    let (code, sa) = kube
        .get("/api/v1/namespaces/irsa/serviceaccounts/legacy")
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/legacy"
    );

    eks.call(
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "aws-ebs-csi-driver"})),
    )
    .await
    .ok();
    let (code, _) = kube
        .get("/api/v1/namespaces/kube-system/serviceaccounts/ebs-csi-controller-sa")
        .await;
    assert_eq!(code, 200);
    let dump = eks
        .admin("GET", "/_emulator/kubernetes/c1", json!({}))
        .await;
    assert!(dump["serviceAccounts"].as_array().unwrap().len() >= 6);
    let state = eks.admin("GET", "/_emulator/state", json!({})).await;
    assert!(state["regions"][0]["kubernetes"]["c1"]["namespaces"].is_array());

    // Deleting the cluster stops its API.
    eks.call("DELETE", "/clusters/c1", None).await.ok();
    crate::support::eventually(std::time::Duration::from_secs(5), || async {
        tokio::net::TcpStream::connect(&kube.host_port)
            .await
            .is_err()
    })
    .await;
    let r = eks.call("GET", "/_emulator/kubernetes/c1", None).await;
    assert_eq!(r.status.as_u16(), 400);
}
