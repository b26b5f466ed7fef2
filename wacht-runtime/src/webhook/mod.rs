//! Webhooks from Wacht: verifying the deliveries Wacht signs (Standard Webhooks) before a
//! handler trusts them. The attribute `#[wacht::webhook]`, `wacht::layer::webhook` and the
//! axum extractor all run [`Webhook`]'s check.
//!
//! A delivery is a `POST` with `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, several
//! space-separated during a secret rotation), keyed by the endpoint's signing secret
//! (`whsec_<base64 key>`), with the body `{"type": …, "timestamp": …, "data": …}`.
//!
//! The check, in order (the first failing step answers):
//!
//! | step | answer when it fails |
//! |---|---|
//! | a signing secret is configured and parses | 500 `auth_misconfigured` (`missing_webhook_secret`, `invalid_webhook_secret`) |
//! | the three headers are there, once each, well formed | 400 `bad_request` (`missing_webhook_header`, `malformed_webhook_header`) |
//! | the timestamp is within the tolerance of now, either way | 401 `unauthenticated` (`stale_timestamp`, `future_timestamp`) |
//! | the body, read whole, is within the cap | 413 `payload_too_large` (`body_too_large`); 400 `unreadable_body` |
//! | a `v1` signature matches one secret (constant-time) | 401 `unauthenticated` (`signature_mismatch`, `unsupported_signature_version`) |
//! | the body is Wacht's envelope | 400 `bad_request` (`malformed_event`) |
//! | the event type is one the handler takes | 204 `ignored` (`event_not_handled`) |
//! | a delivery log, if any, has not seen the id | 204 `ignored` (`duplicate_delivery`); 503 (`delivery_in_progress`, `delivery_log_unavailable`) |
//!
//! Headers and timestamp are checked before the body is read, so a request that cannot be a
//! delivery costs no body read. Nothing is logged or answered that holds a secret or the
//! body.
//!
//! ```
//! use wacht_runtime::webhook::{Webhook, WebhookSecret};
//! let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let webhook = Webhook::builder().secret(secret).events(["user.created"]).build()?;
//! # let _ = webhook;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "axum")]
mod axum;
mod body;
mod dedup;
mod event;
pub mod events;
#[doc(hidden)]
pub mod expansion;
mod secret;
#[cfg(test)]
mod tests;
#[cfg(feature = "tower")]
pub(crate) mod tower;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;

use crate::clock::Clock;
use crate::rejection::{Challenge, Rejection, RejectionCode};

pub use dedup::{
    Claim, DEFAULT_MEMORY_LOG_CAPACITY, DeliveryLog, DeliveryLogError, LogFuture,
    MEMORY_LOG_LEASE_SECONDS, MemoryDeliveryLog,
};
pub use event::WebhookEvent;
pub use events::{EVENT_TYPES, WachtEvent};
pub use secret::{MAX_SECRET_BYTES, MIN_SECRET_BYTES, WebhookSecret, WebhookSecretError};

use body::BodyError;
use secret::TAG_LEN;

/// The variable holding the signing secret(s) unless another is named.
pub const DEFAULT_SECRET_ENV: &str = "WACHT_WEBHOOK_SECRET";

/// The body cap unless another is set: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// The accepted body caps: 1 byte to 64 MiB.
pub const MAX_BODY_BYTES_RANGE: std::ops::RangeInclusive<usize> = 1..=64 * 1024 * 1024;

/// How far a delivery's timestamp may be from now, either way, unless set otherwise: 5 minutes,
/// as the Standard Webhooks specification recommends.
///
/// Wacht's retries carry the first attempt's timestamp (retries come 30 s, 1 min, 5 min,
/// 15 min and then 6 h apart), so with this tolerance only the attempts within 5 minutes of
/// the first are accepted; the later ones are answered 401 and Wacht stops. Widen it (up to
/// [`TOLERANCE_RANGE`]'s end) to accept later retries, at the price of a longer replay window
/// (a delivery log closes it).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The accepted tolerances: 1 second to 7 days.
pub const TOLERANCE_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600);

/// How many signatures one `webhook-signature` header may carry.
pub const MAX_SIGNATURES: usize = 32;

/// The longest `webhook-id` accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// Seconds a delivery claimed by another attempt should wait (`Retry-After`).
const IN_PROGRESS_RETRY_AFTER: u64 = 30;

