//! A bounded cache from an exact token string to its verified claims.
//!
//! An entry is used only while the token has not expired (by the configured clock) and
//! only while the key that verified it is in the current key set (the caller checks that
//! against a set that is current by TTL), so a key removed by a refresh takes its tokens
//! with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::session::VerifiedClaims;

struct Entry {
    claims: Arc<VerifiedClaims>,
    /// The id of the key that verified the token.
    key_id: u64,
}

pub(crate) struct TokenCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached claims of `token`, if not expired at `now` (with `leeway`) and verified by
    /// a key for which `key_held` is true.
    pub(crate) fn get(
        &self,
        token: &str,
        now: i64,
        leeway: i64,
        key_held: impl Fn(u64) -> bool,
    ) -> Option<Arc<VerifiedClaims>> {
        if self.capacity == 0 {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(token)?;
        if key_held(entry.key_id) && now < entry.claims.expires_at.saturating_add(leeway) {
            return Some(entry.claims.clone());
        }
        entries.remove(token);
        None
    }

    pub(crate) fn insert(
        &self,
        token: &str,
        key_id: u64,
        claims: Arc<VerifiedClaims>,
        now: i64,
        key_held: impl Fn(u64) -> bool,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, e| key_held(e.key_id) && e.claims.expires_at > now);
            if entries.len() >= self.capacity {
                // Still full of live tokens: start over rather than track recency.
                entries.clear();
            }
        }
        entries.insert(token.into(), Entry { claims, key_id });
    }
}
