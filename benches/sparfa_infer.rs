//! Criterion benchmarks of per-learner SPARFA work at serving sizes:
//!
//! - `learner/infer_50`: MAP + Laplace covariance for a learner with 50 responses;
//! - `clue/student_50`: the same inference plus a student CLUE (target ≤ 20 µs);
//! - `tesr/rank_500`: TeSR over 500 candidate exercises for a learner with 50
//!   timed responses (target ≤ 200 µs).
//!
//! The model is synthetic in the sparfa.md §8.4 style: 20 concepts (one hinted
//! concept per question, 10 % with an off-hint loading).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use biglearn_core::sparfa::clue::clue_interval_with;
use biglearn_core::sparfa::{
    ClueOptions, ClueWorkspace, ConceptIndex, LearnerResponse, LearnerWorkspace, Penalties,
    QuestionLookup, SparfaModel, TesrWorkspace, TimedResponse, Timestamp,
};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CONCEPTS: usize = 20;

fn synthetic_model(questions: usize, rng: &mut ChaCha8Rng) -> SparfaModel {
    let mut loadings = Vec::with_capacity(questions);
    let mut hints = Vec::with_capacity(questions);
    for q in 0..questions {
        let k = (q % CONCEPTS) as ConceptIndex;
        let mut row = vec![(k, rng.gen_range(0.5..2.0))];
        if rng.gen::<f64>() < 0.1 {
            let other =
                ((k as usize + 1 + rng.gen_range(0..CONCEPTS - 1)) % CONCEPTS) as ConceptIndex;
            row.push((other, rng.gen_range(0.1..0.5)));
            row.sort_by_key(|&(c, _)| c);
        }
        loadings.push(row);
        hints.push(vec![k]);
    }
    SparfaModel {
        question_ids: (0..questions)
            .map(|q| format!("{q:08x}-exercise"))
            .collect(),
        concept_ids: (0..CONCEPTS).map(|k| format!("page-{k}")).collect(),
        loadings,
        intercepts: (0..questions).map(|_| rng.gen_range(-1.5..2.5)).collect(),
        hints,
        penalties: Penalties::default(),
        pooled_loadings: Vec::new(),
    }
}

/// 50 responses spread over 5 concepts (a learner a few chapters in).
fn learner_book(model: &SparfaModel, rng: &mut ChaCha8Rng) -> Vec<LearnerResponse> {
    (0..50)
        .map(|i| {
            let concept = i % 5;
            let q = concept + CONCEPTS * rng.gen_range(0..model.num_questions() / CONCEPTS);
            LearnerResponse::new(q as u32, rng.gen::<f64>() < 0.7)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let model = synthetic_model(160, &mut rng);
    let book = learner_book(&model, &mut rng);
    // The CLUE of concept 0: all its questions.
    let targets: Vec<u32> = (0..model.num_questions() as u32)
        .filter(|q| q % CONCEPTS as u32 == 0)
        .collect();

    let mut learner = LearnerWorkspace::new();
    c.bench_function("learner/infer_50", |b| {
        b.iter(|| black_box(learner.infer(black_box(&model), black_box(&book))))
    });

    let mut clue = ClueWorkspace::new();
    let options = ClueOptions::default();
    c.bench_function("clue/student_50", |b| {
        b.iter(|| {
            clue_interval_with(
                &mut clue,
                black_box(&model),
                &[book.as_slice()],
                black_box(&targets),
                &options,
            )
            .map(|c| black_box(c.most_likely))
        })
    });

    let big = synthetic_model(1000, &mut rng);
    let lookup = QuestionLookup::new(&big);
    let candidates: Vec<String> = (0..500).map(|i| big.question_ids[i * 2].clone()).collect();
    let timed: Vec<TimedResponse> = learner_book(&big, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            TimedResponse::new(
                r.question,
                r.correct,
                Timestamp(1_700_000_000_000_000 + i as i64),
            )
        })
        .collect();
    let mut tesr = TesrWorkspace::new();
    c.bench_function("tesr/rank_500", |b| {
        b.iter(|| {
            black_box(tesr.rank(
                black_box(&big),
                &lookup,
                black_box(&candidates),
                black_box(&timed),
            ))
        })
    });
}

criterion_group! {
    name = sparfa_infer;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(sparfa_infer);
