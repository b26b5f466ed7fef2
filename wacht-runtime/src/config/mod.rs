//! Configuration: from the environment (`WACHT_*` variables) or a builder.

use std::fmt;
use std::time::Duration;

use crate::client_ip::ClientIp;
use crate::clock::Clock;
use crate::rejection::Rejection;
use crate::secret::Secret;

mod browser;
mod env;
mod values;

pub use browser::AppUrl;
use browser::BrowserBuilder;
pub(crate) use browser::BrowserSettings;

pub use values::{
    HTTP_TIMEOUT_RANGE, JWKS_MIN_REFRESH_INTERVAL_RANGE, JWKS_TTL_RANGE, MAX_TOKEN_CACHE_CAPACITY,
    MAX_TOKEN_CACHE_MAX_BYTES,
};
use values::{absolute_url, decode_publishable_key, duration_in, origin_of};

/// Default backend API URL (`WACHT_BACKEND_API_URL`).
pub const DEFAULT_BACKEND_API_URL: &str = "https://api.wacht.dev";
/// Default gateway URL (`WACHT_GATEWAY_URL`).
pub const DEFAULT_GATEWAY_URL: &str = "https://gateway.wacht.dev";
/// Default timeout of every call the runtime makes (JWKS, gateway, backend).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a fetched key set is used before it is refreshed.
pub const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(300);
/// The longest JWKS TTL accepted, in seconds (a day; [`JWKS_TTL_RANGE`]).
pub const MAX_JWKS_TTL_SECONDS: u64 = 86_400;
/// Default minimum time between two refreshes caused by an unknown `kid`.
pub const DEFAULT_JWKS_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// The largest clock leeway accepted, in seconds: more would keep expired tokens alive.
pub const MAX_LEEWAY_SECONDS: u64 = 300;
/// Default number of verified tokens remembered.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 10_000;
/// Default bound on the verified-token cache's memory, in estimated bytes (the tokens and
/// their claims): 12 000 tokens of 15 KB then hold well under 64 MiB.
pub const DEFAULT_TOKEN_CACHE_MAX_BYTES: usize = 48 << 20;

