//! Fault injection and call counters.
//!
//! This module owns the fault configuration set through
//! `POST /_emulator/faults`, the seeded random source that decides each
//! injected fault, and the per-operation / per-error-code counters. The
//! faults that belong to one operation's semantics (IAM propagation delay,
//! trust rewrite delay, delete consistency, addon transitions) are read
//! here but applied by the operations themselves.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Code};

/// Default time an addon spends in CREATING, UPDATING or DELETING.
pub const DEFAULT_ADDON_TRANSITION_MS: u64 = 300;

/// The fault configuration. `POST /_emulator/faults` replaces it whole:
/// keys left out are off.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Added latency before each (selected) operation, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Probability (0–1) that a (selected) call fails with
    /// ThrottlingException (429, `Rate exceeded`).
    #[serde(default)]
    pub throttle_rate: f64,
    /// Probability (0–1) that a (selected) call fails with a 5xx
    /// (InternalFailure 500 or ServiceUnavailableException 503).
    #[serde(default)]
    pub error_5xx_rate: f64,
    /// Probability (0–1) that a (selected) call that succeeded has its
    /// response replaced by a 5xx: the change happened, the client does not
    /// know (tests retries with clientRequestToken and read-after-error).
    #[serde(default)]
    pub error_5xx_after_rate: f64,
    /// Restricts latency, throttling and 5xx faults to these operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// A role is reported missing until this many seconds after its
    /// CreateDate (IAM eventual consistency).
    #[serde(default)]
    pub iam_propagation_delay_secs: f64,
    /// For this many seconds after the emulator first reads a role's
    /// rewritten trust policy, EKS still reads the previous one (IAM
    /// eventual consistency, FACTS.md F16): an association create or update
    /// naming the role is judged by the old trust, so a trust just fixed to
    /// allow EKS is refused with `Trust policy of the role provided is
    /// invalid` meanwhile.
    #[serde(default)]
    pub trust_rewrite_delay_secs: f64,
    /// Re-creating an association for the same namespace and service account
    /// within this many seconds of deleting one fails with
    /// ResourceInUseException (EKS delete eventual consistency).
    #[serde(default)]
    pub delete_consistency_delay_secs: f64,
    /// Seed for the random source, for reproducible fault sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Time an addon spends in CREATING, UPDATING or DELETING
    /// (default [`DEFAULT_ADDON_TRANSITION_MS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_transition_ms: Option<u64>,
    /// New clusters stay CREATING this long (default 0: ACTIVE at once);
    /// association and addon changes on them fail with
    /// InvalidRequestException meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_creating_ms: Option<u64>,
    /// Makes the named addon end its next transitions in a failed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_fail: Option<AddonFail>,
    /// Addons (by name, any cluster) that are DEGRADED for reasons of their
    /// own while the fault is set: health issues independent of updates
    /// (FACTS.md F5). Creates end DEGRADED, updates still succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addon_degraded: Vec<AddonHealth>,
}

/// A lasting health issue of an addon (FACTS.md F5): the addon shows
/// DEGRADED with this issue whenever it is not in a transition, and its
/// updates complete `Successful` all the same.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AddonHealth {
    /// The addon that is unhealthy (any cluster).
    pub addon_name: String,
    /// The health issue's code (default InsufficientNumberOfReplicas).
    #[serde(default = "default_fail_code")]
    pub code: String,
    /// The health issue's message (default: the real text of that code).
    #[serde(default = "default_degraded_message")]
    pub message: String,
}

/// The real message of InsufficientNumberOfReplicas (FACTS.md F5).
pub const INSUFFICIENT_REPLICAS_MESSAGE: &str =
    "The add-on is unhealthy because it doesn't have the desired number of replicas.";

fn default_degraded_message() -> String {
    INSUFFICIENT_REPLICAS_MESSAGE.to_owned()
}

