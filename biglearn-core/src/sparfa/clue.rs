//! CLUE intervals (sparfa.md §6.2, decision F2).
//!
//! A CLUE summarises how well a set of learners knows a set of questions (a
//! page or chapter): `most_likely = σ(z̄)` where `z̄` is the mean latent score of
//! the target learners on the target questions, and `[minimum, maximum] =
//! σ(z̄ ∓ c·s)` with `c = Φ⁻¹((1 + confidence)/2)` and `s` the Laplace standard
//! error of `z̄` (learners independent, questions within a learner perfectly
//! correlated). The interval is asymmetric in probability space and always
//! satisfies `minimum ≤ most_likely ≤ maximum`.
//!
//! With fewer than `min_responses` pooled target entries (N_min = 3, F2), or no
//! target learners/questions, the result is [`Clue::NOT_REAL`]
//! `(min 0, most_likely 0.5, max 1, is_real false)`.

use thiserror::Error;

use super::learner::{LearnerEstimate, LearnerResponse, LearnerWorkspace};
use super::model::{ConceptIndex, QuestionIndex, SparfaModel};
use super::normal::{inverse_normal_cdf, sigmoid};

/// Errors of CLUE computation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClueError {
    /// `ClueOptions::confidence` was not strictly between 0 and 1.
    #[error("CLUE confidence must be strictly between 0 and 1, got {value}")]
    InvalidConfidence {
        /// The rejected confidence.
        value: f64,
    },
    /// The model produced a non-finite latent mean or standard error.
    #[error(
        "CLUE {what} is not finite ({value}); the model has non-finite loadings or intercepts"
    )]
    NonFinite {
        /// Which quantity (`"latent mean"` or `"standard error"`).
        what: &'static str,
        /// The offending value.
        value: f64,
    },
}

/// Options of a CLUE calculation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClueOptions {
    /// Central coverage of the interval, in (0, 1); 0.5 by default (§6.2).
    pub confidence: f64,
    /// N_min: pooled target entries needed for a real CLUE; 3 by default (F2).
    pub min_responses: usize,
    /// The loadings the learners are inferred with and `w̄` is averaged from.
    pub loadings: ClueLoadings,
}

impl Default for ClueOptions {
    fn default() -> Self {
        ClueOptions {
            confidence: 0.5,
            min_responses: 3,
            loadings: ClueLoadings::default(),
        }
    }
}

/// Which loadings a CLUE reads (docs/sparfa-clue-calibration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClueLoadings {
    /// [`SparfaModel::pooled_loadings`] when the model has them, else the fitted W (the
    /// default): each page's loadings pooled towards its typical loading, so exercises
    /// few learners answered do not shrink `w̄`; 50 % intervals then cover the truth
    /// about half of the time where the fitted W covers a third.
    #[default]
    Pooled,
    /// The fitted W, as §6.2 publishes the CLUE.
    Fitted,
}

impl ClueLoadings {
    /// The loadings of `model` this choice reads.
    pub fn of(self, model: &SparfaModel) -> &[Vec<(ConceptIndex, f64)>] {
        model.clue_loadings(self == ClueLoadings::Pooled)
    }
}

impl ClueOptions {
    /// The Wald multiplier `c = Φ⁻¹((1 + confidence)/2)`, after validating the confidence.
    ///
    /// ```
    /// use biglearn_core::sparfa::ClueOptions;
    /// assert_eq!(ClueOptions::default().quantile().unwrap(), 0.6744897501960817);
    /// assert!(ClueOptions { confidence: 1.0, ..Default::default() }.quantile().is_err());
    /// ```
    pub fn quantile(&self) -> Result<f64, ClueError> {
        let value = self.confidence;
        if !(value > 0.0 && value < 1.0) {
            return Err(ClueError::InvalidConfidence { value });
        }
        Ok(inverse_normal_cdf(0.5 * (1.0 + value)))
    }
}

/// A CLUE: the interval of the probability of answering correctly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clue {
    /// Lower end, in [0, 1].
    pub minimum: f64,
    /// Point estimate `σ(z̄)`, in [0, 1].
    pub most_likely: f64,
    /// Upper end, in [0, 1].
    pub maximum: f64,
    /// Whether enough evidence backed the interval.
    pub is_real: bool,
}

impl Clue {
    /// The CLUE returned without enough evidence: `(0, 0.5, 1, false)`.
    pub const NOT_REAL: Clue = Clue {
        minimum: 0.0,
        most_likely: 0.5,
        maximum: 1.0,
        is_real: false,
    };
}