/// A configuration that cannot work. Requests meeting it are answered
/// `500 auth_misconfigured`; the handler never runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No publishable key (`WACHT_PUBLISHABLE_KEY`) and no frontend API URL were configured,
    /// so session tokens cannot be verified.
    #[error(
        "no publishable key configured: set WACHT_PUBLISHABLE_KEY (or use WachtConfig::builder().publishable_key(..))"
    )]
    MissingPublishableKey,
    /// The publishable key is not `pk_test_`/`pk_live_` + base64 of an http(s) URL.
    #[error("invalid publishable key: {0}")]
    InvalidPublishableKey(&'static str),
    /// A URL setting is not an absolute http(s) URL.
    #[error("invalid URL in {setting}: {reason}")]
    InvalidUrl {
        /// Which setting (environment variable name).
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `WACHT_PUBLIC_SIGNING_KEY` is not a PEM public key this runtime can use.
    #[error("invalid public signing key (WACHT_PUBLIC_SIGNING_KEY): {0}")]
    InvalidPublicSigningKey(&'static str),
    /// The HTTP timeout (`http_timeout`, `WACHT_HTTP_TIMEOUT_MS`) is not 1 ms to 300 s
    /// ([`HTTP_TIMEOUT_RANGE`]). Every scope reports it.
    #[error("invalid HTTP timeout (WACHT_HTTP_TIMEOUT_MS): {0:?}; 1 to 300000 ms is accepted")]
    InvalidTimeout(String),
    /// The JWKS TTL (`jwks_ttl`, `WACHT_JWKS_TTL_SECONDS`) is not 1 s to 86 400 s
    /// ([`JWKS_TTL_RANGE`]).
    #[error("invalid JWKS TTL (WACHT_JWKS_TTL_SECONDS): {0:?}; 1 to 86400 s is accepted")]
    InvalidJwksTtl(String),
    /// The minimum JWKS refresh interval (`jwks_min_refresh_interval`,
    /// `WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS`) is not 1 s to 3 600 s
    /// ([`JWKS_MIN_REFRESH_INTERVAL_RANGE`]).
    #[error(
        "invalid minimum JWKS refresh interval (WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS): {0:?}; 1 to 3600 s is accepted"
    )]
    InvalidJwksMinRefreshInterval(String),
    /// A token cache bound is too large (capacity above [`MAX_TOKEN_CACHE_CAPACITY`] or
    /// bytes above [`MAX_TOKEN_CACHE_MAX_BYTES`]; 0 turns the cache off).
    #[error("invalid token cache bound: {0}")]
    InvalidTokenCache(String),
    /// The clock leeway is above [`MAX_LEEWAY_SECONDS`].
    #[error("leeway_seconds is {0}; at most {MAX_LEEWAY_SECONDS} is accepted")]
    InvalidLeeway(u64),
    /// The client-IP policy (`WACHT_CLIENT_IP`) is not `none`, `netlify`, `header:<name>`
    /// or `forwarded-for:<n>` with n ≥ 1.
    #[error("invalid client IP policy (WACHT_CLIENT_IP): {0}")]
    InvalidClientIp(String),
    /// A browser-session setting cannot work (`WACHT_BROWSER_SESSIONS`,
    /// `WACHT_APP_URL`, `WACHT_ALLOWED_ORIGINS`, `WACHT_SIGN_IN_URL`,
    /// `WACHT_WEBSOCKET_TOKEN_PARAM`). Session checks answer 500; machine checks keep working.
    #[error("invalid browser-session setting ({setting}): {reason}")]
    InvalidBrowserSetting {
        /// Which setting (environment variable name).
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
    /// [`crate::init`] was called after the process-wide instance already existed.
    #[error("wacht::init was called after the process-wide Wacht was already initialised")]
    AlreadyInitialized,
}

impl ConfigError {
    /// The stable snake_case reason code of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            ConfigError::MissingPublishableKey => "missing_publishable_key",
            ConfigError::InvalidPublishableKey(_) => "invalid_publishable_key",
            ConfigError::InvalidUrl { .. } => "invalid_url",
            ConfigError::InvalidPublicSigningKey(_) => "invalid_public_signing_key",
            ConfigError::InvalidLeeway(_) => "invalid_leeway",
            ConfigError::InvalidTimeout(_) => "invalid_timeout",
            ConfigError::InvalidJwksTtl(_) => "invalid_jwks_ttl",
            ConfigError::InvalidJwksMinRefreshInterval(_) => "invalid_jwks_min_refresh_interval",
            ConfigError::InvalidTokenCache(_) => "invalid_token_cache",
            ConfigError::InvalidClientIp(_) => "invalid_client_ip",
            ConfigError::InvalidBrowserSetting { .. } => "invalid_browser_setting",
            ConfigError::HttpClient(_) => "http_client",
            ConfigError::AlreadyInitialized => "already_initialized",
        }
    }

    /// The `500 auth_misconfigured` answer for this error. The details are logged (once,
    /// when the context is built), not sent.
    pub fn rejection(&self) -> Rejection {
        Rejection::misconfigured(self.reason())
    }
}

/// Everything the runtime needs to know. Build it with [`WachtConfig::builder`] or
/// [`WachtConfig::from_env`].
///
/// ```
/// use wacht_runtime::WachtConfig;
/// // pk_test_ + base64("https://acme.fapi.wacht.dev")
/// let config = WachtConfig::builder()
///     .publishable_key("pk_test_aHR0cHM6Ly9hY21lLmZhcGkud2FjaHQuZGV2")
///     .build()?;
/// assert_eq!(config.frontend_api_url(), Some("https://acme.fapi.wacht.dev"));
/// assert_eq!(config.jwks_url().as_deref(), Some("https://acme.fapi.wacht.dev/.well-known/jwks.json"));
/// # Ok::<(), wacht_runtime::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct WachtConfig {
    pub(crate) frontend_api_url: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) jwks_url: Option<String>,
    pub(crate) public_signing_key: Option<String>,
    pub(crate) api_key: Option<Secret>,
    pub(crate) backend_api_url: String,
    pub(crate) gateway_url: String,
    pub(crate) leeway_seconds: u64,
    pub(crate) client_ip: ClientIp,
    pub(crate) clock: Clock,
    pub(crate) http_timeout: Duration,
    pub(crate) jwks_ttl: Duration,
    pub(crate) jwks_min_refresh_interval: Duration,
    pub(crate) token_cache_max_bytes: usize,
    pub(crate) token_cache_capacity: usize,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) browser: BrowserSettings,
    pub(crate) session_error: Option<ConfigError>,
    pub(crate) machine_error: Option<ConfigError>,
    pub(crate) backend_error: Option<ConfigError>,
}

