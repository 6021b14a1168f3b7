//! The learner block: cyclic coordinate Newton on one learner's knowledge `u_l`.
//!
//! For fixed `W`, `d` the learner's part of J is exactly the MAP objective g(u) of §5,
//! strictly convex with Hessian `Σ κ_q w_q w_qᵀ + 2λ_U I`. Because each `w_q` has one or
//! two non-zeros, that Hessian is nearly diagonal and exact coordinate minimisation
//! converges in a few sweeps at a fraction of the cost of a dense Cholesky when the
//! learner touches many concepts. Concepts the learner's questions do not load on have
//! zero data gradient, so their optimum is exactly `u_k = 0` (the §5 active set).

use super::math::sigmoid;
use crate::sparfa::model::{QuestionIndex, SparfaModel};

/// Read access to per-question loadings and intercepts (fit state or fitted model).
pub(crate) trait Loadings: Sync {
    /// Non-zero (or active) loadings of question `q` as `(concept, weight)`.
    fn loadings(&self, q: usize) -> &[(u32, f64)];
    /// Intercept `d_q`.
    fn intercept(&self, q: usize) -> f64;
}

impl Loadings for SparfaModel {
    fn loadings(&self, q: usize) -> &[(u32, f64)] {
        &self.loadings[q]
    }
    fn intercept(&self, q: usize) -> f64 {
        self.intercepts[q]
    }
}

/// Largest knowledge step per coordinate update; guards the first Newton steps of a
/// learner whose responses are all correct or all wrong.
const STEP_CAP: f64 = 2.0;

/// The positive loadings and intercepts of every question in three flat arrays, built
/// once per half-step: the learner updates read them for every cell, and flat arrays
/// cost one bounds-checked load where the per-question vectors cost a pointer chase.
#[derive(Default)]
pub(crate) struct FlatLoadings {
    /// Question `q`'s loadings are entries `starts[q]..starts[q + 1]`.
    starts: Vec<usize>,
    concepts: Vec<u32>,
    weights: Vec<f64>,
    intercepts: Vec<f64>,
    /// Whether every loading is on concept 0 (2PL, Rasch): no grouping by concept needed.
    one_concept: bool,
}

impl FlatLoadings {
    /// The table of `params`' `questions` questions (loadings that are not positive are
    /// left out: they contribute nothing to `z` nor to a learner's gradient).
    pub(crate) fn new<L: Loadings + ?Sized>(params: &L, questions: usize) -> Self {
        let mut flat = FlatLoadings {
            starts: Vec::with_capacity(questions + 1),
            one_concept: true,
            ..FlatLoadings::default()
        };
        flat.starts.push(0);
        for q in 0..questions {
            for &(k, w) in params.loadings(q) {
                if w > 0.0 {
                    flat.concepts.push(k);
                    flat.weights.push(w);
                    flat.one_concept &= k == 0;
                }
            }
            flat.starts.push(flat.concepts.len());
            flat.intercepts.push(params.intercept(q));
        }
        flat
    }
}

/// Reusable buffers for [`update_learner`].
#[derive(Default)]
pub(crate) struct LearnerScratch {
    z: Vec<f64>,
    starts: Vec<usize>,
    next: Vec<usize>,
    incidence: Vec<(u32, f64)>,
}

/// Settings of one learner update.
#[derive(Clone, Copy)]
pub(crate) struct LearnerStep {
    /// λ_f.
    pub data: f64,
    /// λ_U.
    pub prior: f64,
    /// Maximum number of coordinate sweeps.
    pub sweeps: usize,
    /// Stop sweeping once every coordinate gradient in a sweep is below this.
    pub tolerance: f64,
    /// Over-relaxation factor of each coordinate Newton step (1 = exact minimisation).
    pub relaxation: f64,
}