/// An addon failure to inject.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AddonFail {
    /// The addon that fails (any cluster).
    pub addon_name: String,
    /// The status it ends in: DEGRADED, CREATE_FAILED or UPDATE_FAILED.
    pub status: String,
    /// The health issue's message.
    #[serde(default = "default_fail_message")]
    pub message: String,
    /// The health issue's code (default InsufficientNumberOfReplicas).
    #[serde(default = "default_fail_code")]
    pub code: String,
}

fn default_fail_message() -> String {
    "Injected failure: pods of the addon are not ready".to_owned()
}

fn default_fail_code() -> String {
    "InsufficientNumberOfReplicas".to_owned()
}

impl Faults {
    /// Checks the values; the message goes back to the caller of the admin
    /// route.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("throttle_rate", self.throttle_rate),
            ("error_5xx_rate", self.error_5xx_rate),
            ("error_5xx_after_rate", self.error_5xx_after_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        let delays = [
            self.iam_propagation_delay_secs,
            self.delete_consistency_delay_secs,
            self.trust_rewrite_delay_secs,
        ];
        if delays.iter().any(|d| !d.is_finite() || *d < 0.0) {
            return Err("delays must not be negative".to_owned());
        }
        if let Some(fail) = &self.addon_fail
            && !["DEGRADED", "CREATE_FAILED", "UPDATE_FAILED"].contains(&fail.status.as_str())
        {
            return Err(
                "addon_fail.status must be DEGRADED, CREATE_FAILED or UPDATE_FAILED".to_owned(),
            );
        }
        if self.addon_degraded.iter().any(|h| h.addon_name.is_empty()) {
            return Err("addon_degraded[].addon_name must not be empty".to_owned());
        }
        Ok(())
    }

    /// The lasting health issue of `addon_name`, if the fault names it.
    pub fn degraded(&self, addon_name: &str) -> Option<&AddonHealth> {
        self.addon_degraded
            .iter()
            .find(|h| h.addon_name == addon_name)
    }

    fn applies_to(&self, operation: &str) -> bool {
        match &self.operations {
            None => true,
            Some(ops) => ops.iter().any(|o| o == operation),
        }
    }

    /// How long a rewritten trust policy stays unseen by EKS.
    pub fn trust_rewrite_delay(&self) -> Duration {
        Duration::try_from_secs_f64(self.trust_rewrite_delay_secs).unwrap_or_default()
    }

    /// Time an addon spends in a transitional status.
    pub fn addon_transition(&self) -> Duration {
        Duration::from_millis(
            self.addon_transition_ms
                .unwrap_or(DEFAULT_ADDON_TRANSITION_MS),
        )
    }
}

/// Call counters: calls per operation and errors per code.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Calls per operation name (every call, whether it failed or not).
    pub operations: BTreeMap<String, u64>,
    /// Error responses per error code.
    pub errors: BTreeMap<String, u64>,
}

impl Counters {
    /// `{"CreatePodIdentityAssociation": 3, ..., "errors": {"ThrottlingException": 1}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (op, n) in &self.operations {
            map.insert(op.clone(), (*n).into());
        }
        let errors: serde_json::Map<String, serde_json::Value> = self
            .errors
            .iter()
            .map(|(k, v)| (k.clone(), (*v).into()))
            .collect();
        map.insert("errors".into(), errors.into());
        map.into()
    }
}

/// Faults, counters and the random source.
#[derive(Debug)]
pub struct Injector {
    /// Current fault configuration.
    pub faults: Faults,
    /// Call counters.
    pub counters: Counters,
    rng: StdRng,
}

impl Default for Injector {
    fn default() -> Self {
        Injector {
            faults: Faults::default(),
            counters: Counters::default(),
            rng: StdRng::from_rng(&mut rand::rng()),
        }
    }
}

/// What to do to one call before running it.
#[derive(Debug, Default)]
pub struct Decision {
    /// Delay to add.
    pub latency: Duration,
    /// Error to return instead of running the operation.
    pub error: Option<ApiError>,
    /// Error to return instead of a successful operation's response.
    pub error_after: Option<ApiError>,
}

