//! An answer recalculates only the CLUEs it can count for (scheduler.md
//! §3.1): the page and chapter holding the answered exercise, for the
//! student and the course containers above it; a feedback date passing
//! recalculates only the CLUEs of that assignment's answers. Rows that are
//! not recalculated keep their calculation uuid, and every value is the one
//! a calculation of the whole course gives.

// The helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use std::collections::BTreeMap;

use biglearn_core::engine::recalc::recalculate;
use biglearn_core::engine::{Dirty, Engine};
use biglearn_core::engine_store::{ClueResult, EngineStore, ResultWrite};
use biglearn_core::log::{BundleLimits, SequenceNumber};
use biglearn_core::memory::MemoryStore;
use biglearn_core::projection::EcosystemState;
use biglearn_core::time::Instant;
use engine_support::*;
use projection_support::*;

/// Student 1 (cc 1) has a reading on page bc(1) (ex 1, 2) and a homework
/// on page bc(2) (ex 4, 5); student 2 (cc 1) a reading on page bc(1). The
/// chapter bc(0) holds every exercise. Feedback: reading day 5, homework
/// day 20.
fn setup() -> Vec<biglearn_core::log::Event> {
    let mut reading = Asg::new(1, 1);
    reading.feedback = Some(5);
    let mut homework = Asg::new(2, 1);
    homework.kind = "homework";
    homework.bcs = vec![2];
    homework.feedback = Some(20);
    homework.trials = vec![(201, 4, false, false), (202, 5, false, false)];
    vec![
        create_course(1),
        roster(1, &[(1, None)], &[(1, 1), (2, 1)]),
        reading.event(2),
        homework.event(3),
        Asg::new(3, 2).event(4),
    ]
}

fn store() -> MemoryStore {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(&store, &setup());
    store
}

fn step(engine: &mut Engine, store: &MemoryStore, now: Instant) {
    engine.run_until_idle(store, now, 100).unwrap();
}

fn student_row(store: &MemoryStore, b: u128) -> ClueResult {
    student_clue(store, 1, b, "local_query").unwrap()
}

fn teacher_row(store: &MemoryStore, b: u128) -> ClueResult {
    teacher_clue(store, 1, b, "local_query").unwrap()
}

#[test]
fn an_answer_recalculates_the_clues_of_its_page_and_chapter_only() {
    let store = store();
    let mut engine = engine();
    append_all(&store, &[Resp::new(1, 201, 1, 4).event(5)]);
    step(&mut engine, &store, day(2));
    let page_2 = student_row(&store, 2);
    let page_2_teacher = teacher_row(&store, 2);
    let chapter = student_row(&store, 0);
    let worst_before = worst(&store, 1, "local_query").unwrap();
    assert!(student_clue(&store, 1, 1, "local_query").is_none());

    append_all(&store, &[Resp::new(2, 101, 1, 1).event(6)]);
    step(&mut engine, &store, day(2));
    assert_eq!(student_row(&store, 2), page_2, "page 2 is not rewritten");
    assert_eq!(teacher_row(&store, 2), page_2_teacher);
    assert!(student_clue(&store, 1, 1, "local_query").is_some());
    assert_ne!(
        student_row(&store, 0).calculation_uuid,
        chapter.calculation_uuid
    );
    assert_ne!(
        teacher_row(&store, 1).calculation_uuid,
        page_2_teacher.calculation_uuid
    );
    let worst_after = worst(&store, 1, "local_query").unwrap();
    assert_ne!(worst_after.calculation_uuid, worst_before.calculation_uuid);
    // Student 2 answered nothing: no rows.
    assert!(student_clue(&store, 2, 1, "local_query").is_none());

    // The same events in one bundle give the same rows, uuids included.
    let whole = store_with_answers();
    step(&mut engine_support::engine(), &whole, day(2));
    assert_eq!(results(&whole), results(&store));
}

fn store_with_answers() -> MemoryStore {
    let store = store();
    append_all(
        &store,
        &[
            Resp::new(1, 201, 1, 4).event(5),
            Resp::new(2, 101, 1, 1).event(6),
        ],
    );
    store
}

#[test]
fn a_feedback_date_recalculates_the_clues_of_that_assignment_only() {
    let store = store_with_answers();
    let mut engine = engine();
    step(&mut engine, &store, day(2));
    let page_1 = student_row(&store, 1);
    let page_2 = student_row(&store, 2);
    // Hidden until feedback: no response counts yet.
    assert!(!page_1.clue_data.is_real && !page_2.clue_data.is_real);

    step(&mut engine, &store, day(6));
    assert_eq!(
        student_row(&store, 2),
        page_2,
        "homework feedback is day 20"
    );
    let page_1_now = student_row(&store, 1);
    assert_ne!(page_1_now.calculation_uuid, page_1.calculation_uuid);

    step(&mut engine, &store, day(21));
    assert_ne!(
        student_row(&store, 2).calculation_uuid,
        page_2.calculation_uuid
    );
}

/// Every written CLUE value equals what recalculating every CLUE of the
/// course from its state gives, and worst areas agree whether an engine
/// kept its CLUE values between bundles or read the state back each time.
#[test]
fn answer_recalculation_gives_the_values_of_a_whole_course_recalculation() {
    let mut answers = Vec::new();
    let mut seq = 5;
    for (id, trial, student, exercise, correct) in [
        (1, 201, 1, 4, true),
        (2, 101, 1, 1, false),
        (3, 301, 2, 1, true),
        (4, 202, 1, 5, false),
        (5, 102, 1, 2, true),
        (6, 302, 2, 2, false),
        (7, 101, 1, 1, true),
    ] {
        let mut r = Resp::new(id, trial, student, exercise);
        r.correct = correct;
        answers.push(r.event(seq));
        seq += 1;
    }
    let kept = store();
    let reloaded = store();
    let mut engine = engine();
    for (i, answer) in answers.iter().enumerate() {
        append_all(&kept, std::slice::from_ref(answer));
        append_all(&reloaded, std::slice::from_ref(answer));
        let now = day(2 + 3 * i as i64);
        step(&mut engine, &kept, now);
        step(&mut engine_support::engine(), &reloaded, now);
        assert_eq!(results(&kept), results(&reloaded), "after answer {i}");
    }

    let state = course_state(&kept);
    let mut dirty = Dirty::default();
    let last = SequenceNumber::new(seq - 1).unwrap();
    for student in state.course.students.keys() {
        dirty.student_clues.insert(*student, last);
    }
    for container in state.course.containers.keys() {
        dirty.teacher_clues.insert(*container, last);
    }
    let catalog: BTreeMap<_, EcosystemState> =
        BTreeMap::from([(eco(1), ecosystem_state(&kept, 1))]);
    let matrices = biglearn_core::engine::algs::Matrices::load(&kept, &state.course).unwrap();
    let mut whole = state.clone();
    let now = day(2 + 3 * (answers.len() as i64 - 1));
    let outcome = recalculate(&mut whole, &catalog, &matrices, &dirty, now);
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let mut compared = 0;
    for write in outcome.writes {
        if let ResultWrite::Clue { key, result } = write {
            let stored = kept.clue_result(&key).unwrap().map(|r| r.clue_data);
            assert_eq!(stored, result.map(|r| r.clue_data), "{key:?}");
            compared += 1;
        }
    }
    assert!(compared >= 12, "{compared} rows compared");
}

fn engine() -> Engine {
    Engine::new(consumer(), BundleLimits::default())
}
