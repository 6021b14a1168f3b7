//! Open-loop load generator for the biglearn server (issue 5):
//! `cargo run --release --example loadgen -- --url http://127.0.0.1:3000
//! --token T --rate 3000 --duration 30 --students 1000 --courses 10`.
//!
//! Sets up an ecosystem, courses, rosters and one assignment per student,
//! then sends single-response record_responses calls on a fixed schedule
//! (arrivals are never slowed by a slow server; latency is measured from
//! the scheduled time), with per-course sequence numbers like Tutor and ~1%
//! retried duplicates. Failed sends are retried with the same uuid and
//! number, as Tutor does, so no gap is left behind. Meanwhile it samples
//! freshness: every `--freshness-every-ms` a probe student, alone in a
//! probe course, answers once; freshness is the time from that answer's
//! acknowledgement until fetch_student_clues for the probe student reports
//! `Biglearn-Lag-Events: 0`, i.e. the engine has processed that answer
//! (the probe course gets no other events, so lag 0 means exactly that).
//!
//! For the `kill -9` drill, `--acks-out FILE` appends one line per
//! acknowledged record_responses call; after the server was killed,
//! restarted and the run finished, `--verify FILE` checks against the
//! running server that each of them is stored exactly once (exit status 1
//! if not). A server that is away for a while costs retries, not the run:
//! each call is tried `--max-tries` times (default 20, about 9 s; each
//! further try waits 640 ms) before it is given up, which leaves a gap.

#[path = "loadgen/acks.rs"]
mod acks;
#[path = "loadgen/client.rs"]
mod client;
#[path = "loadgen/world.rs"]
mod world;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use acks::AckLog;
use clap::Parser;

/// Both the server and the load generator allocate per request; mimalloc
/// is markedly cheaper than the system allocator there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use client::Api;
use world::{World, TRIALS};

#[derive(Debug, Parser)]
#[command(about = "Open-loop load generator for the biglearn server")]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Biglearn-Api-Token.
    #[arg(long, env = "BIGLEARN_API_TOKEN", hide_env_values = true)]
    token: String,
    /// Target record_responses requests per second.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Students (each with one assignment).
    #[arg(long, default_value_t = 1000)]
    students: u64,
    /// Courses (students are spread over them).
    #[arg(long, default_value_t = 10)]
    courses: u64,
    /// Percentage of requests re-sent as duplicates.
    #[arg(long, default_value_t = 1.0)]
    duplicate_percent: f64,
    /// One freshness probe per this many milliseconds, on its own open-loop
    /// schedule (probes overlap when the engine is slow) and its own
    /// connections; probes count neither in "achieved" nor in the latency.
    #[arg(long, default_value_t = 50)]
    freshness_every_ms: u64,
    /// A try that has no answer after this many milliseconds counts as an
    /// error (`timeout`) and is retried like any other failure.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_ms: u64,
    /// Most requests in flight (one keep-alive connection each); later
    /// arrivals wait for a slot, and their wait counts in their latency.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Client worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Tries per record_responses call before it is given up (which leaves
    /// a gap in its course); the waits between tries grow from 10 ms to
    /// 640 ms, so the default 20 covers an outage of about 9 s.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    max_tries: u32,
    /// Append `<response_uuid> <course_uuid> <sequence_number>` to FILE for
    /// every acknowledged record_responses call (for `--verify`).
    #[arg(long, value_name = "FILE")]
    acks_out: Option<PathBuf>,
    /// Send no load: check that every response listed in FILE (written by
    /// `--acks-out`) is stored exactly once at its number; exit status 1 if
    /// not.
    #[arg(long, value_name = "FILE", conflicts_with = "acks_out")]
    verify: Option<PathBuf>,
}

/// Whether a call is part of the measured load (its latency and success
/// count) or an extra: a duplicate re-send or a freshness probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Load,
    Extra,
}

#[derive(Default)]
struct Stats {
    /// Scheduled load calls, from their scheduled time to their final
    /// success (waits for a connection and retries included).
    latencies_us: Mutex<Vec<u64>>,
    freshness_us: Mutex<Vec<u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    /// Scheduled load calls that succeeded.
    ok: AtomicU64,
    /// Duplicate re-sends and probes that succeeded (not in `ok`).
    extras_ok: AtomicU64,
    duplicates: AtomicU64,
    freshness_timeouts: AtomicU64,
    /// Calls that got no 2xx in `--max-tries` tries (their numbers stay gaps).
    given_up: AtomicU64,
    /// Where acknowledgements go (`--acks-out`).
    acks: Option<AckLog>,
}

