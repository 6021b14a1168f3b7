//! Sending calls and counting what happened to them.
//!
//! A call is tried until it gets a 200 (same body, so the same uuid and
//! sequence number, as Tutor does): each try first waits for one of the
//! `--connections` slots, then has `--request-timeout-ms` for the HTTP
//! exchange; a try without an answer by then is a failed try (`timeout`).
//! Transport errors, timeouts, 5xx, 408 and 429 answers are retried after
//! a growing pause; any other 4xx is final (the same body would get it
//! again).
//!
//! What is counted, per kind of call ([`Kind`]):
//! - every failed try, by reason (`timeout`, `HTTP 503`, `transport`, …);
//! - calls that succeeded, and calls given up (no 200 after all tries);
//! - for scheduled load calls only, the latency from the *scheduled* time
//!   to the final 200, waits for a slot, failed tries and pauses included.
//!
//! Duplicates and freshness probes are sent the same way but never enter
//! the latency or the count of succeeded load calls.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hyper::body::Bytes;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::acks::AckLog;

/// What one exchange returned.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    /// The `Biglearn-Lag-Events` header.
    pub lag: Option<u64>,
}

/// Carries one request to the server and back (HTTP in the tool, a script
/// in the tests).
pub trait Transport: Send + Sync + 'static {
    /// POSTs `body` to `/<endpoint>`; `Err` for transport failures.
    fn exchange(
        &self,
        endpoint: &'static str,
        body: &Value,
    ) -> impl Future<Output = Result<Reply, String>> + Send;
}

/// Why a try failed without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the per-request timeout.
    Timeout,
    /// The connection failed (refused, reset, …).
    Transport(String),
}

impl Failure {
    /// The short reason the report groups failures by.
    pub fn reason(&self) -> String {
        match self {
            Failure::Timeout => "timeout".to_owned(),
            Failure::Transport(e) => e.split(':').next().unwrap_or("transport").to_owned(),
        }
    }
}

/// A transport with a bound on requests in flight and a per-try timeout.
pub struct Client<T> {
    transport: Arc<T>,
    /// Bounds requests in flight (and so connections).
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client {
            transport: Arc::clone(&self.transport),
            slots: Arc::clone(&self.slots),
            timeout: self.timeout,
        }
    }
}

impl<T: Transport> Client<T> {
    /// At most `connections` requests in flight; each exchange gets
    /// `timeout`.
    pub fn with_transport(transport: T, connections: usize, timeout: Duration) -> Self {
        Client {
            transport: Arc::new(transport),
            slots: Arc::new(Semaphore::new(connections.max(1))),
            timeout,
        }
    }

