//! CLUE intervals (sparfa.md §6.2): ordering, bounds, order invariance,
//! narrowing with evidence, the not-real path, asymmetry and off-hint widening.

mod sparfa_infer_util;

use biglearn_core::sparfa::normal::{inverse_normal_cdf, sigmoid};
use biglearn_core::sparfa::{
    clue_interval, clue_latent, infer_learner, Clue, ClueError, ClueLoadings, ClueOptions,
    ConceptIndex, LearnerResponse, SparfaModel,
};
use proptest::prelude::*;
use sparfa_infer_util::model;

fn arb_model() -> impl Strategy<Value = SparfaModel> {
    (1usize..5, 2usize..10, 0.1f64..3.0).prop_flat_map(|(nc, nq, lambda)| {
        let row = (
            0..nc as ConceptIndex,
            0.2f64..2.5,
            proptest::option::of((0..nc as ConceptIndex, 0.05f64..0.6)),
        )
            .prop_map(|(k, w, extra)| {
                let mut row = vec![(k, w)];
                if let Some((k2, w2)) = extra {
                    if k2 != k {
                        row.push((k2, w2));
                    }
                }
                row.sort_by_key(|&(c, _)| c);
                row
            });
        (
            proptest::collection::vec(row, nq),
            proptest::collection::vec(-4.0f64..4.0, nq),
        )
            .prop_map(move |(loadings, intercepts)| model(nc, loadings, intercepts, lambda))
    })
}

type Case = (SparfaModel, Vec<Vec<LearnerResponse>>, Vec<u32>);

/// A model, 1–5 learners with 0–30 responses each, and 1–6 target questions (some may be unknown).
fn arb_case() -> impl Strategy<Value = Case> {
    arb_model().prop_flat_map(|m| {
        let nq = m.num_questions() as u32;
        let learner = proptest::collection::vec(
            (0..nq, any::<bool>()).prop_map(|(q, c)| LearnerResponse::new(q, c)),
            0..30,
        );
        let learners = proptest::collection::vec(learner, 1..6);
        let targets = proptest::collection::vec(0..nq + 2, 1..7);
        (Just(m), learners, targets)
    })
}

fn assert_ordered(clue: &Clue) -> Result<(), TestCaseError> {
    for x in [clue.minimum, clue.most_likely, clue.maximum] {
        prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x), "{clue:?}");
    }
    prop_assert!(
        clue.minimum <= clue.most_likely && clue.most_likely <= clue.maximum,
        "{clue:?}"
    );
    Ok(())
}

