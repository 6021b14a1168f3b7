//! Numerically stable logistic helpers shared by the fitter and the evaluation.

/// `(softplus(z), σ(z))` from a single exponential; exact in log space for any `z`.
#[inline]
pub(crate) fn softplus_sigmoid(z: f64) -> (f64, f64) {
    let e = (-z.abs()).exp();
    // ln(1 + e) with e ∈ (0, 1]: `ln` is much cheaper than `ln_1p` and its absolute error
    // (≤ 1 ulp of a number in [1, 2]) is all that matters for sums of losses.
    let sp = z.max(0.0) + (1.0 + e).ln();
    let p = if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (sp, p)
}

/// σ(z) without overflow.
#[inline]
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The logistic loss `ℓ(y, z) = softplus(z) − y z`.
#[inline]
pub(crate) fn logistic_loss(correct: bool, z: f64) -> f64 {
    let (sp, _) = softplus_sigmoid(z);
    if correct {
        sp - z
    } else {
        sp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_at_extremes() {
        let (sp, p) = softplus_sigmoid(800.0);
        assert_eq!(sp, 800.0);
        let (sp, _) = softplus_sigmoid(1e-3);
        assert!((sp - (1.0 + 1e-3f64.exp()).ln()).abs() < 1e-15);
        assert_eq!(p, 1.0);
        let (sp, p) = softplus_sigmoid(-800.0);
        assert_eq!(sp, 0.0);
        assert_eq!(p, 0.0);
        assert!((logistic_loss(true, 0.0) - std::f64::consts::LN_2).abs() < 1e-15);
        assert!((sigmoid(-3.0) + sigmoid(3.0) - 1.0).abs() < 1e-15);
    }
}
