//! File handling of the CLI: errors, reading and writing CSV/JSON, `convert` and `synth`.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use biglearn_core::sparfa::data::{Hints, ResponseSet};
use biglearn_core::sparfa::eval::quote;
use biglearn_core::sparfa::synth::{generate, SynthConfig, SynthData};
use biglearn_core::sparfa::wide::wide_to_long;
use biglearn_core::sparfa::{SparfaError, SparfaModel};
use serde::{Deserialize, Serialize};

use crate::{ConvertArgs, SynthArgs};

/// Errors of the CLI.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A JSON file could not be read or written.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Data, options or fitting failed.
    #[error(transparent)]
    Sparfa(#[from] SparfaError),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
}

/// The truth written by `synth` next to the responses.
#[derive(Serialize, Deserialize)]
pub struct Truth {
    /// True W, d, H.
    pub model: SparfaModel,
    /// Learner ids, in the order of `knowledge`.
    pub learner_ids: Vec<String>,
    /// True knowledge, learner-major.
    pub knowledge: Vec<f64>,
}

/// Reads a whole text file.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a whole text file.
pub fn write_text(path: &Path, text: &str) -> Result<(), CliError> {
    fs::write(path, text).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `value` as JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string(value).map_err(|e| CliError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_text(path, &text)
}

/// Reads `truth.json`.
pub fn read_truth(path: &Path) -> Result<Truth, CliError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| CliError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn writer(path: &Path) -> Result<BufWriter<fs::File>, CliError> {
    fs::File::create(path)
        .map(BufWriter::new)
        .map_err(|source| CliError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes responses as a long CSV `learner,question,correct`.
pub fn write_responses(path: &Path, set: &ResponseSet) -> Result<(), CliError> {
    let mut w = writer(path)?;
    let e = io_err(path);
    writeln!(w, "learner,question,correct").map_err(&e)?;
    for c in set.cells() {
        let l = quote(&set.learner_ids()[c.learner as usize]);
        let q = quote(&set.question_ids()[c.question as usize]);
        writeln!(w, "{l},{q},{}", u8::from(c.correct)).map_err(&e)?;
    }
    w.flush().map_err(&e)
}

/// Writes hints as a CSV `question,concept`.
pub fn write_hints(path: &Path, question_ids: &[String], hints: &Hints) -> Result<(), CliError> {
    let mut w = writer(path)?;
    let e = io_err(path);
    writeln!(w, "question,concept").map_err(&e)?;
    for (q, list) in hints.by_question().iter().enumerate() {
        for &k in list {
            let c = quote(&hints.concept_ids()[k as usize]);
            writeln!(w, "{},{c}", quote(&question_ids[q])).map_err(&e)?;
        }
    }
    w.flush().map_err(&e)
}

/// `convert`: wide table to long responses (and hints).
pub fn convert(args: &ConvertArgs) -> Result<(), CliError> {
    let text = read_text(&args.wide)?;
    let wide = wide_to_long(&text, &args.wide.display().to_string())?;
    let mut w = writer(&args.out)?;
    let e = io_err(&args.out);
    writeln!(w, "learner,question,correct").map_err(&e)?;
    for (l, q, y) in &wide.responses {
        writeln!(w, "{},{},{}", quote(l), quote(q), u8::from(*y)).map_err(&e)?;
    }
    w.flush().map_err(&e)?;
    if let Some(path) = &args.hints_out {
        let mut w = writer(path)?;
        let e = io_err(path);
        writeln!(w, "question,concept").map_err(&e)?;
        for (q, c) in &wide.hints {
            writeln!(w, "{},{}", quote(q), quote(c)).map_err(&e)?;
        }
        w.flush().map_err(&e)?;
    }
    eprintln!(
        "{}: {} responses, {} missing cells, {} items",
        args.wide.display(),
        wide.responses.len(),
        wide.missing,
        wide.hints.len()
    );
    Ok(())
}

/// Generates synthetic data from CLI arguments.
pub fn generate_from(args: &SynthArgs) -> Result<SynthData, CliError> {
    Ok(generate(&SynthConfig {
        learners: args.learners,
        questions: args.questions,
        concepts: args.concepts,
        density: args.density,
        seed: args.seed,
    })?)
}

/// `synth`: writes responses.csv, hints.csv and truth.json to `--out`.
pub fn synth(args: &SynthArgs) -> Result<(), CliError> {
    let out = args
        .out
        .as_ref()
        .ok_or_else(|| CliError::Usage("synth needs --out DIR".into()))?;
    fs::create_dir_all(out).map_err(io_err(out))?;
    let data = generate_from(args)?;
    write_responses(&out.join("responses.csv"), &data.responses)?;
    write_hints(
        &out.join("hints.csv"),
        data.responses.question_ids(),
        &data.hints,
    )?;
    let truth = Truth {
        model: data.truth,
        learner_ids: data.responses.learner_ids().to_vec(),
        knowledge: data.knowledge,
    };
    write_json(&out.join("truth.json"), &truth)?;
    println!(
        "{}",
        serde_json::json!({
            "learners": data.responses.num_learners(),
            "questions": data.responses.num_questions(),
            "concepts": data.hints.num_concepts(),
            "cells": data.responses.cells().len(),
            "out": out.display().to_string(),
        })
    );
    Ok(())
}
