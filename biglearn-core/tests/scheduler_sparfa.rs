//! The `biglearn_sparfa` algorithm over a fitted model (sparfa.md §6.2, §7.2;
//! F2, F3, S2) and its cold start before the first fit.

mod scheduler_support;

use biglearn_core::ids::{CalculationId, EcosystemMatrixId, ExerciseId, StudentId};
use biglearn_core::scheduler::{
    Algorithm, AlgorithmResponse, BiglearnSparfa, BuiltinAlgorithm, ClueRequest, EstimateMemo,
    ExerciseIndex, ExerciseOrderRequest,
};
use biglearn_core::sparfa::{clue_interval, ClueOptions, LearnerResponse, Penalties, SparfaModel};
use scheduler_support::*;
use uuid::Uuid;

/// Exercises 0, 1, 2 known to the model (intercepts 3, 0, −1; one concept).
fn model() -> SparfaModel {
    SparfaModel {
        question_ids: (0..3).map(|i| ex(i).to_string()).collect(),
        concept_ids: vec!["page".into()],
        loadings: vec![vec![(0, 1.0)]; 3],
        intercepts: vec![3.0, 0.0, -1.0],
        hints: vec![vec![0]; 3],
        penalties: Penalties::default(),
        pooled_loadings: Vec::new(),
    }
}

fn student(n: u128) -> StudentId {
    StudentId::from_uuid(Uuid::from_u128(0x7000 + n))
}

fn response(s: u128, e: u128, correct: bool, at: i64) -> AlgorithmResponse {
    AlgorithmResponse {
        student: student(s),
        trial: trial(s * 100 + e),
        exercise: ex(e),
        is_correct: correct,
        responded_at: day(at),
    }
}

fn order_request<'a>(
    exercises: &'a [biglearn_core::ids::ExerciseId],
    responses: &'a [AlgorithmResponse],
    calc: u128,
) -> ExerciseOrderRequest<'a> {
    ExerciseOrderRequest {
        calculation: CalculationId::from_uuid(Uuid::from_u128(calc)),
        ecosystem: eco(1),
        student: Some(student(1)),
        exercises,
        responses,
    }
}

#[test]
fn tesr_order_then_seeded_unknown_exercises() {
    let model = model();
    let matrix = EcosystemMatrixId::from_uuid(Uuid::from_u128(99));
    let algorithm = BiglearnSparfa::new(matrix, &model);
    assert_eq!(algorithm.algorithm(), BuiltinAlgorithm::BiglearnSparfa);
    let all = exercises(0, 8);
    let order = algorithm
        .exercise_order(&order_request(&all, &[], 1))
        .expect("order");
    assert_eq!(order.ecosystem_matrix, matrix);
    // p = σ(d): closest to 0.5 first.
    assert_eq!(&order.exercises[..3], &[ex(1), ex(2), ex(0)]);
    let mut rest = order.exercises[3..].to_vec();
    rest.sort();
    assert_eq!(rest, exercises(3, 5));
    // S2: same calculation, same order; the unknown tail depends on the seed.
    assert_eq!(
        order,
        algorithm
            .exercise_order(&order_request(&all, &[], 1))
            .expect("order")
    );
    let tails: std::collections::HashSet<_> = (0..20)
        .map(|c| {
            algorithm
                .exercise_order(&order_request(&all, &[], c))
                .expect("order")
                .exercises[3..]
                .to_vec()
        })
        .collect();
    assert!(tails.len() > 1);
}

#[test]
fn answered_exercises_come_after_unanswered_ones() {
    let model = model();
    let algorithm = BiglearnSparfa::new(EcosystemMatrixId::from_uuid(Uuid::from_u128(1)), &model);
    let all = exercises(0, 3);
    let responses = [response(1, 1, true, 5)];
    let order = algorithm
        .exercise_order(&order_request(&all, &responses, 1))
        .expect("order");
    assert_eq!(order.exercises.last(), Some(&ex(1)));
    assert_eq!(order.exercises.len(), 3);
}

#[test]
fn cold_start_before_the_first_fit() {
    let algorithm = BiglearnSparfa::unfitted();
    let all = exercises(0, 30);
    let order = algorithm
        .exercise_order(&order_request(&all, &[], 1))
        .expect("order");
    let mut sorted = order.exercises.clone();
    sorted.sort();
    assert_eq!(sorted, all);
    assert_ne!(order.exercises, all);
    assert_eq!(
        order,
        algorithm
            .exercise_order(&order_request(&all, &[], 1))
            .expect("order")
    );
    let responses = [
        response(1, 0, true, 1),
        response(1, 1, true, 2),
        response(1, 2, false, 3),
    ];
    let clue = algorithm
        .clue(&ClueRequest {
            ecosystem: eco(1),
            students: &[student(1)],
            exercises: &all,
            responses: &responses,
        })
        .expect("clue");
    assert!(!clue.is_real);
    assert_eq!(
        (clue.minimum, clue.most_likely, clue.maximum),
        (0.0, 0.5, 1.0)
    );
    assert_eq!(clue.ecosystem_uuid, Some(eco(1)));
}

