//! Ingest benchmark: Tutor-shaped record_response requests appended through
//! the group-commit [`Ingestor`] by many writer threads, against the same
//! rows written by plain diesel batched INSERTs (the practical limit).
//!
//! ```text
//! cargo run --release --example ingest_bench -- --backend sqlite \
//!     --events 1000000 --courses 2000 --writers 16 --batch 10
//! ```
//!
//! Prints `engine: <N> events/s`, `raw: <N> events/s` and `ratio=<engine/raw>`
//! on stdout, progress on stderr.
//!
//! **What the raw line measures.** The same rows (every stored event,
//! creates included, replays excluded), inserted into an empty table of the
//! events table's shape (same columns and unique indexes) with the same
//! durability (SQLite WAL + `synchronous=FULL`, the same WAL checkpoint
//! threshold; PostgreSQL defaults,
//! `synchronous_commit=on`), committing as many rows per transaction as the
//! engine's mean group held (`--raw-rows-per-commit` overrides), by
//! `--raw-writers` threads (default 1: SQLite admits one writer at a time, so
//! extra writer threads only add lock waits there). The ratio therefore
//! isolates the engine's per-event overhead — duplicate and conflict lookups,
//! stream heads, metadata numbers, the hand-off between writer threads — at
//! equal fsync amortisation. For `--backend memory` the raw line is a SQLite
//! in-memory database (no durability on either side).

#[path = "ingest_bench/pg.rs"]
mod pg;
#[path = "ingest_bench/raw.rs"]
mod raw;
#[path = "ingest_bench/workload.rs"]
mod workload;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use biglearn_core::log::{AppendError, EventLog};
use biglearn_core::memory::MemoryStore;
use biglearn_store::{IngestConfig, Ingestor, PgOptions, SqlStore, SqliteOptions, Synchronous};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::raw::{RawRow, RawTarget};
use crate::workload::{Workload, WorkloadSpec};

/// Which log to benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// A SQLite file (WAL, synchronous=FULL).
    Sqlite,
    /// A fresh PostgreSQL database, dropped afterwards.
    Postgres,
    /// biglearn_core's MemoryStore.
    Memory,
}

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Group-commit ingest benchmark against raw diesel inserts")]
struct Args {
    /// Which log to append to.
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: Backend,
    /// record_response events to append (replays not counted).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Courses (each created with create_course first).
    #[arg(long, default_value_t = 2_000)]
    courses: u64,
    /// Writer threads, each appending through the shared Ingestor.
    #[arg(long, default_value_t = 16)]
    writers: usize,
    /// Events per request.
    #[arg(long, default_value_t = 10)]
    batch: u64,
    /// SQLite file to create (must not exist; the raw table goes to
    /// `<file>.raw`) or PostgreSQL server URL (a fresh database is created on
    /// it and dropped). Default: a temporary file / $BIGLEARN_TEST_PG_URL.
    #[arg(long)]
    database: Option<String>,
    /// Fraction of requests that replay an earlier request.
    #[arg(long, default_value_t = 0.03)]
    replay_fraction: f64,
    /// Seed of the generated workload.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// SQLite durability of the engine and the raw table.
    #[arg(long, value_enum, default_value = "full")]
    synchronous: SyncArg,
    /// Most requests per commit group.
    #[arg(long, default_value_t = IngestConfig::default().max_group_requests)]
    max_group_requests: usize,
    /// Most events per commit group.
    #[arg(long, default_value_t = IngestConfig::default().max_group_events)]
    max_group_events: usize,
    /// Commit groups in flight at once (default: 2 on PostgreSQL, which
    /// commits independent transactions in parallel; 1 elsewhere).
    #[arg(long)]
    concurrent_groups: Option<usize>,
    /// Raw writer threads.
    #[arg(long, default_value_t = 1)]
    raw_writers: usize,
    /// Rows per raw transaction (default: the engine's mean group size).
    #[arg(long)]
    raw_rows_per_commit: Option<usize>,
}