/// Updates `u` (length = concepts) for a learner with the given responses and returns
/// the largest absolute coordinate gradient met in the first sweep (a KKT measure of the
/// point the update started from).
pub(crate) fn update_learner(
    questions: &[QuestionIndex],
    correct: &[bool],
    table: &FlatLoadings,
    u: &mut [f64],
    step: LearnerStep,
    scratch: &mut LearnerScratch,
) -> f64 {
    let k_count = u.len();
    let LearnerScratch {
        z,
        starts,
        next,
        incidence,
    } = scratch;
    z.clear();
    incidence.clear();
    starts.clear();
    if table.one_concept {
        // Every loading is on concept 0: the incidence is the questions in order.
        for (i, &q) in questions.iter().enumerate() {
            let q = q as usize;
            let mut zq = table.intercepts[q];
            for j in table.starts[q]..table.starts[q + 1] {
                zq += table.weights[j] * u[0];
                incidence.push((i as u32, table.weights[j]));
            }
            z.push(zq);
        }
        starts.push(0);
        starts.push(incidence.len());
        starts.resize(k_count + 1, incidence.len());
    } else {
        starts.resize(k_count + 1, 0);
        for &q in questions {
            let q = q as usize;
            let mut zq = table.intercepts[q];
            for j in table.starts[q]..table.starts[q + 1] {
                let k = table.concepts[j] as usize;
                zq += table.weights[j] * u[k];
                starts[k + 1] += 1;
            }
            z.push(zq);
        }
        for k in 0..k_count {
            starts[k + 1] += starts[k];
        }
        incidence.resize(starts[k_count], (0, 0.0));
        next.clear();
        next.extend_from_slice(&starts[..k_count]);
        for (i, &q) in questions.iter().enumerate() {
            let q = q as usize;
            for j in table.starts[q]..table.starts[q + 1] {
                let k = table.concepts[j] as usize;
                incidence[next[k]] = (i as u32, table.weights[j]);
                next[k] += 1;
            }
        }
    }
    let two_prior = 2.0 * step.prior;
    let mut first_max = 0.0f64;
    for sweep in 0..step.sweeps.max(1) {
        let mut sweep_max = 0.0f64;
        for k in 0..k_count {
            let (a, b) = (starts[k], starts[k + 1]);
            if a == b {
                sweep_max = sweep_max.max((two_prior * u[k]).abs());
                u[k] = 0.0;
                continue;
            }
            let mut g = 0.0;
            let mut h = 0.0;
            for &(i, w) in &incidence[a..b] {
                let p = sigmoid(z[i as usize]);
                let y = f64::from(u8::from(correct[i as usize]));
                g += w * (p - y);
                h += w * w * p * (1.0 - p);
            }
            let g = step.data * g + two_prior * u[k];
            let h = step.data * h + two_prior;
            sweep_max = sweep_max.max(g.abs());
            let delta = (-g / h * step.relaxation).clamp(-STEP_CAP, STEP_CAP);
            if delta != 0.0 {
                u[k] += delta;
                for &(i, w) in &incidence[a..b] {
                    z[i as usize] += w * delta;
                }
            }
        }
        if sweep == 0 {
            first_max = sweep_max;
        }
        if sweep_max < step.tolerance {
            break;
        }
    }
    first_max
}

/// After [`update_learner`], adds `r_q · u` (`r = σ(z) − y` at the updated `u`) to
/// `gradient[q·K .. (q+1)·K]` for each of the learner's questions: the learner's share
/// of the data gradient `Σ_l U_kl r_ql` of every loading, used to screen off-hint
/// concepts. Reads `u` once, so it costs far less memory traffic than a per-question sum.
pub(crate) fn add_loading_gradient(
    questions: &[QuestionIndex],
    correct: &[bool],
    u: &[f64],
    scratch: &LearnerScratch,
    gradient: &mut [f64],
) {
    let k_count = u.len();
    for ((&q, &y), &z) in questions.iter().zip(correct).zip(&scratch.z) {
        let r = sigmoid(z) - if y { 1.0 } else { 0.0 };
        let column = &mut gradient[q as usize * k_count..(q as usize + 1) * k_count];
        for (g, &v) in column.iter_mut().zip(u) {
            *g += r * v;
        }
    }
}
