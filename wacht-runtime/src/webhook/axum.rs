//! `wacht::WebhookEvent` as an axum extractor (feature `axum`).

use std::sync::LazyLock;

use axum_core::extract::{FromRequest, Request};

use super::{Webhook, WebhookEvent};
use crate::rejection::Rejection;

/// The settings of an extractor with none in the request's extensions.
static FROM_ENV: LazyLock<Webhook> = LazyLock::new(Webhook::from_env);

/// A verified webhook delivery, as an axum handler argument (it reads the body: put it last).
///
/// Behind [`layer::webhook`](crate::layer::webhook) it is the event the layer verified. Alone,
/// it verifies the request itself with the [`Webhook`] in the request's extensions
/// (`axum::Extension(settings)` on the route), else with [`Webhook::from_env`]
/// (`WACHT_WEBHOOK_SECRET`), answering exactly as the layer does. A delivery log needs the
/// handler's answer, which an extractor never sees: with a log in the settings and no layer in
/// front, the extractor answers 500 `delivery_log_needs_layer` rather than skip the log.
impl<S: Send + Sync> FromRequest<S> for WebhookEvent {
    type Rejection = Rejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Rejection> {
        if let Some(event) = req.extensions().get::<WebhookEvent>() {
            return Ok(event.clone());
        }
        let settings = req
            .extensions()
            .get::<Webhook>()
            .cloned()
            .unwrap_or_else(|| FROM_ENV.clone());
        if settings.has_delivery_log() {
            tracing::error!(target: "wacht", "a `wacht::WebhookEvent` extractor with a delivery log and no `wacht::layer::webhook` in front of it: the log needs the handler's answer");
            return Err(Rejection::misconfigured("delivery_log_needs_layer"));
        }
        Ok(settings.receive(req).await?.event)
    }
}
