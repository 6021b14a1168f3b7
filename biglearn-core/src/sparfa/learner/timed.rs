//! Timestamped responses and the §3.3 inference rule (latest response per exercise).

use serde::{Deserialize, Serialize};

use crate::sparfa::model::{QuestionIndex, SparfaModel};

use super::{infer_learner, LearnerEstimate, LearnerResponse};

/// A point in time as microseconds since the Unix epoch (UTC).
///
/// Core does no I/O and reads no clock, so callers convert their timestamps
/// (e.g. an RFC 3339 `responded_at`) into this type at the boundary. Only the
/// order matters to inference and TeSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The timestamp `micros` microseconds after the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }
}

/// One raw response of a learner: question (model index), correctness and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedResponse {
    /// Model index of the question.
    pub question: QuestionIndex,
    /// `true` if the answer was correct.
    pub correct: bool,
    /// When the learner answered.
    pub responded_at: Timestamp,
}

impl TimedResponse {
    /// A response to `question` at `responded_at`.
    pub fn new(question: QuestionIndex, correct: bool, responded_at: Timestamp) -> Self {
        TimedResponse {
            question,
            correct,
            responded_at,
        }
    }
}

/// The §3.3 inference gradebook: the **latest** response per question.
///
/// Ties in `responded_at` go to the response that comes later in the input.
/// The result is sorted by question index.
///
/// ```
/// use biglearn_core::sparfa::{latest_responses, LearnerResponse, TimedResponse, Timestamp};
/// let log = [
///     TimedResponse::new(3, false, Timestamp(10)),
///     TimedResponse::new(1, false, Timestamp(5)),
///     TimedResponse::new(3, true, Timestamp(20)),
/// ];
/// assert_eq!(
///     latest_responses(&log),
///     vec![LearnerResponse::new(1, false), LearnerResponse::new(3, true)]
/// );
/// ```
pub fn latest_responses(responses: &[TimedResponse]) -> Vec<LearnerResponse> {
    let mut order: Vec<usize> = (0..responses.len()).collect();
    // Stable sort: equal (question, time) keep input order, so the last one wins.
    order.sort_by_key(|&i| (responses[i].question, responses[i].responded_at));
    let mut out: Vec<LearnerResponse> = Vec::with_capacity(order.len());
    for i in order {
        let r = responses[i];
        match out.last_mut() {
            Some(last) if last.question == r.question => last.correct = r.correct,
            _ => out.push(LearnerResponse::new(r.question, r.correct)),
        }
    }
    out
}

/// [`infer_learner`] on the §3.3 gradebook of raw timestamped responses
/// (latest response per question; unknown question indices ignored).
pub fn infer_learner_latest(model: &SparfaModel, responses: &[TimedResponse]) -> LearnerEstimate {
    infer_learner(model, &latest_responses(responses))
}
