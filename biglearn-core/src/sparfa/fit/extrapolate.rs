//! Extrapolation along a slow mode of the alternating updates.
//!
//! Alternating exact block steps converge linearly: near the optimum the error shrinks
//! by a factor ρ per outer iteration along the slowest direction. When ρ is close to 1
//! (0.976 on the 5 %-density set fitted on all its cells, 0.82–0.88 in the exploratory
//! models' fits) the successive iterates move along that direction by steps that shrink
//! geometrically, so the optimum lies about `ρ / (1 − ρ)` of the last step further on
//! (Aitken's extrapolation, the "line search" of accelerated alternating least
//! squares). This module takes that jump when the block gradients show such a slow
//! mode, and keeps it only when J at the jump is lower than J at the current point;
//! otherwise it tries a quarter of the jump, then gives up until the next attempt.
//! Fits that converge fast (ρ below [`SLOW_RATE`]) never try, so their iterates are
//! exactly those of the plain alternating updates.

use super::questions::QuestionParams;

/// Outer iterations before the first attempt: the rate is read from the gradients of
/// the last [`WINDOW`] iterations, which must be past the first, irregular ones.
const FIRST: usize = 10;

/// Iterations over which the convergence rate is measured, and between attempts.
const WINDOW: usize = 5;

/// Extrapolate only when the block gradient shrinks by less than this per iteration.
/// Fits that shrink it faster reach the tolerance in a few dozen iterations anyway and
/// keep their plain iterates (0.77 per iteration at 5,000 × 160, about 0.5 on the
/// 1,000 × 200 × 20 set and the real sets' SPARFA and 2PL fits).
pub(super) const SLOW_RATE: f64 = 0.8;

/// The longest jump, in multiples of the last step (ρ = 0.98).
const MAX_JUMP: f64 = 50.0;

/// The state of one fit's extrapolation.
pub(super) struct Extrapolation {
    /// Parameters and knowledge after the previous iteration.
    previous: Option<(Vec<QuestionParams>, Vec<f64>)>,
    /// The largest block gradient of every iteration so far.
    gradients: Vec<f64>,
    /// Iteration of the last attempt.
    last_try: usize,
    /// Jumps kept so far.
    pub accepted: usize,
}

impl Extrapolation {
    pub(super) fn new() -> Self {
        Extrapolation {
            previous: None,
            gradients: Vec::new(),
            last_try: 0,
            accepted: 0,
        }
    }

    /// Called after outer iteration `n` (1-based) with its largest block gradient and the
    /// state after it; may move `(params, u)` to a point of lower J, as `objective`
    /// measures it.
    pub(super) fn after_iteration(
        &mut self,
        n: usize,
        gradient: f64,
        (params, u): (&mut Vec<QuestionParams>, &mut Vec<f64>),
        objective: &mut dyn FnMut(&[QuestionParams], &[f64]) -> f64,
    ) {
        self.gradients.push(gradient);
        let rate = self.rate();
        let due = n >= FIRST && n >= self.last_try + WINDOW;
        let Some(rate) = rate.filter(|&r| due && (SLOW_RATE..1.0).contains(&r)) else {
            self.remember(n, params, u);
            return;
        };
        let Some((old_params, old_u)) = self.previous.take() else {
            self.remember(n, params, u);
            return;
        };
        let same_shape = old_params.len() == params.len()
            && old_params.iter().zip(params.iter()).all(|(a, b)| {
                a.loadings.len() == b.loadings.len()
                    && a.loadings.iter().zip(&b.loadings).all(|(x, y)| x.0 == y.0)
            });
        if !same_shape {
            self.remember(n, params, u);
            return;
        }
        self.last_try = n;
        let jump = (rate / (1.0 - rate)).min(MAX_JUMP);
        let here = objective(params, u);
        for factor in [jump, 0.25 * jump] {
            let trial_params = extend(&old_params, params, factor);
            let trial_u: Vec<f64> = old_u
                .iter()
                .zip(u.iter())
                .map(|(a, b)| b + factor * (b - a))
                .collect();
            let there = objective(&trial_params, &trial_u);
            if there < here {
                *params = trial_params;
                *u = trial_u;
                self.accepted += 1;
                // The jump is not an iteration's step: the next direction starts after it.
                self.previous = None;
                return;
            }
        }
        self.remember(n, params, u);
    }

