//! A local Wacht for tests and examples: no account, no network beyond loopback.
//!
//! [`LocalWacht`] runs an HTTP server on `127.0.0.1` that plays
//!
//! - the Wacht frontend API: the JWKS at `/.well-known/jwks.json`, with session tokens
//!   minted by [`LocalWacht::token`] and signed with its keys, key rotation and faults
//!   ([`JwksFault`]);
//! - the gateway: `POST /v1/authz/check`, with API keys ([`LocalWacht::create_api_key`]),
//!   OAuth access tokens ([`LocalWacht::create_oauth_token`]), permissions, rate limits
//!   ([`RateLimitRule`]) and faults ([`GatewayFault`]);
//! - the backend API: `GET /users` with seeded users ([`TestUser`]); users, organizations and
//!   workspaces (create, read, list, update, delete, members, roles) in the platform API's
//!   shapes; its bearer key ([`LocalWacht::backend_api_key`]) and faults ([`BackendFault`]);
//! - webhook deliveries: [`LocalWacht::deliver`] sends an [`OutgoingEvent`] signed as Wacht
//!   signs it, with [`LocalWacht::webhook_secret`].
//!
//! It counts and records what it receives. [`LocalWacht::config`] gives a configuration
//! pointing at it.
//!
//! ```
//! use wacht_runtime::testing::{KeyAlgorithm, LocalWacht};
//!
//! let wacht = LocalWacht::start()?;
//! assert!(wacht.url().starts_with("http://127.0.0.1:"));
//! assert!(wacht.publishable_key().starts_with("pk_test_"));
//!
//! // A session token for user_42, signed with the emulator's current ES256 key.
//! let token = wacht.token().subject("user_42").organization_permissions(["user:read"]).sign();
//!
//! // A second published key, and a token signed with it.
//! let rsa = wacht.add_key(KeyAlgorithm::Rs256);
//! let other = wacht.token().key(&rsa).sign();
//! # let _ = (token, other);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Available with the `testing` feature only.
//!
//! # Layout
//!
//! Imports go down this table only, so there is no import circle. The server hands each
//! endpoint (`jwks`, `gateway`, `backend`) its own state; no endpoint imports the server.
//!
//! | module        | holds                                                  | may import            |
//! |---------------|--------------------------------------------------------|-----------------------|
//! | `mod.rs`      | [`LocalWacht`] and the re-exports                      | any module below      |
//! | `server`      | thread, accept loop, counters, router, shared state    | endpoints, `http`     |
//! | `jwks`        | the JWKS endpoint, [`JwksFault`]                       | `http`, `keys`        |
//! | `gateway`     | the check endpoint: [`GatewayFault`], state, decisions | `http`, `credentials`, `random` |
//! | `platform`    | the backend API beyond `GET /users`                    | `backend`, `directory`, `multipart`, `http` |
//! | `backend`     | `GET /users`, [`TestUser`], [`BackendFault`], state    | `directory`, `http`, `random` |
//! | `directory`   | organizations, workspaces, roles, memberships          | `http`                |
//! | `multipart`   | the `multipart/form-data` parser                       | nothing               |
//! | `credentials` | [`ApiKeySpec`], [`ApiKey`], [`OAuthTokenSpec`], …      | `random`              |
//! | `mint`        | [`TokenBuilder`]                                       | `keys`                |
//! | `keys`        | [`TestKey`], [`KeyAlgorithm`]                          | `random`              |
//! | `http`        | answer and body types, response builders, state lock   | nothing               |
//! | `random`      | random ids and secrets                                 | nothing               |
//! | `serve`       | [`serve()`], [`serve_with`], [`TestServer`]            | nothing               |
//! | `webhooks`    | [`OutgoingEvent`], [`LocalWacht::deliver`], the signer  | `random`              |

mod backend;
mod credentials;
mod directory;
mod frontend;
mod gateway;
mod http;
mod jwks;
mod keys;
mod mint;
mod multipart;
mod platform;
mod random;
mod serve;
mod server;
mod webhooks;

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

