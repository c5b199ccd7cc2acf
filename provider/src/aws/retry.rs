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
use tokio::time::Instant;

/// How long a new IAM role may take to become visible to EKS. IAM is
/// eventually consistent; the AWS provider uses two minutes for the same
/// error, and AWS documents propagation "within a few seconds, up to minutes".
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a deleted association may still block a new one for the same
/// service account (EKS deletes are eventually consistent; seconds in practice).
pub const DELETE_CONSISTENCY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an UpdateAddon waits out an update of the same addon that is
/// still running (409 "Addon X cannot be updated as it is currently in
/// UPDATING state", FACTS.md F4): one started by someone else (console,
/// eksctl) or by an apply that was interrupted. An addon update usually
/// takes a minute or two; the AWS provider waits up to 20 minutes for one.
/// Ten minutes covers a normal update with margin and still fails an apply
/// in reasonable time when the other update is stuck (then the addon's own
/// `timeouts` and health issues are the place to look).
pub const ADDON_BUSY_TIMEOUT: Duration = Duration::from_secs(600);

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
/// retryable error is returned), pausing between attempts. `stop` is the
/// StopProvider signal (`Ctx::stopped()`): once it resolves, the next pause
/// ends the loop with [`AwsError::Stopped`].
pub async fn until_done<T, F, Fut>(
    stop: impl Future<Output = ()>,
    what: &'static str,
    timeout: Duration,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    tokio::pin!(stop);
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        match op().await {
            Attempt::Done(result) => return result,
            Attempt::Again(err) => {
                if Instant::now() + pause > deadline {
                    return Err(err);
                }
                if pause == FIRST_PAUSE {
                    tracing::info!(
                        "{what}: waiting up to {} s for AWS to settle after: {err}",
                        timeout.as_secs()
                    );
                }
                tracing::debug!("{what}: retrying in {} ms after: {err}", pause.as_millis());
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = &mut stop => return Err(AwsError::Stopped { operation: what }),
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
/// Progress is logged at INFO every 30 seconds. `stop` is the StopProvider
/// signal, as for [`until_done`].
pub async fn wait_for<T, F, Fut>(
    stop: impl Future<Output = ()>,
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
    tokio::pin!(stop);
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
            _ = &mut stop => return Err(WaitError::Stopped { what }),
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

/// The answer EKS gives to UpdateAddon while the addon is still CREATING or
/// UPDATING (FACTS.md F4: ResourceInUseException, HTTP 409).
const ADDON_BUSY: (&str, &str) = (
    "ResourceInUseException",
    "cannot be updated as it is currently in",
);

/// The answer EKS gives for a role of another account, and for
/// `serviceAccountRoleArn: ""` (FACTS.md F2, F3). Final: never retried.
const CROSS_ACCOUNT_ROLE: (&str, &str) = (
    "AccessDeniedException",
    "Cross-account pass role is not allowed",
);

/// What CreateAddon answers while the IAM roles it names propagate, as the
/// AWS provider reads it: it retries InvalidParameterException containing
/// "CREATE_FAILED" or "does not exist" for its IAM propagation timeout
/// (terraform-provider-aws `internal/service/eks/addon.go`,
/// resourceAddonCreate; emulator/FACTS.md F20). No AWS document gives the
/// texts; the AWS provider has retried them since 2020.
const ADDON_CREATE_TRANSIENT: [(&str, &str); 2] = [
    ("InvalidParameterException", "CREATE_FAILED"),
    ("InvalidParameterException", "does not exist"),
];

/// True for a CreateAddon answer that IAM propagation explains
/// ([`ADDON_CREATE_TRANSIENT`], which includes [`is_role_not_visible`]'s):
/// retried for [`PROPAGATION_TIMEOUT`], as the AWS provider does.
pub fn is_addon_create_transient(e: &AwsError) -> bool {
    ADDON_CREATE_TRANSIENT
        .iter()
        .any(|(code, fragment)| e.is(code, fragment))
}

/// True for "the addon is busy with another update" (still CREATING or
/// UPDATING). UpdateAddon retries it for [`ADDON_BUSY_TIMEOUT`].
pub fn is_addon_busy(e: &AwsError) -> bool {
    e.is(ADDON_BUSY.0, ADDON_BUSY.1)
}

/// True for "the role is in another account than the cluster" (or an empty
/// role ARN). Never retried: the user must name a role of the cluster's
/// account.
pub fn is_cross_account_role(e: &AwsError) -> bool {
    e.is(CROSS_ACCOUNT_ROLE.0, CROSS_ACCOUNT_ROLE.1)
}

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

/// True for "the role's trust policy does not allow pod identity yet" when
/// the caller itself rewrote that trust moments ago (`trust_just_changed`):
/// then it is IAM eventual consistency (issue 13 item 7), retried for
/// [`PROPAGATION_TIMEOUT`] like a role not yet visible. Without a rewrite of
/// its own the answer is final: the user must fix the trust. Used by the
/// migration's addon switch (UpdateAddon right after it added the pod
/// identity statement), as the association create does with
/// `NewAssociation::trust_just_changed`.
pub fn is_rewritten_trust_not_visible(e: &AwsError, trust_just_changed: bool) -> bool {
    trust_just_changed && is_trust_not_visible(e)
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

/// True for IAM's "the role still has policies" (DeleteRole). Not retried:
/// a delete from what the state knows lists the role and deletes again.
pub fn is_delete_conflict(e: &AwsError) -> bool {
    e.is("DeleteConflict", "")
}

/// Error codes that say the service failed, not that it refused: the call
/// may have taken effect (the SDK's own retries end on them too).
const SERVER_FAILURES: &[&str] = &[
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServiceFailure",
    "ThrottlingException",
    "Throttling",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// True when the service answered with a refusal (a 4xx-style error code):
/// the call certainly did not take effect. False for a server failure, a
/// timeout or no answer at all, after which the object may exist (issue
/// 22: no answer is not a "no"; look it up before any cleanup).
pub fn is_definite_refusal(e: &AwsError) -> bool {
    e.code().is_some_and(|c| !SERVER_FAILURES.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::error::service;

    #[test]
    fn only_a_refusal_is_definite() {
        assert!(is_definite_refusal(&service(
            "InvalidParameterException",
            "x"
        )));
        assert!(!is_definite_refusal(&service("InternalFailure", "x")));
        assert!(!is_definite_refusal(&service(
            "ServiceUnavailableException",
            "x"
        )));
        assert!(!is_definite_refusal(&AwsError::Transport {
            operation: "CreateAddon",
            detail: "timeout".into(),
        }));
    }
    use std::cell::Cell;
    use std::future::pending;

    fn role_not_visible() -> AwsError {
        service(
            "InvalidParameterException",
            "Role provided in the request does not exist",
        )
    }

    #[test]
    fn addon_create_retries_what_the_aws_provider_retries() {
        assert!(is_addon_create_transient(&role_not_visible()));
        assert!(is_addon_create_transient(&service(
            "InvalidParameterException",
            "Addon vpc-cni: IAM role is in CREATE_FAILED"
        )));
        assert!(is_addon_create_transient(&service(
            "InvalidParameterException",
            "The role arn:aws:iam::1:role/r does not exist"
        )));
        assert!(!is_addon_create_transient(&service(
            "InvalidParameterException",
            "Addon version specified is not supported"
        )));
        assert!(!is_addon_create_transient(&service(
            "ResourceNotFoundException",
            "No cluster found for name: c. (does not exist)"
        )));
    }

    #[test]
    fn predicates_need_code_and_message() {
        assert!(is_role_not_visible(&role_not_visible()));
        assert!(!is_role_not_visible(&service(
            "InvalidParameterException",
            "other"
        )));
        assert!(!is_role_not_visible(&service(
            "ResourceInUseException",
            "Role provided in the request does not exist"
        )));
        let trust = service(
            "InvalidParameterException",
            "Trust policy of the role provided is invalid",
        );
        assert!(is_trust_not_visible(&trust));
        assert!(!is_role_not_visible(&trust));
        let taken = service("ResourceInUseException", "Association already exists: a-1");
        assert!(is_association_taken(&taken));
        assert!(is_in_use(&taken));
        assert!(!is_association_taken(&service(
            "ResourceInUseException",
            "Addon already exists."
        )));
        assert!(is_entity_exists(&service(
            "EntityAlreadyExists",
            "Role r exists"
        )));
        assert!(!is_entity_exists(&service("NoSuchEntity", "")));
        assert!(is_delete_conflict(&service(
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first."
        )));
        assert!(!is_delete_conflict(&service("NoSuchEntity", "")));
        let busy = service(
            "ResourceInUseException",
            "Addon vpc-cni cannot be updated as it is currently in UPDATING state",
        );
        assert!(is_addon_busy(&busy));
        assert!(!is_addon_busy(&service(
            "ResourceInUseException",
            "Addon already exists."
        )));
        assert!(!is_association_taken(&busy));
        let foreign = service(
            "AccessDeniedException",
            "Cross-account pass role is not allowed.",
        );
        assert!(is_cross_account_role(&foreign));
        assert!(!is_role_not_visible(&foreign));
        assert!(!is_cross_account_role(&service(
            "AccessDeniedException",
            "not authorized"
        )));
        let transport = AwsError::Transport {
            operation: "Op",
            detail: "Role provided in the request does not exist".into(),
        };
        assert!(!is_role_not_visible(&transport));
    }

    #[test]
    fn a_rewritten_trust_is_retried_only_after_our_own_rewrite() {
        let trust = service(
            "InvalidParameterException",
            "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.",
        );
        assert!(is_rewritten_trust_not_visible(&trust, true));
        assert!(!is_rewritten_trust_not_visible(&trust, false));
        assert!(!is_rewritten_trust_not_visible(&role_not_visible(), true));
        assert!(!is_rewritten_trust_not_visible(
            &service(
                "AccessDeniedException",
                "Cross-account pass role is not allowed."
            ),
            true
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn until_done_retries_a_named_error_until_success() {
        let calls = Cell::new(0);
        let started = Instant::now();
        let r = until_done(pending(), "Op", PROPAGATION_TIMEOUT, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                if n < 4 {
                    Attempt::Again(role_not_visible())
                } else {
                    Attempt::Done(Ok(n))
                }
            }
        })
        .await;
        assert_eq!(r.ok(), Some(4));
        // 0.5 s + 0.75 s + 1.125 s of back-off.
        assert_eq!(started.elapsed(), Duration::from_millis(2375));
    }

    #[tokio::test(start_paused = true)]
    async fn until_done_gives_up_at_the_deadline_with_the_last_error() {
        let calls = Cell::new(0);
        let started = Instant::now();
        let r: Result<(), AwsError> = until_done(pending(), "Op", Duration::from_secs(10), || {
            calls.set(calls.get() + 1);
            async { Attempt::Again(role_not_visible()) }
        })
        .await;
        assert!(r.as_ref().is_err_and(is_role_not_visible), "{r:?}");
        assert!(started.elapsed() <= Duration::from_secs(10));
        assert!(started.elapsed() >= Duration::from_secs(5));
        assert!(calls.get() > 3);
    }

    #[tokio::test(start_paused = true)]
    async fn until_done_does_not_retry_a_final_error() {
        let calls = Cell::new(0);
        let r: Result<(), AwsError> = until_done(pending(), "Op", PROPAGATION_TIMEOUT, || {
            calls.set(calls.get() + 1);
            async { Attempt::Done(Err(service("AccessDenied", "no"))) }
        })
        .await;
        assert_eq!(
            r.err()
                .and_then(|e| e.code().map(str::to_string))
                .as_deref(),
            Some("AccessDenied")
        );
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn until_done_stops_when_terraform_is_interrupted() {
        let started = Instant::now();
        let stop = tokio::time::sleep(Duration::from_secs(3));
        let r: Result<(), AwsError> =
            until_done(stop, "CreateThing", PROPAGATION_TIMEOUT, || async {
                Attempt::Again(role_not_visible())
            })
            .await;
        assert!(
            matches!(
                r,
                Err(AwsError::Stopped {
                    operation: "CreateThing"
                })
            ),
            "{r:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    fn observed(state: &str) -> Result<Option<Observed<u32>>, AwsError> {
        Ok(Some(Observed {
            state: state.into(),
            detail: if state == "DEGRADED" {
                "InsufficientNumberOfReplicas: 0 of 2".into()
            } else {
                String::new()
            },
            value: 7,
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_returns_the_value_in_a_target_state() {
        let states = ["CREATING", "DEGRADED", "ACTIVE"];
        let i = Cell::new(0);
        let r = wait_for(
            pending(),
            "x".into(),
            &["CREATING", "DEGRADED"],
            &["ACTIVE"],
            Duration::from_secs(60),
            || {
                let s = states[i.get()];
                i.set(i.get() + 1);
                async move { observed(s) }
            },
        )
        .await;
        assert_eq!(r.ok().flatten(), Some(7));
        assert_eq!(i.get(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_fails_on_a_state_that_is_neither_pending_nor_target() {
        let r = wait_for(
            pending(),
            "addon a".into(),
            &["CREATING"],
            &["ACTIVE"],
            Duration::from_secs(60),
            || async { observed("CREATE_FAILED") },
        )
        .await;
        assert!(
            matches!(&r, Err(WaitError::Failed { state, .. }) if state == "CREATE_FAILED"),
            "{r:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_times_out_with_the_last_state_and_its_reason() {
        let started = Instant::now();
        let r = wait_for(
            pending(),
            "addon a".into(),
            &["DEGRADED"],
            &["ACTIVE"],
            Duration::from_secs(30),
            || async { observed("DEGRADED") },
        )
        .await;
        let text = r.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            text,
            "addon a was still DEGRADED after 30 s: InsufficientNumberOfReplicas: 0 of 2"
        );
        assert!(started.elapsed() <= Duration::from_secs(30));
        assert!(started.elapsed() >= Duration::from_secs(25));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_gone_is_success_only_without_target() {
        let r = wait_for::<u32, _, _>(
            pending(),
            "a".into(),
            &["DELETING"],
            &[],
            Duration::from_secs(5),
            || async { Ok(None) },
        )
        .await;
        assert!(matches!(r, Ok(None)));
        let r = wait_for::<u32, _, _>(
            pending(),
            "a".into(),
            &["CREATING"],
            &["ACTIVE"],
            Duration::from_secs(5),
            || async { Ok(None) },
        )
        .await;
        assert!(matches!(r, Err(WaitError::Gone { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_stops_when_terraform_is_interrupted() {
        let stop = tokio::time::sleep(Duration::from_secs(2));
        let started = Instant::now();
        let r = wait_for(
            stop,
            "addon a".into(),
            &["CREATING"],
            &["ACTIVE"],
            Duration::from_secs(600),
            || async { observed("CREATING") },
        )
        .await;
        assert!(matches!(r, Err(WaitError::Stopped { .. })), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_passes_on_a_read_error() {
        let r = wait_for::<u32, _, _>(
            pending(),
            "a".into(),
            &["CREATING"],
            &["ACTIVE"],
            Duration::from_secs(5),
            || async { Err(service("AccessDeniedException", "no")) },
        )
        .await;
        assert!(matches!(r, Err(WaitError::Aws(_))));
    }
}
