// The engine-store queries, compiled once per backend: included into a
// module that defines `Conn` (the connection type). Writes run inside the
// backend's write transaction and return `QueryError`, so a rejection by the
// pure rules rolls back whatever the transaction wrote before it.

use std::collections::HashMap;

use biglearn_core::engine_store::{
    rules, ClueKey, ClueResult, CommitOutcome, CourseCommit, CourseSnapshot, ExerciseKey,
    ExerciseResult, ExternalUpdate, MatrixSlot, PartKey, ProblemLog, RecordedProblem, ResultKey,
    ResultKind, ResultWrite, Snapshot, StatePart,
};
use biglearn_core::ids::{CourseId, EcosystemId, EcosystemMatrixId, RequestId};
use biglearn_core::log::{ConsumerName, SequenceNumber, StoreError, StreamKind};
use diesel::prelude::*;

use super::conv::*;
use crate::fixed_sql::fixed_chunks;
use crate::error::TxError;
use crate::rows::{kind_code, seq_from_i64, u64_from_i64, uuid_from_bytes};
use crate::schema::{
    consumer_watermarks, engine_clue_results as clues, engine_course_parts as course_parts,
    engine_course_states as course_states,
    engine_ecosystem_states as eco_states, engine_exercise_results as exercises,
    engine_matrices as matrices, engine_problems as problems, streams,
};

/// How many values one `IN (…)` list carries.
const CHUNK: usize = 500;

type QResult<T> = Result<T, QueryError>;

/// The stored course state of `consumer`: head and parts.
pub(crate) fn course_state(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course: CourseId,
) -> Result<Option<CourseSnapshot>, TxError> {
    let row: Option<(i64, i64, Vec<u8>)> = course_states::table
        .find((consumer.as_str(), bytes(course.as_uuid())))
        .select((
            course_states::applied_through,
            course_states::format_version,
            course_states::state,
        ))
        .first(conn)
        .optional()?;
    let Some((through, version, state)) = row else {
        return Ok(None);
    };
    let rows: Vec<(i16, Vec<u8>, i64, Vec<u8>)> = course_parts::table
        .filter(course_parts::consumer.eq(consumer.as_str()))
        .filter(course_parts::course_uuid.eq(bytes(course.as_uuid())))
        .order((course_parts::part_kind, course_parts::part_uuid))
        .select((
            course_parts::part_kind,
            course_parts::part_uuid,
            course_parts::format_version,
            course_parts::part,
        ))
        .load(conn)?;
    let mut parts = Vec::with_capacity(rows.len());
    for (kind, uuid, version, part) in rows {
        let uuid = uuid_from_bytes(&uuid, "engine_course_parts.part_uuid")?;
        let key = PartKey::from_stored(kind, uuid).ok_or_else(|| {
            StoreError::Corrupt(format!("engine_course_parts.part_kind {kind} is unknown"))
        })?;
        parts.push(StatePart {
            key,
            blob: blob_from(version, part, "engine_course_parts")?,
        });
    }
    parts.sort_by_key(|p| p.key);
    Ok(Some(CourseSnapshot {
        through: seq_from_i64(through, "engine_course_states.applied_through")?,
        head: blob_from(version, state, "engine_course_states")?,
        parts,
    }))
}

/// Stores and deletes the parts of a commit.
fn store_parts(conn: &mut Conn, commit: &CourseCommit, course_uuid: &[u8]) -> QResult<()> {
    let consumer = commit.consumer.as_str();
    let mut rows = Vec::new();
    for write in &commit.parts {
        let part_uuid = bytes(&write.key.uuid());
        match &write.blob {
            Some(blob) => rows.push(NewPartRow {
                consumer,
                course_uuid,
                part_kind: write.key.code(),
                part_uuid,
                format_version: i64::from(blob.format_version),
                part: &blob.bytes,
            }),
            None => {
                diesel::delete(course_parts::table.find((
                    consumer,
                    course_uuid,
                    write.key.code(),
                    &part_uuid,
                )))
                .execute(conn)?;
            }
        }
    }
    fixed_chunks!(rows, |chunk| {
        super::upsert::UpsertParts { rows: chunk }.execute(conn)?
    });
    Ok(())
}

