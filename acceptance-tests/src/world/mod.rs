//! The local AWS world of one test binary: moto (IAM, STS) and
//! `eks-emulator` (EKS) on free loopback ports, started on first use and
//! shared by the binary's tests, which keep apart by using random names.
//!
//! Both servers die with the test binary: they are spawned with
//! `PR_SET_PDEATHSIG` from a thread that never ends (the signal fires when the
//! *thread* that forked them exits, and test threads exit all the time).
//!
//! Faults set through [`World::set_faults`] hit every test of the binary:
//! tests that need them live in a test binary of their own.
//!
//! In AWS mode ([`crate::aws`]) nothing is started: the world is the
//! account of the environment's credentials, reached at the environment's
//! endpoints with real SigV4, and one existing cluster that every test
//! shares ([`World::new_cluster`] returns it; [`World::list_associations`]
//! shows a test only the associations of its own names). Roles the harness
//! makes carry the tag `eks-test-run = <run>` for the sweeper.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::aws::{self, Client, Endpoints, Signer};
use crate::http::{Answer, decode, encode, xml_all, xml_first};

mod local;
pub(crate) use crate::place::{binary_name, target_dir};
use local::*;
pub use local::{fixture_dir, provider_dir, spawn_logged};

/// How long a server may take to print its address. moto needs about a
/// second; a cold machine under a parallel build more.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a cluster or addon may take to become ACTIVE in the emulator.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// The account moto and the emulator use.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region of the world.
pub const REGION: &str = "us-east-1";

/// A running world: where its servers listen and where their logs are.
pub struct World {
    /// moto's base URL (IAM and STS), e.g. `http://127.0.0.1:40123`; in
    /// AWS mode IAM's endpoint.
    pub moto_url: String,
    /// The emulator's base URL (EKS and `/_emulator/...`); in AWS mode EKS's endpoint.
    pub eks_url: String,
    /// Folder with `moto.log` and `emulator.log`.
    pub log_dir: PathBuf,
    /// The world's region ([`REGION`], or `AWS_REGION` in AWS mode).
    pub region: String,
    /// The account ([`ACCOUNT_ID`], or the credentials' in AWS mode).
    pub account_id: String,
    /// In AWS mode: the one cluster every test uses.
    shared_cluster: Option<String>,
    client: Client,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("eks_url", &self.eks_url)
            .field("iam_url", &self.moto_url)
            .field("region", &self.region)
            .field("shared_cluster", &self.shared_cluster)
            .finish_non_exhaustive()
    }
}

/// An IAM role as moto reports it.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub path: String,
    /// The trust policy, decoded and parsed.
    pub trust_policy: Value,
}

static WORLD: OnceLock<World> = OnceLock::new();

/// The world of this test binary, started (or in AWS mode reached) on first call.
pub fn world() -> &'static World {
    WORLD.get_or_init(|| {
        if aws::enabled() {
            World::connect().unwrap_or_else(|e| panic!("AWS mode: {e}"))
        } else {
            World::start().unwrap_or_else(|e| panic!("starting the world: {e}"))
        }
    })
}

/// The trust policy that lets EKS Pod Identity assume a role.
pub fn pod_identity_trust() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]
    })
}

