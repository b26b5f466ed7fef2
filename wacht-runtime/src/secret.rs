//! A string that never shows itself in `Debug` or `Display`.

use std::fmt;

/// A secret value (API key, token). Its `Debug` prints `Secret(***)`; read it with
/// [`Secret::expose`] only where it is sent on the wire.
///
/// ```
/// use wacht_runtime::Secret;
/// let key = Secret::new("sk_live_abc");
/// assert_eq!(format!("{key:?}"), "Secret(***)");
/// assert_eq!(key.expose(), "sk_live_abc");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
