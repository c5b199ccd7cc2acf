//! `eks-emulator`: an in-memory model of the Amazon EKS control-plane API
//! (the REST-JSON subset the eks provider uses), with IAM checks against a
//! configured IAM endpoint (moto), fault injection, call counters and reset,
//! and a minimal Kubernetes API per cluster (`kube`).
//!
//! This module owns the wiring: [`Config`], the shared [`Emulator`] and the
//! [`app`] router that both the binary and the tests use. It does not own any
//! operation: those live in `clusters`, `associations`, `addons` and `tags`.
//! The emulator models AWS, not the provider: it shares no types with it.

#![deny(missing_docs)]

pub mod addons;
pub mod admin;
pub mod associations;
pub mod catalogue;
pub mod clusters;
pub mod config_schema;
pub mod error;
pub mod faults;
pub mod iam;
pub mod ids;
pub mod kube;
pub mod router;
pub mod state;
pub mod strict;
pub mod tags;
pub mod wire;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::{get, post};

use crate::catalogue::Catalogue;
use crate::iam::IamClient;
use crate::state::World;
pub use crate::strict::{Rule, Strict};

/// Account used when none is given (moto's default account).
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// Startup configuration of one emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// The AWS account every resource belongs to.
    pub account_id: String,
    /// Base URL of the IAM endpoint (moto) used to check roles; `None`
    /// skips the IAM checks (every role is taken to exist and be trusted).
    pub iam_endpoint: Option<String>,
    /// Serve a Kubernetes API (HTTPS, own loopback port) per cluster; off,
    /// a cluster's endpoint is an AWS-looking URL nobody serves.
    pub kubernetes_api: bool,
    /// Strict mode: the rules for undocumented behaviour that are on
    /// (FACTS.md, "Strict mode"). None by default.
    pub strict: Strict,
}

/// The environment variable that turns strict mode on: `1`/`true`/`all`
/// for every rule, or a list such as `S1,X1`.
pub const STRICT_ENV: &str = "EKS_EMULATOR_STRICT";

impl Config {
    /// The rules [`STRICT_ENV`] asks for (none when unset).
    pub fn strict_from_env() -> Result<Strict, String> {
        match std::env::var(STRICT_ENV) {
            Ok(v) => Strict::parse(&v).map_err(|e| format!("{STRICT_ENV}: {e}")),
            Err(_) => Ok(Strict::off()),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            iam_endpoint: None,
            kubernetes_api: true,
            strict: Strict::off(),
        }
    }
}

/// The emulator: configuration, the addon catalogue, the IAM client and the
/// mutable world (resources, counters, faults) behind one lock.
///
/// The lock is never held across an `.await`: operations do their IAM
/// look-ups first and then apply their change in one critical section.
pub struct Emulator {
    /// Startup configuration.
    pub config: Config,
    /// The addon catalogue (from `data/addons.json`).
    pub catalogue: Catalogue,
    /// Client for IAM role look-ups, when an endpoint is configured.
    pub iam: Option<IamClient>,
    world: Mutex<World>,
}

impl Emulator {
    /// Builds an emulator with empty state.
    pub fn new(config: Config) -> Arc<Emulator> {
        let iam = config.iam_endpoint.as_deref().map(IamClient::new);
        Arc::new(Emulator {
            config,
            catalogue: Catalogue::builtin(),
            iam,
            world: Mutex::new(World::default()),
        })
    }

    /// Locks the world. A panic in another request must not wedge the
    /// emulator, so a poisoned lock is taken over as is.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The HTTP application: the admin routes under `/_emulator/` and every
/// EKS operation (routed by method and path in [`router::dispatch`]).
pub fn app(emulator: Arc<Emulator>) -> Router {
    let admin = Router::new()
        .route("/_emulator/reset", post(admin::reset))
        .route("/_emulator/counters", get(admin::counters))
        .route("/_emulator/counters/reset", post(admin::reset_counters))
        .route(
            "/_emulator/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
        .route("/_emulator/state", get(admin::state))
        .route(
            "/_emulator/kubernetes/{cluster}",
            get(admin::get_kubernetes).post(admin::put_kubernetes),
        )
        .layer(axum::middleware::from_fn(admin::log));
    admin.fallback(router::dispatch).with_state(emulator)
}
