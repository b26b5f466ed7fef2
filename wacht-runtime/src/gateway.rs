//! The gateway client: `POST <gateway>/v1/authz/check`, exactly as the real gateway speaks it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::config::{ConfigError, DEFAULT_HTTP_TIMEOUT};
use crate::metrics::GatewayStatus;
use crate::outbound::{self, GATEWAY_BODY_CAP, OutboundError};
use crate::secret::Secret;

/// The kind of machine credential sent to the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    /// An API key (conventionally from `x-api-key`).
    ApiKey,
    /// An OAuth access token (from `Authorization: Bearer`).
    OauthAccessToken,
}

impl PrincipalType {
    /// The wire name: `api_key` or `oauth_access_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::ApiKey => "api_key",
            PrincipalType::OauthAccessToken => "oauth_access_token",
        }
    }
}

/// The credential being checked. `Debug` never shows the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// What kind of credential it is.
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    /// The credential itself.
    #[serde(serialize_with = "expose_secret")]
    pub value: Secret,
}

fn expose_secret<S: Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// The body of `POST /v1/authz/check`. Optional fields that are absent are omitted (the
/// gateway refuses unknown fields and needs nothing else).
///
/// ```
/// use wacht_runtime::{AuthzRequest, Principal, PrincipalType, Secret};
/// let request = AuthzRequest {
///     principal: Principal { kind: PrincipalType::ApiKey, value: Secret::new("wk_live_…") },
///     resource: "/machine/users".into(),
///     method: "GET".into(),
///     client_ip: None,
///     user_agent: None,
///     required_permissions: vec!["user:read".into()],
/// };
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["principal"]["type"], "api_key");
/// assert!(json.get("client_ip").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthzRequest {
    /// The caller's credential.
    pub principal: Principal,
    /// A path (`/…`) or a `urn:wacht:…`.
    pub resource: String,
    /// One of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS.
    pub method: String,
    /// The caller's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// The caller's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Permissions that must all be held (AND).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_permissions: Vec<String>,
}

/// Who the credential belongs to, as the gateway resolved it. Ids are strings of digits.
/// For an OAuth access token, `key_name` is the OAuth client id and `owner_user_id` the
/// user the token acts for; the OAuth grant itself is in the answer's `metadata` (see
/// [`crate::MachineAuth::oauth`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Identity {
    /// The API key's (or token's) id.
    pub key_id: Option<String>,
    /// The deployment the key belongs to.
    pub deployment_id: Option<String>,
    /// The API-key app's slug.
    pub app_slug: Option<String>,
    /// The key's name; for an OAuth access token, the OAuth client id.
    pub key_name: Option<String>,
    /// The user owning the key (for an OAuth token: the user it acts for).
    pub owner_user_id: Option<String>,
    /// The key's organization.
    pub organization_id: Option<String>,
    /// The key's workspace.
    pub workspace_id: Option<String>,
    /// The owner's organization membership.
    pub organization_membership_id: Option<String>,
    /// The owner's workspace membership.
    pub workspace_membership_id: Option<String>,
}

/// One rate-limit rule's state after this request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RateLimitState {
    /// The rule's name.
    pub rule: String,
    /// Requests left in the window (the gateway's signed value; negative reads as 0).
    #[serde(deserialize_with = "non_negative")]
    pub remaining: u64,
    /// Requests allowed in the window (negative reads as 0).
    #[serde(deserialize_with = "non_negative")]
    pub limit: u64,
}

/// The gateway's answer to a check (HTTP 200).
///
/// Strict where a field decides (`allowed` must be a JSON boolean, `request_id` a string),
/// tolerant where the gateway is loose (`metadata` is any JSON value; rate-limit counts are
/// signed). `request_id` and `reason` are kept only when they are short plain tokens
/// (at most 128 characters of `[A-Za-z0-9_.:-]`), so nothing the gateway sends is echoed
/// into logs, headers or bodies unchecked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AuthzResponse {
    /// The gateway's id for this decision: log it. `None` when the gateway's value was not
    /// a short plain token.
    #[serde(deserialize_with = "sanitized_required")]
    pub request_id: Option<String>,
    /// The decision. Must be a JSON boolean; anything else is an invalid response.
    pub allowed: bool,
    /// `permission_denied`, `rate_limited`, … when not allowed (dropped unless a short
    /// plain token).
    #[serde(default, deserialize_with = "sanitized_optional")]
    pub reason: Option<String>,
    /// The rule that blocked the request, when one did (never logged or returned).
    #[serde(default)]
    pub blocked_rule: Option<String>,
    /// Who the credential belongs to.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// The permissions the credential holds.
    #[serde(default, deserialize_with = "crate::strict::null_as_default")]
    pub permissions: Vec<String>,
    /// Any JSON value: an API key's own metadata (an object in practice), the OAuth grant
    /// for an OAuth access token, `null` when absent.
    #[serde(default)]
    pub metadata: Value,
    /// Rate-limit state per rule.
    #[serde(default, deserialize_with = "crate::strict::null_as_default")]
    pub rate_limits: Vec<RateLimitState>,
    /// Seconds to wait, when rate limited.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Headers to pass on to the caller (only `X-RateLimit-*` with numeric values are).
    #[serde(default, deserialize_with = "crate::strict::null_as_default")]
    pub headers: BTreeMap<String, String>,
}

