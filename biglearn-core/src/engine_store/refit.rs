//! What the engine stores besides states and results, for the background
//! refits of F4 and the time-driven recalculation of a course:
//!
//! - the first real response per (ecosystem, student, exercise), the data a
//!   refit fits on (sparfa.md §2.2, §3.3), appended with each course commit;
//! - the real-response count per exercise group (distinct trials, across
//!   courses and versions, S1 fix 14), raised with each course commit;
//! - per ecosystem, the thresholds its last refit set (floor(1.1·count)+1 per
//!   group, scheduler.md §1.6(c)), saved with its matrix;
//! - per (consumer, course), the next instant at which a result changes
//!   without a new event (feedback or due date passing) and the ecosystems
//!   the course uses, so a new matrix wakes the courses it affects (S1 fix 10).

use serde::{Deserialize, Serialize};

use crate::gradebook::FitResponse;
use crate::ids::{EcosystemId, ExerciseGroupId};
use crate::time::Instant;

/// Where a course stands for the wake-up queue: its next wake-up and the
/// ecosystems its results depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseSchedule {
    /// When the course's results next change without a new event (`None`:
    /// never, until a new event or matrix arrives).
    pub wake_at: Option<Instant>,
    /// The ecosystems the course's results are computed in, sorted.
    pub ecosystems: Vec<EcosystemId>,
}

/// What a course commit stores besides the state and results: fitting data,
/// group-count increases and the course's schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseExtras {
    /// New or earlier first real responses.
    pub fit_responses: Vec<FitResponse>,
    /// Increases of the real-response count per exercise group.
    pub group_counts: Vec<(ExerciseGroupId, u64)>,
    /// The course's schedule; `None` leaves the stored one.
    pub schedule: Option<CourseSchedule>,
}

impl CourseExtras {
    /// Whether nothing would be stored.
    pub fn is_empty(&self) -> bool {
        self.fit_responses.is_empty() && self.group_counts.is_empty() && self.schedule.is_none()
    }
}
