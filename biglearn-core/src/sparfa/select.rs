//! The validated model choice of [`super::baselines::Lambda::Auto`] (the default), made
//! cheap by sharing work between candidates.
//!
//! The candidates are members of the one objective's family: Rasch, 2PL, SPARFA with
//! the user's hints (when they name more than one concept) and an exploratory
//! two-factor model without hints ([`ModelKind::Exploratory`], like a 2-factor MIRT).
//! Each is scored by its log-loss on validation cells held out of the training cells.
//! Rather than fitting every candidate at every λ of [`AUTO_GRID`] from scratch:
//!
//! - validation fits stop at a looser KKT tolerance ([`VALIDATION_TOLERANCE`]) and
//!   after at most [`VALIDATION_ITERATIONS`] outer iterations: the validation
//!   log-loss settles long before the fit does (within 0.001 after 3 iterations on
//!   every measured set), so a candidate is scored and, when losing, dropped early;
//! - each candidate walks the λ path from the default multiplier (2) outwards, each
//!   fit warm-started from its neighbour, and stops walking in a direction as soon as
//!   the validation loss gets worse (the curve is unimodal in λ on every set measured),
//!   and does not walk towards smaller λ at all when the first step towards larger λ
//!   already improved (on a unimodal curve the minimum is then above the start);
//! - every candidate is first scored at the default λ; those whose validation loss
//!   there is clearly behind the best ([`HOPELESS_MARGIN`]) do not walk at all (on
//!   the ability set the hinted SPARFA, 0.023 behind 2PL, now stops after one fit);
//! - the exploratory model starts at the 2PL fit of the default λ, split into two
//!   factors along the main direction of the 2PL residuals, so it begins at 2PL's
//!   predictions;
//! - the final fit on all training cells is warm-started from the winner's
//!   validation fit;
//! - a simpler member within [`SIMPLER_MARGIN`] of the best validation loss is
//!   chosen over it (Rasch, 2PL, hinted SPARFA, exploratory, in that order): such a
//!   difference is below the noise of the validation cells, and the simpler model's
//!   final fit converges faster (the exploratory model's final fit took 2.5–6× the
//!   iterations of 2PL's on the real sets).

use super::baselines::{factor_for, options_with, ModelKind, TrainOptions, Validation, AUTO_GRID};
use super::data::{Cell, CellMatrix, Hints, ResponseSet};
use super::error::Result;
use super::eval::{metrics, predict, split_cells};
use super::fit::{fit_until, Finish, FitOptions, FitOutput, FitStart, IterationReport};

/// KKT tolerance of validation fits (the final fit uses the caller's): at 1e-3 the
/// validation log-loss of the synthetic and real sets moved by less than 1e-5.
pub const VALIDATION_TOLERANCE: f64 = 1e-2;

/// Validation fits from a cold (or split) start stop after this many outer
/// iterations. Capping them at 3 and 5 iterations moved no validation loss by more
/// than 0.0012 against fits run to [`VALIDATION_TOLERANCE`] (7–59 iterations), on
/// the real and synthetic sets. (No relative-change rule: it would compute J every
/// iteration, a logarithm per cell, for fits this short.)
pub const VALIDATION_ITERATIONS: usize = 4;

/// Validation fits warm-started from the neighbouring λ of the path stop after this
/// many: they start where the data term is already fitted.
pub const WALK_ITERATIONS: usize = 2;

/// A simpler family member whose validation loss is within this of the best is
/// chosen instead (see the module docs).
pub const SIMPLER_MARGIN: f64 = 0.001;

/// The optimiser settings of validation fits: `fit`'s, loosened and capped (more
/// tightly when `warm`, started from a neighbouring λ).
pub(crate) fn validation_options(fit: &FitOptions, warm: bool) -> FitOptions {
    let mut o = fit.clone();
    o.gradient_tolerance = o.gradient_tolerance.max(VALIDATION_TOLERANCE);
    let cap = if warm {
        WALK_ITERATIONS
    } else {
        VALIDATION_ITERATIONS
    };
    o.max_iterations = o.max_iterations.min(cap);
    o
}

