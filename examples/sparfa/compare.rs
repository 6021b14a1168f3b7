//! `compare`: SPARFA (the default, validated choice), 2PL, Rasch and the per-question
//! rate baseline fitted on the same cells and scored on the same held-out cells (one
//! split, or k folds whose held-out predictions are pooled), as one table and a JSON
//! line last.

use std::time::Instant;

use biglearn_core::sparfa::baselines::{train, Lambda, ModelKind, TrainOptions};
use biglearn_core::sparfa::data::{Cell, CellMatrix, Hints, ResponseSet};
use biglearn_core::sparfa::eval::{
    cell_hash, estimate_knowledge, metrics, predict, split_cells, Metrics, Split,
};
use serde_json::{json, Value};

use crate::files::{read_text, CliError};
use crate::CompareArgs;

/// The compared models: name, family member and λ choice. SPARFA is the default
/// choice (which may pick another member); 2PL and Rasch have their λ validated
/// within their own family; the rate model has no λ that matters.
const MODELS: [(&str, ModelKind, Lambda); 4] = [
    ("sparfa", ModelKind::Sparfa, Lambda::Auto),
    ("2pl", ModelKind::TwoPl, Lambda::Auto),
    ("rasch", ModelKind::Rasch, Lambda::Auto),
    ("rate", ModelKind::Rate, Lambda::Scaled(2.0)),
];

/// The held-out splits: one `holdout` split, or `folds` folds by cell hash.
fn splits(set: &ResponseSet, args: &CompareArgs) -> Result<Vec<Split>, CliError> {
    if args.folds == 0 || args.folds == 1 {
        return Ok(vec![split_cells(
            set,
            set.cells(),
            args.holdout,
            args.seed,
        )?]);
    }
    let k = args.folds as u64;
    let fold_of = |c: &Cell| {
        let l = &set.learner_ids()[c.learner as usize];
        let q = &set.question_ids()[c.question as usize];
        cell_hash(args.seed, l, q) % k
    };
    Ok((0..k)
        .map(|f| {
            let (heldout, train): (Vec<Cell>, Vec<Cell>) =
                set.cells().iter().partition(|c| fold_of(c) == f);
            Split { train, heldout }
        })
        .collect())
}

/// One model's pooled held-out metrics, total fit seconds and the members it fitted.
struct Row {
    name: &'static str,
    metrics: Metrics,
    seconds: f64,
    fitted: Vec<String>,
}

