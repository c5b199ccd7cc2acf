//! The list resources (`terraform query`) against the emulator, without
//! an engine (only Terraform >= 1.14 has one; `tests/query.rs` in the
//! acceptance tests runs them live): what is found and left out, the
//! order, filters, every cluster, another region, the limit, and a missing
//! cluster.

use terraform_provider_eks::ownership;
use crate::support::World;
use terraform_provider_eks::aws::eks::addon::{self, NewAddon};
use terraform_provider_eks::aws::eks::association::{self, Created, NewAssociation};
use terraform_provider_eks::resources::addon_pod_identity::AddonPodIdentityList;
use terraform_provider_eks::resources::pod_identity_association::PodIdentityAssociationList;
use tfplugin::{Ctx, Diagnostics, ListEvent, ListRequest, ListResource, ListSink, Value};

const ROLE: &str = "arn:aws:iam::123456789012:role/app";

/// Runs one listing; its events and final diagnostics.
async fn run(
    l: &dyn ListResource,
    ctx: &Ctx,
    config: &[(&str, Value)],
    include: bool,
    limit: i64,
) -> (Vec<ListEvent>, Diagnostics) {
    let mut cfg = Value::Null;
    for (k, v) in config {
        cfg.set(k, v.clone());
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(1000);
    let mut sink = ListSink::new(tx, limit);
    let req = ListRequest {
        config: cfg,
        include_resource_object: include,
        limit,
    };
    let d = l.list(ctx, req, &mut sink).await;
    drop(sink);
    let mut events = vec![];
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    (events, d)
}

fn names(events: &[ListEvent]) -> Vec<&str> {
    events.iter().map(|e| e.display_name.as_str()).collect()
}

async fn associate(w: &World, cluster: &str, ns: &str, sa: &str) -> String {
    let n = NewAssociation {
        cluster: cluster.into(),
        namespace: ns.into(),
        service_account: sa.into(),
        role_arn: Some(ROLE.into()),
        ..Default::default()
    };
    match association::create(&w.ctx(), &w.clients, &ownership::creating(), &n).await {
        Ok(Created::New(a)) => a.association_id.unwrap_or_default(),
        other => panic!("expected a new association, got {other:?}"),
    }
}

async fn install(w: &World, cluster: &str, name: &str, pod_identity: &[(&str, &str)]) {
    let new = NewAddon {
        cluster: cluster.into(),
        name: name.into(),
        pod_identity: (!pod_identity.is_empty()).then(|| {
            pod_identity
                .iter()
                .map(|(sa, r)| (sa.to_string(), r.to_string()))
                .collect()
        }),
        ..Default::default()
    };
    addon::create(&w.ctx(), &w.clients, &new)
        .await
        .expect("CreateAddon");
}

fn s(text: &str) -> Value {
    Value::string(text)
}

#[tokio::test]
async fn associations_sorted_filtered_limited_and_addon_owned_left_out() {
    let w = World::new().await;
    let c = w.cluster("list-a").await;
    associate(&w, &c, "b", "one").await;
    let two = associate(&w, &c, "a", "two").await;
    associate(&w, &c, "a", "zero").await;
    install(
        &w,
        &c,
        "aws-efs-csi-driver",
        &[("efs-csi-controller-sa", ROLE)],
    )
    .await;
    let ctx = w.ctx();
    let l = PodIdentityAssociationList;

    let (all, d) = run(&l, &ctx, &[("cluster_name", s(&c))], false, 100).await;
    assert_eq!(
        names(&all),
        ["list-a: a/two", "list-a: a/zero", "list-a: b/one"]
    );
    assert!(all.iter().all(|e| e.resource_object.is_none()));
    assert_eq!(d.0.len(), 1, "{d:?}");
    assert!(!d.has_errors());
    assert_eq!(d.0[0].summary, "1 addon-owned association(s) left out");
    assert_eq!(
        all[0].identity.get("association_id").as_str(),
        Some(two.as_str())
    );
    assert_eq!(all[0].identity.get("cluster_name").as_str(), Some("list-a"));
    assert!(all[0].identity.get("region").is_null());

    // The state an import gives: cluster, IDs, role, no made role.
    let (objects, _) = run(&l, &ctx, &[("cluster_name", s(&c))], true, 100).await;
    let first = objects[0].resource_object.clone().unwrap_or(Value::Null);
    assert_eq!(first.get("association_id").as_str(), Some(two.as_str()));
    assert_eq!(first.get("role_arn").as_str(), Some(ROLE));
    assert_eq!(first.get("namespace").as_str(), Some("a"));
    assert_eq!(first.get("created_role").as_bool(), Some(false));

    let (ns, _) = run(
        &l,
        &ctx,
        &[("cluster_name", s(&c)), ("namespace", s("a"))],
        false,
        100,
    )
    .await;
    assert_eq!(names(&ns), ["list-a: a/two", "list-a: a/zero"]);
    let (sa, _) = run(
        &l,
        &ctx,
        &[("cluster_name", s(&c)), ("service_account", s("one"))],
        false,
        100,
    )
    .await;
    assert_eq!(names(&sa), ["list-a: b/one"]);
    let (two_only, _) = run(&l, &ctx, &[("cluster_name", s(&c))], true, 2).await;
    assert_eq!(two_only.len(), 2);
}

#[tokio::test]
async fn every_cluster_another_region_and_a_missing_cluster() {
    let w = World::new().await;
    let b = w.cluster("list-b").await;
    let a = w.cluster("list-a").await;
    associate(&w, &b, "ns", "sa").await;
    associate(&w, &a, "ns", "sa").await;
    let west = w.clients.in_region(Some("eu-west-1")).expect("eu-west-1");
    crate::support::create_cluster(&west, "list-far").await;
    let far = NewAssociation {
        cluster: "list-far".into(),
        namespace: "ns".into(),
        service_account: "far".into(),
        role_arn: Some(ROLE.into()),
        ..Default::default()
    };
    association::create(&w.ctx(), &west, &ownership::creating(), &far)
        .await
        .expect("an association in eu-west-1");
    let ctx = w.ctx();
    let l = PodIdentityAssociationList;

    let (all, d) = run(&l, &ctx, &[], false, 100).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(names(&all), ["list-a: ns/sa", "list-b: ns/sa"]);

    let (far_events, d) = run(&l, &ctx, &[("region", s("eu-west-1"))], true, 100).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(names(&far_events), ["list-far: ns/far"]);
    assert_eq!(
        far_events[0].identity.get("region").as_str(),
        Some("eu-west-1")
    );
    let object = far_events[0].resource_object.clone().unwrap_or(Value::Null);
    assert_eq!(object.get("region").as_str(), Some("eu-west-1"));

    // The provider's own region written out is the same as null.
    let (own, _) = run(
        &l,
        &ctx,
        &[("region", s(crate::support::REGION))],
        false,
        100,
    )
    .await;
    assert!(own.iter().all(|e| e.identity.get("region").is_null()));

    let (none, d) = run(&l, &ctx, &[("cluster_name", s("no-such"))], false, 100).await;
    assert!(none.is_empty());
    assert!(d.has_errors());
    assert_eq!(d.0[0].summary, "No such EKS cluster");
    assert_eq!(
        d.0[0].attribute,
        Some(tfplugin::AttrPath::root("cluster_name"))
    );
    // A region of another partition: refused, naming `region`.
    let (_, d) = run(&l, &ctx, &[("region", s("cn-north-1"))], false, 100).await;
    assert!(d.has_errors());
    assert_eq!(d.0[0].attribute, Some(tfplugin::AttrPath::root("region")));
}

#[tokio::test]
async fn addons_all_by_name_and_with_pod_identity_only() {
    let w = World::new().await;
    let c = w.cluster("list-addons").await;
    install(&w, &c, "vpc-cni", &[]).await;
    install(
        &w,
        &c,
        "aws-efs-csi-driver",
        &[("efs-csi-controller-sa", ROLE)],
    )
    .await;
    let ctx = w.ctx();
    let l = AddonPodIdentityList;

    let (all, d) = run(&l, &ctx, &[("cluster_name", s(&c))], false, 100).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        names(&all),
        ["list-addons: aws-efs-csi-driver", "list-addons: vpc-cni"]
    );
    assert_eq!(all[1].identity.get("addon_name").as_str(), Some("vpc-cni"));

    let (only, _) = run(
        &l,
        &ctx,
        &[
            ("cluster_name", s(&c)),
            ("with_pod_identity_only", Value::Bool(true)),
        ],
        true,
        100,
    )
    .await;
    assert_eq!(names(&only), ["list-addons: aws-efs-csi-driver"]);
    let object = only[0].resource_object.clone().unwrap_or(Value::Null);
    let entries = object.get("pod_identity_associations");
    assert_eq!(
        entries.as_list().map(|l| l.len()),
        Some(1),
        "the addon's entries: {object:?}"
    );

    let (named, _) = run(
        &l,
        &ctx,
        &[("cluster_name", s(&c)), ("addon_name", s("vpc-cni"))],
        false,
        100,
    )
    .await;
    assert_eq!(names(&named), ["list-addons: vpc-cni"]);
}
