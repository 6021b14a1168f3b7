//! The scheduler's pure selection rules (scheduler.md §2–§4).
//!
//! Given an ecosystem's pools ([`EcosystemView`]), a student's assignments
//! ([`Assignment`]) and an algorithm's priority order ([`PriorityOrder`]),
//! these functions decide which exercises a student gets:
//!
//! - exclusions and anti-cheating: [`student_exclusions`] (§2.2);
//! - personalized exercises: [`build_pe`] (§2.4);
//! - spaced practice: [`k_ago_map`], the histories of [`history`] and
//!   [`build_spe`] (§2.5), cold start with [`History::cold_start`] (§2.8);
//! - practice worst areas: [`practice_worst_areas`] (§2.7);
//! - ecosystem mappings: [`BookContainerMappings`] (§1.4, §2.10);
//! - CLUE inputs and the local_query CLUE: [`clue_exercises`],
//!   [`select_clue_responses`], [`local_query_clue`] (§3.1, §3.2, §3.4);
//! - the [`Algorithm`] trait with [`LocalQuery`] and [`BiglearnSparfa`], and
//!   algorithm-name resolution ([`resolve_algorithm_name`], README A6a).
//!
//! All randomness comes from a [`Seed`] derived from stable ids with
//! [`seed_from_ids`] (decision S2). The latent bugs of scheduler.md §6 that
//! live here are fixed as the S1 table says (fixes 2, 3, 5, 6, 7, 8, 9, and the
//! worst-area half of 4).

pub mod algorithm;
pub mod assignment;
pub mod choose;
pub mod clue;
pub mod constants;
pub mod ecosystem;
pub mod estimates;
pub mod exclusions;
pub mod history;
pub mod mapping;
pub mod names;
pub mod pe;
pub mod seed;
pub mod sparfa_alg;
pub mod spe;
pub mod worst;

pub use algorithm::{
    Algorithm, AlgorithmResponse, ClueRequest, ExerciseOrder, ExerciseOrderRequest, LocalQuery,
};
pub use assignment::{needs_exercises, student_history_at, AssignedExercise, Assignment, Response};
pub use choose::{choose, PriorityOrder};
pub use clue::{
    clue_exercises, clue_target, local_query_clue, local_query_clue_with, select_clue_responses,
    ClueAudience, ClueCandidate, ClueData, ClueResponses, LocalQueryInterval,
};
pub use ecosystem::{AssignmentType, EcosystemView, ExerciseCatalog, ExercisePool};
pub use estimates::EstimateMemo;
pub use exclusions::{anti_cheating_exclusions, student_exclusions, CourseExclusions};
pub use history::{
    instructor_driven_history, instructor_sequence_numbers, student_driven_history,
    student_sequence_numbers, History, HistoryType,
};
pub use mapping::{BookContainerMapping, BookContainerMappings};
pub use names::{resolve_algorithm_name, BuiltinAlgorithm, ResolvedAlgorithm};
pub use pe::{build_pe, pe_goal, Chosen, PeInput, SelectionConfig};
pub use seed::{pe_seed, seed_from_ids, shuffle, spe_seed, Seed};
pub use sparfa_alg::{BiglearnSparfa, ExerciseIndex, SparfaAlgorithmError};
pub use spe::{
    build_spe, k_ago_map, HistoryEntry, KAgo, KAgoEntry, SpeChoice, SpeInput, SpeSelection,
};
pub use worst::{practice_worst_areas, worst_area_slots, worst_clues, StudentClue};
