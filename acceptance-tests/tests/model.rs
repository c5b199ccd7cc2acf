//! Model-based test of the ownership rules (issue 22, item 5), the way
//! storage engines and distributed systems test their invariants: a seeded
//! random driver runs sequences of steps with the real terraform binary in
//! two workspaces against a small world — two clusters in two regions
//! (us-east-1, the provider's, and us-west-2 through the resource's
//! `region`), three service accounts — and after every step checks, with its
//! own AWS client and each workspace's `terraform show -json`:
//!
//! - **I1**: no association ID or made role is recorded by two resources,
//!   in one workspace or in two;
//! - **I2**: what no resource made (the test's given and foreign roles, the
//!   associations it made itself) is never changed or deleted: trust policy,
//!   boundary, attached and inline policies (names and documents) and tags
//!   are compared byte for byte with what they were when the test made them;
//! - **I3**: once every workspace is destroyed at the end of a sequence
//!   (faults cleared; a destroy may be retried once), no role made during the
//!   sequence carries an `eks-tools:` tag, and the sequence's clusters hold no
//!   association but the test's own and no addon;
//! - **I4**: the plan right after a successful apply is empty;
//! - **I5**: every failure is a diagnostic: no command prints "panicked",
//!   "Provider produced inconsistent result", "Plugin did not respond" or
//!   "rpc error" (the apply killed on purpose aside).
//!
//! Steps: apply, plan, destroy, import (of an association no state records),
//! `state rm`, config edits (add, remove, given↔made role, policies,
//! `role_name` — derived, from a pool the configs share, or a foreign role's
//! name —, move a resource to the other workspace, the addon on or off, an
//! `eks_pod_identity_role` on or off — named from the same pool, a foreign
//! role's name or its own — and associations using it by `role_arn`),
//! out-of-band edits (delete an association or a made role, edit a made
//! role's trust, add an inline policy to it, create a foreign role or an
//! association), applies under faults (throttling, 5xx, lost answers,
//! latency) and applies whose provider (sometimes terraform too) is
//! SIGKILLed. A kill is followed by a recovery apply, as a user would: it
//! runs the imports its errors advise and applies again once the creation
//! lease (`EKS_POD_IDENTITY_LEASE_SECONDS=10` in the workspaces) has run
//! out. An apply may fail (a config that claims someone else's role or
//! service account is refused): failures are fine while I1–I5 hold. What
//! `state rm` released is the user's to delete, so the test deletes it
//! before it checks I3.
//!
//! Budget and replay: with `EKS_MODEL=1` (CI sets it on one engine's run),
//! the seeds of [`DEFAULT_SEEDS`], [`STEPS`] steps each;
//! `EKS_MODEL_SEEDS=N` runs seeds 1 to N, `EKS_MODEL_SEED=S` replays one,
//! `EKS_MODEL_STEPS` sets the length. Each sequence has fresh clusters and
//! random names. A failing sequence reports its seed, its numbered steps
//! (with what each did) and the replay command; the other seeds still run,
//! and the test fails at the end with every report and a summary of counts
//! (`-- --nocapture` shows the summary of a passing run). A replay draws the
//! same steps as long as the cloud answers the same; a kill comes after the
//! same time, not always in the same call.
//!
//! What it owns: the generator, the model of the two configs, the checks.
//! Not: the harness, the provider, the emulator. Faults hit the whole
//! emulator and the kill step kills processes, so this binary has one test,
//! which runs one sequence at a time, and only processes whose working
//! directory is one of its workspaces are ever signalled.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap, engine, random_name};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// The seeds CI runs: fixed, so a run is reproducible. Chosen from
/// `EKS_MODEL_SEEDS=40` for what they reached before the shared role joined
/// the model (a foreign role's name, a role for a service account another
/// workspace has, a kill between the role's and the association's pending
/// markers, faults, moves, `state rm`, import); the draws changed with it,
/// so `EKS_MODEL_SEEDS=N` is the way to explore (16 seeds: 0 failures, a
/// shared role in 9 of them, one under a foreign role's name).
const DEFAULT_SEEDS: [u64; 5] = [11, 19, 22, 31, 38];
/// Steps per sequence, before the final destroy.
const STEPS: usize = 12;
const WEST: &str = "us-west-2";
/// The provider's region (the world's `AWS_REGION`).
const EAST: &str = "us-east-1";
const NAMESPACE: &str = "default";
const SERVICE_ACCOUNTS: [&str; 3] = ["app-a", "app-b", "app-c"];
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const CNI: &str = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
const ASSOCIATION: &str = "eks_pod_identity_association";
/// The shared role resource (issue 25): one per workspace at most.
const SHARED_ROLE: &str = "eks_pod_identity_role";
/// What a diagnostic never says (I5).
const NOT_DIAGNOSTICS: [&str; 4] = [
    "panicked",
    "Provider produced inconsistent result",
    "Plugin did not respond",
    "rpc error",
];
/// The creation lease the workspaces ask of the provider
/// (`EKS_POD_IDENTITY_LEASE_SECONDS`; its default is 120 s).
const LEASE_SECONDS: u64 = 10;
/// The kernel's 15-character command name of `terraform-provider-eks`.
const PROVIDER_COMM: &str = "terraform-provi";
/// The faults an apply may run under: the step's kind and the emulator's
/// settings (a seed is added).
const FAULTS: [(&str, &str); 4] = [
    ("apply under throttling", r#"{"throttle_rate": 0.3}"#),
    ("apply under 5xx", r#"{"error_5xx_rate": 0.15}"#),
    (
        "apply under lost answers",
        r#"{"error_5xx_after_rate": 0.3}"#,
    ),
    ("apply under latency", r#"{"latency_ms": 300}"#),
];
/// The out-of-band edits of a made role.
const ROLE_EDITS: [&str; 3] = [
    "delete made role",
    "take sts:TagSession out of made role's trust",
    "add inline policy to made role",
];
const ALLOW_ALL: &str = r#"{"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;
/// A pod identity trust policy without the `sts:TagSession` it needs.
const TRUST_WITHOUT_TAG_SESSION: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect":
    "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
const APPLY: [&str; 4] = ["apply", "-auto-approve", "-input=false", "-no-color"];
const PLAN: [&str; 4] = ["plan", "-input=false", "-no-color", "-detailed-exitcode"];
const DESTROY: [&str; 4] = ["destroy", "-auto-approve", "-input=false", "-no-color"];

// ---- the model ----------------------------------------------------------------

/// Where an association goes: the cluster (by region) and service account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Slot {
    west: bool,
    sa: usize,
}

impl Slot {
    fn label(self) -> String {
        format!("{}_{}", side(self.west), self.sa)
    }

    fn address(self) -> String {
        format!("{ASSOCIATION}.{}", self.label())
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let sa = SERVICE_ACCOUNTS[self.sa];
        write!(f, "{}/{sa}", side(self.west))
    }
}

fn side(west: bool) -> &'static str {
    if west { "west" } else { "east" }
}

/// An association's role: one of the test's given roles (`role_arn`) or a
/// made one; the addon's single entry is always made (with [`Policies::Cni`]).
#[derive(Clone, Copy, Debug, PartialEq)]
enum RoleSpec {
    Given(usize),
    Made(Policies, Name),
    /// The workspace's `eks_pod_identity_role` (`role_arn` = its ARN).
    Shared,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Policies {
    CertManager,
    ReadOnly,
    ReadOnlyCni,
    Cni,
}

/// A made role's `role_name`: derived (absent), one of two names the
/// sequence's configs share, or the name of one of the test's foreign roles.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Name {
    Derived,
    Pool(usize),
    Foreign(usize),
}

impl fmt::Display for RoleSpec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RoleSpec::Given(i) => write!(f, "given#{i}"),
            RoleSpec::Made(p, Name::Derived) => write!(f, "made({p:?})"),
            RoleSpec::Made(p, Name::Pool(i)) => write!(f, "made({p:?}, role_name=pool#{i})"),
            RoleSpec::Made(p, Name::Foreign(i)) => write!(f, "made({p:?}, role_name=foreign#{i})"),
            RoleSpec::Shared => write!(f, "shared"),
        }
    }
}

