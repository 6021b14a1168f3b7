//! Per-learner inference of concept knowledge for a fixed model (sparfa.md §5).
//!
//! For a learner with graded entries `O = {(q, y)}` the MAP knowledge vector
//! minimises
//!
//! ```text
//! g(u) = Σ_{(q,y)∈O} ℓ(y, w_qᵀu + d_q) + λ_U ‖u‖²,   ℓ(y, z) = softplus(z) − y z
//! ```
//!
//! which is strictly convex. [`infer_learner`] solves it by Newton's method with
//! a Cholesky solve (nalgebra) and step halving, starting from `u = 0` and
//! stopping when `‖∇g‖∞ < 1e-8` ([`NEWTON_TOLERANCE`]) or after
//! [`MAX_NEWTON_ITERATIONS`]. Only the *active* concepts (those loaded by an
//! answered question) are optimised; the others stay exactly 0. The Laplace
//! covariance is `(∇²g(û))⁻¹` on the active set and the prior variance
//! `(2λ_U)⁻¹` elsewhere ([`LearnerEstimate`]).
//!
//! Everything is evaluated in log space with a stable softplus, so learners with
//! tens of thousands of responses never underflow or overflow.
//!
//! The data weight λ_f of the fitting objective is not used here: §5 defines the
//! posterior with unit data weight and prior precision 2λ_U.

use nalgebra::{Cholesky, DMatrix, DVector};

use super::model::{ConceptIndex, Penalties, QuestionIndex, SparfaModel};
use super::normal::{logistic_loss, sigmoid, sigmoid_pair};

mod estimate;
mod timed;

pub use estimate::LearnerEstimate;
pub use timed::{infer_learner_latest, latest_responses, TimedResponse, Timestamp};

/// Newton stops once the largest absolute gradient entry is below this.
pub const NEWTON_TOLERANCE: f64 = 1e-8;
/// Newton stops after this many iterations even if not converged.
pub const MAX_NEWTON_ITERATIONS: usize = 50;
/// Lower bound on the prior precision 2λ_U, so a model fitted with λ_U = 0
/// (or a corrupt, non-finite λ_U) still gives a well-posed, finite posterior.
pub const MIN_PRIOR_PRECISION: f64 = 1e-6;
/// Step halvings tried before Newton declares that no decrease is possible
/// (the iterate is then optimal to machine precision).
const MAX_HALVINGS: usize = 40;
/// Relative size of a Newton decrement below which g cannot resolve the
/// decrease (a few hundred ulps), so the full step is taken unchecked.
const ROUNDING_DECREMENT: f64 = 1e-13;
/// Marks a concept that is not in the active set in the scratch map.
const INACTIVE: u32 = u32::MAX;

/// One graded entry of a learner: the question (model index) and whether the
/// answer was correct. Build these with the §3.3 rule (latest response per
/// exercise), e.g. via [`latest_responses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LearnerResponse {
    /// Model index of the question.
    pub question: QuestionIndex,
    /// `true` if the answer was correct (y = 1).
    pub correct: bool,
}

impl LearnerResponse {
    /// A response to `question` that was `correct` or not.
    pub fn new(question: QuestionIndex, correct: bool) -> Self {
        LearnerResponse { question, correct }
    }
}

/// The prior precision of a learner's knowledge, `max(2λ_U, MIN_PRIOR_PRECISION)`.
pub fn prior_precision(penalties: &Penalties) -> f64 {
    let precision = 2.0 * penalties.learner;
    if precision.is_finite() && precision > MIN_PRIOR_PRECISION {
        precision
    } else {
        MIN_PRIOR_PRECISION
    }
}

/// MAP knowledge and Laplace covariance of one learner (sparfa.md §5).
///
/// Responses whose question index is outside the model are ignored (the
/// spec's "responses to unknown questions are ignored"); every other entry
/// counts, duplicates included, so de-duplicate with [`latest_responses`]
/// first when the input is a raw response log. Allocates fresh scratch
/// buffers; use [`LearnerWorkspace`] to reuse them across learners.
///
/// ```
/// use biglearn_core::sparfa::{infer_learner, LearnerResponse, Penalties, SparfaModel};
/// let model = SparfaModel {
///     question_ids: vec!["q0".into(), "q1".into()],
///     concept_ids: vec!["c0".into()],
///     loadings: vec![vec![(0, 1.0)], vec![(0, 1.5)]],
///     intercepts: vec![0.0, -0.5],
///     hints: vec![vec![0], vec![0]],
///     penalties: Penalties::default(),
///     pooled_loadings: Vec::new(),
/// };
/// let answers = [LearnerResponse::new(0, true), LearnerResponse::new(1, true)];
/// let estimate = infer_learner(&model, &answers);
/// assert!(estimate.knowledge()[0] > 0.0);
/// assert!(estimate.converged());
/// assert!(estimate.variance_sparse(&[(0, 1.0)]) < estimate.prior_variance());
/// ```
pub fn infer_learner(model: &SparfaModel, responses: &[LearnerResponse]) -> LearnerEstimate {
    LearnerWorkspace::default().infer(model, responses)
}

