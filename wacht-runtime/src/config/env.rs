//! Reading the configuration from the environment (`WACHT_*` variables). Values are only
//! read and parsed here; whether they are in range is decided when the builder builds
//! (`values`), the same way for a value from the environment and one from a setter.

use super::values::whole_number;
use super::{BrowserBuilder, ConfigError, WachtConfig, WachtConfigBuilder};
use crate::client_ip::ClientIp;

impl WachtConfig {
    /// Reads the configuration from the environment:
    ///
    /// | variable | meaning | range | default |
    /// |---|---|---|---|
    /// | `WACHT_PUBLISHABLE_KEY` (or `NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY`) | publishable key; its URL's origin is the frontend API URL and the required issuer | `pk_test_`/`pk_live_` + base64 of an http(s) URL | none: session checks answer 500 |
    /// | `WACHT_PUBLIC_SIGNING_KEY` | PEM public key: verify session tokens with no network | a PEM `PUBLIC KEY` / `RSA PUBLIC KEY` | none: keys come from the JWKS |
    /// | `WACHT_API_KEY` | backend API key | | none |
    /// | `WACHT_BACKEND_API_URL` | backend API URL | absolute http(s) URL | `https://api.wacht.dev` |
    /// | `WACHT_GATEWAY_URL` | gateway URL | absolute http(s) URL | `https://gateway.wacht.dev` |
    /// | `WACHT_HTTP_TIMEOUT_MS` | timeout of every call to Wacht (JWKS, gateway, backend API: connect, headers and body), and of a check's calls together, in milliseconds; never past a request's [`Deadline`](crate::Deadline) | 1 to 300 000 | 5000 |
    /// | `WACHT_JWKS_TTL_SECONDS` | how long a fetched key set is used before it is refreshed | 1 to 86 400 | 300 |
    /// | `WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS` | least time between two refreshes for an unknown `kid`, and the longest back-off after a failed fetch | 1 to 3 600 | 30 |
    /// | `WACHT_CLIENT_IP` | client IP sent to the gateway (and to the frontend API in a session exchange): `none`, `netlify`, `header:<name>`, `forwarded-for:<n>` ([`ClientIp`]) | | `none` |
    /// | `WACHT_BROWSER_SESSIONS` | authenticate requests without a Bearer token from cookies | `true` / `false` | `false` |
    /// | `WACHT_SIGN_IN_URL` | where signed-out page requests are redirected | absolute http(s) URL | derived from the frontend API host |
    /// | `WACHT_APP_URL` | the app's public URL, for `redirect_uri` and same-origin checks ([`AppUrl`](crate::AppUrl)) | `host`, `forwarded`, or an http(s) origin | `host` |
    /// | `WACHT_ALLOWED_ORIGINS` | other origins allowed to make cookie-authenticated writes | comma-separated http(s) origins | none |
    /// | `WACHT_WEBSOCKET_TOKEN_PARAM` | a query parameter a WebSocket upgrade may carry its session token in | `[A-Za-z0-9_-]`, at most 64 | none |
    ///
    /// Empty variables count as unset. A value out of range (or not a whole number) is a
    /// configuration error of the checks it concerns ([`ConfigError`]); never a panic.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`WachtConfig::from_env`], reading variables through `lookup` (for tests and
    /// for platforms whose environment is not the process's).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::builder_from_lookup(lookup).build()
    }

    /// A builder pre-filled from `lookup`, so code can read the environment and then
    /// override single settings.
    pub fn builder_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> WachtConfigBuilder {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut builder = WachtConfig::builder();
        if let Some(key) =
            get("WACHT_PUBLISHABLE_KEY").or_else(|| get("NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY"))
        {
            builder = builder.publishable_key(key);
        }
        if let Some(pem) = get("WACHT_PUBLIC_SIGNING_KEY") {
            // Platforms often store multi-line values with literal "\n".
            builder = builder.public_signing_key(pem.replace("\\n", "\n"));
        }
        if let Some(key) = get("WACHT_API_KEY") {
            builder = builder.api_key(key);
        }
        if let Some(url) = get("WACHT_BACKEND_API_URL") {
            builder = builder.backend_api_url(url);
        }
        if let Some(url) = get("WACHT_GATEWAY_URL") {
            builder = builder.gateway_url(url);
        }
        if let Some(text) = get("WACHT_HTTP_TIMEOUT_MS") {
            match whole_number(&text, "ms") {
                Some(timeout) => builder = builder.http_timeout(timeout),
                None => builder.unparsed.http_timeout = Some(text),
            }
        }
        if let Some(text) = get("WACHT_JWKS_TTL_SECONDS") {
            match whole_number(&text, "s") {
                Some(ttl) => builder = builder.jwks_ttl(ttl),
                None => builder.unparsed.jwks_ttl = Some(text),
            }
        }
        if let Some(text) = get("WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS") {
            match whole_number(&text, "s") {
                Some(interval) => builder = builder.jwks_min_refresh_interval(interval),
                None => builder.unparsed.jwks_min_refresh_interval = Some(text),
            }
        }
        builder.browser = BrowserBuilder::from_env(get);
        if let Some(setting) = get("WACHT_CLIENT_IP") {
            match ClientIp::parse(&setting) {
                Some(policy) => builder = builder.client_ip(policy),
                None => builder.unparsed.client_ip = Some(setting),
            }
        }
        builder
    }
}
