//! Per-learner inference (sparfa.md §5): Newton optimality, Laplace covariance,
//! numerical stability and the §3.3 latest-response rule.

mod sparfa_infer_util;

use biglearn_core::sparfa::learner::{
    learner_gradient, learner_objective, prior_precision, NEWTON_TOLERANCE,
};
use biglearn_core::sparfa::{
    infer_learner, infer_learner_latest, latest_responses, ConceptIndex, LearnerResponse,
    LearnerWorkspace, SparfaModel, TimedResponse, Timestamp,
};
use proptest::prelude::*;
use sparfa_infer_util::{model, sigmoid};

/// A random model with 1–5 concepts and 1–12 questions, each with 1–2 loadings.
fn arb_model() -> impl Strategy<Value = SparfaModel> {
    (1usize..6, 1usize..13, 0.05f64..3.0).prop_flat_map(|(nc, nq, lambda)| {
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
            proptest::collection::vec(-2.5f64..2.5, nq),
        )
            .prop_map(move |(loadings, intercepts)| model(nc, loadings, intercepts, lambda))
    })
}

fn arb_model_and_responses() -> impl Strategy<Value = (SparfaModel, Vec<LearnerResponse>)> {
    arb_model().prop_flat_map(|m| {
        let nq = m.num_questions() as u32;
        let responses = proptest::collection::vec(
            (0..nq, any::<bool>()).prop_map(|(q, c)| LearnerResponse::new(q, c)),
            0..80,
        );
        (Just(m), responses)
    })
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// The returned point is a stationary point of g, checked with an independent
    /// dense gradient and with central finite differences of g.
    #[test]
    fn newton_reaches_the_optimum((m, responses) in arb_model_and_responses()) {
        let estimate = infer_learner(&m, &responses);
        let u = estimate.knowledge().to_vec();
        prop_assert!(estimate.converged());
        prop_assert!(estimate.gradient_norm() < NEWTON_TOLERANCE);
        let gradient = learner_gradient(&m, &responses, &u);
        prop_assert!(max_abs(&gradient) < 1e-7, "gradient {gradient:?}");
        let h = 1e-5;
        for k in 0..m.num_concepts() {
            let mut plus = u.clone();
            plus[k] += h;
            let mut minus = u.clone();
            minus[k] -= h;
            let fd = (learner_objective(&m, &responses, &plus) - learner_objective(&m, &responses, &minus)) / (2.0 * h);
            prop_assert!(fd.abs() < 1e-5, "finite difference {fd} on concept {k}");
            // Strict convexity: moving away increases g.
            let g0 = learner_objective(&m, &responses, &u);
            prop_assert!(learner_objective(&m, &responses, &plus) >= g0 - 1e-12);
            prop_assert!(learner_objective(&m, &responses, &minus) >= g0 - 1e-12);
        }
    }

    /// The analytic gradient matches finite differences at arbitrary points.
    #[test]
    fn gradient_matches_finite_differences((m, responses) in arb_model_and_responses(), seed in proptest::collection::vec(-2.0f64..2.0, 5)) {
        let u: Vec<f64> = (0..m.num_concepts()).map(|k| seed[k % seed.len()]).collect();
        let gradient = learner_gradient(&m, &responses, &u);
        let h = 1e-6;
        for k in 0..m.num_concepts() {
            let mut plus = u.clone();
            plus[k] += h;
            let mut minus = u.clone();
            minus[k] -= h;
            let fd = (learner_objective(&m, &responses, &plus) - learner_objective(&m, &responses, &minus)) / (2.0 * h);
            prop_assert!((fd - gradient[k]).abs() < 1e-5 * (1.0 + gradient[k].abs()), "{fd} vs {}", gradient[k]);
        }
    }

    /// Inactive concepts stay at 0 with the prior variance; the Laplace
    /// covariance is symmetric, at most the prior, and its quadratic forms agree.
    #[test]
    fn covariance_structure((m, responses) in arb_model_and_responses(), v in proptest::collection::vec(-2.0f64..2.0, 5)) {
        let estimate = infer_learner(&m, &responses);
        let nc = m.num_concepts();
        let prior = 1.0 / prior_precision(&m.penalties);
        prop_assert!((estimate.prior_variance() - prior).abs() < 1e-15);
        let active = estimate.active_concepts();
        for k in 0..nc as ConceptIndex {
            let loaded = responses.iter().any(|r| m.loadings[r.question as usize].iter().any(|&(c, _)| c == k));
            prop_assert_eq!(active.binary_search(&k).is_ok(), loaded);
            if !loaded {
                prop_assert_eq!(estimate.knowledge()[k as usize], 0.0);
                prop_assert_eq!(estimate.covariance(k, k), prior);
            }
            prop_assert!(estimate.covariance(k, k) <= prior * (1.0 + 1e-12));
            prop_assert!(estimate.covariance(k, k) > 0.0);
            for l in 0..nc as ConceptIndex {
                prop_assert!((estimate.covariance(k, l) - estimate.covariance(l, k)).abs() < 1e-12);
            }
        }
        let dense: Vec<f64> = (0..nc).map(|k| v[k % v.len()]).collect();
        let sparse: Vec<(ConceptIndex, f64)> = dense.iter().enumerate().map(|(k, &x)| (k as ConceptIndex, x)).collect();
        let a = estimate.variance_dense(&dense);
        let b = estimate.variance_sparse(&sparse);
        let naive: f64 = (0..nc).flat_map(|k| (0..nc).map(move |l| (k, l)))
            .map(|(k, l)| dense[k] * dense[l] * estimate.covariance(k as ConceptIndex, l as ConceptIndex))
            .sum();
        prop_assert!((a - b).abs() <= 1e-10 * (1.0 + a.abs()));
        prop_assert!((a - naive).abs() <= 1e-10 * (1.0 + a.abs()));
        prop_assert!(a >= 0.0);
        let norm_sq: f64 = dense.iter().map(|x| x * x).sum();
        prop_assert!(a <= prior * norm_sq * (1.0 + 1e-9) + 1e-15);
    }

    /// A reused workspace gives exactly the same result as a fresh one.
    #[test]
    fn workspace_reuse_is_exact((m, responses) in arb_model_and_responses(), (m2, responses2) in arb_model_and_responses()) {
        let mut ws = LearnerWorkspace::new();
        let _ = ws.infer(&m2, &responses2);
        prop_assert_eq!(ws.infer(&m, &responses), infer_learner(&m, &responses));
    }
}

