//! The fitted SPARFA model shared by fitting, learner inference, CLUEs and TeSR.

use serde::{Deserialize, Serialize};

/// Dense index of a concept (a page of the book, or one concept for 2PL).
pub type ConceptIndex = u32;
/// Dense index of a question (exercise).
pub type QuestionIndex = u32;

/// The objective weights of sparfa.md §4.5 with the defaults of decision F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Penalties {
    /// λ_f, weight of the data term.
    pub data: f64,
    /// λ_H, ℓ2 weight on hinted loadings.
    pub hinted: f64,
    /// λ_H̄, ℓ1 weight on off-hint loadings.
    pub unhinted: f64,
    /// λ_d, ℓ2 weight on intercepts.
    pub intercept: f64,
    /// λ_U, ℓ2 weight on learner knowledge (the learner prior precision is 2λ_U).
    pub learner: f64,
}

impl Default for Penalties {
    fn default() -> Self {
        Penalties {
            data: 1.0,
            hinted: 2.0,
            unhinted: 10.0,
            intercept: 0.05,
            learner: 2.0,
        }
    }
}

/// A fitted model: `P(correct) = σ(w_qᵀ u + d_q)` (logistic link, F1).
///
/// Questions and concepts are dense indices; [`SparfaModel::question_ids`] and
/// [`SparfaModel::concept_ids`] map them back to the caller's ids (exercise and
/// page uuids in the engine, CSV strings in the CLI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparfaModel {
    /// External id of each question, by index.
    pub question_ids: Vec<String>,
    /// External id of each concept, by index.
    pub concept_ids: Vec<String>,
    /// W by question: the non-zero loadings `(concept, weight > 0)`, sorted by concept.
    pub loadings: Vec<Vec<(ConceptIndex, f64)>>,
    /// d by question (larger = easier).
    pub intercepts: Vec<f64>,
    /// H by question: hinted concepts, sorted.
    pub hints: Vec<Vec<ConceptIndex>>,
    /// The weights the model was fitted with (λ_U is the learner prior).
    pub penalties: Penalties,
    /// W with each concept's hinted loadings pooled towards the concept's typical
    /// loading (empirical Bayes, see [`crate::sparfa::fit`]'s `pooled` module), the
    /// loadings CLUEs use by default ([`crate::sparfa::ClueLoadings`]): an exercise few
    /// learners answered keeps the loading of its page instead of collapsing towards 0.
    /// Same shape as `loadings`; empty when unknown (models saved before it existed,
    /// models built by hand), and then CLUEs use `loadings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pooled_loadings: Vec<Vec<(ConceptIndex, f64)>>,
}

impl SparfaModel {
    /// Number of questions.
    pub fn num_questions(&self) -> usize {
        self.question_ids.len()
    }

    /// Number of concepts.
    pub fn num_concepts(&self) -> usize {
        self.concept_ids.len()
    }

    /// The loadings CLUEs read with `pooled`: [`SparfaModel::pooled_loadings`] when the
    /// model has them (one row per question), otherwise the fitted `loadings`.
    pub fn clue_loadings(&self, pooled: bool) -> &[Vec<(ConceptIndex, f64)>] {
        if pooled && self.pooled_loadings.len() == self.loadings.len() {
            &self.pooled_loadings
        } else {
            &self.loadings
        }
    }

    /// The logit `w_qᵀ u + d_q` for a dense knowledge vector `u` (length = concepts).
    pub fn logit(&self, question: QuestionIndex, knowledge: &[f64]) -> f64 {
        let q = question as usize;
        self.loadings[q]
            .iter()
            .map(|&(k, w)| w * knowledge[k as usize])
            .sum::<f64>()
            + self.intercepts[q]
    }
}
