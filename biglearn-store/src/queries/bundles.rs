// The bundle and watermark queries (O2b), compiled once per backend like
// `log.rs`: included into the child module `queries::bundles`, which sees
// the parent's private helpers (`Conn`, `stream_head`, `events_in_range`, …).

use biglearn_core::ids::CourseId;
use biglearn_core::log::bundle::{
    backlog as pending_backlog, confirm_target, order_waiting, pending_range, BundleCutter,
    WaitingCourse,
};
use biglearn_core::log::{
    Bundle, BundleLimits, ConsumerName, Event, SequenceNumber, StreamId, StreamKind,
};
use diesel::prelude::*;

use super::{as_i64, bytes, coalesce_bigint, events_in_range, stream_head, Conn};
use crate::error::TxError;
use crate::rows::{kind_code, seq_from_i64, u64_from_i64, uuid_from_bytes};
use crate::schema::{consumer_watermarks, events, streams};

/// A waiting course as loaded: uuid, confirmed watermark, contiguous head,
/// insertion position of the first unconfirmed event.
type WaitingRow = (Vec<u8>, Option<i64>, Option<i64>, i64);

/// Courses with deliverable events for `consumer`, oldest waiting first (see
/// `biglearn_core::log::bundle`), at most `max_courses`. The order is
/// computed in SQL so that only the courses served are loaded.
pub(crate) fn waiting_courses(
    conn: &mut Conn,
    consumer: &ConsumerName,
    max_courses: usize,
) -> Result<Vec<WaitingCourse>, TxError> {
    let confirmed = coalesce_bigint(consumer_watermarks::confirmed.nullable(), -1);
    let rows: Vec<WaitingRow> = streams::table
        .left_join(
            consumer_watermarks::table.on(consumer_watermarks::course_uuid
                .eq(streams::stream_uuid)
                .and(consumer_watermarks::consumer.eq(consumer.as_str().to_owned()))),
        )
        .inner_join(
            events::table.on(events::stream_kind
                .eq(streams::stream_kind)
                .and(events::stream_uuid.eq(streams::stream_uuid))
                .and(events::sequence_number.eq(confirmed + 1))),
        )
        .filter(streams::stream_kind.eq(kind_code(StreamKind::Course)))
        .filter(coalesce_bigint(streams::contiguous_through, -1).gt(confirmed))
        .order((events::ord, streams::stream_uuid))
        .limit(as_i64(max_courses))
        .select((
            streams::stream_uuid,
            consumer_watermarks::confirmed.nullable(),
            streams::contiguous_through,
            events::ord,
        ))
        .load(conn)?;
    let mut waiting = Vec::with_capacity(rows.len());
    for (uuid, confirmed, contiguous_through, ord) in rows {
        let course = CourseId::from_uuid(uuid_from_bytes(&uuid, "streams.stream_uuid")?);
        let confirmed = confirmed
            .map(|c| seq_from_i64(c, "consumer_watermarks.confirmed"))
            .transpose()?;
        let contiguous_through = contiguous_through
            .map(|c| seq_from_i64(c, "streams.contiguous_through"))
            .transpose()?;
        if let Some((first, last)) = pending_range(confirmed, contiguous_through) {
            waiting.push(WaitingCourse {
                since: u64_from_i64(ord, "events.ord")?,
                course,
                first,
                last,
            });
        }
    }
    Ok(waiting)
}

/// The events of one course in `first..=last`, ascending, at most `limit`.
pub(crate) fn course_events(
    conn: &mut Conn,
    course: CourseId,
    first: SequenceNumber,
    last: SequenceNumber,
    limit: usize,
) -> Result<Vec<Event>, TxError> {
    events_in_range(
        conn,
        StreamId::Course(course),
        first,
        Some(last),
        None,
        limit,
    )
}

/// `consumer`'s confirmed watermark for `course`.
pub(crate) fn confirmed(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course: CourseId,
) -> Result<Option<SequenceNumber>, TxError> {
    let value: Option<i64> = consumer_watermarks::table
        .find((consumer.as_str(), bytes(*course.as_uuid())))
        .select(consumer_watermarks::confirmed)
        .first(conn)
        .optional()?;
    Ok(value
        .map(|v| seq_from_i64(v, "consumer_watermarks.confirmed"))
        .transpose()?)
}

/// Raises the watermark to `target` (never lowers it, even against a
/// concurrent confirmation from another process): the row is created if
/// missing, then updated only where it is lower; each statement is atomic.
pub(crate) fn raise_confirmed(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course: CourseId,
    target: SequenceNumber,
) -> Result<(), TxError> {
    let course_uuid = bytes(*course.as_uuid());
    let inserted = diesel::insert_into(consumer_watermarks::table)
        .values((
            consumer_watermarks::consumer.eq(consumer.as_str()),
            consumer_watermarks::course_uuid.eq(&course_uuid),
            consumer_watermarks::confirmed.eq(target.as_i64()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        diesel::update(
            consumer_watermarks::table
                .find((consumer.as_str(), &course_uuid))
                .filter(consumer_watermarks::confirmed.lt(target.as_i64())),
        )
        .set(consumer_watermarks::confirmed.eq(target.as_i64()))
        .execute(conn)?;
    }
    Ok(())
}

/// The bundles of [`biglearn_core::log::BundleLog::next_bundles`], read in
/// the caller's read transaction.
pub(crate) fn next_bundles(
    conn: &mut Conn,
    consumer: &ConsumerName,
    limits: BundleLimits,
) -> Result<Vec<Bundle>, TxError> {
    let waiting = order_waiting(
        waiting_courses(conn, consumer, limits.max_courses)?,
        limits.max_courses,
    );
    let mut cutter = BundleCutter::new(limits);
    let mut bundles = Vec::with_capacity(waiting.len());
    for course in waiting {
        // Once the byte budget is spent, each further bundle gets only its
        // first event, so load no more than that.
        let load = if cutter.bytes_used() >= limits.max_bytes {
            1
        } else {
            cutter.max_events()
        };
        let events = course_events(conn, course.course, course.first, course.last, load)?;
        if let Some(bundle) = cutter.cut(course.course, events) {
            bundles.push(bundle);
        }
    }
    Ok(bundles)
}

/// [`biglearn_core::log::BundleLog::confirm`] in the caller's write
/// transaction: clamped to the contiguous head, never lowered.
pub(crate) fn confirm(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course: CourseId,
    through: SequenceNumber,
) -> Result<(), TxError> {
    let head = stream_head(conn, StreamId::Course(course))?;
    let current = confirmed(conn, consumer, course)?;
    let contiguous_through = head.and_then(|h| h.contiguous_through);
    if let Some(target) = confirm_target(current, through, contiguous_through) {
        raise_confirmed(conn, consumer, course, target)?;
    }
    Ok(())
}

/// [`biglearn_core::log::BundleLog::backlog`] in the caller's read
/// transaction.
pub(crate) fn backlog(
    conn: &mut Conn,
    consumer: &ConsumerName,
    course: CourseId,
) -> Result<u64, TxError> {
    let head = stream_head(conn, StreamId::Course(course))?;
    let current = confirmed(conn, consumer, course)?;
    Ok(pending_backlog(
        current,
        head.and_then(|h| h.contiguous_through),
    ))
}
