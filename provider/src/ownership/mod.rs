//! The one ownership gate: the only module that decides whether an apply
//! may write an IAM role or an EKS Pod Identity association, and the only
//! one that can hand out the [`Grant`] every such write takes
//! (`crate::aws::iam::role`'s writes and `crate::aws::eks::association`'s
//! create, update and delete require one; nothing else can make one).
//!
//! # The rules (docs/guides/ownership.md says the same to users)
//!
//! A write carries its proof ([`Proof`]):
//! - **recorded**: this resource's state says it made the object (a made
//!   role's `created_role` and name; an association's ID). A recorded role
//!   that is read before a write must still carry the owner tag for this
//!   service account: a role deleted and made again by somebody else under
//!   the same name is not ours any more ([`verify_recorded_role`]);
//! - **created now**: this call created it, or a create whose answer was
//!   lost made it, which its lease's nonce proves (the lease below carries
//!   this apply's nonce);
//! - **adopted**: an object that some apply of this provider began and never
//!   finished. It carries our owner tag for exactly this owner key (a role)
//!   or is exactly what the plan asks for (an association), **and** a lease
//!   that expired: nobody renewed it for [`lease_ttl`]. The adopter takes
//!   the lease over by Fischer's timed mutual exclusion: it writes its own
//!   nonce within [`write_bound`] of reading the expired lease, waits
//!   [`settle`], reads again and proceeds only while its nonce stands;
//! - **named**: the user's configuration names the role for a change the
//!   resource records and undoes (the migration's trust statements on an
//!   IRSA role it was given). Only the migration uses it;
//! - **moved**: the user's `moved` block handed this very role (the RoleId
//!   the moved state records) to an `eks_pod_identity_role`, which is the
//!   user's statement of ownership: the first apply tags it as the
//!   resource's own, unless it carries another owner's tag or a lease
//!   ([`moved`]). Only that resource uses it, once.
//!
//! Anything else is refused: a finished role with our owner tag belongs to
//! another resource; a role without it is somebody else's; an association
//! without a lease belongs to someone else.
//!
//! # The lease
//!
//! The creation lease is the tag [`LEASE_TAG`] (`eks-tools:creating`), value
//! `<RFC 3339 time>/<nonce>` ([`Lease::value`]). CreateRole and
//! CreatePodIdentityAssociation write it in the create call itself (so an
//! uninterrupted create costs no extra call); while the apply works on the
//! object a [`Heartbeat`] renews it every quarter of [`lease_ttl`], after
//! checking that the nonce there is still ours; it goes only when the whole
//! object is finished (a made role once its association exists: the role's
//! first, then the association's). A value written by releases before
//! leases (a time alone) reads as a lease with no nonce.
//!
//! A lease held by another nonce is waited out: the apply polls it, and if
//! nobody renews it for [`lease_ttl`] (by this process's clock, so clock
//! skew does not matter) the apply that wrote it is dead and the object is
//! adopted. A renewal means a live apply: refused with a clear error.
//!
//! Owns: proofs and grants, the lease (format, nonce, expiry, heartbeat,
//! take-over), and the ownership refusals. Does not own: what a role should
//! hold (`crate::ownership::made_role`) or single AWS calls (`crate::aws`).

use crate::aws::eks::association::{self as eks_association, Association};
use crate::aws::eks::tags as eks_tags;
use crate::aws::grant::issue as grant;
pub use crate::aws::grant::{Grant, Proof};
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};

pub mod made_role;
pub mod moved;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use schema::reserved_tags::{
    OwnerTag, owner_tag_matches, owner_tag_value, parse_owner_tag, shared_role_owner_value,
};
use schema::role::OWNER_TAG;
use schema::tags::{TagChange, Tags};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The creation lease's tag key (listed in `schema::reserved_tags`, which
/// counts it against the tag limits).
pub use schema::reserved_tags::PENDING_TAG as LEASE_TAG;

