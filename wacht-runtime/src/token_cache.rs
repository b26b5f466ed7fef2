//! A bounded, concurrent cache from an exact token string to its verified claims.
//!
//! An entry is used only while the token has not expired (by the configured clock) and
//! only while the key that verified it is in the current key set (the caller checks that
//! against a set that is current by TTL), so a key removed by a refresh takes its tokens
//! with it. Expired or orphaned entries met on lookup are removed.
//!
//! # Why `quick_cache`
//!
//! The cache is [`quick_cache::sync::Cache`], chosen over `moka` (0.12, `sync` feature):
//!
//! - **Dependencies.** With `default-features = false` quick_cache adds three crates to
//!   this crate's tree (itself, `hashbrown`, `equivalent`); moka's `sync` cache adds
//!   fourteen (`crossbeam-channel`, `crossbeam-epoch`, `crossbeam-utils`, `parking_lot` and
//!   its three helpers, `portable-atomic`, `tagptr`, `uuid`, `getrandom` 0.4, …).
//! - **Hit path.** quick_cache shards the table (4 shards per core) behind read-write
//!   locks; a hit takes one shard's read lock and bumps an atomic counter, with no
//!   background work. moka's hits are lock-free but queue a read record in a channel that
//!   later housekeeping (on a caller's thread) drains.
//! - **Policy.** quick_cache uses a CLOCK-PRO variant close to S3-FIFO: scan resistant,
//!   with ghost entries (hashes only) of recently evicted keys, so a working set larger
//!   than the cache keeps a hit rate instead of falling off a cliff. moka's TinyLFU
//!   admission with LRU eviction is comparable in hit rate.
//! - **Bytes.** Both take a weigher (quick_cache `u64`, moka `u32`). quick_cache enforces
//!   the bound inside the insert that exceeds it; moka's bound is best effort until its
//!   pending maintenance runs.
//! - moka's time-based expiry would not replace our own check: `exp` is read against the
//!   configured [`Clock`](crate::Clock) (tests pin it), not moka's monotonic clock.
//!
//! # Bounds
//!
//! Entries are weighed in estimated bytes ([`estimated_bytes`]: the token, the claims' strings
//! and map, and the bookkeeping around them). Each entry is charged at least
//! `max_bytes / capacity`, so the cache holds at most `capacity` tokens and at most
//! `max_bytes` (estimated) at once; 0 for either turns the cache off.

use std::hash::{Hash, Hasher};
use std::mem::size_of;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use serde_json::{Map, Value};

use crate::session::VerifiedClaims;

/// How often (in seconds of the configured clock) at most a cache that is nearly full is
/// swept of expired and orphaned entries, so they do not push live tokens out.
const SWEEP_INTERVAL_SECONDS: i64 = 30;

/// The share of the cache's weight for entries that were used again after their insert; the
/// rest (10 %, as S3-FIFO's small queue) holds new entries until they are used again or
/// evicted. quick_cache's default, 97 %, suits frequency; session tokens live minutes and
/// are used in bursts, so new ones need room: on a simulated churn of short-lived tokens
/// 90 % missed 30 % fewer lookups than 97 %, at the same hit rate for a working set of
/// twice the capacity.
const HOT_ALLOCATION: f64 = 0.9;

/// Estimated bytes of the cache's own bookkeeping per entry (its slot, index and ghost
/// tracking), on top of the entry's own allocations.
const ENTRY_OVERHEAD: u64 = 96;

/// Estimated bytes of an allocator's own bookkeeping per heap allocation.
const ALLOCATION_OVERHEAD: u64 = 16;

/// How many bytes at the end of a token are hashed: the end of its signature, which differs
/// between any two tokens a key signed (a forged one never gets in: only verified tokens are
/// inserted). Hashing a 15 KB token whole took longer than the rest of a cache hit.
const HASHED_TAIL: usize = 32;

/// A cached token: hashed by its length and last [`HASHED_TAIL`] bytes, compared in full.
struct TokenKey(Box<str>);

