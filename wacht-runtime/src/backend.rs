//! The backend API client: [`BackendClient`], the [`Transport`] every operation of
//! `wacht_backend` (re-exported as `backend_api`) is sent through. Authenticated with the
//! backend API key (`WACHT_API_KEY`) as `Authorization: Bearer`, against
//! `WACHT_BACKEND_API_URL`, under the outbound rules (no redirects, a 4 MiB cap, the timeout
//! covering the whole call); idempotent calls are retried on `429`/`503` within the timeout.
//!
//! The first release's `users().list(ListUsersOptions) -> Page<User>` is the generated
//! `users().list(UsersListQuery) -> Page<UserWithIdentifiers>`; the old names are deprecated
//! aliases.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::StatusCode;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::Url;
use wacht_backend::{Backend, Body, Call, Form, Reply, Transport};

use crate::config::{ConfigError, WachtConfig};
use crate::outbound::{self, BACKEND_BODY_CAP, OutboundError};
use crate::platform::Instant;
use crate::secret::Secret;

pub use wacht_backend::{Error as BackendError, ErrorBody, Page};

/// Retries of one call at most (so at most three attempts).
const MAX_RETRIES: u32 = 2;
/// The first back-off without `Retry-After`; doubled for each further retry, less up to half
/// at random.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// A client of the Wacht backend API, and the transport of every operation of
/// [`backend_api`](crate::backend_api): it dereferences to a
/// [`Backend`](wacht_backend::Backend) sending through it, so `client.send(call)` and the
/// generated groups work on it directly. Cheap to clone; connections are kept alive and
/// reused. Its `Debug` never shows the API key.
///
/// Get one from a configured context with [`Wacht::backend`](crate::Wacht::backend) (it
/// shares the context's HTTP client), or build one with [`BackendClient::from_config`] /
/// [`BackendClient::new`].
///
/// Every call:
/// - is sent to the base URL plus the call's path and query, with `Authorization: Bearer
///   <key>` (a sensitive header) and `Accept: application/json`; JSON bodies with
///   `Content-Type: application/json`, forms as `multipart/form-data` with a random boundary;
/// - never follows a redirect, reads at most 4 MiB, and ends within the client's
///   [timeout](BackendClient::timeout), retries and waits included;
/// - when the call is idempotent (`GET`, `HEAD`, `PUT`, `DELETE`, `OPTIONS`) and the answer is
///   `429` or `503`, is sent again at most twice, after `Retry-After` (seconds) or else a short
///   back-off (about 200 ms, then 400 ms, with jitter), and only when the wait and another
///   attempt as long as the last one fit in what is left of the timeout; otherwise the
///   `429`/`503` is returned at once. `POST` and `PATCH` are never sent twice.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use wacht_runtime::Wacht;
/// use wacht_runtime::backend_api::types::{SortOrder, UsersListQuery};
/// let wacht = Wacht::from_env()?; // WACHT_API_KEY, WACHT_BACKEND_API_URL
/// let page = wacht
///     .backend()
///     .users()
///     .list(UsersListQuery::new().limit(20).sort_key("created_at").sort_order(SortOrder::Desc))
///     .await?;
/// for user in &page.data {
///     println!("{} {} {}", user.id, user.first_name, user.last_name);
/// }
/// # Ok(()) }
/// ```
///
/// Without an API key nothing is sent:
///
/// ```
/// use wacht_runtime::{BackendClient, BackendError};
/// # async fn run() {
/// let client = BackendClient::new("https://api.wacht.dev", "").unwrap();
/// let error = client.users().list(Default::default()).await.unwrap_err();
/// assert!(matches!(error, BackendError::MissingApiKey)); // nothing was sent
/// # }
/// ```
#[derive(Clone)]
pub struct BackendClient {
    transport: Arc<HttpTransport>,
    /// The API over `transport` (the same `Arc`).
    api: Backend,
}

/// What a [`BackendClient`] sends with.
struct HttpTransport {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<Secret>,
    timeout: Duration,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendClient")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.transport.fmt(f)
    }
}