/// Why a [`Webhook`] cannot verify deliveries. Every delivery is then answered 500
/// `auth_misconfigured` with [`WebhookConfigError::reason`]; the message names the variable,
/// never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookConfigError {
    /// No secret was given (the variable is unset or blank).
    #[error("no webhook signing secret: {0} is not set")]
    MissingSecret(String),
    /// A secret does not parse.
    #[error("the webhook signing secret in {source_name} cannot be used: {error}")]
    InvalidSecret {
        /// Where it came from (a variable's name, or "the builder").
        source_name: String,
        /// Why.
        error: WebhookSecretError,
    },
    /// The tolerance is outside [`TOLERANCE_RANGE`].
    #[error("the webhook timestamp tolerance {0:?} is outside 1 s..=7 days")]
    Tolerance(Duration),
    /// The body cap is outside [`MAX_BODY_BYTES_RANGE`].
    #[error("the webhook body cap of {0} bytes is outside 1..=64 MiB")]
    MaxBodyBytes(usize),
    /// An event type in the filter is empty or has white space.
    #[error("the webhook event filter has an empty or blank event type")]
    EventType,
}

impl WebhookConfigError {
    /// The `reason` of the 500 answered while this error stands.
    pub fn reason(&self) -> &'static str {
        match self {
            WebhookConfigError::MissingSecret(_) => "missing_webhook_secret",
            WebhookConfigError::InvalidSecret { .. } => "invalid_webhook_secret",
            WebhookConfigError::Tolerance(_)
            | WebhookConfigError::MaxBodyBytes(_)
            | WebhookConfigError::EventType => "invalid_webhook_setting",
        }
    }
}

/// How webhook deliveries are verified: the signing secrets, the timestamp tolerance, the body
/// cap, an optional event-type filter and an optional [`DeliveryLog`]. Cheap to clone.
///
/// [`Webhook::from_env`] reads [`DEFAULT_SECRET_ENV`]; [`Webhook::builder`] sets everything.
/// A configuration that cannot work (no secret, a secret that does not parse) is not an error
/// here: every delivery is then answered 500, so Wacht retries it once the configuration is
/// fixed.
#[derive(Clone)]
pub struct Webhook {
    inner: Arc<Settings>,
}

struct Settings {
    /// The configured secrets, or why there are none.
    secrets: Result<Arc<[WebhookSecret]>, WebhookConfigError>,
    /// A setting that cannot work (tolerance, cap, filter): answered 500 whatever the secrets.
    setting_error: Option<WebhookConfigError>,
    tolerance: Duration,
    max_body_bytes: usize,
    events: Option<Vec<String>>,
    log: Option<Arc<dyn DeliveryLog>>,
    clock: Option<Clock>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.inner;
        f.debug_struct("Webhook")
            .field(
                "secrets",
                &settings.secrets.as_ref().map(|secrets| secrets.len()),
            )
            .field("tolerance", &settings.tolerance)
            .field("max_body_bytes", &settings.max_body_bytes)
            .field("events", &settings.events)
            .field("delivery_log", &settings.log.is_some())
            .field("clock", &settings.clock)
            .finish()
    }
}

/// Builds a [`Webhook`].
#[derive(Default)]
#[must_use = "a builder does nothing until `build`"]
pub struct WebhookBuilder {
    secrets: Vec<WebhookSecret>,
    secret_error: Option<WebhookConfigError>,
    /// The variable the secrets were to come from, for the "missing" error.
    secret_source: Option<String>,
    tolerance: Option<Duration>,
    max_body_bytes: Option<usize>,
    events: Option<Vec<String>>,
    log: Option<Arc<dyn DeliveryLog>>,
    clock: Option<Clock>,
}

