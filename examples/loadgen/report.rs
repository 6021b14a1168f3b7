//! The summary a run prints: what was scheduled, the latency of the
//! scheduled calls, failed tries, freshness, and the achieved rate, each
//! line saying what it counts.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::calls::{Counts, Kind};

/// What the run was asked to do and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub rate: f64,
    pub duration: f64,
    pub freshness_rate: f64,
    pub freshness_timeout: Duration,
    pub request_timeout: Duration,
    pub max_tries: u32,
    /// Load calls the schedule held (all were dispatched).
    pub scheduled: u64,
    /// From the start to the dispatch of the last load call.
    pub dispatch_window: Duration,
    /// From the start until the last load call finished.
    pub load_elapsed: Duration,
}

/// p50, p99, p99.9 and max of a sorted sample, in ms (`NaN` when empty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    /// `sorted_us`: microseconds, ascending.
    pub fn of(sorted_us: &[u64]) -> Percentiles {
        Percentiles {
            n: sorted_us.len(),
            p50: percentile(sorted_us, 50.0),
            p99: percentile(sorted_us, 99.0),
            p999: percentile(sorted_us, 99.9),
            max: sorted_us.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
        }
    }
}

/// Nearest-rank percentile of microseconds, in ms.
fn percentile(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    // The smallest rank covering p % of the sample; the tolerance keeps a
    // product such as 99.9 % × 1000 = 999.0000000000001 at rank 999.
    let rank = ((p / 100.0) * sorted_us.len() as f64 - 1e-9).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}

/// The figures of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub plan: Plan,
    /// Scheduled load calls that got their 200.
    pub ok: u64,
    /// Scheduled load calls given up.
    pub given_up: u64,
    /// Of the scheduled load calls: scheduled time to final success.
    pub latency: Percentiles,
    /// Successful scheduled load calls per second of `load_elapsed`.
    pub achieved: f64,
    /// Duplicates sent, and how many of them were acknowledged.
    pub duplicates: u64,
    pub duplicates_ok: u64,
    /// Probes dispatched; answers acknowledged; answers given up.
    pub probes: u64,
    pub probes_acknowledged: u64,
    pub probes_given_up: u64,
    /// Acknowledged probes never read back with lag 0 in time.
    pub freshness_timeouts: u64,
    /// Acknowledgement to lag 0, of the probes that got there.
    pub freshness: Percentiles,
    /// Failed tries by reason, all kinds of call.
    pub failed_tries: BTreeMap<String, u64>,
    /// Failed tries per kind of call.
    pub failed_by_kind: BTreeMap<Kind, u64>,
    /// Failed tries that were timeouts, per kind of call.
    pub timeouts_by_kind: BTreeMap<Kind, u64>,
}

impl Summary {
    /// The figures of `counts` for `plan`.
    pub fn new(plan: Plan, counts: &Counts) -> Summary {
        let get = |map: &BTreeMap<Kind, u64>, kind| map.get(&kind).copied().unwrap_or(0);
        let ok = get(&counts.succeeded, Kind::Load);
        let mut failed_tries = BTreeMap::new();
        let mut failed_by_kind = BTreeMap::new();
        let mut timeouts_by_kind = BTreeMap::new();
        for ((kind, reason), n) in &counts.failed_tries {
            *failed_tries.entry(reason.clone()).or_default() += n;
            *failed_by_kind.entry(*kind).or_default() += n;
            if reason == "timeout" {
                *timeouts_by_kind.entry(*kind).or_default() += n;
            }
        }
        let seconds = plan.load_elapsed.as_secs_f64();
        Summary {
            plan,
            ok,
            given_up: get(&counts.given_up, Kind::Load),
            latency: Percentiles::of(&counts.latencies_us),
            achieved: if seconds > 0.0 {
                ok as f64 / seconds
            } else {
                0.0
            },
            duplicates: counts.duplicates,
            duplicates_ok: get(&counts.succeeded, Kind::Duplicate),
            probes: counts.probes,
            probes_acknowledged: get(&counts.succeeded, Kind::Probe),
            probes_given_up: get(&counts.given_up, Kind::Probe),
            freshness_timeouts: counts.freshness_timeouts,
            freshness: Percentiles::of(&counts.freshness_us),
            failed_tries,
            failed_by_kind,
            timeouts_by_kind,
        }
    }

