//! The constants of scheduler.md §4 that the pure selection rules use.
//!
//! Batch sizes and worker periods of §4 belong to the engine and are not
//! repeated here.

/// PEs per eligible book container when an assignment has no PE goal
/// (scheduler.md §2.4, §4 `DEFAULT_NUM_PES_PER_BOOK_CONTAINER`).
pub const DEFAULT_NUM_PES_PER_BOOK_CONTAINER: u32 = 3;

/// Cap on the PE count for a missing goal: min(3·#bcs, 5) (scheduler.md §4
/// "iReading PE target", S1 fix 9, README S4).
pub const DEFAULT_MAX_NUM_PES: u32 = 5;

/// SPEs per k-ago entry when an assignment has no SPE goal (scheduler.md §2.5,
/// §4 `DEFAULT_NUM_SPES_PER_K_AGO`).
pub const DEFAULT_NUM_SPES_PER_K_AGO: u32 = 1;

/// How many earlier assignments the SPE history loads (scheduler.md §2.5,
/// §4 `K_AGOS_TO_LOAD`).
pub const K_AGOS_TO_LOAD: [u8; 5] = [1, 2, 3, 4, 5];

/// The largest k of [`K_AGOS_TO_LOAD`] (scheduler.md §4 `MAX_K_AGO`).
pub const MAX_K_AGO: u8 = 5;

/// The k-ago entries a goal is spread over (scheduler.md §2.5, §4
/// `NON_RANDOM_K_AGOS`).
pub const NON_RANDOM_K_AGOS: [u8; 3] = [1, 3, 5];

/// Slots of the last k-ago entry, the random-ago or current-assignment slot
/// (scheduler.md §2.5, §4 "Random / personalized slot").
pub const NUM_RANDOM_AGO_SPES: u32 = 1;

/// The smallest student-driven sequence number that enables random-ago
/// (scheduler.md §2.5, §4 `MIN_SEQUENCE_NUMBER_FOR_RANDOM_AGO`).
pub const MIN_SEQUENCE_NUMBER_FOR_RANDOM_AGO: u32 = 5;

/// Practice-worst-areas exercises per student (scheduler.md §2.7, §4
/// `NUM_PES_PER_STUDENT`).
pub const NUM_PES_PER_STUDENT: usize = 5;

/// How many worst CLUEs practice worst areas draws from (scheduler.md §2.7,
/// §4 `MAX_NUM_WORST_CLUES`).
pub const MAX_NUM_WORST_CLUES: usize = 5;

/// Slot counts by the number of worst CLUEs, worst first (scheduler.md §2.7
/// step 5, §4 "Worst-area slot maps"). Index `n − 1` holds the map for `n`.
pub const WORST_AREA_SLOTS: [&[usize]; 5] =
    [&[5], &[3, 2], &[2, 2, 1], &[2, 1, 1, 1], &[1, 1, 1, 1, 1]];

/// Fewest trials for a real local_query CLUE (scheduler.md §3.4, §4
/// local_query `MIN_NUM_RESPONSES`).
pub const LOCAL_QUERY_MIN_NUM_RESPONSES: usize = 3;

/// The normal quantile of the local_query CLUE (scheduler.md §3.4, §4
/// local_query `Z_ALPHA`).
pub const LOCAL_QUERY_Z_ALPHA: f64 = 0.68;

/// Weight of the standard deviation in the local_query half-width
/// (scheduler.md §3.4 "0.1·s", §4).
pub const LOCAL_QUERY_SD_WEIGHT: f64 = 0.1;

/// Constant term of the local_query half-width (scheduler.md §3.4 "+ 0.05", §4).
pub const LOCAL_QUERY_HALF_WIDTH_OFFSET: f64 = 0.05;

/// Confidence of the SPARFA CLUE interval (scheduler.md §4, sparfa.md §6.2, F2).
pub const SPARFA_CLUE_CONFIDENCE: f64 = 0.5;

/// Pooled responses a SPARFA CLUE needs to be real (scheduler.md §4,
/// sparfa.md §6.2, F2: N_min = 3).
pub const SPARFA_CLUE_MIN_NUM_RESPONSES: usize = 3;

/// The student uuid of an ecosystem's default (cold-start) calculation
/// (scheduler.md §1.3, §4 `DEFAULT_STUDENT_UUID`).
pub const DEFAULT_STUDENT_UUID: uuid::Uuid = uuid::Uuid::nil();

/// Relative growth of an exercise group's response count that triggers a
/// matrix refit (scheduler.md §1.6(c), §4 `UPDATE_THRESHOLD`; F4).
pub const UPDATE_THRESHOLD: f64 = 0.1;

/// The response count at which a group next triggers a refit:
/// `floor(1.1 · count) + 1`, in the exact integer form `(11 · count) div 10 + 1`
/// (scheduler.md §1.6(c)); a newly imported group starts at 1.
///
/// ```
/// use biglearn_core::scheduler::constants::next_update_response_count;
/// assert_eq!(next_update_response_count(0), 1);
/// assert_eq!(next_update_response_count(10), 12);
/// assert_eq!(next_update_response_count(100), 111);
/// ```
pub const fn next_update_response_count(count: u64) -> u64 {
    count.saturating_mul(11) / 10 + 1
}
