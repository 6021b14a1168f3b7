//! Fitting, prediction, scoring, parameters, CLUEs, TeSR and save/load of
//! one fitted model (SPARFA, 2PL, Rasch, rate or exploratory: one
//! objective, core's `sparfa::baselines::train`, or
//! `sparfa::exploratory::train_exploratory` for `K` unnamed factors).

use biglearn_core::sparfa::baselines::{train, Lambda, ModelKind, TrainOptions};
use biglearn_core::sparfa::data::{Cell, CellMatrix, Hints};
use biglearn_core::sparfa::eval::{estimate_knowledge, metrics, predict};
use biglearn_core::sparfa::exploratory::train_exploratory;
use biglearn_core::sparfa::fit::{FitOptions, IterationReport};
use biglearn_core::sparfa::kkt::kkt_violation;
use biglearn_core::sparfa::saved::{kind_name, SavedModel, FORMAT, VERSION};
use biglearn_core::sparfa::{
    clue_interval, rank_exercises, ClueOptions, LearnerResponse, QuestionLookup, SparfaModel,
    TimedResponse, Timestamp,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::{codes, flags, hints, Columns};
use crate::errors;

/// A fitted model and what the Python side reads from it.
#[pyclass(module = "biglearn._native", frozen)]
pub struct NativeModel {
    kind: ModelKind,
    lambda: f64,
    model: SparfaModel,
    learner_ids: Vec<String>,
    /// Learner-major §5 MAP knowledge from the training cells for the
    /// fitted W, d: what the CLI's evaluation predicts with.
    knowledge: Vec<f64>,
    objective: f64,
    iterations: usize,
    converged: bool,
    /// The training cells and the fit's own U, for the KKT residual (not
    /// kept by a loaded model).
    training: Option<(CellMatrix, Vec<f64>)>,
}

/// λ as the CLI's `--lambda` spells it: a number, `scaled`, `scaled:L`
/// or `auto`.
fn parse_lambda(py: Python<'_>, text: &str) -> PyResult<Lambda> {
    let bad = || {
        errors::validation(
            py,
            format!(
                "lambda_ `{text}` is not a positive number, `auto`, `scaled` or `scaled:NUMBER`"
            ),
            vec!["lambda_".to_owned()],
        )
    };
    Ok(match text {
        "auto" => Lambda::Auto,
        "scaled" => Lambda::Scaled(2.0),
        other => match other.strip_prefix("scaled:") {
            Some(v) => Lambda::Scaled(v.parse().map_err(|_| bad())?),
            None => Lambda::Fixed(other.parse().map_err(|_| bad())?),
        },
    })
}

/// Fits `kind` on every row given (the caller holds out its test rows).
/// With `factors`, fits an exploratory model with that many factors
/// instead (no hints; `kind` and `hint_pairs` are not used).
#[pyfunction]
#[pyo3(signature = (learner_ids, question_ids, learner_codes, question_codes, correct, hint_pairs,
    kind, lambda_, seed, max_iterations, gradient_tolerance, relative_tolerance, learner_sweeps,
    question_iterations, validation_fraction, progress=None, factors=None))]
