//! Session-token keys: the key set, key choice, and the JWKS cache (parsing is in `jwk`).
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

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use crate::platform::{self, Instant, SHARE_FETCHES};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use jsonwebtoken::Algorithm;

use crate::jwk::{JwksError, VerifyingKey, parse_jwks};
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
        self.keys.iter().any(|key| key.id() == key_id)
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

/// The outcome of one fetch, shared by every request that awaits it.
type Fetched = Result<Arc<Vec<Arc<VerifyingKey>>>, KeyFetchError>;

/// The fetch in flight: every request that needs it awaits this one future.
struct InFlight {
    id: u64,
    started: Instant,
    /// The runtime whose timers and sockets the fetch uses: a request on another runtime
    /// starts its own fetch rather than poll this one.
    runtime: Option<RuntimeId>,
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
    /// The fresh keys and until when, for the hot path: read under a shared lock, so
    /// concurrent requests do not queue on the state's mutex (written only by `settle`).
    fresh: RwLock<Option<(Arc<KeySet>, Instant)>>,
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
            fresh: RwLock::new(None),
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
        if let Some((keys, fresh_until)) =
            &*self.fresh.read().unwrap_or_else(PoisonError::into_inner)
            && Instant::now() < *fresh_until
        {
            return Ok(keys.clone());
        }
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
            // Where fetches are not shared (wasm32), the request that started the refresh
            // waits for it; the others keep serving the held keys meanwhile.
            if !SHARE_FETCHES
                && state.current.is_some()
                && state
                    .in_flight
                    .as_ref()
                    .is_some_and(|flight| now.duration_since(flight.started) < self.timeout)
            {
                return held_or_unavailable(&state, now);
            }
            let (id, future) = self.flight(&mut state, now);
            (id, future, state.current.is_some())
        };
        let left = until.saturating_duration_since(Instant::now());
        let wait = if stale_wait && SHARE_FETCHES {
            left.min(STALE_REFRESH_WAIT)
        } else {
            left
        };
        let outcome = platform::timeout(wait, future).await;
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
        let outcome = platform::timeout(left, future).await;
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
        let runtime = runtime_id();
        if SHARE_FETCHES
            && let Some(flight) = &state.in_flight
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

    /// Installs the outcome of fetch `id`, once (the first request to see it does). Where
    /// fetches are not shared (wasm32), a request's own fetch is installed even when a newer
    /// one started meanwhile: each request waits for its own.
    fn settle(&self, state: &mut CacheState, id: u64, outcome: Fetched) {
        let current = state
            .in_flight
            .as_ref()
            .is_some_and(|flight| flight.id == id);
        if current {
            state.in_flight = None;
        } else if SHARE_FETCHES {
            return;
        }
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
                let set = Arc::new(KeySet::new(keys, generation));
                state.current = Some(set.clone());
                state.fresh_until = Some(now + self.ttl);
                *self.fresh.write().unwrap_or_else(PoisonError::into_inner) =
                    Some((set, now + self.ttl));
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

/// The tokio runtime this runs on (native); none on wasm32.
#[cfg(not(target_family = "wasm"))]
type RuntimeId = tokio::runtime::Id;
#[cfg(target_family = "wasm")]
type RuntimeId = ();

#[cfg(not(target_family = "wasm"))]
fn runtime_id() -> Option<RuntimeId> {
    tokio::runtime::Handle::try_current()
        .ok()
        .map(|handle| handle.id())
}

#[cfg(target_family = "wasm")]
fn runtime_id() -> Option<RuntimeId> {
    None
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
    let answer = outbound::call(
        &http,
        request,
        timeout,
        JWKS_BODY_CAP,
        outbound::ReadBody::OnSuccess,
    )
    .await?;
    if !answer.status.is_success() {
        return Err(KeyFetchError::Status(answer.status.as_u16()));
    }
    let body = answer.body;
    let keys = parse_jwks(&body).map_err(|JwksError(why)| KeyFetchError::Invalid(why))?;
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
    use serde_json::{Value, json};
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::jwk::tests::{ec, parse};

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
}
