//! Fitting `W ≥ 0`, `d` and `U` by minimising the §4.5 objective J (decision F1).
//!
//! ```text
//! J = λ_f Σ_Ω ℓ(y, wᵀu + d) + λ_H Σ_{H=1} W² + λ_H̄ Σ_{H=0} W + λ_d Σ d² + λ_U Σ U²
//! ```
//!
//! The optimiser is exact block coordinate descent, alternating two half-steps:
//!
//! 1. **learners**: every `u_l` by cyclic coordinate Newton (see `learners`), all learners
//!    independently;
//! 2. **questions**: every `(W[:,q], d_q)` by projected Newton (see `questions`), all
//!    questions independently, reading `U` concept-major (cache-friendly); off-hint
//!    concepts are screened through their KKT condition and only activated when
//!    `∂J/∂W_kq < 0` at zero;
//! 3. **gauge**: exact minimisation along each concept's knowledge offset and scale, the
//!    directions the data term cannot see (see `gauge`).
//!
//! The returned model also carries the loadings CLUEs read, pooled per concept (see
//! `pooled`).
//!
//! The learner half-step is over-relaxed (`LEARNER_RELAXATION`); the returned `U` is
//! the exact MAP for the returned `W`, `d`. When the block gradients show a slow linear
//! mode, the iterate jumps along it, kept only when J falls (see `extrapolate`).
//!
//! Blocks within a half-step do not interact, so the `parallel` feature runs them on
//! rayon and the result stays bit-identical to the sequential run. The start is §4.5's
//! `W = H`, `U = 0`, `d = 0`. Iteration stops after a screening iteration that activates
//! nothing when either [`crate::sparfa::kkt::kkt_violation`] at the point to be returned
//! is below [`FitOptions::gradient_tolerance`] (checked once every block gradient of the
//! iteration is below it), or J changed by less than [`FitOptions::relative_tolerance`]
//! (§4.6's outer rule; off by default).

mod extrapolate;
mod gauge;
mod learners;
pub(crate) mod math;
mod pass;
mod pooled;
mod questions;
mod start;

pub(crate) use learners::{update_learner, FlatLoadings, LearnerScratch, LearnerStep, Loadings};
use questions::{update_question, KnowledgeColumns, QuestionParams, QuestionScratch, QuestionStep};
use start::apply_start;
pub use start::FitStart;

use super::data::{CellMatrix, Hints};
use super::error::{Result, SparfaError};
use super::model::{Penalties, SparfaModel};

/// J is computed every this many iterations (and whenever a stopping rule needs it);
/// the other iterations skip a logarithm and an exponential per cell (at 10 it costs
/// about 5 % of a 640k-cell fit, at 5 twice that).
pub const OBJECTIVE_EVERY: usize = 10;

/// Blocks stop refining below this fraction of [`FitOptions::gradient_tolerance`]: at
/// exactly the tolerance they would stop improving just where the stopping rule looks,
/// and the largest gradient would hover around it for many iterations.
const BLOCK_TOLERANCE: f64 = 0.1;

/// Coordinate sweeps per learner of a validation fit's finish (see [`Finish`]).
const VALIDATION_POLISH_SWEEPS: usize = 2;

/// Over-relaxation of the learner half-step. Alternating exact block steps on the
/// bilinear data term converge linearly, slowed by the coupling of `U` and `W`; stepping
/// each knowledge coordinate 1.5× its Newton step (successive over-relaxation, as in
/// accelerated alternating least squares) cut the iterations to a 1e-5 KKT point from
/// 43 to 29 at 10,000 × 1,000 × 100. The final `U` is always the exact MAP (no relaxation).
const LEARNER_RELAXATION: f64 = 1.5;

/// Options of [`fit`]. `Default` gives the F1 weights and stops at a KKT point whose
/// block gradients are all below 1e-5, the tolerance of §4.6.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Objective weights (F1 defaults).
    pub penalties: Penalties,
    /// Keep every loading at its start value `W = H` (the Rasch model): only `U`, `d` move.
    pub fixed_loadings: bool,
    /// Upper bound on outer iterations (one learner plus one question half-step each).
    pub max_iterations: usize,
    /// Stop when every block gradient of an iteration is below this (absolute).
    pub gradient_tolerance: f64,
    /// Or when J changes by less than this fraction in an iteration (§4.6 uses 1e-6;
    /// the default 0 relies on the KKT rule alone).
    pub relative_tolerance: f64,
    /// Coordinate sweeps per learner and iteration.
    pub learner_sweeps: usize,
    /// Newton iterations per question and iteration.
    pub question_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            penalties: Penalties::default(),
            fixed_loadings: false,
            max_iterations: 500,
            gradient_tolerance: 1e-5,
            relative_tolerance: 0.0,
            learner_sweeps: 1,
            question_iterations: 1,
        }
    }
}