#[allow(clippy::too_many_arguments)]
pub fn fit(
    py: Python<'_>,
    learner_ids: Vec<String>,
    question_ids: Vec<String>,
    learner_codes: &[u8],
    question_codes: &[u8],
    correct: &[u8],
    hint_pairs: Option<Vec<(String, String)>>,
    kind: &str,
    lambda_: &str,
    seed: u64,
    max_iterations: usize,
    gradient_tolerance: f64,
    relative_tolerance: f64,
    learner_sweeps: usize,
    question_iterations: usize,
    validation_fraction: f64,
    progress: Option<PyObject>,
    factors: Option<usize>,
) -> PyResult<NativeModel> {
    let kind: ModelKind = kind.parse().map_err(|e| errors::sparfa(py, e))?;
    let lambda = parse_lambda(py, lambda_)?;
    let columns = Columns::read(
        py,
        learner_ids,
        question_ids,
        learner_codes,
        question_codes,
        correct,
    )?;
    let built = columns.responses(py)?;
    let set = built.set;
    let hint_mask = match &hint_pairs {
        Some(pairs) => hints(py, set.question_ids(), pairs)?,
        None => Hints::single_concept(set.num_questions(), "all"),
    };
    let options = TrainOptions {
        kind,
        lambda,
        fit: FitOptions {
            max_iterations,
            relative_tolerance,
            gradient_tolerance,
            learner_sweeps,
            question_iterations,
            ..FitOptions::default()
        },
        seed,
        validation_fraction,
    };
    let trained = py.allow_threads(|| {
        let mut report = |r: &IterationReport| {
            if let Some(callback) = &progress {
                Python::with_gil(|py| {
                    // A failing progress callback must not abort the fit.
                    let _ = callback
                        .call1(py, (r.iteration, r.max_iterations, r.objective, r.gradient));
                });
            }
        };
        let output = match factors {
            Some(k) => train_exploratory(&set, set.cells(), k, &options, &mut report)?,
            None => train(&set, set.cells(), &hint_mask, &options, &mut report)?,
        };
        let cells = CellMatrix::new(set.num_learners(), set.num_questions(), set.cells())?;
        let knowledge = estimate_knowledge(&output.fit.model, &cells);
        Ok((output, cells, knowledge))
    });
    let (output, cells, knowledge) = trained.map_err(|e| errors::sparfa(py, e))?;
    Ok(NativeModel {
        kind: output.kind,
        lambda: output.lambda,
        learner_ids: set.learner_ids().to_vec(),
        knowledge,
        objective: output.fit.objective,
        iterations: output.fit.iterations,
        converged: output.fit.converged,
        training: Some((cells, output.fit.knowledge)),
        model: output.fit.model,
    })
}

/// A model from the JSON text `NativeModel.to_json` wrote.
#[pyfunction]
pub fn load_model(py: Python<'_>, text: &str) -> PyResult<NativeModel> {
    let saved = SavedModel::from_json(text).map_err(|e| errors::sparfa(py, e))?;
    let kind = saved.kind.parse().map_err(|e| errors::sparfa(py, e))?;
    Ok(NativeModel {
        kind,
        lambda: saved.lambda,
        knowledge: saved.knowledge.into_iter().flatten().collect(),
        learner_ids: saved.learner_ids,
        objective: saved.objective,
        iterations: saved.iterations,
        converged: saved.converged,
        training: None,
        model: saved.model,
    })
}

/// The model's W, d, H, ids and penalties as a dict (also the truth of
/// the synthetic generator).
pub fn model_dict<'py>(py: Python<'py>, model: &SparfaModel) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("question_ids", model.question_ids.clone())?;
    out.set_item("concept_ids", model.concept_ids.clone())?;
    out.set_item("W", PyBytes::new(py, &dense_loadings(model)))?;
    out.set_item("d", model.intercepts.clone())?;
    let hints: Vec<Vec<u32>> = model.hints.clone();
    out.set_item("hints", hints)?;
    Ok(out)
}

