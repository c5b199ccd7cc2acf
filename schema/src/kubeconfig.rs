//! Reading a kubeconfig: which server, CA and credentials a context names.
//!
//! Owns: parsing a kubeconfig text, resolving one context (or the current
//! one) into what the provider needs, and the rules that keep credentials
//! safe: the server must be https; the provider's own EKS token goes only to
//! a user whose kubeconfig asks for an EKS token (an `exec` of
//! `aws eks get-token` or `aws-iam-authenticator token`) for the same
//! cluster, or that names no credentials at all; any other `exec` plugin or
//! `auth-provider` is refused rather than answered with our token; relative
//! file paths resolve against the kubeconfig's own directory, as kubectl
//! does. Does not own: reading files (the caller reads the kubeconfig and the
//! files it names).

use serde::Deserialize;
use std::path::Path;

/// What a kubeconfig context gives the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeAccess {
    /// API server URL (always https).
    pub server: String,
    /// Base64 PEM of the CA (`certificate-authority-data`), if given inline.
    pub ca_data: Option<String>,
    /// Path of a CA file (`certificate-authority`), if given that way
    /// (resolved against the kubeconfig's directory when relative).
    pub ca_file: Option<String>,
    /// A static bearer token, if the user has one. `None` means the
    /// provider's own EKS token (see [`KubeAccess::auth`]), or a client
    /// certificate.
    pub token: Option<String>,
    /// How the user authenticates.
    pub auth: KubeAuth,
}

/// How the context's user authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeAuth {
    /// A static bearer token (`token`).
    Token(String),
    /// An `exec` plugin that makes an EKS token: the provider's own EKS
    /// token stands in for it. `cluster` is the cluster the plugin names
    /// (`--cluster-name` / `-i`), when it names one.
    EksToken {
        /// The cluster the plugin asks a token for.
        cluster: Option<String>,
    },
    /// A client certificate and key (`client-certificate(-data)`,
    /// `client-key(-data)`).
    ClientCert {
        /// The certificate.
        cert: Pem,
        /// Its private key.
        key: Pem,
    },
    /// The user names no credentials (or there is no user): the provider's
    /// own EKS token.
    Default,
}

/// A PEM given inline (base64, as kubeconfig `*-data` fields hold it) or as a file.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// Base64 of the PEM text.
    Data(String),
    /// Path of the PEM file (resolved against the kubeconfig's directory).
    File(String),
}

impl std::fmt::Debug for Pem {
    // Key material never reaches a log through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pem::Data(_) => f.write_str("Pem::Data(..)"),
            Pem::File(p) => write!(f, "Pem::File({p:?})"),
        }
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "current-context")]
    current_context: Option<String>,
    #[serde(default)]
    contexts: Vec<Named<Context>>,
    #[serde(default)]
    clusters: Vec<Named<Cluster>>,
    #[serde(default)]
    users: Vec<Named<User>>,
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "context", alias = "cluster", alias = "user")]
    value: Option<T>,
}

#[derive(Deserialize)]
struct Context {
    cluster: String,
    user: Option<String>,
}

#[derive(Deserialize)]
struct Cluster {
    server: String,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<String>,
    #[serde(rename = "certificate-authority")]
    ca_file: Option<String>,
}

#[derive(Deserialize, Default)]
struct User {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    exec: Option<Exec>,
    #[serde(rename = "auth-provider")]
    auth_provider: Option<serde_yaml::Value>,
    #[serde(rename = "client-certificate-data")]
    cert_data: Option<String>,
    #[serde(rename = "client-certificate")]
    cert_file: Option<String>,
    #[serde(rename = "client-key-data")]
    key_data: Option<String>,
    #[serde(rename = "client-key")]
    key_file: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Exec {
    command: String,
    #[serde(default)]
    args: Vec<String>,
}

/// Resolves `context` (or the file's current context) of a kubeconfig text
/// whose location is unknown (relative paths stay as written).
pub fn resolve(text: &str, context: Option<&str>) -> Result<KubeAccess, String> {
    resolve_at(text, context, None)
}

/// Resolves `context` (or the file's current context) of the kubeconfig
/// text read from `path`: relative file paths in it resolve against the
/// directory of `path`, as kubectl does.
pub fn resolve_at(
    text: &str,
    context: Option<&str>,
    path: Option<&Path>,
) -> Result<KubeAccess, String> {
    let file: File =
        serde_yaml::from_str(text).map_err(|e| format!("the kubeconfig is not valid: {e}"))?;
    let name = context
        .map(str::to_string)
        .or(file.current_context.clone())
        .ok_or("the kubeconfig has no current-context; set config_context")?;
    let ctx = file
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.value.as_ref())
        .ok_or_else(|| {
            let names: Vec<&str> = file.contexts.iter().map(|c| c.name.as_str()).collect();
            format!(
                "the kubeconfig has no context {name:?} (it has: {})",
                names.join(", ")
            )
        })?;
    let cluster = file
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.value.as_ref())
        .ok_or_else(|| {
            format!(
                "context {name:?} names cluster {:?}, which the kubeconfig lacks",
                ctx.cluster
            )
        })?;
    if !cluster.server.starts_with("https://") {
        return Err(format!(
            "cluster {:?} has server {:?}: the provider sends credentials to the Kubernetes API only over https",
            ctx.cluster, cluster.server
        ));
    }
    let base = path.and_then(Path::parent);
    let user = match &ctx.user {
        None => None,
        Some(u) => Some(file.users.iter().find(|x| &x.name == u).ok_or_else(|| {
            format!("context {name:?} names user {u:?}, which the kubeconfig lacks")
        })?),
    };
    let auth = match user {
        None => KubeAuth::Default,
        Some(u) => user_auth(&u.name, u.value.as_ref().unwrap_or(&User::default()), base)?,
    };
    Ok(KubeAccess {
        server: cluster.server.clone(),
        ca_data: cluster.ca_data.clone(),
        ca_file: cluster.ca_file.as_deref().map(|f| relative_to(base, f)),
        token: match &auth {
            KubeAuth::Token(t) => Some(t.clone()),
            _ => None,
        },
        auth,
    })
}

