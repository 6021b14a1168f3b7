//! A fitted model with its learners as one self-describing JSON document:
//! what the Python package's `save`/`load` write and read, and what any
//! other tool can parse without biglearn.
//!
//! ```json
//! {
//!   "format": "biglearn-sparfa-model",
//!   "version": 1,
//!   "kind": "sparfa" | "2pl" | "rasch" | "rate" | "exploratory",
//!   "lambda": 0.42,
//!   "model": { "question_ids": [...], "concept_ids": [...],
//!              "loadings": [[[concept, weight], ...] per question],
//!              "intercepts": [...], "hints": [[concept, ...] per question],
//!              "penalties": {"data", "hinted", "unhinted", "intercept", "learner"},
//!              "pooled_loadings": [[[concept, weight], ...] per question] (optional,
//!              the loadings CLUEs read) },
//!   "learner_ids": [...],
//!   "knowledge": [[u per concept] per learner],
//!   "objective": 123.4, "iterations": 57, "converged": true
//! }
//! ```
//!
//! Loading checks every dimension, so a hand-edited file fails with the
//! field that is wrong instead of a wrong prediction later.

use serde::{Deserialize, Serialize};

use super::baselines::ModelKind;
use super::error::{Result, SparfaError};
use super::model::SparfaModel;

/// The value of the `format` field.
pub const FORMAT: &str = "biglearn-sparfa-model";
/// The version this code writes and reads.
pub const VERSION: u32 = 1;

/// A fitted model and its learners' knowledge (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The family member fitted: `sparfa`, `2pl`, `rasch` or `rate`.
    pub kind: String,
    /// The λ the fit used.
    pub lambda: f64,
    /// W, d, H and the penalties.
    pub model: SparfaModel,
    /// Learner ids, in the order of `knowledge`.
    pub learner_ids: Vec<String>,
    /// Each learner's knowledge, one value per concept.
    pub knowledge: Vec<Vec<f64>>,
    /// The objective at the end of the fit.
    pub objective: f64,
    /// Outer iterations the fit ran.
    pub iterations: usize,
    /// Whether the fit met its tolerance.
    pub converged: bool,
}

/// The name [`SavedModel::kind`] holds for `kind`.
pub fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Sparfa => "sparfa",
        ModelKind::TwoPl => "2pl",
        ModelKind::Rasch => "rasch",
        ModelKind::Rate => "rate",
        ModelKind::Exploratory => "exploratory",
    }
}

fn invalid(field: &str, message: String) -> SparfaError {
    SparfaError::Dimension(format!("saved model, field `{field}`: {message}"))
}