impl WebhookBuilder {
    /// Adds a signing secret (give several during a rotation).
    pub fn secret(mut self, secret: WebhookSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Adds the secrets in `text` (`whsec_…`, several separated by white space or commas).
    pub fn secrets_text(mut self, text: &str) -> Self {
        match WebhookSecret::parse_list(text) {
            Ok(secrets) => self.secrets.extend(secrets),
            Err(error) => {
                self.secret_error
                    .get_or_insert(WebhookConfigError::InvalidSecret {
                        source_name: "the builder".to_owned(),
                        error,
                    });
            }
        }
        self
    }

    /// Adds the secrets of environment variable `name` (as [`WebhookBuilder::secrets_text`]).
    pub fn secret_env(self, name: &str) -> Self {
        self.secret_lookup(name, |name| std::env::var(name).ok())
    }

    /// [`WebhookBuilder::secret_env`], reading the variable through `lookup`.
    pub fn secret_lookup(mut self, name: &str, lookup: impl Fn(&str) -> Option<String>) -> Self {
        self.secret_source = Some(name.to_owned());
        match lookup(name) {
            Some(text) if !text.trim().is_empty() => match WebhookSecret::parse_list(&text) {
                Ok(secrets) => self.secrets.extend(secrets),
                Err(error) => {
                    self.secret_error
                        .get_or_insert(WebhookConfigError::InvalidSecret {
                            source_name: name.to_owned(),
                            error,
                        });
                }
            },
            _ => {}
        }
        self
    }

    /// How far a timestamp may be from now, either way (default [`DEFAULT_TOLERANCE`]; within
    /// [`TOLERANCE_RANGE`]; whole seconds).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// The body cap in bytes (default [`DEFAULT_MAX_BODY_BYTES`]; within
    /// [`MAX_BODY_BYTES_RANGE`]).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = Some(bytes);
        self
    }

    /// Takes only these event types; any other verified delivery is answered 204 without
    /// running the handler. Without a filter, every type is taken.
    pub fn events<I, S>(mut self, events: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.events = Some(events.into_iter().map(Into::into).collect());
        self
    }

    /// Checks every verified delivery's id against `log` before the handler runs.
    pub fn delivery_log(mut self, log: impl DeliveryLog) -> Self {
        self.log = Some(Arc::new(log));
        self
    }

    /// [`WebhookBuilder::delivery_log`] with a log already shared.
    pub fn shared_delivery_log(mut self, log: Arc<dyn DeliveryLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// The clock to check timestamps with. Default: the clock of the `wacht::Wacht` in the
    /// request's extensions, else of the process-wide one when installed, else the system's.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The settings, or the first thing that cannot work.
    pub fn build(self) -> Result<Webhook, WebhookConfigError> {
        let webhook = self.build_lenient();
        match webhook.config_error() {
            Some(error) => Err(error.clone()),
            None => Ok(webhook),
        }
    }

    /// The settings; what cannot work is answered at every delivery as a 500 (and logged
    /// here, once).
    pub fn build_lenient(self) -> Webhook {
        let setting_error = self
            .tolerance
            .filter(|tolerance| !TOLERANCE_RANGE.contains(tolerance))
            .map(WebhookConfigError::Tolerance)
            .or_else(|| {
                self.max_body_bytes
                    .filter(|bytes| !MAX_BODY_BYTES_RANGE.contains(bytes))
                    .map(WebhookConfigError::MaxBodyBytes)
            })
            .or_else(|| {
                let blank = |name: &String| name.is_empty() || name.contains(char::is_whitespace);
                self.events
                    .as_ref()
                    .is_some_and(|events| events.iter().any(blank))
                    .then_some(WebhookConfigError::EventType)
            });
        let secret_error = self.secret_error.or_else(|| {
            self.secrets.is_empty().then(|| {
                WebhookConfigError::MissingSecret(
                    self.secret_source
                        .clone()
                        .unwrap_or_else(|| DEFAULT_SECRET_ENV.to_owned()),
                )
            })
        });
        for error in [&setting_error, &secret_error].into_iter().flatten() {
            tracing::error!(target: "wacht", reason = error.reason(), %error, "webhook deliveries will answer 500 auth_misconfigured: the configuration cannot work");
        }
        Webhook {
            inner: Arc::new(Settings {
                secrets: match secret_error {
                    Some(error) => Err(error),
                    None => Ok(self.secrets.into()),
                },
                setting_error,
                tolerance: self.tolerance.unwrap_or(DEFAULT_TOLERANCE),
                max_body_bytes: self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                events: self.events,
                log: self.log,
                clock: self.clock,
            }),
        }
    }
}

/// Signing secrets for one request, put in its extensions by server code (an axum
/// `Extension`, a `service_fn` wrapper): used instead of the configured ones by the attribute,
/// the layer and the extractor. For a server answering for several Wacht deployments, and for
/// tests. Clients cannot set extensions.
///
/// ```
/// use wacht_runtime::webhook::WebhookSecrets;
/// let secrets = WebhookSecrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let mut req = http::Request::new(String::new());
/// req.extensions_mut().insert(secrets);
/// # Ok::<(), wacht_runtime::webhook::WebhookSecretError>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecrets(Arc<[WebhookSecret]>);

impl WebhookSecrets {
    /// Parses one or several secrets ([`WebhookSecret::parse_list`]).
    pub fn parse(text: &str) -> Result<Self, WebhookSecretError> {
        WebhookSecret::parse_list(text).map(|secrets| WebhookSecrets(secrets.into()))
    }

