//! Algorithm-name resolution (README A6a; scheduler.md §0).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::history::HistoryType;

/// The algorithms built into the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinAlgorithm {
    /// SPARFA CLUEs and TeSR ordering (`biglearn_sparfa`).
    BiglearnSparfa,
    /// Random ordering and the §3.4 CLUE (`local_query`).
    LocalQuery,
}

impl BuiltinAlgorithm {
    /// Every built-in algorithm.
    pub const ALL: [BuiltinAlgorithm; 2] = [
        BuiltinAlgorithm::BiglearnSparfa,
        BuiltinAlgorithm::LocalQuery,
    ];

    /// The canonical (lower-case) name.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinAlgorithm::BiglearnSparfa => "biglearn_sparfa",
            BuiltinAlgorithm::LocalQuery => "local_query",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for BuiltinAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an algorithm name in a request refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResolvedAlgorithm {
    /// A built-in algorithm; `history_type` is set for the SPE names
    /// `instructor_driven_<alg>` / `student_driven_<alg>`.
    BuiltIn {
        /// The algorithm.
        algorithm: BuiltinAlgorithm,
        /// The SPE variant, if the name carries one.
        history_type: Option<HistoryType>,
    },
    /// An external algorithm, served exactly as pushed under this name.
    External(String),
}

impl ResolvedAlgorithm {
    /// The canonical name results are stored under: lower case for built-ins,
    /// verbatim for external algorithms.
    pub fn canonical_name(&self) -> String {
        match self {
            ResolvedAlgorithm::BuiltIn {
                algorithm,
                history_type: None,
            } => algorithm.name().to_owned(),
            ResolvedAlgorithm::BuiltIn {
                algorithm,
                history_type: Some(history),
            } => format!("{}_{}", history.prefix(), algorithm.name()),
            ResolvedAlgorithm::External(name) => name.clone(),
        }
    }
}

/// Resolves a requested algorithm name (README A6a): `biglearn_sparfa` and
/// `local_query`, optionally prefixed by `instructor_driven_` or
/// `student_driven_`, match case-insensitively; anything else is external.
///
/// ```
/// use biglearn_core::scheduler::{resolve_algorithm_name, BuiltinAlgorithm, HistoryType, ResolvedAlgorithm};
/// assert_eq!(
///     resolve_algorithm_name("Student_Driven_BIGLEARN_SPARFA"),
///     ResolvedAlgorithm::BuiltIn {
///         algorithm: BuiltinAlgorithm::BiglearnSparfa,
///         history_type: Some(HistoryType::StudentDriven),
///     }
/// );
/// assert_eq!(
///     resolve_algorithm_name("sparfa"),
///     ResolvedAlgorithm::External("sparfa".to_owned())
/// );
/// ```
pub fn resolve_algorithm_name(name: &str) -> ResolvedAlgorithm {
    if let Some(algorithm) = BuiltinAlgorithm::from_name(name) {
        return ResolvedAlgorithm::BuiltIn {
            algorithm,
            history_type: None,
        };
    }
    for history in [HistoryType::InstructorDriven, HistoryType::StudentDriven] {
        let prefix = history.prefix();
        let head = name.get(..prefix.len());
        let separator = name.get(prefix.len()..=prefix.len());
        let tail = name.get(prefix.len() + 1..);
        if let (Some(head), Some("_"), Some(tail)) = (head, separator, tail) {
            if head.eq_ignore_ascii_case(prefix) {
                if let Some(algorithm) = BuiltinAlgorithm::from_name(tail) {
                    return ResolvedAlgorithm::BuiltIn {
                        algorithm,
                        history_type: Some(history),
                    };
                }
            }
        }
    }
    ResolvedAlgorithm::External(name.to_owned())
}
