//! Quick course-commit throughput figures of the engine store (ignored by
//! default). Run with
//! `cargo test --release -p biglearn-store --test engine_throughput -- --ignored --nocapture`
//! (PostgreSQL also needs `BIGLEARN_TEST_PG_URL`).
//!
//! Each commit advances one course by one event and stores a 16 KiB state,
//! 10 student CLUEs and 2 PE lists of 20 exercises, as the engine does after
//! a small bundle; commits run one after another on one thread.

mod common;

use std::time::Instant;

use biglearn_core::engine_store::{
    ClueKey, CommitOutcome, CourseCommit, EngineStore, ResultWrite, StateBlob,
};
use biglearn_core::testing::fixtures::{
    append_ok, consumer, course, course_id, create_course, response, seq,
};
use biglearn_core::testing::{clue_result, exercise_result, pe_key, student_clue_key};

const COURSES: u128 = 50;
const ROUNDS: u64 = 10;

fn writes(course_n: u128, round: u64) -> Vec<ResultWrite> {
    let mut writes: Vec<ResultWrite> = (0..10u128)
        .map(|bc| ResultWrite::Clue {
            key: student_clue_key(
                course_n * 100 + u128::from(round % 3),
                bc,
                "biglearn_sparfa",
            ),
            result: Some(clue_result(bc)),
        })
        .collect();
    for alg in ["biglearn_sparfa", "local_query"] {
        writes.push(ResultWrite::Exercise {
            key: pe_key(course_n * 1000 + u128::from(round), alg),
            result: Some(exercise_result(course_n, 20)),
        });
    }
    writes
}

fn measure(label: &str, store: &dyn EngineStore) {
    for n in 1..=COURSES {
        let mut events = vec![create_course(n, 9)];
        events.extend((1..=ROUNDS).map(|i| response(course(n), i, n * 1_000_000 + u128::from(i))));
        append_ok(store, events);
    }
    let state = StateBlob {
        format_version: 1,
        bytes: vec![7u8; 16 * 1024],
    };
    let started = Instant::now();
    let mut commits = 0u64;
    for round in 1..=ROUNDS {
        for n in 1..=COURSES {
            let commit = CourseCommit {
                consumer: consumer("engine"),
                course: course_id(n),
                through: seq(round),
                state: state.clone(),
                parts: Vec::new(),
                writes: writes(n, round),
                problems: Vec::new(),
            };
            let outcome = store.commit_course_progress(&commit).expect("commit");
            assert_eq!(outcome, CommitOutcome::Committed);
            commits += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let keys: Vec<ClueKey> = (0..10)
        .map(|bc| student_clue_key(100, bc, "biglearn_sparfa"))
        .collect();
    let read_started = Instant::now();
    for _ in 0..100 {
        let found = store.clue_results(&keys).expect("read");
        assert!(found.iter().all(Option::is_some));
    }
    let read_ms = read_started.elapsed().as_secs_f64() * 10.0;
    println!(
        "{label}: {commits} commits in {elapsed:.2} s = {:.0} commits/s; 10-CLUE bulk read {read_ms:.3} ms",
        commits as f64 / elapsed
    );
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn engine_commit_throughput() {
    let file = common::sqlite_file_store();
    measure("sqlite file (default options)", &file.store);
    if let Some(url) = common::pg_url() {
        let pg = common::pg_store(&url);
        measure("postgres", &pg.store);
    }
}
