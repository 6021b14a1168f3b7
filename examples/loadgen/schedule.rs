//! The open-loop schedule: call `i` of a run is due at `i / rate` seconds
//! after the start, whatever happened to the calls before it. A slow server
//! therefore cannot slow the arrivals down, and every call's latency is
//! measured from the time it was *meant* to go, so time spent queueing
//! behind slow calls shows in the figures (no coordinated omission).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// `total` calls at `rate` per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    rate: f64,
    total: u64,
}

impl Schedule {
    /// `rate` calls per second for `seconds`; `what` names the flag in
    /// errors.
    pub fn new(rate: f64, seconds: f64, what: &str) -> Result<Schedule, String> {
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(format!(
                "{what}: expected a rate ≥ 0 per second, got {rate}"
            ));
        }
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(format!("--duration: expected seconds > 0, got {seconds}"));
        }
        let total = (rate * seconds).round();
        if total > 1e12 {
            return Err(format!(
                "{what} {rate} for {seconds} s is {total} calls, more than this tool can hold"
            ));
        }
        Ok(Schedule {
            rate,
            total: total as u64,
        })
    }

    /// How many calls the schedule holds.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The calls per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// When call `i` is due, after the start.
    pub fn offset(&self, i: u64) -> Duration {
        Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// How many calls are due `elapsed` after the start: every `i` with
    /// `offset(i) <= elapsed`, at most `total`.
    pub fn due(&self, elapsed: Duration) -> u64 {
        if self.total == 0 {
            return 0;
        }
        // The first guess from the product, then corrected against
        // `offset` itself, so `due` and `offset` never disagree by a
        // rounding step.
        let mut n = ((elapsed.as_secs_f64() * self.rate).floor() as u64).saturating_add(1);
        n = n.min(self.total);
        while n > 0 && self.offset(n - 1) > elapsed {
            n -= 1;
        }
        while n < self.total && self.offset(n) <= elapsed {
            n += 1;
        }
        n
    }

    /// Calls `dispatch(i, scheduled)` for every call at its due time
    /// (several at once when this task woke late: a late wake-up never
    /// moves a call's scheduled time); returns when the last one was
    /// dispatched. `dispatch` must not wait for the call to finish.
    pub async fn run<F>(&self, start: Instant, mut dispatch: F)
    where
        F: FnMut(u64, Instant),
    {
        let mut sent = 0;
        while sent < self.total {
            let due = self.due(Instant::now().saturating_duration_since(start));
            while sent < due {
                dispatch(sent, start + self.offset(sent));
                sent += 1;
            }
            if sent < self.total {
                tokio::time::sleep_until(start + self.offset(sent)).await;
            }
        }
    }
}

/// Runs `work` (e.g. a progress ticker) every `period` until `done`
/// resolves.
pub async fn every<W, D>(period: Duration, mut work: W, done: D)
where
    W: FnMut(),
    D: Future<Output = ()>,
{
    tokio::pin!(done);
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            () = &mut done => return,
            _ = ticks.tick() => work(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_rates_and_durations() {
        assert!(Schedule::new(-1.0, 1.0, "--rate")
            .unwrap_err()
            .contains("--rate"));
        assert!(Schedule::new(f64::NAN, 1.0, "--rate").is_err());
        assert!(Schedule::new(10.0, 0.0, "--rate")
            .unwrap_err()
            .contains("--duration"));
        assert!(Schedule::new(1e9, 1e9, "--rate").is_err());
        assert_eq!(
            Schedule::new(0.0, 5.0, "--freshness-rate").map(|s| s.total()),
            Ok(0)
        );
    }

    #[test]
    fn due_counts_the_calls_whose_time_has_come() {
        let s = Schedule::new(1000.0, 2.0, "--rate").unwrap();
        assert_eq!(s.total(), 2000);
        assert_eq!(s.due(Duration::ZERO), 1);
        assert_eq!(s.due(Duration::from_micros(999)), 1);
        assert_eq!(s.due(Duration::from_millis(1)), 2);
        assert_eq!(s.due(Duration::from_millis(1500)), 1501);
        assert_eq!(s.due(Duration::from_secs(60)), 2000);
        // `due` and `offset` agree for every call, rounding included.
        for rate in [3.0, 7.0, 1000.0, 2999.0, 20_000.0] {
            let s = Schedule::new(rate, 1.0, "--rate").unwrap();
            for i in 0..s.total() {
                assert!(s.due(s.offset(i)) > i, "rate {rate} call {i}");
                if let Some(before) = s.offset(i).checked_sub(Duration::from_nanos(1)) {
                    assert!(s.due(before) <= i, "rate {rate} call {i}");
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_dispatches_each_call_at_its_own_time_even_when_late() {
        let s = Schedule::new(100.0, 0.5, "--rate").unwrap();
        let start = Instant::now();
        let mut seen = Vec::new();
        s.run(start, |i, scheduled| {
            seen.push((i, scheduled, Instant::now()))
        })
        .await;
        assert_eq!(seen.len(), 50);
        for (i, scheduled, dispatched) in &seen {
            assert_eq!(*scheduled, start + Duration::from_millis(10 * i));
            assert!(*dispatched >= *scheduled);
        }
        // A dispatcher that starts 200 ms late sends the first 21 calls at
        // once, still stamped with their own scheduled times.
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut seen = Vec::new();
        s.run(start, |i, scheduled| {
            seen.push((i, scheduled, Instant::now()))
        })
        .await;
        let late: Vec<_> = seen
            .iter()
            .filter(|(_, _, at)| *at == start + Duration::from_millis(200))
            .collect();
        assert_eq!(late.len(), 21);
        assert_eq!(late[0].1, start);
        assert_eq!(late[20].1, start + Duration::from_millis(200));
    }
}