/// The Laplace covariance is the inverse of the Hessian, checked against a
/// finite-difference Hessian of g on a two-concept model.
#[test]
fn covariance_is_inverse_hessian() {
    let m = model(
        2,
        vec![vec![(0, 1.0), (1, 0.4)], vec![(1, 1.3)], vec![(0, 0.7)]],
        vec![0.2, -0.3, 0.5],
        0.5,
    );
    let responses = [
        LearnerResponse::new(0, true),
        LearnerResponse::new(1, false),
        LearnerResponse::new(2, true),
        LearnerResponse::new(0, false),
        LearnerResponse::new(1, true),
    ];
    let estimate = infer_learner(&m, &responses);
    let u = estimate.knowledge().to_vec();
    let h = 1e-4;
    let mut hess = [[0.0; 2]; 2];
    for (i, row) in hess.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            let mut plus = u.clone();
            plus[j] += h;
            let mut minus = u.clone();
            minus[j] -= h;
            *cell = (learner_gradient(&m, &responses, &plus)[i]
                - learner_gradient(&m, &responses, &minus)[i])
                / (2.0 * h);
        }
    }
    let det = hess[0][0] * hess[1][1] - hess[0][1] * hess[1][0];
    let inv = [
        [hess[1][1] / det, -hess[0][1] / det],
        [-hess[1][0] / det, hess[0][0] / det],
    ];
    for (i, row) in inv.iter().enumerate() {
        for (j, &expected) in row.iter().enumerate() {
            let got = estimate.covariance(i as u32, j as u32);
            assert!(
                (got - expected).abs() < 1e-6,
                "Σ[{i},{j}] = {got} vs {expected}"
            );
        }
    }
}

/// One concept, one question type: the optimum solves n(σ(u + d) − ȳ)·w + 2λu = 0 in closed form terms.
#[test]
fn single_concept_matches_scalar_root() {
    let m = model(1, vec![vec![(0, 1.0)]], vec![0.0], 0.5);
    let responses: Vec<_> = (0..7).map(|i| LearnerResponse::new(0, i < 5)).collect();
    let u = infer_learner(&m, &responses).knowledge()[0];
    // Bisection on the scalar stationarity condition.
    let f = |u: f64| 7.0 * sigmoid(u) - 5.0 + u;
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    assert!((u - lo).abs() < 1e-9, "{u} vs {lo}");
    let variance = infer_learner(&m, &responses).covariance(0, 0);
    let expected = 1.0 / (7.0 * sigmoid(u) * (1.0 - sigmoid(u)) + 1.0);
    assert!((variance - expected).abs() < 1e-12);
}

#[test]
fn no_responses_give_the_prior() {
    let m = model(3, vec![vec![(0, 1.0)], vec![(2, 1.0)]], vec![0.0, 1.0], 2.0);
    let estimate = infer_learner(&m, &[]);
    assert_eq!(estimate.knowledge(), &[0.0, 0.0, 0.0]);
    assert!(estimate.active_concepts().is_empty());
    assert_eq!(estimate.iterations(), 0);
    assert_eq!(estimate.variance_dense(&[1.0, 1.0, 1.0]), 0.75);
    assert_eq!(estimate.variance_sparse(&[(1, 2.0)]), 1.0);
}

