//! SPARFA: sparse factor analysis of learner responses (sparfa.md).
//!
//! - [`model`]: the fitted model ([`SparfaModel`]: W, d, H).

pub mod model;

pub use model::{ConceptIndex, Penalties, QuestionIndex, SparfaModel};