/// How long a lease lives without renewal, unless
/// `EKS_POD_IDENTITY_LEASE_SECONDS` says otherwise (5 to 3600; the
/// acceptance tests shorten it so a re-apply after a kill waits seconds).
/// Two minutes: four missed renewals (a renewal is two IAM or EKS calls,
/// seconds even under throttling), and short enough that the apply after a
/// crash waits it out itself instead of failing.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(120);

/// The lease length in force (see [`DEFAULT_LEASE_TTL`]).
pub fn lease_ttl() -> Duration {
    std::env::var("EKS_POD_IDENTITY_LEASE_SECONDS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(5, 3600)))
        .unwrap_or(DEFAULT_LEASE_TTL)
}

/// Fischer's bound: a take-over writes its nonce within this time of
/// reading the expired lease, or starts again (a twenty-fourth of the lease:
/// 5 s by default, far above one IAM call).
pub fn write_bound() -> Duration {
    lease_ttl() / 24
}

/// Fischer's wait between writing the nonce and reading it back: longer
/// than [`write_bound`], so any rival that read the expired lease before
/// our write has written by then.
pub fn settle() -> Duration {
    lease_ttl() / 20
}

/// The grant for a role or association this resource's state records as
/// made by it: `made` (`created_role`) and the recorded role name must name
/// `name`. `None`: the state does not prove it (a role switched from given
/// to made, or renamed), and the object must be created or adopted.
pub fn recorded_role(made: Option<bool>, recorded: Option<&str>, name: &str) -> Option<Grant> {
    (made == Some(true) && recorded == Some(name)).then(|| grant(Proof::Recorded))
}

/// The grant for the association whose ID this resource's state records.
pub fn recorded_association(association_id: Option<&str>) -> Option<Grant> {
    association_id.map(|_| grant(Proof::Recorded))
}

/// Replaces the trust policy of a role the user's configuration names for
/// the migration (proof *named*): the migration adds and removes only its
/// own statements on the IRSA roles it was given, and records the original
/// for rollback. The only trust write on a role the provider did not make.
pub async fn update_named_trust(c: &Clients, name: &str, document: &str) -> Result<(), AwsError> {
    iam::update_trust(c, &grant(Proof::Named), name, document).await
}

/// The grant for a create call: creating is its own proof (a name or
/// service account already taken fails the call).
pub fn creating() -> Grant {
    grant(Proof::CreatedNow)
}

/// This apply's claim on the objects it creates: a random nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    nonce: String,
}

impl Lease {
    /// A lease with a fresh random nonce.
    pub fn new() -> Lease {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        // RandomState's keys come from the OS's random source.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        Lease {
            nonce: format!("{:016x}", h.finish()),
        }
    }

    /// The nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The tag value at `now`: `<RFC 3339 time>/<nonce>`.
    pub fn value(&self, now: SystemTime) -> String {
        format!("{}/{}", rfc3339(now), self.nonce)
    }

    /// A clientRequestToken for the create of `what`: the same across the
    /// provider's own retries of that create (EKS's idempotency then answers
    /// a retry of a create whose answer was lost with the same object).
    pub fn request_token(&self, what: &str) -> String {
        let mut h = std::hash::DefaultHasher::new();
        h.write(what.as_bytes());
        format!("eks-tools-{}-{:016x}", self.nonce, h.finish())
    }
}

impl Default for Lease {
    fn default() -> Self {
        Lease::new()
    }
}

/// RFC 3339 (whole seconds, UTC) of `t`.
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::from(t)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// What an object's lease tag says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// No lease (or a value this provider never writes): a finished object.
    Absent,
    /// A lease: who wrote it (empty for a pre-lease release's marker), when,
    /// and the raw value (a renewal changes it).
    By {
        /// The writer's nonce.
        nonce: String,
        /// When it was written.
        written: SystemTime,
        /// The tag value as found.
        value: String,
    },
}

/// Reads the lease of an object's tags.
pub fn held(tags: &Tags) -> Held {
    let Some(v) = tags.get(LEASE_TAG) else {
        return Held::Absent;
    };
    let (time, nonce) = v.split_once('/').unwrap_or((v.as_str(), ""));
    let Ok(t) = DateTime::from_str(time, Format::DateTime) else {
        return Held::Absent;
    };
    let Ok(written) = SystemTime::try_from(t) else {
        return Held::Absent;
    };
    Held::By {
        nonce: nonce.to_string(),
        written,
        value: v.clone(),
    }
}

