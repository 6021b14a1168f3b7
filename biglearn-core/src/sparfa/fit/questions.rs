//! The question block: projected Newton on `(W[:,q], d_q)` for one question.
//!
//! On the feasible set `W ≥ 0` the ℓ1 term on off-hint loadings is linear, so the block
//! problem is smooth with bound constraints. Each iteration builds the exact gradient and
//! Hessian over the question's learners for the *active* loadings (hinted concepts plus
//! off-hint concepts already non-zero), solves the bound-constrained quadratic model by
//! projected Gauss–Seidel, and takes the step when a curvature bound proves the Armijo
//! decrease (no second pass over the cells), else backtracks (Armijo) on the true block
//! objective.
//! Optional screening computes the off-hint data gradient `Σ_l U_kl r_ql` for every
//! concept and activates those that violate `∂J/∂W_kq ≥ 0` at zero.

use super::math::logistic_loss;
use super::pass::{pass, PassSums};
use crate::sparfa::model::Penalties;

/// The knowledge matrix concept-major (`values[k·learners + l] = U_kl`): a question
/// reads one or two concepts for thousands of learners, and a concept's column is small
/// enough to stay in cache, unlike the learner-major rows.
#[derive(Clone, Copy)]
pub(crate) struct KnowledgeColumns<'a> {
    /// `U` transposed.
    pub values: &'a [f64],
    /// Number of learners (column length).
    pub learners: usize,
}

impl<'a> KnowledgeColumns<'a> {
    #[inline]
    pub(super) fn get(&self, l: u32, k: u32) -> f64 {
        self.values[k as usize * self.learners + l as usize]
    }

    /// Concept `k`'s knowledge of every learner.
    #[inline]
    pub(super) fn column(&self, k: u32) -> &'a [f64] {
        let start = k as usize * self.learners;
        &self.values[start..start + self.learners]
    }
}

/// One question's parameters during fitting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuestionParams {
    /// Active loadings `(concept, weight ≥ 0)`, sorted by concept; hinted concepts are
    /// always present (possibly at zero), off-hint ones only while non-zero.
    pub loadings: Vec<(u32, f64)>,
    /// Whether each active loading is hinted.
    pub hinted: Vec<bool>,
    /// Intercept.
    pub d: f64,
}

/// Settings of one question update.
#[derive(Clone, Copy)]
pub(crate) struct QuestionStep {
    /// Objective weights.
    pub penalties: Penalties,
    /// Loadings are fixed (Rasch): only `d` moves.
    pub fixed_loadings: bool,
    /// Maximum Newton iterations.
    pub iterations: usize,
    /// Stop when the projected gradient is below this.
    pub tolerance: f64,
    /// Compute the data loss at the final point (one logarithm per cell).
    pub want_loss: bool,
}

/// What a question update reports back.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QuestionReport {
    /// Data loss Σ ℓ (unweighted) at the final point, if asked for.
    pub loss: Option<f64>,
    /// Largest projected-gradient entry at the starting point (incl. screened concepts).
    pub kkt: f64,
    /// Off-hint concepts activated by screening.
    pub added: usize,
}

/// Reusable buffers for [`update_question`].
#[derive(Default)]
pub(crate) struct QuestionScratch {
    gather: Vec<f64>,
    grad: Vec<f64>,
    hess: Vec<f64>,
    gram: Vec<f64>,
    reach: Vec<f64>,
    trial: Vec<(u32, f64)>,
    delta: Vec<f64>,
    qgrad: Vec<f64>,
}

/// Block objective: λ_f·loss plus the penalties of the question's parameters.
fn block_objective(
    loss: f64,
    loadings: &[(u32, f64)],
    hinted: &[bool],
    d: f64,
    pen: &Penalties,
) -> f64 {
    let mut j = pen.data * loss + pen.intercept * d * d;
    for (&(_, w), &h) in loadings.iter().zip(hinted) {
        j += if h {
            pen.hinted * w * w
        } else {
            pen.unhinted * w
        };
    }
    j
}