pub use backend::{BackendCall, BackendFault, TestUser};
pub use credentials::{
    ApiKey, ApiKeySpec, OAuthToken, OAuthTokenSpec, RateLimitRule, RateLimitScope,
};
pub use frontend::{FrontendFault, FrontendMode, SessionUser};
pub use gateway::GatewayFault;
pub use jwks::JwksFault;
pub use keys::{KeyAlgorithm, TestKey, base64url};
pub use mint::TokenBuilder;
pub use serve::{ServedResponse, TestServer, serve, serve_with};
pub use webhooks::{Delivered, OutgoingEvent, WACHT_WEBHOOK_USER_AGENT, sign_webhook};

use crate::clock::Clock;
use crate::config::{WachtConfig, WachtConfigBuilder};
use backend::BackendState;
use gateway::{GATEWAY_PATH, GatewayState};
use jwks::{JWKS_PATH, JwksState};
use server::{ServerHandle, State};

/// A local Wacht emulator listening on `127.0.0.1` (a free port).
///
/// The server runs on its own thread with its own tokio runtime, so it works from plain
/// synchronous code and outlives any one `#[tokio::test]` runtime. Handles are cheap to clone
/// and share one server; the server stops, and its port is released, when the last handle is
/// dropped (keep one alive for as long as the emulator must answer).
///
/// It starts with one ES256 key, published and used to sign minted tokens.
///
/// ```
/// use wacht_runtime::testing::LocalWacht;
///
/// let wacht = LocalWacht::start()?;
/// assert_eq!(wacht.jwks_url(), format!("{}/.well-known/jwks.json", wacht.url()));
/// assert_eq!(wacht.jwks_fetches(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct LocalWacht {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<State>,
    /// The endpoint signing secret of webhook deliveries (`whsec_…`).
    webhook_secret: String,
    // Dropped with the last handle, which stops the server.
    _server: ServerHandle,
}

impl std::fmt::Debug for LocalWacht {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWacht")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl LocalWacht {
    /// Generates an ES256 key, binds `127.0.0.1:0` and starts serving on a background
    /// thread. Returns once the port is bound: requests made right after are answered.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound, the thread or runtime cannot be created, or key or
    /// random id generation fails.
    pub fn start() -> io::Result<Self> {
        let key = TestKey::try_generate(KeyAlgorithm::Es256)?;
        let (listener, url) = server::bind()?;
        let state = Arc::new(State {
            url,
            requests: Default::default(),
            connections: Default::default(),
            jwks: JwksState::new(key).into(),
            gateway: GatewayState::new()?.into(),
            backend: BackendState::new()?.into(),
            frontend: Default::default(),
        });
        let server = server::spawn(listener, Arc::clone(&state))?;
        Ok(Self {
            inner: Arc::new(Inner {
                state,
                webhook_secret: webhooks::new_signing_secret(),
                _server: server,
            }),
        })
    }

    fn state(&self) -> &State {
        &self.inner.state
    }

