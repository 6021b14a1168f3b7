//! A semester in a few seconds: a simulated book, course and students,
//! driven through the event log and the engine on the embedded SQLite
//! store. The simulator itself is `biglearn::core::simulation`; this is its
//! command line.
//!
//! ```text
//! cargo run --release --example simulate -- --students 300 --weeks 10 --seed 1 [--database FILE]
//! ```
//!
//! Per week it prints the mean student CLUE against the hidden true mastery,
//! PE/SPE counts, and how often the 50 % CLUE interval covers the true
//! mastery for (student, page) pairs with at least 5 answered responses.
//! On a terminal, stderr shows which week is running.

#[path = "common/progress.rs"]
mod progress;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant as Clock;

use biglearn::core::simulation::{Policy, Simulation, SimulationConfig, WeekReport};
use biglearn::store::{SqlStore, SqliteOptions, Synchronous};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Simulate a course through the engine on SQLite")]
struct Args {
    /// Students in the course (three periods).
    #[arg(long, default_value_t = 300)]
    students: usize,
    /// Weeks to simulate (one chapter per week).
    #[arg(long, default_value_t = 10)]
    weeks: usize,
    /// Seed of the hidden model and of the students' answers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Spread (sd) of the students' overall ability in the hidden model.
    #[arg(long, default_value_t = 0.5)]
    ability_sd: f64,
    /// Spread (sd) of a student's page knowledge around its ability.
    #[arg(long, default_value_t = 0.4)]
    page_sd: f64,
    /// Mean of the exercises' intercepts in the hidden model.
    #[arg(long, default_value_t = 0.0)]
    intercept_mean: f64,
    /// Spread (sd) of the exercises' intercepts.
    #[arg(long, default_value_t = 0.6)]
    intercept_sd: f64,
    /// Refit pending ecosystems every this many simulated days (a server
    /// refits in the background; a fit takes a while, so refits coalesce).
    #[arg(long, default_value_t = 2.0)]
    refit_every_days: f64,
    /// Use a new engine (empty caches) for every step: the consumption
    /// rate without the decoded-state and matrix caches, for comparison.
    #[arg(long)]
    fresh_engine_per_step: bool,
    /// Which exercises Tutor adds: biglearn_sparfa, local_query or none
    /// (no PEs, SPEs or worst-areas practice).
    #[arg(long, default_value = "biglearn_sparfa")]
    policy: String,
    /// SQLite database file (default: a temporary file).
    #[arg(long)]
    database: Option<PathBuf>,
}

/// Seconds since the first call: the simulation's timing clock.
fn seconds() -> f64 {
    static ORIGIN: OnceLock<Clock> = OnceLock::new();
    ORIGIN.get_or_init(Clock::now).elapsed().as_secs_f64()
}

fn run(args: &Args) -> Result<(), String> {
    let started = Clock::now();
    seconds();
    let directory = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let path = args
        .database
        .clone()
        .unwrap_or_else(|| directory.path().join("simulate.sqlite"));
    let path_text = path
        .to_str()
        .ok_or_else(|| format!("database path {path:?} is not UTF-8"))?;
    // A simulation needs no power-loss durability: WAL with
    // synchronous=NORMAL (still crash-consistent).
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let store = SqlStore::open_sqlite(path_text, options)
        .map_err(|e| format!("opening {path_text}: {e}"))?;
    store
        .migrate()
        .map_err(|e| format!("migrating {path_text}: {e}"))?;
    let config = SimulationConfig {
        students: args.students,
        weeks: args.weeks,
        seed: args.seed,
        ability_sd: args.ability_sd,
        page_sd: args.page_sd,
        intercept_mean: args.intercept_mean,
        intercept_sd: args.intercept_sd,
        refit_every_days: args.refit_every_days,
        fresh_engine_per_step: args.fresh_engine_per_step,
        policy: Policy::from_name(&args.policy).map_err(|e| e.to_string())?,
        clock: seconds,
    };
    let mut simulation = Simulation::new(store, config).map_err(|e| e.to_string())?;
    println!("{}", WeekReport::table_header());
    let bar = progress::bar(args.weeks as u64, "weeks");
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    while !simulation.is_finished() {
        bar.set_message(format!(
            "simulating week {} of {}",
            bar.position() + 1,
            args.weeks
        ));
        let report = simulation.advance_week().map_err(|e| e.to_string())?;
        // The table goes to stdout; the bar steps aside while it prints.
        bar.suspend(|| println!("{}", report.table_row()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let timing = simulation.timing();
    println!(
        "{} events, {} refits, {:.1} s (engine steps {:.1} s = {:.0} events/s, refits {:.1} s, appends {:.1} s)",
        simulation.events(),
        simulation.refits(),
        started.elapsed().as_secs_f64(),
        timing.engine_steps,
        simulation.events() as f64 / timing.engine_steps.max(1e-9),
        timing.refits,
        timing.appends
    );
    let work = simulation.engine_work();
    println!(
        "engine: {} events applied, {} result rows written, {:.0} bytes of course state written per event",
        work.events_applied,
        work.result_writes,
        work.state_bytes_per_event()
    );
    Ok(())
}

fn main() {
    let args = Args::parse();
    if let Err(error) = run(&args) {
        eprintln!("simulate: {error}");
        std::process::exit(1);
    }
}