    /// At least one secret.
    pub fn new(secrets: Vec<WebhookSecret>) -> Result<Self, WebhookSecretError> {
        if secrets.is_empty() {
            return Err(WebhookSecretError::Empty);
        }
        Ok(WebhookSecrets(secrets.into()))
    }
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecrets({} × ***)", self.0.len())
    }
}

/// The three headers of a delivery, checked.
struct Signed<'a> {
    id: &'a str,
    /// As sent (canonical decimal: no sign, no leading zero).
    timestamp_text: &'a str,
    timestamp: i64,
    /// The `webhook-signature` values (usually one), visible ASCII and spaces.
    signatures: Vec<&'a str>,
}

impl Webhook {
    /// A builder with nothing set.
    pub fn builder() -> WebhookBuilder {
        WebhookBuilder::default()
    }

    /// The secrets of [`DEFAULT_SECRET_ENV`] (`WACHT_WEBHOOK_SECRET`), the default tolerance
    /// and cap, no filter, no log.
    pub fn from_env() -> Self {
        Self::builder()
            .secret_env(DEFAULT_SECRET_ENV)
            .build_lenient()
    }

    /// The configuration error every delivery is answered with, if any (a missing or
    /// invalid secret is not answered when a request brings [`WebhookSecrets`]).
    pub fn config_error(&self) -> Option<&WebhookConfigError> {
        self.inner
            .setting_error
            .as_ref()
            .or(self.inner.secrets.as_ref().err())
    }

