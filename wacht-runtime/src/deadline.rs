//! When the platform stops the function: Wacht calls made for a request end in time for the
//! typed answer to leave.
//!
//! AWS Lambda (and Netlify, which runs on it) kills an invocation at its deadline, and the
//! caller then gets the platform's generic error instead of this crate's JSON. So when a
//! request carries a deadline, every check's calls (JWKS wait, gateway) share one budget that
//! ends [`DEADLINE_MARGIN`] before it, and a backend client made with
//! [`Wacht::backend_for`](crate::Wacht::backend_for) does too.

use std::time::Duration;

use crate::platform::{Instant, SystemTime, UNIX_EPOCH};

/// How long before a request's deadline every Wacht call made for it must have ended, so the
/// typed answer (e.g. `503 gateway_timeout`) still leaves in time.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// The moment the platform stops working on a request. Insert one into a request's
/// extensions (servers with their own request deadlines); with the `lambda` feature the
/// deadline of a `lambda_http` request (its Lambda context, from `Lambda-Runtime-Deadline-Ms`)
/// is found without it. A Lambda deadline already past when the request is checked is not a
/// real one (`cargo lambda watch` sends a time in 1970): it is ignored, with one warning per
/// process, and the configured timeout applies.
///
/// ```
/// use std::time::{Duration, Instant};
/// use wacht_runtime::Deadline;
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(Deadline::at(Instant::now() + Duration::from_secs(3)));
/// assert!(Deadline::of(&req).is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// A deadline at `instant` (`std::time::Instant`; on wasm32, where std's clock panics,
    /// `web_time::Instant`, the same API over `performance.now()`).
    pub fn at(instant: Instant) -> Self {
        Deadline(instant)
    }

    /// A deadline given as milliseconds since the Unix epoch (the form of
    /// `Lambda-Runtime-Deadline-Ms`), read against the system's wall clock.
    pub fn from_unix_millis(unix_millis: u64) -> Self {
        let wall_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let now = Instant::now();
        let target = Duration::from_millis(unix_millis);
        Deadline(match target.checked_sub(wall_now) {
            Some(ahead) => now + ahead,
            None => now.checked_sub(wall_now - target).unwrap_or(now),
        })
    }

    /// When it is.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// The request's deadline: a [`Deadline`] in its extensions, else (feature `lambda`) its
    /// Lambda context's, unless that one had already passed (see [`Deadline`]).
    pub fn of<B>(req: &http::Request<B>) -> Option<Deadline> {
        Self::in_extensions(req.extensions())
    }

    pub(crate) fn in_extensions(extensions: &http::Extensions) -> Option<Deadline> {
        if let Some(deadline) = extensions.get::<Deadline>() {
            return Some(*deadline);
        }
        #[cfg(feature = "lambda")]
        if let Some(context) = extensions.get::<lambda_runtime::Context>() {
            return lambda_deadline(context.deadline);
        }
        None
    }
}

/// A Lambda invocation's deadline (`Lambda-Runtime-Deadline-Ms`), unless it is no real one:
/// 0 (none given), or already past when the request is checked. Lambda stops a function at
/// its deadline, so a deadline found passed was never the platform's: `cargo lambda watch`
/// sends `600000` (a time in 1970) whatever `--timeout` says. Such a deadline is ignored, with
/// one warning per process, and the configured timeout applies.
#[cfg(feature = "lambda")]
fn lambda_deadline(unix_millis: u64) -> Option<Deadline> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);

    if unix_millis == 0 {
        return None;
    }
    let wall_now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    if Duration::from_millis(unix_millis) > wall_now {
        return Some(Deadline::from_unix_millis(unix_millis));
    }
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "wacht",
            deadline_unix_ms = unix_millis,
            now_unix_ms = u64::try_from(wall_now.as_millis()).unwrap_or(u64::MAX),
            "the invocation's deadline (Lambda-Runtime-Deadline-Ms) had already passed when the request was checked, so it is not a real one (cargo lambda watch sends 600000, a time in 1970); it is ignored and Wacht calls keep their configured timeout (this warning is logged once per process)"
        );
    }
    None
}

/// When the calls of one check must have ended: `timeout` from now, and never later than
/// [`DEADLINE_MARGIN`] before the request's deadline.
pub(crate) fn budget(timeout: Duration, deadline: Option<Deadline>) -> Instant {
    let now = Instant::now();
    let until = now + timeout;
    match deadline {
        Some(Deadline(deadline)) => until.min(
            deadline
                .checked_sub(DEADLINE_MARGIN)
                .unwrap_or(now)
                .max(now),
        ),
        None => until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_budget_ends_a_margin_before_the_deadline() {
        let now = Instant::now();
        let deadline = Deadline::at(now + Duration::from_secs(3));
        let until = budget(Duration::from_secs(5), Some(deadline));
        assert!(until <= now + Duration::from_millis(2750) + Duration::from_millis(50));
        assert!(until >= now + Duration::from_millis(2700));
        let relaxed = budget(Duration::from_secs(1), Some(deadline));
        assert!(relaxed <= Instant::now() + Duration::from_secs(1));
        let passed = budget(Duration::from_secs(5), Some(Deadline::at(now)));
        assert!(passed <= Instant::now());
    }

    #[test]
    fn unix_millis_convert_to_instants() {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let in_two_seconds = u64::try_from((wall + Duration::from_secs(2)).as_millis()).unwrap();
        let deadline = Deadline::from_unix_millis(in_two_seconds).instant();
        let ahead = deadline.saturating_duration_since(Instant::now());
        assert!(
            ahead > Duration::from_millis(1500) && ahead <= Duration::from_secs(2),
            "{ahead:?}"
        );
        let past = Deadline::from_unix_millis(1).instant();
        assert!(past <= Instant::now());
    }

    #[cfg(feature = "lambda")]
    #[test]
    fn a_lambda_deadline_already_past_is_ignored_and_a_future_one_kept() {
        fn with_context(deadline_ms: u64) -> http::Request<()> {
            let mut context = lambda_runtime::Context::default();
            context.deadline = deadline_ms;
            let mut req = http::Request::new(());
            req.extensions_mut().insert(context);
            req
        }
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let in_three_seconds = u64::try_from((wall + Duration::from_secs(3)).as_millis()).unwrap();
        let found = Deadline::of(&with_context(in_three_seconds)).expect("a real deadline");
        let ahead = found.instant().saturating_duration_since(Instant::now());
        assert!(ahead > Duration::from_secs(2), "{ahead:?}");
        // What `cargo lambda watch` sends, a second ago, and "none".
        let a_second_ago = u64::try_from((wall - Duration::from_secs(1)).as_millis()).unwrap();
        for not_real in [600_000, a_second_ago, 0] {
            assert_eq!(Deadline::of(&with_context(not_real)), None, "{not_real}");
        }
        // With it ignored, the budget is the configured timeout.
        let until = budget(Duration::from_secs(5), Deadline::of(&with_context(600_000)));
        assert!(until >= Instant::now() + Duration::from_millis(4900));
        // A deadline put in the extensions by a server is taken as it is, even when past.
        let mut req = with_context(600_000);
        let now = Instant::now();
        req.extensions_mut().insert(Deadline::at(now));
        assert_eq!(Deadline::of(&req), Some(Deadline::at(now)));
    }
}
