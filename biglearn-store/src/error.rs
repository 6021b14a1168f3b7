//! Mapping of diesel and r2d2 failures to the core [`StoreError`], with the
//! backend and the operation that failed.

use biglearn_core::log::StoreError;

/// A failure inside a transaction closure: diesel's own, or a conversion of
/// stored data that found it corrupt. diesel's transaction helpers need
/// `From<diesel::result::Error>`, which [`StoreError`] cannot provide without
/// losing the operation name.
#[derive(Debug)]
pub(crate) enum TxError {
    /// A statement failed.
    Db(diesel::result::Error),
    /// Stored data could not be converted.
    Store(StoreError),
}

impl From<diesel::result::Error> for TxError {
    fn from(error: diesel::result::Error) -> Self {
        TxError::Db(error)
    }
}

impl From<StoreError> for TxError {
    fn from(error: StoreError) -> Self {
        TxError::Store(error)
    }
}

impl TxError {
    /// The store error, naming the backend and operation for database errors.
    pub(crate) fn into_store(self, backend: &'static str, operation: &'static str) -> StoreError {
        match self {
            TxError::Db(error) => db_error(backend, operation, error),
            TxError::Store(error) => error,
        }
    }

    /// Whether retrying the transaction may succeed: a concurrent writer
    /// committed a conflicting row (unique violation) or the database chose
    /// this transaction as a deadlock or serialization victim. After a retry
    /// the conflicting row is visible, so the pure rules report the conflict
    /// as an `AppendRejection` instead of a backend error.
    pub(crate) fn is_retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            TxError::Db(Error::DatabaseError(kind, info)) => match kind {
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::SerializationFailure => {
                    true
                }
                _ => info.message().contains("deadlock detected"),
            },
            _ => false,
        }
    }
}

/// A database error as a [`StoreError::Backend`].
pub(crate) fn db_error(
    backend: &'static str,
    operation: &'static str,
    error: diesel::result::Error,
) -> StoreError {
    StoreError::Backend {
        backend,
        operation,
        message: error.to_string(),
    }
}

/// A connection-pool error as a [`StoreError::Backend`].
pub(crate) fn pool_error(backend: &'static str, error: r2d2::Error) -> StoreError {
    StoreError::Backend {
        backend,
        operation: "taking a pooled connection",
        message: error.to_string(),
    }
}

/// How often a transaction that hit a retryable conflict is tried again.
const MAX_ATTEMPTS: usize = 5;

/// Runs `attempt` until it succeeds, fails for good, or [`MAX_ATTEMPTS`]
/// retryable failures (see [`TxError::is_retryable`]) happened in a row.
pub(crate) fn retrying<T>(mut attempt: impl FnMut() -> Result<T, TxError>) -> Result<T, TxError> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(error) if error.is_retryable() && tries < MAX_ATTEMPTS => tries += 1,
            other => return other,
        }
    }
}
