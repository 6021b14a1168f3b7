//! Exploratory low-rank models with any number of factors: `K` factors every question
//! may load on, no hints (like a `K`-factor MIRT model with non-negative loadings).
//!
//! [`ModelKind::Exploratory`] is the two-factor member the validated default choice
//! scores ([`super::select`]); this module fits the same model with `K ≥ 1` factors for
//! callers that ask for `K` concepts without naming them (the Python package's
//! `SPARFA(concepts=K)` without hints). With `K = 2` every function here gives exactly
//! what the two-factor path gives (the tests hold that), so one model has one meaning.
//!
//! The objective cannot tell factors apart at a symmetric point: from §4.5's `W = H`
//! all `K` factors would stay identical. So a fit starts from a 2PL fit whose loading
//! `w_q` is split over the factors ([`split_start`]) along the main directions of the
//! 2PL residuals; the start predicts exactly what 2PL does, and the factors begin
//! where the data say one ability is not enough.

use super::baselines::{
    options_with, Lambda, ModelKind, TrainOptions, TrainOutput, Validation, AUTO_GRID,
};
use super::data::{Cell, CellMatrix, Hints, ResponseSet};
use super::error::{Result, SparfaError};
use super::eval::split_cells;
use super::fit::math::sigmoid;
use super::fit::{fit_until, Finish, FitOptions, FitOutput, FitStart, IterationReport};
use super::select::{record, validation_options, walk_grid};
use super::weights::size_factor;

/// Index of the default multiplier (2) in [`AUTO_GRID`], where the λ walk starts (as in
/// [`super::select`]).
const DEFAULT_INDEX: usize = 2;

/// Mixed into the seed of the validation split; the value of [`super::select`], so the
/// automatic mode scores on the same validation cells as the two-factor path.
const VALIDATION_SEED_MIX: u64 = 0x5eed_0f1a;

/// `(loadings, intercepts, knowledge)` of a start built by [`split_start`].
pub type SplitStart = (Vec<Vec<(u32, f64)>>, Vec<f64>, Vec<f64>);

/// Checks that `factors` is usable for `questions` questions: at least one, and no more
/// factors than questions (beyond that the extra factors have nothing to explain and
/// the loadings are not identified).
pub fn check_factors(factors: usize, questions: usize) -> Result<()> {
    if factors == 0 || factors > questions {
        return Err(SparfaError::InvalidOption {
            name: "factors",
            message: format!(
                "{factors} factors for {questions} questions: need at least 1 and at most \
                 the number of questions"
            ),
        });
    }
    Ok(())
}

/// The hint mask of a `factors`-factor exploratory model: concepts `factor1…factorK`,
/// every question hinted on all of them (the two-factor mask of
/// [`ModelKind::Exploratory`] for `factors = 2`).
pub fn factor_hints(questions: usize, factors: usize) -> Result<Hints> {
    check_factors(factors, questions)?;
    let ids = (1..=factors).map(|f| format!("factor{f}")).collect();
    let all: Vec<u32> = (0..factors as u32).collect();
    Hints::new(ids, vec![all; questions])
}