fn non_negative<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(u64::try_from(i64::deserialize(deserializer)?).unwrap_or(0))
}

/// A required string, kept only when it is a short plain token.
fn sanitized_required<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(outbound::sanitized_token(&text).map(str::to_owned))
}

/// An optional string (`null` or absent), kept only when it is a short plain token.
fn sanitized_optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.and_then(|text| outbound::sanitized_token(&text).map(str::to_owned)))
}

/// Why a check produced no decision. No variant carries text the gateway sent, except the
/// sanitised `request_id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// 401: the credential is missing, malformed, expired, unknown or inactive.
    #[error("the gateway refused the credential (HTTP 401)")]
    Unauthorized {
        /// The gateway's request id, when the body carried a well-formed one.
        request_id: Option<String>,
    },
    /// 400: the gateway refused the request's method or resource (a configuration error).
    #[error("the gateway refused the check as malformed (HTTP 400)")]
    BadRequest {
        /// The gateway's request id, when the body carried a well-formed one.
        request_id: Option<String>,
    },
    /// The gateway answered with a redirect, which is never followed (`None`: the answer
    /// came from another URL than the one requested).
    #[error("the gateway redirected (HTTP {}), which is never followed", .status.map_or("?".to_owned(), |s| s.to_string()))]
    Redirect {
        /// The 3xx status, when the redirect itself was seen.
        status: Option<u16>,
    },
    /// Any other non-2xx status (5xx: the gateway's own failure).
    #[error("the gateway answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// No answer within the timeout.
    #[error("the gateway did not answer within {0:?}")]
    Timeout(Duration),
    /// The request did not complete (refused, reset, DNS).
    #[error("the gateway could not be reached: {0}")]
    Transport(String),
    /// An answer that is not a decision: a 2xx other than 200, a body over 64 KiB, or not
    /// the documented JSON (e.g. `allowed` not a boolean). The text is this crate's own.
    #[error("the gateway's answer is invalid: {0}")]
    InvalidResponse(String),
}

impl GatewayError {
    /// The stable snake_case reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized { .. } => "invalid_credential",
            GatewayError::BadRequest { .. } => "gateway_bad_request",
            GatewayError::Redirect { .. } | GatewayError::Status { .. } => "gateway_error",
            GatewayError::Timeout(_) => "gateway_timeout",
            GatewayError::Transport(_) => "gateway_unreachable",
            GatewayError::InvalidResponse(_) => "gateway_invalid_response",
        }
    }

    /// The gateway's (sanitised) request id, when the answer carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            GatewayError::Unauthorized { request_id } | GatewayError::BadRequest { request_id } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }
}

/// A client of the gateway's check endpoint. Cheap to clone; connections are kept alive and
/// reused.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use wacht_runtime::{AuthzRequest, GatewayClient, Principal, PrincipalType, Secret};
/// let gateway = GatewayClient::new("https://gateway.wacht.dev/")?;
/// let answer = gateway
///     .check(&AuthzRequest {
///         principal: Principal { kind: PrincipalType::ApiKey, value: Secret::new("wk_live_…") },
///         resource: "/machine/users".into(),
///         method: "GET".into(),
///         client_ip: None,
///         user_agent: None,
///         required_permissions: vec!["user:read".into()],
///     })
///     .await?;
/// println!("{:?} allowed={}", answer.request_id, answer.allowed);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GatewayClient {
    http: reqwest::Client,
    check_url: String,
    timeout: Duration,
}