/// Updates one question's parameters in place for fixed knowledge `u`.
pub(crate) fn update_question(
    learners: &[u32],
    correct: &[bool],
    u: KnowledgeColumns,
    params: &mut QuestionParams,
    step: QuestionStep,
    screen_gradient: Option<&[f64]>,
    scratch: &mut QuestionScratch,
) -> QuestionReport {
    let pen = step.penalties;
    let mut report = QuestionReport::default();
    if let Some(gradient) = screen_gradient {
        if !step.fixed_loadings && !gradient.is_empty() && !learners.is_empty() {
            screen(gradient, params, &pen, step.tolerance, &mut report);
        }
    }
    let nvar = if step.fixed_loadings {
        0
    } else {
        params.loadings.len()
    };
    let m = nvar + 1;
    let QuestionScratch {
        gather,
        grad,
        hess,
        gram,
        reach,
        trial,
        delta,
        qgrad,
    } = scratch;
    grad.resize(m, 0.0);
    hess.resize(m * m, 0.0);
    gram.resize(m * m, 0.0);
    reach.resize(m, 0.0);
    // The loss at the start is only needed when a full Newton step has to be checked by
    // value (rarely) or no step is taken; it is computed lazily to save a logarithm per cell.
    let sums = PassSums {
        grad,
        hess,
        gram,
        reach,
    };
    pass(
        learners,
        correct,
        u,
        &params.loadings,
        params.d,
        nvar,
        gather,
        sums,
        false,
    );
    let mut loss: Option<f64> = None;
    let iterations = step.iterations.max(1);
    for iter in 0..iterations {
        // Full gradient and Hessian of the block objective (upper triangle of `hess`).
        for a in 0..m {
            grad[a] *= pen.data;
            for b in a..m {
                hess[a * m + b] *= pen.data;
            }
        }
        let mut kkt = 0.0f64;
        for a in 0..nvar {
            let w = params.loadings[a].1;
            if params.hinted[a] {
                grad[a] += 2.0 * pen.hinted * w;
                hess[a * m + a] += 2.0 * pen.hinted;
            } else {
                grad[a] += pen.unhinted;
            }
            kkt = kkt.max(if w > 0.0 {
                grad[a].abs()
            } else {
                (-grad[a]).max(0.0)
            });
        }
        grad[nvar] += 2.0 * pen.intercept * params.d;
        hess[nvar * m + nvar] += 2.0 * pen.intercept;
        kkt = kkt.max(grad[nvar].abs());
        if iter == 0 {
            report.kkt = report.kkt.max(kkt);
        }
        if kkt < step.tolerance {
            break;
        }
        solve_box_qp(grad, hess, m, nvar, &params.loadings, delta, qgrad);
        let slope: f64 = grad.iter().zip(delta.iter()).map(|(g, s)| g * s).sum();
        if slope >= 0.0 {
            break;
        }
        // The last Newton step of the block does not need the gradient at its end:
        // when a curvature bound proves the Armijo decrease, it is taken without a
        // second pass over the cells (the loss, if asked for, is computed after).
        let bound = Curvature {
            hess,
            gram,
            reach,
            m,
            nvar,
        };
        if iter + 1 == iterations && bound.proves_decrease(slope, delta, &params.hinted, &pen) {
            for (a, l) in params.loadings.iter_mut().enumerate().take(nvar) {
                l.1 = (l.1 + delta[a]).max(0.0);
            }
            params.d += delta[nvar];
            break;
        }
        let mut t = 1.0;
        let mut accepted = false;
        let mut j: Option<f64> = None;
        for _ in 0..30 {
            trial.clear();
            trial.extend(params.loadings.iter().enumerate().map(|(a, &(k, w))| {
                if a < nvar {
                    (k, (w + t * delta[a]).max(0.0))
                } else {
                    (k, w)
                }
            }));
            let new_d = params.d + t * delta[nvar];
            let sums = PassSums {
                grad,
                hess,
                gram,
                reach,
            };
            let new_loss = pass(
                learners,
                correct,
                u,
                trial,
                new_d,
                nvar,
                gather,
                sums,
                step.want_loss,
            );
            // On the segment the block objective φ is convex, so φ(1) − φ(0) ≤ φ'(1):
            // a non-positive slope at the full step proves a decrease without φ(0).
            let end_slope = if t == 1.0 {
                let mut e =
                    pen.data * grad[nvar] * delta[nvar] + 2.0 * pen.intercept * new_d * delta[nvar];
                for a in 0..nvar {
                    let pen_grad = if params.hinted[a] {
                        2.0 * pen.hinted * trial[a].1
                    } else {
                        pen.unhinted
                    };
                    e += (pen.data * grad[a] + pen_grad) * delta[a];
                }
                e
            } else {
                f64::INFINITY
            };
            let decreased = end_slope <= 0.0 || {
                let j0 = *j.get_or_insert_with(|| {
                    let l0 = *loss.get_or_insert_with(|| {
                        loss_only(learners, correct, u, &params.loadings, params.d)
                    });
                    block_objective(l0, &params.loadings, &params.hinted, params.d, &pen)
                });
                let new_loss = if step.want_loss {
                    new_loss
                } else {
                    loss_only(learners, correct, u, trial, new_d)
                };
                let new_j = block_objective(new_loss, trial, &params.hinted, new_d, &pen);
                new_j <= j0 + 1e-4 * t * slope
            };
            if decreased {
                std::mem::swap(&mut params.loadings, trial);
                params.d = new_d;
                loss = step.want_loss.then_some(new_loss);
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // Restore gradient state is unnecessary: we stop iterating on this block.
            break;
        }
    }
    // Drop off-hint loadings that reached zero: they stay inactive until screening
    // finds their KKT condition violated again.
    if !step.fixed_loadings {
        let mut keep = 0;
        for a in 0..params.loadings.len() {
            if params.hinted[a] || params.loadings[a].1 > 0.0 {
                params.loadings[keep] = params.loadings[a];
                params.hinted[keep] = params.hinted[a];
                keep += 1;
            }
        }
        params.loadings.truncate(keep);
        params.hinted.truncate(keep);
    }
    report.loss = if step.want_loss {
        Some(loss.unwrap_or_else(|| loss_only(learners, correct, u, &params.loadings, params.d)))
    } else {
        None
    };
    report
}

/// What bounds the curvature of the block objective along a step: the Hessian, Gram
/// matrix and reach of the pass at the step's start (see [`Curvature::proves_decrease`]).
struct Curvature<'a> {
    hess: &'a [f64],
    gram: &'a [f64],
    reach: &'a [f64],
    m: usize,
    nvar: usize,
}

