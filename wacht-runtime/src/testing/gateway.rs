//! The gateway's `POST /v1/authz/check`: its fault model, its state (credentials,
//! rate-limit counts, records) and its decisions, answering as the real gateway does.
//!
//! The credentials themselves (API keys, OAuth access tokens, rate-limit rules) are in
//! [`credentials`](super::credentials).

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::credentials::{ApiKey, ApiKeySpec, OAuthToken, OAuthTokenSpec, RateLimitScope};
use super::http::{
    CloseConnection, Served, bytes_response, json_response, lock, message, status_or_500,
};
use super::random::{or_panic, random_digits};
use crate::clock::Clock;

/// Where the gateway's check is served, below the emulator's URL.
pub(super) const GATEWAY_PATH: &str = "/v1/authz/check";

/// The methods the gateway accepts (after upper-casing).
/// The gateway's methods: the runtime's list (one list for the client and the emulator).
const METHODS: [&str; 7] = crate::machine::GATEWAY_METHODS;

/// Length of the url-safe base64 secret at the end of an API key.
const SECRET_LEN: usize = 43;

// ----- faults -----

/// A fault injected into the emulator's gateway
/// ([`LocalWacht::set_gateway_fault`](super::LocalWacht::set_gateway_fault)).
///
/// A fault stays until replaced; [`GatewayFault::None`] restores normal service. Faulted
/// checks still count in [`LocalWacht::gateway_checks`](super::LocalWacht::gateway_checks)
/// and their bodies are still recorded
/// ([`LocalWacht::gateway_requests`](super::LocalWacht::gateway_requests)). Faults other
/// than `Slow` and `NonBooleanAllowed` answer before the request is even parsed, and do not
/// count towards rate limits.
///
/// ```
/// use wacht_runtime::testing::{GatewayFault, LocalWacht};
///
/// let wacht = LocalWacht::start()?;
/// wacht.set_gateway_fault(GatewayFault::Status(502));
/// assert_eq!(wacht.gateway_fault(), GatewayFault::Status(502));
/// wacht.set_gateway_fault(GatewayFault::None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatewayFault {
    /// Normal service.
    #[default]
    None,
    /// The gateway looks down: the request is read, then the connection is closed without a
    /// single response byte (see [`JwksFault::Down`](super::JwksFault::Down)).
    Down,
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// Answers with this HTTP status and a small JSON body `{"message":"injected fault"}`.
    /// A number that is not a valid status gives 500.
    Status(u16),
    /// Answers `401` with `Content-Type: text/plain` and the body `Unauthorized`, as some
    /// gateway deployments do for a refused credential.
    PlainText401,
    /// Answers with this status, `Content-Type: application/json` and an empty body.
    EmptyBody(u16),
    /// Answers `200 OK` with `Content-Type: application/json` and a body that is not JSON.
    GarbageJson,
    /// Decides normally, but every `200` answer carries `"allowed": "true"` (a string, not a
    /// boolean), whatever the decision; other answers are unchanged.
    NonBooleanAllowed,
}

// ----- state -----

/// One fixed window of one rate-limit bucket.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Unix second the window started at.
    start: i64,
    /// Checks allowed in it so far.
    count: u64,
}

/// Credentials, rate-limit counts, fault and records of the gateway endpoint.
pub(super) struct GatewayState {
    /// The emulator's deployment id (`identity.deployment_id`).
    pub(super) deployment_id: String,
    /// API keys by secret.
    api_keys: HashMap<String, ApiKey>,
    /// OAuth access tokens by token.
    oauth_tokens: HashMap<String, OAuthToken>,
    /// Rate-limit buckets by key.
    windows: HashMap<String, Window>,
    /// Time for expiry and rate-limit windows.
    pub(super) clock: Clock,
    /// The injected fault.
    pub(super) fault: GatewayFault,
    /// Check requests received (`POST`), faulted or not.
    pub(super) checks: usize,
    /// Every check body that parsed as JSON, in order.
    pub(super) requests: Vec<Value>,
}

impl GatewayState {
    /// An empty gateway for a new deployment id.
    pub(super) fn new() -> io::Result<Self> {
        Ok(Self {
            deployment_id: random_digits()?,
            api_keys: HashMap::new(),
            oauth_tokens: HashMap::new(),
            windows: HashMap::new(),
            clock: Clock::system(),
            fault: GatewayFault::None,
            checks: 0,
            requests: Vec::new(),
        })
    }