/// The MAP objective `g(u)` of §5 at a dense knowledge vector (length = concepts).
///
/// Exposed for verification (finite-difference checks, objective comparisons).
/// Out-of-range questions are ignored as in [`infer_learner`]; missing
/// knowledge entries (a short vector) count as 0.
pub fn learner_objective(
    model: &SparfaModel,
    responses: &[LearnerResponse],
    knowledge: &[f64],
) -> f64 {
    let half_precision = 0.5 * prior_precision(&model.penalties);
    let prior: f64 = knowledge.iter().map(|u| u * u).sum::<f64>() * half_precision;
    let data: f64 = valid(model, responses)
        .map(|r| logistic_loss(r.correct, dense_logit(model, r.question, knowledge)))
        .sum();
    data + prior
}

/// The gradient `∇g(u)` of [`learner_objective`] (length = concepts).
pub fn learner_gradient(
    model: &SparfaModel,
    responses: &[LearnerResponse],
    knowledge: &[f64],
) -> Vec<f64> {
    let precision = prior_precision(&model.penalties);
    let mut gradient: Vec<f64> = (0..model.num_concepts())
        .map(|k| precision * knowledge.get(k).copied().unwrap_or(0.0))
        .collect();
    for r in valid(model, responses) {
        let residual = residual(r.correct, dense_logit(model, r.question, knowledge));
        for &(k, w) in &model.loadings[r.question as usize] {
            if let Some(g) = gradient.get_mut(k as usize) {
                *g += residual * w;
            }
        }
    }
    gradient
}

/// `σ(z) − y`, computed without cancellation (`−σ(−z)` for a correct answer).
fn residual(correct: bool, z: f64) -> f64 {
    if correct {
        -sigmoid(-z)
    } else {
        sigmoid(z)
    }
}

fn valid<'a>(
    model: &'a SparfaModel,
    responses: &'a [LearnerResponse],
) -> impl Iterator<Item = &'a LearnerResponse> + 'a {
    let n = model
        .num_questions()
        .min(model.loadings.len())
        .min(model.intercepts.len());
    responses.iter().filter(move |r| (r.question as usize) < n)
}

fn dense_logit(model: &SparfaModel, question: QuestionIndex, knowledge: &[f64]) -> f64 {
    let q = question as usize;
    model.loadings[q]
        .iter()
        .map(|&(k, w)| w * knowledge.get(k as usize).copied().unwrap_or(0.0))
        .sum::<f64>()
        + model.intercepts[q]
}

/// Reusable scratch buffers for [`infer_learner`]; one per thread.
///
/// Inferring many learners (a teacher CLUE, a held-out evaluation) through one
/// workspace avoids re-allocating the per-learner matrices.
#[derive(Debug, Clone)]
pub struct LearnerWorkspace {
    /// Concept → position in the active set, or [`INACTIVE`]; all INACTIVE between calls.
    local: Vec<u32>,
    /// Active concepts, sorted.
    active: Vec<ConceptIndex>,
    /// Per response: start of its loadings in `entries` (length = responses + 1).
    offsets: Vec<usize>,
    /// Compact loadings `(active position, weight)`.
    entries: Vec<(u32, f64)>,
    /// Per response: intercept d_q.
    intercepts: Vec<f64>,
    /// Per response: y as 0.0 / 1.0.
    targets: Vec<f64>,
    /// Per response: current logit.
    logits: Vec<f64>,
    /// Per response: logit at the trial point.
    trial_logits: Vec<f64>,
    u: DVector<f64>,
    trial: DVector<f64>,
    gradient: DVector<f64>,
    step: DVector<f64>,
    hessian: DMatrix<f64>,
}

impl Default for LearnerWorkspace {
    fn default() -> Self {
        LearnerWorkspace {
            local: Vec::new(),
            active: Vec::new(),
            offsets: Vec::new(),
            entries: Vec::new(),
            intercepts: Vec::new(),
            targets: Vec::new(),
            logits: Vec::new(),
            trial_logits: Vec::new(),
            u: DVector::zeros(0),
            trial: DVector::zeros(0),
            gradient: DVector::zeros(0),
            step: DVector::zeros(0),
            hessian: DMatrix::zeros(0, 0),
        }
    }
}