/// Rank of `kind` from the simplest (Rasch) to the least constrained (exploratory).
fn simplicity(kind: ModelKind) -> usize {
    match kind {
        ModelKind::Rate => 0,
        ModelKind::Rasch => 1,
        ModelKind::TwoPl => 2,
        ModelKind::Sparfa => 3,
        ModelKind::Exploratory => 4,
    }
}

/// A candidate whose validation loss at the default λ is this much worse than the
/// best so far is not walked along the λ path: on the measured sets the walk gained
/// at most 0.006 over the default λ except where the default λ was far off for a
/// candidate that then still lost (2PL on lsat7: 0.016, still behind Rasch).
pub const HOPELESS_MARGIN: f64 = 0.01;

/// Index of the default multiplier (2) in [`AUTO_GRID`].
const DEFAULT_INDEX: usize = 2;

/// Number of factors of the exploratory candidate.
pub const EXPLORATORY_FACTORS: usize = 2;

/// What the validated choice picked, and everything it scored.
pub(crate) struct Choice {
    pub kind: ModelKind,
    pub lambda: f64,
    /// The winner's fit on the validation split's training cells (the warm start of
    /// the final fit).
    pub start: FitOutput,
    pub validation: Vec<Validation>,
}

/// The candidates for `kind`: all family members with concepts for SPARFA (the
/// default), only `kind` itself otherwise.
fn candidates(kind: ModelKind, hints: &Hints) -> Vec<ModelKind> {
    if kind != ModelKind::Sparfa {
        return vec![kind];
    }
    // 2PL before the exploratory model, which starts from it. With one concept hinted
    // for every question SPARFA *is* 2PL and is not fitted twice.
    let one_concept = hints.num_concepts() <= 1 && hints.by_question().iter().all(|h| h.len() == 1);
    let mut list = Vec::new();
    if !one_concept {
        list.push(ModelKind::Sparfa);
    }
    list.extend([ModelKind::TwoPl, ModelKind::Rasch, ModelKind::Exploratory]);
    list
}

/// Scores the candidates on a validation split of `train` and returns the best.
pub(crate) fn choose(
    set: &ResponseSet,
    train: &[Cell],
    hints: &Hints,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<Choice> {
    let (nl, nq) = (set.num_learners(), set.num_questions());
    let split = split_cells(
        set,
        train,
        options.validation_fraction,
        options.seed ^ 0x5eed_0f1a,
    )?;
    let inner = CellMatrix::new(nl, nq, &split.train)?;
    let mut validation = Vec::new();
    // The 2PL fit at the default λ, the exploratory model's start.
    let mut two_pl: Option<FitOutput> = None;
    let mut score = |candidate: ModelKind,
                     i: usize,
                     start: Option<&FitOutput>,
                     two_pl: Option<&FitOutput>|
     -> Result<(f64, FitOutput)> {
        let lambda = AUTO_GRID[i] * factor_for(candidate, &inner, hints);
        let o = options_with(
            &validation_options(&options.fit, start.is_some()),
            candidate,
            lambda,
        )?;
        let split_start = match (candidate, start) {
            (ModelKind::Exploratory, None) => two_pl.map(|b| split_factors(b, &inner)),
            _ => None,
        };
        let start = match (start, &split_start) {
            (Some(s), _) => Some(FitStart::from_output(s)),
            (None, Some((w, d, u))) => Some(FitStart {
                loadings: w,
                intercepts: d,
                knowledge: u,
            }),
            (None, None) => None,
        };
        let f = fit_member(
            &inner,
            hints,
            set.question_ids(),
            (candidate, &o),
            start.as_ref(),
            progress,
            Finish::Validation,
        )?;
        let loss = record(&mut validation, (candidate, lambda), &f, &split.heldout);
        Ok((loss, f))
    };
    // Every candidate once at the default λ.
    let mut firsts = Vec::new();
    for candidate in candidates(options.kind, hints) {
        let (loss, f) = score(candidate, DEFAULT_INDEX, None, two_pl.as_ref())?;
        if candidate == ModelKind::TwoPl {
            two_pl = Some(f.clone());
        }
        firsts.push((candidate, (DEFAULT_INDEX, loss, f)));
    }
    // Then the λ paths of those not hopelessly behind, best first.
    firsts.sort_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
    let leader = firsts.first().map_or(f64::INFINITY, |c| c.1 .1);
    let mut bests: Vec<(f64, ModelKind, f64, FitOutput)> = Vec::new();
    for (candidate, first) in firsts {
        let path = if first.1 <= leader + HOPELESS_MARGIN {
            let mut walk = |i: usize, s: Option<&FitOutput>| score(candidate, i, s, None);
            walk_grid(first, true, &mut walk)?
        } else {
            vec![first]
        };
        if let Some((i, loss, f)) = path.into_iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
            let lambda = AUTO_GRID[i] * factor_for(candidate, &inner, hints);
            bests.push((loss, candidate, lambda, f));
        }
    }
    let best = bests.iter().map(|b| b.0).fold(f64::INFINITY, f64::min);
    let (_, kind, lambda, start) = bests
        .into_iter()
        .filter(|b| b.0 <= best + SIMPLER_MARGIN)
        .min_by_key(|b| simplicity(b.1))
        .ok_or_else(|| super::error::SparfaError::InvalidOption {
            name: "kind",
            message: "no model family member to choose from".into(),
        })?;
    Ok(Choice {
        kind,
        lambda,
        start,
        validation,
    })
}

