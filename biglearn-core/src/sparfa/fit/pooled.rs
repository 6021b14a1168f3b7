//! Pooled loadings for CLUEs ([`SparfaModel::pooled_loadings`]): each concept's hinted
//! loadings shrunk towards the concept's typical loading rather than towards 0.
//!
//! Why: the §4.5 ridge term `λ_H W²` is a `N(0, 1/(2λ_H))` prior on every hinted
//! loading. An exercise that few learners answered has little data against it, so its
//! loading collapses towards 0 while the exercises everyone answered carry the concept
//! (on data like the course simulation's, 4 shared exercises per page end at a mean
//! loading of 2.4, the 8 that few learners see at 0.4, all of them truly ≈ 1).
//! Predictions barely suffer (few learners meet those exercises), but a CLUE averages
//! its latent score over *all* of a page's exercises: with the collapsed loadings `w̄`
//! understates how the page's logits move with knowledge, and the §6.2 interval, which
//! takes W as known, covers the truth 34–45 % of the time at 50 %
//! (docs/sparfa-clue-calibration.md). Exercises on one page load on its concept alike,
//! which is exactly what a hierarchical prior says.
//!
//! Formula (empirical Bayes, a random-effects model per concept): at the fit's optimum
//! the data curvature of loading `(q, k)` is `a = λ_f Σ_{l ∈ Ω_q} p(1 − p) u_lk²`. In the
//! quadratic approximation the fitted loading is the ridge-shrunk data estimate,
//! `ŵ = a·x / (a + 2λ_H)`, so the data alone say `x = ŵ (a + 2λ_H) / a` with variance
//! `1/a`. Across the concept's loadings `x ~ N(μ_k, τ_k² + 1/a)`: `τ_k²` is the
//! DerSimonian–Laird moment estimate, `μ_k` the random-effects mean, and each loading
//! becomes its posterior mean under `N(μ_k, τ_k²)`:
//!
//! ```text
//! w_pooled = (a·x + μ_k/τ_k²) / (a + 1/τ_k²) = (ŵ (a + 2λ_H) + μ_k/τ_k²) / (a + 1/τ_k²)
//! ```
//!
//! A well-answered exercise keeps its data estimate; an unanswered one gets `μ_k`. With
//! one informative loading `τ_k²` cannot be estimated and the ridge's own width
//! `1/(2λ_H)` is used; a concept without any keeps its fitted loadings. Off-hint
//! loadings (ℓ1, sparse by design) are kept as fitted.

use crate::sparfa::data::CellMatrix;
use crate::sparfa::fit::math::sigmoid;
use crate::sparfa::model::{ConceptIndex, SparfaModel};

/// One hinted loading of a concept: question, fitted value and data curvature `a`.
struct Entry {
    question: usize,
    fitted: f64,
    curvature: f64,
}

/// The pooled loadings of `model` (fitted on `cells` with learner-major `knowledge`).
pub(crate) fn pooled_loadings(
    model: &SparfaModel,
    knowledge: &[f64],
    cells: &CellMatrix,
) -> Vec<Vec<(ConceptIndex, f64)>> {
    let k_count = model.num_concepts();
    let nq = model.num_questions().min(cells.num_questions);
    let mut by_concept: Vec<Vec<Entry>> = (0..k_count).map(|_| Vec::new()).collect();
    for q in 0..nq {
        let fitted = |k: ConceptIndex| {
            model.loadings[q]
                .iter()
                .find(|e| e.0 == k)
                .map_or(0.0, |e| e.1)
        };
        let (learners, _) = cells.by_question.row(q);
        for &k in &model.hints[q] {
            let mut curvature = 0.0;
            for &l in learners {
                let u = &knowledge[l as usize * k_count..(l as usize + 1) * k_count];
                let p = sigmoid(model.logit(q as u32, u));
                let uk = u[k as usize];
                curvature += p * (1.0 - p) * uk * uk;
            }
            by_concept[k as usize].push(Entry {
                question: q,
                fitted: fitted(k),
                curvature: model.penalties.data * curvature,
            });
        }
    }
    let ridge = 2.0 * model.penalties.hinted;
    let mut pooled = model.loadings.clone();
    for (k, entries) in by_concept.iter().enumerate() {
        let Some((mean, spread)) = random_effects(entries, ridge) else {
            continue;
        };
        for e in entries {
            // τ² = 0: the loadings do not differ beyond their noise.
            let value = if spread > 0.0 {
                (e.fitted * (e.curvature + ridge) + mean / spread) / (e.curvature + 1.0 / spread)
            } else {
                mean
            };
            set_loading(&mut pooled[e.question], k as ConceptIndex, value.max(0.0));
        }
    }
    pooled
}

