//! Runtime of the [`wacht`](https://docs.rs/wacht) crate: configuration, key cache,
//! session-token verification, decisions and rejections.
//!
//! Use it through the `wacht` facade; the attribute macros there call into this crate.
//!
//! # Layout
//!
//! One module ("room") per stage; data flows one way: request head → credential → verified
//! identity → decision → answer. A room imports only the rooms listed for it (never back
//! through the crate root), so there is no import circle:
//!
//! | room | what it holds | may import |
//! |---|---|---|
//! | `platform` | what differs on wasm32 (time, timers, `Send` wrappers) | nothing of this crate |
//! | `admitted` | an admitted caller and the headers its answer must carry (`Admitted`, `ResponseHeaders`) | nothing of this crate |
//! | `outbound::answer` | what an outbound call gives back (`Answer`, `ReadBody`, `OutboundError`) | nothing of this crate |
//! | `outbound::fetch` (wasm32) | the transport: the platform's `fetch`, `redirect: "manual"`, capped body | `outbound::answer`, `platform` |
//! | `strict`, `secret`, `clock`, `outbound`, `rejection`, `deadline`, `client_ip` | strict decoders, redacted secrets, time, the outbound-HTTP rules and `call`, the one answer shape, request deadlines, client-IP policies | `platform`; `outbound` also its two rooms above; `rejection` also `admitted` |
//! | `metrics` | counters, histograms, a gauge (feature `metrics`; empty without it) | `rejection` |
//! | `head` | the request head and its credentials | `deadline`, `rejection` |
//! | `jwk` | JWKS and PEM keys, parsed | `strict`, `outbound` |
//! | `keys` | the key set, key choice, the JWKS cache | `clock`, `jwk`, `metrics`, `outbound` |
//! | `config` (`env`: reading the environment, `values`: ranges and URLs, `browser`: the browser-session settings) | configuration from the environment or a builder | `client_ip`, `clock`, `jwk`, `rejection`, `secret` |
//! | `browser` | cookies, the frontend API's token exchange, sign-in redirects, same-origin checks, WebSocket tokens | `config`, `head`, `outbound` |
//! | `session` | strict token verification and claims | `config`, `head`, `jwk`, `keys`, `rejection`, `strict` |
//! | `auth`, `token_cache` | the verified identity; verified tokens remembered | `session` |
//! | `caller` | a person or a machine, for endpoints taking both | `auth`, `machine` |
//! | `requirement` | the session decision (403s) | `auth`, `rejection` |
//! | `gateway`, `backend` | the gateway client; the backend API client and transport (feature `backend`, over `wacht_backend`) | `config`, `metrics`, `outbound`, `platform`, `secret`, `strict` |
//! | `machine` | the machine decision | `client_ip`, `gateway`, `head`, `rejection`, `requirement`, `secret` |
//! | `bridge` | the `x-wacht-auth` header bridge | `auth`, `rejection`, `requirement`, `session`, `strict` |
//! | `context` | [`Wacht`], the process-wide instance ([`init`], [`global`]) | every room above |
//! | `webhook` | verifying Wacht's webhook deliveries (Standard Webhooks), the delivery log | `rejection`, `clock`, `bridge`; `context` only for the configured clock |
//! | `macro_support` | what the macros' expansions call | `admitted`, `bridge`, `context`, `head`, `webhook` and the types above |
//! | `layer`, `extract` | tower layers, axum extractors (features `tower`, `axum`) | `admitted`, `bridge`, `browser`, `context`, `head`, `webhook` and the types above |
//! | `netlify` | `lambda_http::run` that reads Netlify's events too (feature `netlify`) | nothing of this crate |
//! | `openapi` | OpenAPI security schemes and the rejection schema (features `utoipa`, `aide`) | `rejection` |
//! | `testing` | the local emulator (feature `testing`) | the public API |
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admitted;
mod auth;
#[cfg(feature = "backend")]
mod backend;
mod browser;
mod caller;
mod client_ip;
mod clock;
mod config;
mod context;
mod deadline;
mod gateway;
mod head;
mod jwk;
mod keys;
mod machine;
#[cfg(not(feature = "metrics"))]
mod metrics;
mod outbound;
mod platform;
mod rejection;
mod requirement;
mod secret;
mod session;
mod strict;
mod token_cache;
#[cfg(target_family = "wasm")]
mod webcrypto;
#[cfg(all(feature = "workers", target_family = "wasm"))]
mod workers;

