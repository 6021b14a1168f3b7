//! Response data for fitting: id maps, the first-response gradebook (§3.3), hints and
//! the learner- and question-major adjacency the fitter works on.

use std::collections::HashMap;

use super::csvtext;
use super::error::{Result, SparfaError};
use super::model::{ConceptIndex, QuestionIndex};

/// Dense index of a learner inside one [`ResponseSet`].
pub type LearnerIndex = u32;

/// One observed gradebook cell: a learner's (first) response to a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    /// Dense learner index.
    pub learner: LearnerIndex,
    /// Dense question index.
    pub question: QuestionIndex,
    /// Whether the response was correct.
    pub correct: bool,
}

/// A compact set of responses with id → dense index maps.
///
/// Only the **first** response per (learner, question) is kept, as §3.3 prescribes for
/// fitting; later ones are counted in [`ResponseSet::duplicates`]. Dense indices follow
/// the order of first appearance. Cells are sorted by (learner, question).
#[derive(Debug, Clone, Default)]
pub struct ResponseSet {
    learner_ids: Vec<String>,
    question_ids: Vec<String>,
    learner_index: HashMap<String, LearnerIndex>,
    question_index: HashMap<String, QuestionIndex>,
    cells: Vec<Cell>,
    duplicates: usize,
}

fn intern(ids: &mut Vec<String>, index: &mut HashMap<String, u32>, id: &str) -> u32 {
    if let Some(&i) = index.get(id) {
        return i;
    }
    let i = ids.len() as u32;
    ids.push(id.to_string());
    index.insert(id.to_string(), i);
    i
}

impl ResponseSet {
    /// Builds a set from `(learner id, question id, correct)` records in chronological
    /// order; the first record per (learner, question) wins.
    pub fn from_records<'a, I>(records: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str, bool)>,
    {
        let mut set = ResponseSet::default();
        let mut seen: HashMap<(u32, u32), ()> = HashMap::new();
        for (learner, question, correct) in records {
            let l = intern(&mut set.learner_ids, &mut set.learner_index, learner);
            let q = intern(&mut set.question_ids, &mut set.question_index, question);
            if seen.insert((l, q), ()).is_some() {
                set.duplicates += 1;
                continue;
            }
            set.cells.push(Cell {
                learner: l,
                question: q,
                correct,
            });
        }
        set.cells.sort_by_key(|c| (c.learner, c.question));
        set
    }

    /// Builds a set directly from ids and cells (each (learner, question) at most once;
    /// indices must be in range). Used by the synthetic generator.
    pub fn from_dense(
        learner_ids: Vec<String>,
        question_ids: Vec<String>,
        mut cells: Vec<Cell>,
    ) -> Result<Self> {
        let (nl, nq) = (learner_ids.len(), question_ids.len());
        cells.sort_by_key(|c| (c.learner, c.question));
        if cells
            .windows(2)
            .any(|w| (w[0].learner, w[0].question) == (w[1].learner, w[1].question))
        {
            return Err(SparfaError::Dimension("a cell occurs twice".into()));
        }
        if let Some(c) = cells
            .iter()
            .find(|c| c.learner as usize >= nl || c.question as usize >= nq)
        {
            return Err(SparfaError::Dimension(format!(
                "cell (learner {}, question {}) outside {nl} learners × {nq} questions",
                c.learner, c.question
            )));
        }
        let learner_index = learner_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        let question_index = question_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        Ok(ResponseSet {
            learner_ids,
            question_ids,
            learner_index,
            question_index,
            cells,
            duplicates: 0,
        })
    }

