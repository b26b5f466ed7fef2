//! Why a backend API call failed: [`Error`] and the parsed error body [`ErrorBody`].

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde_json::Value;

/// Longest error text kept from a non-JSON error body, in characters.
const MAX_ERROR_TEXT: usize = 8 * 1024;

/// The body of a non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// A JSON error: the platform's `{"errors": [{"message", "code"}]}` or
    /// `{"message", "code"?, "details"?}`.
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
    /// Parses an error body; never fails. Two JSON shapes are read: the platform's
    /// `{"errors": [{"message", "code"}, …]}` (messages joined with `"; "`, the first code,
    /// the array kept as `details`) and `{"message", "code"?, "details"?}`; anything else is
    /// kept as text. `secret` (the API key), should the service echo it, is replaced by
    /// `***` everywhere; an empty `secret` redacts nothing.
    pub fn parse(bytes: &[u8], secret: &str) -> Self {
        let redact = |text: &str| {
            if secret.is_empty() {
                text.to_owned()
            } else {
                text.replace(secret, "***")
            }
        };
        let code_text = |code: Option<&Value>| match code {
            Some(Value::String(code)) => Some(redact(code)),
            Some(Value::Number(code)) => Some(code.to_string()),
            _ => None,
        };
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(bytes) {
            if let Some(Value::Array(errors)) = object.get("errors")
                && !errors.is_empty()
                && errors
                    .iter()
                    .all(|e| matches!(e.get("message"), Some(Value::String(_))))
            {
                let messages: Vec<String> = errors
                    .iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .map(redact)
                    .collect();
                return ErrorBody::Json {
                    message: messages.join("; "),
                    code: code_text(errors.first().and_then(|e| e.get("code"))),
                    details: Some(redact_value(&Value::Array(errors.clone()), &redact)),
                };
            }
            if let Some(Value::String(message)) = object.get("message") {
                let details = object
                    .get("details")
                    .filter(|d| !d.is_null())
                    .map(|d| redact_value(d, &redact));
                return ErrorBody::Json {
                    message: redact(message),
                    code: code_text(object.get("code")),
                    details,
                };
            }
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
/// Transports produce every variant but [`Error::InvalidResponse`] and
/// [`Error::InvalidRequest`], which the operations produce themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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
    /// The request could not be built (a body that cannot be encoded as JSON); nothing was
    /// sent.
    #[error("the backend API request could not be built: {0}")]
    InvalidRequest(String),
    /// A 2xx answer whose body is not the documented JSON.
    #[error("the backend API's answer is invalid: {0}")]
    InvalidResponse(String),
}

impl Error {
    /// The HTTP status, for [`Error::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::Redirect { status } => *status,
            _ => None,
        }
    }

    /// The error body, for [`Error::Status`].
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Error::Status { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The stable snake_case reason code (for logs and metrics).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::MissingApiKey => "missing_api_key",
            Error::InvalidApiKey => "invalid_api_key",
            Error::Status { .. } => "backend_status",
            Error::Redirect { .. } => "backend_redirect",
            Error::Timeout(_) => "backend_timeout",
            Error::Transport(_) => "backend_unreachable",
            Error::InvalidResponse(_) => "backend_invalid_response",
            Error::InvalidRequest(_) => "backend_invalid_request",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_bodies_keep_json_or_text_and_never_the_key() {
        let key = "sk_secret";
        let json = ErrorBody::parse(
            br#"{"message":"bad key sk_secret","code":"unauthorized","details":{"a":1}}"#,
            key,
        );
        assert_eq!(json.message(), "bad key ***");
        assert_eq!(json.code(), Some("unauthorized"));
        assert_eq!(json.details(), Some(&json!({"a": 1})));
        let text = ErrorBody::parse(b"upstream sk_secret exploded", key);
        assert_eq!(text, ErrorBody::Text("upstream *** exploded".into()));
        let not_documented = ErrorBody::parse(br#"{"error":"x"}"#, key);
        assert_eq!(not_documented, ErrorBody::Text(r#"{"error":"x"}"#.into()));
    }

    #[test]
    fn the_platforms_errors_array_is_read() {
        let body = ErrorBody::parse(
            br#"{"errors":[{"message":"Organization not found sk_x","code":404},{"message":"second","code":404}]}"#,
            "sk_x",
        );
        assert_eq!(body.message(), "Organization not found ***; second");
        assert_eq!(body.code(), Some("404"));
        assert_eq!(
            body.details().and_then(Value::as_array).map(Vec::len),
            Some(2)
        );
        assert!(!format!("{body:?}").contains("sk_x"));
        // An errors array without messages is not the documented shape.
        let odd = ErrorBody::parse(br#"{"errors":[{"code":1}]}"#, "");
        assert!(matches!(odd, ErrorBody::Text(_)));
        let empty = ErrorBody::parse(br#"{"errors":[]}"#, "");
        assert!(matches!(empty, ErrorBody::Text(_)));
    }
}
