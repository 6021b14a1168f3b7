//! Options of the two backends and the parsing of `open`'s target string.

use std::time::Duration;

use biglearn_core::log::StoreError;

/// SQLite's `PRAGMA synchronous` level. In WAL mode `Full` syncs the log on
/// every commit, so an acknowledged append survives power loss; `Normal`
/// survives a crash of the process but may lose the last commits on power
/// loss; `Extra` additionally syncs the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `NORMAL` (1).
    Normal,
    /// `FULL` (2), the default.
    #[default]
    Full,
    /// `EXTRA` (3).
    Extra,
}

impl Synchronous {
    /// The pragma's keyword.
    pub fn as_sql(&self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }

    /// From the number `PRAGMA synchronous` reads back (`0` OFF is not a
    /// level this crate sets, so it is `None`).
    pub fn from_pragma_value(value: i64) -> Option<Synchronous> {
        match value {
            1 => Some(Synchronous::Normal),
            2 => Some(Synchronous::Full),
            3 => Some(Synchronous::Extra),
            _ => None,
        }
    }
}

/// How to open a SQLite database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of commits (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long a connection waits for a lock held by another connection or
    /// process before failing (default 5 s).
    pub busy_timeout: Duration,
    /// Size of the pool of read-only connections (default 4). With 0, and
    /// always for in-memory databases, reads share the writer connection.
    pub readers: u32,
    /// Page cache per connection, in KiB (default 32 MiB).
    pub cache_size_kib: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            cache_size_kib: 32 * 1024,
        }
    }
}

/// How to open a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Most pooled connections (default 8, at least 1).
    pub max_connections: u32,
    /// How long to wait for a pooled connection (default 10 s).
    pub connection_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 8,
            connection_timeout: Duration::from_secs(10),
        }
    }
}

/// What `SqlStore::open` was asked to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
    /// A SQLite path (a `sqlite://` prefix removed), or `:memory:`.
    Sqlite(String),
}

/// Classifies `open`'s argument: PostgreSQL URLs by scheme, everything else
/// is a SQLite path (`sqlite://` and `sqlite:` prefixes are removed).
pub(crate) fn parse_target(target: &str) -> Result<Target, StoreError> {
    let trimmed = target.trim();
    if trimmed.is_empty() {
        return Err(StoreError::Config(
            "empty database location: give a SQLite path, ':memory:' or a postgres:// URL".into(),
        ));
    }
    if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        return Ok(Target::Postgres(trimmed.to_owned()));
    }
    let path = trimmed
        .strip_prefix("sqlite://")
        .or_else(|| trimmed.strip_prefix("sqlite:"))
        .unwrap_or(trimmed);
    if path.is_empty() {
        return Err(StoreError::Config(format!(
            "database location {target:?} names no SQLite file"
        )));
    }
    if let Some((scheme, _)) = path.split_once("://") {
        return Err(StoreError::Config(format!(
            "database location {target:?} has unsupported scheme {scheme:?}: use postgres://, postgresql://, sqlite:// or a file path"
        )));
    }
    Ok(Target::Sqlite(path.to_owned()))
}

/// A PostgreSQL URL with its password replaced by `***`, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_classified_by_scheme() {
        assert_eq!(
            parse_target("postgres://u@h/db"),
            Ok(Target::Postgres("postgres://u@h/db".into()))
        );
        assert_eq!(
            parse_target("sqlite://data/x.db"),
            Ok(Target::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            parse_target(":memory:"),
            Ok(Target::Sqlite(":memory:".into()))
        );
        assert!(matches!(parse_target("  "), Err(StoreError::Config(_))));
        assert!(matches!(
            parse_target("mysql://h/db"),
            Err(StoreError::Config(_))
        ));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
