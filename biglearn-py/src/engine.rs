//! The engine from Python: a SQLite (or PostgreSQL) store of
//! `biglearn-store`, wire-format appends, engine steps and refits, and the
//! stored CLUEs, PEs, SPEs and events.

use std::collections::BTreeSet;

use biglearn_core::engine::Engine;
use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
};
use biglearn_core::events::WriteEndpoint;
use biglearn_core::ids::{AssignmentId, BookContainerId, CourseId, StudentId};
use biglearn_core::log::{
    BundleLimits, ConsumerName, EventLog, EventType, FetchQuery, FetchRequest, SequenceNumber,
    StreamId,
};
use biglearn_core::time::Instant;
use biglearn_store::SqlStore;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;

/// Events per fetch call (the wire protocol's maximum).
const FETCH_BATCH: u32 = 1000;

/// A store and the engine that consumes it.
#[pyclass(module = "biglearn._native")]
pub struct NativeStore {
    store: SqlStore,
    engine: Engine,
}

fn parse_id<T: std::str::FromStr>(py: Python<'_>, text: &str, field: &str) -> PyResult<T> {
    text.parse().map_err(|_| {
        errors::validation(
            py,
            format!("{field}: `{text}` is not a uuid"),
            vec![field.to_owned()],
        )
    })
}

fn algorithm(py: Python<'_>, name: &str) -> PyResult<AlgorithmName> {
    AlgorithmName::new(name)
        .map_err(|e| errors::validation(py, e.to_string(), vec!["algorithm".to_owned()]))
}

#[pymethods]
impl NativeStore {
    /// Opens (creating and migrating) a SQLite file, `:memory:` or a
    /// `postgres://` URL; `consumer` names the engine's watermarks.
    #[new]
    fn new(py: Python<'_>, path: &str, consumer: &str) -> PyResult<Self> {
        let consumer = ConsumerName::new(consumer)
            .map_err(|e| errors::validation(py, e.to_string(), vec!["consumer".to_owned()]))?;
        let store = py
            .allow_threads(|| SqlStore::open(path))
            .map_err(|e| errors::store(py, &e))?;
        Ok(NativeStore {
            store,
            engine: Engine::new(consumer, BundleLimits::default()),
        })
    }