pub mod bridge;
pub mod webhook;

#[doc(hidden)]
pub mod macro_support;

#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod layer;

#[cfg(feature = "axum")]
mod extract;

#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;

#[cfg(feature = "netlify")]
#[cfg_attr(docsrs, doc(cfg(feature = "netlify")))]
pub mod netlify;

#[cfg(any(feature = "utoipa", feature = "aide"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "utoipa", feature = "aide"))))]
pub mod openapi;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use admitted::{Admitted, ResponseHeaders};
pub use auth::{Auth, ClaimsError};
#[cfg(feature = "backend")]
#[cfg_attr(docsrs, doc(cfg(feature = "backend")))]
#[allow(deprecated)]
pub use backend::{
    BackendClient, BackendError, ErrorBody, ListUsersOptions, Page, SortOrder, User, Users,
};
pub use bridge::{BridgeError, BridgedAuth};
pub use caller::Caller;
pub use client_ip::ClientIp;
pub use clock::Clock;
pub use config::{
    AppUrl, ConfigError, DEFAULT_BACKEND_API_URL, DEFAULT_GATEWAY_URL, DEFAULT_HTTP_TIMEOUT,
    DEFAULT_JWKS_MIN_REFRESH_INTERVAL, DEFAULT_JWKS_TTL, DEFAULT_TOKEN_CACHE_CAPACITY,
    DEFAULT_TOKEN_CACHE_MAX_BYTES, HTTP_TIMEOUT_RANGE, JWKS_MIN_REFRESH_INTERVAL_RANGE,
    JWKS_TTL_RANGE, MAX_JWKS_TTL_SECONDS, MAX_LEEWAY_SECONDS, MAX_TOKEN_CACHE_CAPACITY,
    MAX_TOKEN_CACHE_MAX_BYTES, WachtConfig, WachtConfigBuilder,
};
pub use context::{Wacht, global, init};
pub use deadline::{DEADLINE_MARGIN, Deadline};
pub use gateway::{
    AuthzRequest, AuthzResponse, GatewayClient, GatewayError, Identity, Principal, PrincipalType,
    RateLimitState,
};
pub use head::CredentialError;
pub use keys::KeyFetchError;
pub use machine::{
    AcceptedPrincipal, GATEWAY_METHODS, MAX_CREDENTIAL_LEN, MachineAuth, MachineRequirement,
    OAuthGrant,
};
pub use rejection::{Challenge, Rejection, RejectionCode};
pub use requirement::{Denial, PermissionRule, Requirement};
pub use secret::Secret;
pub use session::AuthError;
/// Wacht's platform (backend) API: the operations, grouped by resource, and their types (the
/// `wacht-backend` crate). Reach them through [`Wacht::backend`], whose [`BackendClient`]
/// dereferences to a [`backend_api::Backend`].
#[cfg(feature = "backend")]
#[cfg_attr(docsrs, doc(cfg(feature = "backend")))]
pub use wacht_backend as backend_api;
pub use webhook::{Webhook, WebhookEvent};

/// On wasm32: whether session-token signatures are checked with the platform's WebCrypto
/// (`crypto.subtle.verify`; the default) or with RustCrypto, process-wide. WebCrypto is the
/// platform's own verifier and the faster one (RustCrypto's P-256 is ~25x slower inside
/// workerd); RustCrypto is used anyway for a key WebCrypto cannot import, and where the
/// platform has no WebCrypto.
///
/// No effect on native targets, which always verify with aws-lc-rs.
pub fn use_webcrypto(enabled: bool) {
    #[cfg(target_family = "wasm")]
    webcrypto::set_enabled(enabled);
    #[cfg(not(target_family = "wasm"))]
    let _ = enabled;
}