/// W as row-major little-endian f64 bytes, questions × concepts.
fn dense_loadings(model: &SparfaModel) -> Vec<u8> {
    let k = model.num_concepts();
    let mut dense = vec![0.0f64; model.num_questions() * k];
    for (q, row) in model.loadings.iter().enumerate() {
        for (c, w) in row {
            dense[q * k + *c as usize] = *w;
        }
    }
    dense.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl NativeModel {
    /// Cells from model indices. With `prior`, learner index = number of
    /// fitted learners stands for a learner not seen in the fit.
    fn cells(
        &self,
        py: Python<'_>,
        learner_index: &[u8],
        question_index: &[u8],
        correct: Option<&[u8]>,
        prior: bool,
    ) -> PyResult<Vec<Cell>> {
        let learners = codes(py, learner_index, "learner")?;
        let questions = codes(py, question_index, "question")?;
        let answers = match correct {
            Some(bytes) => flags(py, bytes, "correct")?,
            None => vec![false; learners.len()],
        };
        if questions.len() != learners.len() || answers.len() != learners.len() {
            return Err(errors::validation(
                py,
                "learner, question and correct columns differ in length".to_owned(),
                Vec::new(),
            ));
        }
        let (nl, nq) = (
            self.learner_ids.len() + usize::from(prior),
            self.model.num_questions(),
        );
        let mut out = Vec::with_capacity(learners.len());
        for (row, ((&l, &q), &c)) in learners.iter().zip(&questions).zip(&answers).enumerate() {
            if l as usize >= nl || q as usize >= nq {
                return Err(errors::validation(
                    py,
                    format!("row {row}: learner or question is not in the fitted model"),
                    vec![format!("[{row}]")],
                ));
            }
            out.push(Cell {
                learner: l,
                question: q,
                correct: c,
            });
        }
        Ok(out)
    }

    /// The knowledge rows, plus a zero row (the prior mean, what the
    /// command line's evaluation gives a learner without training cells)
    /// when `prior`.
    fn knowledge_rows(&self, prior: bool) -> std::borrow::Cow<'_, [f64]> {
        if prior {
            let mut rows = self.knowledge.clone();
            rows.resize(rows.len() + self.model.num_concepts(), 0.0);
            std::borrow::Cow::Owned(rows)
        } else {
            std::borrow::Cow::Borrowed(&self.knowledge)
        }
    }

    fn question_indices(&self, py: Python<'_>, ids: &[String], what: &str) -> PyResult<Vec<u32>> {
        let lookup = QuestionLookup::new(&self.model);
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                lookup.get(id).ok_or_else(|| {
                    errors::validation(
                        py,
                        format!("{what}[{i}]: question `{id}` is not in the fitted model"),
                        vec![format!("{what}[{i}]")],
                    )
                })
            })
            .collect()
    }

    fn learner_responses(
        &self,
        py: Python<'_>,
        responses: &[(String, bool)],
        what: &str,
    ) -> PyResult<Vec<LearnerResponse>> {
        let ids: Vec<String> = responses.iter().map(|(q, _)| q.clone()).collect();
        let index = self.question_indices(py, &ids, what)?;
        Ok(index
            .into_iter()
            .zip(responses)
            .map(|(q, (_, c))| LearnerResponse::new(q, *c))
            .collect())
    }
}

