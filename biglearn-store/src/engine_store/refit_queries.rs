// The refit and wake-up queries (migration `*_engine_refit`), included into
// the same per-backend module as `shared_queries.rs`, whose imports and
// helpers they use.

use biglearn_core::engine_store::{
    CommitKind, CourseExtras, CourseSchedule, GroupedCommit, StateBlob,
};
use biglearn_core::gradebook::FitResponse;
use biglearn_core::ids::{ExerciseGroupId, ExerciseId, ResponseId, StudentId};
use biglearn_core::time::Instant;

use super::refit_schema::{
    engine_course_ecosystems as course_ecos, engine_course_schedules as schedules,
    engine_fit_responses as fits, engine_group_counts as group_counts,
    engine_refit_thresholds as thresholds,
};

/// Checks the extras' numbers against the storage columns (every backend
/// runs the same checks, see the memory store).
fn check_extras(extras: &CourseExtras) -> QResult<()> {
    for (_, increase) in &extras.group_counts {
        rules::to_i64("group count increase", *increase)?;
    }
    Ok(())
}

/// Stores a commit's extras (after its watermark check passed).
fn store_extras(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course_uuid: &[u8],
    extras: &CourseExtras,
) -> QResult<()> {
    check_extras(extras)?;
    for response in &extras.fit_responses {
        store_fit_response(conn, response)?;
    }
    for (group, increase) in &extras.group_counts {
        let uuid = bytes(group.as_uuid());
        let increase = rules::to_i64("group count increase", *increase)?;
        let updated = diesel::update(group_counts::table.find(&uuid))
            .set(group_counts::response_count.eq(group_counts::response_count + increase))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(group_counts::table)
                .values((
                    group_counts::group_uuid.eq(&uuid),
                    group_counts::response_count.eq(increase),
                ))
                .execute(conn)?;
        }
    }
    if let Some(schedule) = &extras.schedule {
        diesel::delete(schedules::table.find((consumer.as_str(), course_uuid))).execute(conn)?;
        diesel::insert_into(schedules::table)
            .values((
                schedules::consumer.eq(consumer.as_str()),
                schedules::course_uuid.eq(course_uuid),
                schedules::wake_at.eq(schedule.wake_at.map(Instant::as_micros)),
            ))
            .execute(conn)?;
        diesel::delete(
            course_ecos::table
                .filter(course_ecos::consumer.eq(consumer.as_str()))
                .filter(course_ecos::course_uuid.eq(course_uuid)),
        )
        .execute(conn)?;
        for ecosystem in &schedule.ecosystems {
            diesel::insert_into(course_ecos::table)
                .values((
                    course_ecos::ecosystem_uuid.eq(bytes(ecosystem.as_uuid())),
                    course_ecos::consumer.eq(consumer.as_str()),
                    course_ecos::course_uuid.eq(course_uuid),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Upserts one first response, keeping the earlier of the stored and new.
fn store_fit_response(conn: &mut Conn, response: &FitResponse) -> QResult<()> {
    let key = (
        bytes(response.ecosystem.as_uuid()),
        bytes(response.student.as_uuid()),
        bytes(response.exercise.as_uuid()),
    );
    let stored: Option<(i64, Vec<u8>)> = fits::table
        .find((&key.0, &key.1, &key.2))
        .select((fits::responded_at, fits::response_uuid))
        .first(conn)
        .optional()?;
    let new_uuid = bytes(response.response.as_uuid());
    let at = response.responded_at.as_micros();
    match stored {
        Some((old_at, old_uuid)) if (at, &new_uuid) >= (old_at, &old_uuid) => {}
        Some(_) => {
            diesel::update(fits::table.find((&key.0, &key.1, &key.2)))
                .set((
                    fits::responded_at.eq(at),
                    fits::response_uuid.eq(&new_uuid),
                    fits::is_correct.eq(response.is_correct),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(fits::table)
                .values((
                    fits::ecosystem_uuid.eq(&key.0),
                    fits::student_uuid.eq(&key.1),
                    fits::exercise_uuid.eq(&key.2),
                    fits::responded_at.eq(at),
                    fits::response_uuid.eq(&new_uuid),
                    fits::is_correct.eq(response.is_correct),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// [`biglearn_core::engine_store::EngineStore::commit_course_with`].
pub(crate) fn commit_course_with(
    conn: &mut Conn,
    commit: &CourseCommit,
    extras: &CourseExtras,
) -> QResult<CommitOutcome> {
    let outcome = commit_course(conn, commit)?;
    if outcome == CommitOutcome::Committed {
        let course_uuid = bytes(commit.course.as_uuid());
        store_extras(conn, &commit.consumer, &course_uuid, extras)?;
    }
    Ok(outcome)
}

/// [`biglearn_core::engine_store::EngineStore::commit_course_recalc`].
pub(crate) fn commit_course_recalc(
    conn: &mut Conn,
    commit: &CourseCommit,
    extras: &CourseExtras,
) -> QResult<CommitOutcome> {
    let course_uuid = bytes(commit.course.as_uuid());
    // Locks the watermark row (PostgreSQL) so a concurrent bundle commit
    // waits for this transaction or makes it stale.
    let _ = diesel::update(
        consumer_watermarks::table.find((commit.consumer.as_str(), course_uuid.as_slice())),
    )
    .set(consumer_watermarks::confirmed.eq(consumer_watermarks::confirmed))
    .execute(conn)?;
    let current = watermark(conn, &commit.consumer, &course_uuid)?;
    let outcome = rules::plan_recalc(current, commit.through);
    if outcome != CommitOutcome::Committed {
        return Ok(outcome);
    }
    store_course_rows(conn, commit, &course_uuid)?;
    store_extras(conn, &commit.consumer, &course_uuid, extras)?;
    Ok(CommitOutcome::Committed)
}

/// [`biglearn_core::engine_store::EngineStore::commit_courses`]: the
/// commits in order, in this one transaction, until `others_waiting` says
/// another writer waits (after at least one); the outcomes of those stored.
pub(crate) fn commit_courses(
    conn: &mut Conn,
    commits: &[GroupedCommit<'_>],
    others_waiting: &dyn Fn() -> bool,
) -> QResult<Vec<CommitOutcome>> {
    let mut outcomes = Vec::with_capacity(commits.len());
    for grouped in commits {
        outcomes.push(match grouped.kind {
            CommitKind::Progress => commit_course_with(conn, grouped.commit, grouped.extras)?,
            CommitKind::Recalc => commit_course_recalc(conn, grouped.commit, grouped.extras)?,
        });
        if others_waiting() {
            break;
        }
    }
    Ok(outcomes)
}

/// [`biglearn_core::engine_store::EngineStore::course_schedule`].
pub(crate) fn course_schedule(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course: CourseId,
) -> Result<Option<CourseSchedule>, TxError> {
    let course_uuid = bytes(course.as_uuid());
    let wake: Option<Option<i64>> = schedules::table
        .find((consumer.as_str(), course_uuid.as_slice()))
        .select(schedules::wake_at)
        .first(conn)
        .optional()?;
    let Some(wake) = wake else {
        return Ok(None);
    };
    let rows: Vec<Vec<u8>> = course_ecos::table
        .filter(course_ecos::consumer.eq(consumer.as_str()))
        .filter(course_ecos::course_uuid.eq(&course_uuid))
        .select(course_ecos::ecosystem_uuid)
        .load(conn)?;
    let mut ecosystems = rows
        .iter()
        .map(|b| {
            uuid_from_bytes(b, "engine_course_ecosystems.ecosystem_uuid")
                .map(EcosystemId::from_uuid)
        })
        .collect::<Result<Vec<_>, _>>()?;
    ecosystems.sort();
    Ok(Some(CourseSchedule {
        wake_at: wake.map(Instant::from_micros),
        ecosystems,
    }))
}

/// [`biglearn_core::engine_store::EngineStore::due_courses`].
pub(crate) fn due_courses(
    conn: &mut Conn,
    consumer: &ConsumerName,
    now: Instant,
    max: usize,
) -> Result<Vec<CourseId>, TxError> {
    let rows: Vec<Vec<u8>> = schedules::table
        .filter(schedules::consumer.eq(consumer.as_str()))
        .filter(schedules::wake_at.le(now.as_micros()))
        .order((schedules::wake_at.asc(), schedules::course_uuid.asc()))
        .limit(limit_i64(max))
        .select(schedules::course_uuid)
        .load(conn)?;
    Ok(rows
        .iter()
        .map(|b| uuid_from_bytes(b, "engine_course_schedules.course_uuid").map(CourseId::from_uuid))
        .collect::<Result<Vec<_>, _>>()?)
}

/// [`biglearn_core::engine_store::EngineStore::wake_courses_using`].
pub(crate) fn wake_courses_using(
    conn: &mut Conn,
    ecosystem: EcosystemId,
    at: Instant,
) -> QResult<usize> {
    let users: Vec<(String, Vec<u8>)> = course_ecos::table
        .filter(course_ecos::ecosystem_uuid.eq(bytes(ecosystem.as_uuid())))
        .select((course_ecos::consumer, course_ecos::course_uuid))
        .load(conn)?;
    let mut moved = 0;
    for (consumer, course_uuid) in users {
        let target = schedules::table
            .find((consumer.as_str(), course_uuid.as_slice()))
            .filter(
                schedules::wake_at
                    .is_null()
                    .or(schedules::wake_at.gt(at.as_micros())),
            );
        moved += diesel::update(target)
            .set(schedules::wake_at.eq(Some(at.as_micros())))
            .execute(conn)?;
    }
    Ok(moved)
}

/// [`biglearn_core::engine_store::EngineStore::group_counts`].
pub(crate) fn group_counts(
    conn: &mut Conn,
    groups: &[ExerciseGroupId],
) -> Result<Vec<u64>, TxError> {
    let mut found: HashMap<Vec<u8>, u64> = HashMap::new();
    let uuids: Vec<Vec<u8>> = groups.iter().map(|g| bytes(g.as_uuid())).collect();
    for chunk in uuids.chunks(CHUNK) {
        let rows: Vec<(Vec<u8>, i64)> = group_counts::table
            .filter(group_counts::group_uuid.eq_any(chunk))
            .select((group_counts::group_uuid, group_counts::response_count))
            .load(conn)?;
        for (uuid, count) in rows {
            found.insert(
                uuid,
                u64_from_i64(count, "engine_group_counts.response_count")?,
            );
        }
    }
    Ok(uuids
        .iter()
        .map(|u| found.get(u).copied().unwrap_or(0))
        .collect())
}

/// The stored rows of one ecosystem's fitting responses.
type FitRow = (Vec<u8>, Vec<u8>, i64, Vec<u8>, bool);

/// [`biglearn_core::engine_store::EngineStore::fit_responses`].
pub(crate) fn fit_responses(
    conn: &mut Conn,
    ecosystem: EcosystemId,
) -> Result<Vec<FitResponse>, TxError> {
    let rows: Vec<FitRow> = fits::table
        .filter(fits::ecosystem_uuid.eq(bytes(ecosystem.as_uuid())))
        .order((fits::student_uuid.asc(), fits::exercise_uuid.asc()))
        .select((
            fits::student_uuid,
            fits::exercise_uuid,
            fits::responded_at,
            fits::response_uuid,
            fits::is_correct,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (student, exercise, at, response, is_correct) in rows {
        out.push(FitResponse {
            ecosystem,
            student: StudentId::from_uuid(uuid_from_bytes(
                &student,
                "engine_fit_responses.student_uuid",
            )?),
            exercise: ExerciseId::from_uuid(uuid_from_bytes(
                &exercise,
                "engine_fit_responses.exercise_uuid",
            )?),
            responded_at: Instant::from_micros(at),
            response: ResponseId::from_uuid(uuid_from_bytes(
                &response,
                "engine_fit_responses.response_uuid",
            )?),
            is_correct,
        });
    }
    Ok(out)
}

/// [`biglearn_core::engine_store::EngineStore::refit_thresholds`].
pub(crate) fn refit_thresholds(
    conn: &mut Conn,
    ecosystem: EcosystemId,
) -> Result<Option<StateBlob>, TxError> {
    let row: Option<(i64, Vec<u8>)> = thresholds::table
        .find(bytes(ecosystem.as_uuid()))
        .select((thresholds::format_version, thresholds::thresholds))
        .first(conn)
        .optional()?;
    Ok(row
        .map(|(version, blob)| blob_from(version, blob, "engine_refit_thresholds"))
        .transpose()?)
}

/// [`biglearn_core::engine_store::EngineStore::save_refit`].
pub(crate) fn save_refit(
    conn: &mut Conn,
    ecosystem: EcosystemId,
    slot: &MatrixSlot,
    blob: &StateBlob,
) -> QResult<()> {
    save_matrix(conn, ecosystem, slot)?;
    let uuid = bytes(ecosystem.as_uuid());
    diesel::delete(thresholds::table.find(&uuid)).execute(conn)?;
    diesel::insert_into(thresholds::table)
        .values((
            thresholds::ecosystem_uuid.eq(&uuid),
            thresholds::format_version.eq(i64::from(blob.format_version)),
            thresholds::thresholds.eq(&blob.bytes),
        ))
        .execute(conn)?;
    Ok(())
}

/// [`biglearn_core::engine_store::EngineStore::matrix_id`].
pub(crate) fn matrix_id(
    conn: &mut Conn,
    ecosystem: EcosystemId,
) -> Result<Option<EcosystemMatrixId>, TxError> {
    let row: Option<Vec<u8>> = matrices::table
        .find(bytes(ecosystem.as_uuid()))
        .select(matrices::matrix_uuid)
        .first(conn)
        .optional()?;
    Ok(row
        .map(|b| {
            uuid_from_bytes(&b, "engine_matrices.matrix_uuid").map(EcosystemMatrixId::from_uuid)
        })
        .transpose()?)
}
