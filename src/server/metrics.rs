//! `/metrics` in the Prometheus text format (hand-written exposition):
//! requests by endpoint and status, a latency histogram per endpoint,
//! events appended, group-commit sizes, per-course backlog (A6b) and open
//! gaps with their ages (O3).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use biglearn_store::IngestStats;

use super::runner::{GapAge, RunnerStats};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// The server's own counters (the store's and engine's are read at render
/// time).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, std::sync::Arc<Histogram>>>,
    /// Events newly stored by accepted appends.
    pub events_stored: AtomicU64,
    /// Events that were identical replays.
    pub events_replayed: AtomicU64,
}

/// What a render needs besides the counters.
pub struct Snapshot<'a> {
    /// Group-commit counters.
    pub ingest: IngestStats,
    /// Engine runner counters.
    pub runner: &'a RunnerStats,
    /// Backlog per course (uuid text, events).
    pub backlog: Vec<(String, u64)>,
    /// Open gaps, oldest first.
    pub gaps: Vec<GapAge>,
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, endpoint: &'static str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((endpoint, status))
            .or_default() += 1;
        let histogram = {
            let mut map = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
            std::sync::Arc::clone(map.entry(endpoint).or_default())
        };
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        histogram.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, snapshot: &Snapshot<'_>) -> String {
        let mut out = String::with_capacity(8192);
        out.push_str(
            "# HELP biglearn_http_requests_total Answered requests by endpoint and status.\n",
        );
        out.push_str("# TYPE biglearn_http_requests_total counter\n");
        for ((endpoint, status), count) in self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "biglearn_http_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP biglearn_http_request_duration_seconds Request latency by endpoint.\n",
        );
        out.push_str("# TYPE biglearn_http_request_duration_seconds histogram\n");
        let latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        for (endpoint, histogram) in latency.iter() {
            for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "biglearn_http_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {}",
                    bucket.load(Ordering::Relaxed)
                );
            }
            let count = histogram.count.load(Ordering::Relaxed);
            let sum = histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "biglearn_http_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "biglearn_http_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "biglearn_http_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {count}"
            );
        }
        drop(latency);
        let ingest = &snapshot.ingest;
        let runner = snapshot.runner;
        let counters: [(&str, &str, u64); 14] = [
            (
                "biglearn_events_stored_total",
                "Events newly stored.",
                self.events_stored.load(Ordering::Relaxed),
            ),
            (
                "biglearn_events_replayed_total",
                "Events that were identical replays (A4).",
                self.events_replayed.load(Ordering::Relaxed),
            ),
            (
                "biglearn_ingest_groups_committed_total",
                "Group commits that returned outcomes.",
                ingest.groups_committed,
            ),
            (
                "biglearn_ingest_groups_failed_total",
                "Group commits that failed as a whole.",
                ingest.groups_failed,
            ),
            (
                "biglearn_ingest_requests_total",
                "Append requests in committed groups.",
                ingest.requests,
            ),
            (
                "biglearn_ingest_events_total",
                "Events in committed groups.",
                ingest.events,
            ),
            (
                "biglearn_engine_steps_total",
                "Engine steps that did work.",
                runner.steps.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_events_applied_total",
                "Events the engine applied.",
                runner.events_applied.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_result_writes_total",
                "Result rows the engine wrote or deleted.",
                runner.result_writes.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_state_bytes_written_total",
                "Bytes of course state (head and changed parts) the engine wrote.",
                runner.state_bytes_written.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_step_errors_total",
                "Engine steps that failed (retried).",
                runner.step_errors.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_matrix_catch_up_units_total",
                "Students, assignments and course containers recalculated for new matrices, in slices behind the responses.",
                runner.matrix_catch_up_units.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_refits_total",
                "SPARFA matrix refits completed.",
                runner.refits.load(Ordering::Relaxed),
            ),
            (
                "biglearn_engine_refit_errors_total",
                "SPARFA matrix refits that failed.",
                runner.refit_errors.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        // Engine events per busy second, as `simulate` prints it, is
        // biglearn_engine_events_applied_total over this.
        let _ = writeln!(
            out,
            "# HELP biglearn_engine_step_seconds_total Seconds spent in engine steps (idle ones included).\n\
             # TYPE biglearn_engine_step_seconds_total counter\n\
             biglearn_engine_step_seconds_total {}",
            runner.step_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let gauges: [(&str, &str, f64); 5] = [
            (
                "biglearn_engine_courses_catching_up",
                "Courses with part of their results still from an older matrix (their recalculation is under way).",
                runner.courses_catching_up.load(Ordering::Relaxed) as f64,
            ),
            (
                "biglearn_ingest_group_requests_mean",
                "Mean requests per committed group.",
                ingest.mean_group_requests(),
            ),
            (
                "biglearn_ingest_group_requests_max",
                "Largest group, in requests.",
                ingest.max_group_requests as f64,
            ),
            (
                "biglearn_engine_cached_courses",
                "Course states in the engine's cache.",
                runner.cached_courses.load(Ordering::Relaxed) as f64,
            ),
            (
                "biglearn_engine_cached_bytes",
                "Estimated bytes of the cached course states.",
                runner.cached_bytes.load(Ordering::Relaxed) as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out.push_str("# HELP biglearn_course_backlog_events Events stored but not yet processed by the engine, per course (A6b).\n");
        out.push_str("# TYPE biglearn_course_backlog_events gauge\n");
        for (course, backlog) in &snapshot.backlog {
            let _ = writeln!(
                out,
                "biglearn_course_backlog_events{{course=\"{course}\"}} {backlog}"
            );
        }
        out.push_str(
            "# HELP biglearn_open_gaps Streams blocked at a missing sequence number (O3).\n",
        );
        out.push_str("# TYPE biglearn_open_gaps gauge\n");
        let _ = writeln!(out, "biglearn_open_gaps {}", snapshot.gaps.len());
        out.push_str("# HELP biglearn_oldest_gap_age_seconds Age of the oldest open gap (from the store's first-seen time, or from when this process first saw it).\n");
        out.push_str("# TYPE biglearn_oldest_gap_age_seconds gauge\n");
        let oldest = snapshot.gaps.first().map_or(0.0, |g| g.age_seconds);
        let _ = writeln!(out, "biglearn_oldest_gap_age_seconds {oldest}");
        out.push_str("# HELP biglearn_gap_events_waiting Events stored behind each open gap.\n");
        out.push_str("# TYPE biglearn_gap_events_waiting gauge\n");
        for age in &snapshot.gaps {
            let gap = &age.gap;
            let _ = writeln!(
                out,
                "biglearn_gap_events_waiting{{stream=\"{}\",missing=\"{}\"}} {}",
                gap.stream, gap.missing, gap.events_waiting
            );
        }
        out
    }
}
