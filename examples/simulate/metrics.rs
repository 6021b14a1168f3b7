//! Per-week figures of the simulation, read back through the `EngineStore`:
//! mean student CLUE against the hidden true mastery and the coverage of the
//! CLUE interval, per built-in algorithm.

use biglearn::core::engine_store::{
    AlgorithmName, ClueKey, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
};
use biglearn::store::SqlStore;

use super::world::World;

/// Responses a (student, page) pair needs before its CLUE counts towards
/// the coverage.
const MIN_RESPONSES: usize = 5;

/// The figures of one algorithm's student CLUEs.
#[derive(Debug, Default)]
pub struct ClueFigures {
    /// (student, page) pairs with a real CLUE and ≥ 5 responses.
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

/// One week's figures.
#[derive(Debug, Default)]
pub struct WeekReport {
    pub sparfa: ClueFigures,
    pub local: ClueFigures,
    /// Mean practice-worst-areas list length (biglearn_sparfa).
    pub worst_areas: f64,
}

fn name(n: &str) -> Result<AlgorithmName, String> {
    AlgorithmName::new(n).map_err(|e| e.to_string())
}

/// Reads the CLUEs of every student on every page taught by `week`.
pub fn measure(
    world: &World,
    store: &SqlStore,
    answered: &[Vec<usize>],
    week: usize,
) -> Result<WeekReport, String> {
    let pages: Vec<usize> = (0..world.pages.len())
        .filter(|p| world.pages[*p].chapter <= week)
        .collect();
    let mut report = WeekReport::default();
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
        let clues = store.clue_results(&keys).map_err(|e| e.to_string())?;
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
    let worst = store.exercise_results(&keys).map_err(|e| e.to_string())?;
    let lengths: usize = worst
        .iter()
        .map(|r| r.as_ref().map_or(0, |r| r.exercise_uuids.len()))
        .sum();
    report.worst_areas = lengths as f64 / world.students.len().max(1) as f64;
    Ok(report)
}

pub fn print_header() {
    println!(
        "week | pairs | sparfa CLUE  truth  |err|  cover | local CLUE  |err|  cover | PEs/asg SPEs/asg | worst | refits"
    );
}

pub fn print_week(
    week: usize,
    report: &WeekReport,
    pes: usize,
    spes: usize,
    assignments: usize,
    refits: usize,
) {
    let per = |n: usize| n as f64 / assignments.max(1) as f64;
    let (s, l) = (&report.sparfa, &report.local);
    println!(
        "{:>4} | {:>5} | {:>11.3} {:>6.3} {:>6.3} {:>6.3} | {:>10.3} {:>6.3} {:>6.3} | {:>7.2} {:>8.2} | {:>5.2} | {:>6}",
        week + 1,
        s.pairs,
        s.mean_clue,
        s.mean_truth,
        s.mean_error,
        s.coverage,
        l.mean_clue,
        l.mean_error,
        l.coverage,
        per(pes),
        per(spes),
        report.worst_areas,
        refits
    );
}