impl Deref for BackendClient {
    type Target = Backend;

    fn deref(&self) -> &Backend {
        &self.api
    }
}

impl Transport for BackendClient {
    fn send(&self, call: Call) -> BoxFuture<'_, Result<Reply, BackendError>> {
        self.transport.send(call)
    }
}

impl Transport for HttpTransport {
    fn send(&self, call: Call) -> BoxFuture<'_, Result<Reply, BackendError>> {
        Box::pin(crate::platform::send(self.call(call)))
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
        Self::from_transport(HttpTransport {
            http,
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
            api_key: api_key.filter(|key| !key.expose().is_empty()),
            timeout,
        })
    }

    fn from_transport(transport: HttpTransport) -> Self {
        let transport = Arc::new(transport);
        let api = Backend::from_arc(transport.clone());
        BackendClient { transport, api }
    }

    /// The same client with another timeout (at most 300 s, as the configured one): the
    /// longest a call may take, retries and waits included.
    pub fn timeout(self, timeout: Duration) -> Self {
        let transport = &*self.transport;
        Self::from_transport(HttpTransport {
            http: transport.http.clone(),
            base_url: transport.base_url.clone(),
            api_key: transport.api_key.clone(),
            // Bounded like the configured timeout (zero stays zero: a deadline already past).
            timeout: timeout.min(*crate::config::HTTP_TIMEOUT_RANGE.end()),
        })
    }

    /// The backend API base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.transport.base_url
    }

    /// Whether an API key is configured.
    pub fn has_api_key(&self) -> bool {
        self.transport.api_key.is_some()
    }
}

impl HttpTransport {
    /// Sends `call` under the rules of [`BackendClient`]: attempts, waits and retries all
    /// within `self.timeout`.
    async fn call(&self, call: Call) -> Result<Reply, BackendError> {
        let key = self.api_key.as_ref().ok_or(BackendError::MissingApiKey)?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", key.expose()))
            .map_err(|_| BackendError::InvalidApiKey)?;
        authorization.set_sensitive(true);
        let url = self.url(&call)?;
        let (content_type, body) = match &call.body {
            Body::Empty => (None, None),
            Body::Json(json) => (
                Some("application/json".to_owned()),
                Some(Bytes::from(json.clone())),
            ),
            Body::Multipart(form) => {
                let boundary = format!(
                    "{:016x}{:016x}",
                    crate::platform::random_u64(),
                    crate::platform::random_u64()
                );
                (
                    Some(Form::content_type(&boundary)),
                    Some(Bytes::from(form.encode(&boundary))),
                )
            }
            _ => {
                return Err(BackendError::InvalidRequest(
                    "a body this client cannot send".to_owned(),
                ));
            }
        };
        let started = Instant::now();
        let mut retries = 0;
        loop {
            let mut request = self
                .http
                .request(call.method.clone(), url.clone())
                .header(AUTHORIZATION, authorization.clone())
                .header(ACCEPT, "application/json");
            if let Some(content_type) = &content_type {
                request = request.header(CONTENT_TYPE, content_type);
            }
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let request = request
                .build()
                .map_err(|e| BackendError::Transport(outbound::cause_chain(&e.without_url())))?;
            let attempt_started = Instant::now();
            let remaining = self.timeout.saturating_sub(started.elapsed());
            let answer = outbound::call(
                &self.http,
                request,
                remaining,
                BACKEND_BODY_CAP,
                outbound::ReadBody::Always,
            )
            .await
            .map_err(|e| self.outbound_error(e))?;
            if answer.status.is_success() {
                return Ok(Reply {
                    status: answer.status,
                    body: answer.body,
                });
            }
            let wait = retry_wait(
                &call,
                answer.status,
                &answer.headers,
                retries,
                Budget {
                    timeout: self.timeout,
                    spent: started.elapsed(),
                    last_attempt: attempt_started.elapsed(),
                },
            );
            let Some(wait) = wait else {
                return Err(BackendError::Status {
                    status: answer.status,
                    body: ErrorBody::parse(&answer.body, key.expose()),
                });
            };
            retries += 1;
            tracing::debug!(
                target: "wacht",
                operation = call.operation,
                status = answer.status.as_u16(),
                retry = retries,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "backend API call answered {}; retrying",
                answer.status.as_u16()
            );
            crate::platform::sleep(wait).await;
        }
    }

