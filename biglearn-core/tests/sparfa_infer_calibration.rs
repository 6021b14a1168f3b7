//! CLUE calibration with the true W, d (sparfa.md §8.4 item 5).
//!
//! The synthetic learners have `U ~ N(0, 1)`, so the Bayes-consistent prior is
//! `2λ_U = 1`, i.e. `λ_U = 0.5`. With it, 50 % CLUEs computed from the true W, d
//! must cover the true `σ(z̄)` about half of the time.

mod sparfa_infer_util;

use biglearn_core::sparfa::calibration::{
    clue_coverage, gradebooks, CalibrationError, CalibrationOptions, ResponseScope,
};
use biglearn_core::sparfa::{ClueOptions, LearnerResponse};
use sparfa_infer_util::synthetic;

#[test]
fn true_parameters_give_calibrated_50_percent_clues() {
    for (seed, scope) in [
        (1u64, ResponseScope::AllResponses),
        (2, ResponseScope::Container),
        (3, ResponseScope::AllResponses),
    ] {
        let s = synthetic(10, 8, 400, 0.5, 0.5, seed);
        let options = CalibrationOptions {
            scope,
            ..Default::default()
        };
        let report =
            clue_coverage(&s.truth, &s.truth, &s.knowledge, &s.responses, &options).unwrap();
        assert_eq!(report.groups, 4000);
        assert!(report.real_groups >= 3000, "{report:?}");
        let coverage = report.coverage().unwrap();
        assert!(
            (0.45..=0.55).contains(&coverage),
            "seed {seed} {scope:?}: coverage {coverage} ({report:?})"
        );
    }
}

#[test]
fn wider_confidence_covers_more() {
    let s = synthetic(6, 8, 300, 0.5, 0.5, 9);
    let at = |confidence| {
        let options = CalibrationOptions {
            clue: ClueOptions {
                confidence,
                ..Default::default()
            },
            ..Default::default()
        };
        clue_coverage(&s.truth, &s.truth, &s.knowledge, &s.responses, &options).unwrap()
    };
    let (c50, c90) = (at(0.5), at(0.9));
    let (p50, p90) = (c50.coverage().unwrap(), c90.coverage().unwrap());
    assert!(p90 > p50 + 0.2, "{p50} vs {p90}");
    assert!((0.85..=0.95).contains(&p90), "90 % coverage {p90}");
    assert!(c90.mean_width > c50.mean_width);
}

#[test]
fn over_shrunk_prior_under_covers() {
    // λ_U = 2 means a prior variance of 0.25 against a true variance of 1: the
    // intervals are too narrow around shrunken estimates (sparfa.md F1: "over-shrunk").
    let s = synthetic(10, 8, 400, 0.5, 2.0, 1);
    let report = clue_coverage(
        &s.truth,
        &s.truth,
        &s.knowledge,
        &s.responses,
        &CalibrationOptions::default(),
    )
    .unwrap();
    let coverage = report.coverage().unwrap();
    assert!(coverage < 0.4, "coverage {coverage}");
}

#[test]
fn shape_errors_are_reported() {
    let s = synthetic(3, 4, 10, 0.5, 0.5, 4);
    let err = clue_coverage(
        &s.truth,
        &s.truth,
        &s.knowledge[1..],
        &s.responses,
        &CalibrationOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CalibrationError::KnowledgeShape {
                learners: 10,
                concepts: 3,
                found: 29
            }
        ),
        "{err}"
    );
    let mut fewer = s.truth.clone();
    fewer.question_ids.pop();
    fewer.loadings.pop();
    fewer.intercepts.pop();
    let err = clue_coverage(
        &s.truth,
        &fewer,
        &s.knowledge,
        &s.responses,
        &CalibrationOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CalibrationError::QuestionCountMismatch {
                model: 12,
                truth: 11
            }
        ),
        "{err}"
    );
    let bad = CalibrationOptions {
        clue: ClueOptions {
            confidence: 1.5,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(clue_coverage(&s.truth, &s.truth, &s.knowledge, &s.responses, &bad).is_err());
}

#[test]
fn not_real_groups_are_not_scored() {
    let s = synthetic(2, 4, 3, 0.5, 0.5, 5);
    let empty: Vec<Vec<LearnerResponse>> = vec![Vec::new(); 3];
    let report = clue_coverage(
        &s.truth,
        &s.truth,
        &s.knowledge,
        &empty,
        &CalibrationOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (report.groups, report.real_groups, report.covered),
        (6, 0, 0)
    );
    assert_eq!(report.coverage(), None);
}

#[test]
fn gradebooks_group_by_learner() {
    let books = gradebooks(
        2,
        [
            (1, LearnerResponse::new(3, true)),
            (0, LearnerResponse::new(1, false)),
            (5, LearnerResponse::new(0, true)),
        ],
    );
    assert_eq!(
        books,
        vec![
            vec![LearnerResponse::new(1, false)],
            vec![LearnerResponse::new(3, true)]
        ]
    );
}