#[pymethods]
impl NativeModel {
    /// Probabilities of correct answers (f64 bytes) for rows given as
    /// model indices (`<u4` bytes); see `cells` for `prior`.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        learner_index: &[u8],
        question_index: &[u8],
        prior: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let cells = self.cells(py, learner_index, question_index, None, prior)?;
        let knowledge = self.knowledge_rows(prior);
        let p = py.allow_threads(|| predict(&self.model, &knowledge, &cells));
        Ok(PyBytes::new(py, &f64_bytes(&p)))
    }

    /// Held-out metrics (accuracy, log_loss, auc, brier, count) of rows
    /// given as model indices, by the CLI's evaluation.
    fn score<'py>(
        &self,
        py: Python<'py>,
        learner_index: &[u8],
        question_index: &[u8],
        correct: &[u8],
        prior: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let cells = self.cells(py, learner_index, question_index, Some(correct), prior)?;
        let knowledge = self.knowledge_rows(prior);
        let m = py.allow_threads(|| metrics(&predict(&self.model, &knowledge, &cells), &cells));
        let out = PyDict::new(py);
        out.set_item("accuracy", m.accuracy)?;
        out.set_item("log_loss", m.log_loss)?;
        out.set_item("auc", m.auc)?;
        out.set_item("brier", m.brier)?;
        out.set_item("count", m.count)?;
        Ok(out)
    }

    /// The fitted family member: `sparfa`, `2pl`, `rasch`, `rate` or
    /// `exploratory`.
    #[getter]
    fn kind(&self) -> &'static str {
        kind_name(self.kind)
    }

    #[getter]
    fn lambda_(&self) -> f64 {
        self.lambda
    }

    #[getter]
    fn objective(&self) -> f64 {
        self.objective
    }

    #[getter]
    fn iterations(&self) -> usize {
        self.iterations
    }

    #[getter]
    fn converged(&self) -> bool {
        self.converged
    }

    #[getter]
    fn learner_ids(&self) -> Vec<String> {
        self.learner_ids.clone()
    }

    /// W, d, H and ids.
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        model_dict(py, &self.model)
    }

    /// Knowledge, learner-major f64 bytes (learners × concepts).
    fn knowledge<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &f64_bytes(&self.knowledge))
    }

    /// The §4.6 KKT residuals at the fit (`None` for a loaded model, which
    /// has no training cells).
    fn kkt<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some((cells, u)) = &self.training else {
            return Ok(None);
        };
        let fixed = self.kind.fixed_loadings();
        let k = py.allow_threads(|| kkt_violation(&self.model, u, cells, fixed));
        let out = PyDict::new(py);
        out.set_item("positive_loadings", k.positive_loadings)?;
        out.set_item("zero_loadings", k.zero_loadings)?;
        out.set_item("intercepts", k.intercepts)?;
        out.set_item("knowledge", k.knowledge)?;
        out.set_item("max", k.max())?;
        Ok(Some(out))
    }

    /// The CLUE of the learners' pooled responses on `targets` (question
    /// ids): (minimum, most_likely, maximum, is_real).
    fn clue(
        &self,
        py: Python<'_>,
        learners: Vec<Vec<(String, bool)>>,
        targets: Vec<String>,
        confidence: f64,
        min_responses: usize,
    ) -> PyResult<(f64, f64, f64, bool)> {
        let responses = learners
            .iter()
            .map(|r| self.learner_responses(py, r, "responses"))
            .collect::<PyResult<Vec<_>>>()?;
        let target_index = self.question_indices(py, &targets, "targets")?;
        let options = ClueOptions {
            confidence,
            min_responses,
            ..ClueOptions::default()
        };
        let clue = clue_interval(&self.model, &responses, &target_index, &options)
            .map_err(|e| errors::validation(py, e.to_string(), vec!["confidence".to_owned()]))?;
        Ok((clue.minimum, clue.most_likely, clue.maximum, clue.is_real))
    }

    /// TeSR order of `candidates` for a learner with `responses` (question,
    /// correct, responded-at microseconds): ranked (question, probability,
    /// score) and the unknown candidates.
    #[allow(clippy::type_complexity)]
    fn rank(
        &self,
        py: Python<'_>,
        responses: Vec<(String, bool, i64)>,
        candidates: Vec<String>,
    ) -> PyResult<(Vec<(String, f64, f64)>, Vec<String>)> {
        let ids: Vec<String> = responses.iter().map(|(q, _, _)| q.clone()).collect();
        let index = self.question_indices(py, &ids, "responses")?;
        let timed: Vec<TimedResponse> = index
            .into_iter()
            .zip(&responses)
            .map(|(q, (_, c, at))| TimedResponse::new(q, *c, Timestamp(*at)))
            .collect();
        let lookup = QuestionLookup::new(&self.model);
        let ranking = rank_exercises(&self.model, &lookup, &candidates, &timed);
        let ranked = ranking
            .ranked
            .iter()
            .map(|r| {
                (
                    self.model.question_ids[r.question as usize].clone(),
                    r.probability,
                    r.score,
                )
            })
            .collect();
        Ok((ranked, ranking.unknown))
    }

    /// The documented JSON document (see `biglearn_core::sparfa::saved`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        let k = self.model.num_concepts().max(1);
        let knowledge = if self.model.num_concepts() == 0 {
            vec![Vec::new(); self.learner_ids.len()]
        } else {
            self.knowledge.chunks(k).map(<[f64]>::to_vec).collect()
        };
        SavedModel {
            format: FORMAT.to_owned(),
            version: VERSION,
            kind: kind_name(self.kind).to_owned(),
            lambda: self.lambda,
            model: self.model.clone(),
            learner_ids: self.learner_ids.clone(),
            knowledge,
            objective: self.objective,
            iterations: self.iterations,
            converged: self.converged,
        }
        .to_json()
        .map_err(|e| errors::sparfa(py, e))
    }
}
