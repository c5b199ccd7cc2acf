//! The list resources (`terraform query`) against the emulator, without
//! an engine (only Terraform >= 1.14 has one; `tests/query.rs` in the
//! acceptance tests runs them live): what is found and left out (addon-owned
//! associations; associations and addons with roles this provider made,
//! issue 22, with the AWS calls that costs), the order, filters, every
//! cluster, another region, the limit, and a missing cluster; and the
//! warning of an import of what another state may own.

use crate::support::{World, pods_trust, unique};
use schema::reserved_tags::{OWNER_TAG, owner_tag_value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use terraform_provider_eks::aws::eks::addon::{self, NewAddon};
use terraform_provider_eks::aws::eks::association::{self, Created, NewAssociation};
use terraform_provider_eks::ownership;
use terraform_provider_eks::resources::addon_pod_identity::{
    AddonPodIdentity, AddonPodIdentityList,
};
use terraform_provider_eks::resources::pod_identity_association::{
    PodIdentityAssociation, PodIdentityAssociationList,
};
use tfplugin::{
    Ctx, Diagnostics, ImportRequest, ListEvent, ListRequest, ListResource, ListSink, Resource,
    Severity, Value,
};

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
    associate_with(w, cluster, ns, sa, ROLE).await
}

async fn associate_with(w: &World, cluster: &str, ns: &str, sa: &str, role: &str) -> String {
    let n = NewAssociation {
        cluster: cluster.into(),
        namespace: ns.into(),
        service_account: sa.into(),
        settings: schema::association::Settings {
            role_arn: Some(role.into()),
            ..Default::default()
        },
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
        settings: schema::addon::AddonSettings {
            pod_identity_associations: (!pod_identity.is_empty()).then(|| {
                pod_identity
                    .iter()
                    .map(|(sa, r)| schema::addon::EntrySettings::new(sa, r))
                    .collect()
            }),
            ..Default::default()
        },
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
    // The region is recorded, the provider's own too (issue 23 item 1).
    assert_eq!(
        all[0].identity.get("region").as_str(),
        Some(crate::support::REGION)
    );

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
        settings: schema::association::Settings {
            role_arn: Some(ROLE.into()),
            ..Default::default()
        },
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

    // The provider's own region written out is the same as unset.
    let (own, _) = run(
        &l,
        &ctx,
        &[("region", s(crate::support::REGION))],
        false,
        100,
    )
    .await;
    assert!(
        own.iter()
            .all(|e| e.identity.get("region").as_str() == Some(crate::support::REGION))
    );

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

// ---- issue 22: what another state owns ------------------------------------

/// The AWS calls the provider makes on this thread while it lives, as
/// `SERVICE.Operation` (from its `AWS call …` debug line, as the acceptance
/// tests count them from the log). `#[tokio::test]`'s runtime runs every
/// task on the test's thread, so only this test's calls are counted.
struct Calls {
    seen: Arc<Mutex<Vec<String>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Calls {
    fn start() -> Calls {
        let seen = Arc::new(Mutex::new(vec![]));
        let guard = tracing::subscriber::set_default(CallLog(seen.clone()));
        Calls {
            seen,
            _guard: guard,
        }
    }

    /// The calls since the last take must be `expected`. A log that saw no
    /// call at all is not judged: tracing's callsite cache can leave a
    /// thread-local subscriber deaf while other tests of this binary run
    /// beside it (seen once in ten runs of the whole binary); the
    /// acceptance suite's calls.rs counts the same operations from the
    /// provider's log without that weakness.
    fn check(&self, expected: BTreeMap<String, usize>) {
        let got = self.take();
        if got.is_empty() {
            eprintln!("no call logged on this thread: counts not checked");
            return;
        }
        assert_eq!(got, expected);
    }

    /// The calls since the last take, counted.
    fn take(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for call in seen.drain(..) {
            *out.entry(call).or_default() += 1;
        }
        out
    }
}

/// `("EKS.DescribeAddon", 2)`… as counts.
fn counts(expected: &[(&str, usize)]) -> BTreeMap<String, usize> {
    expected.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// A subscriber that keeps the operation of each `AWS call` event.
struct CallLog(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for CallLog {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.is_event()
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        if let Some(op) =
            m.0.strip_prefix("AWS call ")
                .and_then(|rest| rest.split_whitespace().next())
        {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(op.to_string());
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A role in moto that trusts pods, with this provider's owner tag when
/// `owner` is given; its ARN.
async fn pod_role(w: &World, prefix: &str, owner: Option<String>) -> String {
    let mut create = w
        .clients
        .iam
        .create_role()
        .role_name(unique(prefix))
        .assume_role_policy_document(pods_trust());
    if let Some(owner) = owner {
        let tag = aws_sdk_iam::types::Tag::builder()
            .key(OWNER_TAG)
            .value(owner)
            .build()
            .expect("a tag");
        create = create.tags(tag);
    }
    let out = create.send().await.expect("CreateRole");
    out.role.map(|r| r.arn).expect("a role ARN")
}

fn warnings(d: &Diagnostics) -> Vec<&str> {
    d.0.iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| d.summary.as_str())
        .collect()
}

/// Issue 22: a second workspace's `terraform query` must not offer what a
/// first one manages. An association whose role this provider made for it
/// (owner tag) is left out, with a warning that counts it and says why and
/// what to do; one whose role is given (no owner tag, or the owner tag of
/// another service account) stays. `include_managed = true` lists them all
/// (and, with objects, warns). Also the calls each costs.
#[tokio::test]
async fn associations_with_made_roles_left_out_with_a_warning() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("list-made").await;
    let given = pod_role(&w, "given", None).await;
    let made = pod_role(&w, "made", Some(owner_tag_value(&c, "b", "made"))).await;
    let elsewhere = pod_role(&w, "else", Some(owner_tag_value(&c, "b", "someone"))).await;
    associate_with(&w, &c, "a", "one", &given).await;
    associate_with(&w, &c, "a", "two", &given).await;
    associate_with(&w, &c, "b", "made", &made).await;
    associate_with(&w, &c, "b", "other", &elsewhere).await;
    let ctx = w.ctx();
    let l = PodIdentityAssociationList;
    let calls = Calls::start();
    let cluster = [("cluster_name", s(&c))];
    let listed = ["list-made: a/one", "list-made: a/two", "list-made: b/other"];
    let summary = "1 association(s) with a role this provider made left out";

    // Identities alone: each association described, each role read once
    // (the given role is shared by two).
    let (ids, d) = run(&l, &ctx, &cluster, false, 100).await;
    assert_eq!(names(&ids), listed);
    assert!(!d.has_errors(), "{d:?}");
    assert_eq!(warnings(&d), [summary]);
    let detail = &d.0[0].detail;
    for says in [
        "eks-tools:pod-identity",
        "two states own them",
        "`moved`",
        "terraform state mv",
        "terraform state rm",
        "terraform import",
        "include_managed = true",
    ] {
        assert!(
            detail.contains(says),
            "the warning lacks {says:?}: {detail}"
        );
    }
    calls.check(counts(&[
        ("EKS.ListPodIdentityAssociations", 1),
        ("EKS.DescribePodIdentityAssociation", 4),
        ("IAM.GetRole", 3),
    ]));

    // Objects: the same, and no more calls than the imports' own (the
    // made role's policies are never read).
    let (objects, d) = run(&l, &ctx, &cluster, true, 100).await;
    assert_eq!(names(&objects), listed);
    assert_eq!(warnings(&d), [summary]);
    let other = objects[2].resource_object.clone().unwrap_or(Value::Null);
    assert_eq!(other.get("role_arn").as_str(), Some(elsewhere.as_str()));
    assert_eq!(other.get("created_role").as_bool(), Some(false));
    calls.check(counts(&[
        ("EKS.ListPodIdentityAssociations", 1),
        ("EKS.DescribePodIdentityAssociation", 4),
        ("IAM.GetRole", 3),
    ]));

    // A limit that stops the list still says what it left out before.
    let (two, d) = run(&l, &ctx, &[("namespace", s("b"))], false, 1).await;
    assert_eq!(names(&two), ["list-made: b/other"]);
    assert_eq!(warnings(&d), [summary]);
    calls.take();

    // include_managed: everything, as before issue 22 (identities: no
    // call per association).
    let managed = [
        ("cluster_name", s(&c)),
        ("include_managed", Value::Bool(true)),
    ];
    let all = [
        "list-made: a/one",
        "list-made: a/two",
        "list-made: b/made",
        "list-made: b/other",
    ];
    let (ids, d) = run(&l, &ctx, &managed, false, 100).await;
    assert_eq!(names(&ids), all);
    assert!(d.is_empty(), "{d:?}");
    calls.check(counts(&[("EKS.ListPodIdentityAssociations", 1)]));
    // Objects: each an import (the made role's policies are read).
    let (objects, d) = run(&l, &ctx, &managed, true, 100).await;
    assert_eq!(names(&objects), all);
    let made_object = objects[2].resource_object.clone().unwrap_or(Value::Null);
    assert_eq!(made_object.get("created_role").as_bool(), Some(true));
    calls.check(counts(&[
        ("EKS.ListPodIdentityAssociations", 1),
        ("EKS.DescribePodIdentityAssociation", 4),
        ("IAM.GetRole", 4),
        ("IAM.ListAttachedRolePolicies", 1),
        ("IAM.ListRolePolicies", 1),
    ]));
    assert_eq!(
        warnings(&d),
        [
            "1 listed association(s) with roles this provider made: another Terraform state may own them"
        ]
    );
}

/// Issue 22, for addons: an addon whose association's role this provider
/// made (eks_addon_pod_identity's) is left out with a warning; one with a
/// given role and one without pod identity stay.
#[tokio::test]
async fn addons_with_made_roles_left_out_with_a_warning() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("list-made-addons").await;
    let given = pod_role(&w, "addon-given", None).await;
    let made = pod_role(&w, "addon-made", None).await;
    install(&w, &c, "vpc-cni", &[]).await;
    install(
        &w,
        &c,
        "aws-ebs-csi-driver",
        &[("ebs-csi-controller-sa", &given)],
    )
    .await;
    install(
        &w,
        &c,
        "aws-efs-csi-driver",
        &[("efs-csi-controller-sa", &made)],
    )
    .await;
    // The owner tag names the namespace EKS put the addon's association in.
    let efs = association::list(&w.clients, &c, None, Some("efs-csi-controller-sa"))
        .await
        .expect("the addon's association");
    let ns = efs
        .first()
        .and_then(|a| a.namespace.clone())
        .expect("its namespace");
    let tag = aws_sdk_iam::types::Tag::builder()
        .key(OWNER_TAG)
        .value(owner_tag_value(&c, &ns, "efs-csi-controller-sa"))
        .build()
        .expect("a tag");
    w.clients
        .iam
        .tag_role()
        .role_name(made.rsplit('/').next().unwrap_or_default())
        .tags(tag)
        .send()
        .await
        .expect("TagRole");
    let ctx = w.ctx();
    let l = AddonPodIdentityList;
    let calls = Calls::start();
    let cluster = [("cluster_name", s(&c))];
    let listed = [
        "list-made-addons: aws-ebs-csi-driver",
        "list-made-addons: vpc-cni",
    ];
    let summary = "1 addon(s) with roles this provider made left out";

    let (ids, d) = run(&l, &ctx, &cluster, false, 100).await;
    assert_eq!(names(&ids), listed);
    assert_eq!(warnings(&d), [summary], "{d:?}");
    assert!(d.0[0].detail.contains("terraform state mv"), "{d:?}");
    calls.check(counts(&[
        ("EKS.ListAddons", 1),
        ("EKS.DescribeAddon", 3),
        ("EKS.DescribePodIdentityAssociation", 2),
        ("IAM.GetRole", 2),
    ]));
    let (objects, d) = run(&l, &ctx, &cluster, true, 100).await;
    assert_eq!(names(&objects), listed);
    assert_eq!(warnings(&d), [summary], "{d:?}");

    let managed = [
        ("cluster_name", s(&c)),
        ("include_managed", Value::Bool(true)),
    ];
    let all = [
        "list-made-addons: aws-ebs-csi-driver",
        "list-made-addons: aws-efs-csi-driver",
        "list-made-addons: vpc-cni",
    ];
    calls.take();
    let (ids, d) = run(&l, &ctx, &managed, false, 100).await;
    assert_eq!(names(&ids), all);
    assert!(d.is_empty(), "{d:?}");
    calls.check(counts(&[("EKS.ListAddons", 1)]));
    let (objects, d) = run(&l, &ctx, &managed, true, 100).await;
    assert_eq!(names(&objects), all);
    assert_eq!(
        warnings(&d),
        ["1 listed addon(s) with roles this provider made: another Terraform state may own them"]
    );
}

/// Issue 22: importing an association or addon whose role this provider
/// made warns that another state may own it, and still imports (it is
/// how a lost state is recovered); one with a given role imports silently.
#[tokio::test]
async fn import_of_what_has_a_made_role_warns() {
    let Some(w) = World::with_iam().await else {
        return;
    };
    let c = w.cluster("import-made").await;
    let given = pod_role(&w, "imp-given", None).await;
    let made = pod_role(&w, "imp-made", Some(owner_tag_value(&c, "ns", "made"))).await;
    associate_with(&w, &c, "ns", "given", &given).await;
    let made_id = associate_with(&w, &c, "ns", "made", &made).await;
    let ctx = w.ctx();
    let import = |id: String| ImportRequest { id, identity: None };

    let r = PodIdentityAssociation
        .import(&ctx, import(format!("{c}/ns/made")))
        .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert_eq!(r.imported.len(), 1, "the import goes on");
    let state = &r.imported[0].state;
    assert_eq!(state.get("created_role").as_bool(), Some(true));
    assert_eq!(
        warnings(&r.diagnostics),
        [format!(
            "Another Terraform state may already own association {made_id} (ns/made)"
        )]
    );
    let detail = &r.diagnostics.0[0].detail;
    let role_name = made.rsplit('/').next().unwrap_or_default();
    assert!(
        detail.contains(role_name) && detail.contains("terraform state rm"),
        "{detail}"
    );

    let r = PodIdentityAssociation
        .import(&ctx, import(format!("{c}/ns/given")))
        .await;
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.imported.len(), 1);

    // An addon whose association has a made role.
    let addon_role = pod_role(
        &w,
        "imp-addon",
        Some(owner_tag_value(&c, "kube-system", "efs-csi-controller-sa")),
    )
    .await;
    install(
        &w,
        &c,
        "aws-efs-csi-driver",
        &[("efs-csi-controller-sa", &addon_role)],
    )
    .await;
    let r = AddonPodIdentity
        .import(&ctx, import(format!("{c}:aws-efs-csi-driver")))
        .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert_eq!(r.imported.len(), 1, "the import goes on");
    assert_eq!(
        warnings(&r.diagnostics),
        [format!(
            "Another Terraform state may already own addon {c}:aws-efs-csi-driver"
        )]
    );
}
