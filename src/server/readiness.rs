//! Whether a course ecosystem preparation has been precomputed: the truth
//! behind `updated_and_ready` (update_course_ecosystems) and
//! `precompute_is_complete` (fetch_course_ecosystem_statuses), api.md §5.4
//! and scheduler.md S1 fix 11.
//!
//! The original answered from an `ecosystem_preparation_readies` table that
//! nothing wrote, so it could never say "ready". Here the engine precomputes
//! the prepared ecosystem's re-mapped CLUE rows while it applies the
//! prepare_course_ecosystem event, and stores those rows, the course state
//! and its raised watermark in one transaction
//! ([`biglearn_core::engine_store::EngineStore::commit_course_progress`]).
//! The watermark therefore proves the rows were written; no separate
//! readiness mark is needed, and none can drift from the rows.
//!
//! The engine can only precompute into an ecosystem it has imported, so a
//! preparation whose ecosystem has no stored create_ecosystem is never
//! reported as ready, however far the engine got.
//!
//! Known limit: the watermark does not tell whether the ecosystem was
//! already imported when the engine applied the preparation. An ecosystem
//! whose create_ecosystem is stored only afterwards reads as precomputed
//! although the engine had nothing to precompute into (Tutor imports an
//! ecosystem before it prepares a course for it, so this needs a client
//! sending out of order); telling the two apart needs a readiness mark
//! written by the engine itself.

use biglearn_core::events::{PrepareCourseEcosystem, WireEvent};
use biglearn_core::ids::{CourseId, EcosystemId, EventId};
use biglearn_core::log::{
    BundleLog, Event, EventLog, EventType, SequenceNumber, StoreError, StreamId,
};

use crate::server::App;

/// Whether a create_ecosystem event of `ecosystem` is stored (api.md §5.4
/// `ecosystem_is_known`; the engine imports exactly these ecosystems).
pub fn ecosystem_is_known(app: &App, ecosystem: EcosystemId) -> Result<bool, StoreError> {
    let event_id = EventId::from_uuid(*ecosystem.as_uuid());
    Ok(app.store.event(event_id)?.is_some_and(|event| {
        event.event_type == EventType::CreateEcosystem
            && event.stream == StreamId::Ecosystem(ecosystem)
    }))
}

/// Whether the server's engine has committed `preparation`: its confirmed
/// watermark for the course is at or past the prepare event's sequence
/// number, so the rows that event made (see the module docs) are stored.
pub fn engine_has_processed(
    app: &App,
    preparation: &PrepareCourseEcosystem,
) -> Result<bool, StoreError> {
    engine_is_past(app, preparation.course_uuid, preparation.sequence_number)
}

fn engine_is_past(
    app: &App,
    course: CourseId,
    sequence_number: SequenceNumber,
) -> Result<bool, StoreError> {
    Ok(app
        .store
        .confirmed(&app.consumer, course)?
        .is_some_and(|through| through >= sequence_number))
}

/// Whether `preparation` is precomputed: the engine has processed it and its
/// ecosystem is known (module docs). `updated_and_ready` and
/// `precompute_is_complete` are answered from this and nothing else.
pub fn preparation_is_precomputed(
    app: &App,
    preparation: &PrepareCourseEcosystem,
) -> Result<bool, StoreError> {
    is_precomputed(
        app,
        preparation.course_uuid,
        preparation.sequence_number,
        preparation.next_ecosystem_uuid,
    )
}

/// [`preparation_is_precomputed`] for the preparation of `course` stored at
/// `sequence_number` that prepares `ecosystem`.
pub fn is_precomputed(
    app: &App,
    course: CourseId,
    sequence_number: SequenceNumber,
    ecosystem: EcosystemId,
) -> Result<bool, StoreError> {
    // The watermark first: it is one row and usually decides alone.
    Ok(engine_is_past(app, course, sequence_number)? && ecosystem_is_known(app, ecosystem)?)
}

/// [`preparation_is_precomputed`] for a stored prepare_course_ecosystem
/// event (update_course_ecosystems has the event from its lookup).
///
/// An event whose data cannot be read back is a corrupt store
/// ([`StoreError::Corrupt`]), never "unready": the stored data was
/// validated when it was accepted.
pub fn stored_preparation_is_precomputed(app: &App, event: &Event) -> Result<bool, StoreError> {
    let preparation = PrepareCourseEcosystem::from_event(event)
        .map_err(|e| StoreError::Corrupt(format!("stored preparation {}: {e}", event.event_id)))?;
    preparation_is_precomputed(app, &preparation)
}
