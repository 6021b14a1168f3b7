//! Numerically stable logistic helpers shared by the fitter and the evaluation.
//!
//! Every sigmoid and logistic loss of the fit needs `e^x` for one `x ≤ 0` (`x = −|z|`).
//! [`exp_nonpositive`] computes it inline, without the libm call and its error-handling
//! wrapper, which were together about a third of the fit's instructions. It is accurate
//! to a few units in the last place, and the same on every platform.

/// `e^x` for `x ≤ 0` (any `x > 0` is treated as 0, NaN gives NaN), relative error below
/// 1e-15; 0 below −708 (where `e^x` is subnormal and negligible next to 1).
///
/// Range reduction `x = n ln 2 + r`, `|r| ≤ ln 2 / 2`, then a degree-12 Taylor
/// polynomial for `e^r` (remainder below 2e-16) evaluated by Estrin's scheme, so that
/// the evaluation is a short dependency chain, and the exponent `n` added to the bits.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    // ln 2 split so that `n · LN2_HI` is exact for |n| < 2^11 (fdlibm's constants).
    const LN2_HI: f64 = 6.931_471_803_691_238_164_9e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    // Adding 1.5·2^52 rounds to an integer (round to nearest) in one addition.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = if x > 0.0 { 0.0 } else { x };
    if x < -708.0 {
        return 0.0;
    }
    let n = (x * INV_LN2 + SHIFT) - SHIFT;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Taylor coefficients 1/k!, k = 0..=12.
    const C: [f64; 13] = [
        1.0,
        1.0,
        0.5,
        1.666_666_666_666_666_6e-1,
        4.166_666_666_666_666_4e-2,
        8.333_333_333_333_333e-3,
        1.388_888_888_888_889e-3,
        1.984_126_984_126_984e-4,
        2.480_158_730_158_730_2e-5,
        2.755_731_922_398_589e-6,
        2.755_731_922_398_589_3e-7,
        2.505_210_838_544_172e-8,
        2.087_675_698_786_81e-9,
    ];
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = C[0] + C[1] * r;
    let p23 = C[2] + C[3] * r;
    let p45 = C[4] + C[5] * r;
    let p67 = C[6] + C[7] * r;
    let p89 = C[8] + C[9] * r;
    let p1011 = C[10] + C[11] * r;
    let p03 = p01 + p23 * r2;
    let p47 = p45 + p67 * r2;
    let p811 = p89 + p1011 * r2;
    let p812 = p811 + C[12] * r4;
    let poly = (p03 + p47 * r4) + p812 * r8;
    // n ∈ [−1022, 0]: the biased exponent stays normal.
    let scale = f64::from_bits(((n as i64 + 1023) as u64) << 52);
    poly * scale
}

/// `(softplus(z), σ(z))` from a single exponential; exact in log space for any `z`.
#[inline]
pub(crate) fn softplus_sigmoid(z: f64) -> (f64, f64) {
    let e = exp_nonpositive(-z.abs());
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
    let e = exp_nonpositive(-z.abs());
    let q = 1.0 / (1.0 + e);
    if z >= 0.0 {
        q
    } else {
        e * q
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
        assert!(sigmoid(f64::NAN).is_nan());
    }

    #[test]
    fn exp_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = 0.0f64;
        while x > -708.0 {
            let (fast, exact) = (exp_nonpositive(x), x.exp());
            worst = worst.max(((fast - exact) / exact).abs());
            x -= 0.001_37;
        }
        assert!(worst < 1e-15, "relative error {worst:e}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-800.0), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }
}