impl Stats {
    fn error(&self, what: String) {
        *self
            .errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(what)
            .or_default() += 1;
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if let Some(path) = &args.verify {
        return acks::verify(&Api::new(&args.url, &args.token, 4), path).await;
    }
    if args.courses == 0 || args.students < args.courses || args.rate <= 0.0 {
        return Err("need --courses ≥ 1, --students ≥ --courses and --rate > 0".into());
    }
    let api = Api::new(&args.url, &args.token, args.connections.max(1));
    let world = Arc::new(World::new(args.courses, args.students));
    let acks = match &args.acks_out {
        Some(path) => Some(AckLog::create(path)?),
        None => None,
    };
    let next_seq = setup(&api, &world).await?;
    let stats = Arc::new(Stats {
        acks,
        ..Stats::default()
    });
    let started = Instant::now();
    let total = (args.rate * args.duration).round() as u64;
    let mut sent = 0u64;
    let mut handles = Vec::with_capacity(total as usize);
    let sample_every = Duration::from_millis(args.freshness_every_ms.max(1));
    let probe = {
        // Its own connections: probes never queue behind the load.
        let api = Api::new(&args.url, &args.token, 2);
        let (world, stats) = (Arc::clone(&world), Arc::clone(&stats));
        let probe_seq = Arc::clone(&next_seq);
        let tries = args.max_tries;
        let until = started + Duration::from_secs_f64(args.duration);
        let timeout = Duration::from_millis(args.request_timeout_ms);
        tokio::spawn(async move {
            let mut probes = Vec::new();
            let mut n = 0u64;
            let mut next = Instant::now();
            while next < until {
                tokio::time::sleep_until(next.into()).await;
                let student = world.probe_student();
                let seq =
                    probe_seq[world.course_of(student) as usize].fetch_add(1, Ordering::Relaxed);
                let body = world.response_body(student, n % TRIALS, seq, n % 2 == 0);
                n += 1;
                let (api, world, stats) = (api.clone(), Arc::clone(&world), Arc::clone(&stats));
                probes.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let probe = Call {
                        body: &body,
                        scheduled: sent,
                        counted: Counted::Extra,
                    };
                    if let Some(acked) = send(&api, probe, &stats, tries, timeout).await {
                        freshness(&api, &world, student, acked, &stats).await;
                    }
                }));
                next += sample_every;
            }
            for probe in probes {
                let _ = probe.await;
            }
        })
    };
    while sent < total {
        let elapsed = started.elapsed().as_secs_f64();
        let due = ((elapsed * args.rate) as u64 + 1).min(total);
        while sent < due {
            let scheduled = started + Duration::from_secs_f64(sent as f64 / args.rate);
            let r = splitmix(sent);
            let student = r % world.students;
            let trial = (r >> 20) % TRIALS;
            let duplicate = ((r >> 40) % 10_000) as f64 / 100.0 < args.duplicate_percent;
            let seq = next_seq[world.course_of(student) as usize].fetch_add(1, Ordering::Relaxed);
            let body = world.response_body(student, trial, seq, (r >> 50) % 2 == 0);
            let (api, stats, tries) = (api.clone(), Arc::clone(&stats), args.max_tries);
            let timeout = Duration::from_millis(args.request_timeout_ms);
            handles.push(tokio::spawn(async move {
                let call = Call {
                    body: &body,
                    scheduled,
                    counted: Counted::Load,
                };
                let acked = send(&api, call, &stats, tries, timeout).await;
                if duplicate && acked.is_some() {
                    stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    let again = Call {
                        body: &body,
                        scheduled: Instant::now(),
                        counted: Counted::Extra,
                    };
                    send(&api, again, &stats, tries, timeout).await;
                }
            }));
            sent += 1;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    let send_window = started.elapsed();
    for handle in handles {
        let _ = handle.await;
    }
    // The load is over when its last call is; probes may still be waiting.
    let load_done = started.elapsed();
    let _ = probe.await;
    report(&args, &stats, sent, send_window, load_done);
    if let Some(log) = &stats.acks {
        let (lines, path) = log.finish()?;
        println!("acks: {lines} lines appended to {}", path.display());
    }
    Ok(())
}

/// Creates the world (the regular courses and the probe course); returns
/// each course's next sequence number.
async fn setup(api: &Api, world: &World) -> Result<Arc<Vec<AtomicU64>>, String> {
    api.must("create_ecosystem", &world.ecosystem_body())
        .await?;
    let mut next = Vec::new();
    for c in 0..=world.courses {
        api.must("create_course", &world.course_body(c)).await?;
        let students: Vec<u64> = (0..=world.students)
            .filter(|s| world.course_of(*s) == c)
            .collect();
        let mut seq = 1;
        for chunk in students.chunks(1000) {
            let roster = world.roster_item(c, seq, chunk);
            api.must("update_rosters", &serde_json::json!({"rosters": [roster]}))
                .await?;
            seq += 1;
        }
        for chunk in students.chunks(1000) {
            let items: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, s)| world.assignment_item(*s, seq + i as u64))
                .collect();
            seq += chunk.len() as u64;
            api.must(
                "create_update_assignments",
                &serde_json::json!({"assignments": items}),
            )
            .await?;
        }
        next.push(AtomicU64::new(seq));
    }
    eprintln!(
        "setup: 1 ecosystem, {} courses, {} students, {} assignments (+1 probe course and student)",
        world.courses, world.students, world.students
    );
    Ok(Arc::new(next))
}

