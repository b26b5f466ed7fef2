//! The backend API client: the Rust counterpart of the JavaScript SDK's `initClient` and
//! `users.list`. Authenticated with the backend API key (`WACHT_API_KEY`) as
//! `Authorization: Bearer`, against `WACHT_BACKEND_API_URL`.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use http::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{ConfigError, WachtConfig};
use crate::outbound::{self, BACKEND_BODY_CAP, OutboundError};
use crate::secret::Secret;

/// Longest error text kept from a non-JSON error body, in characters.
const MAX_ERROR_TEXT: usize = 8 * 1024;

/// A client of the Wacht backend API. Cheap to clone; connections are kept alive and
/// reused. Its `Debug` never shows the API key.
///
/// Get one from a configured context with [`Wacht::backend`](crate::Wacht::backend) (it
/// shares the context's HTTP client), or build one with [`BackendClient::from_config`] /
/// [`BackendClient::new`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use wacht_runtime::{ListUsersOptions, SortOrder, Wacht};
/// let wacht = Wacht::from_env()?; // WACHT_API_KEY, WACHT_BACKEND_API_URL
/// let page = wacht
///     .backend()
///     .users()
///     .list(ListUsersOptions::new().limit(20).sort_key("created_at").sort_order(SortOrder::Desc))
///     .await?;
/// for user in &page.data {
///     println!("{} {} {}", user.id, user.first_name, user.last_name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BackendClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<Secret>,
    timeout: Duration,
}

impl fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendClient")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl BackendClient {
    /// A client for `base_url` with `api_key`, its own HTTP client and the default 5 s
    /// timeout. Trailing slashes of `base_url` are ignored.
    ///
    /// Errors when `base_url` is not an absolute http(s) URL or the HTTP client cannot be
    /// built. An empty `api_key` counts as none: every call then fails with
    /// [`BackendError::MissingApiKey`] without sending anything.
    pub fn new(base_url: &str, api_key: impl Into<String>) -> Result<Self, ConfigError> {
        let config = WachtConfig::builder()
            .backend_api_url(base_url)
            .api_key(api_key)
            .build()?;
        Self::from_config(&config)
    }

    /// A client configured like `config` (`WACHT_BACKEND_API_URL`, `WACHT_API_KEY`, HTTP
    /// timeout), calling through the configured HTTP client
    /// ([`WachtConfigBuilder::http_client`](crate::WachtConfigBuilder::http_client): a proxy,
    /// private roots, mTLS) when there is one, else through a client of its own. Prefer
    /// [`Wacht::backend`](crate::Wacht::backend), which shares the context's connections.
    ///
    /// A missing API key is not an error here: every call then fails with
    /// [`BackendError::MissingApiKey`] without sending anything.
    pub fn from_config(config: &WachtConfig) -> Result<Self, ConfigError> {
        let http = match &config.http_client {
            Some(client) => client.clone(),
            None => {
                outbound::build_client(config.http_timeout()).map_err(ConfigError::HttpClient)?
            }
        };
        Ok(Self::with_client(
            http,
            config.backend_api_url(),
            config.api_key().cloned(),
            config.http_timeout(),
        ))
    }

    /// A client sharing `http` (and its connection pool). Trailing slashes of `base_url` are
    /// ignored; the URL is not checked here (a bad one fails each call with
    /// [`BackendError::Transport`]). An empty key counts as none.
    pub fn with_client(
        http: reqwest::Client,
        base_url: &str,
        api_key: Option<Secret>,
        timeout: Duration,
    ) -> Self {
        BackendClient {
            http,
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
            api_key: api_key.filter(|key| !key.expose().is_empty()),
            timeout,
        }
    }

    /// The same client with another timeout (at most 300 s, as the configured one).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        // Bounded like the configured timeout (zero stays zero: a deadline already past).
        self.timeout = timeout.min(*crate::config::HTTP_TIMEOUT_RANGE.end());
        self
    }

    /// The backend API base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether an API key is configured.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// The users endpoints.
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// `GET <base>/<path>?<query>` with the bearer key; a 2xx JSON body is parsed as `T`.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, BackendError> {
        let key = self.api_key.as_ref().ok_or(BackendError::MissingApiKey)?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", key.expose()))
            .map_err(|_| BackendError::InvalidApiKey)?;
        authorization.set_sensitive(true);
        let mut url = Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|e| BackendError::Transport(format!("invalid backend API URL: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let request = self
            .http
            .get(url)
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, "application/json")
            .build()
            .map_err(|e| BackendError::Transport(outbound::cause_chain(&e.without_url())))?;
        let outbound::Answer {
            status,
            body: bytes,
            ..
        } = outbound::call(
            &self.http,
            request,
            self.timeout,
            BACKEND_BODY_CAP,
            outbound::ReadBody::Always,
        )
        .await
        .map_err(|e| self.outbound_error(e))?;
        if status.is_success() {
            // Described without the offending value, which could be an echoed key.
            serde_json::from_slice(&bytes)
                .map_err(|e| BackendError::InvalidResponse(outbound::json_error(&e)))
        } else {
            Err(BackendError::Status {
                status,
                body: ErrorBody::parse(&bytes, key),
            })
        }
    }

    fn outbound_error(&self, error: OutboundError) -> BackendError {
        match error {
            OutboundError::Timeout => BackendError::Timeout(self.timeout),
            OutboundError::Transport(cause) => BackendError::Transport(cause),
            OutboundError::Redirect(status) => BackendError::Redirect {
                status: StatusCode::from_u16(status).ok(),
            },
            OutboundError::UrlChanged => BackendError::Redirect { status: None },
            OutboundError::TooLarge(_) => {
                BackendError::InvalidResponse("larger than 4 MiB".to_owned())
            }
        }
    }
}