/// One workspace: its terraform directory and the model of its config.
struct Workspace {
    tf: Tf,
    assocs: BTreeMap<Slot, RoleSpec>,
    /// vpc-cni on the east cluster, its aws-node entry on a made role.
    addon: Option<Name>,
    /// An `eks_pod_identity_role` and its name (derived: the workspace's
    /// own, `<token>-s<ws>`).
    shared: Option<Name>,
    /// `terraform show -json`, read again after any command here.
    state: Option<Value>,
    /// A kill hit its last apply: the next step applies again.
    needs_recovery: bool,
    /// The config is written in another form that means the same (I6):
    /// the provider's region written out, policy lists in another order.
    equivalent: bool,
}

/// A role or an association the test made, and what it was then (I2).
struct Protected {
    /// "given role", "foreign role" or "association".
    kind: &'static str,
    /// The role's name or the association's ID.
    name: String,
    /// The role's ARN (empty for an association).
    arn: String,
    /// Whether the association is in the west cluster.
    west: bool,
    snapshot: String,
}

/// What a state records for one resource (or addon entry).
struct Recorded {
    address: String,
    west: bool,
    association: Option<String>,
    made_role: Option<String>,
}

/// Counts over all sequences, for the closing summary.
#[derive(Default)]
struct Stats {
    sequences: usize,
    steps: usize,
    kinds: BTreeMap<&'static str, usize>,
    applies: usize,
    failed_applies: usize,
    kills: usize,
    /// Recovery applies after a kill, and how many converged at once (no
    /// import, no second apply: issue 22's "one re-apply converges").
    recoveries: usize,
    recovered_at_once: usize,
}

/// What one terraform command did.
struct Outcome {
    code: Option<i32>,
    output: String,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// `ok`, or the first error line.
    fn summary(&self) -> String {
        if self.ok() {
            return "ok".into();
        }
        let mut lines = self
            .output
            .lines()
            .map(|l| l.trim_start_matches(['│', ' ']));
        let error = lines.find(|l| l.starts_with("Error"));
        format!("failed: {}", error.unwrap_or("(no error line)"))
    }
}

/// What a step did: `Ok` the note for the step list, `Err` a violation.
type Done = Result<String, String>;

// ---- a sequence -----------------------------------------------------------------

struct Sequence<'a> {
    w: &'static World,
    seed: u64,
    rng: StdRng,
    /// The east (the provider's region) and west clusters.
    clusters: [String; 2],
    /// Prefix of the test's role names and of the shared `role_name` pool.
    token: String,
    given: Vec<Protected>,
    foreign: Vec<Protected>,
    associations: Vec<Protected>,
    /// What `state rm` released: the user's to clean up, not the provider's.
    released: Vec<Recorded>,
    roles_before: BTreeSet<String>,
    ws: Vec<Workspace>,
    /// The west cluster was deleted before the final destroy.
    west_deleted: bool,
    steps: usize,
    log: &'a mut Vec<String>,
    stats: &'a mut Stats,
}

impl<'a> Sequence<'a> {
    fn new(w: &'static World, seed: u64, log: &'a mut Vec<String>, stats: &'a mut Stats) -> Self {
        let roles_before = w.list_roles().into_iter().collect();
        let (token, west) = (random_name(), random_name());
        let east = w.new_cluster();
        w.create_cluster_in(WEST, &west);
        let workspace = || {
            let mut tf = Tf::new(w);
            tf.set_env("EKS_POD_IDENTITY_LEASE_SECONDS", &LEASE_SECONDS.to_string());
            let (assocs, addon, state) = (BTreeMap::new(), None, None);
            Workspace {
                tf,
                assocs,
                addon,
                shared: None,
                state,
                needs_recovery: false,
                equivalent: false,
            }
        };
        let mut s = Sequence {
            w,
            seed,
            rng: StdRng::seed_from_u64(seed),
            clusters: [east, west],
            given: (0..2)
                .map(|i| test_role(w, "given role", &format!("{token}-g{i}")))
                .collect(),
            foreign: vec![test_role(w, "foreign role", &format!("{token}-f0"))],
            token,
            associations: Vec::new(),
            released: Vec::new(),
            roles_before,
            ws: vec![workspace(), workspace()],
            west_deleted: false,
            steps: 0,
            log,
            stats,
        };
        // Up to two resources in ws0 and one in ws1 (no slot in both),
        // mostly on given roles; half the time a shared role in ws0.
        let mut configs = Vec::new();
        if s.rng.random_bool(0.5) {
            s.ws[0].shared = Some(s.random_name(25));
        }
        for (ws, count) in [(0, 2), (1, 1)] {
            for _ in 0..count {
                let (slot, spec) = (s.random_slot(), s.random_spec(ws));
                if !s.ws.iter().any(|w| w.assocs.contains_key(&slot)) {
                    s.ws[ws].assocs.insert(slot, spec);
                }
            }
            configs.push(s.write_config(ws));
        }
        let ([east, west], token) = (&s.clusters, &s.token);
        let (configs, west_region) = (configs.join("; "), WEST);
        s.log.push(format!(
            "setup: clusters east {east}, west {west} ({west_region}); roles given#i {token}-gi, \
             foreign#i {token}-fi, role_name pool#i {token}-ri; {configs}"
        ));
        s
    }

    fn run(&mut self, steps: usize) -> Result<(), String> {
        while self.steps < steps {
            let Some(done) = self.step() else {
                continue;
            };
            self.note(done.as_ref().map_or("violation", String::as_str));
            done?;
            self.check()?;
        }
        self.finish()
    }

    /// Logs the step about to run (numbered) and counts its kind.
    fn begin(&mut self, ws: Option<usize>, kind: &'static str, detail: &str) {
        self.steps += 1;
        self.stats.steps += 1;
        *self.stats.kinds.entry(kind).or_default() += 1;
        let (n, who) = (
            self.steps,
            ws.map_or("out of band".into(), |ws| format!("ws{ws}")),
        );
        self.log.push(format!("{n:2}. {who}: {kind}{detail}"));
    }