    /// The body cap in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The timestamp tolerance.
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }

    /// The event types taken, when filtered.
    pub fn events(&self) -> Option<&[String]> {
        self.inner.events.as_deref()
    }

    /// Whether a delivery log is set.
    pub fn has_delivery_log(&self) -> bool {
        self.inner.log.is_some()
    }

    /// Verifies a delivery whose body is already read: headers, timestamp (with the settings'
    /// clock, else the system's), cap, signature, envelope and filter. The delivery log is not
    /// consulted (it needs the handler's outcome: the attribute, the layer and
    /// [`Webhook::receive`] use it).
    pub fn verify(&self, headers: &HeaderMap, body: Bytes) -> Result<WebhookEvent, Rejection> {
        let now = self.inner.clock.clone().unwrap_or_default().now();
        self.verify_at(headers, body, now)
    }

    /// [`Webhook::verify`] at `now` (Unix seconds).
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: Bytes,
        now: i64,
    ) -> Result<WebhookEvent, Rejection> {
        let started = crate::platform::Instant::now();
        let outcome = self.verify_inner(headers, body, now);
        if let Err(rejection) = &outcome {
            log_refusal(headers, rejection);
        }
        record(outcome.as_ref().err(), started);
        outcome
    }

    fn verify_inner(
        &self,
        headers: &HeaderMap,
        body: Bytes,
        now: i64,
    ) -> Result<WebhookEvent, Rejection> {
        let secrets = self.secrets(None)?;
        let signed = self.check_headers(headers, now)?;
        if body.len() > self.inner.max_body_bytes {
            return Err(too_large(self.inner.max_body_bytes));
        }
        check_signature(secrets, &signed, &body)?;
        self.accept(&signed, body)
    }

    /// Only the signature check, for a body that is not Wacht's envelope (another Standard
    /// Webhooks sender): the three headers, the timestamp at `now`, and a `v1` signature of
    /// one of the secrets over `body`. No cap, filter or log.
    pub fn verify_signature_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), Rejection> {
        let secrets = self.secrets(None)?;
        let signed = self.check_headers(headers, now)?;
        check_signature(secrets, &signed, body)
    }

    /// Reads `req`'s body (capped) and verifies it as [`Webhook::verify`] does (with the
    /// [`WebhookSecrets`] in its extensions, if any, instead of the configured secrets), then
    /// checks the delivery log: the request comes back, with its body, and the event. When a log is
    /// set, call [`Received::finish`] with the handler's outcome.
    pub async fn receive<B: http_body::Body>(
        &self,
        req: http::Request<B>,
    ) -> Result<Received, Rejection> {
        let clock = self
            .inner
            .clock
            .clone()
            .unwrap_or_else(|| crate::context::clock_for(req.extensions()));
        self.receive_with(req, &clock).await
    }

    /// [`Webhook::receive`] with the clock already chosen.
    pub(crate) async fn receive_with<B: http_body::Body>(
        &self,
        req: http::Request<B>,
        clock: &Clock,
    ) -> Result<Received, Rejection> {
        let started = crate::platform::Instant::now();
        let (mut parts, body) = req.into_parts();
        let given = parts.extensions.get::<WebhookSecrets>().cloned();
        let outcome = async {
            let secrets = self.secrets(given.as_ref())?;
            let now = clock.now();
            let signed = self.check_headers(&parts.headers, now)?;
            let announced = parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok());
            let bytes = body::read_capped(body, self.inner.max_body_bytes, announced)
                .await
                .map_err(|error| match error {
                    BodyError::TooLarge => too_large(self.inner.max_body_bytes),
                    BodyError::Unreadable => Rejection::bad_request(
                        "unreadable_body",
                        "The request's body could not be read.",
                    ),
                })?;
            check_signature(secrets, &signed, &bytes)?;
            let event = self.accept(&signed, bytes.clone())?;
            let claim = self.claim(&event, now).await?;
            Ok((bytes, event, claim))
        }
        .await;
        match outcome {
            Ok((bytes, event, claim)) => {
                record(None, started);
                crate::bridge::strip(&mut parts.headers);
                parts.extensions.insert(event.clone());
                Ok(Received {
                    parts,
                    body: bytes,
                    event,
                    claim,
                })
            }
            Err(rejection) => {
                log_refusal(&parts.headers, &rejection);
                record(Some(&rejection), started);
                Err(rejection)
            }
        }
    }

    /// The secrets to verify with: `given` (a request's [`WebhookSecrets`]), else the
    /// configured ones; a setting that cannot work is a 500 either way.
    fn secrets<'a>(
        &'a self,
        given: Option<&'a WebhookSecrets>,
    ) -> Result<&'a [WebhookSecret], Rejection> {
        if let Some(error) = &self.inner.setting_error {
            return Err(Rejection::misconfigured(error.reason()));
        }
        match (given, &self.inner.secrets) {
            (Some(given), _) => Ok(&given.0),
            (None, Ok(secrets)) => Ok(secrets),
            (None, Err(error)) => Err(Rejection::misconfigured(error.reason())),
        }
    }

    /// The three headers, and the timestamp against `now`.
    fn check_headers<'h>(&self, headers: &'h HeaderMap, now: i64) -> Result<Signed<'h>, Rejection> {
        let id = single(headers, "webhook-id")?;
        if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|byte| byte.is_ascii_graphic())
        {
            return Err(malformed("webhook-id"));
        }
        let timestamp_text = single(headers, "webhook-timestamp")?;
        let timestamp =
            canonical_seconds(timestamp_text).ok_or_else(|| malformed("webhook-timestamp"))?;
        let mut signatures = Vec::new();
        let mut entries = 0usize;
        for value in headers.get_all("webhook-signature") {
            let text = value
                .to_str()
                .ok()
                .filter(|text| {
                    text.bytes()
                        .all(|byte| byte == b' ' || byte.is_ascii_graphic())
                })
                .ok_or_else(|| malformed("webhook-signature"))?;
            entries += text.split(' ').filter(|entry| !entry.is_empty()).count();
            signatures.push(text);
        }
        if signatures.is_empty() {
            return Err(missing("webhook-signature"));
        }
        if entries == 0 || entries > MAX_SIGNATURES {
            return Err(malformed("webhook-signature"));
        }
        let tolerance = i64::try_from(self.inner.tolerance.as_secs()).unwrap_or(i64::MAX);
        let age = i128::from(now) - i128::from(timestamp);
        if age > i128::from(tolerance) {
            return Err(Rejection::unauthenticated(
                "stale_timestamp",
                "The delivery's timestamp is older than the tolerance allows.",
            )
            .with_challenge(Challenge::None));
        }
        if -age > i128::from(tolerance) {
            return Err(Rejection::unauthenticated(
                "future_timestamp",
                "The delivery's timestamp is further in the future than the tolerance allows.",
            )
            .with_challenge(Challenge::None));
        }
        Ok(Signed {
            id,
            timestamp_text,
            timestamp,
            signatures,
        })
    }

    /// The envelope and the filter, for a verified body.
    fn accept(&self, signed: &Signed<'_>, body: Bytes) -> Result<WebhookEvent, Rejection> {
        let event = WebhookEvent::from_verified(signed.id.to_owned(), signed.timestamp, body)
            .map_err(|_| {
                Rejection::bad_request(
                    "malformed_event",
                    "The delivery's body is not a Wacht event (a JSON object with `type` and `data`).",
                )
            })?;
        if let Some(events) = &self.inner.events
            && !events.iter().any(|taken| taken == event.event_type())
        {
            return Err(Rejection::new(
                RejectionCode::Ignored,
                "event_not_handled",
                "This endpoint does not handle this event type.",
            ));
        }
        Ok(event)
    }

    /// The delivery log's claim on a verified, accepted delivery.
    async fn claim(
        &self,
        event: &WebhookEvent,
        now: i64,
    ) -> Result<Option<DeliveryClaim>, Rejection> {
        let Some(log) = &self.inner.log else {
            return Ok(None);
        };
        let tolerance = i64::try_from(self.inner.tolerance.as_secs()).unwrap_or(i64::MAX);
        let remember_until = event.timestamp().saturating_add(tolerance);
        match log.claim(event.id(), now, remember_until).await {
            Ok(Claim::New) => Ok(Some(DeliveryClaim {
                log: Arc::clone(log),
                id: event.id().to_owned(),
            })),
            Ok(Claim::Done) => Err(Rejection::new(
                RejectionCode::Ignored,
                "duplicate_delivery",
                "This delivery was handled already.",
            )),
            Ok(Claim::InProgress) => Err(Rejection::unavailable(
                "delivery_in_progress",
                "This delivery is being handled by another attempt; try again later.",
            )
            .with_retry_after(IN_PROGRESS_RETRY_AFTER)),
            Err(error) => {
                tracing::error!(target: "wacht", webhook_id = event.id(), %error, "the webhook delivery log failed");
                Err(Rejection::unavailable(
                    "delivery_log_unavailable",
                    "Deliveries cannot be checked for duplicates right now; try again later.",
                ))
            }
        }
    }
}