/// True when `tags` carry a lease written by `lease`.
pub fn is_ours(tags: &Tags, lease: &Lease) -> bool {
    matches!(held(tags), Held::By { nonce, .. } if nonce == lease.nonce)
}

/// Why the gate refused a write, or could not decide.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A role with the wanted name exists and is not ours for this owner.
    #[error(
        "an IAM role named {name} already exists and was not made by this provider for {owner}"
    )]
    NameTaken {
        /// The role name.
        name: String,
        /// The owner key we wanted it for (`cluster/namespace/sa`).
        owner: String,
        /// The owner tag the existing role carries, if any.
        found_owner: Option<String>,
    },
    /// A finished role with our owner tag: another resource owns it.
    #[error(
        "the IAM role {name} was made by this provider for {owner} and belongs to another Terraform resource (its creation finished: it carries no creation lease)"
    )]
    OwnedByAnother {
        /// The role name.
        name: String,
        /// The owner key.
        owner: String,
    },
    /// A live apply holds the object's lease (it renewed it while we waited).
    #[error(
        "{what} is being created by another apply right now (its creation lease, written at {since}, was renewed while this apply waited)"
    )]
    Live {
        /// The object.
        what: String,
        /// When the lease we first saw was written.
        since: String,
    },
    /// Another apply took the lease over first.
    #[error("{what}: another apply took over its creation lease first")]
    Lost {
        /// The object.
        what: String,
    },
    /// The role a `moved` block handed over is no longer the one under its
    /// name (IAM's RoleId differs: deleted and made again since).
    #[error(
        "the IAM role {name} is not the role the moved block handed over (its IAM RoleId is {found}, the moved state recorded {recorded}): it was deleted and made again since"
    )]
    NotTheMovedRole {
        /// The role name.
        name: String,
        /// The RoleId the moved state recorded.
        recorded: String,
        /// The RoleId found.
        found: String,
    },
}

/// The owner key of a made role as a tag value (for every form ever
/// written): true when `found` names the same service account as `wanted`.
pub fn owner_matches(found: &str, wanted: &str) -> bool {
    if found == wanted {
        return true;
    }
    match parse_owner_tag(wanted) {
        Some(OwnerTag::Plain {
            cluster,
            namespace,
            service_account,
        }) => owner_tag_matches(found, &cluster, &namespace, &service_account),
        _ => match parse_owner_tag(found) {
            Some(OwnerTag::Plain {
                cluster,
                namespace,
                service_account,
            }) => owner_tag_value(&cluster, &namespace, &service_account) == wanted,
            _ => false,
        },
    }
}

/// A role this resource's state records was read before a write. It is
/// still ours when it carries our owner tag for `owner`. Without any owner
/// tag it is ours only when IAM created it no later than `made_before` (the
/// creation of the association or addon that uses it, which comes after its
/// role; one second of slack for whole-second timestamps): then the tag was
/// removed by hand, and the write repairs it. A role created later was
/// deleted and made again by somebody else under the name, and a role with
/// another owner's tag is another's: both are refused, never written.
pub fn verify_recorded_role(
    name: &str,
    tags: &Tags,
    owner: &str,
    created: Option<SystemTime>,
    made_before: Option<SystemTime>,
) -> Result<(), Refused> {
    let tag = tags.get(OWNER_TAG).cloned();
    let ours = match tag.as_deref() {
        Some(t) => owner_matches(t, owner),
        None => matches!(
            (created, made_before),
            (Some(c), Some(m)) if c <= m + Duration::from_secs(1)
        ),
    };
    if ours {
        Ok(())
    } else {
        Err(Refused::NameTaken {
            name: name.to_string(),
            owner: owner.to_string(),
            found_owner: tag,
        })
    }
}

