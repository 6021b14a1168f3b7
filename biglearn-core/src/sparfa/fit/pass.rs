//! One pass over a question's cells: the data loss, gradient, Hessian and Gram matrix
//! of the question block at `(loadings, d)`.
//!
//! This is the inner loop of the fit (about half of its instructions before it was
//! specialised). Almost every question has one or two active loadings, so the pass is
//! monomorphised for 0, 1 and 2 loadings: the per-cell work is then a few multiply-adds
//! on registers instead of loops over run-time lengths with bounds checks. More
//! loadings take the general path. Both paths add in the same order, so they give
//! bit-identical sums.

use super::math::{sigmoid, softplus_sigmoid};
use super::questions::KnowledgeColumns;

/// The sums of one pass. Variables are the first `nvar` loadings followed by `d`
/// (`m = nvar + 1` of them); matrices are `m × m`, upper triangle filled.
pub(super) struct PassSums<'a> {
    /// `Σ r_i g_i` with `r = σ(z) − y` and `g_i` the variables' derivatives of `z_i`.
    pub grad: &'a mut [f64],
    /// `Σ κ_i g_i g_iᵀ` with `κ = σ(z)(1 − σ(z))`.
    pub hess: &'a mut [f64],
    /// `Σ g_i g_iᵀ`: with `κ ≤ 1/4` it bounds the Hessian anywhere along a step, which
    /// lets a Newton step be accepted without a second pass (see `update_question`).
    pub gram: &'a mut [f64],
    /// `max_i |g_ia|` per variable (1 for `d`): bounds how far a step moves any `z_i`.
    pub reach: &'a mut [f64],
}

/// Accumulates the sums at `(loadings, d)` into `out` and returns the data loss
/// `Σ ℓ` when `with_loss` (0 otherwise). `nvar` is `loadings.len()` or 0 (fixed loadings).
#[allow(clippy::too_many_arguments)]
pub(super) fn pass(
    learners: &[u32],
    correct: &[bool],
    u: KnowledgeColumns,
    loadings: &[(u32, f64)],
    d: f64,
    nvar: usize,
    gather: &mut Vec<f64>,
    out: PassSums,
    with_loss: bool,
) -> f64 {
    debug_assert!(nvar == 0 || nvar == loadings.len());
    let cells = Cells {
        learners,
        correct,
        u,
        loadings,
        d,
    };
    match (loadings.len(), with_loss) {
        (0, false) => cells.small::<0, false>(nvar, out),
        (0, true) => cells.small::<0, true>(nvar, out),
        (1, false) => cells.small::<1, false>(nvar, out),
        (1, true) => cells.small::<1, true>(nvar, out),
        (2, false) => cells.small::<2, false>(nvar, out),
        (2, true) => cells.small::<2, true>(nvar, out),
        _ => cells.general(nvar, gather, out, with_loss),
    }
}

struct Cells<'a> {
    learners: &'a [u32],
    correct: &'a [bool],
    u: KnowledgeColumns<'a>,
    loadings: &'a [(u32, f64)],
    d: f64,
}

/// `p = σ(z)`, and the loss `softplus(z) − y z` added to `loss` when `LOSS`.
#[inline(always)]
fn probability<const LOSS: bool>(z: f64, y: f64, loss: &mut f64) -> f64 {
    if LOSS {
        let (sp, p) = softplus_sigmoid(z);
        *loss += sp - y * z;
        p
    } else {
        sigmoid(z)
    }
}

impl Cells<'_> {
    /// The pass with exactly `N` loadings.
    fn small<const N: usize, const LOSS: bool>(&self, nvar: usize, out: PassSums) -> f64 {
        let columns: [&[f64]; N] = std::array::from_fn(|a| self.u.column(self.loadings[a].0));
        let w: [f64; N] = std::array::from_fn(|a| self.loadings[a].1);
        let (mut gw, mut hwd, mut cwd, mut reach) = ([0.0; N], [0.0; N], [0.0; N], [0.0f64; N]);
        let (mut hww, mut cww) = ([[0.0; N]; N], [[0.0; N]; N]);
        let (mut gd, mut hdd, mut loss) = (0.0, 0.0, 0.0);
        for (&l, &y) in self.learners.iter().zip(self.correct) {
            let l = l as usize;
            let v: [f64; N] = std::array::from_fn(|a| columns[a][l]);
            let mut z = self.d;
            for a in 0..N {
                z += w[a] * v[a];
            }
            let yv = f64::from(u8::from(y));
            let p = probability::<LOSS>(z, yv, &mut loss);
            let r = p - yv;
            let kappa = p * (1.0 - p);
            for a in 0..N {
                gw[a] += r * v[a];
                let kv = kappa * v[a];
                for b in a..N {
                    hww[a][b] += kv * v[b];
                    cww[a][b] += v[a] * v[b];
                }
                hwd[a] += kv;
                cwd[a] += v[a];
                reach[a] = reach[a].max(v[a].abs());
            }
            gd += r;
            hdd += kappa;
        }
        let count = self.learners.len() as f64;
        if nvar == 0 {
            out.grad[0] = gd;
            out.hess[0] = hdd;
            out.gram[0] = count;
            out.reach[0] = 1.0;
            return loss;
        }
        let m = N + 1;
        for a in 0..N {
            out.grad[a] = gw[a];
            for b in a..N {
                out.hess[a * m + b] = hww[a][b];
                out.gram[a * m + b] = cww[a][b];
            }
            out.hess[a * m + N] = hwd[a];
            out.gram[a * m + N] = cwd[a];
            out.reach[a] = reach[a];
        }
        out.reach[N] = 1.0;
        out.grad[N] = gd;
        out.hess[N * m + N] = hdd;
        out.gram[N * m + N] = count;
        loss
    }

    /// The pass for any number of loadings.
    fn general(&self, nvar: usize, gather: &mut Vec<f64>, out: PassSums, with_loss: bool) -> f64 {
        let m = nvar + 1;
        let PassSums {
            grad,
            hess,
            gram,
            reach,
        } = out;
        grad.iter_mut().for_each(|g| *g = 0.0);
        reach.iter_mut().for_each(|g| *g = 0.0);
        hess.iter_mut().for_each(|h| *h = 0.0);
        gram.iter_mut().for_each(|h| *h = 0.0);
        gather.resize(self.loadings.len(), 0.0);
        let mut loss = 0.0;
        for (&l, &y) in self.learners.iter().zip(self.correct) {
            let mut z = self.d;
            for (a, &(k, w)) in self.loadings.iter().enumerate() {
                let v = self.u.get(l, k);
                gather[a] = v;
                z += w * v;
            }
            let yv = f64::from(u8::from(y));
            let p = if with_loss {
                probability::<true>(z, yv, &mut loss)
            } else {
                probability::<false>(z, yv, &mut loss)
            };
            let r = p - yv;
            let kappa = p * (1.0 - p);
            for a in 0..nvar {
                let ga = gather[a];
                grad[a] += r * ga;
                let kg = kappa * ga;
                for b in a..nvar {
                    hess[a * m + b] += kg * gather[b];
                    gram[a * m + b] += ga * gather[b];
                }
                hess[a * m + nvar] += kg;
                gram[a * m + nvar] += ga;
                reach[a] = reach[a].max(ga.abs());
            }
            grad[nvar] += r;
            hess[nvar * m + nvar] += kappa;
        }
        gram[nvar * m + nvar] = self.learners.len() as f64;
        reach[nvar] = 1.0;
        loss
    }
}