    /// Parses a long CSV with header `learner,question,correct` (0/1, also `true`/`false`).
    /// Rows are taken as chronological. Errors name `source_name`, the line and column.
    pub fn from_csv(text: &str, source_name: &str) -> Result<Self> {
        let records = csvtext::records(text, source_name)?;
        let Some((header, rows)) = records.split_first() else {
            return Err(SparfaError::Empty {
                source_name: source_name.to_string(),
            });
        };
        let pos =
            csvtext::header_positions(header, &["learner", "question", "correct"], source_name)?;
        let width = header.fields.len();
        let mut parsed = Vec::with_capacity(rows.len());
        for row in rows {
            csvtext::check_width(row, width, source_name)?;
            for (col, name) in [(pos[0], "learner"), (pos[1], "question")] {
                if row.fields[col].is_empty() {
                    return Err(bad_value(source_name, row.line, name, "", "empty id"));
                }
            }
            let raw = &row.fields[pos[2]];
            let correct = parse_bool(raw).ok_or_else(|| {
                bad_value(source_name, row.line, "correct", raw, "expected 0 or 1")
            })?;
            parsed.push((
                row.fields[pos[0]].as_str(),
                row.fields[pos[1]].as_str(),
                correct,
            ));
        }
        if parsed.is_empty() {
            return Err(SparfaError::Empty {
                source_name: source_name.to_string(),
            });
        }
        Ok(Self::from_records(parsed))
    }

    /// Learner ids by dense index.
    pub fn learner_ids(&self) -> &[String] {
        &self.learner_ids
    }

    /// Question ids by dense index.
    pub fn question_ids(&self) -> &[String] {
        &self.question_ids
    }

    /// Dense index of a learner id.
    pub fn learner(&self, id: &str) -> Option<LearnerIndex> {
        self.learner_index.get(id).copied()
    }

    /// Dense index of a question id.
    pub fn question(&self, id: &str) -> Option<QuestionIndex> {
        self.question_index.get(id).copied()
    }

    /// All kept cells, sorted by (learner, question).
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Number of responses dropped because an earlier one for the same cell existed.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// Number of learners.
    pub fn num_learners(&self) -> usize {
        self.learner_ids.len()
    }

    /// Number of questions.
    pub fn num_questions(&self) -> usize {
        self.question_ids.len()
    }

    /// Position of the cell (learner, question) in [`ResponseSet::cells`], if observed.
    pub fn cell_position(&self, learner: LearnerIndex, question: QuestionIndex) -> Option<usize> {
        self.cells
            .binary_search_by_key(&(learner, question), |c| (c.learner, c.question))
            .ok()
    }
}

pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw {
        "1" | "1.0" | "true" | "TRUE" | "True" => Some(true),
        "0" | "0.0" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

pub(crate) fn bad_value(
    source: &str,
    line: usize,
    column: &str,
    value: &str,
    message: &str,
) -> SparfaError {
    SparfaError::BadValue {
        source_name: source.to_string(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        message: message.to_string(),
    }
}

/// The hint mask H by question: which concepts each question is tagged with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hints {
    concept_ids: Vec<String>,
    by_question: Vec<Vec<ConceptIndex>>,
}

impl Hints {
    /// Builds hints from concept ids and a per-question list of concept indices.
    pub fn new(concept_ids: Vec<String>, mut by_question: Vec<Vec<ConceptIndex>>) -> Result<Self> {
        for (q, list) in by_question.iter_mut().enumerate() {
            list.sort_unstable();
            list.dedup();
            if let Some(&k) = list.last() {
                if k as usize >= concept_ids.len() {
                    return Err(SparfaError::Dimension(format!(
                        "question {q} is hinted with concept {k} but there are {} concepts",
                        concept_ids.len()
                    )));
                }
            }
        }
        Ok(Hints {
            concept_ids,
            by_question,
        })
    }

    /// Every question hinted with one shared concept named `name` (the 2PL structure).
    pub fn single_concept(num_questions: usize, name: &str) -> Self {
        Hints {
            concept_ids: vec![name.to_string()],
            by_question: vec![vec![0]; num_questions],
        }
    }

    /// No concepts at all (the per-question rate model).
    pub fn no_concepts(num_questions: usize) -> Self {
        Hints {
            concept_ids: Vec::new(),
            by_question: vec![Vec::new(); num_questions],
        }
    }

    /// Parses a CSV with header `question,concept`, one row per hint, for the questions of
    /// `responses`. Hints for questions without responses are ignored (they cannot be
    /// fitted); concepts are numbered in order of first appearance.
    pub fn from_csv(text: &str, source_name: &str, responses: &ResponseSet) -> Result<Self> {
        let records = csvtext::records(text, source_name)?;
        let Some((header, rows)) = records.split_first() else {
            return Err(SparfaError::Empty {
                source_name: source_name.to_string(),
            });
        };
        let pos = csvtext::header_positions(header, &["question", "concept"], source_name)?;
        let width = header.fields.len();
        let mut concept_ids = Vec::new();
        let mut concept_index = HashMap::new();
        let mut by_question = vec![Vec::new(); responses.num_questions()];
        for row in rows {
            csvtext::check_width(row, width, source_name)?;
            let question = &row.fields[pos[0]];
            let concept = &row.fields[pos[1]];
            if concept.is_empty() {
                return Err(bad_value(source_name, row.line, "concept", "", "empty id"));
            }
            let k = intern(&mut concept_ids, &mut concept_index, concept);
            if let Some(q) = responses.question(question) {
                by_question[q as usize].push(k);
            }
        }
        Hints::new(concept_ids, by_question)
    }

    /// Concept ids by dense index.
    pub fn concept_ids(&self) -> &[String] {
        &self.concept_ids
    }

    /// Hinted concepts of each question (sorted).
    pub fn by_question(&self) -> &[Vec<ConceptIndex>] {
        &self.by_question
    }

    /// Number of concepts.
    pub fn num_concepts(&self) -> usize {
        self.concept_ids.len()
    }
}

/// Compressed rows: for row `i`, entries `offsets[i]..offsets[i + 1]` of `index`/`correct`.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    /// Row starts (length rows + 1).
    pub offsets: Vec<usize>,
    /// Column index of each entry.
    pub index: Vec<u32>,
    /// Response of each entry.
    pub correct: Vec<bool>,
}

