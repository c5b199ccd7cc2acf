//! The patches and selectors of the Kubernetes API: RFC 7386 merge
//! patches, RFC 6902 JSON patches, and label selectors.
//!
//! This module owns only these pure functions over JSON values; the store
//! applies them.

use serde_json::{Map, Value};

use super::status::{KubeStatus, bad_request, status};

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
        apply_op(target, op)?;
    }
    Ok(())
}

/// 422: the patch names a path that is not there.
fn missing(path: &str) -> KubeStatus {
    status(
        422,
        "Invalid",
        format!("path {path} does not exist"),
        None,
        "",
    )
}

/// One operation of a JSON patch.
fn apply_op(target: &mut Value, op: &Value) -> Result<(), KubeStatus> {
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
        return Ok(());
    }
    let parent = target
        .pointer_mut(&parent_path)
        .ok_or_else(|| missing(path))?;
    let value = op.get("value").cloned();
    match parent {
        Value::Object(map) => patch_object(map, verb, last, value, path),
        Value::Array(items) => patch_array(items, verb, &last, value, path),
        _ => Err(bad_request(format!(
            "unsupported JSON patch operation {verb} at {path}"
        ))),
    }
}

/// add, replace or remove the member `last` of an object.
fn patch_object(
    map: &mut Map<String, Value>,
    verb: &str,
    last: String,
    value: Option<Value>,
    path: &str,
) -> Result<(), KubeStatus> {
    match verb {
        "add" | "replace" => {
            let Some(v) = value else {
                return Err(bad_request(format!("{verb} at {path} needs a value")));
            };
            if verb == "replace" && !map.contains_key(&last) {
                return Err(missing(path));
            }
            map.insert(last, v);
            Ok(())
        }
        "remove" => map.remove(&last).map(|_| ()).ok_or_else(|| missing(path)),
        _ => Err(bad_request(format!(
            "unsupported JSON patch operation {verb} at {path}"
        ))),
    }
}

/// add, replace or remove the item `last` (an index, or `-` for the end)
/// of an array.
fn patch_array(
    items: &mut Vec<Value>,
    verb: &str,
    last: &str,
    value: Option<Value>,
    path: &str,
) -> Result<(), KubeStatus> {
    let index = if last == "-" {
        items.len()
    } else {
        last.parse::<usize>()
            .map_err(|_| bad_request(format!("bad index in {path}")))?
    };
    match verb {
        "add" if index <= items.len() => items.insert(index, value.unwrap_or(Value::Null)),
        "replace" if index < items.len() => items[index] = value.unwrap_or(Value::Null),
        "remove" if index < items.len() => {
            items.remove(index);
        }
        _ => return Err(missing(path)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors() {
        let labels = json!({"app": "x", "tier": "web"});
        let l = labels.as_object();
        assert!(matches_selector(l, "app=x,tier"));
        assert!(matches_selector(l, "app!=y,!missing"));
        assert!(!matches_selector(l, "app=y"));
        assert!(!matches_selector(None, "app"));
    }
}