    /// One try: waits for a slot (no timeout: that wait is the client's
    /// own queue, and it shows in the latency), then the exchange, bounded
    /// by the timeout.
    pub async fn post(&self, endpoint: &'static str, body: &Value) -> Result<Reply, Failure> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| Failure::Transport(format!("closed: {e}")))?;
        match tokio::time::timeout(self.timeout, self.transport.exchange(endpoint, body)).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(Failure::Transport(e)),
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// Tries until a 200 (at most `tries` tries), calling `failed` with the
    /// reason of every failed try. `Err` when given up: a 4xx, or no 200
    /// in `tries` tries.
    pub async fn post_with_retries(
        &self,
        endpoint: &'static str,
        body: &Value,
        tries: u32,
        mut failed: impl FnMut(String),
    ) -> Result<Reply, String> {
        let mut last = String::new();
        for attempt in 0..tries {
            match self.post(endpoint, body).await {
                Ok(reply) if reply.status == 200 => return Ok(reply),
                Ok(reply) => {
                    failed(format!("HTTP {}", reply.status));
                    last = format!(
                        "{endpoint} answered {}: {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    );
                    if is_final(reply.status) {
                        return Err(last);
                    }
                }
                Err(failure) => {
                    failed(failure.reason());
                    last = match failure {
                        Failure::Timeout => format!(
                            "{endpoint}: no answer within {} ms (--request-timeout-ms)",
                            self.timeout.as_millis()
                        ),
                        Failure::Transport(e) => format!("{endpoint}: {e}"),
                    };
                }
            }
            if attempt + 1 < tries {
                tokio::time::sleep(retry_pause(attempt)).await;
            }
        }
        Err(if tries > 1 {
            format!("{last} (gave up after {tries} tries)")
        } else {
            last
        })
    }

    /// Tries until a 200 (up to [`SETUP_TRIES`] tries) and parses the
    /// answer (setup calls); a failure is an error naming the endpoint.
    pub async fn must_with_retries(
        &self,
        endpoint: &'static str,
        body: &Value,
    ) -> Result<Value, String> {
        let reply = self
            .post_with_retries(endpoint, body, SETUP_TRIES, |_| {})
            .await?;
        serde_json::from_slice(&reply.body).map_err(|e| format!("{endpoint}: bad JSON: {e}"))
    }

    /// One try that must answer 200; parses the answer (verification
    /// calls, which retry on their own).
    pub async fn must(&self, endpoint: &'static str, body: &Value) -> Result<Value, String> {
        self.post_with_retries(endpoint, body, 1, |_| {})
            .await
            .and_then(|reply| {
                serde_json::from_slice(&reply.body)
                    .map_err(|e| format!("{endpoint}: bad JSON: {e}"))
            })
    }
}

/// Whether an answer with `status` would come again for the same body: a
/// 4xx other than 408 (request timeout) and 429 (too many requests).
fn is_final(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

/// Tries of a setup call (about 9 s of pauses between them).
const SETUP_TRIES: u32 = 20;

/// The pause after failed try `attempt` (0-based): 10 ms doubling up to
/// 640 ms.
pub fn retry_pause(attempt: u32) -> Duration {
    Duration::from_millis(10 << attempt.min(6))
}

/// What a call is, for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A scheduled record_responses call: the measured load.
    Load,
    /// A deliberate re-send of an acknowledged load call.
    Duplicate,
    /// A freshness probe's record_responses call.
    Probe,
    /// A freshness probe's fetch_student_clues reads.
    ProbeRead,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Load, Kind::Duplicate, Kind::Probe, Kind::ProbeRead];

    fn index(self) -> usize {
        self as usize
    }

    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Load => "scheduled calls",
            Kind::Duplicate => "duplicates",
            Kind::Probe => "probe answers",
            Kind::ProbeRead => "probe reads",
        }
    }
}

/// One call to send.
pub struct Call<'a> {
    pub body: &'a Value,
    /// When the open-loop schedule meant it to go (for a duplicate: when it
    /// was re-sent).
    pub scheduled: Instant,
    pub kind: Kind,
}

/// Everything counted during a run.
#[derive(Default)]
pub struct Stats {
    /// Load calls: scheduled time to final success, in µs.
    latencies_us: Mutex<Vec<u64>>,
    /// Freshness samples, in µs.
    freshness_us: Mutex<Vec<u64>>,
    /// Failed tries per kind and reason.
    failed_tries: Mutex<BTreeMap<(Kind, String), u64>>,
    /// Calls that got their 200, per kind.
    succeeded: [AtomicU64; 4],
    /// Calls given up, per kind.
    given_up: [AtomicU64; 4],
    /// Duplicates sent.
    pub duplicates: AtomicU64,
    /// Probes dispatched.
    pub probes: AtomicU64,
    /// Probes whose answer was acknowledged but never read back with lag 0
    /// within the freshness timeout.
    pub freshness_timeouts: AtomicU64,
    /// Where acknowledgements go (`--acks-out`).
    pub acks: Option<AckLog>,
}

/// A copy of the counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Sorted.
    pub latencies_us: Vec<u64>,
    /// Sorted.
    pub freshness_us: Vec<u64>,
    pub failed_tries: BTreeMap<(Kind, String), u64>,
    pub succeeded: BTreeMap<Kind, u64>,
    pub given_up: BTreeMap<Kind, u64>,
    pub duplicates: u64,
    pub probes: u64,
    pub freshness_timeouts: u64,
}

impl Stats {
    /// Empty counts; acknowledgements go to `acks` if given.
    pub fn new(acks: Option<AckLog>) -> Stats {
        Stats {
            acks,
            ..Stats::default()
        }
    }

    /// Counts one failed try.
    pub fn failed(&self, kind: Kind, reason: String) {
        *self
            .failed_tries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((kind, reason))
            .or_default() += 1;
    }

    /// Counts one freshness sample.
    pub fn fresh(&self, after: Duration) {
        self.freshness_us
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(micros(after));
    }

    /// Calls of `kind` that are finished (succeeded or given up).
    pub fn finished(&self, kind: Kind) -> u64 {
        self.succeeded[kind.index()].load(Ordering::Relaxed)
            + self.given_up[kind.index()].load(Ordering::Relaxed)
    }

