//! The core's instant: microseconds since the Unix epoch, what the scheduler
//! compares and the engine's clock reads (convert wire datetimes with
//! `Instant::from(&datetime)`). Its own module, so it is never mistaken for
//! `std::time::Instant`, a monotonic clock reading.

use serde::{Deserialize, Serialize};

/// A point in time, in microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// The selection rules only compare instants, so this is all they need; the
/// engine converts its event datetimes into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Instant(i64);

impl Instant {
    /// The instant `micros` microseconds after the Unix epoch (negative: before).
    pub const fn from_micros(micros: i64) -> Self {
        Instant(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }
}

impl From<&crate::events::Datetime> for Instant {
    /// The instant of a wire datetime (its microseconds since the epoch).
    fn from(datetime: &crate::events::Datetime) -> Self {
        Instant(datetime.unix_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_wire_datetimes() {
        let at: crate::events::Datetime = "1970-01-02T00:00:00.000001Z".parse().expect("valid");
        assert_eq!(Instant::from(&at), Instant::from_micros(86_400_000_001));
    }
}
