//! Projections: the course and ecosystem state built by applying stored
//! events in sequence order (scheduler.md §1.3–§1.6, §3.1–§3.3).
//!
//! - [`EcosystemState`] is built from `create_ecosystem` (§1.3): the book
//!   container tree, pools with deterministic ids (S1 fix 12), exercises with
//!   their groups, versions and learning objectives.
//! - [`CourseState`] applies every course event (§1.4): ecosystem
//!   preparations and switches (S1 fix 13: an unknown preparation parks the
//!   switch), rosters (S1 fix 15: absent students and containers are
//!   removed), exclusions, assignments (README S3 dates) and responses (latest
//!   answer per trial for CLUEs, first real answer per (student, exercise) for
//!   fitting, real responses only for the refit counts — S1 fix 14).
//! - Every `apply` returns [`CourseChanges`], the dirty markers of §1.6: what
//!   must be recalculated because of the event.
//! - Bad data never aborts: the event is applied as far as it is valid and
//!   every problem is kept on the state as a [`Problem`].
//! - [`CourseViews`] converts the state into the input types of
//!   [`crate::scheduler`] (ecosystem views, assignments, CLUE inputs).
//!
//! - [`ExerciseGroupCounts`] sums the real-response increases that every
//!   course reports, for the refit trigger floor(1.1·count)+1 (F4).
//!
//! All state is `Serialize + Deserialize` with deterministic (`BTreeMap`)
//! iteration, so a storage layer can persist it per course or ecosystem as a
//! versioned blob ([`encode_state`], [`decode_state`]).
//!
//! ```
//! use std::collections::BTreeMap;
//! use biglearn_core::events::{parse_create_course, WireEvent};
//! use biglearn_core::projection::{CourseState, EcosystemState, ProblemKind};
//! let body = serde_json::json!({
//!     "course_uuid": "00000000-0000-4000-8000-000000000001",
//!     "ecosystem_uuid": "00000000-0000-4000-8000-000000000002",
//!     "is_real_course": true,
//!     "starts_at": "2017-01-01T00:00:00.000000Z",
//!     "ends_at": "2017-06-01T00:00:00.000000Z",
//!     "created_at": "2017-01-01T00:00:00.000000Z"
//! });
//! let create = parse_create_course(&body).unwrap().event;
//! let mut course = CourseState::new(create.course_uuid);
//! let ecosystems: BTreeMap<_, EcosystemState> = BTreeMap::new();
//! let changes = course.apply(&create.to_event(), &ecosystems);
//! assert!(changes.applied && course.created);
//! // The ecosystem is not imported yet: recorded, not fatal.
//! let problem = &course.problems.items[0];
//! assert_eq!(problem.kind, ProblemKind::UnknownEcosystem);
//! // Applying the same event again is a replay and changes nothing.
//! assert!(!course.apply(&create.to_event(), &ecosystems).applied);
//! ```

mod assignment;
mod blob;
mod changes;
mod course;
mod ecosystem;
mod index;
mod roster;
mod touched;
mod views;

pub use assignment::{AssignmentState, TrialResponse, TrialState};
pub use blob::{decode_state, encode_state, encode_state_binary, BlobError, STATE_VERSION};
pub use changes::{AnsweredExercise, CourseChanges, ExerciseGroupCounts, GroupCount};
pub use course::{CourseState, ParkedEcosystemUpdate, Preparation};
pub use ecosystem::{
    exercise_pool_id, BookContainerNode, EcosystemState, ExerciseEntry, ExercisePoolId, PoolEntry,
};
pub use index::CourseIndex;
pub use roster::{CourseContainerNode, StudentEntry};
pub use touched::Touched;
pub use views::{ClueInput, CourseViews};

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::ids::EcosystemId;
use crate::log::{EventType, SequenceNumber};

