//! Session-token keys: JWKS parsing, the PEM key, and the key cache.
//!
//! The cache fetches lazily, lets one fetch run at a time however many requests wait
//! (single flight), refreshes after a TTL, refreshes for an unknown `kid` at most once per
//! minimum interval, keeps serving the keys it holds when a refresh fails, and answers
//! "unavailable" only when it holds none.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::config::ConfigError;

/// Why the key set could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFetchError {
    /// The request did not complete (connection refused, reset, DNS).
    #[error("the JWKS request failed: {0}")]
    Transport(String),
    /// The request took longer than the configured timeout.
    #[error("the JWKS request timed out")]
    Timeout,
    /// The JWKS endpoint answered a non-2xx status.
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body was not a JWKS document.
    #[error("the JWKS document is invalid: {0}")]
    Invalid(String),
}

impl KeyFetchError {
    /// The stable snake_case reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            KeyFetchError::Timeout => "keys_timeout",
            _ => "keys_unavailable",
        }
    }
}

/// The family a key belongs to; it fixes which algorithms the key may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    P256,
    P384,
    Rsa,
    Ed25519,
}

impl KeyKind {
    fn algorithms(self) -> &'static [Algorithm] {
        match self {
            KeyKind::P256 => &[Algorithm::ES256],
            KeyKind::P384 => &[Algorithm::ES384],
            KeyKind::Rsa => &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
            KeyKind::Ed25519 => &[Algorithm::EdDSA],
        }
    }
}

/// A parsed public key, ready to verify signatures.
pub(crate) struct VerifyingKey {
    kid: Option<String>,
    kind: KeyKind,
    /// The key's own `alg`, when it declares one.
    alg: Option<Algorithm>,
    decoding: DecodingKey,
}

impl VerifyingKey {
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether this key may verify a token whose header says `alg`: the algorithm must be
    /// implied by the key's type and equal the key's own `alg` when it has one.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.kind.algorithms().contains(&alg) && self.alg.is_none_or(|own| own == alg)
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// The keys held at one moment, with the generation they were fetched in.
pub(crate) struct KeySet {
    pub(crate) keys: Vec<Arc<VerifyingKey>>,
    pub(crate) generation: u64,
}

impl KeySet {
    /// The key the token's `kid` names. A set of exactly one key that has no `kid` (the
    /// configured PEM key, or such a JWKS) is used whatever the token names; with no `kid`
    /// in the token, the only key there is.
    pub(crate) fn select(&self, kid: Option<&str>) -> KeyChoice {
        match (kid, self.keys.as_slice()) {
            (_, [only]) if only.kid().is_none() => KeyChoice::Found(only.clone()),
            (Some(kid), keys) => keys
                .iter()
                .find(|k| k.kid() == Some(kid))
                .map_or(KeyChoice::Unknown, |k| KeyChoice::Found(k.clone())),
            (None, [only]) => KeyChoice::Found(only.clone()),
            (None, []) => KeyChoice::Unknown,
            (None, _) => KeyChoice::Ambiguous,
        }
    }
}

/// The outcome of [`KeySet::select`].
pub(crate) enum KeyChoice {
    Found(Arc<VerifyingKey>),
    Unknown,
    Ambiguous,
}

/// Parses a JWKS document. Keys that are not signature keys (`use` other than `sig`,
/// `key_ops` without `verify`), symmetric keys and keys of unsupported types are skipped
/// (and logged); a document that is not `{"keys":[...]}` is an error.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<Vec<VerifyingKey>, KeyFetchError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| KeyFetchError::Invalid(format!("not JSON: {e}")))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| KeyFetchError::Invalid("no `keys` array".to_owned()))?;
    let mut parsed = Vec::with_capacity(keys.len());
    for (index, jwk) in keys.iter().enumerate() {
        match parse_jwk(jwk) {
            Ok(key) => parsed.push(key),
            Err(why) => tracing::debug!(target: "wacht", index, why, "JWKS key skipped"),
        }
    }
    Ok(parsed)
}

