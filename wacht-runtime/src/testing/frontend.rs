//! The frontend API's browser-session endpoints: `GET /session/token` (the token exchange)
//! and a minimal sign-in page (`/sign-in`), so a browser flow runs on loopback.
//!
//! As the real frontend API: a production deployment keeps its session in the `__session`
//! cookie (an ES256 JWT with `sess`, `rotating_token`, no `sub`), a development one answers
//! with `X-Development-Session` and reads `?__dev_session__=`; an expired transport token is
//! rotated (a new one is set); no active sign-in is `400 "No active sign in"`; an unknown
//! transport is `401 "Invalid session"`; the exchange has a rate limit (`429` with
//! `Retry-After`). Success is `{"data":{"token":…,"expires":<milliseconds>}}`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::http::{
    Body, CloseConnection, Served, bytes_response, json_response, lock, status_or_500,
};
use super::jwks::JwksState;
use crate::clock::Clock;

/// `GET /session/token`.
pub(super) const SESSION_TOKEN_PATH: &str = "/session/token";
/// `GET /sign-in?redirect_uri=…` (the page), `POST /sign-in` (signs in).
pub(super) const SIGN_IN_PATH: &str = "/sign-in";

/// How the emulated deployment carries its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FrontendMode {
    /// The `__session` cookie (HttpOnly).
    #[default]
    Production,
    /// `X-Development-Session` answers and the `?__dev_session__=` parameter.
    Development,
}

/// A fault of the token exchange (`/session/token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FrontendFault {
    /// Normal service.
    #[default]
    None,
    /// The request is read, then the connection closed without a response.
    Down,
    /// Waits this long, then serves normally.
    Slow(Duration),
    /// Answers this status with a small JSON error body.
    Status(u16),
    /// `302` to the real Wacht service.
    Redirect,
    /// `200` with a 2 MiB body.
    Huge,
    /// `200` with a body that is not JSON.
    InvalidJson,
}

/// A user the sign-in page can sign in, and the claims of the session tokens the exchange
/// then mints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    user_id: String,
    organization: Option<String>,
    organization_permissions: Vec<String>,
    workspace: Option<String>,
    workspace_permissions: Vec<String>,
    metadata: Option<Value>,
}

impl SessionUser {
    /// A user with this id and no organization, workspace or permission.
    pub fn new(user_id: impl Into<String>) -> Self {
        SessionUser {
            user_id: user_id.into(),
            organization: None,
            organization_permissions: Vec::new(),
            workspace: None,
            workspace_permissions: Vec::new(),
            metadata: None,
        }
    }