/// A token being looked up, hashed and compared as a [`TokenKey`].
struct Lookup<'a>(&'a str);

fn hash_token<H: Hasher>(token: &str, state: &mut H) {
    let bytes = token.as_bytes();
    state.write_usize(bytes.len());
    state.write(&bytes[bytes.len().saturating_sub(HASHED_TAIL)..]);
}

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(&self.0, state);
    }
}

impl PartialEq for TokenKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for TokenKey {}

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(self.0, state);
    }
}

impl Equivalent<TokenKey> for Lookup<'_> {
    fn equivalent(&self, key: &TokenKey) -> bool {
        *self.0 == *key.0
    }
}

#[derive(Clone)]
struct Entry {
    claims: Arc<VerifiedClaims>,
    /// The id of the key that verified the token.
    key_id: u64,
    /// The entry's weight, computed once on insert (the weigher is called on every
    /// eviction step, so it must be cheap).
    weight: u64,
}

/// Weighs an entry by the weight it was given on insert.
#[derive(Clone)]
struct EntryWeight;

impl Weighter<TokenKey, Entry> for EntryWeight {
    fn weight(&self, _token: &TokenKey, entry: &Entry) -> u64 {
        entry.weight
    }
}

/// A cache hit: the claims, and the key that verified them.
pub(crate) struct Cached {
    pub(crate) claims: Arc<VerifiedClaims>,
    pub(crate) key_id: u64,
}

pub(crate) struct TokenCache {
    /// `None` when the cache is off.
    entries: Option<Cache<TokenKey, Entry, EntryWeight>>,
    /// The least weight charged per entry, `max_bytes / capacity`: keeps the count bound.
    min_weight: u64,
    /// Clock time (Unix seconds) before which no sweep starts.
    next_sweep: AtomicI64,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens and `max_bytes` estimated bytes; 0 for either
    /// turns it off.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        let max_bytes = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        let count = u64::try_from(capacity).unwrap_or(u64::MAX);
        let entries = if count == 0 || max_bytes == 0 {
            None
        } else {
            quick_cache::OptionsBuilder::new()
                // An estimate only: sizes the ghost tracking and the number of shards.
                .estimated_items_capacity(
                    capacity
                        .min(usize::try_from(max_bytes / 1024).unwrap_or(usize::MAX))
                        .max(1),
                )
                .weight_capacity(max_bytes)
                .hot_allocation(HOT_ALLOCATION)
                .build()
                .ok()
                .map(|options| {
                    Cache::with_options(
                        options,
                        EntryWeight,
                        Default::default(),
                        Default::default(),
                    )
                })
        };
        // An entry heavier than the hot share is refused: a capacity of 1 still caches one.
        let largest_admitted = (max_bytes as f64 * HOT_ALLOCATION) as u64;
        TokenCache {
            entries,
            min_weight: max_bytes
                .div_ceil(count.max(1))
                .min(largest_admitted)
                .max(1),
            next_sweep: AtomicI64::new(i64::MIN),
        }
    }

    /// The cached claims of `token` and the id of the key that verified them, if not expired
    /// at `now` (with `leeway`; an expired entry is removed). Whether that key is still in a
    /// current key set is the caller's to check ([`TokenCache::forget`] when it is not).
    pub(crate) fn lookup(&self, token: &str, now: i64, leeway: i64) -> Option<Cached> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(&Lookup(token))?;
        if now < entry.claims.expires_at.saturating_add(leeway) {
            return Some(Cached {
                claims: entry.claims,
                key_id: entry.key_id,
            });
        }
        self.forget(token, &entry.claims);
        None
    }

    /// Removes `token`'s entry if it still holds `claims`: an entry inserted meanwhile by
    /// another request stays.
    pub(crate) fn forget(&self, token: &str, claims: &Arc<VerifiedClaims>) {
        if let Some(entries) = &self.entries {
            entries.remove_if(&Lookup(token), |current| {
                Arc::ptr_eq(&current.claims, claims)
            });
        }
    }

    /// The cached claims of `token`, if not expired at `now` (with `leeway`) and verified by
    /// a key for which `key_held` is true. An entry that fails either rule is removed.
    #[cfg(test)]
    pub(crate) fn get(
        &self,
        token: &str,
        now: i64,
        leeway: i64,
        key_held: impl Fn(u64) -> bool,
    ) -> Option<Arc<VerifiedClaims>> {
        let cached = self.lookup(token, now, leeway)?;
        if key_held(cached.key_id) {
            return Some(cached.claims);
        }
        self.forget(token, &cached.claims);
        None
    }

    /// Remembers `token`'s verified claims. When the cache is nearly full (and no sweep ran
    /// in the last [`SWEEP_INTERVAL_SECONDS`]), entries expired at `now` or whose key
    /// `key_held` no longer holds are dropped first; beyond that the cache's policy evicts.
    pub(crate) fn insert(
        &self,
        token: &str,
        key_id: u64,
        claims: Arc<VerifiedClaims>,
        now: i64,
        key_held: impl Fn(u64) -> bool,
    ) {
        let Some(entries) = &self.entries else {
            return;
        };
        let weight = estimated_bytes(token, &claims).max(self.min_weight);
        if now >= self.next_sweep.load(Ordering::Relaxed)
            && entries.weight().saturating_add(weight) > entries.capacity() / 4 * 3
        {
            let scheduled = self.next_sweep.load(Ordering::Relaxed);
            // One sweeper at a time; the others insert right away.
            if now >= scheduled
                && self
                    .next_sweep
                    .compare_exchange(
                        scheduled,
                        now.saturating_add(SWEEP_INTERVAL_SECONDS),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                entries.retain(|_, e| key_held(e.key_id) && e.claims.expires_at > now);
            }
        }
        entries.insert(
            TokenKey(token.into()),
            Entry {
                claims,
                key_id,
                weight,
            },
        );
    }
}