/// How user `name` authenticates; refuses what the provider cannot do
/// safely.
fn user_auth(name: &str, u: &User, base: Option<&Path>) -> Result<KubeAuth, String> {
    if let Some(t) = &u.token {
        return Ok(KubeAuth::Token(t.clone()));
    }
    if u.token_file.is_some() {
        return Err(format!(
            "user {name:?} reads its token from tokenFile, which the provider does not read; set token in the provider's kubernetes block instead"
        ));
    }
    let cert = pem(&u.cert_data, &u.cert_file, base);
    let key = pem(&u.key_data, &u.key_file, base);
    match (cert, key) {
        (Some(cert), Some(key)) => return Ok(KubeAuth::ClientCert { cert, key }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(format!(
                "user {name:?} has a client certificate without its key (or a key without its certificate)"
            ));
        }
        (None, None) => {}
    }
    if let Some(exec) = &u.exec {
        return match eks_token_cluster(exec) {
            Some(cluster) => Ok(KubeAuth::EksToken { cluster }),
            None => Err(format!(
                "user {name:?} authenticates with the exec plugin {:?}, which the provider does not run; it sends its own EKS token only where the kubeconfig asks for one (aws eks get-token, aws-iam-authenticator token). Use a context whose user does, a static token, or a client certificate",
                exec.command
            )),
        };
    }
    if u.auth_provider.is_some() {
        return Err(format!(
            "user {name:?} authenticates with an auth-provider, which the provider does not support; use a static token, a client certificate or aws eks get-token"
        ));
    }
    if u.username.is_some() {
        return Err(format!(
            "user {name:?} authenticates with a username and password, which the provider does not support"
        ));
    }
    Ok(KubeAuth::Default)
}

fn pem(data: &Option<String>, file: &Option<String>, base: Option<&Path>) -> Option<Pem> {
    match (data, file) {
        (Some(d), _) => Some(Pem::Data(d.clone())),
        (None, Some(f)) => Some(Pem::File(relative_to(base, f))),
        (None, None) => None,
    }
}

/// `file` resolved against `base` when relative (kubectl resolves paths
/// in a kubeconfig against the file's directory).
fn relative_to(base: Option<&Path>, file: &str) -> String {
    match base {
        Some(b) if Path::new(file).is_relative() => b.join(file).to_string_lossy().into_owned(),
        _ => file.to_string(),
    }
}

