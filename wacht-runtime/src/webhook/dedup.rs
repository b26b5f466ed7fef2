//! Remembering which deliveries were handled: the optional de-duplication hook.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

/// A boxed, `Send` future, the return type of [`DeliveryLog`]'s methods.
pub type LogFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a [`DeliveryLog`] knows of a delivery id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Not seen (or released after a failed attempt): it is now claimed, and the handler runs.
    New,
    /// Claimed by an attempt that has not finished: answered 503 `delivery_in_progress` with
    /// `Retry-After`, so Wacht tries again later.
    InProgress,
    /// Handled already: answered 204 `duplicate_delivery` without running the handler.
    Done,
}

/// A failure of the store behind a [`DeliveryLog`]. The delivery is answered 503
/// `delivery_log_unavailable` (Wacht retries it); the error is logged, never sent.
#[derive(Debug)]
pub struct DeliveryLogError(Box<dyn std::error::Error + Send + Sync>);

impl DeliveryLogError {
    /// Wraps the store's error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        DeliveryLogError(error.into())
    }
}

impl fmt::Display for DeliveryLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the delivery log failed: {}", self.0)
    }
}

impl std::error::Error for DeliveryLogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Which webhook deliveries were handled: the de-duplication hook, over your own store
/// (a database table, Redis, …), or [`MemoryDeliveryLog`] for a single instance.
///
/// Wacht delivers at least once: a retry after a lost answer, or a replay of a captured
/// delivery within the timestamp tolerance, brings the same `webhook-id` again. With a log,
/// each verified delivery is first [claimed](DeliveryLog::claim); the handler runs only for a
/// [`Claim::New`] one, and the claim is [finished](DeliveryLog::finish) with whether the
/// handler answered with a success (2xx). A failed attempt is released, so Wacht's retry runs
/// the handler again.
///
/// Both methods must be atomic per id: two attempts claiming the same id at once must not
/// both get [`Claim::New`] (in SQL, an `INSERT … ON CONFLICT DO NOTHING`; in Redis,
/// `SET id pending NX`).
///
/// ```
/// use wacht_runtime::webhook::{Claim, DeliveryLog, DeliveryLogError, LogFuture};
///
/// /// A log over a key-value store with an atomic "insert if absent".
/// struct Store;
///
/// impl DeliveryLog for Store {
///     fn claim<'a>(&'a self, id: &'a str, _now: i64, _remember_until: i64) -> LogFuture<'a, Result<Claim, DeliveryLogError>> {
///         Box::pin(async move {
///             // e.g. `SET webhook:{id} pending NX EXAT {remember_until}`, then read it back
///             let _ = id;
///             Ok(Claim::New)
///         })
///     }
///     fn finish<'a>(&'a self, id: &'a str, handled: bool) -> LogFuture<'a, ()> {
///         Box::pin(async move {
///             // handled: `SET webhook:{id} done KEEPTTL`; else `DEL webhook:{id}`
///             let _ = (id, handled);
///         })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a webhook delivery log",
    label = "`dedup = path` calls this function once and needs a `wacht::webhook::DeliveryLog`",
    note = "write a bare `dedup` for the in-memory log, or implement `wacht::webhook::DeliveryLog` for your store"
)]
pub trait DeliveryLog: Send + Sync + 'static {
    /// Claims delivery `id` at `now` (Unix seconds). A handled id must be remembered at least
    /// until `remember_until` (the delivery's timestamp plus the tolerance: later, a replay is
    /// refused by its timestamp anyway). A claim that is never finished (the process died)
    /// should expire after a while, so Wacht's retries are not refused forever.
    fn claim<'a>(
        &'a self,
        id: &'a str,
        now: i64,
        remember_until: i64,
    ) -> LogFuture<'a, Result<Claim, DeliveryLogError>>;

    /// Ends the claim on `id`: `handled` when the handler answered with a 2xx (the id is then
    /// remembered as done), else the claim is released.
    fn finish<'a>(&'a self, id: &'a str, handled: bool) -> LogFuture<'a, ()>;
}

/// The default number of ids a [`MemoryDeliveryLog`] remembers.
pub const DEFAULT_MEMORY_LOG_CAPACITY: usize = 10_000;

/// How long an unfinished claim of a [`MemoryDeliveryLog`] holds, in seconds. Wacht waits for
/// an answer for the endpoint's timeout (30 s by default), and retries 30 s after a failure.
pub const MEMORY_LOG_LEASE_SECONDS: i64 = 60;

/// A [`DeliveryLog`] in this process's memory: for a single instance (several instances, or
/// a serverless function's many, each keep their own, so a duplicate reaching another one
/// runs again). Bounded: it keeps at most `capacity` ids; past that, ids past their
/// `remember_until` go first, then the oldest handled ones.
pub struct MemoryDeliveryLog {
    capacity: usize,
    state: Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    entries: HashMap<String, Entry>,
    /// Ids in the order they were claimed, for eviction.
    order: VecDeque<String>,
}

#[derive(Clone, Copy)]
struct Entry {
    done: bool,
    /// Until when a handled id is remembered.
    remember_until: i64,
    /// Until when an unfinished claim holds.
    lease_until: i64,
}

