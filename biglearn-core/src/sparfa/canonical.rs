//! The canonical order of a fit's inputs: learners, questions and concepts sorted by id.
//!
//! The objective is not convex (W and U multiply), so where the optimiser ends depends on
//! where it starts and on the order of its sweeps: the exploratory start splits questions
//! by index, coordinate sweeps visit concepts in index order, and every sum over learners
//! or questions rounds in index order. Dense indices follow the order of first appearance
//! in the input, so the same responses listed in another order could give another local
//! optimum, or the validated choice could flip between candidates whose validation losses
//! differ only by rounding. [`train`](super::baselines::train) therefore fits in the
//! canonical order and maps the result back to the caller's indices: any order of the same
//! responses and hints gives the same fit, bit for bit (S2: results reproducible from the
//! ids alone).
//!
//! The order is shortlex (shorter ids first, then bytewise): for ids that are numbers or a
//! common prefix plus a number (`"7"`, `"l12"`) it is the numeric order, so numbered data
//! usually keeps its order; for uuids it is the plain string order.

use std::cmp::Ordering;

use super::data::{Cell, Hints, ResponseSet};
use super::error::{Result, SparfaError};
use super::fit::FitOutput;

/// Shortlex comparison of two ids: by length, then bytewise.
pub fn id_order(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A permutation of dense indices into the canonical (sorted-by-id) order.
#[derive(Debug, Clone)]
struct Permutation {
    /// `original[c]`: the caller's index at canonical index `c`.
    original: Vec<u32>,
    /// `canonical[i]`: the canonical index of the caller's index `i`.
    canonical: Vec<u32>,
}

impl Permutation {
    fn sorting(ids: &[String]) -> Self {
        let mut original: Vec<u32> = (0..ids.len() as u32).collect();
        original.sort_by(|&a, &b| id_order(&ids[a as usize], &ids[b as usize]));
        let mut canonical = vec![0u32; ids.len()];
        for (c, &i) in original.iter().enumerate() {
            canonical[i as usize] = c as u32;
        }
        Permutation {
            original,
            canonical,
        }
    }

    fn ids(&self, ids: &[String]) -> Vec<String> {
        self.original
            .iter()
            .map(|&i| ids[i as usize].clone())
            .collect()
    }
}

/// The inputs of a fit in canonical order, and the permutations to map results back.
#[derive(Debug, Clone)]
pub(crate) struct Canonical {
    learners: Permutation,
    questions: Permutation,
    concepts: Permutation,
    /// The response set with learners and questions in canonical order.
    pub set: ResponseSet,
    /// The training cells, re-indexed and sorted by (learner, question).
    pub cells: Vec<Cell>,
    /// The hints with questions and concepts in canonical order.
    pub hints: Hints,
}

impl Canonical {
    /// Re-indexes `set`, its training `cells` and `hints` into the canonical order.
    /// Errors when the hints do not cover exactly the set's questions.
    pub fn new(set: &ResponseSet, cells: &[Cell], hints: &Hints) -> Result<Self> {
        let nq = set.num_questions();
        if hints.by_question().len() != nq {
            return Err(SparfaError::Dimension(format!(
                "{nq} questions in the responses, {} in the hints",
                hints.by_question().len()
            )));
        }
        let learners = Permutation::sorting(set.learner_ids());
        let questions = Permutation::sorting(set.question_ids());
        let concepts = Permutation::sorting(hints.concept_ids());
        let remap = |c: &Cell| -> Result<Cell> {
            let (l, q) = (c.learner as usize, c.question as usize);
            match (learners.canonical.get(l), questions.canonical.get(q)) {
                (Some(&learner), Some(&question)) => Ok(Cell {
                    learner,
                    question,
                    correct: c.correct,
                }),
                _ => Err(SparfaError::Dimension(format!(
                    "cell (learner {l}, question {q}) outside {} learners × {nq} questions",
                    set.num_learners()
                ))),
            }
        };
        let all = set.cells().iter().map(remap).collect::<Result<Vec<_>>>()?;
        let mut train = cells.iter().map(remap).collect::<Result<Vec<_>>>()?;
        train.sort_by_key(|c| (c.learner, c.question));
        let canonical_set = ResponseSet::from_dense(
            learners.ids(set.learner_ids()),
            questions.ids(set.question_ids()),
            all,
        )?;
        let by_question = questions
            .original
            .iter()
            .map(|&q| {
                hints.by_question()[q as usize]
                    .iter()
                    .map(|&k| concepts.canonical[k as usize])
                    .collect()
            })
            .collect();
        let canonical_hints = Hints::new(concepts.ids(hints.concept_ids()), by_question)?;
        Ok(Canonical {
            learners,
            questions,
            concepts,
            set: canonical_set,
            cells: train,
            hints: canonical_hints,
        })
    }

    /// Maps a fit made on the canonical inputs back to the caller's indices.
    /// `user_concepts`: whether the fit's concepts are the caller's hinted concepts
    /// (SPARFA) rather than ones the model kind made up (2PL's one ability, the
    /// exploratory factors), whose order does not come from the input.
    pub fn restore(&self, fit: FitOutput, user_concepts: bool) -> FitOutput {
        let k_count = fit.model.num_concepts();
        let concept = |k: u32| -> u32 {
            if user_concepts {
                self.concepts.original[k as usize]
            } else {
                k
            }
        };
        let by_question = |rows: &[u32]| -> Vec<u32> {
            let mut out: Vec<u32> = rows.iter().map(|&k| concept(k)).collect();
            out.sort_unstable();
            out
        };
        let mut model = fit.model;
        let row = |entries: &[(u32, f64)]| -> Vec<(u32, f64)> {
            let mut row: Vec<(u32, f64)> = entries.iter().map(|&(k, w)| (concept(k), w)).collect();
            row.sort_by_key(|e| e.0);
            row
        };
        let pooled = model.pooled_loadings.len() == model.loadings.len();
        let mut pooled_loadings = Vec::with_capacity(model.pooled_loadings.len());
        let mut loadings = Vec::with_capacity(model.loadings.len());
        let mut intercepts = Vec::with_capacity(model.intercepts.len());
        let mut hints = Vec::with_capacity(model.hints.len());
        let mut question_ids = Vec::with_capacity(model.question_ids.len());
        for &c in &self.questions.canonical {
            let c = c as usize;
            loadings.push(row(&model.loadings[c]));
            if pooled {
                pooled_loadings.push(row(&model.pooled_loadings[c]));
            }
            intercepts.push(model.intercepts[c]);
            hints.push(by_question(&model.hints[c]));
            question_ids.push(std::mem::take(&mut model.question_ids[c]));
        }
        if user_concepts {
            model.concept_ids = self
                .concepts
                .canonical
                .iter()
                .map(|&c| model.concept_ids[c as usize].clone())
                .collect();
        }
        model.loadings = loadings;
        if pooled {
            model.pooled_loadings = pooled_loadings;
        }
        model.intercepts = intercepts;
        model.hints = hints;
        model.question_ids = question_ids;
        let mut knowledge = vec![0.0; fit.knowledge.len()];
        for (l, &c) in self.learners.canonical.iter().enumerate() {
            let from = &fit.knowledge[c as usize * k_count..(c as usize + 1) * k_count];
            let to = &mut knowledge[l * k_count..(l + 1) * k_count];
            for (k, &v) in from.iter().enumerate() {
                to[concept(k as u32) as usize] = v;
            }
        }
        FitOutput {
            model,
            knowledge,
            ..fit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparfa::model::SparfaModel;

    #[test]
    fn shortlex_keeps_numbered_ids_in_numeric_order() {
        let mut ids = vec!["l10", "l2", "l1", "b", "a"];
        ids.sort_by(|a, b| id_order(a, b));
        assert_eq!(ids, ["a", "b", "l1", "l2", "l10"]);
    }

    #[test]
    fn restore_undoes_the_canonical_order() {
        // Learners "b", "a"; questions "q2", "q1"; concepts "y", "x".
        let set =
            ResponseSet::from_records([("b", "q2", true), ("a", "q1", false), ("a", "q2", true)]);
        let hints = Hints::new(
            vec!["y".into(), "x".into()],
            vec![vec![0], vec![0, 1]], // q2: y; q1: y, x
        )
        .unwrap();
        let c = Canonical::new(&set, set.cells(), &hints).unwrap();
        assert_eq!(c.set.learner_ids(), ["a", "b"]);
        assert_eq!(c.set.question_ids(), ["q1", "q2"]);
        assert_eq!(c.hints.concept_ids(), ["x", "y"]);
        assert_eq!(c.hints.by_question(), [vec![0, 1], vec![1]]);
        assert_eq!(c.cells.len(), 3);
        // A canonical fit: q1 loads x 0.5, y 0.25; q2 loads y 2; u_a = (1, 2), u_b = (3, 4).
        let fit = FitOutput {
            model: SparfaModel {
                question_ids: vec!["q1".into(), "q2".into()],
                concept_ids: vec!["x".into(), "y".into()],
                loadings: vec![vec![(0, 0.5), (1, 0.25)], vec![(1, 2.0)]],
                intercepts: vec![-1.0, 1.0],
                hints: vec![vec![0, 1], vec![1]],
                penalties: Default::default(),
                pooled_loadings: vec![vec![(0, 0.75), (1, 0.25)], vec![(0, 1.0), (1, 2.0)]],
            },
            knowledge: vec![1.0, 2.0, 3.0, 4.0],
            objective: 7.0,
            iterations: 3,
            converged: true,
        };
        let back = c.restore(fit, true);
        assert_eq!(back.model.question_ids, ["q2", "q1"]);
        assert_eq!(back.model.concept_ids, ["y", "x"]);
        assert_eq!(
            back.model.loadings,
            vec![vec![(0, 2.0)], vec![(0, 0.25), (1, 0.5)]]
        );
        assert_eq!(
            back.model.pooled_loadings,
            vec![vec![(0, 2.0), (1, 1.0)], vec![(0, 0.25), (1, 0.75)]]
        );
        assert_eq!(back.model.intercepts, [1.0, -1.0]);
        assert_eq!(back.model.hints, vec![vec![0], vec![0, 1]]);
        // Learner "b" first, each as (y, x).
        assert_eq!(back.knowledge, [4.0, 3.0, 2.0, 1.0]);
        assert_eq!(back.objective, 7.0);
    }
}