    /// Appends an outcome to the last line of the step list.
    fn note(&mut self, note: &str) {
        if let Some(last) = self.log.last_mut() {
            last.push_str(&format!("  → {note}"));
        }
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.rng.random_range(0..items.len())].clone())
    }

    fn random_slot(&mut self) -> Slot {
        let (west, sa) = (self.rng.random_bool(0.4), self.rng.random_range(0..3));
        Slot { west, sa }
    }

    /// A slot `ws`'s config does not use (there are six; configs hold few).
    fn free_slot(&mut self, ws: usize) -> Slot {
        loop {
            let slot = self.random_slot();
            if !self.ws[ws].assocs.contains_key(&slot) {
                return slot;
            }
        }
    }

    fn random_name(&mut self, foreign_percent: u32) -> Name {
        let roll = self.rng.random_range(0..100);
        if roll < foreign_percent {
            Name::Foreign(self.rng.random_range(0..self.foreign.len()))
        } else if roll < foreign_percent + 25 {
            Name::Pool(self.rng.random_range(0..2))
        } else {
            Name::Derived
        }
    }

    fn random_policies(&mut self) -> Policies {
        match self.rng.random_range(0..3) {
            0 => Policies::CertManager,
            1 => Policies::ReadOnly,
            _ => Policies::ReadOnlyCni,
        }
    }

    /// An association's role in `ws`: given, made, or (a quarter of the
    /// time, when `ws` has one) the shared role.
    fn random_spec(&mut self, ws: usize) -> RoleSpec {
        if self.ws[ws].shared.is_some() && self.rng.random_bool(0.25) {
            RoleSpec::Shared
        } else if self.rng.random_bool(0.55) {
            RoleSpec::Given(self.rng.random_range(0..self.given.len()))
        } else {
            RoleSpec::Made(self.random_policies(), self.random_name(15))
        }
    }

    // ---- steps ----------------------------------------------------------------

    /// Draws a step, logs it and runs it; `None` when the kind drawn has
    /// nothing to act on (then the caller draws again).
    fn step(&mut self) -> Option<Done> {
        if let Some(ws) = self.ws.iter().position(|w| w.needs_recovery) {
            let detail = " (if it fails: the imports it advises, and again after the lease)";
            self.begin(Some(ws), "recovery apply", detail);
            return Some(self.recover(ws));
        }
        let ws = self.rng.random_range(0..2);
        Some(match self.rng.random_range(0..100) {
            0..20 => {
                self.begin(Some(ws), "apply", "");
                self.apply(ws, None)
            }
            20..25 => {
                self.begin(Some(ws), "plan", "");
                let out = self.terraform(ws, &PLAN);
                let notes = |out: Outcome| match out.code {
                    Some(0) => "empty".into(),
                    Some(2) => "changes".into(),
                    _ => out.summary(),
                };
                out.map(notes)
            }
            25..30 => {
                self.begin(Some(ws), "destroy", "");
                self.terraform(ws, &DESTROY).map(|out| out.summary())
            }
            30..37 => return self.import(),
            37..42 => return self.state_rm(ws),
            42..67 => return self.edit(ws),
            67..80 => return self.out_of_band(),
            80..92 => {
                let (kind, faults) = FAULTS[self.rng.random_range(0..FAULTS.len())];
                let mut faults: Value = serde_json::from_str(faults).expect("FAULTS are JSON");
                faults["seed"] = self.rng.random_range(0..1000).into();
                self.begin(Some(ws), kind, &format!(" {faults}"));
                self.apply(ws, Some(&faults))
            }
            _ => {
                let (terraform, ms) =
                    (self.rng.random_bool(0.3), self.rng.random_range(1000..5000));
                let kind = ["kill provider", "kill provider+terraform"][usize::from(terraform)];
                let detail = format!(": apply with EKS latency 700 ms, SIGKILL after {ms} ms");
                self.begin(Some(ws), kind, &detail);
                self.kill_apply(ws, terraform, Duration::from_millis(ms))
            }
        })
    }

    fn edit(&mut self, ws: usize) -> Option<Done> {
        let slots: Vec<Slot> = self.ws[ws].assocs.keys().copied().collect();
        let roll = self.rng.random_range(0..100);
        let slot = match self.pick(&slots) {
            Some(slot) if roll >= 18 => slot,
            _ => {
                let (slot, spec) = (self.free_slot(ws), self.random_spec(ws));
                return Some(self.put(ws, "edit: add", slot, Some(spec)));
            }
        };
        let other = 1 - ws;
        Some(match (roll, self.ws[ws].assocs[&slot]) {
            (18..42, RoleSpec::Given(_)) => {
                let spec = RoleSpec::Made(self.random_policies(), self.random_name(50));
                self.put(ws, "edit: given→made", slot, Some(spec))
            }
            (18..42, RoleSpec::Made(..) | RoleSpec::Shared) => {
                let spec = RoleSpec::Given(self.rng.random_range(0..self.given.len()));
                self.put(ws, "edit: made→given", slot, Some(spec))
            }
            (42..55, RoleSpec::Made(old, name)) => {
                let new = self.random_policies();
                let spec = (new != old).then_some(RoleSpec::Made(new, name))?;
                self.put(ws, "edit: policies", slot, Some(spec))
            }
            (55..68, RoleSpec::Made(policies, old)) => {
                let new = self.random_name(40);
                let spec = (new != old).then_some(RoleSpec::Made(policies, new))?;
                self.put(ws, "edit: role_name", slot, Some(spec))
            }
            (68..80, spec) if !self.ws[other].assocs.contains_key(&slot) => {
                self.begin(Some(ws), "edit: move", &format!(" {slot} to ws{other}"));
                self.ws[ws].assocs.remove(&slot);
                // The other workspace's config may have no shared role.
                let spec = match spec {
                    RoleSpec::Shared if self.ws[other].shared.is_none() => RoleSpec::Given(0),
                    spec => spec,
                };
                self.ws[other].assocs.insert(slot, spec);
                let (this, that) = (self.write_config(ws), self.write_config(other));
                Ok(format!("{this}; {that}"))
            }
            (80..86, _) => self.put(ws, "edit: remove", slot, None),
            (86..94, _) => self.edit_shared(ws, slot),
            (94.., _) => {
                let addon = match self.ws[ws].addon {
                    Some(_) => None,
                    None => Some(self.random_name(25)),
                };
                let entry = addon.map(|name| RoleSpec::Made(Policies::Cni, name));
                let detail = entry.map_or(" (none)".into(), |e| format!(" vpc-cni aws-node={e}"));
                self.begin(Some(ws), "edit: addon", &detail);
                self.ws[ws].addon = addon;
                Ok(self.write_config(ws))
            }
            _ => return None,
        })
    }

    /// The shared role on or off in `ws` (off: its associations move to a
    /// given role), or, when it is on, `slot`'s association onto it.
    fn edit_shared(&mut self, ws: usize, slot: Slot) -> Done {
        if self.ws[ws].shared.is_some() && self.rng.random_bool(0.6) {
            return self.put(ws, "edit: onto shared role", slot, Some(RoleSpec::Shared));
        }
        let shared = match self.ws[ws].shared {
            Some(_) => None,
            None => Some(self.random_name(25)),
        };
        let detail = shared.map_or(" (none)".into(), |n| {
            format!(" {}", self.shared_name(ws, n))
        });
        self.begin(Some(ws), "edit: shared role", &detail);
        self.ws[ws].shared = shared;
        if shared.is_none() {
            for spec in self.ws[ws].assocs.values_mut() {
                if *spec == RoleSpec::Shared {
                    *spec = RoleSpec::Given(0);
                }
            }
        }
        Ok(self.write_config(ws))
    }

    /// The name of `ws`'s shared role for `name`.
    fn shared_name(&self, ws: usize, name: Name) -> String {
        let token = &self.token;
        match name {
            Name::Derived => format!("{token}-s{ws}"),
            Name::Pool(i) => format!("{token}-r{i}"),
            Name::Foreign(i) => self.foreign[i].name.clone(),
        }
    }

    /// Sets (or with `None` removes) a slot's resource in `ws`'s config.
    fn put(&mut self, ws: usize, kind: &'static str, slot: Slot, spec: Option<RoleSpec>) -> Done {
        let detail = spec.map_or(format!(" {slot}"), |spec| format!(" {slot} = {spec}"));
        self.begin(Some(ws), kind, &detail);
        match spec {
            Some(spec) => self.ws[ws].assocs.insert(slot, spec),
            None => self.ws[ws].assocs.remove(&slot),
        };
        Ok(self.write_config(ws))
    }

    fn out_of_band(&mut self) -> Option<Done> {
        let recorded = self.all_recorded();
        // Made roles that exist; never one of the test's (I2 would blame the
        // provider for the test's own edit if a bug had recorded one).
        let mine: BTreeSet<&String> = self
            .given
            .iter()
            .chain(&self.foreign)
            .map(|t| &t.name)
            .collect();
        let made: BTreeSet<&String> = recorded
            .iter()
            .filter_map(|(_, r)| r.made_role.as_ref())
            .collect();
        let made: Vec<String> = made.difference(&mine).map(|r| r.to_string()).collect();
        let made: Vec<String> = made
            .into_iter()
            .filter(|r| self.w.get_role(r).is_some())
            .collect();
        let (w, role) = (self.w, self.pick(&made));
        let roll = self.rng.random_range(0..100);
        match roll {
            0..25 => {
                let ids: Vec<(bool, String)> = (recorded.into_iter())
                    .filter(|(_, r)| r.address.starts_with(ASSOCIATION))
                    .filter_map(|(_, r)| Some((r.west, r.association?)))
                    .collect();
                let (west, id) = self.pick(&ids)?;
                self.describe_association(west, &id)?;
                let detail = format!(" {id} ({})", side(west));
                self.begin(None, "delete association", &detail);
                self.delete_association(west, &id);
            }
            25..70 => {
                let (role, edit) = (role?, self.rng.random_range(0..ROLE_EDITS.len()));
                self.begin(None, ROLE_EDITS[edit], &format!(" {role}"));
                let name = ("RoleName", role.as_str());
                match edit {
                    0 => w.delete_role_and_policies(&role),
                    1 => {
                        let trust = TRUST_WITHOUT_TAG_SESSION;
                        iam_ok(
                            w,
                            "UpdateAssumeRolePolicy",
                            &[name, ("PolicyDocument", trust)],
                        );
                    }
                    _ => {
                        let policy = [("PolicyName", "by-hand"), ("PolicyDocument", ALLOW_ALL)];
                        iam_ok(w, "PutRolePolicy", &[name, policy[0], policy[1]]);
                    }
                }
            }
            70..85 => {
                let (i, token) = (self.foreign.len(), &self.token);
                let name = format!("{token}-f{i}");
                self.begin(None, "create foreign role", &format!(" foreign#{i} {name}"));
                self.foreign.push(test_role(w, "foreign role", &name));
            }
            _ => {
                let (slot, given) = (self.random_slot(), self.rng.random_range(0..2));
                let sa = SERVICE_ACCOUNTS[slot.sa];
                if self
                    .associations_in(slot.west)
                    .iter()
                    .any(|a| a["serviceAccount"] == sa)
                {
                    return None;
                }
                self.begin(
                    None,
                    "create association",
                    &format!(" {slot} → given#{given}"),
                );
                return Some(Ok(self.create_association(slot, given)));
            }
        }
        Some(Ok("done".into()))
    }

    /// Imports an association no state records (released by `state rm`,
    /// left by a kill, or the test's own) into a workspace whose config has
    /// its resource and whose state does not.
    fn import(&mut self) -> Option<Done> {
        let recorded = self.all_recorded();
        let mut candidates = Vec::new();
        for (west, ws) in [(false, 0), (false, 1), (true, 0), (true, 1)] {
            for a in self.associations_in(west) {
                let id = a["associationId"].as_str().unwrap_or_default().to_string();
                let sa = SERVICE_ACCOUNTS
                    .iter()
                    .position(|s| a["serviceAccount"] == *s);
                let Some(slot) = sa.map(|sa| Slot { west, sa }) else {
                    continue;
                };
                let known = recorded
                    .iter()
                    .any(|(_, r)| r.association.as_ref() == Some(&id));
                let here = recorded
                    .iter()
                    .any(|(w, r)| *w == ws && r.address == slot.address());
                if !known && !here && self.ws[ws].assocs.contains_key(&slot) {
                    candidates.push((ws, slot, id));
                }
            }
        }
        let (ws, slot, id) = self.pick(&candidates)?;
        let address = slot.address();
        self.begin(Some(ws), "import", &format!(" {address} {id}"));
        let region = if slot.west { "@us-west-2" } else { "" };
        let import_id = format!("{},{id}{region}", self.clusters[usize::from(slot.west)]);
        let out = self.terraform(
            ws,
            &["import", "-input=false", "-no-color", &address, &import_id],
        );
        if out.as_ref().is_ok_and(Outcome::ok) {
            // Adopted on purpose: no longer only the test's.
            self.associations.retain(|a| a.name != id);
        }
        Some(out.map(|out| out.summary()))
    }

    fn state_rm(&mut self, ws: usize) -> Option<Done> {
        let mut recorded = self.recorded(ws);
        recorded.retain(|r| r.address.starts_with(ASSOCIATION));
        let i = self.rng.random_range(0..recorded.len().max(1));
        let r = recorded.into_iter().nth(i)?;
        self.begin(Some(ws), "state rm", &format!(" {}", r.address));
        let done = self.terraform(ws, &["state", "rm", &r.address]);
        self.released.push(r);
        Some(done.map(|out| out.summary()))
    }

    /// Runs terraform in `ws` and checks I5 on what it printed.
    fn terraform(&mut self, ws: usize, args: &[&str]) -> Result<Outcome, String> {
        let run = self.ws[ws].tf.run(args);
        self.ws[ws].state = None;
        let out = Outcome {
            code: run.code,
            output: run.output,
        };
        if !out.ok() {
            // Shown by the test runner when the test fails, for the diagnosis.
            eprintln!(
                "[model] ws{ws}: terraform {}:\n{}",
                args.join(" "),
                out.output
            );
        }
        check_diagnostics(ws, args, &out)?;
        Ok(out)
    }

    /// An apply, under `faults` if given (cleared after it).
    fn apply(&mut self, ws: usize, faults: Option<&Value>) -> Done {
        if let Some(faults) = faults {
            self.w.set_faults(faults);
        }
        let out = self.terraform(ws, &APPLY);
        self.w.set_faults(&json!({}));
        self.after_apply(ws, out?)
    }

    /// Counts the apply; after a successful one, the plan must be empty (I4).
    fn after_apply(&mut self, ws: usize, out: Outcome) -> Done {
        self.stats.applies += 1;
        if !out.ok() {
            self.stats.failed_applies += 1;
            return Ok(out.summary());
        }
        let plan = self.terraform(ws, &PLAN)?;
        if plan.ok() {
            let checked = self.converged_check(ws)?;
            return Ok(format!("ok, plan empty; {checked}"));
        }
        let (code, output) = (plan.code, plan.output);
        Err(format!(
            "I4: the plan right after a successful apply in ws{ws} exits {code:?}:\n{output}"
        ))
    }

    /// Apply; if it fails, import what its errors advise (a kill between
    /// the end of a create and Terraform saving the state leaves finished
    /// things that only an import takes back, as the ownership guide says)
    /// and apply again once the creation lease has run out.
    fn recover(&mut self, ws: usize) -> Done {
        self.ws[ws].needs_recovery = false;
        self.stats.recoveries += 1;
        let first = self.terraform(ws, &APPLY)?;
        if first.ok() {
            self.stats.recovered_at_once += 1;
            return self.after_apply(ws, first);
        }
        let advice = self.import_advice(&first.output);
        let mut note = self.after_apply(ws, first)?;
        for (address, id) in advice {
            let out =
                self.terraform(ws, &["import", "-input=false", "-no-color", &address, &id])?;
            note += &format!("; import {address} {id}: {}", out.summary());
        }
        thread::sleep(Duration::from_secs(LEASE_SECONDS + 1));
        let second = self.apply(ws, None)?;
        Ok(format!("{note}; after the lease: {second}"))
    }

    /// (address, ID) of the `terraform import` each error in `output`
    /// advises, for associations no state records and not the test's own.
    fn import_advice(&mut self, output: &str) -> Vec<(String, String)> {
        let recorded = self.all_recorded();
        let known = |id: &str| {
            recorded
                .iter()
                .any(|(_, r)| r.association.as_deref() == Some(id))
                || self.associations.iter().any(|a| a.name == id)
        };
        let advice = output.split("Error: ").skip(1).filter_map(|error| {
            let address = error.split("with ").nth(1)?.split(',').next()?.trim();
            // The last command: a general form with placeholders may come first.
            let command = error.rsplit("terraform import ").next()?;
            let id = command.split_whitespace().nth(1)?;
            if address.starts_with(SHARED_ROLE) {
                // A finished role no state records: its name is the ID.
                return (!id.contains('<')).then(|| (address.to_string(), id.to_string()));
            }
            let association = id.split(',').nth(1)?.split('@').next()?;
            let fit = !id.contains('<') && !known(association);
            fit.then(|| (address.to_string(), id.to_string()))
        });
        advice.collect()
    }

    /// An apply with slow EKS calls whose provider (and maybe terraform) is
    /// SIGKILLed after `after`; that run alone is exempt from I5.
    fn kill_apply(&mut self, ws: usize, terraform: bool, after: Duration) -> Done {
        self.w.set_faults(&json!({"latency_ms": 700}));
        let tf = &self.ws[ws].tf;
        let (code, output, killed) = thread::scope(|s| {
            let apply = s.spawn(|| tf.run(&APPLY));
            let started = Instant::now();
            while started.elapsed() < after && !apply.is_finished() {
                thread::sleep(Duration::from_millis(20));
            }
            let mut killed = 0;
            if !apply.is_finished() {
                if terraform {
                    killed += signal_in(tf.path(), engine().command(), libc::SIGKILL);
                }
                killed += signal_in(tf.path(), PROVIDER_COMM, libc::SIGKILL);
            }
            let run = apply.join().expect("the apply thread panicked");
            (run.code, run.output, killed)
        });
        // A provider that outlived its killed terraform must not go on.
        signal_in(self.ws[ws].tf.path(), PROVIDER_COMM, libc::SIGKILL);
        self.w.set_faults(&json!({}));
        self.ws[ws].state = None;
        let out = Outcome { code, output };
        if killed == 0 {
            check_diagnostics(ws, &APPLY, &out)?;
            let done = self.after_apply(ws, out)?;
            return Ok(format!("done before the kill: {done}"));
        }
        self.stats.kills += 1;
        self.ws[ws].needs_recovery = true;
        Ok(format!(
            "killed {killed} process(es); terraform's exit {code:?}"
        ))
    }

    fn create_association(&mut self, slot: Slot, given: usize) -> String {
        let (sa, role) = (SERVICE_ACCOUNTS[slot.sa], &self.given[given].arn);
        let body = json!({"namespace": NAMESPACE, "serviceAccount": sa, "roleArn": role});
        let path = "/pod-identity-associations";
        let (status, answer) = self.eks(slot.west, "POST", path, Some(&body));
        let id = answer["association"]["associationId"]
            .as_str()
            .unwrap_or_default();
        let Some(made) = self
            .describe_association(slot.west, id)
            .filter(|_| status == 200)
        else {
            return format!("refused: HTTP {status} {answer}");
        };
        let (name, snapshot, west) = (id.to_string(), made.to_string(), slot.west);
        let note = format!("made {name}");
        self.associations.push(Protected {
            kind: "association",
            name,
            arn: String::new(),
            west,
            snapshot,
        });
        note
    }

    // ---- after a converged apply (issue 23's classes) ------------------------------

    /// After an apply whose next plan is empty, one check of the classes
    /// issue 23 found, in turn (no random draw, so a seed's sequence stays
    /// what it was): I6, I7 or I8.
    fn converged_check(&mut self, ws: usize) -> Done {
        match self.stats.applies % 3 {
            0 => self.check_equivalent(ws),
            1 => self.check_region_switch(ws),
            _ => self.check_import(ws),
        }
    }

    /// Plans `ws` with its config written the equivalent way (restored
    /// after); the outcome of that plan.
    fn plan_equivalent(&mut self, ws: usize) -> Result<Outcome, String> {
        self.ws[ws].equivalent = true;
        self.write_config(ws);
        let plan = self.terraform(ws, &PLAN);
        self.ws[ws].equivalent = false;
        self.write_config(ws);
        plan
    }

    /// I6: a configuration rewritten to mean the same (the provider's
    /// region written out, policy lists in another order) plans nothing.
    fn check_equivalent(&mut self, ws: usize) -> Done {
        let plan = self.plan_equivalent(ws)?;
        if plan.ok() {
            return Ok("I6 rewritten config plans nothing".into());
        }
        let (code, output) = (plan.code, plan.output);
        Err(format!(
            "I6: the same config written another way plans in ws{ws} (exit {code:?}):\n{output}"
        ))
    }

    /// I7: with the provider's region changed, what is in the old region
    /// and does not say `region` is planned as a replacement (never taken
    /// for gone), what says its region is untouched; the config with the
    /// region written out plans nothing.
    fn check_region_switch(&mut self, ws: usize) -> Done {
        let state = self.ws[ws].tf.state_json();
        let resources = resources_in(&state);
        self.ws[ws].tf.set_env("AWS_REGION", WEST);
        let moved = self.terraform(ws, &PLAN);
        let pinned = self.plan_equivalent(ws);
        self.ws[ws].tf.set_env("AWS_REGION", EAST);
        let (moved, pinned) = (moved?, pinned?);
        let fail = |what: String| Err(format!("I7: provider region {WEST}, ws{ws}: {what}"));
        if !pinned.ok() {
            return fail(format!(
                "the config with its regions written out plans:\n{}",
                pinned.output
            ));
        }
        let output = &moved.output;
        if output.contains("is gone") {
            return fail(format!("an object was taken for gone:\n{output}"));
        }
        let east = resources.iter().filter(|(_, west)| !west).count();
        let expected = if east > 0 { Some(2) } else { Some(0) };
        if moved.code != expected {
            return fail(format!(
                "plan exits {:?}, not {expected:?}:\n{output}",
                moved.code
            ));
        }
        for (address, west) in &resources {
            let replaced = output.contains(&format!("{address} must be replaced"));
            if replaced == *west {
                let what = if *west { "replaced" } else { "not replaced" };
                return fail(format!("{address} is {what}:\n{output}"));
            }
        }
        Ok(format!("I7 region switch replaces {east} east resource(s)"))
    }

    /// I8: an association imported into a fresh directory with the same
    /// config equals the applied state and plans nothing there.
    fn check_import(&mut self, ws: usize) -> Done {
        let recorded = self.recorded(ws);
        let Some(r) = recorded
            .iter()
            .find(|r| r.address.starts_with(ASSOCIATION) && r.association.is_some())
        else {
            return Ok("I8 nothing to import".into());
        };
        let slot = self.ws[ws].assocs.keys().find(|s| s.address() == r.address);
        let Some(slot) = slot.copied() else {
            return Ok("I8 nothing to import".into());
        };
        let region = if slot.west { "@us-west-2" } else { "" };
        let cluster = &self.clusters[usize::from(slot.west)];
        let id = format!(
            "{cluster}/{NAMESPACE}/{}{region}",
            SERVICE_ACCOUNTS[slot.sa]
        );
        let address = r.address.clone();
        match self.ws[ws]
            .tf
            .import_differences(&address, &id, &["timeouts"])
        {
            Ok(()) => Ok(format!("I8 import of {address} equals the applied state")),
            Err(e) => Err(format!("I8: ws{ws}: {e}")),
        }
    }

    // ---- the end of a sequence ----------------------------------------------------

    fn finish(&mut self) -> Result<(), String> {
        self.w.set_faults(&json!({}));
        for ws in 0..2 {
            if self.ws[ws].needs_recovery {
                self.log.push(format!("end: ws{ws}: recovery apply"));
                let note = self.recover(ws)?;
                self.note(&note);
            }
        }
        if self.seed % 2 == 1 {
            // Destroy after the cluster was deleted out of band (issue 23
            // item 2): what was made for it must still go.
            let west = self.clusters[1].clone();
            self.log
                .push(format!("end: west cluster {west} deleted out of band"));
            let (status, answer) = self.eks(true, "DELETE", "", None);
            if status != 200 {
                return Err(format!("deleting the west cluster: {status} {answer}"));
            }
            self.associations.retain(|a| !a.west);
            self.west_deleted = true;
        }
        for ws in 0..2 {
            self.log.push(format!("end: ws{ws}: destroy"));
            let mut out = self.terraform(ws, &DESTROY)?;
            if !out.ok() {
                self.note(&format!("{}; again", out.summary()));
                out = self.terraform(ws, &DESTROY)?;
            }
            self.note(&out.summary());
            if !out.ok() {
                let output = out.output;
                return Err(format!("I3: the destroy of ws{ws} failed twice:\n{output}"));
            }
        }
        self.check()?;
        self.check_nothing_left()?;
        self.log
            .push("end: nothing left; the test's own roles and associations deleted".into());
        for a in &self.associations {
            self.delete_association(a.west, &a.name);
        }
        for role in self.given.iter().chain(&self.foreign) {
            self.w.delete_role_and_policies(&role.name);
        }
        Ok(())
    }

    /// I3: no role made during the sequence carries a provider tag; the
    /// clusters hold only the test's own associations, and no addon. What
    /// `state rm` released is the user's to delete: the test does that.
    fn check_nothing_left(&mut self) -> Result<(), String> {
        for r in &self.released {
            if let Some(id) = &r.association {
                self.delete_association(r.west, id);
            }
            if let Some(role) = &r.made_role {
                self.w.delete_role_and_policies(role);
            }
        }
        let mut left = Vec::new();
        let roles = self
            .w
            .list_roles()
            .into_iter()
            .filter(|r| !self.roles_before.contains(r));
        for role in roles {
            let tags = self.w.role_tags(&role);
            if tags.iter().any(|(k, _)| k.starts_with("eks-tools:")) {
                left.push(format!("role {role} with tags {tags:?}"));
            }
        }
        let regions: &[bool] = if self.west_deleted {
            &[false]
        } else {
            &[false, true]
        };
        for &west in regions {
            for a in self.associations_in(west) {
                let id = a["associationId"].as_str().unwrap_or_default();
                if !self.associations.iter().any(|t| t.name == id) {
                    let full = self.describe_association(west, id).unwrap_or_default();
                    left.push(format!("association {full}"));
                }
            }
            let addons = self.eks(west, "GET", "/addons", None).1["addons"].clone();
            left.extend(
                addons
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| format!("addon {a}")),
            );
        }
        if left.is_empty() {
            return Ok(());
        }
        let left = left.join("\n  ");
        Err(format!(
            "I3: left after every workspace was destroyed:\n  {left}"
        ))
    }

    // ---- the invariants after every step -----------------------------------------

    fn check(&mut self) -> Result<(), String> {
        // I1: one owner per association and made role.
        let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (ws, r) in self.all_recorded() {
            let association = r.association.map(|id| format!("association {id}"));
            let role = r.made_role.map(|name| format!("made role {name}"));
            for thing in [association, role].into_iter().flatten() {
                owners
                    .entry(thing)
                    .or_default()
                    .push(format!("ws{ws} {}", r.address));
            }
        }
        if let Some((thing, who)) = owners.iter().find(|(_, who)| who.len() > 1) {
            let who = who.join(" and ");
            return Err(format!("I1: {thing} is recorded by {who}"));
        }
        // I2: what the test made is as it was.
        let roles = self.given.iter().chain(&self.foreign);
        let roles = roles.map(|r| (r, self.w.role_snapshot(&r.name)));
        let associations = self.associations.iter().map(|a| {
            let now = self.describe_association(a.west, &a.name);
            (a, now.map(|now| now.to_string()))
        });
        for (thing, now) in roles.chain(associations) {
            let (kind, name, then) = (thing.kind, &thing.name, &thing.snapshot);
            let now = now.unwrap_or_else(|| "(deleted)".into());
            if now != *then {
                return Err(format!(
                    "I2: the test's {kind} {name} changed:\n{then}\n--- now ---\n{now}"
                ));
            }
        }
        Ok(())
    }

    // ---- states, the cloud, configs -----------------------------------------------

    fn recorded(&mut self, ws: usize) -> Vec<Recorded> {
        let workspace = &mut self.ws[ws];
        let state = workspace
            .state
            .get_or_insert_with(|| workspace.tf.state_json());
        recorded_in(state)
    }

    fn all_recorded(&mut self) -> Vec<(usize, Recorded)> {
        let mut all = Vec::new();
        for ws in 0..2 {
            all.extend(self.recorded(ws).into_iter().map(|r| (ws, r)));
        }
        all
    }

    /// An EKS call on the east or west cluster: (status, JSON body).
    fn eks(&self, west: bool, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let region = if west { WEST } else { "us-east-1" };
        let path = format!("/clusters/{}{path}", self.clusters[usize::from(west)]);
        let answer = self.w.eks_in(region, method, &path, body);
        let json = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
        (answer.status, json)
    }

    fn associations_in(&self, west: bool) -> Vec<Value> {
        let path = "/pod-identity-associations?maxResults=100";
        let (status, page) = self.eks(west, "GET", path, None);
        assert_eq!(status, 200, "ListPodIdentityAssociations: {page}");
        page["associations"].as_array().cloned().unwrap_or_default()
    }

    fn describe_association(&self, west: bool, id: &str) -> Option<Value> {
        let path = format!("/pod-identity-associations/{id}");
        let (status, answer) = self.eks(west, "GET", &path, None);
        (status == 200).then(|| answer["association"].clone())
    }

    fn delete_association(&self, west: bool, id: &str) {
        let path = format!("/pod-identity-associations/{id}");
        self.eks(west, "DELETE", &path, None);
    }

    /// The attributes of a made role: its policies and `role_name`
    /// (`equivalent`: lists in another order, which means the same).
    fn made_attributes(
        &self,
        policies: Policies,
        name: Name,
        equivalent: bool,
    ) -> Vec<(&'static str, String)> {
        let arns = |list: &[&str]| {
            let mut quoted: Vec<String> = list.iter().map(|a| string(a)).collect();
            if equivalent {
                quoted.reverse();
            }
            ("permission_policy_arns", format!("[{}]", quoted.join(", ")))
        };
        let mut attrs = vec![match policies {
            Policies::CertManager => ("well_known_policies", "[\"cert-manager\"]".to_string()),
            Policies::ReadOnly => arns(&[READ_ONLY]),
            Policies::ReadOnlyCni => arns(&[READ_ONLY, CNI]),
            Policies::Cni => arns(&[CNI]),
        }];
        let token = &self.token;
        match name {
            Name::Derived => {}
            Name::Pool(i) => attrs.push(("role_name", string(&format!("{token}-r{i}")))),
            Name::Foreign(i) => attrs.push(("role_name", string(&self.foreign[i].name))),
        }
        attrs
    }

    /// Writes `ws`'s `main.tf` from the model; returns the model in brief.
    fn write_config(&mut self, ws: usize) -> String {
        let (mut blocks, mut brief) = (vec![provider(&[])], Vec::new());
        for (slot, spec) in &self.ws[ws].assocs {
            brief.push(format!("{slot}={spec}"));
            let cluster = string(&self.clusters[usize::from(slot.west)]);
            let sa = string(SERVICE_ACCOUNTS[slot.sa]);
            let mut attrs = vec![
                ("cluster_name", cluster),
                ("namespace", string(NAMESPACE)),
                ("service_account", sa),
            ];
            let equivalent = self.ws[ws].equivalent;
            if slot.west {
                attrs.push(("region", string(WEST)));
            } else if equivalent {
                attrs.push(("region", string(EAST)));
            }
            match *spec {
                RoleSpec::Given(i) => attrs.push(("role_arn", string(&self.given[i].arn))),
                RoleSpec::Made(policies, name) => {
                    attrs.extend(self.made_attributes(policies, name, equivalent))
                }
                RoleSpec::Shared => attrs.push(("role_arn", format!("{SHARED_ROLE}.shared.arn"))),
            }
            blocks.push(resource(ASSOCIATION, &slot.label(), &attrs));
        }
        if let Some(name) = self.ws[ws].shared {
            let name = self.shared_name(ws, name);
            brief.push(format!("shared role {name}"));
            let attrs = [
                ("name", string(&name)),
                ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
            ];
            blocks.push(resource(SHARED_ROLE, "shared", &attrs));
        }
        if let Some(name) = self.ws[ws].addon {
            brief.push(format!(
                "addon aws-node={}",
                RoleSpec::Made(Policies::Cni, name)
            ));
            let equivalent = self.ws[ws].equivalent;
            let attrs = self.made_attributes(Policies::Cni, name, equivalent);
            let attrs: Vec<String> = attrs.iter().map(|(k, v)| format!(", {k} = {v}")).collect();
            let entry = format!("[{{ service_account = \"aws-node\"{} }}]", attrs.concat());
            let mut attrs = vec![
                ("cluster_name", string(&self.clusters[0])),
                ("addon_name", string("vpc-cni")),
                ("pod_identity_associations", entry),
            ];
            if equivalent {
                attrs.push(("region", string(EAST)));
            }
            blocks.push(resource("eks_addon_pod_identity", "cni", &attrs));
        }
        let text = config(&blocks);
        self.ws[ws].tf.write(&text);
        format!("ws{ws} [{}]", brief.join(", "))
    }
}

