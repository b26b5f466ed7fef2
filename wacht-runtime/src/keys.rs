//! Session-token keys: the key set, key choice, and the JWKS cache (parsing is in `jwk`).
//!
//! The cache fetches lazily and lets one fetch run at a time per tokio runtime however many
//! requests wait (single flight: every request on that runtime awaits the same shared
//! fetch; a future is never polled from another runtime, whose timers and sockets it does
//! not own). Keys are fresh for a TTL; after it, the next request starts a refresh and waits
//! for it at most [`STALE_REFRESH_WAIT`], then goes on with the keys held (the refresh is
//! finished by the next requests that poll it; no task outlives the request path).
//!
//! Key sets are installed by age: a successful fetch replaces the installed set only when it
//! started after the fetch that produced that set, whichever runtime or request started
//! either, so fetches on several runtimes all make progress and a late, older document never
//! brings back a removed key.
//!
//! A refresh that fails, or answers with no usable signature key, keeps the held keys
//! serving, and the endpoint is retried after the minimum interval. With no keys held a
//! failed fetch is retried after about 1 s, doubling (with jitter) up to the minimum
//! interval, so a cold instance recovers from one transient failure at once; requests in
//! between get "unavailable" at once. An unknown `kid` triggers a refresh at most once per
//! minimum interval.
//!
//! The fresh key set sits behind an atomically swapped pointer: a request that finds it
//! fresh takes no lock.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::clock::Clock;
use crate::platform::{self, Instant, SHARE_FETCHES};

use arc_swap::ArcSwapOption;
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use jsonwebtoken::Algorithm;

use crate::jwk::{JwksError, VerifyingKey, parse_jwks};
use crate::metrics::JwksResult;
use crate::outbound::{self, JWKS_BODY_CAP, OutboundError};

/// How long a request waits for a TTL refresh while usable keys are held, before it goes on
/// with those keys.
pub(crate) const STALE_REFRESH_WAIT: Duration = Duration::from_millis(100);

/// At most this many keys are tried for a token without `kid`.
pub(crate) const MAX_KIDLESS_CANDIDATES: usize = 8;

/// The first retry after a failed fetch with no keys held; it doubles per failure up to the
/// minimum refresh interval.
pub(crate) const COLD_RETRY: Duration = Duration::from_secs(1);

/// At most this many fetches are remembered as in flight (one per runtime natively, one per
/// request on wasm32); the oldest is forgotten beyond it (it still settles by age).
const MAX_FLIGHTS: usize = 16;

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
    /// A token names a key the held set lacks, the set was fetched before the token was
    /// issued, and the set may not be refreshed again yet: the key may be newly rotated in,
    /// so the answer is "retry", not "sign out".
    #[error(
        "the token names a key the held set lacks and the set cannot be refreshed yet (minimum refresh interval)"
    )]
    RefreshRateLimited,
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
            OutboundError::TooLarge(_) => KeyFetchError::Invalid(TOO_LARGE.to_owned()),
        }
    }
}

/// The [`KeyFetchError::Invalid`] text of a document over the cap.
const TOO_LARGE: &str = "larger than 512 KiB";

