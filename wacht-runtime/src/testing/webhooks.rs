//! Webhook deliveries signed exactly as Wacht signs them (its platform's
//! `generate_webhook_signature` and delivery worker): `LocalWacht::deliver`.
//!
//! The signer here is independent of the verifier in `crate::webhook`: it uses aws-lc-rs's
//! HMAC, so a bug in one does not cancel out in the other.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;

use super::LocalWacht;
use super::random::{or_panic, random_bytes_32, random_digits};
use crate::clock::Clock;
use crate::webhook::WebhookSecrets;

/// The user agent of Wacht's deliveries.
pub const WACHT_WEBHOOK_USER_AGENT: &str = "Wacht-Webhook/1.0";

/// A new endpoint signing secret: `whsec_` and the standard base64 of 32 random bytes, as
/// Wacht makes them.
pub(super) fn new_signing_secret() -> String {
    format!("whsec_{}", STANDARD.encode(or_panic(random_bytes_32())))
}

/// An event for [`LocalWacht::deliver`]: a type and its `data`, with the delivery's id,
/// timestamp and signing secret defaulting to what Wacht would use (a fresh `msg_<digits>`
/// id, now, the emulator's secret).
///
/// ```
/// use serde_json::json;
/// use wacht_runtime::testing::{LocalWacht, OutgoingEvent};
///
/// let wacht = LocalWacht::start()?;
/// let event = OutgoingEvent::new("user.created", json!({ "entity_id": 42, "entity_type": "user" }))
///     .id("msg_1")
///     .timestamp(1_767_225_600);
/// let request = wacht.webhook_request("/webhooks", &event);
/// assert_eq!(request.headers()["webhook-id"], "msg_1");
/// assert_eq!(request.headers()["webhook-timestamp"], "1767225600");
/// assert!(request.headers()["webhook-signature"].to_str().unwrap().starts_with("v1,"));
/// assert_eq!(
///     request.body(),
///     r#"{"type":"user.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"entity_id":42,"entity_type":"user"}}"#
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct OutgoingEvent {
    event_type: String,
    data: Value,
    id: Option<String>,
    timestamp: Option<i64>,
    secrets: Option<Vec<String>>,
    signature: Option<String>,
    body: Option<Vec<u8>>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl fmt::Debug for OutgoingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingEvent")
            .field("event_type", &self.event_type)
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl OutgoingEvent {
    /// An event of `event_type` (`user.created`, …) with `data`.
    pub fn new(event_type: impl Into<String>, data: Value) -> Self {
        OutgoingEvent {
            event_type: event_type.into(),
            data,
            id: None,
            timestamp: None,
            secrets: None,
            signature: None,
            body: None,
            headers: Vec::new(),
        }
    }

    /// The `webhook-id` (default: `msg_` and 18 random digits, as Wacht's).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The `webhook-timestamp`, Unix seconds (default: now, by the system clock). The body's
    /// `timestamp` is the same instant, as Wacht writes it (RFC 3339, milliseconds, `Z`).
    pub fn timestamp(mut self, unix_seconds: i64) -> Self {
        self.timestamp = Some(unix_seconds);
        self
    }

    /// Signs with `secret` (`whsec_…`) instead of the emulator's: a forged delivery, or the
    /// other secret of a rotation.
    pub fn signed_with(mut self, secret: impl Into<String>) -> Self {
        self.secrets = Some(vec![secret.into()]);
        self
    }

    /// Signs with each of `secrets`, space-separated in one header, as a sender in the middle
    /// of a rotation does.
    pub fn signed_with_each<I, S>(mut self, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.secrets = Some(secrets.into_iter().map(Into::into).collect());
        self
    }

    /// Sends `signature` as the `webhook-signature` header instead of signing.
    pub fn signature(mut self, signature: impl Into<String>) -> Self {
        self.signature = Some(signature.into());
        self
    }

    /// Sends `body` instead of the envelope, signed as given (the signature still covers the
    /// envelope when [`OutgoingEvent::signature`] is not set: a tampered body).
    pub fn tampered_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// An extra header (an endpoint's custom header), or one replacing a webhook header.
    ///
    /// # Panics
    ///
    /// When `name` or `value` is not a valid header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            panic!("wacht testing: {name:?}: {value:?} is not a valid header");
        };
        self.headers.push((name, value));
        self
    }

    /// The body Wacht sends: `{"type":…,"timestamp":…,"data":…}`, members in that order (the
    /// platform's `serde_json` keeps insertion order).
    fn envelope(&self, timestamp: i64) -> Vec<u8> {
        let instant = time::OffsetDateTime::from_unix_timestamp(timestamp)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        // chrono's `to_rfc3339_opts(SecondsFormat::Millis, true)` of whole seconds.
        let written = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            instant.year(),
            u8::from(instant.month()),
            instant.day(),
            instant.hour(),
            instant.minute(),
            instant.second()
        );
        format!(
            r#"{{"type":{},"timestamp":{},"data":{}}}"#,
            Value::from(self.event_type.as_str()),
            Value::from(written),
            self.data
        )
        .into_bytes()
    }
}

/// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`: Wacht's
/// `generate_webhook_signature`, with aws-lc-rs. The key is the secret without `whsec_`,
/// standard-base64 decoded (a secret that does not decode signs with an empty key, which no
/// verifier accepts).
pub fn sign_webhook(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key_bytes = STANDARD.decode(encoded).unwrap_or_default();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key_bytes);
    let mut context = aws_lc_rs::hmac::Context::with_key(&key);
    context.update(format!("{id}.{timestamp}.").as_bytes());
    context.update(body);
    format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
}

/// What the endpoint answered to a delivery.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The delivery's `webhook-id`.
    pub id: String,
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Delivered {
    /// Whether Wacht would count it delivered (a 2xx).
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// Whether Wacht would retry it: a 5xx, 408 or 429 (its worker's rule; any other
    /// failure is final).
    pub fn would_retry(&self) -> bool {
        self.status.is_server_error()
            || self.status == StatusCode::REQUEST_TIMEOUT
            || self.status == StatusCode::TOO_MANY_REQUESTS
    }

    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl LocalWacht {
    /// The endpoint signing secret of this emulator's deliveries (`whsec_…`, 32 random
    /// bytes); set it as `WACHT_WEBHOOK_SECRET` (or the handler's `secret_env`).
    #[must_use]
    pub fn webhook_secret(&self) -> String {
        self.inner.webhook_secret.clone()
    }

    /// [`LocalWacht::webhook_secret`] as [`WebhookSecrets`], to put in a request's extensions
    /// (instead of setting `WACHT_WEBHOOK_SECRET`).
    ///
    /// # Panics
    ///
    /// Never in practice: the secret is made to parse.
    #[must_use]
    pub fn webhook_secrets(&self) -> WebhookSecrets {
        match WebhookSecrets::parse(&self.inner.webhook_secret) {
            Ok(secrets) => secrets,
            Err(error) => panic!("wacht testing: the emulator's webhook secret: {error}"),
        }
    }

    /// The delivery of `event` to `uri` as an `http::Request` (a `POST` with Wacht's headers,
    /// user agent and body), for handlers called without a server.
    ///
    /// # Panics
    ///
    /// When `uri` is not a valid URI.
    #[must_use]
    pub fn webhook_request(&self, uri: &str, event: &OutgoingEvent) -> http::Request<String> {
        let (headers, body) = self.sign_event(event);
        let mut request = http::Request::new(String::from_utf8_lossy(&body).into_owned());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = match uri.parse() {
            Ok(uri) => uri,
            Err(_) => panic!("wacht testing: {uri:?} is not a valid URI"),
        };
        *request.headers_mut() = headers;
        request
    }

    /// Delivers `event` to `url` as Wacht does: `POST`, `Content-Type: application/json`,
    /// `User-Agent: Wacht-Webhook/1.0`, the three Standard Webhooks headers signed with
    /// [`LocalWacht::webhook_secret`] (or the event's own secret), the event's extra
    /// headers, and the envelope as the body.
    ///
    /// # Errors
    ///
    /// When the request cannot be sent or its answer read.
    pub async fn deliver(
        &self,
        url: &str,
        event: &OutgoingEvent,
    ) -> Result<Delivered, reqwest::Error> {
        let (headers, body) = self.sign_event(event);
        let id = headers
            .get("webhook-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let response = reqwest::Client::new()
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await?;
        Ok(Delivered {
            id,
            status,
            headers,
            body,
        })
    }

    /// The headers and body of `event`'s delivery.
    fn sign_event(&self, event: &OutgoingEvent) -> (HeaderMap, Vec<u8>) {
        let id = event
            .id
            .clone()
            .unwrap_or_else(|| format!("msg_{}", or_panic(random_digits())));
        let timestamp = event.timestamp.unwrap_or_else(|| Clock::system().now());
        let envelope = event.envelope(timestamp);
        let secrets = event
            .secrets
            .clone()
            .unwrap_or_else(|| vec![self.webhook_secret()]);
        let signature = event.signature.clone().unwrap_or_else(|| {
            let signatures: Vec<String> = secrets
                .iter()
                .map(|secret| sign_webhook(secret, &id, timestamp, &envelope))
                .collect();
            signatures.join(" ")
        });
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        put("content-type", "application/json");
        put("user-agent", WACHT_WEBHOOK_USER_AGENT);
        put("webhook-id", &id);
        put("webhook-timestamp", &timestamp.to_string());
        put("webhook-signature", &signature);
        // The platform inserts the endpoint's custom headers after its own (replacing any of
        // the same name).
        for (name, value) in &event.headers {
            headers.insert(name.clone(), value.clone());
        }
        (headers, event.body.clone().unwrap_or(envelope))
    }
}