/// `--synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SyncArg {
    /// synchronous=NORMAL.
    Normal,
    /// synchronous=FULL.
    Full,
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>8} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// What the engine phase measured.
struct EngineRun {
    elapsed: Duration,
    stored: u64,
    replayed: u64,
    mean_group_events: f64,
    mean_group_requests: f64,
    groups: u64,
}

fn run_engine(
    log: Arc<dyn EventLog>,
    workload: &Workload,
    args: &Args,
) -> Result<EngineRun, String> {
    let config = IngestConfig {
        max_group_requests: args.max_group_requests,
        max_group_events: args.max_group_events,
        ..IngestConfig::default()
    };
    let ingestor =
        Ingestor::with_config(log, config).with_concurrent_groups(concurrent_groups(args));
    let bar = progress_bar(workload.unique_events, "engine");
    let next = AtomicUsize::new(0);
    let stored = AtomicU64::new(0);
    let replayed = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.writers.max(1))
            .map(|_| {
                scope.spawn(|| -> Result<(), AppendError> {
                    while let Some(request) =
                        workload.requests.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        let receipt = ingestor.append(request.clone())?;
                        stored.fetch_add(receipt.stored as u64, Ordering::Relaxed);
                        replayed.fetch_add(receipt.replayed as u64, Ordering::Relaxed);
                        bar.inc(receipt.stored as u64);
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| "an engine writer panicked".to_string())?
                .map_err(|e| format!("engine append failed: {e}"))?;
        }
        Ok::<(), String>(())
    })?;
    let elapsed = start.elapsed();
    bar.finish();
    let stats = ingestor.stats();
    Ok(EngineRun {
        elapsed,
        stored: stored.into_inner(),
        replayed: replayed.into_inner(),
        mean_group_events: stats.mean_group_events(),
        mean_group_requests: stats.mean_group_requests(),
        groups: stats.groups_committed,
    })
}

/// `--concurrent-groups` or the backend's default.
fn concurrent_groups(args: &Args) -> usize {
    args.concurrent_groups.unwrap_or(match args.backend {
        Backend::Postgres => 2,
        Backend::Sqlite | Backend::Memory => 1,
    })
}

/// CPU time (user + system, all threads) this process has used so far, from
/// `/proc/self/stat` (Linux; clock ticks assumed at the usual 100 Hz).
/// `None` elsewhere. Used to report CPU per event, which unlike wall-clock
/// rates does not depend on how busy the rest of the machine is.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// `cpu: <µs>/event` for a phase, or nothing if CPU time is unavailable.
fn cpu_note(before: Option<Duration>, after: Option<Duration>, events: u64) -> String {
    match (before, after) {
        (Some(before), Some(after)) if events > 0 => {
            let micros = after.saturating_sub(before).as_secs_f64() * 1e6 / events as f64;
            format!(
                "cpu {micros:.1} µs/event ({:.0} events per CPU-second)",
                1e6 / micros.max(1e-9)
            )
        }
        _ => "cpu time unavailable".into(),
    }
}

