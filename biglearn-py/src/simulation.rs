//! The class simulator (`biglearn_core::simulation`) on the memory store
//! or a SQLite/PostgreSQL store, advanced week by week from Python.

use biglearn_core::memory::MemoryStore;
use biglearn_core::simulation::{Policy, Simulation, SimulationConfig, WeekReport};
use biglearn_store::SqlStore;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;

enum Running {
    Memory(Box<Simulation<MemoryStore>>),
    Sql(Box<Simulation<SqlStore>>),
}

/// A running simulation.
#[pyclass(module = "biglearn._native")]
pub struct NativeSimulation {
    running: Running,
}

fn week_dict<'py>(py: Python<'py>, w: &WeekReport) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("week", w.week)?;
    for (prefix, f) in [("sparfa", &w.sparfa), ("local", &w.local)] {
        out.set_item(format!("{prefix}_pairs"), f.pairs)?;
        out.set_item(format!("{prefix}_clue"), f.mean_clue)?;
        out.set_item(format!("{prefix}_truth"), f.mean_truth)?;
        out.set_item(format!("{prefix}_error"), f.mean_error)?;
        out.set_item(format!("{prefix}_coverage"), f.coverage)?;
    }
    out.set_item("pes_per_assignment", w.pes_per_assignment())?;
    out.set_item("spes_per_assignment", w.spes_per_assignment())?;
    out.set_item("worst_areas", w.worst_areas)?;
    out.set_item("assignments", w.assignments)?;
    out.set_item("refits", w.refits)?;
    out.set_item("table_row", w.table_row())?;
    Ok(out)
}

#[pymethods]
impl NativeSimulation {
    /// Sets the simulation up; `database` None runs on the memory store.
    #[new]
    #[pyo3(signature = (students, weeks, seed, policy, ability_sd, page_sd, intercept_mean,
        intercept_sd, refit_every_days, database=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        students: usize,
        weeks: usize,
        seed: u64,
        policy: &str,
        ability_sd: f64,
        page_sd: f64,
        intercept_mean: f64,
        intercept_sd: f64,
        refit_every_days: f64,
        database: Option<String>,
    ) -> PyResult<Self> {
        let policy = Policy::from_name(policy)
            .map_err(|e| errors::validation(py, e.to_string(), vec!["policy".to_owned()]))?;
        let config = SimulationConfig {
            students,
            weeks,
            seed,
            ability_sd,
            page_sd,
            intercept_mean,
            intercept_sd,
            refit_every_days,
            fresh_engine_per_step: false,
            policy,
            ..SimulationConfig::default()
        };
        let running = match database {
            None => py
                .allow_threads(|| Simulation::new(MemoryStore::new(), config))
                .map(|s| Running::Memory(Box::new(s))),
            Some(path) => {
                let store = py
                    .allow_threads(|| SqlStore::open(&path))
                    .map_err(|e| errors::store(py, &e))?;
                py.allow_threads(|| Simulation::new(store, config))
                    .map(|s| Running::Sql(Box::new(s)))
            }
        }
        .map_err(|e| errors::simulation(py, e.to_string()))?;
        Ok(NativeSimulation { running })
    }

    /// Runs the next week (GIL released); returns its figures.
    fn advance_week<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let report = match &mut self.running {
            Running::Memory(s) => py.allow_threads(|| s.advance_week()),
            Running::Sql(s) => py.allow_threads(|| s.advance_week()),
        }
        .map_err(|e| errors::simulation(py, e.to_string()))?;
        week_dict(py, &report)
    }

    /// Weeks run so far.
    #[getter]
    fn weeks_done(&self) -> usize {
        match &self.running {
            Running::Memory(s) => s.weeks_done(),
            Running::Sql(s) => s.weeks_done(),
        }
    }

    /// Whether every week ran.
    #[getter]
    fn finished(&self) -> bool {
        match &self.running {
            Running::Memory(s) => s.is_finished(),
            Running::Sql(s) => s.is_finished(),
        }
    }

    /// Events appended so far.
    #[getter]
    fn events(&self) -> usize {
        match &self.running {
            Running::Memory(s) => s.events(),
            Running::Sql(s) => s.events(),
        }
    }

    /// The table header the CLI prints.
    #[staticmethod]
    fn table_header() -> &'static str {
        WeekReport::table_header()
    }
}
