//! The one JSON shape every refused request gets.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;
use http::header::{
    CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use serde_json::{Map, Value};

/// The class of a rejection: fixes the HTTP status and the `error` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionCode {
    /// 401: no, invalid or expired credential.
    Unauthenticated,
    /// 403: authenticated, but a requirement is not met.
    Forbidden,
    /// 429: the gateway's rate limit was hit.
    RateLimited,
    /// 503: keys or gateway unreachable, timed out, or answered garbage.
    AuthUnavailable,
    /// 500: the configuration cannot work.
    AuthMisconfigured,
    /// 400: the request cannot be checked as sent (a machine check's default resource, the
    /// request's path, is ambiguous; a webhook's headers are missing or malformed).
    BadRequest,
    /// 413: the request's body is over the cap (a webhook delivery).
    PayloadTooLarge,
    /// 204: a verified webhook delivery the handler does not take (an event type outside its
    /// filter, or a delivery already handled). Not an error: the answer tells Wacht to stop
    /// retrying. Its response has no body (a 204 has none); [`Rejection::body`] still gives
    /// the JSON, for `on_reject` functions and logs.
    Ignored,
    /// 303 (or 307): a browser is sent elsewhere first: a signed-out page request to sign-in,
    /// a development session's URL to the same URL without it.
    Redirect,
}

impl RejectionCode {
    /// The `error` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Unauthenticated => "unauthenticated",
            RejectionCode::Forbidden => "forbidden",
            RejectionCode::RateLimited => "rate_limited",
            RejectionCode::AuthUnavailable => "auth_unavailable",
            RejectionCode::AuthMisconfigured => "auth_misconfigured",
            RejectionCode::BadRequest => "bad_request",
            RejectionCode::PayloadTooLarge => "payload_too_large",
            RejectionCode::Ignored => "ignored",
            RejectionCode::Redirect => "redirect",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            RejectionCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            RejectionCode::Forbidden => StatusCode::FORBIDDEN,
            RejectionCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            RejectionCode::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::AuthMisconfigured => StatusCode::INTERNAL_SERVER_ERROR,
            RejectionCode::BadRequest => StatusCode::BAD_REQUEST,
            RejectionCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RejectionCode::Ignored => StatusCode::NO_CONTENT,
            RejectionCode::Redirect => StatusCode::SEE_OTHER,
        }
    }
}

/// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3), decided by whoever produces the
/// rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Challenge {
    /// `Bearer realm="wacht"`: the request carried no credential.
    Bare,
    /// `…, error="invalid_request"`: the credential header is malformed.
    InvalidRequest,
    /// `…, error="invalid_token"`: the credential was refused (the default for 401s).
    InvalidToken,
    /// No `WWW-Authenticate` header: a refused webhook delivery, whose signature scheme
    /// (Standard Webhooks) has no HTTP authentication scheme to name.
    None,
}

/// A refused request: the handler did not run, and this is what the caller gets.
///
/// The response is `application/json`, `Cache-Control: no-store`, with body
/// `{"error": "<code>", "reason": "<reason>", "message": "<sentence>", …}` plus
/// `request_id`, `retry_after` and `required` where they apply. 401s carry
/// `WWW-Authenticate: Bearer …` (RFC 6750).
///
/// ```
/// use wacht_runtime::Rejection;
/// let rejection = Rejection::forbidden("missing_permission", "You lack a permission.")
///     .with_required(["user:read"]);
/// let response: http::Response<String> = rejection.into_response();
/// assert_eq!(response.status(), 403);
/// let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
/// assert_eq!(body["error"], "forbidden");
/// assert_eq!(body["required"][0], "user:read");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection(Box<Parts>);

#[derive(Clone, PartialEq, Eq)]
struct Parts {
    code: RejectionCode,
    reason: Cow<'static, str>,
    message: Cow<'static, str>,
    request_id: Option<String>,
    retry_after: Option<u64>,
    required: Vec<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// For 401s: the `WWW-Authenticate` challenge.
    challenge: Option<Challenge>,
    /// For redirects: where to, and whether the method is kept (307 rather than 303).
    location: Option<HeaderValue>,
    keep_method: bool,
}

impl Rejection {
    /// A rejection of the given class.
    pub fn new(
        code: RejectionCode,
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Rejection(Box::new(Parts {
            code,
            reason: reason.into(),
            message: message.into(),
            request_id: None,
            retry_after: None,
            required: Vec::new(),
            headers: Vec::new(),
            challenge: (code == RejectionCode::Unauthenticated).then_some(Challenge::InvalidToken),
            location: None,
            keep_method: false,
        }))
    }