/// `(μ_k, τ_k²)` of a concept's loadings, or `None` without an informative one.
fn random_effects(entries: &[Entry], ridge: f64) -> Option<(f64, f64)> {
    // Data estimates x and their precisions a of the informative loadings.
    let informative: Vec<(f64, f64)> = entries
        .iter()
        .filter(|e| e.curvature > 0.0 && e.curvature.is_finite())
        .map(|e| (e.fitted * (e.curvature + ridge) / e.curvature, e.curvature))
        .collect();
    match informative.len() {
        0 => None,
        1 => Some((informative[0].0, 1.0 / ridge)),
        n => {
            let sum_a: f64 = informative.iter().map(|e| e.1).sum();
            let sum_a2: f64 = informative.iter().map(|e| e.1 * e.1).sum();
            let fixed_mean = informative.iter().map(|e| e.0 * e.1).sum::<f64>() / sum_a;
            let q: f64 = informative
                .iter()
                .map(|e| e.1 * (e.0 - fixed_mean).powi(2))
                .sum();
            let tau2 = ((q - (n - 1) as f64) / (sum_a - sum_a2 / sum_a)).max(0.0);
            let weight = |a: f64| 1.0 / (tau2 + 1.0 / a);
            let mean = informative.iter().map(|e| e.0 * weight(e.1)).sum::<f64>()
                / informative.iter().map(|e| weight(e.1)).sum::<f64>();
            Some((mean, tau2))
        }
    }
}

/// Sets concept `k`'s weight in a sorted sparse row (removing it at 0).
fn set_loading(row: &mut Vec<(ConceptIndex, f64)>, k: ConceptIndex, value: f64) {
    match row.binary_search_by_key(&k, |e| e.0) {
        Ok(i) if value > 0.0 => row[i].1 = value,
        Ok(i) => {
            row.remove(i);
        }
        Err(i) if value > 0.0 => row.insert(i, (k, value)),
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fitted: f64, curvature: f64) -> Entry {
        Entry {
            question: 0,
            fitted,
            curvature,
        }
    }

    #[test]
    fn equal_loadings_pool_to_their_common_value() {
        // Data estimates all 2 (ŵ = a·2/(a + 4) with 2λ_H = 4): τ² = 0, μ = 2.
        let entries: Vec<Entry> = [10.0, 20.0, 40.0]
            .iter()
            .map(|&a| entry(a * 2.0 / (a + 4.0), a))
            .collect();
        let (mean, tau2) = random_effects(&entries, 4.0).unwrap();
        assert!((mean - 2.0).abs() < 1e-12 && tau2 == 0.0, "{mean} {tau2}");
    }

    #[test]
    fn spread_loadings_keep_their_data_estimates_when_well_measured() {
        let entries: Vec<Entry> = [(1.0, 1e6), (3.0, 1e6), (5.0, 1e6)]
            .iter()
            .map(|&(x, a)| entry(x * a / (a + 4.0), a))
            .collect();
        let (mean, tau2) = random_effects(&entries, 4.0).unwrap();
        assert!(
            (mean - 3.0).abs() < 1e-3 && (tau2 - 4.0).abs() < 1e-2,
            "{mean} {tau2}"
        );
        assert!(random_effects(&[entry(0.0, 0.0)], 4.0).is_none());
        assert_eq!(random_effects(&[entry(1.0, 4.0)], 4.0), Some((2.0, 0.25)));
    }

    #[test]
    fn set_loading_keeps_rows_sorted_and_drops_zeros() {
        let mut row = vec![(1, 0.5), (4, 1.0)];
        set_loading(&mut row, 2, 0.7);
        set_loading(&mut row, 4, 0.0);
        set_loading(&mut row, 1, 0.9);
        set_loading(&mut row, 3, 0.0);
        assert_eq!(row, vec![(1, 0.9), (2, 0.7)]);
    }
}
