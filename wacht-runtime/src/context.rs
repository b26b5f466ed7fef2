//! [`Wacht`]: the configured, cheaply clonable context every check runs through.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::auth::Auth;
use crate::backend::BackendClient;
use crate::caller::{Caller, looks_like_jws};
use crate::config::{ConfigError, WachtConfig};
use crate::deadline::Deadline;
use crate::gateway::GatewayClient;
use crate::head::{BearerError, CredentialError, Head, bearer_token};
use crate::keys::{KeyCache, KeyCacheSettings, KeyFetchError, KeySet, KeySource, Refreshed};
use crate::machine::{MachineAuth, MachineRequirement};
use crate::platform::Instant;
use crate::rejection::Rejection;
use crate::requirement::Requirement;
use crate::session::{AuthError, MAX_TOKEN_LEN, UnverifiedToken, VerifiedClaims, verify_with};
use crate::token_cache::TokenCache;

/// The configured runtime: HTTP client (keep-alive), key cache, verified-token cache.
/// Build it once and clone it freely; clones share everything.
///
/// ```no_run
/// # async fn run(req: http::Request<String>) -> Result<(), Box<dyn std::error::Error>> {
/// use wacht_runtime::{Requirement, Wacht, WachtConfig};
/// let wacht = Wacht::new(WachtConfig::from_env()?)?;
/// match wacht.protect(&req, &Requirement::new().permission("user:read")).await {
///     Ok(auth) => println!("hello {}", auth.user_id()),
///     Err(rejection) => { let _response: http::Response<String> = rejection.into_response(); }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Wacht {
    inner: Arc<Inner>,
}

struct Inner {
    config: WachtConfig,
    http: reqwest::Client,
    /// The session keys, or why session tokens cannot be verified (the configuration error
    /// every session check answers with).
    keys: Result<KeySource, ConfigError>,
    tokens: TokenCache,
    gateway: GatewayClient,
}

impl fmt::Debug for Wacht {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wacht")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Wacht {
    /// Builds the context. Nothing is fetched until the first request needs it.
    pub fn new(config: WachtConfig) -> Result<Self, ConfigError> {
        let http = match &config.http_client {
            Some(client) => client.clone(),
            None => crate::outbound::build_client(config.http_timeout)
                .map_err(ConfigError::HttpClient)?,
        };
        let keys = match (
            &config.public_signing_key,
            config.jwks_url(),
            config.issuer(),
        ) {
            _ if config.session_error.is_some() => Err(config
                .session_error
                .clone()
                .unwrap_or(ConfigError::MissingPublishableKey)),
            (_, _, None) => Err(ConfigError::MissingPublishableKey),
            (Some(pem), _, Some(_)) => {
                let key = crate::jwk::parse_pem(pem)
                    .map_err(|why| ConfigError::InvalidPublicSigningKey(why.0))?;
                Ok(KeySource::Static(Arc::new(KeySet::new(
                    vec![Arc::new(key)],
                    1,
                ))))
            }
            (None, Some(url), Some(_)) => Ok(KeySource::Jwks(Box::new(KeyCache::new(
                http.clone(),
                KeyCacheSettings {
                    url,
                    ttl: config.jwks_ttl,
                    min_refresh_interval: config.jwks_min_refresh_interval,
                    timeout: config.http_timeout,
                    clock: config.clock.clone(),
                },
            )))),
            (None, None, Some(_)) => Err(ConfigError::MissingPublishableKey),
        };
        let tokens = TokenCache::new(config.token_cache_capacity, config.token_cache_max_bytes);
        let gateway =
            GatewayClient::with_client(http.clone(), &config.gateway_url, config.http_timeout);
        Ok(Wacht {
            inner: Arc::new(Inner {
                config,
                http,
                keys,
                tokens,
                gateway,
            }),
        })
    }