fn parse_jwk(jwk: &Value) -> Result<VerifyingKey, &'static str> {
    let field = |name: &str| jwk.get(name);
    let string = |name: &str| -> Result<Option<&str>, &'static str> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err("a key field is not a string"),
        }
    };
    if let Some(usage) = string("use")?
        && usage != "sig"
    {
        return Err("`use` is not `sig`");
    }
    if let Some(ops) = field("key_ops") {
        let ops = ops.as_array().ok_or("`key_ops` is not an array")?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err("`key_ops` does not allow `verify`");
        }
    }
    let kid = string("kid")?.map(str::to_owned);
    let alg = match string("alg")? {
        None => None,
        Some(name) => Some(parse_asymmetric_alg(name).ok_or("unsupported key `alg`")?),
    };
    let required = |name: &str| string(name)?.ok_or("a required key field is missing");
    let (kind, decoding) = match required("kty")? {
        "EC" => {
            let kind = match required("crv")? {
                "P-256" => KeyKind::P256,
                "P-384" => KeyKind::P384,
                _ => return Err("unsupported EC curve"),
            };
            let (x, y) = (required("x")?, required("y")?);
            let expected = if kind == KeyKind::P256 { 32 } else { 48 };
            if decoded_len(x)? != expected || decoded_len(y)? != expected {
                return Err("EC coordinates have the wrong length");
            }
            let key = DecodingKey::from_ec_components(x, y).map_err(|_| "bad EC coordinates")?;
            (kind, key)
        }
        "RSA" => {
            let (n, e) = (required("n")?, required("e")?);
            decoded_len(n)?;
            decoded_len(e)?;
            let key = DecodingKey::from_rsa_components(n, e).map_err(|_| "bad RSA components")?;
            (KeyKind::Rsa, key)
        }
        "OKP" => {
            if required("crv")? != "Ed25519" {
                return Err("unsupported OKP curve");
            }
            let x = required("x")?;
            if decoded_len(x)? != 32 {
                return Err("Ed25519 key has the wrong length");
            }
            let key = DecodingKey::from_ed_components(x).map_err(|_| "bad Ed25519 key")?;
            (KeyKind::Ed25519, key)
        }
        "oct" => return Err("symmetric keys are never used"),
        _ => return Err("unsupported `kty`"),
    };
    if let Some(alg) = alg
        && !kind.algorithms().contains(&alg)
    {
        return Err("the key's `alg` does not fit its type");
    }
    Ok(VerifyingKey {
        kid,
        kind,
        alg,
        decoding,
    })
}

fn decoded_len(b64: &str) -> Result<usize, &'static str> {
    crate::session::b64url_decode(b64)
        .map(|bytes| bytes.len())
        .map_err(|_| "a key field is not base64url")
}

/// The asymmetric algorithms this runtime verifies. `none` and `HS*` are never among them.
pub(crate) fn parse_asymmetric_alg(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Parses a PEM public key (`WACHT_PUBLIC_SIGNING_KEY`): EC P-256/P-384, RSA, or Ed25519.
pub(crate) fn parse_pem(pem: &str) -> Result<VerifyingKey, ConfigError> {
    let bytes = pem.trim().as_bytes();
    if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        let kind = match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(65) => KeyKind::P256,
            Ok(97) => KeyKind::P384,
            _ => return Err(ConfigError::InvalidPublicSigningKey("unsupported EC curve")),
        };
        return Ok(VerifyingKey {
            kid: None,
            kind,
            alg: None,
            decoding: key,
        });
    }
    if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
        return Ok(VerifyingKey {
            kid: None,
            kind: KeyKind::Ed25519,
            alg: None,
            decoding: key,
        });
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        return Ok(VerifyingKey {
            kid: None,
            kind: KeyKind::Rsa,
            alg: None,
            decoding: key,
        });
    }
    Err(ConfigError::InvalidPublicSigningKey(
        "not a PEM-encoded EC (P-256/P-384), RSA or Ed25519 public key",
    ))
}

