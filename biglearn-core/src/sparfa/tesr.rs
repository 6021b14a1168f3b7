//! TeSR exercise ordering (sparfa.md §7.2, decision F3).
//!
//! For one learner: infer `û` from the latest response per exercise (§3.3),
//! predict `p_q = σ(w_qᵀû + d_q)` for every candidate in the model, score
//! `s_q = |p_q − 0.5|`, and order
//!
//! 1. unanswered exercises by ascending score;
//! 2. then answered exercises by oldest latest `responded_at`, then by score;
//! 3. ties by question id string, ascending.
//!
//! Candidates that are not in the model are returned separately, sorted and
//! de-duplicated, so the caller can append them in a seeded shuffle (S2).

use crate::fast_hash::FastHashMap;
use std::cmp::Ordering;

use super::learner::{LearnerResponse, LearnerWorkspace, TimedResponse, Timestamp};
use super::model::{QuestionIndex, SparfaModel};
use super::normal::sigmoid;

/// The target success probability p* of TeSR (v1 eTeSR default, F3).
pub const TARGET_PROBABILITY: f64 = 0.5;

/// Maps question id strings to model indices; build once per model.
#[derive(Debug, Clone, Default)]
pub struct QuestionLookup {
    index: FastHashMap<String, QuestionIndex>,
}

impl QuestionLookup {
    /// Indexes `model.question_ids` (the first occurrence wins for duplicate ids).
    pub fn new(model: &SparfaModel) -> Self {
        let mut index =
            FastHashMap::with_capacity_and_hasher(model.question_ids.len(), Default::default());
        for (q, id) in model.question_ids.iter().enumerate() {
            index.entry(id.clone()).or_insert(q as QuestionIndex);
        }
        QuestionLookup { index }
    }

    /// The model index of question `id`, if the model knows it.
    pub fn get(&self, id: &str) -> Option<QuestionIndex> {
        self.index.get(id).copied()
    }

    /// Number of indexed questions.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no question is indexed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// One ranked exercise of a TeSR ordering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedExercise {
    /// Model index of the exercise (its id is `model.question_ids[question]`).
    pub question: QuestionIndex,
    /// Predicted probability of a correct answer, `σ(w_qᵀû + d_q)`.
    pub probability: f64,
    /// `|probability − 0.5|`; lower is more recommended.
    pub score: f64,
    /// The learner's latest response time to this exercise, if answered.
    pub last_responded_at: Option<Timestamp>,
}

/// The result of [`rank_exercises`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TesrRanking {
    /// Known candidates, most recommended first.
    pub ranked: Vec<RankedExercise>,
    /// Candidate ids not in the model, sorted and de-duplicated (append them
    /// after `ranked` in a seeded shuffle).
    pub unknown: Vec<String>,
}

/// Ranks `candidates` (exercise ids, treated as a set) for one learner whose raw
/// responses are `responses` (model indices with timestamps; unknown indices
/// are ignored). See the module documentation for the order.
///
/// ```
/// use biglearn_core::sparfa::{rank_exercises, Penalties, QuestionLookup, SparfaModel};
/// let model = SparfaModel {
///     question_ids: vec!["easy".into(), "fair".into()],
///     concept_ids: vec!["c".into()],
///     loadings: vec![vec![(0, 1.0)], vec![(0, 1.0)]],
///     intercepts: vec![3.0, 0.0],
///     hints: vec![vec![0], vec![0]],
///     penalties: Penalties::default(),
///     pooled_loadings: Vec::new(),
/// };
/// let lookup = QuestionLookup::new(&model);
/// let ranking = rank_exercises(&model, &lookup, &["easy", "new", "fair"], &[]);
/// assert_eq!(ranking.ranked[0].question, 1); // p = 0.5 is the target
/// assert_eq!(ranking.unknown, vec!["new".to_string()]);
/// ```
pub fn rank_exercises<S: AsRef<str>>(
    model: &SparfaModel,
    lookup: &QuestionLookup,
    candidates: &[S],
    responses: &[TimedResponse],
) -> TesrRanking {
    TesrWorkspace::default().rank(model, lookup, candidates, responses)
}