/// Scores validation fit `f` of `(kind, λ)` on the `heldout` cells and appends the
/// score to `validation`; returns the log-loss.
pub(crate) fn record(
    validation: &mut Vec<Validation>,
    (kind, lambda): (ModelKind, f64),
    f: &FitOutput,
    heldout: &[Cell],
) -> f64 {
    let loss = metrics(&predict(&f.model, &f.knowledge, heldout), heldout).log_loss;
    validation.push(Validation {
        kind,
        lambda,
        log_loss: loss,
        iterations: f.iterations,
    });
    loss
}

/// One point of a λ path: grid index, validation log-loss, the fit there.
pub(crate) type PathPoint = (usize, f64, FitOutput);

/// Scores grid index `i` from an optional warm start: `(validation log-loss, fit)`.
pub(crate) type GridScore<'a> =
    dyn FnMut(usize, Option<&FitOutput>) -> Result<(f64, FitOutput)> + 'a;

/// Walks [`AUTO_GRID`] from `first` towards larger, then smaller λ, each fit
/// warm-started from the last one that improved, until a step does worse or the
/// grid ends; returns every point scored, `first` first. With `unimodal`, the
/// smaller λ are not fitted once a larger one improved on `first` (a unimodal
/// curve that fell towards larger λ has its minimum there).
pub(crate) fn walk_grid(
    first: PathPoint,
    unimodal: bool,
    score: &mut GridScore<'_>,
) -> Result<Vec<PathPoint>> {
    let first_index = first.0;
    let first_loss = first.1;
    let mut path = vec![first];
    for direction in [1isize, -1] {
        if unimodal && direction == -1 && path.iter().any(|p| p.1 < first_loss) {
            break;
        }
        let mut at = 0; // position in `path` of the fit to continue from
        let mut i = first_index as isize + direction;
        while (0..AUTO_GRID.len() as isize).contains(&i) {
            let (loss, f) = score(i as usize, Some(&path[at].2))?;
            let worse = loss >= path[at].1;
            path.push((i as usize, loss, f));
            if worse {
                break;
            }
            at = path.len() - 1;
            i += direction;
        }
    }
    Ok(path)
}

/// Fits family member `kind` with `options` (its weights already set) from `start`.
/// The exploratory model never starts cold from `W = H`: its two factors would be
/// identical there and stay identical, so without a start it first fits 2PL with the
/// same options and starts from that fit's [`split_factors`].
pub(crate) fn fit_member(
    cells: &CellMatrix,
    hints: &Hints,
    question_ids: &[String],
    (kind, options): (ModelKind, &super::fit::FitOptions),
    start: Option<&FitStart>,
    progress: &mut dyn FnMut(&IterationReport),
    finish: Finish,
) -> Result<FitOutput> {
    let mut run = |kind: ModelKind, start: Option<&FitStart>| {
        let begin = (start, finish);
        fit_until(
            cells,
            &kind.hints(hints),
            question_ids,
            options,
            begin,
            progress,
        )
    };
    if kind == ModelKind::Exploratory && start.is_none() {
        let base = run(ModelKind::TwoPl, None)?;
        let (w, d, u) = split_factors(&base, cells);
        let start = FitStart {
            loadings: &w,
            intercepts: &d,
            knowledge: &u,
        };
        return run(kind, Some(&start));
    }
    run(kind, start)
}