impl SavedModel {
    /// The document as JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| invalid("(document)", e.to_string()))
    }

    /// Parses and checks a document: format, version, kind, and that every
    /// per-question, per-concept and per-learner list has its length and
    /// every concept index is in range.
    pub fn from_json(text: &str) -> Result<SavedModel> {
        let saved: SavedModel = serde_json::from_str(text)
            .map_err(|e| invalid("(document)", format!("not a saved model: {e}")))?;
        saved.check()?;
        Ok(saved)
    }

    fn check(&self) -> Result<()> {
        if self.format != FORMAT {
            return Err(invalid(
                "format",
                format!("`{}`, expected `{FORMAT}`", self.format),
            ));
        }
        if self.version != VERSION {
            return Err(invalid(
                "version",
                format!("{} is not supported (this reads {VERSION})", self.version),
            ));
        }
        self.kind
            .parse::<ModelKind>()
            .map_err(|e| invalid("kind", e.to_string()))?;
        let m = &self.model;
        let (nq, nk) = (m.question_ids.len(), m.concept_ids.len());
        for (field, len) in [
            ("model.loadings", m.loadings.len()),
            ("model.intercepts", m.intercepts.len()),
            ("model.hints", m.hints.len()),
        ] {
            if len != nq {
                return Err(invalid(field, format!("{len} entries for {nq} questions")));
            }
        }
        if !m.pooled_loadings.is_empty() && m.pooled_loadings.len() != nq {
            return Err(invalid(
                "model.pooled_loadings",
                format!("{} entries for {nq} questions", m.pooled_loadings.len()),
            ));
        }
        for (field, rows) in [
            ("model.loadings", &m.loadings),
            ("model.pooled_loadings", &m.pooled_loadings),
        ] {
            for (q, row) in rows.iter().enumerate() {
                if let Some((k, w)) = row
                    .iter()
                    .find(|(k, w)| *k as usize >= nk || !w.is_finite())
                {
                    return Err(invalid(
                        &format!("{field}[{q}]"),
                        format!("concept {k} weight {w} (there are {nk} concepts)"),
                    ));
                }
            }
        }
        for (q, row) in m.hints.iter().enumerate() {
            if let Some(k) = row.iter().find(|k| **k as usize >= nk) {
                return Err(invalid(
                    &format!("model.hints[{q}]"),
                    format!("concept {k} (there are {nk} concepts)"),
                ));
            }
        }
        if self.knowledge.len() != self.learner_ids.len() {
            return Err(invalid(
                "knowledge",
                format!(
                    "{} rows for {} learner ids",
                    self.knowledge.len(),
                    self.learner_ids.len()
                ),
            ));
        }
        if let Some(l) = self.knowledge.iter().position(|u| u.len() != nk) {
            return Err(invalid(
                &format!("knowledge[{l}]"),
                format!("{} values for {nk} concepts", self.knowledge[l].len()),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparfa::Penalties;

    fn saved() -> SavedModel {
        SavedModel {
            format: FORMAT.to_owned(),
            version: VERSION,
            kind: "2pl".to_owned(),
            lambda: 0.5,
            model: SparfaModel {
                question_ids: vec!["q1".into(), "q2".into()],
                concept_ids: vec!["ability".into()],
                loadings: vec![vec![(0, 1.5)], vec![]],
                intercepts: vec![0.2, -0.1],
                hints: vec![vec![0], vec![0]],
                penalties: Penalties::default(),
                pooled_loadings: vec![vec![(0, 1.2)], vec![(0, 0.9)]],
            },
            learner_ids: vec!["ann".into()],
            knowledge: vec![vec![0.3]],
            objective: 12.5,
            iterations: 4,
            converged: true,
        }
    }

    #[test]
    fn round_trip() {
        let text = match saved().to_json() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(SavedModel::from_json(&text), Ok(saved()));
    }

    #[test]
    fn wrong_fields_are_named() {
        let check = |edit: fn(&mut SavedModel), field: &str| {
            let mut s = saved();
            edit(&mut s);
            let text = serde_json::to_string(&s).unwrap_or_default();
            let error = SavedModel::from_json(&text).err().map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|m| m.contains(field)),
                "{field}: {error:?}"
            );
        };
        check(|s| s.format = "pickle".into(), "`format`");
        check(|s| s.version = 9, "`version`");
        check(|s| s.kind = "3pl".into(), "`kind`");
        check(
            |s| s.model.intercepts.pop().map(drop).unwrap_or(()),
            "`model.intercepts`",
        );
        check(
            |s| s.model.loadings[1].push((3, 1.0)),
            "`model.loadings[1]`",
        );
        check(|s| s.model.hints[0].push(2), "`model.hints[0]`");
        check(
            |s| s.model.pooled_loadings[0].push((5, 1.0)),
            "`model.pooled_loadings[0]`",
        );
        check(
            |s| s.model.pooled_loadings.pop().map(drop).unwrap_or(()),
            "`model.pooled_loadings`",
        );
        check(|s| s.knowledge.push(vec![0.0]), "`knowledge`");
        check(|s| s.knowledge[0].push(1.0), "`knowledge[0]`");
        let garbage = SavedModel::from_json("{").err().map(|e| e.to_string());
        assert!(garbage.is_some_and(|m| m.contains("not a saved model")));
    }
}
