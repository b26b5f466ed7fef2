//! What `#[wacht::webhook]`'s expansion calls (through `wacht::__private`, re-exported by
//! `macro_support`). Not a public API.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::{DeliveryClaim, DeliveryLog, MemoryDeliveryLog};
pub use super::{Webhook, WebhookEvent};
use crate::rejection::Rejection;

/// The checked arguments of a `#[webhook]` attribute.
#[derive(Clone, Copy)]
pub struct WebhookSpec {
    /// `secret_env` (default `WACHT_WEBHOOK_SECRET`).
    pub secret_env: &'static str,
    /// `event` / `events`; empty: every type.
    pub events: &'static [&'static str],
    /// `max_body_bytes`.
    pub max_body_bytes: Option<usize>,
    /// `tolerance_seconds`.
    pub tolerance_seconds: Option<u64>,
    /// `dedup`: the log (`dedup = path` calls `path()` once; a bare `dedup` is a
    /// [`MemoryDeliveryLog`]).
    pub dedup: Option<fn() -> Arc<dyn DeliveryLog>>,
}

/// The in-memory log of a bare `dedup`.
pub fn memory_log() -> Arc<dyn DeliveryLog> {
    Arc::new(MemoryDeliveryLog::new())
}

/// The log of `dedup = path`: `path()`, shared.
pub fn user_log<L: DeliveryLog>(log: L) -> Arc<dyn DeliveryLog> {
    Arc::new(log)
}

/// Builds a handler's settings (once, from a `LazyLock`).
pub fn webhook_settings(spec: WebhookSpec) -> Webhook {
    let mut builder = Webhook::builder().secret_env(spec.secret_env);
    if !spec.events.is_empty() {
        builder = builder.events(spec.events.iter().copied());
    }
    if let Some(bytes) = spec.max_body_bytes {
        builder = builder.max_body_bytes(bytes);
    }
    if let Some(seconds) = spec.tolerance_seconds {
        builder = builder.tolerance(Duration::from_secs(seconds));
    }
    if let Some(log) = spec.dedup {
        builder = builder.shared_delivery_log(log());
    }
    builder.build_lenient()
}

/// A verified delivery, taken apart for the expansion.
pub struct Delivery {
    /// The request's head.
    pub parts: http::request::Parts,
    /// The body.
    pub body: Bytes,
    /// The event.
    pub event: WebhookEvent,
    /// The log's claim.
    pub claim: Option<DeliveryClaim>,
}

/// Reads and verifies `req`. The future is `Send` when the body is.
pub fn receive_webhook<'a, B>(
    req: http::Request<B>,
    settings: &'a Webhook,
) -> impl Future<Output = Result<Delivery, Rejection>> + 'a
where
    B: http_body::Body + 'a,
{
    let clock = settings
        .inner
        .clock
        .clone()
        .unwrap_or_else(|| crate::context::clock_for(req.extensions()));
    async move {
        let received = settings.receive_with(req, &clock).await?;
        Ok(Delivery {
            parts: received.parts,
            body: received.body,
            event: received.event,
            claim: received.claim,
        })
    }
}

/// The request again, from its head and a body.
pub fn request_from_parts<B>(parts: http::request::Parts, body: B) -> http::Request<B> {
    http::Request::from_parts(parts, body)
}

/// Whether a handler's answer is a success (looked at before the claim is finished, so no
/// reference to it is held across an `.await`: bodies are `Send`, not always `Sync`).
pub fn answered_ok<R: WebhookAnswer>(answer: &R) -> bool {
    answer.is_success()
}

/// Ends a claim (no-op without one).
pub async fn finish_delivery(claim: Option<DeliveryClaim>, handled: bool) {
    if let Some(claim) = claim {
        claim.finish(handled).await;
    }
}

/// Whether a handler's answer is a success (a 2xx), for the delivery log.
#[diagnostic::on_unimplemented(
    message = "`#[wacht::webhook(dedup)]` cannot tell whether `{Self}` is a success",
    label = "the delivery log needs the handler's status",
    note = "return `http::Response<B>` or `Result<http::Response<B>, E>`"
)]
pub trait WebhookAnswer {
    /// A 2xx (and `Ok` for a `Result`).
    fn is_success(&self) -> bool;
}

