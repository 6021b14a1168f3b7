//! `fit` and `experiment`: train on the training cells, score the held-out cells.

use std::time::Instant;

use biglearn_core::sparfa::baselines::{train, Lambda, ModelKind, TrainOptions, TrainOutput};
use biglearn_core::sparfa::data::{Cell, CellMatrix, Hints, ResponseSet};
use biglearn_core::sparfa::eval::{
    evaluate, metrics, predict, split_cells, split_from_csv, split_to_csv, Metrics, Split,
};
use biglearn_core::sparfa::fit::{FitOptions, IterationReport};
use biglearn_core::sparfa::kkt::kkt_violation;
use biglearn_core::sparfa::SparfaModel;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::files::{generate_from, read_text, read_truth, write_json, write_text, CliError};
use crate::{ExperimentArgs, FitArgs, ModelArgs};

/// Training options from the CLI arguments.
pub fn train_options(args: &ModelArgs, kind: ModelKind) -> Result<TrainOptions, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--lambda `{}` is not a number, `auto`, `scaled` or `scaled:NUMBER`",
            args.lambda
        ))
    };
    let lambda = match args.lambda.as_str() {
        "auto" => Lambda::Auto,
        "scaled" => Lambda::Scaled(2.0),
        other => match other.strip_prefix("scaled:") {
            Some(v) => Lambda::Scaled(v.parse().map_err(|_| bad())?),
            None => Lambda::Fixed(other.parse().map_err(|_| bad())?),
        },
    };
    Ok(TrainOptions {
        kind,
        lambda,
        fit: FitOptions {
            max_iterations: args.max_iterations,
            relative_tolerance: args.relative_tolerance,
            gradient_tolerance: args.gradient_tolerance,
            learner_sweeps: args.learner_sweeps,
            question_iterations: args.question_iterations,
            ..FitOptions::default()
        },
        seed: args.seed,
        ..TrainOptions::default()
    })
}

/// A fitted and scored model.
pub struct Scored {
    /// Training result.
    pub output: TrainOutput,
    /// Held-out metrics.
    pub metrics: Metrics,
    /// Seconds spent in training.
    pub seconds: f64,
}

