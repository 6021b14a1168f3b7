//! Fitting: KKT conditions at the result, determinism, order invariance, baselines.

#![allow(clippy::unwrap_used)] // tests panic on unexpected errors by design

use biglearn_core::sparfa::baselines::{train, Lambda, ModelKind, TrainOptions, AUTO_GRID};
use biglearn_core::sparfa::data::{CellMatrix, Hints, ResponseSet};
use biglearn_core::sparfa::eval::{evaluate, split_cells};
use biglearn_core::sparfa::fit::{fit, FitOptions};
use biglearn_core::sparfa::kkt::{kkt_violation, objective};
use biglearn_core::sparfa::synth::{generate, SynthConfig, SynthData};
use biglearn_core::sparfa::weights::{penalties_for, size_factor};

fn small(seed: u64) -> SynthData {
    generate(&SynthConfig {
        learners: 120,
        questions: 30,
        concepts: 4,
        density: 0.6,
        seed,
    })
    .unwrap()
}

fn matrix(data: &SynthData) -> CellMatrix {
    let r = &data.responses;
    CellMatrix::new(r.num_learners(), r.num_questions(), r.cells()).unwrap()
}

#[test]
fn fit_ends_at_a_kkt_point() {
    let data = small(1);
    let cells = matrix(&data);
    let options = FitOptions {
        gradient_tolerance: 1e-7,
        relative_tolerance: 0.0,
        ..FitOptions::default()
    };
    let out = fit(&cells, &data.hints, data.responses.question_ids(), &options).unwrap();
    assert!(
        out.converged,
        "did not converge in {} iterations",
        out.iterations
    );
    let kkt = kkt_violation(&out.model, &out.knowledge, &cells, false);
    assert!(kkt.max() < 1e-5, "{kkt:?}");
    let j = objective(&out.model, &out.knowledge, &cells);
    assert!((j - out.objective).abs() <= 1e-9 * j.abs());
    // The fit must improve on the start W = H, U = 0, d = 0.
    assert!(j < cells.len() as f64 * std::f64::consts::LN_2);
    assert!(out.model.loadings.iter().flatten().all(|&(_, w)| w > 0.0));
}

#[test]
fn kkt_report_detects_a_non_optimal_point() {
    let data = small(2);
    let cells = matrix(&data);
    let out = fit(
        &cells,
        &data.hints,
        data.responses.question_ids(),
        &FitOptions::default(),
    )
    .unwrap();
    let mut moved = out.model.clone();
    moved.intercepts[0] += 0.5;
    let kkt = kkt_violation(&moved, &out.knowledge, &cells, false);
    assert!(kkt.intercepts > 1.0, "{kkt:?}");
    let j_moved = objective(&moved, &out.knowledge, &cells);
    assert!(j_moved > out.objective);
}

#[test]
fn rasch_keeps_loadings_fixed_and_rate_has_no_concepts() {
    let data = small(3);
    let set = &data.responses;
    let split = split_cells(set, set.cells(), 0.2, 0).unwrap();
    let train_cells =
        CellMatrix::new(set.num_learners(), set.num_questions(), &split.train).unwrap();
    let mut losses = Vec::new();
    for kind in [
        ModelKind::Rate,
        ModelKind::Rasch,
        ModelKind::TwoPl,
        ModelKind::Sparfa,
    ] {
        let options = TrainOptions {
            kind,
            lambda: Lambda::Scaled(2.0),
            ..TrainOptions::default()
        };
        let out = train(set, &split.train, &data.hints, &options, &mut |_| {}).unwrap();
        let model = &out.fit.model;
        match kind {
            ModelKind::Rate => assert_eq!(model.num_concepts(), 0),
            ModelKind::Rasch => assert!(model.loadings.iter().all(|l| l == &vec![(0, 1.0)])),
            ModelKind::TwoPl => assert_eq!(model.num_concepts(), 1),
            ModelKind::Sparfa => assert_eq!(model.num_concepts(), 4),
            ModelKind::Exploratory => unreachable!("not fitted here"),
        }
        let kkt = kkt_violation(
            model,
            &out.fit.knowledge,
            &train_cells,
            kind.fixed_loadings(),
        );
        assert!(kkt.max() < 1e-5, "{kind:?}: {kkt:?}");
        losses.push(evaluate(model, &train_cells, &split.heldout).log_loss);
    }
    // With 4 real concepts, SPARFA must predict better than the rate model.
    assert!(losses[3] < losses[0], "{losses:?}");
}

