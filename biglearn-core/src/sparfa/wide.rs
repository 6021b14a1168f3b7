//! Conversion of wide response tables (one row per learner, one column per item) to
//! long `(learner, question, correct)` records, as in the shared real data sets.
//!
//! Rules:
//! - a column named `rownames`, `id`, `learner` or with an empty name is the learner id;
//!   without one, learners are numbered by row (`r1`, `r2`, …);
//! - if any column is named `solved.*`, only those are items, and an item is missing when
//!   its `credits.*` column is `0` (not attempted), as in MathExam14W;
//! - otherwise every other column is an item; its values must be 0/1 (`0.0`/`1.0`
//!   allowed), with empty or `NA` meaning missing;
//! - the concept hint of an item is its name up to the first `.` (`reason.4` → `reason`);
//!   items without a `.` all share the concept `all`.

use super::csvtext;
use super::data::{bad_value, parse_bool};
use super::error::{Result, SparfaError};

/// Long records and hints from a wide table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WideData {
    /// `(learner, question, correct)` in row order.
    pub responses: Vec<(String, String, bool)>,
    /// `(question, concept)` for each item column.
    pub hints: Vec<(String, String)>,
    /// Cells that were missing.
    pub missing: usize,
}

/// Converts a wide CSV table; errors name `source_name`, the line and the column.
pub fn wide_to_long(text: &str, source_name: &str) -> Result<WideData> {
    let records = csvtext::records(text, source_name)?;
    let Some((header, rows)) = records.split_first() else {
        return Err(SparfaError::Empty {
            source_name: source_name.to_string(),
        });
    };
    let names = &header.fields;
    let id_col = names
        .iter()
        .position(|n| matches!(n.as_str(), "" | "rownames" | "id" | "learner"));
    let solved: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].starts_with("solved."))
        .collect();
    let items: Vec<(usize, Option<usize>)> = if solved.is_empty() {
        (0..names.len())
            .filter(|&i| Some(i) != id_col)
            .map(|i| (i, None))
            .collect()
    } else {
        solved
            .into_iter()
            .map(|i| {
                let credits = format!("credits.{}", &names[i]["solved.".len()..]);
                (i, names.iter().position(|n| *n == credits))
            })
            .collect()
    };
    let mut out = WideData {
        hints: items
            .iter()
            .map(|&(i, _)| {
                let name = names[i].clone();
                let concept = name.split_once('.').map_or("all", |(p, _)| p).to_string();
                (name, concept)
            })
            .collect(),
        ..WideData::default()
    };
    for (r, row) in rows.iter().enumerate() {
        csvtext::check_width(row, names.len(), source_name)?;
        let learner = match id_col {
            Some(c) if !row.fields[c].is_empty() => row.fields[c].clone(),
            Some(c) => {
                return Err(bad_value(
                    source_name,
                    row.line,
                    &names[c],
                    "",
                    "empty learner id",
                ))
            }
            None => format!("r{}", r + 1),
        };
        for &(i, credits) in &items {
            let raw = row.fields[i].as_str();
            let attempted = match credits {
                Some(c) => row.fields[c].trim() != "0",
                None => true,
            };
            if !attempted || raw.is_empty() || raw.eq_ignore_ascii_case("na") {
                out.missing += 1;
                continue;
            }
            let y = parse_bool(raw).ok_or_else(|| {
                bad_value(
                    source_name,
                    row.line,
                    &names[i],
                    raw,
                    "expected 0, 1, NA or empty",
                )
            })?;
            out.responses.push((learner.clone(), names[i].clone(), y));
        }
    }
    if out.responses.is_empty() {
        return Err(SparfaError::Empty {
            source_name: source_name.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mathexam_style_uses_credits_for_missing() {
        let text = "solved.1,solved.2,credits.1,credits.2,group\n1,0,2,0,1\n0,1,1,2,2\n";
        let w = wide_to_long(text, "m.csv").unwrap();
        assert_eq!(w.missing, 1);
        assert_eq!(
            w.responses,
            vec![
                ("r1".into(), "solved.1".into(), true),
                ("r2".into(), "solved.1".into(), false),
                ("r2".into(), "solved.2".into(), true)
            ]
        );
        assert_eq!(w.hints[0].1, "solved");
    }

    #[test]
    fn ids_na_and_bad_values() {
        let text = "rownames,Q1,Q2\n7,1,NA\n8,,0\n";
        let w = wide_to_long(text, "x").unwrap();
        assert_eq!(w.responses.len(), 2);
        assert_eq!(w.responses[0].0, "7");
        assert_eq!(w.hints[0].1, "all");
        let err = wide_to_long("a.1,a.2\n1,2\n", "bad.csv").unwrap_err();
        assert!(err.to_string().contains("line 2, column `a.2`"), "{err}");
    }
}
