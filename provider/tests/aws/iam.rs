//! `aws::iam::role` and `made_role` against moto. Each test needs moto and
//! fails without it, unless the tests that need it are skipped (see
//! `support::MOTO_RULE`).

use crate::support::{World, ec2_trust, pods_trust, unique};
use schema::association::WantedRole;
use schema::role::{INLINE_POLICY_NAME, OWNER_TAG, RoleChange, RoleShape};
use terraform_provider_eks::aws::iam::role as iam;
use terraform_provider_eks::ownership::made_role::{self, Ensured};
use terraform_provider_eks::ownership::{self, Lease, Refused, Subject};

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
    let arn = iam::create_role(&w.clients, &ownership::creating(), &name, "/", &plain)
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
    iam::apply_change(&w.clients, &ownership::creating(), &name, &change)
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
    iam::delete_role(&w.clients, &ownership::creating(), &name)
        .await
        .expect("deleted");
    assert!(matches!(
        iam::find_role_by_name(&w.clients, &name).await,
        Ok(None)
    ));
    iam::delete_role(&w.clients, &ownership::creating(), &name)
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
    let arn = iam::create_role(&w.clients, &ownership::creating(), &name, "/team/", &plain)
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
    iam::update_trust(&w.clients, &ownership::creating(), &name, &pods_trust())
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
    let gone = iam::update_trust(
        &w.clients,
        &ownership::creating(),
        &unique("gone"),
        &pods_trust(),
    )
    .await;
    assert!(gone.is_err_and(|e| e.is_not_found()));
}

fn subject(sa: &str) -> Subject {
    Subject::ServiceAccount {
        cluster: "c".into(),
        namespace: "ns".into(),
        service_account: sa.into(),
    }
}

/// The gate (issue 22): CreateRole makes the role under this apply's lease;
/// the same apply meeting its own role again (a lost answer) takes it as
/// created now; another apply is refused while the lease lives and while
/// the role is finished; a role of another owner is never touched.
#[tokio::test]
async fn make_creates_recognises_a_lost_answer_and_refuses_anothers() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("made");
    let want = wanted(&name, "c/ns/sa");
    let lease = Lease::new();
    let first = made_role::make(&w.clients, &want, &subject("sa"), &lease, false).await;
    assert!(
        matches!(&first, Ok(p) if matches!(p.ensured, Ensured::Created(_))),
        "{first:?}"
    );
    // The same apply again (its CreateRole answer lost): still created now.
    let again = made_role::make(&w.clients, &want, &subject("sa"), &lease, false).await;
    assert!(
        matches!(&again, Ok(p) if matches!(p.ensured, Ensured::Created(_))),
        "{again:?}"
    );
    // Another owner key: somebody else's role, never touched.
    let other = made_role::make(
        &w.clients,
        &wanted(&name, "c/ns/other"),
        &subject("other"),
        &Lease::new(),
        false,
    )
    .await;
    match other {
        Err(Refused::NameTaken { found_owner, .. }) => {
            assert_eq!(found_owner.as_deref(), Some("c/ns/sa"))
        }
        other => panic!("expected NameTaken, got {other:?}"),
    }
    // Finished (lease released): another resource's, refused.
    let placed = first.expect("made");
    ownership::release_role(&w.clients, &placed.grant, &name)
        .await
        .expect("released");
    let finished = made_role::make(&w.clients, &want, &subject("sa"), &Lease::new(), false).await;
    assert!(
        matches!(finished, Err(Refused::OwnedByAnother { .. })),
        "{finished:?}"
    );
    iam::delete_role(&w.clients, &placed.grant, &name)
        .await
        .expect("deleted");
}

