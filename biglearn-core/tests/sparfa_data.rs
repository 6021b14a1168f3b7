//! Data handling: CSV parsing and its errors, duplicates, splits, wide conversion.

#![allow(clippy::unwrap_used)] // tests panic on unexpected errors by design

use biglearn_core::sparfa::data::{Hints, ResponseSet};
use biglearn_core::sparfa::eval::{split_cells, split_from_csv, split_to_csv};
use biglearn_core::sparfa::wide::wide_to_long;
use biglearn_core::sparfa::SparfaError;

const RESPONSES: &str = "learner,question,correct\na,q1,1\na,q2,0\nb,q1,0\na,q1,0\nb,q2,1\n";

#[test]
fn first_response_per_cell_wins() {
    let set = ResponseSet::from_csv(RESPONSES, "r.csv").unwrap();
    assert_eq!(set.cells().len(), 4);
    assert_eq!(set.duplicates(), 1);
    let a = set.learner("a").unwrap();
    let q1 = set.question("q1").unwrap();
    let at = set.cell_position(a, q1).unwrap();
    assert!(
        set.cells()[at].correct,
        "the later wrong answer must be ignored"
    );
}

#[test]
fn columns_may_come_in_any_order_and_extra_columns_are_ignored() {
    let text = "correct,extra,question,learner\n1,x,q,l\n";
    let set = ResponseSet::from_csv(text, "r.csv").unwrap();
    assert_eq!(set.learner_ids(), ["l"]);
    assert_eq!(set.question_ids(), ["q"]);
}

#[test]
fn malformed_csv_names_file_line_and_column() {
    let err =
        ResponseSet::from_csv("learner,question,correct\na,q,1\nb,q,yes\n", "r.csv").unwrap_err();
    assert_eq!(
        err.to_string(),
        "r.csv: line 3, column `correct`: expected 0 or 1 (value `yes`)"
    );
    let err = ResponseSet::from_csv("learner,question,correct\na,q\n", "r.csv").unwrap_err();
    assert!(
        matches!(
            err,
            SparfaError::FieldCount {
                line: 2,
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = ResponseSet::from_csv("student,item,score\n", "r.csv").unwrap_err();
    assert!(matches!(err, SparfaError::BadHeader { .. }), "{err}");
    let err = ResponseSet::from_csv("learner,question,correct\n,q,1\n", "r.csv").unwrap_err();
    assert!(
        err.to_string().contains("line 2, column `learner`"),
        "{err}"
    );
    let err = ResponseSet::from_csv("learner,question,correct\n\"a,q,1\n", "r.csv").unwrap_err();
    assert!(
        matches!(err, SparfaError::UnterminatedQuote { line: 2, .. }),
        "{err}"
    );
}

#[test]
fn empty_data_is_an_error() {
    for text in ["", "learner,question,correct\n", "\n\n"] {
        let err = ResponseSet::from_csv(text, "e.csv").unwrap_err();
        assert!(
            matches!(
                err,
                SparfaError::Empty { .. } | SparfaError::BadHeader { .. }
            ),
            "{err}"
        );
    }
    let err = ResponseSet::from_csv("learner,question,correct\n", "e.csv").unwrap_err();
    assert_eq!(err.to_string(), "e.csv: no responses");
}

#[test]
fn hints_ignore_unknown_questions_and_number_concepts() {
    let set = ResponseSet::from_csv(RESPONSES, "r.csv").unwrap();
    let hints =
        Hints::from_csv("question,concept\nq2,B\nq1,A\nq9,C\nq1,B\n", "h.csv", &set).unwrap();
    assert_eq!(hints.concept_ids(), ["B", "A", "C"]);
    let q1 = set.question("q1").unwrap() as usize;
    assert_eq!(hints.by_question()[q1], vec![0, 1]);
    let err = Hints::from_csv("question,concept\nq1,\n", "h.csv", &set).unwrap_err();
    assert!(
        err.to_string().contains("h.csv: line 2, column `concept`"),
        "{err}"
    );
}

#[test]
fn split_files_round_trip_and_reject_unknown_ids() {
    let set = ResponseSet::from_csv(RESPONSES, "r.csv").unwrap();
    let split = split_cells(&set, set.cells(), 0.5, 3).unwrap();
    assert_eq!(split.heldout.len(), 2);
    let text = split_to_csv(&set, &split);
    assert_eq!(split_from_csv(&text, "p.csv", &set).unwrap(), split);
    let err = split_from_csv("learner,question\nzz,q1\n", "p.csv", &set).unwrap_err();
    assert_eq!(err.to_string(), "p.csv: line 2: unknown learner `zz`");
    let err = split_from_csv("learner,question\na,q7\n", "p.csv", &set).unwrap_err();
    assert_eq!(err.to_string(), "p.csv: line 2: unknown question `q7`");
    let one = ResponseSet::from_csv("learner,question,correct\na,q1,1\nb,q2,1\n", "r.csv").unwrap();
    let err = split_from_csv("learner,question\na,q2\n", "p.csv", &one).unwrap_err();
    assert!(
        matches!(err, SparfaError::UnknownId { kind: "cell", .. }),
        "{err}"
    );
    assert!(split_cells(&set, set.cells(), 1.5, 0).is_err());
}

#[test]
fn split_does_not_depend_on_id_order() {
    let forward = ResponseSet::from_csv(RESPONSES, "r.csv").unwrap();
    let mut lines: Vec<&str> = RESPONSES.lines().collect();
    lines[1..].reverse();
    // Reversing would make the duplicate win; drop it to compare like with like.
    let text: String = lines
        .iter()
        .filter(|l| **l != "a,q1,0")
        .map(|l| format!("{l}\n"))
        .collect();
    let backward = ResponseSet::from_csv(&text, "r.csv").unwrap();
    let held = |set: &ResponseSet| {
        let s = split_cells(set, set.cells(), 0.5, 11).unwrap();
        let mut ids: Vec<(String, String)> = s
            .heldout
            .iter()
            .map(|c| {
                (
                    set.learner_ids()[c.learner as usize].clone(),
                    set.question_ids()[c.question as usize].clone(),
                )
            })
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(held(&forward), held(&backward));
}

#[test]
fn wide_tables_convert_to_long_records() {
    let text = "reason.4,letter.7,rotate.3\n1.0,NA,0.0\n,1,1\n";
    let w = wide_to_long(text, "ability.csv").unwrap();
    assert_eq!(w.responses.len(), 4);
    assert_eq!(w.missing, 2);
    let concepts: Vec<&str> = w.hints.iter().map(|h| h.1.as_str()).collect();
    assert_eq!(concepts, ["reason", "letter", "rotate"]);
    assert!(matches!(
        wide_to_long("a,b\nNA,NA\n", "x"),
        Err(SparfaError::Empty { .. })
    ));
}