impl LearnerWorkspace {
    /// A workspace with empty buffers (they grow on first use).
    pub fn new() -> Self {
        Self::default()
    }

    /// Same as [`infer_learner`], reusing this workspace's buffers.
    pub fn infer(&mut self, model: &SparfaModel, responses: &[LearnerResponse]) -> LearnerEstimate {
        self.infer_with_loadings(model, &model.loadings, responses)
    }

    /// [`LearnerWorkspace::infer`] with `loadings` in place of the model's W (e.g.
    /// [`SparfaModel::pooled_loadings`] for CLUEs); falls back to the model's W when
    /// `loadings` has not one row per question.
    pub fn infer_with_loadings(
        &mut self,
        model: &SparfaModel,
        loadings: &[Vec<(ConceptIndex, f64)>],
        responses: &[LearnerResponse],
    ) -> LearnerEstimate {
        let loadings = if loadings.len() == model.loadings.len() {
            loadings
        } else {
            &model.loadings
        };
        let precision = prior_precision(&model.penalties);
        self.prepare(model, loadings, responses);
        let a = self.active.len();
        let (iterations, gradient_norm) = self.newton(precision);
        let covariance = self.covariance(precision);
        let mut knowledge = vec![0.0; model.num_concepts()];
        for (i, &k) in self.active.iter().enumerate() {
            knowledge[k as usize] = self.u[i];
        }
        debug_assert_eq!(covariance.nrows(), a);
        LearnerEstimate::new(
            knowledge,
            self.active.clone(),
            covariance,
            1.0 / precision,
            iterations,
            gradient_norm,
            self.targets.len(),
        )
    }

    /// Builds the active set and the compact per-response rows.
    fn prepare(
        &mut self,
        model: &SparfaModel,
        loadings: &[Vec<(ConceptIndex, f64)>],
        responses: &[LearnerResponse],
    ) {
        let nc = model.num_concepts();
        if self.local.len() < nc {
            self.local.resize(nc, INACTIVE);
        }
        self.active.clear();
        for r in valid(model, responses) {
            for &(k, w) in &loadings[r.question as usize] {
                let ku = k as usize;
                if ku < nc && w != 0.0 && self.local[ku] == INACTIVE {
                    self.local[ku] = 0;
                    self.active.push(k);
                }
            }
        }
        self.active.sort_unstable();
        for (i, &k) in self.active.iter().enumerate() {
            self.local[k as usize] = i as u32;
        }
        self.offsets.clear();
        self.entries.clear();
        self.intercepts.clear();
        self.targets.clear();
        self.offsets.push(0);
        for r in valid(model, responses) {
            let q = r.question as usize;
            for &(k, w) in &loadings[q] {
                let ku = k as usize;
                if ku < nc && w != 0.0 {
                    self.entries.push((self.local[ku], w));
                }
            }
            self.offsets.push(self.entries.len());
            self.intercepts.push(model.intercepts[q]);
            self.targets.push(f64::from(u8::from(r.correct)));
        }
        // Restore the scratch map for the next call.
        for &k in &self.active {
            self.local[k as usize] = INACTIVE;
        }
        let a = self.active.len();
        let n = self.targets.len();
        self.u = std::mem::replace(&mut self.u, DVector::zeros(0)).resize_vertically(a, 0.0);
        self.u.fill(0.0);
        for v in [&mut self.trial, &mut self.gradient, &mut self.step] {
            if v.len() != a {
                *v = DVector::zeros(a);
            }
        }
        if self.hessian.nrows() != a {
            self.hessian = DMatrix::zeros(a, a);
        }
        self.logits.clear();
        self.logits.extend_from_slice(&self.intercepts);
        self.trial_logits.resize(n, 0.0);
    }

    /// `g` at the trial logits and trial point.
    fn objective(&self, logits: &[f64], u: &DVector<f64>, precision: f64) -> f64 {
        let data: f64 = logits
            .iter()
            .zip(&self.targets)
            .map(|(&z, &y)| logistic_loss(y > 0.5, z))
            .sum();
        data + 0.5 * precision * u.norm_squared()
    }

    /// Logits `d_q + w_qᵀ v` for every response, written into `out`.
    fn logits_at(&self, v: &DVector<f64>, out: &mut [f64]) {
        for (r, z) in out.iter_mut().enumerate() {
            let row = &self.entries[self.offsets[r]..self.offsets[r + 1]];
            *z = self.intercepts[r] + row.iter().map(|&(i, w)| w * v[i as usize]).sum::<f64>();
        }
    }