#[test]
fn sparfa_clue_matches_the_core_interval() {
    let model = model();
    let algorithm = BiglearnSparfa::new(EcosystemMatrixId::from_uuid(Uuid::from_u128(1)), &model);
    let responses = [
        response(1, 0, false, 1),
        response(1, 0, true, 2), // the latest answer counts
        response(1, 1, false, 3),
        response(2, 2, true, 4),
        response(2, 7, true, 5), // unknown to the matrix
    ];
    let targets = [ex(0), ex(1), ex(2), ex(7)];
    let request = ClueRequest {
        ecosystem: eco(1),
        students: &[student(1), student(2)],
        exercises: &targets,
        responses: &responses,
    };
    let clue = algorithm.clue(&request).expect("clue");
    let learners = vec![
        vec![
            LearnerResponse::new(0, true),
            LearnerResponse::new(1, false),
        ],
        vec![LearnerResponse::new(2, true)],
    ];
    let expected =
        clue_interval(&model, &learners, &[0, 1, 2], &ClueOptions::default()).expect("core clue");
    assert!(clue.is_real);
    assert_eq!(
        (clue.minimum, clue.most_likely, clue.maximum),
        (expected.minimum, expected.most_likely, expected.maximum)
    );
    // Fewer than N_min = 3 pooled responses on the targets: not real.
    let few = ClueRequest {
        exercises: &targets[..2],
        students: &[student(2)],
        ..request
    };
    assert!(!algorithm.clue(&few).expect("clue").is_real);
}

#[test]
fn invalid_clue_options_are_reported_with_context() {
    let model = model();
    let algorithm = BiglearnSparfa::new(EcosystemMatrixId::from_uuid(Uuid::from_u128(1)), &model)
        .with_clue_options(ClueOptions {
            confidence: 1.5,
            min_responses: 3,
            ..ClueOptions::default()
        });
    let responses = [response(1, 0, true, 1)];
    let targets = [ex(0)];
    let err = algorithm
        .clue(&ClueRequest {
            ecosystem: eco(1),
            students: &[],
            exercises: &targets,
            responses: &responses,
        })
        .expect_err("confidence 1.5 is invalid");
    assert!(
        err.to_string().contains("SPARFA CLUE for ecosystem"),
        "{err}"
    );
}

/// A model of two concepts over exercises 0..6, the first three on concept
/// 0 and the rest on concept 1, with spread intercepts.
fn two_concept_model() -> SparfaModel {
    SparfaModel {
        question_ids: (0..6).map(|i| ex(i).to_string()).collect(),
        concept_ids: vec!["a".into(), "b".into()],
        loadings: (0u32..6)
            .map(|q| vec![(u32::from(q >= 3), 1.0 + 0.1 * f64::from(q))])
            .collect(),
        intercepts: vec![1.5, 0.2, -0.8, 0.9, -0.1, -1.2],
        hints: (0u32..6).map(|q| vec![u32::from(q >= 3)]).collect(),
        penalties: Penalties::default(),
        pooled_loadings: Vec::new(),
    }
}

#[test]
fn the_exercise_index_knows_canonical_exercise_ids_only() {
    let mut model = two_concept_model();
    let lettered = ExerciseId::from_uuid(Uuid::from_u128(0xabcd_ef01));
    model.question_ids[1] = lettered.to_string().to_uppercase(); // not canonical
    model.question_ids[2] = "not-a-uuid".into();
    model.question_ids[4] = ex(3).to_string(); // a repeated id: the first wins
    let index = ExerciseIndex::new(&model);
    assert_eq!(index.question(ex(0)), Some(0));
    assert_eq!(index.question(lettered), None);
    assert_eq!(index.question(ex(1)), None);
    assert_eq!(index.question(ex(3)), Some(3));
    assert_eq!(index.question(ex(5)), Some(5));
    assert_eq!(index.question(ex(9)), None);
    assert_eq!(index.exercise(0), Some(ex(0)));
    assert_eq!(index.exercise(2), None);
    assert_eq!(index.exercise(4), Some(ex(3)));
    assert_eq!(index.exercise(17), None);
}

/// The engine's form (a prebuilt index and a memo of learner estimates
/// shared across calls) gives the same orders and the same CLUE bits as
/// the plain form, on every call, whether the memo hits or not.
#[test]
fn indexed_algorithm_with_a_memo_matches_the_plain_one_bit_for_bit() {
    let model = two_concept_model();
    let matrix = EcosystemMatrixId::from_uuid(Uuid::from_u128(5));
    let plain = BiglearnSparfa::new(matrix, &model);
    let index = ExerciseIndex::new(&model);
    let memo = EstimateMemo::with_capacity(3);
    let indexed = BiglearnSparfa::indexed(matrix, &model, &index, &memo);
    let all = exercises(0, 9);
    let mut responses = Vec::new();
    for (step, (s, e, correct)) in [
        (1, 0, true),
        (2, 3, false),
        (1, 4, true),
        (3, 1, false),
        (2, 5, true),
        (3, 2, true),
        (1, 0, false),
        (2, 7, true),
    ]
    .into_iter()
    .enumerate()
    {
        responses.push(response(s, e, correct, step as i64));
        for _ in 0..2 {
            let request = order_request(&all, &responses, 7);
            assert_eq!(
                plain.exercise_order(&request).expect("plain order"),
                indexed.exercise_order(&request).expect("indexed order")
            );
            for students in [&[][..], &[student(1)][..], &[student(2), student(3)][..]] {
                for targets in [&all[..3], &all[3..], &all[..]] {
                    let request = ClueRequest {
                        ecosystem: eco(1),
                        students,
                        exercises: targets,
                        responses: &responses,
                    };
                    let a = plain.clue(&request).expect("plain clue");
                    let b = indexed.clue(&request).expect("indexed clue");
                    assert_eq!(
                        (a.minimum.to_bits(), a.most_likely.to_bits()),
                        (b.minimum.to_bits(), b.most_likely.to_bits())
                    );
                    assert_eq!(
                        (a.maximum.to_bits(), a.is_real),
                        (b.maximum.to_bits(), b.is_real)
                    );
                }
            }
        }
    }
    // The memo is bounded: least recently used estimates leave.
    assert_eq!(memo.len(), 3);
}