/// `Some(cluster)` when `exec` makes an EKS token: `aws [..] eks get-token
/// [--cluster-name X]` or `aws-iam-authenticator token [-i X]`; `None` for
/// any other plugin.
fn eks_token_cluster(exec: &Exec) -> Option<Option<String>> {
    let program = Path::new(&exec.command)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: Vec<&str> = exec.args.iter().map(String::as_str).collect();
    let has = |a: &str| args.contains(&a);
    let value_of = |flags: &[&str]| {
        args.iter().enumerate().find_map(|(i, a)| {
            flags.iter().find_map(|f| {
                if a == f {
                    args.get(i + 1).map(|v| v.to_string())
                } else {
                    a.strip_prefix(&format!("{f}=")).map(str::to_string)
                }
            })
        })
    };
    match program.as_str() {
        "aws" if has("eks") && has("get-token") => {
            Some(value_of(&["--cluster-name", "--cluster-id"]))
        }
        "aws-iam-authenticator" if has("token") => Some(value_of(&["-i", "--cluster-id"])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    certificate-authority-data: QUJD
- name: dev-cluster
  cluster:
    server: https://dev.example
    certificate-authority: /etc/dev-ca.pem
contexts:
- name: prod
  context:
    cluster: prod-cluster
    user: eks
- name: dev
  context:
    cluster: dev-cluster
    user: static
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
- name: static
  user:
    token: abc
"#;

    #[test]
    fn current_context_with_exec_user_uses_our_token() {
        let a = resolve(CONFIG, None).unwrap();
        assert_eq!(a.server, "https://prod.example:443");
        assert_eq!(a.ca_data.as_deref(), Some("QUJD"));
        assert_eq!(a.token, None);
    }

    #[test]
    fn named_context_with_static_token_and_ca_file() {
        let a = resolve(CONFIG, Some("dev")).unwrap();
        assert_eq!(a.server, "https://dev.example");
        assert_eq!(a.ca_file.as_deref(), Some("/etc/dev-ca.pem"));
        assert_eq!(a.token.as_deref(), Some("abc"));
    }

    #[test]
    fn exec_of_aws_eks_get_token_names_its_cluster() {
        let a = resolve(CONFIG, None).unwrap();
        assert_eq!(
            a.auth,
            KubeAuth::EksToken {
                cluster: Some("prod".into())
            }
        );
        let authenticator = CONFIG.replace(
            "command: aws\n      args: [eks, get-token, --cluster-name, prod]",
            "command: /usr/local/bin/aws-iam-authenticator\n      args: [token, -i, prod]",
        );
        assert_eq!(
            resolve(&authenticator, None).unwrap().auth,
            KubeAuth::EksToken {
                cluster: Some("prod".into())
            }
        );
    }

    #[test]
    fn plain_http_server_is_refused() {
        let http = CONFIG.replace("https://prod.example:443", "http://prod.example");
        let e = resolve(&http, None).unwrap_err();
        assert!(
            e.contains("only over https") && e.contains("prod-cluster"),
            "{e}"
        );
    }

    #[test]
    fn foreign_exec_plugin_never_gets_our_token() {
        let foreign = CONFIG.replace(
            "command: aws\n      args: [eks, get-token, --cluster-name, prod]",
            "command: gke-gcloud-auth-plugin\n      args: []",
        );
        let e = resolve(&foreign, None).unwrap_err();
        assert!(
            e.contains("gke-gcloud-auth-plugin") && e.contains("does not run"),
            "{e}"
        );
        // `aws` running something else than eks get-token is foreign too.
        let other_aws = CONFIG.replace(
            "[eks, get-token, --cluster-name, prod]",
            "[sts, get-caller-identity]",
        );
        assert!(resolve(&other_aws, None).is_err());
        let provider = CONFIG.replace(
            "exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, prod]",
            "auth-provider:\n      name: oidc",
        );
        assert!(
            resolve(&provider, None)
                .unwrap_err()
                .contains("auth-provider")
        );
    }

    #[test]
    fn client_certificates_and_relative_paths() {
        let certs = CONFIG
            .replace(
                "    token: abc",
                "    client-certificate: certs/me.crt\n    client-key: /abs/me.key",
            )
            .replace(
                "certificate-authority: /etc/dev-ca.pem",
                "certificate-authority: ca.pem",
            );
        let a = resolve_at(&certs, Some("dev"), Some(Path::new("/home/u/.kube/config"))).unwrap();
        assert_eq!(a.ca_file.as_deref(), Some("/home/u/.kube/ca.pem"));
        assert_eq!(a.token, None);
        assert_eq!(
            a.auth,
            KubeAuth::ClientCert {
                cert: Pem::File("/home/u/.kube/certs/me.crt".into()),
                key: Pem::File("/abs/me.key".into()),
            }
        );
        let half = CONFIG.replace("    token: abc", "    client-certificate-data: QUJD");
        assert!(
            resolve(&half, Some("dev"))
                .unwrap_err()
                .contains("without its key")
        );
        // Key data never shows in Debug output.
        assert_eq!(
            format!("{:?}", Pem::Data("c2VjcmV0".into())),
            "Pem::Data(..)"
        );
    }

    #[test]
    fn a_context_without_user_gets_the_default() {
        let no_user = CONFIG.replace("    user: eks\n", "");
        assert_eq!(resolve(&no_user, None).unwrap().auth, KubeAuth::Default);
        let missing = CONFIG.replace("    user: eks\n", "    user: ghost\n");
        assert!(resolve(&missing, None).unwrap_err().contains("ghost"));
    }

    #[test]
    fn errors_name_what_is_missing() {
        assert!(
            resolve(CONFIG, Some("nope"))
                .unwrap_err()
                .contains("it has: prod, dev")
        );
        assert!(
            resolve("not: [yaml", None)
                .unwrap_err()
                .contains("not valid")
        );
        assert!(
            resolve("contexts: []", None)
                .unwrap_err()
                .contains("current-context")
        );
    }
}