#[test]
fn automatic_choice_walks_the_grid() {
    let data = small(4);
    let set = &data.responses;
    let out = train(
        set,
        set.cells(),
        &data.hints,
        &TrainOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    // Every candidate is scored at least once, first at the default multiplier 2.
    let cells = CellMatrix::new(set.num_learners(), set.num_questions(), set.cells()).unwrap();
    for kind in [
        ModelKind::Sparfa,
        ModelKind::TwoPl,
        ModelKind::Rasch,
        ModelKind::Exploratory,
    ] {
        let scored: Vec<_> = out.validation.iter().filter(|v| v.kind == kind).collect();
        assert!(
            !scored.is_empty(),
            "{kind:?} not scored: {:?}",
            out.validation
        );
        assert!(scored.len() <= AUTO_GRID.len());
        let scale = match kind {
            ModelKind::Rasch => 1.0,
            _ => size_factor(&cells, &kind.hints(&data.hints)),
        };
        for v in &scored {
            // The factor is computed on the validation part's training cells: close to,
            // not exactly, the factor of all cells.
            let on_grid = AUTO_GRID
                .iter()
                .any(|g| (v.lambda / (g * scale) - 1.0).abs() < 0.1);
            assert!(on_grid, "{v:?}");
            assert!(v.log_loss.is_finite() && v.log_loss > 0.0);
        }
    }
    let best = out
        .validation
        .iter()
        .min_by(|a, b| a.log_loss.total_cmp(&b.log_loss))
        .unwrap();
    assert_eq!((out.kind, out.lambda), (best.kind, best.lambda));
    let expected = penalties_for(out.lambda);
    assert_eq!(out.fit.model.penalties.hinted, expected.hinted);
    assert_eq!(out.fit.model.penalties.learner, expected.learner);
    assert_eq!(out.fit.model.penalties.unhinted, expected.unhinted);
    // A kind other than SPARFA only has its λ chosen.
    let rasch = TrainOptions {
        kind: ModelKind::Rasch,
        ..TrainOptions::default()
    };
    let out = train(set, set.cells(), &data.hints, &rasch, &mut |_| {}).unwrap();
    assert_eq!(out.kind, ModelKind::Rasch);
    assert!(out.validation.iter().all(|v| v.kind == ModelKind::Rasch));
}

#[test]
fn scaled_lambda_follows_the_data_size() {
    let data = small(4);
    let set = &data.responses;
    let cells = CellMatrix::new(set.num_learners(), set.num_questions(), set.cells()).unwrap();
    let scaled = TrainOptions {
        lambda: Lambda::Scaled(2.0),
        ..TrainOptions::default()
    };
    let out = train(set, set.cells(), &data.hints, &scaled, &mut |_| {}).unwrap();
    assert_eq!(out.kind, ModelKind::Sparfa);
    assert!(out.validation.is_empty());
    assert_eq!(out.lambda, 2.0 * size_factor(&cells, &data.hints));
    assert_eq!(out.fit.model.penalties, penalties_for(out.lambda));
    // Rasch has no free scale: its λ is not scaled.
    let rasch = TrainOptions {
        kind: ModelKind::Rasch,
        lambda: Lambda::Scaled(3.0),
        ..TrainOptions::default()
    };
    let out = train(set, set.cells(), &data.hints, &rasch, &mut |_| {}).unwrap();
    assert_eq!(out.lambda, 3.0);
}

#[test]
fn empty_data_returns_the_hints() {
    let set = ResponseSet::from_records(Vec::<(&str, &str, bool)>::new());
    let cells = CellMatrix::new(0, 2, &[]).unwrap();
    let hints = Hints::new(vec!["c".into()], vec![vec![0], vec![0]]).unwrap();
    let out = fit(
        &cells,
        &hints,
        &["a".to_string(), "b".to_string()],
        &FitOptions::default(),
    )
    .unwrap();
    assert_eq!(out.model.loadings, vec![vec![(0, 1.0)], vec![(0, 1.0)]]);
    assert_eq!(out.model.intercepts, vec![0.0, 0.0]);
    assert_eq!(set.cells().len(), 0);
}