    /// The active organization and its permissions (`organization`,
    /// `permissions.organization`).
    pub fn organization<I, S>(mut self, organization_id: impl Into<String>, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.organization = Some(organization_id.into());
        self.organization_permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The active workspace and its permissions.
    pub fn workspace<I, S>(mut self, workspace_id: impl Into<String>, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.workspace = Some(workspace_id.into());
        self.workspace_permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The JWT template's `metadata` claim.
    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
}

/// One browser session the emulator knows.
#[derive(Debug, Clone)]
struct SessionRecord {
    signed_in: Option<String>,
}

/// A transport token the emulator issued.
#[derive(Debug, Clone)]
struct Transport {
    session: u64,
    expires_at: i64,
    /// Replaced by a rotation: refused from then on.
    rotated: bool,
}

/// The state of the browser-session endpoints.
pub(super) struct FrontendState {
    pub(super) mode: FrontendMode,
    pub(super) fault: FrontendFault,
    pub(super) users: Vec<SessionUser>,
    sessions: HashMap<u64, SessionRecord>,
    transports: HashMap<String, Transport>,
    next_session: u64,
    next_rotating: u64,
    /// Exchanges received (every `/session/token` request, faulted or not).
    pub(super) exchanges: usize,
    /// Exchanges allowed per window, and the window.
    pub(super) rate_limit: Option<(usize, Duration)>,
    window: (i64, usize),
    /// Session token lifetime and clock skew (30 s + 5 s, as the real default template).
    pub(super) token_lifetime: Duration,
    /// How long a transport token lives before it must be rotated (6 h, as the real one).
    pub(super) transport_lifetime: Duration,
    pub(super) clock: Clock,
    /// `X-Wacht-Forwarded-For` values received.
    pub(super) forwarded_for: Vec<Option<String>>,
}

impl Default for FrontendState {
    fn default() -> Self {
        FrontendState {
            mode: FrontendMode::Production,
            fault: FrontendFault::None,
            users: Vec::new(),
            sessions: HashMap::new(),
            transports: HashMap::new(),
            next_session: 1001,
            next_rotating: 5001,
            exchanges: 0,
            rate_limit: None,
            window: (0, 0),
            token_lifetime: Duration::from_secs(30),
            transport_lifetime: Duration::from_secs(6 * 3600),
            clock: Clock::system(),
            forwarded_for: Vec::new(),
        }
    }
}

impl FrontendState {
    /// Creates a session (signed in as `user`, or not) and its first transport token.
    pub(super) fn create_session(
        &mut self,
        issuer: &str,
        jwks: &JwksState,
        user: Option<&str>,
    ) -> String {
        let session = self.next_session;
        self.next_session += 1;
        self.sessions.insert(
            session,
            SessionRecord {
                signed_in: user.map(str::to_owned),
            },
        );
        self.issue_transport(issuer, jwks, session)
    }

    /// A transport token for `session`: an ES256 JWT as the real frontend API signs it.
    fn issue_transport(&mut self, issuer: &str, jwks: &JwksState, session: u64) -> String {
        let rotating = self.next_rotating;
        self.next_rotating += 1;
        let now = self.clock.now();
        let lifetime = i64::try_from(self.transport_lifetime.as_secs()).unwrap_or(i64::MAX);
        let expires_at = now.saturating_add(lifetime);
        let header = json!({"alg": jwks.current.algorithm().jws_name(), "kid": jwks.current.kid(), "typ": "JWT"});
        let claims = json!({
            "iss": issuer,
            "sess": session,
            "rotating_token": rotating.to_string(),
            "iat": now,
            "nbf": now,
            "exp": expires_at,
        });
        let token = jwks.current.sign_token(&header, &claims);
        self.transports.insert(
            token.clone(),
            Transport {
                session,
                expires_at,
                rotated: false,
            },
        );
        token
    }

    /// Makes every transport token expire now (the next exchange rotates it).
    pub(super) fn expire_transports(&mut self) {
        let now = self.clock.now();
        for transport in self.transports.values_mut() {
            transport.expires_at = transport.expires_at.min(now);
        }
    }

    /// Signs every session out.
    pub(super) fn sign_out_all(&mut self) {
        for session in self.sessions.values_mut() {
            session.signed_in = None;
        }
    }

    /// Whether the rate limit allows one more exchange now; else the seconds to wait.
    fn admit(&mut self) -> Result<(), u64> {
        let Some((limit, window)) = self.rate_limit else {
            return Ok(());
        };
        let now = self.clock.now();
        let window_secs = i64::try_from(window.as_secs().max(1)).unwrap_or(60);
        let start = now - now.rem_euclid(window_secs);
        if self.window.0 != start {
            self.window = (start, 0);
        }
        if self.window.1 >= limit {
            return Err(u64::try_from(start + window_secs - now).unwrap_or(1).max(1));
        }
        self.window.1 += 1;
        Ok(())
    }
}

/// The error shape of the real frontend API: `{"error":{"code","message","status"}}`.
fn error(status: StatusCode, code: &str, text: &str) -> Response<Body> {
    json_response(
        status,
        &json!({"error": {"code": code, "message": text, "status": status.as_u16()}}),
    )
}

/// The value of cookie `name` in `req`, as sent.
fn cookie_of<B>(req: &Request<B>, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| crate::browser::decode_component(value.as_bytes()))
}

/// The value of query parameter `name`, decoded.
fn query_of<B>(req: &Request<B>, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name)
            .then(|| crate::browser::decode_component(value.replace('+', " ").as_bytes()))
            .flatten()
    })
}

