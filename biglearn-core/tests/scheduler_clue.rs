//! CLUE inputs, the local_query algorithm, ecosystem mappings and algorithm
//! names (scheduler.md §1.4, §2.10, §3.1, §3.4; §5 scenarios 6, 7, 43, 59, 60;
//! S1 fix 7; README A6a).

mod scheduler_support;

use std::collections::HashSet;

use biglearn_core::ids::{CalculationId, ResponseId, StudentId, TrialId};
use biglearn_core::scheduler::{
    clue_exercises, clue_target, local_query_clue, local_query_clue_with, resolve_algorithm_name,
    select_clue_responses, Algorithm, AlgorithmResponse, BookContainerMappings, BuiltinAlgorithm,
    ClueAudience, ClueCandidate, ClueRequest, CourseExclusions, EcosystemView, ExerciseCatalog,
    ExerciseOrderRequest, HistoryType, LocalQuery, LocalQueryInterval, ResolvedAlgorithm,
};
use biglearn_core::time::Instant;
use scheduler_support::*;
use uuid::Uuid;

fn answers(bits: &[u8]) -> Vec<(TrialId, bool)> {
    bits.iter()
        .zip(0u128..)
        .map(|(b, i)| (trial(i), *b == 1))
        .collect()
}

/// Checks the *published* interval: these are §3.4's worked examples, whose widths
/// include the `0.1·s + 0.05` terms. The default (calibrated) interval has the same
/// centre and a narrower half-width; see `calibrated_local_query_clue_drops_the_widening`.
fn assert_clue(bits: &[u8], minimum: f64, most_likely: f64, maximum: f64, is_real: bool) {
    let clue = local_query_clue_with(&answers(bits), eco(1), LocalQueryInterval::Published);
    let close = |a: f64, b: f64| (a - b).abs() < 5e-7;
    assert!(
        close(clue.minimum, minimum)
            && close(clue.most_likely, most_likely)
            && close(clue.maximum, maximum),
        "{bits:?}: {clue:?}"
    );
    assert_eq!(clue.is_real, is_real);
    assert_eq!(clue.ecosystem_uuid, Some(eco(1)));
}