fn watermark(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course_uuid: &[u8],
) -> QResult<Option<SequenceNumber>> {
    let value: Option<i64> = consumer_watermarks::table
        .find((consumer.as_str(), course_uuid))
        .select(consumer_watermarks::confirmed)
        .first(conn)
        .optional()?;
    Ok(value
        .map(|v| seq_from_i64(v, "consumer_watermarks.confirmed"))
        .transpose()?)
}

fn contiguous_through(conn: &mut Conn, course_uuid: &[u8]) -> QResult<Option<SequenceNumber>> {
    let value: Option<Option<i64>> = streams::table
        .find((kind_code(StreamKind::Course), course_uuid))
        .select(streams::contiguous_through)
        .first(conn)
        .optional()?;
    Ok(value
        .flatten()
        .map(|v| seq_from_i64(v, "streams.contiguous_through"))
        .transpose()?)
}

/// Raises the watermark to `through` if it is lower (or missing); `false`
/// when a concurrent commit got there first. The conditional update also
/// locks the row until the transaction ends.
fn raise_watermark(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course_uuid: &[u8],
    through: SequenceNumber,
) -> QResult<bool> {
    let inserted = diesel::insert_into(consumer_watermarks::table)
        .values((
            consumer_watermarks::consumer.eq(consumer.as_str()),
            consumer_watermarks::course_uuid.eq(course_uuid),
            consumer_watermarks::confirmed.eq(through.as_i64()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(true);
    }
    let updated = diesel::update(
        consumer_watermarks::table
            .find((consumer.as_str(), course_uuid))
            .filter(consumer_watermarks::confirmed.lt(through.as_i64())),
    )
    .set(consumer_watermarks::confirmed.eq(through.as_i64()))
    .execute(conn)?;
    Ok(updated == 1)
}

/// [`biglearn_core::engine_store::EngineStore::commit_course_progress`].
pub(crate) fn commit_course(conn: &mut Conn, commit: &CourseCommit) -> QResult<CommitOutcome> {
    let course_uuid = bytes(commit.course.as_uuid());
    let current = watermark(conn, &commit.consumer, &course_uuid)?;
    let contiguous = contiguous_through(conn, &course_uuid)?;
    let outcome = rules::plan_commit(commit.course, current, commit.through, contiguous)?;
    if outcome != CommitOutcome::Committed {
        return Ok(outcome);
    }
    if !raise_watermark(conn, &commit.consumer, &course_uuid, commit.through)? {
        let current = watermark(conn, &commit.consumer, &course_uuid)?.unwrap_or(commit.through);
        return Ok(CommitOutcome::Stale { current });
    }
    store_course_rows(conn, commit, &course_uuid)?;
    Ok(CommitOutcome::Committed)
}

/// Replaces the course state and stores the writes and problems of a
/// commit whose watermark check passed.
fn store_course_rows(conn: &mut Conn, commit: &CourseCommit, course_uuid: &[u8]) -> QResult<()> {
    let key = (commit.consumer.as_str(), course_uuid);
    let updated = diesel::update(course_states::table.find(key))
        .set((
            course_states::applied_through.eq(commit.through.as_i64()),
            course_states::format_version.eq(i64::from(commit.state.format_version)),
            course_states::state.eq(&commit.state.bytes),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(course_states::table)
            .values((
                course_states::consumer.eq(commit.consumer.as_str()),
                course_states::course_uuid.eq(course_uuid),
                course_states::applied_through.eq(commit.through.as_i64()),
                course_states::format_version.eq(i64::from(commit.state.format_version)),
                course_states::state.eq(&commit.state.bytes),
            ))
            .execute(conn)?;
    }
    store_parts(conn, commit, course_uuid)?;
    // Checked after the watermark and state are written, while the writes
    // are applied: a rejection rolls everything back.
    rules::check_writes(&commit.writes)?;
    apply_engine_writes(conn, &commit.writes)?;
    for problem in &commit.problems {
        diesel::insert_into(problems::table)
            .values((
                problems::course_uuid.eq(course_uuid),
                problems::sequence_number.eq(problem.sequence_number.as_i64()),
                problems::event_type.eq(&problem.event_type),
                problems::kind.eq(&problem.kind),
                problems::message.eq(&problem.message),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Replaces (or deletes) one result; `request_uuid` is the row's new uuid.
/// A replacement is one upsert on the row's key (half the statements and
/// index seeks of a delete plus an insert).
fn apply_write(conn: &mut Conn, write: &ResultWrite, request_uuid: Option<Vec<u8>>) -> QResult<()> {
    match write {
        ResultWrite::Exercise { key, result } => match result {
            Some(result) => {
                let row = [NewExerciseRow::new(key, result, request_uuid)];
                upsert_exercise_rows(conn, &row)
            }
            None => {
                let kind = key.target.kind().code();
                let target = bytes(&key.target.uuid());
                diesel::delete(exercises::table.find((kind, &target, key.algorithm.as_str())))
                    .execute(conn)?;
                Ok(())
            }
        },
        ResultWrite::Clue { key, result } => match result {
            Some(result) => {
                let row = [NewClueRow::new(key, result, request_uuid)];
                upsert_clue_rows(conn, &row)
            }
            None => {
                let kind = key.target.kind().code();
                let owner = bytes(&key.target.owner_uuid());
                let book_container = bytes(key.target.book_container().as_uuid());
                diesel::delete(clues::table.find((
                    kind,
                    &owner,
                    &book_container,
                    key.algorithm.as_str(),
                )))
                .execute(conn)?;
                Ok(())
            }
        },
    }
}

/// Applies the engine's writes of one commit (each key at most once, so
/// their order does not matter): deletions one by one, replacements as
/// multi-row upserts in cached fixed-size chunks. A commit carries hundreds
/// of rows, and one statement per row cost more than the rows themselves.
fn apply_engine_writes(conn: &mut Conn, writes: &[ResultWrite]) -> QResult<()> {
    let mut exercise_rows = Vec::new();
    let mut clue_rows = Vec::new();
    for write in writes {
        match write {
            ResultWrite::Exercise {
                key,
                result: Some(result),
            } => exercise_rows.push(NewExerciseRow::new(key, result, None)),
            ResultWrite::Clue {
                key,
                result: Some(result),
            } => clue_rows.push(NewClueRow::new(key, result, None)),
            deletion => apply_write(conn, deletion, None)?,
        }
    }
    fixed_chunks!(exercise_rows, |chunk| upsert_exercise_rows(conn, chunk)?);
    fixed_chunks!(clue_rows, |chunk| upsert_clue_rows(conn, chunk)?);
    Ok(())
}

/// Upserts exactly `N` exercise rows in one cached statement.
fn upsert_exercise_rows<const N: usize>(
    conn: &mut Conn,
    rows: &[NewExerciseRow; N],
) -> QResult<()> {
    super::upsert::UpsertExercises { rows }.execute(conn)?;
    Ok(())
}

/// Upserts exactly `N` CLUE rows in one cached statement.
fn upsert_clue_rows<const N: usize>(conn: &mut Conn, rows: &[NewClueRow; N]) -> QResult<()> {
    super::upsert::UpsertClues { rows }.execute(conn)?;
    Ok(())
}

/// [`biglearn_core::engine_store::EngineStore::write_results`].
pub(crate) fn write_results(conn: &mut Conn, writes: &[ResultWrite]) -> QResult<()> {
    rules::check_writes(writes)?;
    apply_engine_writes(conn, writes)?;
    Ok(())
}

/// The keys of the rows holding the looked-up request uuids.
fn request_holders(
    conn: &mut Conn,
    lookups: &[(ResultKind, RequestId)],
) -> QResult<HashMap<(ResultKind, RequestId), ResultKey>> {
    let mut by_kind: HashMap<ResultKind, Vec<Vec<u8>>> = HashMap::new();
    for (kind, request) in lookups {
        by_kind
            .entry(*kind)
            .or_default()
            .push(bytes(request.as_uuid()));
    }
    let mut holders = HashMap::new();
    for (kind, uuids) in by_kind {
        for chunk in uuids.chunks(CHUNK) {
            let found = if kind.is_clue() {
                let rows: Vec<ClueHolderRow> = clues::table
                    .filter(clues::kind.eq(kind.code()))
                    .filter(clues::request_uuid.eq_any(chunk))
                    .select((
                        clues::request_uuid,
                        clues::owner_uuid,
                        clues::book_container_uuid,
                        clues::algorithm_name,
                    ))
                    .load(conn)?;
                clue_holders(kind, rows)?
            } else {
                let rows: Vec<ExerciseHolderRow> = exercises::table
                    .filter(exercises::kind.eq(kind.code()))
                    .filter(exercises::request_uuid.eq_any(chunk))
                    .select((
                        exercises::request_uuid,
                        exercises::target_uuid,
                        exercises::algorithm_name,
                    ))
                    .load(conn)?;
                exercise_holders(kind, rows)?
            };
            holders.extend(
                found
                    .into_iter()
                    .map(|(request, key)| ((kind, request), key)),
            );
        }
    }
    Ok(holders)
}

/// [`biglearn_core::engine_store::EngineStore::upsert_external`].
pub(crate) fn upsert_external(conn: &mut Conn, updates: &[ExternalUpdate]) -> QResult<()> {
    let holders = request_holders(conn, &rules::request_uuid_lookups(updates))?;
    rules::check_external(updates, &holders)?;
    for update in updates {
        apply_write(
            conn,
            &update.as_write(),
            Some(bytes(update.request_uuid().as_uuid())),
        )?;
    }
    Ok(())
}

/// [`biglearn_core::engine_store::EngineStore::exercise_results`].
pub(crate) fn exercise_results(
    conn: &mut Conn,
    keys: &[ExerciseKey],
) -> Result<Vec<Option<ExerciseResult>>, TxError> {
    let mut targets: HashMap<i16, Vec<Vec<u8>>> = HashMap::new();
    for key in keys {
        targets
            .entry(key.target.kind().code())
            .or_default()
            .push(bytes(&key.target.uuid()));
    }
    let mut found: HashMap<ExerciseKey, ExerciseResult> = HashMap::new();
    for (kind, mut uuids) in targets {
        uuids.sort();
        uuids.dedup();
        for chunk in uuids.chunks(CHUNK) {
            let rows: Vec<ExerciseRow> = exercises::table
                .filter(exercises::kind.eq(kind))
                .filter(exercises::target_uuid.eq_any(chunk))
                .select((
                    exercises::kind,
                    exercises::target_uuid,
                    exercises::algorithm_name,
                    exercises::calculation_uuid,
                    exercises::ecosystem_matrix_uuid,
                    exercises::exercise_uuids,
                    exercises::spy_info,
                ))
                .load(conn)?;
            for row in rows {
                let (key, result) = exercise_from_row(row)?;
                found.insert(key, result);
            }
        }
    }
    Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
}

/// [`biglearn_core::engine_store::EngineStore::clue_results`].
pub(crate) fn clue_results(
    conn: &mut Conn,
    keys: &[ClueKey],
) -> Result<Vec<Option<ClueResult>>, TxError> {
    let mut owners: HashMap<i16, Vec<Vec<u8>>> = HashMap::new();
    for key in keys {
        owners
            .entry(key.target.kind().code())
            .or_default()
            .push(bytes(&key.target.owner_uuid()));
    }
    let mut found: HashMap<ClueKey, ClueResult> = HashMap::new();
    for (kind, mut uuids) in owners {
        uuids.sort();
        uuids.dedup();
        for chunk in uuids.chunks(CHUNK) {
            let rows: Vec<ClueRow> = clues::table
                .filter(clues::kind.eq(kind))
                .filter(clues::owner_uuid.eq_any(chunk))
                .select((
                    clues::kind,
                    clues::owner_uuid,
                    clues::book_container_uuid,
                    clues::algorithm_name,
                    clues::calculation_uuid,
                    clues::ecosystem_matrix_uuid,
                    (
                        clues::minimum,
                        clues::most_likely,
                        clues::maximum,
                        clues::is_real,
                        clues::clue_ecosystem_uuid,
                    ),
                    clues::spy_info,
                ))
                .load(conn)?;
            for row in rows {
                let (key, result) = clue_from_row(row)?;
                found.insert(key, result);
            }
        }
    }
    Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
}

/// The stored state of `ecosystem`.
pub(crate) fn ecosystem_state(
    conn: &mut Conn,
    ecosystem: EcosystemId,
) -> Result<Option<Snapshot>, TxError> {
    let row: Option<(i64, i64, Vec<u8>)> = eco_states::table
        .find(bytes(ecosystem.as_uuid()))
        .select((
            eco_states::applied_through,
            eco_states::format_version,
            eco_states::state,
        ))
        .first(conn)
        .optional()?;
    let Some((through, version, state)) = row else {
        return Ok(None);
    };
    Ok(Some(Snapshot {
        through: seq_from_i64(through, "engine_ecosystem_states.applied_through")?,
        blob: blob_from(version, state, "engine_ecosystem_states")?,
    }))
}

/// [`biglearn_core::engine_store::EngineStore::save_ecosystem_state`].
pub(crate) fn save_ecosystem_state(
    conn: &mut Conn,
    ecosystem: EcosystemId,
    snapshot: &Snapshot,
) -> QResult<CommitOutcome> {
    let current = ecosystem_state(conn, ecosystem)?.map(|s| s.through);
    let outcome = rules::plan_ecosystem_save(current, snapshot.through);
    if outcome == CommitOutcome::Committed {
        let uuid = bytes(ecosystem.as_uuid());
        diesel::delete(eco_states::table.find(&uuid)).execute(conn)?;
        diesel::insert_into(eco_states::table)
            .values((
                eco_states::ecosystem_uuid.eq(&uuid),
                eco_states::applied_through.eq(snapshot.through.as_i64()),
                eco_states::format_version.eq(i64::from(snapshot.blob.format_version)),
                eco_states::state.eq(&snapshot.blob.bytes),
            ))
            .execute(conn)?;
    }
    Ok(outcome)
}

/// The fitted matrix of `ecosystem`.
pub(crate) fn matrix(
    conn: &mut Conn,
    ecosystem: EcosystemId,
) -> Result<Option<MatrixSlot>, TxError> {
    let row: Option<(Vec<u8>, i64, i64, Vec<u8>)> = matrices::table
        .find(bytes(ecosystem.as_uuid()))
        .select((
            matrices::matrix_uuid,
            matrices::response_count_threshold,
            matrices::format_version,
            matrices::model,
        ))
        .first(conn)
        .optional()?;
    let Some((matrix_uuid, threshold, version, model)) = row else {
        return Ok(None);
    };
    Ok(Some(MatrixSlot {
        matrix_uuid: EcosystemMatrixId::from_uuid(uuid_from_bytes(
            &matrix_uuid,
            "engine_matrices.matrix_uuid",
        )?),
        response_count_threshold: u64_from_i64(
            threshold,
            "engine_matrices.response_count_threshold",
        )?,
        model: blob_from(version, model, "engine_matrices")?,
    }))
}

/// [`biglearn_core::engine_store::EngineStore::save_matrix`].
pub(crate) fn save_matrix(
    conn: &mut Conn,
    ecosystem: EcosystemId,
    slot: &MatrixSlot,
) -> QResult<()> {
    let threshold = rules::to_i64("response_count_threshold", slot.response_count_threshold)?;
    let uuid = bytes(ecosystem.as_uuid());
    diesel::delete(matrices::table.find(&uuid)).execute(conn)?;
    diesel::insert_into(matrices::table)
        .values((
            matrices::ecosystem_uuid.eq(&uuid),
            matrices::matrix_uuid.eq(bytes(slot.matrix_uuid.as_uuid())),
            matrices::response_count_threshold.eq(threshold),
            matrices::format_version.eq(i64::from(slot.model.format_version)),
            matrices::model.eq(&slot.model.bytes),
        ))
        .execute(conn)?;
    Ok(())
}

/// [`biglearn_core::engine_store::EngineStore::course_problems`].
pub(crate) fn course_problems(
    conn: &mut Conn,
    course: CourseId,
    max: usize,
) -> Result<ProblemLog, TxError> {
    let uuid = bytes(course.as_uuid());
    let total: i64 = problems::table
        .filter(problems::course_uuid.eq(&uuid))
        .count()
        .get_result(conn)?;
    let rows: Vec<(i64, String, String, String)> = problems::table
        .filter(problems::course_uuid.eq(&uuid))
        .order(problems::id.desc())
        .limit(limit_i64(max))
        .select((
            problems::sequence_number,
            problems::event_type,
            problems::kind,
            problems::message,
        ))
        .load(conn)?;
    let mut latest = rows
        .into_iter()
        .map(|(number, event_type, kind, message)| {
            Ok(RecordedProblem {
                sequence_number: seq_from_i64(number, "engine_problems.sequence_number")?,
                event_type,
                kind,
                message,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    latest.reverse();
    Ok(ProblemLog {
        total: u64_from_i64(total, "count of engine_problems")?,
        latest,
    })
}