impl Curvature<'_> {
    /// Whether the full step `delta` is proven to meet the Armijo condition
    /// `φ(1) ≤ φ(0) + 10⁻⁴ φ'(0)` of the block objective φ along it without evaluating
    /// φ: by Taylor, `φ(1) − φ(0) ≤ φ'(0) + ½ sup φ''` on the segment, and two bounds
    /// on `φ''` hold there:
    ///
    /// - the logistic curvature κ is at most 1/4, so `φ'' ≤ λ_f/4 · δᵀGδ + δᵀPδ` with
    ///   `G` the Gram matrix of the pass and `P` the penalties' Hessian;
    /// - `|κ'| ≤ κ`, so each cell's κ grows at most by `e^{|Δz_i|}` along the step, and
    ///   `|Δz_i| ≤ M = Σ_a |δ_a| reach_a`: `φ'' ≤ e^M δᵀHδ` with `H` the block Hessian
    ///   at the start.
    ///
    /// Near the optimum a Newton step has `φ'(0) ≈ −δᵀHδ` and a small `M`, so the second
    /// bound nearly always proves the decrease, and the pass that would check the step
    /// (half of the fit's sigmoids) is saved.
    fn proves_decrease(&self, slope: f64, delta: &[f64], hinted: &[bool], pen: &Penalties) -> bool {
        let m = self.m;
        let form = |matrix: &[f64]| {
            let mut q = 0.0;
            for a in 0..m {
                q += matrix[a * m + a] * delta[a] * delta[a];
                for b in a + 1..m {
                    q += 2.0 * matrix[a * m + b] * delta[a] * delta[b];
                }
            }
            q
        };
        let mut penalty = 2.0 * pen.intercept * delta[self.nvar] * delta[self.nvar];
        for a in 0..self.nvar {
            if hinted[a] {
                penalty += 2.0 * pen.hinted * delta[a] * delta[a];
            }
        }
        let reach: f64 = delta.iter().zip(self.reach).map(|(d, r)| d.abs() * r).sum();
        let by_gram = 0.25 * pen.data * form(self.gram) + penalty;
        // `hess` already holds the full block Hessian (data and penalties).
        let by_growth = if reach < 30.0 {
            reach.exp() * form(self.hess)
        } else {
            f64::INFINITY
        };
        slope + 0.5 * by_gram.min(by_growth) <= 1e-4 * slope
    }
}

