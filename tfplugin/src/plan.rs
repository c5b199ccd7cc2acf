//! Generic planning applied by the framework before `Resource::plan`.
//!
//! Owns: defaults, marking computed attributes unknown, use-state-for-unknown
//! and requires-replace detection. Does not own: resource-specific planning.

use crate::schema::{Block, NestingMode};
use crate::value::{AttrPath, Value};

/// The framework's plan for one resource instance.
pub(crate) struct FrameworkPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
}

/// Plans `proposed` against `prior` and `config` (see module docs). A null
/// `proposed` is a destroy and plans null.
pub(crate) fn plan(
    block: &Block,
    prior: Option<&Value>,
    config: &Value,
    proposed: &Value,
) -> FrameworkPlan {
    if proposed.is_null() {
        return FrameworkPlan {
            planned: Value::Null,
            requires_replace: vec![],
        };
    }
    let mut planned = proposed.clone();
    let mut rr = Vec::new();
    plan_block(
        block,
        prior,
        config,
        &mut planned,
        &AttrPath::default(),
        &mut rr,
    );
    FrameworkPlan {
        planned,
        requires_replace: rr,
    }
}

fn plan_block(
    block: &Block,
    prior: Option<&Value>,
    config: &Value,
    planned: &mut Value,
    path: &AttrPath,
    rr: &mut Vec<AttrPath>,
) {
    if !matches!(planned, Value::Map(_)) {
        return;
    }
    let prior = prior.filter(|p| matches!(p, Value::Map(_)));
    settle_known_values(block, prior, config, planned);
    let changed = prior.is_none_or(|p| differs(block, p, planned));
    for a in &block.attributes {
        let cfg = config.get(&a.name);
        if a.computed && cfg.is_null() && a.default.is_none() {
            // Like terraform-plugin-framework: nothing changes, nothing becomes
            // unknown; use_state_for_unknown keeps a non-null prior value.
            let v = match prior {
                None => Value::Unknown,
                Some(p) if !changed => p.get(&a.name).clone(),
                Some(p) if a.use_state_for_unknown && !p.get(&a.name).is_null() => {
                    p.get(&a.name).clone()
                }
                Some(_) => Value::Unknown,
            };
            planned.set(&a.name, v);
        }
        let p = path.clone().attr(&a.name);
        if let Some((NestingMode::Single, nb)) = &a.nested {
            let prior_child = prior.map(|pv| pv.get(&a.name));
            if let Some(child) = planned.get_mut(&a.name) {
                plan_block(nb, prior_child, cfg, child, &p, rr);
            }
        }
        if a.requires_replace
            && let Some(pv) = prior
            && !pv.get(&a.name).equals(planned.get(&a.name))
        {
            rr.push(p);
        }
    }
    plan_blocks(block, prior, config, planned, path, rr);
}

/// Defaults where the configuration is null, then semantic equality: a value
/// that means the prior one is the prior one (no change, no unknowns
/// because of it). Before anything else, so both count when deciding
/// whether anything changed.
fn settle_known_values(block: &Block, prior: Option<&Value>, config: &Value, planned: &mut Value) {
    for a in &block.attributes {
        if let Some(d) = &a.default
            && config.get(&a.name).is_null()
        {
            planned.set(&a.name, d.clone());
        }
    }
    if let Some(p) = prior {
        for a in &block.attributes {
            if let (Some(eq), Some(old), Some(new)) = (
                a.semantic_equal,
                p.get(&a.name).as_str(),
                planned.get(&a.name).as_str(),
            ) && old != new
                && eq(old, new)
            {
                planned.set(&a.name, Value::string(old));
            }
        }
    }
}

/// Whether the configured attributes or blocks differ from `prior`.
fn differs(block: &Block, p: &Value, planned: &Value) -> bool {
    block
        .attributes
        .iter()
        .filter(|a| (a.required || a.optional) && !a.inert)
        .any(|a| !p.get(&a.name).equals(planned.get(&a.name)))
        || block
            .blocks
            .iter()
            .any(|b| !p.get(&b.name).equals(planned.get(&b.name)))
}

