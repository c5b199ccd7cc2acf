//! `aws::eks::association` and `aws::eks::tags` against the emulator.

use crate::support::{World, unique};
use schema::association::Settings;
use schema::tags::{TagChange, Tags};
use terraform_provider_eks::aws::eks::association::{self, Created, NewAssociation};
use terraform_provider_eks::aws::eks::tags;
use terraform_provider_eks::ownership;

fn new(cluster: &str, ns: &str, sa: &str) -> NewAssociation {
    NewAssociation {
        cluster: cluster.into(),
        namespace: ns.into(),
        service_account: sa.into(),
        settings: Settings {
            role_arn: Some("arn:aws:iam::123456789012:role/app".into()),
            disable_session_tags: Some(false),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn created(w: &World, n: &NewAssociation) -> association::Association {
    match association::create(&w.ctx(), &w.clients, &ownership::creating(), n).await {
        Ok(Created::New(a)) => a,
        other => panic!("expected a new association, got {other:?}"),
    }
}

#[tokio::test]
async fn find_by_id_is_none_for_an_unknown_id_or_cluster() {
    let w = World::new().await;
    let c = w.cluster("find").await;
    let found = association::find_by_id(&w.clients, &c, "a-0000000000000000a").await;
    assert_eq!(found.ok(), Some(None));
    let found = association::find_by_id(&w.clients, "no-such-cluster", "a-0000000000000000a").await;
    assert_eq!(found.ok(), Some(None));
    let id =
        association::find_id_by_service_account(&w.clients, "no-such-cluster", "ns", "sa").await;
    assert_eq!(id.ok(), Some(None));
}

#[tokio::test]
async fn create_then_find_by_id_and_by_service_account() {
    let w = World::new().await;
    let c = w.cluster("create").await;
    let mut n = new(&c, "ns", "app");
    n.tags = [("team".to_string(), "x".to_string())].into();
    let a = created(&w, &n).await;
    let id = a.association_id.clone().unwrap_or_default();
    assert!(id.starts_with("a-"), "{id}");
    assert_eq!(a.tags.get("team").map(String::as_str), Some("x"));
    let found = association::find_by_id(&w.clients, &c, &id)
        .await
        .ok()
        .flatten();
    assert_eq!(
        found.as_ref().and_then(|f| f.service_account.as_deref()),
        Some("app")
    );
    assert_eq!(found.and_then(|f| f.settings.role_arn), n.settings.role_arn);
    let by_sa = association::find_id_by_service_account(&w.clients, &c, "ns", "app").await;
    assert_eq!(by_sa.ok().flatten(), Some(id));
    let none = association::find_id_by_service_account(&w.clients, &c, "ns", "other").await;
    assert_eq!(none.ok(), Some(None));
}

#[tokio::test]
async fn list_reads_every_page() {
    let w = World::new().await;
    let c = w.cluster("pages").await;
    // 100 a page: three pages.
    for i in 0..205 {
        created(&w, &new(&c, "ns", &format!("sa-{i:03}"))).await;
    }
    created(&w, &new(&c, "other", "sa-000")).await;
    let all = association::list(&w.clients, &c, None, None)
        .await
        .unwrap_or_default();
    assert_eq!(all.len(), 206);
    let ids: std::collections::BTreeSet<_> = all
        .iter()
        .filter_map(|a| a.association_id.clone())
        .collect();
    assert_eq!(ids.len(), 206, "no association twice");
    let ns = association::list(&w.clients, &c, Some("ns"), None)
        .await
        .unwrap_or_default();
    assert_eq!(ns.len(), 205);
    let one = association::list(&w.clients, &c, Some("ns"), Some("sa-204"))
        .await
        .unwrap_or_default();
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn a_second_create_finds_the_existing_association() {
    let w = World::new().await;
    let c = w.cluster("dup").await;
    let first = created(&w, &new(&c, "ns", "app")).await;
    let again = association::create(
        &w.ctx(),
        &w.clients,
        &ownership::creating(),
        &new(&c, "ns", "app"),
    )
    .await;
    match again {
        Ok(Created::Existing(a)) => assert_eq!(a.association_id, first.association_id),
        other => panic!("expected the existing association, got {other:?}"),
    }
}

#[tokio::test]
async fn create_waits_out_a_just_deleted_association() {
    let w = World::new().await;
    w.faults(serde_json::json!({"delete_consistency_delay_secs": 1.5}))
        .await;
    let c = w.cluster("tomb").await;
    let first = created(&w, &new(&c, "ns", "app")).await;
    let id = first.association_id.clone().unwrap_or_default();
    association::delete(&w.clients, &ownership::creating(), &c, &id)
        .await
        .expect("deleted");
    let started = std::time::Instant::now();
    let second = created(&w, &new(&c, "ns", "app")).await;
    assert_ne!(second.association_id, first.association_id);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "it retried"
    );
}

#[tokio::test]
async fn update_returns_the_association_as_it_now_is() {
    let w = World::new().await;
    let c = w.cluster("update").await;
    let a = created(&w, &new(&c, "ns", "app")).await;
    let id = a.association_id.clone().unwrap_or_default();
    let change = Settings {
        role_arn: Some("arn:aws:iam::123456789012:role/other".into()),
        disable_session_tags: Some(true),
        ..Default::default()
    };
    let updated = association::update(
        &w.ctx(),
        &w.clients,
        &ownership::creating(),
        &c,
        &id,
        &change,
    )
    .await;
    let updated = updated.expect("updated");
    assert_eq!(updated.settings.role_arn, change.role_arn);
    assert_eq!(updated.settings.disable_session_tags, Some(true));
    let gone = association::update(
        &w.ctx(),
        &w.clients,
        &ownership::creating(),
        &c,
        "a-0000000000000000a",
        &change,
    )
    .await;
    assert!(gone.is_err_and(|e| e.is_not_found()));
}

#[tokio::test]
async fn delete_of_a_gone_association_is_done() {
    let w = World::new().await;
    let c = w.cluster("delete").await;
    let a = created(&w, &new(&c, "ns", "app")).await;
    let id = a.association_id.unwrap_or_default();
    association::delete(&w.clients, &ownership::creating(), &c, &id)
        .await
        .expect("deleted");
    association::delete(&w.clients, &ownership::creating(), &c, &id)
        .await
        .expect("gone is done");
    assert_eq!(
        association::find_by_id(&w.clients, &c, &id).await.ok(),
        Some(None)
    );
}

#[tokio::test]
async fn tags_are_set_and_removed_by_arn() {
    let w = World::new().await;
    let c = w.cluster(&unique("tags")).await;
    let mut n = new(&c, "ns", "app");
    n.tags = [
        ("a".to_string(), "1".to_string()),
        ("b".to_string(), "2".to_string()),
    ]
    .into();
    let a = created(&w, &n).await;
    let arn = a.association_arn.clone().unwrap_or_default();
    let change = TagChange {
        set: [("c".to_string(), "3".to_string())].into(),
        remove: vec!["a".into()],
    };
    tags::apply_to_association(&w.clients, &ownership::creating(), &arn, &change)
        .await
        .expect("tagged");
    tags::apply_to_association(
        &w.clients,
        &ownership::creating(),
        &arn,
        &TagChange::default(),
    )
    .await
    .expect("nothing to do");
    let id = a.association_id.unwrap_or_default();
    let now = association::find_by_id(&w.clients, &c, &id)
        .await
        .ok()
        .flatten();
    let want: Tags = [
        ("b".to_string(), "2".to_string()),
        ("c".to_string(), "3".to_string()),
    ]
    .into();
    assert_eq!(now.map(|a| a.tags), Some(want));
}
