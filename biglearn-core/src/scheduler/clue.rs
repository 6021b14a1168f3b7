//! CLUE inputs — exercise sets (§3.1), response selection (§3.2) — and the
//! local_query CLUE (§3.4) (scheduler.md, §2.10, S1 fix 7, README S3).

use crate::fast_hash::{FastHashMap, FastHashSet};

use serde::{Deserialize, Serialize};

use super::constants::{
    LOCAL_QUERY_HALF_WIDTH_OFFSET, LOCAL_QUERY_MIN_NUM_RESPONSES, LOCAL_QUERY_SD_WEIGHT,
    LOCAL_QUERY_Z_ALPHA,
};
use super::ecosystem::{EcosystemView, ExerciseCatalog};
use super::exclusions::CourseExclusions;
use super::mapping::BookContainerMappings;
use crate::ids::{
    BookContainerId, EcosystemId, ExerciseGroupId, ExerciseId, ResponseId, StudentId, TrialId,
};
use crate::time::Instant;

/// A CLUE: an interval for the probability of a correct answer (api.md
/// `clue_data`, §5.9; scheduler.md §3.4). The one type for a computed, a
/// stored and a pushed CLUE; its numbers must be finite (checked when
/// written).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClueData {
    /// Lower end, in [0, 1].
    pub minimum: f64,
    /// Point estimate, in [minimum, maximum]; stored as `clue_value`.
    pub most_likely: f64,
    /// Upper end, in [0, 1].
    pub maximum: f64,
    /// Whether there was enough evidence (sparfa.md §6.2).
    pub is_real: bool,
    /// The ecosystem of the book container: the one a computed CLUE was
    /// computed in; `None` when a pushed CLUE or a read names none.
    pub ecosystem_uuid: Option<EcosystemId>,
}

impl ClueData {
    /// The not-real CLUE `{0, 0.5, 1, false}` (§3.4 step 2), naming no
    /// ecosystem.
    pub const NOT_REAL: ClueData = ClueData {
        minimum: 0.0,
        most_likely: 0.5,
        maximum: 1.0,
        is_real: false,
        ecosystem_uuid: None,
    };

    /// [`ClueData::NOT_REAL`] in `ecosystem`.
    pub fn not_real(ecosystem: EcosystemId) -> Self {
        ClueData {
            ecosystem_uuid: Some(ecosystem),
            ..Self::NOT_REAL
        }
    }

    /// Whether every number is finite.
    pub fn is_finite(&self) -> bool {
        self.minimum.is_finite() && self.most_likely.is_finite() && self.maximum.is_finite()
    }
}

/// Which half-width the local_query CLUE uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalQueryInterval {
    /// The Agresti–Coull half-width `z·√(p̂(1 − p̂)/(n + z²))` around §3.4's centre
    /// (the default). With `z = 0.68 ≈ Φ⁻¹(0.75)` it is a 50 % interval for the
    /// probability of a correct answer, and it covers the truth about half the time:
    /// 0.50 in a model of the course simulation (12 exercises a page, 5–12 answers,
    /// knowledge sd 0.64, intercept sd 0.6), where the published half-width covers
    /// 0.79 — as the simulation itself measured (0.78–0.80). The centre, and so
    /// `most_likely`, is unchanged.
    #[default]
    Calibrated,
    /// The published §3.4 half-width, `z·√(p̂(1 − p̂)/(n + z²)) + 0.1·s + 0.05`: the
    /// two added terms widen a 50 % interval to one that covers about 80 %.
    Published,
}

/// The local_query CLUE of §3.4 over `responses` given as (trial, is_correct)
/// in processing order, with the calibrated half-width
/// ([`LocalQueryInterval::Calibrated`]); see [`local_query_clue_with`].
///
/// ```
/// use biglearn_core::ids::{EcosystemId, TrialId};
/// use biglearn_core::scheduler::local_query_clue;
/// let trials: Vec<(TrialId, bool)> = (1..=3u128)
///     .map(|i| (TrialId::from_uuid(uuid::Uuid::from_u128(i)), true))
///     .collect();
/// let clue = local_query_clue(&trials, EcosystemId::from_uuid(uuid::Uuid::nil()));
/// assert!((clue.most_likely - 0.933226).abs() < 1e-6);
/// assert!(clue.is_real);
/// ```
pub fn local_query_clue(responses: &[(TrialId, bool)], ecosystem: EcosystemId) -> ClueData {
    local_query_clue_with(responses, ecosystem, LocalQueryInterval::Calibrated)
}

