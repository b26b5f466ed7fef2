//! Session-token keys: JWKS parsing, the PEM key, key choice, and the key cache.
//!
//! The cache fetches lazily and lets one fetch run at a time however many requests wait
//! (single flight: every request awaits the same shared fetch). Keys are fresh for a TTL;
//! after it, the next request starts a refresh and waits for it at most
//! [`STALE_REFRESH_WAIT`], then goes on with the keys held (the refresh is finished by the
//! next requests that poll it; no task outlives the request path). A refresh that fails, or
//! answers with no usable signature key, keeps the held keys serving; a failing endpoint is
//! retried at most once per minimum interval, whether or not keys are held, and requests in
//! between get "unavailable" at once when none are. An unknown `kid` triggers a refresh at
//! most once per minimum interval.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;
use crate::outbound::{self, JWKS_BODY_CAP, OutboundError};

/// How long a request waits for a TTL refresh while usable keys are held, before it goes on
/// with those keys.
pub(crate) const STALE_REFRESH_WAIT: Duration = Duration::from_millis(100);

/// At most this many keys are tried for a token without `kid`.
pub(crate) const MAX_KIDLESS_CANDIDATES: usize = 8;

/// Why the key set could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFetchError {
    /// The request did not complete (connection refused, reset, DNS, TLS).
    #[error("the JWKS request failed: {0}")]
    Transport(String),
    /// The request took longer than the configured timeout.
    #[error("the JWKS request timed out")]
    Timeout,
    /// The JWKS endpoint answered with a redirect (never followed; `None`: the answer came
    /// from another URL than the one requested).
    #[error("the JWKS endpoint redirected (HTTP {}), which is never followed", .status.map_or("?".to_owned(), |s| s.to_string()))]
    Redirect {
        /// The 3xx status, when the redirect itself was seen.
        status: Option<u16>,
    },
    /// The JWKS endpoint answered a status other than 2xx.
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body was not a JWKS document (or larger than 512 KiB).
    #[error("the JWKS document is invalid: {0}")]
    Invalid(String),
    /// The document holds no key that can verify session tokens (no keys, only `use: enc`
    /// keys, only unsupported types, …). Held keys keep serving.
    #[error("the JWKS document holds no usable signature key")]
    NoUsableKeys,
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

impl From<OutboundError> for KeyFetchError {
    fn from(error: OutboundError) -> Self {
        match error {
            OutboundError::Timeout => KeyFetchError::Timeout,
            OutboundError::Transport(cause) => KeyFetchError::Transport(cause),
            OutboundError::Redirect(status) => KeyFetchError::Redirect {
                status: Some(status),
            },
            OutboundError::UrlChanged => KeyFetchError::Redirect { status: None },
            OutboundError::TooLarge(_) => KeyFetchError::Invalid("larger than 512 KiB".to_owned()),
        }
    }
}

/// No keys to verify with: why, and when the endpoint will be tried again.
#[derive(Debug, Clone)]
pub(crate) struct Unavailable {
    pub(crate) error: KeyFetchError,
    pub(crate) retry_in: Duration,
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

/// Gives every parsed key an id unique in the process; a key that a refresh publishes again
/// keeps its id (see [`KeyCache`]), so tokens it verified stay cached.
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(1);

/// A parsed public key, ready to verify signatures.
pub(crate) struct VerifyingKey {
    id: u64,
    kid: Option<String>,
    kind: KeyKind,
    /// The key's own `alg`, when it declares one.
    alg: Option<Algorithm>,
    /// The public key material as published: recognises the same key across refreshes.
    material: String,
    decoding: DecodingKey,
}

impl VerifyingKey {
    fn new(
        kid: Option<String>,
        kind: KeyKind,
        alg: Option<Algorithm>,
        material: String,
        decoding: DecodingKey,
    ) -> Self {
        VerifyingKey {
            id: NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed),
            kid,
            kind,
            alg,
            material,
            decoding,
        }
    }

    /// This key's process-unique id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

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

    fn same_key(&self, other: &VerifyingKey) -> bool {
        self.kid == other.kid
            && self.kind == other.kind
            && self.alg == other.alg
            && self.material == other.material
    }
}

/// The keys held at one moment, with the generation they were fetched in.
pub(crate) struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
    generation: u64,
}

/// Why no key may verify a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMiss {
    /// No key with the token's `kid` (or no keys at all).
    Unknown,
    /// Keys that could be meant exist, but none fits the token's `alg`.
    Incompatible,
}

