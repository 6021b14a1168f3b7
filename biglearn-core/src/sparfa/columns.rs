//! Response data given as columns (one entry per response row) rather than
//! as CSV text: what a data-frame library hands over. Ids arrive factorized
//! (distinct ids in first-seen order plus one code per row), so building a
//! [`ResponseSet`] from millions of rows never touches a string per row.
//!
//! Also the row-level views of the held-out split and of k-fold cross
//! validation, so a caller can cut its own table exactly as
//! [`split_cells`] cuts the cells.

use super::data::{Cell, ResponseSet};
use super::error::{Result, SparfaError};
use super::eval::{cell_hash, split_cells, Split};

/// A response set built from columns, and what was dropped.
#[derive(Debug, Clone)]
pub struct ColumnResponses {
    /// The responses: ids in the given order, the first row per (learner,
    /// question) kept, as [`ResponseSet::from_records`] does.
    pub set: ResponseSet,
    /// Rows dropped because an earlier row had the same (learner, question).
    pub duplicates: usize,
}

/// Builds a [`ResponseSet`] from factorized columns: row `r` is learner
/// `learner_ids[learner_codes[r]]` answering question
/// `question_ids[question_codes[r]]`, `correct[r]`. Rows are chronological;
/// the first row per (learner, question) wins. With ids in first-seen order
/// the result equals [`ResponseSet::from_records`] of the same rows.
pub fn from_codes(
    learner_ids: Vec<String>,
    question_ids: Vec<String>,
    learner_codes: &[u32],
    question_codes: &[u32],
    correct: &[bool],
) -> Result<ColumnResponses> {
    let rows = learner_codes.len();
    if question_codes.len() != rows || correct.len() != rows {
        return Err(SparfaError::Dimension(format!(
            "columns differ in length: {rows} learner codes, {} question codes, {} correct values",
            question_codes.len(),
            correct.len()
        )));
    }
    if rows == 0 {
        return Err(SparfaError::Empty {
            source_name: "columns".to_owned(),
        });
    }
    let (nl, nq) = (learner_ids.len(), question_ids.len());
    let mut cells = Vec::with_capacity(rows);
    for (row, ((&l, &q), &c)) in learner_codes
        .iter()
        .zip(question_codes)
        .zip(correct)
        .enumerate()
    {
        if l as usize >= nl || q as usize >= nq {
            return Err(SparfaError::Dimension(format!(
                "row {row}: learner code {l} or question code {q} outside {nl} learners × {nq} questions"
            )));
        }
        cells.push((
            Cell {
                learner: l,
                question: q,
                correct: c,
            },
            row,
        ));
    }
    // Stable by (learner, question, row): the first row of a pair comes first.
    cells.sort_unstable_by_key(|(c, row)| (c.learner, c.question, *row));
    let before = cells.len();
    cells.dedup_by_key(|(c, _)| (c.learner, c.question));
    let duplicates = before - cells.len();
    let set = ResponseSet::from_dense(
        learner_ids,
        question_ids,
        cells.into_iter().map(|(c, _)| c).collect(),
    )?;
    Ok(ColumnResponses { set, duplicates })
}

/// Per row: whether [`split_cells`] (`fraction`, `seed`) holds the row's
/// cell out. A row whose (learner, question) repeats an earlier row is never
/// held out (its response is not the one the set kept).
pub fn heldout_rows(
    set: &ResponseSet,
    learner_codes: &[u32],
    question_codes: &[u32],
    fraction: f64,
    seed: u64,
) -> Result<Vec<bool>> {
    let split = split_cells(set, set.cells(), fraction, seed)?;
    let held = cell_flags(set, &split);
    Ok(row_flags(set, learner_codes, question_codes, |cell| {
        held[cell]
    }))
}

/// Per row: its fold in `folds`-fold cross validation with `seed`, or
/// `None` for a repeated (learner, question) row. Cells are ordered by
/// [`cell_hash`] (the order [`split_cells`] holds out by) and dealt into
/// `folds` contiguous blocks, so fold sizes differ by at most one.
pub fn fold_rows(
    set: &ResponseSet,
    learner_codes: &[u32],
    question_codes: &[u32],
    folds: usize,
    seed: u64,
) -> Result<Vec<Option<usize>>> {
    if folds < 2 || folds > set.cells().len() {
        return Err(SparfaError::InvalidOption {
            name: "folds",
            message: format!(
                "{folds} folds: need at least 2 and at most the {} distinct responses",
                set.cells().len()
            ),
        });
    }
    let mut keyed: Vec<(u64, usize)> = set
        .cells()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let l = set.learner_ids()[c.learner as usize].as_str();
            let q = set.question_ids()[c.question as usize].as_str();
            (cell_hash(seed, l, q), i)
        })
        .collect();
    keyed.sort_unstable();
    let n = keyed.len();
    let mut fold_of_cell = vec![0usize; n];
    for (rank, (_, cell)) in keyed.iter().enumerate() {
        fold_of_cell[*cell] = rank * folds / n;
    }
    let index = CellIndex::new(set);
    let mut first_seen = vec![false; n];
    let mut out = Vec::with_capacity(learner_codes.len());
    for (&l, &q) in learner_codes.iter().zip(question_codes) {
        out.push(match index.position(l, q) {
            Some(cell) if !first_seen[cell] => {
                first_seen[cell] = true;
                Some(fold_of_cell[cell])
            }
            _ => None,
        });
    }
    Ok(out)
}

