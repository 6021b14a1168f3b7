//! Shared helpers of the sparfa_infer* integration tests.
#![allow(dead_code)]

use biglearn_core::sparfa::{ConceptIndex, LearnerResponse, Penalties, SparfaModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A model from per-question loadings and intercepts; hints = the first loaded concept.
pub fn model(
    num_concepts: usize,
    loadings: Vec<Vec<(ConceptIndex, f64)>>,
    intercepts: Vec<f64>,
    lambda_u: f64,
) -> SparfaModel {
    let hints = loadings
        .iter()
        .map(|row| row.first().map(|&(k, _)| vec![k]).unwrap_or_default())
        .collect();
    SparfaModel {
        question_ids: (0..loadings.len()).map(|q| format!("q{q}")).collect(),
        concept_ids: (0..num_concepts).map(|k| format!("c{k}")).collect(),
        loadings,
        intercepts,
        hints,
        penalties: Penalties {
            learner: lambda_u,
            ..Penalties::default()
        },
        pooled_loadings: Vec::new(),
    }
}

/// Standard normal draw by Box–Muller.
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// σ(z).
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A synthetic truth in the §8.4 style: each question has one hinted concept
/// (`U(0.5, 2)`), with probability 0.1 an off-hint loading `U(0.1, 0.5)`;
/// `d ~ N(0.5, 1)`; learners `U ~ N(0, 1)`; each cell observed with `density`.
pub struct Synthetic {
    pub truth: SparfaModel,
    /// Learner-major, learners × concepts.
    pub knowledge: Vec<f64>,
    pub responses: Vec<Vec<LearnerResponse>>,
}

pub fn synthetic(
    concepts: usize,
    per_concept: usize,
    learners: usize,
    density: f64,
    lambda_u: f64,
    seed: u64,
) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nq = concepts * per_concept;
    let mut loadings = Vec::with_capacity(nq);
    let mut intercepts = Vec::with_capacity(nq);
    for q in 0..nq {
        let k = (q / per_concept) as ConceptIndex;
        let mut row = vec![(k, rng.gen_range(0.5..2.0))];
        if concepts > 1 && rng.gen::<f64>() < 0.1 {
            let mut other = rng.gen_range(0..concepts as ConceptIndex - 1);
            if other >= k {
                other += 1;
            }
            row.push((other, rng.gen_range(0.1..0.5)));
            row.sort_by_key(|&(c, _)| c);
        }
        loadings.push(row);
        intercepts.push(0.5 + normal(&mut rng));
    }
    let mut truth = model(concepts, loadings, intercepts, lambda_u);
    truth.hints = (0..nq)
        .map(|q| vec![(q / per_concept) as ConceptIndex])
        .collect();
    let knowledge: Vec<f64> = (0..learners * concepts).map(|_| normal(&mut rng)).collect();
    let mut responses = vec![Vec::new(); learners];
    for (l, book) in responses.iter_mut().enumerate() {
        let u = &knowledge[l * concepts..(l + 1) * concepts];
        for q in 0..nq {
            if rng.gen::<f64>() < density {
                let p = sigmoid(truth.logit(q as u32, u));
                book.push(LearnerResponse::new(q as u32, rng.gen::<f64>() < p));
            }
        }
    }
    Synthetic {
        truth,
        knowledge,
        responses,
    }
}
