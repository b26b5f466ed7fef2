//! [`Wacht`]: the configured, cheaply clonable context every check runs through.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::auth::Auth;
use crate::backend::BackendClient;
use crate::config::{ConfigError, WachtConfig};
use crate::deadline::Deadline;
use crate::gateway::GatewayClient;
use crate::keys::{KeyCache, KeyMiss, KeySet, KeySource, VerifyingKey};
use crate::machine::{MachineAuth, MachineRequirement};
use crate::rejection::Rejection;
use crate::requirement::Requirement;
use crate::session::{AuthError, UnverifiedToken, VerifiedClaims, bearer_token};
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
    /// `None` when session tokens cannot be verified (no publishable key / issuer).
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
        let http =
            crate::outbound::build_client(config.http_timeout).map_err(ConfigError::HttpClient)?;
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
                let key = crate::keys::parse_pem(pem)?;
                Ok(KeySource::Static(Arc::new(KeySet::new(
                    vec![Arc::new(key)],
                    1,
                ))))
            }
            (None, Some(url), Some(_)) => Ok(KeySource::Jwks(Box::new(KeyCache::new(
                http.clone(),
                url,
                config.jwks_ttl,
                config.jwks_min_refresh_interval,
                config.http_timeout,
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

    /// The context `#[protect]` and `#[machine]` use for `req`: the [`Wacht`] in its
    /// extensions, else the process-wide one ([`crate::global`]). Handlers use it to reach
    /// the same configuration, e.g. for [`Wacht::backend`].
    pub fn for_request<B>(req: &http::Request<B>) -> Result<Wacht, ConfigError> {
        match req.extensions().get::<Wacht>() {
            Some(wacht) => Ok(wacht.clone()),
            None => crate::global(),
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
        // A key set current by TTL (refreshed first when the TTL has passed, without
        // stalling): a cached token is served only while the key that verified it is in it.
        let set = match keys {
            KeySource::Static(set) => set.clone(),
            KeySource::Jwks(cache) => cache.keys(until).await?,
        };
        if let Some(claims) = self
            .inner
            .tokens
            .get(token, now, leeway, |key_id| set.holds(key_id))
        {
            return Ok(Auth::new(claims));
        }
        let unverified = UnverifiedToken::parse(token)?;
        let key = match verify_with(&unverified, &set) {
            Ok(key) => key,
            // An unknown `kid`, or a kid-less token none of the held keys verifies: the keys
            // may have rotated. Refresh (rate-limited) and try once more.
            Err(error @ (AuthError::UnknownKey | AuthError::InvalidSignature))
                if unverified.kid.is_none() || matches!(error, AuthError::UnknownKey) =>
            {
                let KeySource::Jwks(cache) = keys else {
                    return Err(error);
                };
                let refreshed = cache
                    .refresh_for_unknown_key(set.generation(), until)
                    .await?;
                if refreshed.generation() == set.generation() {
                    return Err(error);
                }
                let key = verify_with(&unverified, &refreshed)?;
                let claims = Arc::new(unverified.claims(issuer, now, config.leeway_seconds)?);
                self.inner
                    .tokens
                    .insert(token, key.id(), claims.clone(), now, |id| {
                        refreshed.holds(id)
                    });
                return Ok(Auth::new(claims));
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

/// Verifies the token's signature with the first of `set`'s candidate keys that verifies
/// it (by `kid`; without one, every compatible key, bounded), and returns that key.
fn verify_with(token: &UnverifiedToken<'_>, set: &KeySet) -> Result<Arc<VerifyingKey>, AuthError> {
    let candidates =
        set.candidates(token.kid.as_deref(), token.alg)
            .map_err(|miss| match miss {
                KeyMiss::Unknown => AuthError::UnknownKey,
                KeyMiss::Incompatible => AuthError::AlgorithmMismatch,
            })?;
    for key in candidates {
        match token.verify(&key) {
            Ok(()) => return Ok(key),
            Err(AuthError::InvalidSignature) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(AuthError::InvalidSignature)
}

/// The span every check runs in: `wacht.check` with the check kind, method and path; the
/// outcome, reason, duration and (machine) `request_id` are recorded when it ends. No field
/// ever holds a credential.
fn check_span(check: &'static str, req: Head<'_>) -> Span {
    tracing::info_span!(
        target: "wacht",
        "wacht.check",
        check,
        method = %req.method,
        path = req.uri.path(),
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

/// The parts of a request the checks read: never the body, so futures holding it are `Send`
/// whatever the body type.
#[derive(Clone, Copy)]
pub(crate) struct Head<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) uri: &'a http::Uri,
    pub(crate) headers: &'a http::HeaderMap,
    /// When the platform stops working on the request, if it says.
    pub(crate) deadline: Option<Deadline>,
}

impl<'a> Head<'a> {
    pub(crate) fn of<B>(req: &'a http::Request<B>) -> Self {
        Head {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
            deadline: Deadline::of(req),
        }
    }
}
