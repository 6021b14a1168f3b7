//! The model family as special cases of the one objective, and the automatic λ (F1).
//!
//! - [`ModelKind::Sparfa`]: the hints as given;
//! - [`ModelKind::TwoPl`]: one concept hinted for every question;
//! - [`ModelKind::Rasch`]: that, with every loading fixed at 1;
//! - [`ModelKind::Rate`]: no concept at all, `d` only.

use std::str::FromStr;

use super::data::{Cell, CellMatrix, Hints, ResponseSet};
use super::error::{Result, SparfaError};
use super::eval::{evaluate, split_cells};
use super::fit::{fit_with_progress, FitOptions, FitOutput, IterationReport};

/// Which member of the model family to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelKind {
    /// SPARFA with the given hints.
    #[default]
    Sparfa,
    /// Two-parameter logistic: one shared concept, fitted loadings.
    TwoPl,
    /// Rasch: one shared concept, loadings fixed at 1.
    Rasch,
    /// Per-question rate: intercepts only.
    Rate,
}

impl FromStr for ModelKind {
    type Err = SparfaError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sparfa" => Ok(ModelKind::Sparfa),
            "2pl" => Ok(ModelKind::TwoPl),
            "rasch" => Ok(ModelKind::Rasch),
            "rate" => Ok(ModelKind::Rate),
            other => Err(SparfaError::InvalidOption {
                name: "model",
                message: format!("`{other}` is not one of sparfa, 2pl, rasch, rate"),
            }),
        }
    }
}

impl ModelKind {
    /// The hint mask this kind fits with, given the user's hints.
    pub fn hints(self, hints: &Hints) -> Hints {
        let nq = hints.by_question().len();
        match self {
            ModelKind::Sparfa => hints.clone(),
            ModelKind::TwoPl | ModelKind::Rasch => Hints::single_concept(nq, "ability"),
            ModelKind::Rate => Hints::no_concepts(nq),
        }
    }

    /// Whether loadings stay fixed at their start value.
    pub fn fixed_loadings(self) -> bool {
        self == ModelKind::Rasch
    }
}

/// How λ = λ_H = λ_U is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lambda {
    /// Use this value.
    Fixed(f64),
    /// Pick from [`AUTO_GRID`] by validation log-loss, then refit on all training cells.
    Auto,
}

/// The grid of the automatic mode (F1).
pub const AUTO_GRID: [f64; 4] = [0.5, 1.0, 2.0, 5.0];

/// Options of [`train`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Model family member.
    pub kind: ModelKind,
    /// λ_H = λ_U choice.
    pub lambda: Lambda,
    /// Optimiser settings (its `penalties.hinted`/`learner` are overridden by λ).
    pub fit: FitOptions,
    /// Seed of the validation split of the automatic mode.
    pub seed: u64,
    /// Fraction of training cells used for validation in the automatic mode.
    pub validation_fraction: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            kind: ModelKind::Sparfa,
            lambda: Lambda::Fixed(2.0),
            fit: FitOptions::default(),
            seed: 0,
            validation_fraction: 0.2,
        }
    }
}

/// The result of [`train`].
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// The final fit on all training cells.
    pub fit: FitOutput,
    /// The λ used for it.
    pub lambda: f64,
    /// `(λ, validation log-loss)` for each grid value in the automatic mode.
    pub validation: Vec<(f64, f64)>,
}

fn options_with(fit: &FitOptions, kind: ModelKind, lambda: f64) -> Result<FitOptions> {
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(SparfaError::InvalidOption {
            name: "lambda",
            message: format!("{lambda} must be a positive number"),
        });
    }
    let mut o = fit.clone();
    o.penalties.hinted = lambda;
    o.penalties.learner = lambda;
    o.fixed_loadings = kind.fixed_loadings();
    Ok(o)
}

/// Fits `kind` on the `train` cells of `set` with `hints` (the user's; transformed per
/// kind), choosing λ as asked. `progress` sees every outer iteration of every fit.
pub fn train(
    set: &ResponseSet,
    train: &[Cell],
    hints: &Hints,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&IterationReport),
) -> Result<TrainOutput> {
    let hints = options.kind.hints(hints);
    let (nl, nq) = (set.num_learners(), set.num_questions());
    let qids = set.question_ids();
    let mut validation = Vec::new();
    let lambda = match options.lambda {
        Lambda::Fixed(l) => l,
        Lambda::Auto => {
            let split = split_cells(
                set,
                train,
                options.validation_fraction,
                options.seed ^ 0x5eed_0f1a,
            )?;
            let inner = CellMatrix::new(nl, nq, &split.train)?;
            let mut best = (f64::INFINITY, AUTO_GRID[0]);
            for &l in &AUTO_GRID {
                let o = options_with(&options.fit, options.kind, l)?;
                let f = fit_with_progress(&inner, &hints, qids, &o, progress)?;
                let m = evaluate(&f.model, &inner, &split.heldout);
                validation.push((l, m.log_loss));
                if m.log_loss < best.0 {
                    best = (m.log_loss, l);
                }
            }
            best.1
        }
    };
    let o = options_with(&options.fit, options.kind, lambda)?;
    let all = CellMatrix::new(nl, nq, train)?;
    let fit = fit_with_progress(&all, &hints, qids, &o, progress)?;
    Ok(TrainOutput {
        fit,
        lambda,
        validation,
    })
}
