//! A bounded cache from an exact token string to its verified claims.
//!
//! An entry is used only while the token has not expired (by the configured clock) and
//! only with the key-set generation that verified it, so a key change clears it in effect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::session::VerifiedClaims;

struct Entry {
    claims: Arc<VerifiedClaims>,
    generation: u64,
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

    /// The cached claims of `token`, if verified under `generation` and not expired at `now`
    /// (with `leeway`).
    pub(crate) fn get(
        &self,
        token: &str,
        generation: u64,
        now: i64,
        leeway: i64,
    ) -> Option<Arc<VerifiedClaims>> {
        if self.capacity == 0 {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(token)?;
        if entry.generation == generation && now < entry.claims.expires_at.saturating_add(leeway) {
            return Some(entry.claims.clone());
        }
        entries.remove(token);
        None
    }

    pub(crate) fn insert(
        &self,
        token: &str,
        generation: u64,
        claims: Arc<VerifiedClaims>,
        now: i64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.generation == generation && e.claims.expires_at > now);
            if entries.len() >= self.capacity {
                // Still full of live tokens: start over rather than track recency.
                entries.clear();
            }
        }
        entries.insert(token.into(), Entry { claims, generation });
    }
}
