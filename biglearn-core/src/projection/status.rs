//! A course's ecosystems as the engine's projection sees them: what
//! fetch_course_ecosystem_statuses reports (api.md §5.4). The course's
//! events apply with the engine's own rules ([`CourseState::apply`]), so a
//! switch waiting for its preparation (S1 fix 13) reads as the engine has
//! it: the course stays in its ecosystem until the preparation arrives.

use std::collections::BTreeMap;

use super::course::{CourseState, Preparation};
use super::ecosystem::EcosystemState;
use crate::events::TypedEvent;
use crate::ids::{CourseId, EcosystemId, PreparationId};
use crate::log::{Event, SequenceNumber};

/// One preparation named by a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreparedEcosystem {
    /// The preparation (the prepare_course_ecosystem event's uuid).
    pub preparation: PreparationId,
    /// The ecosystem it prepares.
    pub ecosystem: EcosystemId,
    /// The prepare event's sequence number.
    pub sequence_number: SequenceNumber,
}

impl PreparedEcosystem {
    fn new(preparation: PreparationId, stored: &Preparation) -> Self {
        PreparedEcosystem {
            preparation,
            ecosystem: stored.ecosystem,
            sequence_number: stored.sequence_number,
        }
    }
}

/// Where a course stands with its ecosystems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEcosystemStatus {
    /// Whether create_course has been applied.
    pub course_is_known: bool,
    /// The current ecosystem (`None` before create_course).
    pub current_ecosystem: Option<EcosystemId>,
    /// The preparation the course switched to its current ecosystem with;
    /// `None` while it is in its create_course ecosystem.
    pub current_preparation: Option<PreparedEcosystem>,
    /// The switch the course is prepared for and has not made
    /// ([`CourseState::pending_preparation`]).
    pub next_preparation: Option<PreparedEcosystem>,
    /// The preparation a parked update_course_ecosystem waits for.
    pub parked: Option<PreparationId>,
}

/// Applies a course's events and keeps which preparation made each switch.
/// Only create_course, prepare_course_ecosystem and update_course_ecosystem
/// change the status, so a caller may feed just those (in sequence order,
/// up to the stream's first gap, as the engine applies them).
#[derive(Debug, Clone)]
pub struct CourseEcosystems {
    course: CourseState,
    current_preparation: Option<PreparationId>,
}

impl CourseEcosystems {
    /// A course with no event applied.
    pub fn new(course: CourseId) -> Self {
        CourseEcosystems {
            course: CourseState::new(course),
            current_preparation: None,
        }
    }

    /// Applies one stored event of the course; a replay changes nothing.
    pub fn apply(&mut self, event: &Event) {
        // Imported ecosystems only add problems here, never a switch.
        let catalog: BTreeMap<EcosystemId, EcosystemState> = BTreeMap::new();
        let changes = self.course.apply(event, &catalog);
        if changes.ecosystem_changed.is_none() {
            return;
        }
        // A switch is made by an update naming a known preparation, or by
        // the preparation a parked update was waiting for.
        self.current_preparation = match TypedEvent::from_event(event) {
            Ok(TypedEvent::UpdateCourseEcosystem(update)) => Some(update.preparation_uuid),
            Ok(TypedEvent::PrepareCourseEcosystem(prepare)) => Some(prepare.preparation_uuid),
            _ => self.current_preparation,
        };
    }

    /// The status after the events applied so far.
    pub fn status(&self) -> CourseEcosystemStatus {
        let course = &self.course;
        let current_preparation = self.current_preparation.and_then(|id| {
            course
                .preparations
                .get(&id)
                .map(|p| PreparedEcosystem::new(id, p))
        });
        CourseEcosystemStatus {
            course_is_known: course.created,
            current_ecosystem: course.current_ecosystem,
            current_preparation,
            next_preparation: course
                .pending_preparation()
                .map(|(id, p)| PreparedEcosystem::new(id, p)),
            parked: course.parked.as_ref().map(|p| p.preparation),
        }
    }
}
