//! Fixed-shape SQL pieces, so that diesel's prepared-statement cache hits on
//! the append path.
//!
//! diesel never caches a statement holding `eq_any` (its `IN (…)` list
//! varies in length) or a batch INSERT of a slice. SQLite then re-parses a
//! statement with hundreds of placeholders on every commit, which cost more
//! CPU than the inserts themselves. Here `IN` lists come in three lengths
//! (padded by repeating the last value, which `IN` ignores) and batch inserts
//! run in fixed-size array chunks ([`fixed_chunks!`]), so each statement text
//! is prepared once per connection.

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType};
use diesel::QueryResult;

/// The lengths an `IN` list is padded to, shortest first.
const IN_LENGTHS: [usize; 3] = [16, 64, 256];

/// Splits `values` into `IN` lists of the fixed lengths: full lists of the
/// longest length while more values remain than it holds, then one list of
/// the shortest length that holds the rest, padded with its last value.
pub(crate) fn in_pieces<T: Clone>(values: &[T]) -> Vec<Vec<T>> {
    let longest = IN_LENGTHS[IN_LENGTHS.len() - 1];
    let mut pieces = Vec::with_capacity(values.len() / longest + 1);
    let mut rest = values;
    while !rest.is_empty() {
        let take = rest.len().min(longest);
        let length = IN_LENGTHS
            .iter()
            .copied()
            .find(|length| *length >= take)
            .unwrap_or(longest);
        let mut piece = Vec::with_capacity(length);
        piece.extend_from_slice(&rest[..take]);
        if let Some(last) = piece.last().cloned() {
            piece.resize(length, last);
        }
        pieces.push(piece);
        rest = &rest[take..];
    }
    pieces
}

/// `column IN (?, …)` with one placeholder per value: a boolean expression
/// whose SQL text depends only on the number of values (and therefore is
/// cached, unlike `eq_any`). Build the value lists with [`in_pieces`].
#[derive(Debug, Clone)]
pub(crate) struct InList<C, T> {
    column: C,
    values: Vec<T>,
}

/// `column IN (values…)`; `values` must not be empty.
pub(crate) fn in_list<C, T>(column: C, values: Vec<T>) -> InList<C, T> {
    InList { column, values }
}

impl<C: Expression, T> Expression for InList<C, T> {
    type SqlType = Bool;
}

impl<C, T, DB> QueryFragment<DB> for InList<C, T>
where
    DB: Backend + HasSqlType<C::SqlType>,
    C: Expression + QueryFragment<DB>,
    T: ToSql<C::SqlType, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        for (i, value) in self.values.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<C::SqlType, T>(value)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

impl<C, T> QueryId for InList<C, T> {
    type QueryId = ();
    // Cached by SQL text, which is fixed per list length.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, T, QS> AppearsOnTable<QS> for InList<C, T>
where
    C: AppearsOnTable<QS>,
    InList<C, T>: Expression,
{
}

impl<C, T> ValidGrouping<()> for InList<C, T> {
    type IsAggregate = is_aggregate::Never;
}

/// Runs `$body` with `$chunk` bound to consecutive fixed-size array
/// references (`&[T; 64]`, `&[T; 16]`, `&[T; 4]`, `&[T; 1]`, greedily)
/// covering the slice `$rows`: diesel caches a batch INSERT of an array (its
/// length is part of the type) but not of a slice. `$body` may use `?`.
macro_rules! fixed_chunks {
    ($rows:expr, |$chunk:ident| $body:expr) => {{
        let mut rest = &$rows[..];
        while !rest.is_empty() {
            if let Some(($chunk, tail)) = rest.split_first_chunk::<64>() {
                $body;
                rest = tail;
            } else if let Some(($chunk, tail)) = rest.split_first_chunk::<16>() {
                $body;
                rest = tail;
            } else if let Some(($chunk, tail)) = rest.split_first_chunk::<4>() {
                $body;
                rest = tail;
            } else if let Some(($chunk, tail)) = rest.split_first_chunk::<1>() {
                $body;
                rest = tail;
            }
        }
    }};
}
pub(crate) use fixed_chunks;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_have_fixed_lengths_and_keep_every_value() {
        for n in [1usize, 15, 16, 17, 64, 65, 255, 256, 257, 700] {
            let values: Vec<usize> = (0..n).collect();
            let pieces = in_pieces(&values);
            for piece in &pieces {
                assert!(IN_LENGTHS.contains(&piece.len()), "n={n}: {}", piece.len());
            }
            let mut seen: Vec<usize> = pieces.concat();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen, values, "n={n}");
        }
        assert!(in_pieces::<u8>(&[]).is_empty());
    }

    /// The chunks `fixed_chunks!` hands out for `rows`, and their sizes.
    fn chunks_of(rows: &[usize]) -> Result<(Vec<usize>, Vec<usize>), String> {
        let (mut seen, mut sizes) = (Vec::new(), Vec::new());
        fixed_chunks!(rows, |chunk| {
            sizes.push(chunk.len());
            seen.extend_from_slice(chunk);
            Ok::<(), String>(())?
        });
        Ok((seen, sizes))
    }

    #[test]
    fn fixed_chunks_cover_the_rows_in_order() {
        for n in [0usize, 1, 3, 4, 5, 63, 64, 85, 200] {
            let rows: Vec<usize> = (0..n).collect();
            let (seen, sizes) = chunks_of(&rows).expect("no error");
            assert_eq!(seen, rows, "n={n}");
            assert!(
                sizes.iter().all(|s| [64, 16, 4, 1].contains(s)),
                "{sizes:?}"
            );
            if n == 85 {
                assert_eq!(sizes, vec![64, 16, 4, 1]);
            }
        }
    }
}