fn close(a: &Clue, b: &Clue) -> bool {
    a.is_real == b.is_real
        && (a.minimum - b.minimum).abs() < 1e-12
        && (a.most_likely - b.most_likely).abs() < 1e-12
        && (a.maximum - b.maximum).abs() < 1e-12
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ordering_and_bounds((m, learners, targets) in arb_case(), confidence in 0.01f64..0.99) {
        let options = ClueOptions { confidence, ..Default::default() };
        let clue = clue_interval(&m, &learners, &targets, &options).unwrap();
        assert_ordered(&clue)?;
        if !clue.is_real {
            prop_assert_eq!(clue, Clue::NOT_REAL);
        }
    }

    /// Reversing/rotating learners, shuffling and duplicating target questions changes nothing.
    #[test]
    fn invariant_to_order((m, learners, targets) in arb_case(), rotate in 0usize..6) {
        let options = ClueOptions::default();
        let base = clue_interval(&m, &learners, &targets, &options).unwrap();
        let mut reversed = learners.clone();
        reversed.reverse();
        let r = rotate % learners.len();
        reversed.rotate_left(r);
        let mut shuffled_targets = targets.clone();
        shuffled_targets.reverse();
        shuffled_targets.rotate_left(rotate % targets.len());
        shuffled_targets.extend_from_slice(&targets);
        let other = clue_interval(&m, &reversed, &shuffled_targets, &options).unwrap();
        prop_assert!(close(&base, &other), "{base:?} vs {other:?}");
        // The order of a learner's own responses does not matter either.
        let flipped: Vec<Vec<LearnerResponse>> = learners.iter().map(|l| l.iter().rev().copied().collect()).collect();
        let third = clue_interval(&m, &flipped, &targets, &options).unwrap();
        prop_assert!(close(&base, &third), "{base:?} vs {third:?}");
    }

    /// Repeating the same response pattern k times strictly narrows the latent
    /// interval when every target question was answered both right and wrong (so
    /// the likelihood has a finite maximiser). In probability space the width can
    /// only grow if z̄ moves towards 0 (where σ is steepest); whenever |z̄| does not
    /// shrink, the probability width must shrink too.
    #[test]
    fn narrows_as_evidence_grows(m in arb_model(), extra in proptest::collection::vec((0u32..10, any::<bool>()), 0..10)) {
        let nq = m.num_questions() as u32;
        let mut pattern: Vec<LearnerResponse> = (0..nq).flat_map(|q| [LearnerResponse::new(q, true), LearnerResponse::new(q, false)]).collect();
        pattern.extend(extra.iter().filter(|(q, _)| *q < nq).map(|&(q, c)| LearnerResponse::new(q, c)));
        let targets: Vec<u32> = (0..nq).collect();
        let mut previous: Option<(f64, f64, f64)> = None;
        for k in [1usize, 2, 4, 8, 16] {
            let book: Vec<LearnerResponse> = pattern.iter().copied().cycle().take(pattern.len() * k).collect();
            let options = ClueOptions { min_responses: 1, ..Default::default() };
            let clue = clue_interval(&m, &[book.as_slice()], &targets, &options).unwrap();
            let latent = clue_latent(&m, &[book], &targets, 1).unwrap().unwrap();
            assert_ordered(&clue)?;
            let width = clue.maximum - clue.minimum;
            if let Some((prev_width, prev_se, prev_mean)) = previous {
                prop_assert!(latent.std_error < prev_se, "k = {k}: se {} ≥ {prev_se}", latent.std_error);
                if latent.mean.abs() >= prev_mean.abs() {
                    prop_assert!(width < prev_width, "k = {k}: width {width} ≥ {prev_width}");
                }
            }
            previous = Some((width, latent.std_error, latent.mean));
        }
    }
}

/// In expectation: synthetic learners' CLUEs narrow as they answer more questions.
#[test]
fn narrows_in_expectation() {
    let s = sparfa_infer_util::synthetic(1, 40, 300, 1.0, 0.5, 11);
    let targets: Vec<u32> = (0..40).collect();
    let mean_width = |n: usize| {
        let total: f64 = s
            .responses
            .iter()
            .map(|book| {
                let c = clue_interval(&s.truth, &[&book[..n]], &targets, &ClueOptions::default())
                    .unwrap();
                c.maximum - c.minimum
            })
            .sum();
        total / s.responses.len() as f64
    };
    let widths: Vec<f64> = [3, 6, 12, 24, 40].iter().map(|&n| mean_width(n)).collect();
    assert!(widths.windows(2).all(|w| w[1] < w[0]), "{widths:?}");
}

/// With zero intercepts and balanced answers z̄ stays at 0, so the probability
/// width itself strictly narrows as the pattern repeats.
#[test]
fn balanced_pattern_narrows_in_probability() {
    let m = model(
        2,
        vec![vec![(0, 1.0)], vec![(1, 0.7)], vec![(0, 0.5), (1, 1.2)]],
        vec![0.0; 3],
        2.0,
    );
    let pattern: Vec<_> = (0..3)
        .flat_map(|q| {
            [
                LearnerResponse::new(q, true),
                LearnerResponse::new(q, false),
            ]
        })
        .collect();
    let mut previous = f64::INFINITY;
    for k in 1..12 {
        let book: Vec<_> = pattern
            .iter()
            .copied()
            .cycle()
            .take(pattern.len() * k)
            .collect();
        let c = clue_interval(&m, &[book], &[0, 1, 2], &ClueOptions::default()).unwrap();
        assert!((c.most_likely - 0.5).abs() < 1e-12);
        assert!(c.maximum - c.minimum < previous);
        previous = c.maximum - c.minimum;
    }
}

