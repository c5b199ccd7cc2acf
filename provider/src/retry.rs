//! Retrying an error we can name, for a time we can name.
//!
//! Owns: the one retry loop (with a deadline, back-off, and StopProvider
//! honoured) and the named timeouts. Throttling and 5xx are not retried here:
//! the SDK's adaptive retry handles them (`max_retries`). Here we retry only
//! eventual-consistency answers that the SDK rightly treats as final.

use crate::errors::AwsError;
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