/// An RFC 3339 time of the state (`created_at`, `modified_at`) as a time.
pub fn parse_time(t: Option<&str>) -> Option<SystemTime> {
    let t = DateTime::from_str(t?, Format::DateTime).ok()?;
    SystemTime::try_from(t).ok()
}

/// What [`claim_role`] decided about a role whose name was taken.
#[derive(Debug)]
pub enum RoleClaim {
    /// Ours after all: a create of this apply whose answer was lost.
    CreatedNow(Grant),
    /// Left by a dead apply; its lease is ours now.
    Adopted(Grant),
    /// Gone by the time we looked: create it again.
    Gone,
}

/// The association of the role's service account carries the lease that
/// covers a finished role (the role's lease goes first when a create
/// finishes; a kill between the two leaves this): `Some(lease)` when an
/// association of `cluster/namespace/sa` points at `role_arn` and holds a
/// lease.
async fn partner_lease(
    c: &Clients,
    subject: &Subject,
    role_arn: &str,
) -> Result<Option<Tags>, AwsError> {
    // Only a service account's role finishes before its association; a
    // shared role has no partner.
    let Subject::ServiceAccount {
        cluster,
        namespace,
        service_account,
    } = subject
    else {
        return Ok(None);
    };
    let Some(id) =
        eks_association::find_id_by_service_account(c, cluster, namespace, service_account).await?
    else {
        return Ok(None);
    };
    let Some(a) = eks_association::find_by_id(c, cluster, &id).await? else {
        return Ok(None);
    };
    Ok((a.settings.role_arn.as_deref() == Some(role_arn)
        && a.owner_arn.is_none()
        && !matches!(held(&a.tags), Held::Absent))
    .then_some(a.tags))
}

/// Whom a made role or association is for: the owner its owner tag names.
#[derive(Debug, Clone)]
pub enum Subject {
    /// One service account (an association's or addon entry's made role).
    ServiceAccount {
        /// Cluster name.
        cluster: String,
        /// Namespace.
        namespace: String,
        /// Service account.
        service_account: String,
    },
    /// An `eks_pod_identity_role`: one role for many associations, named
    /// by its role name (its owner tag is
    /// [`schema::reserved_tags::shared_role_owner_value`], which never
    /// parses as a service account's).
    SharedRole {
        /// The role name.
        name: String,
    },
}

impl Subject {
    /// The owner tag value of a role made for this subject.
    pub fn owner(&self) -> String {
        match self {
            Subject::ServiceAccount {
                cluster,
                namespace,
                service_account,
            } => owner_tag_value(cluster, namespace, service_account),
            Subject::SharedRole { name } => shared_role_owner_value(name),
        }
    }
}

/// The wanted role name was taken when this apply created it: decides by
/// the rules whether it is ours. `partner`: look at the service account's
/// association when the role carries no lease (only the association
/// resource, whose association finishes after its role).
pub async fn claim_role(
    c: &Clients,
    name: &str,
    subject: &Subject,
    lease: &Lease,
    partner: bool,
) -> Result<RoleClaim, Refused> {
    let owner = subject.owner();
    let what = format!("the IAM role {name}");
    let mut first_seen: Option<(String, Instant)> = None;
    loop {
        let Some(found) = iam::find_role_tags(c, name).await? else {
            return Ok(RoleClaim::Gone);
        };
        verify_recorded_role(name, &found.tags, &owner, None, None)?;
        let mut lease_tags = found.tags.clone();
        if matches!(held(&found.tags), Held::Absent) {
            match partner.then_some(()) {
                Some(()) => match partner_lease(c, subject, &found.arn).await? {
                    Some(tags) => lease_tags = tags,
                    None => return Err(refuse_finished(name, &owner)),
                },
                None => return Err(refuse_finished(name, &owner)),
            }
        }
        match judge_lease(&lease_tags, lease, &mut first_seen, &what)? {
            Verdict::Ours => return Ok(RoleClaim::CreatedNow(grant(Proof::CreatedNow))),
            Verdict::Wait => tokio::time::sleep(poll_interval()).await,
            Verdict::Expired { read_at } => {
                if take_over_role(c, name, lease, read_at).await? {
                    tracing::info!(
                        "adopting {what} left by an interrupted apply for {owner} (its lease expired)"
                    );
                    return Ok(RoleClaim::Adopted(grant(Proof::Adopted)));
                }
                first_seen = None;
            }
        }
    }
}

