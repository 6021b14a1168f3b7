//! Per-week figures of the simulation, read back through the
//! [`EngineStore`] (what the HTTP server would return): mean student CLUE
//! against the hidden true mastery and the coverage of the CLUE interval,
//! per built-in algorithm.

use crate::engine_store::{
    AlgorithmName, ClueKey, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
};

use super::world::World;
use super::SimulationError;

/// Responses a (student, page) pair needs before its CLUE counts towards
/// the figures: with fewer, the interval mostly reflects the prior.
pub const MIN_RESPONSES: usize = 5;

/// The figures of one algorithm's student CLUEs.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClueFigures {
    /// (student, page) pairs with a real CLUE and ≥ [`MIN_RESPONSES`]
    /// answered responses.
    pub pairs: usize,
    /// Mean `most_likely` over those pairs.
    pub mean_clue: f64,
    /// Mean true mastery over those pairs.
    pub mean_truth: f64,
    /// Mean |most_likely − truth|.
    pub mean_error: f64,
    /// Share of pairs whose interval holds the true mastery.
    pub coverage: f64,
}

/// One simulated week's figures.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WeekReport {
    /// The week, counted from 1.
    pub week: usize,
    /// CLUEs of `biglearn_sparfa`.
    pub sparfa: ClueFigures,
    /// CLUEs of `local_query`.
    pub local: ClueFigures,
    /// Mean practice-worst-areas list length (`biglearn_sparfa`).
    pub worst_areas: f64,
    /// PEs added to the week's reading and homework assignments.
    pub pes: usize,
    /// SPEs added to the week's reading and homework assignments.
    pub spes: usize,
    /// Reading and homework assignments opened this week.
    pub assignments: usize,
    /// Matrix refits so far (cumulative).
    pub refits: usize,
}

impl WeekReport {
    /// Mean PEs per assignment.
    pub fn pes_per_assignment(&self) -> f64 {
        self.pes as f64 / self.assignments.max(1) as f64
    }

    /// Mean SPEs per assignment.
    pub fn spes_per_assignment(&self) -> f64 {
        self.spes as f64 / self.assignments.max(1) as f64
    }

    /// The header line of the text table [`WeekReport::table_row`] fills.
    pub fn table_header() -> &'static str {
        "week | pairs | sparfa CLUE  truth  |err|  cover | local CLUE  |err|  cover | PEs/asg SPEs/asg | worst | refits"
    }

    /// This week as one line of the text table.
    pub fn table_row(&self) -> String {
        let (s, l) = (&self.sparfa, &self.local);
        format!(
            "{:>4} | {:>5} | {:>11.3} {:>6.3} {:>6.3} {:>6.3} | {:>10.3} {:>6.3} {:>6.3} | {:>7.2} {:>8.2} | {:>5.2} | {:>6}",
            self.week,
            s.pairs,
            s.mean_clue,
            s.mean_truth,
            s.mean_error,
            s.coverage,
            l.mean_clue,
            l.mean_error,
            l.coverage,
            self.pes_per_assignment(),
            self.spes_per_assignment(),
            self.worst_areas,
            self.refits
        )
    }
}

fn name(n: &str) -> Result<AlgorithmName, SimulationError> {
    AlgorithmName::new(n).map_err(|e| SimulationError::Setup(e.to_string()))
}

/// Reads the CLUEs of every student on every page taught by `week`
/// (counted from 0) and the practice-worst-areas list lengths. `answered`
/// holds, per student, the page of every answered response.
pub(crate) fn measure(
    world: &World,
    store: &impl EngineStore,
    answered: &[Vec<usize>],
    week: usize,
) -> Result<WeekReport, SimulationError> {
    let pages: Vec<usize> = (0..world.pages.len())
        .filter(|p| world.pages[*p].chapter <= week)
        .collect();
    let mut report = WeekReport {
        week: week + 1,
        ..WeekReport::default()
    };
    for (alg, figures) in [
        ("biglearn_sparfa", &mut report.sparfa),
        ("local_query", &mut report.local),
    ] {
        let algorithm = name(alg)?;
        let mut pairs = Vec::new();
        let mut keys = Vec::new();
        for (student, id) in world.students.iter().enumerate() {
            for page in &pages {
                let count = answered[student].iter().filter(|p| *p == page).count();
                if count < MIN_RESPONSES {
                    continue;
                }
                pairs.push((student, *page));
                keys.push(ClueKey {
                    target: ClueTarget::Student {
                        student: *id,
                        book_container: world.pages[*page].container,
                    },
                    algorithm: algorithm.clone(),
                });
            }
        }
        let clues = store
            .clue_results(&keys)
            .map_err(|e| SimulationError::Store(e.to_string()))?;
        let (mut covered, mut sum_clue, mut sum_truth, mut sum_error) = (0usize, 0.0, 0.0, 0.0);
        for ((student, page), clue) in pairs.iter().zip(&clues) {
            let Some(clue) = clue else { continue };
            if !clue.clue_data.is_real {
                continue;
            }
            let truth = world.true_mastery(*student, *page);
            let data = &clue.clue_data;
            figures.pairs += 1;
            sum_clue += data.most_likely;
            sum_truth += truth;
            sum_error += (data.most_likely - truth).abs();
            if data.minimum <= truth && truth <= data.maximum {
                covered += 1;
            }
        }
        if figures.pairs > 0 {
            let n = figures.pairs as f64;
            figures.mean_clue = sum_clue / n;
            figures.mean_truth = sum_truth / n;
            figures.mean_error = sum_error / n;
            figures.coverage = covered as f64 / n;
        }
    }
    let algorithm = name("biglearn_sparfa")?;
    let keys: Vec<ExerciseKey> = world
        .students
        .iter()
        .map(|s| ExerciseKey {
            target: ExerciseTarget::PracticeWorstAreas(*s),
            algorithm: algorithm.clone(),
        })
        .collect();
    let worst = store
        .exercise_results(&keys)
        .map_err(|e| SimulationError::Store(e.to_string()))?;
    let lengths: usize = worst
        .iter()
        .map(|r| r.as_ref().map_or(0, |r| r.exercise_uuids.len()))
        .sum();
    report.worst_areas = lengths as f64 / world.students.len().max(1) as f64;
    Ok(report)
}
