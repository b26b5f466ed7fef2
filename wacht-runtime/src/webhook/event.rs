//! [`WebhookEvent`]: a verified delivery, as the handler receives it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::events::WachtEvent;

/// A webhook delivery from Wacht whose signature verified: the `webhook-id`, the signed
/// `webhook-timestamp`, the event's type, and the body exactly as signed.
///
/// The body is Wacht's envelope `{"type": "<event>", "timestamp": "<RFC 3339>", "data": {…}}`;
/// [`WebhookEvent::data`] is its `data`, [`WebhookEvent::data_as`] the same as your own type,
/// and [`WebhookEvent::event`] the typed form for the events Wacht sends today. Cheap to
/// clone (the body is shared).
///
/// Wacht delivers at least once: the same event can arrive again (a retry after a lost
/// answer). Make the handler idempotent on [`WebhookEvent::id`] (an upsert keyed by it, a
/// unique constraint), or give the attribute a delivery log (`dedup`).
#[derive(Clone)]
pub struct WebhookEvent(Arc<Inner>);

struct Inner {
    id: String,
    timestamp: i64,
    event_type: String,
    raw: Bytes,
    /// The `data` member's text, a slice of `raw`.
    data_raw: Bytes,
    data: OnceLock<Value>,
}

/// Why a signed body is not Wacht's envelope.
#[derive(Debug)]
pub(crate) struct NotAnEnvelope;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    event_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    data: &'a RawValue,
}

impl WebhookEvent {
    /// Parses the envelope of a verified body (the body is JSON text, an object with a
    /// non-empty string `type` and a `data` member; other members are ignored).
    pub(crate) fn from_verified(
        id: String,
        timestamp: i64,
        raw: Bytes,
    ) -> Result<Self, NotAnEnvelope> {
        let envelope: Envelope<'_> = serde_json::from_slice(&raw).map_err(|_| NotAnEnvelope)?;
        if envelope.event_type.is_empty() {
            return Err(NotAnEnvelope);
        }
        let event_type = envelope.event_type.into_owned();
        let data = envelope.data.get().as_bytes();
        // `data` borrows from `raw`: its position there gives the slice, without a copy.
        let start = (data.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
        let data_raw = if start <= raw.len() && raw.len() - start >= data.len() {
            raw.slice(start..start + data.len())
        } else {
            // Not reached: `RawValue` borrows from the input. Copy to be safe.
            Bytes::copy_from_slice(data)
        };
        Ok(WebhookEvent(Arc::new(Inner {
            id,
            timestamp,
            event_type,
            raw,
            data_raw,
            data: OnceLock::new(),
        })))
    }

    /// The `webhook-id` header: the delivery's id (`msg_…` for Wacht). A retry of a delivery
    /// carries the same id; key idempotent handling on it.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The `webhook-timestamp` header (Unix seconds): when Wacht created the delivery. Signed,
    /// and within the tolerance of this server's clock.
    pub fn timestamp(&self) -> i64 {
        self.0.timestamp
    }

    /// The event's type: the envelope's `type` (`user.created`, …).
    pub fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// The body exactly as received and signed.
    pub fn raw(&self) -> &[u8] {
        &self.0.raw
    }

    /// The body as [`Bytes`] (shares the buffer).
    pub fn raw_bytes(&self) -> Bytes {
        self.0.raw.clone()
    }

    /// The envelope's `data` (parsed on first use, then kept).
    pub fn data(&self) -> &Value {
        self.0.data.get_or_init(|| {
            // The text was checked to be JSON when the envelope was parsed.
            serde_json::from_slice(&self.0.data_raw).unwrap_or(Value::Null)
        })
    }

    /// The envelope's `data` as `T` (read from the delivered text).
    ///
    /// ```
    /// # fn f(event: wacht_runtime::WebhookEvent) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Created { first_name: Option<String> }
    /// let user: Created = event.data_as()?;
    /// # let _ = user; Ok(()) }
    /// ```
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.0.data_raw)
    }

    /// The typed event: one variant per event Wacht sends today, [`WachtEvent::Other`] for
    /// any other type (a new one, or your own app's). Fails only when the `data` of a known
    /// type does not have that type's shape.
    pub fn event(&self) -> Result<WachtEvent, serde_json::Error> {
        WachtEvent::parse(&self.0.event_type, &self.0.data_raw)
    }
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may carry personal data: its length only.
        f.debug_struct("WebhookEvent")
            .field("id", &self.0.id)
            .field("timestamp", &self.0.timestamp)
            .field("event_type", &self.0.event_type)
            .field("body_len", &self.0.raw.len())
            .finish()
    }
}
