//! TeSR exercise ordering (sparfa.md §7.2, F3).

mod sparfa_infer_util;

use biglearn_core::sparfa::{
    infer_learner_latest, rank_exercises, ConceptIndex, QuestionLookup, RankedExercise,
    SparfaModel, TesrWorkspace, TimedResponse, Timestamp,
};
use proptest::prelude::*;
use sparfa_infer_util::{model, sigmoid};
use std::cmp::Ordering;

fn named(mut m: SparfaModel, ids: &[&str]) -> SparfaModel {
    m.question_ids = ids.iter().map(|s| s.to_string()).collect();
    m
}

fn ids<'a>(m: &'a SparfaModel, ranked: &[RankedExercise]) -> Vec<&'a str> {
    ranked
        .iter()
        .map(|r| m.question_ids[r.question as usize].as_str())
        .collect()
}

#[test]
fn unanswered_by_closeness_to_one_half() {
    let m = named(
        model(
            1,
            vec![vec![(0, 1.0)]; 5],
            vec![2.0, -0.1, 0.5, -3.0, 0.05],
            2.0,
        ),
        &["a", "b", "c", "d", "e"],
    );
    let lookup = QuestionLookup::new(&m);
    let ranking = rank_exercises(&m, &lookup, &["a", "b", "c", "d", "e"], &[]);
    assert_eq!(ids(&m, &ranking.ranked), ["e", "b", "c", "a", "d"]);
    for r in &ranking.ranked {
        // No responses: û = 0, so p = σ(d).
        assert!((r.probability - sigmoid(m.intercepts[r.question as usize])).abs() < 1e-15);
        assert!((r.score - (r.probability - 0.5).abs()).abs() < 1e-15);
        assert_eq!(r.last_responded_at, None);
    }
}

#[test]
fn answered_after_unanswered_oldest_first() {
    let m = named(
        model(
            1,
            vec![vec![(0, 1.0)]; 5],
            vec![0.0, 1.0, 2.0, 3.0, 4.0],
            2.0,
        ),
        &["a", "b", "c", "d", "e"],
    );
    let lookup = QuestionLookup::new(&m);
    let responses = [
        TimedResponse::new(0, true, Timestamp(300)), // a: answered latest
        TimedResponse::new(1, false, Timestamp(100)), // b: oldest
        TimedResponse::new(2, true, Timestamp(50)),  // c: old, then answered again later
        TimedResponse::new(2, false, Timestamp(200)),
    ];
    let ranking = rank_exercises(&m, &lookup, &["a", "b", "c", "d", "e"], &responses);
    assert_eq!(ids(&m, &ranking.ranked), ["d", "e", "b", "c", "a"]);
    let when: Vec<_> = ranking.ranked.iter().map(|r| r.last_responded_at).collect();
    assert_eq!(
        when,
        [
            None,
            None,
            Some(Timestamp(100)),
            Some(Timestamp(200)),
            Some(Timestamp(300))
        ]
    );
    // The learner's estimate uses the latest response per exercise.
    let u = infer_learner_latest(&m, &responses).knowledge()[0];
    for r in &ranking.ranked {
        assert!((r.probability - sigmoid(u + m.intercepts[r.question as usize])).abs() < 1e-15);
    }
}

#[test]
fn answered_at_same_time_ordered_by_score() {
    let m = named(
        model(1, vec![vec![(0, 1.0)]; 3], vec![3.0, 0.2, -1.0], 2.0),
        &["x", "y", "z"],
    );
    let lookup = QuestionLookup::new(&m);
    let responses: Vec<_> = (0..3)
        .map(|q| TimedResponse::new(q, q != 2, Timestamp(7)))
        .collect();
    let ranking = rank_exercises(&m, &lookup, &["x", "y", "z"], &responses);
    let scores: Vec<f64> = ranking.ranked.iter().map(|r| r.score).collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
}

#[test]
fn ties_broken_by_id_string() {
    // Identical questions: equal scores. "q10" < "q2" < "q9" as strings, unlike their indices.
    let m = named(
        model(1, vec![vec![(0, 1.0)]; 3], vec![0.3; 3], 2.0),
        &["q9", "q10", "q2"],
    );
    let lookup = QuestionLookup::new(&m);
    let ranking = rank_exercises(&m, &lookup, &["q2", "q9", "q10"], &[]);
    assert_eq!(ids(&m, &ranking.ranked), ["q10", "q2", "q9"]);
    // Same for answered exercises at the same time.
    let responses: Vec<_> = (0..3)
        .map(|q| TimedResponse::new(q, true, Timestamp(1)))
        .collect();
    let ranking = rank_exercises(&m, &lookup, &["q9", "q2", "q10"], &responses);
    assert_eq!(ids(&m, &ranking.ranked), ["q10", "q2", "q9"]);
}