/// The data loss Σ ℓ of the question's cells at `(loadings, d)`.
fn loss_only(
    learners: &[u32],
    correct: &[bool],
    u: KnowledgeColumns,
    loadings: &[(u32, f64)],
    d: f64,
) -> f64 {
    learners
        .iter()
        .zip(correct)
        .map(|(&l, &y)| {
            let z = d + loadings.iter().map(|&(k, w)| w * u.get(l, k)).sum::<f64>();
            logistic_loss(y, z)
        })
        .sum()
}

/// Projected Gauss–Seidel for `min gᵀs + ½ sᵀHs` with `w_a + s_a ≥ 0` on loadings.
fn solve_box_qp(
    grad: &[f64],
    hess: &[f64],
    m: usize,
    nvar: usize,
    loadings: &[(u32, f64)],
    delta: &mut Vec<f64>,
    qgrad: &mut Vec<f64>,
) {
    delta.clear();
    delta.resize(m, 0.0);
    qgrad.clear();
    qgrad.extend_from_slice(grad);
    let h = |a: usize, b: usize| {
        if a <= b {
            hess[a * m + b]
        } else {
            hess[b * m + a]
        }
    };
    for _ in 0..200 {
        let mut change = 0.0f64;
        let mut size = 0.0f64;
        for i in 0..m {
            let hii = h(i, i).max(1e-12);
            let mut s = delta[i] - qgrad[i] / hii;
            if i < nvar {
                s = s.max(-loadings[i].1);
            }
            let diff = s - delta[i];
            if diff != 0.0 {
                delta[i] = s;
                for (j, qg) in qgrad.iter_mut().enumerate() {
                    *qg += h(j, i) * diff;
                }
            }
            change = change.max(diff.abs());
            size = size.max(s.abs());
        }
        if change <= 1e-13 * (1.0 + size) {
            break;
        }
    }
}

/// Activates the off-hint concepts whose data gradient `dense` (`Σ_l U_kl r_ql`, from
/// the learner half-step) violates `∂J/∂W_kq ≥ 0` at zero.
fn screen(
    dense: &[f64],
    params: &mut QuestionParams,
    pen: &Penalties,
    tolerance: f64,
    report: &mut QuestionReport,
) {
    let mut added = Vec::new();
    let mut a = 0;
    for (k, &g) in dense.iter().enumerate() {
        while a < params.loadings.len() && (params.loadings[a].0 as usize) < k {
            a += 1;
        }
        if a < params.loadings.len() && params.loadings[a].0 as usize == k {
            continue;
        }
        let full = pen.data * g + pen.unhinted;
        if full < 0.0 {
            report.kkt = report.kkt.max(-full);
            // Violations below the tolerance are reported but not acted on, so that
            // rounding noise cannot keep activating and dropping a loading forever.
            if -full > tolerance {
                added.push(k as u32);
            }
        }
    }
    if added.is_empty() {
        return;
    }
    report.added = added.len();
    let mut merged: Vec<(u32, f64, bool)> = params
        .loadings
        .iter()
        .zip(&params.hinted)
        .map(|(&(k, w), &h)| (k, w, h))
        .chain(added.into_iter().map(|k| (k, 0.0, false)))
        .collect();
    merged.sort_by_key(|e| e.0);
    params.loadings = merged.iter().map(|e| (e.0, e.1)).collect();
    params.hinted = merged.iter().map(|e| e.2).collect();
}