/// Fits a `factors`-factor exploratory model on `cells` with `options` (weights already
/// set). Without `start` it first fits 2PL with the same options and starts from its
/// [`split_start`]; one factor is 2PL itself and needs no split.
pub fn fit_exploratory(
    cells: &CellMatrix,
    question_ids: &[String],
    factors: usize,
    options: &FitOptions,
    start: Option<&FitStart>,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<FitOutput> {
    let fits = (factors, options, start);
    fit_exploratory_until(cells, question_ids, fits, progress, Finish::Exact)
}

/// [`fit_exploratory`] with `(factors, options, start)`, every fit ending as `finish`
/// says.
fn fit_exploratory_until(
    cells: &CellMatrix,
    question_ids: &[String],
    (factors, options, start): (usize, &FitOptions, Option<&FitStart>),
    progress: &mut dyn FnMut(&IterationReport),
    finish: Finish,
) -> Result<FitOutput> {
    let hints = factor_hints(cells.num_questions, factors)?;
    let mut run = |hints: &Hints, start: Option<&FitStart>| {
        fit_until(
            cells,
            hints,
            question_ids,
            options,
            (start, finish),
            progress,
        )
    };
    if start.is_some() || factors == 1 {
        return run(&hints, start);
    }
    let base = run(&ModelKind::TwoPl.hints(&hints), None)?;
    let (w, d, u) = split_start(&base, cells, factors);
    let start = FitStart {
        loadings: &w,
        intercepts: &d,
        knowledge: &u,
    };
    run(&hints, Some(&start))
}

/// Fits a `factors`-factor exploratory model on the `train` cells of `set`, choosing λ
/// as `options.lambda` says (`options.kind` is ignored): a fixed value, the scaled one
/// (times [`size_factor`] of the `K`-factor mask), or [`Lambda::Auto`], which walks
/// [`AUTO_GRID`] on a validation split exactly as the validated choice walks one
/// candidate (from the default multiplier outwards, warm-started, stopping in a
/// direction once the validation loss gets worse) and refits the best λ on all
/// training cells. [`TrainOutput::kind`] is [`ModelKind::Exploratory`].
pub fn train_exploratory(
    set: &ResponseSet,
    train: &[Cell],
    factors: usize,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<TrainOutput> {
    let (nl, nq) = (set.num_learners(), set.num_questions());
    let hints = factor_hints(nq, factors)?;
    let all = CellMatrix::new(nl, nq, train)?;
    let kind = ModelKind::Exploratory;
    let (lambda, start, validation) = match options.lambda {
        Lambda::Fixed(l) => (l, None, Vec::new()),
        Lambda::Scaled(l) => (l * size_factor(&all, &hints), None, Vec::new()),
        Lambda::Auto => {
            let (lambda, start, validation) =
                choose_lambda(set, train, factors, &hints, options, progress)?;
            (lambda, Some(start), validation)
        }
    };
    let o = options_with(&options.fit, kind, lambda)?;
    let start = start.as_ref().map(FitStart::from_output);
    let fit = fit_exploratory(
        &all,
        set.question_ids(),
        factors,
        &o,
        start.as_ref(),
        progress,
    )?;
    Ok(TrainOutput {
        fit,
        kind,
        lambda,
        validation,
    })
}

/// The λ of [`Lambda::Auto`] for a `factors`-factor model: `(λ, the fit at λ on the
/// validation split's training cells, every validation score)`.
fn choose_lambda(
    set: &ResponseSet,
    train: &[Cell],
    factors: usize,
    hints: &Hints,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<(f64, FitOutput, Vec<Validation>)> {
    let (nl, nq) = (set.num_learners(), set.num_questions());
    let split = split_cells(
        set,
        train,
        options.validation_fraction,
        options.seed ^ VALIDATION_SEED_MIX,
    )?;
    let inner = CellMatrix::new(nl, nq, &split.train)?;
    let factor = size_factor(&inner, hints);
    let mut validation = Vec::new();
    let mut score = |i: usize, start: Option<&FitOutput>| -> Result<(f64, FitOutput)> {
        let lambda = AUTO_GRID[i] * factor;
        let warm = start.is_some();
        let o = options_with(
            &validation_options(&options.fit, warm),
            ModelKind::Exploratory,
            lambda,
        )?;
        let start = start.map(FitStart::from_output);
        let f = fit_exploratory_until(
            &inner,
            set.question_ids(),
            (factors, &o, start.as_ref()),
            progress,
            Finish::Validation,
        )?;
        let key = (ModelKind::Exploratory, lambda);
        let loss = record(&mut validation, key, &f, &split.heldout);
        Ok((loss, f))
    };
    let (first_loss, first) = score(DEFAULT_INDEX, None)?;
    let path = walk_grid((DEFAULT_INDEX, first_loss, first), false, &mut score)?;
    let mut best: Option<(f64, usize, FitOutput)> = None;
    for (i, loss, f) in path {
        if best.as_ref().map_or(true, |b| loss < b.0) {
            best = Some((loss, i, f));
        }
    }
    let (_, i, start) = best.ok_or_else(|| SparfaError::InvalidOption {
        name: "lambda",
        message: "no λ was scored".into(),
    })?;
    Ok((AUTO_GRID[i] * factor, start, validation))
}

/// The `factors`-factor start from a one-factor (2PL) fit: question `q`'s loading `w_q`
/// becomes `w_q (a_q1, …, a_qK)` with shares `a_qk > 0` summing to 1, and each learner's
/// ability is copied to every factor, so the start predicts exactly what the 2PL fit
/// does.
///
/// The shares follow the leading `K − 1` eigenvectors of the question × question
/// correlation of the 2PL residuals: question `q` has coordinates `e_q` in them, the
/// factors are the `K` corners of a regular simplex centred at 0 in that space, and
/// `a_qk = 1/K + (0.8/K) ⟨corner_k, e_q⟩ / max_q |e_q|` (the last share is 1 minus the
/// others). Questions whose residuals move together start leaning towards the same
/// factor, which breaks the symmetry between the factors in the directions the data
/// ask for; every share stays at least `0.2/K`. For two factors this is the split of the
/// two-factor exploratory model (`0.5 ± 0.4 v_q / max|v|`). Without residual structure
/// question `q` leans (share `0.6/K + 0.4`) towards factor `q mod K`.
pub fn split_start(base: &FitOutput, cells: &CellMatrix, factors: usize) -> SplitStart {
    let nq = cells.num_questions;
    let model = &base.model;
    let ability = |l: usize| base.knowledge.get(l).copied().unwrap_or(0.0);
    let loading = |q: usize| model.loadings[q].first().map_or(0.0, |&(_, w)| w);
    let k = factors.max(1);
    let correlation = residual_correlation(base, cells);
    let directions = leading_eigenvectors(&correlation, nq, k - 1);
    let corners = simplex_corners(k);
    let norm = |q: usize| directions.iter().map(|v| v[q] * v[q]).sum::<f64>().sqrt();
    let scale = (0..nq).map(norm).fold(0.0f64, f64::max);
    let kf = k as f64;
    let shares = |q: usize| -> Vec<f64> {
        let mut a: Vec<f64> = (0..k)
            .map(|f| {
                if scale > 0.0 {
                    let dot: f64 = corners[f]
                        .iter()
                        .zip(&directions)
                        .map(|(c, v)| c * v[q])
                        .sum();
                    1.0 / kf + 0.8 / kf * dot / scale
                } else if f == q % k {
                    0.6 / kf + 0.4
                } else {
                    0.6 / kf
                }
            })
            .collect();
        let others: f64 = a[..k - 1].iter().sum();
        a[k - 1] = 1.0 - others;
        a
    };
    let loadings = (0..nq)
        .map(|q| {
            let w = loading(q);
            shares(q)
                .into_iter()
                .enumerate()
                .map(|(f, a)| (f as u32, w * a))
                .collect()
        })
        .collect();
    let knowledge = (0..cells.num_learners)
        .flat_map(|l| std::iter::repeat(ability(l)).take(k))
        .collect();
    (loadings, model.intercepts.clone(), knowledge)
}

/// The question × question correlation of a one-factor fit's residuals over the
/// learners two questions share (0 on the diagonal and where fewer than two learners
/// answered both).
pub(crate) fn residual_correlation(base: &FitOutput, cells: &CellMatrix) -> Vec<f64> {
    let nq = cells.num_questions;
    let model = &base.model;
    let ability = |l: usize| base.knowledge.get(l).copied().unwrap_or(0.0);
    let loading = |q: usize| model.loadings[q].first().map_or(0.0, |&(_, w)| w);
    // Residual cross-products and counts, question-major.
    let mut cross = vec![0.0; nq * nq];
    let mut count = vec![0u32; nq * nq];
    let mut residuals: Vec<(usize, f64)> = Vec::new();
    for l in 0..cells.num_learners {
        let (questions, correct) = cells.by_learner.row(l);
        residuals.clear();
        for (&q, &y) in questions.iter().zip(correct) {
            let q = q as usize;
            let p = sigmoid(model.intercepts[q] + loading(q) * ability(l));
            residuals.push((q, f64::from(u8::from(y)) - p));
        }
        // One triangle (the learner's questions come sorted, so a ≤ b), mirrored below:
        // `ra · rb` and `rb · ra` are the same number.
        for (i, &(a, ra)) in residuals.iter().enumerate() {
            for &(b, rb) in &residuals[i..] {
                cross[a * nq + b] += ra * rb;
                count[a * nq + b] += 1;
            }
        }
    }
    for a in 0..nq {
        for b in 0..a {
            cross[a * nq + b] = cross[b * nq + a];
            count[a * nq + b] = count[b * nq + a];
        }
    }
    let mut correlation = vec![0.0; nq * nq];
    for a in 0..nq {
        for b in 0..nq {
            let (va, vb) = (cross[a * nq + a], cross[b * nq + b]);
            if a != b && count[a * nq + b] >= 2 && va > 0.0 && vb > 0.0 {
                // Residual covariance over shared learners, scaled by the variances.
                let n = f64::from(count[a * nq + b]);
                let (na, nb) = (f64::from(count[a * nq + a]), f64::from(count[b * nq + b]));
                correlation[a * nq + b] = cross[a * nq + b] / n / ((va / na) * (vb / nb)).sqrt();
            }
        }
    }
    correlation
}

/// Coordinates of the `k` corners of a regular simplex centred at 0 in `k − 1`
/// dimensions, each of unit length: the rows of the orthonormal (Helmert) basis of the
/// vectors summing to 0, normalised. For `k = 2` the corners are exactly `+1` and `−1`.
fn simplex_corners(k: usize) -> Vec<Vec<f64>> {
    let mut rows = vec![vec![0.0; k.saturating_sub(1)]; k];
    for j in 1..k {
        let jf = j as f64;
        let norm = (jf * (jf + 1.0)).sqrt();
        for (f, row) in rows.iter_mut().enumerate() {
            row[j - 1] = match f.cmp(&j) {
                std::cmp::Ordering::Less => 1.0 / norm,
                std::cmp::Ordering::Equal => -jf / norm,
                std::cmp::Ordering::Greater => 0.0,
            };
        }
    }
    for row in &mut rows {
        let length = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if length > 0.0 {
            row.iter_mut().for_each(|v| *v /= length);
        }
    }
    rows
}

/// The eigenvectors of the `count` largest eigenvalues of the symmetric `n × n` matrix
/// `m`, by power iteration on `m + ρ I` (ρ = the largest absolute row sum, which makes
/// every eigenvalue non-negative so the largest ones dominate), each kept orthogonal to
/// the ones before it. All zeros when `m` is 0. The first vector is computed exactly as
/// the two-factor split computes its one direction.
fn leading_eigenvectors(m: &[f64], n: usize, count: usize) -> Vec<Vec<f64>> {
    let shift = (0..n)
        .map(|a| m[a * n..(a + 1) * n].iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let mut found: Vec<Vec<f64>> = Vec::with_capacity(count);
    for _ in 0..count {
        if shift == 0.0 {
            found.push(vec![0.0; n]);
            continue;
        }
        // A start that is not orthogonal to any structured eigenvector.
        let mut v: Vec<f64> = (0..n)
            .map(|a| 1.0 + (a as f64 * 0.618_034).fract())
            .collect();
        let mut next = vec![0.0; n];
        let mut lost = false;
        for _ in 0..200 {
            for a in 0..n {
                next[a] = shift * v[a]
                    + m[a * n..(a + 1) * n]
                        .iter()
                        .zip(&v)
                        .map(|(x, y)| x * y)
                        .sum::<f64>();
            }
            for earlier in &found {
                let along: f64 = next.iter().zip(earlier).map(|(x, e)| x * e).sum();
                next.iter_mut()
                    .zip(earlier)
                    .for_each(|(x, e)| *x -= along * e);
            }
            let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                lost = true;
                break;
            }
            let mut change = 0.0f64;
            for (a, x) in next.iter().enumerate() {
                change = change.max((x / norm - v[a]).abs());
                v[a] = x / norm;
            }
            if change < 1e-9 {
                break;
            }
        }
        found.push(if lost { vec![0.0; n] } else { v });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparfa::baselines::train;
    use crate::sparfa::synth::{generate, SynthConfig};

    fn data(learners: usize, questions: usize, concepts: usize) -> crate::sparfa::synth::SynthData {
        let config = SynthConfig {
            learners,
            questions,
            concepts,
            density: 0.6,
            seed: 3,
        };
        generate(&config).expect("valid config")
    }

    #[test]
    fn simplex_corners_are_unit_centred_and_equidistant() {
        assert_eq!(simplex_corners(2), vec![vec![1.0], vec![-1.0]]);
        for k in 2..6 {
            let c = simplex_corners(k);
            for d in 0..k - 1 {
                let sum: f64 = c.iter().map(|row| row[d]).sum();
                assert!(sum.abs() < 1e-12, "k={k}");
            }
            for a in 0..k {
                let length: f64 = c[a].iter().map(|v| v * v).sum();
                assert!((length - 1.0).abs() < 1e-12);
                for b in 0..a {
                    let dot: f64 = c[a].iter().zip(&c[b]).map(|(x, y)| x * y).sum();
                    assert!((dot + 1.0 / (k as f64 - 1.0)).abs() < 1e-12, "k={k}");
                }
            }
        }
    }

    #[test]
    fn eigenvectors_are_orthonormal_and_ordered() {
        // diag(3, 1, 2) rotated trivially: eigenvectors are the axes in order 0, 2, 1.
        let m = [3.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0];
        let v = leading_eigenvectors(&m, 3, 2);
        assert!(v[0][0].abs() > 0.999_999, "{v:?}");
        assert!(v[1][2].abs() > 0.999_999, "{v:?}");
        assert_eq!(leading_eigenvectors(&[0.0; 4], 2, 1), vec![vec![0.0, 0.0]]);
    }

    #[test]
    fn factor_counts_out_of_range_are_rejected() {
        for (factors, questions) in [(0, 5), (6, 5)] {
            let err = factor_hints(questions, factors).unwrap_err();
            assert!(
                matches!(
                    err,
                    SparfaError::InvalidOption {
                        name: "factors",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("at most the number of questions"));
        }
        let hints = factor_hints(4, 3).expect("3 factors for 4 questions");
        assert_eq!(hints.concept_ids(), ["factor1", "factor2", "factor3"]);
        assert!(hints.by_question().iter().all(|h| h == &[0, 1, 2]));
    }

    #[test]
    fn split_start_keeps_predictions_and_gives_distinct_shares() {
        let d = data(200, 20, 3);
        let set = &d.responses;
        let cells =
            CellMatrix::new(set.num_learners(), set.num_questions(), set.cells()).expect("cells");
        let base_hints = Hints::single_concept(20, "ability");
        let base = crate::sparfa::fit::fit(
            &cells,
            &base_hints,
            set.question_ids(),
            &FitOptions::default(),
        )
        .expect("2PL fit");
        for k in 1..=4 {
            let (w, _, u) = split_start(&base, &cells, k);
            assert_eq!(u.len(), set.num_learners() * k);
            for (q, row) in w.iter().enumerate() {
                assert_eq!(row.len(), k);
                let total: f64 = row.iter().map(|e| e.1).sum();
                let original = base.model.loadings[q].first().map_or(0.0, |e| e.1);
                assert!((total - original).abs() < 1e-12 * original.max(1.0));
                assert!(row.iter().all(|e| e.1 >= 0.2 / k as f64 * original - 1e-12));
            }
            if k == 2 {
                let two = crate::sparfa::select::split_factors(&base, &cells);
                assert_eq!(split_start(&base, &cells, 2), two);
            }
            // Every pair of factors differs somewhere, or they would stay identical.
            for a in 0..k {
                for b in 0..a {
                    assert!(
                        w.iter().any(|row| (row[a].1 - row[b].1).abs() > 1e-3),
                        "k={k}"
                    );
                }
            }
        }
    }

    /// Two factors here are the two-factor exploratory model of the validated choice,
    /// bit for bit, at a scaled λ and with λ chosen on a validation split.
    #[test]
    fn two_factors_equal_the_exploratory_model() {
        let d = data(150, 12, 2);
        let set = &d.responses;
        for lambda in [Lambda::Scaled(2.0), Lambda::Auto] {
            let options = TrainOptions {
                kind: ModelKind::Exploratory,
                lambda,
                seed: 4,
                ..TrainOptions::default()
            };
            let two = train(set, set.cells(), &d.hints, &options, &mut |_| {}).expect("train");
            let k = train_exploratory(set, set.cells(), 2, &options, &mut |_| {}).expect("k=2");
            assert_eq!(k.kind, two.kind);
            assert_eq!(k.lambda, two.lambda);
            assert_eq!(k.fit.model, two.fit.model);
            assert_eq!(k.fit.knowledge, two.fit.knowledge);
            assert_eq!(k.validation, two.validation);
        }
    }

    #[test]
    fn three_factors_fit_three_distinct_factors() {
        let d = data(300, 24, 3);
        let set = &d.responses;
        let options = TrainOptions {
            lambda: Lambda::Scaled(2.0),
            ..TrainOptions::default()
        };
        let out = train_exploratory(set, set.cells(), 3, &options, &mut |_| {}).expect("fit");
        assert!(out.fit.converged);
        assert_eq!(out.fit.model.concept_ids, ["factor1", "factor2", "factor3"]);
        assert_eq!(out.fit.knowledge.len(), set.num_learners() * 3);
        let w = |q: usize, k: u32| {
            out.fit.model.loadings[q]
                .iter()
                .find(|e| e.0 == k)
                .map_or(0.0, |e| e.1)
        };
        for a in 0..3u32 {
            for b in 0..a {
                assert!(
                    (0..24).any(|q| (w(q, a) - w(q, b)).abs() > 0.05),
                    "factors {a} and {b} collapsed: {:?}",
                    out.fit.model.loadings
                );
            }
        }
        let err = train_exploratory(set, set.cells(), 25, &options, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("25 factors for 24 questions"),
            "{err}"
        );
    }
}
