//! Errors of SPARFA data handling, fitting and evaluation.

use thiserror::Error;

/// Everything that can go wrong while reading response data, fitting or evaluating a model.
///
/// Data errors name the source (usually a file name), the 1-based line and, where it
/// applies, the column, so a user can go straight to the offending cell.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SparfaError {
    /// A CSV header does not have the required columns.
    #[error("{source_name}: line 1: bad header: expected columns {expected}, found `{found}`")]
    BadHeader {
        /// File or stream name.
        source_name: String,
        /// The required columns.
        expected: String,
        /// The header as read.
        found: String,
    },
    /// A CSV row has the wrong number of fields.
    #[error("{source_name}: line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// File or stream name.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// Fields required by the header.
        expected: usize,
        /// Fields present.
        found: usize,
    },
    /// A CSV cell holds a value that cannot be used.
    #[error("{source_name}: line {line}, column `{column}`: {message} (value `{value}`)")]
    BadValue {
        /// File or stream name.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// The column name.
        column: String,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        message: String,
    },
    /// A quoted CSV field is not closed on its line.
    #[error("{source_name}: line {line}: unterminated quoted field")]
    UnterminatedQuote {
        /// File or stream name.
        source_name: String,
        /// 1-based line number.
        line: usize,
    },
    /// The data contain no usable responses (or no rows at all).
    #[error("{source_name}: no responses")]
    Empty {
        /// File or stream name.
        source_name: String,
    },
    /// A split or hint file names a learner or question that is not in the responses.
    #[error("{source_name}: line {line}: unknown {kind} `{id}`")]
    UnknownId {
        /// File or stream name.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// `learner`, `question` or `cell`.
        kind: &'static str,
        /// The unknown id.
        id: String,
    },
    /// A fitting or evaluation option is out of range.
    #[error("invalid option `{name}`: {message}")]
    InvalidOption {
        /// The option name.
        name: &'static str,
        /// Why it is rejected.
        message: String,
    },
    /// Dimensions of inputs do not agree (e.g. hints for a different number of questions).
    #[error("dimension mismatch: {0}")]
    Dimension(String),
}

/// Result alias of the SPARFA module.
pub type Result<T> = std::result::Result<T, SparfaError>;
