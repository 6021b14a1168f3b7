//! [`CourseState`]: one course's projected state (scheduler.md §1.4, §1.5)
//! and the queries every layer reads. Events apply in the `*_events`
//! modules; the lookups kept beside the state are in `course_index`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::assignment::{AssignmentState, TrialResponse, TrialState};
use super::changes::CourseChanges;
use super::index::CourseIndex;
use super::problems::Problems;
use super::roster::{CourseContainerNode, StudentEntry};
use super::touched::Touched;
use crate::events::Datetime;
use crate::ids::{AssignmentId, CourseId, EcosystemId, PreparationId, StudentId, TrialId};
use crate::log::SequenceNumber;
use crate::scheduler::{BookContainerMapping, BookContainerMappings, CourseExclusions};

/// A stored prepare_course_ecosystem (EcosystemPreparation, §1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preparation {
    /// The ecosystem the course will switch to.
    pub ecosystem: EcosystemId,
    /// `ecosystem_map.from_ecosystem_uuid`.
    pub from_ecosystem: EcosystemId,
    /// The event's sequence number.
    pub sequence_number: SequenceNumber,
    /// When Tutor prepared it.
    pub prepared_at: Datetime,
}

/// An update_course_ecosystem waiting for its preparation (S1 fix 13): the
/// switch happens when the preparation arrives; other events keep applying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedEcosystemUpdate {
    /// The awaited preparation.
    pub preparation: PreparationId,
    /// The update's sequence number.
    pub sequence_number: SequenceNumber,
    /// The update's `updated_at` (for the blocked-age report, O3).
    pub updated_at: Datetime,
}

/// One course's projected state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseState {
    /// The course.
    pub id: CourseId,
    /// Whether create_course has been applied.
    pub created: bool,
    /// create_course's ecosystem.
    pub initial_ecosystem: Option<EcosystemId>,
    /// The current ecosystem (initial, then switched by updates).
    pub current_ecosystem: Option<EcosystemId>,
    /// `is_real_course`.
    pub is_real_course: bool,
    /// When Tutor created the course.
    pub created_at: Option<Datetime>,
    /// Course start (create_course, then update_course_active_dates).
    pub starts_at: Option<Datetime>,
    /// Course end.
    pub ends_at: Option<Datetime>,
    /// The last applied sequence number; events at or below it are replays.
    pub last_sequence_number: Option<SequenceNumber>,
    /// Preparations by uuid.
    pub preparations: BTreeMap<PreparationId, Preparation>,
    /// Every book-container mapping, sorted (forward, chains, reverses, §1.4).
    pub mappings: Vec<BookContainerMapping>,
    /// A switch waiting for an unknown preparation (S1 fix 13).
    pub parked: Option<ParkedEcosystemUpdate>,
    /// Course containers of the latest roster.
    pub containers: BTreeMap<crate::ids::CourseContainerId, CourseContainerNode>,
    /// Students of the latest roster.
    pub students: BTreeMap<StudentId, StudentEntry>,
    /// The latest global and course exclusion lists.
    pub exclusions: CourseExclusions,
    /// Assignments by uuid (latest update).
    pub assignments: BTreeMap<AssignmentId, AssignmentState>,
    /// Each student's assignments.
    pub assignments_by_student: BTreeMap<StudentId, BTreeSet<AssignmentId>>,
    /// Issued trials (AssignedExercise, §1.5).
    pub trials: BTreeMap<TrialId, TrialState>,
    /// The latest answer per trial.
    pub responses: BTreeMap<TrialId, TrialResponse>,
    /// Problems found while applying events.
    pub problems: Problems,
    /// The assignments and students changed since the engine last stored
    /// the state (not part of its value).
    #[serde(skip)]
    pub touched: Touched,
    /// Lookups derived from the above (not part of its value).
    #[serde(skip)]
    pub(crate) index: CourseIndex,
}

impl CourseState {
    /// A course with no event applied.
    pub fn new(id: CourseId) -> Self {
        CourseState {
            id,
            created: false,
            initial_ecosystem: None,
            current_ecosystem: None,
            is_real_course: false,
            created_at: None,
            starts_at: None,
            ends_at: None,
            last_sequence_number: None,
            preparations: BTreeMap::new(),
            mappings: Vec::new(),
            parked: None,
            containers: BTreeMap::new(),
            students: BTreeMap::new(),
            exclusions: CourseExclusions::default(),
            assignments: BTreeMap::new(),
            assignments_by_student: BTreeMap::new(),
            trials: BTreeMap::new(),
            responses: BTreeMap::new(),
            problems: Problems::default(),
            touched: Touched::default(),
            index: CourseIndex::default(),
        }
    }

    /// Whether a preparation is waiting for the switch
    /// ([`CourseState::pending_preparation`]): CLUE rows are then kept ready
    /// in both ecosystems (S1 fix 11).
    pub fn preparation_pending(&self) -> bool {
        self.pending_preparation().is_some()
    }

    /// The latest preparation from the current ecosystem to another one
    /// (whether or not that ecosystem is imported yet): the switch the
    /// course waits for, whose CLUE rows are kept ready (S1 fix 11).
    pub fn pending_preparation(&self) -> Option<(PreparationId, &Preparation)> {
        let current = self.current_ecosystem?;
        self.preparations
            .iter()
            .filter(|(_, p)| p.from_ecosystem == current && p.ecosystem != current)
            .max_by_key(|(_, p)| p.sequence_number)
            .map(|(id, p)| (*id, p))
    }

    /// Marks every student's CLUEs and worst areas and every container's
    /// teacher CLUEs.
    pub(crate) fn mark_everyone(&self, changes: &mut CourseChanges) {
        changes.student_clues.extend(self.students.keys().copied());
        changes.worst_areas.extend(self.students.keys().copied());
        changes
            .teacher_clues
            .extend(self.containers.keys().copied());
    }

    /// The stored mappings as the scheduler's [`BookContainerMappings`].
    pub fn book_container_mappings(&self) -> BookContainerMappings {
        let mut mappings = BookContainerMappings::new();
        for m in &self.mappings {
            mappings.insert(*m);
        }
        mappings
    }
}