#[test]
fn local_query_clue_matches_the_worked_examples_of_3_4() {
    assert_clue(&[1, 1], 0.0, 0.5, 1.0, false);
    assert_clue(&[1, 1, 1], 0.783821, 0.933226, 1.0, true);
    assert_clue(&[0, 0, 0], 0.0, 0.066774, 0.216179, true);
    assert_clue(&[1, 0, 1], 0.361674, 0.644409, 0.927143, true);
    assert_clue(&[1, 1, 0, 0], 0.231314, 0.5, 0.768686, true);
    assert_clue(&[1; 10], 0.894668, 0.977902, 1.0, true);
    assert_clue(
        &[1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
        0.292181,
        0.5,
        0.707819,
        true,
    );
}

#[test]
fn calibrated_local_query_clue_drops_the_widening() {
    for bits in [
        &[1u8, 1, 1][..],
        &[0, 0, 0],
        &[1, 0, 1],
        &[1, 1, 0, 0],
        &[1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    ] {
        let published =
            local_query_clue_with(&answers(bits), eco(1), LocalQueryInterval::Published);
        let calibrated = local_query_clue(&answers(bits), eco(1));
        assert_eq!(calibrated.most_likely, published.most_likely, "{bits:?}");
        let n = bits.len() as f64;
        let (z, p) = (0.68f64, calibrated.most_likely);
        let half = z * (p * (1.0 - p) / (n + z * z)).sqrt();
        assert!(
            (calibrated.minimum - (p - half).max(0.0)).abs() < 1e-12,
            "{bits:?}"
        );
        assert!(
            (calibrated.maximum - (p + half).min(1.0)).abs() < 1e-12,
            "{bits:?}"
        );
        assert!(calibrated.maximum - calibrated.minimum < published.maximum - published.minimum);
    }
    // [1, 0, 1]: p̂ = 0.644409, half = 0.68·√(p̂(1 − p̂)/3.4624) = 0.1749 (published 0.2827).
    let clue = local_query_clue(&answers(&[1, 0, 1]), eco(1));
    assert!(
        (clue.maximum - clue.most_likely - 0.174935).abs() < 1e-5,
        "{clue:?}"
    );
    assert!(!local_query_clue(&answers(&[1, 1]), eco(1)).is_real);
}

#[test]
fn local_query_clue_keeps_the_last_response_per_trial() {
    // Three responses on two trials: not real; the re-answer replaces.
    let repeated = vec![(trial(1), true), (trial(2), true), (trial(1), false)];
    assert!(!local_query_clue(&repeated, eco(1)).is_real);
    let mut three = repeated;
    three.push((trial(3), false));
    let clue = local_query_clue(&three, eco(1));
    let expected = local_query_clue(&answers(&[0, 1, 0]), eco(1));
    assert_eq!(clue, expected);
}

fn response(i: u128, correct: bool) -> AlgorithmResponse {
    AlgorithmResponse {
        student: StudentId::from_uuid(Uuid::from_u128(7)),
        trial: trial(i),
        exercise: ex(i),
        is_correct: correct,
        responded_at: day(i as i64),
    }
}

#[test]
fn scenario_59_calculate_clues() {
    let request = ClueRequest {
        ecosystem: eco(3),
        students: &[],
        exercises: &[],
        responses: &[],
    };
    let empty = LocalQuery.clue(&request).expect("infallible");
    assert!(!empty.is_real);
    assert_eq!(
        (empty.minimum, empty.most_likely, empty.maximum),
        (0.0, 0.5, 1.0)
    );
    let responses = [response(1, true), response(2, false), response(3, true)];
    let request = ClueRequest {
        responses: &responses,
        ..request
    };
    let clue = LocalQuery.clue(&request).expect("infallible");
    assert_eq!(clue, local_query_clue(&answers(&[1, 0, 1]), eco(3)));
    assert_eq!(LocalQuery.algorithm().name(), "local_query");
}

#[test]
fn scenario_60_calculate_exercises_is_a_seeded_permutation() {
    let all = exercises(0, 40);
    let request = |calc: u128| ExerciseOrderRequest {
        calculation: CalculationId::from_uuid(Uuid::from_u128(calc)),
        ecosystem: eco(1),
        student: Some(StudentId::from_uuid(Uuid::from_u128(9))),
        exercises: &all,
        responses: &[],
    };
    let order = LocalQuery.exercise_order(&request(1)).expect("infallible");
    let mut sorted = order.exercises.clone();
    sorted.sort();
    assert_eq!(sorted, all);
    assert_ne!(order.exercises, all);
    // S2: the same calculation gives the same permutation and matrix id.
    assert_eq!(
        order,
        LocalQuery.exercise_order(&request(1)).expect("infallible")
    );
    let other = LocalQuery.exercise_order(&request(2)).expect("infallible");
    assert_ne!(order.exercises, other.exercises);
    assert_ne!(order.ecosystem_matrix, other.ecosystem_matrix);
    let empty = ExerciseOrderRequest {
        exercises: &[],
        ..request(1)
    };
    assert!(LocalQuery
        .exercise_order(&empty)
        .expect("infallible")
        .exercises
        .is_empty());
}

fn two_ecosystems() -> (
    EcosystemView,
    EcosystemView,
    BookContainerMappings,
    ExerciseCatalog,
) {
    // Old bc 1 (clue pool 0..5) maps to new bc 11 (clue pool 3..8).
    let old = EcosystemView::new(
        eco(1),
        &[
            clue_pool(1, exercises(0, 5)),
            pool(1, &reading(), exercises(0, 5)),
        ],
    );
    let new = EcosystemView::new(eco(2), &[clue_pool(11, exercises(3, 5))]);
    let mut mappings = BookContainerMappings::new();
    mappings.apply_preparation(eco(1), eco(2), &[(bc(1), bc(11))]);
    let catalog = ExerciseCatalog::new((0..8).map(|i| (ex(i), grp(i))));
    (old, new, mappings, catalog)
}

#[test]
fn scenario_43_clue_exercises_are_the_union_of_old_and_new_clue_pools() {
    let (old, new, mappings, catalog) = two_ecosystems();
    assert_eq!(clue_target(&mappings, eco(1), bc(1), eco(2)), bc(11));
    assert_eq!(clue_target(&mappings, eco(1), bc(5), eco(2)), bc(5));
    let got = clue_exercises(
        bc(11),
        eco(2),
        &[&old, &new],
        &mappings,
        &CourseExclusions::default(),
        &catalog,
    )
    .expect("known exercises");
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, exercises(0, 8));
    assert_eq!(got.len(), 8);
}

#[test]
fn s1_fix_7_clue_exercises_omit_course_and_global_exclusions() {
    let (old, new, mappings, catalog) = two_ecosystems();
    let exclusions = CourseExclusions {
        global_exercises: vec![ex(0)],
        course_groups: vec![grp(6)],
        ..Default::default()
    };
    let got = clue_exercises(
        bc(11),
        eco(2),
        &[&old, &new],
        &mappings,
        &exclusions,
        &catalog,
    )
    .expect("known exercises");
    assert!(!got.contains(&ex(0)) && !got.contains(&ex(6)));
    assert_eq!(got.len(), 6);
}

#[test]
fn no_clue_without_known_exercises() {
    let (old, new, mappings, _) = two_ecosystems();
    let unknown = ExerciseCatalog::default();
    let got = clue_exercises(
        bc(11),
        eco(2),
        &[&old, &new],
        &mappings,
        &CourseExclusions::default(),
        &unknown,
    );
    assert_eq!(got, None);
}

#[test]
fn scenario_06_prepare_course_ecosystem_adds_forward_and_reverse_mappings() {
    let mut mappings = BookContainerMappings::new();
    let forward: Vec<_> = (1..=3).map(|b| (bc(b), bc(10 + b))).collect();
    assert_eq!(mappings.apply_preparation(eco(1), eco(2), &forward), 6);
    assert_eq!(mappings.forward(eco(2), bc(12), eco(1)), Some(bc(2)));
    // Replaying the event inserts nothing (insert-or-ignore).
    assert_eq!(mappings.apply_preparation(eco(1), eco(2), &forward), 0);
}

#[test]
fn scenario_07_chains_into_the_old_and_out_of_the_new_ecosystem() {
    let mut mappings = BookContainerMappings::new();
    // Existing: eco 0 → eco 1 and eco 2 → eco 3, three containers each.
    for b in 1..=3 {
        mappings.insert(biglearn_core::scheduler::BookContainerMapping {
            from_ecosystem: eco(0),
            from_book_container: bc(b),
            to_ecosystem: eco(1),
            to_book_container: bc(10 + b),
        });
        mappings.insert(biglearn_core::scheduler::BookContainerMapping {
            from_ecosystem: eco(2),
            from_book_container: bc(20 + b),
            to_ecosystem: eco(3),
            to_book_container: bc(30 + b),
        });
    }
    let forward: Vec<_> = (1..=3).map(|b| (bc(10 + b), bc(20 + b))).collect();
    // 3 forward + 6 chain + 9 reverse.
    assert_eq!(mappings.apply_preparation(eco(1), eco(2), &forward), 18);
    assert_eq!(mappings.forward(eco(0), bc(1), eco(2)), Some(bc(21)));
    assert_eq!(mappings.forward(eco(1), bc(11), eco(3)), Some(bc(31)));
    assert_eq!(mappings.forward(eco(3), bc(31), eco(1)), Some(bc(11)));
    assert_eq!(mappings.sources_of(eco(2), bc(21)), vec![bc(1), bc(11)]);
}

#[test]
fn many_to_one_mappings_get_no_reverse() {
    let mut mappings = BookContainerMappings::new();
    let added = mappings.apply_preparation(eco(1), eco(2), &[(bc(1), bc(11)), (bc(2), bc(11))]);
    assert_eq!(added, 2);
    assert_eq!(mappings.forward(eco(2), bc(11), eco(1)), None);
}

#[test]
fn algorithm_names_resolve_case_insensitively() {
    let built_in = |algorithm, history_type| ResolvedAlgorithm::BuiltIn {
        algorithm,
        history_type,
    };
    assert_eq!(
        resolve_algorithm_name("local_query"),
        built_in(BuiltinAlgorithm::LocalQuery, None)
    );
    assert_eq!(
        resolve_algorithm_name("BIGLEARN_SPARFA"),
        built_in(BuiltinAlgorithm::BiglearnSparfa, None)
    );
    assert_eq!(
        resolve_algorithm_name("Instructor_Driven_Local_Query"),
        built_in(
            BuiltinAlgorithm::LocalQuery,
            Some(HistoryType::InstructorDriven)
        )
    );
    let spe = resolve_algorithm_name("student_driven_biglearn_sparfa");
    assert_eq!(
        spe,
        built_in(
            BuiltinAlgorithm::BiglearnSparfa,
            Some(HistoryType::StudentDriven)
        )
    );
    assert_eq!(spe.canonical_name(), "student_driven_biglearn_sparfa");
    assert_eq!(
        resolve_algorithm_name("LOCAL_QUERY").canonical_name(),
        "local_query"
    );
    for external in [
        "sparfa",
        "tesr",
        "instructor_driven_Tesr",
        "student_driven_",
        "local_query_v2",
        "é_driven_local_query",
    ] {
        assert_eq!(
            resolve_algorithm_name(external),
            ResolvedAlgorithm::External(external.to_owned())
        );
        assert_eq!(resolve_algorithm_name(external).canonical_name(), external);
    }
}

fn candidate(
    n: u128,
    student: u128,
    exercise: u128,
    at: i64,
    feedback: Option<Instant>,
) -> ClueCandidate {
    ClueCandidate {
        response: ResponseId::from_uuid(Uuid::from_u128(0x8000 + n)),
        trial: trial(n),
        student: StudentId::from_uuid(Uuid::from_u128(student)),
        exercise: ex(exercise),
        is_correct: n % 2 == 0,
        last_responded_at: day(at),
        feedback_visible_at: feedback,
    }
}

#[test]
fn scenario_42_student_clues_hold_feedback_visible_responses_teacher_clues_all() {
    // Exercises 0/1 are versions of group 0; exercise 2 is group 1.
    let catalog = ExerciseCatalog::new([(ex(0), grp(0)), (ex(1), grp(0)), (ex(2), grp(1))]);
    let on: HashSet<_> = [ex(0), ex(1), ex(2)].into();
    let now = day(10);
    let past = Some(day(5));
    let tomorrow = Some(day(11));
    let candidates = [
        candidate(1, 1, 0, 1, past),     // superseded by response 2 (same group)
        candidate(2, 1, 1, 2, None),     // NULL feedback: visible
        candidate(3, 1, 2, 3, past),     // visible
        candidate(4, 1, 2, 4, tomorrow), // pending: skipped, response 3 stays
        candidate(5, 1, 7, 5, None),     // not a CLUE exercise
        candidate(6, 2, 2, 6, tomorrow), // another student
    ];
    let student =
        select_clue_responses(&candidates[..5], &on, &catalog, ClueAudience::Student, now);
    let kept: Vec<_> = student.responses.iter().map(|c| c.trial).collect();
    assert_eq!(kept, vec![trial(2), trial(3)]);
    assert_eq!(student.recalculate_at, Some(day(11)));
    assert!(student.is_written(ClueAudience::Student));
    // Only pending answers: no responses, but the row is written for the recalculation.
    let pending =
        select_clue_responses(&candidates[5..], &on, &catalog, ClueAudience::Student, now);
    assert!(pending.responses.is_empty());
    assert_eq!(pending.recalculate_at, Some(day(11)));
    assert!(pending.is_written(ClueAudience::Student));
    // A teacher CLUE sees every answer regardless of feedback; latest per (student, group).
    let teacher = select_clue_responses(&candidates, &on, &catalog, ClueAudience::Teacher, now);
    let kept: Vec<_> = teacher.responses.iter().map(|c| c.trial).collect();
    assert_eq!(kept, vec![trial(2), trial(4), trial(6)]);
    assert_eq!(teacher.recalculate_at, None);
    let none = select_clue_responses(&[], &on, &catalog, ClueAudience::Teacher, now);
    assert!(!none.is_written(ClueAudience::Teacher));
}

/// A seeded model of the course simulation: a student's page knowledge (sd 0.64),
/// 12 exercises a page (loadings 0.8–1.2, intercept sd 0.6), 5–12 answers to distinct
/// exercises; the truth is the link of the mean logit over the page. The calibrated
/// 50 % interval must cover it 45–55 % of the time, the published one far more often.
#[test]
fn calibrated_local_query_clue_covers_half_the_time() {
    let mut state = 0x5eed_u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = state;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let normal = |u: &mut dyn FnMut() -> f64| {
        let (a, b) = (u().max(1e-300), u());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    };
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (mut calibrated, mut published, trials) = (0usize, 0usize, 4000);
    for _ in 0..trials {
        let knowledge = 0.5 * normal(&mut uniform) + 0.4 * normal(&mut uniform);
        let exercises: Vec<(f64, f64)> = (0..12)
            .map(|_| (0.8 + 0.4 * uniform(), 0.6 * normal(&mut uniform)))
            .collect();
        let truth = sigmoid(
            exercises
                .iter()
                .map(|(w, d)| w * knowledge + d)
                .sum::<f64>()
                / 12.0,
        );
        let n = 5 + (uniform() * 8.0) as usize;
        let mut order: Vec<usize> = (0..12).collect();
        for i in 0..n {
            let j = i + (uniform() * (12 - i) as f64) as usize;
            order.swap(i, j.min(11));
        }
        let bits: Vec<u8> = order[..n]
            .iter()
            .map(|&e| {
                let (w, d) = exercises[e];
                u8::from(uniform() < sigmoid(w * knowledge + d))
            })
            .collect();
        let covers =
            |c: biglearn_core::scheduler::ClueData| c.minimum <= truth && truth <= c.maximum;
        calibrated += usize::from(covers(local_query_clue(&answers(&bits), eco(1))));
        published += usize::from(covers(local_query_clue_with(
            &answers(&bits),
            eco(1),
            LocalQueryInterval::Published,
        )));
    }
    let (c, p) = (
        calibrated as f64 / trials as f64,
        published as f64 / trials as f64,
    );
    println!("coverage: calibrated {c:.3}, published {p:.3}");
    assert!((0.45..=0.55).contains(&c), "calibrated coverage {c}");
    assert!(p > 0.7, "published coverage {p}");
}
