//! Criterion benchmark of group-commit ingest at small sizes: 4 writer
//! threads appending Tutor-shaped record_response requests (batches of 10)
//! through the [`Ingestor`] into the in-memory store and into a durable
//! SQLite file. The full-size comparison with raw inserts is
//! `examples/ingest_bench.rs`.

#[path = "../examples/ingest_bench/workload.rs"]
#[allow(dead_code)]
mod workload;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use biglearn_core::log::EventLog;
use biglearn_core::memory::MemoryStore;
use biglearn_store::{Ingestor, SqlStore, SqliteOptions};
use criterion::{criterion_main, BatchSize, Criterion, Throughput};

use workload::{Workload, WorkloadSpec};

const WRITERS: usize = 4;

fn small_workload() -> Workload {
    let spec = WorkloadSpec {
        events: 2_000,
        courses: 20,
        batch: 10,
        replay_fraction: 0.03,
        seed: 11,
    };
    match Workload::generate(spec) {
        Ok(workload) => workload,
        Err(message) => panic!("workload generation failed: {message}"),
    }
}

/// Appends every request through one Ingestor from `WRITERS` threads.
fn ingest(log: Arc<dyn EventLog>, workload: &Workload) -> u64 {
    let ingestor = Ingestor::new(log);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..WRITERS {
            scope.spawn(|| {
                while let Some(request) =
                    workload.requests.get(next.fetch_add(1, Ordering::Relaxed))
                {
                    if let Err(e) = ingestor.append(request.clone()) {
                        panic!("append failed: {e}");
                    }
                }
            });
        }
    });
    ingestor.stats().groups_committed
}

fn bench_ingest(c: &mut Criterion) {
    let workload = small_workload();
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(workload.unique_events));
    group.sample_size(10);
    group.bench_function("memory", |b| {
        b.iter_batched(
            || Arc::new(MemoryStore::new()) as Arc<dyn EventLog>,
            |log| ingest(log, &workload),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("sqlite_full", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = SqlStore::open_sqlite(
                    dir.path().join("bench.sqlite"),
                    SqliteOptions::default(),
                )
                .expect("open sqlite");
                store.migrate().expect("migrate");
                (dir, Arc::new(store) as Arc<dyn EventLog>)
            },
            // The directory is returned so that its removal is not timed.
            |(dir, log)| (ingest(log, &workload), dir),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// `criterion_group!` generates an undocumented function.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(benches, super::bench_ingest);
}
criterion_main!(harness::benches);
