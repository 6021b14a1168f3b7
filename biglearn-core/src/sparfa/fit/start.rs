//! Warm starts of the fit: beginning from an earlier fit's parameters instead of §4.5's
//! `W = H`, `U = 0`, `d = 0`.

use super::questions::QuestionParams;
use super::FitOutput;
use crate::sparfa::data::Hints;
use crate::sparfa::error::{Result, SparfaError};

/// A starting point for [`fit_from`]: the loadings, intercepts and knowledge of an
/// earlier fit (a warm start), usually of a neighbouring λ or of a subset of the cells.
#[derive(Debug, Clone, Copy)]
pub struct FitStart<'a> {
    /// Per-question `(concept, weight)` (as in [`SparfaModel::loadings`]); hinted
    /// concepts missing here start at 0, weights on concepts outside the hints start
    /// active as off-hint loadings.
    pub loadings: &'a [Vec<(u32, f64)>],
    /// `d`, one per question.
    pub intercepts: &'a [f64],
    /// `U` learner-major (`learners × concepts`).
    pub knowledge: &'a [f64],
}

impl<'a> FitStart<'a> {
    /// The start at an earlier fit's result.
    pub fn from_output(output: &'a FitOutput) -> Self {
        FitStart {
            loadings: &output.model.loadings,
            intercepts: &output.model.intercepts,
            knowledge: &output.knowledge,
        }
    }
}

/// Moves the §4.5 start to `start` after checking its dimensions.
pub(super) fn apply_start(
    start: &FitStart,
    hints: &Hints,
    fixed_loadings: bool,
    params: &mut [QuestionParams],
    u: &mut [f64],
) -> Result<()> {
    let k_count = hints.num_concepts();
    if start.loadings.len() != params.len()
        || start.intercepts.len() != params.len()
        || start.knowledge.len() != u.len()
    {
        return Err(SparfaError::Dimension(format!(
            "warm start has {} loading rows, {} intercepts and {} knowledge values; \
             the fit needs {} questions and {} knowledge values",
            start.loadings.len(),
            start.intercepts.len(),
            start.knowledge.len(),
            params.len(),
            u.len()
        )));
    }
    for (q, p) in params.iter_mut().enumerate() {
        p.d = start.intercepts[q];
        if fixed_loadings {
            continue;
        }
        let hinted = &hints.by_question()[q];
        let mut merged: Vec<(u32, f64, bool)> = hinted.iter().map(|&k| (k, 0.0, true)).collect();
        for &(k, w) in &start.loadings[q] {
            if (k as usize) >= k_count || !(w.is_finite() && w >= 0.0) {
                return Err(SparfaError::Dimension(format!(
                    "warm start loading ({k}, {w}) of question {q} is not a non-negative \
                     weight on one of the {k_count} concepts"
                )));
            }
            match merged.iter_mut().find(|e| e.0 == k) {
                Some(e) => e.1 = w,
                None if w > 0.0 => merged.push((k, w, false)),
                None => {}
            }
        }
        merged.sort_by_key(|e| e.0);
        p.loadings = merged.iter().map(|e| (e.0, e.1)).collect();
        p.hinted = merged.iter().map(|e| e.2).collect();
    }
    u.copy_from_slice(start.knowledge);
    Ok(())
}
