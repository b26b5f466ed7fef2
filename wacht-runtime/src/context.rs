//! [`Wacht`]: the configured, cheaply clonable context every check runs through.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::admitted::{Admitted, ResponseHeaders};
use crate::auth::Auth;
#[cfg(feature = "backend")]
use crate::backend::BackendClient;
use crate::caller::{Caller, looks_like_jws};
use crate::config::{ConfigError, WachtConfig};
#[cfg(feature = "backend")]
use crate::deadline::Deadline;
use crate::gateway::GatewayClient;
use crate::head::{BearerError, CredentialError, Head, bearer_token};
use crate::keys::{KeyCache, KeyCacheSettings, KeyFetchError, KeySet, KeySource, Refreshed};
use crate::machine::{MachineAuth, MachineRequirement};
use crate::metrics::Check;
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
    /// The app-domain cookie names (browser sessions), when a frontend API is configured.
    cookie_names: Option<crate::browser::CookieNames>,
    /// Metric handles (feature `metrics`; nothing without it).
    metrics: crate::metrics::Handles,
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
        let cookie_names = config
            .frontend_api_url()
            .map(crate::browser::CookieNames::for_frontend_api);
        Ok(Wacht {
            inner: Arc::new(Inner {
                config,
                http,
                keys,
                tokens,
                gateway,
                cookie_names,
                metrics: crate::metrics::Handles::new(),
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
    /// `initClient`, and the transport of every operation of
    /// [`backend_api`](crate::backend_api) (it dereferences to a
    /// [`Backend`](crate::backend_api::Backend)). Cheap; call it per request. Without an API
    /// key every call fails with
    /// [`BackendError::MissingApiKey`](crate::BackendError::MissingApiKey) and sends nothing.
    /// Feature `backend`.
    #[cfg(feature = "backend")]
    #[cfg_attr(docsrs, doc(cfg(feature = "backend")))]
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
    /// still has time to answer. That timeout bounds each call whole, its retries and waits
    /// included. Feature `backend`.
    #[cfg(feature = "backend")]
    #[cfg_attr(docsrs, doc(cfg(feature = "backend")))]
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
        self.inner.metrics.token_cache(cached.is_some());
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
    ///
    /// With browser sessions on, a request without a Bearer token is authenticated from its
    /// cookies too; the cookies such a check sets are dropped here: use [`Wacht::admit`] to
    /// get them.
    pub fn protect<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
        requirement: &'a Requirement,
    ) -> impl Future<Output = Result<Auth, Rejection>> + Send + 'a {
        let head = Head::of(req);
        async move {
            self.protect_head(head, requirement)
                .await
                .map(Admitted::into_identity)
        }
    }

    /// [`Wacht::protect`] with the headers the answer must carry ([`Admitted`]): with
    /// browser sessions, the cookies of a session exchange (apply them with
    /// [`ResponseHeaders::apply`](crate::ResponseHeaders::apply)).
    pub fn admit<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
        requirement: &'a Requirement,
    ) -> impl Future<Output = Result<Admitted<Auth>, Rejection>> + Send + 'a {
        self.protect_head(Head::of(req), requirement)
    }

    pub(crate) async fn protect_head(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
    ) -> Result<Admitted<Auth>, Rejection> {
        self.session_check(req, requirement, false)
            .await
            .and_then(|admitted| {
                let (auth, headers) = admitted.into_parts();
                match auth {
                    Some(auth) => Ok(Admitted::new(auth, headers)),
                    // Not optional: a signed-out caller is a rejection, never `None`.
                    None => Err(AuthError::MissingToken.rejection()),
                }
            })
    }

    /// The session check of every form: the credential (Bearer first and alone; with browser
    /// sessions, a WebSocket token, the session cache cookie, the exchanged session cookie),
    /// then `requirement`. `optional`: a signed-out caller is `None`, not a rejection.
    async fn session_check(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
        optional: bool,
    ) -> Result<Admitted<Option<Auth>>, Rejection> {
        let span = check_span(Check::Session, req);
        let started = Instant::now();
        let until = crate::deadline::budget(self.inner.config.http_timeout, req.deadline);
        let result = async {
            if let Some(problem) = requirement.problem() {
                return Err(crate::requirement::invalid_requirement("session", problem));
            }
            let Session {
                result,
                headers,
                redirect,
            } = self.session_of(req, until).await;
            if let Some(redirect) = redirect {
                return Err(redirect.with_response_headers(&headers));
            }
            match result {
                Ok(auth) => match requirement.check(&auth) {
                    Ok(()) => Ok(Admitted::new(Some(auth), headers)),
                    Err(denial) => Err(denial.rejection().with_response_headers(&headers)),
                },
                Err(AuthError::MissingToken) if optional => Ok(Admitted::new(None, headers)),
                Err(error) => {
                    if matches!(
                        error,
                        AuthError::KeysUnavailable { .. }
                            | AuthError::Misconfigured(_)
                            | AuthError::SessionExchangeUnavailable { .. }
                    ) {
                        tracing::warn!(target: "wacht", reason = error.reason(), %error, "session check could not run");
                    } else {
                        tracing::debug!(target: "wacht", reason = error.reason(), %error, "session token refused");
                    }
                    let rejection = match self.sign_in_redirect(req, requirement, &error) {
                        Some(redirect) => redirect,
                        None => error.rejection(),
                    };
                    Err(rejection.with_response_headers(&headers))
                }
            }
        }
        .instrument(span.clone())
        .await;
        if let Ok(admitted) = &result
            && let Some(auth) = admitted.identity()
        {
            span.record("user_id", auth.user_id());
        }
        self.finish_check(Check::Session, &span, started, &result);
        result
    }

    /// With browser sessions on, the 303 to sign-in for a signed-out caller of a page (a
    /// `GET` preferring `text/html`), with `redirect_uri` the URL it asked for; `None` for
    /// anything else (which gets the JSON answer).
    fn sign_in_redirect(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
        error: &AuthError,
    ) -> Option<Rejection> {
        let config = &self.inner.config;
        let browser = &config.browser;
        if !browser.enabled
            || !matches!(error, AuthError::MissingToken)
            || !requirement.redirects_to_sign_in()
            || !crate::browser::is_page_request(&req)
        {
            return None;
        }
        let frontend_api_url = config.frontend_api_url()?;
        let back = crate::browser::public_url(&req, &browser.app_url)?;
        let base = crate::browser::sign_in_base(browser.sign_in_url.as_deref(), frontend_api_url);
        Some(Rejection::redirect(
            "sign_in_required",
            "Sign in to continue.",
            &crate::browser::with_redirect_uri(&base, &back),
        ))
    }

    /// The request's session: the verified identity or why there is none, the headers the
    /// answer must carry, and a redirect that answers instead (a development session's URL).
    async fn session_of(&self, req: Head<'_>, until: Instant) -> Session {
        use crate::browser::{
            Cookie, DEV_SESSION_QUERY, SESSION_COOKIE, Transport, cookie, is_cross_site,
            is_websocket_upgrade, query_param, websocket_protocol_token,
        };
        // A configuration that cannot work answers 500 whether or not a token came, so the
        // misconfiguration shows on the first request.
        if let Err(error) = &self.inner.keys {
            return Session::from(Err(AuthError::Misconfigured(error.clone())));
        }
        // A present Bearer token decides alone: invalid is 401, never a cookie.
        match bearer_token(req.headers) {
            Ok(token) => return Session::from(self.verify_token_until(token, until).await),
            Err(BearerError::Invalid(why)) => {
                return Session::from(Err(AuthError::InvalidAuthorizationHeader(why)));
            }
            Err(BearerError::Missing) => {}
        }
        let browser = &self.inner.config.browser;
        let Some(names) = self.inner.cookie_names.as_ref().filter(|_| browser.enabled) else {
            return Session::from(Err(AuthError::MissingToken));
        };
        let mut headers = ResponseHeaders::default();
        // A WebSocket upgrade may carry its token in a subprotocol entry (echoed back) or a
        // named query parameter; only an upgrade.
        if is_websocket_upgrade(req.headers) {
            if let Some((token, entry)) = websocket_protocol_token(req.headers) {
                headers.set_websocket_protocol(entry);
                return Session {
                    result: self.verify_token_until(&token, until).await,
                    headers,
                    redirect: None,
                };
            }
            if let Some(token) = browser
                .websocket_token_param
                .as_deref()
                .and_then(|param| query_param(&req, param))
            {
                return Session::from(self.verify_token_until(&token, until).await);
            }
        }
        let cache = cookie(req.headers, &names.auth);
        let session = cookie(req.headers, SESSION_COOKIE);
        let dev = cookie(req.headers, &names.dev_session);
        let dev_query = matches!(*req.method, http::Method::GET | http::Method::HEAD)
            .then(|| query_param(&req, DEV_SESSION_QUERY))
            .flatten();
        let has_cookies = [&cache, &session, &dev]
            .iter()
            .any(|c| !matches!(c, Cookie::Absent));
        if (has_cookies || dev_query.is_some())
            && is_cross_site(&req, &browser.app_url, &browser.allowed_origins)
        {
            return Session::from(Err(AuthError::CrossSiteRequest));
        }
        if let Some(value) = dev_query {
            return self.dev_session_redirect(req, names, value, until).await;
        }
        match cache {
            Cookie::Value(token) => match self.verify_token_until(&token, until).await {
                Ok(auth) => return Session::ok(auth, headers),
                // Keys down or a bad configuration: an exchange would not help.
                Err(error @ (AuthError::KeysUnavailable { .. } | AuthError::Misconfigured(_))) => {
                    return Session::from(Err(error));
                }
                Err(error) => {
                    tracing::debug!(target: "wacht", reason = error.reason(), "the session cache cookie is expired or invalid; cleared, the session cookie decides");
                    headers.add_cookies(crate::browser::clear_auth_cookie(names));
                }
            },
            Cookie::Malformed => headers.add_cookies(crate::browser::clear_auth_cookie(names)),
            Cookie::Absent => {}
        }
        let transport = match (session, dev) {
            (Cookie::Value(value), _) if crate::browser::looks_like_transport(&value) => {
                Transport::Session(value)
            }
            (_, Cookie::Value(value)) if crate::browser::looks_like_transport(&value) => {
                Transport::Development(value)
            }
            _ => {
                return Session {
                    result: Err(AuthError::MissingToken),
                    headers,
                    redirect: None,
                };
            }
        };
        match self.exchange(req, &transport, until).await {
            Ok(exchanged) => {
                headers.add_cookies(exchanged.set_cookies.iter().cloned());
                let result = self
                    .verify_exchanged(names, &exchanged, &mut headers, until)
                    .await;
                Session {
                    result,
                    headers,
                    redirect: None,
                }
            }
            Err((error, set_cookies)) => {
                headers.add_cookies(set_cookies);
                Session {
                    result: Err(error),
                    headers,
                    redirect: None,
                }
            }
        }
    }

    /// `GET …?__dev_session__=…`: the development session is exchanged, its cookies are set,
    /// and the browser is sent to the same URL without it (as the Next.js SDK does).
    async fn dev_session_redirect(
        &self,
        req: Head<'_>,
        names: &crate::browser::CookieNames,
        value: String,
        until: Instant,
    ) -> Session {
        let transport = crate::browser::Transport::Development(value.clone());
        let mut headers = ResponseHeaders::default();
        match self.exchange(req, &transport, until).await {
            Ok(mut exchanged) => {
                headers.add_cookies(exchanged.set_cookies.iter().cloned());
                // The dev session to keep: the frontend API's next one, else this one.
                exchanged.dev_session.get_or_insert(value);
                if let Err(error) = self
                    .verify_exchanged(names, &exchanged, &mut headers, until)
                    .await
                {
                    return Session {
                        result: Err(error),
                        headers,
                        redirect: None,
                    };
                }
            }
            Err((AuthError::MissingToken, set_cookies)) => headers.add_cookies(set_cookies),
            Err((error, set_cookies)) => {
                headers.add_cookies(set_cookies);
                return Session {
                    result: Err(error),
                    headers,
                    redirect: None,
                };
            }
        }
        let query = req.uri.query().map(crate::browser::without_dev_session);
        let location = crate::browser::same_site_location(req.uri.path(), query.as_deref());
        Session {
            result: Err(AuthError::MissingToken),
            headers,
            redirect: Some(Rejection::redirect(
                "development_session_stored",
                "The development session is stored in cookies; continue without it in the URL.",
                &location,
            )),
        }
    }

    /// The frontend API's exchange for `transport`, mapped: no active sign-in is "signed
    /// out" (with the `Set-Cookie` values it sent), everything else that is not a token is a
    /// 503, never "signed out".
    async fn exchange(
        &self,
        req: Head<'_>,
        transport: &crate::browser::Transport,
        until: Instant,
    ) -> Result<crate::browser::Exchanged, (AuthError, Vec<http::HeaderValue>)> {
        use crate::browser::ExchangeError;
        let config = &self.inner.config;
        let frontend_api_url = config.frontend_api_url().ok_or((
            AuthError::Misconfigured(ConfigError::MissingPublishableKey),
            Vec::new(),
        ))?;
        let forwarded_for = config.client_ip.resolve(req.headers);
        let left = until.saturating_duration_since(Instant::now());
        let outcome = crate::browser::exchange(
            &self.inner.http,
            frontend_api_url,
            transport,
            forwarded_for,
            left,
        )
        .await;
        let unavailable = |reason, retry_after_secs| AuthError::SessionExchangeUnavailable {
            reason,
            retry_after_secs,
        };
        outcome.map_err(|error| match error {
            ExchangeError::SignedOut {
                status,
                set_cookies,
            } => {
                tracing::debug!(target: "wacht", status, "the frontend API reports no active sign-in: signed out");
                (AuthError::MissingToken, set_cookies)
            }
            ExchangeError::RateLimited { retry_after } => {
                tracing::warn!(target: "wacht", retry_after, "the frontend API's token exchange is rate-limited");
                (unavailable("session_exchange_rate_limited", retry_after), Vec::new())
            }
            ExchangeError::Timeout => (unavailable("session_exchange_timeout", 1), Vec::new()),
            ExchangeError::Unavailable(why) => {
                tracing::warn!(target: "wacht", %why, "the frontend API's token exchange failed");
                (unavailable("session_exchange_unavailable", 1), Vec::new())
            }
        })
    }

    /// Verifies an exchanged token like any other; when it verifies, the answer caches it in
    /// `__auth_<scope>` (and keeps a development session in its cookies).
    async fn verify_exchanged(
        &self,
        names: &crate::browser::CookieNames,
        exchanged: &crate::browser::Exchanged,
        headers: &mut ResponseHeaders,
        until: Instant,
    ) -> Result<Auth, AuthError> {
        let auth = self
            .verify_token_until(&exchanged.token, until)
            .await
            .inspect_err(|error| {
                tracing::warn!(target: "wacht", reason = error.reason(), %error, "the frontend API's session token did not verify (check WACHT_PUBLISHABLE_KEY)");
            })?;
        let now = self.inner.config.clock.now();
        headers.add_cookies(crate::browser::auth_cookie(
            names,
            &exchanged.token,
            exchanged.expires_ms,
            now,
        ));
        if let Some(dev_session) = &exchanged.dev_session {
            headers.add_cookies(crate::browser::dev_session_cookies(names, dev_session, now));
        }
        Ok(auth)
    }

    /// Optional authentication: `Ok(None)` for a signed-out request (no `Authorization`
    /// header; with browser sessions, no session cookie either, or no active sign-in),
    /// `Ok(Some(auth))` for a valid session, and the usual 401 for a present but invalid or
    /// expired Bearer token (never a silent downgrade to "signed out"). A configuration that
    /// cannot verify tokens answers 500 either way, and so does nothing else fail open: a
    /// frontend API that cannot be asked is 503, never "signed out".
    pub fn protect_optional<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
    ) -> impl Future<Output = Result<Option<Auth>, Rejection>> + Send + 'a {
        let head = Head::of(req);
        async move {
            self.protect_optional_head(head, &NO_REQUIREMENT)
                .await
                .map(Admitted::into_identity)
        }
    }

    /// [`Wacht::protect_optional`] with the headers the answer must carry.
    pub fn admit_optional<'a, B>(
        &'a self,
        req: &'a http::Request<B>,
    ) -> impl Future<Output = Result<Admitted<Option<Auth>>, Rejection>> + Send + 'a {
        self.protect_optional_head(Head::of(req), &NO_REQUIREMENT)
    }

    pub(crate) async fn protect_optional_head(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
    ) -> Result<Admitted<Option<Auth>>, Rejection> {
        self.session_check(req, requirement, true).await
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
        let head = Head::of(req);
        async move {
            self.protect_or_machine_head(head, requirement, machine)
                .await
                .map(Admitted::into_identity)
        }
    }

    pub(crate) async fn protect_or_machine_head(
        &self,
        req: Head<'_>,
        requirement: &Requirement,
        machine: &MachineRequirement,
    ) -> Result<Admitted<Caller>, Rejection> {
        let api_key = req.headers.contains_key(machine.api_key_header());
        // With browser sessions, a request with neither credential is a person's: cookies.
        let browser = self.inner.config.browser.enabled;
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
            (false, Err(BearerError::Missing)) if browser => Ok(Route::Session),
            (false, Err(BearerError::Missing)) => Err(CredentialError::Missing.rejection()),
            (false, Err(BearerError::Invalid(why))) => {
                Err(AuthError::InvalidAuthorizationHeader(why).rejection())
            }
        };
        match route {
            Ok(Route::Session) => self
                .protect_head(req, requirement)
                .await
                .map(|admitted| admitted.map(Caller::Session)),
            Ok(Route::Machine) => self
                .authorize_machine_head(req, machine)
                .await
                .map(|auth| Admitted::plain(Caller::Machine(auth))),
            Err(rejection) => {
                // Refused before either check: still one `wacht.check` span and event.
                let span = check_span(Check::Either, req);
                let result: Result<Admitted<Caller>, Rejection> = Err(rejection);
                self.finish_check(Check::Either, &span, Instant::now(), &result);
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
        let span = check_span(Check::Machine, req);
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
        self.finish_check(Check::Machine, &span, started, &result);
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

/// A request's session, before the requirement: the identity or why none, the headers the
/// answer must carry, and a redirect that answers instead of the handler.
struct Session {
    result: Result<Auth, AuthError>,
    headers: ResponseHeaders,
    redirect: Option<Rejection>,
}

impl Session {
    fn ok(auth: Auth, headers: ResponseHeaders) -> Self {
        Session {
            result: Ok(auth),
            headers,
            redirect: None,
        }
    }
}

impl From<Result<Auth, AuthError>> for Session {
    fn from(result: Result<Auth, AuthError>) -> Self {
        Session {
            result,
            headers: ResponseHeaders::default(),
            redirect: None,
        }
    }
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
fn check_span(check: Check, req: Head<'_>) -> Span {
    tracing::info_span!(
        target: "wacht",
        "wacht.check",
        check = check.label(),
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

impl Wacht {
    /// Records how a check ended on its span and in the metrics (feature `metrics`), and logs
    /// refusals (at `info`, inside the span, so the event carries the span's fields).
    fn finish_check<T>(
        &self,
        check: Check,
        span: &Span,
        started: Instant,
        result: &Result<T, Rejection>,
    ) {
        let elapsed = started.elapsed();
        self.inner.metrics.check(
            check,
            result
                .as_ref()
                .err()
                .map(|rejection| (rejection.code(), rejection.reason())),
            elapsed,
        );
        finish_span(span, elapsed, result);
    }
}

/// Records how a check ended on its span, and logs refusals (at `info`, inside the span, so
/// the event carries the span's fields).
fn finish_span<T>(span: &Span, elapsed: std::time::Duration, result: &Result<T, Rejection>) {
    let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
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