/// The estimated heap footprint of a cached token: the token itself, its verified claims
/// (every string, the permission lists, the claims map) and the cache's bookkeeping.
fn estimated_bytes(token: &str, claims: &VerifiedClaims) -> u64 {
    let string = |s: &String| len(s.capacity()) + ALLOCATION_OVERHEAD;
    let optional = |s: &Option<String>| s.as_ref().map_or(0, string);
    let list = |l: &Vec<String>| {
        len(l.capacity() * size_of::<String>())
            + ALLOCATION_OVERHEAD
            + l.iter().map(string).sum::<u64>()
    };
    len(token.len())
        + ALLOCATION_OVERHEAD
        + ENTRY_OVERHEAD
        // The `Arc` around the claims: two counters and the struct.
        + len(2 * size_of::<usize>() + size_of::<VerifiedClaims>())
        + ALLOCATION_OVERHEAD
        + string(&claims.user_id)
        + optional(&claims.session_id)
        + optional(&claims.organization_id)
        + optional(&claims.workspace_id)
        + list(&claims.organization_permissions)
        + list(&claims.workspace_permissions)
        + map_bytes(&claims.claims)
}

/// The estimated heap footprint of a JSON object: per member its key, its value and a
/// share of the map's nodes, plus what the value owns.
fn map_bytes(map: &Map<String, Value>) -> u64 {
    map.iter()
        .map(|(name, value)| {
            len(name.capacity() + size_of::<String>() + size_of::<Value>())
                // A share of a B-tree node (up to 11 members each, often half full).
                + len(size_of::<String>() + size_of::<Value>())
                + ALLOCATION_OVERHEAD
                + value_bytes(value)
        })
        .sum()
}

/// What a JSON value owns on the heap (serde_json bounds nesting at 128 levels, so the
/// recursion is bounded).
fn value_bytes(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => len(s.capacity()) + ALLOCATION_OVERHEAD,
        Value::Array(items) => {
            len(items.capacity() * size_of::<Value>())
                + ALLOCATION_OVERHEAD
                + items.iter().map(value_bytes).sum::<u64>()
        }
        Value::Object(map) => map_bytes(map),
    }
}