// ---- helpers without a sequence --------------------------------------------------

/// Every regional resource of a state (not its addon entries, not the
/// shared role: IAM is global): address, and whether it is in the west
/// region.
fn resources_in(state: &Value) -> Vec<(String, bool)> {
    let resources = state["values"]["root_module"]["resources"].as_array();
    (resources.into_iter().flatten())
        .filter(|r| r["mode"] == "managed" && r["type"] != SHARED_ROLE)
        .map(|r| {
            let address = r["address"].as_str().unwrap_or_default().to_string();
            (address, r["values"]["region"] == WEST)
        })
        .collect()
}

/// What a state records: every association resource and addon entry, and
/// the shared role (a made role no association records).
fn recorded_in(state: &Value) -> Vec<Recorded> {
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let made = |e: &Value| text(&e["role_name"]).filter(|_| e["created_role"] == true);
    let mut out = Vec::new();
    let resources = state["values"]["root_module"]["resources"].as_array();
    for r in resources.into_iter().flatten() {
        let (address, v) = (r["address"].as_str().unwrap_or_default(), &r["values"]);
        let west = v["region"] == WEST;
        let entries = match r["type"].as_str() {
            Some(ASSOCIATION) => vec![(address.to_string(), v)],
            Some("eks_addon_pod_identity") => (v["pod_identity_associations"].as_array())
                .into_iter()
                .flatten()
                .map(|e| (format!("{address}[{}]", e["service_account"]), e))
                .collect(),
            Some(SHARED_ROLE) => {
                out.push(Recorded {
                    address: address.to_string(),
                    west: false,
                    association: None,
                    made_role: text(&v["name"]),
                });
                vec![]
            }
            _ => vec![],
        };
        for (address, e) in entries {
            let (association, made_role) = (text(&e["association_id"]), made(e));
            out.push(Recorded {
                address,
                west,
                association,
                made_role,
            });
        }
    }
    out
}