/// Reusable buffers for [`rank_exercises`] (one per thread).
#[derive(Debug, Clone, Default)]
pub struct TesrWorkspace {
    learner: LearnerWorkspace,
    order: Vec<usize>,
    latest: Vec<(QuestionIndex, bool, Timestamp)>,
    gradebook: Vec<LearnerResponse>,
    known: Vec<QuestionIndex>,
}

impl TesrWorkspace {
    /// A workspace with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`rank_exercises`] reusing this workspace's buffers.
    pub fn rank<S: AsRef<str>>(
        &mut self,
        model: &SparfaModel,
        lookup: &QuestionLookup,
        candidates: &[S],
        responses: &[TimedResponse],
    ) -> TesrRanking {
        let nq = model
            .num_questions()
            .min(model.loadings.len())
            .min(model.intercepts.len());
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for id in candidates {
            let id = id.as_ref();
            match lookup.get(id).filter(|&q| (q as usize) < nq) {
                Some(q) => known.push(q),
                None => unknown.push(id.to_owned()),
            }
        }
        unknown.sort_unstable();
        unknown.dedup();
        let ranked = self.rank_questions(model, &known, responses);
        TesrRanking { ranked, unknown }
    }

    /// Ranks the model questions `candidates` (a set: out-of-model indices
    /// are dropped, duplicates ignored) for one learner, in the order of the
    /// module documentation. Callers that already hold model indices (the
    /// engine indexes each matrix once) skip the id lookups of [`Self::rank`].
    pub fn rank_questions(
        &mut self,
        model: &SparfaModel,
        candidates: &[QuestionIndex],
        responses: &[TimedResponse],
    ) -> Vec<RankedExercise> {
        self.latest_per_question(responses);
        let estimate = self.learner.infer(model, &self.gradebook);
        let knowledge = estimate.knowledge();

        let nq = model
            .num_questions()
            .min(model.loadings.len())
            .min(model.intercepts.len());
        self.known.clear();
        self.known
            .extend(candidates.iter().copied().filter(|&q| (q as usize) < nq));
        self.known.sort_unstable();
        self.known.dedup();

        let mut ranked: Vec<RankedExercise> = self
            .known
            .iter()
            .map(|&q| {
                let probability = sigmoid(model.logit(q, knowledge));
                let last_responded_at = self
                    .latest
                    .binary_search_by_key(&q, |&(lq, _, _)| lq)
                    .ok()
                    .map(|i| self.latest[i].2);
                RankedExercise {
                    question: q,
                    probability,
                    score: (probability - TARGET_PROBABILITY).abs(),
                    last_responded_at,
                }
            })
            .collect();
        ranked.sort_by(|a, b| compare(model, a, b));
        ranked
    }

    /// Fills `latest` (sorted by question) and `gradebook` with the latest
    /// response per question; ties in time go to the later input.
    fn latest_per_question(&mut self, responses: &[TimedResponse]) {
        self.order.clear();
        self.order.extend(0..responses.len());
        self.order
            .sort_by_key(|&i| (responses[i].question, responses[i].responded_at));
        self.latest.clear();
        for &i in &self.order {
            let r = responses[i];
            match self.latest.last_mut() {
                Some(last) if last.0 == r.question => {
                    *last = (r.question, r.correct, r.responded_at)
                }
                _ => self.latest.push((r.question, r.correct, r.responded_at)),
            }
        }
        self.gradebook.clear();
        self.gradebook.extend(
            self.latest
                .iter()
                .map(|&(q, correct, _)| LearnerResponse::new(q, correct)),
        );
    }
}

/// The §7.2 order: unanswered first by score; answered by oldest latest
/// response, then score; ties by id string.
fn compare(model: &SparfaModel, a: &RankedExercise, b: &RankedExercise) -> Ordering {
    let primary = match (a.last_responded_at, b.last_responded_at) {
        (None, None) => a.score.total_cmp(&b.score),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(ta), Some(tb)) => ta.cmp(&tb).then(a.score.total_cmp(&b.score)),
    };
    primary.then_with(|| {
        let id_a = model.question_ids.get(a.question as usize);
        let id_b = model.question_ids.get(b.question as usize);
        id_a.cmp(&id_b).then(a.question.cmp(&b.question))
    })
}
