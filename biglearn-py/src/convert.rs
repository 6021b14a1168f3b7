//! Column conversion (factorized ids and little-endian code bytes) and the
//! data helpers: held-out rows, k-fold rows, synthetic data, wide → long.

use biglearn_core::sparfa::columns::{self, ColumnResponses};
use biglearn_core::sparfa::data::Hints;
use biglearn_core::sparfa::synth::{generate, SynthConfig};
use biglearn_core::sparfa::wide;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors;

/// `u32` codes from little-endian bytes (numpy `astype("<u4").tobytes()`).
pub fn codes(py: Python<'_>, bytes: &[u8], what: &str) -> PyResult<Vec<u32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(errors::validation(
            py,
            format!(
                "{what}: {} bytes is not a whole number of u32 codes",
                bytes.len()
            ),
            vec![what.to_owned()],
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// `bool`s from bytes of 0/1 (numpy `astype("u1").tobytes()`).
pub fn flags(py: Python<'_>, bytes: &[u8], what: &str) -> PyResult<Vec<bool>> {
    bytes
        .iter()
        .enumerate()
        .map(|(row, b)| match b {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(errors::validation(
                py,
                format!("{what}: row {row} holds {other}, expected 0 or 1"),
                vec![what.to_owned()],
            )),
        })
        .collect()
}

/// The factorized columns of a response table.
pub struct Columns {
    pub learner_ids: Vec<String>,
    pub question_ids: Vec<String>,
    pub learner_codes: Vec<u32>,
    pub question_codes: Vec<u32>,
    pub correct: Vec<bool>,
}

impl Columns {
    pub fn read(
        py: Python<'_>,
        learner_ids: Vec<String>,
        question_ids: Vec<String>,
        learner_codes: &[u8],
        question_codes: &[u8],
        correct: &[u8],
    ) -> PyResult<Columns> {
        Ok(Columns {
            learner_ids,
            question_ids,
            learner_codes: codes(py, learner_codes, "learner")?,
            question_codes: codes(py, question_codes, "question")?,
            correct: flags(py, correct, "correct")?,
        })
    }

    pub fn responses(&self, py: Python<'_>) -> PyResult<ColumnResponses> {
        columns::from_codes(
            self.learner_ids.clone(),
            self.question_ids.clone(),
            &self.learner_codes,
            &self.question_codes,
            &self.correct,
        )
        .map_err(|e| errors::sparfa(py, e))
    }
}

/// Hints from `(question id, concept id)` pairs; questions without a pair
/// get no hinted concept. Unknown questions are named.
pub fn hints(
    py: Python<'_>,
    question_ids: &[String],
    pairs: &[(String, String)],
) -> PyResult<Hints> {
    let position: std::collections::HashMap<&str, usize> = question_ids
        .iter()
        .enumerate()
        .map(|(i, q)| (q.as_str(), i))
        .collect();
    let mut concepts: Vec<String> = Vec::new();
    let mut concept_index = std::collections::HashMap::new();
    let mut by_question = vec![Vec::new(); question_ids.len()];
    for (row, (question, concept)) in pairs.iter().enumerate() {
        let Some(&q) = position.get(question.as_str()) else {
            return Err(errors::validation(
                py,
                format!("hints row {row}: question `{question}` is not in the responses"),
                vec![format!("hints[{row}].question")],
            ));
        };
        let k = *concept_index.entry(concept.clone()).or_insert_with(|| {
            concepts.push(concept.clone());
            (concepts.len() - 1) as u32
        });
        if !by_question[q].contains(&k) {
            by_question[q].push(k);
        }
    }
    Hints::new(concepts, by_question).map_err(|e| errors::sparfa(py, e))
}

/// Per row: held out by the CLI's split (`--holdout fraction --seed seed`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn heldout_rows<'py>(
    py: Python<'py>,
    learner_ids: Vec<String>,
    question_ids: Vec<String>,
    learner_codes: &[u8],
    question_codes: &[u8],
    correct: &[u8],
    fraction: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let c = Columns::read(
        py,
        learner_ids,
        question_ids,
        learner_codes,
        question_codes,
        correct,
    )?;
    let built = c.responses(py)?;
    let rows = columns::heldout_rows(
        &built.set,
        &c.learner_codes,
        &c.question_codes,
        fraction,
        seed,
    )
    .map_err(|e| errors::sparfa(py, e))?;
    let bytes: Vec<u8> = rows.into_iter().map(u8::from).collect();
    Ok(PyBytes::new(py, &bytes))
}

/// Per row: its cross-validation fold, `-1` for a repeated row (as `<i4`
/// bytes).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn fold_rows<'py>(
    py: Python<'py>,
    learner_ids: Vec<String>,
    question_ids: Vec<String>,
    learner_codes: &[u8],
    question_codes: &[u8],
    correct: &[u8],
    folds: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let c = Columns::read(
        py,
        learner_ids,
        question_ids,
        learner_codes,
        question_codes,
        correct,
    )?;
    let built = c.responses(py)?;
    let rows = columns::fold_rows(&built.set, &c.learner_codes, &c.question_codes, folds, seed)
        .map_err(|e| errors::sparfa(py, e))?;
    let bytes: Vec<u8> = rows
        .into_iter()
        .flat_map(|f| f.map_or(-1i32, |f| f as i32).to_le_bytes())
        .collect();
    Ok(PyBytes::new(py, &bytes))
}

/// The synthetic generator: a dict of columns and the truth.
#[pyfunction]
pub fn synthetic<'py>(
    py: Python<'py>,
    learners: usize,
    questions: usize,
    concepts: usize,
    density: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let config = SynthConfig {
        learners,
        questions,
        concepts,
        density,
        seed,
    };
    let data = py
        .allow_threads(|| generate(&config))
        .map_err(|e| errors::sparfa(py, e))?;
    let set = &data.responses;
    let out = PyDict::new(py);
    let learner: Vec<u8> = set
        .cells()
        .iter()
        .flat_map(|c| c.learner.to_le_bytes())
        .collect();
    let question: Vec<u8> = set
        .cells()
        .iter()
        .flat_map(|c| c.question.to_le_bytes())
        .collect();
    let correct: Vec<u8> = set.cells().iter().map(|c| u8::from(c.correct)).collect();
    out.set_item("learner_codes", PyBytes::new(py, &learner))?;
    out.set_item("question_codes", PyBytes::new(py, &question))?;
    out.set_item("correct", PyBytes::new(py, &correct))?;
    out.set_item("question_ids", set.question_ids().to_vec())?;
    let hint_pairs: Vec<(String, String)> = data
        .hints
        .by_question()
        .iter()
        .enumerate()
        .flat_map(|(q, ks)| {
            ks.iter()
                .map(|k| {
                    (
                        set.question_ids()[q].clone(),
                        data.hints.concept_ids()[*k as usize].clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.set_item("hints", hint_pairs)?;
    out.set_item("learner_ids", set.learner_ids().to_vec())?;
    out.set_item("truth", crate::model::model_dict(py, &data.truth)?)?;
    out.set_item("knowledge", data.knowledge)?;
    Ok(out)
}

/// Wide table (CSV text) → long records and hints, by the CLI's `convert`
/// rules.
#[pyfunction]
pub fn wide_to_long<'py>(
    py: Python<'py>,
    text: &str,
    source_name: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let data = wide::wide_to_long(text, source_name).map_err(|e| errors::sparfa(py, e))?;
    let out = PyDict::new(py);
    out.set_item("responses", data.responses)?;
    out.set_item("hints", data.hints)?;
    out.set_item("missing", data.missing)?;
    Ok(out)
}
