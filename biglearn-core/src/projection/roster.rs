//! update_roster: course containers and students (scheduler.md §1.4; S1
//! fix 15: students and containers absent from the new roster are removed).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::events::Datetime;
use crate::ids::{CourseContainerId, StudentId};

/// One course container (a period, a section, or the course root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseContainerNode {
    /// Its parent container; `None` below the course itself.
    pub parent: Option<CourseContainerId>,
    /// When it was created.
    pub created_at: Datetime,
    /// When it was archived.
    pub archived_at: Option<Datetime>,
    /// Every student below it (flattened `student_uuids`).
    pub students: BTreeSet<StudentId>,
}

/// One student of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentEntry {
    /// The student's own container.
    pub container: CourseContainerId,
    /// The chain from its container up to (not including) the course:
    /// `course_container_uuids`, e.g. [period, section].
    pub course_containers: Vec<CourseContainerId>,
    /// When it enrolled.
    pub enrolled_at: Datetime,
    /// When it dropped, if so.
    pub dropped_at: Option<Datetime>,
}