fn refuse_finished(name: &str, owner: &str) -> Refused {
    Refused::OwnedByAnother {
        name: name.to_string(),
        owner: owner.to_string(),
    }
}

/// What a lease says to an apply that found it.
enum Verdict {
    /// Written by this apply.
    Ours,
    /// Held by another apply that may still be alive: poll again.
    Wait,
    /// Nobody renewed it for a whole lease: take it over (read at this instant).
    Expired { read_at: Instant },
}

/// How often a waiting apply looks at a lease held by another.
fn poll_interval() -> Duration {
    (lease_ttl() / 12).min(Duration::from_secs(10))
}

/// Judges a lease found on an object: `None` while another apply may hold
/// it (look again after [`poll_interval`]); refused when a renewal shows
/// that apply is alive, or when the lease went (the object was finished).
fn judge_lease_now(
    tags: &Tags,
    lease: &Lease,
    first_seen: &mut Option<(String, Instant)>,
    what: &str,
) -> Result<Option<Verdict>, Refused> {
    let read_at = Instant::now();
    let Held::By {
        nonce,
        written,
        value,
    } = held(tags)
    else {
        // The lease went: the apply that held it finished the object.
        return Err(Refused::Lost {
            what: what.to_string(),
        });
    };
    if nonce == lease.nonce {
        return Ok(Some(Verdict::Ours));
    }
    let ttl = lease_ttl();
    let age = SystemTime::now()
        .duration_since(written)
        .unwrap_or_default();
    if age >= ttl {
        return Ok(Some(Verdict::Expired { read_at }));
    }
    match first_seen {
        None => {
            tracing::warn!(
                "{what} carries the creation lease of another apply (written at {}); waiting up to {} s for it to be renewed or to expire",
                rfc3339(written),
                ttl.as_secs()
            );
            *first_seen = Some((value, read_at));
            Ok(None)
        }
        Some((seen, _)) if *seen != value => Err(Refused::Live {
            what: what.to_string(),
            since: rfc3339(written),
        }),
        Some((_, since)) if read_at.duration_since(*since) >= ttl => {
            Ok(Some(Verdict::Expired { read_at }))
        }
        Some(_) => Ok(None),
    }
}

/// [`judge_lease_now`], with "look again later" as [`Verdict::Wait`].
fn judge_lease(
    tags: &Tags,
    lease: &Lease,
    first_seen: &mut Option<(String, Instant)>,
    what: &str,
) -> Result<Verdict, Refused> {
    Ok(judge_lease_now(tags, lease, first_seen, what)?.unwrap_or(Verdict::Wait))
}

/// Fischer's take-over of an expired lease on a role: write our nonce
/// (within [`write_bound`] of the read), wait [`settle`], read it back.
async fn take_over_role(
    c: &Clients,
    name: &str,
    lease: &Lease,
    read_at: Instant,
) -> Result<bool, Refused> {
    if read_at.elapsed() > write_bound() {
        return Ok(false);
    }
    let value = Tags::from([(LEASE_TAG.to_string(), lease.value(SystemTime::now()))]);
    iam::tag_role(c, &grant(Proof::Adopted), name, &value).await?;
    tokio::time::sleep(settle()).await;
    match iam::find_role_tags(c, name).await? {
        Some(found) if is_ours(&found.tags, lease) => Ok(true),
        Some(_) => Err(Refused::Lost {
            what: format!("the IAM role {name}"),
        }),
        None => Ok(false),
    }
}

/// What [`claim_association`] decided about an association found for the
/// service account at create.
#[derive(Debug)]
pub enum AssociationClaim {
    /// Made by this apply (a create whose answer was lost).
    CreatedNow(Grant),
    /// Left by a dead apply and exactly what the plan asks for; ours now.
    Adopted(Grant),
    /// Somebody else's: no lease, or not what the plan asks for, or an addon's.
    Taken,
}

