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
//! The files depend one way: the stored parts (`problems`, `changes`,
//! `touched`, `assignment`, `roster`, `ecosystem`, `index`), then the state
//! (`course`), then what works on it (`course_events`, `assignment_events`,
//! `roster_events`, `course_index`), then `views` and `status`.
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
mod assignment_events;
mod blob;
mod changes;
mod course;
mod course_events;
mod course_index;
mod ecosystem;
mod index;
mod problems;
mod roster;
mod roster_events;
mod status;
mod touched;
mod views;

pub use assignment::{AssignmentState, TrialResponse, TrialState};
pub use blob::{decode_state, encode_state, encode_state_binary, BlobError, STATE_VERSION};
pub use changes::{AnsweredExercise, CourseChanges, ExerciseGroupCounts, GroupCount};
pub use course::{CourseState, ParkedEcosystemUpdate, Preparation};
pub use ecosystem::{
    exercise_pool_id, BookContainerNode, EcosystemCatalog, EcosystemState, ExerciseEntry,
    ExercisePoolId, PoolEntry,
};
pub use index::CourseIndex;
pub use problems::{Problem, ProblemKind, Problems, MAX_PROBLEMS};
pub use roster::{CourseContainerNode, StudentEntry};
pub use status::{CourseEcosystemStatus, CourseEcosystems, PreparedEcosystem};
pub use touched::Touched;
pub use views::{CandidateCache, ClueInput, CourseViews, StudentCandidates};
