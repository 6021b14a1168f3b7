//! The §4.5 objective J and the §4.6 KKT conditions, computed directly from their
//! definitions (independently of the optimiser) so tests can check a fit.

use super::data::CellMatrix;
use super::fit::math::{logistic_loss, sigmoid};
use super::model::SparfaModel;

/// J(W, d, U) of §4.5 with the model's penalties; `knowledge` is learner-major.
pub fn objective(model: &SparfaModel, knowledge: &[f64], cells: &CellMatrix) -> f64 {
    let pen = &model.penalties;
    let k_count = model.num_concepts();
    let mut data = 0.0;
    for l in 0..cells.num_learners {
        let u = &knowledge[l * k_count..(l + 1) * k_count];
        let (questions, correct) = cells.by_learner.row(l);
        for (&q, &y) in questions.iter().zip(correct) {
            data += logistic_loss(y, model.logit(q, u));
        }
    }
    let mut j = pen.data * data + pen.learner * knowledge.iter().map(|v| v * v).sum::<f64>();
    for q in 0..model.num_questions() {
        let d = model.intercepts[q];
        j += pen.intercept * d * d;
        for &(k, w) in &model.loadings[q] {
            j += if model.hints[q].binary_search(&k).is_ok() {
                pen.hinted * w * w
            } else {
                pen.unhinted * w
            };
        }
    }
    j
}

/// Largest violation of each group of KKT conditions of §4.6 (absolute gradient units).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KktReport {
    /// `max |∂J/∂W_kq|` over `W_kq > 0` (0 when loadings were fixed).
    pub positive_loadings: f64,
    /// `max(0, −∂J/∂W_kq)` over `W_kq = 0`, hinted or not (0 when loadings were fixed).
    pub zero_loadings: f64,
    /// `max |∂J/∂d_q|`.
    pub intercepts: f64,
    /// `max |∂J/∂U_kl|`.
    pub knowledge: f64,
}

impl KktReport {
    /// The largest of the four violations.
    pub fn max(&self) -> f64 {
        self.positive_loadings
            .max(self.zero_loadings)
            .max(self.intercepts)
            .max(self.knowledge)
    }
}

/// Measures the KKT conditions of §4.6 at `(model, knowledge)` on `cells`. With
/// `fixed_loadings` (Rasch) the loading conditions are not part of the problem and are
/// reported as 0. Costs one pass over the cells times the number of concepts.
pub fn kkt_violation(
    model: &SparfaModel,
    knowledge: &[f64],
    cells: &CellMatrix,
    fixed_loadings: bool,
) -> KktReport {
    let pen = &model.penalties;
    let k_count = model.num_concepts();
    let mut report = KktReport::default();
    let mut dense = vec![0.0; k_count];
    for q in 0..cells.num_questions {
        dense.iter_mut().for_each(|g| *g = 0.0);
        let mut gd = 0.0;
        let (learners, correct) = cells.by_question.row(q);
        for (&l, &y) in learners.iter().zip(correct) {
            let u = &knowledge[l as usize * k_count..(l as usize + 1) * k_count];
            let r = sigmoid(model.logit(q as u32, u)) - if y { 1.0 } else { 0.0 };
            gd += r;
            for (g, &v) in dense.iter_mut().zip(u) {
                *g += r * v;
            }
        }
        let d = model.intercepts[q];
        report.intercepts = report
            .intercepts
            .max((pen.data * gd + 2.0 * pen.intercept * d).abs());
        if fixed_loadings {
            continue;
        }
        let mut w = vec![0.0; k_count];
        for &(k, v) in &model.loadings[q] {
            w[k as usize] = v;
        }
        for (k, &g) in dense.iter().enumerate() {
            let hinted = model.hints[q].binary_search(&(k as u32)).is_ok();
            let full = pen.data * g
                + if hinted {
                    2.0 * pen.hinted * w[k]
                } else {
                    pen.unhinted
                };
            if w[k] > 0.0 {
                report.positive_loadings = report.positive_loadings.max(full.abs());
            } else {
                report.zero_loadings = report.zero_loadings.max((-full).max(0.0));
            }
        }
    }
    let mut grad = vec![0.0; k_count];
    for l in 0..cells.num_learners {
        let u = &knowledge[l * k_count..(l + 1) * k_count];
        grad.iter_mut()
            .zip(u)
            .for_each(|(g, &v)| *g = 2.0 * pen.learner * v);
        let (questions, correct) = cells.by_learner.row(l);
        for (&q, &y) in questions.iter().zip(correct) {
            let r = sigmoid(model.logit(q, u)) - if y { 1.0 } else { 0.0 };
            for &(k, w) in &model.loadings[q as usize] {
                grad[k as usize] += pen.data * w * r;
            }
        }
        for g in &grad {
            report.knowledge = report.knowledge.max(g.abs());
        }
    }
    report
}