fn one_concept(intercepts: Vec<f64>) -> SparfaModel {
    let n = intercepts.len();
    model(1, vec![vec![(0, 1.0)]; n], intercepts, 0.5)
}

#[test]
fn not_real_path() {
    let m = one_concept(vec![0.0; 4]);
    let opts = ClueOptions::default();
    let two = vec![
        LearnerResponse::new(0, true),
        LearnerResponse::new(1, false),
    ];
    // Two entries < N_min = 3.
    assert_eq!(
        clue_interval(&m, &[two.as_slice()], &[0, 1, 2], &opts).unwrap(),
        Clue::NOT_REAL
    );
    // Repeating a question does not add evidence.
    let repeated = vec![LearnerResponse::new(0, true); 5];
    assert_eq!(
        clue_interval(&m, &[repeated], &[0, 1], &opts).unwrap(),
        Clue::NOT_REAL
    );
    // Responses outside the targets do not count.
    let off = vec![
        LearnerResponse::new(2, true),
        LearnerResponse::new(3, true),
        LearnerResponse::new(0, true),
    ];
    assert_eq!(
        clue_interval(&m, &[off.as_slice()], &[0, 1], &opts).unwrap(),
        Clue::NOT_REAL
    );
    // No learners, no targets, only unknown targets.
    let none: [Vec<LearnerResponse>; 0] = [];
    assert_eq!(
        clue_interval(&m, &none, &[0], &opts).unwrap(),
        Clue::NOT_REAL
    );
    assert_eq!(
        clue_interval(&m, &[off.as_slice()], &[], &opts).unwrap(),
        Clue::NOT_REAL
    );
    assert_eq!(
        clue_interval(&m, &[off.as_slice()], &[17, 99], &opts).unwrap(),
        Clue::NOT_REAL
    );
    // Pooled over learners: 2 + 1 = 3 entries reaches N_min.
    let one = vec![LearnerResponse::new(2, true)];
    assert!(
        clue_interval(&m, &[two.clone(), one], &[0, 1, 2], &opts)
            .unwrap()
            .is_real
    );
    // A lower N_min makes two entries real; N_min = 0 makes any learner real.
    let low = ClueOptions {
        min_responses: 2,
        ..opts
    };
    assert!(clue_interval(&m, &[two], &[0, 1], &low).unwrap().is_real);
    let zero = ClueOptions {
        min_responses: 0,
        ..opts
    };
    assert!(
        clue_interval(&m, &[Vec::<LearnerResponse>::new()], &[0], &zero)
            .unwrap()
            .is_real
    );
    assert_eq!(
        Clue::NOT_REAL,
        Clue {
            minimum: 0.0,
            most_likely: 0.5,
            maximum: 1.0,
            is_real: false
        }
    );
}

/// The reference server test: 2 learners × the same 4 known questions is real.
#[test]
fn two_learners_four_questions_is_real() {
    let m = model(
        2,
        vec![
            vec![(0, 1.0)],
            vec![(0, 1.2)],
            vec![(1, 0.8)],
            vec![(0, 0.5), (1, 1.0)],
        ],
        vec![0.1, -0.2, 0.4, 0.0],
        2.0,
    );
    let a: Vec<_> = (0..4)
        .map(|q| LearnerResponse::new(q, q % 2 == 0))
        .collect();
    let b: Vec<_> = (0..4).map(|q| LearnerResponse::new(q, true)).collect();
    let clue = clue_interval(&m, &[a, b], &[0, 1, 2, 3], &ClueOptions::default()).unwrap();
    assert!(clue.is_real);
    assert!(clue.minimum < clue.most_likely && clue.most_likely < clue.maximum);
}

#[test]
fn confidence_is_validated() {
    let m = one_concept(vec![0.0]);
    for value in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
        let options = ClueOptions {
            confidence: value,
            ..Default::default()
        };
        // Rejected even when the result would not be real.
        let err = clue_interval(&m, &[Vec::<LearnerResponse>::new()], &[0], &options).unwrap_err();
        assert!(
            matches!(err, ClueError::InvalidConfidence { .. }),
            "{value}: {err}"
        );
        assert!(err.to_string().contains("between 0 and 1"));
    }
    assert_eq!(
        ClueOptions::default().quantile().unwrap(),
        0.6744897501960817
    );
    assert_eq!(
        ClueOptions::default(),
        ClueOptions {
            confidence: 0.5,
            min_responses: 3,
            loadings: ClueLoadings::Pooled,
        }
    );
}