#[diagnostic::do_not_recommend]
impl<B> WebhookAnswer for http::Response<B> {
    fn is_success(&self) -> bool {
        self.status().is_success()
    }
}

#[diagnostic::do_not_recommend]
impl<T: WebhookAnswer, E> WebhookAnswer for Result<T, E> {
    fn is_success(&self) -> bool {
        self.as_ref().is_ok_and(WebhookAnswer::is_success)
    }
}

/// Chooses how to give the handler its body back, by method resolution on the body type `B`
/// (the expansion calls `(&&&&&Rebuild::of(&req)).rebuild(bytes)`): `worker::Body` (feature
/// `workers`, wasm32), else `From<Bytes>` (axum, `Full<Bytes>`), else `From<String>`
/// (lambda_http, `String`; the body is UTF-8, Wacht's envelope being JSON), else
/// `From<Vec<u8>>`, else a body that cannot be made again (hyper's `Incoming`, which
/// vercel_runtime uses too): the handler then gets an `http_body_util::Full<Bytes>` body.
pub struct Rebuild<B>(PhantomData<fn() -> B>);

impl<B> Rebuild<B> {
    /// The chooser for `req`'s body type.
    pub fn of(_req: &http::Request<B>) -> Self {
        Rebuild(PhantomData)
    }
}

/// `worker::Body` (implemented on wasm32 with feature `workers`).
pub trait RebuildWorkers<B> {
    /// The body again.
    fn rebuild(&self, bytes: Bytes) -> B;
}

/// `B: From<Bytes>`.
pub trait RebuildBytes<B> {
    /// The body again.
    fn rebuild(&self, bytes: Bytes) -> B;
}

/// `B: From<String>`.
pub trait RebuildString<B> {
    /// The body again.
    fn rebuild(&self, bytes: Bytes) -> B;
}

/// `B: From<Vec<u8>>`.
pub trait RebuildVec<B> {
    /// The body again.
    fn rebuild(&self, bytes: Bytes) -> B;
}

/// Any other body: a `Full<Bytes>` instead.
pub trait RebuildFull {
    /// The body, as a `Full<Bytes>`.
    fn rebuild(&self, bytes: Bytes) -> http_body_util::Full<Bytes>;
}

impl<B: From<Bytes>> RebuildBytes<B> for &&&Rebuild<B> {
    fn rebuild(&self, bytes: Bytes) -> B {
        B::from(bytes)
    }
}

impl<B: From<String>> RebuildString<B> for &&Rebuild<B> {
    fn rebuild(&self, bytes: Bytes) -> B {
        match String::from_utf8(Vec::from(bytes)) {
            Ok(text) => B::from(text),
            // Not reached: the body parsed as JSON, which is UTF-8.
            Err(error) => B::from(String::from_utf8_lossy(error.as_bytes()).into_owned()),
        }
    }
}

impl<B: From<Vec<u8>>> RebuildVec<B> for &Rebuild<B> {
    fn rebuild(&self, bytes: Bytes) -> B {
        B::from(Vec::from(bytes))
    }
}

impl<B> RebuildFull for Rebuild<B> {
    fn rebuild(&self, bytes: Bytes) -> http_body_util::Full<Bytes> {
        http_body_util::Full::new(bytes)
    }
}

/// `worker::Body` (feature `workers`, wasm32): made from the bytes through the platform.
#[cfg(all(feature = "workers", target_family = "wasm"))]
impl RebuildWorkers<worker::Body> for &&&&Rebuild<worker::Body> {
    fn rebuild(&self, bytes: Bytes) -> worker::Body {
        worker::Response::from_bytes(bytes.to_vec())
            .and_then(http::Response::<worker::Body>::try_from)
            .map(http::Response::into_body)
            .unwrap_or_else(|error| {
                tracing::error!(target: "wacht", %error, "a verified webhook's body could not be made again; the handler gets an empty body (the event keeps it)");
                worker::Body::empty()
            })
    }
}

#[diagnostic::do_not_recommend]
impl crate::macro_support::Identity<WebhookEvent> for WebhookEvent {
    fn from_identity(identity: WebhookEvent) -> Self {
        identity
    }
}
