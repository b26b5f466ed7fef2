//! `wacht::layer::webhook` (feature `tower`): the webhook check in front of any
//! `Service<http::Request<B>>`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tower_layer::Layer;
use tower_service::Service;

use super::Webhook;
use crate::rejection::Rejection;

/// A layer verifying webhook deliveries with `settings` before the inner service sees them:
/// the counterpart of `#[wacht::webhook]`, with the same answers. The inner service gets the
/// request with its body (made again from the verified bytes, so `B` must be
/// `From<bytes::Bytes>`: axum's `Body`, `Full<Bytes>`) and the
/// [`WebhookEvent`](super::WebhookEvent) in its extensions (an axum handler takes it as a
/// `wacht::WebhookEvent` extractor). With a delivery log, the claim is finished with whether
/// the inner service answered a 2xx.
///
/// ```
/// use wacht_runtime::{layer, webhook::Webhook};
/// let hooks = layer::webhook(Webhook::from_env());
/// # let _ = hooks;
/// ```
pub fn webhook(settings: Webhook) -> WebhookLayer {
    WebhookLayer { settings }
}

/// The layer of [`webhook`].
#[derive(Debug, Clone)]
pub struct WebhookLayer {
    settings: Webhook,
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> WebhookService<S> {
        WebhookService {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// The service of a [`WebhookLayer`].
#[derive(Debug, Clone)]
pub struct WebhookService<S> {
    inner: S,
    settings: Webhook,
}

/// The future of a [`WebhookService`] call.
pub type WebhookFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B, ResBody> Service<http::Request<B>> for WebhookService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    // Held while a delivery log's claim is finished, after the inner service answered.
    S::Error: Send,
    B: http_body::Body + From<Bytes> + Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = WebhookFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let settings = self.settings.clone();
        Box::pin(async move {
            let received = match settings.receive(req).await {
                Ok(received) => received,
                Err(rejection) => return Ok(Rejection::into_response(rejection)),
            };
            let request = http::Request::from_parts(received.parts, B::from(received.body));
            let answer = inner.call(request).await;
            if let Some(claim) = received.claim {
                let handled = answer
                    .as_ref()
                    .is_ok_and(|response| response.status().is_success());
                claim.finish(handled).await;
            }
            answer
        })
    }
}
