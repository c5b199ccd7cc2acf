//! Retrying an error we can name, for a time we can name.
//!
//! Owns: the one retry loop ([`until_done`]) and the one poll loop
//! ([`wait_for`]), both with a deadline, back-off, and StopProvider
//! honoured; the named timeouts; and every retry predicate, each an error
//! code plus the shortest stable message fragment. Throttling and 5xx are
//! not retried here: the SDK's standard retry handles them (`max_retries`).
//! Here we retry only eventual-consistency answers that the SDK rightly
//! treats as final.

use super::error::AwsError;
use std::future::Future;
use std::time::Duration;
use tfplugin::Ctx;
use tokio::time::Instant;

/// How long a new IAM role may take to become visible to EKS. IAM is
/// eventually consistent; the AWS provider uses two minutes for the same
/// error, and AWS documents propagation "within a few seconds, up to minutes".
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a deleted association may still block a new one for the same
/// service account (EKS deletes are eventually consistent; seconds in practice).
pub const DELETE_CONSISTENCY_TIMEOUT: Duration = Duration::from_secs(60);

/// First pause between attempts; it grows by half each time up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// Longest pause between attempts.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// What one attempt concluded.
pub enum Attempt<T> {
    /// Finished, with success or a final error.
    Done(Result<T, AwsError>),
    /// A named, retryable error: try again if time remains.
    Again(AwsError),
}

/// Runs `op` until it is done or `timeout` has passed (then the last
/// retryable error is returned), pausing between attempts.
pub async fn until_done<T, F, Fut>(
    ctx: &Ctx,
    what: &'static str,
    timeout: Duration,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        match op().await {
            Attempt::Done(result) => return result,
            Attempt::Again(err) => {
                if Instant::now() + pause > deadline {
                    return Err(err);
                }
                tracing::debug!("{what}: retrying in {} ms after: {err}", pause.as_millis());
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = ctx.stopped() => return Err(AwsError::Stopped { operation: what }),
                }
                pause = (pause * 3 / 2).min(MAX_PAUSE);
            }
        }
    }
}

/// How a wait ended without reaching its target.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// Reading the state failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The thing reached a state that is neither pending nor target.
    #[error("{what} is {state}{detail}")]
    Failed {
        /// What was waited on.
        what: String,
        /// The state it reached.
        state: String,
        /// The service's own reason (health issues, update errors), if any.
        detail: String,
    },
    /// The deadline passed while still pending.
    #[error("{what} was still {state} after {} s{detail}", .timeout.as_secs())]
    Timeout {
        /// What was waited on.
        what: String,
        /// The last state seen.
        state: String,
        /// The deadline.
        timeout: Duration,
        /// The service's own reason, if any.
        detail: String,
    },
    /// The thing disappeared while a target state was expected.
    #[error("{what} disappeared")]
    Gone {
        /// What was waited on.
        what: String,
    },
    /// Terraform was interrupted.
    #[error("stopped waiting for {what} because Terraform was interrupted")]
    Stopped {
        /// What was waited on.
        what: String,
    },
}

/// One observation of a waited-on thing: its state, a detail to report on
/// failure (health issues), and the value.
pub struct Observed<T> {
    /// Status string, such as `CREATING`.
    pub state: String,
    /// The service's reason for the state, empty if none.
    pub detail: String,
    /// The thing.
    pub value: T,
}

/// Polls `refresh` until the state is in `target` (returns the value), or
/// leaves `pending` (a failure), or `timeout` passes. `refresh` returning
/// `None` means "gone", which is the target when `target` is empty.
/// Progress is logged at INFO every 30 seconds.
pub async fn wait_for<T, F, Fut>(
    ctx: &Ctx,
    what: String,
    pending: &[&str],
    target: &[&str],
    timeout: Duration,
    mut refresh: F,
) -> Result<Option<T>, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<Observed<T>>, AwsError>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut last_log = started;
    let mut pause = Duration::from_millis(200);
    loop {
        let seen = refresh().await?;
        let Some(obs) = seen else {
            if target.is_empty() {
                return Ok(None);
            }
            return Err(WaitError::Gone { what });
        };
        let detail = if obs.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", obs.detail)
        };
        if target.contains(&obs.state.as_str()) {
            return Ok(Some(obs.value));
        }
        if !pending.contains(&obs.state.as_str()) {
            return Err(WaitError::Failed {
                what,
                state: obs.state,
                detail,
            });
        }
        if Instant::now() + pause > deadline {
            return Err(WaitError::Timeout {
                what,
                state: obs.state,
                timeout,
                detail,
            });
        }
        if last_log.elapsed() >= Duration::from_secs(30) {
            tracing::info!(
                "still waiting for {what}: {} after {} s",
                obs.state,
                started.elapsed().as_secs()
            );
            last_log = Instant::now();
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = ctx.stopped() => return Err(WaitError::Stopped { what }),
        }
        pause = (pause * 3 / 2).min(MAX_PAUSE);
    }
}

/// The answer EKS gives while a new IAM role is not yet visible to it.
const ROLE_NOT_VISIBLE: (&str, &str) = (
    "InvalidParameterException",
    "Role provided in the request does not exist",
);

/// The answer EKS gives while a role's just-changed trust policy is not yet
/// visible to it (the migration adds the pod identity statement moments
/// before it creates the association).
const TRUST_NOT_VISIBLE: (&str, &str) = (
    "InvalidParameterException",
    "Trust policy of the role provided is invalid",
);

/// The answer EKS gives when the service account already has an
/// association (a real one, or one deleted moments ago).
const ASSOCIATION_TAKEN: (&str, &str) = ("ResourceInUseException", "Association already exists");

/// True for "the role is not visible yet" (IAM eventual consistency), the
/// one error every create/update that names a role retries for
/// [`PROPAGATION_TIMEOUT`].
pub fn is_role_not_visible(e: &AwsError) -> bool {
    e.is(ROLE_NOT_VISIBLE.0, ROLE_NOT_VISIBLE.1)
}

/// True for "the role's trust policy does not allow pod identity yet".
/// Retried only right after the provider itself changed that trust policy:
/// for a role it did not touch, the answer is final and the user must act.
pub fn is_trust_not_visible(e: &AwsError) -> bool {
    e.is(TRUST_NOT_VISIBLE.0, TRUST_NOT_VISIBLE.1)
}

/// True for "the service account already has an association". Retried (for
/// [`DELETE_CONSISTENCY_TIMEOUT`]) only while the association it names can
/// no longer be found, that is, was deleted moments ago.
pub fn is_association_taken(e: &AwsError) -> bool {
    e.is(ASSOCIATION_TAKEN.0, ASSOCIATION_TAKEN.1)
}

/// True for "a resource of that name already exists" of any EKS create
/// (CreateAddon of an installed addon). Not retried: the caller decides.
pub fn is_in_use(e: &AwsError) -> bool {
    e.is("ResourceInUseException", "")
}

/// True for IAM's "a role of that name already exists" (CreateRole). Not
/// retried: the made-role code adopts or refuses.
pub fn is_entity_exists(e: &AwsError) -> bool {
    e.is("EntityAlreadyExists", "")
}
