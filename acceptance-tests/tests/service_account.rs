//! `create_service_account` on `eks_pod_identity_association` (issue 6):
//! the namespace and service account are created when missing and labelled,
//! a service account deleted by hand shows as drift and comes back, destroy
//! deletes only what the resource created (never a pre-existing one), and
//! the emulator's Kubernetes API refuses a bad token.
//!
//! Deleting "by hand" goes through the cluster's Kubernetes API with a token
//! minted by a few lines of Python (stdlib only; python3 is there for moto),
//! as `aws eks get-token` would mint it.

use acceptance_tests::hcl::{association, block, config, provider, provider_with_blocks, string};
use acceptance_tests::{Tf, World, acc, random_name};
use serde_json::{Value, json};
use std::process::Command;

const ADDRESS: &str = "eks_pod_identity_association.test";

/// Presigns an EKS token (SigV4 of STS GetCallerIdentity with
/// x-k8s-aws-id) and sends one request to the cluster's API over TLS.
const KUBE_PY: &str = r#"
import base64, datetime, hashlib, hmac, json, ssl, sys, urllib.parse, urllib.request
endpoint, ca_b64, cluster, method, path = sys.argv[1:6]
def token(cluster):
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime('%Y%m%dT%H%M%SZ'), now.strftime('%Y%m%d')
    host = 'sts.us-east-1.amazonaws.com'
    q = {'Action': 'GetCallerIdentity', 'Version': '2011-06-15', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
         'X-Amz-Credential': 'test/%s/us-east-1/sts/aws4_request' % day, 'X-Amz-Date': amz,
         'X-Amz-Expires': '60', 'X-Amz-SignedHeaders': 'host;x-k8s-aws-id'}
    cq = '&'.join('%s=%s' % (urllib.parse.quote(k, safe='-_.~'), urllib.parse.quote(v, safe='-_.~')) for k, v in sorted(q.items()))
    creq = '\n'.join(['GET', '/', cq, 'host:' + host, 'x-k8s-aws-id:' + cluster, '', 'host;x-k8s-aws-id', hashlib.sha256(b'').hexdigest()])
    sts = '\n'.join(['AWS4-HMAC-SHA256', amz, '%s/us-east-1/sts/aws4_request' % day, hashlib.sha256(creq.encode()).hexdigest()])
    k = ('AWS4test').encode()
    for part in [day, 'us-east-1', 'sts', 'aws4_request']:
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    url = 'https://%s/?%s&X-Amz-Signature=%s' % (host, cq, sig)
    return 'k8s-aws-v1.' + base64.urlsafe_b64encode(url.encode()).decode().rstrip('=')
if method == 'TOKEN':
    print(token(cluster)); sys.exit(0)
ctx = ssl.create_default_context(cadata=base64.b64decode(ca_b64).decode())
req = urllib.request.Request(endpoint + path, method=method, headers={'Authorization': 'Bearer ' + token(cluster)})
try:
    with urllib.request.urlopen(req, context=ctx) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
"#;