impl World {
    fn start() -> Result<World, String> {
        let emulator = emulator_bin()?;
        let moto = moto_server();
        let log_dir = target_dir()?.join("world").join(binary_name());
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| format!("creating {}: {e}", log_dir.display()))?;
        let (tx, rx) = mpsc::channel();
        let dir = log_dir.clone();
        thread::Builder::new()
            .name("tf-acc-world".into())
            .spawn(move || {
                let mut children = Vec::new();
                let result = spawn_servers(&moto, &emulator, &dir, &mut children);
                let failed = result.is_err();
                // The receiver waits for exactly this message.
                let _ = tx.send(result);
                if failed {
                    for child in &mut children {
                        let _ = child.kill();
                    }
                    return;
                }
                // Park forever: the servers are children of this thread and get
                // SIGKILL (PR_SET_PDEATHSIG) when it ends, i.e. when the process does.
                loop {
                    thread::park();
                }
            })
            .map_err(|e| format!("spawning the world thread: {e}"))?;
        let (moto_url, eks_url) = rx
            .recv()
            .map_err(|_| "the world thread died".to_string())??;
        let client = Client::new(
            Endpoints {
                eks: eks_url.clone(),
                iam: moto_url.clone(),
                sts: moto_url.clone(),
            },
            REGION,
            Signer::Fake,
        );
        let world = World {
            moto_url,
            eks_url,
            log_dir,
            region: REGION.to_string(),
            account_id: ACCOUNT_ID.to_string(),
            shared_cluster: None,
            client,
        };
        eprintln!(
            "[tf-acc] world: moto {} eks-emulator {} (logs in {})",
            world.moto_url,
            world.eks_url,
            world.log_dir.display()
        );
        Ok(world)
    }

    /// AWS mode: the account and cluster of the environment; checks that
    /// the credentials work and the cluster is ACTIVE.
    fn connect() -> Result<World, String> {
        let settings = aws::settings();
        let client = Client::from_settings(settings)?;
        let account_id = client.account_id()?;
        let path = format!("/clusters/{}", settings.cluster);
        let answer = client.eks("GET", &path, None)?;
        if !answer.ok() {
            return Err(format!(
                "DescribeCluster {} in {}: HTTP {}: {}",
                settings.cluster, settings.region, answer.status, answer.body
            ));
        }
        let status = answer.json()["cluster"]["status"].clone();
        if status != "ACTIVE" {
            return Err(format!(
                "cluster {} is {status}, not ACTIVE",
                settings.cluster
            ));
        }
        let log_dir = target_dir()?.join("aws-acc").join(binary_name());
        eprintln!(
            "[tf-acc] AWS mode: run {} in account {account_id}, cluster {} ({}), EKS {}, IAM {}",
            settings.run,
            settings.cluster,
            settings.region,
            settings.endpoints.eks,
            settings.endpoints.iam
        );
        Ok(World {
            moto_url: settings.endpoints.iam.clone(),
            eks_url: settings.endpoints.eks.clone(),
            log_dir,
            region: settings.region.clone(),
            account_id,
            shared_cluster: Some(settings.cluster.clone()),
            client,
        })
    }

    /// Whether this is AWS mode (a shared cluster, nothing started).
    pub fn is_aws(&self) -> bool {
        self.shared_cluster.is_some()
    }

    /// The environment terraform (and so the provider) needs to talk to this world.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        if self.is_aws() {
            return aws_mode_env();
        }
        [
            ("AWS_ENDPOINT_URL_EKS", self.eks_url.as_str()),
            ("AWS_ENDPOINT_URL_IAM", self.moto_url.as_str()),
            ("AWS_ENDPOINT_URL_STS", self.moto_url.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", REGION),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    // ---- IAM (moto, query API) -------------------------------------------

    /// One IAM query call; the answer whatever its status.
    pub fn iam(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.client
            .iam(action, params)
            .unwrap_or_else(|e| panic!("IAM {action}: {e}"))
    }

    fn iam_ok(&self, action: &str, params: &[(&str, &str)]) -> String {
        let answer = self.iam(action, params);
        assert!(
            answer.ok(),
            "IAM {action} {params:?}: HTTP {}: {}",
            answer.status,
            answer.body
        );
        answer.body
    }

    /// Creates a role with the given trust policy (in AWS mode tagged
    /// `eks-test-run = <run>`, for the sweeper).
    pub fn create_role(&self, name: &str, trust: &Value) -> Role {
        let trust = trust.to_string();
        let mut params = vec![("RoleName", name), ("AssumeRolePolicyDocument", &trust)];
        if self.is_aws() {
            params.push(("Tags.member.1.Key", aws::RUN_TAG));
            params.push(("Tags.member.1.Value", &aws::settings().run));
        }
        let body = self.iam_ok("CreateRole", &params);
        parse_role(&body).unwrap_or_else(|| panic!("CreateRole {name}: no role in {body}"))
    }

    /// Creates a role with a random `tf-acc-` name that trusts pods.eks.amazonaws.com.
    pub fn create_pod_role(&self) -> Role {
        self.create_role(&crate::random_name(), &pod_identity_trust())
    }

    /// The role, or `None` when moto does not know it.
    pub fn get_role(&self, name: &str) -> Option<Role> {
        let answer = self.iam("GetRole", &[("RoleName", name)]);
        if answer.body.contains("<Code>NoSuchEntity</Code>") {
            return None;
        }
        assert!(answer.ok(), "GetRole {name}: {}", answer.body);
        parse_role(&answer.body)
    }

    /// Names of all roles (follows `Marker`).
    pub fn list_roles(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut params = vec![("MaxItems", "1000")];
            if let Some(m) = &marker {
                params.push(("Marker", m));
            }
            let body = self.iam_ok("ListRoles", &params);
            names.extend(xml_all(&body, "RoleName"));
            marker = match xml_first(&body, "IsTruncated").as_deref() {
                Some("true") => xml_first(&body, "Marker"),
                _ => None,
            };
            if marker.is_none() {
                return names;
            }
        }
    }

    /// ARNs of the managed policies attached to a role.
    pub fn list_attached_role_policies(&self, role: &str) -> Vec<String> {
        let body = self.iam_ok("ListAttachedRolePolicies", &[("RoleName", role)]);
        xml_all(&body, "PolicyArn")
    }

    /// Names of a role's inline policies.
    pub fn list_role_policies(&self, role: &str) -> Vec<String> {
        let body = self.iam_ok("ListRolePolicies", &[("RoleName", role)]);
        xml_all(&body, "member")
    }

    /// Deletes a role (moto, like IAM, refuses while policies remain).
    pub fn delete_role(&self, role: &str) {
        self.iam_ok("DeleteRole", &[("RoleName", role)]);
    }

    // ---- EKS (emulator, REST-JSON) ---------------------------------------

    /// One EKS call; the answer whatever its status.
    pub fn eks(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let text = body.map(Value::to_string);
        self.client
            .eks(method, path, text.as_deref())
            .unwrap_or_else(|e| panic!("EKS {method} {path}: {e}"))
    }

    fn eks_ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let answer = self.eks(method, path, body);
        assert!(
            answer.ok(),
            "EKS {method} {path}: HTTP {}: {}",
            answer.status,
            answer.body
        );
        answer.json()
    }

    /// An EKS request signed for `region` instead of the world's own.
    pub fn eks_in(&self, region: &str, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let text = body.map(Value::to_string);
        self.client
            .eks_in(region, method, path, text.as_deref())
            .unwrap_or_else(|e| panic!("EKS {method} {path} in {region}: {e}"))
    }

    /// Panics in AWS mode, which never creates clusters (a test that does
    /// is local-only).
    fn no_clusters_in_aws_mode(&self, name: &str) {
        assert!(
            !self.is_aws(),
            "AWS mode never creates clusters (asked for {name}): declare the test with acc()"
        );
    }

    /// Creates a cluster in `region` and waits until it is ACTIVE there.
    pub fn create_cluster_in(&self, region: &str, name: &str) {
        self.no_clusters_in_aws_mode(name);
        let body = json!({
            "name": name,
            "roleArn": format!("arn:aws:iam::{ACCOUNT_ID}:role/eks-cluster"),
            "resourcesVpcConfig": {},
        });
        let answer = self.eks_in(region, "POST", "/clusters", Some(&body));
        assert!(
            answer.ok(),
            "CreateCluster {name} in {region}: {}",
            answer.body
        );
        wait_until(&format!("cluster {name} ACTIVE in {region}"), || {
            let a = self.eks_in(region, "GET", &format!("/clusters/{name}"), None);
            a.ok() && a.json()["cluster"]["status"] == "ACTIVE"
        });
    }

    /// Creates a cluster and waits until it is ACTIVE.
    pub fn create_cluster(&self, name: &str) {
        self.no_clusters_in_aws_mode(name);
        self.eks_ok(
            "POST",
            "/clusters",
            Some(&json!({
                "name": name,
                "roleArn": format!("arn:aws:iam::{ACCOUNT_ID}:role/eks-cluster"),
                "resourcesVpcConfig": {},
            })),
        );
        wait_until(&format!("cluster {name} ACTIVE"), || {
            self.describe_cluster(name)
                .is_some_and(|c| c["status"] == "ACTIVE")
        });
    }

    /// Creates an ACTIVE cluster with a random `tf-acc-` name and returns
    /// the name; in AWS mode, the named cluster (`EKS_TEST_CLUSTER`).
    pub fn new_cluster(&self) -> String {
        if let Some(cluster) = &self.shared_cluster {
            return cluster.clone();
        }
        let name = crate::random_name();
        self.create_cluster(&name);
        name
    }

    /// DescribeCluster's `cluster`, or `None` when it does not exist.
    pub fn describe_cluster(&self, name: &str) -> Option<Value> {
        let answer = self.eks("GET", &format!("/clusters/{name}"), None);
        if answer.status == 404 {
            return None;
        }
        assert!(answer.ok(), "DescribeCluster {name}: {}", answer.body);
        Some(answer.json()["cluster"].clone())
    }

    /// Creates an addon and waits until it is ACTIVE.
    pub fn create_addon(&self, cluster: &str, addon: &str) {
        self.eks_ok(
            "POST",
            &format!("/clusters/{cluster}/addons"),
            Some(&json!({"addonName": addon})),
        );
        wait_until(&format!("addon {addon} on {cluster} ACTIVE"), || {
            let answer = self.eks("GET", &format!("/clusters/{cluster}/addons/{addon}"), None);
            answer.ok() && answer.json()["addon"]["status"] == "ACTIVE"
        });
    }

    /// Creates an association directly (not through terraform); returns it.
    pub fn create_association(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        role_arn: &str,
    ) -> Value {
        let answer = self.eks_ok(
            "POST",
            &format!("/clusters/{cluster}/pod-identity-associations"),
            Some(&association_body(namespace, service_account, role_arn)),
        );
        answer["association"].clone()
    }

    /// As [`World::create_association`], in a cluster of `region`.
    pub fn create_association_in(
        &self,
        region: &str,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        role_arn: &str,
    ) -> Value {
        let answer = self.eks_in(
            region,
            "POST",
            &format!("/clusters/{cluster}/pod-identity-associations"),
            Some(&association_body(namespace, service_account, role_arn)),
        );
        assert!(
            answer.ok(),
            "CreatePodIdentityAssociation in {cluster} ({region}): {}",
            answer.body
        );
        answer.json()["association"].clone()
    }

    /// DescribePodIdentityAssociation's `association`, or `None` when gone.
    pub fn describe_association(&self, cluster: &str, id: &str) -> Option<Value> {
        let path = format!("/clusters/{cluster}/pod-identity-associations/{id}");
        let answer = self.eks("GET", &path, None);
        if answer.status == 404 {
            return None;
        }
        assert!(
            answer.ok(),
            "DescribePodIdentityAssociation {id}: {}",
            answer.body
        );
        Some(answer.json()["association"].clone())
    }

    /// All association summaries of a cluster (follows `nextToken`); in
    /// AWS mode only those whose namespace or service account this test
    /// named ([`crate::random_name`]): the cluster is shared with other
    /// tests and with its owner.
    pub fn list_associations(&self, cluster: &str) -> Vec<Value> {
        let mut all = self.list_all_associations(cluster);
        if self.is_aws() {
            all.retain(|a| {
                ["namespace", "serviceAccount"]
                    .iter()
                    .any(|k| a[k].as_str().is_some_and(crate::is_own_name))
            });
        }
        all
    }

    fn list_all_associations(&self, cluster: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/clusters/{cluster}/pod-identity-associations?maxResults=100");
            if let Some(t) = &token {
                path.push_str(&format!("&nextToken={}", encode(t)));
            }
            let page = self.eks_ok("GET", &path, None);
            if let Some(items) = page["associations"].as_array() {
                out.extend(items.iter().cloned());
            }
            token = page["nextToken"].as_str().map(str::to_string);
            if token.is_none() {
                return out;
            }
        }
    }

    /// Deletes an association out of band.
    pub fn delete_association(&self, cluster: &str, id: &str) {
        self.eks_ok(
            "DELETE",
            &format!("/clusters/{cluster}/pod-identity-associations/{id}"),
            None,
        );
    }

    // ---- emulator admin ----------------------------------------------------

    /// `GET /_emulator/state`: everything the emulator holds.
    pub fn state(&self) -> Value {
        self.eks_ok("GET", "/_emulator/state", None)
    }

    /// `GET /_emulator/counters`: calls per operation.
    pub fn counters(&self) -> Value {
        self.eks_ok("GET", "/_emulator/counters", None)
    }

    /// Calls of one operation so far (0 when never called).
    pub fn count(&self, operation: &str) -> u64 {
        count_in(&self.counters(), operation)
    }

    /// `POST /_emulator/faults`: keys latency_ms, throttle_rate,
    /// error_5xx_rate, operations, iam_propagation_delay_secs,
    /// delete_consistency_delay_secs. Affects every test of this binary.
    pub fn set_faults(&self, faults: &Value) {
        self.eks_ok("POST", "/_emulator/faults", Some(faults));
    }
}

