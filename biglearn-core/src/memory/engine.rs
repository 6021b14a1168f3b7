//! [`EngineStore`] on [`MemoryStore`]: the engine's tables live in the same
//! `RwLock` as the watermarks, and every write checks with the pure
//! [`rules`] before it mutates anything, so a rejected write changes nothing.

use crate::gradebook::FitResponse;
use std::collections::{BTreeMap, HashMap};

use crate::engine_store::*;
use crate::ids::{CourseId, EcosystemId, ExerciseGroupId, ExerciseId, RequestId, StudentId};
use crate::log::{ConsumerName, SequenceNumber, StoreError};
use crate::time::Instant;

use super::{Inner, MemoryStore};

/// One stored result and the request uuid that last pushed it (`None` for
/// the engine's own writes).
#[derive(Debug, Clone)]
struct Row<T> {
    request_uuid: Option<RequestId>,
    result: T,
}

/// The engine's tables.
#[derive(Debug, Default)]
pub(super) struct EngineTables {
    course_states: HashMap<(ConsumerName, CourseId), StoredCourse>,
    ecosystem_states: HashMap<EcosystemId, Snapshot>,
    matrices: HashMap<EcosystemId, MatrixSlot>,
    exercises: HashMap<ExerciseKey, Row<ExerciseResult>>,
    clues: HashMap<ClueKey, Row<ClueResult>>,
    /// Which row holds each request uuid, per result kind.
    request_uuids: HashMap<(ResultKind, RequestId), ResultKey>,
    problems: HashMap<CourseId, Vec<RecordedProblem>>,
    fit_responses: HashMap<EcosystemId, HashMap<(StudentId, ExerciseId), FitResponse>>,
    group_counts: HashMap<ExerciseGroupId, u64>,
    thresholds: HashMap<EcosystemId, StateBlob>,
    schedules: HashMap<(ConsumerName, CourseId), CourseSchedule>,
}

impl EngineTables {
    /// Drops the request uuid index entry of the row at `key`, if any.
    fn release(&mut self, key: &ResultKey, request_uuid: Option<RequestId>) {
        if let Some(uuid) = request_uuid {
            let lookup = (key.kind(), uuid);
            if self.request_uuids.get(&lookup) == Some(key) {
                self.request_uuids.remove(&lookup);
            }
        }
    }

    /// Applies one (checked) write; `request_uuid` is the row's new uuid.
    fn apply(&mut self, write: &ResultWrite, request_uuid: Option<RequestId>) {
        let key = write.key();
        let previous = match write {
            ResultWrite::Exercise { key, result } => {
                let old = match result {
                    Some(result) => self.exercises.insert(
                        key.clone(),
                        Row {
                            request_uuid,
                            result: result.clone(),
                        },
                    ),
                    None => self.exercises.remove(key),
                };
                old.and_then(|row| row.request_uuid)
            }
            ResultWrite::Clue { key, result } => {
                let old = match result {
                    Some(result) => self.clues.insert(
                        key.clone(),
                        Row {
                            request_uuid,
                            result: result.clone(),
                        },
                    ),
                    None => self.clues.remove(key),
                };
                old.and_then(|row| row.request_uuid)
            }
        };
        self.release(&key, previous);
        if let Some(uuid) = request_uuid {
            self.request_uuids.insert((key.kind(), uuid), key);
        }
    }

    fn apply_all(&mut self, writes: &[ResultWrite]) {
        for write in writes {
            self.apply(write, None);
        }
    }

    /// Stores a checked course commit's state, writes, problems and extras.
    fn store_commit(&mut self, commit: &CourseCommit, extras: &CourseExtras) {
        let key = (commit.consumer.clone(), commit.course);
        let stored = self.course_states.entry(key.clone()).or_default();
        stored.through = Some(commit.through);
        stored.head = Some(commit.state.clone());
        for part in &commit.parts {
            match &part.blob {
                Some(blob) => stored.parts.insert(part.key, blob.clone()),
                None => stored.parts.remove(&part.key),
            };
        }
        self.apply_all(&commit.writes);
        self.problems
            .entry(commit.course)
            .or_default()
            .extend(commit.problems.iter().cloned());
        for response in &extras.fit_responses {
            let cells = self.fit_responses.entry(response.ecosystem).or_default();
            let cell = (response.student, response.exercise);
            match cells.get(&cell) {
                Some(old) if !response.precedes(old) => {}
                _ => {
                    cells.insert(cell, *response);
                }
            }
        }
        for (group, increase) in &extras.group_counts {
            let count = self.group_counts.entry(*group).or_insert(0);
            *count = count.saturating_add(*increase);
        }
        if let Some(schedule) = &extras.schedule {
            self.schedules.insert(key, schedule.clone());
        }
    }
}