    /// Validates a body of `endpoint` (e.g. `record_responses`, given as
    /// JSON text) and appends its events atomically: (stored, replayed).
    fn append(&self, py: Python<'_>, endpoint: &str, body: &str) -> PyResult<(usize, usize)> {
        let Some(which) = WriteEndpoint::from_name(endpoint) else {
            let names: Vec<&str> = WriteEndpoint::ALL.iter().map(|e| e.name()).collect();
            return Err(errors::validation(
                py,
                format!(
                    "unknown endpoint `{endpoint}`; expected one of {}",
                    names.join(", ")
                ),
                vec!["endpoint".to_owned()],
            ));
        };
        let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
            errors::validation(py, format!("{endpoint}: body is not JSON: {e}"), Vec::new())
        })?;
        let request = which
            .parse(&value)
            .map_err(|e| errors::wire(py, endpoint, &e))?;
        let append = request.append_request();
        let receipt = py
            .allow_threads(|| self.store.append(&append))
            .map_err(|e| errors::append(py, &e))?;
        Ok((receipt.stored, receipt.replayed))
    }

    /// Steps the engine until idle at `now` (unix microseconds); returns
    /// the summed step report.
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        now_micros: i64,
        max_steps: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (store, engine) = (&self.store, &mut self.engine);
        let report = py
            .allow_threads(|| {
                engine.run_until_idle(store, Instant::from_micros(now_micros), max_steps)
            })
            .map_err(|e| errors::engine(py, e.to_string()))?;
        let out = PyDict::new(py);
        out.set_item("ecosystems_saved", report.ecosystems_saved)?;
        out.set_item("bundles_committed", report.bundles_committed)?;
        out.set_item("bundles_stale", report.bundles_stale)?;
        out.set_item("events_applied", report.events_applied)?;
        out.set_item("result_writes", report.result_writes)?;
        out.set_item("problems", report.problems)?;
        out.set_item("courses_recalculated", report.courses_recalculated)?;
        Ok(out)
    }

    /// Refits every ecosystem with pending responses at `now`; returns how
    /// many were refitted.
    fn refit(&mut self, py: Python<'_>, now_micros: i64) -> PyResult<usize> {
        let (store, engine) = (&self.store, &mut self.engine);
        py.allow_threads(|| {
            let pending = engine.pending_refits(store)?;
            for ecosystem in &pending {
                engine.refit(store, *ecosystem, Instant::from_micros(now_micros))?;
            }
            Ok(pending.len())
        })
        .map_err(|e: biglearn_core::engine::RefitError| errors::engine(py, e.to_string()))
    }

    /// A student's stored CLUE on a book container: (minimum, most_likely,
    /// maximum, is_real), or None.
    fn student_clue(
        &self,
        py: Python<'_>,
        algorithm_name: &str,
        student: &str,
        book_container: &str,
    ) -> PyResult<Option<(f64, f64, f64, bool)>> {
        let key = ClueKey {
            target: ClueTarget::Student {
                student: parse_id::<StudentId>(py, student, "student")?,
                book_container: parse_id::<BookContainerId>(py, book_container, "book_container")?,
            },
            algorithm: algorithm(py, algorithm_name)?,
        };
        let mut results = self
            .store
            .clue_results(&[key])
            .map_err(|e| errors::store(py, &e))?;
        Ok(results.pop().flatten().map(|r| {
            let d = r.clue_data;
            (d.minimum, d.most_likely, d.maximum, d.is_real)
        }))
    }

    /// Stored exercises: `target` is `pes` or `spes` (of an assignment) or
    /// `worst_areas` (of a student); None when nothing is stored yet.
    fn exercises(
        &self,
        py: Python<'_>,
        algorithm_name: &str,
        target: &str,
        uuid: &str,
    ) -> PyResult<Option<Vec<String>>> {
        let target = match target {
            "pes" => {
                ExerciseTarget::AssignmentPes(parse_id::<AssignmentId>(py, uuid, "assignment")?)
            }
            "spes" => {
                ExerciseTarget::AssignmentSpes(parse_id::<AssignmentId>(py, uuid, "assignment")?)
            }
            "worst_areas" => {
                ExerciseTarget::PracticeWorstAreas(parse_id::<StudentId>(py, uuid, "student")?)
            }
            other => {
                return Err(errors::validation(
                    py,
                    format!("target `{other}` is not pes, spes or worst_areas"),
                    vec!["target".to_owned()],
                ))
            }
        };
        let key = ExerciseKey {
            target,
            algorithm: algorithm(py, algorithm_name)?,
        };
        let mut results = self
            .store
            .exercise_results(&[key])
            .map_err(|e| errors::store(py, &e))?;
        Ok(results
            .pop()
            .flatten()
            .map(|r| r.exercise_uuids.iter().map(ToString::to_string).collect()))
    }

    /// A course's stored events in order: (sequence number, type, event
    /// uuid, data as JSON text), up to the first gap.
    fn course_events(
        &self,
        py: Python<'_>,
        course: &str,
    ) -> PyResult<Vec<(u64, String, String, String)>> {
        let course = parse_id::<CourseId>(py, course, "course")?;
        let types: BTreeSet<EventType> = EventType::ALL
            .into_iter()
            .filter(|t| !matches!(t, EventType::CreateEcosystem))
            .collect();
        let mut out = Vec::new();
        let mut offset = 0u64;
        loop {
            let sequence_number_offset = SequenceNumber::new(offset)
                .map_err(|e| errors::validation(py, e.to_string(), Vec::new()))?;
            let query = FetchQuery {
                requests: vec![FetchRequest {
                    request_uuid: "python".to_owned(),
                    stream: StreamId::Course(course),
                    sequence_number_offset,
                    event_types: types.clone(),
                }],
                max_num_events: FETCH_BATCH,
            };
            let responses = py
                .allow_threads(|| self.store.fetch_events(&query))
                .map_err(|e| errors::store(py, &e))?;
            let Some(response) = responses.into_iter().next() else {
                break;
            };
            for event in &response.events {
                offset = event.sequence_number.get() + 1;
                out.push((
                    event.sequence_number.get(),
                    event.event_type.to_string(),
                    event.event_id.to_string(),
                    event.data.as_str().to_owned(),
                ));
            }
            if response.is_end || response.is_gap || response.events.is_empty() {
                break;
            }
        }
        Ok(out)
    }
}
