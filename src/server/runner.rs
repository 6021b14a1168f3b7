//! The engine runner: one dedicated thread owns the [`Engine`] and runs
//! [`Engine::step`] until idle whenever an append is acknowledged (and on a
//! periodic tick, for time-driven work and gap ages). Blocking store work
//! never runs on the async workers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use biglearn_core::engine::Engine;
use biglearn_core::ids::EcosystemId;
use biglearn_core::log::{BundleLimits, ConsumerName, EventLog, OpenGap, SequenceNumber, StreamId};
use biglearn_core::time::Instant;
use biglearn_store::SqlStore;

/// After a failed step, wait this long before trying again.
const RETRY_DELAY: Duration = Duration::from_millis(200);
/// Most open gaps tracked for their age.
const MAX_GAPS: usize = 1000;

/// The engine's bundle limits: at most 512 events per course bundle, so one
/// course commit holds SQLite's single writer for a few milliseconds at
/// most (appends queue behind it); a backlog is worked off in several
/// bundles, with identical results (they never depend on bundle cuts).
fn engine_limits() -> BundleLimits {
    BundleLimits {
        max_events_per_bundle: 512,
        ..BundleLimits::default()
    }
}

#[derive(Debug, Default)]
struct Signal {
    pending: bool,
    stop: bool,
}

/// An open gap and when this server first saw it.
#[derive(Debug, Clone, Copy)]
pub struct GapAge {
    /// The gap as the log reports it.
    pub gap: OpenGap,
    /// Seconds since this process first saw it open.
    pub age_seconds: f64,
}

/// Counters of the runner, for `/metrics`.
#[derive(Debug, Default)]
pub struct RunnerStats {
    /// Successful steps that did something.
    pub steps: AtomicU64,
    /// Events the engine applied.
    pub events_applied: AtomicU64,
    /// Result rows written or deleted.
    pub result_writes: AtomicU64,
    /// Bytes of course state (head and parts) written.
    pub state_bytes_written: AtomicU64,
    /// Microseconds spent in engine steps (idle ones included): with
    /// `events_applied`, the engine's events per busy second.
    pub step_micros: AtomicU64,
    /// Course states in the engine's cache.
    pub cached_courses: AtomicU64,
    /// Their estimated bytes.
    pub cached_bytes: AtomicU64,
    /// Steps that failed (retried later).
    pub step_errors: AtomicU64,
    /// Students, assignments and course containers recalculated for new
    /// matrices (the engine's catch-up units).
    pub matrix_catch_up_units: AtomicU64,
    /// Courses with part of their results still from an older matrix.
    pub courses_catching_up: AtomicU64,
    /// Matrix refits completed.
    pub refits: AtomicU64,
    /// Matrix refits that failed.
    pub refit_errors: AtomicU64,
}

struct Shared {
    signal: Mutex<Signal>,
    wake: Condvar,
    /// The refit thread's wake-up (only for stopping).
    refit_wake: Condvar,
    stats: RunnerStats,
    gaps: Mutex<HashMap<(StreamId, SequenceNumber), (OpenGap, StdInstant)>>,
}

/// How the runner paces its threads ([`crate::server::ServerConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerSettings {
    /// Wake-up period without new events (time-driven work, gap ages).
    pub tick: Duration,
    /// Nice value of the engine and refit threads (Linux; 0 = unchanged).
    pub nice: i32,
    /// Least time between two refits of one ecosystem.
    pub min_refit_interval: Duration,
    /// Budget of the engine's course-state cache, in estimated bytes.
    pub cache_bytes: usize,
}

/// Handle of the engine thread.
pub struct EngineRunner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    refits: Mutex<Option<JoinHandle<()>>>,
}

/// The wall clock as the engine's instant.
pub fn now() -> Instant {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Instant::from_micros(micros)
}

