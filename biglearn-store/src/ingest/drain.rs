//! The consumer side of O2b: process per-course bundles, confirm after success.

use biglearn_core::ids::CourseId;
use biglearn_core::log::{
    Bundle, BundleLimits, BundleLog, ConsumerName, SequenceNumber, StoreError,
};

/// What one [`drain_bundles`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrainReport {
    /// `next_bundles` calls that returned work.
    pub passes: usize,
    /// Bundles processed and confirmed.
    pub bundles: usize,
    /// Events in those bundles.
    pub events: usize,
}

/// Why [`drain_bundles`] stopped early. Bundles confirmed before the failure
/// stay confirmed; the failed bundle is delivered again next time.
#[derive(Debug, thiserror::Error)]
pub enum DrainError<E: std::error::Error + 'static> {
    /// The store failed while fetching or confirming.
    #[error("draining bundles for consumer {consumer}: {source}")]
    Store {
        /// The consumer being drained.
        consumer: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The processing closure failed on a bundle; it was not confirmed.
    #[error("consumer {consumer} failed on course {course} bundle ending at {through}: {source}")]
    Consumer {
        /// The consumer being drained.
        consumer: String,
        /// The bundle's course.
        course: CourseId,
        /// The last sequence number of the failed bundle.
        through: SequenceNumber,
        /// The closure's error.
        #[source]
        source: E,
        /// Progress made before the failure.
        report: DrainReport,
    },
}

/// Hands `consumer`'s pending bundles to `process` one at a time and confirms
/// each right after `process` succeeds, until the consumer has caught up with
/// every course's contiguous head (or `max_passes` `next_bundles` calls were
/// made, so a steady stream of new events cannot keep the caller forever).
///
/// At-least-once: if the process dies between `process` and `confirm`, the
/// bundle is delivered again on the next drain; `process` must be idempotent
/// per (course, sequence number).
pub fn drain_bundles<L, E, F>(
    log: &L,
    consumer: &ConsumerName,
    limits: BundleLimits,
    max_passes: usize,
    mut process: F,
) -> Result<DrainReport, DrainError<E>>
where
    L: BundleLog + ?Sized,
    E: std::error::Error + 'static,
    F: FnMut(&Bundle) -> Result<(), E>,
{
    let store_error = |source| DrainError::Store {
        consumer: consumer.as_str().to_owned(),
        source,
    };
    let mut report = DrainReport::default();
    while report.passes < max_passes {
        let bundles = log.next_bundles(consumer, limits).map_err(store_error)?;
        // An empty answer, or one with only empty bundles, means caught up:
        // confirming nothing cannot advance, so looping again would spin.
        if bundles.iter().all(|b| b.events.is_empty()) {
            break;
        }
        report.passes += 1;
        for bundle in &bundles {
            let Some(through) = bundle.last_sequence_number() else {
                continue;
            };
            if let Err(source) = process(bundle) {
                return Err(DrainError::Consumer {
                    consumer: consumer.as_str().to_owned(),
                    course: bundle.course,
                    through,
                    source,
                    report,
                });
            }
            log.confirm(consumer, bundle.course, through)
                .map_err(store_error)?;
            report.bundles += 1;
            report.events += bundle.events.len();
        }
    }
    Ok(report)
}
