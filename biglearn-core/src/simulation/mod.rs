//! A semester in a few seconds: a simulated book, course and students with a
//! hidden SPARFA model, driven through the event log and the engine.
//!
//! Every week the simulated Tutor opens a reading and a homework on the
//! week's chapter for every student, asks the engine for PEs and SPEs (per
//! [`Policy`]) and adds them to the assignments; students answer following
//! the hidden model; the engine steps once per simulated day (due dates
//! pass, feedback becomes visible) and refits pending ecosystems as a server
//! would in the background. On the last day of a week every student
//! practises their worst areas. Results are read back through the
//! [`EngineStore`] (what the HTTP server returns), so the figures are the
//! ones a client would see.
//!
//! The run is a function of [`SimulationConfig`] alone (the seed drives the
//! hidden model and every answer), and it is step-wise:
//! [`Simulation::advance_week`] runs one week and returns its
//! [`WeekReport`], so a page or a notebook can draw as it goes. It is
//! generic over the store: [`crate::memory::MemoryStore`] here, the SQL
//! store of `biglearn-store` in the `simulate` example.
//!
//! The library reads no clock (it compiles to wasm32, where there is none):
//! pass [`SimulationConfig::clock`] to have the wall time of engine steps,
//! refits and appends summed in [`Simulation::timing`].

mod metrics;
mod tutor;
mod world;

#[cfg(test)]
mod tests;

pub use metrics::{ClueFigures, WeekReport, MIN_RESPONSES};
pub use world::{Page, World};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::engine_store::EngineStore;
use crate::log::ConsumerName;

use tutor::Tutor;

/// A source of seconds (any origin) for the optional timing figures.
pub type Clock = fn() -> f64;

fn no_clock() -> f64 {
    0.0
}

/// Which exercises the simulated Tutor adds to the assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// PEs of `biglearn_sparfa`, SPEs of `instructor_driven_biglearn_sparfa`
    /// and a worst-areas practice of `biglearn_sparfa` (the default).
    #[default]
    BiglearnSparfa,
    /// The same from the `local_query` algorithm.
    LocalQuery,
    /// No personalization: only the core exercises of the readings and
    /// homeworks, no PEs, SPEs or worst-areas practice.
    None,
}

impl Policy {
    /// The policy's name: `biglearn_sparfa`, `local_query` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::BiglearnSparfa => "biglearn_sparfa",
            Policy::LocalQuery => "local_query",
            Policy::None => "none",
        }
    }

    /// The policy named `name` (as [`Policy::name`] spells it).
    pub fn from_name(name: &str) -> Result<Policy, SimulationError> {
        match name {
            "biglearn_sparfa" => Ok(Policy::BiglearnSparfa),
            "local_query" => Ok(Policy::LocalQuery),
            "none" => Ok(Policy::None),
            other => Err(SimulationError::UnknownPolicy(other.to_owned())),
        }
    }

    /// (PE, SPE, practice) algorithm names, `None` for no personalization.
    fn algorithms(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            Policy::BiglearnSparfa => Some((
                "biglearn_sparfa",
                "instructor_driven_biglearn_sparfa",
                "biglearn_sparfa",
            )),
            Policy::LocalQuery => Some((
                "local_query",
                "instructor_driven_local_query",
                "local_query",
            )),
            Policy::None => None,
        }
    }
}

/// Everything a simulation run depends on.
#[derive(Debug, Clone)]
pub struct SimulationConfig {
    /// Students in the course (three periods).
    pub students: usize,
    /// Weeks to simulate (one chapter per week; the book has
    /// `max(weeks, 1)` chapters of three pages).
    pub weeks: usize,
    /// Seed of the hidden model and of the students' answers.
    pub seed: u64,
    /// Spread (sd) of the students' overall ability in the hidden model.
    pub ability_sd: f64,
    /// Spread (sd) of a student's page knowledge around its ability.
    pub page_sd: f64,
    /// Mean of the exercises' intercepts in the hidden model.
    pub intercept_mean: f64,
    /// Spread (sd) of the exercises' intercepts.
    pub intercept_sd: f64,
    /// Refit pending ecosystems every this many simulated days (a server
    /// refits in the background; a fit takes a while, so refits coalesce).
    pub refit_every_days: f64,
    /// Use a new engine (empty caches) for every step: the consumption rate
    /// without the engine's caches, for comparison.
    pub fresh_engine_per_step: bool,
    /// Which exercises Tutor adds to the assignments.
    pub policy: Policy,
    /// Clock for [`Simulation::timing`]; the default reads none (all zero).
    pub clock: Clock,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            students: 300,
            weeks: 10,
            seed: 1,
            ability_sd: 0.5,
            page_sd: 0.4,
            intercept_mean: 0.0,
            intercept_sd: 0.6,
            refit_every_days: 2.0,
            fresh_engine_per_step: false,
            policy: Policy::BiglearnSparfa,
            clock: no_clock,
        }
    }
}

