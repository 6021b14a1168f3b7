//! Held-out evaluation: seeded cell splits, learner re-estimation (§5) and metrics.

use super::csvtext;
use super::data::{bad_value, Cell, CellMatrix, ResponseSet};
use super::error::{Result, SparfaError};
use super::fit::math::{logistic_loss, sigmoid};
use super::fit::{learner_half_step, LearnerStep};
use super::model::SparfaModel;

/// A partition of a response set's cells into training and held-out cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Split {
    /// Cells used for fitting, sorted by (learner, question).
    pub train: Vec<Cell>,
    /// Held-out cells, sorted by (learner, question).
    pub heldout: Vec<Cell>,
}

/// A 64-bit hash of `(seed, learner id, question id)` that depends only on the ids, so
/// splits do not change when learners or questions are listed in another order (S2).
pub fn cell_hash(seed: u64, learner: &str, question: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in learner.bytes().chain([0xffu8]).chain(question.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    splitmix(h ^ splitmix(seed))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Holds out `round(fraction · n)` of `cells` (a subset of `set`'s cells): those with the
/// smallest [`cell_hash`] for `seed`. Uniform over cells and independent of id order.
pub fn split_cells(set: &ResponseSet, cells: &[Cell], fraction: f64, seed: u64) -> Result<Split> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(SparfaError::InvalidOption {
            name: "holdout",
            message: format!("fraction {fraction} is not in [0, 1)"),
        });
    }
    let take = (fraction * cells.len() as f64).round() as usize;
    let mut keyed: Vec<(u64, &str, &str, usize)> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let l = set.learner_ids()[c.learner as usize].as_str();
            let q = set.question_ids()[c.question as usize].as_str();
            (cell_hash(seed, l, q), l, q, i)
        })
        .collect();
    keyed.sort_unstable();
    let mut held = vec![false; cells.len()];
    for e in &keyed[..take] {
        held[e.3] = true;
    }
    let mut split = Split::default();
    for (c, h) in cells.iter().zip(held) {
        if h {
            split.heldout.push(*c);
        } else {
            split.train.push(*c);
        }
    }
    Ok(split)
}

/// Reads a split file with header `learner,question` listing exactly the held-out cells
/// of `set`. Unknown learners, questions or unobserved cells are errors naming the line.
pub fn split_from_csv(text: &str, source_name: &str, set: &ResponseSet) -> Result<Split> {
    let records = csvtext::records(text, source_name)?;
    let Some((header, rows)) = records.split_first() else {
        return Err(SparfaError::Empty {
            source_name: source_name.to_string(),
        });
    };
    let pos = csvtext::header_positions(header, &["learner", "question"], source_name)?;
    let mut held = vec![false; set.cells().len()];
    for row in rows {
        csvtext::check_width(row, header.fields.len(), source_name)?;
        let (lid, qid) = (&row.fields[pos[0]], &row.fields[pos[1]]);
        let unknown = |kind, id: &str| SparfaError::UnknownId {
            source_name: source_name.to_string(),
            line: row.line,
            kind,
            id: id.to_string(),
        };
        let l = set.learner(lid).ok_or_else(|| unknown("learner", lid))?;
        let q = set.question(qid).ok_or_else(|| unknown("question", qid))?;
        let at = set
            .cell_position(l, q)
            .ok_or_else(|| unknown("cell", &format!("{lid},{qid}")))?;
        if held[at] {
            return Err(bad_value(
                source_name,
                row.line,
                "question",
                qid,
                "cell listed twice",
            ));
        }
        held[at] = true;
    }
    let mut split = Split::default();
    for (c, h) in set.cells().iter().zip(held) {
        if h {
            split.heldout.push(*c);
        } else {
            split.train.push(*c);
        }
    }
    Ok(split)
}

/// Writes the held-out cells of a split as CSV with header `learner,question`.
pub fn split_to_csv(set: &ResponseSet, split: &Split) -> String {
    let mut out = String::from("learner,question\n");
    for c in &split.heldout {
        out.push_str(&quote(&set.learner_ids()[c.learner as usize]));
        out.push(',');
        out.push_str(&quote(&set.question_ids()[c.question as usize]));
        out.push('\n');
    }
    out
}

