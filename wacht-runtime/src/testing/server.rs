//! The emulator's HTTP server: its thread and runtime, the accept loop, the counters of
//! requests and connections, and the one router.
//!
//! Every endpoint is one arm of [`route`]; an endpoint lives in its own module and is handed
//! its own part of [`State`] (it never sees the rest, nor this module).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http::{Method, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::backend::{self, BackendState, USERS_PATH};
use super::frontend::{self, FrontendState, SESSION_TOKEN_PATH, SIGN_IN_PATH};
use super::gateway::{self, GATEWAY_PATH, GatewayState};
use super::http::{Served, lock, not_found};
use super::jwks::{self, JWKS_PATH, JwksState};
use super::platform;

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
    /// Key, users, directory, fault and records of the backend endpoints.
    pub(super) backend: Mutex<BackendState>,
    /// Sessions, users, mode, fault and counters of the browser-session endpoints.
    pub(super) frontend: Mutex<FrontendState>,
}

impl State {
    /// Locks the JWKS state (a panic in another thread holding the lock does not poison it:
    /// the state stays usable).
    pub(super) fn jwks(&self) -> MutexGuard<'_, JwksState> {
        lock(&self.jwks)
    }

    /// Locks the gateway state (never poisoned, as [`State::jwks`]).
    pub(super) fn gateway(&self) -> MutexGuard<'_, GatewayState> {
        lock(&self.gateway)
    }

    /// Locks the browser-session state (never poisoned, as [`State::jwks`]).
    pub(super) fn frontend(&self) -> MutexGuard<'_, FrontendState> {
        lock(&self.frontend)
    }

    /// Locks the backend state (never poisoned, as [`State::jwks`]).
    pub(super) fn backend(&self) -> MutexGuard<'_, BackendState> {
        lock(&self.backend)
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
async fn route(state: &State, req: Request<Incoming>) -> Served {
    state.requests.fetch_add(1, Ordering::Relaxed);
    match (req.method(), req.uri().path()) {
        (&Method::GET, JWKS_PATH) => jwks::serve(&state.jwks).await,
        (_, GATEWAY_PATH) => gateway::serve(&state.gateway, req).await,
        (&Method::GET, USERS_PATH) => backend::serve(&state.backend, &req).await,
        (_, path) if platform::serves(path) => {
            let deployment_id = state.gateway().deployment_id.clone();
            platform::serve(&state.backend, &deployment_id, req).await
        }
        (&Method::GET, SESSION_TOKEN_PATH) => {
            frontend::session_token(&state.url, &state.jwks, &state.frontend, &req).await
        }
        (&Method::GET | &Method::POST, SIGN_IN_PATH) => {
            frontend::sign_in(&state.url, &state.jwks, &state.frontend, req).await
        }
        _ => Ok(not_found()),
    }
}
