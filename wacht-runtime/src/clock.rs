//! Where the runtime's notion of "now" comes from.

use crate::platform::{SystemTime, UNIX_EPOCH};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The source of the current time (Unix seconds) used to check `exp` and `nbf`.
///
/// Every time check in the runtime reads this clock, never `SystemTime::now()` directly, so
/// tests can pin time exactly.
///
/// ```
/// use wacht_runtime::Clock;
/// let clock = Clock::fixed(1_700_000_000);
/// assert_eq!(clock.now(), 1_700_000_000);
/// clock.set(1_700_000_060);
/// assert_eq!(clock.now(), 1_700_000_060);
/// assert!(Clock::system().now() > 1_700_000_000);
/// ```
#[derive(Clone, Default)]
pub struct Clock(ClockKind);

#[derive(Clone, Default)]
enum ClockKind {
    #[default]
    System,
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Clock(ClockKind::System)
    }

    /// A clock that always reads `unix_seconds` until [`Clock::set`] moves it. Clones share
    /// the same time.
    pub fn fixed(unix_seconds: i64) -> Self {
        Clock(ClockKind::Fixed(Arc::new(AtomicI64::new(unix_seconds))))
    }

    /// Moves a fixed clock (and its clones) to `unix_seconds`; no effect on the system clock.
    pub fn set(&self, unix_seconds: i64) {
        if let ClockKind::Fixed(now) = &self.0 {
            now.store(unix_seconds, Ordering::SeqCst);
        }
    }

    /// The current time in whole seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match &self.0 {
            ClockKind::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            ClockKind::Fixed(now) => now.load(Ordering::SeqCst),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockKind::System => f.write_str("Clock::system()"),
            ClockKind::Fixed(now) => write!(f, "Clock::fixed({})", now.load(Ordering::SeqCst)),
        }
    }
}