    /// The printed lines.
    pub fn lines(&self) -> Vec<String> {
        let plan = &self.plan;
        let mut lines = vec![
            format!(
                "target: {:.0} req/s for {:.0} s; scheduled {} record_responses calls in {:.2} s \
                 (open loop: each at its own time, whatever the server does) (+{} duplicates: \
                 acknowledged calls re-sent, not part of the schedule)",
                plan.rate,
                plan.duration,
                plan.scheduled,
                plan.dispatch_window.as_secs_f64(),
                self.duplicates
            ),
            format!(
                "latency ms (scheduled calls, from the scheduled time to the final success: waits for \
                 a connection, failed tries and retry pauses included; duplicates and probes not \
                 included): p50 {:.2} p99 {:.2} p99.9 {:.2} max {:.2} (n={})",
                self.latency.p50, self.latency.p99, self.latency.p999, self.latency.max, self.latency.n
            ),
        ];
        let failed: u64 = self.failed_tries.values().sum();
        let by_kind: Vec<String> = self
            .failed_by_kind
            .iter()
            .map(|(kind, n)| format!("{} {n}", kind.label()))
            .collect();
        lines.push(format!(
            "errors: {failed} {:?} (failed tries, each retried until success or given up; by call: {})",
            self.failed_tries,
            if by_kind.is_empty() {
                "none".to_owned()
            } else {
                by_kind.join(", ")
            }
        ));
        let timeouts: u64 = self.timeouts_by_kind.values().sum();
        let timeouts_by_kind: Vec<String> = self
            .timeouts_by_kind
            .iter()
            .map(|(kind, n)| format!("{} {n}", kind.label()))
            .collect();
        lines.push(format!(
            "timeouts: {timeouts} tries had no answer within {} ms (--request-timeout-ms; counted \
             in errors{})",
            plan.request_timeout.as_millis(),
            if timeouts_by_kind.is_empty() {
                String::new()
            } else {
                format!("; {}", timeouts_by_kind.join(", "))
            }
        ));
        if self.given_up > 0 {
            lines.push(format!(
                "given up after {} tries: {} requests (their sequence numbers stay gaps)",
                plan.max_tries, self.given_up
            ));
        }
        lines.push(format!(
            "freshness ms (probe answer acknowledged → first fetch_student_clues with \
             Biglearn-Lag-Events 0): p50 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} (n={} of {} probes \
             at {} per s; {} timed out after {} s, {} answers not acknowledged)",
            self.freshness.p50,
            self.freshness.p99,
            self.freshness.p999,
            self.freshness.max,
            self.freshness.n,
            self.probes,
            plan.freshness_rate,
            self.freshness_timeouts,
            plan.freshness_timeout.as_secs_f64(),
            self.probes_given_up,
        ));
        lines.push(format!(
            "achieved requests/s: {:.0} ({} of {} scheduled calls succeeded, over the {:.2} s until \
             the last of them finished; {} duplicate and {} probe calls not counted)",
            self.achieved,
            self.ok,
            plan.scheduled,
            plan.load_elapsed.as_secs_f64(),
            self.duplicates_ok,
            self.probes_acknowledged
        ));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            rate: 100.0,
            duration: 2.0,
            freshness_rate: 20.0,
            freshness_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_millis(10_000),
            max_tries: 20,
            scheduled: 200,
            dispatch_window: Duration::from_secs(2),
            load_elapsed: Duration::from_millis(2500),
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let us: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let p = Percentiles::of(&us);
        assert_eq!(
            (p.n, p.p50, p.p99, p.p999, p.max),
            (1000, 500.0, 990.0, 999.0, 1000.0)
        );
        let p = Percentiles::of(&[7000]);
        assert_eq!((p.p50, p.p999, p.max), (7.0, 7.0, 7.0));
        assert!(Percentiles::of(&[]).p50.is_nan());
    }

    #[test]
    fn achieved_counts_only_scheduled_calls_and_errors_are_split_by_kind() {
        let mut counts = Counts {
            latencies_us: vec![1000; 190],
            freshness_us: vec![5000; 32],
            duplicates: 4,
            probes: 40,
            freshness_timeouts: 3,
            ..Counts::default()
        };
        counts.succeeded.insert(Kind::Load, 190);
        counts.succeeded.insert(Kind::Duplicate, 4);
        counts.succeeded.insert(Kind::Probe, 35);
        counts.given_up.insert(Kind::Load, 10);
        counts.given_up.insert(Kind::Probe, 5);
        counts
            .failed_tries
            .insert((Kind::Load, "timeout".into()), 7);
        counts
            .failed_tries
            .insert((Kind::Load, "HTTP 503".into()), 2);
        counts
            .failed_tries
            .insert((Kind::ProbeRead, "timeout".into()), 1);
        let summary = Summary::new(plan(), &counts);
        // 190 load successes over 2.5 s: duplicates and probes add nothing.
        assert_eq!(summary.achieved, 76.0);
        assert_eq!((summary.ok, summary.given_up), (190, 10));
        assert_eq!(summary.latency.n, 190);
        assert_eq!(summary.failed_tries["timeout"], 8);
        assert_eq!(summary.failed_by_kind[&Kind::Load], 9);
        assert_eq!(summary.timeouts_by_kind[&Kind::Load], 7);
        assert_eq!(summary.timeouts_by_kind[&Kind::ProbeRead], 1);
        let text = summary.lines().join("\n");
        assert!(
            text.contains("achieved requests/s: 76 (190 of 200 scheduled calls succeeded"),
            "{text}"
        );
        assert!(
            text.contains("4 duplicate and 35 probe calls not counted"),
            "{text}"
        );
        assert!(text.contains("errors: 10 "), "{text}");
        assert!(
            text.contains("timeouts: 8 tries had no answer within 10000 ms"),
            "{text}"
        );
        assert!(
            text.contains("given up after 20 tries: 10 requests"),
            "{text}"
        );
        // 40 probes: 32 measured, 3 timed out, 5 not acknowledged.
        assert!(
            text.contains("(n=32 of 40 probes at 20 per s; 3 timed out after 30 s, 5 answers not acknowledged)"),
            "{text}"
        );
    }
}
