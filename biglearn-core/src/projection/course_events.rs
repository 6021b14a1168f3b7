//! The course-level events of a [`CourseState`] (scheduler.md §1.4):
//! applying an event in sequence order and dispatching it, create_course,
//! prepare/update_course_ecosystem, active dates and exclusions.

use super::changes::CourseChanges;
use super::course::{CourseState, ParkedEcosystemUpdate, Preparation};
use super::ecosystem::{check_ecosystem, EcosystemCatalog};
use super::problems::{Issues, Problem, ProblemKind};
use crate::events::{
    CreateCourse, ExclusionScope, ExclusionTarget, PrepareCourseEcosystem, TypedEvent,
    UpdateCourseEcosystem, UpdateExcludedExercises,
};
use crate::ids::{BookContainerId, EcosystemId};
use crate::log::{Event, SequenceNumber, StreamId};

impl CourseState {
    /// Applies one stored event of this course's stream, in sequence order,
    /// and returns what must be recalculated. An event at or below the last
    /// applied sequence number is a replay and changes nothing; an event of
    /// another stream or with unreadable data is recorded as a problem and
    /// skipped; every other problem is recorded and the rest of the event
    /// still applies.
    pub fn apply(&mut self, event: &Event, catalog: &impl EcosystemCatalog) -> CourseChanges {
        let mut changes = CourseChanges::default();
        if event.stream != StreamId::Course(self.id) {
            let problem = Problem::wrong_stream(event, format!("course {}", self.id));
            self.problems.push(problem);
            return changes;
        }
        if self
            .last_sequence_number
            .is_some_and(|last| event.sequence_number <= last)
        {
            return changes;
        }
        let mut issues = Issues::new();
        let expected = self
            .last_sequence_number
            .map_or(SequenceNumber::ZERO, |last| last.next());
        if event.sequence_number > expected {
            issues.push((
                ProblemKind::SequenceGap,
                format!(
                    "sequence number {} applied after {} (numbers skipped)",
                    event.sequence_number.get(),
                    self.last_sequence_number
                        .map_or("none".to_owned(), |l| l.get().to_string())
                ),
            ));
        }
        self.last_sequence_number = Some(event.sequence_number);
        changes.applied = true;
        match TypedEvent::from_event(event) {
            Err(error) => issues.push((ProblemKind::UnreadableEvent, error.to_string())),
            Ok(typed) => {
                if !self.created
                    && !matches!(typed, TypedEvent::CreateCourse(_) | TypedEvent::NoOp(_))
                {
                    issues.push((
                        ProblemKind::CourseNotCreated,
                        format!("{} before create_course", event.event_type),
                    ));
                }
                self.apply_typed(typed, event, catalog, &mut changes, &mut issues);
            }
        }
        self.problems
            .record(event.sequence_number, event.event_type, issues);
        changes
    }