impl fmt::Debug for GatewayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayClient")
            .field("check_url", &self.check_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl GatewayClient {
    /// A client with its own HTTP client (redirects off) and the default 5 s timeout.
    /// Trailing slashes of `base_url` are ignored.
    pub fn new(base_url: &str) -> Result<Self, ConfigError> {
        let http = outbound::build_client(DEFAULT_HTTP_TIMEOUT).map_err(ConfigError::HttpClient)?;
        Ok(Self::with_client(http, base_url, DEFAULT_HTTP_TIMEOUT))
    }

    /// A client sharing `http` (and its connection pool). Whatever `http`'s redirect
    /// policy, an answer from another URL than the check URL is refused.
    pub fn with_client(http: reqwest::Client, base_url: &str, timeout: Duration) -> Self {
        GatewayClient {
            http,
            check_url: format!("{}/v1/authz/check", base_url.trim().trim_end_matches('/')),
            timeout,
        }
    }

    /// The same client with another timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The full URL checks are posted to.
    pub fn check_url(&self) -> &str {
        &self.check_url
    }

    /// Asks the gateway for a decision. Only a `200` with the documented JSON is one; the
    /// answer is read up to 64 KiB.
    pub async fn check(&self, request: &AuthzRequest) -> Result<AuthzResponse, GatewayError> {
        self.check_within(request, self.timeout).await
    }

    /// [`GatewayClient::check`], ending by `until` at the latest.
    pub(crate) async fn check_until(
        &self,
        request: &AuthzRequest,
        until: crate::platform::Instant,
    ) -> Result<AuthzResponse, GatewayError> {
        let left = until.saturating_duration_since(crate::platform::Instant::now());
        if left.is_zero() {
            return Err(GatewayError::Timeout(Duration::ZERO));
        }
        self.check_within(request, left.min(self.timeout)).await
    }

    async fn check_within(
        &self,
        request: &AuthzRequest,
        timeout: Duration,
    ) -> Result<AuthzResponse, GatewayError> {
        let started = crate::platform::Instant::now();
        let answer = self.call(request, timeout).await;
        let status = match &answer {
            Ok(_) => GatewayStatus::Http(200),
            Err(GatewayError::Unauthorized { .. }) => GatewayStatus::Http(401),
            Err(GatewayError::BadRequest { .. }) => GatewayStatus::Http(400),
            Err(GatewayError::Status { status }) => GatewayStatus::Http(*status),
            Err(GatewayError::Redirect { .. }) => GatewayStatus::Redirect,
            Err(GatewayError::Timeout(_)) => GatewayStatus::Timeout,
            Err(GatewayError::Transport(_)) => GatewayStatus::Unreachable,
            Err(GatewayError::InvalidResponse(_)) => GatewayStatus::Invalid,
        };
        crate::metrics::gateway(status, started.elapsed());
        answer
    }

    async fn call(
        &self,
        request: &AuthzRequest,
        timeout: Duration,
    ) -> Result<AuthzResponse, GatewayError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| GatewayError::InvalidResponse(outbound::json_error(&e)))?;
        let http_request = self
            .http
            .post(&self.check_url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .build()
            .map_err(|e| GatewayError::Transport(outbound::cause_chain(&e.without_url())))?;
        let answer = outbound::call(
            &self.http,
            http_request,
            timeout,
            GATEWAY_BODY_CAP,
            outbound::ReadBody::Always,
        )
        .await
        .map_err(|e| outbound_error(e, timeout))?;
        let (status, bytes) = (answer.status.as_u16(), answer.body);
        match status {
            200 => serde_json::from_slice::<AuthzResponse>(&bytes)
                .map_err(|e| GatewayError::InvalidResponse(outbound::json_error(&e))),
            401 => Err(GatewayError::Unauthorized {
                request_id: request_id_of(&bytes),
            }),
            400 => Err(GatewayError::BadRequest {
                request_id: request_id_of(&bytes),
            }),
            201..=299 => Err(GatewayError::InvalidResponse(format!(
                "HTTP {status} is not a decision (only 200 is)"
            ))),
            status => Err(GatewayError::Status { status }),
        }
    }
}

fn outbound_error(error: OutboundError, timeout: Duration) -> GatewayError {
    match error {
        OutboundError::Timeout => GatewayError::Timeout(timeout),
        OutboundError::Transport(cause) => GatewayError::Transport(cause),
        OutboundError::Redirect(status) => GatewayError::Redirect {
            status: Some(status),
        },
        OutboundError::UrlChanged => GatewayError::Redirect { status: None },
        OutboundError::TooLarge(_) => {
            GatewayError::InvalidResponse("larger than 64 KiB".to_owned())
        }
    }
}

