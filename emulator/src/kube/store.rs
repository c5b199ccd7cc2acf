//! The objects of one cluster's Kubernetes API: core/v1 namespaces and
//! service accounts, their stamping (uid, resourceVersion,
//! creationTimestamp), get/list/create/replace/patch/delete, and the
//! `Status` errors those answer.
//!
//! This module owns the store and the Kubernetes object format; it knows
//! nothing of HTTP (see [`super::http`]) or of EKS.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::kind::Kind;

use super::patch::{json_patch, matches_selector, merge_patch};
use super::status::{KubeStatus, bad_request, not_found, status};
use crate::ids;

/// Namespaces every cluster starts with (each with a `default` service account).
pub const INITIAL_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

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

pub(crate) fn key(kind: Kind, namespace: Option<&str>, name: &str) -> Key {
    match kind {
        Kind::Namespace => (kind, String::new(), name.to_owned()),
        Kind::ServiceAccount => (
            kind,
            namespace.unwrap_or_default().to_owned(),
            name.to_owned(),
        ),
    }
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
}