    /// Creates and registers an API key.
    ///
    /// # Panics
    ///
    /// When the system's randomness fails.
    pub(super) fn create_api_key(&mut self, spec: ApiKeySpec) -> ApiKey {
        let key = or_panic(ApiKey::create(spec, &self.deployment_id));
        self.api_keys.insert(key.secret().to_owned(), key.clone());
        key
    }

    /// Creates and registers an OAuth access token.
    ///
    /// # Panics
    ///
    /// When the system's randomness fails.
    pub(super) fn create_oauth_token(&mut self, spec: OAuthTokenSpec) -> OAuthToken {
        let token = or_panic(OAuthToken::create(spec, &self.deployment_id));
        self.oauth_tokens
            .insert(token.token().to_owned(), token.clone());
        token
    }

    /// Forgets an API key; returns whether it was known.
    pub(super) fn revoke_api_key(&mut self, secret: &str) -> bool {
        self.api_keys.remove(secret).is_some()
    }

    /// Forgets an OAuth access token; returns whether it was known.
    pub(super) fn revoke_oauth_token(&mut self, token: &str) -> bool {
        self.oauth_tokens.remove(token).is_some()
    }

    /// Forgets every rate-limit count.
    pub(super) fn reset_rate_limits(&mut self) {
        self.windows.clear();
    }
}

// ----- the endpoint -----

/// The request body, parsed as strictly as the real gateway does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    principal: PrincipalBody,
    resource: String,
    method: String,
    // Accepted (the real gateway logs them) but not used by the emulator; recorded in
    // `gateway_requests` like the rest of the body.
    #[allow(dead_code)]
    client_ip: Option<String>,
    #[allow(dead_code)]
    user_agent: Option<String>,
    required_permissions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalBody {
    #[serde(rename = "type")]
    kind: PrincipalKind,
    value: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PrincipalKind {
    ApiKey,
    OauthAccessToken,
}

/// `/v1/authz/check`, any method (only `POST` is a check).
pub(super) async fn serve(state: &Mutex<GatewayState>, req: Request<Incoming>) -> Served {
    if req.method() != Method::POST {
        return Ok(message(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ));
    }
    let json_content = is_json(req.headers());
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(CloseConnection),
    };
    let fault = {
        let mut gateway = lock(state);
        gateway.checks += 1;
        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
            gateway.requests.push(value);
        }
        gateway.fault
    };
    match fault {
        GatewayFault::None | GatewayFault::NonBooleanAllowed => {}
        GatewayFault::Down => return Err(CloseConnection),
        GatewayFault::Slow(delay) => tokio::time::sleep(delay).await,
        GatewayFault::Status(code) => {
            return Ok(message(status_or_500(code), "injected fault"));
        }
        GatewayFault::PlainText401 => {
            return Ok(bytes_response(
                StatusCode::UNAUTHORIZED,
                "text/plain",
                "Unauthorized",
            ));
        }
        GatewayFault::EmptyBody(code) => {
            return Ok(bytes_response(status_or_500(code), "application/json", ""));
        }
        GatewayFault::GarbageJson => {
            return Ok(bytes_response(
                StatusCode::OK,
                "application/json",
                "{\"allowed\": tru <html>this is not JSON",
            ));
        }
    }
    if !json_content {
        return Ok(message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a request with `Content-Type: application/json`",
        ));
    }
    let request: CheckRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return Ok(message(
                StatusCode::BAD_REQUEST,
                &format!("invalid request body: {err}"),
            ));
        }
    };
    let (status, mut body) = {
        let mut gateway = lock(state);
        let now = gateway.clock.now();
        decide(&mut gateway, &request, now)
    };
    if fault == GatewayFault::NonBooleanAllowed && status == StatusCode::OK {
        body["allowed"] = Value::from("true");
    }
    Ok(json_response(status, &body))
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// A fresh `req_<digits>` id.
fn request_id() -> String {
    match random_digits() {
        Ok(digits) => format!("req_{digits}"),
        Err(_) => "req_unknown".to_owned(),
    }
}

/// Normalizes a resource: a `urn:wacht:…` as is, else a path without query or fragment, with
/// a leading `/`. `None` when empty or containing whitespace.
pub(super) fn normalize_resource(resource: &str) -> Option<String> {
    let trimmed = resource.trim();
    if let Some(rest) = trimmed.strip_prefix("urn:wacht:") {
        let valid = !rest.is_empty() && !rest.chars().any(char::is_whitespace);
        return valid.then(|| trimmed.to_owned());
    }
    let path = trimmed.split(['#', '?']).next().unwrap_or_default().trim();
    if path.is_empty() || path.chars().any(char::is_whitespace) {
        return None;
    }
    Some(if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    })
}