impl fmt::Debug for WachtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WachtConfig")
            .field("frontend_api_url", &self.frontend_api_url)
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .field(
                "public_signing_key",
                &self.public_signing_key.as_ref().map(|_| "<pem>"),
            )
            .field("api_key", &self.api_key)
            .field("backend_api_url", &self.backend_api_url)
            .field("gateway_url", &self.gateway_url)
            .field("leeway_seconds", &self.leeway_seconds)
            .field("client_ip", &self.client_ip)
            .field("clock", &self.clock)
            .field("http_timeout", &self.http_timeout)
            .field("jwks_ttl", &self.jwks_ttl)
            .field("jwks_min_refresh_interval", &self.jwks_min_refresh_interval)
            .field("token_cache_max_bytes", &self.token_cache_max_bytes)
            .field("token_cache_capacity", &self.token_cache_capacity)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "<custom>"),
            )
            .field("session_error", &self.session_error)
            .field("machine_error", &self.machine_error)
            .field("browser", &self.browser)
            .field("backend_error", &self.backend_error)
            .finish()
    }
}

impl WachtConfig {
    /// A builder with every default in place.
    pub fn builder() -> WachtConfigBuilder {
        WachtConfigBuilder::default()
    }

    /// The frontend API URL (origin of the publishable key's URL), if configured.
    pub fn frontend_api_url(&self) -> Option<&str> {
        self.frontend_api_url.as_deref()
    }

    /// The `iss` every session token must carry: the explicit required issuer, else the
    /// frontend API URL.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref().or(self.frontend_api_url.as_deref())
    }

    /// Where session-token keys are fetched from, if anywhere.
    pub fn jwks_url(&self) -> Option<String> {
        self.jwks_url.clone().or_else(|| {
            self.frontend_api_url
                .as_ref()
                .map(|origin| format!("{origin}/.well-known/jwks.json"))
        })
    }

    /// The gateway base URL (no trailing slash).
    pub fn gateway_url(&self) -> &str {
        &self.gateway_url
    }

    /// The backend API base URL (no trailing slash).
    pub fn backend_api_url(&self) -> &str {
        &self.backend_api_url
    }

    /// The backend API key, if configured.
    pub fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// Clock leeway applied to `exp` and `nbf`, in seconds.
    pub fn leeway_seconds(&self) -> u64 {
        self.leeway_seconds
    }

    /// Which client IP, if any, is forwarded to the gateway.
    pub fn client_ip(&self) -> &ClientIp {
        &self.client_ip
    }

    /// The clock used for every time check.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Timeout of every outgoing call.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// Why session checks cannot work, if they cannot (only from
    /// [`WachtConfigBuilder::build_scoped`]; [`WachtConfigBuilder::build`] fails instead).
    pub fn session_error(&self) -> Option<&ConfigError> {
        self.session_error.as_ref()
    }

    /// Why machine checks cannot work (bad gateway URL or client-IP policy), if they cannot.
    pub fn machine_error(&self) -> Option<&ConfigError> {
        self.machine_error.as_ref()
    }

    /// Why backend API calls cannot work (bad backend API URL), if they cannot.
    pub fn backend_error(&self) -> Option<&ConfigError> {
        self.backend_error.as_ref()
    }
}

/// Builds a [`WachtConfig`]; every setter has a default except the publishable key.
#[derive(Debug, Clone)]
pub struct WachtConfigBuilder {
    publishable_key: Option<String>,
    frontend_api_url: Option<String>,
    issuer: Option<String>,
    jwks_url: Option<String>,
    public_signing_key: Option<String>,
    api_key: Option<Secret>,
    backend_api_url: String,
    gateway_url: String,
    leeway_seconds: u64,
    client_ip: ClientIp,
    /// Environment values that did not parse: `build` reports them, scoped.
    unparsed: Unparsed,
    clock: Clock,
    http_timeout: Duration,
    jwks_ttl: Duration,
    jwks_min_refresh_interval: Duration,
    token_cache_max_bytes: usize,
    token_cache_capacity: usize,
    http_client: Option<reqwest::Client>,
    browser: BrowserBuilder,
}

/// Environment values that did not parse (kept as text for the error message).
#[derive(Debug, Clone, Default)]
struct Unparsed {
    http_timeout: Option<String>,
    jwks_ttl: Option<String>,
    jwks_min_refresh_interval: Option<String>,
    client_ip: Option<String>,
}

impl Default for WachtConfigBuilder {
    fn default() -> Self {
        WachtConfigBuilder {
            publishable_key: None,
            frontend_api_url: None,
            issuer: None,
            jwks_url: None,
            public_signing_key: None,
            api_key: None,
            backend_api_url: DEFAULT_BACKEND_API_URL.to_owned(),
            gateway_url: DEFAULT_GATEWAY_URL.to_owned(),
            leeway_seconds: 0,
            client_ip: ClientIp::None,
            unparsed: Unparsed::default(),
            clock: Clock::system(),
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            jwks_ttl: DEFAULT_JWKS_TTL,
            jwks_min_refresh_interval: DEFAULT_JWKS_MIN_REFRESH_INTERVAL,
            token_cache_max_bytes: DEFAULT_TOKEN_CACHE_MAX_BYTES,
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            http_client: None,
            browser: BrowserBuilder::default(),
        }
    }
}

