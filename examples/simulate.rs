//! A semester in a few seconds: a simulated book, course and students, driven
//! through the event log and the engine on the embedded SQLite store.
//!
//! ```text
//! cargo run --release --example simulate -- --students 300 --weeks 10 --seed 1 [--database FILE]
//! ```
//!
//! Every week Tutor (simulated) opens a reading and a homework on the week's
//! chapter for every student, asks the engine for PEs and SPEs
//! (`biglearn_sparfa`) and adds them to the assignments; students answer
//! following a hidden SPARFA model; the engine steps once per simulated day
//! (due dates pass, feedback becomes visible) and refits pending ecosystems
//! as a server would in the background. Results are read back through the
//! `EngineStore` (what the HTTP server returns). Per week it prints the mean
//! student CLUE against the hidden true mastery, PE/SPE counts, and how often
//! the 50 % CLUE interval covers the true mastery for (student, page) pairs
//! with at least 5 answered responses.

#[path = "simulate/metrics.rs"]
mod metrics;
#[path = "simulate/world.rs"]
mod world;

use std::path::PathBuf;
use std::time::Instant as Clock;

use biglearn::core::engine::Engine;
use biglearn::core::engine_store::{AlgorithmName, EngineStore, ExerciseKey, ExerciseTarget};
use biglearn::core::ids::{AssignmentId, ExerciseId, TrialId};
use biglearn::core::log::{AppendRequest, BundleLimits, ConsumerName, Event, EventLog};
use biglearn::core::scheduler::Instant;
use biglearn::store::{SqlStore, SqliteOptions, Synchronous};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use world::{id, micros, Assignment, Trial, World};

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
    /// SQLite database file (default: a temporary file).
    #[arg(long)]
    database: Option<PathBuf>,
}

/// The simulated Tutor: the event stream it writes and what it assigned.
struct Tutor {
    world: World,
    store: SqlStore,
    engine: Engine,
    next_seq: u64,
    next_id: u128,
    assignments: Vec<Assignment>,
    /// Answered (student, exercise) pairs, for the responses-per-page count.
    answered: Vec<Vec<usize>>,
    refits: usize,
    events: usize,
    /// Wall time in engine steps, refits and appends, in seconds.
    timing: [f64; 3],
    /// Refit pending ecosystems every this many simulated days.
    refit_every: f64,
    last_refit: f64,
    fresh_engine: Option<ConsumerName>,
}

impl Tutor {
    fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    fn fresh(&mut self, kind: u128) -> uuid::Uuid {
        self.next_id += 1;
        id(kind, self.next_id)
    }

    /// A newly issued core exercise (neither PE nor SPE).
    fn core_trial(&mut self, exercise: ExerciseId) -> Trial {
        Trial {
            trial: TrialId::from_uuid(self.fresh(9)),
            exercise,
            is_pe: false,
            is_spe: false,
        }
    }