/// The real gateway's API key shape: a prefix, `_`, and a 43-character url-safe base64
/// secret, at least 46 characters in all (so a prefix of two characters or more).
pub(super) fn is_valid_api_key_format(key: &str) -> bool {
    let bytes = key.as_bytes();
    if bytes.len() < SECRET_LEN + 3 {
        return false;
    }
    let (head, secret) = bytes.split_at(bytes.len() - SECRET_LEN);
    let url_safe = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    head.last() == Some(&b'_') && secret.iter().all(url_safe)
}

/// Who a check is about.
enum Resolved {
    Key(ApiKey),
    Token(OAuthToken),
}

/// The decision for a parsed request: status and JSON body.
fn decide(gateway: &mut GatewayState, request: &CheckRequest, now: i64) -> (StatusCode, Value) {
    let method = request.method.trim().to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        let text = format!("invalid method `{}`", request.method);
        return (StatusCode::BAD_REQUEST, json!({ "message": text }));
    }
    let Some(resource) = normalize_resource(&request.resource) else {
        let text = format!("invalid resource `{}`", request.resource);
        return (StatusCode::BAD_REQUEST, json!({ "message": text }));
    };
    let resolved = match resolve(
        gateway,
        request.principal.kind,
        &request.principal.value,
        now,
    ) {
        Ok(resolved) => resolved,
        Err(text) => {
            let body = json!({
                "request_id": request_id(),
                "allowed": false,
                "reason": "unauthenticated",
                "message": text,
            });
            return (StatusCode::UNAUTHORIZED, body);
        }
    };
    let (identity, held, metadata) = match &resolved {
        Resolved::Key(key) => (key.identity(), key.permissions(), key.metadata().clone()),
        Resolved::Token(token) => (token.identity(), token.permissions(), token.metadata()),
    };
    let held: BTreeSet<&str> = held.iter().map(String::as_str).collect();
    let permissions: Vec<&str> = held.iter().copied().collect();
    let mut headers = identity_headers(&identity, &permissions);

    let resource_denied = match &resolved {
        Resolved::Token(token) => token
            .granted_resource()
            .is_some_and(|granted| normalize_resource(granted).as_deref() != Some(&resource)),
        Resolved::Key(_) => false,
    };
    let missing_permission = request
        .required_permissions
        .iter()
        .flatten()
        .map(|permission| permission.trim())
        .filter(|permission| !permission.is_empty())
        .any(|permission| !held.contains(permission));

    let mut allowed = true;
    let mut reason = Value::Null;
    let mut blocked_rule = Value::Null;
    let mut retry_after: Option<i64> = None;
    let mut rate_limits = Vec::new();
    if resource_denied || missing_permission {
        allowed = false;
        reason = "permission_denied".into();
        blocked_rule = "permission_denied".into();
        headers.insert("X-Wacht-Permission-Denied".into(), "true".into());
    } else if let Resolved::Key(key) = &resolved {
        for rule in key.rate_limits() {
            let window = i64::try_from(rule.window_secs()).unwrap_or(i64::MAX);
            let start = now - now.rem_euclid(window);
            let bucket = match rule.scope {
                RateLimitScope::PerKey => {
                    format!("key:{}:{resource}:{}:{window}", key.key_id(), rule.name)
                }
                RateLimitScope::PerApp => {
                    format!("app:{}:{}:{window}", key.app_slug(), rule.name)
                }
            };
            let entry = gateway
                .windows
                .entry(bucket)
                .or_insert(Window { start, count: 0 });
            if entry.start != start {
                *entry = Window { start, count: 0 };
            }
            let limit = u64::from(rule.requests);
            let label = format!("X-RateLimit-{window}s");
            if entry.count < limit {
                entry.count += 1;
            } else {
                let wait = start.saturating_add(window) - now;
                headers.insert(format!("{label}-Reset"), wait.to_string().into());
                retry_after = Some(retry_after.map_or(wait, |current| current.min(wait)));
                if allowed {
                    allowed = false;
                    reason = "rate_limited".into();
                    blocked_rule = rule.name.clone().into();
                }
            }
            let remaining = limit.saturating_sub(entry.count);
            headers.insert(format!("{label}-Limit"), limit.to_string().into());
            headers.insert(format!("{label}-Remaining"), remaining.to_string().into());
            rate_limits.push(json!({
                "rule": rule.name,
                "remaining": remaining,
                "limit": limit,
            }));
        }
    }
    let body = json!({
        "request_id": request_id(),
        "allowed": allowed,
        "reason": reason,
        "blocked_rule": blocked_rule,
        "identity": identity,
        "permissions": permissions,
        "metadata": metadata,
        "rate_limits": rate_limits,
        "retry_after": retry_after,
        "headers": headers,
    });
    (StatusCode::OK, body)
}

