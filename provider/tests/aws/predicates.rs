//! Each named retry predicate of `aws::retry` on the services' real
//! answers (the emulator checking roles against moto), and the create path
//! retrying them until the answer changes.

use crate::support::{REGION, World, ec2_trust, pods_trust, unique};
use schema::role::RoleShape;
use terraform_provider_eks::aws::AwsError;
use terraform_provider_eks::aws::eks::addon::{self, NewAddon};
use terraform_provider_eks::aws::eks::association::{self, Created, NewAssociation, existing_id};
use terraform_provider_eks::aws::iam::role as iam;
use terraform_provider_eks::aws::retry::{
    is_association_taken, is_entity_exists, is_in_use, is_role_not_visible, is_trust_not_visible,
};
use terraform_provider_eks::ownership;

/// One CreatePodIdentityAssociation, no retry: the service's own answer.
async fn create_once(w: &World, cluster: &str, sa: &str, role: &str) -> Result<(), AwsError> {
    w.clients
        .eks
        .create_pod_identity_association()
        .cluster_name(cluster)
        .namespace("ns")
        .service_account(sa)
        .role_arn(role)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("CreatePodIdentityAssociation", e))
}

async fn role(w: &World, trust: String) -> (String, String) {
    let name = unique("pred");
    let shape = RoleShape {
        trust_policy: trust,
        ..Default::default()
    };
    let arn = iam::create_role(&w.clients, &ownership::creating(), &name, "/", &shape)
        .await
        .expect("role");
    (name, arn)
}

fn new(cluster: &str, sa: &str, role: &str) -> NewAssociation {
    NewAssociation {
        cluster: cluster.into(),
        namespace: "ns".into(),
        service_account: sa.into(),
        settings: schema::association::Settings {
            role_arn: Some(role.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn role_not_visible_is_the_answer_for_a_missing_role() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("missing-role").await;
    let missing = format!("arn:aws:iam::123456789012:role/{}", unique("none"));
    let e = create_once(&w, &c, "sa", &missing)
        .await
        .expect_err("refused");
    assert!(is_role_not_visible(&e), "{e}");
    assert!(!is_trust_not_visible(&e));
}

#[tokio::test]
async fn trust_not_visible_is_the_answer_for_a_role_pods_cannot_assume() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("bad-trust").await;
    let (_, arn) = role(&w, ec2_trust()).await;
    let e = create_once(&w, &c, "sa", &arn).await.expect_err("refused");
    assert!(is_trust_not_visible(&e), "{e}");
    assert!(!is_role_not_visible(&e));
    // Without `trust_just_changed` the create path does not retry it.
    let started = std::time::Instant::now();
    let r = association::create(
        &w.ctx(),
        &w.clients,
        &ownership::creating(),
        &new(&c, "sa", &arn),
    )
    .await;
    assert!(r.is_err_and(|e| is_trust_not_visible(&e)));
    assert!(started.elapsed() < std::time::Duration::from_millis(400));
}

#[tokio::test]
async fn association_taken_names_the_existing_association() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("taken").await;
    let (_, arn) = role(&w, pods_trust()).await;
    create_once(&w, &c, "sa", &arn).await.expect("created");
    let e = create_once(&w, &c, "sa", &arn).await.expect_err("taken");
    assert!(is_association_taken(&e), "{e}");
    assert!(is_in_use(&e));
    let id = existing_id(&e).expect("an association ID in the message");
    let found = association::find_by_id(&w.clients, &c, &id)
        .await
        .ok()
        .flatten();
    assert_eq!(found.and_then(|a| a.settings.role_arn), Some(arn));
}

#[tokio::test]
async fn in_use_and_entity_exists_are_the_duplicate_answers() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("dups").await;
    let agent = NewAddon {
        cluster: c.clone(),
        name: addon::AGENT_ADDON.into(),
        ..Default::default()
    };
    addon::create(&w.ctx(), &w.clients, &agent)
        .await
        .expect("created");
    let e = addon::create(&w.ctx(), &w.clients, &agent)
        .await
        .expect_err("exists");
    assert!(is_in_use(&e) && !is_association_taken(&e), "{e}");
    let (name, _) = role(&w, pods_trust()).await;
    let shape = RoleShape {
        trust_policy: pods_trust(),
        ..Default::default()
    };
    let e = iam::create_role(&w.clients, &ownership::creating(), &name, "/", &shape)
        .await
        .expect_err("exists");
    assert!(is_entity_exists(&e), "{e}");
}

#[tokio::test]
async fn create_retries_until_a_new_role_is_visible() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    w.faults(serde_json::json!({"iam_propagation_delay_secs": 1.0}))
        .await;
    let c = w.cluster("propagation").await;
    let (_, arn) = role(&w, pods_trust()).await;
    let e = create_once(&w, &c, "first", &arn)
        .await
        .expect_err("not visible yet");
    assert!(is_role_not_visible(&e), "{e}");
    let r = association::create(
        &w.ctx(),
        &w.clients,
        &ownership::creating(),
        &new(&c, "sa", &arn),
    )
    .await;
    assert!(matches!(r, Ok(Created::New(_))), "{r:?}");
}

#[tokio::test]
async fn create_retries_a_just_changed_trust_when_told_so() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("trust-change").await;
    let (name, arn) = role(&w, ec2_trust()).await;
    let clients = w.clients.clone();
    let fix = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        iam::update_trust(&clients, &ownership::creating(), &name, &pods_trust()).await
    });
    let mut n = new(&c, "sa", &arn);
    n.trust_just_changed = true;
    let r = association::create(&w.ctx(), &w.clients, &ownership::creating(), &n).await;
    assert!(matches!(r, Ok(Created::New(_))), "{r:?}");
    assert!(matches!(fix.await, Ok(Ok(()))));
    assert_eq!(w.clients.region, REGION);
}