impl EngineRunner {
    /// Starts the engine thread for `consumer` on `store`.
    pub fn start(
        store: Arc<SqlStore>,
        consumer: ConsumerName,
        settings: RunnerSettings,
    ) -> std::io::Result<EngineRunner> {
        let RunnerSettings {
            tick,
            nice,
            cache_bytes,
            ..
        } = settings;
        let shared = Arc::new(Shared {
            signal: Mutex::new(Signal {
                pending: true,
                stop: false,
            }),
            wake: Condvar::new(),
            refit_wake: Condvar::new(),
            stats: RunnerStats::default(),
            gaps: Mutex::new(HashMap::new()),
        });
        let worker = Arc::clone(&shared);
        let engine_store = Arc::clone(&store);
        let engine_consumer = consumer.clone();
        let thread = std::thread::Builder::new()
            .name("biglearn-engine".into())
            .spawn(move || {
                lower_priority(nice);
                let engine =
                    Engine::with_cache_bytes(engine_consumer, engine_limits(), cache_bytes);
                run(&worker, &engine_store, engine, tick)
            })?;
        let refitter = Arc::clone(&shared);
        let refits = std::thread::Builder::new()
            .name("biglearn-refit".into())
            .spawn(move || {
                lower_priority(nice);
                run_refits(&refitter, &store, consumer, settings)
            })?;
        Ok(EngineRunner {
            shared,
            thread: Mutex::new(Some(thread)),
            refits: Mutex::new(Some(refits)),
        })
    }

    /// Wakes the engine: new events were acknowledged.
    pub fn notify(&self) {
        let mut signal = self
            .shared
            .signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !signal.pending {
            signal.pending = true;
            self.shared.wake.notify_one();
        }
    }

    /// Asks the thread to stop after its current step and waits for it.
    pub fn stop(&self) {
        {
            let mut signal = self
                .shared
                .signal
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            signal.stop = true;
            self.shared.wake.notify_one();
        }
        for slot in [&self.thread, &self.refits] {
            let thread = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(thread) = thread {
                if thread.join().is_err() {
                    tracing::error!("an engine thread panicked");
                }
            }
        }
    }

    /// The runner's counters.
    pub fn stats(&self) -> &RunnerStats {
        &self.shared.stats
    }

    /// Events stored behind open gaps of `course` (as of the last tick):
    /// accepted but not processable until the gap is filled (A6b).
    pub fn waiting_behind_gaps(&self, course: biglearn_core::ids::CourseId) -> u64 {
        let gaps = self
            .shared
            .gaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        gaps.values()
            .filter(|(gap, _)| gap.stream == StreamId::Course(course))
            .map(|(gap, _)| gap.events_waiting)
            .sum()
    }

    /// The open gaps with their ages, oldest first.
    pub fn gap_ages(&self) -> Vec<GapAge> {
        let gaps = self
            .shared
            .gaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut ages: Vec<GapAge> = gaps
            .values()
            .map(|(gap, seen)| GapAge {
                gap: *gap,
                age_seconds: gap_age(gap, *seen),
            })
            .collect();
        ages.sort_by(|a, b| b.age_seconds.total_cmp(&a.age_seconds));
        ages
    }
}

/// Lowers the calling thread's priority to `nice` (Linux keeps nice values
/// per thread). Failing is harmless (the thread keeps its priority), so it
/// is only logged.
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), nice) {
        tracing::warn!(%error, nice, "could not lower the engine thread's priority");
    }
}

/// Thread priorities are left alone off Linux.
#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

/// The gap's age from the store's first-seen time when it keeps one, else
/// from when this process first saw it.
fn gap_age(gap: &OpenGap, seen_here: StdInstant) -> f64 {
    let here = seen_here.elapsed().as_secs_f64();
    match gap.first_seen_unix_micros {
        Some(first) => {
            let age = (now().as_micros() - first) as f64 / 1e6;
            age.max(here)
        }
        None => here,
    }
}