    /// `303 See Other` to `location` (`error: "redirect"`), with the usual JSON body naming
    /// the location. A `location` that is not a valid header value is refused instead (500).
    pub fn redirect(
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
        location: &str,
    ) -> Self {
        match HeaderValue::from_str(location) {
            Ok(location) => {
                let mut rejection = Self::new(RejectionCode::Redirect, reason, message);
                rejection.0.location = Some(location);
                rejection
            }
            Err(_) => {
                tracing::error!(target: "wacht", "a redirect location is not a valid header value");
                Self::misconfigured("invalid_redirect")
            }
        }
    }

    /// A redirect that keeps the method and body (`307 Temporary Redirect`).
    pub fn keeping_method(mut self) -> Self {
        if self.0.code == RejectionCode::Redirect {
            self.0.keep_method = true;
        }
        self
    }

    /// Where a redirect sends the caller.
    pub fn location(&self) -> Option<&str> {
        self.0.location.as_ref().and_then(|l| l.to_str().ok())
    }

    /// Adds the headers a check wants on the answer (the `Set-Cookie` values of a browser
    /// session: a cleared cache cookie, a rotated `__session`).
    pub fn with_response_headers(mut self, headers: &crate::admitted::ResponseHeaders) -> Self {
        for cookie in headers.set_cookies() {
            self.0
                .headers
                .push((http::header::SET_COOKIE, cookie.clone()));
        }
        self
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated(
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(RejectionCode::Unauthenticated, reason, message)
    }

    /// 400 `bad_request`.
    pub fn bad_request(
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(RejectionCode::BadRequest, reason, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(RejectionCode::Forbidden, reason, message)
    }

    /// 503 `auth_unavailable`.
    pub fn unavailable(
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(RejectionCode::AuthUnavailable, reason, message)
    }

    /// 500 `auth_misconfigured`; the details belong in the log, not the body.
    pub fn misconfigured(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            RejectionCode::AuthMisconfigured,
            reason,
            "Authentication is not configured correctly on this server.",
        )
    }

    /// Sets the `WWW-Authenticate` challenge of a 401 (no effect on other codes).
    pub fn with_challenge(mut self, challenge: Challenge) -> Self {
        if self.0.code == RejectionCode::Unauthenticated {
            self.0.challenge = Some(challenge);
        }
        self
    }

    /// The `WWW-Authenticate` challenge, for 401s.
    pub fn challenge(&self) -> Option<Challenge> {
        self.0.challenge
    }

    /// Adds the gateway's request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.0.request_id = Some(request_id.into());
        self
    }