/// The `request_id` of a JSON error body, if it has a well-formed one.
fn request_id_of(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(default, deserialize_with = "sanitized_optional")]
        request_id: Option<String>,
    }
    serde_json::from_slice::<ErrorBody>(body).ok()?.request_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn request(kind: PrincipalType) -> AuthzRequest {
        AuthzRequest {
            principal: Principal {
                kind,
                value: Secret::new("wk_test_secret"),
            },
            resource: "/machine/users".into(),
            method: "GET".into(),
            client_ip: None,
            user_agent: None,
            required_permissions: Vec::new(),
        }
    }

    #[test]
    fn absent_optional_fields_are_omitted() {
        let minimal = serde_json::to_value(request(PrincipalType::OauthAccessToken)).unwrap();
        assert_eq!(
            minimal,
            json!({"principal": {"type": "oauth_access_token", "value": "wk_test_secret"},
                   "resource": "/machine/users", "method": "GET"})
        );
        let debug = format!("{:?}", request(PrincipalType::ApiKey));
        assert!(!debug.contains("wk_test_secret"), "{debug}");
    }

    #[test]
    fn responses_parse_strictly() {
        let ok = json!({"request_id": "req_1", "allowed": true, "reason": null, "blocked_rule": null,
            "identity": {"key_id": "12", "deployment_id": "34", "app_slug": "app", "key_name": "k",
                         "owner_user_id": "56", "organization_id": null, "workspace_id": null,
                         "organization_membership_id": null, "workspace_membership_id": null},
            "permissions": ["user:read"], "metadata": {"team": "a"}, "rate_limits": [{"rule": "r", "remaining": 4, "limit": 5}],
            "retry_after": null, "headers": {"X-RateLimit-60s-Limit": "5"}});
        let parsed: AuthzResponse = serde_json::from_value(ok.clone()).unwrap();
        assert!(parsed.allowed);
        assert_eq!(parsed.identity.unwrap().key_id.as_deref(), Some("12"));
        assert_eq!(parsed.request_id.as_deref(), Some("req_1"));
        let mut numeric_request_id = ok.clone();
        numeric_request_id["request_id"] = json!(7);
        assert!(serde_json::from_value::<AuthzResponse>(numeric_request_id).is_err());
        let mut string_allowed = ok.clone();
        string_allowed["allowed"] = json!("true");
        assert!(serde_json::from_value::<AuthzResponse>(string_allowed).is_err());
        let mut numeric_id = ok.clone();
        numeric_id["identity"]["key_id"] = json!(12);
        assert!(serde_json::from_value::<AuthzResponse>(numeric_id).is_err());
        let mut nulls = ok;
        nulls["permissions"] = Value::Null;
        nulls["headers"] = Value::Null;
        assert!(
            serde_json::from_value::<AuthzResponse>(nulls)
                .unwrap()
                .permissions
                .is_empty()
        );
    }

    #[test]
    fn loose_where_the_gateway_is_loose() {
        let base = json!({"request_id": "req_1", "allowed": false, "reason": "permission_denied",
            "metadata": ["an", "array"], "rate_limits": [{"rule": "r", "remaining": -3, "limit": -1}]});
        let parsed: AuthzResponse = serde_json::from_value(base.clone()).unwrap();
        assert_eq!(parsed.metadata, json!(["an", "array"]));
        assert_eq!(
            (parsed.rate_limits[0].remaining, parsed.rate_limits[0].limit),
            (0, 0)
        );
        for metadata in [json!(null), json!("text"), json!(7), json!({"team": "a"})] {
            let mut answer = base.clone();
            answer["metadata"] = metadata.clone();
            let parsed: AuthzResponse = serde_json::from_value(answer).unwrap();
            assert_eq!(parsed.metadata, metadata);
        }
    }

    #[test]
    fn gateway_text_is_kept_only_as_short_plain_tokens() {
        let reflected = json!({"request_id": "wk_live secret value", "allowed": false,
            "reason": "<b>wk_live_secret</b>"});
        let parsed: AuthzResponse = serde_json::from_value(reflected).unwrap();
        assert_eq!((parsed.request_id, parsed.reason), (None, None));
        let long = json!({"request_id": "r".repeat(129), "allowed": true});
        assert_eq!(
            serde_json::from_value::<AuthzResponse>(long)
                .unwrap()
                .request_id,
            None
        );
        let fine = json!({"request_id": "req_01:a.b-c", "allowed": true, "reason": null});
        assert_eq!(
            serde_json::from_value::<AuthzResponse>(fine)
                .unwrap()
                .request_id
                .as_deref(),
            Some("req_01:a.b-c")
        );
        assert_eq!(
            request_id_of(br#"{"request_id":"req_9"}"#).as_deref(),
            Some("req_9")
        );
        assert_eq!(request_id_of(br#"{"request_id":"has space"}"#), None);
        assert_eq!(request_id_of(b"plain text"), None);
    }

    #[test]
    fn trailing_slashes_of_the_base_url_are_ignored() {
        let http = reqwest::Client::new();
        let client =
            GatewayClient::with_client(http, "https://gw.example//", Duration::from_secs(1));
        assert_eq!(client.check_url(), "https://gw.example/v1/authz/check");
    }
}
