//! Time as an input: [`Clock`], read by every component that times something out
//! (nonce-gap deadlines, proof leases, bans, resend and planning timers, block
//! timestamps). Production passes [`SystemClock`]; tests pass a [`ManualClock`] and
//! move it forward, so timeouts are tested without sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic time, for deadlines and elapsed times.
    fn now(&self) -> Instant;
    /// Wall-clock time, milliseconds since the Unix epoch (for timestamps).
    fn unix_ms(&self) -> u64;
}

/// A clock shared by the parts of one process.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that moves only when told to (tests and simulations).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    start_unix_ms: u64,
    elapsed_ms: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `unix_ms`.
    pub fn new(unix_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            start_unix_ms: unix_ms,
            elapsed_ms: AtomicU64::new(0),
        })
    }

    /// Moves the clock forward by `by` (millisecond resolution).
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.elapsed_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Time moved so far.
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.elapsed_ms.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn unix_ms(&self) -> u64 {
        self.start_unix_ms
            .saturating_add(self.elapsed_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        let before = clock.now();
        assert_eq!(clock.now(), before);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now() - before, Duration::from_millis(250));
        assert_eq!(clock.unix_ms(), 1_250);
    }
}
