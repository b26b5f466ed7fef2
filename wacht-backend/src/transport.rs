//! What a generated operation hands to the transport ([`Call`]) and gets back ([`Reply`]).
//!
//! The operations only describe calls; a [`Transport`] sends them. `wacht-runtime`'s
//! `BackendClient` is the transport users get (`Wacht::backend()`): the bearer key, capped and
//! redirect-free reads, timeouts and deadlines, retries of idempotent calls. Tests can plug in
//! their own.

use std::fmt;

use futures_util::future::BoxFuture;
use http::Method;

use crate::Error;

/// Sends [`Call`]s to the backend API. Implemented by `wacht_runtime::BackendClient`.
///
/// A transport answers `Ok` only for a 2xx answer; every other outcome is an [`Error`]
/// (a non-2xx answer is [`Error::Status`] with its body parsed and the API key redacted).
pub trait Transport: fmt::Debug + Send + Sync + 'static {
    /// Sends `call` and reads its answer.
    fn send(&self, call: Call) -> BoxFuture<'_, Result<Reply, Error>>;
}

/// One call of the backend API, described by a generated operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Call {
    /// The operation's `operationId` in Wacht's API description (`getUserDetails`).
    pub operation: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path below the API's base URL, starting with `/`; every parameter is already
    /// percent-encoded (an id can never add a segment).
    pub path: String,
    /// Query pairs, unencoded, in a fixed order; unset parameters are absent.
    pub query: Vec<(&'static str, String)>,
    /// The body.
    pub body: Body,
}

impl Call {
    /// A call without query or body.
    pub fn new(operation: &'static str, method: Method, path: String) -> Self {
        Call {
            operation,
            method,
            path,
            query: Vec::new(),
            body: Body::Empty,
        }
    }

    /// Whether the method is idempotent (`GET`, `HEAD`, `PUT`, `DELETE`, `OPTIONS`): only
    /// those calls may be sent again after a `429` or `503`.
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }
}

/// The body of a [`Call`].
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON document (`Content-Type: application/json`).
    Json(Vec<u8>),
    /// A `multipart/form-data` form.
    Multipart(Form),
}

impl fmt::Debug for Body {
    // Bodies can carry passwords (createUser, updateUserPassword): only their size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Json(bytes) => write!(f, "Json({} bytes)", bytes.len()),
            Body::Multipart(form) => write!(f, "Multipart({} parts)", form.parts.len()),
        }
    }
}

/// The answer to a [`Call`]: always a 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status (2xx).
    pub status: http::StatusCode,
    /// The body, read up to the transport's cap.
    pub body: Vec<u8>,
}

/// A `multipart/form-data` form (the ten operations whose body is a form: creating and
/// updating users, organizations and workspaces, uploads).
#[derive(Clone, Default, PartialEq)]
pub struct Form {
    parts: Vec<Part>,
}

#[derive(Clone, PartialEq)]
struct Part {
    name: &'static str,
    value: PartValue,
}

#[derive(Clone, PartialEq)]
enum PartValue {
    Text(String),
    File(File),
}

/// A file sent in a form (`profile_image`, an uploaded document).
#[derive(Clone, PartialEq, Eq)]
pub struct File {
    bytes: Vec<u8>,
    file_name: String,
    content_type: String,
}

impl File {
    /// A file with its bytes, its name and its media type (`image/png`). Quotes, backslashes
    /// and line breaks in the name and type are replaced by `_` when sent.
    pub fn new(
        bytes: impl Into<Vec<u8>>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
    ) -> Self {
        File {
            bytes: bytes.into(),
            file_name: file_name.into(),
            content_type: content_type.into(),
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file name.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The media type.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.parts.iter().map(|part| part.name).collect();
        f.debug_struct("Form").field("parts", &names).finish()
    }
}

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Form::default()
    }

    /// Adds a text field.
    pub fn text(&mut self, name: &'static str, value: impl Into<String>) {
        self.parts.push(Part {
            name,
            value: PartValue::Text(value.into()),
        });
    }

    /// Adds a file field.
    pub fn file(&mut self, name: &'static str, file: File) {
        self.parts.push(Part {
            name,
            value: PartValue::File(file),
        });
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.parts.iter().map(|part| part.name)
    }

    /// The text value of the first field called `name`.
    pub fn text_value(&self, name: &str) -> Option<&str> {
        self.parts.iter().find_map(|part| match &part.value {
            PartValue::Text(text) if part.name == name => Some(text.as_str()),
            _ => None,
        })
    }

    /// The `Content-Type` of the form encoded with `boundary`.
    pub fn content_type(boundary: &str) -> String {
        format!("multipart/form-data; boundary={boundary}")
    }

    /// The form encoded as `multipart/form-data` (RFC 7578) with `boundary`, which must not
    /// occur in any value (pick a long random one: the runtime uses 32 random hex digits).
    pub fn encode(&self, boundary: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(header_safe(part.name).as_bytes());
            out.push(b'"');
            match &part.value {
                PartValue::Text(text) => {
                    out.extend_from_slice(b"\r\n\r\n");
                    out.extend_from_slice(text.as_bytes());
                }
                PartValue::File(file) => {
                    out.extend_from_slice(b"; filename=\"");
                    out.extend_from_slice(header_safe(&file.file_name).as_bytes());
                    out.extend_from_slice(b"\"\r\nContent-Type: ");
                    out.extend_from_slice(header_safe(&file.content_type).as_bytes());
                    out.extend_from_slice(b"\r\n\r\n");
                    out.extend_from_slice(&file.bytes);
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        out
    }
}

/// `text` with the characters that would end a quoted header parameter or the header itself
/// replaced by `_`.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' | '\r' | '\n' | '\0' => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_encode_as_rfc7578_and_cannot_be_escaped() {
        let mut form = Form::new();
        form.text("first_name", "Ada");
        form.file(
            "profile_image",
            File::new(b"PNG".to_vec(), "a\"\r\nb.png", "image/png"),
        );
        let encoded = String::from_utf8(form.encode("XYZ")).expect("ascii");
        assert_eq!(
            encoded,
            "--XYZ\r\nContent-Disposition: form-data; name=\"first_name\"\r\n\r\nAda\r\n\
             --XYZ\r\nContent-Disposition: form-data; name=\"profile_image\"; \
             filename=\"a___b.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--XYZ--\r\n"
        );
        assert_eq!(form.text_value("first_name"), Some("Ada"));
        assert_eq!(
            form.names().collect::<Vec<_>>(),
            ["first_name", "profile_image"]
        );
    }

    #[test]
    fn debug_shows_no_values() {
        let mut form = Form::new();
        form.text("password", "hunter2-secret");
        let body = Body::Multipart(form.clone());
        assert!(!format!("{form:?}{body:?}").contains("hunter2"));
        let json = Body::Json(br#"{"password":"hunter2-secret"}"#.to_vec());
        assert_eq!(format!("{json:?}"), "Json(29 bytes)");
    }

    #[test]
    fn only_idempotent_methods_are_idempotent() {
        for (method, idempotent) in [
            (Method::GET, true),
            (Method::PUT, true),
            (Method::DELETE, true),
            (Method::POST, false),
            (Method::PATCH, false),
        ] {
            assert_eq!(
                Call::new("x", method.clone(), "/".into()).is_idempotent(),
                idempotent,
                "{method}"
            );
        }
    }
}
