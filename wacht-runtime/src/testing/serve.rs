//! Serving a handler on loopback, so tests and examples talk real HTTP to it.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::context::Wacht;

/// What a served handler may return: `http::Response<String>`, or
/// `Result<http::Response<String>, E>` (an `Err` becomes a plain-text 500).
pub trait ServedResponse {
    /// The response to send.
    fn into_served(self) -> http::Response<String>;
}

impl ServedResponse for http::Response<String> {
    fn into_served(self) -> http::Response<String> {
        self
    }
}

impl<E: fmt::Display> ServedResponse for Result<http::Response<String>, E> {
    fn into_served(self) -> http::Response<String> {
        self.unwrap_or_else(|error| {
            let mut response = http::Response::new(format!("handler error: {error}"));
            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        })
    }
}

/// A handler served on `127.0.0.1` (HTTP/1.1, keep-alive) by a task of the current tokio
/// runtime. Dropping it stops the server.
pub struct TestServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `handler` on a free loopback port. Request bodies are read whole into a `String`.
/// Must be called inside a tokio runtime.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let server = wacht_runtime::testing::serve(|_req: http::Request<String>| async {
///     http::Response::new("hello".to_string())
/// })
/// .await?;
/// println!("listening on {}", server.url());
/// # Ok(()) }
/// ```
pub async fn serve<H, Fut, R>(handler: H) -> std::io::Result<TestServer>
where
    H: Fn(http::Request<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: ServedResponse,
{
    serve_inner(None, handler).await
}

/// Like [`serve`], inserting `wacht` into every request's extensions, so `#[protect]` and
/// `#[machine]` handlers use that context instead of the process-wide one.
pub async fn serve_with<H, Fut, R>(wacht: Wacht, handler: H) -> std::io::Result<TestServer>
where
    H: Fn(http::Request<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: ServedResponse,
{
    serve_inner(Some(wacht), handler).await
}

async fn serve_inner<H, Fut, R>(wacht: Option<Wacht>, handler: H) -> std::io::Result<TestServer>
where
    H: Fn(http::Request<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: ServedResponse,
{
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let handler = Arc::new(handler);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            let wacht = wacht.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<Incoming>| {
                    let handler = handler.clone();
                    let wacht = wacht.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = match body.collect().await {
                            Ok(collected) => {
                                String::from_utf8_lossy(&collected.to_bytes()).into_owned()
                            }
                            Err(_) => String::new(),
                        };
                        let mut req = http::Request::from_parts(parts, body);
                        if let Some(wacht) = wacht {
                            req.extensions_mut().insert(wacht);
                        }
                        let response = handler(req).await.into_served();
                        Ok::<_, Infallible>(response.map(|body| Full::new(Bytes::from(body))))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(TestServer { addr, task })
}
