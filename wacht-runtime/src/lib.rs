//! Runtime of the [`wacht`](https://docs.rs/wacht) crate: configuration, key cache,
//! session-token verification, decisions and rejections.
//!
//! Use it through the `wacht` facade; the attribute macros there call into this crate.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod backend;
mod client_ip;
mod clock;
mod config;
mod context;
mod deadline;
mod gateway;
mod keys;
mod machine;
mod outbound;
mod rejection;
mod requirement;
mod secret;
mod session;
mod token_cache;

pub mod bridge;

#[doc(hidden)]
pub mod macro_support;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

use std::sync::OnceLock;

pub use auth::Auth;
pub use backend::{
    BackendClient, BackendError, ErrorBody, ListUsersOptions, Page, SortOrder, User, Users,
};
pub use bridge::{BridgeError, BridgedAuth};
pub use client_ip::ClientIp;
pub use clock::Clock;
pub use config::{
    ConfigError, DEFAULT_BACKEND_API_URL, DEFAULT_GATEWAY_URL, DEFAULT_HTTP_TIMEOUT,
    DEFAULT_JWKS_MIN_REFRESH_INTERVAL, DEFAULT_JWKS_TTL, DEFAULT_TOKEN_CACHE_CAPACITY,
    DEFAULT_TOKEN_CACHE_MAX_BYTES, MAX_LEEWAY_SECONDS, WachtConfig, WachtConfigBuilder,
};
pub use context::Wacht;
pub use deadline::{DEADLINE_MARGIN, Deadline};
pub use gateway::{
    AuthzRequest, AuthzResponse, GatewayClient, GatewayError, Identity, Principal, PrincipalType,
    RateLimitState,
};
pub use keys::KeyFetchError;
pub use machine::{
    AcceptedPrincipal, GATEWAY_METHODS, MAX_CREDENTIAL_LEN, MachineAuth, MachineRequirement,
    OAuthGrant,
};
pub use rejection::{Rejection, RejectionCode};
pub use requirement::{Denial, PermissionRule, Requirement};
pub use secret::Secret;
pub use session::AuthError;

static GLOBAL: OnceLock<Result<Wacht, ConfigError>> = OnceLock::new();

/// Installs the process-wide [`Wacht`] the macros use. Call it before the first protected
/// request; without it, the first request builds one from the environment
/// ([`WachtConfig::from_env`]).
///
/// Errors with [`ConfigError::AlreadyInitialized`] once the instance exists, and with any
/// error of [`Wacht::new`].
pub fn init(config: WachtConfig) -> Result<Wacht, ConfigError> {
    let wacht = Wacht::new(config)?;
    let mut installed = false;
    GLOBAL.get_or_init(|| {
        installed = true;
        Ok(wacht.clone())
    });
    if installed {
        Ok(wacht)
    } else {
        Err(ConfigError::AlreadyInitialized)
    }
}

/// The process-wide [`Wacht`]: the one [`init`] installed, else one built from the
/// environment on first use. A configuration error is remembered and returned every time
/// (requests then get `500 auth_misconfigured`).
pub fn global() -> Result<Wacht, ConfigError> {
    GLOBAL
        .get_or_init(|| {
            let built = Wacht::from_env();
            if let Err(error) = &built {
                tracing::error!(target: "wacht", %error, "building wacht from the environment failed");
            }
            built
        })
        .clone()
}
