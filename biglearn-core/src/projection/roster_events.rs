//! update_roster on a [`CourseState`] (scheduler.md §1.4, S1 fix 15).

use std::collections::{BTreeMap, BTreeSet};

use super::changes::CourseChanges;
use super::course::CourseState;
use super::problems::{Issues, ProblemKind};
use super::roster::{CourseContainerNode, StudentEntry};
use crate::events::UpdateRoster;
use crate::ids::{CourseContainerId, StudentId};

impl CourseState {
    /// Replaces the roster (S1 fix 15) and marks teacher CLUEs of every
    /// container before and after, and CLUEs and worst areas of every student
    /// added, moved or removed.
    pub(crate) fn update_roster(
        &mut self,
        body: &UpdateRoster,
        changes: &mut CourseChanges,
        issues: &mut Issues,
    ) {
        let course = *self.id.as_uuid();
        let mut containers: BTreeMap<CourseContainerId, CourseContainerNode> = BTreeMap::new();
        for c in &body.course_containers {
            if containers.contains_key(&c.container_uuid) {
                issues.push((
                    ProblemKind::Duplicate,
                    format!("course container {} is listed twice", c.container_uuid),
                ));
                continue;
            }
            let parent = (c.parent_container_uuid != course)
                .then(|| CourseContainerId::from_uuid(c.parent_container_uuid));
            containers.insert(
                c.container_uuid,
                CourseContainerNode {
                    parent,
                    created_at: c.created_at.clone(),
                    archived_at: c.archived_at.as_option().cloned(),
                    students: BTreeSet::new(),
                },
            );
        }
        for (id, node) in &containers {
            if let Some(parent) = node.parent.filter(|p| !containers.contains_key(p)) {
                issues.push((
                    ProblemKind::UnknownCourseContainer,
                    format!(
                        "course container {id} names parent {parent}, which is neither the \
                         course nor in the roster"
                    ),
                ));
            }
        }
        let mut students: BTreeMap<StudentId, StudentEntry> = BTreeMap::new();
        for s in &body.students {
            let chain = container_chain(&containers, s.container_uuid);
            if !containers.contains_key(&s.container_uuid) {
                issues.push((
                    ProblemKind::UnknownCourseContainer,
                    format!(
                        "student {} is in course container {}, which is not in the roster",
                        s.student_uuid, s.container_uuid
                    ),
                ));
            } else if chain.cycle {
                issues.push((
                    ProblemKind::CourseContainerCycle,
                    format!(
                        "the parents of course container {} form a cycle",
                        s.container_uuid
                    ),
                ));
            }
            for container in &chain.chain {
                if let Some(node) = containers.get_mut(container) {
                    node.students.insert(s.student_uuid);
                }
            }
            if students.contains_key(&s.student_uuid) {
                issues.push((
                    ProblemKind::Duplicate,
                    format!(
                        "student {} is listed twice; the last entry wins",
                        s.student_uuid
                    ),
                ));
            }
            students.insert(
                s.student_uuid,
                StudentEntry {
                    container: s.container_uuid,
                    course_containers: chain.chain,
                    enrolled_at: s.enrolled_at.clone(),
                    dropped_at: s.dropped_at.as_option().cloned(),
                },
            );
        }
        changes
            .teacher_clues
            .extend(self.containers.keys().copied());
        changes.teacher_clues.extend(containers.keys().copied());
        for (id, entry) in &students {
            if self.students.get(id) != Some(entry) {
                changes.student_clues.insert(*id);
                changes.worst_areas.insert(*id);
            }
        }
        for id in self.students.keys().filter(|id| !students.contains_key(id)) {
            changes.student_clues.insert(*id);
            changes.worst_areas.insert(*id);
        }
        self.containers = containers;
        self.students = students;
    }

    /// The course containers of `student` (its chain), empty when unknown.
    pub fn student_containers(&self, student: StudentId) -> &[CourseContainerId] {
        self.students
            .get(&student)
            .map_or(&[], |s| s.course_containers.as_slice())
    }
}

struct Chain {
    chain: Vec<CourseContainerId>,
    cycle: bool,
}

/// Walks from `start` through parents until the course, an unknown
/// container or a cycle (§1.4 update_roster).
fn container_chain(
    containers: &BTreeMap<CourseContainerId, CourseContainerNode>,
    start: CourseContainerId,
) -> Chain {
    let mut chain = Vec::new();
    let mut next = Some(start);
    while let Some(id) = next {
        let Some(node) = containers.get(&id) else {
            break;
        };
        if chain.contains(&id) {
            return Chain { chain, cycle: true };
        }
        chain.push(id);
        next = node.parent;
    }
    Chain {
        chain,
        cycle: false,
    }
}
