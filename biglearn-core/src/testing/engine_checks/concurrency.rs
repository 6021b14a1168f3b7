//! Engine checks of concurrent writers: a bundle committed by several
//! workers at once takes effect exactly once.

use std::collections::BTreeMap;

use super::super::fixtures::*;
use super::*;

/// Several threads commit the same course progress at once (e.g. a bundle
/// redelivered to two workers): exactly one commit lands, every other one
/// reports `Stale` at its watermark, and the stored state, results and
/// problems are the winner's alone.
pub fn engine_concurrent_commits_land_once<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 3);
    let workers = 6u8;
    let outcomes: Vec<(u8, CommitOutcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                scope.spawn(move || {
                    let mut c = commit(
                        1,
                        3,
                        &[worker; 32],
                        vec![put_pe(
                            pe_key(5, "biglearn_sparfa"),
                            exercise_result(u128::from(worker), 2),
                        )],
                    );
                    c.problems = vec![problem(3, &format!("worker {worker}"))];
                    (
                        worker,
                        eok(store.commit_course_progress(&c), "concurrent commit"),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(outcome) => outcome,
                Err(_) => panic!("a committing thread panicked"),
            })
            .collect()
    });
    let mut by_outcome: BTreeMap<bool, Vec<u8>> = BTreeMap::new();
    for (worker, outcome) in &outcomes {
        match outcome {
            CommitOutcome::Committed => by_outcome.entry(true).or_default().push(*worker),
            CommitOutcome::Stale { current } => {
                assert_eq!(current.get(), 3, "worker {worker}");
                by_outcome.entry(false).or_default().push(*worker);
            }
        }
    }
    let winners = by_outcome.remove(&true).unwrap_or_default();
    assert_eq!(winners.len(), 1, "outcomes: {outcomes:?}");
    let winner = winners[0];
    assert_eq!(watermark(store, 1), Some(3));
    assert_eq!(state_bytes(store, 1), Some((3, vec![winner; 32])));
    assert_eq!(
        pe(store, &pe_key(5, "biglearn_sparfa")),
        Some(exercise_result(u128::from(winner), 2))
    );
    let log = ok(store.course_problems(course_id(1), 10), "course_problems");
    assert_eq!(log.total, 1);
    assert_eq!(log.latest[0].message, format!("worker {winner}"));
}