/// The local_query CLUE of §3.4: the last response per trial counts; fewer than 3
/// trials give [`ClueData::not_real`]; otherwise the centre is
/// `p̂ = (Σx + z²/2)/(n + z²)` (the Wilson centre) and the half-width is as `interval`
/// says (with `s² = Σ(p̂ − xᵢ)²/(n − 1)` for the published one), clamped to [0, 1].
pub fn local_query_clue_with(
    responses: &[(TrialId, bool)],
    ecosystem: EcosystemId,
    interval: LocalQueryInterval,
) -> ClueData {
    // The last answer per trial, in order of each trial's first answer
    // (a position index keeps this linear for class-wide CLUEs).
    let mut last: Vec<(TrialId, bool)> = Vec::new();
    let mut position: FastHashMap<TrialId, usize> =
        FastHashMap::with_capacity_and_hasher(responses.len(), Default::default());
    for &(trial, correct) in responses {
        match position.get(&trial) {
            Some(&i) => last[i].1 = correct,
            None => {
                position.insert(trial, last.len());
                last.push((trial, correct));
            }
        }
    }
    let n = last.len();
    if n < LOCAL_QUERY_MIN_NUM_RESPONSES {
        return ClueData::not_real(ecosystem);
    }
    let xs: Vec<f64> = last.iter().map(|(_, c)| f64::from(u8::from(*c))).collect();
    let n = n as f64;
    let z = LOCAL_QUERY_Z_ALPHA;
    let z2 = z * z;
    let p = (xs.iter().sum::<f64>() + z2 / 2.0) / (n + z2);
    let mut half = z * (p * (1.0 - p) / (n + z2)).sqrt();
    if interval == LocalQueryInterval::Published {
        let variance = xs.iter().map(|x| (p - x) * (p - x)).sum::<f64>() / (n - 1.0);
        half += LOCAL_QUERY_SD_WEIGHT * variance.sqrt() + LOCAL_QUERY_HALF_WIDTH_OFFSET;
    }
    ClueData {
        minimum: (p - half).max(0.0),
        most_likely: p,
        maximum: (p + half).min(1.0),
        is_real: true,
        ecosystem_uuid: Some(ecosystem),
    }
}

/// The CLUE container a response's container counts towards (§3.1 step 2,
/// §2.10): its forward mapping into the course's current ecosystem, or the
/// container itself when there is none.
pub fn clue_target(
    mappings: &BookContainerMappings,
    from_ecosystem: EcosystemId,
    book_container: BookContainerId,
    current_ecosystem: EcosystemId,
) -> BookContainerId {
    mappings
        .forward(from_ecosystem, book_container, current_ecosystem)
        .unwrap_or(book_container)
}

/// The exercises of a CLUE on `target` of `current_ecosystem` (§3.1): the union
/// of the `use_for_clue` pools of `target` and of every container mapping to
/// it, found in `ecosystems`, minus the course and global exclusions (S1
/// fix 7). `None` when none of them is a known exercise (no CLUE is made).
pub fn clue_exercises(
    target: BookContainerId,
    current_ecosystem: EcosystemId,
    ecosystems: &[&EcosystemView],
    mappings: &BookContainerMappings,
    exclusions: &CourseExclusions,
    catalog: &ExerciseCatalog,
) -> Option<Vec<ExerciseId>> {
    let mut from_bcs = vec![target];
    from_bcs.extend(mappings.sources_of(current_ecosystem, target));
    let excluded = exclusions.excluded_exercises(catalog);
    let mut seen = FastHashSet::default();
    let exercises: Vec<ExerciseId> = from_bcs
        .iter()
        .flat_map(|bc| ecosystems.iter().flat_map(move |eco| eco.clue_pool(*bc)))
        .copied()
        .filter(|e| !excluded.contains(e) && seen.insert(*e))
        .collect();
    exercises
        .iter()
        .any(|e| catalog.group_of(*e).is_some())
        .then_some(exercises)
}