    /// Applies a batch of events in order and merges their changes.
    pub fn apply_all<'e>(
        &mut self,
        events: impl IntoIterator<Item = &'e Event>,
        catalog: &impl EcosystemCatalog,
    ) -> CourseChanges {
        let mut changes = CourseChanges::default();
        for event in events {
            changes.merge(self.apply(event, catalog));
        }
        changes
    }

    fn apply_typed(
        &mut self,
        typed: TypedEvent,
        event: &Event,
        catalog: &impl EcosystemCatalog,
        changes: &mut CourseChanges,
        issues: &mut Issues,
    ) {
        let seq = event.sequence_number;
        match typed {
            TypedEvent::NoOp(_) => changes.applied = false,
            TypedEvent::CreateEcosystem(_) => issues.push((
                ProblemKind::WrongStream,
                "create_ecosystem in a course stream".into(),
            )),
            TypedEvent::CreateCourse(body) => self.create_course(&body, catalog, issues),
            TypedEvent::PrepareCourseEcosystem(body) => {
                self.prepare(&body, seq, catalog, changes, issues)
            }
            TypedEvent::UpdateCourseEcosystem(body) => {
                self.update_ecosystem(&body, changes, issues)
            }
            TypedEvent::UpdateRoster(body) => self.update_roster(&body, changes, issues),
            TypedEvent::UpdateCourseActiveDates(body) => {
                self.starts_at = Some(body.starts_at);
                self.ends_at = Some(body.ends_at);
            }
            TypedEvent::UpdateExcludedExercises(body) => self.update_exclusions(&body, changes),
            TypedEvent::CreateUpdateAssignment(body) => {
                self.create_update_assignment(&body, seq, catalog, changes, issues)
            }
            TypedEvent::RecordResponse(body) => {
                self.record_response(&body, seq, catalog, changes, issues)
            }
        }
    }

    fn create_course(
        &mut self,
        body: &CreateCourse,
        catalog: &impl EcosystemCatalog,
        issues: &mut Issues,
    ) {
        self.created = true;
        self.initial_ecosystem = Some(body.ecosystem_uuid);
        if self.current_ecosystem.is_none() {
            self.current_ecosystem = Some(body.ecosystem_uuid);
        }
        self.is_real_course = body.is_real_course;
        self.created_at = Some(body.created_at.clone());
        self.starts_at = Some(body.starts_at.clone());
        self.ends_at = Some(body.ends_at.clone());
        check_ecosystem(catalog, body.ecosystem_uuid, "create_course", issues);
    }

    fn prepare(
        &mut self,
        body: &PrepareCourseEcosystem,
        seq: SequenceNumber,
        catalog: &impl EcosystemCatalog,
        changes: &mut CourseChanges,
        issues: &mut Issues,
    ) {
        let map = &body.ecosystem_map;
        check_ecosystem(catalog, body.next_ecosystem_uuid, "prepared", issues);
        check_ecosystem(
            catalog,
            map.from_ecosystem_uuid,
            "ecosystem_map.from",
            issues,
        );
        self.preparations.insert(
            body.preparation_uuid,
            Preparation {
                ecosystem: body.next_ecosystem_uuid,
                from_ecosystem: map.from_ecosystem_uuid,
                sequence_number: seq,
                prepared_at: body.prepared_at.clone(),
            },
        );
        // Mappings are keyed by container, not by course (§2.10); derived
        // with the scheduler's rules, stored as a sorted list.
        let mut mappings = self.book_container_mappings();
        let forward: Vec<(BookContainerId, BookContainerId)> = map
            .book_container_mappings
            .iter()
            .map(|m| (m.from_book_container_uuid, m.to_book_container_uuid))
            .collect();
        mappings.apply_preparation(map.from_ecosystem_uuid, map.to_ecosystem_uuid, &forward);
        self.mappings = mappings.iter().collect();
        changes.preparations.insert(body.preparation_uuid);
        if self
            .parked
            .as_ref()
            .is_some_and(|p| p.preparation == body.preparation_uuid)
        {
            self.parked = None;
            self.switch_ecosystem(body.next_ecosystem_uuid, changes);
        }
    }

    fn update_ecosystem(
        &mut self,
        body: &UpdateCourseEcosystem,
        changes: &mut CourseChanges,
        issues: &mut Issues,
    ) {
        match self.preparations.get(&body.preparation_uuid) {
            Some(preparation) => {
                let ecosystem = preparation.ecosystem;
                self.parked = None;
                self.switch_ecosystem(ecosystem, changes);
            }
            None => {
                issues.push((
                    ProblemKind::UnknownPreparation,
                    format!(
                        "preparation {} is unknown to course {}; the ecosystem switch is \
                         parked until it arrives",
                        body.preparation_uuid, self.id
                    ),
                ));
                self.parked = Some(ParkedEcosystemUpdate {
                    preparation: body.preparation_uuid,
                    sequence_number: body.sequence_number,
                    updated_at: body.updated_at.clone(),
                });
            }
        }
    }

    /// Makes `ecosystem` current and marks every CLUE and worst area (S1 fix 4).
    fn switch_ecosystem(&mut self, ecosystem: EcosystemId, changes: &mut CourseChanges) {
        self.current_ecosystem = Some(ecosystem);
        changes.ecosystem_changed = Some(ecosystem);
        self.mark_everyone(changes);
    }

    fn update_exclusions(&mut self, body: &UpdateExcludedExercises, changes: &mut CourseChanges) {
        let mut exercises = Vec::new();
        let mut groups = Vec::new();
        for exclusion in &body.exclusions {
            match exclusion.target {
                ExclusionTarget::Exercise(e) if !exercises.contains(&e) => exercises.push(e),
                ExclusionTarget::Group(g) if !groups.contains(&g) => groups.push(g),
                _ => {}
            }
        }
        let (old_exercises, old_groups) = match body.scope {
            ExclusionScope::Global => (
                &mut self.exclusions.global_exercises,
                &mut self.exclusions.global_groups,
            ),
            ExclusionScope::Course => (
                &mut self.exclusions.course_exercises,
                &mut self.exclusions.course_groups,
            ),
        };
        if *old_exercises == exercises && *old_groups == groups {
            return;
        }
        *old_exercises = exercises;
        *old_groups = groups;
        self.mark_everyone(changes);
        changes.assignment_exercises.extend(
            self.assignments
                .iter()
                .filter(|(_, a)| a.needs_pes_or_spes())
                .map(|(id, _)| *id),
        );
    }
}
