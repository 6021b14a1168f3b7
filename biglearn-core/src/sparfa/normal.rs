//! Numerically stable scalar functions for the logistic link and the normal
//! quantile used by CLUE intervals.
//!
//! - [`inverse_normal_cdf`]: Φ⁻¹ by Wichura's algorithm AS 241 (PPND16),
//!   accurate to about 1e-16 relative over the whole open interval (0, 1).
//! - [`sigmoid`], [`softplus`], [`log_sigmoid`], [`sigmoid_variance`]: the
//!   logistic link evaluated without overflow or cancellation, so that sums
//!   over thousands of responses stay finite (decision F2 of sparfa.md).

/// Φ⁻¹(p), the standard normal quantile, for `p` in the open interval (0, 1).
///
/// Wichura, "The Percentage Points of the Normal Distribution", Applied
/// Statistics 37(3), 1988 (algorithm AS 241, the 16-digit PPND16 variant).
/// Returns `-∞` for `p = 0`, `+∞` for `p = 1` and NaN outside `[0, 1]` or for
/// NaN input; callers that need an error validate first (see
/// [`crate::sparfa::clue::ClueOptions::quantile`]).
///
/// ```
/// use biglearn_core::sparfa::normal::inverse_normal_cdf;
/// assert_eq!(inverse_normal_cdf(0.75), 0.6744897501960817);
/// assert!((inverse_normal_cdf(0.975) - 1.959963984540054).abs() < 1e-15);
/// ```
pub fn inverse_normal_cdf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * horner(&CENTRAL_NUM, r) / horner(&CENTRAL_DEN, r);
    }
    // Tail: work with the smaller of p and 1 - p so the logarithm stays exact.
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let magnitude = if r <= 5.0 {
        let s = r - 1.6;
        horner(&NEAR_NUM, s) / horner(&NEAR_DEN, s)
    } else {
        let s = r - 5.0;
        horner(&FAR_NUM, s) / horner(&FAR_DEN, s)
    };
    if q < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Evaluates `c[0] + c[1] x + … + c[7] x⁷` by Horner's rule.
fn horner(coefficients: &[f64; 8], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

// AS 241 coefficients, constant term first, with all the digits published in
// the paper (more than f64 holds, so they round exactly as the paper intends).
#[allow(clippy::excessive_precision)]
const CENTRAL_NUM: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
#[allow(clippy::excessive_precision)]
const CENTRAL_DEN: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
#[allow(clippy::excessive_precision)]
const NEAR_NUM: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
#[allow(clippy::excessive_precision)]
const NEAR_DEN: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
#[allow(clippy::excessive_precision)]
const FAR_NUM: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
#[allow(clippy::excessive_precision)]
const FAR_DEN: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// The logistic function σ(z) = 1 / (1 + e^(−z)), without overflow for any z.
///
/// ```
/// use biglearn_core::sparfa::normal::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert!(sigmoid(-800.0) >= 0.0 && sigmoid(800.0) == 1.0);
/// ```
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `(σ(z), σ(−z))` from a single exponential, both accurate (no `1 − σ` cancellation).
pub fn sigmoid_pair(z: f64) -> (f64, f64) {
    let e = (-z.abs()).exp();
    let big = 1.0 / (1.0 + e);
    let small = e * big;
    if z >= 0.0 {
        (big, small)
    } else {
        (small, big)
    }
}

/// softplus(z) = ln(1 + e^z), computed as `max(z, 0) + ln1p(e^(−|z|))`.
///
/// Finite for every finite z (≈ z for large z, ≈ e^z for very negative z).
pub fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// ln σ(z) = −softplus(−z), finite for every finite z.
pub fn log_sigmoid(z: f64) -> f64 {
    -softplus(-z)
}

/// σ(z)(1 − σ(z)), the logistic Fisher weight, computed as σ(z)σ(−z) so it
/// stays accurate (no cancellation) when σ(z) is close to 1.
pub fn sigmoid_variance(z: f64) -> f64 {
    sigmoid(z) * sigmoid(-z)
}

/// Logistic negative log-likelihood ℓ(y, z) = softplus(z) − y·z of one
/// response (y = 1 for correct), in the form that never overflows.
pub fn logistic_loss(correct: bool, z: f64) -> f64 {
    if correct {
        softplus(-z)
    } else {
        softplus(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_reference_values() {
        // Reference values: CPython's statistics.NormalDist().inv_cdf (also AS 241),
        // cross-checked against published tables.
        let cases = [
            (0.75, 0.674_489_750_196_081_7),
            (0.975, 1.959_963_984_540_053_6),
            (0.95, 1.644_853_626_951_471_5),
            (1e-10, -6.361_340_902_404_056),
            (0.01, -2.326_347_874_040_840_8),
            (0.3, -0.524_400_512_708_040_7),
            (1.0 - 1e-12, 7.034_486_910_047_835_6),
            (1e-300, -37.047_096_299_361_2),
        ];
        for (p, expected) in cases {
            let got = inverse_normal_cdf(p);
            assert!(
                (got - expected).abs() <= 1e-14 * expected.abs().max(1.0),
                "p = {p}: {got} vs {expected}"
            );
        }
        assert_eq!(inverse_normal_cdf(0.75), 0.674_489_750_196_081_7);
        assert_eq!(inverse_normal_cdf(0.5), 0.0);
    }

    #[test]
    fn quantile_edges() {
        assert!(inverse_normal_cdf(f64::NAN).is_nan());
        assert!(inverse_normal_cdf(-0.1).is_nan());
        assert!(inverse_normal_cdf(1.1).is_nan());
        assert_eq!(inverse_normal_cdf(0.0), f64::NEG_INFINITY);
        assert_eq!(inverse_normal_cdf(1.0), f64::INFINITY);
        // Symmetry.
        for p in [0.01, 0.2, 0.4, 0.49] {
            assert!((inverse_normal_cdf(p) + inverse_normal_cdf(1.0 - p)).abs() < 1e-14);
        }
    }

    #[test]
    fn link_functions_are_stable() {
        for z in [-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0] {
            assert!(sigmoid(z).is_finite());
            assert!(softplus(z).is_finite());
            assert!(log_sigmoid(z).is_finite());
            assert!(sigmoid_variance(z) >= 0.0);
            assert!(logistic_loss(true, z) >= 0.0 && logistic_loss(false, z) >= 0.0);
        }
        for z in [-800.0, -30.0, -0.7, 0.0, 0.3, 25.0, 800.0] {
            let (p, q) = sigmoid_pair(z);
            assert!((p - sigmoid(z)).abs() <= f64::EPSILON * p.max(1e-300));
            assert!((q - sigmoid(-z)).abs() <= f64::EPSILON * q.max(1e-300));
        }
        assert!((softplus(0.0) - std::f64::consts::LN_2).abs() < 1e-16);
        assert!((softplus(1000.0) - 1000.0).abs() < 1e-12);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() <= f64::EPSILON);
        assert!((logistic_loss(true, 3.0) - (softplus(3.0) - 3.0)).abs() < 1e-14);
    }
}
