//! `calibrate`: synthetic data, fit on all cells, then the coverage of 50 % (and 80 %,
//! 95 %) CLUE intervals of the true per-learner × concept probabilities (sparfa.md §8.4
//! item 5), with the default pooled loadings and with the published fitted ones.

use std::time::Instant;

use biglearn_core::sparfa::calibration::{clue_coverage, gradebooks, CalibrationOptions};
use biglearn_core::sparfa::data::CellMatrix;
use biglearn_core::sparfa::fit::{fit, FitOptions};
use biglearn_core::sparfa::{ClueLoadings, LearnerResponse};
use serde_json::json;

use crate::files::{generate_from, CliError};
use crate::SynthArgs;

/// Runs the calibration experiment; the last stdout line is JSON with `coverage`.
pub fn calibrate(args: &SynthArgs) -> Result<(), CliError> {
    let data = generate_from(args)?;
    let set = &data.responses;
    let cells = CellMatrix::new(set.num_learners(), set.num_questions(), set.cells())?;
    let start = Instant::now();
    let fitted = fit(
        &cells,
        &data.hints,
        set.question_ids(),
        &FitOptions::default(),
    )?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let books = gradebooks(
        set.num_learners(),
        set.cells().iter().map(|c| {
            (
                c.learner as usize,
                LearnerResponse::new(c.question, c.correct),
            )
        }),
    );
    // Coverage at 80 % and 95 % as well: a calibrated interval family covers its
    // nominal share at every level, not only at the 50 % that CLUEs use. The
    // published §6.2 CLUE (fitted W) is scored next to the default (pooled W).
    let mut levels = serde_json::Map::new();
    let mut published = serde_json::Map::new();
    let mut report = None;
    for confidence in [0.5, 0.8, 0.95] {
        for loadings in [ClueLoadings::Pooled, ClueLoadings::Fitted] {
            let mut options = CalibrationOptions::default();
            options.clue.confidence = confidence;
            options.clue.loadings = loadings;
            let r = clue_coverage(
                &fitted.model,
                &data.truth,
                &data.knowledge,
                &books,
                &options,
            )
            .map_err(|e| CliError::Usage(format!("CLUE coverage: {e}")))?;
            eprintln!(
                "{:.0} % CLUEs ({loadings:?} loadings) cover {:?}",
                confidence * 100.0,
                r.coverage()
            );
            if loadings == ClueLoadings::Pooled {
                levels.insert(format!("{confidence}"), json!(r.coverage()));
                report = report.or(Some(r));
            } else {
                published.insert(format!("{confidence}"), json!(r.coverage()));
            }
        }
    }
    let report = report.unwrap_or_default();
    let options = CalibrationOptions::default();
    let oracle = clue_coverage(&data.truth, &data.truth, &data.knowledge, &books, &options)
        .map_err(|e| CliError::Usage(format!("CLUE coverage with the true W, d: {e}")))?;
    eprintln!(
        "{} of {} real learner × concept CLUEs cover the truth (true W, d: {} of {})",
        report.covered, report.real_groups, oracle.covered, oracle.real_groups
    );
    println!(
        "{}",
        json!({
            "coverage": report.coverage(),
            "real_groups": report.real_groups,
            "groups": report.groups,
            "mean_width": report.mean_width,
            "coverage_true_model": oracle.coverage(),
            "coverage_by_confidence": levels,
            "coverage_by_confidence_fitted_loadings": published,
            "fit_seconds": fit_seconds,
            "iterations": fitted.iterations,
        })
    );
    Ok(())
}