/// What the engine did: events applied, result rows and course-state bytes
/// written (the storage cost per response).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EngineWork {
    /// Events the engine applied.
    pub events_applied: usize,
    /// Result rows the engine wrote or deleted.
    pub result_writes: usize,
    /// Bytes of course state (head and parts) the engine wrote.
    pub state_bytes_written: usize,
}

impl EngineWork {
    /// Course-state bytes written per applied event.
    pub fn state_bytes_per_event(&self) -> f64 {
        self.state_bytes_written as f64 / self.events_applied.max(1) as f64
    }
}

/// Seconds spent, per kind of work, as measured by
/// [`SimulationConfig::clock`].
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Timing {
    /// In engine steps (catching up with the log).
    pub engine_steps: f64,
    /// In matrix refits.
    pub refits: f64,
    /// In appends to the event log.
    pub appends: f64,
}

/// Why a simulation could not go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    /// A simulated wire event did not validate (a bug of the simulator).
    #[error("{what}: {detail}")]
    Event {
        /// The kind of event.
        what: &'static str,
        /// The validation errors.
        detail: String,
    },
    /// A simulated day fell outside the datetime range of the wire format.
    #[error("day {day} is out of the datetime range")]
    DayOutOfRange {
        /// The day, counted from the course start.
        day: f64,
    },
    /// The store rejected or failed an append.
    #[error("append: {0}")]
    Append(String),
    /// The store failed a read.
    #[error("store: {0}")]
    Store(String),
    /// The engine failed a step or a refit.
    #[error("engine: {0}")]
    Engine(String),
    /// A configuration value was not usable.
    #[error("setup: {0}")]
    Setup(String),
    /// A policy name that is none of `biglearn_sparfa`, `local_query`, `none`.
    #[error("unknown policy {0:?}: expected biglearn_sparfa, local_query or none")]
    UnknownPolicy(String),
    /// [`Simulation::advance_week`] after the last week.
    #[error("the simulation is finished: all {0} weeks ran")]
    Finished(usize),
}

impl SimulationError {
    fn event(what: &'static str, detail: String) -> Self {
        SimulationError::Event { what, detail }
    }
}

/// A running simulation over the store `S`.
pub struct Simulation<S> {
    tutor: Tutor<S>,
    rng: ChaCha20Rng,
    config: SimulationConfig,
    weeks_done: usize,
}

