//! CLUE calibration against a synthetic truth (sparfa.md §8.4 item 5).
//!
//! For every learner × concept group (the concept's target questions are the
//! questions the *model* hints to it) this computes the student CLUE and checks
//! whether the true probability `σ(z̄_true)` — the truth's mean latent score of
//! that learner on those questions, mapped through the link, i.e. the same
//! latent-mean quantity that `most_likely` estimates — lies inside
//! `[minimum, maximum]`. Only real CLUEs count towards the coverage.

use thiserror::Error;

use super::clue::{ClueError, ClueOptions, ClueWorkspace};
use super::learner::{LearnerEstimate, LearnerResponse, LearnerWorkspace};
use super::model::{QuestionIndex, SparfaModel};
use super::normal::sigmoid;

/// Errors of [`clue_coverage`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CalibrationError {
    /// The model and the truth index different numbers of questions.
    #[error("model has {model} questions but the truth has {truth}; both must use the same question indices")]
    QuestionCountMismatch {
        /// Questions in the evaluated model.
        model: usize,
        /// Questions in the truth.
        truth: usize,
    },
    /// The true knowledge is not `learners × truth concepts` long.
    #[error("true knowledge has {found} values, expected {learners} learners × {concepts} truth concepts")]
    KnowledgeShape {
        /// Learners (length of the per-learner responses).
        learners: usize,
        /// Concepts of the truth.
        concepts: usize,
        /// Length of the knowledge slice.
        found: usize,
    },
    /// A CLUE could not be computed.
    #[error("CLUE for learner {learner}, concept {concept}: {source}")]
    Clue {
        /// Learner index.
        learner: usize,
        /// Concept index of the model.
        concept: usize,
        /// The underlying error.
        source: ClueError,
    },
}

/// Which responses a learner's knowledge is inferred from for a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseScope {
    /// All of the learner's responses (§6.2 step 2 on the whole gradebook).
    #[default]
    AllResponses,
    /// Only the responses to the group's target questions (a production
    /// container CLUE, whose gradebook holds only the container's responses).
    Container,
}

/// Options of [`clue_coverage`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CalibrationOptions {
    /// CLUE confidence and N_min.
    pub clue: ClueOptions,
    /// Responses used per group.
    pub scope: ResponseScope,
}

/// The outcome of a coverage check.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CoverageReport {
    /// Learner × concept groups with at least one target question.
    pub groups: usize,
    /// Groups whose CLUE was real (these are the ones scored).
    pub real_groups: usize,
    /// Real groups whose interval contained the true probability.
    pub covered: usize,
    /// Mean `maximum − minimum` over real groups (0 when there are none).
    pub mean_width: f64,
}

impl CoverageReport {
    /// `covered / real_groups`, or `None` when no group was real.
    pub fn coverage(&self) -> Option<f64> {
        (self.real_groups > 0).then(|| self.covered as f64 / self.real_groups as f64)
    }
}

/// Groups `(learner, response)` pairs into one gradebook per learner
/// (pairs with `learner ≥ num_learners` are dropped).
pub fn gradebooks<I>(num_learners: usize, entries: I) -> Vec<Vec<LearnerResponse>>
where
    I: IntoIterator<Item = (usize, LearnerResponse)>,
{
    let mut books = vec![Vec::new(); num_learners];
    for (l, r) in entries {
        if let Some(book) = books.get_mut(l) {
            book.push(r);
        }
    }
    books
}

