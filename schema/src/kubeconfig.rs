//! Reading a kubeconfig: which server, CA and token a context names.
//!
//! Owns: parsing a kubeconfig text and resolving one context (or the
//! current one) into what the provider needs. Does not own: reading files
//! (the caller reads the kubeconfig and a CA file it may name).

use serde::Deserialize;

/// What a kubeconfig context gives the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeAccess {
    /// API server URL.
    pub server: String,
    /// Base64 PEM of the CA (`certificate-authority-data`), if given inline.
    pub ca_data: Option<String>,
    /// Path of a CA file (`certificate-authority`), if given that way.
    pub ca_file: Option<String>,
    /// A static bearer token, if the user has one. `None` means the
    /// provider's own EKS token (what an `exec` of `aws eks get-token` yields).
    pub token: Option<String>,
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
}

/// Resolves `context` (or the file's current context) of a kubeconfig text.
pub fn resolve(text: &str, context: Option<&str>) -> Result<KubeAccess, String> {
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
    let token = ctx
        .user
        .as_ref()
        .and_then(|u| file.users.iter().find(|x| &x.name == u))
        .and_then(|u| u.value.as_ref())
        .and_then(|u| u.token.clone());
    Ok(KubeAccess {
        server: cluster.server.clone(),
        ca_data: cluster.ca_data.clone(),
        ca_file: cluster.ca_file.clone(),
        token,
    })
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
