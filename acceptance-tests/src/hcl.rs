//! Small builders for the HCL the tests apply. Attribute values are passed as
//! HCL expressions: build them with [`string`], [`map`], [`json`] or write
//! them literally (`"true"`).

use serde_json::Value;

/// The `terraform` block every config needs to find our provider.
pub const TERRAFORM_BLOCK: &str = r#"terraform {
  required_providers {
    eks = {
      source = "eks-tools/eks"
    }
  }
}
"#;

/// A whole config: the terraform block followed by `blocks`.
pub fn config(blocks: &[String]) -> String {
    let mut out = TERRAFORM_BLOCK.to_string();
    for block in blocks {
        out.push('\n');
        out.push_str(block);
    }
    out
}

/// A block such as `resource "type" "label" { … }` with `attrs` as `name = expression`.
pub fn block(header: &str, attrs: &[(&str, String)]) -> String {
    let mut out = format!("{header} {{\n");
    for (name, value) in attrs {
        out.push_str(&format!("  {name} = {value}\n"));
    }
    out.push_str("}\n");
    out
}

/// `provider "eks" { … }`.
pub fn provider(attrs: &[(&str, String)]) -> String {
    block(r#"provider "eks""#, attrs)
}

/// `provider "eks" { … }` with nested blocks (built with [`block`]) after the attributes.
pub fn provider_with_blocks(attrs: &[(&str, String)], blocks: &[String]) -> String {
    let mut out = provider(attrs);
    out.truncate(out.len() - "}\n".len());
    for nested in blocks {
        for line in nested.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str("}\n");
    out
}

/// `resource "kind" "label" { … }`.
pub fn resource(kind: &str, label: &str, attrs: &[(&str, String)]) -> String {
    block(
        &format!("resource {} {}", string(kind), string(label)),
        attrs,
    )
}

/// `data "kind" "label" { … }`.
pub fn data(kind: &str, label: &str, attrs: &[(&str, String)]) -> String {
    block(&format!("data {} {}", string(kind), string(label)), attrs)
}

/// `output "name" { value = expression }`.
pub fn output(name: &str, expression: &str) -> String {
    block(
        &format!("output {}", string(name)),
        &[("value", expression.to_string())],
    )
}

/// An `eks_pod_identity_association` with an existing role and `extra` attributes.
pub fn association(
    label: &str,
    cluster: &str,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
    extra: &[(&str, String)],
) -> String {
    let mut attrs = vec![
        ("cluster_name", string(cluster)),
        ("namespace", string(namespace)),
        ("service_account", string(service_account)),
        ("role_arn", string(role_arn)),
    ];
    attrs.extend(extra.iter().cloned());
    resource("eks_pod_identity_association", label, &attrs)
}

/// An HCL string literal (JSON escapes are HCL escapes; template sequences escaped).
pub fn string(text: &str) -> String {
    Value::String(text.to_string())
        .to_string()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// An HCL map of strings: `{ "k" = "v", … }`.
pub fn map(pairs: &[(&str, &str)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{} = {}", string(k), string(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// A JSON document as an HCL string literal (the way users paste policies).
pub fn json(value: &Value) -> String {
    string(&value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_escapes_quotes_and_templates() {
        assert_eq!(string(r#"a"b${c}"#), r#""a\"b$${c}""#);
    }

    #[test]
    fn provider_with_blocks_nests_them() {
        let hcl = provider_with_blocks(
            &[("max_retries", "3".into())],
            &[block("endpoints", &[("eks", string("http://x"))])],
        );
        assert_eq!(
            hcl,
            "provider \"eks\" {\n  max_retries = 3\n  endpoints {\n    eks = \"http://x\"\n  }\n}\n"
        );
    }

    #[test]
    fn association_block_lists_required_attributes_first() {
        let hcl = association(
            "t",
            "c",
            "ns",
            "sa",
            "arn:r",
            &[("tags", map(&[("a", "b")]))],
        );
        assert_eq!(
            hcl,
            "resource \"eks_pod_identity_association\" \"t\" {\n  cluster_name = \"c\"\n  \
             namespace = \"ns\"\n  service_account = \"sa\"\n  role_arn = \"arn:r\"\n  \
             tags = { \"a\" = \"b\" }\n}\n"
        );
    }
}
