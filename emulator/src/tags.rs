//! TagResource, UntagResource and ListTagsForResource on
//! `/tags/{resourceArn}` for clusters, pod identity associations and addons,
//! and the tag limits shared with the create operations (TagMap: 50 tags,
//! key 1–128 and value up to 256 characters, `aws:` reserved for keys and
//! values).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Emulator;
use crate::error::{ApiError, Code};
use crate::ids::{EksResource, parse_eks_arn};
use crate::state::Region;
use crate::strict::Rule;
use crate::wire::{Ctx, validate_tags};

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::BadRequest, message)
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(Code::NotFound, format!("Resource {arn} not found"))
}

/// The tags of the resource an ARN names.
fn tags_of<'r>(
    region: &'r mut Region,
    ctx: &Ctx,
    arn: &str,
) -> Result<&'r mut BTreeMap<String, String>, ApiError> {
    let parsed = parse_eks_arn(arn).ok_or_else(|| bad_request(format!("Invalid ARN: {arn}")))?;
    if parsed.account != ctx.account || parsed.region != ctx.region {
        return Err(not_found(arn));
    }
    match parsed.resource {
        EksResource::Cluster { name } => region
            .clusters
            .get_mut(&name)
            .filter(|c| c.arn == arn)
            .map(|c| &mut c.tags),
        EksResource::Association { cluster, id } => region
            .associations
            .get_mut(&id)
            .filter(|a| a.cluster_name == cluster && a.association_arn == arn)
            .map(|a| &mut a.tags),
        EksResource::Addon { cluster, addon } => region
            .addons
            .get_mut(&(cluster, addon))
            .filter(|a| a.addon_arn == arn)
            .map(|a| &mut a.tags),
    }
    .ok_or_else(|| not_found(arn))
}

/// Strict rule X2 (FACTS.md F14): a tag change counts as a change of the
/// association or addon, so its `modifiedAt` moves.
fn touch(region: &mut Region, arn: &str) {
    let now = crate::ids::now_epoch();
    match parse_eks_arn(arn).map(|p| p.resource) {
        Some(EksResource::Association { id, .. }) => {
            if let Some(a) = region.associations.get_mut(&id) {
                a.modified_at = now;
            }
        }
        Some(EksResource::Addon { cluster, addon }) => {
            if let Some(a) = region.addons.get_mut(&(cluster, addon)) {
                a.modified_at = now;
            }
        }
        _ => {}
    }
}

/// TagResource.
pub fn tag(em: &Emulator, ctx: &Ctx, arn: &str, body: Value) -> Result<Value, ApiError> {
    let Some(Value::Object(map)) = body.get("tags") else {
        return Err(bad_request("tags is a required parameter"));
    };
    let mut new = BTreeMap::new();
    for (k, v) in map {
        let Some(v) = v.as_str() else {
            return Err(bad_request(format!(
                "The value of tag {k} must be a string"
            )));
        };
        new.insert(k.clone(), v.to_owned());
    }
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let tags = tags_of(region, ctx, arn)?;
    let mut merged = tags.clone();
    merged.extend(new);
    validate_tags(&merged).map_err(bad_request)?;
    *tags = merged;
    if em.config.strict.has(Rule::X2) {
        touch(region, arn);
    }
    Ok(json!({}))
}

/// UntagResource (`tagKeys` repeated in the query).
pub fn untag(em: &Emulator, ctx: &Ctx, arn: &str) -> Result<Value, ApiError> {
    let keys = ctx.query.all("tagKeys");
    if keys.is_empty() {
        return Err(bad_request("tagKeys is a required parameter"));
    }
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let tags = tags_of(region, ctx, arn)?;
    for k in keys {
        tags.remove(k);
    }
    if em.config.strict.has(Rule::X2) {
        touch(region, arn);
    }
    Ok(json!({}))
}

/// ListTagsForResource.
pub fn list(em: &Emulator, ctx: &Ctx, arn: &str) -> Result<Value, ApiError> {
    let mut world = em.world();
    let region = world.settled(&ctx.account, &ctx.region);
    let tags = tags_of(region, ctx, arn)?;
    Ok(json!({ "tags": tags }))
}
