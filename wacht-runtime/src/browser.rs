//! Browser sessions: the cookies a Wacht app's browser sends, the frontend API's token
//! exchange, sign-in redirects, same-origin checks for cookie-authenticated writes, and
//! WebSocket tokens. Everything here reads the request head and answers with typed values;
//! the decisions (precedence, fail-closed mapping) are in `context`.
//!
//! Cookie names and formats are the Next.js SDK's, so both SDKs can share a domain:
//! `__auth_<scope>` caches a session token on the app's domain, `__session` is the frontend
//! API's transport cookie, `__dev_session___<scope>` a development session.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use http::header::{ACCEPT, COOKIE, HOST, HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Method};
use serde::Deserialize;

use crate::config::AppUrl;
use crate::head::Head;
use crate::outbound::{self, OutboundError, ReadBody};

/// The frontend API's transport cookie (production deployments).
pub(crate) const SESSION_COOKIE: &str = "__session";
/// The query parameter a development session arrives in (removed by a redirect).
pub(crate) const DEV_SESSION_QUERY: &str = "__dev_session__";
/// The header the frontend API answers a development session with.
const DEV_SESSION_HEADER: &str = "x-development-session";
/// The header carrying the end user's IP to the frontend API (its rate limit keys on it).
const FORWARDED_FOR_HEADER: HeaderName = HeaderName::from_static("x-wacht-forwarded-for");
/// The largest exchange answer read.
const EXCHANGE_BODY_CAP: usize = 64 * 1024;
/// Seconds taken off the session token's lifetime for the `__auth_` cookie's `Max-Age`, as the
/// Next.js SDK does.
const AUTH_COOKIE_EXPIRY_BUFFER_SECONDS: i64 = 2;
/// The longest cookie value read (a session token is capped at 16 KiB).
const MAX_COOKIE_VALUE: usize = 16 * 1024 + 1024;

/// The app-domain cookie names of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CookieNames {
    /// `__auth_<scope>`: a cached session token.
    pub(crate) auth: String,
    /// `__dev_session___<scope>`: a development session.
    pub(crate) dev_session: String,
    /// `__dev_session_updated_at_<scope>`.
    pub(crate) dev_session_updated_at: String,
}

impl CookieNames {
    /// The names for the deployment at `frontend_api_url` (`scheme://host[:port]`).
    pub(crate) fn for_frontend_api(frontend_api_url: &str) -> Self {
        let host = frontend_api_url
            .split_once("://")
            .map_or(frontend_api_url, |(_, rest)| rest);
        let host = host.split('/').next().unwrap_or_default();
        let scope = scope(host);
        CookieNames {
            auth: format!("__auth_{scope}"),
            dev_session: format!("__dev_session___{scope}"),
            dev_session_updated_at: format!("__dev_session_updated_at_{scope}"),
        }
    }
}

/// The Next.js SDK's cookie scope: the host lower-cased, every run of characters other than
/// `[a-z0-9]` turned into one `_`, `_` trimmed from both ends, cut to 64; `default` if empty.
fn scope(host: &str) -> String {
    let mut scope = String::with_capacity(host.len());
    let mut last_was_sep = false;
    for c in host.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            scope.push(c);
            last_was_sep = false;
        } else if !last_was_sep {
            scope.push('_');
            last_was_sep = true;
        }
    }
    let trimmed: String = scope.trim_matches('_').chars().take(64).collect();
    if trimmed.is_empty() {
        "default".to_owned()
    } else {
        trimmed
    }
}

/// One cookie of a request, read strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cookie {
    /// No cookie of that name.
    Absent,
    /// The value, percent-decoded (as `decodeURIComponent` does).
    Value(String),
    /// Present, but not a value this crate reads: a malformed `%` escape, not UTF-8, over
    /// 17 KiB. Never a credential.
    Malformed,
}