impl KeySet {
    pub(crate) fn new(keys: Vec<Arc<VerifyingKey>>, generation: u64) -> Self {
        KeySet { keys, generation }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the key with this id is in the set.
    pub(crate) fn holds(&self, key_id: u64) -> bool {
        self.keys.iter().any(|key| key.id == key_id)
    }

    /// The keys that may verify a token with header `kid` and `alg`, in publication order:
    ///
    /// - with a `kid`: the keys with that `kid` (a set of exactly one key without `kid`, such
    ///   as the configured PEM key, stands for any `kid`);
    /// - without: every key whose type, curve and own `alg` fit `alg`, at most
    ///   [`MAX_KIDLESS_CANDIDATES`] (Wacht has issued kid-less tokens; the reference tries
    ///   the compatible keys, so a rotation with two published keys keeps working).
    pub(crate) fn candidates(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Vec<Arc<VerifyingKey>>, KeyMiss> {
        let named: Vec<&Arc<VerifyingKey>> = match (kid, self.keys.as_slice()) {
            (_, [only]) if only.kid().is_none() => vec![only],
            (Some(kid), keys) => keys.iter().filter(|k| k.kid() == Some(kid)).collect(),
            (None, keys) => keys.iter().collect(),
        };
        if named.is_empty() {
            return Err(KeyMiss::Unknown);
        }
        let fitting: Vec<Arc<VerifyingKey>> = named
            .into_iter()
            .filter(|key| key.accepts(alg))
            .take(MAX_KIDLESS_CANDIDATES)
            .cloned()
            .collect();
        if fitting.is_empty() {
            Err(KeyMiss::Incompatible)
        } else {
            Ok(fitting)
        }
    }
}

/// A JWKS document: `{"keys": [...]}`. Each key is read on its own (a key of an odd shape
/// is skipped, not fatal).
#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Value>,
}

/// The members of a JWK this runtime reads. A member of the wrong type skips the key.
#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<Value>>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Parses a JWKS document. Keys that are not signature keys (`use` other than `sig`,
/// `key_ops` without `verify`), symmetric keys and keys of unsupported types are skipped
/// (and logged); a document that is not `{"keys":[...]}` is an error.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<Vec<VerifyingKey>, KeyFetchError> {
    let document: JwksDocument = serde_json::from_slice(body)
        .map_err(|e| KeyFetchError::Invalid(outbound::json_error(&e)))?;
    let mut parsed = Vec::with_capacity(document.keys.len());
    for (index, jwk) in document.keys.into_iter().enumerate() {
        let key = serde_json::from_value::<Jwk>(jwk)
            .map_err(|_| "a key member has the wrong type")
            .and_then(|jwk| parse_jwk(&jwk));
        match key {
            Ok(key) => parsed.push(key),
            Err(why) => tracing::debug!(target: "wacht", index, why, "JWKS key skipped"),
        }
    }
    Ok(parsed)
}

fn parse_jwk(jwk: &Jwk) -> Result<VerifyingKey, &'static str> {
    if jwk.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return Err("`use` is not `sig`");
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|op| op.as_str() == Some("verify"))
    {
        return Err("`key_ops` does not allow `verify`");
    }
    let alg = match jwk.alg.as_deref() {
        None => None,
        Some(name) => Some(parse_asymmetric_alg(name).ok_or("unsupported key `alg`")?),
    };
    let required = |member: &Option<String>| -> Result<String, &'static str> {
        member.clone().ok_or("a required key member is missing")
    };
    let (kind, material, decoding) = match required(&jwk.kty)?.as_str() {
        "EC" => {
            let kind = match required(&jwk.crv)?.as_str() {
                "P-256" => KeyKind::P256,
                "P-384" => KeyKind::P384,
                _ => return Err("unsupported EC curve"),
            };
            let (x, y) = (required(&jwk.x)?, required(&jwk.y)?);
            let expected = if kind == KeyKind::P256 { 32 } else { 48 };
            if decoded_len(&x)? != expected || decoded_len(&y)? != expected {
                return Err("EC coordinates have the wrong length");
            }
            let key = DecodingKey::from_ec_components(&x, &y).map_err(|_| "bad EC coordinates")?;
            (kind, format!("{x}.{y}"), key)
        }
        "RSA" => {
            let (n, e) = (required(&jwk.n)?, required(&jwk.e)?);
            decoded_len(&n)?;
            decoded_len(&e)?;
            let key = DecodingKey::from_rsa_components(&n, &e).map_err(|_| "bad RSA components")?;
            (KeyKind::Rsa, format!("{n}.{e}"), key)
        }
        "OKP" => {
            if required(&jwk.crv)? != "Ed25519" {
                return Err("unsupported OKP curve");
            }
            let x = required(&jwk.x)?;
            if decoded_len(&x)? != 32 {
                return Err("Ed25519 key has the wrong length");
            }
            let key = DecodingKey::from_ed_components(&x).map_err(|_| "bad Ed25519 key")?;
            (KeyKind::Ed25519, x, key)
        }
        "oct" => return Err("symmetric keys are never used"),
        _ => return Err("unsupported `kty`"),
    };
    if let Some(alg) = alg
        && !kind.algorithms().contains(&alg)
    {
        return Err("the key's `alg` does not fit its type");
    }
    Ok(VerifyingKey::new(
        jwk.kid.clone(),
        kind,
        alg,
        material,
        decoding,
    ))
}