/// An association exists for the service account: ours only when it
/// carries this apply's lease (a lost answer), or an expired lease and is
/// exactly what the plan asks for (`same`). Waits out another apply's lease.
pub async fn claim_association(
    c: &Clients,
    found: &Association,
    lease: &Lease,
    same: impl Fn(&Association) -> bool,
) -> Result<AssociationClaim, Refused> {
    let cluster = found.cluster_name.clone().unwrap_or_default();
    let id = found.association_id.clone().unwrap_or_default();
    let what = format!("the EKS Pod Identity Association {id}");
    let mut current = found.clone();
    let mut first_seen = None;
    loop {
        if current.owner_arn.is_some() || matches!(held(&current.tags), Held::Absent) {
            return Ok(AssociationClaim::Taken);
        }
        match judge_lease(&current.tags, lease, &mut first_seen, &what)? {
            Verdict::Ours => return Ok(AssociationClaim::CreatedNow(grant(Proof::CreatedNow))),
            Verdict::Wait => tokio::time::sleep(poll_interval()).await,
            Verdict::Expired { read_at } => {
                if !same(&current) {
                    return Ok(AssociationClaim::Taken);
                }
                if read_at.elapsed() <= write_bound() {
                    let arn = current.association_arn.clone().unwrap_or_default();
                    let change = TagChange {
                        set: Tags::from([(LEASE_TAG.to_string(), lease.value(SystemTime::now()))]),
                        ..Default::default()
                    };
                    eks_tags::apply_to_association(c, &grant(Proof::Adopted), &arn, &change)
                        .await?;
                    tokio::time::sleep(settle()).await;
                }
                first_seen = None;
            }
        }
        match eks_association::find_by_id(c, &cluster, &id).await? {
            Some(a) if is_ours(&a.tags, lease) => {
                tracing::info!("adopting {what}, left by an interrupted apply (its lease expired)");
                return Ok(AssociationClaim::Adopted(grant(Proof::Adopted)));
            }
            Some(a) => current = a,
            None => return Ok(AssociationClaim::Taken),
        }
    }
}

/// One object a heartbeat keeps leased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leased {
    /// A made role, by name.
    Role(String),
    /// An association, by ARN.
    Association(String),
}

/// Renews this apply's lease on the objects it works on, every quarter of
/// [`lease_ttl`], after checking that the nonce there is still ours (when it
/// is not, another apply took the object over: [`Heartbeat::lost`]). An
/// apply that finishes within a quarter lease makes no call here. Stops
/// when dropped.
pub struct Heartbeat {
    objects: Arc<Mutex<Vec<Leased>>>,
    /// Held by the task for a whole renewal round, so that
    /// [`Heartbeat::remove`] returns only once no renewal of the object is
    /// in flight (a renewal landing after the release would put the lease
    /// back: found by the kill test as drift on an adopted role).
    renewing: Arc<tokio::sync::Mutex<()>>,
    lost: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    /// Starts renewing `lease` on the objects later [`add`](Self::add)ed.
    pub fn start(c: Arc<Clients>, lease: Lease) -> Heartbeat {
        let objects: Arc<Mutex<Vec<Leased>>> = Arc::default();
        let renewing: Arc<tokio::sync::Mutex<()>> = Arc::default();
        let lost = Arc::new(AtomicBool::new(false));
        let (o, r, l) = (objects.clone(), renewing.clone(), lost.clone());
        let task = tokio::spawn(async move {
            let every = lease_ttl() / 4;
            loop {
                tokio::time::sleep(every).await;
                let _round = r.lock().await;
                let now: Vec<Leased> = o.lock().map(|v| v.clone()).unwrap_or_default();
                for object in now {
                    match renew(&c, &lease, &object).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("lost the creation lease of {object:?}");
                            l.store(true, Ordering::SeqCst);
                        }
                        Err(e) => tracing::warn!("renewing the lease of {object:?}: {e}"),
                    }
                }
            }
        });
        Heartbeat {
            objects,
            renewing,
            lost,
            task,
        }
    }

    /// Keeps `object` leased from now on.
    pub fn add(&self, object: Leased) {
        if let Ok(mut v) = self.objects.lock() {
            v.push(object);
        }
    }

    /// Stops renewing `object` (its lease is about to be removed): returns
    /// once no renewal of it is in flight.
    pub async fn remove(&self, object: &Leased) {
        if let Ok(mut v) = self.objects.lock() {
            v.retain(|o| o != object);
        }
        drop(self.renewing.lock().await);
    }

    /// True when another apply took one of the objects over.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One renewal: read, check the nonce, write the new time. `Ok(false)` when