/// Nested blocks: a single block removed from the configuration is planned
/// absent; single and group blocks are planned like their parent.
fn plan_blocks(
    block: &Block,
    prior: Option<&Value>,
    config: &Value,
    planned: &mut Value,
    path: &AttrPath,
    rr: &mut Vec<AttrPath>,
) {
    for b in &block.blocks {
        if matches!(b.nesting, NestingMode::Single) && config.get(&b.name).is_null() {
            // A single block removed from the configuration is planned
            // absent. Terraform before 1.3 proposes the prior block instead
            // (its ProposedNew returns the prior value for a null config),
            // and then refuses its own proposal ("planned for existence but
            // config wants absence").
            if !planned.get(&b.name).is_null() {
                planned.set(&b.name, Value::Null);
            }
            continue;
        }
        if matches!(b.nesting, NestingMode::Single | NestingMode::Group) {
            let prior_child = prior.map(|pv| pv.get(&b.name));
            let cfg = config.get(&b.name);
            if let Some(child) = planned.get_mut(&b.name) {
                plan_block(
                    &b.block,
                    prior_child,
                    cfg,
                    child,
                    &path.clone().attr(&b.name),
                    rr,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;
    use serde_json::json;

    fn block() -> Block {
        Block::new()
            .attr(Attribute::string("name").required().requires_replace())
            .attr(Attribute::string("note").optional())
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("etag").computed())
            .attr(
                Attribute::string("mode")
                    .optional()
                    .computed()
                    .default(Value::string("fast")),
            )
    }

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j, &block().ty()).unwrap()
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let cfg = v(json!({"name": "a"}));
        let p = plan(&block(), None, &cfg, &cfg);
        assert!(p.planned.get("id").is_unknown());
        assert!(p.planned.get("etag").is_unknown());
        assert_eq!(p.planned.get("mode").as_str(), Some("fast"));
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn no_change_keeps_prior() {
        let prior = v(json!({"name": "a", "id": "1", "etag": "e", "mode": "fast"}));
        let cfg = v(json!({"name": "a"}));
        let p = plan(&block(), Some(&prior), &cfg, &prior);
        assert!(p.planned.equals(&prior));
    }

    #[test]
    fn update_unknowns_only_unpinned_computed() {
        let prior = v(json!({"name": "a", "id": "1", "etag": "e", "mode": "fast"}));
        let cfg = v(json!({"name": "a", "note": "n"}));
        let proposed = v(json!({"name": "a", "note": "n", "id": "1", "etag": "e", "mode": "fast"}));
        let p = plan(&block(), Some(&prior), &cfg, &proposed);
        assert_eq!(p.planned.get("id").as_str(), Some("1"));
        assert!(p.planned.get("etag").is_unknown());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn use_state_for_unknown_needs_a_prior_value() {
        let prior = v(json!({"name": "a", "etag": "e", "mode": "fast"}));
        let cfg = v(json!({"name": "a", "note": "n"}));
        let proposed = v(json!({"name": "a", "note": "n", "etag": "e", "mode": "fast"}));
        let p = plan(&block(), Some(&prior), &cfg, &proposed);
        assert!(p.planned.get("id").is_unknown());
        // and without any change it stays null: no perpetual diff
        let cfg = v(json!({"name": "a"}));
        let p = plan(&block(), Some(&prior), &cfg, &prior);
        assert!(p.planned.get("id").is_null());
    }

    #[test]
    fn requires_replace_detected() {
        let prior = v(json!({"name": "a", "id": "1", "etag": "e", "mode": "fast"}));
        let cfg = v(json!({"name": "b"}));
        let proposed = v(json!({"name": "b", "id": "1", "etag": "e", "mode": "fast"}));
        let p = plan(&block(), Some(&prior), &cfg, &proposed);
        assert_eq!(p.requires_replace, vec![AttrPath::root("name")]);
    }

    #[test]
    fn a_removed_single_block_is_planned_absent_whatever_was_proposed() {
        use crate::schema::NestedBlock;
        let b = Block::new()
            .attr(Attribute::string("name").required())
            .block(NestedBlock::new(
                "ns",
                NestingMode::Single,
                Block::new().attr(Attribute::string("namespace").required().requires_replace()),
            ));
        let ty = b.ty();
        let v = |j| Value::from_json(&j, &ty).unwrap();
        let prior = v(json!({"name": "a", "ns": {"namespace": "x"}}));
        let cfg = v(json!({"name": "a", "ns": null}));
        // Terraform 1.0.3 proposes the prior block for a removed one.
        let p = plan(&b, Some(&prior), &cfg, &prior);
        assert!(p.planned.get("ns").is_null(), "{:?}", p.planned);
        let kept = plan(&b, Some(&prior), &prior, &prior);
        assert_eq!(kept.planned.get("ns").get("namespace").as_str(), Some("x"));
    }

    #[test]
    fn destroy_plans_null() {
        let prior = v(json!({"name": "a"}));
        let p = plan(&block(), Some(&prior), &Value::Null, &Value::Null);
        assert!(p.planned.is_null());
    }

    #[test]
    fn single_nested_attributes_are_planned_recursively() {
        let b = Block::new()
            .attr(Attribute::string("name").required())
            .attr(
                Attribute::nested(
                    "spec",
                    NestingMode::Single,
                    Block::new()
                        .attr(Attribute::string("mode").optional())
                        .attr(Attribute::string("arn").computed())
                        .attr(Attribute::string("zone").optional().requires_replace()),
                )
                .optional(),
            );
        let ty = b.ty();
        let v = |j| Value::from_json(&j, &ty).unwrap();
        let cfg = v(json!({"name": "a", "spec": {"mode": "x", "zone": "z1"}}));
        let p = plan(&b, None, &cfg, &cfg);
        assert!(p.planned.get("spec").get("arn").is_unknown());
        let prior = v(json!({"name": "a", "spec": {"mode": "x", "zone": "z1", "arn": "A"}}));
        let cfg2 = v(json!({"name": "a", "spec": {"mode": "x", "zone": "z2"}}));
        let proposed = v(json!({"name": "a", "spec": {"mode": "x", "zone": "z2", "arn": "A"}}));
        let p = plan(&b, Some(&prior), &cfg2, &proposed);
        assert!(p.planned.get("spec").get("arn").is_unknown());
        assert_eq!(
            p.requires_replace,
            vec![AttrPath::root("spec").attr("zone")]
        );
    }
}