fn decoded_len(b64: &str) -> Result<usize, &'static str> {
    crate::session::b64url_decode(b64)
        .map(|bytes| bytes.len())
        .map_err(|_| "a key member is not base64url")
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
    let material = pem.trim().to_owned();
    if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        let kind = match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(65) => KeyKind::P256,
            Ok(97) => KeyKind::P384,
            _ => return Err(ConfigError::InvalidPublicSigningKey("unsupported EC curve")),
        };
        return Ok(VerifyingKey::new(None, kind, None, material, key));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
        return Ok(VerifyingKey::new(
            None,
            KeyKind::Ed25519,
            None,
            material,
            key,
        ));
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        return Ok(VerifyingKey::new(None, KeyKind::Rsa, None, material, key));
    }
    Err(ConfigError::InvalidPublicSigningKey(
        "not a PEM-encoded EC (P-256/P-384), RSA or Ed25519 public key",
    ))
}

/// The outcome of one fetch, shared by every request that awaits it.
type Fetched = Result<Arc<Vec<Arc<VerifyingKey>>>, KeyFetchError>;

/// The fetch in flight: every request that needs it awaits this one future.
struct InFlight {
    id: u64,
    started: Instant,
    /// The runtime whose timers and sockets the fetch uses: a request on another runtime
    /// starts its own fetch rather than poll this one.
    runtime: Option<tokio::runtime::Id>,
    future: Shared<BoxFuture<'static, Fetched>>,
}

/// Mutable state of the cache, behind one short-held std mutex (never held across an
/// `.await`).
struct CacheState {
    current: Option<Arc<KeySet>>,
    /// When the current keys stop being fresh.
    fresh_until: Option<Instant>,
    /// After a failed fetch: no fetch starts before this, keys held or not.
    retry_at: Option<Instant>,
    last_error: Option<KeyFetchError>,
    /// When the last refresh caused by an unknown `kid` started.
    last_unknown_kid_refresh: Option<Instant>,
    in_flight: Option<InFlight>,
    next_flight: u64,
    next_generation: u64,
}

/// JWKS cache. Cheap to share behind an `Arc`.
pub(crate) struct KeyCache {
    http: reqwest::Client,
    url: String,
    ttl: Duration,
    min_refresh_interval: Duration,
    timeout: Duration,
    state: Mutex<CacheState>,
}