/// The users endpoints of the backend API ([`BackendClient::users`]).
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a BackendClient,
}

impl Users<'_> {
    /// `GET /users`: one page of the deployment's users. Only the options that are set are
    /// sent; the service applies its defaults to the others.
    ///
    /// ```no_run
    /// # async fn run(backend: wacht_runtime::BackendClient) -> Result<(), wacht_runtime::BackendError> {
    /// use wacht_runtime::ListUsersOptions;
    /// let page = backend.users().list(ListUsersOptions::new().limit(20).search("ada")).await?;
    /// println!("{} of {:?} users, more: {}", page.data.len(), page.total, page.has_more);
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: ListUsersOptions) -> Result<Page<User>, BackendError> {
        self.client.get("/users", &options.query()).await
    }
}

/// The order of a sorted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Ascending (`asc`).
    Asc,
    /// Descending (`desc`).
    Desc,
}

impl SortOrder {
    /// The wire value: `asc` or `desc`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// The query of [`Users::list`]: `limit`, `offset`, `sort_key`, `sort_order`, `search`.
/// Unset options are not sent. Fill the fields, or use the builder methods:
///
/// ```
/// use wacht_runtime::{ListUsersOptions, SortOrder};
/// let by_builder = ListUsersOptions::new().limit(20).offset(40).sort_order(SortOrder::Desc);
/// let by_fields = ListUsersOptions {
///     limit: Some(20),
///     offset: Some(40),
///     sort_order: Some(SortOrder::Desc),
///     ..Default::default()
/// };
/// assert_eq!(by_builder, by_fields);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsersOptions {
    /// Page size.
    pub limit: Option<u32>,
    /// Users to skip.
    pub offset: Option<u64>,
    /// The field to sort by (e.g. `created_at`, `first_name`, `username`).
    pub sort_key: Option<String>,
    /// Ascending or descending.
    pub sort_order: Option<SortOrder>,
    /// Text searched in names, username and email address.
    pub search: Option<String>,
}

impl ListUsersOptions {
    /// No option set: the service's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets how many users to skip.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sets the field to sort by.
    pub fn sort_key(mut self, key: impl Into<String>) -> Self {
        self.sort_key = Some(key.into());
        self
    }

    /// Sets the sort order.
    pub fn sort_order(mut self, order: SortOrder) -> Self {
        self.sort_order = Some(order);
        self
    }

    /// Sets the search text.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// The query pairs, in a fixed order.
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            query.push(("offset", offset.to_string()));
        }
        if let Some(key) = &self.sort_key {
            query.push(("sort_key", key.clone()));
        }
        if let Some(order) = self.sort_order {
            query.push(("sort_order", order.as_str().to_owned()));
        }
        if let Some(search) = &self.search {
            query.push(("search", search.clone()));
        }
        query
    }
}

/// One page of a list: `{"data": [...], "total", "limit", "offset", "has_more"}`.
///
/// `data` and `has_more` are required; `total`, `limit` and `offset` may be absent or
/// `null` (the JavaScript SDK types them as optional). A field of the wrong type is an
/// [`BackendError::InvalidResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// How many items match in all, when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The page size the service applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The offset the service applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Whether more items follow this page.
    pub has_more: bool,
}