impl<S: EngineStore> Simulation<S> {
    /// Draws the hidden model, appends the book, the course and the roster
    /// to `store` (which should hold no other course of these ids) and lets
    /// the engine catch up.
    pub fn new(store: S, config: SimulationConfig) -> Result<Self, SimulationError> {
        if config.refit_every_days.is_nan() || config.refit_every_days < 0.0 {
            return Err(SimulationError::Setup(format!(
                "refit_every_days must be a number ≥ 0, got {}",
                config.refit_every_days
            )));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
        let world = World::new(
            config.weeks.max(1),
            config.students,
            [
                config.ability_sd,
                config.page_sd,
                config.intercept_mean,
                config.intercept_sd,
            ],
            &mut rng,
        );
        let consumer =
            ConsumerName::new("simulate").map_err(|e| SimulationError::Setup(e.to_string()))?;
        let mut tutor = Tutor::new(
            world,
            store,
            consumer,
            config.refit_every_days,
            config.fresh_engine_per_step,
            config.clock,
        );
        let setup = vec![
            tutor.world.create_ecosystem()?,
            tutor.world.create_course(config.weeks)?,
        ];
        tutor.next_seq = 1;
        let roster_seq = tutor.seq();
        let roster = tutor.world.roster(roster_seq)?;
        tutor.append(setup)?;
        tutor.append(vec![roster])?;
        tutor.step(-1.0)?;
        Ok(Simulation {
            tutor,
            rng,
            config,
            weeks_done: 0,
        })
    }

    /// Runs the next week and returns its figures.
    pub fn advance_week(&mut self) -> Result<WeekReport, SimulationError> {
        if self.is_finished() {
            return Err(SimulationError::Finished(self.config.weeks));
        }
        let week = self.weeks_done;
        let tutor = &mut self.tutor;
        let start = 7.0 * week as f64;
        let chapters = tutor.world.chapters.len();
        let pages: Vec<usize> = (0..tutor.world.pages.len())
            .filter(|p| tutor.world.pages[*p].chapter == week % chapters)
            .collect();
        let mut created = tutor.open("reading", &pages, start, start + 3.0)?;
        created.extend(tutor.open("homework", &pages, start + 1.0, start + 6.0)?);
        tutor.step(start)?;
        let algorithms = self.config.policy.algorithms();
        let (pes, spes) = match algorithms {
            Some((pe, spe, _)) => tutor.assign_personalized(&created, pe, spe)?,
            None => (0, 0),
        };
        tutor.step(start)?;
        let answers = tutor.answers(&created, &mut self.rng);
        let mut next = 0;
        for day in 1..=6 {
            tutor.answer_until(&answers, &mut next, start + f64::from(day))?;
        }
        // Day 6: everyone practises their worst areas before the week ends.
        let practice = match algorithms {
            Some((_, _, practice)) => tutor.open_practice(start + 6.0, start + 6.9, practice)?,
            None => Vec::new(),
        };
        let practice_answers = tutor.answers(&practice, &mut self.rng);
        let mut merged: Vec<_> = answers[next..].to_vec();
        merged.extend(practice_answers);
        merged.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut rest = 0;
        tutor.answer_until(&merged, &mut rest, start + 7.0)?;
        let mut report = metrics::measure(&tutor.world, &tutor.store, &tutor.answered, week)?;
        report.pes = pes;
        report.spes = spes;
        report.assignments = created.len();
        report.refits = tutor.refits;
        self.weeks_done += 1;
        Ok(report)
    }

    /// Runs the remaining weeks; returns their figures in order.
    pub fn run(&mut self) -> Result<Vec<WeekReport>, SimulationError> {
        let mut reports = Vec::new();
        while !self.is_finished() {
            reports.push(self.advance_week()?);
        }
        Ok(reports)
    }

    /// Weeks run so far.
    pub fn weeks_done(&self) -> usize {
        self.weeks_done
    }

    /// Whether all configured weeks ran.
    pub fn is_finished(&self) -> bool {
        self.weeks_done >= self.config.weeks
    }

    /// The configuration the run follows.
    pub fn config(&self) -> &SimulationConfig {
        &self.config
    }

    /// The hidden truth: book, students and their true knowledge.
    pub fn world(&self) -> &World {
        &self.tutor.world
    }

    /// The true mastery of `student` on `page` on the CLUE scale (the link
    /// of the mean logit over the page's exercises); `None` when the
    /// student or the page does not exist.
    pub fn true_mastery(&self, student: usize, page: usize) -> Option<f64> {
        let world = &self.tutor.world;
        (student < world.students.len() && page < world.pages.len())
            .then(|| world.true_mastery(student, page))
    }

    /// The store the simulation writes to (read CLUEs, PEs, SPEs from it).
    pub fn store(&self) -> &S {
        &self.tutor.store
    }

    /// Events appended so far.
    pub fn events(&self) -> usize {
        self.tutor.events
    }

    /// Matrix refits so far.
    pub fn refits(&self) -> usize {
        self.tutor.refits
    }

    /// Wall time per kind of work (zero without [`SimulationConfig::clock`]).
    pub fn timing(&self) -> Timing {
        self.tutor.timing
    }

    /// What the engine did so far (events applied, rows and bytes written).
    pub fn engine_work(&self) -> EngineWork {
        self.tutor.work
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.tutor.store
    }
}
