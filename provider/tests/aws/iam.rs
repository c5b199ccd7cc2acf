//! `aws::iam::role` and `made_role` against moto. Each test skips (with a
//! message) when `.venv/bin/moto_server` is missing.

use crate::support::{World, ec2_trust, pods_trust, unique};
use schema::association::WantedRole;
use schema::role::{INLINE_POLICY_NAME, OWNER_TAG, RoleChange, RoleShape};
use terraform_provider_eks::aws::iam::role as iam;
use terraform_provider_eks::made_role::{self, Ensured, MadeRoleError};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn shape(trust: String, owner: &str) -> RoleShape {
    RoleShape {
        trust_policy: trust,
        managed_policy_arns: [READ_ONLY.to_string()].into(),
        permission_policy: Some(POLICY.into()),
        tags: [(OWNER_TAG.to_string(), owner.to_string())].into(),
        ..Default::default()
    }
}

fn wanted(name: &str, owner: &str) -> WantedRole {
    WantedRole {
        name: name.into(),
        path: "/".into(),
        shape: shape(pods_trust(), owner),
    }
}

#[tokio::test]
async fn find_role_by_name_is_none_for_an_unknown_role() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let found = iam::find_role_by_name(&w.clients, &unique("nobody")).await;
    assert!(matches!(found, Ok(None)), "{found:?}");
    let trust = iam::find_trust_by_arn(&w.clients, "arn:aws:iam::123456789012:role/nobody-x").await;
    assert!(matches!(trust, Ok(None)), "{trust:?}");
}

#[tokio::test]
async fn a_role_is_created_changed_read_back_and_deleted() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("shape");
    let plain = RoleShape {
        trust_policy: pods_trust(),
        ..Default::default()
    };
    let arn = iam::create_role(&w.clients, &name, "/", &plain)
        .await
        .expect("created");
    assert!(arn.ends_with(&format!(":role/{name}")), "{arn}");
    let change = RoleChange {
        attach: vec![READ_ONLY.into()],
        put_inline: vec![(INLINE_POLICY_NAME.to_string(), POLICY.into())],
        tags: schema::tags::TagChange {
            set: [("team".to_string(), "x".to_string())].into(),
            remove: vec![],
        },
        ..Default::default()
    };
    iam::apply_change(&w.clients, &name, &change)
        .await
        .expect("changed");
    let found = iam::find_role_by_name(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert_eq!(found.arn, arn);
    assert!(found.shape.managed_policy_arns.contains(READ_ONLY));
    let inline = found.shape.permission_policy.unwrap_or_default();
    assert!(schema::policy::equivalent(&inline, POLICY), "{inline}");
    assert_eq!(found.shape.tags.get("team").map(String::as_str), Some("x"));
    assert!(schema::policy::equivalent(
        &found.shape.trust_policy,
        &pods_trust()
    ));
    // IAM refuses to delete a role with policies: delete_role removes them first.
    iam::delete_role(&w.clients, &name).await.expect("deleted");
    assert!(matches!(
        iam::find_role_by_name(&w.clients, &name).await,
        Ok(None)
    ));
    iam::delete_role(&w.clients, &name)
        .await
        .expect("gone is done");
}