/// The interval equals the §6.2 formula computed by hand from the learner estimates.
#[test]
fn matches_the_formula() {
    let m = model(
        2,
        vec![vec![(0, 1.0)], vec![(0, 0.6), (1, 0.9)], vec![(1, 1.4)]],
        vec![0.3, -0.4, 0.8],
        1.0,
    );
    let a = vec![
        LearnerResponse::new(0, true),
        LearnerResponse::new(1, false),
        LearnerResponse::new(2, true),
    ];
    let b = vec![
        LearnerResponse::new(1, true),
        LearnerResponse::new(2, false),
    ];
    let targets = [0u32, 1];
    let clue = clue_interval(
        &m,
        &[a.clone(), b.clone()],
        &targets,
        &ClueOptions {
            confidence: 0.8,
            ..Default::default()
        },
    )
    .unwrap();
    let wbar = [(0u32, (1.0 + 0.6) / 2.0), (1u32, 0.9 / 2.0)];
    let dbar = (0.3 - 0.4) / 2.0;
    let (mut z, mut s2) = (0.0, 0.0);
    for book in [&a, &b] {
        let e = infer_learner(&m, book);
        z += wbar
            .iter()
            .map(|&(k, w)| w * e.knowledge()[k as usize])
            .sum::<f64>()
            + dbar;
        s2 += e.variance_sparse(&wbar);
    }
    let (z, s) = (z / 2.0, (s2 / 4.0).sqrt());
    let c = inverse_normal_cdf(0.9);
    assert!((clue.most_likely - sigmoid(z)).abs() < 1e-14);
    assert!((clue.minimum - sigmoid(z - c * s)).abs() < 1e-14);
    assert!((clue.maximum - sigmoid(z + c * s)).abs() < 1e-14);
}

/// Far from z̄ = 0 the interval is lopsided: shorter on the side of the nearer bound.
#[test]
fn asymmetric_far_from_zero() {
    let easy = one_concept(vec![3.0; 5]);
    let book: Vec<_> = (0..5).map(|q| LearnerResponse::new(q, true)).collect();
    let clue = clue_interval(&easy, &[book], &[0, 1, 2, 3, 4], &ClueOptions::default()).unwrap();
    assert!(clue.most_likely > 0.9);
    assert!(
        clue.maximum - clue.most_likely < 0.75 * (clue.most_likely - clue.minimum),
        "{clue:?}"
    );

    let hard = one_concept(vec![-3.0; 5]);
    let book: Vec<_> = (0..5).map(|q| LearnerResponse::new(q, false)).collect();
    let clue = clue_interval(&hard, &[book], &[0, 1, 2, 3, 4], &ClueOptions::default()).unwrap();
    assert!(clue.most_likely < 0.1);
    assert!(
        clue.most_likely - clue.minimum < 0.75 * (clue.maximum - clue.most_likely),
        "{clue:?}"
    );

    // Near z̄ = 0 it is symmetric.
    let fair = one_concept(vec![0.0; 4]);
    let book: Vec<_> = (0..4)
        .map(|q| LearnerResponse::new(q, q % 2 == 0))
        .collect();
    let clue = clue_interval(&fair, &[book], &[0, 1, 2, 3], &ClueOptions::default()).unwrap();
    assert!(
        ((clue.maximum - clue.most_likely) - (clue.most_likely - clue.minimum)).abs() < 1e-12,
        "{clue:?}"
    );
}