    /// `<base><path>?<query>`, after [`check_path`].
    fn url(&self, call: &Call) -> Result<Url, BackendError> {
        check_path(&call.path)?;
        let mut url = Url::parse(&format!("{}{}", self.base_url, call.path))
            .map_err(|e| BackendError::Transport(format!("invalid backend API URL: {e}")))?;
        if !call.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &call.query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
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

/// Refuses a path that would not name what it says once parsed: one not starting with `/`
/// (`@host` would end the base URL's authority and send the key elsewhere), one with `?` or
/// `#` (parameters are percent-encoded, so these never come from one), and one with a dot
/// segment: URL parsers resolve `..` and its encodings (`%2E%2E`, `.%2e`) alike, so an id
/// `..` would turn `/users/{id}/sessions` into `/sessions`.
fn check_path(path: &str) -> Result<(), BackendError> {
    let refuse = |why: &str| Err(BackendError::InvalidRequest(format!("the path {why}")));
    if !path.starts_with('/') {
        return refuse("does not start with `/`");
    }
    if path.contains(['?', '#']) {
        return refuse("contains `?` or `#`");
    }
    let dot = |segment: &str| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    };
    if path.split('/').any(dot) {
        return refuse("has a `.` or `..` segment (an id that is only dots)");
    }
    Ok(())
}

/// The time of one call: its timeout, what is spent, what the last attempt took.
#[derive(Debug, Clone, Copy)]
struct Budget {
    timeout: Duration,
    spent: Duration,
    last_attempt: Duration,
}

/// How long to wait before sending again a call answered `status`, after `retries` retries;
/// `None`: the answer is final. Only idempotent methods, only `429` and `503`, at most
/// [`MAX_RETRIES`], and only when the wait plus another attempt as long as the last one end
/// within the timeout.
fn retry_wait(
    call: &Call,
    status: StatusCode,
    headers: &HeaderMap,
    retries: u32,
    budget: Budget,
) -> Option<Duration> {
    let idempotent = call.is_idempotent();
    let retryable = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    );
    if !idempotent || !retryable || retries >= MAX_RETRIES {
        return None;
    }
    let wait = retry_after(headers).unwrap_or_else(|| backoff(retries));
    let ends = budget
        .spent
        .checked_add(wait)?
        .checked_add(budget.last_attempt)?;
    (ends < budget.timeout).then_some(wait)
}

/// `Retry-After` in delta-seconds; `None` when absent or an HTTP-date (then the back-off
/// applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Too many digits for a u64: longer than any timeout anyway.
    Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)))
}

/// [`FIRST_BACKOFF`] doubled `retries` times, less up to half at random (so clients that
/// failed together do not retry together).
fn backoff(retries: u32) -> Duration {
    let base = FIRST_BACKOFF * 2u32.saturating_pow(retries.min(8));
    let fraction = (crate::platform::random_u64() >> 11) as f64 / (1u64 << 53) as f64;
    base.saturating_sub(base.mul_f64(fraction / 2.0))
}

/// The first release's name of [`UsersListQuery`](wacht_backend::types::UsersListQuery), the
/// query of `users().list`.
#[deprecated(
    since = "0.2.0",
    note = "use `backend_api::types::UsersListQuery` (same builder methods)"
)]
pub type ListUsersOptions = wacht_backend::types::UsersListQuery;

/// The first release's name of
/// [`UserWithIdentifiers`](wacht_backend::types::UserWithIdentifiers), the user `users().list`
/// answers.
#[deprecated(
    since = "0.2.0",
    note = "use `backend_api::types::UserWithIdentifiers`"
)]
pub type User = wacht_backend::types::UserWithIdentifiers;