/// CLUE coverage of `model` on learners with known truth.
///
/// - `truth`: the true W, d with the same question indices as `model`;
/// - `true_knowledge`: learner-major, `responses.len() × truth.num_concepts()`;
/// - `responses`: each learner's gradebook (model question indices).
///
/// Groups are every learner × every model concept with at least one hinted
/// question.
pub fn clue_coverage(
    model: &SparfaModel,
    truth: &SparfaModel,
    true_knowledge: &[f64],
    responses: &[Vec<LearnerResponse>],
    options: &CalibrationOptions,
) -> Result<CoverageReport, CalibrationError> {
    let nq = model.num_questions();
    if truth.num_questions() != nq || truth.loadings.len() != nq || truth.intercepts.len() != nq {
        return Err(CalibrationError::QuestionCountMismatch {
            model: nq,
            truth: truth
                .num_questions()
                .min(truth.loadings.len())
                .min(truth.intercepts.len()),
        });
    }
    let tc = truth.num_concepts();
    if true_knowledge.len() != responses.len() * tc {
        return Err(CalibrationError::KnowledgeShape {
            learners: responses.len(),
            concepts: tc,
            found: true_knowledge.len(),
        });
    }
    let c = options
        .clue
        .quantile()
        .map_err(|source| CalibrationError::Clue {
            learner: 0,
            concept: 0,
            source,
        })?;
    let concept_questions = questions_by_concept(model);
    let mut report = CoverageReport::default();
    let mut width_sum = 0.0;
    let mut clue = ClueWorkspace::new();
    clue.set_loadings(options.clue.loadings);
    let loadings = options.clue.loadings.of(model);
    let mut learner_ws = LearnerWorkspace::new();
    let mut answered = vec![false; nq];
    let mut scoped: Vec<LearnerResponse> = Vec::new();
    for (l, book) in responses.iter().enumerate() {
        let u_true = &true_knowledge[l * tc..(l + 1) * tc];
        let whole: Option<LearnerEstimate> = (options.scope == ResponseScope::AllResponses)
            .then(|| learner_ws.infer_with_loadings(model, loadings, book));
        for r in book {
            if let Some(a) = answered.get_mut(r.question as usize) {
                *a = true;
            }
        }
        for (k, targets) in concept_questions.iter().enumerate() {
            if targets.is_empty() {
                continue;
            }
            report.groups += 1;
            let wrap = |source| CalibrationError::Clue {
                learner: l,
                concept: k,
                source,
            };
            let latent = match &whole {
                Some(estimate) => {
                    let evidence = targets.iter().filter(|&&q| answered[q as usize]).count();
                    clue.latent_from_estimates(
                        model,
                        &[(estimate, evidence)],
                        targets,
                        options.clue.min_responses,
                    )
                }
                None => {
                    scoped.clear();
                    scoped.extend(
                        book.iter()
                            .filter(|r| targets.binary_search(&r.question).is_ok()),
                    );
                    clue.latent(
                        model,
                        &[scoped.as_slice()],
                        targets,
                        options.clue.min_responses,
                    )
                }
            }
            .map_err(wrap)?;
            let Some(latent) = latent else { continue };
            let interval = latent.to_clue(c);
            let true_mean = targets
                .iter()
                .map(|&q| true_logit(truth, q, u_true))
                .sum::<f64>()
                / targets.len() as f64;
            let p_true = sigmoid(true_mean);
            report.real_groups += 1;
            width_sum += interval.maximum - interval.minimum;
            if interval.minimum <= p_true && p_true <= interval.maximum {
                report.covered += 1;
            }
        }
        for r in book {
            if let Some(a) = answered.get_mut(r.question as usize) {
                *a = false;
            }
        }
    }
    if report.real_groups > 0 {
        report.mean_width = width_sum / report.real_groups as f64;
    }
    Ok(report)
}

/// Questions hinted to each model concept, sorted.
fn questions_by_concept(model: &SparfaModel) -> Vec<Vec<QuestionIndex>> {
    let mut by_concept = vec![Vec::new(); model.num_concepts()];
    for (q, hints) in model.hints.iter().enumerate().take(model.num_questions()) {
        for &k in hints {
            if let Some(list) = by_concept.get_mut(k as usize) {
                list.push(q as QuestionIndex);
            }
        }
    }
    for list in &mut by_concept {
        list.dedup();
    }
    by_concept
}

fn true_logit(truth: &SparfaModel, q: QuestionIndex, knowledge: &[f64]) -> f64 {
    let q = q as usize;
    truth.loadings[q]
        .iter()
        .map(|&(k, w)| w * knowledge.get(k as usize).copied().unwrap_or(0.0))
        .sum::<f64>()
        + truth.intercepts[q]
}