/// Cell positions by (learner, question), found within the learner's own
/// cells: a set's cells are sorted by learner, so each learner's cells are
/// one run, and millions of row lookups search a few hundred cells each
/// rather than the whole set (the binary search of
/// [`ResponseSet::cell_position`] over millions of cells misses the cache
/// on most steps).
struct CellIndex<'a> {
    cells: &'a [Cell],
    /// `starts[l]..starts[l + 1]` are learner `l`'s cells.
    starts: Vec<usize>,
}

impl<'a> CellIndex<'a> {
    fn new(set: &'a ResponseSet) -> Self {
        let cells = set.cells();
        let mut starts = vec![0usize; set.num_learners() + 1];
        for c in cells {
            if let Some(s) = starts.get_mut(c.learner as usize + 1) {
                *s += 1;
            }
        }
        for l in 1..starts.len() {
            starts[l] += starts[l - 1];
        }
        CellIndex { cells, starts }
    }

    fn position(&self, learner: u32, question: u32) -> Option<usize> {
        let l = learner as usize;
        let (start, end) = (*self.starts.get(l)?, *self.starts.get(l + 1)?);
        self.cells[start..end]
            .binary_search_by_key(&question, |c| c.question)
            .ok()
            .map(|i| start + i)
    }
}

fn cell_flags(set: &ResponseSet, split: &Split) -> Vec<bool> {
    let index = CellIndex::new(set);
    let mut flags = vec![false; set.cells().len()];
    for c in &split.heldout {
        if let Some(position) = index.position(c.learner, c.question) {
            flags[position] = true;
        }
    }
    flags
}

/// Applies a per-cell flag to the rows; later rows of a repeated pair get
/// `false`.
fn row_flags(
    set: &ResponseSet,
    learner_codes: &[u32],
    question_codes: &[u32],
    flag: impl Fn(usize) -> bool,
) -> Vec<bool> {
    let index = CellIndex::new(set);
    let mut first_seen = vec![false; set.cells().len()];
    learner_codes
        .iter()
        .zip(question_codes)
        .map(|(&l, &q)| match index.position(l, q) {
            Some(cell) if !first_seen[cell] => {
                first_seen[cell] = true;
                flag(cell)
            }
            _ => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn codes_equal_records_and_first_row_wins() {
        let rows = [
            ("b", "x", true),
            ("a", "y", false),
            ("b", "x", false),
            ("a", "x", true),
        ];
        let by_records = ResponseSet::from_records(rows.iter().copied());
        let built = from_codes(
            vec!["b".into(), "a".into()],
            vec!["x".into(), "y".into()],
            &[0, 1, 0, 1],
            &[0, 1, 0, 0],
            &[true, false, false, true],
        );
        let built = match built {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(built.duplicates, 1);
        assert_eq!(built.set.cells(), by_records.cells());
        assert_eq!(built.set.learner_ids(), by_records.learner_ids());
    }

    #[test]
    fn bad_columns_are_named() {
        let short = from_codes(ids("l", 1), ids("q", 1), &[0, 0], &[0], &[true, true]);
        assert!(matches!(short, Err(SparfaError::Dimension(m)) if m.contains("differ in length")));
        let outside = from_codes(ids("l", 1), ids("q", 1), &[0, 3], &[0, 0], &[true, false]);
        assert!(matches!(outside, Err(SparfaError::Dimension(m)) if m.starts_with("row 1")));
        let empty = from_codes(ids("l", 1), ids("q", 1), &[], &[], &[]);
        assert!(matches!(empty, Err(SparfaError::Empty { .. })));
    }

    fn grid() -> (ResponseSet, Vec<u32>, Vec<u32>) {
        let (mut l, mut q, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for learner in 0..20u32 {
            for question in 0..10u32 {
                l.push(learner);
                q.push(question);
                c.push((learner + question) % 3 == 0);
            }
        }
        // A repeated row at the end.
        l.push(0);
        q.push(0);
        c.push(false);
        match from_codes(ids("l", 20), ids("q", 10), &l, &q, &c) {
            Ok(b) => (b.set, l, q),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn cell_index_agrees_with_cell_position() {
        let (set, _, _) = grid();
        let index = CellIndex::new(&set);
        for l in 0..=set.num_learners() as u32 {
            for q in 0..=set.num_questions() as u32 {
                assert_eq!(index.position(l, q), set.cell_position(l, q), "({l}, {q})");
            }
        }
    }

    #[test]
    fn heldout_rows_match_split_cells() {
        let (set, l, q) = grid();
        let rows = match heldout_rows(&set, &l, &q, 0.2, 4) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let split = match split_cells(&set, set.cells(), 0.2, 4) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(rows.iter().filter(|h| **h).count(), split.heldout.len());
        for c in &split.heldout {
            let row = (c.learner * 10 + c.question) as usize;
            assert!(rows[row]);
        }
        assert!(!rows[200], "a repeated row is never held out");
        assert!(heldout_rows(&set, &l, &q, 1.5, 4).is_err());
    }

    #[test]
    fn folds_partition_the_cells_evenly() {
        let (set, l, q) = grid();
        let folds = match fold_rows(&set, &l, &q, 3, 9) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let mut sizes = [0usize; 3];
        for f in folds.iter().take(200) {
            match f {
                Some(f) => sizes[*f] += 1,
                None => panic!("a first row without a fold"),
            }
        }
        assert_eq!(folds[200], None);
        assert!(sizes.iter().all(|s| (66..=67).contains(s)), "{sizes:?}");
        assert!(matches!(
            fold_rows(&set, &l, &q, 1, 9),
            Err(SparfaError::InvalidOption { name: "folds", .. })
        ));
    }
}