    /// Per-iteration shrink factor of the block gradient over the last [`WINDOW`]
    /// iterations.
    fn rate(&self) -> Option<f64> {
        let n = self.gradients.len();
        if n <= WINDOW {
            return None;
        }
        let (old, new) = (self.gradients[n - 1 - WINDOW], self.gradients[n - 1]);
        (old > 0.0 && new > 0.0).then(|| (new / old).powf(1.0 / WINDOW as f64))
    }

    fn remember(&mut self, n: usize, params: &[QuestionParams], u: &[f64]) {
        // Only the iteration before a possible attempt needs keeping.
        if n + 1 >= FIRST && n + 1 >= self.last_try + WINDOW {
            match self.previous.as_mut() {
                Some((p, v)) => {
                    p.clone_from_slice(params);
                    v.copy_from_slice(u);
                }
                None => self.previous = Some((params.to_vec(), u.to_vec())),
            }
        } else {
            self.previous = None;
        }
    }
}

/// `new + factor (new − old)` for every loading and intercept, loadings kept
/// non-negative (the shapes are the same).
fn extend(old: &[QuestionParams], new: &[QuestionParams], factor: f64) -> Vec<QuestionParams> {
    old.iter()
        .zip(new)
        .map(|(a, b)| QuestionParams {
            loadings: a
                .loadings
                .iter()
                .zip(&b.loadings)
                .map(|(x, y)| (y.0, (y.1 + factor * (y.1 - x.1)).max(0.0)))
                .collect(),
            hinted: b.hinted.clone(),
            d: b.d + factor * (b.d - a.d),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(w: f64, d: f64) -> Vec<QuestionParams> {
        vec![QuestionParams {
            loadings: vec![(0, w)],
            hinted: vec![true],
            d,
        }]
    }

    /// A quadratic with its minimum at w = 2, d = 1, u = 3, approached geometrically
    /// at rate 0.95: one jump lands on the minimum.
    #[test]
    fn a_geometric_approach_is_jumped_to_its_limit() {
        let target = (2.0, 1.0, 3.0);
        let mut j = |p: &[QuestionParams], u: &[f64]| {
            (p[0].loadings[0].1 - target.0).powi(2)
                + (p[0].d - target.1).powi(2)
                + (u[0] - target.2).powi(2)
        };
        let mut e = Extrapolation::new();
        let rho: f64 = 0.95;
        let mut jumped = None;
        for n in 1..=20 {
            let gap = rho.powi(n as i32);
            let mut p = params(target.0 - gap, target.1 + gap);
            let mut u = vec![target.2 - gap];
            e.after_iteration(n, gap, (&mut p, &mut u), &mut j);
            if e.accepted == 1 {
                jumped = Some(j(&p, &u));
                break;
            }
        }
        let left = jumped.expect("no jump was kept");
        assert!(left < 1e-20, "J after the jump {left}");
    }

    /// A fast approach (rate 0.5) never triggers a jump, and a jump that would raise J
    /// is not kept.
    #[test]
    fn fast_fits_and_bad_jumps_are_left_alone() {
        let mut j = |p: &[QuestionParams], u: &[f64]| p[0].loadings[0].1.powi(2) + u[0] * u[0];
        let mut e = Extrapolation::new();
        for n in 1..=30 {
            let gap = 0.5f64.powi(n as i32);
            e.after_iteration(n, gap, (&mut params(gap, 0.0), &mut vec![gap]), &mut j);
        }
        assert_eq!(e.accepted, 0);
        // Slowly shrinking gradients but iterates moving away from the minimum at 0.
        let mut e = Extrapolation::new();
        for n in 1..=30 {
            let grow = 1.0 + n as f64;
            let gap = 0.95f64.powi(n as i32);
            let (mut p, mut u) = (params(grow, 0.0), vec![grow]);
            e.after_iteration(n, gap, (&mut p, &mut u), &mut j);
            assert_eq!(p[0].loadings[0].1, grow);
        }
        assert_eq!(e.accepted, 0);
    }
}