/// A user as the backend API lists it.
///
/// `id`, `created_at` and `updated_at` are required strings (ids are strings of digits;
/// times are RFC 3339). Names and the picture URL read as `""` when absent or `null`; the
/// other fields are optional. Unknown fields are ignored; a known field of the wrong type
/// is an [`BackendError::InvalidResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user id.
    pub id: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last update time, RFC 3339.
    pub updated_at: String,
    /// First name.
    #[serde(default, deserialize_with = "crate::strict::null_as_default")]
    pub first_name: String,
    /// Last name.
    #[serde(default, deserialize_with = "crate::strict::null_as_default")]
    pub last_name: String,
    /// Username, if the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Avatar URL.
    #[serde(default, deserialize_with = "crate::strict::null_as_default")]
    pub profile_picture_url: String,
    /// Primary email address, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address: Option<String>,
    /// Primary phone number, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_phone_number: Option<String>,
}

/// The body of a non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// The documented JSON error `{"message", "code"?, "details"?}`.
    Json {
        /// The service's message.
        message: String,
        /// Its machine-readable code, if any.
        code: Option<String>,
        /// Extra details, if any.
        details: Option<Value>,
    },
    /// Any other body, kept as text (invalid UTF-8 replaced, cut after 8 KiB characters).
    Text(String),
}

impl ErrorBody {
    /// Parses an error body; never fails. The API key, should the service echo it, is
    /// replaced by `***`.
    fn parse(bytes: &[u8], key: &Secret) -> Self {
        let redact = |text: &str| {
            let key = key.expose();
            if key.is_empty() {
                text.to_owned()
            } else {
                text.replace(key, "***")
            }
        };
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(bytes)
            && let Some(Value::String(message)) = object.get("message")
        {
            let code = match object.get("code") {
                Some(Value::String(code)) => Some(redact(code)),
                Some(Value::Number(code)) => Some(code.to_string()),
                _ => None,
            };
            let details = object
                .get("details")
                .filter(|d| !d.is_null())
                .map(|d| redact_value(d, &redact));
            return ErrorBody::Json {
                message: redact(message),
                code,
                details,
            };
        }
        // Redacted before it is cut, so a key straddling the cut cannot leave a prefix.
        let text: String = redact(&String::from_utf8_lossy(bytes))
            .chars()
            .take(MAX_ERROR_TEXT)
            .collect();
        ErrorBody::Text(text)
    }

    /// The message: the JSON `message`, or the text.
    pub fn message(&self) -> &str {
        match self {
            ErrorBody::Json { message, .. } => message,
            ErrorBody::Text(text) => text,
        }
    }

    /// The JSON `code`, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            ErrorBody::Json { code, .. } => code.as_deref(),
            ErrorBody::Text(_) => None,
        }
    }

    /// The JSON `details`, if any.
    pub fn details(&self) -> Option<&Value> {
        match self {
            ErrorBody::Json { details, .. } => details.as_ref(),
            ErrorBody::Text(_) => None,
        }
    }
}

/// `value` with `redact` applied to every string in it, object member names included.
fn redact_value(value: &Value, redact: &impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(redact(text)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_value(v, redact)).collect())
        }
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, v)| (redact(name), redact_value(v, redact)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorBody::Json {
                message,
                code: Some(code),
                ..
            } => write!(f, "{message} ({code})"),
            ErrorBody::Json { message, .. } => f.write_str(message),
            ErrorBody::Text(text) => f.write_str(text),
        }
    }
}

/// Why a backend API call failed. Neither `Debug` nor `Display` ever shows the API key.
///
/// ```
/// use wacht_runtime::{BackendClient, BackendError};
/// # async fn run() {
/// let client = BackendClient::new("https://api.wacht.dev", "").unwrap();
/// let error = client.users().list(Default::default()).await.unwrap_err();
/// assert!(matches!(error, BackendError::MissingApiKey)); // nothing was sent
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// No backend API key is configured (`WACHT_API_KEY`); no request was sent.
    #[error("no backend API key configured: set WACHT_API_KEY")]
    MissingApiKey,
    /// The API key cannot be sent in an HTTP header (control characters); no request was
    /// sent.
    #[error("the backend API key contains characters that cannot be sent in a header")]
    InvalidApiKey,
    /// The service answered with a redirect, which is never followed (the key is never sent
    /// to another URL). `None`: the answer came from another URL than the one requested.
    #[error("the backend API redirected (HTTP {}), which is never followed", .status.map_or("?".to_owned(), |s| s.as_u16().to_string()))]
    Redirect {
        /// The 3xx status, when the redirect itself was seen.
        status: Option<StatusCode>,
    },
    /// The service answered with a non-2xx status.
    #[error("the backend API answered HTTP {status}: {body}")]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The error body, parsed when it is the documented JSON.
        body: ErrorBody,
    },
    /// No answer within the timeout.
    #[error("the backend API did not answer within {0:?}")]
    Timeout(Duration),
    /// The request did not complete (refused, reset, DNS, bad URL).
    #[error("the backend API could not be reached: {0}")]
    Transport(String),
    /// A 2xx answer whose body is not the documented JSON.
    #[error("the backend API's answer is invalid: {0}")]
    InvalidResponse(String),
}

