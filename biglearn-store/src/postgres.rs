//! The PostgreSQL backend: an r2d2 pool shared by readers and writers, for
//! several processes on one database (O1).
//!
//! Appends run in READ COMMITTED transactions that first take
//! transaction-scoped advisory locks: one per stream the group names (so two
//! processes appending to one stream compute its head from each other's
//! committed rows) and, when the group holds create events, one per stream
//! kind (so metadata numbers are assigned in commit order, gap-free, A5).
//! Locks are taken in one global order (streams by key, then kinds), so
//! appends cannot deadlock on them. Each statement after the locks sees every
//! commit that preceded it. An event uuid reused concurrently in a different
//! stream surfaces as a unique violation; the transaction is then retried and
//! the pure rules report the conflict as an `AppendRejection`.
//!
//! Reads run in REPEATABLE READ, READ ONLY transactions: one snapshot each.

use std::collections::BTreeSet;

use biglearn_core::log::{
    plan_append, AppendReceipt, AppendRejection, AppendRequest, StoreError, StreamId,
};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::sql_types::{Array, BigInt, Integer};
use diesel::{Connection, PgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::backend_methods::shared_backend_methods;
use crate::config::{redact_url, PgOptions};
use crate::error::{pool_error, retrying, TxError};
use crate::rows::kind_code;

/// The shared queries, compiled for PostgreSQL.
mod queries {
    /// The connection type the shared queries run on.
    type Conn = diesel::PgConnection;
    /// Backend name in errors.
    const BACKEND: &str = "postgres";
    include!("queries/log.rs");
    include!("queries/positions_pg.rs");

    /// The bundle and watermark queries.
    pub(crate) mod bundles {
        include!("queries/bundles.rs");
    }
}

/// Backend name in errors.
const BACKEND: &str = "postgres";

/// The PostgreSQL schema migrations, embedded in the binary.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// First key of this crate's two-key advisory locks ("bgln"); the second is
/// the stream kind code (metadata numbering) or [`MIGRATION_LOCK`].
const LOCK_NAMESPACE: i32 = 0x6267_6c6e;
/// Second key of the lock held while migrating.
const MIGRATION_LOCK: i32 = 1_000;

/// The single-key advisory lock of one stream: its uuid's first 8 bytes
/// mixed with its kind. Two streams sharing a key only serialise more.
fn stream_lock_key(stream: StreamId) -> i64 {
    let uuid = stream.uuid();
    let mut first = [0u8; 8];
    first.copy_from_slice(&uuid.as_bytes()[..8]);
    i64::from_be_bytes(first) ^ i64::from(kind_code(stream.kind()))
}

/// Takes the advisory locks an append of `group` needs, in the global order.
fn lock_for_append(conn: &mut PgConnection, group: &[AppendRequest]) -> Result<(), TxError> {
    let keys: BTreeSet<i64> = group
        .iter()
        .flat_map(|request| request.events.iter())
        .map(|event| stream_lock_key(event.stream))
        .collect();
    let keys: Vec<i64> = keys.into_iter().collect();
    // `unnest` yields the (sorted) array in order, so locks are taken in it.
    diesel::sql_query("SELECT pg_advisory_xact_lock(k) FROM unnest($1) AS t(k)")
        .bind::<Array<BigInt>, _>(&keys)
        .execute(conn)?;
    for kind in queries::create_kinds(group) {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<Integer, _>(LOCK_NAMESPACE)
            .bind::<Integer, _>(i32::from(kind_code(kind)))
            .execute(conn)?;
    }
    Ok(())
}

/// The PostgreSQL store.
pub(crate) struct PgBackend {
    url: String,
    pool: Pool<ConnectionManager<PgConnection>>,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.pool.max_size())
            .finish()
    }
}

impl PgBackend {
    /// Connects to `url`. One connection is made up front so that a wrong
    /// URL, host or database fails here with a clear message.
    pub(crate) fn open(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        if options.max_connections == 0 {
            return Err(StoreError::Config(
                "PostgreSQL max_connections must be at least 1".into(),
            ));
        }
        let shown = redact_url(url);
        PgConnection::establish(url).map_err(|e| {
            StoreError::Config(format!("cannot connect to PostgreSQL at {shown}: {e}"))
        })?;
        let pool = Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(0))
            .connection_timeout(options.connection_timeout)
            .build(ConnectionManager::<PgConnection>::new(url))
            .map_err(|e| {
                StoreError::Config(format!("cannot open a PostgreSQL pool for {shown}: {e}"))
            })?;
        Ok(PgBackend {
            url: url.to_owned(),
            pool,
        })
    }

    fn conn(&self) -> Result<PooledConnection<ConnectionManager<PgConnection>>, StoreError> {
        self.pool.get().map_err(|e| pool_error(BACKEND, e))
    }

    /// Runs `read` in one REPEATABLE READ, READ ONLY transaction.
    pub(crate) fn read<T>(
        &self,
        operation: &'static str,
        read: impl Fn(&mut PgConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        conn.build_transaction()
            .repeatable_read()
            .read_only()
            .run(|c| read(c))
            .map_err(|e: TxError| e.into_store(BACKEND, operation))
    }

    /// Runs `write` in one READ COMMITTED transaction, retrying conflicts.
    pub(crate) fn write<T>(
        &self,
        operation: &'static str,
        write: impl Fn(&mut PgConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        retrying(|| conn.transaction(|c| write(c))).map_err(|e| e.into_store(BACKEND, operation))
    }

    /// Runs `write` like [`PgBackend::write`] but commits without waiting
    /// for the WAL flush (`SET LOCAL synchronous_commit = off`): for derived
    /// data (the engine's progress) that the event log can rebuild. A crash
    /// may lose the last such commits, never reorder them: any later
    /// synchronous commit flushes them too, so the watermark never runs
    /// ahead of its results.
    pub(crate) fn write_derived<T>(
        &self,
        operation: &'static str,
        write: impl Fn(&mut PgConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        retrying(|| {
            conn.transaction(|c| {
                diesel::connection::SimpleConnection::batch_execute(
                    &mut **c,
                    "SET LOCAL synchronous_commit TO OFF",
                )?;
                write(c)
            })
        })
        .map_err(|e| e.into_store(BACKEND, operation))
    }

    /// Applies the pending embedded migrations, holding a session advisory
    /// lock so that processes starting together migrate one at a time.
    pub(crate) fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let lock_err = |e: diesel::result::Error| {
            TxError::from(e).into_store(BACKEND, "locking for migrations")
        };
        diesel::sql_query("SELECT pg_advisory_lock($1, $2)")
            .bind::<Integer, _>(LOCK_NAMESPACE)
            .bind::<Integer, _>(MIGRATION_LOCK)
            .execute(&mut conn)
            .map_err(lock_err)?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|_| ())
            .map_err(|e| StoreError::Backend {
                backend: BACKEND,
                operation: "running migrations",
                message: e.to_string(),
            });
        let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1, $2)")
            .bind::<Integer, _>(LOCK_NAMESPACE)
            .bind::<Integer, _>(MIGRATION_LOCK)
            .execute(&mut conn)
            .map_err(lock_err);
        result.and(unlocked.map(|_| ()))
    }

    pub(crate) fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        if group.is_empty() {
            return Ok(Vec::new());
        }
        self.write("appending events", |conn| {
            lock_for_append(conn, group)?;
            let snapshot = queries::load_snapshot(conn, group)?;
            let plan = plan_append(group, &snapshot);
            queries::write_plan(conn, &plan)?;
            Ok(plan.outcomes)
        })
    }

    shared_backend_methods!();
}