/// Fits every model of [`MODELS`] on every split of `set`; returns the rows and the
/// number of splits.
fn run(
    set: &ResponseSet,
    hints: &Hints,
    args: &CompareArgs,
) -> Result<(Vec<Row>, usize), CliError> {
    let splits = splits(set, args)?;
    let mut rows = Vec::new();
    for (model, kind, lambda) in MODELS {
        let options = TrainOptions {
            kind,
            lambda,
            seed: args.seed,
            ..TrainOptions::default()
        };
        let (mut probabilities, mut cells, mut seconds, mut fitted) =
            (Vec::new(), Vec::new(), 0.0, Vec::new());
        for split in &splits {
            let start = Instant::now();
            let out = train(set, &split.train, hints, &options, &mut |_| {})?;
            seconds += start.elapsed().as_secs_f64();
            let train_cells =
                CellMatrix::new(set.num_learners(), set.num_questions(), &split.train)?;
            let u = estimate_knowledge(&out.fit.model, &train_cells);
            probabilities.extend(predict(&out.fit.model, &u, &split.heldout));
            cells.extend_from_slice(&split.heldout);
            let member = serde_json::to_value(out.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            fitted.push(format!("{member}@{:.3}", out.lambda));
        }
        eprintln!("{model}: fitted {}", fitted.join(", "));
        rows.push(Row {
            name: model,
            metrics: metrics(&probabilities, &cells),
            seconds,
            fitted,
        });
    }
    Ok((rows, splits.len()))
}

/// The JSON line printed last.
fn json_line(set: &ResponseSet, rows: &[Row], folds: usize) -> Value {
    let models: serde_json::Map<String, Value> = rows
        .iter()
        .map(|r| {
            let m = &r.metrics;
            (
                r.name.to_string(),
                json!({"log_loss": m.log_loss, "auc": m.auc, "accuracy": m.accuracy,
                       "brier": m.brier, "fit_seconds": r.seconds, "fitted": r.fitted}),
            )
        })
        .collect();
    json!({
        "learners": set.num_learners(),
        "questions": set.num_questions(),
        "cells": set.cells().len(),
        "folds": folds,
        "heldout_cells": rows.first().map_or(0, |r| r.metrics.count),
        "models": models,
    })
}

/// `compare`.
pub fn compare(args: &CompareArgs) -> Result<(), CliError> {
    let name = args.responses.display().to_string();
    let set = ResponseSet::from_csv(&read_text(&args.responses)?, &name)?;
    let hints = match &args.hints {
        Some(p) => Hints::from_csv(&read_text(p)?, &p.display().to_string(), &set)?,
        None => Hints::single_concept(set.num_questions(), "all"),
    };
    let (rows, folds) = run(&set, &hints, args)?;
    println!(
        "{:<8} {:>9} {:>7} {:>9} {:>7} {:>9}  fitted (member@λ per fold)",
        "model", "log-loss", "AUC", "accuracy", "Brier", "fit s"
    );
    for r in &rows {
        let m = &r.metrics;
        println!(
            "{:<8} {:>9.4} {:>7.4} {:>9.4} {:>7.4} {:>9.3}  {}",
            r.name,
            m.log_loss,
            m.auc,
            m.accuracy,
            m.brier,
            r.seconds,
            r.fitted.join(" ")
        );
    }
    println!("{}", json_line(&set, &rows, folds));
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests panic on unexpected errors by design

    use std::path::PathBuf;

    use biglearn_core::sparfa::synth::{generate, SynthConfig};

    use super::*;

    fn args(folds: usize) -> CompareArgs {
        CompareArgs {
            responses: PathBuf::from("missing-responses.csv"),
            hints: None,
            folds,
            holdout: 0.25,
            seed: 3,
        }
    }

    fn data() -> biglearn_core::sparfa::synth::SynthData {
        let config = SynthConfig {
            learners: 150,
            questions: 24,
            concepts: 3,
            density: 0.7,
            seed: 5,
        };
        generate(&config).unwrap()
    }

    /// Three folds hold out every cell exactly once, for every model; the models are
    /// the four asked for, in order, and SPARFA predicts better than the rate model.
    #[test]
    fn folds_score_every_cell_once() {
        let d = data();
        let (rows, folds) = run(&d.responses, &d.hints, &args(3)).unwrap();
        assert_eq!(folds, 3);
        let names: Vec<&str> = rows.iter().map(|r| r.name).collect();
        assert_eq!(names, ["sparfa", "2pl", "rasch", "rate"]);
        let cells = d.responses.cells().len();
        for r in &rows {
            assert_eq!(r.metrics.count, cells, "{}", r.name);
            assert_eq!(r.fitted.len(), 3, "{}", r.name);
            assert!(r.metrics.log_loss.is_finite() && r.seconds >= 0.0);
        }
        assert!(rows[0].metrics.log_loss < rows[3].metrics.log_loss);
        assert!(rows[0].metrics.auc > rows[3].metrics.auc);
        let line: Value =
            serde_json::from_str(&json_line(&d.responses, &rows, folds).to_string()).unwrap();
        assert_eq!(line["folds"], 3);
        assert_eq!(line["heldout_cells"], cells);
        for name in names {
            assert!(line["models"][name]["brier"].is_f64(), "{name}");
        }
    }

    /// Without folds one split holds out about the asked fraction.
    #[test]
    fn one_split_holds_out_the_fraction() {
        let d = data();
        let (rows, folds) = run(&d.responses, &d.hints, &args(0)).unwrap();
        assert_eq!(folds, 1);
        let share = rows[0].metrics.count as f64 / d.responses.cells().len() as f64;
        assert!((share - 0.25).abs() < 0.05, "{share}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = compare(&args(0)).unwrap_err().to_string();
        assert!(err.contains("missing-responses.csv"), "{err}");
    }
}