    /// A context configured from the environment ([`WachtConfig::from_env`]'s variables),
    /// with configuration errors scoped
    /// ([`WachtConfigBuilder::build_scoped`](crate::WachtConfigBuilder::build_scoped)): a bad
    /// session setting makes session checks answer `500 auth_misconfigured` and leaves
    /// machine checks working, and the other way round. Each such error is logged once, here.
    /// Fails only when the HTTP client cannot be built.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Wacht::from_env`], reading variables through `lookup` (for tests and for platforms
    /// whose environment is not the process's).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = WachtConfig::builder_from_lookup(lookup).build_scoped();
        for (checks, error) in [
            ("session checks", config.session_error()),
            ("machine checks", config.machine_error()),
            ("backend API calls", config.backend_error()),
        ] {
            if let Some(error) = error {
                tracing::error!(target: "wacht", reason = error.reason(), %error, "{checks} will answer 500 auth_misconfigured: the configuration cannot work");
            }
        }
        Self::new(config)
    }

    /// The configuration.
    pub fn config(&self) -> &WachtConfig {
        &self.inner.config
    }

    /// The shared HTTP client (keep-alive, the configured timeout).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// A backend API client (`WACHT_BACKEND_API_URL`, `WACHT_API_KEY`) sharing this
    /// context's HTTP client and connections: the counterpart of the JavaScript SDK's
    /// `initClient`. Cheap; call it per request. Without an API key every call fails with
    /// [`BackendError::MissingApiKey`](crate::BackendError::MissingApiKey) and sends nothing.
    pub fn backend(&self) -> BackendClient {
        let config = &self.inner.config;
        BackendClient::with_client(
            self.inner.http.clone(),
            &config.backend_api_url,
            config.api_key.clone(),
            config.http_timeout,
        )
    }

    /// [`Wacht::backend`] for calls made while answering `req`: when the request carries a
    /// deadline ([`Deadline`]; a Lambda invocation's with the `lambda` feature), each call's
    /// timeout ends [`DEADLINE_MARGIN`](crate::DEADLINE_MARGIN) before it, so the handler
    /// still has time to answer.
    pub fn backend_for<B>(&self, req: &http::Request<B>) -> BackendClient {
        let until = crate::deadline::budget(self.inner.config.http_timeout, Deadline::of(req));
        let timeout = until.saturating_duration_since(Instant::now());
        self.backend().timeout(timeout)
    }

    /// Does now what the first requests would otherwise do: fetches the session keys (when
    /// they come from a JWKS) and opens a connection to the gateway, so the first protected
    /// request after a cold start pays for neither. Call it before serving (on Lambda and
    /// Netlify: before `lambda_http::run`, during the init phase). Waits at most the HTTP
    /// timeout. A failing key fetch is returned (and the usual retry back-off applies); a
    /// gateway that cannot be reached is only logged, since machine checks report it
    /// themselves.
    pub async fn warm_up(&self) -> Result<(), AuthError> {
        let until = crate::deadline::budget(self.inner.config.http_timeout, None);
        let gateway = async {
            if self.inner.config.machine_error.is_some() {
                return;
            }
            let url = self.inner.config.gateway_url.as_str();
            let opened = crate::platform::send(
                self.inner
                    .http
                    .head(url)
                    .timeout(self.inner.config.http_timeout)
                    .send(),
            )
            .await
            .map(drop);
            if let Err(error) = opened {
                let error = crate::outbound::cause_chain(&error.without_url());
                tracing::warn!(target: "wacht", %error, "warm-up: the gateway could not be reached");
            }
        };
        let keys = async {
            match &self.inner.keys {
                Err(error) => Err(AuthError::Misconfigured(error.clone())),
                Ok(KeySource::Static(_)) => Ok(()),
                Ok(KeySource::Jwks(cache)) => {
                    cache.keys(until).await.map(|_| ()).map_err(AuthError::from)
                }
            }
        };
        let ((), keys) = futures_util::future::join(gateway, keys).await;
        keys
    }

    /// The context `#[protect]` and `#[machine]` use for `req`: the [`Wacht`] in its
    /// extensions, else the process-wide one ([`crate::global`]). Handlers use it to reach
    /// the same configuration, e.g. for [`Wacht::backend`].
    pub fn for_request<B>(req: &http::Request<B>) -> Result<Wacht, ConfigError> {
        Self::for_extensions(req.extensions())
    }

    /// [`Wacht::for_request`] for a request taken apart: the [`Wacht`] in `extensions`, else
    /// the process-wide one.
    pub fn for_extensions(extensions: &http::Extensions) -> Result<Wacht, ConfigError> {
        match extensions.get::<Wacht>() {
            Some(wacht) => Ok(wacht.clone()),
            None => global(),
        }
    }

    /// Verifies the request's `Authorization: Bearer` session token.
    ///
    /// Only the request's head is read (never its body), and the returned future is `Send`
    /// whatever the body type.
    pub fn authenticate<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
    ) -> impl Future<Output = Result<Auth, AuthError>> + Send + 'a {
        let head = Head::of(req);
        async move {
            let until = crate::deadline::budget(self.inner.config.http_timeout, head.deadline);
            self.verify_header(head.headers, until).await
        }
    }

    async fn verify_header(
        &self,
        headers: &http::HeaderMap,
        until: Instant,
    ) -> Result<Auth, AuthError> {
        // A configuration that cannot work answers 500 whether or not a token came, so the
        // misconfiguration shows on the first request.
        if let Err(error) = &self.inner.keys {
            return Err(AuthError::Misconfigured(error.clone()));
        }
        self.verify_token_until(bearer_token(headers)?, until).await
    }

    /// Verifies a session token given as a string (waiting for keys at most the HTTP
    /// timeout).
    pub async fn verify_token(&self, token: &str) -> Result<Auth, AuthError> {
        let until = crate::deadline::budget(self.inner.config.http_timeout, None);
        self.verify_token_until(token, until).await
    }

    async fn verify_token_until(&self, token: &str, until: Instant) -> Result<Auth, AuthError> {
        // Refused unread: an oversize token costs no key fetch and no cache lookup.
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::MalformedToken("token too long"));
        }
        let config = &self.inner.config;
        let keys = self
            .inner
            .keys
            .as_ref()
            .map_err(|e| AuthError::Misconfigured(e.clone()))?;
        let issuer = config
            .issuer()
            .ok_or(AuthError::Misconfigured(ConfigError::MissingPublishableKey))?;
        let now = config.clock.now();
        let leeway = i64::try_from(config.leeway_seconds).unwrap_or(i64::MAX);
        // A token seen before is served while the key that verified it is in a key set
        // current by TTL. The hot path: no lock, no parsing.
        let mut cached = self.inner.tokens.lookup(token, now, leeway);
        if let Some(hit) = cached.take() {
            let held = match keys {
                KeySource::Static(set) => Some(set.holds(hit.key_id)),
                KeySource::Jwks(cache) => cache.fresh_holds(hit.key_id),
            };
            match held {
                Some(true) => return Ok(Auth::new(hit.claims)),
                Some(false) => self.inner.tokens.forget(token, &hit.claims),
                // No fresh set: decided below, once the keys are refreshed.
                None => cached = Some(hit),
            }
        }
        // Parsed before any key is asked for: garbage is refused at once, even while the
        // JWKS is down, and never makes a fetch.
        let unverified = UnverifiedToken::parse(token)?;
        let set = match keys {
            KeySource::Static(set) => set.clone(),
            KeySource::Jwks(cache) => cache.keys(until).await?,
        };
        if let Some(hit) = cached {
            if set.holds(hit.key_id) {
                return Ok(Auth::new(hit.claims));
            }
            self.inner.tokens.forget(token, &hit.claims);
        }
        let (key, set) = match verify_with(&unverified, &set).await {
            Ok(key) => (key, set),
            // An unknown `kid`, or a kid-less token none of the held keys verifies: the keys
            // may have rotated. Refresh (rate-limited) and try once more.
            Err(error @ (AuthError::UnknownKey | AuthError::InvalidSignature))
                if unverified.kid.is_none() || matches!(error, AuthError::UnknownKey) =>
            {
                let KeySource::Jwks(cache) = keys else {
                    return Err(error);
                };
                let refreshed = match cache
                    .refresh_for_unknown_key(set.generation(), until)
                    .await?
                {
                    Refreshed::Set(refreshed) => refreshed,
                    Refreshed::Limited { held, retry_in } => {
                        return Err(unknown_key_while_limited(
                            error,
                            &unverified,
                            &held,
                            retry_in,
                        ));
                    }
                };
                if refreshed.generation() == set.generation() {
                    return Err(error);
                }
                (verify_with(&unverified, &refreshed).await?, refreshed)
            }
            Err(error) => return Err(error),
        };
        let claims: Arc<VerifiedClaims> =
            Arc::new(unverified.claims(issuer, now, config.leeway_seconds)?);
        self.inner
            .tokens
            .insert(token, key.id(), claims.clone(), now, |id| set.holds(id));
        Ok(Auth::new(claims))
    }

    /// Authenticates the request and checks `requirement`: the decision `#[protect]` makes.
    /// Every outcome is logged (target `wacht`) with its reason and duration; never the token.
    pub fn protect<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
        requirement: &'a Requirement,
    ) -> impl Future<Output = Result<Auth, Rejection>> + Send + 'a {
        self.protect_head(Head::of(req), requirement)
    }

    pub(crate) async fn protect_head(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
    ) -> Result<Auth, Rejection> {
        let span = check_span("session", req);
        let started = Instant::now();
        let until = crate::deadline::budget(self.inner.config.http_timeout, req.deadline);
        let result = async {
            if let Some(problem) = requirement.problem() {
                return Err(crate::requirement::invalid_requirement("session", problem));
            }
            match self.verify_header(req.headers, until).await {
                Ok(auth) => requirement
                    .check(&auth)
                    .map(|()| auth)
                    .map_err(|denial| denial.rejection()),
                Err(error) => {
                    if matches!(
                        error,
                        AuthError::KeysUnavailable { .. } | AuthError::Misconfigured(_)
                    ) {
                        tracing::warn!(target: "wacht", reason = error.reason(), %error, "session check could not run");
                    } else {
                        tracing::debug!(target: "wacht", reason = error.reason(), %error, "session token refused");
                    }
                    Err(error.rejection())
                }
            }
        }
        .instrument(span.clone())
        .await;
        if let Ok(auth) = &result {
            span.record("user_id", auth.user_id());
        }
        finish_check(&span, started, &result);
        result
    }

    /// Optional authentication: `Ok(None)` for a request without an `Authorization` header
    /// (signed out), `Ok(Some(auth))` for a valid session token, and the usual 401 for a
    /// present but invalid or expired one (never a silent downgrade to "signed out"). A
    /// configuration that cannot verify tokens answers 500 either way.
    pub fn protect_optional<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
    ) -> impl Future<Output = Result<Option<Auth>, Rejection>> + Send + 'a {
        self.protect_optional_head(Head::of(req), &NO_REQUIREMENT)
    }

    pub(crate) async fn protect_optional_head(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
    ) -> Result<Option<Auth>, Rejection> {
        if req.headers.contains_key(http::header::AUTHORIZATION) || self.inner.keys.is_err() {
            self.protect_head(req, requirement).await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// One endpoint for people and machines: a session token meeting `requirement`, or a
    /// machine credential meeting `machine`. Routing: an API key (in the machine
    /// requirement's header) goes to the gateway; a Bearer value shaped like a JWT is a
    /// session token; another Bearer value is an OAuth access token for the gateway, if the
    /// machine requirement accepts those (else it is refused as a session token); an API key
    /// and a Bearer value together are refused (`401 ambiguous_credential`).
    pub fn protect_or_machine<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
        requirement: &'a Requirement,
        machine: &'a MachineRequirement,
    ) -> impl Future<Output = Result<Caller, Rejection>> + Send + 'a {
        self.protect_or_machine_head(Head::of(req), requirement, machine)
    }

    pub(crate) async fn protect_or_machine_head(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
        machine: &MachineRequirement,
    ) -> Result<Caller, Rejection> {
        let api_key = req.headers.contains_key(machine.api_key_header());
        let route = match (api_key, bearer_token(req.headers)) {
            (true, Ok(_)) => Err(CredentialError::Ambiguous.rejection()),
            (true, Err(BearerError::Missing)) => Ok(Route::Machine),
            (true, Err(BearerError::Invalid(_))) => {
                Err(CredentialError::InvalidAuthorizationHeader.rejection())
            }
            (false, Ok(token)) if looks_like_jws(token) || !machine.accepts_oauth() => {
                Ok(Route::Session)
            }
            (false, Ok(_)) => Ok(Route::Machine),
            (false, Err(BearerError::Missing)) => Err(CredentialError::Missing.rejection()),
            (false, Err(BearerError::Invalid(why))) => {
                Err(AuthError::InvalidAuthorizationHeader(why).rejection())
            }
        };
        match route {
            Ok(Route::Session) => self
                .protect_head(req, requirement)
                .await
                .map(Caller::Session),
            Ok(Route::Machine) => self
                .authorize_machine_head(req, machine)
                .await
                .map(Caller::Machine),
            Err(rejection) => {
                // Refused before either check: still one `wacht.check` span and event.
                let span = check_span("either", req);
                let result: Result<Caller, Rejection> = Err(rejection);
                finish_check(&span, Instant::now(), &result);
                result
            }
        }
    }

    /// The gateway client (sharing this context's connections).
    pub fn gateway(&self) -> &GatewayClient {
        &self.inner.gateway
    }

    /// Asks the gateway whether the request's machine credential may call the resource:
    /// the decision `#[machine]` makes. No credential → 401 without a gateway call. Every
    /// denial is logged (target `wacht`) with the gateway's `request_id`, the resource, the
    /// method and the reason; the credential never is.
    pub fn authorize_machine<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
        requirement: &'a MachineRequirement,
    ) -> impl Future<Output = Result<MachineAuth, Rejection>> + Send + 'a {
        self.authorize_machine_head(Head::of(req), requirement)
    }

    pub(crate) async fn authorize_machine_head(
        &self,
        req: Head<'_>,
        requirement: &MachineRequirement,
    ) -> Result<MachineAuth, Rejection> {
        let span = check_span("machine", req);
        let started = Instant::now();
        let result = async {
            if let Some(error) = &self.inner.config.machine_error {
                return Err(error.rejection());
            }
            let request =
                crate::machine::build_request(req, requirement, &self.inner.config.client_ip)?;
            span.record("principal", request.principal.kind.as_str());
            span.record("resource", request.resource.as_str());
            let until = crate::deadline::budget(self.inner.config.http_timeout, req.deadline);
            let outcome = self.inner.gateway.check_until(&request, until).await;
            if let Err(error) = &outcome {
                tracing::warn!(target: "wacht", reason = error.reason(), %error, "gateway check gave no decision");
            }
            crate::machine::decide(&request, requirement, outcome)
        }
        .instrument(span.clone())
        .await;
        if let Some(request_id) = result.as_ref().ok().and_then(MachineAuth::request_id) {
            span.record("request_id", request_id);
        }
        finish_check(&span, started, &result);
        result
    }
}

