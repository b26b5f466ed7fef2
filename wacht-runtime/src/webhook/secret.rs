//! Endpoint signing secrets (`whsec_<base64 key>`) and the HMAC-SHA256 they key.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of a Standard Webhooks signing secret.
const PREFIX: &str = "whsec_";

/// The shortest key accepted, in bytes. Wacht's keys are 32 random bytes; the Standard
/// Webhooks specification asks for 24 to 64. A shorter key could be guessed, and anyone who
/// guesses it can sign deliveries.
pub const MIN_SECRET_BYTES: usize = 16;

/// The longest key accepted, in bytes (a secret pasted with something else is refused rather
/// than used).
pub const MAX_SECRET_BYTES: usize = 1024;

/// One endpoint signing secret: `whsec_` followed by the standard base64 of the key, as Wacht
/// shows it (the prefix may be left out, as Wacht's own signer allows). Its `Debug` shows
/// nothing of the key.
///
/// ```
/// use wacht_runtime::webhook::WebhookSecret;
/// let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// assert_eq!(format!("{secret:?}"), "WebhookSecret(***)");
/// assert!(WebhookSecret::parse("whsec_not base64!").is_err());
/// # Ok::<(), wacht_runtime::webhook::WebhookSecretError>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    /// The HMAC with the key already absorbed (its inner and outer pads computed once): each
    /// verification clones it.
    mac: HmacSha256,
}

/// Why a signing secret was refused. The message never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookSecretError {
    /// Nothing was given.
    #[error("the webhook signing secret is empty")]
    Empty,
    /// The text after `whsec_` is not standard base64.
    #[error("the webhook signing secret is not `whsec_` followed by standard base64")]
    NotBase64,
    /// The key is shorter than [`MIN_SECRET_BYTES`] or longer than [`MAX_SECRET_BYTES`].
    #[error(
        "the webhook signing secret's key is {0} bytes; between {MIN_SECRET_BYTES} and {MAX_SECRET_BYTES} are accepted"
    )]
    Length(usize),
}

impl WebhookSecret {
    /// Parses `whsec_<standard base64>` (or the base64 alone). Surrounding white space is
    /// ignored.
    pub fn parse(text: &str) -> Result<Self, WebhookSecretError> {
        let text = text.trim();
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        if encoded.is_empty() {
            return Err(WebhookSecretError::Empty);
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookSecretError::NotBase64)?;
        Self::from_bytes(&key)
    }

    /// A secret from the raw key bytes.
    pub fn from_bytes(key: &[u8]) -> Result<Self, WebhookSecretError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(WebhookSecretError::Length(key.len()));
        }
        // HMAC takes keys of any length; the range above is checked first.
        let mac =
            HmacSha256::new_from_slice(key).map_err(|_| WebhookSecretError::Length(key.len()))?;
        Ok(WebhookSecret { mac })
    }

    /// Several secrets, separated by white space or commas (during a rotation, the old and
    /// the new). At least one; any one that does not parse refuses the whole list.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, WebhookSecretError> {
        let secrets = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|part| !part.is_empty())
            .map(Self::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if secrets.is_empty() {
            return Err(WebhookSecretError::Empty);
        }
        Ok(secrets)
    }

    /// HMAC-SHA256 of `<id>.<timestamp>.<body>` under this secret, without copying the body.
    pub(crate) fn sign(&self, id: &str, timestamp: &str, body: &[u8]) -> Tag {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        Tag(mac.finalize())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// A computed signature. Compared with a candidate in constant time (`hmac`'s `CtOutput`,
/// built on `subtle`).
pub(crate) struct Tag(hmac::digest::CtOutput<HmacSha256>);

/// The length of an HMAC-SHA256 signature in bytes.
pub(crate) const TAG_LEN: usize = 32;

impl Tag {
    /// Whether `candidate` (decoded) is this signature, in time independent of where they
    /// differ.
    pub(crate) fn matches(&self, candidate: &[u8; TAG_LEN]) -> bool {
        let candidate = hmac::digest::CtOutput::<HmacSha256>::new((*candidate).into());
        self.0 == candidate
    }

    /// The signature as the header carries it: `v1,<standard base64>`.
    #[cfg(test)]
    pub(crate) fn header_entry(&self) -> String {
        format!("v1,{}", STANDARD.encode(self.0.clone().into_bytes()))
    }
}