#[tokio::test]
async fn trust_by_arn_checks_the_path_and_updates() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("trust");
    let plain = RoleShape {
        trust_policy: ec2_trust(),
        ..Default::default()
    };
    let arn = iam::create_role(&w.clients, &name, "/team/", &plain)
        .await
        .expect("created");
    let found = iam::find_trust_by_arn(&w.clients, &arn)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert_eq!(found.name, name);
    assert_eq!(
        found.trust["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    let elsewhere = arn.replace("/team/", "/");
    assert!(matches!(
        iam::find_trust_by_arn(&w.clients, &elsewhere).await,
        Ok(None)
    ));
    iam::update_trust(&w.clients, &name, &pods_trust())
        .await
        .expect("updated");
    let found = iam::find_trust_by_arn(&w.clients, &arn)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert_eq!(
        found.trust["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );
    let gone = iam::update_trust(&w.clients, &unique("gone"), &pods_trust()).await;
    assert!(gone.is_err_and(|e| e.is_not_found()));
}

#[tokio::test]
async fn ensure_role_creates_adopts_our_own_and_refuses_anothers() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("made");
    let want = wanted(&name, "c/ns/sa");
    let first = made_role::ensure_role(&w.clients, &want, "c/ns/sa").await;
    assert!(matches!(first, Ok(Ensured::Created(_))), "{first:?}");
    let again = made_role::ensure_role(&w.clients, &want, "c/ns/sa").await;
    assert!(matches!(again, Ok(Ensured::Adopted(_))), "{again:?}");
    let other =
        made_role::ensure_role(&w.clients, &wanted(&name, "c/ns/other"), "c/ns/other").await;
    match other {
        Err(MadeRoleError::NameTaken { found_owner, .. }) => {
            assert_eq!(found_owner.as_deref(), Some("c/ns/sa"))
        }
        other => panic!("expected NameTaken, got {other:?}"),
    }
    iam::delete_role(&w.clients, &name).await.expect("deleted");
}

#[tokio::test]
async fn put_role_repairs_drift_of_a_made_role() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("drift");
    let want = wanted(&name, "c/ns/sa");
    let made = made_role::put_role(&w.clients, &want, "c/ns/sa").await;
    assert!(matches!(made, Ok(Ensured::Created(_))), "{made:?}");
    // Someone detaches the policy and changes the trust.
    let drift = RoleChange {
        detach: vec![READ_ONLY.into()],
        trust_policy: Some(ec2_trust()),
        ..Default::default()
    };
    iam::apply_change(&w.clients, &name, &drift)
        .await
        .expect("drifted");
    let kept = made_role::put_role(&w.clients, &want, "c/ns/sa").await;
    assert!(matches!(kept, Ok(Ensured::Kept(_))), "{kept:?}");
    let found = iam::find_role_by_name(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert!(found.shape.managed_policy_arns.contains(READ_ONLY));
    assert!(schema::policy::equivalent(
        &found.shape.trust_policy,
        &pods_trust()
    ));
    let mut diags = tfplugin::Diagnostics::default();
    made_role::cleanup_roles(&w.clients, std::slice::from_ref(&name), &mut diags).await;
    assert!(diags.0.is_empty(), "{diags:?}");
    assert!(matches!(
        iam::find_role_by_name(&w.clients, &name).await,
        Ok(None)
    ));
}

/// A change grants before it takes away: when the grant fails (here a put
/// IAM refuses), nothing is detached or deleted, so the role keeps every
/// permission it had. The renamed inline policy and the swapped managed
/// policy are the cases this protects.
#[tokio::test]
async fn a_failed_grant_takes_nothing_away() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("grant-first");
    let plain = RoleShape {
        trust_policy: pods_trust(),
        ..Default::default()
    };
    iam::create_role(&w.clients, &name, "/", &plain)
        .await
        .expect("created");
    let before = RoleChange {
        attach: vec![READ_ONLY.into()],
        put_inline: vec![("old-name".to_string(), POLICY.into())],
        ..Default::default()
    };
    iam::apply_change(&w.clients, &name, &before)
        .await
        .expect("set up");
    let rename = RoleChange {
        put_inline: vec![("new-name".to_string(), "not a policy".into())],
        delete_inline: vec!["old-name".to_string()],
        detach: vec![READ_ONLY.into()],
        ..Default::default()
    };
    let failed = iam::apply_change(&w.clients, &name, &rename).await;
    assert!(failed.is_err(), "IAM took a malformed policy: {failed:?}");
    let found = iam::find_role_by_name(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert!(
        found.shape.managed_policy_arns.contains(READ_ONLY),
        "detached although the grant failed"
    );
    assert!(
        found.extra_inline.contains_key("old-name"),
        "the old inline policy was deleted although the new one was refused: {:?}",
        found.extra_inline.keys()
    );
    iam::delete_role(&w.clients, &name).await.expect("deleted");
}
