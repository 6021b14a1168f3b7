//! Group-commit ingest (decision O2a) and a bundle-draining helper (O2b).
//!
//! [`Ingestor`] sits in front of any [`EventLog`]. Many threads call
//! [`Ingestor::append`] at once; their requests are queued and committed
//! together in **one** [`EventLog::append_group`] transaction, and each caller
//! returns only after that transaction is durable. There is no background
//! thread: the first caller that finds no commit in progress becomes the
//! *leader*, takes every queued request (up to [`IngestConfig`]'s bounds),
//! commits them and hands each follower its own outcome. While a leader is
//! inside its commit, new callers queue up and form the next group, so the
//! group size adapts to the commit latency.
//!
//! Two refinements make groups larger or overlap them:
//!
//! - **Linger.** With a steady stream of callers, group `n+1` forms while
//!   group `n` commits, so without help the callers split into two halves
//!   that alternate and every commit carries only half of them. A new leader
//!   whose previous group held more than one request therefore waits up to
//!   [`Ingestor::with_linger`]'s step (default 100 µs, but at most a quarter
//!   of the last commit's duration, so fast backends barely wait) for more
//!   requests, again while they keep coming (at most 10 steps), before it
//!   takes the queue. Callers of the just-acknowledged group re-enter in that window,
//!   so one commit (one fsync) serves nearly all callers. A lone caller
//!   never lingers.
//! - **Concurrent groups** ([`Ingestor::with_concurrent_groups`], default
//!   1). SQLite has one writer, so one group at a time is right there;
//!   PostgreSQL commits independent transactions in parallel and flushes
//!   their WAL together, so a few groups in flight multiply its throughput.
//!
//! Outcomes are per request: a rejected request (A4) fails only its own
//! caller; a backend error fails every request of that group.
//!
//! [`CommitQueue`] is the same group commit for callers that must not block
//! (an async server): one committer thread, completion callbacks.
//!
//! [`drain_bundles`] is the matching consumer loop: process each per-course
//! bundle, confirm it after success, so that a crash leads to redelivery from
//! the last confirmed point (at-least-once, ops.md §1.4).

mod drain;
mod queue;

pub use drain::{drain_bundles, DrainError, DrainReport};
pub use queue::{CommitQueue, Completion};

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use biglearn_core::log::{
    AppendError, AppendReceipt, AppendRejection, AppendRequest, EventLog, StoreError,
};

/// Bounds on one commit group. A group always takes at least one request,
/// even one that alone exceeds the event or byte bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestConfig {
    /// At most this many requests per group.
    pub max_group_requests: usize,
    /// At most this many events per group (summed over its requests).
    pub max_group_events: usize,
    /// At most this many bytes of event data per group.
    pub max_group_bytes: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_group_requests: 1024,
            max_group_events: 20_000,
            max_group_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Counters for metrics: how well commits are being shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestStats {
    /// Groups whose `append_group` returned outcomes (committed).
    pub groups_committed: u64,
    /// Groups that failed as a whole with a backend error.
    pub groups_failed: u64,
    /// Requests in committed groups (accepted or rejected).
    pub requests: u64,
    /// Events in committed groups' requests (accepted or rejected).
    pub events: u64,
    /// Largest group, in requests.
    pub max_group_requests: u64,
}

impl IngestStats {
    /// Mean requests per committed group (0 before the first commit).
    pub fn mean_group_requests(&self) -> f64 {
        if self.groups_committed == 0 {
            0.0
        } else {
            self.requests as f64 / self.groups_committed as f64
        }
    }

    /// Mean events per committed group (0 before the first commit).
    pub fn mean_group_events(&self) -> f64 {
        if self.groups_committed == 0 {
            0.0
        } else {
            self.events as f64 / self.groups_committed as f64
        }
    }
}

/// One queued request and the ticket its caller waits on.
struct Pending {
    ticket: u64,
    request: AppendRequest,
    events: usize,
    bytes: usize,
}

/// Everything the callers share, behind one mutex.
#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    /// Outcomes not yet picked up by their callers, by ticket.
    done: HashMap<u64, Result<AppendReceipt, AppendError>>,
    next_ticket: u64,
    /// Leaders lingering or inside `append_group` (with the lock released).
    committing: usize,
    /// Leaders lingering for more requests (arrivals wake them).
    lingering: usize,
    /// Requests in the last group that finished (decides whether to linger).
    last_group_requests: usize,
    /// How long the last committed group spent in `append_group`.
    last_commit: Duration,
    stats: IngestStats,
}

/// Default wait for one more request before a leader takes its group.
const DEFAULT_LINGER: Duration = Duration::from_micros(100);
/// A leader lingers at most this many steps in a row.
const MAX_LINGER_STEPS: u32 = 10;