/// Quotes a CSV field if it needs it.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.trim() != field {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Every learner's §5 MAP knowledge for the model's W, d from their cells in `cells`
/// (learner-major; a learner without cells gets `u = 0`). Converged to a gradient of 1e-9.
pub fn estimate_knowledge(model: &SparfaModel, cells: &CellMatrix) -> Vec<f64> {
    let k_count = model.num_concepts();
    let mut u = vec![0.0; cells.num_learners * k_count];
    let step = LearnerStep {
        data: model.penalties.data,
        prior: model.penalties.learner,
        sweeps: 500,
        tolerance: 1e-9,
        relaxation: 1.0,
    };
    learner_half_step(cells, model, &mut u, k_count, step);
    u
}

/// Predicted probabilities of `cells` from a model and learner-major knowledge.
pub fn predict(model: &SparfaModel, knowledge: &[f64], cells: &[Cell]) -> Vec<f64> {
    let k = model.num_concepts();
    cells
        .iter()
        .map(|c| {
            let l = c.learner as usize;
            sigmoid(model.logit(c.question, &knowledge[l * k..(l + 1) * k]))
        })
        .collect()
}

/// Held-out prediction quality.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Metrics {
    /// Fraction with `(p ≥ 0.5) == correct`.
    pub accuracy: f64,
    /// Mean `−log p(y)`.
    pub log_loss: f64,
    /// Area under the ROC curve (ties count one half); 0.5 when one class is absent.
    pub auc: f64,
    /// Mean `(p − y)²`.
    pub brier: f64,
    /// Number of cells scored.
    pub count: usize,
}

/// Computes [`Metrics`] of predicted probabilities against the cells' responses.
pub fn metrics(probabilities: &[f64], cells: &[Cell]) -> Metrics {
    let n = probabilities.len().min(cells.len());
    if n == 0 {
        return Metrics::default();
    }
    let (mut hits, mut ll, mut brier) = (0usize, 0.0, 0.0);
    for (&p, c) in probabilities.iter().zip(cells) {
        let y = if c.correct { 1.0 } else { 0.0 };
        if (p >= 0.5) == c.correct {
            hits += 1;
        }
        let z = (p / (1.0 - p)).ln();
        ll += if z.is_finite() {
            logistic_loss(c.correct, z)
        } else {
            -(if c.correct { p } else { 1.0 - p }).max(1e-300).ln()
        };
        brier += (p - y) * (p - y);
    }
    Metrics {
        accuracy: hits as f64 / n as f64,
        log_loss: ll / n as f64,
        auc: auc(&probabilities[..n], &cells[..n]),
        brier: brier / n as f64,
        count: n,
    }
}

/// Predictions this close count as tied in the AUC.
const TIE: f64 = 1e-9;

/// Mann–Whitney AUC with average ranks for ties.
fn auc(p: &[f64], cells: &[Cell]) -> f64 {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let positives = cells.iter().filter(|c| c.correct).count();
    let negatives = p.len() - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        // Probabilities closer than TIE apart are ties: they differ only by rounding
        // (e.g. the same question for learners with the same responses).
        while j + 1 < order.len() && p[order[j + 1]] - p[order[i]] <= TIE {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if cells[o].correct {
                rank_sum += avg_rank;
            }
        }
        i = j + 1;
    }
    let pos = positives as f64;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * negatives as f64)
}

/// Scores a fitted model on held-out cells: every learner's `u` is re-estimated from
/// their training cells by §5, then the held-out cells are predicted.
pub fn evaluate(model: &SparfaModel, train: &CellMatrix, heldout: &[Cell]) -> Metrics {
    let u = estimate_knowledge(model, train);
    metrics(&predict(model, &u, heldout), heldout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(correct: bool) -> Cell {
        Cell {
            learner: 0,
            question: 0,
            correct,
        }
    }

    #[test]
    fn auc_counts_ties_half() {
        let cells = [cell(true), cell(false), cell(true), cell(false)];
        assert_eq!(auc(&[0.9, 0.1, 0.5, 0.5], &cells), 0.875);
        let m = metrics(&[0.9, 0.1, 0.5, 0.5], &cells);
        assert_eq!(m.accuracy, 0.75);
        assert!((m.brier - (0.01 + 0.01 + 0.25 + 0.25) / 4.0).abs() < 1e-12);
        let expected_ll = -(0.9f64.ln() + 0.9f64.ln() + 2.0 * 0.5f64.ln()) / 4.0;
        assert!((m.log_loss - expected_ll).abs() < 1e-12);
    }
}