/// The first cookie called `name` in the request's `Cookie` headers (browsers send the most
/// specific first). Bytes are split as bytes: a pair that is not ASCII elsewhere in the
/// header does not hide this one, and nothing here panics on any input.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Cookie {
    for header in headers.get_all(COOKIE) {
        for pair in header.as_bytes().split(|b| *b == b';') {
            let pair = trim_ascii(pair);
            let Some(at) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            if trim_ascii(&pair[..at]) != name.as_bytes() {
                continue;
            }
            let mut value = trim_ascii(&pair[at + 1..]);
            if value.len() >= 2 && value.first() == Some(&b'"') && value.last() == Some(&b'"') {
                value = &value[1..value.len() - 1];
            }
            if value.len() > MAX_COOKIE_VALUE {
                return Cookie::Malformed;
            }
            return match decode_component(value) {
                Some(value) if !value.is_empty() => Cookie::Value(value),
                Some(_) => Cookie::Absent,
                None => Cookie::Malformed,
            };
        }
    }
    Cookie::Absent
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |end| end + 1);
    &bytes[start..end.max(start)]
}

/// `decodeURIComponent`: `%XX` escapes decoded, the result UTF-8; `None` for a malformed
/// escape or bytes that are not UTF-8.
pub(crate) fn decode_component(bytes: &[u8]) -> Option<String> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = hex(*bytes.get(i + 1)?)?;
            let low = hex(*bytes.get(i + 2)?)?;
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` percent-encoded.
pub(crate) fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A `Set-Cookie` value with the Next.js SDK's attributes (`Path=/; Secure; SameSite=Lax`,
/// `HttpOnly` when asked, `Max-Age` when given).
fn set_cookie(
    name: &str,
    value: &str,
    http_only: bool,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let mut cookie = format!(
        "{name}={}; Path=/; Secure; SameSite=Lax",
        encode_component(value)
    );
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if let Some(max_age) = max_age {
        let _ = write!(cookie, "; Max-Age={max_age}");
    }
    HeaderValue::try_from(cookie).ok()
}

/// `__auth_<scope>` holding `token`, expiring with it: `Max-Age = expires/1000 − now − 2`.
/// `None` when the token has (nearly) expired already: nothing worth caching.
pub(crate) fn auth_cookie(
    names: &CookieNames,
    token: &str,
    expires_ms: i64,
    now: i64,
) -> Option<HeaderValue> {
    let max_age = expires_ms.div_euclid(1000) - now - AUTH_COOKIE_EXPIRY_BUFFER_SECONDS;
    (max_age > 0)
        .then(|| set_cookie(&names.auth, token, true, Some(max_age)))
        .flatten()
}

/// Clears `__auth_<scope>` (an expired or invalid cache).
pub(crate) fn clear_auth_cookie(names: &CookieNames) -> Option<HeaderValue> {
    set_cookie(&names.auth, "", true, Some(0))
}

/// The development-session cookies (`__dev_session___<scope>` and its `updated_at`), not
/// HttpOnly, as the Next.js SDK sets them.
pub(crate) fn dev_session_cookies(names: &CookieNames, value: &str, now: i64) -> Vec<HeaderValue> {
    let now_ms = now.saturating_mul(1000).to_string();
    [
        set_cookie(&names.dev_session, value, false, None),
        set_cookie(&names.dev_session_updated_at, &now_ms, false, None),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What carries the browser's session to the frontend API.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    /// The `__session` cookie (production).
    Session(String),
    /// A development session (`__dev_session___<scope>` cookie, or the query parameter).
    Development(String),
}

/// A session token the frontend API gave for a transport.
#[derive(Debug)]
pub(crate) struct Exchanged {
    pub(crate) token: String,
    /// When it expires, in milliseconds since the epoch.
    pub(crate) expires_ms: i64,
    /// `Set-Cookie` values to pass on (a rotated `__session`).
    pub(crate) set_cookies: Vec<HeaderValue>,
    /// The next development session, if the frontend API sent one.
    pub(crate) dev_session: Option<String>,
}

/// Why an exchange gave no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// The frontend API says the transport has no active sign-in (400), or is not a valid
    /// session (401, 404): signed out. `Set-Cookie` values it sent are kept.
    #[error("the frontend API reports no active sign-in (HTTP {status})")]
    SignedOut {
        status: u16,
        set_cookies: Vec<HeaderValue>,
    },
    /// The frontend API's rate limit (429); seconds until a retry.
    #[error("the frontend API's token exchange is rate-limited")]
    RateLimited { retry_after: u64 },
    /// No usable answer: down, slow, redirecting, oversize, another status, nonsense.
    #[error("the token exchange failed: {0}")]
    Unavailable(String),
    /// No answer within the time left.
    #[error("the token exchange timed out")]
    Timeout,
}

#[derive(Deserialize)]
struct TokenAnswer {
    data: TokenData,
}

#[derive(Deserialize)]
struct TokenData {
    token: String,
    expires: serde_json::Number,
}

/// `GET <frontend API>/session/token` for `transport`: the `__session` cookie (or the
/// development session as `?__dev_session__=`), the end user's IP as
/// `X-Wacht-Forwarded-For` when the client-IP policy gives one. The outbound rules hold: no
/// redirects, a capped body, `timeout` for the whole call.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    frontend_api_url: &str,
    transport: &Transport,
    forwarded_for: Option<IpAddr>,
    timeout: Duration,
) -> Result<Exchanged, ExchangeError> {
    let mut url = format!("{frontend_api_url}/session/token");
    let mut request = http.get(&url).header(ACCEPT, "application/json");
    match transport {
        Transport::Session(value) => {
            request = request.header(
                COOKIE,
                format!("{SESSION_COOKIE}={}", encode_component(value)),
            );
        }
        Transport::Development(value) => {
            let _ = write!(url, "?{DEV_SESSION_QUERY}={}", encode_component(value));
            request = http.get(&url).header(ACCEPT, "application/json");
        }
    }
    if let Some(ip) = forwarded_for {
        request = request.header(FORWARDED_FOR_HEADER, ip.to_string());
    }
    let request = request
        .build()
        .map_err(|e| ExchangeError::Unavailable(outbound::cause_chain(&e.without_url())))?;
    let answer = outbound::call(
        http,
        request,
        timeout,
        EXCHANGE_BODY_CAP,
        ReadBody::OnSuccess,
    )
    .await
    .map_err(|error| match error {
        OutboundError::Timeout => ExchangeError::Timeout,
        other => ExchangeError::Unavailable(other.to_string()),
    })?;
    let set_cookies = session_cookies(&answer.headers);
    match answer.status.as_u16() {
        200 => {}
        status @ (400 | 401 | 404) => {
            return Err(ExchangeError::SignedOut {
                status,
                set_cookies,
            });
        }
        429 => {
            let retry_after = answer
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(60)
                .clamp(1, 3600);
            return Err(ExchangeError::RateLimited { retry_after });
        }
        status => {
            return Err(ExchangeError::Unavailable(format!(
                "the frontend API answered HTTP {status}"
            )));
        }
    }
    let parsed: TokenAnswer = serde_json::from_slice(&answer.body)
        .map_err(|e| ExchangeError::Unavailable(outbound::json_error(&e)))?;
    let expires_ms = parsed
        .data
        .expires
        .as_i64()
        .or_else(|| {
            parsed
                .data
                .expires
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9e15)
                .map(|f| f as i64)
        })
        .filter(|ms| *ms > 0)
        .ok_or_else(|| ExchangeError::Unavailable("`expires` is not a time".to_owned()))?;
    if parsed.data.token.is_empty() {
        return Err(ExchangeError::Unavailable("an empty token".to_owned()));
    }
    let dev_session = answer
        .headers
        .get(DEV_SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_COOKIE_VALUE)
        .map(str::to_owned);
    Ok(Exchanged {
        token: parsed.data.token,
        expires_ms,
        set_cookies,
        dev_session,
    })
}

/// The `Set-Cookie` values of an answer that set `__session` (a rotation): passed on to the
/// browser. Others are dropped (stricter than the Next.js SDK, which passes any).
fn session_cookies(headers: &HeaderMap) -> Vec<HeaderValue> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter(|value| {
            let bytes = value.as_bytes();
            let name_end = bytes.iter().position(|b| *b == b'=').unwrap_or(0);
            trim_ascii(&bytes[..name_end]) == SESSION_COOKIE.as_bytes()
        })
        .cloned()
        .collect()
}

/// Whether a signed-out caller of this request gets a redirect to sign-in rather than a JSON
/// 401: a `GET` or `HEAD` whose `Accept` prefers `text/html` over `application/json` (a
/// browser navigating to a page).
pub(crate) fn is_page_request(head: &Head<'_>) -> bool {
    if head.method != Method::GET && head.method != Method::HEAD {
        return false;
    }
    let mut html = None::<f32>;
    let mut json = None::<f32>;
    for value in head.headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "text/html" => html = Some(html.map_or(q, |h| h.max(q))),
                "application/json" => json = Some(json.map_or(q, |j| j.max(q))),
                _ => {}
            }
        }
    }
    html.is_some_and(|html| html > 0.0 && json.is_none_or(|json| html >= json))
}

/// The request's public origin (`scheme://host[:port]`) under `policy`, if it can be built.
pub(crate) fn public_origin(head: &Head<'_>, policy: &AppUrl) -> Option<String> {
    let first = |name: &str| {
        head.headers
            .get(name)?
            .to_str()
            .ok()?
            .split(',')
            .next()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (scheme, host) = match policy {
        AppUrl::Fixed(origin) => return Some(origin.clone()),
        AppUrl::Forwarded => (first("x-forwarded-proto")?, first("x-forwarded-host")?),
        AppUrl::Host => {
            let host = head
                .headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| head.uri.authority().map(|a| a.as_str().to_owned()))?;
            let scheme = if is_local(&host) { "http" } else { "https" };
            (scheme.to_owned(), host)
        }
    };
    let scheme = scheme.to_ascii_lowercase();
    // Only a plain authority: no user info, path, spaces or controls can ride along.
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    (plain && (scheme == "https" || scheme == "http"))
        .then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// `localhost` or a loopback address, with or without a port.
fn is_local(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL the browser asked for: the public origin, then the request's path and query
/// (without the development-session parameter).
pub(crate) fn public_url(head: &Head<'_>, policy: &AppUrl) -> Option<String> {
    let origin = public_origin(head, policy)?;
    let path = head.uri.path();
    let query = head
        .uri
        .query()
        .map(without_dev_session)
        .unwrap_or_default();
    Some(if query.is_empty() {
        format!("{origin}{path}")
    } else {
        format!("{origin}{path}?{query}")
    })
}

/// A `Location` on this site for `path` and `query`: one leading `/` however the request
/// wrote it, so `//evil.example/…` (a protocol-relative URL) never leaves the site.
pub(crate) fn same_site_location(path: &str, query: Option<&str>) -> String {
    let path = format!("/{}", path.trim_start_matches(['/', '\\']));
    match query.filter(|q| !q.is_empty()) {
        Some(query) => format!("{path}?{query}"),
        None => path,
    }
}

/// Whether a transport value is worth sending to the frontend API: a compact JWS (three
/// base64url segments), as the frontend API issues them. Anything else is signed out without
/// a call, so garbage cookies cannot spend the frontend API's rate limit.
pub(crate) fn looks_like_transport(value: &str) -> bool {
    let mut segments = value.split('.');
    let base64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    matches!(
        (segments.next(), segments.next(), segments.next(), segments.next()),
        (Some(a), Some(b), Some(c), None) if base64url(a) && base64url(b) && base64url(c)
    )
}

/// A query string without `__dev_session__=…` pairs.
pub(crate) fn without_dev_session(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !name.is_empty() && name != DEV_SESSION_QUERY
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of query parameter `name`, decoded (`None` when absent or malformed).
pub(crate) fn query_param(head: &Head<'_>, name: &str) -> Option<String> {
    head.uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name)
            .then(|| decode_component(value.replace('+', " ").as_bytes()))
            .flatten()
            .filter(|value| !value.is_empty())
    })
}

