//! What every endpoint shares: the body and answer types, the response builders, and the
//! lock of an endpoint's state.
//!
//! This module imports nothing from the rest of the emulator: endpoints import it, never
//! the server.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

/// The body type of every emulator response.
pub(super) type Body = Full<Bytes>;

/// What a handler answers: a response, or [`CloseConnection`] to drop the connection
/// without writing any response (hyper closes a connection whose service fails).
pub(super) type Served = Result<Response<Body>, CloseConnection>;

/// A handler's request to close the connection without a response.
#[derive(Debug)]
pub(super) struct CloseConnection;

impl fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for CloseConnection {}

/// Locks an endpoint's state. A panic in another thread holding the lock does not poison
/// it: the state stays usable.
pub(super) fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The status of an injected fault's number: that status, or 500 when the number is not a
/// valid status.
pub(super) fn status_or_500(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A JSON response with `Content-Type: application/json`.
pub(super) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    bytes_response(status, "application/json", body.to_string())
}

/// A response with the given status, content type and body.
pub(super) fn bytes_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `{"message": text}` with `status`.
pub(super) fn message(status: StatusCode, text: &str) -> Response<Body> {
    json_response(status, &json!({ "message": text }))
}

/// `404 {"message":"not found"}`.
pub(super) fn not_found() -> Response<Body> {
    message(StatusCode::NOT_FOUND, "not found")
}
