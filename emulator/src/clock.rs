//! The emulator's adjustable clock, shared by everything time-based: search index lag,
//! query-cursor expiry, session expiry (oauth) and record timestamps.
//!
//! Wall-clock time plus an offset tests can move forward through the admin API, so a test
//! can say "3 seconds later" without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Now, as the emulated org sees it.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Milliseconds since the epoch, emulated.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Moves the clock forward (never backward: timestamps stay monotonic).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Total offset from wall-clock time.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed).max(0) as u64)
    }
}

/// Salesforce's datetime format: `2024-05-01T10:20:30.000+0000`.
pub fn sf_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let c = Clock::new();
        let before = c.now_ms();
        c.advance(Duration::from_secs(10));
        assert!(c.now_ms() - before >= 10_000);
    }

    #[test]
    fn datetime_format_matches_salesforce() {
        let t = DateTime::parse_from_rfc3339("2024-05-01T10:20:30Z").unwrap();
        assert_eq!(
            sf_datetime(t.with_timezone(&Utc)),
            "2024-05-01T10:20:30.000+0000"
        );
    }
}