    /// The frontend API URL: `http://127.0.0.1:PORT`, no trailing slash. It is also the
    /// `iss` of minted tokens.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.state().url
    }

    /// The publishable key naming this emulator: `pk_test_` followed by the standard
    /// base64 of [`LocalWacht::url`].
    #[must_use]
    pub fn publishable_key(&self) -> String {
        format!("pk_test_{}", STANDARD.encode(self.url()))
    }

    /// `<url>/.well-known/jwks.json`.
    #[must_use]
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.url())
    }

    /// A configuration builder pointing at this emulator: its publishable key, its URL as
    /// the gateway and backend API URLs (so a test never reaches the real Wacht), and its
    /// backend API key ([`LocalWacht::backend_api_key`]). Add settings (clock, leeway,
    /// TTLs, …) before `build`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let config = wacht.config_builder().jwks_ttl(Duration::from_secs(1)).build().unwrap();
    /// assert_eq!(config.frontend_api_url(), Some(wacht.url()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn config_builder(&self) -> WachtConfigBuilder {
        WachtConfig::builder()
            .publishable_key(self.publishable_key())
            .gateway_url(self.url())
            .backend_api_url(self.url())
            .api_key(self.backend_api_key())
    }

    /// A ready configuration pointing at this emulator ([`LocalWacht::config_builder`] with
    /// nothing added).
    ///
    /// ```
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let config = wacht.config();
    /// assert_eq!(config.jwks_url().as_deref(), Some(wacht.jwks_url().as_str()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// When the configuration refuses the emulator's own URLs (a bug in the test kit).
    #[must_use]
    pub fn config(&self) -> WachtConfig {
        match self.config_builder().build() {
            Ok(config) => config,
            Err(err) => panic!("wacht testing: the emulator's configuration is invalid: {err}"),
        }
    }

    // ----- keys -----

    /// The default signing key of [`LocalWacht::token`].
    #[must_use]
    pub fn current_key(&self) -> TestKey {
        self.state().jwks().current.clone()
    }

    /// The keys published (in order) while no raw document is published.
    #[must_use]
    pub fn keys(&self) -> Vec<TestKey> {
        self.state().jwks().keys.clone()
    }

    /// Generates a key and publishes it after the others. The current (default signing) key
    /// does not change.
    ///
    /// # Panics
    ///
    /// When key generation fails (see [`TestKey::generate`]).
    pub fn add_key(&self, algorithm: KeyAlgorithm) -> TestKey {
        let key = TestKey::generate(algorithm);
        self.add_test_key(key.clone());
        key
    }

    /// Publishes an existing key after the others (for instance
    /// [`TestKey::with_kid`] of another key, to publish a duplicate `kid`).
    pub fn add_test_key(&self, key: TestKey) {
        self.state().jwks().keys.push(key);
    }

    /// Generates a key that replaces every published key and becomes the current key.
    ///
    /// Tokens signed before keep their (now unpublished) `kid`.
    ///
    /// ```
    /// use wacht_runtime::testing::{KeyAlgorithm, LocalWacht};
    ///
    /// let wacht = LocalWacht::start()?;
    /// let old = wacht.current_key();
    /// let new = wacht.rotate(KeyAlgorithm::EdDsa);
    /// assert_eq!(wacht.current_key().kid(), new.kid());
    /// assert_ne!(old.kid(), new.kid());
    /// assert_eq!(wacht.keys().len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// When key generation fails (see [`TestKey::generate`]).
    pub fn rotate(&self, algorithm: KeyAlgorithm) -> TestKey {
        let key = TestKey::generate(algorithm);
        let mut jwks = self.state().jwks();
        jwks.keys = vec![key.clone()];
        jwks.current = key.clone();
        key
    }

    /// Makes `key` the current key (the default signing key), without publishing it.
    /// Combine with [`LocalWacht::add_test_key`] to publish it too.
    pub fn set_current_key(&self, key: &TestKey) {
        self.state().jwks().current = key.clone();
    }

    /// Stops publishing every key with this `kid`; returns whether one was published. The
    /// current key stays the default signing key even when removed (its tokens then carry
    /// an unknown `kid`).
    pub fn remove_key(&self, kid: &str) -> bool {
        let mut jwks = self.state().jwks();
        let before = jwks.keys.len();
        jwks.keys.retain(|key| key.kid() != kid);
        jwks.keys.len() != before
    }

    // ----- what the JWKS endpoint serves -----

    /// Serves exactly `{"keys": keys}` from now on, instead of the managed keys' JWKs (for
    /// odd keys: `use: "enc"`, `kty: "oct"`, `key_ops` without `verify`, a missing `kid`,
    /// …). Minting is unaffected: tokens are still signed with the current key.
    ///
    /// The raw document stays published, through [`LocalWacht::add_key`] and
    /// [`LocalWacht::rotate`] too, until [`LocalWacht::publish_managed_keys`].
    ///
    /// ```
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let mut jwk = wacht.current_key().public_jwk();
    /// jwk["use"] = "enc".into();
    /// wacht.publish(vec![jwk.clone()]);
    /// assert_eq!(wacht.published_jwks(), serde_json::json!({ "keys": [jwk] }));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn publish(&self, keys: Vec<Value>) {
        self.publish_document(json!({ "keys": keys }));
    }

    /// Serves exactly `document` from now on (any JSON: `{}`, `{"keys": 7}`, …); see
    /// [`LocalWacht::publish`].
    pub fn publish_document(&self, document: Value) {
        self.state().jwks().document = Some(document);
    }

    /// Goes back to serving the managed keys' JWKs after [`LocalWacht::publish`].
    pub fn publish_managed_keys(&self) {
        self.state().jwks().document = None;
    }

    /// The JWKS document served right now (ignoring any fault).
    #[must_use]
    pub fn published_jwks(&self) -> Value {
        self.state().jwks().document()
    }

    // ----- faults and counters -----

    /// Injects a fault into the JWKS endpoint (until replaced; [`JwksFault::None`]
    /// restores it).
    pub fn set_jwks_fault(&self, fault: JwksFault) {
        self.state().jwks().fault = fault;
    }

    /// The fault currently injected into the JWKS endpoint.
    #[must_use]
    pub fn jwks_fault(&self) -> JwksFault {
        self.state().jwks().fault
    }

    /// Requests received on the JWKS path (`GET`), including faulted ones, since start or
    /// [`LocalWacht::reset_counters`].
    #[must_use]
    pub fn jwks_fetches(&self) -> usize {
        self.state().jwks().fetches
    }

    /// Requests received on any path, since start or [`LocalWacht::reset_counters`].
    #[must_use]
    pub fn requests(&self) -> usize {
        self.state().requests.load(Ordering::Relaxed)
    }

    /// TCP connections accepted, whatever the path, since start or
    /// [`LocalWacht::reset_counters`]. A client that keeps connections alive makes many
    /// requests over few connections.
    ///
    /// ```
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// assert_eq!(wacht.connections(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn connections(&self) -> usize {
        self.state().connections.load(Ordering::Relaxed)
    }

    /// Sets every counter back to zero and forgets what was recorded: JWKS fetches,
    /// requests, connections, gateway checks and bodies, backend requests. Rate-limit counts
    /// are kept ([`LocalWacht::reset_rate_limits`] clears them).
    pub fn reset_counters(&self) {
        self.state().requests.store(0, Ordering::Relaxed);
        self.state().connections.store(0, Ordering::Relaxed);
        self.state().jwks().fetches = 0;
        {
            let mut gateway = self.state().gateway();
            gateway.checks = 0;
            gateway.requests.clear();
        }
        let mut backend = self.state().backend();
        backend.requests.clear();
        backend.calls.clear();
    }

    // ----- gateway -----

    /// `<url>/v1/authz/check`, the gateway's check endpoint.
    #[must_use]
    pub fn gateway_check_url(&self) -> String {
        format!("{}{GATEWAY_PATH}", self.url())
    }

    /// The emulator's deployment id (`identity.deployment_id` of every credential).
    #[must_use]
    pub fn deployment_id(&self) -> String {
        self.state().gateway().deployment_id.clone()
    }

    /// Creates an API key the gateway knows from now on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wacht_runtime::testing::{ApiKeySpec, LocalWacht, RateLimitRule};
    ///
    /// let wacht = LocalWacht::start()?;
    /// let key = wacht.create_api_key(
    ///     ApiKeySpec::new()
    ///         .name("reporting")
    ///         .permissions(["user:read"])
    ///         .rate_limit(RateLimitRule::per_key("burst", 5, Duration::from_secs(60))),
    /// );
    /// assert_eq!(key.name(), "reporting");
    /// assert_eq!(key.deployment_id(), wacht.deployment_id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// When the system's randomness fails (see [`TestKey::generate`]).
    pub fn create_api_key(&self, spec: ApiKeySpec) -> ApiKey {
        self.state().gateway().create_api_key(spec)
    }

    /// Creates an OAuth access token the gateway knows from now on.
    ///
    /// # Panics
    ///
    /// When the system's randomness fails (see [`TestKey::generate`]).
    pub fn create_oauth_token(&self, spec: OAuthTokenSpec) -> OAuthToken {
        self.state().gateway().create_oauth_token(spec)
    }

    /// Forgets an API key: checks with it answer 401 (unknown). Returns whether it was known.
    pub fn revoke_api_key(&self, key: &ApiKey) -> bool {
        self.state().gateway().revoke_api_key(key.secret())
    }

    /// Forgets an OAuth access token: checks with it answer 401. Returns whether it was
    /// known.
    pub fn revoke_oauth_token(&self, token: &OAuthToken) -> bool {
        self.state().gateway().revoke_oauth_token(token.token())
    }

    /// Sets the clock the gateway reads for expiry (`expires_at`) and rate-limit windows
    /// (default: [`Clock::system`]). With [`Clock::fixed`], a test moves time by hand.
    ///
    /// ```
    /// use wacht_runtime::Clock;
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let clock = Clock::fixed(1_700_000_000);
    /// wacht.set_gateway_clock(clock.clone());
    /// clock.set(1_700_000_060); // the gateway sees this too
    /// assert_eq!(wacht.gateway_clock().now(), 1_700_000_060);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_gateway_clock(&self, clock: Clock) {
        self.state().gateway().clock = clock;
    }

    /// The clock the gateway reads.
    #[must_use]
    pub fn gateway_clock(&self) -> Clock {
        self.state().gateway().clock.clone()
    }

    /// Forgets every rate-limit count: every window starts afresh.
    pub fn reset_rate_limits(&self) {
        self.state().gateway().reset_rate_limits();
    }

    /// Injects a fault into the gateway (until replaced; [`GatewayFault::None`] restores it).
    pub fn set_gateway_fault(&self, fault: GatewayFault) {
        self.state().gateway().fault = fault;
    }

    /// The fault currently injected into the gateway.
    #[must_use]
    pub fn gateway_fault(&self) -> GatewayFault {
        self.state().gateway().fault
    }

    /// Every check body received that parsed as JSON (whatever the answer, 400s and faults
    /// included), in order, since start or [`LocalWacht::reset_counters`].
    #[must_use]
    pub fn gateway_requests(&self) -> Vec<Value> {
        self.state().gateway().requests.clone()
    }

    /// Check requests (`POST /v1/authz/check`) received, faulted or not, since start or
    /// [`LocalWacht::reset_counters`].
    #[must_use]
    pub fn gateway_checks(&self) -> usize {
        self.state().gateway().checks
    }

    // ----- backend -----

    /// The one key the backend API accepts (`Authorization: Bearer <key>`): `wk_backend_`
    /// and 43 random characters. [`LocalWacht::config_builder`] sets it as the API key.
    #[must_use]
    pub fn backend_api_key(&self) -> String {
        self.state().backend().api_key.clone()
    }

    /// `<url>/users`, the backend's user list.
    #[must_use]
    pub fn users_url(&self) -> String {
        format!("{}{}", self.url(), backend::USERS_PATH)
    }

    /// The users `GET /users` lists (before filtering, sorting and paging), in creation
    /// order. Initially [`TestUser::seeded`].
    #[must_use]
    pub fn users(&self) -> Vec<TestUser> {
        self.state().backend().users.clone()
    }

    /// Replaces every user `GET /users` lists.
    ///
    /// ```
    /// use wacht_runtime::testing::{LocalWacht, TestUser};
    ///
    /// let wacht = LocalWacht::start()?;
    /// wacht.seed_users(vec![TestUser::new("1", "Ada", "Lovelace")]);
    /// assert_eq!(wacht.users().len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn seed_users(&self, users: Vec<TestUser>) {
        self.state().backend().users = users;
    }

    /// Adds a user after the others.
    pub fn add_user(&self, user: TestUser) {
        self.state().backend().users.push(user);
    }

    /// Injects a fault into the backend API (until replaced; [`BackendFault::None`]
    /// restores it).
    pub fn set_backend_fault(&self, fault: BackendFault) {
        self.state().backend().fault = fault;
    }

    /// The query string (without `?`, `""` when none, not decoded) of every `GET /users`
    /// received (faulted and refused ones included), in order, since start or
    /// [`LocalWacht::reset_counters`].
    #[must_use]
    pub fn backend_requests(&self) -> Vec<String> {
        self.state().backend().requests.clone()
    }

    /// Every backend API request received (any route; faulted and refused ones included),
    /// in order, since start or [`LocalWacht::reset_counters`].
    #[must_use]
    pub fn backend_calls(&self) -> Vec<BackendCall> {
        self.state().backend().calls.clone()
    }

    // ----- minting -----

    /// Starts a session token issued by this emulator and signed with its current key; see
    /// [`TokenBuilder`] for the defaults.
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(self.url().to_owned(), self.current_key())
    }

    // ----- browser sessions (the frontend API's `/session/token` and `/sign-in`) -----

    /// Adds a user the sign-in page offers (and [`LocalWacht::sign_in`] accepts).
    pub fn add_session_user(&self, user: SessionUser) {
        self.state().frontend().users.push(user);
    }

    /// Signs `user_id` in, as the sign-in page does, and returns the new session's transport
    /// token: the `__session` cookie's value in production mode, the development session in
    /// development mode.
    ///
    /// # Panics
    ///
    /// When `user_id` was not added with [`LocalWacht::add_session_user`].
    pub fn sign_in(&self, user_id: &str) -> String {
        let state = self.state();
        let jwks = state.jwks();
        let mut frontend = state.frontend();
        assert!(
            frontend.users.iter().any(|u| u.user_id() == user_id),
            "wacht testing: add {user_id:?} with add_session_user first"
        );
        frontend.create_session(&state.url, &jwks, Some(user_id))
    }

    /// A transport token of a session with no active sign-in.
    pub fn signed_out_session(&self) -> String {
        let state = self.state();
        let jwks = state.jwks();
        state.frontend().create_session(&state.url, &jwks, None)
    }

    /// `<url>/sign-in`.
    #[must_use]
    pub fn sign_in_url(&self) -> String {
        format!("{}{}", self.url(), frontend::SIGN_IN_PATH)
    }

    /// How the emulated deployment carries its session (default production: `__session`).
    pub fn set_frontend_mode(&self, mode: FrontendMode) {
        self.state().frontend().mode = mode;
    }

    /// Injects a fault into the token exchange.
    pub fn set_frontend_fault(&self, fault: FrontendFault) {
        self.state().frontend().fault = fault;
    }

    /// Token exchanges received (`GET /session/token`), faulted or not.
    #[must_use]
    pub fn session_exchanges(&self) -> usize {
        self.state().frontend().exchanges
    }

    /// The `X-Wacht-Forwarded-For` of each exchange received, in order.
    #[must_use]
    pub fn exchange_forwarded_for(&self) -> Vec<Option<String>> {
        self.state().frontend().forwarded_for.clone()
    }

    /// Allows `limit` exchanges per `window` (then `429` with `Retry-After`); `None` lifts it.
    pub fn set_session_token_rate_limit(&self, limit: Option<(usize, std::time::Duration)>) {
        self.state().frontend().rate_limit = limit;
    }

    /// The lifetime of the session tokens the exchange mints (default 30 s; `exp` adds 5 s
    /// of clock skew, `expires` does not, as the real frontend API).
    pub fn set_session_token_lifetime(&self, lifetime: std::time::Duration) {
        self.state().frontend().token_lifetime = lifetime;
    }

    /// Makes every transport token expire now: the next exchange rotates it (a new
    /// `__session` is set).
    pub fn expire_session_transports(&self) {
        self.state().frontend().expire_transports();
    }

    /// Signs every browser session out (their exchanges answer "No active sign in").
    pub fn sign_out_everyone(&self) {
        self.state().frontend().sign_out_all();
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod gateway_tests;

#[cfg(test)]
mod backend_tests;

#[cfg(test)]
mod platform_tests;
