//! Criterion benchmark of SPARFA fitting on synthetic data (sparfa.md F1 evidence sizes)
//! with the default size-scaled weights (`weights::penalties_for(2 · size_factor)`).
//!
//! `cargo bench --bench sparfa_fit`; set `RAYON_NUM_THREADS=1` for single-thread numbers.
//! The 5 M-cell size takes minutes; select sizes with a filter, e.g.
//! `cargo bench --bench sparfa_fit -- 500k` or `-- 5000x160`.

#![allow(missing_docs)] // criterion_group! expands to an undocumented pub fn

use std::time::Duration;

use biglearn_core::sparfa::data::CellMatrix;
use biglearn_core::sparfa::fit::{fit, FitOptions};
use biglearn_core::sparfa::synth::{generate, SynthConfig};
use biglearn_core::sparfa::weights::{penalties_for, size_factor};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_fit(c: &mut Criterion) {
    let mut group = c.benchmark_group("sparfa_fit");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    let sizes = [
        ("1000x200x20_d0.5", 1_000, 200, 20, 0.5, 10),
        // 5,000 learners × 160 questions, 2 concepts, ~640k cells: the size of an
        // 80 % training split of a complete 5,000 × 160 test.
        ("5000x160x2_640k", 5_000, 160, 2, 0.8, 30),
        ("10000x1000x100_500k", 10_000, 1_000, 100, 0.05, 60),
        ("10000x1000x100_5M", 10_000, 1_000, 100, 0.5, 120),
    ];
    for (name, learners, questions, concepts, density, seconds) in sizes {
        let data = match generate(&SynthConfig {
            learners,
            questions,
            concepts,
            density,
            seed: 0,
        }) {
            Ok(d) => d,
            Err(e) => panic!("synthetic data: {e}"),
        };
        let r = &data.responses;
        let cells = match CellMatrix::new(r.num_learners(), r.num_questions(), r.cells()) {
            Ok(c) => c,
            Err(e) => panic!("cells: {e}"),
        };
        let factor = size_factor(&cells, &data.hints);
        let options = FitOptions {
            penalties: penalties_for(2.0 * factor),
            ..FitOptions::default()
        };
        group.measurement_time(Duration::from_secs(seconds));
        group.bench_function(name, |b| {
            b.iter(|| fit(&cells, &data.hints, r.question_ids(), &options).map(|f| f.objective))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_fit);
criterion_main!(benches);
