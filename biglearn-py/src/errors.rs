//! Maps library errors to the exception classes defined in
//! `biglearn/_errors.py` (so they carry Python attributes such as
//! `ValidationError.paths`).

use biglearn_core::events::ValidationErrors;
use biglearn_core::log::{AppendError, StoreError};
use biglearn_core::sparfa::SparfaError;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// An exception of class `name` from `biglearn._errors`, built with `args`.
fn raise<'py, A>(py: Python<'py>, name: &str, args: A) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    let built = py
        .import("biglearn._errors")
        .and_then(|m| m.getattr(name))
        .and_then(|class| class.call1(args));
    match built {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// `ValidationError(message, paths)`.
pub fn validation(py: Python<'_>, message: String, paths: Vec<String>) -> PyErr {
    match PyList::new(py, paths) {
        Ok(list) => raise(py, "ValidationError", (message, list)),
        Err(e) => e,
    }
}

/// Every wire-format problem, each with its JSON path.
pub fn wire(py: Python<'_>, what: &str, errors: &ValidationErrors) -> PyErr {
    let paths = errors.errors().iter().map(|e| e.path.to_string()).collect();
    let lines = errors.messages().join("; ");
    validation(py, format!("{what}: {lines}"), paths)
}

/// SPARFA data and option errors are the caller's input; the rest are fit
/// failures.
pub fn sparfa(py: Python<'_>, error: SparfaError) -> PyErr {
    let message = error.to_string();
    match error {
        SparfaError::InvalidOption { name, .. } => validation(py, message, vec![name.to_owned()]),
        SparfaError::BadValue { column, .. } => validation(py, message, vec![column]),
        _ => validation(py, message, Vec::new()),
    }
}

/// A store failure.
pub fn store(py: Python<'_>, error: &StoreError) -> PyErr {
    raise(py, "StoreError", (error.to_string(),))
}

/// A refused append is a conflict with what is stored; a failed one is the
/// store's.
pub fn append(py: Python<'_>, error: &AppendError) -> PyErr {
    match error {
        AppendError::Rejected(rejection) => raise(py, "ConflictError", (rejection.to_string(),)),
        AppendError::Store(e) => store(py, e),
    }
}

/// An engine step or refit failure.
pub fn engine(py: Python<'_>, message: String) -> PyErr {
    raise(py, "EngineError", (message,))
}

/// A simulation failure.
pub fn simulation(py: Python<'_>, message: String) -> PyErr {
    raise(py, "SimulationError", (message,))
}
