//! The simulated Tutor: the event stream it writes, what it assigned, and
//! the engine it drives (steps once per simulated day, refits pending
//! ecosystems as a server would in the background).

use rand::Rng;
use rand_chacha::ChaCha20Rng;

use crate::engine::Engine;
use crate::engine_store::{AlgorithmName, EngineStore, ExerciseKey, ExerciseTarget};
use crate::ids::{AssignmentId, ExerciseId, TrialId};
use crate::log::{AppendRequest, BundleLimits, ConsumerName, Event};
use crate::time::Instant;

use super::world::{id, micros, Assignment, Trial, World};
use super::{Clock, EngineWork, SimulationError, Timing};

/// One answer the students will give: (day, student, trial, correct).
pub(crate) type Answer = (f64, usize, Trial, bool);

/// Events appended per request: bounded so one request stays small.
const APPEND_CHUNK: usize = 1000;
/// Engine steps per catch-up at most (far more than a day ever needs).
const MAX_STEPS: usize = 1000;

pub(crate) struct Tutor<S> {
    pub world: World,
    pub store: S,
    pub engine: Engine,
    pub next_seq: u64,
    next_id: u128,
    assignments: Vec<Assignment>,
    /// Per student, the page of every answered response (the
    /// responses-per-page count of the figures).
    pub answered: Vec<Vec<usize>>,
    pub refits: usize,
    pub events: usize,
    pub timing: Timing,
    /// What the engine did, summed over every step.
    pub work: EngineWork,
    /// Refit pending ecosystems every this many simulated days.
    refit_every: f64,
    last_refit: f64,
    /// `Some` when every step uses a new engine (empty caches).
    fresh_engine: Option<ConsumerName>,
    clock: Clock,
}

impl<S: EngineStore> Tutor<S> {
    pub fn new(
        world: World,
        store: S,
        consumer: ConsumerName,
        refit_every: f64,
        fresh_engine: bool,
        clock: Clock,
    ) -> Self {
        let answered = vec![Vec::new(); world.students.len()];
        Tutor {
            world,
            store,
            engine: Engine::new(consumer.clone(), BundleLimits::default()),
            next_seq: 0,
            next_id: 0,
            assignments: Vec::new(),
            answered,
            refits: 0,
            events: 0,
            timing: Timing::default(),
            work: EngineWork::default(),
            refit_every,
            last_refit: f64::NEG_INFINITY,
            fresh_engine: fresh_engine.then_some(consumer),
            clock,
        }
    }

    pub fn seq(&mut self) -> u64 {
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

    pub fn append(&mut self, events: Vec<Event>) -> Result<(), SimulationError> {
        self.events += events.len();
        let started = (self.clock)();
        for chunk in events.chunks(APPEND_CHUNK) {
            self.store
                .append(&AppendRequest {
                    events: chunk.to_vec(),
                })
                .map_err(|e| SimulationError::Append(e.to_string()))?;
        }
        self.timing.appends += (self.clock)() - started;
        Ok(())
    }

    fn catch_up(&mut self, now: Instant) -> Result<(), SimulationError> {
        if let Some(consumer) = &self.fresh_engine {
            self.engine = Engine::new(consumer.clone(), BundleLimits::default());
        }
        let started = (self.clock)();
        let report = self
            .engine
            .run_until_idle(&self.store, now, MAX_STEPS)
            .map_err(|e| SimulationError::Engine(e.to_string()))?;
        self.timing.engine_steps += (self.clock)() - started;
        self.work.events_applied += report.events_applied;
        self.work.result_writes += report.result_writes;
        self.work.state_bytes_written += report.state_bytes_written;
        Ok(())
    }

    /// The engine catches up at `day`, then refits what is pending (at most
    /// every `refit_every` days) and catches up again with the new matrix.
    pub fn step(&mut self, day: f64) -> Result<(), SimulationError> {
        let now = Instant::from_micros(micros(day));
        self.catch_up(now)?;
        if day - self.last_refit < self.refit_every {
            return Ok(());
        }
        self.last_refit = day;
        let started = (self.clock)();
        let pending = self
            .engine
            .pending_refits(&self.store)
            .map_err(|e| SimulationError::Engine(e.to_string()))?;
        for ecosystem in &pending {
            self.engine
                .refit(&self.store, *ecosystem, now)
                .map_err(|e| SimulationError::Engine(e.to_string()))?;
            self.refits += 1;
        }
        self.timing.refits += (self.clock)() - started;
        // The refit woke the course: recalculate with the new matrix.
        self.catch_up(now)
    }

    /// Opens one assignment per student on the chapter's pages.
    pub fn open(
        &mut self,
        kind: &'static str,
        pages: &[usize],
        opens: f64,
        due: f64,
    ) -> Result<Vec<usize>, SimulationError> {
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

    /// Reads the engine's PEs (`pe_algorithm`) and SPEs (`spe_algorithm`)
    /// and adds them to the assignments; returns how many of each.
    pub fn assign_personalized(
        &mut self,
        created: &[usize],
        pe_algorithm: &str,
        spe_algorithm: &str,
    ) -> Result<(usize, usize), SimulationError> {
        let pe_name = algorithm(pe_algorithm)?;
        let spe_name = algorithm(spe_algorithm)?;
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
            .map_err(|e| SimulationError::Store(e.to_string()))?;
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
            let seq = self.seq();
            events.push(self.assignments[*index].event(&self.world, seq)?);
        }
        self.append(events)?;
        Ok((pes, spes))
    }

    /// Opens a practice assignment per student with the engine's practice
    /// worst-areas exercises of `practice_algorithm`, as Tutor's "practice
    /// my weakest topics" does. Students with an empty list get none.
    pub fn open_practice(
        &mut self,
        opens: f64,
        due: f64,
        practice_algorithm: &str,
    ) -> Result<Vec<usize>, SimulationError> {
        let algorithm = algorithm(practice_algorithm)?;
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
            .map_err(|e| SimulationError::Store(e.to_string()))?;
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

    /// Appends the answers before `until` (from `next` on) and steps there.
    pub fn answer_until(
        &mut self,
        answers: &[Answer],
        next: &mut usize,
        until: f64,
    ) -> Result<(), SimulationError> {
        let mut events = Vec::new();
        while *next < answers.len() && answers[*next].0 < until {
            let (at, student, trial, correct) = answers[*next];
            let seq = self.seq();
            let response = self.fresh(11);
            events.push(super::world::response(
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
    /// due date (5 % are skipped), drawn from the hidden model; sorted by
    /// time.
    pub fn answers(&mut self, created: &[usize], rng: &mut ChaCha20Rng) -> Vec<Answer> {
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

fn algorithm(name: &str) -> Result<AlgorithmName, SimulationError> {
    AlgorithmName::new(name).map_err(|e| SimulationError::Setup(e.to_string()))
}