/// The count of `operation` in a counters document, whether the emulator
/// answers `{"Op": n}` or `{"counters": {"Op": n}}`.
/// The body of CreatePodIdentityAssociation.
fn association_body(namespace: &str, service_account: &str, role_arn: &str) -> Value {
    json!({
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": role_arn,
    })
}

pub fn count_in(counters: &Value, operation: &str) -> u64 {
    counters
        .get(operation)
        .or_else(|| counters.get("counters").and_then(|c| c.get(operation)))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

fn parse_role(xml: &str) -> Option<Role> {
    let trust = xml_first(xml, "AssumeRolePolicyDocument").map(|d| decode(&d))?;
    Some(Role {
        name: xml_first(xml, "RoleName")?,
        arn: xml_first(xml, "Arn")?,
        path: xml_first(xml, "Path").unwrap_or_else(|| "/".into()),
        trust_policy: serde_json::from_str(&trust).unwrap_or(Value::String(trust)),
    })
}

/// Polls `done` every 100 ms until it holds; panics after [`ACTIVE_TIMEOUT`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + ACTIVE_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

// ---- for the model-based test (tests/model.rs) ---------------------------------

impl World {
    /// Everything about a role that an apply could change, as IAM returns it:
    /// trust policy, permissions boundary, attached managed policies, inline
    /// policies with their documents, and tags; `None` when the role does not
    /// exist. Two snapshots are equal exactly when none of these changed.
    pub fn role_snapshot(&self, name: &str) -> Option<String> {
        let answer = self.iam("GetRole", &[("RoleName", name)]);
        if answer.body.contains("<Code>NoSuchEntity</Code>") {
            return None;
        }
        assert!(answer.ok(), "GetRole {name}: {}", answer.body);
        let mut attached = self.list_attached_role_policies(name);
        attached.sort();
        // Documents come URL-encoded; decoded, they read in a failure report.
        let document = |xml: &str, tag: &str| xml_first(xml, tag).map(|d| decode(&d));
        let mut out = format!(
            "trust: {:?}\nboundary: {:?}\nattached: {attached:?}\n",
            document(&answer.body, "AssumeRolePolicyDocument"),
            xml_first(&answer.body, "PermissionsBoundaryArn"),
        );
        let mut inline = self.list_role_policies(name);
        inline.sort();
        for policy in inline {
            let body = self.iam_ok(
                "GetRolePolicy",
                &[("RoleName", name), ("PolicyName", &policy)],
            );
            let document = document(&body, "PolicyDocument");
            out.push_str(&format!("inline {policy}: {document:?}\n"));
        }
        out.push_str(&format!("tags: {:?}", self.role_tags(name)));
        Some(out)
    }

    /// A role's tags as (key, value), sorted.
    pub fn role_tags(&self, name: &str) -> Vec<(String, String)> {
        let body = self.iam_ok("ListRoleTags", &[("RoleName", name)]);
        let mut tags: Vec<(String, String)> = xml_all(&body, "Key")
            .into_iter()
            .zip(xml_all(&body, "Value"))
            .collect();
        tags.sort();
        tags
    }

    /// Deletes a role the way IAM requires: its managed policies detached and
    /// its inline policies deleted first. A role that does not exist is fine.
    pub fn delete_role_and_policies(&self, name: &str) {
        if self.get_role(name).is_none() {
            return;
        }
        for arn in self.list_attached_role_policies(name) {
            self.iam_ok(
                "DetachRolePolicy",
                &[("RoleName", name), ("PolicyArn", &arn)],
            );
        }
        for policy in self.list_role_policies(name) {
            self.iam_ok(
                "DeleteRolePolicy",
                &[("RoleName", name), ("PolicyName", &policy)],
            );
        }
        self.delete_role(name);
    }

    /// Creates a role as someone other than the provider would own it: pod
    /// identity trust, `ReadOnlyAccess` attached, an inline policy
    /// (`the-owners`) and a tag (`owner`), so that any change an apply makes
    /// to it shows in [`World::role_snapshot`].
    pub fn create_owned_role(&self, name: &str) -> Role {
        let role = self.create_role(name, &pod_identity_trust());
        let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        self.iam_ok(
            "AttachRolePolicy",
            &[("RoleName", name), ("PolicyArn", read_only)],
        );
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
        });
        self.iam_ok(
            "PutRolePolicy",
            &[
                ("RoleName", name),
                ("PolicyName", "the-owners"),
                ("PolicyDocument", &policy.to_string()),
            ],
        );
        self.iam_ok(
            "TagRole",
            &[
                ("RoleName", name),
                ("Tags.member.1.Key", "owner"),
                ("Tags.member.1.Value", "someone-else"),
            ],
        );
        role
    }
}

// ---- AWS mode ------------------------------------------------------------------

/// Terraform's environment in AWS mode: the test process's own `AWS_*`
/// variables (credentials, profile, region, endpoints), with the shared
/// config and credentials files named where they are (terraform runs with
/// a HOME of its own), and the region set.
fn aws_mode_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for (key, file) in [
        ("AWS_CONFIG_FILE", "config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ] {
        if !env.iter().any(|(k, _)| k == key)
            && let Some(home) = &home
        {
            let path = home.join(".aws").join(file);
            env.push((key.to_string(), path.display().to_string()));
        }
    }
    env.retain(|(k, _)| k != "AWS_REGION");
    env.push(("AWS_REGION".into(), aws::settings().region.clone()));
    env
}
