//! [`EngineStore`] on [`MemoryStore`]: the engine's tables live in the same
//! `RwLock` as the watermarks, and every write checks with the pure
//! [`rules`] before it mutates anything, so a rejected write changes nothing.

use std::collections::HashMap;

use crate::engine_store::*;
use crate::ids::{CourseId, EcosystemId, RequestId};
use crate::log::{ConsumerName, SequenceNumber, StoreError};

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
    course_states: HashMap<(ConsumerName, CourseId), Snapshot>,
    ecosystem_states: HashMap<EcosystemId, Snapshot>,
    matrices: HashMap<EcosystemId, MatrixSlot>,
    exercises: HashMap<ExerciseKey, Row<ExerciseResult>>,
    clues: HashMap<ClueKey, Row<ClueResult>>,
    /// Which row holds each request uuid, per result kind.
    request_uuids: HashMap<(ResultKind, RequestId), ResultKey>,
    problems: HashMap<CourseId, Vec<RecordedProblem>>,
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
}

fn contiguous(inner: &Inner, course: CourseId) -> Option<SequenceNumber> {
    inner.contiguous_through(course)
}

impl EngineStore for MemoryStore {
    fn course_state(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<Snapshot>, StoreError> {
        let inner = self.read("course_state")?;
        Ok(inner
            .engine
            .course_states
            .get(&(consumer.clone(), course))
            .cloned())
    }

    fn commit_course_progress(
        &self,
        commit: &CourseCommit,
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
        inner.watermarks.insert(key.clone(), commit.through);
        let engine = &mut inner.engine;
        engine.course_states.insert(
            key,
            Snapshot {
                through: commit.through,
                blob: commit.state.clone(),
            },
        );
        engine.apply_all(&commit.writes);
        engine
            .problems
            .entry(commit.course)
            .or_default()
            .extend(commit.problems.iter().cloned());
        Ok(CommitOutcome::Committed)
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