/// The answer to a token whose key the held set lacks, when the set may not be refreshed
/// yet. A `kid` the set lacks, on a token whose `iat` is not before the set's fetch, may be a
/// key rotated in since: 503 with `Retry-After` (clients take a 401 as "sign out"). When the
/// set was fetched after the token was issued, the key would have been in it; and a token
/// with no readable `iat` cannot claim a rotation: the usual 401 for both. A kid-less token
/// none of the keys verifies stays a 401.
fn unknown_key_while_limited(
    error: AuthError,
    token: &UnverifiedToken<'_>,
    held: &KeySet,
    retry_in: std::time::Duration,
) -> AuthError {
    let rotated_in_maybe = matches!(error, AuthError::UnknownKey)
        && token
            .unverified_iat()
            .is_some_and(|iat| !held.fetched_after(iat));
    if !rotated_in_maybe {
        return error;
    }
    tracing::info!(target: "wacht", "a token names a key the held set lacks, and the set may not be refreshed yet; answering 503 with Retry-After");
    AuthError::from(crate::keys::Unavailable {
        error: KeyFetchError::RefreshRateLimited,
        retry_in,
    })
}

/// Which check a request for people-or-machines goes to.
enum Route {
    Session,
    Machine,
}

/// Authentication only: any signed-in caller.
static NO_REQUIREMENT: Requirement = Requirement::none();