impl BackendError {
    /// The HTTP status, for [`BackendError::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            BackendError::Status { status, .. } => Some(*status),
            BackendError::Redirect { status } => *status,
            _ => None,
        }
    }

    /// The error body, for [`BackendError::Status`].
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            BackendError::Status { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The stable snake_case reason code (for logs and metrics).
    pub fn reason(&self) -> &'static str {
        match self {
            BackendError::MissingApiKey => "missing_api_key",
            BackendError::InvalidApiKey => "invalid_api_key",
            BackendError::Status { .. } => "backend_status",
            BackendError::Redirect { .. } => "backend_redirect",
            BackendError::Timeout(_) => "backend_timeout",
            BackendError::Transport(_) => "backend_unreachable",
            BackendError::InvalidResponse(_) => "backend_invalid_response",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn options_become_query_pairs_in_order() {
        assert!(ListUsersOptions::new().query().is_empty());
        let options = ListUsersOptions::new()
            .search("ada l")
            .sort_order(SortOrder::Desc)
            .sort_key("first_name")
            .offset(5)
            .limit(20);
        assert_eq!(
            options.query(),
            vec![
                ("limit", "20".to_owned()),
                ("offset", "5".to_owned()),
                ("sort_key", "first_name".to_owned()),
                ("sort_order", "desc".to_owned()),
                ("search", "ada l".to_owned()),
            ]
        );
    }

    #[test]
    fn pages_and_users_are_lenient_on_absence_and_strict_on_types() {
        let minimal = json!({"data": [{"id": "1", "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z", "first_name": null, "extra": {"x": 1}}],
            "has_more": false});
        let page: Page<User> = serde_json::from_value(minimal).unwrap();
        assert_eq!(page.total, None);
        assert_eq!(page.data[0].first_name, "");
        assert_eq!(page.data[0].username, None);
        for bad in [
            json!({"data": [], "has_more": "false"}),
            json!({"data": [], "has_more": false, "total": "3"}),
            json!({"data": null, "has_more": false}),
            json!({"has_more": false}),
            json!({"data": [{"id": 1, "created_at": "t", "updated_at": "t"}], "has_more": false}),
            json!({"data": [{"id": "1", "created_at": "t", "updated_at": "t", "username": 7}], "has_more": false}),
        ] {
            assert!(
                serde_json::from_value::<Page<User>>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn error_bodies_keep_json_or_text_and_never_the_key() {
        let key = Secret::new("sk_secret");
        let json = ErrorBody::parse(
            br#"{"message":"bad key sk_secret","code":"unauthorized","details":{"a":1}}"#,
            &key,
        );
        assert_eq!(json.message(), "bad key ***");
        assert_eq!(json.code(), Some("unauthorized"));
        assert_eq!(json.details(), Some(&json!({"a": 1})));
        let text = ErrorBody::parse(b"upstream sk_secret exploded", &key);
        assert_eq!(text, ErrorBody::Text("upstream *** exploded".into()));
        let not_documented = ErrorBody::parse(br#"{"error":"x"}"#, &key);
        assert_eq!(not_documented, ErrorBody::Text(r#"{"error":"x"}"#.into()));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = BackendClient::with_client(
            reqwest::Client::new(),
            "https://api.example//",
            Some(Secret::new("sk_live_dont_print_me")),
            Duration::from_secs(1),
        );
        assert_eq!(client.base_url(), "https://api.example");
        let debug = format!("{client:?}");
        assert!(!debug.contains("dont_print_me"), "{debug}");
        assert!(debug.contains("Secret(***)"), "{debug}");
    }
}