    /// Adds `retry_after` (seconds) to the body and a `Retry-After` header.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.0.retry_after = Some(seconds);
        self
    }

    /// Lists the permissions that were required.
    pub fn with_required<I, S>(mut self, required: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0.required = required.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a response header (e.g. the gateway's `X-RateLimit-*`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.push((name, value));
        self
    }

    /// The class of this rejection.
    pub fn code(&self) -> RejectionCode {
        self.0.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        if self.0.keep_method {
            StatusCode::TEMPORARY_REDIRECT
        } else {
            self.0.code.status()
        }
    }

    /// The stable snake_case reason.
    pub fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The human sentence.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The gateway's request id, for machine checks.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// Seconds to wait before retrying, for 429s.
    pub fn retry_after(&self) -> Option<u64> {
        self.0.retry_after
    }

    /// The permissions that were required, for 403s.
    pub fn required(&self) -> &[String] {
        &self.0.required
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), self.0.code.as_str().into());
        body.insert("reason".into(), self.0.reason.as_ref().into());
        body.insert("message".into(), self.0.message.as_ref().into());
        if let Some(id) = &self.0.request_id {
            body.insert("request_id".into(), id.as_str().into());
        }
        if let Some(seconds) = self.0.retry_after {
            body.insert("retry_after".into(), seconds.into());
        }
        if !self.0.required.is_empty() {
            body.insert("required".into(), self.0.required.clone().into());
        }
        if let Some(location) = self.location() {
            body.insert("location".into(), location.into());
        }
        Value::Object(body)
    }

    /// The `WWW-Authenticate` value for a 401 (RFC 6750 §3).
    fn www_authenticate(&self) -> HeaderValue {
        let error = match self.0.challenge {
            None | Some(Challenge::Bare) => {
                return HeaderValue::from_static("Bearer realm=\"wacht\"");
            }
            Some(Challenge::InvalidRequest) => "invalid_request",
            Some(Challenge::InvalidToken) => "invalid_token",
            // Not called for it (no header is sent).
            Some(Challenge::None) => return HeaderValue::from_static("Bearer realm=\"wacht\""),
        };
        let description: String = self
            .0
            .message
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
            .collect();
        HeaderValue::from_str(&format!(
            "Bearer realm=\"wacht\", error=\"{error}\", error_description=\"{description}\""
        ))
        .unwrap_or_else(|_| {
            HeaderValue::from_static("Bearer realm=\"wacht\", error=\"invalid_token\"")
        })
    }

    /// The HTTP response, in any body type that can be built from a `String`.
    pub fn into_response<B: From<String>>(self) -> http::Response<B> {
        // A 204 carries no content (RFC 9110 §15.3.5): no body, no content type.
        let ignored = self.0.code == RejectionCode::Ignored;
        let body = if ignored {
            String::new()
        } else {
            self.body().to_string()
        };
        let mut response = http::Response::new(B::from(body));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        if !ignored {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.0.code == RejectionCode::Unauthenticated
            && self.0.challenge != Some(Challenge::None)
        {
            headers.insert(WWW_AUTHENTICATE, self.www_authenticate());
        }
        if let Some(seconds) = self.0.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(location) = self.0.location {
            headers.insert(http::header::LOCATION, location);
        }
        for (name, value) in self.0.headers {
            headers.append(name, value);
        }
        response
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status().as_u16())
            .field("error", &self.0.code.as_str())
            .field("reason", &self.0.reason)
            .field("request_id", &self.0.request_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.0.code.as_str(),
            self.0.reason,
            self.0.message
        )
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_code_has_its_status_and_json_shape() {
        for (code, status) in [
            (RejectionCode::Unauthenticated, 401),
            (RejectionCode::Forbidden, 403),
            (RejectionCode::RateLimited, 429),
            (RejectionCode::AuthUnavailable, 503),
            (RejectionCode::AuthMisconfigured, 500),
            (RejectionCode::BadRequest, 400),
            (RejectionCode::PayloadTooLarge, 413),
        ] {
            let response: http::Response<String> =
                Rejection::new(code, "some_reason", "A sentence.").into_response();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
            assert_eq!(
                response.headers().contains_key(WWW_AUTHENTICATE),
                status == 401
            );
            let body: Value = serde_json::from_str(response.body()).unwrap();
            assert_eq!(body["error"], code.as_str());
            assert_eq!(body["reason"], "some_reason");
            assert_eq!(body["message"], "A sentence.");
        }
    }

    #[test]
    fn ignored_is_an_empty_204_and_webhook_401s_name_no_scheme() {
        let ignored = Rejection::new(RejectionCode::Ignored, "event_not_handled", "Not taken.");
        assert_eq!(ignored.body()["error"], "ignored");
        let response: http::Response<String> = ignored.into_response();
        assert_eq!(response.status(), 204);
        assert!(response.body().is_empty());
        assert!(!response.headers().contains_key(CONTENT_TYPE));
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        let refused: http::Response<String> =
            Rejection::unauthenticated("signature_mismatch", "No signature matches.")
                .with_challenge(Challenge::None)
                .into_response();
        assert_eq!(refused.status(), 401);
        assert!(!refused.headers().contains_key(WWW_AUTHENTICATE));
        assert_eq!(refused.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn www_authenticate_follows_rfc6750() {
        let missing: http::Response<String> = Rejection::unauthenticated("missing_token", "x")
            .with_challenge(Challenge::Bare)
            .into_response();
        assert_eq!(
            missing.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"wacht\""
        );
        let expired: http::Response<String> =
            Rejection::unauthenticated("token_expired", "The \"token\" expired.").into_response();
        assert_eq!(
            expired.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"wacht\", error=\"invalid_token\", error_description=\"The token expired.\""
        );
    }

    #[test]
    fn retry_after_and_extra_headers() {
        let response: http::Response<String> =
            Rejection::new(RejectionCode::RateLimited, "rate_limited", "Slow down.")
                .with_retry_after(7)
                .with_request_id("req_1")
                .with_header(
                    HeaderName::from_static("x-ratelimit-60s-limit"),
                    HeaderValue::from_static("10"),
                )
                .into_response();
        assert_eq!(response.headers()[RETRY_AFTER], "7");
        assert_eq!(response.headers()["x-ratelimit-60s-limit"], "10");
        let body: Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(body["retry_after"], 7);
        assert_eq!(body["request_id"], "req_1");
    }
}