impl FitOptions {
    fn validate(&self) -> Result<()> {
        let p = &self.penalties;
        let checks: [(&'static str, f64, bool); 5] = [
            ("penalties.data", p.data, p.data > 0.0),
            ("penalties.hinted", p.hinted, p.hinted > 0.0),
            ("penalties.unhinted", p.unhinted, p.unhinted >= 0.0),
            ("penalties.intercept", p.intercept, p.intercept >= 0.0),
            ("penalties.learner", p.learner, p.learner > 0.0),
        ];
        for (name, value, ok) in checks {
            if !ok || !value.is_finite() {
                return Err(SparfaError::InvalidOption {
                    name,
                    message: format!("{value} is out of range"),
                });
            }
        }
        if self.max_iterations == 0 {
            return Err(SparfaError::InvalidOption {
                name: "max_iterations",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// One outer iteration, as passed to the progress callback of [`fit_with_progress`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationReport {
    /// 1-based iteration number.
    pub iteration: usize,
    /// J after the iteration, when it was computed (see [`OBJECTIVE_EVERY`]).
    pub objective: Option<f64>,
    /// `(J_before − J_after) / J_after` since the last iteration that computed J.
    pub relative_change: Option<f64>,
    /// Largest block gradient met during the iteration (a KKT measure).
    pub gradient: f64,
    /// Off-hint loadings activated by screening in this iteration.
    pub activated: usize,
    /// Upper bound on iterations, for progress bars.
    pub max_iterations: usize,
}

/// The result of [`fit`].
#[derive(Debug, Clone)]
pub struct FitOutput {
    /// The fitted W, d and H, with exact zeros removed from W.
    pub model: SparfaModel,
    /// The learners' knowledge at the optimum, learner-major (`concepts` values each);
    /// every `u_l` is the §5 MAP for the final W, d.
    pub knowledge: Vec<f64>,
    /// J at the returned point.
    pub objective: f64,
    /// Outer iterations run.
    pub iterations: usize,
    /// Whether a stopping rule (not the iteration limit) ended the fit.
    pub converged: bool,
}

/// Fits with [`fit_with_progress`] and no progress callback.
pub fn fit(
    cells: &CellMatrix,
    hints: &Hints,
    question_ids: &[String],
    options: &FitOptions,
) -> Result<FitOutput> {
    fit_with_progress(cells, hints, question_ids, options, &mut |_| {})
}

/// Fits `W`, `d`, `U` on `cells` with hint mask `hints`; `question_ids` name the
/// questions (one per row of `cells.by_question`). With no cells, returns `W = H`, `d = 0`
/// (§2.3). `progress` is called after every outer iteration.
pub fn fit_with_progress(
    cells: &CellMatrix,
    hints: &Hints,
    question_ids: &[String],
    options: &FitOptions,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<FitOutput> {
    fit_from(cells, hints, question_ids, options, None, progress)
}

/// [`fit_with_progress`] from `start` instead of §4.5's `W = H`, `U = 0`, `d = 0`.
///
/// A warm start changes where the optimiser begins, not what it minimises: along a λ
/// path or from a fit on most of the same cells it reaches the same tolerance in a
/// fraction of the iterations. With [`FitOptions::fixed_loadings`] the loadings stay
/// at `H` whatever `start` says. Errors when `start` does not match the dimensions.
pub fn fit_from(
    cells: &CellMatrix,
    hints: &Hints,
    question_ids: &[String],
    options: &FitOptions,
    start: Option<&FitStart>,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<FitOutput> {
    let begin = (start, Finish::Exact);
    fit_until(cells, hints, question_ids, options, begin, progress)
}

/// How a fit ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// `U` polished to the exact MAP and the pooled loadings computed: a fit to keep.
    Exact,
    /// `U` polished only to a tenth of the gradient tolerance, no pooled loadings and
    /// no J (the output's `objective` is NaN; J is not computed during the fit either
    /// unless the relative-change rule asks for it): a validation fit, only scored and
    /// used as a warm start. On small sets the exact finish cost more than the four
    /// iterations of such a fit.
    Validation,
}

/// [`fit_from`] from `start`, ending as `finish` says.
pub(crate) fn fit_until(
    cells: &CellMatrix,
    hints: &Hints,
    question_ids: &[String],
    options: &FitOptions,
    (start, finish): (Option<&FitStart>, Finish),
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<FitOutput> {
    options.validate()?;
    let nq = cells.num_questions;
    if hints.by_question().len() != nq || question_ids.len() != nq {
        return Err(SparfaError::Dimension(format!(
            "{nq} questions in the responses, {} in the hints, {} question ids",
            hints.by_question().len(),
            question_ids.len()
        )));
    }
    let k_count = hints.num_concepts();
    let pen = options.penalties;
    let mut params: Vec<QuestionParams> = hints
        .by_question()
        .iter()
        .map(|hinted| QuestionParams {
            loadings: hinted.iter().map(|&k| (k, 1.0)).collect(),
            hinted: vec![true; hinted.len()],
            d: 0.0,
        })
        .collect();
    let mut u = vec![0.0; cells.num_learners * k_count];
    if let Some(start) = start {
        apply_start(start, hints, options.fixed_loadings, &mut params, &mut u)?;
    }
    let mut columns = Vec::new();
    let mut objective = if start.is_some() {
        f64::INFINITY
    } else {
        cells.len() as f64 * std::f64::consts::LN_2 * pen.data
            + params
                .iter()
                .map(|p| pen.hinted * p.loadings.len() as f64)
                .sum::<f64>()
    };
    let mut iterations = 0;
    let mut converged = cells.is_empty();
    let mut screen_next = false;
    let mut extrapolation = extrapolate::Extrapolation::new();
    let polish = LearnerStep {
        data: pen.data,
        prior: pen.learner,
        sweeps: 100,
        tolerance: (0.1 * options.gradient_tolerance).min(1e-9),
        relaxation: 1.0,
    };
    while !converged && iterations < options.max_iterations {
        iterations += 1;
        let screened = screen_next;
        let learner_step = LearnerStep {
            data: pen.data,
            prior: pen.learner,
            sweeps: options.learner_sweeps,
            tolerance: BLOCK_TOLERANCE * options.gradient_tolerance,
            relaxation: LEARNER_RELAXATION,
        };
        let screen_k = if screened && !options.fixed_loadings {
            k_count
        } else {
            0
        };
        let (g_learners, screen_gradient) = learner_half_step_screened(
            cells,
            params.as_slice(),
            &mut u,
            k_count,
            learner_step,
            screen_k,
        );
        // J costs a logarithm per cell: it is computed when a stopping rule needs it
        // (the relative-change rule) and every few iterations for progress reports.
        // Screening does not need it: it reads gradients only.
        // Validation fits are only scored on held-out cells: they skip it unless the
        // relative-change rule needs it.
        let want_loss = options.relative_tolerance > 0.0
            || (finish == Finish::Exact
                && (iterations % OBJECTIVE_EVERY == 0 || iterations == options.max_iterations));
        let question_step = QuestionStep {
            penalties: pen,
            fixed_loadings: options.fixed_loadings,
            iterations: options.question_iterations,
            tolerance: BLOCK_TOLERANCE * options.gradient_tolerance,
            want_loss,
        };
        transpose(&u, k_count, cells.num_learners, &mut columns);
        let reports = question_half_step(
            cells,
            &mut params,
            KnowledgeColumns {
                values: &columns,
                learners: cells.num_learners,
            },
            k_count,
            question_step,
            screen_gradient.as_deref(),
        );
        if !options.fixed_loadings {
            gauge::shift_concepts(&mut params, &mut u, k_count, &pen);
            gauge::rescale_concepts(&mut params, &mut u, k_count, &pen);
        }
        let mut new_objective = want_loss.then(|| penalty_u(&u, &pen));
        let mut g_questions = 0.0f64;
        let mut activated = 0;
        for (r, p) in reports.iter().zip(&params) {
            if let (Some(j), Some(loss)) = (new_objective.as_mut(), r.loss) {
                *j += pen.data * loss + penalty_question(p, &pen);
            }
            g_questions = g_questions.max(r.kkt);
            activated += r.added;
        }
        let relative_change = match new_objective {
            Some(new) => {
                let change = (objective - new) / new.abs().max(f64::MIN_POSITIVE);
                objective = new;
                Some(change)
            }
            None => None,
        };
        let gradient = g_learners.max(g_questions);
        let stalled = relative_change.is_some_and(|c| c.abs() < options.relative_tolerance);
        let small = gradient < options.gradient_tolerance;
        if screened && activated == 0 {
            if stalled {
                converged = true;
            } else if small {
                // The block gradients were met at intermediate points: confirm the §4.6
                // conditions at the point that would be returned.
                let mut polished = u.clone();
                learner_half_step(cells, params.as_slice(), &mut polished, k_count, polish);
                let model = to_model(&params, hints, question_ids, pen);
                let kkt =
                    super::kkt::kkt_violation(&model, &polished, cells, options.fixed_loadings);
                if kkt.max() <= options.gradient_tolerance {
                    u = polished;
                    converged = true;
                }
            }
        }
        // Off-hint concepts are screened only once U has settled a little: early U is
        // noisy, and with thousands of learners per question its noise alone would push
        // many off-hint gradients past λ_H̄.
        screen_next = (iterations >= 10 && iterations % 5 == 0) || small || stalled;
        if !converged {
            let mut j = |p: &[QuestionParams], u: &[f64]| {
                super::kkt::objective(&to_model(p, hints, question_ids, pen), u, cells)
            };
            let state = (&mut params, &mut u);
            extrapolation.after_iteration(iterations, gradient, state, &mut j);
        }
        progress(&IterationReport {
            iteration: iterations,
            objective: new_objective,
            relative_change,
            gradient,
            activated,
            max_iterations: options.max_iterations,
        });
    }
    // Make every u_l the exact MAP for the final W, d (it is what §5 would return).
    let polish = match finish {
        Finish::Exact => polish,
        Finish::Validation => LearnerStep {
            tolerance: 0.1 * options.gradient_tolerance,
            sweeps: VALIDATION_POLISH_SWEEPS,
            ..polish
        },
    };
    learner_half_step(cells, params.as_slice(), &mut u, k_count, polish);
    let mut model = to_model(&params, hints, question_ids, pen);
    let objective = match finish {
        Finish::Exact => super::kkt::objective(&model, &u, cells),
        Finish::Validation => f64::NAN,
    };
    if !options.fixed_loadings && finish == Finish::Exact {
        model.pooled_loadings = pooled::pooled_loadings(&model, &u, cells);
    }
    Ok(FitOutput {
        model,
        knowledge: u,
        objective,
        iterations,
        converged,
    })
}

fn to_model(
    params: &[QuestionParams],
    hints: &Hints,
    question_ids: &[String],
    pen: Penalties,
) -> SparfaModel {
    SparfaModel {
        question_ids: question_ids.to_vec(),
        concept_ids: hints.concept_ids().to_vec(),
        loadings: params
            .iter()
            .map(|p| {
                p.loadings
                    .iter()
                    .copied()
                    .filter(|&(_, w)| w > 0.0)
                    .collect()
            })
            .collect(),
        intercepts: params.iter().map(|p| p.d).collect(),
        hints: hints.by_question().to_vec(),
        penalties: pen,
        pooled_loadings: Vec::new(),
    }
}

fn penalty_u(u: &[f64], pen: &Penalties) -> f64 {
    pen.learner * u.iter().map(|v| v * v).sum::<f64>()
}

fn penalty_question(p: &QuestionParams, pen: &Penalties) -> f64 {
    let mut s = pen.intercept * p.d * p.d;
    for (&(_, w), &h) in p.loadings.iter().zip(&p.hinted) {
        s += if h {
            pen.hinted * w * w
        } else {
            pen.unhinted * w
        };
    }
    s
}

impl Loadings for [QuestionParams] {
    fn loadings(&self, q: usize) -> &[(u32, f64)] {
        &self[q].loadings
    }
    fn intercept(&self, q: usize) -> f64 {
        self[q].d
    }
}

/// Runs the learner half-step on all learners; returns the largest gradient met.
pub(crate) fn learner_half_step<L: Loadings + ?Sized>(
    cells: &CellMatrix,
    params: &L,
    u: &mut [f64],
    k_count: usize,
    step: LearnerStep,
) -> f64 {
    if k_count == 0 {
        return 0.0;
    }
    let table = FlatLoadings::new(params, cells.num_questions);
    let work = |scratch: &mut LearnerScratch, (l, row): (usize, &mut [f64])| {
        let (questions, correct) = cells.by_learner.row(l);
        update_learner(questions, correct, &table, row, step, scratch)
    };
    #[cfg(feature = "parallel")]
    let gradients: Vec<f64> = {
        use rayon::prelude::*;
        u.par_chunks_mut(k_count)
            .enumerate()
            .map_init(LearnerScratch::default, work)
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let gradients: Vec<f64> = {
        let mut scratch = LearnerScratch::default();
        u.chunks_mut(k_count)
            .enumerate()
            .map(|item| work(&mut scratch, item))
            .collect()
    };
    gradients.into_iter().fold(0.0, f64::max)
}

/// Learner chunks of the screened half-step. A fixed count (not the thread count) keeps
/// the summation order of the loading gradient, and so the fit, bit-identical.
const SCREEN_CHUNKS: usize = 8;

/// The learner half-step; with `screen_k = K > 0` it also returns the data gradient of
/// every loading, `Σ_l U_kl r_ql` (question-major, K per question), at the new `U`.
fn learner_half_step_screened(
    cells: &CellMatrix,
    params: &[QuestionParams],
    u: &mut [f64],
    k_count: usize,
    step: LearnerStep,
    screen_k: usize,
) -> (f64, Option<Vec<f64>>) {
    if screen_k == 0 || k_count == 0 {
        return (learner_half_step(cells, params, u, k_count, step), None);
    }
    let nq = cells.num_questions;
    let per_chunk = cells.num_learners.div_ceil(SCREEN_CHUNKS).max(1);
    let table = FlatLoadings::new(params, nq);
    let work = |(c, block): (usize, &mut [f64])| {
        let mut scratch = LearnerScratch::default();
        let mut gradient = vec![0.0; nq * k_count];
        let mut worst = 0.0f64;
        for (i, row) in block.chunks_mut(k_count).enumerate() {
            let (questions, correct) = cells.by_learner.row(c * per_chunk + i);
            worst = worst.max(update_learner(
                questions,
                correct,
                &table,
                row,
                step,
                &mut scratch,
            ));
            learners::add_loading_gradient(questions, correct, row, &scratch, &mut gradient);
        }
        (worst, gradient)
    };
    #[cfg(feature = "parallel")]
    let parts: Vec<(f64, Vec<f64>)> = {
        use rayon::prelude::*;
        u.par_chunks_mut(per_chunk * k_count)
            .enumerate()
            .map(work)
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let parts: Vec<(f64, Vec<f64>)> = u
        .chunks_mut(per_chunk * k_count)
        .enumerate()
        .map(work)
        .collect();
    let mut worst = 0.0f64;
    let mut total: Option<Vec<f64>> = None;
    for (w, g) in parts {
        worst = worst.max(w);
        match total.as_mut() {
            None => total = Some(g),
            Some(t) => t.iter_mut().zip(&g).for_each(|(a, b)| *a += b),
        }
    }
    (worst, total)
}

/// Writes `u` (learner-major, `k_count` per learner) concept-major into `out`.
fn transpose(u: &[f64], k_count: usize, learners: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(u.len(), 0.0);
    for (l, row) in u.chunks(k_count.max(1)).enumerate() {
        for (k, &v) in row.iter().enumerate() {
            out[k * learners + l] = v;
        }
    }
}

fn question_half_step(
    cells: &CellMatrix,
    params: &mut [QuestionParams],
    u: KnowledgeColumns,
    k_count: usize,
    step: QuestionStep,
    screen_gradient: Option<&[f64]>,
) -> Vec<questions::QuestionReport> {
    let work = |scratch: &mut QuestionScratch, (q, p): (usize, &mut QuestionParams)| {
        let (learners, correct) = cells.by_question.row(q);
        let screen = screen_gradient.map(|g| &g[q * k_count..(q + 1) * k_count]);
        update_question(learners, correct, u, p, step, screen, scratch)
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        params
            .par_iter_mut()
            .enumerate()
            .map_init(QuestionScratch::default, work)
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut scratch = QuestionScratch::default();
        params
            .iter_mut()
            .enumerate()
            .map(|item| work(&mut scratch, item))
            .collect()
    }
}