impl KeyFetchError {
    /// The `result` a fetch that failed with this error is counted under (feature `metrics`).
    fn metric(&self) -> JwksResult {
        match self {
            KeyFetchError::Transport(_) => JwksResult::Unreachable,
            KeyFetchError::Timeout => JwksResult::Timeout,
            KeyFetchError::Redirect { .. } => JwksResult::Redirect,
            KeyFetchError::Status(_) => JwksResult::HttpError,
            KeyFetchError::Invalid(why) if why == TOO_LARGE => JwksResult::TooLarge,
            KeyFetchError::Invalid(_) => JwksResult::Invalid,
            KeyFetchError::NoUsableKeys | KeyFetchError::RefreshRateLimited => {
                JwksResult::NoUsableKeys
            }
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
    /// Clock time (Unix seconds) at which the fetch that produced the set started; `None`
    /// for a configured key.
    fetched_at: Option<i64>,
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
        KeySet {
            keys,
            generation,
            fetched_at: None,
        }
    }

    /// Whether the fetch that produced this set started after `unix_seconds` (a token's
    /// `iat`): a key that signed such a token was published when the set was fetched.
    pub(crate) fn fetched_after(&self, unix_seconds: i64) -> bool {
        self.fetched_at.is_some_and(|at| at > unix_seconds)
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

/// A fetch in flight: every request on its runtime that needs it awaits this one future.
struct InFlight {
    /// Start order: a larger id started later.
    id: u64,
    started: Instant,
    /// Clock time (Unix seconds) at the start, recorded on the set it installs.
    started_unix: i64,
    /// The runtime whose timers and sockets the fetch uses: a request on another runtime
    /// starts (or joins) its own runtime's fetch rather than poll this one.
    runtime: Option<RuntimeId>,
    future: Shared<BoxFuture<'static, Fetched>>,
}

/// What a request that needs a fetch holds: which fetch, and its future.
struct Ticket {
    id: u64,
    started: Instant,
    started_unix: i64,
    future: Shared<BoxFuture<'static, Fetched>>,
}

/// Mutable state of the cache, behind one short-held std mutex (never held across an
/// `.await`).
struct CacheState {
    current: Option<Arc<KeySet>>,
    /// The id of the fetch that produced `current` (0: none yet).
    installed: u64,
    /// When the current keys stop being fresh.
    fresh_until: Option<Instant>,
    /// After a failed fetch: no fetch starts before this, keys held or not.
    retry_at: Option<Instant>,
    /// Failed fetches in a row while no keys were held (the cold back-off's exponent).
    cold_failures: u32,
    last_error: Option<KeyFetchError>,
    /// When the last refresh caused by an unknown `kid` started.
    last_unknown_kid_refresh: Option<Instant>,
    in_flight: Vec<InFlight>,
    next_flight: u64,
    next_generation: u64,
}

/// The fresh key set and until when, for the hot path.
struct Fresh {
    set: Arc<KeySet>,
    until: Instant,
}

/// What a refresh for an unknown key gave.
pub(crate) enum Refreshed {
    /// The key set after the refresh (or a newer one another request installed meanwhile).
    Set(Arc<KeySet>),
    /// No refresh may start yet (minimum interval, or back-off); `held` is the set held and
    /// `retry_in` the time until one may.
    Limited {
        held: Arc<KeySet>,
        retry_in: Duration,
    },
}

/// JWKS cache. Cheap to share behind an `Arc`.
pub(crate) struct KeyCache {
    http: reqwest::Client,
    url: String,
    ttl: Duration,
    min_refresh_interval: Duration,
    timeout: Duration,
    clock: Clock,
    state: Mutex<CacheState>,
    /// The fresh keys and until when: read with no lock on every request (an atomically
    /// swapped pointer), written only when a set is installed.
    fresh: ArcSwapOption<Fresh>,
}

/// The settings of a [`KeyCache`].
pub(crate) struct KeyCacheSettings {
    pub(crate) url: String,
    pub(crate) ttl: Duration,
    pub(crate) min_refresh_interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) clock: Clock,
}

impl KeyCache {
    pub(crate) fn new(http: reqwest::Client, settings: KeyCacheSettings) -> Self {
        KeyCache {
            http,
            url: settings.url,
            ttl: settings.ttl,
            min_refresh_interval: settings.min_refresh_interval,
            timeout: settings.timeout,
            clock: settings.clock,
            fresh: ArcSwapOption::empty(),
            state: Mutex::new(CacheState {
                current: None,
                installed: 0,
                fresh_until: None,
                retry_at: None,
                cold_failures: 0,
                last_error: None,
                last_unknown_kid_refresh: None,
                in_flight: Vec::new(),
                next_flight: 1,
                next_generation: 1,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // The state is always left consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fresh key set, if there is one: no lock, no allocation.
    pub(crate) fn fresh(&self) -> Option<Arc<KeySet>> {
        let fresh = self.fresh.load();
        match &*fresh {
            Some(fresh) if Instant::now() < fresh.until => Some(fresh.set.clone()),
            _ => None,
        }
    }

    /// Whether the fresh key set holds key `key_id` (`None`: no set is fresh). The hot path
    /// of a cached token: touches no shared counter.
    pub(crate) fn fresh_holds(&self, key_id: u64) -> Option<bool> {
        let fresh = self.fresh.load();
        match &*fresh {
            Some(fresh) if Instant::now() < fresh.until => Some(fresh.set.holds(key_id)),
            _ => None,
        }
    }

    /// The keys to verify with: the held ones while fresh; after the TTL, the result of a
    /// refresh if it comes within [`STALE_REFRESH_WAIT`], else the held ones; with none held,
    /// the result of a fetch (bounded by the HTTP timeout).
    ///
    /// A request never waits past `until` (its check's budget): it then gets the keys held,
    /// or "unavailable" with none (the fetch goes on for the requests after it).
    pub(crate) async fn keys(&self, until: Instant) -> Result<Arc<KeySet>, Unavailable> {
        if let Some(set) = self.fresh() {
            return Ok(set);
        }
        let (ticket, stale_wait) = {
            let mut state = self.state();
            let now = Instant::now();
            if let Some(keys) = &state.current
                && state.fresh_until.is_some_and(|until| now < until)
            {
                return Ok(keys.clone());
            }
            if let Some(held) = &state.current {
                crate::metrics::jwks_keys(0, held.keys.len());
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
                    .iter()
                    .any(|flight| now.duration_since(flight.started) < self.timeout)
            {
                return held_or_unavailable(&state, now);
            }
            let ticket = self.flight(&mut state, now);
            (ticket, state.current.is_some())
        };
        let left = until.saturating_duration_since(Instant::now());
        let wait = if stale_wait && SHARE_FETCHES {
            left.min(STALE_REFRESH_WAIT)
        } else {
            left
        };
        let outcome = platform::timeout(wait, ticket.future.clone()).await;
        let mut state = self.state();
        match outcome {
            Some(outcome) => self.settle(&mut state, &ticket, outcome),
            None if self.gave_up_on_own_fetch(&ticket) => {
                // wasm32: nobody else will finish this fetch (its I/O belongs to this
                // request), and it ran for its whole timeout: a failure, so the back-off
                // starts and no later request waits the full timeout again.
                self.settle(&mut state, &ticket, Err(KeyFetchError::Timeout));
            }
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

    /// Where fetches are not shared, whether a request that stopped waiting for its own
    /// fetch waited (about) the fetch's whole timeout.
    fn gave_up_on_own_fetch(&self, ticket: &Ticket) -> bool {
        /// Timers of the request and of the fetch start a moment apart.
        const TIMER_SLACK: Duration = Duration::from_millis(50);
        !SHARE_FETCHES && ticket.started.elapsed() + TIMER_SLACK >= self.timeout
    }

    /// Called when no held key fits a token (an unknown `kid`, or a kid-less token no key
    /// verifies): refreshes unless the keys changed since the caller looked, a refresh for
    /// this cause started less than the minimum interval ago, or the endpoint is in its
    /// retry back-off. Waits for the refresh, until `until` at most.
    pub(crate) async fn refresh_for_unknown_key(
        &self,
        seen_generation: u64,
        until: Instant,
    ) -> Result<Refreshed, Unavailable> {
        let ticket = {
            let mut state = self.state();
            let now = Instant::now();
            if let Some(keys) = &state.current
                && keys.generation != seen_generation
            {
                return Ok(Refreshed::Set(keys.clone()));
            }
            let interval_left = state.last_unknown_kid_refresh.map_or(Duration::ZERO, |t| {
                self.min_refresh_interval
                    .saturating_sub(now.duration_since(t))
            });
            let backoff_left = state
                .retry_at
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now));
            let retry_in = interval_left.max(backoff_left);
            if !retry_in.is_zero() {
                return held_or_unavailable(&state, now)
                    .map(|held| Refreshed::Limited { held, retry_in });
            }
            state.last_unknown_kid_refresh = Some(now);
            self.flight(&mut state, now)
        };
        let left = until.saturating_duration_since(Instant::now());
        let outcome = platform::timeout(left, ticket.future.clone()).await;
        let mut state = self.state();
        match outcome {
            Some(outcome) => self.settle(&mut state, &ticket, outcome),
            None if self.gave_up_on_own_fetch(&ticket) => {
                self.settle(&mut state, &ticket, Err(KeyFetchError::Timeout));
            }
            None => {}
        }
        held_or_unavailable(&state, Instant::now()).map(Refreshed::Set)
    }

    /// This runtime's fetch in flight, or a new one. A fetch older than the timeout (its own
    /// timer has fired or will at the next poll) is replaced. Where fetches are not shared
    /// (wasm32), every call starts its own.
    fn flight(&self, state: &mut CacheState, now: Instant) -> Ticket {
        let runtime = runtime_id();
        state
            .in_flight
            .retain(|flight| now.duration_since(flight.started) < self.timeout);
        if SHARE_FETCHES
            && let Some(flight) = state
                .in_flight
                .iter()
                .find(|flight| flight.runtime == runtime)
        {
            return Ticket {
                id: flight.id,
                started: flight.started,
                started_unix: flight.started_unix,
                future: flight.future.clone(),
            };
        }
        if state.in_flight.len() >= MAX_FLIGHTS {
            state.in_flight.remove(0);
        }
        let id = state.next_flight;
        state.next_flight += 1;
        let started_unix = self.clock.now();
        let future = fetch(self.http.clone(), self.url.clone(), self.timeout)
            .boxed()
            .shared();
        state.in_flight.push(InFlight {
            id,
            started: now,
            started_unix,
            runtime,
            future: future.clone(),
        });
        Ticket {
            id,
            started: now,
            started_unix,
            future,
        }
    }

    /// Installs the outcome of the fetch of `ticket`, by age: a key set only when the fetch
    /// started after the one that produced the installed set; a failure only when no newer
    /// fetch has succeeded (it then starts the back-off). Every request that sees an
    /// outcome calls this; the first does the work.
    fn settle(&self, state: &mut CacheState, ticket: &Ticket, outcome: Fetched) {
        state.in_flight.retain(|flight| flight.id != ticket.id);
        if ticket.id <= state.installed {
            if outcome.is_ok() {
                tracing::debug!(target: "wacht", fetch = ticket.id, installed = state.installed, "a JWKS fetch finished after a newer one was installed; its document is not used");
            }
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
                tracing::debug!(target: "wacht", keys = fetched.len(), generation, fetch = ticket.id, "JWKS fetched");
                let set = Arc::new(KeySet {
                    keys,
                    generation,
                    fetched_at: Some(ticket.started_unix),
                });
                // Fresh for a TTL from the fetch's start: a document is never served as
                // fresh longer than that after it was asked for, however late it settled.
                let fresh_until = ticket.started + self.ttl;
                crate::metrics::jwks_keys(set.keys.len(), 0);
                state.current = Some(set.clone());
                state.installed = ticket.id;
                state.fresh_until = Some(fresh_until);
                self.fresh.store(Some(Arc::new(Fresh {
                    set,
                    until: fresh_until,
                })));
                state.retry_at = None;
                state.cold_failures = 0;
                state.last_error = None;
            }
            Err(error) => {
                let retry_in = if state.current.is_some() {
                    self.min_refresh_interval
                } else {
                    state.cold_failures = state.cold_failures.saturating_add(1);
                    cold_retry(state.cold_failures, self.min_refresh_interval, ticket.id)
                };
                state.retry_at = Some(now + retry_in);
                let retry_in_ms = u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX);
                if let Some(held) = &state.current {
                    crate::metrics::jwks_keys(0, held.keys.len());
                }
                if state.current.is_some() {
                    tracing::warn!(target: "wacht", reason = error.reason(), %error, retry_in_ms, "JWKS refresh failed; serving the keys already held");
                } else {
                    tracing::error!(target: "wacht", reason = error.reason(), %error, retry_in_ms, "JWKS fetch failed and no keys are held");
                }
                state.last_error = Some(error);
            }
        }
    }
}

/// The wait before fetch attempt `failures + 1` with no keys held: [`COLD_RETRY`] doubled per
/// failure, at most `cap`, less up to a fifth at random (so instances that failed together
/// do not retry together).
fn cold_retry(failures: u32, cap: Duration, salt: u64) -> Duration {
    let doubled = COLD_RETRY
        .checked_mul(1 << failures.saturating_sub(1).min(16))
        .unwrap_or(cap);
    let base = doubled.min(cap);
    let random = RandomState::new().hash_one((salt, failures));
    // Up to 20 % off: base × (1 − r/5), r in [0, 1).
    let off = base.mul_f64((random >> 11) as f64 / (1u64 << 53) as f64 / 5.0);
    base.saturating_sub(off)
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
    let started = Instant::now();
    let fetched = fetch_document(http, url, timeout).await;
    let result = match &fetched {
        Ok(_) => JwksResult::Ok,
        Err(error) => error.metric(),
    };
    crate::metrics::jwks_fetch(result, started.elapsed());
    fetched
}

async fn fetch_document(http: reqwest::Client, url: String, timeout: Duration) -> Fetched {
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

    fn cache() -> KeyCache {
        KeyCache::new(
            reqwest::Client::new(),
            KeyCacheSettings {
                url: "http://127.0.0.1:9/.well-known/jwks.json".to_owned(),
                ttl: Duration::from_secs(300),
                min_refresh_interval: Duration::from_secs(30),
                timeout: Duration::from_secs(5),
                clock: Clock::fixed(1_000),
            },
        )
    }

    fn ticket(id: u64, started_unix: i64) -> Ticket {
        let fetched: Fetched = Err(KeyFetchError::NoUsableKeys);
        Ticket {
            id,
            started: Instant::now(),
            started_unix,
            future: futures_util::future::ready(fetched).boxed().shared(),
        }
    }

    fn document(kid: &str) -> Fetched {
        Ok(Arc::new(
            parse(vec![ec(json!({ "kid": kid }))])
                .into_iter()
                .map(Arc::new)
                .collect(),
        ))
    }

    fn installed_kids(cache: &KeyCache) -> Vec<String> {
        let state = cache.state();
        state.current.as_ref().map_or(Vec::new(), |set| {
            set.keys
                .iter()
                .map(|k| k.kid().unwrap_or("-").to_owned())
                .collect()
        })
    }

    #[test]
    fn a_late_older_document_never_replaces_a_newer_set() {
        let cache = cache();
        let (older, newer) = (ticket(1, 100), ticket(2, 200));
        cache.settle(&mut cache.state(), &newer, document("rotated-in"));
        assert_eq!(installed_kids(&cache), ["rotated-in"]);
        // The older fetch answers last, with the key since removed: not installed.
        cache.settle(&mut cache.state(), &older, document("removed"));
        assert_eq!(installed_kids(&cache), ["rotated-in"]);
        let fresh = cache.fresh().expect("the newer set is fresh");
        assert_eq!(fresh.generation(), 1);
        assert!(fresh.fetched_after(199) && !fresh.fetched_after(200));
        // A newer fetch still replaces it, whichever runtime or request started it.
        cache.settle(&mut cache.state(), &ticket(3, 300), document("next"));
        assert_eq!(installed_kids(&cache), ["next"]);
    }

    #[test]
    fn an_older_failure_after_a_newer_success_starts_no_back_off() {
        let cache = cache();
        cache.settle(&mut cache.state(), &ticket(2, 200), document("k"));
        cache.settle(
            &mut cache.state(),
            &ticket(1, 100),
            Err(KeyFetchError::Timeout),
        );
        let state = cache.state();
        assert!(state.retry_at.is_none() && state.last_error.is_none());
    }

    #[test]
    fn a_cold_cache_retries_after_about_a_second_doubling_up_to_the_interval() {
        let cache = cache();
        let mut waits = Vec::new();
        for id in 1..=8 {
            let before = Instant::now();
            cache.settle(
                &mut cache.state(),
                &ticket(id, 100),
                Err(KeyFetchError::Status(503)),
            );
            let retry_at = cache.state().retry_at.expect("a back-off");
            waits.push(retry_at.duration_since(before));
        }
        for (n, wait) in waits.iter().enumerate() {
            let base = Duration::from_secs(1 << n).min(Duration::from_secs(30));
            assert!(
                *wait <= base + Duration::from_millis(20) && *wait >= base.mul_f64(0.79),
                "failure {}: {wait:?}, base {base:?}",
                n + 1
            );
        }
        // With keys held, a failure waits the whole interval (the rule for refreshes).
        cache.settle(&mut cache.state(), &ticket(9, 100), document("k"));
        let before = Instant::now();
        cache.settle(
            &mut cache.state(),
            &ticket(10, 100),
            Err(KeyFetchError::Status(503)),
        );
        let wait = cache.state().retry_at.unwrap().duration_since(before);
        assert!(wait >= Duration::from_secs(30) - Duration::from_millis(20));
        assert_eq!(cache.state().cold_failures, 0, "reset by the success");
    }

    #[test]
    fn cold_retry_jitter_stays_within_a_fifth() {
        for salt in 0..200 {
            let wait = cold_retry(1, Duration::from_secs(30), salt);
            assert!(wait > Duration::from_millis(799) && wait <= Duration::from_secs(1));
        }
        let capped = cold_retry(u32::MAX, Duration::from_secs(3), 7);
        assert!(
            capped >= Duration::from_millis(2399) && capped <= Duration::from_secs(3),
            "capped, no overflow: {capped:?}"
        );
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
