//! Synthetic data with known truth (the generator of "F1 evidence" / §8.4).
//!
//! Each question gets one hinted concept and, with probability 0.1, a second one; hinted
//! loadings are `U(0.5, 2)`; with probability 0.1 a question also loads on one unhinted
//! concept with `U(0.1, 0.5)`; `U ~ N(0, 1)`, `d ~ N(0, 1)`; each learner × question cell
//! is observed independently with probability `density`, and `y ~ Bernoulli(σ(z))`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::data::{Cell, Hints, ResponseSet};
use super::error::{Result, SparfaError};
use super::fit::math::sigmoid;
use super::model::{Penalties, SparfaModel};

/// Sizes, density and seed of a synthetic data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    /// Learners.
    pub learners: usize,
    /// Questions.
    pub questions: usize,
    /// Concepts.
    pub concepts: usize,
    /// Probability that a cell is observed.
    pub density: f64,
    /// RNG seed (ChaCha8).
    pub seed: u64,
}

/// A generated data set and the truth it came from.
#[derive(Debug, Clone)]
pub struct SynthData {
    /// The observed responses (learners `l0…`, questions `q0…`).
    pub responses: ResponseSet,
    /// The hint mask (concepts `c0…`).
    pub hints: Hints,
    /// True W, d, H (as a model whose λ_U = 0.5 is the true N(0, 1) knowledge prior).
    pub truth: SparfaModel,
    /// True knowledge, learner-major.
    pub knowledge: Vec<f64>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; u1 in (0, 1] keeps the logarithm finite.
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Generates a data set. Needs at least one learner, question and concept, and two
/// concepts if any question is to get a second or an unhinted one.
pub fn generate(config: &SynthConfig) -> Result<SynthData> {
    let SynthConfig {
        learners,
        questions,
        concepts,
        density,
        seed,
    } = *config;
    if learners == 0 || questions == 0 || concepts == 0 {
        return Err(SparfaError::InvalidOption {
            name: "synth",
            message: "learners, questions and concepts must all be at least 1".into(),
        });
    }
    if !(density > 0.0 && density <= 1.0) {
        return Err(SparfaError::InvalidOption {
            name: "density",
            message: format!("{density} is not in (0, 1]"),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut loadings = Vec::with_capacity(questions);
    let mut hints = Vec::with_capacity(questions);
    for _ in 0..questions {
        let first = rng.gen_range(0..concepts) as u32;
        let mut hinted = vec![first];
        if concepts > 1 && rng.gen::<f64>() < 0.1 {
            let mut second = rng.gen_range(0..concepts - 1) as u32;
            if second >= first {
                second += 1;
            }
            hinted.push(second);
        }
        let mut w: Vec<(u32, f64)> = hinted
            .iter()
            .map(|&k| (k, rng.gen_range(0.5..2.0)))
            .collect();
        if concepts > hinted.len() && rng.gen::<f64>() < 0.1 {
            let free: Vec<u32> = (0..concepts as u32)
                .filter(|k| !hinted.contains(k))
                .collect();
            let k = free[rng.gen_range(0..free.len())];
            w.push((k, rng.gen_range(0.1..0.5)));
        }
        w.sort_by_key(|e| e.0);
        hinted.sort_unstable();
        loadings.push(w);
        hints.push(hinted);
    }
    let intercepts: Vec<f64> = (0..questions).map(|_| normal(&mut rng)).collect();
    let knowledge: Vec<f64> = (0..learners * concepts).map(|_| normal(&mut rng)).collect();
    let question_ids: Vec<String> = (0..questions).map(|q| format!("q{q}")).collect();
    let concept_ids: Vec<String> = (0..concepts).map(|k| format!("c{k}")).collect();
    let learner_ids: Vec<String> = (0..learners).map(|l| format!("l{l}")).collect();
    let truth = SparfaModel {
        question_ids: question_ids.clone(),
        concept_ids: concept_ids.clone(),
        loadings,
        intercepts,
        hints: hints.clone(),
        // U ~ N(0, 1) is the prior 2λ_U = 1: inference with the true model uses it.
        penalties: Penalties {
            learner: 0.5,
            ..Penalties::default()
        },
        pooled_loadings: Vec::new(),
    };
    let mut cells = Vec::new();
    for l in 0..learners {
        let u = &knowledge[l * concepts..(l + 1) * concepts];
        for q in 0..questions {
            if rng.gen::<f64>() < density {
                let p = sigmoid(truth.logit(q as u32, u));
                cells.push(Cell {
                    learner: l as u32,
                    question: q as u32,
                    correct: rng.gen::<f64>() < p,
                });
            }
        }
    }
    Ok(SynthData {
        responses: ResponseSet::from_dense(learner_ids, question_ids, cells)?,
        hints: Hints::new(concept_ids, hints)?,
        truth,
        knowledge,
    })
}
