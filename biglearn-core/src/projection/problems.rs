//! Problems found while applying events: recorded on the state, never fatal.

use serde::{Deserialize, Serialize};

use crate::log::{Event, EventType, SequenceNumber};

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

impl Problem {
    /// `event` belongs to another stream than the state of `owner`.
    pub(crate) fn wrong_stream(event: &Event, owner: String) -> Self {
        Problem {
            sequence_number: event.sequence_number,
            event_type: event.event_type,
            kind: ProblemKind::WrongStream,
            message: format!("{} is not {owner}", event.stream),
        }
    }
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
