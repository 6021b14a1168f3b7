//! The objective weights for a given λ and data size (decision F1, sparfa.md "Why").
//!
//! J is invariant under `W_k → s W_k`, `U_k → U_k / s` except for its penalties, so at
//! any KKT point each concept's scale balances `λ_H Σ_q W_kq² = λ_U Σ_l U_kl²` (plus
//! the ℓ1 part). With `n_k` hinted loadings and `N` learners per concept this gives
//! `s⁴ ∝ λ_U N / (λ_H n_k)`, and the learner prior felt in logit units is
//! `2λ_U / s² ∝ sqrt(λ_H λ_U n_k / N)`: a fixed λ shrinks knowledge less and less as
//! learners grow (at 10,000 × 1,000 × 100 with λ = 2 held-out log-loss is 0.655, the
//! prior being ~3× weaker than at the 1,000 × 200 × 20 size where F1 chose λ = 2).
//!
//! [`size_factor`] keeps that prior fixed as data grow: it is `sqrt(N / (R n̄))` with
//! `n̄` the mean hinted loadings per concept and `R` = [`REFERENCE_LEARNERS_PER_LOADING`],
//! floored at 1, so the default `λ = 2·factor` *is* F1's λ = 2 at F1's evidence size and
//! below. (Below it the same argument would lower λ; on small sets that weakens the
//! off-hint penalty too and made fits depend on the order of concepts, so F1's
//! validated value is kept there and the automatic mode can still go lower.)
//!
//! The off-hint ℓ1 weight is tied to λ by [`penalties_for`]: with `s² ∝ λ` a fixed
//! λ_H̄ makes a large off-hint loading cheaper than a hinted one once
//! `W > λ_H̄ / λ_H`, and lets noise in `Σ_l U_kl r_ql` (which grows like `sqrt(N)`)
//! pass the screening threshold; `λ_H̄ = 10 (λ/2)^{3/2}` (for λ ≥ 2) keeps the ℓ1/ℓ2
//! crossover at the same multiple of the hinted loading scale as F1's `λ_H̄ = 10` at
//! `λ = 2`.

use super::data::{CellMatrix, Hints};
use super::model::Penalties;

/// `N / n̄` (learners per hinted loading of a concept) at which the size factor is 1;
/// F1's evidence set (1,000 learners, ~11 hinted questions per concept) has ~91.
pub const REFERENCE_LEARNERS_PER_LOADING: f64 = 100.0;

/// The factor by which λ is scaled for the data: `max(1, sqrt(N K / (R · N_H)))` with
/// `N` the learners and `N_H` the hinted loadings of questions that have training cells,
/// and `K` the concepts those loadings use. 1 when nothing is hinted or answered.
pub fn size_factor(cells: &CellMatrix, hints: &Hints) -> f64 {
    let learners = (0..cells.num_learners)
        .filter(|&l| !cells.by_learner.row(l).0.is_empty())
        .count();
    let mut used = vec![false; hints.num_concepts()];
    let mut loadings = 0usize;
    for (q, hinted) in hints.by_question().iter().enumerate() {
        if q < cells.num_questions && !cells.by_question.row(q).0.is_empty() {
            loadings += hinted.len();
            for &k in hinted {
                if let Some(u) = used.get_mut(k as usize) {
                    *u = true;
                }
            }
        }
    }
    let concepts = used.iter().filter(|&&u| u).count();
    if learners == 0 || loadings == 0 {
        return 1.0;
    }
    (learners as f64 * concepts as f64 / (REFERENCE_LEARNERS_PER_LOADING * loadings as f64))
        .sqrt()
        .max(1.0)
}

/// F1's weights with `λ_H = λ_U = lambda` and the off-hint weight tied to it,
/// `λ_H̄ = 10 max(1, λ/2)^{3/2}` (so `lambda = 2` gives exactly F1's defaults). Below
/// λ = 2 it stays at F1's 10: a weaker ℓ1 let hundreds of spurious off-hint loadings in
/// on the F1 set (λ = 1: 371, no convergence in 500 iterations).
pub fn penalties_for(lambda: f64) -> Penalties {
    let base = Penalties::default();
    Penalties {
        hinted: lambda,
        learner: lambda,
        unhinted: base.unhinted * (lambda / base.hinted).max(1.0).powf(1.5),
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparfa::data::Cell;

    #[test]
    fn f1_defaults_at_lambda_two() {
        assert_eq!(penalties_for(2.0), Penalties::default());
        let p = penalties_for(8.0);
        assert_eq!((p.hinted, p.learner), (8.0, 8.0));
        assert!((p.unhinted - 80.0).abs() < 1e-12);
        assert_eq!(penalties_for(0.5).unhinted, 10.0);
    }

    #[test]
    fn factor_follows_learners_per_loading() {
        // 400 learners, 4 questions, each hinted on one of 2 concepts: N K / N_H = 200.
        let cells: Vec<Cell> = (0..400u32)
            .flat_map(|l| {
                (0..4u32).map(move |q| Cell {
                    learner: l,
                    question: q,
                    correct: (l + q) % 2 == 0,
                })
            })
            .collect();
        let m = CellMatrix::new(400, 4, &cells).expect("cells");
        let hints = Hints::new(
            vec!["a".into(), "b".into()],
            vec![vec![0], vec![0], vec![1], vec![1]],
        )
        .expect("hints");
        assert!((size_factor(&m, &hints) - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(size_factor(&m, &Hints::no_concepts(4)), 1.0);
        // Fewer learners per loading than the reference: F1's λ, not a smaller one.
        let few = CellMatrix::new(400, 4, &cells[..40]).expect("few");
        assert_eq!(size_factor(&few, &hints), 1.0);
        let empty = CellMatrix::new(400, 4, &[]).expect("empty");
        assert_eq!(size_factor(&empty, &hints), 1.0);
    }
}
