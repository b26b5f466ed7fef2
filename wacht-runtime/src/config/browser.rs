//! Browser-session settings: opt-in per context, so API-only users see no change.

use super::values::{absolute_url, origin_of};
use super::{ConfigError, WachtConfig, WachtConfigBuilder};

/// Where the public URL of a request comes from, for the sign-in redirect's `redirect_uri` and
/// for the same-origin check of cookie-authenticated writes.
///
/// | policy | the public origin of a request | when |
/// |---|---|---|
/// | [`AppUrl::Fixed`] | the configured origin | production: the app's one public address (`WACHT_APP_URL=https://app.example.com`) |
/// | [`AppUrl::Host`] (default) | `Host`, with `https` (`http` for `localhost` and loopback addresses) | one host, no proxy rewriting it |
/// | [`AppUrl::Forwarded`] | `X-Forwarded-Proto` + `X-Forwarded-Host` (first value each) | behind a proxy you trust to set both (`WACHT_APP_URL=forwarded`) |
///
/// The path and query are always the request's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AppUrl {
    /// The request's `Host` header (the default).
    #[default]
    Host,
    /// `X-Forwarded-Proto` and `X-Forwarded-Host`, set by a proxy in front that a client
    /// cannot get around.
    Forwarded,
    /// This origin (`scheme://host[:port]`), whatever the request says.
    Fixed(String),
}

impl AppUrl {
    /// Parses `WACHT_APP_URL`: `host`, `forwarded`, or an absolute http(s) URL (its origin is
    /// kept).
    pub fn parse(setting: &str) -> Result<Self, ConfigError> {
        let setting = setting.trim();
        if setting.eq_ignore_ascii_case("host") {
            return Ok(AppUrl::Host);
        }
        if setting.eq_ignore_ascii_case("forwarded") {
            return Ok(AppUrl::Forwarded);
        }
        origin_of(setting, "WACHT_APP_URL").map(AppUrl::Fixed)
    }
}

/// The browser-session settings, checked ([`WachtConfig::browser_sessions`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct BrowserSettings {
    /// Whether requests without a Bearer token are authenticated from cookies.
    pub(crate) enabled: bool,
    /// Where signed-out page requests are sent (else derived from the frontend API host).
    pub(crate) sign_in_url: Option<String>,
    /// Origins (besides the request's own) allowed to make cookie-authenticated writes.
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) app_url: AppUrl,
    /// The query parameter a WebSocket upgrade may carry its session token in.
    pub(crate) websocket_token_param: Option<String>,
}

/// The browser-session settings as set, checked by `build`.
#[derive(Debug, Clone, Default)]
pub(crate) struct BrowserBuilder {
    enabled: Option<bool>,
    unparsed_enabled: Option<String>,
    sign_in_url: Option<String>,
    allowed_origins: Vec<String>,
    app_url: Option<Result<AppUrl, ConfigError>>,
    websocket_token_param: Option<String>,
}

impl BrowserBuilder {
    /// The checked settings, or the first that cannot work.
    pub(crate) fn build(&self) -> Result<BrowserSettings, ConfigError> {
        let invalid = |setting: &'static str, reason: &str| ConfigError::InvalidBrowserSetting {
            setting,
            reason: reason.to_owned(),
        };
        if let Some(text) = &self.unparsed_enabled {
            return Err(invalid(
                "WACHT_BROWSER_SESSIONS",
                &format!("{text:?} is not `true` or `false`"),
            ));
        }
        let sign_in_url = match &self.sign_in_url {
            Some(url) => Some(absolute_url(url, "WACHT_SIGN_IN_URL")?),
            None => None,
        };
        let allowed_origins = self
            .allowed_origins
            .iter()
            .map(|origin| origin_of(origin, "WACHT_ALLOWED_ORIGINS"))
            .collect::<Result<Vec<_>, _>>()?;
        let app_url = match &self.app_url {
            Some(parsed) => parsed.clone()?,
            None => AppUrl::Host,
        };
        if let Some(param) = &self.websocket_token_param {
            let plain = !param.is_empty()
                && param.len() <= 64
                && param
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !plain {
                return Err(invalid(
                    "WACHT_WEBSOCKET_TOKEN_PARAM",
                    "a query parameter name of at most 64 characters of [A-Za-z0-9_-]",
                ));
            }
        }
        Ok(BrowserSettings {
            enabled: self.enabled.unwrap_or(false),
            sign_in_url,
            allowed_origins,
            app_url,
            websocket_token_param: self.websocket_token_param.clone(),
        })
    }

    /// Reads the `WACHT_*` browser variables through `get`.
    pub(crate) fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let mut builder = BrowserBuilder::default();
        if let Some(text) = get("WACHT_BROWSER_SESSIONS") {
            match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => builder.enabled = Some(true),
                "false" | "0" | "no" | "off" => builder.enabled = Some(false),
                _ => builder.unparsed_enabled = Some(text),
            }
        }
        builder.sign_in_url = get("WACHT_SIGN_IN_URL");
        if let Some(list) = get("WACHT_ALLOWED_ORIGINS") {
            builder.allowed_origins = list
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect();
        }
        builder.app_url = get("WACHT_APP_URL").map(|text| AppUrl::parse(&text));
        builder.websocket_token_param = get("WACHT_WEBSOCKET_TOKEN_PARAM");
        builder
    }
}