impl Injector {
    /// Replaces the fault configuration (and reseeds when a seed is given).
    pub fn set_faults(&mut self, faults: Faults) {
        if let Some(seed) = faults.seed {
            self.rng = StdRng::seed_from_u64(seed);
        }
        self.faults = faults;
    }

    /// Counts a call of `operation` and decides its injected faults.
    pub fn begin(&mut self, operation: &str) -> Decision {
        *self
            .counters
            .operations
            .entry(operation.to_owned())
            .or_default() += 1;
        if !self.faults.applies_to(operation) {
            return Decision::default();
        }
        let latency = Duration::from_millis(self.faults.latency_ms);
        let error = if self.faults.throttle_rate > 0.0
            && self.rng.random::<f64>() < self.faults.throttle_rate
        {
            Some(ApiError::new(Code::Throttling, "Rate exceeded"))
        } else if self.faults.error_5xx_rate > 0.0
            && self.rng.random::<f64>() < self.faults.error_5xx_rate
        {
            Some(self.server_error())
        } else {
            None
        };
        let error_after = (error.is_none()
            && self.faults.error_5xx_after_rate > 0.0
            && self.rng.random::<f64>() < self.faults.error_5xx_after_rate)
            .then(|| self.server_error());
        Decision {
            latency,
            error,
            error_after,
        }
    }

    fn server_error(&mut self) -> ApiError {
        if self.rng.random::<bool>() {
            ApiError::new(
                Code::InternalFailure,
                "The request processing has failed because of an unknown error, exception or failure.",
            )
        } else {
            ApiError::new(
                Code::ServiceUnavailable,
                "The service is unavailable. Please try again shortly.",
            )
        }
    }

    /// Counts an error response.
    pub fn count_error(&mut self, code: Code) {
        *self
            .counters
            .errors
            .entry(code.as_str().to_owned())
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_faults_are_reproducible() {
        let faults = Faults {
            throttle_rate: 0.5,
            seed: Some(7),
            ..Faults::default()
        };
        let run = || {
            let mut inj = Injector::default();
            inj.set_faults(faults.clone());
            (0..50)
                .map(|_| inj.begin("ListClusters").error.is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }

    #[test]
    fn addon_degraded_defaults_to_the_real_issue() {
        let f: Faults =
            serde_json::from_str(r#"{"addon_degraded": [{"addon_name": "coredns"}]}"#).unwrap();
        let h = f.degraded("coredns").unwrap();
        assert_eq!(h.code, "InsufficientNumberOfReplicas");
        assert_eq!(h.message, INSUFFICIENT_REPLICAS_MESSAGE);
        assert!(f.degraded("kube-proxy").is_none());
    }

    #[test]
    fn operations_restrict_faults() {
        let mut inj = Injector::default();
        inj.set_faults(Faults {
            throttle_rate: 1.0,
            operations: Some(vec!["CreatePodIdentityAssociation".into()]),
            ..Faults::default()
        });
        assert!(inj.begin("ListClusters").error.is_none());
        assert!(inj.begin("CreatePodIdentityAssociation").error.is_some());
        assert_eq!(inj.counters.operations["ListClusters"], 1);
    }

    #[test]
    fn unknown_keys_and_bad_rates_are_rejected() {
        assert!(serde_json::from_str::<Faults>(r#"{"throtle_rate": 1}"#).is_err());
        let f: Faults = serde_json::from_str(r#"{"throttle_rate": 2}"#).unwrap();
        assert!(f.validate().is_err());
        let f: Faults =
            serde_json::from_str(r#"{"addon_degraded": [{"addon_name": ""}]}"#).unwrap();
        assert!(f.validate().is_err());
        assert!(serde_json::from_str::<Faults>(r#"{"addon_degraded": [{"addon": "x"}]}"#).is_err());
    }
}
