//! The first stage of every check: the request's head (never its body) and the credentials in
//! it. Nothing here knows about sessions or the gateway; each credential error knows its
//! reason, its answer and its `WWW-Authenticate` challenge.

use http::{HeaderMap, HeaderName};

use crate::deadline::Deadline;
use crate::rejection::{Challenge, Rejection};

/// The parts of a request the checks read: never the body, so futures holding it are `Send`
/// whatever the body type.
#[derive(Clone, Copy)]
pub(crate) struct Head<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) uri: &'a http::Uri,
    /// The path the client called, where the framework keeps it and it differs from the
    /// URI's (axum's `OriginalUri` inside `Router::nest`; lambda_http's raw event path).
    pub(crate) original_path: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    /// When the platform stops working on the request, if it says.
    pub(crate) deadline: Option<Deadline>,
}

impl<'a> Head<'a> {
    pub(crate) fn of<B>(req: &'a http::Request<B>) -> Self {
        Head {
            method: req.method(),
            uri: req.uri(),
            original_path: original_path(req.extensions()),
            headers: req.headers(),
            deadline: Deadline::of(req),
        }
    }

    /// The head of a request taken apart (`Request::into_parts`): what a layer or an
    /// extractor holds, with no body to make futures `!Send`.
    #[cfg_attr(not(any(feature = "tower", feature = "axum")), allow(dead_code))]
    pub(crate) fn from_parts(parts: &'a http::request::Parts) -> Self {
        Head {
            method: &parts.method,
            uri: &parts.uri,
            original_path: original_path(&parts.extensions),
            headers: &parts.headers,
            deadline: Deadline::in_extensions(&parts.extensions),
        }
    }
}

impl Head<'_> {
    /// The path the client called: the one a machine check sends as its default resource.
    pub(crate) fn called_path(&self) -> &str {
        self.original_path.unwrap_or_else(|| self.uri.path())
    }
}

/// The path the client called, where a framework in front keeps it: axum's `OriginalUri`
/// (feature `axum`; set by the outermost `Router`), else lambda_http's raw event path
/// (feature `lambda`; API Gateway's path without the stage, before URL normalisation).
#[allow(unused_variables)]
fn original_path(extensions: &http::Extensions) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::OriginalUri(uri)) = extensions.get() {
        return Some(uri.path());
    }
    #[cfg(feature = "lambda")]
    {
        use lambda_http::RequestExt as _;
        let raw = extensions.raw_http_path();
        if !raw.is_empty() {
            return Some(raw);
        }
    }
    None
}

/// Why the `Authorization` header holds no bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerError {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>` (other scheme, empty token, several headers, …).
    Invalid(&'static str),
}

/// Why a request carries no usable machine credential. Each variant is one reason and one
/// answer (always a 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Neither an API key nor (where accepted) a bearer token.
    #[error("no API key or access token")]
    Missing,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header is not `Bearer <token>`")]
    InvalidAuthorizationHeader,
    /// The API-key header is present several times or is not visible ASCII.
    #[error("the API-key header is malformed")]
    InvalidHeader,
    /// An API key and a bearer token at once, where either is accepted.
    #[error("both an API key and an access token")]
    Ambiguous,
    /// Longer than [`MAX_CREDENTIAL_LEN`](crate::MAX_CREDENTIAL_LEN).
    #[error("the credential is too long")]
    TooLong,
}

impl CredentialError {
    /// The stable snake_case reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            CredentialError::Missing => "missing_credential",
            CredentialError::InvalidAuthorizationHeader => "invalid_authorization_header",
            CredentialError::InvalidHeader => "invalid_credential_header",
            CredentialError::Ambiguous => "ambiguous_credential",
            CredentialError::TooLong => "credential_too_long",
        }
    }

    /// The 401 for this error, with its RFC 6750 challenge.
    pub fn rejection(&self) -> Rejection {
        let (message, challenge) = match self {
            CredentialError::Missing => (
                "This endpoint needs an API key or access token.",
                Challenge::Bare,
            ),
            CredentialError::InvalidAuthorizationHeader => (
                "The Authorization header must be `Bearer <access token>`.",
                Challenge::InvalidRequest,
            ),
            CredentialError::InvalidHeader => (
                "The credential header is malformed.",
                Challenge::InvalidRequest,
            ),
            CredentialError::Ambiguous => (
                "Send either an API key or an access token, not both.",
                Challenge::InvalidRequest,
            ),
            CredentialError::TooLong => (
                "The API key or access token is too long.",
                Challenge::InvalidToken,
            ),
        };
        Rejection::unauthenticated(self.reason(), message).with_challenge(challenge)
    }
}

/// Extracts the bearer token from the `Authorization` header (scheme matched
/// case-insensitively, RFC 7235). Exactly one header is accepted.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(BearerError::Missing)?;
    if values.next().is_some() {
        return Err(BearerError::Invalid("several Authorization headers"));
    }
    let value = value
        .to_str()
        .map_err(|_| BearerError::Invalid("not visible ASCII"))?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::Invalid("the scheme is not Bearer"));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::Invalid("empty token"));
    }
    if token.contains([' ', '\t']) {
        return Err(BearerError::Invalid("the token contains white space"));
    }
    Ok(token)
}

/// Exactly one non-empty, visible-ASCII value of `name`, or none.
pub(crate) fn single_header(
    headers: &HeaderMap,
    name: &HeaderName,
) -> Result<Option<String>, CredentialError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(CredentialError::InvalidHeader);
    }
    let value = value
        .to_str()
        .map_err(|_| CredentialError::InvalidHeader)?
        .trim();
    if value.is_empty() {
        Ok(None)
    } else {
        Ok(Some(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_strict() {
        assert_eq!(bearer_token(&headers(&["Bearer abc"])).unwrap(), "abc");
        assert_eq!(bearer_token(&headers(&["bEaReR   abc"])).unwrap(), "abc");
        assert!(matches!(
            bearer_token(&headers(&[])),
            Err(BearerError::Missing)
        ));
        for bad in [
            &["Bearer"][..],
            &["Bearer "],
            &["Basic abc"],
            &["Bearer a b"],
            &["Bearer a", "Bearer b"],
        ] {
            assert!(
                matches!(bearer_token(&headers(bad)), Err(BearerError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn every_credential_error_is_a_401_with_its_challenge() {
        for (error, challenge) in [
            (CredentialError::Missing, Challenge::Bare),
            (
                CredentialError::InvalidAuthorizationHeader,
                Challenge::InvalidRequest,
            ),
            (CredentialError::InvalidHeader, Challenge::InvalidRequest),
            (CredentialError::Ambiguous, Challenge::InvalidRequest),
            (CredentialError::TooLong, Challenge::InvalidToken),
        ] {
            let rejection = error.rejection();
            assert_eq!(rejection.status(), 401);
            assert_eq!(rejection.reason(), error.reason());
            assert_eq!(rejection.challenge(), Some(challenge));
        }
    }
}