/// Where a signed-out page request is sent: the configured sign-in URL, else the account
/// portal derived from the frontend API host as the Next.js SDK does (`frontend.X` →
/// `accounts.X`; `A.fapi.X` → `A.accounts.X`; otherwise `accounts` inserted after the first
/// label; a host of fewer than three labels, or an IP address (the local emulator): the
/// frontend API's own `/sign-in`).
pub(crate) fn sign_in_base(configured: Option<&str>, frontend_api_url: &str) -> String {
    if let Some(url) = configured {
        return url.to_owned();
    }
    let (scheme, rest) = frontend_api_url
        .split_once("://")
        .unwrap_or(("https", frontend_api_url));
    let authority = rest.split('/').next().unwrap_or_default();
    let (hostname, port) = match authority.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (name, Some(port)),
        _ => (authority, None),
    };
    let mut labels: Vec<&str> = hostname.split('.').collect();
    // An IP address (the local emulator) has no portal host: its own `/sign-in`.
    let ip = hostname.trim_matches(['[', ']']).parse::<IpAddr>().is_ok();
    if labels.len() < 3 || ip {
        return format!("{frontend_api_url}/sign-in");
    }
    if labels[0] == "frontend" {
        labels[0] = "accounts";
    } else if labels[1] == "fapi" {
        labels[1] = "accounts";
    } else {
        labels.insert(1, "accounts");
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{}{port}/sign-in", labels.join("."))
}

