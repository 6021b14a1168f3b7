//! Exclusions computed per student (scheduler.md §2.2, S1 fix 7, README S3).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::assignment::Assignment;
use super::ecosystem::ExerciseCatalog;
use crate::ids::{ExerciseGroupId, ExerciseId};
use crate::time::Instant;

/// A course's exclusion lists: the last `update_globally_excluded_exercises`
/// and `update_course_excluded_exercises` (scheduler.md §1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseExclusions {
    /// Globally excluded exercise versions.
    pub global_exercises: Vec<ExerciseId>,
    /// Globally excluded exercise groups (every version).
    pub global_groups: Vec<ExerciseGroupId>,
    /// Exercise versions excluded by the course.
    pub course_exercises: Vec<ExerciseId>,
    /// Exercise groups excluded by the course (every version).
    pub course_groups: Vec<ExerciseGroupId>,
}

impl CourseExclusions {
    /// Whether `exercise` is excluded, by uuid or by its group.
    pub fn excludes(&self, exercise: ExerciseId, catalog: &ExerciseCatalog) -> bool {
        self.global_exercises.contains(&exercise)
            || self.course_exercises.contains(&exercise)
            || catalog.group_of(exercise).is_some_and(|group| {
                self.global_groups.contains(&group) || self.course_groups.contains(&group)
            })
    }

    /// Every excluded exercise uuid: the listed versions plus every known
    /// version of the listed groups.
    pub fn excluded_exercises(&self, catalog: &ExerciseCatalog) -> HashSet<ExerciseId> {
        let mut excluded: HashSet<ExerciseId> = self
            .global_exercises
            .iter()
            .chain(&self.course_exercises)
            .copied()
            .collect();
        for group in self.global_groups.iter().chain(&self.course_groups) {
            excluded.extend(catalog.members(*group).iter().copied());
        }
        excluded
    }
}

/// Anti-cheating (§2.2): every version of every exercise assigned in one of
/// the student's assignments (any type, any ecosystem) that is protected at
/// `now` — not deleted (S1 fix 7), and not yet due or with feedback pending
/// (`feedback_at`, else `due_at`; S3). See [`Assignment::is_protected_at`].
pub fn anti_cheating_exclusions(
    assignments: &[Assignment],
    catalog: &ExerciseCatalog,
    now: Instant,
) -> HashSet<ExerciseId> {
    let mut excluded = HashSet::new();
    for assignment in assignments.iter().filter(|a| a.is_protected_at(now)) {
        for assigned in &assignment.exercises {
            excluded.extend(catalog.all_versions(assigned.exercise));
        }
    }
    excluded
}

/// Everything excluded for one student at `now` (§2.2): the course and global
/// exclusions plus anti-cheating over the student's `assignments`. The current
/// assignment's own exercises are removed separately, by [`super::choose()`].
pub fn student_exclusions(
    course: &CourseExclusions,
    assignments: &[Assignment],
    catalog: &ExerciseCatalog,
    now: Instant,
) -> HashSet<ExerciseId> {
    let mut excluded = course.excluded_exercises(catalog);
    excluded.extend(anti_cheating_exclusions(assignments, catalog, now));
    excluded
}