/// `(loadings, intercepts, knowledge)` of a start built by [`split_factors`].
pub(crate) type SplitStart = (Vec<Vec<(u32, f64)>>, Vec<f64>, Vec<f64>);

/// The exploratory start from a one-factor (2PL) fit: question `q`'s loading `w_q`
/// becomes `(w_q a_q, w_q (1 − a_q))` and each learner's ability is copied to both
/// factors, so the start predicts exactly what the 2PL fit does. `a_q` follows the
/// leading eigenvector of the question × question correlation of the 2PL residuals:
/// questions whose residuals move together (what one factor cannot explain) start on
/// the same side, which breaks the symmetry between the factors in the direction the
/// data ask for. Returns `(loadings, intercepts, knowledge)`.
pub(crate) fn split_factors(base: &FitOutput, cells: &CellMatrix) -> SplitStart {
    let nq = cells.num_questions;
    let model = &base.model;
    let ability = |l: usize| base.knowledge.get(l).copied().unwrap_or(0.0);
    let loading = |q: usize| model.loadings[q].first().map_or(0.0, |&(_, w)| w);
    let correlation = super::exploratory::residual_correlation(base, cells);
    let direction = leading_eigenvector(&correlation, nq);
    let scale = direction.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let share = |q: usize| {
        if scale > 0.0 {
            0.5 + 0.4 * direction[q] / scale
        } else {
            // No residual structure: alternate, so that the factors still differ.
            if q % 2 == 0 {
                0.7
            } else {
                0.3
            }
        }
    };
    let loadings = (0..nq)
        .map(|q| {
            let w = loading(q);
            vec![(0, w * share(q)), (1, w * (1.0 - share(q)))]
        })
        .collect();
    let knowledge = (0..cells.num_learners)
        .flat_map(|l| [ability(l), ability(l)])
        .collect();
    (loadings, model.intercepts.clone(), knowledge)
}

/// The eigenvector of the largest eigenvalue of the symmetric `n × n` matrix `m`, by
/// power iteration on `m + ρ I` (ρ = the largest absolute row sum, which makes every
/// eigenvalue non-negative so the largest one dominates).
fn leading_eigenvector(m: &[f64], n: usize) -> Vec<f64> {
    let shift = (0..n)
        .map(|a| m[a * n..(a + 1) * n].iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    if shift == 0.0 {
        return vec![0.0; n];
    }
    // A start that is not orthogonal to any structured eigenvector.
    let mut v: Vec<f64> = (0..n)
        .map(|a| 1.0 + (a as f64 * 0.618_034).fract())
        .collect();
    let mut next = vec![0.0; n];
    for _ in 0..200 {
        for a in 0..n {
            next[a] = shift * v[a]
                + m[a * n..(a + 1) * n]
                    .iter()
                    .zip(&v)
                    .map(|(x, y)| x * y)
                    .sum::<f64>();
        }
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return vec![0.0; n];
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
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_eigenvector_of_two_blocks() {
        // Two blocks of positively correlated questions, negatively across blocks.
        let n = 4;
        let mut m = vec![0.0; n * n];
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    m[a * n + b] = if (a < 2) == (b < 2) { 0.5 } else { -0.5 };
                }
            }
        }
        let v = leading_eigenvector(&m, n);
        assert!(
            v[0] * v[1] > 0.0 && v[2] * v[3] > 0.0 && v[0] * v[2] < 0.0,
            "{v:?}"
        );
        assert_eq!(leading_eigenvector(&[0.0; 4], 2), vec![0.0, 0.0]);
    }
}
