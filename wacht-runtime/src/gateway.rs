//! The gateway client: `POST <gateway>/v1/authz/check`, exactly as the real gateway speaks it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

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
/// The OAuth fields (`scopes`, `granted_resource`, `expires_at`, `oauth_client_id`) are
/// filled for OAuth access tokens when the gateway sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Identity {
    /// The API key's (or token's) id.
    pub key_id: Option<String>,
    /// The deployment the key belongs to.
    pub deployment_id: Option<String>,
    /// The API-key app's slug.
    pub app_slug: Option<String>,
    /// The key's name.
    pub key_name: Option<String>,
    /// The user owning the key.
    pub owner_user_id: Option<String>,
    /// The key's organization.
    pub organization_id: Option<String>,
    /// The key's workspace.
    pub workspace_id: Option<String>,
    /// The owner's organization membership.
    pub organization_membership_id: Option<String>,
    /// The owner's workspace membership.
    pub workspace_membership_id: Option<String>,
    /// OAuth scopes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// The resource an OAuth token was granted for.
    pub granted_resource: Option<String>,
    /// When the credential expires (Unix seconds).
    pub expires_at: Option<i64>,
    /// The OAuth client the token was issued to.
    pub oauth_client_id: Option<String>,
}

/// One rate-limit rule's state after this request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RateLimitState {
    /// The rule's name.
    pub rule: String,
    /// Requests left in the window.
    pub remaining: u64,
    /// Requests allowed in the window.
    pub limit: u64,
}

/// The gateway's answer to a check (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AuthzResponse {
    /// The gateway's id for this decision: log it.
    pub request_id: String,
    /// The decision. Must be a JSON boolean; anything else is an invalid response.
    pub allowed: bool,
    /// `permission_denied`, `rate_limited`, … when not allowed.
    pub reason: Option<String>,
    /// The rule that blocked the request, when one did.
    pub blocked_rule: Option<String>,
    /// Who the credential belongs to.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// The permissions the credential holds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: Vec<String>,
    /// The key's metadata.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Map<String, Value>,
    /// Rate-limit state per rule.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rate_limits: Vec<RateLimitState>,
    /// Seconds to wait, when rate limited.
    pub retry_after: Option<u64>,
    /// Headers to pass on to the caller (`X-RateLimit-*`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: BTreeMap<String, String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Why a check produced no decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// 401: the credential is missing, malformed, expired, unknown or inactive.
    #[error("the gateway refused the credential (HTTP 401)")]
    Unauthorized {
        /// The gateway's request id, when the body carried one.
        request_id: Option<String>,
    },
    /// 400: the gateway refused the request's method or resource (a configuration error).
    #[error("the gateway refused the check as malformed (HTTP 400): {message}")]
    BadRequest {
        /// The gateway's message, if any.
        message: String,
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
    /// A 200 whose body is not the documented JSON (e.g. `allowed` not a boolean).
    #[error("the gateway's answer is invalid: {0}")]
    InvalidResponse(String),
}

impl GatewayError {
    /// The stable snake_case reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized { .. } => "invalid_credential",
            GatewayError::BadRequest { .. } => "gateway_bad_request",
            GatewayError::Status { .. } => "gateway_error",
            GatewayError::Timeout(_) => "gateway_timeout",
            GatewayError::Transport(_) => "gateway_unreachable",
            GatewayError::InvalidResponse(_) => "gateway_invalid_response",
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
/// println!("{} allowed={}", answer.request_id, answer.allowed);
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
    /// A client with its own HTTP client and the default 5 s timeout. Trailing slashes of
    /// `base_url` are ignored.
    pub fn new(base_url: &str) -> Result<Self, crate::ConfigError> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| crate::ConfigError::HttpClient(e.without_url().to_string()))?;
        Ok(Self::with_client(
            http,
            base_url,
            crate::DEFAULT_HTTP_TIMEOUT,
        ))
    }

    /// A client sharing `http` (and its connection pool).
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

    /// Asks the gateway for a decision.
    pub async fn check(&self, request: &AuthzRequest) -> Result<AuthzResponse, GatewayError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| GatewayError::InvalidResponse(e.to_string()))?;
        let response = self
            .http
            .post(&self.check_url)
            .timeout(self.timeout)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        match status.as_u16() {
            200..=299 => serde_json::from_slice::<AuthzResponse>(&bytes).map_err(|e| {
                // serde's message names the field and the type, never the credential.
                GatewayError::InvalidResponse(e.to_string())
            }),
            401 => Err(GatewayError::Unauthorized {
                request_id: json_field(&bytes, "request_id"),
            }),
            400 => Err(GatewayError::BadRequest {
                message: json_field(&bytes, "message")
                    .or_else(|| json_field(&bytes, "error"))
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect()),
            }),
            status => Err(GatewayError::Status { status }),
        }
    }

    fn transport_error(&self, error: reqwest::Error) -> GatewayError {
        if error.is_timeout() {
            GatewayError::Timeout(self.timeout)
        } else if error.is_decode() || error.is_body() {
            GatewayError::InvalidResponse(error.without_url().to_string())
        } else {
            GatewayError::Transport(error.without_url().to_string())
        }
    }
}

/// A string field of a JSON object body, if the body is one.
fn json_field(body: &[u8], name: &str) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn trailing_slashes_of_the_base_url_are_ignored() {
        let http = reqwest::Client::new();
        let client =
            GatewayClient::with_client(http, "https://gw.example//", Duration::from_secs(1));
        assert_eq!(client.check_url(), "https://gw.example/v1/authz/check");
    }
}