/// Off-hint loadings pull in a concept with little evidence and widen the interval.
#[test]
fn off_hint_loadings_widen() {
    let build = |off: f64| {
        let mut loadings = vec![vec![(0, 1.0)]; 6];
        for row in loadings.iter_mut().take(3) {
            if off > 0.0 {
                row.push((1, off));
            }
        }
        loadings.push(vec![(1, 1.0)]);
        model(2, loadings, vec![0.0; 7], 0.5)
    };
    // Answers balanced around the intercepts so z̄ stays near 0.
    let book: Vec<_> = (0..6)
        .map(|q| LearnerResponse::new(q, q % 2 == 0))
        .collect();
    let targets = [0u32, 1, 2, 3, 4, 5];
    let mut previous: Option<(f64, f64)> = None;
    for off in [0.0, 0.1, 0.3, 0.5] {
        let m = build(off);
        let se = clue_latent(&m, &[book.as_slice()], &targets, 3)
            .unwrap()
            .unwrap()
            .std_error;
        let clue =
            clue_interval(&m, &[book.as_slice()], &targets, &ClueOptions::default()).unwrap();
        let width = clue.maximum - clue.minimum;
        if let Some((prev_se, prev_width)) = previous {
            assert!(se > prev_se, "off {off}: se {se} ≤ {prev_se}");
            assert!(
                width > prev_width,
                "off {off}: width {width} ≤ {prev_width}"
            );
        }
        previous = Some((se, width));
    }
}

/// Teacher CLUEs: more learners with the same pattern narrow the interval.
#[test]
fn more_learners_narrow() {
    let m = one_concept(vec![0.5, -0.5, 0.0]);
    let book: Vec<_> = (0..3).map(|q| LearnerResponse::new(q, q != 1)).collect();
    let width = |n: usize| {
        let learners = vec![book.clone(); n];
        let c = clue_interval(&m, &learners, &[0, 1, 2], &ClueOptions::default()).unwrap();
        c.maximum - c.minimum
    };
    assert!(width(4) < width(2) && width(2) < width(1));
}

#[test]
fn higher_confidence_is_wider() {
    let m = one_concept(vec![0.5, -0.5, 0.0]);
    let book: Vec<_> = (0..3).map(|q| LearnerResponse::new(q, q != 1)).collect();
    let mut previous = 0.0;
    for confidence in [0.1, 0.5, 0.9, 0.99] {
        let c = clue_interval(
            &m,
            &[book.as_slice()],
            &[0, 1, 2],
            &ClueOptions {
                confidence,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(c.maximum - c.minimum > previous);
        previous = c.maximum - c.minimum;
    }
}

/// A corrupt model (non-finite intercept) gives an error, never a disordered interval.
#[test]
fn non_finite_model_is_an_error() {
    let m = one_concept(vec![f64::NAN, 0.0, 0.0]);
    let book: Vec<_> = (0..3).map(|q| LearnerResponse::new(q, true)).collect();
    let err = clue_interval(&m, &[book], &[0, 1, 2], &ClueOptions::default()).unwrap_err();
    assert!(matches!(err, ClueError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("not finite"));
}

/// The default reads the pooled loadings when the model has them; `Fitted` reads W, and
/// a model without pooled loadings gives the same CLUE either way.
#[test]
fn pooled_loadings_are_read_by_default_and_fitted_on_request() {
    let mut m = one_concept(vec![0.5, -0.5, 0.0]);
    let gradebook = vec![
        LearnerResponse::new(0, true),
        LearnerResponse::new(1, true),
        LearnerResponse::new(2, false),
    ];
    let targets = [0, 1, 2];
    let at = |m: &SparfaModel, loadings| {
        let options = ClueOptions {
            loadings,
            ..ClueOptions::default()
        };
        clue_interval(m, &[gradebook.as_slice()], &targets, &options).unwrap()
    };
    let plain = at(&m, ClueLoadings::Fitted);
    assert_eq!(at(&m, ClueLoadings::Pooled), plain);
    m.pooled_loadings = vec![vec![(0, 2.0)]; 3];
    assert_eq!(at(&m, ClueLoadings::Fitted), plain);
    let pooled = at(&m, ClueLoadings::Pooled);
    assert_ne!(pooled, plain);
    m.loadings = m.pooled_loadings.clone();
    assert_eq!(at(&m, ClueLoadings::Fitted), pooled);
}
