//! The simulator on the memory store: deterministic per seed, the policies
//! differ where they should, and misuse is reported.

use super::*;
use crate::memory::MemoryStore;

fn small(policy: Policy, seed: u64) -> SimulationConfig {
    SimulationConfig {
        students: 12,
        weeks: 2,
        seed,
        policy,
        ..SimulationConfig::default()
    }
}

fn run(config: SimulationConfig) -> Vec<WeekReport> {
    let mut simulation = match Simulation::new(MemoryStore::new(), config) {
        Ok(s) => s,
        Err(e) => panic!("setup failed: {e}"),
    };
    match simulation.run() {
        Ok(reports) => reports,
        Err(e) => panic!("run failed: {e}"),
    }
}

#[test]
fn same_seed_same_figures_and_weeks_are_numbered() {
    let first = run(small(Policy::BiglearnSparfa, 7));
    let second = run(small(Policy::BiglearnSparfa, 7));
    assert_eq!(first, second);
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].week, 1);
    assert_eq!(first[1].week, 2);
    assert_eq!(
        first[0].assignments, 24,
        "a reading and a homework per student"
    );
    // After two weeks of answers the engine has real CLUEs to report.
    assert!(first[1].sparfa.pairs > 0, "{:?}", first[1]);
    assert!(first[1].refits > 0);
    let other = run(small(Policy::BiglearnSparfa, 8));
    assert_ne!(first, other, "another seed draws another class");
}

#[test]
fn policies_assign_what_they_say() {
    let none = run(small(Policy::None, 3));
    assert!(none.iter().all(|w| w.pes == 0 && w.spes == 0));
    let sparfa = run(small(Policy::BiglearnSparfa, 3));
    assert!(sparfa.iter().map(|w| w.pes + w.spes).sum::<usize>() > 0);
    let local = run(small(Policy::LocalQuery, 3));
    assert!(local.iter().map(|w| w.pes + w.spes).sum::<usize>() > 0);
}

#[test]
fn step_wise_use_and_misuse() {
    let mut simulation = match Simulation::new(MemoryStore::new(), small(Policy::None, 1)) {
        Ok(s) => s,
        Err(e) => panic!("setup failed: {e}"),
    };
    assert_eq!(simulation.weeks_done(), 0);
    assert!(simulation.advance_week().is_ok());
    assert_eq!(simulation.weeks_done(), 1);
    assert!(simulation.advance_week().is_ok());
    assert!(simulation.is_finished());
    assert_eq!(simulation.advance_week(), Err(SimulationError::Finished(2)));
    assert!(simulation.events() > 0);
    assert_eq!(simulation.timing(), Timing::default(), "no clock, no time");
    assert!(simulation.true_mastery(0, 0).is_some());
    assert_eq!(simulation.true_mastery(12, 0), None);
    assert_eq!(simulation.true_mastery(0, 6), None);
}

#[test]
fn bad_configuration_is_named() {
    let config = SimulationConfig {
        refit_every_days: f64::NAN,
        ..small(Policy::None, 1)
    };
    let error = Simulation::new(MemoryStore::new(), config).err();
    assert!(matches!(error, Some(SimulationError::Setup(ref m)) if m.contains("refit_every_days")));
    assert_eq!(Policy::from_name("local_query"), Ok(Policy::LocalQuery));
    let unknown = Policy::from_name("greedy").err().map(|e| e.to_string());
    assert_eq!(
        unknown.as_deref(),
        Some("unknown policy \"greedy\": expected biglearn_sparfa, local_query or none")
    );
}