/// the lease is not ours any more (or the object is gone).
async fn renew(c: &Clients, lease: &Lease, object: &Leased) -> Result<bool, AwsError> {
    let value = lease.value(SystemTime::now());
    match object {
        Leased::Role(name) => {
            let Some(found) = iam::find_role_tags(c, name).await? else {
                return Ok(false);
            };
            if !is_ours(&found.tags, lease) {
                return Ok(false);
            }
            let set = Tags::from([(LEASE_TAG.to_string(), value)]);
            iam::tag_role(c, &grant(Proof::CreatedNow), name, &set).await?;
        }
        Leased::Association(arn) => {
            let tags = eks_tags::list(c, arn).await?;
            if !is_ours(&tags, lease) {
                return Ok(false);
            }
            let change = TagChange {
                set: Tags::from([(LEASE_TAG.to_string(), value)]),
                ..Default::default()
            };
            eks_tags::apply_to_association(c, &grant(Proof::CreatedNow), arn, &change).await?;
        }
    }
    Ok(true)
}

/// Removes this apply's lease from a finished role (its association exists).
pub async fn release_role(c: &Clients, grant: &Grant, name: &str) -> Result<(), AwsError> {
    iam::untag_role(c, grant, name, &[LEASE_TAG.to_string()]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grants are issued by the gate alone (`grant::issue` appears nowhere
    /// else), and the one that needs no proof of its own is taken only where
    /// it belongs: `creating()` at a create call outside this folder (the
    /// association's and the migration's CreatePodIdentityAssociation). A
    /// new use anywhere else fails here and has to be argued in review.
    #[test]
    fn grants_are_issued_only_by_the_gate() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let allowed: &[(&str, &[&str])] = &[(
            "ownership::creating()",
            &[
                "resources/pod_identity_association/apply.rs",
                "resources/pod_identity_migration/run.rs",
            ],
        )];
        let mut files = vec![];
        let mut dirs = vec![root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("src is readable").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        assert!(files.len() > 20, "found only {} source files", files.len());
        for (call, places) in allowed {
            for f in &files {
                let rel = f.strip_prefix(&root).expect("under src");
                let rel = rel.to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(f).expect("readable");
                if !rel.starts_with("ownership/") && text.contains(call) {
                    assert!(
                        places.contains(&rel.as_str()),
                        "{call} is used in {rel}, which is not one of its call sites"
                    );
                }
            }
        }
    }

    fn tags(v: &str) -> Tags {
        Tags::from([(LEASE_TAG.to_string(), v.to_string())])
    }

    #[test]
    fn lease_value_round_trips_and_nonces_differ() {
        let a = Lease::new();
        let b = Lease::new();
        assert_ne!(a.nonce(), b.nonce());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let v = a.value(now);
        assert_eq!(v, format!("2023-11-14T22:13:20Z/{}", a.nonce()));
        assert!(is_ours(&tags(&v), &a));
        assert!(!is_ours(&tags(&v), &b));
        match held(&tags(&v)) {
            Held::By { nonce, written, .. } => {
                assert_eq!(nonce, a.nonce());
                assert_eq!(written, now);
            }
            Held::Absent => panic!("a lease reads as absent"),
        }
    }

    #[test]
    fn a_pre_lease_marker_is_a_lease_without_nonce_and_garbage_is_none() {
        assert!(matches!(
            held(&tags("2020-01-01T00:00:00Z")),
            Held::By { nonce, .. } if nonce.is_empty()
        ));
        assert_eq!(held(&tags("yesterday")), Held::Absent);
        assert_eq!(held(&Tags::new()), Held::Absent);
    }

    #[test]
    fn request_tokens_are_stable_per_lease_and_object() {
        let a = Lease::new();
        assert_eq!(a.request_token("x"), a.request_token("x"));
        assert_ne!(a.request_token("x"), a.request_token("y"));
        assert_ne!(a.request_token("x"), Lease::new().request_token("x"));
        // EKS: clientRequestToken is at most 64 characters.
        assert!(a.request_token("x").len() <= 64);
    }

    #[test]
    fn judging_a_lease_waits_then_expires_or_refuses_a_renewal() {
        let me = Lease::new();
        let other = Lease::new();
        let now = SystemTime::now();
        // Ours: a lost answer.
        let mut seen = None;
        assert!(matches!(
            judge_lease_now(&tags(&me.value(now)), &me, &mut seen, "x"),
            Ok(Some(Verdict::Ours))
        ));
        // Written long ago: expired at once.
        let old = other.value(now - lease_ttl() - Duration::from_secs(1));
        assert!(matches!(
            judge_lease_now(&tags(&old), &me, &mut seen, "x"),
            Ok(Some(Verdict::Expired { .. }))
        ));
        // Fresh: wait; the same value again: still wait; renewed: refused.
        let fresh = other.value(now);
        assert!(matches!(
            judge_lease_now(&tags(&fresh), &me, &mut seen, "x"),
            Ok(None)
        ));
        assert!(matches!(
            judge_lease_now(&tags(&fresh), &me, &mut seen, "x"),
            Ok(None)
        ));
        let renewed = format!(
            "{}/{}",
            rfc3339(now + Duration::from_secs(30)),
            other.nonce()
        );
        assert!(matches!(
            judge_lease_now(&tags(&renewed), &me, &mut seen, "x"),
            Err(Refused::Live { .. })
        ));
        // The lease went while we waited: the other apply finished it.
        assert!(matches!(
            judge_lease_now(&Tags::new(), &me, &mut seen, "x"),
            Err(Refused::Lost { .. })
        ));
    }

    #[test]
    fn recorded_grants_need_the_state_to_name_the_role() {
        assert!(recorded_role(Some(true), Some("r"), "r").is_some());
        assert!(recorded_role(Some(true), Some("old"), "r").is_none());
        assert!(recorded_role(Some(false), Some("r"), "r").is_none());
        assert!(recorded_role(None, None, "r").is_none());
        assert_eq!(
            recorded_role(Some(true), Some("r"), "r").map(|g| g.proof()),
            Some(Proof::Recorded)
        );
    }

    #[test]
    fn a_recorded_role_without_our_owner_tag_is_refused() {
        let owner = owner_tag_value("c", "ns", "sa");
        let ours = Tags::from([(OWNER_TAG.to_string(), owner.clone())]);
        assert!(verify_recorded_role("r", &ours, &owner, None, None).is_ok());
        let foreign = Tags::from([("team".to_string(), "b".to_string())]);
        assert!(matches!(
            verify_recorded_role("r", &foreign, &owner, None, None),
            Err(Refused::NameTaken { .. })
        ));
        let other = Tags::from([(OWNER_TAG.to_string(), owner_tag_value("c", "ns", "x"))]);
        assert!(matches!(
            verify_recorded_role("r", &other, &owner, None, None),
            Err(Refused::NameTaken { .. })
        ));
        // No owner tag: ours only when made before what uses it (the tag
        // was removed by hand), not when made again afterwards.
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let before = Some(t0 - Duration::from_secs(3));
        let after = Some(t0 + Duration::from_secs(60));
        assert!(verify_recorded_role("r", &foreign, &owner, before, Some(t0)).is_ok());
        assert!(verify_recorded_role("r", &foreign, &owner, after, Some(t0)).is_err());
        // Another owner's tag is never ours, however old.
        assert!(verify_recorded_role("r", &other, &owner, before, Some(t0)).is_err());
    }
}