/// Who a CLUE is for (§3.2): a student sees only feedback-visible answers; a
/// teacher sees every answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClueAudience {
    /// A student CLUE (student × book container).
    Student,
    /// A teacher CLUE (course container × book container).
    Teacher,
}

/// A response that may count towards a CLUE, with its assignment's
/// feedback date (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClueCandidate {
    /// The response uuid.
    pub response: ResponseId,
    /// The trial answered.
    pub trial: TrialId,
    /// Who answered.
    pub student: StudentId,
    /// The exercise answered.
    pub exercise: ExerciseId,
    /// The latest answer's correctness.
    pub is_correct: bool,
    /// When it was last answered (the processing order).
    pub last_responded_at: Instant,
    /// When its assignment's feedback becomes visible: `feedback_at`, else
    /// `due_at` (README S3; see `Assignment::feedback_visible_at`); `None`
    /// means visible now.
    pub feedback_visible_at: Option<Instant>,
}

/// The responses of one CLUE and, for a student CLUE, when it must be
/// recalculated because hidden answers become visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClueResponses {
    /// The counted responses, oldest first.
    pub responses: Vec<ClueCandidate>,
    /// The earliest pending feedback date among skipped answers (student only).
    pub recalculate_at: Option<Instant>,
}

impl ClueResponses {
    /// Whether a CLUE row is written (§3.2): a student CLUE with a response or a
    /// pending recalculation, a teacher CLUE with a response.
    pub fn is_written(&self, audience: ClueAudience) -> bool {
        !self.responses.is_empty()
            || (audience == ClueAudience::Student && self.recalculate_at.is_some())
    }
}

/// §3.2: the candidates on `exercises` are processed by ascending
/// `last_responded_at`, keeping the latest response per (student, exercise
/// group) (an exercise of unknown group is its own group). For a student CLUE
/// an answer whose feedback is still pending at `now` is skipped — an
/// earlier visible answer of the group stays — and its date feeds
/// `recalculate_at`.
pub fn select_clue_responses<S: std::hash::BuildHasher>(
    candidates: &[ClueCandidate],
    exercises: &std::collections::HashSet<ExerciseId, S>,
    catalog: &ExerciseCatalog,
    audience: ClueAudience,
    now: Instant,
) -> ClueResponses {
    let mut ordered: Vec<&ClueCandidate> = candidates
        .iter()
        .filter(|c| exercises.contains(&c.exercise))
        .collect();
    ordered.sort_by_key(|c| c.last_responded_at);
    // (student, group or exercise) → (processing position, response).
    let mut latest: FastHashMap<(StudentId, GroupKey), (usize, ClueCandidate)> =
        FastHashMap::default();
    let mut recalculate_at: Option<Instant> = None;
    for (position, candidate) in ordered.into_iter().enumerate() {
        if audience == ClueAudience::Student {
            if let Some(at) = candidate.feedback_visible_at.filter(|at| *at > now) {
                recalculate_at = Some(recalculate_at.map_or(at, |r| r.min(at)));
                continue;
            }
        }
        let group = match catalog.group_of(candidate.exercise) {
            Some(group) => GroupKey::Group(group),
            None => GroupKey::Exercise(candidate.exercise),
        };
        latest.insert((candidate.student, group), (position, *candidate));
    }
    let mut kept: Vec<(usize, ClueCandidate)> = latest.into_values().collect();
    kept.sort_unstable_by_key(|(position, _)| *position);
    let kept: Vec<ClueCandidate> = kept.into_iter().map(|(_, c)| c).collect();
    ClueResponses {
        responses: kept,
        recalculate_at,
    }
}

/// What "the same exercise" means for §3.2: the group, or the exercise itself
/// when its group is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum GroupKey {
    Group(ExerciseGroupId),
    Exercise(ExerciseId),
}