/// One record_responses call to send.
struct Call<'a> {
    body: &'a serde_json::Value,
    /// When the open-loop schedule meant it to go.
    scheduled: Instant,
    counted: Counted,
}

/// Sends until a 2xx (at most `tries` tries, same uuid and number, each
/// bounded by `timeout`); for a load call records the latency from its
/// scheduled time to the final success, retries included. Records every
/// error and (with `--acks-out`) the acknowledgement.
async fn send(
    api: &Api,
    call: Call<'_>,
    stats: &Stats,
    tries: u32,
    timeout: Duration,
) -> Option<Instant> {
    for attempt in 0..tries {
        match tokio::time::timeout(timeout, api.post("record_responses", call.body)).await {
            Ok(Ok(reply)) if reply.status == 200 => {
                let now = Instant::now();
                match call.counted {
                    Counted::Load => {
                        let us = now.saturating_duration_since(call.scheduled).as_micros() as u64;
                        stats
                            .latencies_us
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(us);
                        stats.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Counted::Extra => {
                        stats.extras_ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if let Some(log) = &stats.acks {
                    log.record(call.body);
                }
                return Some(now);
            }
            Ok(Ok(reply)) => stats.error(format!("HTTP {}", reply.status)),
            Ok(Err(e)) => stats.error(e.split(':').next().unwrap_or("transport").to_owned()),
            Err(_) => stats.error("timeout".to_owned()),
        }
        if attempt + 1 < tries {
            tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
        }
    }
    stats.given_up.fetch_add(1, Ordering::Relaxed);
    None
}

/// Time from the ack until a read for the student reports lag 0.
async fn freshness(api: &Api, world: &World, student: u64, acked: Instant, stats: &Stats) {
    let body = world.clue_read(student);
    while acked.elapsed() < Duration::from_secs(30) {
        if let Ok(reply) = api.post("fetch_student_clues", &body).await {
            if reply.status == 200 && reply.lag == Some(0) {
                let us = acked.elapsed().as_micros() as u64;
                stats
                    .freshness_us
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(us);
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stats.freshness_timeouts.fetch_add(1, Ordering::Relaxed);
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn report(args: &Args, stats: &Stats, sent: u64, window: Duration, total: Duration) {
    let mut latencies = stats
        .latencies_us
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    latencies.sort_unstable();
    let mut fresh = stats
        .freshness_us
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    fresh.sort_unstable();
    let ok = stats.ok.load(Ordering::Relaxed);
    let errors = stats
        .errors
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let error_count: u64 = errors.values().sum();
    // Scheduled load calls that succeeded, over the time until the last of
    // them finished (duplicates and probes are not counted).
    let achieved = ok as f64 / total.as_secs_f64();
    println!(
        "target: {:.0} req/s for {:.0} s; scheduled {sent} requests in {:.2} s (+{} duplicates)",
        args.rate,
        args.duration,
        window.as_secs_f64(),
        stats.duplicates.load(Ordering::Relaxed)
    );
    println!(
        "latency ms (scheduled send to final success, retries included): p50 {:.2} p99 {:.2} p99.9 {:.2} max {:.2} (n={})",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 99.9),
        latencies.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
        latencies.len()
    );
    println!("errors: {error_count} {errors:?}");
    let given_up = stats.given_up.load(Ordering::Relaxed);
    if given_up > 0 {
        println!(
            "given up after {} tries: {given_up} requests (their sequence numbers stay gaps)",
            args.max_tries
        );
    }
    println!(
        "freshness ms: p50 {:.1} p99 {:.1} (n={}, timeouts {})",
        percentile(&fresh, 50.0),
        percentile(&fresh, 99.0),
        fresh.len(),
        stats.freshness_timeouts.load(Ordering::Relaxed)
    );
    println!(
        "achieved requests/s: {achieved:.0} ({ok} of {sent} scheduled calls succeeded; {} duplicate and probe calls not counted)",
        stats.extras_ok.load(Ordering::Relaxed)
    );
}
