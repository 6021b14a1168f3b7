//! The public storage conformance suite (feature `testing`).
//!
//! Every backend of [`crate::log::BundleLog`] and [`crate::log::IdRegistry`]
//! runs the same checks. Each
//! check is a function taking a factory that returns a **fresh, empty** store
//! (it may panic when setup fails); most checks call it once, the model check
//! once per case. Run them all with one `#[test]` per check:
//!
//! ```
//! # // A doc-test is its own crate: the macro expands to a `conformance`
//! # // module with one #[test] per check (not run by doc-tests).
//! use biglearn_core::memory::MemoryStore;
//! biglearn_core::conformance_tests!(MemoryStore::new());
//! # fn main() {}
//! ```
//!
//! Name the module to run the suite twice in one file:
//! `biglearn_core::conformance_tests!(sqlite, fresh_sqlite_store())`.
//! The same checks are listed by [`all_checks`] for harnesses that iterate.
//!
//! [`fixtures`] holds the event builders; [`reference::Reference`] is the
//! naive model the model check compares against.

mod append_checks;
mod bundle_checks;
mod engine_checks;
mod fetch_checks;
pub mod fixtures;
mod model;
pub mod reference;
mod registry_checks;

pub use append_checks::*;
pub use bundle_checks::*;
pub use engine_checks::*;
pub use fetch_checks::*;
pub use model::{concurrent_appends_smoke, model_check};
pub use registry_checks::*;

use crate::log::{BundleLog, IdRegistry};

/// Calls `$crate::$emit!{ (args) [check, …] }` with the list of every check:
/// the single source of the suite's contents.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_checks {
    ($emit:ident, $($args:tt)*) => {
        $crate::$emit! { ($($args)*) [
            append_stores_events_and_heads,
            append_replay_is_silent,
            append_replay_elsewhere_is_rejected,
            append_conflict_is_atomic,
            append_duplicates_in_one_request,
            append_group_isolates_bad_requests,
            append_rejects_misplaced_events,
            metadata_numbers_are_gap_free,
            fetch_inactive_streams,
            fetch_filters_types_from_inclusive_offset,
            fetch_stops_at_gaps,
            fetch_pages_fairly_across_streams,
            fetch_caps_bytes_with_big_event,
            fetch_ecosystem_streams,
            open_gaps_are_listed_and_filled,
            gap_first_seen_times_are_stable,
            bundles_are_contiguous_and_stop_at_gaps,
            bundles_confirm_is_monotonic_and_clamped,
            bundles_redeliver_until_confirmed,
            bundles_consumers_are_independent,
            bundles_respect_limits,
            bundles_serve_oldest_waiting_first,
            registry_rows_follow_the_events,
            registry_keeps_the_first_owner,
            registry_ignores_rejected_requests,
            registry_lists_known_courses,
            concurrent_appends_smoke,
            model_check,
        ] }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_emit_tests {
    (($module:ident, $factory:expr, $var:literal) [$($check:ident),* $(,)?]) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    if ::std::env::var_os($var).is_none() {
                        ::std::println!("skipped: {} not set", $var);
                        return;
                    }
                    $crate::testing::$check(&|| $factory);
                }
            )*
        }
    };
    (($module:ident, $factory:expr) [$($check:ident),* $(,)?]) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    $crate::testing::$check(&|| $factory);
                }
            )*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_emit_list {
    (() [$($check:ident),* $(,)?]) => {
        vec![$($crate::testing::Check {
            name: stringify!($check),
            run: $crate::testing::$check::<S>,
        }),*]
    };
}

/// Expands to a module (default name `conformance`) with one `#[test]` per
/// conformance check, each calling the check with a factory that evaluates
/// the given expression (a fresh store; it may panic on setup failure).
/// The expression is evaluated inside the module, which imports `super::*`.
///
/// With `requires_env = "VAR"`, each test prints `skipped: VAR not set` and
/// returns when the environment variable is missing (e.g. a PostgreSQL URL):
/// `conformance_tests!(postgres, pg_store(), requires_env = "BIGLEARN_TEST_PG_URL")`.
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $factory:expr, requires_env = $var:literal $(,)?) => {
        $crate::__conformance_checks!(__conformance_emit_tests, $module, $factory, $var);
    };
    ($factory:expr $(,)?) => {
        $crate::conformance_tests!(conformance, $factory);
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__conformance_checks!(__conformance_emit_tests, $module, $factory);
    };
}

/// One named conformance check for stores of type `S`.
pub struct Check<S> {
    /// The check's function name (e.g. `append_replay_is_silent`).
    pub name: &'static str,
    /// Runs it with a factory of fresh stores; panics on a violation.
    pub run: fn(&dyn Fn() -> S),
}

impl<S> std::fmt::Debug for Check<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

/// Every conformance check, in the order [`conformance_tests!`] emits them.
pub fn all_checks<S: BundleLog + IdRegistry>() -> Vec<Check<S>> {
    crate::__conformance_checks!(__conformance_emit_list,)
}