/// A verified delivery: the request's head (with the event in its extensions and any
/// client-sent `x-wacht-auth` removed), its body, the event, and the delivery log's claim.
pub struct Received {
    /// The request's head.
    pub parts: http::request::Parts,
    /// The body, exactly as received.
    pub body: Bytes,
    /// The verified event.
    pub event: WebhookEvent,
    /// The delivery log's claim, when a log is set: finish it with the handler's outcome.
    pub claim: Option<DeliveryClaim>,
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may carry personal data: its length only.
        f.debug_struct("Received")
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri)
            .field("body_len", &self.body.len())
            .field("event", &self.event)
            .field("claim", &self.claim)
            .finish()
    }
}

impl Received {
    /// Ends the delivery log's claim (no effect without a log): `handled` when the handler
    /// answered with a success.
    pub async fn finish(self, handled: bool) {
        if let Some(claim) = self.claim {
            claim.finish(handled).await;
        }
    }
}

/// A delivery id claimed in a [`DeliveryLog`]. If it is dropped without
/// [`DeliveryClaim::finish`], the claim holds until the log lets it expire.
pub struct DeliveryClaim {
    log: Arc<dyn DeliveryLog>,
    id: String,
}

impl DeliveryClaim {
    /// Ends the claim: `handled` when the handler answered with a success (2xx).
    pub async fn finish(self, handled: bool) {
        self.log.finish(&self.id, handled).await;
    }
}