/// Sets the session transport on `response` as the mode says: a cookie, or the header.
fn carry_transport(mode: FrontendMode, response: &mut Response<Body>, token: &str) {
    let value = match mode {
        FrontendMode::Production => format!("__session={token}; Path=/; HttpOnly; SameSite=Lax"),
        FrontendMode::Development => token.to_owned(),
    };
    if let Ok(value) = HeaderValue::try_from(value) {
        let name = match mode {
            FrontendMode::Production => header::SET_COOKIE,
            FrontendMode::Development => header::HeaderName::from_static("x-development-session"),
        };
        response.headers_mut().append(name, value);
    }
}

/// `GET /session/token`.
pub(super) async fn session_token<B>(
    issuer: &str,
    jwks: &Mutex<JwksState>,
    state: &Mutex<FrontendState>,
    req: &Request<B>,
) -> Served {
    let fault = {
        let mut frontend = lock(state);
        frontend.exchanges += 1;
        let forwarded = req
            .headers()
            .get("x-wacht-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        frontend.forwarded_for.push(forwarded);
        frontend.fault
    };
    match fault {
        FrontendFault::None => {}
        FrontendFault::Down => return Err(CloseConnection),
        FrontendFault::Slow(delay) => tokio::time::sleep(delay).await,
        FrontendFault::Status(code) => {
            return Ok(error(status_or_500(code), "INJECTED", "injected fault"));
        }
        FrontendFault::Redirect => {
            let mut response = bytes_response(StatusCode::FOUND, "text/plain", "");
            response.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_static("https://frontend.wacht.dev/session/token"),
            );
            return Ok(response);
        }
        FrontendFault::Huge => {
            return Ok(bytes_response(
                StatusCode::OK,
                "application/json",
                vec![b' '; 2 << 20],
            ));
        }
        FrontendFault::InvalidJson => {
            return Ok(bytes_response(
                StatusCode::OK,
                "application/json",
                "<html>no</html>",
            ));
        }
    }
    let jwks = lock(jwks);
    let mut frontend = lock(state);
    if let Err(retry_after) = frontend.admit() {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many token exchange requests. Please try again later.",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return Ok(response);
    }
    let mode = frontend.mode;
    // As the real middleware: the cookie first; the query parameter only in development.
    let transport = cookie_of(req, "__session").or_else(|| {
        (mode == FrontendMode::Development)
            .then(|| query_of(req, "__dev_session__"))
            .flatten()
    });
    let Some(transport) = transport.filter(|t| !t.is_empty()) else {
        // No session: a new one is created (and set), which has no active sign-in.
        let token = frontend.create_session(issuer, &jwks, None);
        let mut response = error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "No active sign in");
        carry_transport(mode, &mut response, &token);
        return Ok(response);
    };
    let Some(known) = frontend
        .transports
        .get(&transport)
        .cloned()
        .filter(|t| !t.rotated)
    else {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Invalid session",
        ));
    };
    let mut rotated = None;
    if known.expires_at <= frontend.clock.now() {
        if let Some(old) = frontend.transports.get_mut(&transport) {
            old.rotated = true;
        }
        rotated = Some(frontend.issue_transport(issuer, &jwks, known.session));
    }
    let signed_in = frontend
        .sessions
        .get(&known.session)
        .and_then(|record| record.signed_in.clone());
    let user = signed_in.and_then(|id| frontend.users.iter().find(|u| u.user_id == id).cloned());
    let mut response = match user {
        None => error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "No active sign in"),
        Some(user) => {
            let now = frontend.clock.now();
            let lifetime = i64::try_from(frontend.token_lifetime.as_secs()).unwrap_or(30);
            let mut claims = json!({
                "iss": issuer,
                "sub": user.user_id,
                "iat": now,
                "exp": now + lifetime + 5,
                "sid": known.session.to_string(),
                "session_id": known.session.to_string(),
                "permissions": {
                    "organization": user.organization_permissions,
                    "workspace": user.workspace_permissions,
                },
            });
            if let Some(organization) = &user.organization {
                claims["organization"] = organization.clone().into();
            }
            if let Some(workspace) = &user.workspace {
                claims["workspace"] = workspace.clone().into();
            }
            if let Some(metadata) = &user.metadata {
                claims["metadata"] = metadata.clone();
            }
            // Kid-less, as the real signer issues them.
            let header = json!({"alg": jwks.current.algorithm().jws_name(), "typ": "JWT"});
            let token = jwks.current.sign_token(&header, &claims);
            json_response(
                StatusCode::OK,
                &json!({"data": {"token": token, "expires": (now + lifetime) * 1000}}),
            )
        }
    };
    if let Some(rotated) = rotated {
        carry_transport(mode, &mut response, &rotated);
    }
    Ok(response)
}