/// Runs [`KUBE_PY`]: the HTTP status (or, for `TOKEN`, the token).
fn kube_py(w: &World, cluster: &str, token_for: &str, method: &str, path: &str) -> String {
    let c = w.describe_cluster(cluster).expect("cluster");
    let out = Command::new("python3")
        .arg("-c")
        .arg(KUBE_PY)
        .arg(c["endpoint"].as_str().unwrap_or_default())
        .arg(
            c["certificateAuthority"]["data"]
                .as_str()
                .unwrap_or_default(),
        )
        .arg(token_for)
        .arg(method)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn service_account(w: &World, cluster: &str, ns: &str, name: &str) -> Option<Value> {
    let dump = w
        .eks("GET", &format!("/_emulator/kubernetes/{cluster}"), None)
        .json();
    dump["serviceAccounts"]
        .as_array()?
        .iter()
        .find(|s| s["metadata"]["namespace"] == ns && s["metadata"]["name"] == name)
        .cloned()
}

fn namespace_exists(w: &World, cluster: &str, ns: &str) -> bool {
    let dump = w
        .eks("GET", &format!("/_emulator/kubernetes/{cluster}"), None)
        .json();
    dump["namespaces"]
        .as_array()
        .is_some_and(|l| l.iter().any(|n| n["metadata"]["name"] == ns))
}

fn with_sa(cluster: &str, ns: &str, sa: &str, role: &str) -> String {
    config(&[
        provider(&[]),
        association(
            "test",
            cluster,
            ns,
            sa,
            role,
            &[("create_service_account", "true".into())],
        ),
    ])
}

#[test]
fn service_account_basic() {
    let Some(w) = acc("service_account_basic") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let ns = random_name();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&with_sa(&cluster, &ns, &sa, &role.arn));
    tf.apply();

    let found = service_account(w, &cluster, &ns, &sa).expect("service account created");
    assert_eq!(
        found["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "terraform-provider-eks"
    );
    assert!(namespace_exists(w, &cluster, &ns));
    let state = tf.resource(ADDRESS);
    assert_eq!(state["service_account_created"], true);
    assert_eq!(state["service_account_uid"], found["metadata"]["uid"]);
    tf.assert_plan_empty();

    // Deleted by hand: drift, and apply makes it again.
    let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/{sa}");
    assert_eq!(kube_py(w, &cluster, &cluster, "DELETE", &path), "200");
    assert!(service_account(w, &cluster, &ns, &sa).is_none());
    assert!(!tf.plan_is_empty());
    tf.apply();
    let again = service_account(w, &cluster, &ns, &sa).expect("re-created");
    assert_ne!(again["metadata"]["uid"], found["metadata"]["uid"]);
    assert_eq!(tf.resource(ADDRESS)["service_account_created"], true);
    tf.assert_plan_empty();

    // Destroy deletes the service account it made; the namespace stays.
    tf.destroy();
    assert!(service_account(w, &cluster, &ns, &sa).is_none());
    assert!(namespace_exists(w, &cluster, &ns));
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn service_account_preexisting_is_never_deleted() {
    let Some(w) = acc("service_account_preexisting_is_never_deleted") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    // A service account that already exists, even with our managed-by label.
    let seeded = w.eks(
        "POST",
        &format!("/_emulator/kubernetes/{cluster}"),
        Some(
            &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
            "name": sa, "namespace": "default",
            "labels": {"app.kubernetes.io/managed-by": "terraform-provider-eks"}}}),
        ),
    );
    assert!(seeded.ok(), "{}", seeded.body);
    let mut tf = Tf::new(w);
    tf.write(&with_sa(&cluster, "default", &sa, &role.arn));
    tf.apply();
    assert_eq!(tf.resource(ADDRESS)["service_account_created"], false);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(
        service_account(w, &cluster, "default", &sa).is_some(),
        "a pre-existing service account was deleted"
    );
}

#[test]
fn service_account_bad_token_is_refused() {
    let Some(w) = acc("service_account_bad_token_is_refused") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    // The emulator itself: no token, garbage, and a valid token of another cluster.
    let path = "/api/v1/namespaces";
    assert_eq!(kube_py(w, &cluster, &cluster, "GET", path), "200");
    assert_eq!(kube_py(w, &cluster, "another-cluster", "GET", path), "401");
    // Through the provider: a token for another cluster in the kubernetes block.
    let other_token = kube_py(w, &cluster, "another-cluster", "TOKEN", "");
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_with_blocks(
            &[],
            &[block("kubernetes", &[("token", string(&other_token))])],
        ),
        association(
            "test",
            &cluster,
            "default",
            &sa,
            &role.arn,
            &[("create_service_account", "true".into())],
        ),
    ]));
    let out = tf.apply_expect_error("HTTP 401");
    assert!(out.contains("refused the EKS token"), "{out}");
    assert!(service_account(w, &cluster, "default", &sa).is_none());
    // With the default (a token the provider signs for this cluster) it works.
    tf.write(&with_sa(&cluster, "default", &sa, &role.arn));
    tf.apply();
    assert!(service_account(w, &cluster, "default", &sa).is_some());
    tf.destroy();
}

