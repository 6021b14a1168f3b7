//! The result of per-learner inference: MAP knowledge plus Laplace covariance.

use nalgebra::DMatrix;

use crate::sparfa::model::ConceptIndex;

use super::NEWTON_TOLERANCE;

/// MAP knowledge `û` of one learner and its Laplace covariance (sparfa.md §5).
///
/// The covariance is block diagonal: `(∇²g(û))⁻¹` on the active concepts (those
/// loaded by at least one answered question) and the prior variance `(2λ_U)⁻¹`
/// times the identity elsewhere. Because the Hessian includes the prior
/// precision, every variance is at most the prior variance ("floored Fisher
/// information").
#[derive(Debug, Clone, PartialEq)]
pub struct LearnerEstimate {
    knowledge: Vec<f64>,
    active: Vec<ConceptIndex>,
    covariance: DMatrix<f64>,
    prior_variance: f64,
    iterations: usize,
    gradient_norm: f64,
    num_responses: usize,
}

impl LearnerEstimate {
    pub(super) fn new(
        knowledge: Vec<f64>,
        active: Vec<ConceptIndex>,
        covariance: DMatrix<f64>,
        prior_variance: f64,
        iterations: usize,
        gradient_norm: f64,
        num_responses: usize,
    ) -> Self {
        LearnerEstimate {
            knowledge,
            active,
            covariance,
            prior_variance,
            iterations,
            gradient_norm,
            num_responses,
        }
    }

    /// The dense knowledge vector û (length = the model's concepts; 0 outside the active set).
    pub fn knowledge(&self) -> &[f64] {
        &self.knowledge
    }

    /// Consumes the estimate and returns the dense knowledge vector.
    pub fn into_knowledge(self) -> Vec<f64> {
        self.knowledge
    }

    /// The active concepts, sorted; row/column `i` of [`Self::active_covariance`] is `active_concepts()[i]`.
    pub fn active_concepts(&self) -> &[ConceptIndex] {
        &self.active
    }

    /// The Laplace covariance restricted to the active concepts.
    pub fn active_covariance(&self) -> &DMatrix<f64> {
        &self.covariance
    }

    /// The prior variance `(2λ_U)⁻¹` used outside the active set.
    pub fn prior_variance(&self) -> f64 {
        self.prior_variance
    }

    /// Number of responses that entered the estimate (questions inside the model).
    pub fn num_responses(&self) -> usize {
        self.num_responses
    }

    /// Newton iterations taken.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// `‖∇g(û)‖∞` at the returned point.
    pub fn gradient_norm(&self) -> f64 {
        self.gradient_norm
    }

    /// Whether Newton met the gradient tolerance (always true for finite models in practice).
    pub fn converged(&self) -> bool {
        self.gradient_norm < NEWTON_TOLERANCE
    }

    /// Position of concept `k` in the active set, if active.
    fn position(&self, k: ConceptIndex) -> Option<usize> {
        self.active.binary_search(&k).ok()
    }

    /// The covariance entry `Σ[k, l]` for concepts `k`, `l`.
    pub fn covariance(&self, k: ConceptIndex, l: ConceptIndex) -> f64 {
        match (self.position(k), self.position(l)) {
            (Some(i), Some(j)) => self.covariance[(i, j)],
            (None, None) if k == l => self.prior_variance,
            _ => 0.0,
        }
    }

    /// `vᵀ Σ v` for a sparse vector of `(concept, value)` pairs.
    ///
    /// Repeated concepts are summed, as if `v` were first made dense.
    /// Concepts outside the model contribute with the prior variance.
    pub fn variance_sparse(&self, v: &[(ConceptIndex, f64)]) -> f64 {
        let mut total = 0.0;
        for &(k, x) in v {
            match self.position(k) {
                Some(i) => {
                    for &(l, y) in v {
                        if let Some(j) = self.position(l) {
                            total += x * y * self.covariance[(i, j)];
                        }
                    }
                }
                None => {
                    // Inactive block is diagonal: only equal concepts interact.
                    for &(l, y) in v {
                        if l == k {
                            total += x * y * self.prior_variance;
                        }
                    }
                }
            }
        }
        total
    }

    /// `vᵀ Σ v` for a dense vector (indexed by concept; a short vector is zero-padded).
    pub fn variance_dense(&self, v: &[f64]) -> f64 {
        let mut total = 0.0;
        for (i, &k) in self.active.iter().enumerate() {
            let x = v.get(k as usize).copied().unwrap_or(0.0);
            if x == 0.0 {
                continue;
            }
            for (j, &l) in self.active.iter().enumerate() {
                let y = v.get(l as usize).copied().unwrap_or(0.0);
                total += x * y * self.covariance[(i, j)];
            }
        }
        let inactive_sq: f64 = v
            .iter()
            .enumerate()
            .filter(|&(k, _)| self.position(k as ConceptIndex).is_none())
            .map(|(_, x)| x * x)
            .sum();
        total + inactive_sq * self.prior_variance
    }
}