impl Csr {
    fn build(rows: usize, entries: impl Iterator<Item = (u32, u32, bool)> + Clone) -> Csr {
        let mut offsets = vec![0usize; rows + 1];
        for (r, _, _) in entries.clone() {
            offsets[r as usize + 1] += 1;
        }
        for i in 0..rows {
            offsets[i + 1] += offsets[i];
        }
        let n = offsets[rows];
        let mut next = offsets.clone();
        let mut index = vec![0u32; n];
        let mut correct = vec![false; n];
        for (r, c, y) in entries {
            let at = next[r as usize];
            index[at] = c;
            correct[at] = y;
            next[r as usize] += 1;
        }
        // Sort each row by column so that sums run in a canonical order.
        for r in 0..rows {
            let (a, b) = (offsets[r], offsets[r + 1]);
            let mut row: Vec<(u32, bool)> = (a..b).map(|i| (index[i], correct[i])).collect();
            row.sort_unstable_by_key(|e| e.0);
            for (i, (c, y)) in row.into_iter().enumerate() {
                index[a + i] = c;
                correct[a + i] = y;
            }
        }
        Csr {
            offsets,
            index,
            correct,
        }
    }

    /// The entries of row `r` as (column, correct) slices.
    pub fn row(&self, r: usize) -> (&[u32], &[bool]) {
        let (a, b) = (self.offsets[r], self.offsets[r + 1]);
        (&self.index[a..b], &self.correct[a..b])
    }
}

/// The training gradebook in both orientations: by learner and by question.
#[derive(Debug, Clone)]
pub struct CellMatrix {
    /// Learners (rows of `by_learner`).
    pub num_learners: usize,
    /// Questions (rows of `by_question`).
    pub num_questions: usize,
    /// Row = learner, column = question.
    pub by_learner: Csr,
    /// Row = question, column = learner.
    pub by_question: Csr,
}

impl CellMatrix {
    /// Builds both orientations from cells (indices must be below the given counts).
    pub fn new(num_learners: usize, num_questions: usize, cells: &[Cell]) -> Result<Self> {
        if let Some(c) = cells
            .iter()
            .find(|c| c.learner as usize >= num_learners || c.question as usize >= num_questions)
        {
            return Err(SparfaError::Dimension(format!(
                "cell (learner {}, question {}) outside {num_learners} learners × {num_questions} questions",
                c.learner, c.question
            )));
        }
        let it = cells.iter().map(|c| (c.learner, c.question, c.correct));
        let by_learner = Csr::build(num_learners, it);
        let it = cells.iter().map(|c| (c.question, c.learner, c.correct));
        let by_question = Csr::build(num_questions, it);
        Ok(CellMatrix {
            num_learners,
            num_questions,
            by_learner,
            by_question,
        })
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.by_learner.index.len()
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