/// Trains one model kind with a progress bar on stderr and scores it.
pub fn train_and_score(
    set: &ResponseSet,
    split: &Split,
    hints: &Hints,
    options: &TrainOptions,
    label: &str,
) -> Result<Scored, CliError> {
    let bar = ProgressBar::new(options.fit.max_iterations as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(label.to_string());
    let mut on_iteration = |r: &IterationReport| {
        bar.set_position(r.iteration as u64);
        let j = r
            .objective
            .map_or_else(|| "J …".to_string(), |j| format!("J {j:.6e}"));
        bar.set_message(format!("{j} grad {:.1e}", r.gradient));
    };
    let start = Instant::now();
    let output = train(set, &split.train, hints, options, &mut on_iteration)?;
    let seconds = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let cells = CellMatrix::new(set.num_learners(), set.num_questions(), &split.train)?;
    let metrics = evaluate(&output.fit.model, &cells, &split.heldout);
    Ok(Scored {
        output,
        metrics,
        seconds,
    })
}

fn metrics_json(m: &Metrics) -> Value {
    json!({ "accuracy": m.accuracy, "log_loss": m.log_loss, "auc": m.auc, "brier": m.brier })
}

/// Fits the requested model (and baselines) and builds the summary JSON.
fn run_all(
    set: &ResponseSet,
    split: &Split,
    hints: &Hints,
    args: &ModelArgs,
) -> Result<(Scored, Value), CliError> {
    let kind: ModelKind = args.model.parse()?;
    let options = train_options(args, kind)?;
    let main = train_and_score(set, split, hints, &options, &args.model)?;
    let fit = &main.output.fit;
    let mut summary = json!({
        "model": args.model,
        "fitted_model": main.output.kind,
        "lambda": main.output.lambda,
        "validation": main.output.validation,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "loadings_nonzero": fit.model.loadings.iter().map(Vec::len).sum::<usize>(),
        "offhint_nonzero": fit.model.loadings.iter().zip(&fit.model.hints)
            .map(|(l, h)| l.iter().filter(|(k, _)| h.binary_search(k).is_err()).count())
            .sum::<usize>(),
    });
    if args.kkt {
        let cells = CellMatrix::new(set.num_learners(), set.num_questions(), &split.train)?;
        let k = kkt_violation(&fit.model, &fit.knowledge, &cells, kind.fixed_loadings());
        summary["kkt"] = json!({
            "positive_loadings": k.positive_loadings, "zero_loadings": k.zero_loadings,
            "intercepts": k.intercepts, "knowledge": k.knowledge,
        });
    }
    if args.baselines {
        let mut base = serde_json::Map::new();
        for (name, kind) in [
            ("rate", ModelKind::Rate),
            ("rasch", ModelKind::Rasch),
            ("2pl", ModelKind::TwoPl),
        ] {
            let o = train_options(args, kind)?;
            let s = train_and_score(set, split, hints, &o, name)?;
            let mut v = metrics_json(&s.metrics);
            v["fit_seconds"] = json!(s.seconds);
            v["lambda"] = json!(s.output.lambda);
            eprintln!("{name}: {v}");
            base.insert(name.to_string(), v);
        }
        summary["baselines"] = Value::Object(base);
    }
    Ok((main, summary))
}

fn final_line(set: &ResponseSet, split: &Split, scored: &Scored, mut summary: Value) -> Value {
    let m = &scored.metrics;
    let fit = &scored.output.fit;
    let head = json!({
        "accuracy": m.accuracy,
        "log_loss": m.log_loss,
        "auc": m.auc,
        "brier": m.brier,
        "fit_seconds": scored.seconds,
        "objective": fit.objective,
        "learners": set.num_learners(),
        "questions": set.num_questions(),
        "concepts": fit.model.num_concepts(),
        "train_cells": split.train.len(),
        "heldout_cells": split.heldout.len(),
    });
    if let (Value::Object(h), Value::Object(s)) = (head, &mut summary) {
        let mut merged = h;
        merged.append(s);
        return Value::Object(merged);
    }
    summary
}

/// Oracle metrics: the true model and knowledge on held-out cells (ids mapped by name).
fn oracle(
    set: &ResponseSet,
    truth: &SparfaModel,
    learner_ids: &[String],
    knowledge: &[f64],
    heldout: &[Cell],
) -> Result<Metrics, CliError> {
    let k = truth.num_concepts();
    let lpos: std::collections::HashMap<&str, usize> = learner_ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let qpos: std::collections::HashMap<&str, usize> = truth
        .question_ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut p = Vec::with_capacity(heldout.len());
    for c in heldout {
        let lid = &set.learner_ids()[c.learner as usize];
        let qid = &set.question_ids()[c.question as usize];
        let (Some(&l), Some(&q)) = (lpos.get(lid.as_str()), qpos.get(qid.as_str())) else {
            return Err(CliError::Usage(format!(
                "truth has no learner `{lid}` or question `{qid}`"
            )));
        };
        p.push(
            predict(
                truth,
                &knowledge[l * k..(l + 1) * k],
                &[Cell {
                    learner: 0,
                    question: q as u32,
                    correct: c.correct,
                }],
            )[0],
        );
    }
    Ok(metrics(&p, heldout))
}

/// `fit`.
pub fn fit(args: &FitArgs) -> Result<(), CliError> {
    let name = args.responses.display().to_string();
    let set = ResponseSet::from_csv(&read_text(&args.responses)?, &name)?;
    if set.duplicates() > 0 {
        eprintln!(
            "{name}: kept the first of repeated responses ({} later ones ignored)",
            set.duplicates()
        );
    }
    let hints = match &args.hints {
        Some(p) => Hints::from_csv(&read_text(p)?, &p.display().to_string(), &set)?,
        None => Hints::single_concept(set.num_questions(), "all"),
    };
    let split = match &args.split_in {
        Some(p) => split_from_csv(&read_text(p)?, &p.display().to_string(), &set)?,
        None => split_cells(&set, set.cells(), args.model.holdout, args.model.seed)?,
    };
    if let Some(p) = &args.split_out {
        write_text(p, &split_to_csv(&set, &split))?;
    }
    let (scored, mut summary) = run_all(&set, &split, &hints, &args.model)?;
    if let Some(p) = &args.truth {
        let t = read_truth(p)?;
        summary["oracle"] = metrics_json(&oracle(
            &set,
            &t.model,
            &t.learner_ids,
            &t.knowledge,
            &split.heldout,
        )?);
    }
    if let Some(p) = &args.model_out {
        write_json(p, &scored.output.fit.model)?;
    }
    println!("{}", final_line(&set, &split, &scored, summary));
    Ok(())
}

/// `experiment`: synthetic data in memory, fit, oracle comparison.
pub fn experiment(args: &ExperimentArgs) -> Result<(), CliError> {
    let data = generate_from(&crate::SynthArgs {
        learners: args.learners,
        questions: args.questions,
        concepts: args.concepts,
        density: args.density,
        seed: args.model.seed,
        out: None,
    })?;
    let set = &data.responses;
    let split = split_cells(set, set.cells(), args.model.holdout, args.model.seed)?;
    let (scored, mut summary) = run_all(set, &split, &data.hints, &args.model)?;
    summary["oracle"] = metrics_json(&oracle(
        set,
        &data.truth,
        set.learner_ids(),
        &data.knowledge,
        &split.heldout,
    )?);
    println!("{}", final_line(set, &split, &scored, summary));
    Ok(())
}