impl KeyCache {
    pub(crate) fn new(
        http: reqwest::Client,
        url: String,
        ttl: Duration,
        min_refresh_interval: Duration,
        timeout: Duration,
    ) -> Self {
        KeyCache {
            http,
            url,
            ttl,
            min_refresh_interval,
            timeout,
            state: Mutex::new(CacheState {
                current: None,
                fresh_until: None,
                retry_at: None,
                last_error: None,
                last_unknown_kid_refresh: None,
                in_flight: None,
                next_flight: 1,
                next_generation: 1,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // The state is always left consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The keys to verify with: the held ones while fresh; after the TTL, the result of a
    /// refresh if it comes within [`STALE_REFRESH_WAIT`], else the held ones; with none held,
    /// the result of a fetch (bounded by the HTTP timeout).
    ///
    /// A request never waits past `until` (its check's budget): it then gets the keys held,
    /// or "unavailable" with none (the fetch goes on for the requests after it).
    pub(crate) async fn keys(&self, until: Instant) -> Result<Arc<KeySet>, Unavailable> {
        let (id, future, stale_wait) = {
            let mut state = self.state();
            let now = Instant::now();
            if let Some(keys) = &state.current
                && state.fresh_until.is_some_and(|until| now < until)
            {
                return Ok(keys.clone());
            }
            if state.retry_at.is_some_and(|at| now < at) {
                return held_or_unavailable(&state, now);
            }
            let (id, future) = self.flight(&mut state, now);
            (id, future, state.current.is_some())
        };
        let left = until.saturating_duration_since(Instant::now());
        let wait = if stale_wait {
            left.min(STALE_REFRESH_WAIT)
        } else {
            left
        };
        let outcome = tokio::time::timeout(wait, future).await.ok();
        let mut state = self.state();
        match outcome {
            Some(outcome) => self.settle(&mut state, id, outcome),
            None if state.current.is_none() => {
                return Err(Unavailable {
                    error: KeyFetchError::Timeout,
                    retry_in: Duration::ZERO,
                });
            }
            None => {}
        }
        held_or_unavailable(&state, Instant::now())
    }

    /// Called when no held key fits a token (an unknown `kid`, or a kid-less token no key
    /// verifies): refreshes unless the keys changed since the caller looked, a refresh for
    /// this cause started less than the minimum interval ago, or the endpoint is in its
    /// retry back-off. Waits for the refresh, until `until` at most.
    pub(crate) async fn refresh_for_unknown_key(
        &self,
        seen_generation: u64,
        until: Instant,
    ) -> Result<Arc<KeySet>, Unavailable> {
        let (id, future) = {
            let mut state = self.state();
            let now = Instant::now();
            if let Some(keys) = &state.current
                && keys.generation != seen_generation
            {
                return Ok(keys.clone());
            }
            let limited = state
                .last_unknown_kid_refresh
                .is_some_and(|t| now.duration_since(t) < self.min_refresh_interval)
                || state.retry_at.is_some_and(|at| now < at);
            if limited {
                return held_or_unavailable(&state, now);
            }
            state.last_unknown_kid_refresh = Some(now);
            self.flight(&mut state, now)
        };
        let left = until.saturating_duration_since(Instant::now());
        let outcome = tokio::time::timeout(left, future).await.ok();
        let mut state = self.state();
        if let Some(outcome) = outcome {
            self.settle(&mut state, id, outcome);
        }
        held_or_unavailable(&state, Instant::now())
    }

    /// The fetch in flight, or a new one. A fetch older than the timeout (its own timer has
    /// fired or will at the next poll) or started on another runtime is replaced.
    fn flight(
        &self,
        state: &mut CacheState,
        now: Instant,
    ) -> (u64, Shared<BoxFuture<'static, Fetched>>) {
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .map(|handle| handle.id());
        if let Some(flight) = &state.in_flight
            && flight.runtime == runtime
            && now.duration_since(flight.started) < self.timeout
        {
            return (flight.id, flight.future.clone());
        }
        let id = state.next_flight;
        state.next_flight += 1;
        let future = fetch(self.http.clone(), self.url.clone(), self.timeout)
            .boxed()
            .shared();
        state.in_flight = Some(InFlight {
            id,
            started: now,
            runtime,
            future: future.clone(),
        });
        (id, future)
    }

    /// Installs the outcome of fetch `id`, once (the first request to see it does).
    fn settle(&self, state: &mut CacheState, id: u64, outcome: Fetched) {
        if state
            .in_flight
            .as_ref()
            .is_none_or(|flight| flight.id != id)
        {
            return;
        }
        state.in_flight = None;
        let now = Instant::now();
        match outcome {
            Ok(fetched) => {
                // Keys published again keep their identity (and the tokens they verified).
                let keys = fetched
                    .iter()
                    .map(|key| {
                        state
                            .current
                            .as_ref()
                            .and_then(|held| held.keys.iter().find(|old| old.same_key(key)))
                            .unwrap_or(key)
                            .clone()
                    })
                    .collect();
                let generation = state.next_generation;
                state.next_generation += 1;
                tracing::debug!(target: "wacht", keys = fetched.len(), generation, "JWKS fetched");
                state.current = Some(Arc::new(KeySet::new(keys, generation)));
                state.fresh_until = Some(now + self.ttl);
                state.retry_at = None;
                state.last_error = None;
            }
            Err(error) => {
                let retry_in = self.min_refresh_interval.max(Duration::from_secs(1));
                state.retry_at = Some(now + retry_in);
                let retry_in_s = retry_in.as_secs();
                if state.current.is_some() {
                    tracing::warn!(target: "wacht", reason = error.reason(), %error, retry_in_s, "JWKS refresh failed; serving the keys already held");
                } else {
                    tracing::error!(target: "wacht", reason = error.reason(), %error, retry_in_s, "JWKS fetch failed and no keys are held");
                }
                state.last_error = Some(error);
            }
        }
    }
}

fn held_or_unavailable(state: &CacheState, now: Instant) -> Result<Arc<KeySet>, Unavailable> {
    match &state.current {
        Some(keys) => Ok(keys.clone()),
        None => Err(Unavailable {
            error: state
                .last_error
                .clone()
                .unwrap_or(KeyFetchError::NoUsableKeys),
            retry_in: state
                .retry_at
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now)),
        }),
    }
}

/// One JWKS fetch: redirects refused, the body capped, the document parsed; a document with
/// no usable key is a failure.
async fn fetch(http: reqwest::Client, url: String, timeout: Duration) -> Fetched {
    let request = http
        .get(&url)
        .header(http::header::ACCEPT, "application/json")
        .build()
        .map_err(|e| KeyFetchError::Transport(outbound::cause_chain(&e.without_url())))?;
    let response = outbound::send(&http, request, timeout).await?;
    let status = response.status();
    if !status.is_success() {
        return Err(KeyFetchError::Status(status.as_u16()));
    }
    let body = outbound::read_capped(response, JWKS_BODY_CAP).await?;
    let keys = parse_jwks(&body)?;
    if keys.is_empty() {
        return Err(KeyFetchError::NoUsableKeys);
    }
    Ok(Arc::new(keys.into_iter().map(Arc::new).collect()))
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

    fn set(keys: Vec<Value>) -> KeySet {
        KeySet::new(parse(keys).into_iter().map(Arc::new).collect(), 1)
    }

    fn kids(candidates: Result<Vec<Arc<VerifyingKey>>, KeyMiss>) -> Result<Vec<String>, KeyMiss> {
        candidates.map(|keys| {
            keys.iter()
                .map(|k| k.kid().unwrap_or("-").to_owned())
                .collect()
        })
    }

    #[test]
    fn keys_that_must_not_verify_are_skipped() {
        let keys = parse(vec![
            ec(json!({})),
            ec(json!({"use": "enc", "kid": "enc"})),
            ec(json!({"key_ops": ["encrypt"], "kid": "ops"})),
            ec(json!({"alg": "RS256", "kid": "wrongalg"})),
            ec(json!({"crv": "P-384", "kid": "short"})),
            ec(json!({"x": 5, "kid": "numeric"})),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"}),
            json!({"kty": "weird", "kid": "weird"}),
            json!("not an object"),
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
    fn candidates_by_kid() {
        let one = set(vec![ec(json!({}))]);
        assert_eq!(
            kids(one.candidates(Some("k1"), Algorithm::ES256)),
            Ok(vec!["k1".into()])
        );
        assert_eq!(
            kids(one.candidates(Some("nope"), Algorithm::ES256)),
            Err(KeyMiss::Unknown)
        );
        assert_eq!(
            kids(one.candidates(Some("k1"), Algorithm::RS256)),
            Err(KeyMiss::Incompatible)
        );
        let pem_like = set(vec![ec(json!({"kid": null}))]);
        assert_eq!(
            kids(pem_like.candidates(Some("anything"), Algorithm::ES256)),
            Ok(vec!["-".into()])
        );
        assert_eq!(
            kids(KeySet::new(Vec::new(), 1).candidates(None, Algorithm::ES256)),
            Err(KeyMiss::Unknown)
        );
    }

    #[test]
    fn kidless_tokens_get_every_compatible_key_up_to_the_bound() {
        let mut published = vec![
            ec(json!({"kid": "a"})),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"}),
            ec(json!({"kid": "b", "alg": "ES256"})),
        ];
        let two = set(published.clone());
        assert_eq!(
            kids(two.candidates(None, Algorithm::ES256)),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            kids(two.candidates(None, Algorithm::EdDSA)),
            Ok(vec!["ed".into()])
        );
        assert_eq!(
            kids(two.candidates(None, Algorithm::RS256)),
            Err(KeyMiss::Incompatible)
        );
        for i in 0..20 {
            published.push(ec(json!({ "kid": format!("extra{i}") })));
        }
        let many = set(published);
        assert_eq!(
            many.candidates(None, Algorithm::ES256).map(|c| c.len()),
            Ok(MAX_KIDLESS_CANDIDATES)
        );
    }

    #[test]
    fn documents_that_are_not_jwks_are_errors() {
        assert!(parse_jwks(b"<html>").is_err());
        assert!(parse_jwks(b"{\"keys\": 5}").is_err());
        assert!(parse_jwks(b"[]").is_err());
        assert_eq!(parse_jwks(b"{\"keys\": []}").map(|k| k.len()), Ok(0));
    }

    #[test]
    fn a_republished_key_is_the_same_key() {
        let first = parse(vec![ec(json!({}))]);
        let again = parse(vec![ec(json!({}))]);
        assert_ne!(first[0].id(), again[0].id());
        assert!(first[0].same_key(&again[0]));
        let renamed = parse(vec![ec(json!({"kid": "k9"}))]);
        assert!(!first[0].same_key(&renamed[0]));
    }
}