/// I5: nothing in a command's output says it was not a diagnostic.
fn check_diagnostics(ws: usize, args: &[&str], out: &Outcome) -> Result<(), String> {
    let output = &out.output;
    let Some(bad) = NOT_DIAGNOSTICS
        .iter()
        .find(|bad| contains_ignoring_wrap(output, bad))
    else {
        return Ok(());
    };
    let (command, code) = (args.join(" "), out.code);
    Err(format!(
        "I5: `terraform {command}` in ws{ws} (exit {code:?}) printed {bad:?}:\n{output}"
    ))
}

fn iam_ok(w: &World, action: &str, params: &[(&str, &str)]) {
    let answer = w.iam(action, params);
    let (status, body) = (answer.status, &answer.body);
    assert!(
        answer.ok(),
        "IAM {action} {params:?}: HTTP {status}: {body}"
    );
}

/// A role of the test's (given or foreign), as someone else would have it
/// (see [`World::create_owned_role`]), and what it is now (I2).
fn test_role(w: &World, kind: &'static str, name: &str) -> Protected {
    let role = w.create_owned_role(name);
    let snapshot = w.role_snapshot(name).expect("the role just made exists");
    Protected {
        kind,
        name: role.name,
        arn: role.arn,
        west: false,
        snapshot,
    }
}