/// The first release's name of [`backend_api::Users`](wacht_backend::Users), the users
/// operations.
#[deprecated(since = "0.2.0", note = "use `backend_api::Users`")]
pub type Users = wacht_backend::Users;

pub use wacht_backend::types::SortOrder;

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_idempotent_calls_on_429_and_503_are_retried_within_the_budget() {
        let budget = Budget {
            timeout: Duration::from_secs(5),
            spent: Duration::from_millis(100),
            last_attempt: Duration::from_millis(100),
        };
        let get = Call::new("x", Method::GET, "/x".into());
        let none = HeaderMap::new();
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            let wait = retry_wait(&get, status, &none, 0, budget).expect("retried");
            assert!(
                (Duration::from_millis(100)..=Duration::from_millis(200)).contains(&wait),
                "{wait:?}"
            );
            let second = retry_wait(&get, status, &none, 1, budget).expect("retried");
            assert!(
                (Duration::from_millis(200)..=Duration::from_millis(400)).contains(&second),
                "{second:?}"
            );
            assert_eq!(retry_wait(&get, status, &none, MAX_RETRIES, budget), None);
        }
        for status in [500, 502, 504, 400, 401, 404, 409] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(retry_wait(&get, status, &none, 0, budget), None, "{status}");
        }
        for method in [Method::POST, Method::PATCH] {
            let call = Call::new("x", method, "/x".into());
            let status = StatusCode::SERVICE_UNAVAILABLE;
            assert_eq!(retry_wait(&call, status, &none, 0, budget), None);
        }
        let delete = Call::new("x", Method::DELETE, "/x".into());
        assert!(retry_wait(&delete, StatusCode::SERVICE_UNAVAILABLE, &none, 0, budget).is_some());

        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let status = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            retry_wait(&get, status, &headers, 0, budget),
            Some(Duration::from_secs(3))
        );
        // The wait and another attempt as long as the last must end within the timeout.
        let late = Budget {
            spent: Duration::from_millis(2_000),
            last_attempt: Duration::from_millis(100),
            ..budget
        };
        assert_eq!(retry_wait(&get, status, &headers, 0, late), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("100"));
        assert_eq!(retry_wait(&get, status, &headers, 0, budget), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        let read = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
            retry_after(&headers)
        };
        assert_eq!(read("0"), Some(Duration::ZERO));
        assert_eq!(read(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(
            read("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        for ignored in ["", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"] {
            assert_eq!(read(ignored), None, "{ignored:?}");
        }
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn paths_start_with_a_slash_and_have_no_dot_segments() {
        let client = BackendClient::with_client(
            reqwest::Client::new(),
            "https://api.example/v1/",
            Some(Secret::new("sk_test")),
            Duration::from_secs(1),
        );
        let mut call = Call::new("x", Method::GET, "/users/a%2Fb".into());
        assert!(check_path("/users/v1.2/...x/%2E%2E%2E").is_ok());
        call.query = vec![
            ("search", "ada l&x=1".to_owned()),
            ("limit", "2".to_owned()),
        ];
        let url = client.transport.url(&call).unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.example/v1/users/a%2Fb?search=ada+l%26x%3D1&limit=2"
        );
        for path in [
            "@evil.example/users",
            "users",
            "",
            "/users/../sessions",
            "/users/%2E%2E/sessions",
            "/users/.%2e",
            "/users/%2e",
            "/users/./x",
            "/users/1?x=1",
            "/users/1#x",
        ] {
            let call = Call::new("x", Method::GET, path.into());
            assert!(
                matches!(
                    client.transport.url(&call),
                    Err(BackendError::InvalidRequest(_))
                ),
                "{path:?}"
            );
        }
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
        let api = format!("{:?}", &*client);
        assert!(api.starts_with("Backend(BackendClient {"), "{api}");
        assert!(!api.contains("dont_print_me"), "{api}");
        let shorter = client.timeout(Duration::from_millis(10));
        assert!(shorter.has_api_key());
        assert!(format!("{shorter:?}").contains("timeout: 10ms"));
    }
}
