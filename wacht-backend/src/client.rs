//! [`Backend`]: the generated operations' entry point, over any [`Transport`].

use std::fmt;
use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::transport::{Body, Call, Form, Transport};
use crate::{Error, json_error};

/// The backend API, grouped by resource: `backend.users().get(id)`,
/// `backend.organizations().members(org_id).list(query)`. Cheap to clone (one `Arc`).
///
/// Users get one from `wacht::Wacht::backend()` (or `backend_for(&req)`), whose transport
/// carries the API key and the outbound rules; [`Backend::new`] takes any other
/// [`Transport`].
#[derive(Clone)]
pub struct Backend {
    transport: Arc<dyn Transport>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Backend").field(&self.transport).finish()
    }
}

impl Backend {
    /// The API over `transport`.
    pub fn new(transport: impl Transport) -> Self {
        Backend {
            transport: Arc::new(transport),
        }
    }

    /// The API over a shared `transport`.
    pub fn from_arc(transport: Arc<dyn Transport>) -> Self {
        Backend { transport }
    }

    /// The transport.
    pub fn transport(&self) -> &dyn Transport {
        &*self.transport
    }

    /// Sends `call` and decodes the 2xx body as `T`. An empty body (a `204`) decodes as JSON
    /// `null`: fine for `serde_json::Value` and `Option`s, an
    /// [`Error::InvalidResponse`] for anything that needs content.
    pub async fn send<T: DeserializeOwned>(&self, call: Call) -> Result<T, Error> {
        let reply = self.transport.send(call).await?;
        let body: &[u8] = if reply.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &reply.body
        };
        serde_json::from_slice(body).map_err(|e| Error::InvalidResponse(json_error(&e)))
    }
}

/// Everything but `A-Z a-z 0-9 - . _ ~` is escaped in a path segment (so `/`, `?`, `#`, `%`
/// and dot segments from an id can never change the path).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` as one path segment: everything but `A-Z a-z 0-9 - . _ ~` percent-encoded, so `/`,
/// `?`, `#` and `%` in an id stay inside its segment.
///
/// A value made only of dots (`.`, `..`) has no safe encoding: URL parsers resolve `%2E%2E`
/// as `..` too. It is encoded as `%2E…` here, and the runtime's transport refuses any path
/// with such a segment ([`Error::InvalidRequest`](crate::Error::InvalidRequest), nothing
/// sent) rather than let it reach another resource.
pub fn segment(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b == b'.') {
        return "%2E".repeat(value.len());
    }
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// `value` as a JSON body.
pub fn json_body<T: Serialize + ?Sized>(value: &T) -> Result<Body, Error> {
    serde_json::to_vec(value)
        .map(Body::Json)
        .map_err(|e| Error::InvalidRequest(json_error(&e)))
}

/// A value sent as a form's text field: strings as they are, anything else as its JSON text
/// (`true`, `42`, `["a","b"]`).
pub fn form_text<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(Error::InvalidRequest(json_error(&e))),
    }
}

/// A multipart body.
pub fn form_body(form: Form) -> Body {
    Body::Multipart(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_place() {
        assert_eq!(segment("318000000000000001"), "318000000000000001");
        assert_eq!(segment("a/b?c#d%e f"), "a%2Fb%3Fc%23d%25e%20f");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment("v1.2"), "v1.2");
        assert_eq!(segment("ünï"), "%C3%BCn%C3%AF");
    }

    #[test]
    fn form_text_is_plain_for_strings_and_json_otherwise() {
        assert_eq!(form_text("Ada").ok().as_deref(), Some("Ada"));
        assert_eq!(form_text(&true).ok().as_deref(), Some("true"));
        assert_eq!(
            form_text(&vec!["a", "b"]).ok().as_deref(),
            Some(r#"["a","b"]"#)
        );
    }
}