/// Mutable state of the cache, behind one short-held std mutex.
struct CacheState {
    current: Option<Arc<KeySet>>,
    /// When the current keys stop being fresh.
    fresh_until: Option<Instant>,
    /// Counts finished fetch attempts (success or failure), so waiters can tell that the
    /// fetch they queued behind has happened.
    attempts: u64,
    last_error: Option<KeyFetchError>,
    /// No TTL refresh is retried before this (set after a failed refresh).
    retry_after: Option<Instant>,
    /// When the last refresh caused by an unknown `kid` started.
    last_unknown_kid_refresh: Option<Instant>,
    next_generation: u64,
}

/// JWKS cache. Cheap to share behind an `Arc`.
pub(crate) struct KeyCache {
    http: reqwest::Client,
    url: String,
    ttl: Duration,
    min_refresh_interval: Duration,
    state: Mutex<CacheState>,
    /// Held for the whole of a fetch: the single-flight gate.
    fetch_gate: tokio::sync::Mutex<()>,
}

impl KeyCache {
    pub(crate) fn new(
        http: reqwest::Client,
        url: String,
        ttl: Duration,
        min_refresh_interval: Duration,
    ) -> Self {
        KeyCache {
            http,
            url,
            ttl,
            min_refresh_interval,
            state: Mutex::new(CacheState {
                current: None,
                fresh_until: None,
                attempts: 0,
                last_error: None,
                retry_after: None,
                last_unknown_kid_refresh: None,
                next_generation: 1,
            }),
            fetch_gate: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // The state is always left consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generation of the keys held now (0 when none).
    pub(crate) fn generation(&self) -> u64 {
        self.state().current.as_ref().map_or(0, |k| k.generation)
    }

    /// The keys to verify with: the cached ones while fresh, else after one (shared) fetch.
    pub(crate) async fn keys(&self) -> Result<Arc<KeySet>, KeyFetchError> {
        let attempts = {
            let state = self.state();
            let now = Instant::now();
            match &state.current {
                Some(keys) if state.fresh_until.is_some_and(|t| now < t) => return Ok(keys.clone()),
                // Stale, but a refresh failed recently: keep serving what we have.
                Some(keys) if state.retry_after.is_some_and(|t| now < t) => return Ok(keys.clone()),
                _ => state.attempts,
            }
        };
        self.fetch_once(attempts).await
    }

    /// Called when a token names a `kid` the current keys lack: refreshes unless a refresh
    /// for an unknown `kid` started less than the minimum interval ago, then returns the keys.
    pub(crate) async fn refresh_for_unknown_kid(
        &self,
        seen_generation: u64,
    ) -> Result<Arc<KeySet>, KeyFetchError> {
        let attempts = {
            let mut state = self.state();
            let current_generation = state.current.as_ref().map_or(0, |k| k.generation);
            if current_generation != seen_generation {
                // Someone refreshed since the caller looked: use those keys.
                if let Some(keys) = &state.current {
                    return Ok(keys.clone());
                }
            }
            let now = Instant::now();
            let limited = state
                .last_unknown_kid_refresh
                .is_some_and(|t| now.duration_since(t) < self.min_refresh_interval);
            if limited {
                return match &state.current {
                    Some(keys) => Ok(keys.clone()),
                    None => Err(state
                        .last_error
                        .clone()
                        .unwrap_or_else(|| KeyFetchError::Invalid("no keys held".to_owned()))),
                };
            }
            state.last_unknown_kid_refresh = Some(now);
            state.attempts
        };
        self.fetch_once(attempts).await
    }

    /// Fetches unless an attempt finished since `seen_attempts` (then that attempt's outcome
    /// is used): one fetch in flight at a time.
    async fn fetch_once(&self, seen_attempts: u64) -> Result<Arc<KeySet>, KeyFetchError> {
        let _gate = self.fetch_gate.lock().await;
        {
            let state = self.state();
            if state.attempts != seen_attempts {
                return match (&state.current, &state.last_error) {
                    (Some(keys), _) => Ok(keys.clone()),
                    (None, Some(error)) => Err(error.clone()),
                    (None, None) => Err(KeyFetchError::Invalid("no keys".to_owned())),
                };
            }
        }
        let result = self.fetch().await;
        let mut state = self.state();
        state.attempts += 1;
        let now = Instant::now();
        match result {
            Ok(keys) => {
                let generation = state.next_generation;
                state.next_generation += 1;
                tracing::debug!(target: "wacht", keys = keys.len(), generation, "JWKS fetched");
                let set = Arc::new(KeySet {
                    keys: keys.into_iter().map(Arc::new).collect(),
                    generation,
                });
                state.current = Some(set.clone());
                state.fresh_until = Some(now + self.ttl);
                state.retry_after = None;
                state.last_error = None;
                Ok(set)
            }
            Err(error) => {
                state.last_error = Some(error.clone());
                state.retry_after =
                    Some(now + self.min_refresh_interval.max(Duration::from_secs(1)));
                match &state.current {
                    Some(keys) => {
                        tracing::warn!(target: "wacht", %error, "JWKS refresh failed; serving the keys already held");
                        Ok(keys.clone())
                    }
                    None => {
                        tracing::error!(target: "wacht", %error, "JWKS fetch failed and no keys are held");
                        Err(error)
                    }
                }
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, KeyFetchError> {
        let response = self
            .http
            .get(&self.url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(KeyFetchError::Status(status.as_u16()));
        }
        let body = response.bytes().await.map_err(transport_error)?;
        parse_jwks(&body)
    }
}

fn transport_error(error: reqwest::Error) -> KeyFetchError {
    if error.is_timeout() {
        KeyFetchError::Timeout
    } else {
        // Without the URL: the error's Display would include it, and it adds nothing.
        KeyFetchError::Transport(error.without_url().to_string())
    }
}

/// Keys for session tokens: either one configured PEM key or the JWKS cache.
pub(crate) enum KeySource {
    Static(Arc<KeySet>),
    Jwks(Box<KeyCache>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn ec(extra: Value) -> Value {
        let mut key = json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "kid": "k1"});
        if let (Some(key), Some(extra)) = (key.as_object_mut(), extra.as_object()) {
            key.extend(extra.clone());
        }
        key
    }

    fn parse(keys: Vec<Value>) -> Vec<VerifyingKey> {
        parse_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn keys_that_must_not_verify_are_skipped() {
        let keys = parse(vec![
            ec(json!({})),
            ec(json!({"use": "enc", "kid": "enc"})),
            ec(json!({"key_ops": ["encrypt"], "kid": "ops"})),
            ec(json!({"alg": "RS256", "kid": "wrongalg"})),
            ec(json!({"crv": "P-384", "kid": "short"})),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"}),
            json!({"kty": "weird", "kid": "weird"}),
        ]);
        let kids: Vec<_> = keys.iter().map(|k| k.kid().unwrap_or("")).collect();
        assert_eq!(kids, ["k1"]);
    }

    #[test]
    fn algorithm_is_pinned_by_key_type_and_own_alg() {
        let keys = parse(vec![
            ec(json!({})),
            ec(json!({"alg": "ES256", "kid": "k2"})),
        ]);
        assert!(keys[0].accepts(Algorithm::ES256));
        assert!(!keys[0].accepts(Algorithm::ES384));
        assert!(!keys[0].accepts(Algorithm::RS256));
        assert!(!keys[0].accepts(Algorithm::HS256));
        assert!(keys[1].accepts(Algorithm::ES256));
    }

    #[test]
    fn selection_by_kid_and_without_kid() {
        let one = KeySet {
            keys: parse(vec![ec(json!({}))])
                .into_iter()
                .map(Arc::new)
                .collect(),
            generation: 1,
        };
        assert!(matches!(one.select(Some("k1")), KeyChoice::Found(_)));
        assert!(matches!(one.select(Some("nope")), KeyChoice::Unknown));
        assert!(matches!(one.select(None), KeyChoice::Found(_)));
        let two = KeySet {
            keys: parse(vec![ec(json!({})), ec(json!({"kid": "k2"}))])
                .into_iter()
                .map(Arc::new)
                .collect(),
            generation: 1,
        };
        assert!(matches!(two.select(None), KeyChoice::Ambiguous));
    }

    #[test]
    fn documents_that_are_not_jwks_are_errors() {
        assert!(parse_jwks(b"<html>").is_err());
        assert!(parse_jwks(b"{\"keys\": 5}").is_err());
        assert!(parse_jwks(b"[]").is_err());
    }
}