/// A role whose lease expired (its apply died) is adopted by the next
/// apply, which takes the lease over: its own nonce stands afterwards.
#[tokio::test]
async fn make_adopts_a_dead_applys_role_and_takes_its_lease() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("dead");
    let mut want = wanted(&name, "c/ns/sa");
    // What a dead apply left: its lease written long ago.
    want.shape.tags.insert(
        ownership::LEASE_TAG.to_string(),
        "2000-01-01T00:00:00Z/deadbeefdeadbeef".into(),
    );
    iam::create_role(&w.clients, &ownership::creating(), &name, "/", &want.shape)
        .await
        .expect("created");
    want.shape.tags.remove(ownership::LEASE_TAG);
    let lease = Lease::new();
    let adopted = made_role::make(&w.clients, &want, &subject("sa"), &lease, false).await;
    let placed = match adopted {
        Ok(p) if matches!(p.ensured, Ensured::Adopted(_)) => p,
        other => panic!("expected Adopted, got {other:?}"),
    };
    let found = iam::find_role_tags(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert!(ownership::is_ours(&found.tags, &lease), "{:?}", found.tags);
    // Brought to the wanted shape: the policies are there.
    let whole = iam::find_role_by_name(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert!(whole.shape.managed_policy_arns.contains(READ_ONLY));
    iam::delete_role(&w.clients, &placed.grant, &name)
        .await
        .expect("deleted");
}

/// The foreign-role take-over of issue 22: a recorded grant does not make a
/// role ours when it no longer carries our owner tag (deleted and made
/// again by somebody else): converge refuses, and delete leaves it alone.
#[tokio::test]
async fn a_recorded_role_made_again_by_someone_else_is_never_written() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("foreign");
    let foreign = RoleShape {
        trust_policy: pods_trust(),
        tags: [("team".to_string(), "b".to_string())].into(),
        ..Default::default()
    };
    iam::create_role(&w.clients, &ownership::creating(), &name, "/", &foreign)
        .await
        .expect("created");
    let before = iam::find_role_by_name(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    let grant = ownership::recorded_role(Some(true), Some(&name), &name).expect("recorded");
    let want = wanted(&name, "c/ns/sa");
    let converged = made_role::converge_read(&w.clients, &grant, &want, &subject("sa"), None).await;
    assert!(
        matches!(converged, Err(Refused::NameTaken { .. })),
        "{converged:?}"
    );
    let mut diags = tfplugin::Diagnostics::default();
    made_role::delete(
        &w.clients,
        &grant,
        &name,
        &subject("sa"),
        None,
        None,
        &mut diags,
    )
    .await
    .expect("no error");
    assert_eq!(diags.0.len(), 1, "one warning: {diags:?}");
    let after = iam::find_role_by_name(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("the foreign role survives");
    assert_eq!(before.shape, after.shape);
    iam::delete_role(&w.clients, &grant, &name)
        .await
        .expect("deleted");
}

#[tokio::test]
async fn converge_read_repairs_drift_of_a_made_role() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("drift");
    let want = wanted(&name, "c/ns/sa");
    let made = made_role::make(&w.clients, &want, &subject("sa"), &Lease::new(), false).await;
    let placed = made.expect("made");
    // Someone detaches the policy and changes the trust.
    let drift = RoleChange {
        detach: vec![READ_ONLY.into()],
        trust_policy: Some(ec2_trust()),
        ..Default::default()
    };
    iam::apply_change(&w.clients, &placed.grant, &name, &drift)
        .await
        .expect("drifted");
    let grant = ownership::recorded_role(Some(true), Some(&name), &name).expect("recorded");
    let kept = made_role::converge_read(&w.clients, &grant, &want, &subject("sa"), None).await;
    assert!(matches!(kept, Ok(Some(Ensured::Kept(_)))), "{kept:?}");
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
    // The lease went with the convergence: the wanted shape has none.
    assert!(!found.shape.tags.contains_key(ownership::LEASE_TAG));
    let mut diags = tfplugin::Diagnostics::default();
    let left = made_role::cleanup(&w.clients, &[(name.clone(), grant)], &mut diags).await;
    assert!(left.is_empty() && diags.0.is_empty(), "{diags:?}");
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
    iam::create_role(&w.clients, &ownership::creating(), &name, "/", &plain)
        .await
        .expect("created");
    let before = RoleChange {
        attach: vec![READ_ONLY.into()],
        put_inline: vec![("old-name".to_string(), POLICY.into())],
        ..Default::default()
    };
    iam::apply_change(&w.clients, &ownership::creating(), &name, &before)
        .await
        .expect("set up");
    let rename = RoleChange {
        put_inline: vec![("new-name".to_string(), "not a policy".into())],
        delete_inline: vec!["old-name".to_string()],
        detach: vec![READ_ONLY.into()],
        ..Default::default()
    };
    let failed = iam::apply_change(&w.clients, &ownership::creating(), &name, &rename).await;
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
    iam::delete_role(&w.clients, &ownership::creating(), &name)
        .await
        .expect("deleted");
}

/// Two applies find the same dead apply's role at once: Fischer's
/// take-over lets exactly one adopt it; the other is refused with "another
/// apply took over its creation lease first", and the role carries the
/// winner's nonce.
#[tokio::test]
async fn two_applies_racing_for_a_dead_lease_one_adopts() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("race");
    let mut left = wanted(&name, "c/ns/sa");
    left.shape.tags.insert(
        ownership::LEASE_TAG.to_string(),
        "2000-01-01T00:00:00Z/deadbeefdeadbeef".into(),
    );
    iam::create_role(&w.clients, &ownership::creating(), &name, "/", &left.shape)
        .await
        .expect("created");
    let want = wanted(&name, "c/ns/sa");
    let (a, b) = (Lease::new(), Lease::new());
    let sa = subject("sa");
    // A loser that read the dead lease too late to write within Fischer's
    // bound finds the winner's fresh lease and waits for it (a whole lease,
    // two minutes): that wait is the right answer too, so each apply gets
    // 30 s, and one still waiting counts as not adopting.
    let bounded = |l| {
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            made_role::make(&w.clients, &want, &sa, l, false),
        )
    };
    let (ra, rb) = tokio::join!(bounded(&a), bounded(&b));
    let waited = |r: Result<Result<_, Refused>, _>| {
        r.unwrap_or_else(|_| {
            Err(Refused::Lost {
                what: "still waiting for the winner's lease".into(),
            })
        })
    };
    let (ra, rb) = (waited(ra), waited(rb));
    let won: Vec<&Lease> = [(&ra, &a), (&rb, &b)]
        .into_iter()
        .filter(|(r, _)| matches!(r, Ok(p) if matches!(p.ensured, Ensured::Adopted(_))))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(won.len(), 1, "exactly one adopts: {ra:?} / {rb:?}");
    let lost = if ra.is_ok() { &rb } else { &ra };
    assert!(matches!(lost, Err(Refused::Lost { .. })), "{lost:?}");
    let found = iam::find_role_tags(&w.clients, &name)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert!(ownership::is_ours(&found.tags, won[0]), "{:?}", found.tags);
    let grant = ownership::recorded_role(Some(true), Some(&name), &name).expect("recorded");
    iam::delete_role(&w.clients, &grant, &name)
        .await
        .expect("deleted");
}

