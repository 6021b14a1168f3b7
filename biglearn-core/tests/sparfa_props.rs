//! Property tests: fits are bit-identical for the same input and seed, and for the same
//! responses and hints listed with learners, questions and concepts in any order.

#![allow(clippy::unwrap_used)] // tests panic on unexpected errors by design

use biglearn_core::sparfa::baselines::{train, TrainOptions};
use biglearn_core::sparfa::data::{Cell, CellMatrix, Hints, ResponseSet};
use biglearn_core::sparfa::eval::{evaluate, metrics, predict, split_cells, Metrics};
use biglearn_core::sparfa::synth::{generate, SynthConfig};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Responses and hints of a small synthetic set as CSV text, rows shuffled by `order`.
fn csv_texts(seed: u64, order: u64) -> (String, String) {
    let data = generate(&SynthConfig {
        learners: 40,
        questions: 12,
        concepts: 3,
        density: 0.7,
        seed,
    })
    .unwrap();
    let r = &data.responses;
    let mut rows: Vec<String> = r
        .cells()
        .iter()
        .map(|c| {
            format!(
                "{},{},{}\n",
                r.learner_ids()[c.learner as usize],
                r.question_ids()[c.question as usize],
                u8::from(c.correct)
            )
        })
        .collect();
    let mut hint_rows: Vec<String> = data
        .hints
        .by_question()
        .iter()
        .enumerate()
        .flat_map(|(q, ks)| {
            let hints = &data.hints;
            ks.iter().map(move |&k| {
                format!(
                    "{},{}\n",
                    r.question_ids()[q],
                    hints.concept_ids()[k as usize]
                )
            })
        })
        .collect();
    if order != 0 {
        let mut rng = ChaCha8Rng::seed_from_u64(order);
        rows.shuffle(&mut rng);
        hint_rows.shuffle(&mut rng);
    }
    (
        format!("learner,question,correct\n{}", rows.concat()),
        format!("question,concept\n{}", hint_rows.concat()),
    )
}

/// `(concept id, value bits)` pairs of one question or learner, sorted by concept id.
type ByConcept = Vec<(String, u64)>;

/// One fit's results keyed by id, so that fits of differently ordered inputs compare.
#[derive(Debug, PartialEq)]
struct ById {
    objective: u64,
    /// `(question id, intercept bits, [(concept id, loading bits)])`, sorted by id.
    questions: Vec<(String, u64, ByConcept)>,
    /// `(learner id, [(concept id, knowledge bits)])`, sorted by id.
    learners: Vec<(String, ByConcept)>,
    /// Held-out metrics from the fitted knowledge, cells taken in id order.
    fitted: Metrics,
}

fn run(responses: &str, hints: &str, split_seed: u64) -> (ById, Metrics) {
    let set = ResponseSet::from_csv(responses, "r.csv").unwrap();
    let hints = Hints::from_csv(hints, "h.csv", &set).unwrap();
    let split = split_cells(&set, set.cells(), 0.2, split_seed).unwrap();
    let out = train(
        &set,
        &split.train,
        &hints,
        &TrainOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let cells = CellMatrix::new(set.num_learners(), set.num_questions(), &split.train).unwrap();
    let model = &out.fit.model;
    let concept = |k: usize| model.concept_ids[k].clone();
    let mut questions: Vec<_> = (0..model.num_questions())
        .map(|q| {
            let mut loadings: Vec<_> = model.loadings[q]
                .iter()
                .map(|&(k, w)| (concept(k as usize), w.to_bits()))
                .collect();
            loadings.sort();
            (
                model.question_ids[q].clone(),
                model.intercepts[q].to_bits(),
                loadings,
            )
        })
        .collect();
    questions.sort();
    let k_count = model.num_concepts();
    let mut learners: Vec<_> = set
        .learner_ids()
        .iter()
        .enumerate()
        .map(|(l, id)| {
            let mut u: Vec<_> = (0..k_count)
                .map(|k| (concept(k), out.fit.knowledge[l * k_count + k].to_bits()))
                .collect();
            u.sort();
            (id.clone(), u)
        })
        .collect();
    learners.sort();
    let mut heldout = split.heldout.clone();
    let key = |c: &Cell| {
        (
            set.learner_ids()[c.learner as usize].clone(),
            set.question_ids()[c.question as usize].clone(),
        )
    };
    heldout.sort_by_key(key);
    let fitted = metrics(&predict(model, &out.fit.knowledge, &heldout), &heldout);
    let by_id = ById {
        objective: out.fit.objective.to_bits(),
        questions,
        learners,
        fitted,
    };
    (by_id, evaluate(model, &cells, &split.heldout))
}

/// The same responses and hints in two orders give the same fit, bit for bit.
fn assert_order_does_not_matter(seed: u64, order: u64) -> Result<(), TestCaseError> {
    let (r, h) = csv_texts(seed, 0);
    let (rs, hs) = csv_texts(seed, order);
    let (a, ma) = run(&r, &h, 5);
    let (b, mb) = run(&rs, &hs, 5);
    prop_assert_eq!(&a, &b);
    // `evaluate` re-estimates the learners in each input's order and stops at a gradient
    // of 1e-9, so its metrics agree to that, not bit for bit (and a prediction within
    // that of 0.5 may fall on either side).
    prop_assert_eq!(ma.count, mb.count);
    prop_assert!(
        (ma.log_loss - mb.log_loss).abs() < 1e-8,
        "{:?} vs {:?}",
        ma,
        mb
    );
    prop_assert!((ma.brier - mb.brier).abs() < 1e-8, "{:?} vs {:?}", ma, mb);
    prop_assert!((ma.auc - mb.auc).abs() < 1e-8, "{:?} vs {:?}", ma, mb);
    prop_assert!(
        (ma.accuracy - mb.accuracy).abs() <= 1.0 / ma.count as f64 + 1e-12,
        "{:?} vs {:?}",
        ma,
        mb
    );
    Ok(())
}

/// Seed 503 shuffled by 838 once landed in another local optimum (objective 158.02 vs
/// 161.51): every validation loss tied up to rounding and the choice flipped.
#[test]
fn order_regression_seed_503_order_838() {
    assert_order_does_not_matter(503, 838).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    #[test]
    fn same_input_and_seed_give_bit_identical_fits(seed in 0u64..1000, split_seed in 0u64..1000) {
        let (r, h) = csv_texts(seed, 0);
        let a = run(&r, &h, split_seed);
        let b = run(&r, &h, split_seed);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn order_of_learners_questions_and_concepts_does_not_matter(seed in 0u64..1000, order in 1u64..1000) {
        assert_order_does_not_matter(seed, order)?;
    }
}