/// Group-commit front of an [`EventLog`] (O2a): concurrent appends share one
/// durable transaction; each caller is acknowledged after the commit.
///
/// ```
/// use std::sync::Arc;
/// use biglearn_core::memory::MemoryStore;
/// use biglearn_store::ingest::Ingestor;
/// use biglearn_core::log::AppendRequest;
///
/// let ingestor = Ingestor::new(Arc::new(MemoryStore::default()));
/// let receipt = ingestor.append(AppendRequest::default()).unwrap();
/// assert_eq!(receipt.stored, 0);
/// assert_eq!(ingestor.stats().groups_committed, 1);
/// ```
pub struct Ingestor<L: EventLog + ?Sized = dyn EventLog> {
    log: Arc<L>,
    config: IngestConfig,
    linger: Duration,
    concurrent_groups: usize,
    state: Mutex<State>,
    /// Outcomes were published or a commit slot freed up.
    wake: Condvar,
    /// A request was queued while a leader lingers.
    arrived: Condvar,
}

impl<L: EventLog + ?Sized> Ingestor<L> {
    /// An ingestor with the default group bounds.
    pub fn new(log: Arc<L>) -> Self {
        Self::with_config(log, IngestConfig::default())
    }

    /// An ingestor with explicit group bounds (zero bounds are raised to 1).
    pub fn with_config(log: Arc<L>, config: IngestConfig) -> Self {
        let config = IngestConfig {
            max_group_requests: config.max_group_requests.max(1),
            max_group_events: config.max_group_events.max(1),
            max_group_bytes: config.max_group_bytes.max(1),
        };
        Ingestor {
            log,
            config,
            linger: DEFAULT_LINGER,
            concurrent_groups: 1,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            arrived: Condvar::new(),
        }
    }

    /// Sets how long a leader waits for one more request before it takes
    /// its group, at most a quarter of the last commit's duration (see the
    /// module docs; `Duration::ZERO` disables lingering).
    pub fn with_linger(mut self, step: Duration) -> Self {
        self.linger = step;
        self
    }

    /// Lets up to `groups` (at least 1) groups commit at once: useful on
    /// PostgreSQL, pointless on SQLite's single writer. Each group holds a
    /// pooled connection while it commits.
    pub fn with_concurrent_groups(mut self, groups: usize) -> Self {
        self.concurrent_groups = groups.max(1);
        self
    }

    /// The log behind this ingestor (for reads).
    pub fn log(&self) -> &Arc<L> {
        &self.log
    }

    /// The group bounds in force.
    pub fn config(&self) -> IngestConfig {
        self.config
    }

    /// A snapshot of the group counters.
    pub fn stats(&self) -> IngestStats {
        self.lock().stats
    }