/// A service account's made role does not manage its description or
/// longest session: converging it leaves what was set outside (no
/// UpdateRole). A shape that manages them (`eks_pod_identity_role`) is
/// created with them and has them put back, both sent together.
#[tokio::test]
async fn description_and_session_are_managed_only_when_wanted() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let name = unique("settings");
    let want = wanted(&name, "c/ns/sa");
    let placed = made_role::make(&w.clients, &want, &subject("sa"), &Lease::new(), false)
        .await
        .expect("made");
    let found = |n: String| {
        let c = &w.clients;
        async move {
            iam::find_role_by_name(c, &n)
                .await
                .ok()
                .flatten()
                .expect("found")
        }
    };
    assert_eq!(found(name.clone()).await.shape.description, None);
    let by_hand = RoleChange {
        settings: Some(schema::role::RoleSettings {
            description: Some("set by hand".into()),
            max_session_duration: Some(7200),
        }),
        ..Default::default()
    };
    iam::apply_change(&w.clients, &placed.grant, &name, &by_hand)
        .await
        .expect("set by hand");
    let grant = ownership::recorded_role(Some(true), Some(&name), &name).expect("recorded");
    let kept = made_role::converge_read(&w.clients, &grant, &want, &subject("sa"), None).await;
    assert!(matches!(kept, Ok(Some(Ensured::Kept(_)))), "{kept:?}");
    let f = found(name.clone()).await;
    assert_eq!(f.shape.description.as_deref(), Some("set by hand"));
    assert_eq!(f.shape.max_session_duration, Some(7200));
    iam::delete_role(&w.clients, &grant, &name)
        .await
        .expect("deleted");

    // Managed: created with both, and put back after a change by hand.
    let name = unique("settings");
    let mut managed = wanted(&name, "c/ns/sa");
    managed.shape.description = Some("shared".into());
    managed.shape.max_session_duration = Some(10800);
    let placed = made_role::make(&w.clients, &managed, &subject("sa"), &Lease::new(), false)
        .await
        .expect("made");
    let f = found(name.clone()).await;
    assert_eq!(f.shape.description.as_deref(), Some("shared"));
    assert_eq!(f.shape.max_session_duration, Some(10800));
    iam::apply_change(&w.clients, &placed.grant, &name, &by_hand)
        .await
        .expect("set by hand");
    let grant = ownership::recorded_role(Some(true), Some(&name), &name).expect("recorded");
    let kept = made_role::converge_read(&w.clients, &grant, &managed, &subject("sa"), None).await;
    assert!(matches!(kept, Ok(Some(Ensured::Kept(_)))), "{kept:?}");
    let f = found(name.clone()).await;
    assert_eq!(f.shape.description.as_deref(), Some("shared"));
    assert_eq!(f.shape.max_session_duration, Some(10800));
    iam::delete_role(&w.clients, &grant, &name)
        .await
        .expect("deleted");
}
