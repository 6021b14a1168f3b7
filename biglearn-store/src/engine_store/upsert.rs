//! Multi-row upserts of engine results in fixed-size chunks.
//!
//! A course commit replaces hundreds of result rows. One statement per row
//! cost more (building, binding, stepping) than the rows themselves, and
//! diesel neither caches the `ON CONFLICT … DO UPDATE` it builds nor wraps
//! SQLite batch inserts in one; so these statements are written out: their
//! text depends only on the row count `N` (the chunks of
//! [`crate::fixed_sql::fixed_chunks`]), and their static query ids keep
//! them prepared. The same text runs on SQLite and PostgreSQL.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

use super::conv::{NewClueRow, NewExerciseRow, NewPartRow};

/// Upsert of exactly `N` exercise-result rows.
pub(crate) struct UpsertExercises<'a, const N: usize> {
    pub rows: &'a [NewExerciseRow; N],
}

/// Upsert of exactly `N` course-state parts.
pub(crate) struct UpsertParts<'a, const N: usize> {
    pub rows: &'a [NewPartRow<'a>; N],
}

impl<const N: usize> QueryId for UpsertParts<'_, N> {
    type QueryId = UpsertParts<'static, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const N: usize, Conn> diesel::RunQueryDsl<Conn> for UpsertParts<'_, N> {}

/// Upsert of exactly `N` CLUE-result rows.
pub(crate) struct UpsertClues<'a, const N: usize> {
    pub rows: &'a [NewClueRow; N],
}

impl<const N: usize> QueryId for UpsertExercises<'_, N> {
    type QueryId = UpsertExercises<'static, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const N: usize> QueryId for UpsertClues<'_, N> {
    type QueryId = UpsertClues<'static, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const N: usize, Conn> diesel::RunQueryDsl<Conn> for UpsertExercises<'_, N> {}
impl<const N: usize, Conn> diesel::RunQueryDsl<Conn> for UpsertClues<'_, N> {}

/// Binds `row`'s fields, comma-separated, as the given SQL types.
macro_rules! bind_row {
    ($out:ident, $row:ident; $($sql_type:ty: $field:ident),+ $(,)?) => {{
        let mut first = true;
        $(
            if !first {
                $out.push_sql(", ");
            }
            first = false;
            $out.push_bind_param::<$sql_type, _>(&$row.$field)?;
        )+
        let _ = first;
    }};
}

/// The statement's body for one backend (the bind types are the same).
macro_rules! upsert_fragments {
    ($backend:ty) => {
        impl<const N: usize> QueryFragment<$backend> for UpsertExercises<'_, N> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                use diesel::sql_types::{Binary, Nullable, SmallInt, Text};
                out.push_sql(
                    "INSERT INTO engine_exercise_results (kind, target_uuid, algorithm_name, \
                     request_uuid, calculation_uuid, ecosystem_matrix_uuid, exercise_uuids, \
                     spy_info) VALUES ",
                );
                for (i, row) in self.rows.iter().enumerate() {
                    out.push_sql(if i == 0 { "(" } else { ", (" });
                    bind_row!(out, row; SmallInt: kind, Binary: target_uuid, Text: algorithm_name,
                        Nullable<Binary>: request_uuid, Binary: calculation_uuid,
                        Binary: ecosystem_matrix_uuid, Binary: exercise_uuids, Text: spy_info);
                    out.push_sql(")");
                }
                out.push_sql(EXERCISE_CONFLICT);
                Ok(())
            }
        }

        impl<const N: usize> QueryFragment<$backend> for UpsertClues<'_, N> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                use diesel::sql_types::{Binary, Bool, Double, Nullable, SmallInt, Text};
                out.push_sql(
                    "INSERT INTO engine_clue_results (kind, owner_uuid, book_container_uuid, \
                     algorithm_name, request_uuid, calculation_uuid, ecosystem_matrix_uuid, \
                     minimum, most_likely, maximum, is_real, clue_ecosystem_uuid, spy_info) \
                     VALUES ",
                );
                for (i, row) in self.rows.iter().enumerate() {
                    out.push_sql(if i == 0 { "(" } else { ", (" });
                    bind_row!(out, row; SmallInt: kind, Binary: owner_uuid,
                        Binary: book_container_uuid, Text: algorithm_name,
                        Nullable<Binary>: request_uuid, Binary: calculation_uuid,
                        Nullable<Binary>: ecosystem_matrix_uuid, Double: minimum,
                        Double: most_likely, Double: maximum, Bool: is_real,
                        Nullable<Binary>: clue_ecosystem_uuid, Text: spy_info);
                    out.push_sql(")");
                }
                out.push_sql(CLUE_CONFLICT);
                Ok(())
            }
        }

        impl<const N: usize> QueryFragment<$backend> for UpsertParts<'_, N> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                use diesel::sql_types::{BigInt, Binary, SmallInt, Text};
                out.push_sql(
                    "INSERT INTO engine_course_parts (consumer, course_uuid, part_kind, \
                     part_uuid, format_version, part) VALUES ",
                );
                for (i, row) in self.rows.iter().enumerate() {
                    out.push_sql(if i == 0 { "(" } else { ", (" });
                    bind_row!(out, row; Text: consumer, Binary: course_uuid,
                        SmallInt: part_kind, Binary: part_uuid, BigInt: format_version,
                        Binary: part);
                    out.push_sql(")");
                }
                out.push_sql(PART_CONFLICT);
                Ok(())
            }
        }
    };
}

/// The conflict clause of a course-part upsert (the primary key).
const PART_CONFLICT: &str = " ON CONFLICT (consumer, course_uuid, part_kind, part_uuid) \
    DO UPDATE SET format_version = excluded.format_version, part = excluded.part";

/// The conflict clause of an exercise-result upsert (the primary key).
const EXERCISE_CONFLICT: &str = " ON CONFLICT (kind, target_uuid, algorithm_name) DO UPDATE SET \
    request_uuid = excluded.request_uuid, calculation_uuid = excluded.calculation_uuid, \
    ecosystem_matrix_uuid = excluded.ecosystem_matrix_uuid, \
    exercise_uuids = excluded.exercise_uuids, spy_info = excluded.spy_info";

/// The conflict clause of a CLUE-result upsert (the primary key).
const CLUE_CONFLICT: &str = " ON CONFLICT (kind, owner_uuid, book_container_uuid, algorithm_name) \
    DO UPDATE SET request_uuid = excluded.request_uuid, \
    calculation_uuid = excluded.calculation_uuid, \
    ecosystem_matrix_uuid = excluded.ecosystem_matrix_uuid, minimum = excluded.minimum, \
    most_likely = excluded.most_likely, maximum = excluded.maximum, \
    is_real = excluded.is_real, clue_ecosystem_uuid = excluded.clue_ecosystem_uuid, \
    spy_info = excluded.spy_info";

upsert_fragments!(Sqlite);
upsert_fragments!(Pg);