    /// Gradient and Hessian of `g` at the current point (`self.logits`, `self.u`).
    fn derivatives(&mut self, precision: f64) {
        self.gradient.copy_from(&self.u);
        self.gradient *= precision;
        self.hessian.fill(0.0);
        self.hessian.fill_diagonal(precision);
        for r in 0..self.targets.len() {
            let z = self.logits[r];
            // One exponential gives σ(z), σ(−z), the residual and the weight.
            let (p, q) = sigmoid_pair(z);
            let residual = if self.targets[r] > 0.5 { -q } else { p };
            let weight = p * q;
            let row = &self.entries[self.offsets[r]..self.offsets[r + 1]];
            for (j, &(i, wi)) in row.iter().enumerate() {
                let i = i as usize;
                self.gradient[i] += residual * wi;
                // Lower triangle only, mirrored below. Each unordered pair of
                // entries is visited once; a concept repeated within a row (not
                // produced by fitting, but representable) meets itself off the
                // pair diagonal and must count twice, as in (w₁ + w₂)².
                for (m, &(l, wl)) in row[..=j].iter().enumerate() {
                    let l = l as usize;
                    let (hi, lo) = if i >= l { (i, l) } else { (l, i) };
                    let twice = if m < j && i == l { 2.0 } else { 1.0 };
                    self.hessian[(hi, lo)] += twice * weight * wi * wl;
                }
            }
        }
        let a = self.hessian.nrows();
        for c in 0..a {
            for r in (c + 1)..a {
                self.hessian[(c, r)] = self.hessian[(r, c)];
            }
        }
    }

    /// Newton with step halving; returns (iterations, final ‖∇g‖∞).
    fn newton(&mut self, precision: f64) -> (usize, f64) {
        if self.active.is_empty() {
            return (0, 0.0);
        }
        let mut value = self.objective(&self.logits, &self.u, precision);
        let mut iterations = 0;
        loop {
            self.derivatives(precision);
            let gradient_norm = self.gradient.amax();
            if !gradient_norm.is_finite()
                || gradient_norm < NEWTON_TOLERANCE
                || iterations >= MAX_NEWTON_ITERATIONS
            {
                return (iterations, gradient_norm);
            }
            iterations += 1;
            let hessian = std::mem::replace(&mut self.hessian, DMatrix::zeros(0, 0));
            let Some(cholesky) = Cholesky::new(hessian) else {
                // Only reachable with non-finite model entries: keep the current point.
                self.hessian = DMatrix::zeros(self.active.len(), self.active.len());
                return (iterations, gradient_norm);
            };
            self.step.copy_from(&self.gradient);
            cholesky.solve_mut(&mut self.step);
            self.hessian = cholesky.unpack_dirty();
            // Newton decrement ∇gᵀ H⁻¹ ∇g: twice the predicted decrease of g.
            let decrement = self.gradient.dot(&self.step);
            let mut t = 1.0;
            let mut accepted = false;
            if decrement <= ROUNDING_DECREMENT * (1.0 + value.abs()) {
                // Inside the quadratic region the decrease of g is below its rounding
                // error, so comparing values says nothing: take the full step.
                self.u.axpy(-1.0, &self.step, 1.0);
                let mut logits = std::mem::take(&mut self.logits);
                self.logits_at(&self.u, &mut logits);
                self.logits = logits;
                value = self.objective(&self.logits, &self.u, precision);
                continue;
            }
            for _ in 0..MAX_HALVINGS {
                self.trial.copy_from(&self.u);
                self.trial.axpy(-t, &self.step, 1.0);
                let mut trial_logits = std::mem::take(&mut self.trial_logits);
                self.logits_at(&self.trial, &mut trial_logits);
                let trial_value = self.objective(&trial_logits, &self.trial, precision);
                self.trial_logits = trial_logits;
                if trial_value <= value {
                    std::mem::swap(&mut self.u, &mut self.trial);
                    std::mem::swap(&mut self.logits, &mut self.trial_logits);
                    value = trial_value;
                    accepted = true;
                    break;
                }
                t *= 0.5;
            }
            if !accepted {
                // No representable decrease: û is optimal to machine precision.
                self.derivatives(precision);
                return (iterations, self.gradient.amax());
            }
        }
    }

    /// Laplace covariance on the active set: the inverse Hessian at û.
    ///
    /// `self.hessian` holds ∇²g(û) here (Newton always returns right after
    /// evaluating the derivatives at the final point).
    fn covariance(&self, precision: f64) -> DMatrix<f64> {
        let a = self.active.len();
        if a == 0 {
            return DMatrix::zeros(0, 0);
        }
        match Cholesky::new(self.hessian.clone()) {
            Some(cholesky) => cholesky.inverse(),
            // Non-finite model entries only: fall back to the prior.
            None => DMatrix::from_diagonal_element(a, a, 1.0 / precision),
        }
    }
}