fn len(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[cfg(not(target_family = "wasm"))]
    use std::thread;

    const KEY: u64 = 7;

    fn claims(user_id: &str, expires_at: i64) -> Arc<VerifiedClaims> {
        claims_with_payload(user_id, expires_at, 0)
    }

    /// Claims whose map carries `payload` bytes of one string claim, as large tokens do.
    fn claims_with_payload(user_id: &str, expires_at: i64, payload: usize) -> Arc<VerifiedClaims> {
        let mut map = Map::new();
        map.insert("sub".into(), Value::String(user_id.into()));
        map.insert("exp".into(), Value::from(expires_at));
        map.insert("blob".into(), Value::String("x".repeat(payload)));
        Arc::new(VerifiedClaims {
            user_id: user_id.into(),
            session_id: Some("sess_1".into()),
            organization_id: None,
            workspace_id: None,
            organization_permissions: vec!["user:read".into()],
            workspace_permissions: Vec::new(),
            expires_at,
            claims: map,
        })
    }

    /// A token-like string of about `len` bytes, ending (as a JWT's signature does) in what
    /// tells it apart.
    fn token(n: usize, len: usize) -> String {
        let signature = format!(".sig{n:08x}");
        let mut token = "a".repeat(len.saturating_sub(signature.len()));
        token.push_str(&signature);
        token
    }

    fn held(id: u64) -> bool {
        id == KEY
    }

    fn weight(cache: &TokenCache) -> u64 {
        cache.entries.as_ref().map_or(0, Cache::weight)
    }

    fn len(cache: &TokenCache) -> usize {
        cache.entries.as_ref().map_or(0, Cache::len)
    }

    #[test]
    fn a_verified_token_is_served_from_the_cache() {
        let cache = TokenCache::new(100, 1 << 20);
        let verified = claims("user_1", 1_000);
        cache.insert("t1", KEY, verified.clone(), 10, held);
        let hit = cache.get("t1", 10, 0, held).expect("a hit");
        assert!(Arc::ptr_eq(&hit, &verified));
        assert!(cache.get("t2", 10, 0, held).is_none());
        assert!(
            cache.get("t", 10, 0, held).is_none(),
            "only the exact token matches"
        );
        // Same length and same end (so the same hash): still only the exact token.
        let a = format!("a{}", "x".repeat(100));
        let b = format!("b{}", "x".repeat(100));
        cache.insert(&a, KEY, claims("user_a", 1_000), 10, held);
        assert!(cache.get(&b, 10, 0, held).is_none());
        cache.insert(&b, KEY, claims("user_b", 1_000), 10, held);
        let user = |t: &str| cache.get(t, 10, 0, held).map(|c| c.user_id.clone());
        assert_eq!(user(&a).as_deref(), Some("user_a"));
        assert_eq!(user(&b).as_deref(), Some("user_b"));
    }

    #[test]
    fn an_expired_token_is_not_served_and_is_removed() {
        let cache = TokenCache::new(100, 1 << 20);
        cache.insert("t1", KEY, claims("user_1", 100), 10, held);
        assert!(cache.get("t1", 99, 0, held).is_some());
        // Leeway keeps it a little longer, as verification would.
        assert!(cache.get("t1", 104, 5, held).is_some());
        assert!(cache.get("t1", 105, 5, held).is_none());
        assert!(cache.get("t1", 100, 0, held).is_none());
        // Removed on that lookup: not served even at an earlier time.
        assert!(cache.get("t1", 50, 0, held).is_none());
        assert_eq!(len(&cache), 0);
    }

    #[test]
    fn a_token_whose_key_is_gone_is_not_served_and_is_removed() {
        let cache = TokenCache::new(100, 1 << 20);
        cache.insert("t1", KEY, claims("user_1", 1_000), 10, held);
        assert!(cache.get("t1", 10, 0, |id| id == KEY + 1).is_none());
        assert!(cache.get("t1", 10, 0, held).is_none(), "removed");
        assert_eq!(len(&cache), 0);
    }

    #[test]
    fn removal_spares_an_entry_inserted_since_the_lookup() {
        let cache = TokenCache::new(100, 1 << 20);
        cache.insert("t1", KEY, claims("user_1", 100), 10, held);
        let stale = cache
            .entries
            .as_ref()
            .and_then(|e| e.get(&Lookup("t1")))
            .expect("cached");
        cache.insert("t1", KEY, claims("user_1", 1_000), 10, held);
        let entries = cache.entries.as_ref().expect("on");
        entries.remove_if(&Lookup("t1"), |current| {
            Arc::ptr_eq(&current.claims, &stale.claims)
        });
        assert!(cache.get("t1", 500, 0, held).is_some());
    }

    #[test]
    fn capacity_zero_or_no_bytes_turns_the_cache_off() {
        for cache in [TokenCache::new(0, 1 << 20), TokenCache::new(100, 0)] {
            cache.insert("t1", KEY, claims("user_1", 1_000), 10, held);
            assert!(cache.get("t1", 10, 0, held).is_none());
        }
    }

    #[test]
    fn the_byte_bound_holds_and_recent_tokens_survive() {
        let max_bytes = 4 << 20;
        let cache = TokenCache::new(10_000, max_bytes);
        // 4 000 tokens of ~1 KiB with ~1 KiB of claims: ~10 MiB offered to a 4 MiB cache.
        for n in 0..4_000 {
            let verified = claims_with_payload(&format!("user_{n}"), 1_000, 1_024);
            cache.insert(&token(n, 1_024), KEY, verified, 10, held);
            assert!(
                weight(&cache) <= max_bytes as u64,
                "over the bound after {n}"
            );
        }
        let held_tokens = len(&cache);
        assert!(
            (1_200..=1_700).contains(&held_tokens),
            "{held_tokens} tokens held"
        );
        for n in 3_990..4_000 {
            let hit = cache.get(&token(n, 1_024), 10, 0, held);
            assert_eq!(hit.map(|c| c.user_id.clone()), Some(format!("user_{n}")));
        }
        // A 15 KiB token still fits, and the bound still holds.
        let large = token(5_000, 15 * 1_024);
        cache.insert(
            &large,
            KEY,
            claims_with_payload("user_large", 1_000, 11 * 1_024),
            10,
            held,
        );
        assert!(cache.get(&large, 10, 0, held).is_some());
        assert!(weight(&cache) <= max_bytes as u64);
    }

    #[test]
    fn a_capacity_of_one_holds_the_latest_token() {
        let cache = TokenCache::new(1, 1 << 20);
        cache.insert("t1", KEY, claims("user_1", 1_000), 10, held);
        assert!(cache.get("t1", 10, 0, held).is_some());
        cache.insert("t2", KEY, claims("user_2", 1_000), 10, held);
        assert!(cache.get("t2", 10, 0, held).is_some());
        assert_eq!(len(&cache), 1);
    }

    #[test]
    fn the_count_bound_holds_for_small_tokens() {
        let cache = TokenCache::new(50, 64 << 20);
        for n in 0..500 {
            cache.insert(
                &token(n, 200),
                KEY,
                claims(&format!("user_{n}"), 1_000),
                10,
                held,
            );
        }
        assert!(len(&cache) <= 50, "{} tokens held", len(&cache));
        assert!(cache.get(&token(499, 200), 10, 0, held).is_some());
    }

    #[test]
    fn a_token_in_use_survives_a_flood_of_one_off_tokens() {
        let cache = TokenCache::new(100, 64 << 20);
        cache.insert("hot", KEY, claims("user_hot", 1_000), 10, held);
        for n in 0..2_000 {
            cache.insert(&token(n, 200), KEY, claims("user_once", 1_000), 10, held);
            if n % 50 == 0 {
                assert!(cache.get("hot", 10, 0, held).is_some(), "evicted by {n}");
            }
        }
        assert!(cache.get("hot", 10, 0, held).is_some());
    }

    #[test]
    fn a_nearly_full_cache_drops_expired_and_orphaned_tokens_first() {
        let cache = TokenCache::new(100, 64 << 20);
        for n in 0..90 {
            let (key, expires_at) = if n % 2 == 0 {
                (KEY, 50)
            } else {
                (KEY + 1, 1_000)
            };
            cache.insert(
                &token(n, 200),
                key,
                claims("user_old", expires_at),
                10,
                |_| true,
            );
        }
        // Shards fill unevenly: some may have been evicted already (78 of 90 were left in one
        // run on wasm32); most must be in for the rest to mean anything.
        assert!(len(&cache) > 70, "{}", len(&cache));
        // At 60 the even ones have expired and the odd ones' key is gone.
        cache.insert("fresh", KEY, claims("user_new", 1_000), 60, held);
        assert_eq!(len(&cache), 1, "only the fresh token is left");
        assert!(cache.get("fresh", 60, 0, held).is_some());
    }

    /// Hit rate of `cache` over `requests` lookups of the tokens `ids` names, inserting on a
    /// miss (as verification does), after a warm-up of one capacity's worth.
    fn hit_rate(capacity: usize, requests: usize, mut ids: impl FnMut(usize) -> usize) -> f64 {
        let cache = TokenCache::new(capacity, 64 << 20);
        let verified = claims("user_1", 1_000);
        let mut hits = 0;
        for i in 0..capacity + requests {
            let t = token(ids(i), 200);
            if cache.get(&t, 10, 0, held).is_some() {
                hits += usize::from(i >= capacity);
            } else {
                cache.insert(&t, KEY, verified.clone(), 10, held);
            }
        }
        hits as f64 / requests as f64
    }

    #[test]
    fn a_working_set_twice_the_capacity_keeps_a_hit_rate() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let uniform = hit_rate(1_000, 20_000, |_| {
            // xorshift64
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % 2_000).unwrap_or(0)
        });
        assert!(uniform > 0.4, "uniform: {uniform}");
        // A loop over twice the capacity: an LRU cache (or one emptied when full) misses
        // every time.
        let looping = hit_rate(1_000, 20_000, |i| i % 2_000);
        assert!(looping > 0.4, "loop: {looping}");
    }

    #[test]
    fn a_large_token_weighs_at_least_its_bytes() {
        let t = token(1, 15 * 1024);
        let c = claims_with_payload("user_1", 1_000, 11 * 1024);
        let bytes = estimated_bytes(&t, &c);
        assert!(bytes > (26 * 1024) as u64, "{bytes}");
        assert!(bytes < (28 * 1024) as u64, "{bytes}");
    }

    // wasm32 has no threads.
    #[cfg(not(target_family = "wasm"))]
    #[test]
    fn many_threads_insert_and_read_at_once() {
        let max_bytes = 512 << 10;
        let cache = Arc::new(TokenCache::new(1_000, max_bytes));
        cache.insert("shared", KEY, claims("user_shared", 1_000), 10, held);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let cache = cache.clone();
                thread::spawn(move || {
                    let mut hits = 0;
                    for n in 0..2_000 {
                        let id = t * 10_000 + n;
                        let tok = token(id, 300 + n % 700);
                        let user = format!("user_{id}");
                        cache.insert(&tok, KEY, claims(&user, 1_000), 10, held);
                        if let Some(c) = cache.get(&tok, 10, 0, held) {
                            assert_eq!(c.user_id, user, "a token served another's claims");
                            hits += 1;
                        }
                        let earlier = token(t * 10_000 + n / 2, 300 + (n / 2) % 700);
                        if let Some(c) = cache.get(&earlier, 10, 0, held) {
                            assert_eq!(c.user_id, format!("user_{}", t * 10_000 + n / 2));
                        }
                        if let Some(c) = cache.get("shared", 10, 0, held) {
                            assert_eq!(c.user_id, "user_shared");
                        }
                    }
                    hits
                })
            })
            .collect();
        let hits: usize = threads
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .sum();
        assert!(hits > 8 * 1_500, "{hits} of 16 000 read right after insert");
        assert!(weight(&cache) <= max_bytes as u64);
        assert!(len(&cache) <= 1_000);
    }
}
