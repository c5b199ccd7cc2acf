//! `aws::eks::cluster` against the emulator.

use crate::support::{ACCOUNT, World};
use std::time::Duration;
use terraform_provider_eks::aws::eks::addon::{self, AGENT_ADDON, NewAddon};
use terraform_provider_eks::aws::eks::cluster;

#[tokio::test]
async fn find_by_name_reads_our_view_of_the_cluster() {
    let w = World::new().await;
    assert_eq!(
        cluster::find_by_name(&w.clients, "nope").await.ok(),
        Some(None)
    );
    assert_eq!(
        cluster::find_arn_by_name(&w.clients, "nope").await.ok(),
        Some(None)
    );
    let c = w.cluster("facts").await;
    let found = cluster::find_by_name(&w.clients, &c)
        .await
        .ok()
        .flatten()
        .expect("found");
    assert_eq!(found.name, c);
    assert_eq!(found.account(), ACCOUNT);
    assert!(found.version.is_some());
    assert!(found.endpoint.is_some());
    assert!(found.ca_data.is_some());
    assert!(found.oidc_issuer.is_some());
    assert!(!found.auto_mode);
    let arn = cluster::find_arn_by_name(&w.clients, &c)
        .await
        .ok()
        .flatten();
    assert_eq!(arn, found.arn);
}

#[tokio::test]
async fn the_agent_check_is_asked_once_per_cluster() {
    let w = World::new().await;
    assert_eq!(
        cluster::find_agent_by_cluster(&w.clients, "nope")
            .await
            .ok(),
        Some(None)
    );
    let c = w.cluster("agent").await;
    assert_eq!(
        cluster::find_agent_by_cluster(&w.clients, &c).await.ok(),
        Some(Some(false))
    );
    install_agent(&w, &c).await;
    // The answer is remembered for the process (a plan asks once).
    assert_eq!(
        cluster::find_agent_by_cluster(&w.clients, &c).await.ok(),
        Some(Some(false))
    );
    // A cluster that has the agent when first asked.
    let with_agent = w.cluster("with-agent").await;
    install_agent(&w, &with_agent).await;
    let answer = cluster::find_agent_by_cluster(&w.clients, &with_agent).await;
    assert_eq!(answer.ok(), Some(Some(true)));
}

async fn install_agent(w: &World, c: &str) {
    let new = NewAddon {
        cluster: c.to_string(),
        name: AGENT_ADDON.into(),
        ..Default::default()
    };
    addon::create(&w.ctx(), &w.clients, &new)
        .await
        .expect("created");
    addon::wait_active(
        &w.ctx(),
        &w.clients,
        c,
        AGENT_ADDON,
        Duration::from_secs(60),
    )
    .await
    .expect("ACTIVE");
}
