//! Numerically stable logistic helpers shared by the fitter and the evaluation.
//!
//! Every sigmoid and logistic loss of the fit needs `e^x` for one `x ≤ 0` (`x = −|z|`).
//! [`exp_nonpositive`] computes it inline, without the libm call and its error-handling
//! wrapper, which were together about a third of the fit's instructions. It is accurate
//! to a few units in the last place, and the same on every platform.

/// `e^x` for `x ≤ 0` (any `x > 0` is treated as 0, NaN gives NaN), relative error below
/// 1e-15; 0 below −708 (where `e^x` is subnormal and negligible next to 1).
///
/// Table-driven, as libm's: `x = (64 e + j) ln 2 / 64 + r` with `|r| ≤ ln 2 / 128`, so
/// `e^x = 2^e · 2^{j/64} · e^r`, the 64 values `2^{j/64}` correctly rounded in [`TABLE`]
/// and `e^r` a degree-5 Taylor polynomial (remainder below 4e-17).
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    // 64 / ln 2, and ln 2 / 64 split so that `n · LN2_64_HI` is exact for |n| < 2^21.
    const INV: f64 = 92.332_482_616_893_66;
    const LN2_64_HI: f64 = 0.010_830_424_696_905_538;
    const LN2_64_LO: f64 = -6.563_929_801_064_195e-13;
    // Adding 1.5·2^52 rounds to an integer (round to nearest) in one addition.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = if x > 0.0 { 0.0 } else { x };
    if x < -708.0 {
        return 0.0;
    }
    let nf = (x * INV + SHIFT) - SHIFT;
    let r = (x - nf * LN2_64_HI) - nf * LN2_64_LO;
    let n = nf as i64;
    let j = (n & 63) as usize;
    // n ≥ −65,366 here, so 2^e with e = ⌊n / 64⌋ ≥ −1022 is a normal number.
    let scale = f64::from_bits((((n >> 6) + 1023) as u64) << 52);
    let r2 = r * r;
    let poly = (1.0 + r) + r2 * ((0.5 + r * (1.0 / 6.0)) + r2 * ((1.0 / 24.0) + r * (1.0 / 120.0)));
    TABLE[j] * poly * scale
}

/// `2^{j/64}`, j = 0..64, each correctly rounded.
#[allow(clippy::excessive_precision)]
const TABLE: [f64; 64] = [
    1.0,
    1.0108892860517005,
    1.0218971486541166,
    1.0330248790212284,
    1.0442737824274138,
    1.0556451783605572,
    1.0671404006768237,
    1.0787607977571199,
    1.0905077326652577,
    1.102382583307841,
    1.1143867425958924,
    1.1265216186082418,
    1.1387886347566916,
    1.1511892299529827,
    1.1637248587775775,
    1.1763969916502812,
    1.189207115002721,
    1.202156731452703,
    1.215247359980469,
    1.22848053610687,
    1.241857812073484,
    1.255380757024691,
    1.2690509571917332,
    1.2828700160787783,
    1.2968395546510096,
    1.3109612115247644,
    1.3252366431597413,
    1.339667524053303,
    1.3542555469368927,
    1.3690024229745905,
    1.383909881963832,
    1.3989796725383112,
    std::f64::consts::SQRT_2,
    1.42961333839197,
    1.4451808069770467,
    1.460917794180647,
    1.4768261459394993,
    1.4929077282912648,
    1.5091644275934228,
    1.5255981507445384,
    1.5422108254079407,
    1.559004400237837,
    1.5759808451078865,
    1.593142151342267,
    1.6104903319492543,
    1.6280274218573478,
    1.645755478153965,
    1.6636765803267364,
    1.681792830507429,
    1.7001063537185235,
    1.718619298122478,
    1.7373338352737062,
    1.7562521603732995,
    1.7753764925265212,
    1.7947090750031072,
    1.8142521755003989,
    1.8340080864093424,
    1.8539791250833855,
    1.8741676341103,
    1.8945759815869656,
    1.9152065613971474,
    1.9360617934922943,
    1.9571441241754002,
    1.978456026387951,
];

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
