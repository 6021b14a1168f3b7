//! The pure rules of the engine store. Every backend runs them inside its
//! write transaction, so all backends accept and reject the same calls.

use std::collections::HashMap;

use crate::ids::{CourseId, RequestId};
use crate::log::SequenceNumber;

use super::{CommitOutcome, EngineStoreError, ExternalUpdate, ResultKey, ResultKind, ResultWrite};

/// Whether a course commit may proceed: [`CommitOutcome::Stale`] when
/// `through` is at or below the `current` watermark (checked first, so a
/// redelivered bundle is always a quiet no-op);
/// [`EngineStoreError::BeyondContiguousHead`] when the stream is not stored
/// contiguously through `through`; otherwise [`CommitOutcome::Committed`]
/// (go ahead).
///
/// ```
/// use biglearn_core::engine_store::{rules::plan_commit, CommitOutcome};
/// use biglearn_core::ids::CourseId;
/// use biglearn_core::log::SequenceNumber;
/// let n = |v| SequenceNumber::new(v).unwrap();
/// let course = CourseId::from_uuid(uuid::Uuid::nil());
/// assert_eq!(plan_commit(course, Some(n(5)), n(5), Some(n(9))).unwrap(),
///            CommitOutcome::Stale { current: n(5) });
/// assert_eq!(plan_commit(course, Some(n(5)), n(7), Some(n(9))).unwrap(),
///            CommitOutcome::Committed);
/// assert!(plan_commit(course, None, n(3), Some(n(2))).is_err());
/// ```
pub fn plan_commit(
    course: CourseId,
    current: Option<SequenceNumber>,
    through: SequenceNumber,
    contiguous: Option<SequenceNumber>,
) -> Result<CommitOutcome, EngineStoreError> {
    if let Some(current) = current {
        if through <= current {
            return Ok(CommitOutcome::Stale { current });
        }
    }
    match contiguous {
        Some(head) if through <= head => Ok(CommitOutcome::Committed),
        _ => Err(EngineStoreError::BeyondContiguousHead {
            course,
            through,
            contiguous: contiguous.map_or_else(|| "nothing".to_owned(), |c| c.to_string()),
        }),
    }
}

/// Whether a recalculation made at `through` may be stored: only when the
/// `current` watermark is exactly `through` (a bundle committed since then
/// carries newer state; none means the course was never committed).
///
/// ```
/// use biglearn_core::engine_store::{rules::plan_recalc, CommitOutcome};
/// use biglearn_core::log::SequenceNumber;
/// let n = |v| SequenceNumber::new(v).unwrap();
/// assert_eq!(plan_recalc(Some(n(5)), n(5)), CommitOutcome::Committed);
/// assert_eq!(plan_recalc(Some(n(6)), n(5)), CommitOutcome::Stale { current: n(6) });
/// assert_eq!(plan_recalc(None, n(5)), CommitOutcome::Stale { current: SequenceNumber::ZERO });
/// ```
pub fn plan_recalc(current: Option<SequenceNumber>, through: SequenceNumber) -> CommitOutcome {
    match current {
        Some(current) if current == through => CommitOutcome::Committed,
        Some(current) => CommitOutcome::Stale { current },
        None => CommitOutcome::Stale {
            current: SequenceNumber::ZERO,
        },
    }
}

/// Whether an ecosystem state at `through` replaces the stored one at
/// `current`: only a lower `through` is stale.
pub fn plan_ecosystem_save(
    current: Option<SequenceNumber>,
    through: SequenceNumber,
) -> CommitOutcome {
    match current {
        Some(current) if through < current => CommitOutcome::Stale { current },
        _ => CommitOutcome::Committed,
    }
}

fn check_duplicate(
    seen: &mut HashMap<ResultKey, usize>,
    key: ResultKey,
    index: usize,
) -> Result<(), EngineStoreError> {
    if let Some(first) = seen.get(&key) {
        return Err(EngineStoreError::DuplicateTarget {
            first: *first,
            second: index,
            key: key.to_string(),
        });
    }
    seen.insert(key, index);
    Ok(())
}

fn check_finite(write: &ResultWrite, index: usize) -> Result<(), EngineStoreError> {
    if let ResultWrite::Clue {
        key,
        result: Some(result),
    } = write
    {
        if !result.clue_data.is_finite() {
            return Err(EngineStoreError::NonFiniteClue {
                index,
                key: ResultKey::Clue(key.clone()).to_string(),
            });
        }
    }
    Ok(())
}

/// Checks the engine's own writes: each key at most once, finite CLUEs.
pub fn check_writes(writes: &[ResultWrite]) -> Result<(), EngineStoreError> {
    let mut seen = HashMap::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        check_duplicate(&mut seen, write.key(), index)?;
        check_finite(write, index)?;
    }
    Ok(())
}

/// The distinct (kind, request uuid) pairs of `updates`: what a backend
/// looks up to build the `holders` of [`check_external`].
pub fn request_uuid_lookups(updates: &[ExternalUpdate]) -> Vec<(ResultKind, RequestId)> {
    let mut pairs: Vec<(ResultKind, RequestId)> = updates
        .iter()
        .map(|u| (u.key().kind(), u.request_uuid()))
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

/// Checks one update_* call against the stored rows: no key written twice
/// (A10), finite CLUEs, and no request uuid that another stored row
/// (`holders`: the key of the row holding each looked-up uuid) or an
/// earlier item of the call holds for a different key (A4).
pub fn check_external(
    updates: &[ExternalUpdate],
    holders: &HashMap<(ResultKind, RequestId), ResultKey>,
) -> Result<(), EngineStoreError> {
    let mut seen = HashMap::with_capacity(updates.len());
    let mut claimed: HashMap<(ResultKind, RequestId), (usize, ResultKey)> = HashMap::new();
    for (index, update) in updates.iter().enumerate() {
        let key = update.key();
        check_duplicate(&mut seen, key.clone(), index)?;
        check_finite(&update.as_write(), index)?;
        let request_uuid = update.request_uuid();
        let lookup = (key.kind(), request_uuid);
        if let Some((earlier, earlier_key)) = claimed.get(&lookup) {
            return Err(EngineStoreError::RequestUuidConflict {
                index,
                request_uuid,
                holder: format!("items[{earlier}] ({earlier_key})"),
            });
        }
        if let Some(holder) = holders.get(&lookup) {
            if *holder != key {
                return Err(EngineStoreError::RequestUuidConflict {
                    index,
                    request_uuid,
                    holder: holder.to_string(),
                });
            }
        }
        claimed.insert(lookup, (index, key));
    }
    Ok(())
}

/// A `u64` that must fit a signed 64-bit column.
pub fn to_i64(what: &'static str, value: u64) -> Result<i64, EngineStoreError> {
    i64::try_from(value).map_err(|_| EngineStoreError::OutOfRange { what, value })
}