/// Verifies the token's signature with the first of `set`'s candidate keys that verifies
/// it (by `kid`; without one, every compatible key, bounded), and returns that key.
/// The span every check runs in: `wacht.check` with the check kind, method and path; the
/// outcome, reason, duration and (machine) `request_id` are recorded when it ends. No field
/// ever holds a credential.
fn check_span(check: &'static str, req: Head<'_>) -> Span {
    tracing::info_span!(
        target: "wacht",
        "wacht.check",
        check,
        method = %req.method,
        path = req.called_path(),
        outcome = Empty,
        reason = Empty,
        elapsed_us = Empty,
        request_id = Empty,
        user_id = Empty,
        principal = Empty,
        resource = Empty,
    )
}

/// Records how a check ended on its span, and logs refusals (at `info`, inside the span, so
/// the event carries the span's fields).
fn finish_check<T>(span: &Span, started: Instant, result: &Result<T, Rejection>) {
    let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record("elapsed_us", elapsed_us);
    match result {
        Ok(_) => {
            span.record("outcome", "allowed");
            span.in_scope(|| tracing::debug!(target: "wacht", outcome = "allowed", elapsed_us, "request allowed"));
        }
        Err(rejection) => {
            span.record("outcome", rejection.code().as_str());
            span.record("reason", rejection.reason());
            if let Some(request_id) = rejection.request_id() {
                span.record("request_id", request_id);
            }
            span.in_scope(|| {
                tracing::info!(
                    target: "wacht",
                    outcome = rejection.code().as_str(),
                    reason = rejection.reason(),
                    request_id = rejection.request_id().unwrap_or(""),
                    elapsed_us,
                    "request refused"
                );
            });
        }
    }
}

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

/// The clock for a check that needs no other part of a context (webhook verification): the
/// configured clock of the [`Wacht`] in `extensions`, else of the process-wide one if it is
/// already installed or built (never built for this), else the system clock.
pub(crate) fn clock_for(extensions: &http::Extensions) -> crate::clock::Clock {
    match extensions.get::<Wacht>() {
        Some(wacht) => wacht.config().clock().clone(),
        None => match GLOBAL.get() {
            Some(Ok(wacht)) => wacht.config().clock().clone(),
            Some(Err(_)) | None => crate::clock::Clock::system(),
        },
    }
}