#[test]
fn unknown_and_duplicate_candidates() {
    let m = named(
        model(1, vec![vec![(0, 1.0)]; 2], vec![0.0, 1.0], 2.0),
        &["a", "b"],
    );
    let lookup = QuestionLookup::new(&m);
    assert_eq!(lookup.len(), 2);
    assert!(!lookup.is_empty());
    let ranking = rank_exercises(&m, &lookup, &["zz", "b", "a", "b", "new", "zz"], &[]);
    assert_eq!(ids(&m, &ranking.ranked), ["a", "b"]);
    assert_eq!(ranking.unknown, ["new", "zz"]);
    // Responses to unknown question indices are ignored.
    let with_unknown = [TimedResponse::new(9, true, Timestamp(1))];
    assert_eq!(
        rank_exercises(&m, &lookup, &["a", "b"], &with_unknown),
        rank_exercises(&m, &lookup, &["a", "b"], &[])
    );
    let empty: [&str; 0] = [];
    assert!(rank_exercises(&m, &lookup, &empty, &[]).ranked.is_empty());
}

fn arb_case() -> impl Strategy<Value = (SparfaModel, Vec<TimedResponse>, Vec<usize>)> {
    (1usize..4, 1usize..25).prop_flat_map(|(nc, nq)| {
        let row = (0..nc as ConceptIndex, 0.2f64..2.0).prop_map(|(k, w)| vec![(k, w)]);
        let intercepts = proptest::collection::vec(prop_oneof![Just(0.5), -3.0f64..3.0], nq);
        let responses = proptest::collection::vec(
            (0..nq as u32, any::<bool>(), 0i64..6)
                .prop_map(|(q, c, t)| TimedResponse::new(q, c, Timestamp(t))),
            0..30,
        );
        let candidates = proptest::collection::vec(0..nq + 3, 0..40);
        (
            proptest::collection::vec(row, nq),
            intercepts,
            responses,
            candidates,
        )
            .prop_map(move |(l, d, r, c)| {
                let mut m = model(nc, l, d, 1.0);
                // Ids whose string order differs from index order.
                m.question_ids = (0..m.num_questions())
                    .map(|q| format!("ex{}", (q * 7) % 31))
                    .collect();
                (m, r, c)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// The output is the de-duplicated known candidates, in the §7.2 order, and
    /// independent of the candidate order.
    #[test]
    fn ordering_rules((m, responses, picks) in arb_case()) {
        let lookup = QuestionLookup::new(&m);
        let name = |i: usize| m.question_ids.get(i).cloned().unwrap_or_else(|| format!("unknown{i}"));
        let candidates: Vec<String> = picks.iter().map(|&i| name(i)).collect();
        let ranking = rank_exercises(&m, &lookup, &candidates, &responses);
        let mut expected: Vec<u32> = picks.iter().filter(|&&i| i < m.num_questions()).map(|&i| i as u32).collect();
        expected.sort_unstable();
        expected.dedup();
        let mut got: Vec<u32> = ranking.ranked.iter().map(|r| r.question).collect();
        got.sort_unstable();
        prop_assert_eq!(got, expected);
        for w in ranking.ranked.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let order = match (a.last_responded_at, b.last_responded_at) {
                (None, None) => a.score.partial_cmp(&b.score).unwrap(),
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(&y).then(a.score.partial_cmp(&b.score).unwrap()),
            }
            .then_with(|| m.question_ids[a.question as usize].cmp(&m.question_ids[b.question as usize]));
            prop_assert_eq!(order, Ordering::Less, "{:?} before {:?}", a, b);
        }
        for r in &ranking.ranked {
            let latest = responses.iter().filter(|x| x.question == r.question).map(|x| x.responded_at).max();
            prop_assert_eq!(r.last_responded_at, latest);
            prop_assert!((0.0..=1.0).contains(&r.probability));
        }
        let mut reversed = candidates.clone();
        reversed.reverse();
        let mut ws = TesrWorkspace::new();
        prop_assert_eq!(ws.rank(&m, &lookup, &reversed, &responses), ranking.clone());
        let unknown: Vec<String> = {
            let mut u: Vec<String> = picks.iter().filter(|&&i| i >= m.num_questions()).map(|&i| name(i)).collect();
            u.sort();
            u.dedup();
            u
        };
        prop_assert_eq!(ranking.unknown, unknown);
    }
}
