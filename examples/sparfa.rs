//! Researcher CLI for SPARFA fitting and evaluation.
//!
//! ```text
//! cargo run --release --example sparfa -- fit --responses R.csv [--hints H.csv] [--holdout 0.2]
//!     [--seed 0] [--split-in P.csv] [--split-out P.csv] [--model-out M.json]
//!     [--model sparfa|2pl|rasch|rate] [--lambda scaled|L|auto] [--baselines] [--truth truth.json]
//! cargo run --release --example sparfa -- convert --wide FILE --out R.csv [--hints-out H.csv]
//! cargo run --release --example sparfa -- synth --learners N --questions Q --concepts K
//!     --density P --seed S --out DIR
//! cargo run --release --example sparfa -- experiment --learners N --questions Q --concepts K
//!     --density P --seed S [--holdout 0.2] [--model …] [--lambda …]
//! cargo run --release --example sparfa -- calibrate --learners N --questions Q --concepts K
//!     --density P --seed S
//! cargo run --release --example sparfa -- compare --responses R.csv [--hints H.csv]
//!     [--folds K] [--holdout 0.2] [--seed 0]
//! ```
//!
//! The last stdout line of `fit`, `experiment`, `calibrate` and `compare` is one JSON
//! object.

#[path = "sparfa/calibrate.rs"]
mod calibrate;
#[path = "sparfa/compare.rs"]
mod compare;
#[path = "sparfa/files.rs"]
mod files;
#[path = "sparfa/run.rs"]
mod run;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(about = "SPARFA fitting, evaluation and synthetic data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a model on a long response CSV and score it on held-out cells.
    Fit(FitArgs),
    /// Convert a wide table (one row per learner) to a long response CSV.
    Convert(ConvertArgs),
    /// Write a synthetic data set with known truth.
    Synth(SynthArgs),
    /// Generate synthetic data in memory, fit, and compare with the oracle.
    Experiment(ExperimentArgs),
    /// Synthetic data, fit, then the coverage of 50 % CLUE intervals.
    Calibrate(SynthArgs),
    /// SPARFA, 2PL, Rasch and the rate baseline on the same split (or k folds).
    Compare(CompareArgs),
}

#[derive(Args)]
struct CompareArgs {
    /// Long CSV `learner,question,correct`.
    #[arg(long)]
    responses: PathBuf,
    /// CSV `question,concept`; without it all questions share one concept.
    #[arg(long)]
    hints: Option<PathBuf>,
    /// k-fold cross-validation with this many folds (0 or 1: one --holdout split).
    #[arg(long, default_value_t = 0)]
    folds: usize,
    /// Fraction of cells held out without --folds.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
    /// Seed of the split or folds (and of the validation splits).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Model and λ choices shared by `fit` and `experiment`.
#[derive(Args, Clone)]
struct ModelArgs {
    /// sparfa, 2pl, rasch, rate or exploratory.
    #[arg(long, default_value = "sparfa")]
    model: String,
    /// λ = λ_H = λ_U: `auto` (the default: validated on a split of the training cells;
    /// with `--model sparfa` the model too, among 2PL, Rasch, SPARFA and an exploratory
    /// 2-factor model), a number (used as is), `scaled` (2 × the data-size factor) or
    /// `scaled:L` (L × that factor). The off-hint weight is 10·max(1, λ/2)^1.5.
    #[arg(long, default_value = "auto")]
    lambda: String,
    /// Fraction of observed cells held out (ignored with --split-in).
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
    /// Seed of the held-out and validation splits.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also fit and score the rate and Rasch baselines on the same split.
    #[arg(long)]
    baselines: bool,
    /// Maximum outer iterations of the fit.
    #[arg(long, default_value_t = 500)]
    max_iterations: usize,
    /// Stop when J decreases by less than this fraction per iteration.
    #[arg(long, default_value_t = 0.0)]
    relative_tolerance: f64,
    /// Stop when all block gradients are below this.
    #[arg(long, default_value_t = 1e-5)]
    gradient_tolerance: f64,
    /// Coordinate sweeps per learner and outer iteration.
    #[arg(long, default_value_t = 1)]
    learner_sweeps: usize,
    /// Newton iterations per question and outer iteration.
    #[arg(long, default_value_t = 1)]
    question_iterations: usize,
    /// Measure the KKT conditions at the result (one pass × concepts).
    #[arg(long)]
    kkt: bool,
}

#[derive(Args)]
struct FitArgs {
    /// Long CSV `learner,question,correct`.
    #[arg(long)]
    responses: PathBuf,
    /// CSV `question,concept`; without it all questions share one concept.
    #[arg(long)]
    hints: Option<PathBuf>,
    /// CSV `learner,question` listing exactly the held-out cells.
    #[arg(long)]
    split_in: Option<PathBuf>,
    /// Write the held-out cells used here.
    #[arg(long)]
    split_out: Option<PathBuf>,
    /// Write the fitted model as JSON.
    #[arg(long)]
    model_out: Option<PathBuf>,
    /// truth.json of `synth`: also score the true model on the held-out cells.
    #[arg(long)]
    truth: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct ConvertArgs {
    /// The wide CSV.
    #[arg(long)]
    wide: PathBuf,
    /// The long CSV to write.
    #[arg(long)]
    out: PathBuf,
    /// Also write hints (concept = item name up to the first `.`).
    #[arg(long)]
    hints_out: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct SynthArgs {
    /// Learners.
    #[arg(long, default_value_t = 1000)]
    learners: usize,
    /// Questions.
    #[arg(long, default_value_t = 200)]
    questions: usize,
    /// Concepts.
    #[arg(long, default_value_t = 20)]
    concepts: usize,
    /// Probability that a cell is observed.
    #[arg(long, default_value_t = 0.5)]
    density: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (`synth` only).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct ExperimentArgs {
    /// Learners.
    #[arg(long, default_value_t = 1000)]
    learners: usize,
    /// Questions.
    #[arg(long, default_value_t = 200)]
    questions: usize,
    /// Concepts.
    #[arg(long, default_value_t = 20)]
    concepts: usize,
    /// Probability that a cell is observed.
    #[arg(long, default_value_t = 0.5)]
    density: f64,
    /// Model, split and fit options; `--seed` seeds the data and the split.
    #[command(flatten)]
    model: ModelArgs,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(a) => run::fit(&a),
        Command::Convert(a) => files::convert(&a),
        Command::Synth(a) => files::synth(&a),
        Command::Experiment(a) => run::experiment(&a),
        Command::Calibrate(a) => calibrate::calibrate(&a),
        Command::Compare(a) => compare::compare(&a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