    /// Appends one atomic request through a shared group commit. Blocks until
    /// the group holding it is durable (or failed); returns this request's
    /// own outcome: its receipt, its rejection, or the group's backend error.
    pub fn append(&self, request: AppendRequest) -> Result<AppendReceipt, AppendError> {
        let events = request.events.len();
        let bytes = request.events.iter().map(|e| e.data.as_str().len()).sum();
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push_back(Pending {
            ticket,
            request,
            events,
            bytes,
        });
        if state.lingering > 0 {
            self.arrived.notify_all();
        }
        loop {
            if let Some(outcome) = state.done.remove(&ticket) {
                return outcome;
            }
            // With concurrent groups our request may already be in flight
            // under another leader, leaving the queue empty.
            if state.committing >= self.concurrent_groups || state.queue.is_empty() {
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: commit the front of the queue (our request, requests
            // queued before it, or others'), then look again.
            state.committing += 1;
            if state.last_group_requests > 1 {
                state = self.linger(state);
            }
            let group = self.take_group(&mut state);
            drop(state);
            let mut guard = LeaderGuard {
                ingestor: self,
                tickets: group.iter().map(|p| p.ticket).collect(),
                own_ticket: ticket,
                finished: false,
            };
            let requests: Vec<AppendRequest> = group.into_iter().map(|p| p.request).collect();
            let started = Instant::now();
            let result = self.log.append_group(&requests);
            state = guard.finish(result, &requests, started.elapsed());
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held by this module's code,
        // but a poisoned lock must not take every later caller down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits while requests keep arriving (one linger step each), until the
    /// queue fills a group or [`MAX_LINGER_STEPS`] steps passed.
    fn linger<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let step = self.linger.min(state.last_commit / 4);
        if step.is_zero() {
            return state;
        }
        let deadline = Instant::now() + step * MAX_LINGER_STEPS;
        state.lingering += 1;
        loop {
            let queued = state.queue.len();
            let queued_events: usize = state.queue.iter().map(|p| p.events).sum();
            let now = Instant::now();
            if queued >= self.config.max_group_requests
                || queued_events >= self.config.max_group_events
                || now >= deadline
            {
                break;
            }
            let step = step.min(deadline - now);
            state = match self.arrived.wait_timeout(state, step) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
            if state.queue.len() == queued {
                break;
            }
        }
        state.lingering -= 1;
        state
    }

    /// Commits `requests` as one group right away, in the caller's thread,
    /// and returns each request's outcome (as [`Ingestor::append`] would),
    /// counted in the same stats. This is the committer's primitive
    /// ([`CommitQueue`]); it does not wait for other callers, and it may
    /// run beside leaders of [`Ingestor::append`] (the log serialises them).
    pub fn commit_group(
        &self,
        requests: &[AppendRequest],
    ) -> Vec<Result<AppendReceipt, AppendError>> {
        let started = Instant::now();
        let result = self.log.append_group(requests);
        settle(&mut self.lock(), result, requests, started.elapsed())
    }

    /// Pops the longest prefix of the queue that fits the bounds (at least one).
    fn take_group(&self, state: &mut State) -> Vec<Pending> {
        let mut group = Vec::new();
        let (mut events, mut bytes) = (0usize, 0usize);
        while let Some(next) = state.queue.front() {
            let fits = group.len() < self.config.max_group_requests
                && events + next.events <= self.config.max_group_events
                && bytes + next.bytes <= self.config.max_group_bytes;
            if !group.is_empty() && !fits {
                break;
            }
            events += next.events;
            bytes += next.bytes;
            if let Some(pending) = state.queue.pop_front() {
                group.push(pending);
            }
        }
        group
    }
}

/// Checks a group's result (one outcome per request), counts it in the
/// stats and returns each request's own outcome: its receipt or rejection,
/// or the group's backend error.
fn settle(
    state: &mut State,
    result: Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError>,
    requests: &[AppendRequest],
    took: Duration,
) -> Vec<Result<AppendReceipt, AppendError>> {
    let result = result.and_then(|outcomes| {
        if outcomes.len() == requests.len() {
            Ok(outcomes)
        } else {
            Err(StoreError::Corrupt(format!(
                "append_group returned {} outcomes for a group of {} requests",
                outcomes.len(),
                requests.len()
            )))
        }
    });
    match result {
        Ok(outcomes) => {
            let stats = &mut state.stats;
            stats.groups_committed += 1;
            stats.requests += requests.len() as u64;
            stats.events += requests.iter().map(|r| r.events.len() as u64).sum::<u64>();
            stats.max_group_requests = stats.max_group_requests.max(requests.len() as u64);
            state.last_group_requests = requests.len();
            state.last_commit = took;
            outcomes
                .into_iter()
                .map(|outcome| outcome.map_err(AppendError::from))
                .collect()
        }
        Err(error) => {
            state.stats.groups_failed += 1;
            requests
                .iter()
                .map(|_| Err(AppendError::Store(error.clone())))
                .collect()
        }
    }
}

/// Publishes a leader's outcomes; if the leader unwinds out of
/// `append_group` (a panicking backend), fails its group instead of leaving
/// the followers waiting forever.
struct LeaderGuard<'a, L: EventLog + ?Sized> {
    ingestor: &'a Ingestor<L>,
    tickets: Vec<u64>,
    /// The leader's own ticket: nobody would pick up its outcome after a panic.
    own_ticket: u64,
    finished: bool,
}

impl<'a, L: EventLog + ?Sized> LeaderGuard<'a, L> {
    fn finish(
        &mut self,
        result: Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError>,
        requests: &[AppendRequest],
        took: Duration,
    ) -> MutexGuard<'a, State> {
        let mut state = self.ingestor.lock();
        let outcomes = settle(&mut state, result, requests, took);
        for (ticket, outcome) in self.tickets.iter().zip(outcomes) {
            state.done.insert(*ticket, outcome);
        }
        state.committing = state.committing.saturating_sub(1);
        self.finished = true;
        self.ingestor.wake.notify_all();
        state
    }
}

impl<L: EventLog + ?Sized> Drop for LeaderGuard<'_, L> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut state = self.ingestor.lock();
        state.stats.groups_failed += 1;
        for ticket in self.tickets.iter().filter(|t| **t != self.own_ticket) {
            state.done.insert(
                *ticket,
                Err(AppendError::Store(StoreError::Backend {
                    backend: "ingest",
                    operation: "append_group",
                    message: "the storage backend panicked during the group commit".into(),
                })),
            );
        }
        state.committing = state.committing.saturating_sub(1);
        self.ingestor.wake.notify_all();
    }
}

#[cfg(test)]
mod tests;