/// One course's stored state: head and parts (see
/// [`crate::engine_store::CourseSnapshot`]).
#[derive(Debug, Default)]
struct StoredCourse {
    through: Option<SequenceNumber>,
    head: Option<StateBlob>,
    parts: BTreeMap<PartKey, StateBlob>,
}

/// The range checks the SQL backends apply to a commit's extras, so every
/// backend accepts the same calls.
fn check_extras(extras: &CourseExtras) -> Result<(), EngineStoreError> {
    for (_, increase) in &extras.group_counts {
        rules::to_i64("group count increase", *increase)?;
    }
    Ok(())
}

fn contiguous(inner: &Inner, course: CourseId) -> Option<SequenceNumber> {
    inner.contiguous_through(course)
}

impl EngineStore for MemoryStore {
    fn course_state(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<CourseSnapshot>, StoreError> {
        let inner = self.read("course_state")?;
        let Some(stored) = inner.engine.course_states.get(&(consumer.clone(), course)) else {
            return Ok(None);
        };
        let (Some(through), Some(head)) = (stored.through, stored.head.clone()) else {
            return Ok(None);
        };
        Ok(Some(CourseSnapshot {
            through,
            head,
            parts: stored
                .parts
                .iter()
                .map(|(key, blob)| StatePart {
                    key: *key,
                    blob: blob.clone(),
                })
                .collect(),
        }))
    }

    fn commit_course_progress(
        &self,
        commit: &CourseCommit,
    ) -> Result<CommitOutcome, EngineStoreError> {
        self.commit_course_with(commit, &CourseExtras::default())
    }

    fn commit_course_with(
        &self,
        commit: &CourseCommit,
        extras: &CourseExtras,
    ) -> Result<CommitOutcome, EngineStoreError> {
        let mut inner = self.write("commit_course_progress")?;
        let key = (commit.consumer.clone(), commit.course);
        let current = inner.watermarks.get(&key).copied();
        let outcome = rules::plan_commit(
            commit.course,
            current,
            commit.through,
            contiguous(&inner, commit.course),
        )?;
        if outcome != CommitOutcome::Committed {
            return Ok(outcome);
        }
        rules::check_writes(&commit.writes)?;
        check_extras(extras)?;
        inner.watermarks.insert(key, commit.through);
        inner.engine.store_commit(commit, extras);
        Ok(CommitOutcome::Committed)
    }

    fn commit_course_recalc(
        &self,
        commit: &CourseCommit,
        extras: &CourseExtras,
    ) -> Result<CommitOutcome, EngineStoreError> {
        let mut inner = self.write("commit_course_recalc")?;
        let key = (commit.consumer.clone(), commit.course);
        let current = inner.watermarks.get(&key).copied();
        let outcome = rules::plan_recalc(current, commit.through);
        if outcome != CommitOutcome::Committed {
            return Ok(outcome);
        }
        rules::check_writes(&commit.writes)?;
        check_extras(extras)?;
        inner.engine.store_commit(commit, extras);
        Ok(CommitOutcome::Committed)
    }

    fn course_schedule(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<CourseSchedule>, StoreError> {
        let inner = self.read("course_schedule")?;
        Ok(inner
            .engine
            .schedules
            .get(&(consumer.clone(), course))
            .cloned())
    }

    fn due_courses(
        &self,
        consumer: &ConsumerName,
        now: Instant,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError> {
        let inner = self.read("due_courses")?;
        let mut due: Vec<(Instant, CourseId)> = inner
            .engine
            .schedules
            .iter()
            .filter(|((c, _), _)| c == consumer)
            .filter_map(|((_, course), s)| s.wake_at.filter(|w| *w <= now).map(|w| (w, *course)))
            .collect();
        due.sort();
        Ok(due.into_iter().take(max).map(|(_, c)| c).collect())
    }

    fn wake_courses_using(
        &self,
        ecosystem: EcosystemId,
        at: Instant,
    ) -> Result<usize, EngineStoreError> {
        let mut inner = self.write("wake_courses_using")?;
        let mut moved = 0;
        for schedule in inner.engine.schedules.values_mut() {
            if schedule.ecosystems.contains(&ecosystem) && schedule.wake_at.map_or(true, |w| w > at)
            {
                schedule.wake_at = Some(at);
                moved += 1;
            }
        }
        Ok(moved)
    }

    fn group_counts(&self, groups: &[ExerciseGroupId]) -> Result<Vec<u64>, StoreError> {
        let inner = self.read("group_counts")?;
        Ok(groups
            .iter()
            .map(|g| inner.engine.group_counts.get(g).copied().unwrap_or(0))
            .collect())
    }

    fn fit_responses(&self, ecosystem: EcosystemId) -> Result<Vec<FitResponse>, StoreError> {
        let inner = self.read("fit_responses")?;
        let mut rows: Vec<FitResponse> = inner
            .engine
            .fit_responses
            .get(&ecosystem)
            .map(|cells| cells.values().copied().collect())
            .unwrap_or_default();
        rows.sort_by_key(|r| (r.student, r.exercise));
        Ok(rows)
    }

    fn refit_thresholds(&self, ecosystem: EcosystemId) -> Result<Option<StateBlob>, StoreError> {
        let inner = self.read("refit_thresholds")?;
        Ok(inner.engine.thresholds.get(&ecosystem).cloned())
    }

    fn matrix_id(
        &self,
        ecosystem: EcosystemId,
    ) -> Result<Option<crate::ids::EcosystemMatrixId>, StoreError> {
        let inner = self.read("matrix_id")?;
        Ok(inner.engine.matrices.get(&ecosystem).map(|s| s.matrix_uuid))
    }

    fn save_refit(
        &self,
        ecosystem: EcosystemId,
        slot: &MatrixSlot,
        thresholds: &StateBlob,
    ) -> Result<(), EngineStoreError> {
        rules::to_i64("response_count_threshold", slot.response_count_threshold)?;
        let mut inner = self.write("save_refit")?;
        inner.engine.matrices.insert(ecosystem, slot.clone());
        inner
            .engine
            .thresholds
            .insert(ecosystem, thresholds.clone());
        Ok(())
    }

    fn write_results(&self, writes: &[ResultWrite]) -> Result<(), EngineStoreError> {
        rules::check_writes(writes)?;
        let mut inner = self.write("write_results")?;
        inner.engine.apply_all(writes);
        Ok(())
    }

    fn ecosystem_state(&self, ecosystem: EcosystemId) -> Result<Option<Snapshot>, StoreError> {
        let inner = self.read("ecosystem_state")?;
        Ok(inner.engine.ecosystem_states.get(&ecosystem).cloned())
    }

    fn save_ecosystem_state(
        &self,
        ecosystem: EcosystemId,
        snapshot: &Snapshot,
    ) -> Result<CommitOutcome, EngineStoreError> {
        let mut inner = self.write("save_ecosystem_state")?;
        let states = &mut inner.engine.ecosystem_states;
        let current = states.get(&ecosystem).map(|s| s.through);
        let outcome = rules::plan_ecosystem_save(current, snapshot.through);
        if outcome == CommitOutcome::Committed {
            states.insert(ecosystem, snapshot.clone());
        }
        Ok(outcome)
    }

    fn exercise_results(
        &self,
        keys: &[ExerciseKey],
    ) -> Result<Vec<Option<ExerciseResult>>, StoreError> {
        let inner = self.read("exercise_results")?;
        Ok(keys
            .iter()
            .map(|key| inner.engine.exercises.get(key).map(|r| r.result.clone()))
            .collect())
    }

    fn clue_results(&self, keys: &[ClueKey]) -> Result<Vec<Option<ClueResult>>, StoreError> {
        let inner = self.read("clue_results")?;
        Ok(keys
            .iter()
            .map(|key| inner.engine.clues.get(key).map(|r| r.result.clone()))
            .collect())
    }

    fn upsert_external(&self, updates: &[ExternalUpdate]) -> Result<(), EngineStoreError> {
        let mut inner = self.write("upsert_external")?;
        let engine = &mut inner.engine;
        let mut holders = HashMap::new();
        for lookup in rules::request_uuid_lookups(updates) {
            if let Some(key) = engine.request_uuids.get(&lookup) {
                holders.insert(lookup, key.clone());
            }
        }
        rules::check_external(updates, &holders)?;
        for update in updates {
            engine.apply(&update.as_write(), Some(update.request_uuid()));
        }
        Ok(())
    }

    fn course_problems(&self, course: CourseId, max: usize) -> Result<ProblemLog, StoreError> {
        let inner = self.read("course_problems")?;
        let all = inner
            .engine
            .problems
            .get(&course)
            .map_or(&[][..], |v| v.as_slice());
        Ok(ProblemLog {
            total: all.len() as u64,
            latest: all[all.len().saturating_sub(max)..].to_vec(),
        })
    }

    fn matrix(&self, ecosystem: EcosystemId) -> Result<Option<MatrixSlot>, StoreError> {
        let inner = self.read("matrix")?;
        Ok(inner.engine.matrices.get(&ecosystem).cloned())
    }

    fn save_matrix(
        &self,
        ecosystem: EcosystemId,
        slot: &MatrixSlot,
    ) -> Result<(), EngineStoreError> {
        // Same range rule as the SQL backends, so every backend accepts the
        // same slots.
        rules::to_i64("response_count_threshold", slot.response_count_threshold)?;
        let mut inner = self.write("save_matrix")?;
        inner.engine.matrices.insert(ecosystem, slot.clone());
        Ok(())
    }
}