impl WachtConfigBuilder {
    /// The publishable key (`pk_test_…` / `pk_live_…`). Decoded and checked in `build`.
    pub fn publishable_key(mut self, key: impl Into<String>) -> Self {
        self.publishable_key = Some(key.into());
        self
    }

    /// Sets the frontend API URL directly instead of through a publishable key.
    pub fn frontend_api_url(mut self, url: impl Into<String>) -> Self {
        self.frontend_api_url = Some(url.into());
        self
    }

    /// Requires this exact `iss` instead of the frontend API URL.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Fetches keys from this URL instead of `<frontend API URL>/.well-known/jwks.json`.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// A PEM public key (SPKI `PUBLIC KEY`, or `RSA PUBLIC KEY`): session tokens are verified
    /// with it and the JWKS is never fetched.
    pub fn public_signing_key(mut self, pem: impl Into<String>) -> Self {
        self.public_signing_key = Some(pem.into());
        self
    }

    /// The backend API key, sent as `Authorization: Bearer` to the backend API.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key));
        self
    }

    /// The backend API base URL.
    pub fn backend_api_url(mut self, url: impl Into<String>) -> Self {
        self.backend_api_url = url.into();
        self
    }

    /// The gateway base URL.
    pub fn gateway_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = url.into();
        self
    }

    /// Clock leeway for `exp` and `nbf`, in seconds (default 0, at most
    /// [`MAX_LEEWAY_SECONDS`]).
    pub fn leeway_seconds(mut self, seconds: u64) -> Self {
        self.leeway_seconds = seconds;
        self
    }

    /// Which client IP is forwarded to the gateway (default [`ClientIp::None`]: none, as the
    /// reference SDK). See [`ClientIp`] for the policy of each platform.
    pub fn client_ip(mut self, policy: ClientIp) -> Self {
        self.client_ip = policy;
        self.unparsed.client_ip = None;
        self
    }

    /// The clock (default [`Clock::system`]).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Timeout of every outgoing call (default 5 s; 1 ms to 300 s, [`HTTP_TIMEOUT_RANGE`];
    /// `WACHT_HTTP_TIMEOUT_MS` in the environment). A check's calls together never take
    /// longer, nor past a request's [`Deadline`](crate::Deadline). Out of range is a
    /// configuration error of every scope.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self.unparsed.http_timeout = None;
        self
    }

    /// How long a fetched key set is used before it is refreshed (default 300 s; 1 s to
    /// 86 400 s, [`JWKS_TTL_RANGE`]; `WACHT_JWKS_TTL_SECONDS` in the environment).
    pub fn jwks_ttl(mut self, ttl: Duration) -> Self {
        self.jwks_ttl = ttl;
        self.unparsed.jwks_ttl = None;
        self
    }

    /// Minimum time between two refreshes caused by unknown `kid`s, and the longest wait
    /// before a failed JWKS fetch is retried (default 30 s; 1 s to 3 600 s,
    /// `WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS` in the environment). With keys held, a
    /// failed fetch is retried after this interval; with none, after about 1 s, doubling up
    /// to it.
    pub fn jwks_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_min_refresh_interval = interval;
        self.unparsed.jwks_min_refresh_interval = None;
        self
    }

    /// At most how many bytes the verified tokens remembered take, estimated from the
    /// tokens and their claims (default [`DEFAULT_TOKEN_CACHE_MAX_BYTES`], 48 MiB; 0 turns
    /// the cache off; at most [`MAX_TOKEN_CACHE_MAX_BYTES`]). Whichever of this and
    /// [`token_cache_capacity`](Self::token_cache_capacity) is reached first bounds the
    /// cache; the tokens least likely to be seen again are dropped first.
    ///
    /// ```
    /// use wacht_runtime::WachtConfig;
    /// let config = WachtConfig::builder().token_cache_max_bytes(16 << 20);
    /// # let _ = config;
    /// ```
    pub fn token_cache_max_bytes(mut self, max_bytes: usize) -> Self {
        self.token_cache_max_bytes = max_bytes;
        self
    }

    /// How many verified tokens are remembered (default 10 000; 0 turns the cache off; at
    /// most [`MAX_TOKEN_CACHE_CAPACITY`]).
    pub fn token_cache_capacity(mut self, capacity: usize) -> Self {
        self.token_cache_capacity = capacity;
        self
    }

    /// The HTTP client every call to Wacht uses (JWKS, gateway, backend API), for proxies,
    /// private roots or mTLS. Redirects are still never followed: any 3xx is a failed call,
    /// and an answer from another URL than the one requested is refused, whatever the
    /// client's own redirect policy. Timeouts and body caps apply per call as usual. Build it
    /// with `reqwest::redirect::Policy::none()` to spare the round trip of a refused redirect.
    ///
    /// On wasm32 the calls go to the platform's `fetch` directly (with `redirect: "manual"`),
    /// and the client only builds the requests: its settings do not apply there.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks every value and builds the configuration; the first setting that cannot
    /// work is the error.
    pub fn build(self) -> Result<WachtConfig, ConfigError> {
        let config = self.build_scoped();
        match config
            .session_error()
            .or(config.machine_error())
            .or(config.backend_error())
        {
            Some(error) => Err(error.clone()),
            None => Ok(config),
        }
    }

    /// Checks every value and builds the configuration, recording a setting that cannot
    /// work against the checks that use it instead of failing as a whole: a bad session
    /// setting (publishable key, frontend API URL, JWKS URL, PEM key, leeway) makes session
    /// checks answer `500 auth_misconfigured` and leaves machine checks working; a bad
    /// gateway setting (URL, client-IP policy) does the reverse; a bad backend API URL fails
    /// backend calls only. [`Wacht::from_env`](crate::Wacht::from_env) and the process-wide
    /// context build this way.
    ///
    /// ```
    /// use wacht_runtime::WachtConfig;
    /// let config = WachtConfig::builder().publishable_key("pk_test_!!!").build_scoped();
    /// assert_eq!(config.session_error().map(|e| e.reason()), Some("invalid_publishable_key"));
    /// assert!(config.machine_error().is_none());
    /// ```
    pub fn build_scoped(self) -> WachtConfig {
        // A bad timeout concerns every call: each scope reports it.
        let timeout_error = match &self.unparsed.http_timeout {
            Some(text) => Some(ConfigError::InvalidTimeout(text.clone())),
            None => duration_in(
                self.http_timeout,
                &HTTP_TIMEOUT_RANGE,
                ConfigError::InvalidTimeout,
            )
            .err(),
        };
        let session = match &timeout_error {
            Some(error) => Err(error.clone()),
            None => self.session_settings(),
        };
        // Browser settings belong to session checks: a bad one breaks those alone.
        let session = session.and_then(|urls| self.browser.build().map(|browser| (urls, browser)));
        let session = session.and_then(|((frontend_api_url, jwks_url), browser)| {
            if browser.enabled && frontend_api_url.is_none() {
                return Err(ConfigError::InvalidBrowserSetting {
                    setting: "WACHT_BROWSER_SESSIONS",
                    reason: "browser sessions need the frontend API: set WACHT_PUBLISHABLE_KEY"
                        .to_owned(),
                });
            }
            Ok(((frontend_api_url, jwks_url), browser))
        });
        let (frontend_api_url, jwks_url, browser, session_error) = match session {
            Ok(((frontend_api_url, jwks_url), browser)) => {
                (frontend_api_url, jwks_url, Some(browser), None)
            }
            Err(error) => (None, None, None, Some(error)),
        };
        let machine_error = match (&self.unparsed.client_ip, self.client_ip.is_valid()) {
            (Some(setting), _) => Some(ConfigError::InvalidClientIp(setting.clone())),
            (None, false) => Some(ConfigError::InvalidClientIp(format!(
                "{:?}",
                self.client_ip
            ))),
            (None, true) => absolute_url(&self.gateway_url, "WACHT_GATEWAY_URL").err(),
        };
        let machine_error = timeout_error.clone().or(machine_error);
        let backend_error = timeout_error
            .or_else(|| absolute_url(&self.backend_api_url, "WACHT_BACKEND_API_URL").err());
        let issuer = self
            .issuer
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty());
        let trimmed = |url: &str| url.trim().trim_end_matches('/').to_owned();
        // Values out of range never reach the runtime, even unused: the defaults stand in.
        let in_range = |value: Duration, range: &std::ops::RangeInclusive<Duration>, default| {
            if range.contains(&value) {
                value
            } else {
                default
            }
        };
        WachtConfig {
            frontend_api_url,
            issuer,
            jwks_url,
            public_signing_key: self.public_signing_key.filter(|_| session_error.is_none()),
            api_key: self.api_key.filter(|k| !k.expose().is_empty()),
            backend_api_url: trimmed(&self.backend_api_url),
            gateway_url: trimmed(&self.gateway_url),
            leeway_seconds: self.leeway_seconds.min(MAX_LEEWAY_SECONDS),
            client_ip: self.client_ip,
            clock: self.clock,
            http_timeout: in_range(self.http_timeout, &HTTP_TIMEOUT_RANGE, DEFAULT_HTTP_TIMEOUT),
            jwks_ttl: in_range(self.jwks_ttl, &JWKS_TTL_RANGE, DEFAULT_JWKS_TTL),
            jwks_min_refresh_interval: in_range(
                self.jwks_min_refresh_interval,
                &JWKS_MIN_REFRESH_INTERVAL_RANGE,
                DEFAULT_JWKS_MIN_REFRESH_INTERVAL,
            ),
            token_cache_max_bytes: self.token_cache_max_bytes.min(MAX_TOKEN_CACHE_MAX_BYTES),
            token_cache_capacity: self.token_cache_capacity.min(MAX_TOKEN_CACHE_CAPACITY),
            http_client: self.http_client,
            browser: browser.unwrap_or_default(),
            session_error,
            machine_error,
            backend_error,
        }
    }

    /// The session settings checked: the frontend API URL and the JWKS URL.
    #[allow(clippy::type_complexity)]
    fn session_settings(&self) -> Result<(Option<String>, Option<String>), ConfigError> {
        match &self.unparsed.jwks_ttl {
            Some(text) => return Err(ConfigError::InvalidJwksTtl(text.clone())),
            None => duration_in(self.jwks_ttl, &JWKS_TTL_RANGE, ConfigError::InvalidJwksTtl)?,
        };
        match &self.unparsed.jwks_min_refresh_interval {
            Some(text) => return Err(ConfigError::InvalidJwksMinRefreshInterval(text.clone())),
            None => duration_in(
                self.jwks_min_refresh_interval,
                &JWKS_MIN_REFRESH_INTERVAL_RANGE,
                ConfigError::InvalidJwksMinRefreshInterval,
            )?,
        };
        if self.token_cache_capacity > MAX_TOKEN_CACHE_CAPACITY {
            return Err(ConfigError::InvalidTokenCache(format!(
                "token_cache_capacity is {}; at most {MAX_TOKEN_CACHE_CAPACITY} is accepted",
                self.token_cache_capacity
            )));
        }
        if self.token_cache_max_bytes > MAX_TOKEN_CACHE_MAX_BYTES {
            return Err(ConfigError::InvalidTokenCache(format!(
                "token_cache_max_bytes is {}; at most {MAX_TOKEN_CACHE_MAX_BYTES} is accepted",
                self.token_cache_max_bytes
            )));
        }
        let frontend_api_url = match (&self.frontend_api_url, &self.publishable_key) {
            (Some(url), _) => Some(origin_of(url, "frontend_api_url")?),
            (None, Some(key)) => Some(decode_publishable_key(key)?),
            (None, None) => None,
        };
        let jwks_url = match &self.jwks_url {
            Some(url) => Some(absolute_url(url, "jwks_url")?),
            None => None,
        };
        if let Some(pem) = &self.public_signing_key {
            crate::jwk::parse_pem(pem)
                .map_err(|why| ConfigError::InvalidPublicSigningKey(why.0))?;
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(ConfigError::InvalidLeeway(self.leeway_seconds));
        }
        Ok((frontend_api_url, jwks_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pk(url: &str) -> String {
        format!("pk_test_{}", STANDARD.encode(url))
    }

    #[test]
    fn publishable_key_gives_origin_issuer_and_jwks() {
        let config = WachtConfig::builder()
            .publishable_key(pk("https://acme.fapi.wacht.dev/some/path/"))
            .build()
            .unwrap();
        assert_eq!(
            config.frontend_api_url(),
            Some("https://acme.fapi.wacht.dev")
        );
        assert_eq!(config.issuer(), Some("https://acme.fapi.wacht.dev"));
        assert_eq!(
            config.jwks_url().as_deref(),
            Some("https://acme.fapi.wacht.dev/.well-known/jwks.json")
        );
        let local = WachtConfig::builder()
            .publishable_key(format!(
                "pk_live_{}",
                STANDARD_NO_PAD.encode("http://127.0.0.1:8080")
            ))
            .build()
            .unwrap();
        assert_eq!(local.frontend_api_url(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn bad_publishable_keys_are_config_errors() {
        for bad in [
            "sk_test_aHR0cHM6Ly9hLmI=",
            "pk_test_!!!",
            "pk_test_",
            &pk("not a url"),
            &pk("ftp://files.example"),
        ] {
            let err = WachtConfig::builder()
                .publishable_key(bad)
                .build()
                .unwrap_err();
            assert_eq!(err.reason(), "invalid_publishable_key", "{bad}");
            assert_eq!(
                err.rejection().status(),
                http::StatusCode::INTERNAL_SERVER_ERROR
            );
        }
    }

    #[test]
    fn environment_names_and_defaults() {
        let env = |name: &str| match name {
            "NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY" => Some(pk("https://x.fapi.wacht.dev")),
            "WACHT_API_KEY" => Some("sk_secret_value".to_owned()),
            "WACHT_GATEWAY_URL" => Some("http://127.0.0.1:9/".to_owned()),
            "WACHT_BACKEND_API_URL" => Some("   ".to_owned()),
            _ => None,
        };
        let config = WachtConfig::from_lookup(env).unwrap();
        assert_eq!(config.frontend_api_url(), Some("https://x.fapi.wacht.dev"));
        assert_eq!(config.gateway_url(), "http://127.0.0.1:9");
        assert_eq!(config.backend_api_url(), DEFAULT_BACKEND_API_URL);
        assert_eq!(
            config.api_key().map(Secret::expose),
            Some("sk_secret_value")
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk_secret_value"), "{debug}");
    }

    #[test]
    fn leeway_above_five_minutes_is_a_configuration_error() {
        assert!(WachtConfig::builder().leeway_seconds(300).build().is_ok());
        let err = WachtConfig::builder()
            .leeway_seconds(301)
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::InvalidLeeway(301));
        assert_eq!(err.reason(), "invalid_leeway");
        let err = WachtConfig::builder()
            .leeway_seconds(u64::MAX)
            .build()
            .unwrap_err();
        assert_eq!(err.reason(), "invalid_leeway");
    }

    #[test]
    fn http_timeout_from_the_environment() {
        let env = |value: &'static str| {
            move |name: &str| (name == "WACHT_HTTP_TIMEOUT_MS").then(|| value.to_owned())
        };
        let config = WachtConfig::from_lookup(env("2500")).unwrap();
        assert_eq!(config.http_timeout(), Duration::from_millis(2500));
        for bad in ["0", "-1", "2s", "1e3"] {
            let err = WachtConfig::from_lookup(env(bad)).unwrap_err();
            assert_eq!(err.reason(), "invalid_timeout", "{bad}");
        }
    }

    #[test]
    fn jwks_ttl_from_the_environment_scoped_to_session_checks() {
        let env = |value: &'static str| {
            move |name: &str| match name {
                "WACHT_JWKS_TTL_SECONDS" => Some(value.to_owned()),
                "WACHT_PUBLISHABLE_KEY" => {
                    Some("pk_test_aHR0cHM6Ly9hY21lLmZhcGkud2FjaHQuZGV2".to_owned())
                }
                _ => None,
            }
        };
        let config = WachtConfig::from_lookup(env("60")).unwrap();
        assert_eq!(config.jwks_ttl, Duration::from_secs(60));
        for bad in ["0", "-1", "86401", "5m", "1.5"] {
            let err = WachtConfig::from_lookup(env(bad)).unwrap_err();
            assert_eq!(err.reason(), "invalid_jwks_ttl", "{bad}");
            let scoped = WachtConfig::builder_from_lookup(env(bad)).build_scoped();
            assert_eq!(
                scoped.session_error().map(ConfigError::reason),
                Some("invalid_jwks_ttl")
            );
            assert!(scoped.machine_error().is_none(), "{bad}");
        }
    }

    #[test]
    fn client_ip_policy_from_the_environment() {
        let config = WachtConfig::from_lookup(|_| None).unwrap();
        assert_eq!(config.client_ip(), &ClientIp::None);
        let netlify = WachtConfig::from_lookup(|name| {
            (name == "WACHT_CLIENT_IP").then(|| "netlify".to_owned())
        })
        .unwrap();
        assert_eq!(netlify.client_ip(), &ClientIp::netlify());
        let bad = WachtConfig::from_lookup(|name| {
            (name == "WACHT_CLIENT_IP").then(|| "first-forwarded-for".to_owned())
        })
        .unwrap_err();
        assert_eq!(bad.reason(), "invalid_client_ip");
        let zero = WachtConfig::builder()
            .client_ip(ClientIp::RightmostForwardedFor(0))
            .build()
            .unwrap_err();
        assert_eq!(zero.reason(), "invalid_client_ip");
    }

    #[test]
    fn every_duration_and_size_setting_has_a_range_and_out_of_range_is_an_error() {
        type Set = fn(WachtConfigBuilder, Duration) -> WachtConfigBuilder;
        let cases: [(&str, Set, Duration, Duration, &str); 3] = [
            (
                "http_timeout",
                WachtConfigBuilder::http_timeout,
                Duration::from_millis(1),
                Duration::from_secs(300),
                "invalid_timeout",
            ),
            (
                "jwks_ttl",
                WachtConfigBuilder::jwks_ttl,
                Duration::from_secs(1),
                Duration::from_secs(86_400),
                "invalid_jwks_ttl",
            ),
            (
                "jwks_min_refresh_interval",
                WachtConfigBuilder::jwks_min_refresh_interval,
                Duration::from_secs(1),
                Duration::from_secs(3_600),
                "invalid_jwks_min_refresh_interval",
            ),
        ];
        let pk = pk("https://acme.fapi.wacht.dev");
        for (name, set, low, high, reason) in cases {
            for ok in [low, high] {
                let built = set(WachtConfig::builder().publishable_key(&pk), ok).build();
                assert!(built.is_ok(), "{name} = {ok:?}: {built:?}");
            }
            let below = low.checked_sub(Duration::from_nanos(1)).unwrap_or_default();
            for bad in [
                Duration::ZERO,
                below,
                high + Duration::from_nanos(1),
                Duration::MAX,
            ] {
                let scoped = set(WachtConfig::builder().publishable_key(&pk), bad).build_scoped();
                assert_eq!(
                    scoped.session_error().map(ConfigError::reason),
                    Some(reason),
                    "{name} = {bad:?}"
                );
                // The value never reaches the runtime: the default stands in.
                assert!(scoped.http_timeout <= Duration::from_secs(300));
                assert!(scoped.jwks_ttl <= Duration::from_secs(86_400));
            }
        }
        let timeout = WachtConfig::builder()
            .http_timeout(Duration::MAX)
            .build_scoped();
        assert_eq!(
            timeout.machine_error().map(ConfigError::reason),
            Some("invalid_timeout"),
            "a bad timeout concerns every scope"
        );
        assert_eq!(
            timeout.backend_error().map(ConfigError::reason),
            Some("invalid_timeout")
        );
        let cache = |capacity, bytes| {
            WachtConfig::builder()
                .publishable_key(&pk)
                .token_cache_capacity(capacity)
                .token_cache_max_bytes(bytes)
                .build()
                .map_err(|e| e.reason())
        };
        assert!(cache(0, 0).is_ok());
        assert!(cache(MAX_TOKEN_CACHE_CAPACITY, MAX_TOKEN_CACHE_MAX_BYTES).is_ok());
        assert_eq!(
            cache(MAX_TOKEN_CACHE_CAPACITY + 1, 0).unwrap_err(),
            "invalid_token_cache"
        );
        assert_eq!(cache(1, usize::MAX).unwrap_err(), "invalid_token_cache");
    }

    #[test]
    fn ranges_from_the_environment() {
        let env = |name: &'static str, value: &'static str| {
            move |asked: &str| (asked == name).then(|| value.to_owned())
        };
        for (name, ok, bad, reason) in [
            (
                "WACHT_HTTP_TIMEOUT_MS",
                ["1", "300000"],
                ["0", "300001"],
                "invalid_timeout",
            ),
            (
                "WACHT_JWKS_TTL_SECONDS",
                ["1", "86400"],
                ["0", "86401"],
                "invalid_jwks_ttl",
            ),
            (
                "WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS",
                ["1", "3600"],
                ["0", "3601"],
                "invalid_jwks_min_refresh_interval",
            ),
        ] {
            for value in ok {
                assert!(
                    WachtConfig::from_lookup(env(name, value)).is_ok(),
                    "{name}={value}"
                );
            }
            for value in bad
                .into_iter()
                .chain(["-1", "1.5", "5m", "99999999999999999999"])
            {
                let error = WachtConfig::from_lookup(env(name, value)).unwrap_err();
                assert_eq!(error.reason(), reason, "{name}={value}");
            }
        }
        let config =
            WachtConfig::from_lookup(env("WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS", "7")).unwrap();
        assert_eq!(config.jwks_min_refresh_interval, Duration::from_secs(7));
    }

    #[test]
    fn missing_publishable_key_is_allowed_until_used() {
        let config = WachtConfig::from_lookup(|_| None).unwrap();
        assert_eq!(config.frontend_api_url(), None);
        assert_eq!(config.jwks_url(), None);
        assert_eq!(config.gateway_url(), DEFAULT_GATEWAY_URL);
    }
}