fn rate(events: u64, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn main() {
    if let Err(message) = run(Args::parse()) {
        eprintln!("ingest_bench: {message}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("generating {} events", args.events));
    let workload = Workload::generate(WorkloadSpec {
        events: args.events,
        courses: args.courses,
        batch: args.batch,
        replay_fraction: args.replay_fraction,
        seed: args.seed,
    })?;
    spinner.finish_and_clear();
    eprintln!(
        "workload: {} requests ({} replays), {} unique events, {} writers, batch {}",
        workload.requests.len(),
        workload.replayed_requests,
        workload.unique_events,
        args.writers,
        args.batch
    );
    let synchronous = match args.synchronous {
        SyncArg::Normal => Synchronous::Normal,
        SyncArg::Full => Synchronous::Full,
    };

    // Keeps the temporary directory or database alive until the end.
    let tempdir;
    let fresh_db;
    let (log, raw_target): (Arc<dyn EventLog>, RawTarget) = match args.backend {
        Backend::Memory => (
            Arc::new(MemoryStore::new()),
            RawTarget::Sqlite("file:ingest_bench_raw?mode=memory&cache=shared".into()),
        ),
        Backend::Sqlite => {
            let path = match &args.database {
                Some(path) => PathBuf::from(path),
                None => {
                    tempdir =
                        tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
                    tempdir.path().join("ingest_bench.sqlite")
                }
            };
            if path.exists() {
                return Err(format!(
                    "{} exists; the benchmark needs a fresh file",
                    path.display()
                ));
            }
            let options = SqliteOptions {
                synchronous,
                ..SqliteOptions::default()
            };
            let store = SqlStore::open_sqlite(&path, options).map_err(|e| e.to_string())?;
            store.migrate().map_err(|e| e.to_string())?;
            let raw = format!("{}.raw", path.display());
            if std::path::Path::new(&raw).exists() {
                return Err(format!("{raw} exists; the benchmark needs a fresh file"));
            }
            (Arc::new(store), RawTarget::Sqlite(raw))
        }
        Backend::Postgres => {
            let url = match &args.database {
                Some(url) => url.clone(),
                None => std::env::var("BIGLEARN_TEST_PG_URL").map_err(|_| {
                    "--database not given and BIGLEARN_TEST_PG_URL not set".to_string()
                })?,
            };
            fresh_db = pg::FreshDatabase::create(&url, "biglearn_ingest_bench")?;
            // One connection per group in flight, and one to spare.
            let max_connections = u32::try_from(concurrent_groups(&args) + 1).unwrap_or(u32::MAX);
            let options = PgOptions {
                max_connections,
                ..PgOptions::default()
            };
            let store =
                SqlStore::open_postgres(&fresh_db.url, options).map_err(|e| e.to_string())?;
            store.migrate().map_err(|e| e.to_string())?;
            (Arc::new(store), RawTarget::Postgres(fresh_db.url.clone()))
        }
    };

    let cpu_before_engine = process_cpu();
    let engine = run_engine(log, &workload, &args)?;
    let cpu_after_engine = process_cpu();
    if engine.stored != workload.unique_events {
        return Err(format!(
            "the engine stored {} events, expected {}",
            engine.stored, workload.unique_events
        ));
    }
    eprintln!(
        "engine: {} groups ({} at once), mean {:.1} requests / {:.1} events per group, {} replayed events acknowledged, {:.1} s, {}",
        engine.groups,
        concurrent_groups(&args),
        engine.mean_group_requests,
        engine.mean_group_events,
        engine.replayed,
        engine.elapsed.as_secs_f64(),
        cpu_note(cpu_before_engine, cpu_after_engine, engine.stored)
    );

    let rows: Vec<RawRow<'_>> = workload.unique_rows().map(RawRow::of).collect();
    let rows_per_commit = args
        .raw_rows_per_commit
        .unwrap_or(engine.mean_group_events.round() as usize)
        .max(1);
    let raw_writers = if args.backend == Backend::Memory {
        1
    } else {
        args.raw_writers
    };
    eprintln!(
        "raw: {} rows, {rows_per_commit} rows per commit, {raw_writers} writer(s)",
        rows.len()
    );
    let bar = progress_bar(rows.len() as u64, "raw");
    let cpu_before_raw = process_cpu();
    let raw_elapsed = raw::insert_rows(&raw_target, &rows, rows_per_commit, raw_writers, &|n| {
        bar.inc(n)
    })?;
    let cpu_after_raw = process_cpu();
    bar.finish();
    eprintln!(
        "raw: {:.1} s, {}",
        raw_elapsed.as_secs_f64(),
        cpu_note(cpu_before_raw, cpu_after_raw, rows.len() as u64)
    );

    let engine_rate = rate(engine.stored, engine.elapsed);
    let raw_rate = rate(rows.len() as u64, raw_elapsed);
    println!("engine: {engine_rate:.0} events/s");
    println!("raw: {raw_rate:.0} events/s");
    println!("ratio={:.3}", engine_rate / raw_rate);
    Ok(())
}