/// The latent-space quantities behind a CLUE (for diagnostics and tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatentClue {
    /// `z̄`, the mean latent score of the target learners on the target questions.
    pub mean: f64,
    /// `s`, the standard error of `z̄`.
    pub std_error: f64,
    /// Pooled number of distinct (learner, target question) entries.
    pub evidence: usize,
}

impl LatentClue {
    /// Maps the latent interval to probabilities with multiplier `c` (≥ 0).
    pub fn to_clue(&self, c: f64) -> Clue {
        let half = c * self.std_error;
        Clue {
            minimum: sigmoid(self.mean - half),
            most_likely: sigmoid(self.mean),
            maximum: sigmoid(self.mean + half),
            is_real: true,
        }
    }
}

/// The CLUE of `learners` (each given by its §3.3 gradebook) on `target_questions`.
///
/// - Each learner's knowledge is inferred from *all* of its entries (§6.2 step 2);
///   callers de-duplicate learners and pass the container's responses.
/// - `target_questions` is treated as a set: out-of-model indices are dropped and
///   duplicates ignored, so the result does not depend on its order.
/// - Evidence counts distinct (learner, target question) pairs.
///
/// ```
/// use biglearn_core::sparfa::{clue_interval, ClueOptions, LearnerResponse, Penalties, SparfaModel};
/// let model = SparfaModel {
///     question_ids: vec!["q0".into(), "q1".into()],
///     concept_ids: vec!["c0".into()],
///     loadings: vec![vec![(0, 1.0)], vec![(0, 1.0)]],
///     intercepts: vec![0.5, 0.0],
///     hints: vec![vec![0], vec![0]],
///     penalties: Penalties::default(),
///     pooled_loadings: Vec::new(),
/// };
/// let alice = vec![LearnerResponse::new(0, true), LearnerResponse::new(1, false)];
/// let bob = vec![LearnerResponse::new(0, true), LearnerResponse::new(1, true)];
/// let clue = clue_interval(&model, &[alice, bob], &[0, 1], &ClueOptions::default()).unwrap();
/// assert!(clue.is_real);
/// assert!(clue.minimum <= clue.most_likely && clue.most_likely <= clue.maximum);
/// ```
pub fn clue_interval<L: AsRef<[LearnerResponse]>>(
    model: &SparfaModel,
    learners: &[L],
    target_questions: &[QuestionIndex],
    options: &ClueOptions,
) -> Result<Clue, ClueError> {
    clue_interval_with(
        &mut ClueWorkspace::default(),
        model,
        learners,
        target_questions,
        options,
    )
}

/// [`clue_interval`] reusing the buffers of `workspace`.
pub fn clue_interval_with<L: AsRef<[LearnerResponse]>>(
    workspace: &mut ClueWorkspace,
    model: &SparfaModel,
    learners: &[L],
    target_questions: &[QuestionIndex],
    options: &ClueOptions,
) -> Result<Clue, ClueError> {
    let c = options.quantile()?;
    workspace.set_loadings(options.loadings);
    match workspace.latent(model, learners, target_questions, options.min_responses)? {
        Some(latent) => Ok(latent.to_clue(c)),
        None => Ok(Clue::NOT_REAL),
    }
}

/// The latent quantities of [`clue_interval`], or `None` for the not-real case.
pub fn clue_latent<L: AsRef<[LearnerResponse]>>(
    model: &SparfaModel,
    learners: &[L],
    target_questions: &[QuestionIndex],
    min_responses: usize,
) -> Result<Option<LatentClue>, ClueError> {
    ClueWorkspace::default().latent(model, learners, target_questions, min_responses)
}

/// Reusable buffers for CLUE calculations (one per thread).
#[derive(Debug, Clone, Default)]
pub struct ClueWorkspace {
    learner: LearnerWorkspace,
    targets: Vec<QuestionIndex>,
    mean_loading: Vec<(ConceptIndex, f64)>,
    dense: Vec<f64>,
    hits: Vec<QuestionIndex>,
    loadings: ClueLoadings,
}

impl ClueWorkspace {
    /// A workspace with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Which loadings the next calculations read ([`ClueLoadings::Pooled`] unless set).
    pub fn set_loadings(&mut self, loadings: ClueLoadings) {
        self.loadings = loadings;
    }

