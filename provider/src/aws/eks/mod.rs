//! EKS, one module per concept: [`association`] (Pod Identity
//! associations), [`addon`] (addons, their versions, updates and waits),
//! [`cluster`] (clusters and the per-cluster agent check) and [`tags`]
//! (TagResource / UntagResource of any EKS ARN).

pub mod addon;
pub mod association;
pub mod cluster;
pub mod tags;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// An EKS timestamp (`createdAt`, `modifiedAt`: epoch seconds on the wire,
/// with a fraction) as RFC 3339 text in whole seconds, as the resources show
/// it (the AWS provider's `created_at` is Go's `time.RFC3339`, seconds too).
pub(crate) fn rfc3339(t: Option<DateTime>) -> Option<String> {
    t.and_then(|t| DateTime::from_secs(t.secs()).fmt(Format::DateTime).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_whole_seconds_in_utc() {
        let t = DateTime::from_fractional_secs(1_764_588_461, 0.750_999);
        assert_eq!(rfc3339(Some(t)).as_deref(), Some("2025-12-01T11:27:41Z"));
        assert_eq!(rfc3339(None), None);
    }
}