/// Read-only access to the ecosystems a course refers to; course events are
/// checked against it (exercise and container lookups).
pub trait EcosystemCatalog {
    /// The ecosystem `id`, if it has been imported.
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState>;
}

impl EcosystemCatalog for BTreeMap<EcosystemId, EcosystemState> {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.get(&id)
    }
}

impl EcosystemCatalog for HashMap<EcosystemId, EcosystemState> {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.get(&id)
    }
}

impl EcosystemCatalog for [EcosystemState] {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.iter().find(|e| e.id == id)
    }
}

impl EcosystemCatalog for Vec<EcosystemState> {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.as_slice().ecosystem(id)
    }
}

/// What is wrong with (part of) an applied event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The stored event data could not be read back as its typed body; the
    /// event was skipped.
    UnreadableEvent,
    /// The event belongs to another stream or is not a course/ecosystem event;
    /// it was skipped.
    WrongStream,
    /// The event's sequence number skips numbers after the last applied one
    /// (a gap the reader should have waited at); it was applied anyway.
    SequenceGap,
    /// A course event arrived before create_course.
    CourseNotCreated,
    /// An event names an ecosystem that has not been imported.
    UnknownEcosystem,
    /// An exercise is not part of the ecosystem it is used in.
    ExerciseNotInEcosystem,
    /// An assigned book container is not part of the assignment's ecosystem.
    BookContainerNotInEcosystem,
    /// update_course_ecosystem names a preparation this course has not
    /// prepared (yet): the switch is parked (S1 fix 13).
    UnknownPreparation,
    /// A roster student's container, or a container's parent, is not in the
    /// roster.
    UnknownCourseContainer,
    /// The roster's container parents form a cycle.
    CourseContainerCycle,
    /// A response names a trial no assignment has issued.
    UnknownTrial,
    /// A response's student or exercise differs from its trial's.
    TrialMismatch,
    /// A trial uuid was issued by another assignment already.
    TrialReused,
    /// An assignment update names a different student than before.
    AssignmentStudentChanged,
    /// create_ecosystem lists an exercise twice or a container twice.
    Duplicate,
    /// create_ecosystem: a pool lists an exercise missing from `exercises`.
    UnknownPoolExercise,
    /// create_ecosystem: a container's parent is not in the book.
    UnknownBookContainerParent,
}

/// One problem found while applying an event (the rest of the event applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The event's sequence number.
    pub sequence_number: SequenceNumber,
    /// The event's type.
    pub event_type: EventType,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// A message naming the offending ids.
    pub message: String,
}

/// How many problems a state keeps; older ones are dropped first (and
/// counted), so a persisted blob stays bounded.
pub const MAX_PROBLEMS: usize = 1000;

/// A bounded problem list: the latest [`MAX_PROBLEMS`] problems plus a count
/// of the dropped ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problems {
    /// The kept problems, oldest first.
    pub items: Vec<Problem>,
    /// How many older problems were dropped.
    pub dropped: u64,
}

impl Problems {
    /// Records one problem.
    pub fn push(&mut self, problem: Problem) {
        if self.items.len() >= MAX_PROBLEMS {
            self.items.remove(0);
            self.dropped += 1;
        }
        self.items.push(problem);
    }

    /// The kept problems of `kind`.
    pub fn of_kind(&self, kind: ProblemKind) -> impl Iterator<Item = &Problem> {
        self.items.iter().filter(move |p| p.kind == kind)
    }

    /// Whether no problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.dropped == 0
    }
}

/// Problems found while applying one event, before they are stamped with
/// the event's sequence number and type.
pub(crate) type Issues = Vec<(ProblemKind, String)>;

impl Problems {
    /// Records the `issues` of one event.
    pub(crate) fn record(
        &mut self,
        sequence_number: SequenceNumber,
        event_type: EventType,
        issues: Issues,
    ) {
        for (kind, message) in issues {
            self.push(Problem {
                sequence_number,
                event_type,
                kind,
                message,
            });
        }
    }
}
