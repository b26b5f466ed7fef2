//! An admitted caller, and what its check adds to the handler's answer: the cookies of a
//! browser session exchange, the WebSocket subprotocol that carried the token.

use http::HeaderMap;
use http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL, SET_COOKIE};

/// Headers a check adds to the handler's response: `Set-Cookie` values (the `__auth_<scope>`
/// cache of a session exchange, a rotated `__session`, development-session cookies, or a
/// cleared cache), and the `Sec-WebSocket-Protocol` entry that carried a WebSocket's token
/// (echoed so browsers accept the handshake). Empty for Bearer tokens and API keys.
///
/// The attributes and layers apply them for you; with [`Wacht::admit`](crate::Wacht::admit)
/// call [`ResponseHeaders::apply`] on your response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders {
    set_cookies: Vec<HeaderValue>,
    websocket_protocol: Option<HeaderValue>,
}

impl ResponseHeaders {
    /// Nothing to add.
    pub fn is_empty(&self) -> bool {
        self.set_cookies.is_empty() && self.websocket_protocol.is_none()
    }

    /// The `Set-Cookie` values.
    pub fn set_cookies(&self) -> &[HeaderValue] {
        &self.set_cookies
    }

    /// The `Sec-WebSocket-Protocol` entry to echo, for a WebSocket upgrade authenticated by
    /// it.
    pub fn websocket_protocol(&self) -> Option<&HeaderValue> {
        self.websocket_protocol.as_ref()
    }

    pub(crate) fn add_cookies(&mut self, values: impl IntoIterator<Item = HeaderValue>) {
        self.set_cookies.extend(values);
    }

    pub(crate) fn set_websocket_protocol(&mut self, value: HeaderValue) {
        self.websocket_protocol = Some(value);
    }

    /// Adds them to `response`: each `Set-Cookie` appended; the WebSocket subprotocol set on
    /// a `101 Switching Protocols` answer that chose none.
    pub fn apply<B>(&self, response: &mut http::Response<B>) {
        let switching = response.status() == http::StatusCode::SWITCHING_PROTOCOLS;
        self.apply_to(response.headers_mut(), switching);
    }

    /// [`ResponseHeaders::apply`] on a response's headers; `switching_protocols` says
    /// whether the response is a `101`.
    pub fn apply_to(&self, headers: &mut HeaderMap, switching_protocols: bool) {
        for cookie in &self.set_cookies {
            headers.append(SET_COOKIE, cookie.clone());
        }
        if let Some(protocol) = &self.websocket_protocol
            && switching_protocols
            && !headers.contains_key(SEC_WEBSOCKET_PROTOCOL)
        {
            headers.insert(SEC_WEBSOCKET_PROTOCOL, protocol.clone());
        }
    }
}

/// Stored in a request's extensions when an optional check found the caller signed out, so
/// an `Option<Auth>` extractor behind it does not check (and exchange) again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedOut;

/// A caller a check let in: the identity, and the headers the answer must carry.
#[derive(Debug, Clone)]
pub struct Admitted<I> {
    identity: I,
    headers: ResponseHeaders,
}

impl<I> Admitted<I> {
    pub(crate) fn new(identity: I, headers: ResponseHeaders) -> Self {
        Admitted { identity, headers }
    }

    /// Without headers (Bearer tokens, API keys).
    pub(crate) fn plain(identity: I) -> Self {
        Self::new(identity, ResponseHeaders::default())
    }

    /// The identity.
    pub fn identity(&self) -> &I {
        &self.identity
    }

    /// The headers the answer must carry.
    pub fn response_headers(&self) -> &ResponseHeaders {
        &self.headers
    }

    /// Both, by value.
    pub fn into_parts(self) -> (I, ResponseHeaders) {
        (self.identity, self.headers)
    }

    /// The identity, dropping the headers.
    pub fn into_identity(self) -> I {
        self.identity
    }

    /// Maps the identity.
    pub(crate) fn map<J>(self, f: impl FnOnce(I) -> J) -> Admitted<J> {
        Admitted {
            identity: f(self.identity),
            headers: self.headers,
        }
    }
}