impl MemoryDeliveryLog {
    /// A log remembering up to [`DEFAULT_MEMORY_LOG_CAPACITY`] ids.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_LOG_CAPACITY)
    }

    /// A log remembering up to `capacity` ids (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryDeliveryLog {
            capacity: capacity.max(1),
            state: Mutex::default(),
        }
    }

    /// How many ids it holds now (claimed or handled).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether it holds no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim_now(&self, id: &str, now: i64, remember_until: i64) -> Claim {
        let mut state = self.lock();
        if let Some(entry) = state.entries.get_mut(id) {
            if entry.done && now <= entry.remember_until {
                return Claim::Done;
            }
            if !entry.done && now <= entry.lease_until {
                return Claim::InProgress;
            }
            // Expired: claimed again below, in place.
            *entry = Entry {
                done: false,
                remember_until,
                lease_until: now.saturating_add(MEMORY_LOG_LEASE_SECONDS),
            };
            return Claim::New;
        }
        if state.entries.len() >= self.capacity {
            state.evict(self.capacity, now);
        }
        state.entries.insert(
            id.to_owned(),
            Entry {
                done: false,
                remember_until,
                lease_until: now.saturating_add(MEMORY_LOG_LEASE_SECONDS),
            },
        );
        state.order.push_back(id.to_owned());
        Claim::New
    }

    fn finish_now(&self, id: &str, handled: bool) {
        let mut state = self.lock();
        if handled {
            if let Some(entry) = state.entries.get_mut(id) {
                entry.done = true;
            }
        } else {
            state.entries.remove(id);
            // Its place in `order` is dropped lazily by `evict`.
        }
    }
}

impl MemoryState {
    /// Makes room for one more id: drops expired ids, then (still full) the oldest handled
    /// ones. Claims in progress are never dropped.
    fn evict(&mut self, capacity: usize, now: i64) {
        let entries = &mut self.entries;
        self.order.retain(|id| match entries.get(id) {
            None => false,
            Some(entry) if entry.done && now > entry.remember_until => {
                entries.remove(id);
                false
            }
            Some(entry) if !entry.done && now > entry.lease_until => {
                entries.remove(id);
                false
            }
            Some(_) => true,
        });
        while self.entries.len() >= capacity {
            let Some(at) = self
                .order
                .iter()
                .position(|id| self.entries.get(id).is_some_and(|entry| entry.done))
            else {
                break;
            };
            if let Some(id) = self.order.remove(at) {
                self.entries.remove(&id);
            }
        }
    }
}

impl Default for MemoryDeliveryLog {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryDeliveryLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDeliveryLog")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl DeliveryLog for MemoryDeliveryLog {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        now: i64,
        remember_until: i64,
    ) -> LogFuture<'a, Result<Claim, DeliveryLogError>> {
        let claim = self.claim_now(id, now, remember_until);
        Box::pin(std::future::ready(Ok(claim)))
    }

    fn finish<'a>(&'a self, id: &'a str, handled: bool) -> LogFuture<'a, ()> {
        self.finish_now(id, handled);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn claims_finishes_and_releases() {
        let log = MemoryDeliveryLog::new();
        assert_eq!(log.claim_now("msg_1", 100, 400), Claim::New);
        assert_eq!(log.claim_now("msg_1", 101, 400), Claim::InProgress);
        log.finish_now("msg_1", false);
        assert_eq!(log.claim_now("msg_1", 102, 400), Claim::New);
        log.finish_now("msg_1", true);
        assert_eq!(log.claim_now("msg_1", 103, 400), Claim::Done);
        assert_eq!(log.claim_now("msg_1", 400, 700), Claim::Done);
        // Past `remember_until`, a replay is refused by its timestamp anyway: forgotten.
        assert_eq!(log.claim_now("msg_1", 401, 700), Claim::New);
    }

    #[test]
    fn an_abandoned_claim_expires_after_the_lease() {
        let log = MemoryDeliveryLog::new();
        assert_eq!(log.claim_now("msg_1", 100, 400), Claim::New);
        assert_eq!(
            log.claim_now("msg_1", 100 + MEMORY_LOG_LEASE_SECONDS, 400),
            Claim::InProgress
        );
        assert_eq!(
            log.claim_now("msg_1", 101 + MEMORY_LOG_LEASE_SECONDS, 400),
            Claim::New
        );
    }

    #[test]
    fn bounded_expired_first_then_oldest_handled_never_in_progress() {
        let log = MemoryDeliveryLog::with_capacity(3);
        assert_eq!(log.claim_now("a", 100, 150), Claim::New);
        log.finish_now("a", true);
        assert_eq!(log.claim_now("b", 100, 400), Claim::New);
        log.finish_now("b", true);
        assert_eq!(log.claim_now("c", 190, 400), Claim::New); // in progress until 250
        // Full: "a" is past its `remember_until` at 200 and goes first.
        assert_eq!(log.claim_now("d", 200, 500), Claim::New);
        assert_eq!(log.len(), 3);
        assert_eq!(log.claim_now("b", 201, 400), Claim::Done);
        // Full with nothing expired: the oldest handled ("b") goes, never "c" (in progress).
        log.finish_now("d", true);
        assert_eq!(log.claim_now("e", 202, 500), Claim::New);
        assert_eq!(log.len(), 3);
        assert_eq!(log.claim_now("c", 203, 400), Claim::InProgress);
        assert_eq!(log.claim_now("d", 203, 500), Claim::Done);
        // Only claims in progress: the log grows rather than drop one.
        let log = MemoryDeliveryLog::with_capacity(1);
        assert_eq!(log.claim_now("x", 100, 400), Claim::New);
        assert_eq!(log.claim_now("y", 100, 400), Claim::New);
        assert_eq!(log.claim_now("x", 101, 400), Claim::InProgress);
    }
}