/// `base` with `redirect_uri=<url>` added.
pub(crate) fn with_redirect_uri(base: &str, url: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}redirect_uri={}", encode_component(url))
}

/// Whether an unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`, or any other method not
/// `GET`/`HEAD`/`OPTIONS`) comes from somewhere other than the request's own origin or one of
/// `allowed`: by `Origin`, else by `Sec-Fetch-Site`; with neither, it is treated as
/// cross-site (browsers send `Origin` on every such request).
pub(crate) fn is_cross_site(head: &Head<'_>, policy: &AppUrl, allowed: &[String]) -> bool {
    // A WebSocket handshake is a `GET`, but what follows is a two-way channel: a page on
    // another origin must not open one with the user's cookies (cross-site WebSocket
    // hijacking). Browsers send `Origin` on every handshake.
    if matches!(*head.method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !is_websocket_upgrade(head.headers)
    {
        return false;
    }
    let origin = head
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match origin {
        Some(origin) if origin != "null" => {
            let own = public_origin(head, policy);
            !(own.as_deref() == Some(origin.as_str()) || allowed.contains(&origin))
        }
        // `Origin: null` (sandboxed, privacy-redirected) or none: the fetch metadata decides.
        _ => !matches!(
            head.headers
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok()),
            Some("same-origin")
        ),
    }
}

