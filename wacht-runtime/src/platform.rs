//! What differs between native targets and wasm32 (Cloudflare Workers): where the time comes
//! from, timers, and futures that hold JavaScript values.
//!
//! Everything else in the runtime is the same code on both.

use std::future::Future;
use std::time::Duration;

/// `std::time`'s types on native (a re-export); on wasm32, where `std::time` panics, the same
/// API over `performance.now()` and `Date.now()`.
pub(crate) use web_time::{Instant, SystemTime, UNIX_EPOCH};

/// Whether a request may await a JWKS fetch another request started. Not on wasm32: workerd
/// ties I/O to the request that started it, so a request there fetches for itself and waits
/// for its own fetch.
pub(crate) const SHARE_FETCHES: bool = !cfg!(target_family = "wasm");

/// `future`'s output, or `None` once `duration` has passed.
#[cfg(not(target_family = "wasm"))]
pub(crate) async fn timeout<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
    tokio::time::timeout(duration, future).await.ok()
}

/// `future`'s output, or `None` once `duration` has passed (a JS timer; no tokio runtime).
#[cfg(target_family = "wasm")]
pub(crate) fn timeout<F: Future + Send>(
    duration: Duration,
    future: F,
) -> impl Future<Output = Option<F::Output>> + Send {
    use futures_util::future::{Either, select};
    // JS timers take a signed 32-bit delay: 2^31 ms or more fires at once. Settings are
    // bounded far below that; the clamp keeps any other caller from a zero-length wait.
    let millis = u32::try_from(duration.as_millis())
        .unwrap_or(u32::MAX)
        .min(i32::MAX.unsigned_abs());
    send(async move {
        let timer = gloo_timers::future::TimeoutFuture::new(millis);
        let future = std::pin::pin!(future);
        match select(future, timer).await {
            Either::Left((output, _)) => Some(output),
            Either::Right(_) => None,
        }
    })
}

/// `future`, `Send` on every target. On wasm32 the futures of `fetch` and of JS timers hold
/// JS values (not `Send`); there is one thread, so wrapping them is sound (`SendWrapper`
/// checks it at run time).
#[cfg(target_family = "wasm")]
pub(crate) fn send<F: Future>(future: F) -> impl Future<Output = F::Output> + Send {
    send_wrapper::SendWrapper::new(future)
}

/// `future`, `Send` on every target (native futures here already are).
#[cfg(not(target_family = "wasm"))]
pub(crate) fn send<F: Future + Send>(future: F) -> impl Future<Output = F::Output> + Send {
    future
}

/// Waits `duration` (tokio's timer).
#[cfg(all(feature = "backend", not(target_family = "wasm")))]
pub(crate) async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// Waits `duration` (a JS timer; no tokio runtime).
#[cfg(all(feature = "backend", target_family = "wasm"))]
pub(crate) fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
    // Clamped as in `timeout`: JS timers take a signed 32-bit delay.
    let millis = u32::try_from(duration.as_millis())
        .unwrap_or(u32::MAX)
        .min(i32::MAX.unsigned_abs());
    send(gloo_timers::future::TimeoutFuture::new(millis))
}

/// 64 random bits, for values that must not collide or line up (multipart boundaries, retry
/// jitter), never for secrets: std's `RandomState` (seeded from the OS once per thread, its
/// keys changed on every call).
#[cfg(all(feature = "backend", not(target_family = "wasm")))]
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(CALLS.fetch_add(1, Ordering::Relaxed))
}

/// 64 random bits (see the native version): the platform's `crypto.getRandomValues`
/// (`getrandom`'s `js` backend); std's `RandomState` has no random seed on wasm32.
#[cfg(all(feature = "backend", target_family = "wasm"))]
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        // No WebCrypto: `Math.random()`'s 53 bits are enough for a boundary or a jitter.
        Err(_) => (js_sys::Math::random() * (1u64 << 53) as f64) as u64,
    }
}