    /// Failed tries so far, all kinds.
    pub fn failed_total(&self) -> u64 {
        self.failed_tries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .sum()
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        let mut latencies_us = self
            .latencies_us
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        latencies_us.sort_unstable();
        let mut freshness_us = self
            .freshness_us
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        freshness_us.sort_unstable();
        let per_kind = |counters: &[AtomicU64; 4]| {
            Kind::ALL
                .iter()
                .map(|k| (*k, counters[k.index()].load(Ordering::Relaxed)))
                .collect()
        };
        Counts {
            latencies_us,
            freshness_us,
            failed_tries: self
                .failed_tries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            succeeded: per_kind(&self.succeeded),
            given_up: per_kind(&self.given_up),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            probes: self.probes.load(Ordering::Relaxed),
            freshness_timeouts: self.freshness_timeouts.load(Ordering::Relaxed),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Sends `call` to record_responses until a 200 (at most `tries` tries)
/// and counts it; returns when it was acknowledged, or `None` if given up.
pub async fn send<T: Transport>(
    client: &Client<T>,
    call: Call<'_>,
    stats: &Stats,
    tries: u32,
) -> Option<Instant> {
    let kind = call.kind;
    let result = client
        .post_with_retries("record_responses", call.body, tries, |reason| {
            stats.failed(kind, reason)
        })
        .await;
    if result.is_err() {
        stats.given_up[kind.index()].fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let now = Instant::now();
    if kind == Kind::Load {
        let latency = now.saturating_duration_since(call.scheduled);
        stats
            .latencies_us
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(micros(latency));
    }
    stats.succeeded[kind.index()].fetch_add(1, Ordering::Relaxed);
    if let Some(log) = &stats.acks {
        log.record(call.body);
    }
    Some(now)
}

#[cfg(test)]
pub mod tests {
    use std::collections::VecDeque;

    use serde_json::json;

    use super::*;

    /// A transport that answers from a script: each exchange takes the
    /// next `(delay, status or error)`; past the script's end it answers
    /// 200 at once. Time is tokio's (paused in these tests).
    #[derive(Default)]
    pub struct Scripted {
        pub script: Mutex<VecDeque<(Duration, Result<u16, String>)>>,
        pub lag: Option<u64>,
    }

    impl Scripted {
        pub fn new(steps: &[(u64, Result<u16, &str>)]) -> Self {
            Scripted {
                script: Mutex::new(
                    steps
                        .iter()
                        .map(|(ms, r)| (Duration::from_millis(*ms), r.map_err(str::to_owned)))
                        .collect(),
                ),
                lag: Some(0),
            }
        }
    }

    impl Transport for Scripted {
        fn exchange(
            &self,
            _endpoint: &'static str,
            _body: &Value,
        ) -> impl Future<Output = Result<Reply, String>> + Send {
            let step = self
                .script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or((Duration::ZERO, Ok(200)));
            let lag = self.lag;
            async move {
                tokio::time::sleep(step.0).await;
                step.1.map(|status| Reply {
                    status,
                    body: Bytes::from_static(b"{}"),
                    lag,
                })
            }
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn latency_runs_from_the_scheduled_time_to_the_final_success() {
        // First try: no answer within the 1 s timeout; pause 10 ms; second
        // try: 503 after 5 ms; pause 20 ms; third try: 200 after 50 ms.
        let client = Client::with_transport(
            Scripted::new(&[(5_000, Ok(200)), (5, Ok(503)), (50, Ok(200))]),
            4,
            ms(1000),
        );
        let stats = Stats::default();
        let body = json!({"responses": []});
        // Scheduled 100 ms before it could go (e.g. the dispatcher was late).
        let scheduled = Instant::now();
        tokio::time::sleep(ms(100)).await;
        let call = Call {
            body: &body,
            scheduled,
            kind: Kind::Load,
        };
        let acked = send(&client, call, &stats, 5).await;
        assert_eq!(acked, Some(scheduled + ms(100 + 1000 + 10 + 5 + 20 + 50)));
        let counts = stats.counts();
        assert_eq!(counts.latencies_us, vec![1_185_000]);
        assert_eq!(counts.succeeded[&Kind::Load], 1);
        assert_eq!(counts.given_up[&Kind::Load], 0);
        let failed: Vec<_> = counts.failed_tries.into_iter().collect();
        assert_eq!(
            failed,
            vec![
                ((Kind::Load, "HTTP 503".to_owned()), 1),
                ((Kind::Load, "timeout".to_owned()), 1)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_a_connection_counts_in_the_latency_but_not_as_timeout() {
        // One connection, every exchange takes 100 ms, ten calls scheduled
        // 10 ms apart: call i finishes at (i + 1) × 100 ms. A closed-loop
        // measurement (from when the request got its connection) would say
        // 100 ms for each; the timeout (150 ms) bounds only the exchange.
        let client = Client::with_transport(Scripted::new(&[(100, Ok(200)); 10]), 1, ms(150));
        let stats = Arc::new(Stats::default());
        let body = Arc::new(json!({}));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..10u64 {
            let (client, stats, body) = (client.clone(), Arc::clone(&stats), Arc::clone(&body));
            tokio::time::sleep_until(start + ms(10 * i)).await;
            tasks.push(tokio::spawn(async move {
                let call = Call {
                    body: &body,
                    scheduled: start + ms(10 * i),
                    kind: Kind::Load,
                };
                send(&client, call, &stats, 1).await
            }));
        }
        for task in tasks {
            assert!(task.await.unwrap().is_some());
        }
        let counts = stats.counts();
        let expected: Vec<u64> = (0..10).map(|i| (100 + 90 * i) * 1000).collect();
        assert_eq!(counts.latencies_us, expected);
        assert!(counts.failed_tries.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_without_success_is_given_up_and_has_no_latency() {
        let client = Client::with_transport(
            Scripted::new(&[
                (1, Err("transport: connection refused")),
                (1, Ok(503)),
                (9_999, Ok(200)),
            ]),
            4,
            ms(500),
        );
        let stats = Stats::default();
        let body = json!({});
        let call = Call {
            body: &body,
            scheduled: Instant::now(),
            kind: Kind::Load,
        };
        assert_eq!(send(&client, call, &stats, 3).await, None);
        let counts = stats.counts();
        assert!(counts.latencies_us.is_empty());
        assert_eq!(counts.given_up[&Kind::Load], 1);
        assert_eq!(counts.succeeded[&Kind::Load], 0);
        let reasons: Vec<_> = counts.failed_tries.keys().map(|k| k.1.as_str()).collect();
        assert_eq!(reasons, ["HTTP 503", "timeout", "transport"]);
    }

    #[test]
    fn only_client_errors_that_would_come_again_are_final() {
        assert!(is_final(400) && is_final(401) && is_final(413) && is_final(422));
        assert!(!is_final(408) && !is_final(429) && !is_final(500) && !is_final(503));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_error_is_not_retried() {
        let client = Client::with_transport(Scripted::new(&[(1, Ok(422))]), 4, ms(500));
        let stats = Stats::default();
        let body = json!({});
        let call = Call {
            body: &body,
            scheduled: Instant::now(),
            kind: Kind::Load,
        };
        assert_eq!(send(&client, call, &stats, 10).await, None);
        let counts = stats.counts();
        assert_eq!(counts.failed_tries.values().sum::<u64>(), 1);
        assert_eq!(counts.given_up[&Kind::Load], 1);
        let client = Client::with_transport(Scripted::new(&[(1, Ok(401))]), 4, ms(500));
        let error = client
            .must_with_retries("create_course", &body)
            .await
            .unwrap_err();
        assert!(error.starts_with("create_course answered 401"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn must_names_the_endpoint_and_the_timeout() {
        let client = Client::with_transport(Scripted::new(&[(10_000, Ok(200)); 20]), 1, ms(250));
        let error = client
            .must_with_retries("create_course", &json!({}))
            .await
            .unwrap_err();
        assert!(
            error.contains("create_course: no answer within 250 ms") && error.contains("20 tries"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn duplicates_and_probes_count_apart_from_the_load() {
        let client = Client::with_transport(Scripted::new(&[]), 4, ms(500));
        let stats = Stats::default();
        let body = json!({});
        for kind in [Kind::Load, Kind::Duplicate, Kind::Duplicate, Kind::Probe] {
            let call = Call {
                body: &body,
                scheduled: Instant::now(),
                kind,
            };
            assert!(send(&client, call, &stats, 1).await.is_some());
        }
        let counts = stats.counts();
        assert_eq!(counts.latencies_us.len(), 1);
        assert_eq!(counts.succeeded[&Kind::Load], 1);
        assert_eq!(counts.succeeded[&Kind::Duplicate], 2);
        assert_eq!(counts.succeeded[&Kind::Probe], 1);
    }
}