/// Finds the credential, or says (for a 401 message) why it is refused.
fn resolve(
    gateway: &GatewayState,
    kind: PrincipalKind,
    value: &str,
    now: i64,
) -> Result<Resolved, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Err("a credential is required");
    }
    let (expires_at, resolved) = match kind {
        PrincipalKind::ApiKey => {
            if !is_valid_api_key_format(value) {
                return Err("malformed API key");
            }
            let Some(key) = gateway.api_keys.get(value) else {
                return Err("unknown API key");
            };
            if !key.is_active() {
                return Err("inactive API key");
            }
            (key.expires_at(), Resolved::Key(key.clone()))
        }
        PrincipalKind::OauthAccessToken => {
            let Some(token) = gateway.oauth_tokens.get(value) else {
                return Err("unknown OAuth access token");
            };
            (token.expires_at(), Resolved::Token(token.clone()))
        }
    };
    if expires_at.is_some_and(|expires_at| now >= expires_at) {
        return Err("expired credential");
    }
    Ok(resolved)
}

/// The real gateway's identity headers (`X-Wacht-*`), which it also reports in `headers`.
fn identity_headers(identity: &Value, permissions: &[&str]) -> Map<String, Value> {
    let mut headers = Map::new();
    for (name, field) in [
        ("X-Wacht-Key-ID", "key_id"),
        ("X-Wacht-Deployment-ID", "deployment_id"),
        ("X-Wacht-App-Slug", "app_slug"),
        ("X-Wacht-Key-Name", "key_name"),
        ("X-Wacht-Organization-ID", "organization_id"),
        ("X-Wacht-Workspace-ID", "workspace_id"),
        (
            "X-Wacht-Organization-Membership-ID",
            "organization_membership_id",
        ),
        ("X-Wacht-Workspace-Membership-ID", "workspace_membership_id"),
    ] {
        if let Some(value) = identity.get(field).and_then(Value::as_str) {
            headers.insert(name.into(), value.into());
        }
    }
    if !permissions.is_empty() {
        headers.insert("X-Wacht-Permissions".into(), permissions.join(",").into());
    }
    headers
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn resources_normalize_like_the_gateway() {
        let cases = [
            ("/machine/users", Some("/machine/users")),
            ("machine/users", Some("/machine/users")),
            ("/a?x=1#f", Some("/a")),
            ("/a#f?x", Some("/a")),
            ("  /a  ", Some("/a")),
            (
                "urn:wacht:organization:42",
                Some("urn:wacht:organization:42"),
            ),
            ("urn:wacht:", None),
            ("", None),
            ("   ", None),
            ("?x=1", None),
            ("/a b", None),
            ("urn:wacht:a b", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_resource(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn api_key_format() {
        let secret = "A".repeat(43);
        assert!(is_valid_api_key_format(&format!("wk_test_{secret}")));
        // At least 46 characters: a prefix of two or more.
        assert!(is_valid_api_key_format(&format!("wk_{secret}")));
        assert!(!is_valid_api_key_format(&format!("k_{secret}")));
        assert!(is_valid_api_key_format(&format!(
            "k__{}",
            "-_".repeat(21) + "z"
        )));
        assert!(!is_valid_api_key_format(&format!("_{secret}")));
        assert!(!is_valid_api_key_format(&format!("wk_test{secret}")));
        assert!(!is_valid_api_key_format(&format!("wk_test_{secret}A")));
        assert!(!is_valid_api_key_format(&format!(
            "wk_test_{}",
            "A".repeat(42)
        )));
        assert!(!is_valid_api_key_format(&format!(
            "wk_test_{}+",
            "A".repeat(42)
        )));
        assert!(!is_valid_api_key_format(""));
    }
}