    /// The latent CLUE, or `None` when it is not real (see [`clue_interval`]).
    pub fn latent<L: AsRef<[LearnerResponse]>>(
        &mut self,
        model: &SparfaModel,
        learners: &[L],
        target_questions: &[QuestionIndex],
        min_responses: usize,
    ) -> Result<Option<LatentClue>, ClueError> {
        let nq = model
            .num_questions()
            .min(model.loadings.len())
            .min(model.intercepts.len());
        self.targets.clear();
        self.targets.extend(
            target_questions
                .iter()
                .copied()
                .filter(|&q| (q as usize) < nq),
        );
        self.targets.sort_unstable();
        self.targets.dedup();
        if self.targets.is_empty() || learners.is_empty() {
            return Ok(None);
        }
        let evidence: usize = learners.iter().map(|l| self.evidence(l.as_ref())).sum();
        if evidence < min_responses {
            return Ok(None);
        }
        let mean_intercept = self.prepare_mean_loading(model);
        let mut mean = 0.0;
        let mut variance = 0.0;
        for learner in learners {
            let estimate =
                self.learner
                    .infer_with_loadings(model, self.loadings.of(model), learner.as_ref());
            let (z, v) = self.learner_terms(&estimate, mean_intercept);
            mean += z;
            variance += v;
        }
        let n = learners.len() as f64;
        finish(mean / n, variance / (n * n), evidence).map(Some)
    }

    /// Distinct target questions answered in `responses`.
    fn evidence(&mut self, responses: &[LearnerResponse]) -> usize {
        self.hits.clear();
        self.hits.extend(
            responses
                .iter()
                .map(|r| r.question)
                .filter(|q| self.targets.binary_search(q).is_ok()),
        );
        self.hits.sort_unstable();
        self.hits.dedup();
        self.hits.len()
    }

    /// Builds `w̄` (sparse, sorted by concept) for the current targets and returns `d̄`.
    fn prepare_mean_loading(&mut self, model: &SparfaModel) -> f64 {
        let nc = model.num_concepts();
        self.dense.clear();
        self.dense.resize(nc, 0.0);
        let m = self.targets.len() as f64;
        let mut intercept = 0.0;
        let loadings = self.loadings.of(model);
        for &q in &self.targets {
            for &(k, w) in &loadings[q as usize] {
                if let Some(slot) = self.dense.get_mut(k as usize) {
                    *slot += w;
                }
            }
            intercept += model.intercepts[q as usize];
        }
        self.mean_loading.clear();
        self.mean_loading.extend(
            self.dense
                .iter()
                .enumerate()
                .filter(|&(_, &w)| w != 0.0)
                .map(|(k, &w)| (k as ConceptIndex, w / m)),
        );
        intercept / m
    }

    /// One learner's `w̄ᵀû + d̄` and `w̄ᵀ Σ w̄`.
    fn learner_terms(&self, estimate: &LearnerEstimate, mean_intercept: f64) -> (f64, f64) {
        let u = estimate.knowledge();
        let z = self
            .mean_loading
            .iter()
            .map(|&(k, w)| w * u.get(k as usize).copied().unwrap_or(0.0))
            .sum::<f64>()
            + mean_intercept;
        (z, estimate.variance_sparse(&self.mean_loading))
    }

    /// The latent CLUE from precomputed learner estimates (each paired with its
    /// evidence on the targets), for callers that reuse one estimate across many
    /// target sets (e.g. calibration over every concept). The estimates must have been
    /// inferred with the loadings this workspace reads ([`ClueLoadings::of`]).
    pub fn latent_from_estimates(
        &mut self,
        model: &SparfaModel,
        estimates: &[(&LearnerEstimate, usize)],
        target_questions: &[QuestionIndex],
        min_responses: usize,
    ) -> Result<Option<LatentClue>, ClueError> {
        let nq = model
            .num_questions()
            .min(model.loadings.len())
            .min(model.intercepts.len());
        self.targets.clear();
        self.targets.extend(
            target_questions
                .iter()
                .copied()
                .filter(|&q| (q as usize) < nq),
        );
        self.targets.sort_unstable();
        self.targets.dedup();
        let evidence: usize = estimates.iter().map(|&(_, e)| e).sum();
        if self.targets.is_empty() || estimates.is_empty() || evidence < min_responses {
            return Ok(None);
        }
        let mean_intercept = self.prepare_mean_loading(model);
        let (mut mean, mut variance) = (0.0, 0.0);
        for &(estimate, _) in estimates {
            let (z, v) = self.learner_terms(estimate, mean_intercept);
            mean += z;
            variance += v;
        }
        let n = estimates.len() as f64;
        finish(mean / n, variance / (n * n), evidence).map(Some)
    }
}

fn finish(mean: f64, variance: f64, evidence: usize) -> Result<LatentClue, ClueError> {
    if !mean.is_finite() {
        return Err(ClueError::NonFinite {
            what: "latent mean",
            value: mean,
        });
    }
    let std_error = variance.max(0.0).sqrt();
    if !std_error.is_finite() {
        return Err(ClueError::NonFinite {
            what: "standard error",
            value: std_error,
        });
    }
    Ok(LatentClue {
        mean,
        std_error,
        evidence,
    })
}