impl WachtConfigBuilder {
    /// Authenticates requests without a Bearer token from the browser's cookies (default off;
    /// `WACHT_BROWSER_SESSIONS=true`): the app-domain session cache cookie `__auth_<scope>`,
    /// else the Wacht session cookie exchanged at the frontend API. See the browser-sessions
    /// guide of the `wacht` crate.
    pub fn browser_sessions(mut self, enabled: bool) -> Self {
        self.browser.enabled = Some(enabled);
        self.browser.unparsed_enabled = None;
        self
    }

    /// Where signed-out page requests are redirected (`WACHT_SIGN_IN_URL`); default: the
    /// account portal derived from the frontend API host, as the Next.js SDK does.
    pub fn sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.browser.sign_in_url = Some(url.into());
        self
    }

    /// Origins, besides the request's own, allowed to make cookie-authenticated writes
    /// (`WACHT_ALLOWED_ORIGINS`, comma-separated).
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.browser.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Where a request's public URL comes from (`WACHT_APP_URL`; [`AppUrl`]).
    pub fn app_url(mut self, app_url: AppUrl) -> Self {
        self.browser.app_url = Some(match app_url {
            AppUrl::Fixed(url) => origin_of(&url, "WACHT_APP_URL").map(AppUrl::Fixed),
            other => Ok(other),
        });
        self
    }

    /// The query parameter a WebSocket upgrade may carry its session token in
    /// (`WACHT_WEBSOCKET_TOKEN_PARAM`; default none: only `Sec-WebSocket-Protocol`).
    pub fn websocket_token_param(mut self, name: impl Into<String>) -> Self {
        self.browser.websocket_token_param = Some(name.into());
        self
    }
}

impl WachtConfig {
    /// Whether browser sessions (cookies) are on.
    pub fn browser_sessions(&self) -> bool {
        self.browser.enabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const PK: &str = "pk_test_aHR0cHM6Ly9hY21lLmZhcGkud2FjaHQuZGV2";

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn browser_sessions_are_off_unless_asked_for() {
        let config = WachtConfig::from_lookup(env(&[("WACHT_PUBLISHABLE_KEY", PK)])).unwrap();
        assert!(!config.browser_sessions());
        let on = WachtConfig::from_lookup(env(&[
            ("WACHT_PUBLISHABLE_KEY", PK),
            ("WACHT_BROWSER_SESSIONS", "true"),
            ("WACHT_APP_URL", "https://app.example.com/some/path"),
            (
                "WACHT_ALLOWED_ORIGINS",
                "https://admin.example.com, https://x.example.com/",
            ),
            ("WACHT_SIGN_IN_URL", "https://login.example.com/sign-in"),
            ("WACHT_WEBSOCKET_TOKEN_PARAM", "access_token"),
        ]))
        .unwrap();
        assert!(on.browser_sessions());
        assert_eq!(
            on.browser.app_url,
            AppUrl::Fixed("https://app.example.com".into())
        );
        assert_eq!(
            on.browser.allowed_origins,
            ["https://admin.example.com", "https://x.example.com"]
        );
        assert_eq!(
            on.browser.websocket_token_param.as_deref(),
            Some("access_token")
        );
    }

    #[test]
    fn bad_browser_settings_break_session_checks_only() {
        for (name, value, reason) in [
            ("WACHT_BROWSER_SESSIONS", "maybe", "invalid_browser_setting"),
            ("WACHT_APP_URL", "app.example.com", "invalid_url"),
            (
                "WACHT_ALLOWED_ORIGINS",
                "https://a.example, nope",
                "invalid_url",
            ),
            ("WACHT_SIGN_IN_URL", "/sign-in", "invalid_url"),
            (
                "WACHT_WEBSOCKET_TOKEN_PARAM",
                "a b",
                "invalid_browser_setting",
            ),
        ] {
            let lookup = |asked: &str| match asked {
                "WACHT_PUBLISHABLE_KEY" => Some(PK.to_owned()),
                _ if asked == name => Some(value.to_owned()),
                _ => None,
            };
            let scoped = WachtConfig::builder_from_lookup(lookup).build_scoped();
            assert_eq!(
                scoped.session_error().map(ConfigError::reason),
                Some(reason),
                "{name}"
            );
            assert!(scoped.machine_error().is_none(), "{name}");
        }
        // Browser sessions need the frontend API.
        let without = WachtConfig::builder().browser_sessions(true).build_scoped();
        assert_eq!(
            without.session_error().map(ConfigError::reason),
            Some("invalid_browser_setting")
        );
    }
}