#[test]
fn service_account_through_kubeconfig() {
    let Some(w) = acc("service_account_through_kubeconfig") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let described = w.describe_cluster(&cluster).unwrap_or(Value::Null);
    let server = described["endpoint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ca = described["certificateAuthority"]["data"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut tf = Tf::new(w);
    // A kubeconfig as `aws eks update-kubeconfig` writes it: the user runs
    // `aws eks get-token`, so the provider uses its own EKS token. The
    // current context is a broken one; config_context picks the right one.
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: broken\nclusters:\n- name: eks\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: eks\n  context:\n    cluster: eks\n    user: eks\n- name: broken\n  context:\n    cluster: nowhere\n    user: eks\nusers:\n- name: eks\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, {cluster}]\n"
    );
    let path = tf.path().join("kubeconfig");
    std::fs::write(&path, kubeconfig).unwrap_or_else(|e| panic!("writing kubeconfig: {e}"));
    let with_context = |context: &str| {
        config(&[
            provider_with_blocks(
                &[],
                &[block(
                    "kubernetes",
                    &[
                        ("config_path", string(&path.display().to_string())),
                        ("config_context", string(context)),
                    ],
                )],
            ),
            association(
                "test",
                &cluster,
                "default",
                &sa,
                &role.arn,
                &[("create_service_account", "true".into())],
            ),
        ])
    };
    tf.write(&with_context("missing"));
    tf.apply_expect_error("no context \"missing\"");
    tf.write(&with_context("eks"));
    tf.apply();
    assert!(service_account(w, &cluster, "default", &sa).is_some());
    tf.assert_plan_empty();
    tf.destroy();
    assert!(service_account(w, &cluster, "default", &sa).is_none());
}

#[test]
fn service_account_kubeconfig_paths_relative_to_the_kubeconfig() {
    let Some(w) = acc("service_account_kubeconfig_paths_relative_to_the_kubeconfig") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let described = w.describe_cluster(&cluster).unwrap_or(Value::Null);
    let server = described["endpoint"].as_str().unwrap_or_default();
    let ca_pem = base64_decode(
        described["certificateAuthority"]["data"]
            .as_str()
            .unwrap_or_default(),
    );
    let mut tf = Tf::new(w);
    // As kubectl reads it: `certificate-authority: ca.crt` is next to the
    // kubeconfig, not in Terraform's working directory.
    let dir = tf.path().join("kube");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::write(dir.join("ca.crt"), ca_pem).unwrap_or_else(|e| panic!("writing ca: {e}"));
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: eks\nclusters:\n- name: eks\n  cluster:\n    server: {server}\n    certificate-authority: ca.crt\ncontexts:\n- name: eks\n  context:\n    cluster: eks\n    user: eks\nusers:\n- name: eks\n  user:\n    exec:\n      command: aws\n      args: [eks, get-token, --cluster-name, {cluster}]\n"
    );
    let path = dir.join("config");
    std::fs::write(&path, kubeconfig).unwrap_or_else(|e| panic!("writing kubeconfig: {e}"));
    tf.write(&config(&[
        provider_with_blocks(
            &[],
            &[block(
                "kubernetes",
                &[("config_path", string(&path.display().to_string()))],
            )],
        ),
        association(
            "test",
            &cluster,
            "default",
            &sa,
            &role.arn,
            &[("create_service_account", "true".into())],
        ),
    ]));
    tf.apply();
    assert!(service_account(w, &cluster, "default", &sa).is_some());
    tf.destroy();
}

/// Standard base64 (the cluster CA), decoded with python3's stdlib.
fn base64_decode(b64: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg("import base64, sys; sys.stdout.write(base64.b64decode(sys.argv[1]).decode())")
        .arg(b64)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    String::from_utf8_lossy(&out.stdout).to_string()
}
