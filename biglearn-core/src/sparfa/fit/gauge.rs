//! Exact steps along the two families of directions on which the data term of J is
//! constant, so only the penalties decide: the scale of each concept
//! (`W_k → s W_k`, `U_k → U_k / s`) and the offset of each concept's knowledge
//! (`U_k → U_k + c_k`, `d → d − Wᵀc`). Alternating block steps crawl along such
//! valleys (each block sees only its own penalty); one exact minimisation per outer
//! iteration removes them.

use nalgebra::{DMatrix, DVector};

use super::questions::QuestionParams;
use crate::sparfa::model::Penalties;

/// Exact minimisation of J over the knowledge offsets `c` (one per concept).
///
/// `J(c) = λ_U Σ_kl (U_kl + c_k)² + λ_d Σ_q (d_q − w_qᵀc)²` + const is a strictly convex
/// quadratic: `(λ_U N I + λ_d W Wᵀ) c = λ_d W d − λ_U S` with `S_k = Σ_l U_kl`.
/// The intercept prior is weak, so learner and question steps alone let the mean
/// knowledge of a concept trade against the intercepts over many iterations.
pub(super) fn shift_concepts(
    params: &mut [QuestionParams],
    u: &mut [f64],
    k_count: usize,
    pen: &Penalties,
) {
    if k_count == 0 || u.is_empty() {
        return;
    }
    let n = (u.len() / k_count) as f64;
    let mut a = DMatrix::<f64>::zeros(k_count, k_count);
    let mut b = DVector::<f64>::zeros(k_count);
    for k in 0..k_count {
        a[(k, k)] = pen.learner * n;
    }
    for row in u.chunks(k_count) {
        for (k, &v) in row.iter().enumerate() {
            b[k] -= pen.learner * v;
        }
    }
    for p in params.iter() {
        for &(i, wi) in &p.loadings {
            b[i as usize] += pen.intercept * wi * p.d;
            for &(j, wj) in &p.loadings {
                a[(i as usize, j as usize)] += pen.intercept * wi * wj;
            }
        }
    }
    let Some(chol) = a.cholesky() else {
        return;
    };
    let c = chol.solve(&b);
    if !c.iter().all(|v| v.is_finite()) {
        return;
    }
    for p in params.iter_mut() {
        p.d -= p
            .loadings
            .iter()
            .map(|&(k, w)| w * c[k as usize])
            .sum::<f64>();
    }
    for row in u.chunks_mut(k_count) {
        for (v, ck) in row.iter_mut().zip(c.iter()) {
            *v += ck;
        }
    }
}

/// Exact minimisation of J along the scale of each concept.
///
/// The data term is invariant under `W_k → s W_k`, `U_k → U_k / s`, so only the
/// penalties `a s² + b s + c / s²` change (a: hinted ℓ2, b: off-hint ℓ1, c: learner ℓ2).
/// Alternating block steps move along this valley very slowly (it is the scale
/// ambiguity of the bilinear model); one convex 1-D minimisation per concept removes it.
pub(super) fn rescale_concepts(
    params: &mut [QuestionParams],
    u: &mut [f64],
    k_count: usize,
    pen: &Penalties,
) {
    if k_count == 0 {
        return;
    }
    let mut a = vec![0.0; k_count];
    let mut b = vec![0.0; k_count];
    let mut c = vec![0.0; k_count];
    for p in params.iter() {
        for (&(k, w), &h) in p.loadings.iter().zip(&p.hinted) {
            if h {
                a[k as usize] += pen.hinted * w * w;
            } else {
                b[k as usize] += pen.unhinted * w;
            }
        }
    }
    for row in u.chunks(k_count) {
        for (ck, &v) in c.iter_mut().zip(row) {
            *ck += pen.learner * v * v;
        }
    }
    let scale: Vec<f64> = (0..k_count)
        .map(|k| {
            let (a, b, c) = (a[k], b[k], c[k]);
            if a + b <= 0.0 || c <= 0.0 {
                return 1.0;
            }
            // f'(s) = 2as + b − 2c/s³ is increasing on s > 0; Newton from s = 1 on the
            // convex f, kept inside (0, ∞) by halving towards the current point.
            let mut s = 1.0f64;
            for _ in 0..50 {
                let g = 2.0 * a * s + b - 2.0 * c / s.powi(3);
                let h = 2.0 * a + 6.0 * c / s.powi(4);
                let mut next = s - g / h;
                while next <= 0.0 {
                    next = 0.5 * s;
                }
                if (next - s).abs() <= 1e-15 * s {
                    s = next;
                    break;
                }
                s = next;
            }
            let f = |s: f64| a * s * s + b * s + c / (s * s);
            if s.is_finite() && f(s) < f(1.0) {
                s
            } else {
                1.0
            }
        })
        .collect();
    for p in params.iter_mut() {
        for l in p.loadings.iter_mut() {
            l.1 *= scale[l.0 as usize];
        }
    }
    for row in u.chunks_mut(k_count) {
        for (v, s) in row.iter_mut().zip(&scale) {
            *v /= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits(params: &[QuestionParams], u: &[f64], k_count: usize) -> Vec<f64> {
        u.chunks(k_count)
            .flat_map(|row| {
                params.iter().map(move |p| {
                    p.d + p
                        .loadings
                        .iter()
                        .map(|&(k, w)| w * row[k as usize])
                        .sum::<f64>()
                })
            })
            .collect()
    }

    fn penalties(params: &[QuestionParams], u: &[f64], pen: &Penalties) -> f64 {
        let mut j = pen.learner * u.iter().map(|v| v * v).sum::<f64>();
        for p in params {
            j += pen.intercept * p.d * p.d;
            for (&(_, w), &h) in p.loadings.iter().zip(&p.hinted) {
                j += if h {
                    pen.hinted * w * w
                } else {
                    pen.unhinted * w
                };
            }
        }
        j
    }

    #[test]
    fn gauge_steps_keep_every_logit_and_lower_the_penalties() {
        let pen = Penalties::default();
        let mut params = vec![
            QuestionParams {
                loadings: vec![(0, 3.0), (1, 0.5)],
                hinted: vec![true, false],
                d: 1.5,
            },
            QuestionParams {
                loadings: vec![(1, 0.2)],
                hinted: vec![true],
                d: -0.7,
            },
        ];
        let mut u = vec![1.0, 0.4, 2.0, -0.1, 0.6, 0.9];
        let before = logits(&params, &u, 2);
        let j0 = penalties(&params, &u, &pen);
        shift_concepts(&mut params, &mut u, 2, &pen);
        let j1 = penalties(&params, &u, &pen);
        // Each step is an exact minimiser: repeating it at once changes nothing.
        shift_concepts(&mut params, &mut u, 2, &pen);
        assert!((penalties(&params, &u, &pen) - j1).abs() < 1e-12 * j1);
        rescale_concepts(&mut params, &mut u, 2, &pen);
        let j2 = penalties(&params, &u, &pen);
        rescale_concepts(&mut params, &mut u, 2, &pen);
        assert!((penalties(&params, &u, &pen) - j2).abs() < 1e-12 * j2);
        for (a, b) in before.iter().zip(logits(&params, &u, 2)) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        assert!(j1 < j0 && j2 < j1, "{j0} {j1} {j2}");
    }
}