#[test]
fn unknown_questions_are_ignored() {
    let m = model(1, vec![vec![(0, 1.0)]], vec![0.0], 1.0);
    let with_unknown = [
        LearnerResponse::new(0, true),
        LearnerResponse::new(7, false),
    ];
    let estimate = infer_learner(&m, &with_unknown);
    assert_eq!(estimate, infer_learner(&m, &with_unknown[..1]));
    assert_eq!(estimate.num_responses(), 1);
}

#[test]
fn degenerate_prior_is_floored() {
    let m = model(1, vec![vec![(0, 1.0)]], vec![0.0], 0.0);
    let estimate = infer_learner(&m, &[LearnerResponse::new(0, true); 3]);
    assert!(estimate.knowledge()[0].is_finite() && estimate.knowledge()[0] > 5.0);
    assert!(estimate.variance_dense(&[1.0]).is_finite());
    let nan = model(1, vec![vec![(0, 1.0)]], vec![0.0], f64::NAN);
    assert!(infer_learner(&nan, &[LearnerResponse::new(0, false)]).knowledge()[0].is_finite());
}

/// 10,000 responses, all correct, all wrong or mixed: finite, converged, sensible.
#[test]
fn ten_thousand_responses_stay_finite() {
    let m = model(
        3,
        vec![
            vec![(0, 2.0)],
            vec![(0, 0.5), (1, 1.5)],
            vec![(2, 1.0)],
            vec![(1, 0.3)],
        ],
        vec![4.0, -3.0, 0.0, 8.0],
        2.0,
    );
    type Pattern = (&'static str, fn(usize) -> bool);
    let patterns: [Pattern; 3] = [
        ("all correct", |_| true),
        ("all wrong", |_| false),
        ("mixed", |i| i % 3 != 0),
    ];
    for (name, correct) in patterns {
        let responses: Vec<_> = (0..10_000)
            .map(|i| LearnerResponse::new((i % 4) as u32, correct(i)))
            .collect();
        let estimate = infer_learner(&m, &responses);
        assert!(
            estimate.converged(),
            "{name}: gradient {}",
            estimate.gradient_norm()
        );
        assert!(estimate.knowledge().iter().all(|u| u.is_finite()), "{name}");
        for k in 0..3 {
            let v = estimate.covariance(k, k);
            assert!(v.is_finite() && v > 0.0, "{name}: variance {v}");
        }
        assert!(learner_objective(&m, &responses, estimate.knowledge()).is_finite());
        match name {
            "all correct" => assert!(estimate.knowledge().iter().all(|&u| u > 0.0), "{name}"),
            "all wrong" => assert!(estimate.knowledge().iter().all(|&u| u < 0.0), "{name}"),
            _ => {}
        }
    }
}

#[test]
fn latest_response_rule() {
    let m = model(1, vec![vec![(0, 1.0)], vec![(0, 1.0)]], vec![0.0, 0.0], 1.0);
    let log = [
        TimedResponse::new(0, true, Timestamp(30)),
        TimedResponse::new(0, false, Timestamp(10)),
        TimedResponse::new(1, false, Timestamp(5)),
        TimedResponse::new(1, true, Timestamp(5)), // same time: the later input wins
        TimedResponse::new(9, true, Timestamp(1)),
    ];
    let book = latest_responses(&log);
    assert_eq!(
        book,
        vec![
            LearnerResponse::new(0, true),
            LearnerResponse::new(1, true),
            LearnerResponse::new(9, true)
        ]
    );
    assert_eq!(infer_learner_latest(&m, &log), infer_learner(&m, &book));
    assert_eq!(Timestamp::from_unix_micros(42).unix_micros(), 42);
}

/// A concept listed twice in one question's loadings acts like their sum.
#[test]
fn repeated_concept_in_a_row_is_summed() {
    let split = model(
        1,
        vec![vec![(0, 0.5), (0, 0.7)], vec![(0, 1.0)]],
        vec![0.1, -0.2],
        0.5,
    );
    let merged = model(
        1,
        vec![vec![(0, 1.2)], vec![(0, 1.0)]],
        vec![0.1, -0.2],
        0.5,
    );
    let responses = [
        LearnerResponse::new(0, true),
        LearnerResponse::new(1, false),
        LearnerResponse::new(0, true),
    ];
    let a = infer_learner(&split, &responses);
    let b = infer_learner(&merged, &responses);
    assert!((a.knowledge()[0] - b.knowledge()[0]).abs() < 1e-12);
    assert!((a.covariance(0, 0) - b.covariance(0, 0)).abs() < 1e-12);
}