impl Drop for EngineRunner {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared, store: &SqlStore, mut engine: Engine, tick: Duration) {
    let mut last_gap_check: Option<StdInstant> = None;
    loop {
        {
            let mut signal = shared.signal.lock().unwrap_or_else(PoisonError::into_inner);
            if !signal.pending && !signal.stop {
                signal = shared
                    .wake
                    .wait_timeout(signal, tick)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if signal.stop {
                return;
            }
            signal.pending = false;
        }
        drain(shared, store, &mut engine);
        if last_gap_check.map_or(true, |t| t.elapsed() >= tick) {
            last_gap_check = Some(StdInstant::now());
            refresh_gaps(shared, store);
        }
    }
}

/// Background matrix refits (F4) on their own thread, so a long fit never
/// delays bundle processing: every tick, refit each ecosystem that needs
/// it, but one ecosystem at most once per `min_refit_interval`. Each refit
/// wakes every course using the matrix for a full recalculation (done in
/// slices behind the responses, see `biglearn_core::engine::catch_up`), and while
/// counts are small the floor(1.1·count)+1 thresholds pass every second or
/// two; the interval keeps those recalculations from crowding out request
/// handling (a passed threshold is refitted once the interval is over).
fn run_refits(shared: &Shared, store: &SqlStore, consumer: ConsumerName, settings: RunnerSettings) {
    let RunnerSettings {
        tick,
        min_refit_interval,
        ..
    } = settings;
    let mut engine = Engine::new(consumer, engine_limits());
    let mut last_refit: HashMap<EcosystemId, StdInstant> = HashMap::new();
    loop {
        {
            let signal = shared.signal.lock().unwrap_or_else(PoisonError::into_inner);
            let signal = if signal.stop {
                signal
            } else {
                shared
                    .refit_wake
                    .wait_timeout(signal, tick.max(Duration::from_secs(1)))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            };
            if signal.stop {
                return;
            }
        }
        let pending = match engine.pending_refits(store) {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, "could not list pending refits");
                continue;
            }
        };
        for ecosystem in pending {
            if last_refit
                .get(&ecosystem)
                .is_some_and(|at| at.elapsed() < min_refit_interval)
            {
                continue;
            }
            last_refit.insert(ecosystem, StdInstant::now());
            match engine.refit(store, ecosystem, now()) {
                Ok(_) => {
                    shared.stats.refits.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%ecosystem, "refitted the SPARFA matrix");
                }
                Err(error) => {
                    shared.stats.refit_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%ecosystem, %error, "refit failed");
                }
            }
            if shared
                .signal
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .stop
            {
                return;
            }
        }
    }
}

/// Steps until idle (or a failure, retried on the next wake-up).
fn drain(shared: &Shared, store: &SqlStore, engine: &mut Engine) {
    loop {
        let started = StdInstant::now();
        let step = engine.step(store, now());
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        shared
            .stats
            .step_micros
            .fetch_add(micros, Ordering::Relaxed);
        match step {
            Ok(report) if report.is_idle() => return,
            Ok(report) => {
                let stats = &shared.stats;
                stats.steps.fetch_add(1, Ordering::Relaxed);
                stats
                    .events_applied
                    .fetch_add(report.events_applied as u64, Ordering::Relaxed);
                stats
                    .result_writes
                    .fetch_add(report.result_writes as u64, Ordering::Relaxed);
                stats
                    .state_bytes_written
                    .fetch_add(report.state_bytes_written as u64, Ordering::Relaxed);
                stats
                    .matrix_catch_up_units
                    .fetch_add(report.matrix_catch_up_units as u64, Ordering::Relaxed);
                stats
                    .courses_catching_up
                    .store(engine.courses_catching_up() as u64, Ordering::Relaxed);
                let (courses, bytes) = engine.cache_usage();
                stats
                    .cached_courses
                    .store(courses as u64, Ordering::Relaxed);
                stats.cached_bytes.store(bytes as u64, Ordering::Relaxed);
            }
            Err(error) => {
                shared.stats.step_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%error, "engine step failed; retrying");
                std::thread::sleep(RETRY_DELAY);
                let mut signal = shared.signal.lock().unwrap_or_else(PoisonError::into_inner);
                signal.pending = true;
                return;
            }
        }
        let stop = shared
            .signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop;
        if stop {
            return;
        }
    }
}

/// Tracks when each open gap was first seen (the log does not say) and logs
/// gaps that stay open (O3).
fn refresh_gaps(shared: &Shared, store: &SqlStore) {
    let open = match store.open_gaps(MAX_GAPS) {
        Ok(open) => open,
        Err(error) => {
            tracing::warn!(%error, "could not list open gaps");
            return;
        }
    };
    let mut gaps = shared.gaps.lock().unwrap_or_else(PoisonError::into_inner);
    let mut next = HashMap::with_capacity(open.len());
    for gap in open {
        let key = (gap.stream, gap.missing);
        let seen = gaps
            .get(&key)
            .map_or_else(StdInstant::now, |(_, seen)| *seen);
        let age = seen.elapsed();
        if age >= Duration::from_secs(60) && age < Duration::from_secs(60) + Duration::from_secs(2)
        {
            tracing::warn!(stream = %gap.stream, missing = %gap.missing, waiting = gap.events_waiting,
                "a gap has been open for a minute; fill it with a no_op if the event is lost");
        }
        next.insert(key, (gap, seen));
    }
    *gaps = next;
}
