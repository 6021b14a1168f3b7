//! SPARFA: sparse factor analysis of learner responses (sparfa.md).
//!
//! - [`model`]: the fitted model ([`SparfaModel`]: W, d, H).
//! - [`data`]: response sets, hints and the gradebook adjacency used for fitting.
//! - [`fit`]: fitting W, d (and U) by block coordinate descent on the §4.5 objective.
//! - [`kkt`]: the objective and the §4.6 KKT conditions of a fit.
//! - [`canonical`]: the id order fits are made in, so that input order does not matter.
//! - [`eval`]: held-out splits and metrics; [`synth`]: synthetic data with known truth;
//!   [`baselines`]: 2PL, Rasch and rate models and the automatic choice of λ;
//!   [`weights`]: the weights for a λ and the data size; [`select`]: how the default
//!   (validated) choice among them is kept cheap; [`exploratory`]: the exploratory
//!   model with any number of factors.

pub mod baselines;
pub mod canonical;
pub mod columns;
mod csvtext;
pub mod data;
pub mod error;
pub mod eval;
pub mod exploratory;
pub mod fit;
pub mod kkt;
pub mod model;
pub mod saved;
pub mod select;
pub mod synth;
pub mod weights;
pub mod wide;

pub use error::SparfaError;
pub use model::{ConceptIndex, Penalties, QuestionIndex, SparfaModel};

// sparfa-infer: per-learner inference (§5), CLUE intervals (§6), TeSR ordering (§7).
pub mod calibration;
pub mod clue;
pub mod learner;
pub mod normal;
pub mod tesr;

pub use clue::{
    clue_interval, clue_latent, Clue, ClueError, ClueLoadings, ClueOptions, ClueWorkspace,
    LatentClue,
};
pub use learner::{
    infer_learner, infer_learner_latest, latest_responses, LearnerEstimate, LearnerResponse,
    LearnerWorkspace, TimedResponse, Timestamp,
};
pub use tesr::{rank_exercises, QuestionLookup, RankedExercise, TesrRanking, TesrWorkspace};