/// Whether the request is a WebSocket upgrade (`Upgrade: websocket`).
pub(crate) fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
        })
}

/// The prefix of a `Sec-WebSocket-Protocol` entry carrying a session token.
pub(crate) const WEBSOCKET_PROTOCOL_PREFIX: &str = "bearer.";

/// A session token offered in `Sec-WebSocket-Protocol` as `bearer.<token>`, and that entry
/// (echoed back as the chosen subprotocol, so the browser accepts the handshake).
pub(crate) fn websocket_protocol_token(headers: &HeaderMap) -> Option<(String, HeaderValue)> {
    headers
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|entry| {
            let token = entry.strip_prefix(WEBSOCKET_PROTOCOL_PREFIX)?;
            let value = HeaderValue::from_str(entry).ok()?;
            (!token.is_empty()).then(|| (token.to_owned(), value))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::try_from(*name).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn head<'a>(method: &'a Method, uri: &'a http::Uri, headers: &'a HeaderMap) -> Head<'a> {
        Head {
            method,
            uri,
            original_path: None,
            headers,
            deadline: None,
        }
    }

    #[test]
    fn scopes_are_the_nextjs_sdks() {
        assert_eq!(scope("Acme.FAPI.wacht.dev"), "acme_fapi_wacht_dev");
        assert_eq!(scope("127.0.0.1:8080"), "127_0_0_1_8080");
        assert_eq!(scope("--"), "default");
        assert_eq!(scope(&"a".repeat(100)).len(), 64);
        let names = CookieNames::for_frontend_api("https://acme.fapi.wacht.dev");
        assert_eq!(names.auth, "__auth_acme_fapi_wacht_dev");
        assert_eq!(names.dev_session, "__dev_session___acme_fapi_wacht_dev");
        assert_eq!(
            names.dev_session_updated_at,
            "__dev_session_updated_at_acme_fapi_wacht_dev"
        );
    }

    #[test]
    fn cookies_are_read_strictly_and_never_panic() {
        let map = headers(&[
            ("cookie", b"a=1; __session=ey%2Ex; b=\xff\xfe; c=%zz"),
            ("cookie", b"d=\"quoted\"; __session=second"),
        ]);
        assert_eq!(cookie(&map, "__session"), Cookie::Value("ey.x".into()));
        assert_eq!(cookie(&map, "a"), Cookie::Value("1".into()));
        assert_eq!(cookie(&map, "b"), Cookie::Malformed, "not UTF-8");
        assert_eq!(cookie(&map, "c"), Cookie::Malformed, "a malformed escape");
        assert_eq!(cookie(&map, "d"), Cookie::Value("quoted".into()));
        assert_eq!(cookie(&map, "missing"), Cookie::Absent);
        for bad in ["%", "%4", "%G0", "x%", "%%", "%E2%82"] {
            let map = headers(&[("cookie", format!("t={bad}").as_bytes())]);
            assert_eq!(cookie(&map, "t"), Cookie::Malformed, "{bad}");
        }
        let long = format!("t={}", "a".repeat(MAX_COOKIE_VALUE + 1));
        assert_eq!(
            cookie(&headers(&[("cookie", long.as_bytes())]), "t"),
            Cookie::Malformed
        );
    }

    #[test]
    fn components_round_trip_like_javascript() {
        let text = "a b&c=d/é;~*'()!";
        let encoded = encode_component(text);
        assert_eq!(encoded, "a%20b%26c%3Dd%2F%C3%A9%3B~*'()!");
        assert_eq!(decode_component(encoded.as_bytes()).as_deref(), Some(text));
    }

    #[test]
    fn the_auth_cookie_expires_with_its_token() {
        let names = CookieNames::for_frontend_api("http://127.0.0.1:9");
        let cookie = auth_cookie(&names, "t.o.k", 1_000_035_000, 1_000_000).unwrap();
        assert_eq!(
            cookie,
            "__auth_127_0_0_1_9=t.o.k; Path=/; Secure; SameSite=Lax; HttpOnly; Max-Age=33"
        );
        assert_eq!(auth_cookie(&names, "t", 1_000_002_000, 1_000_000), None);
        assert_eq!(
            clear_auth_cookie(&names).unwrap(),
            "__auth_127_0_0_1_9=; Path=/; Secure; SameSite=Lax; HttpOnly; Max-Age=0"
        );
    }

    #[test]
    fn pages_prefer_html() {
        let uri: http::Uri = "/p".parse().unwrap();
        let page = |method: Method, accept: &str| {
            let map = headers(&[("accept", accept.as_bytes())]);
            is_page_request(&head(&method, &uri, &map))
        };
        assert!(page(
            Method::GET,
            "text/html,application/xhtml+xml,*/*;q=0.8"
        ));
        assert!(page(Method::HEAD, "text/html"));
        assert!(!page(Method::POST, "text/html"));
        assert!(!page(Method::GET, "application/json"));
        assert!(!page(Method::GET, "application/json, text/html;q=0.5"));
        assert!(!page(Method::GET, "text/html;q=0"));
        assert!(!page(Method::GET, "*/*"));
    }

    #[test]
    fn public_urls_come_only_from_the_policy() {
        let uri: http::Uri = "/dash?x=1&__dev_session__=abc&y=2".parse().unwrap();
        let map = headers(&[
            ("host", b"app.example.com"),
            ("x-forwarded-host", b"evil.example, proxy"),
            ("x-forwarded-proto", b"http"),
        ]);
        let head = head(&Method::GET, &uri, &map);
        assert_eq!(
            public_url(&head, &AppUrl::Host).as_deref(),
            Some("https://app.example.com/dash?x=1&y=2")
        );
        assert_eq!(
            public_url(&head, &AppUrl::Forwarded).as_deref(),
            Some("http://evil.example/dash?x=1&y=2")
        );
        assert_eq!(
            public_url(&head, &AppUrl::Fixed("https://real.example".into())).as_deref(),
            Some("https://real.example/dash?x=1&y=2")
        );
        let local = headers(&[("host", b"127.0.0.1:3000")]);
        let local_head = Head {
            headers: &local,
            ..head
        };
        assert_eq!(
            public_origin(&local_head, &AppUrl::Host).as_deref(),
            Some("http://127.0.0.1:3000")
        );
        let odd = headers(&[("host", b"user@evil.example")]);
        assert_eq!(
            public_origin(
                &Head {
                    headers: &odd,
                    ..head
                },
                &AppUrl::Host
            ),
            None
        );
    }

    #[test]
    fn sign_in_is_derived_like_the_nextjs_sdk() {
        assert_eq!(
            sign_in_base(None, "https://frontend.acme.com"),
            "https://accounts.acme.com/sign-in"
        );
        assert_eq!(
            sign_in_base(None, "https://acme.fapi.wacht.dev"),
            "https://acme.accounts.wacht.dev/sign-in"
        );
        assert_eq!(
            sign_in_base(None, "https://auth.acme.example.com"),
            "https://auth.accounts.acme.example.com/sign-in"
        );
        assert_eq!(
            sign_in_base(None, "http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/sign-in"
        );
        assert_eq!(
            sign_in_base(None, "http://localhost:8080"),
            "http://localhost:8080/sign-in"
        );
        assert_eq!(
            sign_in_base(
                Some("https://x.example/login?a=1"),
                "https://frontend.acme.com"
            ),
            "https://x.example/login?a=1"
        );
        assert_eq!(
            with_redirect_uri("https://x/login?a=1", "https://app/p?q=1&r=2"),
            "https://x/login?a=1&redirect_uri=https%3A%2F%2Fapp%2Fp%3Fq%3D1%26r%3D2"
        );
    }

    #[test]
    fn cross_site_writes_are_told_apart() {
        let uri: http::Uri = "/api".parse().unwrap();
        let check = |method: Method, pairs: &[(&str, &[u8])], allowed: &[String]| {
            let mut all = vec![("host", b"app.example.com".as_slice())];
            all.extend_from_slice(pairs);
            let map = headers(&all);
            is_cross_site(&head(&method, &uri, &map), &AppUrl::Host, allowed)
        };
        assert!(!check(
            Method::GET,
            &[("origin", b"https://evil.example")],
            &[]
        ));
        assert!(!check(
            Method::POST,
            &[("origin", b"https://app.example.com")],
            &[]
        ));
        assert!(check(
            Method::POST,
            &[("origin", b"https://evil.example")],
            &[]
        ));
        assert!(
            check(Method::POST, &[("origin", b"http://app.example.com")], &[]),
            "scheme"
        );
        assert!(!check(
            Method::DELETE,
            &[("origin", b"https://admin.example.com")],
            &["https://admin.example.com".to_owned()]
        ));
        assert!(!check(
            Method::PUT,
            &[("sec-fetch-site", b"same-origin")],
            &[]
        ));
        assert!(check(Method::PUT, &[("sec-fetch-site", b"same-site")], &[]));
        assert!(check(Method::PATCH, &[], &[]), "neither header");
        assert!(check(Method::POST, &[("origin", b"null")], &[]));
    }

    #[test]
    fn locations_stay_on_the_site_and_transports_look_like_tokens() {
        assert_eq!(
            same_site_location("//evil.example/x", Some("a=1")),
            "/evil.example/x?a=1"
        );
        assert_eq!(same_site_location("/\\evil.example", None), "/evil.example");
        assert_eq!(same_site_location("/p", Some("")), "/p");
        assert!(looks_like_transport("ey.J0.k-_"));
        for bad in ["", "a.b", "a.b.c.d", "a..c", "a.b.c d", "%.b.c"] {
            assert!(!looks_like_transport(bad), "{bad}");
        }
    }

    #[test]
    fn websocket_handshakes_from_another_origin_are_cross_site() {
        let uri: http::Uri = "/socket".parse().unwrap();
        let map = headers(&[
            ("host", b"app.example.com"),
            ("upgrade", b"websocket"),
            ("origin", b"https://evil.example"),
        ]);
        assert!(is_cross_site(
            &head(&Method::GET, &uri, &map),
            &AppUrl::Host,
            &[]
        ));
        let same = headers(&[
            ("host", b"app.example.com"),
            ("upgrade", b"websocket"),
            ("origin", b"https://app.example.com"),
        ]);
        assert!(!is_cross_site(
            &head(&Method::GET, &uri, &same),
            &AppUrl::Host,
            &[]
        ));
    }

    #[test]
    fn websocket_tokens_come_from_the_subprotocol() {
        let map = headers(&[
            ("upgrade", b"websocket"),
            ("sec-websocket-protocol", b"chat, bearer.ey.J0.k"),
        ]);
        assert!(is_websocket_upgrade(&map));
        let (token, entry) = websocket_protocol_token(&map).unwrap();
        assert_eq!(token, "ey.J0.k");
        assert_eq!(entry, "bearer.ey.J0.k");
        assert!(
            websocket_protocol_token(&headers(&[("sec-websocket-protocol", b"bearer.")])).is_none()
        );
    }
}
