//! The emulator's HTTP server: its thread and runtime, the accept loop and the one router.
//!
//! Every endpoint is one arm of [`route`]; an endpoint lives in its own module and reads and
//! writes its part of [`State`].

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::backend::{self, BackendState, USERS_PATH};
use super::gateway::{self, GATEWAY_PATH, GatewayState};
use super::jwks::{self, JWKS_PATH, JwksState};

/// The body type of every emulator response.
pub(super) type Body = Full<Bytes>;

/// What a handler answers: a response, or [`CloseConnection`] to drop the connection
/// without writing any response (hyper closes a connection whose service fails).
pub(super) type Answer = Result<Response<Body>, CloseConnection>;

/// A handler's request to close the connection without a response.
#[derive(Debug)]
pub(super) struct CloseConnection;

impl fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for CloseConnection {}

/// Everything the server and the handles share.
pub(super) struct State {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub(super) url: String,
    /// All requests received, whatever the path.
    pub(super) requests: AtomicUsize,
    /// TCP connections accepted, whatever the path.
    pub(super) connections: AtomicUsize,
    /// Keys, published document, fault and fetch counter of the JWKS endpoint.
    pub(super) jwks: Mutex<JwksState>,
    /// Credentials, rate-limit counts, fault and records of the gateway endpoint.
    pub(super) gateway: Mutex<GatewayState>,
    /// Key, users, fault and records of the backend endpoint.
    pub(super) backend: Mutex<BackendState>,
}

impl State {
    /// Locks the JWKS state (a panic in another thread holding the lock does not poison it:
    /// the state stays usable).
    pub(super) fn jwks(&self) -> MutexGuard<'_, JwksState> {
        self.jwks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the gateway state (never poisoned, as [`State::jwks`]).
    pub(super) fn gateway(&self) -> MutexGuard<'_, GatewayState> {
        self.gateway.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the backend state (never poisoned, as [`State::jwks`]).
    pub(super) fn backend(&self) -> MutexGuard<'_, BackendState> {
        self.backend.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps the server thread alive; dropping it stops the server.
pub(super) struct ServerHandle {
    _shutdown: oneshot::Sender<()>,
}

/// Binds 127.0.0.1 on a free port and returns the listener and its URL.
pub(super) fn bind() -> io::Result<(StdTcpListener, String)> {
    let listener = StdTcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((listener, url))
}

/// Starts the server on its own thread, with its own current-thread tokio runtime.
///
/// The server stops (and its open connections close) when the returned handle is dropped.
pub(super) fn spawn(listener: StdTcpListener, state: Arc<State>) -> io::Result<ServerHandle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let listener = {
        let _context = runtime.enter();
        TcpListener::from_std(listener)?
    };
    let (shutdown, stopped) = oneshot::channel();
    std::thread::Builder::new()
        .name("wacht-local-emulator".into())
        .spawn(move || runtime.block_on(serve(listener, state, stopped)))?;
    Ok(ServerHandle {
        _shutdown: shutdown,
    })
}

/// The accept loop: one task per connection, until the shutdown channel closes.
async fn serve(listener: TcpListener, state: Arc<State>, mut stopped: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    state.connections.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(serve_connection(stream, Arc::clone(&state)));
                }
                Err(err) => {
                    tracing::debug!(error = %err, "wacht local emulator: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, state: Arc<State>) {
    let service = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { route(&state, req).await }
    });
    if let Err(err) = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(error = %err, "wacht local emulator: connection ended");
    }
}

/// The router: one arm per endpoint.
async fn route(state: &State, req: Request<Incoming>) -> Answer {
    state.requests.fetch_add(1, Ordering::Relaxed);
    match (req.method(), req.uri().path()) {
        (&Method::GET, JWKS_PATH) => jwks::serve(state).await,
        (_, GATEWAY_PATH) => gateway::serve(state, req).await,
        (&Method::GET, USERS_PATH) => backend::serve(state, &req).await,
        _ => Ok(not_found()),
    }
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

/// `404 {"message":"not found"}`.
pub(super) fn not_found() -> Response<Body> {
    json_response(StatusCode::NOT_FOUND, &json!({ "message": "not found" }))
}
