//! `biglearn._native`: the compiled half of the `biglearn` Python package.
//!
//! Bindings only: every function converts Python values to `biglearn-core`
//! / `biglearn-store` types, calls the library, converts the result back
//! and maps errors to the exception classes of `biglearn._errors`. Data
//! frames are handled by the pure-Python half (`python/biglearn`), which
//! hands columns over factorized (ids once, one `u32` code per row, as
//! little-endian bytes) so millions of rows cross without a Python object
//! per row. Long calls (fits, engine steps, simulations) release the GIL.

mod convert;
mod engine;
mod errors;
mod model;
mod simulation;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::NativeModel>()?;
    m.add_class::<engine::NativeStore>()?;
    m.add_class::<simulation::NativeSimulation>()?;
    m.add_function(wrap_pyfunction!(model::fit, m)?)?;
    m.add_function(wrap_pyfunction!(model::load_model, m)?)?;
    m.add_function(wrap_pyfunction!(convert::heldout_rows, m)?)?;
    m.add_function(wrap_pyfunction!(convert::fold_rows, m)?)?;
    m.add_function(wrap_pyfunction!(convert::synthetic, m)?)?;
    m.add_function(wrap_pyfunction!(convert::wide_to_long, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
