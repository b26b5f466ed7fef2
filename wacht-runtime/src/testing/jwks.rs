//! The frontend API's JWKS endpoint: published keys, raw documents, injected faults.

use std::sync::Mutex;
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use super::http::{
    CloseConnection, Served, bytes_response, json_response, lock, message, status_or_500,
};
use super::keys::TestKey;

/// Where the JWKS is served, below the emulator's URL.
pub(super) const JWKS_PATH: &str = "/.well-known/jwks.json";

/// A fault injected into the emulator's JWKS endpoint
/// ([`LocalWacht::set_jwks_fault`](super::LocalWacht::set_jwks_fault)).
///
/// A fault stays until replaced; [`JwksFault::None`] restores normal service. Faulted
/// requests still count in [`LocalWacht::jwks_fetches`](super::LocalWacht::jwks_fetches).
/// Only the JWKS endpoint is affected: the rest of the emulator keeps answering.
///
/// ```
/// use std::time::Duration;
/// use wacht_runtime::testing::{JwksFault, LocalWacht};
///
/// let wacht = LocalWacht::start()?;
/// wacht.set_jwks_fault(JwksFault::Slow(Duration::from_millis(200)));
/// wacht.set_jwks_fault(JwksFault::None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JwksFault {
    /// Normal service.
    #[default]
    None,
    /// The endpoint looks down: the request is read, then the connection is closed without
    /// a single response byte. A client gets a transport error, never an HTTP answer (for
    /// reqwest: an error with `is_request()` and no `status()`, caused by hyper's
    /// `IncompleteMessage`, "connection closed before message completed").
    ///
    /// The port stays bound (other endpoints of the emulator keep working), so this is a
    /// dropped connection rather than a refused one; to a client both are "the server is
    /// unreachable". A refused connection is what a stopped [`LocalWacht`](super::LocalWacht)
    /// gives: drop every handle to it.
    Down,
    /// Answers with this HTTP status and a small JSON body
    /// `{"message":"injected fault"}`. A number that is not a valid status gives 500.
    Status(u16),
    /// Answers `200 OK` with `Content-Type: application/json` and a body that is not JSON.
    InvalidJson,
    /// Waits this long, then serves normally (whatever is published at that moment).
    Slow(Duration),
}

/// What the JWKS endpoint serves.
pub(super) struct JwksState {
    /// Managed keys, published in this order.
    pub(super) keys: Vec<TestKey>,
    /// The default signing key of minted tokens (normally one of `keys`).
    pub(super) current: TestKey,
    /// A document served verbatim instead of the managed keys' JWKs.
    pub(super) document: Option<Value>,
    /// The injected fault.
    pub(super) fault: JwksFault,
    /// Requests to the JWKS path, faulted or not.
    pub(super) fetches: usize,
}

impl JwksState {
    /// A state publishing `key` alone, and signing with it.
    pub(super) fn new(key: TestKey) -> Self {
        Self {
            keys: vec![key.clone()],
            current: key,
            document: None,
            fault: JwksFault::None,
            fetches: 0,
        }
    }

    /// The document served right now (without faults).
    pub(super) fn document(&self) -> Value {
        match &self.document {
            Some(document) => document.clone(),
            None => {
                let keys: Vec<Value> = self.keys.iter().map(TestKey::public_jwk).collect();
                json!({ "keys": keys })
            }
        }
    }
}

/// `GET /.well-known/jwks.json`.
pub(super) async fn serve(state: &Mutex<JwksState>) -> Served {
    let fault = {
        let mut jwks = lock(state);
        jwks.fetches += 1;
        jwks.fault
    };
    match fault {
        JwksFault::None => {}
        JwksFault::Down => return Err(CloseConnection),
        JwksFault::Status(code) => return Ok(message(status_or_500(code), "injected fault")),
        JwksFault::InvalidJson => {
            return Ok(bytes_response(
                StatusCode::OK,
                "application/json",
                "<html><body>this is not JSON</body></html>",
            ));
        }
        JwksFault::Slow(delay) => tokio::time::sleep(delay).await,
    }
    let document = lock(state).document();
    Ok(json_response(StatusCode::OK, &document))
}