impl fmt::Debug for DeliveryClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryClaim")
            .field("id", &self.id)
            .finish()
    }
}

/// The one value of header `name`: missing → 400 `missing_webhook_header`; repeated or not
/// visible ASCII → 400 `malformed_webhook_header`.
fn single<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, Rejection> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Err(missing(name));
    };
    if values.next().is_some() {
        return Err(malformed(name));
    }
    value.to_str().map_err(|_| malformed(name))
}

/// `text` as Unix seconds, only in canonical decimal (what Wacht sends and what signers
/// format): 1 to 19 ASCII digits, no sign, no leading zero.
fn canonical_seconds(text: &str) -> Option<i64> {
    let canonical = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|byte| byte.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse::<i64>().ok()).flatten()
}

fn missing(name: &'static str) -> Rejection {
    Rejection::bad_request(
        "missing_webhook_header",
        format!("The `{name}` header is missing: this is not a Standard Webhooks delivery."),
    )
}

fn malformed(name: &'static str) -> Rejection {
    Rejection::bad_request(
        "malformed_webhook_header",
        format!("The `{name}` header is malformed."),
    )
}

fn too_large(cap: usize) -> Rejection {
    Rejection::new(
        RejectionCode::PayloadTooLarge,
        "body_too_large",
        format!("The delivery's body is over this endpoint's limit of {cap} bytes."),
    )
}

/// Whether one of the `v1` signatures in `webhook-signature` is one of the secrets' over
/// `<id>.<timestamp>.<body>`. Each secret's HMAC is computed once and compared with every
/// candidate in constant time (`CtOutput`); a candidate that is not standard base64 of 32
/// bytes matches nothing. Other versions (`v1a`, an Ed25519 signature) are skipped.
fn check_signature(
    secrets: &[WebhookSecret],
    signed: &Signed<'_>,
    body: &[u8],
) -> Result<(), Rejection> {
    let mut candidates: Vec<[u8; TAG_LEN]> = Vec::new();
    let mut v1_entries = 0usize;
    for entry in signed.signatures.iter().flat_map(|value| value.split(' ')) {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        v1_entries += 1;
        let mut decoded = [0u8; 48];
        if let Ok(TAG_LEN) = STANDARD.decode_slice(encoded, &mut decoded) {
            let mut tag = [0u8; TAG_LEN];
            tag.copy_from_slice(&decoded[..TAG_LEN]);
            candidates.push(tag);
        }
    }
    if v1_entries == 0 {
        return Err(Rejection::unauthenticated(
            "unsupported_signature_version",
            "The delivery carries no `v1` (HMAC-SHA256) signature.",
        )
        .with_challenge(Challenge::None));
    }
    let mut matched = false;
    for secret in secrets {
        let tag = secret.sign(signed.id, signed.timestamp_text, body);
        for candidate in &candidates {
            // No early exit on a match: the work done does not depend on which one matched.
            matched |= tag.matches(candidate);
        }
    }
    if matched {
        Ok(())
    } else {
        Err(Rejection::unauthenticated(
            "signature_mismatch",
            "No signature of the delivery matches this endpoint's signing secret.",
        )
        .with_challenge(Challenge::None))
    }
}

/// Counts a verified (`None`) or refused delivery (feature `metrics`: `check` = `webhook`).
fn record(refused: Option<&Rejection>, started: crate::platform::Instant) {
    crate::metrics::webhook(
        refused.map(|rejection| (rejection.code(), rejection.reason())),
        started.elapsed(),
    );
}

/// Logs a refused delivery: the reason and the delivery's id (never a secret or the body).
fn log_refusal(headers: &HeaderMap, rejection: &Rejection) {
    let id = headers
        .get("webhook-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| id.len() <= MAX_ID_LEN)
        .unwrap_or("");
    if rejection.code() == RejectionCode::Ignored {
        tracing::debug!(target: "wacht", reason = rejection.reason(), webhook_id = id, "webhook delivery not handled");
    } else {
        tracing::info!(target: "wacht", outcome = rejection.code().as_str(), reason = rejection.reason(), webhook_id = id, "webhook delivery refused");
    }
}