/// Sends `signal` to the processes whose working directory is `dir` and
/// whose command name starts with `comm` (terraform and the providers it
/// started run in the workspace directory; nothing else does); how many.
fn signal_in(dir: &Path, comm: &str, signal: i32) -> usize {
    let (Ok(dir), Ok(entries)) = (dir.canonicalize(), std::fs::read_dir("/proc")) else {
        return 0;
    };
    let ours = |pid: &i32| {
        let base = format!("/proc/{pid}");
        let comm_ok = |c: String| c.trim_end().starts_with(comm);
        std::fs::read_link(format!("{base}/cwd")).is_ok_and(|cwd| cwd == dir)
            && std::fs::read_to_string(format!("{base}/comm")).is_ok_and(comm_ok)
    };
    let pids = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok());
    let pids: Vec<i32> = pids.filter(ours).collect();
    for pid in &pids {
        // SAFETY: kill has no memory preconditions; a PID that has exited
        // meanwhile just makes it fail with ESRCH.
        unsafe {
            libc::kill(*pid, signal);
        }
    }
    pids.len()
}

// ---- the test -----------------------------------------------------------------

fn env_number(key: &str) -> Option<u64> {
    let value = std::env::var(key).ok()?;
    let parsed = value.trim().parse();
    Some(parsed.unwrap_or_else(|e| panic!("{key}={value:?}: {e}")))
}