    fn append(&mut self, events: Vec<Event>) -> Result<(), String> {
        self.events += events.len();
        let started = Clock::now();
        for chunk in events.chunks(1000) {
            self.store
                .append(&AppendRequest {
                    events: chunk.to_vec(),
                })
                .map_err(|e| format!("append: {e}"))?;
        }
        self.timing[2] += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// The engine catches up at `day`, then refits what is pending.
    fn step(&mut self, day: f64) -> Result<(), String> {
        let now = Instant::from_micros(micros(day));
        if let Some(consumer) = &self.fresh_engine {
            self.engine = Engine::new(consumer.clone(), BundleLimits::default());
        }
        let started = Clock::now();
        self.engine
            .run_until_idle(&self.store, now, 1000)
            .map_err(|e| e.to_string())?;
        self.timing[0] += started.elapsed().as_secs_f64();
        if day - self.last_refit < self.refit_every {
            return Ok(());
        }
        self.last_refit = day;
        let started = Clock::now();
        let pending = self
            .engine
            .pending_refits(&self.store)
            .map_err(|e| e.to_string())?;
        for ecosystem in &pending {
            self.engine
                .refit(&self.store, *ecosystem, now)
                .map_err(|e| e.to_string())?;
            self.refits += 1;
        }
        self.timing[1] += started.elapsed().as_secs_f64();
        // The refit woke the course: recalculate with the new matrix.
        if let Some(consumer) = &self.fresh_engine {
            self.engine = Engine::new(consumer.clone(), BundleLimits::default());
        }
        let started = Clock::now();
        self.engine
            .run_until_idle(&self.store, now, 1000)
            .map_err(|e| e.to_string())?;
        self.timing[0] += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Opens one assignment per student on the chapter's pages.
    fn open(
        &mut self,
        kind: &'static str,
        pages: &[usize],
        opens: f64,
        due: f64,
    ) -> Result<Vec<usize>, String> {
        let mut events = Vec::new();
        let mut created = Vec::new();
        for student in 0..self.world.students.len() {
            let mut trials = Vec::new();
            for page in pages {
                let pool = match kind {
                    "reading" => &self.world.pages[*page].reading,
                    _ => &self.world.pages[*page].homework,
                };
                for exercise in pool.iter().take(2).copied().collect::<Vec<_>>() {
                    trials.push(self.core_trial(exercise));
                }
            }
            let assignment = Assignment {
                id: AssignmentId::from_uuid(self.fresh(10)),
                student,
                kind,
                opens,
                due,
                pages: pages.to_vec(),
                trials,
                pes_assigned: false,
                spes_assigned: false,
            };
            let seq = self.seq();
            events.push(assignment.event(&self.world, seq)?);
            created.push(self.assignments.len());
            self.assignments.push(assignment);
        }
        self.append(events)?;
        Ok(created)
    }

    /// Reads the engine's PEs and SPEs and adds them to the assignments.
    fn assign_personalized(&mut self, created: &[usize]) -> Result<(usize, usize), String> {
        let pe_name = AlgorithmName::new("biglearn_sparfa").map_err(|e| e.to_string())?;
        let spe_name =
            AlgorithmName::new("instructor_driven_biglearn_sparfa").map_err(|e| e.to_string())?;
        let mut keys = Vec::new();
        for index in created {
            let id = self.assignments[*index].id;
            keys.push(ExerciseKey {
                target: ExerciseTarget::AssignmentPes(id),
                algorithm: pe_name.clone(),
            });
            keys.push(ExerciseKey {
                target: ExerciseTarget::AssignmentSpes(id),
                algorithm: spe_name.clone(),
            });
        }
        let results = self
            .store
            .exercise_results(&keys)
            .map_err(|e| e.to_string())?;
        let (mut pes, mut spes) = (0, 0);
        let mut events = Vec::new();
        for (n, index) in created.iter().enumerate() {
            let pe_list = results[2 * n].as_ref().map(|r| r.exercise_uuids.clone());
            let spe_list = results[2 * n + 1]
                .as_ref()
                .map(|r| r.exercise_uuids.clone());
            for (list, is_pe) in [(pe_list, true), (spe_list, false)] {
                for exercise in list.unwrap_or_default() {
                    let trial = TrialId::from_uuid(self.fresh(9));
                    self.assignments[*index].trials.push(Trial {
                        trial,
                        exercise,
                        is_pe,
                        is_spe: !is_pe,
                    });
                    if is_pe {
                        pes += 1;
                    } else {
                        spes += 1;
                    }
                }
            }
            let assignment = &mut self.assignments[*index];
            assignment.pes_assigned = true;
            assignment.spes_assigned = true;
            let seq = self.next_seq;
            self.next_seq += 1;
            events.push(self.assignments[*index].event(&self.world, seq)?);
        }
        self.append(events)?;
        Ok((pes, spes))
    }

    /// Opens a practice assignment per student with the engine's practice
    /// worst-areas exercises (`biglearn_sparfa`), as Tutor's "practice my
    /// weakest topics" does.
    fn open_practice(&mut self, opens: f64, due: f64) -> Result<Vec<usize>, String> {
        let algorithm = AlgorithmName::new("biglearn_sparfa").map_err(|e| e.to_string())?;
        let keys: Vec<ExerciseKey> = self
            .world
            .students
            .iter()
            .map(|s| ExerciseKey {
                target: ExerciseTarget::PracticeWorstAreas(*s),
                algorithm: algorithm.clone(),
            })
            .collect();
        let lists = self
            .store
            .exercise_results(&keys)
            .map_err(|e| e.to_string())?;
        let mut events = Vec::new();
        let mut created = Vec::new();
        for (student, list) in lists.into_iter().enumerate() {
            let exercises = list.map(|r| r.exercise_uuids).unwrap_or_default();
            if exercises.is_empty() {
                continue;
            }
            let mut trials = Vec::new();
            for exercise in exercises {
                trials.push(self.core_trial(exercise));
            }
            let assignment = Assignment {
                id: AssignmentId::from_uuid(self.fresh(10)),
                student,
                kind: "practice",
                opens,
                due,
                pages: Vec::new(),
                trials,
                pes_assigned: true,
                spes_assigned: true,
            };
            let seq = self.seq();
            events.push(assignment.event(&self.world, seq)?);
            created.push(self.assignments.len());
            self.assignments.push(assignment);
        }
        self.append(events)?;
        Ok(created)
    }

    /// Appends the answers up to `until` (from `next` on) and steps there.
    fn answer_until(
        &mut self,
        answers: &[(f64, usize, Trial, bool)],
        next: &mut usize,
        until: f64,
    ) -> Result<(), String> {
        let mut events = Vec::new();
        while *next < answers.len() && answers[*next].0 < until {
            let (at, student, trial, correct) = answers[*next];
            let seq = self.seq();
            let response = self.fresh(11);
            events.push(world::response(
                &self.world,
                seq,
                response,
                student,
                &trial,
                correct,
                at,
            )?);
            let number = (trial.exercise.as_uuid().as_u128() & 0xffff_ffff) as usize;
            self.answered[student].push(self.world.exercise_params[number].0);
            *next += 1;
        }
        self.append(events)?;
        self.step(until)
    }

    /// The students answer the assignments' trials between opening and the
    /// due date; returns the answers as (day, event) pairs.
    fn answers(
        &mut self,
        created: &[usize],
        rng: &mut ChaCha20Rng,
    ) -> Vec<(f64, usize, Trial, bool)> {
        let mut out = Vec::new();
        for index in created {
            let a = &self.assignments[*index];
            for trial in &a.trials {
                if rng.gen_range(0.0..1.0) < 0.05 {
                    continue; // skipped
                }
                let day = a.opens + rng.gen_range(0.0..(a.due - a.opens));
                let correct =
                    rng.gen_range(0.0..1.0) < self.world.p_correct(a.student, trial.exercise);
                out.push((day, a.student, *trial, correct));
            }
        }
        out.sort_by(|x, y| x.0.total_cmp(&y.0));
        out
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Clock::now();
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
    let mut rng = ChaCha20Rng::seed_from_u64(args.seed);
    let world = World::new(
        args.weeks.max(1),
        args.students,
        [
            args.ability_sd,
            args.page_sd,
            args.intercept_mean,
            args.intercept_sd,
        ],
        &mut rng,
    );
    let consumer = ConsumerName::new("simulate").map_err(|e| e.to_string())?;
    let answered = vec![Vec::new(); world.students.len()];
    let mut tutor = Tutor {
        world,
        store,
        engine: Engine::new(consumer.clone(), BundleLimits::default()),
        next_seq: 0,
        next_id: 0,
        assignments: Vec::new(),
        answered,
        refits: 0,
        events: 0,
        timing: [0.0; 3],
        refit_every: args.refit_every_days,
        last_refit: f64::NEG_INFINITY,
        fresh_engine: args.fresh_engine_per_step.then_some(consumer),
    };
    let setup = vec![
        tutor.world.create_ecosystem()?,
        tutor.world.create_course(args.weeks)?,
    ];
    tutor.next_seq = 1;
    let roster_seq = tutor.seq();
    let roster = tutor.world.roster(roster_seq)?;
    tutor.append(setup)?;
    tutor.append(vec![roster])?;
    tutor.step(-1.0)?;
    metrics::print_header();
    for week in 0..args.weeks {
        let start = 7.0 * week as f64;
        let pages: Vec<usize> = (0..tutor.world.pages.len())
            .filter(|p| tutor.world.pages[*p].chapter == week % tutor.world.chapters.len())
            .collect();
        let mut created = tutor.open("reading", &pages, start, start + 3.0)?;
        created.extend(tutor.open("homework", &pages, start + 1.0, start + 6.0)?);
        tutor.step(start)?;
        let (pes, spes) = tutor.assign_personalized(&created)?;
        tutor.step(start)?;
        let answers = tutor.answers(&created, &mut rng);
        let mut next = 0;
        for day in 1..=6 {
            tutor.answer_until(&answers, &mut next, start + f64::from(day))?;
        }
        // Day 6: everyone practises their worst areas before the week ends.
        let practice = tutor.open_practice(start + 6.0, start + 6.9)?;
        let practice_answers = tutor.answers(&practice, &mut rng);
        let mut merged: Vec<_> = answers[next..].to_vec();
        merged.extend(practice_answers);
        merged.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut rest = 0;
        tutor.answer_until(&merged, &mut rest, start + 7.0)?;
        let report = metrics::measure(&tutor.world, &tutor.store, &tutor.answered, week)?;
        metrics::print_week(week, &report, pes, spes, created.len(), tutor.refits);
    }
    println!(
        "{} events, {} refits, {:.1} s (engine steps {:.1} s = {:.0} events/s, refits {:.1} s, appends {:.1} s)",
        tutor.events,
        tutor.refits,
        started.elapsed().as_secs_f64(),
        tutor.timing[0],
        tutor.events as f64 / tutor.timing[0].max(1e-9),
        tutor.timing[1],
        tutor.timing[2]
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