/// `/sign-in`: `GET ?redirect_uri=…` shows a button per user; `POST` (a form with `user`
/// and `redirect_uri`), or `GET ?user=…&redirect_uri=…`, signs that user in, sets the session
/// and answers `303` back to `redirect_uri` (in development with `?__dev_session__=` added).
pub(super) async fn sign_in(
    issuer: &str,
    jwks: &Mutex<JwksState>,
    state: &Mutex<FrontendState>,
    req: Request<hyper::body::Incoming>,
) -> Served {
    use http_body_util::BodyExt as _;
    let (parts, body) = req.into_parts();
    let head = Request::from_parts(parts, ());
    let mut user = query_of(&head, "user");
    let mut redirect_uri = query_of(&head, "redirect_uri");
    if head.method() == http::Method::POST {
        let bytes = body
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        let form = String::from_utf8_lossy(&bytes).into_owned();
        for pair in form.split('&') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = crate::browser::decode_component(value.replace('+', " ").as_bytes());
            match key {
                "user" => user = value,
                "redirect_uri" => redirect_uri = value,
                _ => {}
            }
        }
    }
    let Some(redirect_uri) =
        redirect_uri.filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "redirect_uri must be an http(s) URL",
        ));
    };
    let jwks = lock(jwks);
    let mut frontend = lock(state);
    let Some(user) = user else {
        return Ok(page(&frontend.users, &redirect_uri));
    };
    if !frontend.users.iter().any(|u| u.user_id == user) {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "unknown user",
        ));
    }
    let mode = frontend.mode;
    let token = frontend.create_session(issuer, &jwks, Some(&user));
    let location = match mode {
        FrontendMode::Production => redirect_uri,
        FrontendMode::Development => {
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            format!(
                "{redirect_uri}{separator}__dev_session__={}",
                crate::browser::encode_component(&token)
            )
        }
    };
    let mut response = bytes_response(StatusCode::SEE_OTHER, "text/plain", "");
    if let Ok(location) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if mode == FrontendMode::Production {
        carry_transport(mode, &mut response, &token);
    }
    Ok(response)
}

/// The sign-in page: a form with a button per user.
fn page(users: &[SessionUser], redirect_uri: &str) -> Response<Body> {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let buttons: String = users
        .iter()
        .map(|u| {
            let id = escape(&u.user_id);
            format!(r#"<button type="submit" name="user" value="{id}" id="sign-in-{id}">Sign in as {id}</button>"#)
        })
        .collect();
    let html = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Sign in (local Wacht)</title></head><body><h1>Sign in</h1><form method="post" action="/sign-in"><input type="hidden" name="redirect_uri" value="{}">{buttons}</form></body></html>"#,
        escape(redirect_uri)
    );
    bytes_response(StatusCode::OK, "text/html; charset=utf-8", html)
}