/// Runs one sequence; a violation panics while the workspaces exist, so
/// their directories are kept for a look.
fn run_sequence(
    w: &'static World,
    seed: u64,
    steps: usize,
    log: &mut Vec<String>,
    stats: &mut Stats,
) {
    let mut sequence = Sequence::new(w, seed, log, stats);
    if let Err(violation) = sequence.run(steps) {
        w.set_faults(&json!({}));
        panic!("{violation}");
    }
}

#[test]
fn model_ownership_invariants() {
    // One engine runs it in CI (scripts/test.sh sets EKS_MODEL=1 on the
    // strict-emulator run): a few minutes, not a few minutes per engine.
    if std::env::var("EKS_MODEL").is_ok_and(|v| v.is_empty() || v == "0")
        || std::env::var_os("EKS_MODEL").is_none()
            && env_number("EKS_MODEL_SEED").is_none()
            && env_number("EKS_MODEL_SEEDS").is_none()
    {
        eprintln!(
            "model_ownership_invariants: EKS_MODEL, EKS_MODEL_SEED or EKS_MODEL_SEEDS not set: not run here"
        );
        return;
    }
    let Some(w) = acc("model_ownership_invariants") else {
        return;
    };
    let seeds: Vec<u64> = match (env_number("EKS_MODEL_SEED"), env_number("EKS_MODEL_SEEDS")) {
        (Some(seed), _) => vec![seed],
        (None, Some(n)) => (1..=n).collect(),
        (None, None) => DEFAULT_SEEDS.to_vec(),
    };
    let steps = env_number("EKS_MODEL_STEPS").map_or(STEPS, |n| n as usize);
    let (mut stats, mut failures, mut times) = (Stats::default(), Vec::new(), Vec::new());
    for seed in seeds {
        let (mut log, started) = (Vec::new(), Instant::now());
        stats.sequences += 1;
        let run = AssertUnwindSafe(|| run_sequence(w, seed, steps, &mut log, &mut stats));
        let result = panic::catch_unwind(run);
        w.set_faults(&json!({}));
        times.push(format!("seed {seed} {:.0?}", started.elapsed()));
        let steps = log.join("\n  ");
        let Err(payload) = result else {
            eprintln!("[model] seed {seed} passed:\n  {steps}");
            continue;
        };
        let text = payload.downcast_ref::<String>().cloned();
        let why = text.or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()));
        let why = why.unwrap_or_default();
        let report = format!(
            "model: seed {seed} failed: {why}\nsteps:\n  {steps}\nreplay: EKS_MODEL_SEED={seed} \
             TF_ACC=1 cargo test -p acceptance-tests --test model -- --nocapture"
        );
        eprintln!("{report}");
        failures.push(report);
    }
    let kinds: Vec<String> = stats
        .kinds
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let (kinds, times, failed) = (kinds.join(", "), times.join(", "), failures.len());
    let Stats {
        sequences,
        steps,
        applies,
        failed_applies,
        kills,
        recoveries,
        recovered_at_once,
        ..
    } = stats;
    let summary = format!(
        "model summary: {sequences} sequences ({times}), {steps} steps: {kinds}; applies \
         {applies} ({failed_applies} failed), kills {kills}, recovery applies {recoveries} \
         ({recovered_at_once} converged at once); {failed} sequence(s) failed"
    );
    eprintln!("{summary}");
    let failures = failures.join("\n\n");
    assert!(failed == 0, "{failures}\n\n{summary}");
}
