//! Bodies of the engine reads (api.md §5.7, §5.9): every sub-request decoded
//! to its stored-result key, every mistake reported with its JSON path
//! (decision A2), with the wording the server answers in its 400s.

mod results_support;

use biglearn_core::engine_store::{AlgorithmName, ClueKey, ExerciseKey, ResultKind};
use biglearn_core::events::{
    owner_key, parse_result_reads, read_list_key, ClueRead, ExerciseRead, ResultReads,
    MAX_BULK_ITEMS, MAX_EXERCISES,
};
use results_support::*;
use serde_json::{json, Value};

fn exercise_reads(kind: ResultKind, body: &Value) -> Vec<ExerciseRead> {
    match parse_result_reads(kind, body).expect("valid") {
        ResultReads::Exercises(reads) => reads,
        other => panic!("{kind:?} gave {other:?}"),
    }
}

fn clue_reads(kind: ResultKind, body: &Value) -> Vec<ClueRead> {
    match parse_result_reads(kind, body).expect("valid") {
        ResultReads::Clues(reads) => reads,
        other => panic!("{kind:?} gave {other:?}"),
    }
}

/// A valid sub-request of `kind`.
fn read_item(kind: ResultKind, n: u64) -> Value {
    let mut item = json!({
        "request_uuid": id(0xaa, n),
        owner_key(kind): id(0xbb, n),
        "algorithm_name": "Biglearn_SPARFA",
    });
    if kind.is_clue() {
        item["book_container_uuid"] = json!(id(0xcc, n));
    }
    item
}

fn body(kind: ResultKind, items: Vec<Value>) -> Value {
    json!({ read_list_key(kind): items })
}

#[test]
fn the_list_and_owner_keys_of_every_read() {
    let keys: Vec<(&str, &str)> = ResultKind::ALL
        .iter()
        .map(|kind| (read_list_key(*kind), owner_key(*kind)))
        .collect();
    assert_eq!(
        keys,
        [
            ("pe_requests", "assignment_uuid"),
            ("spe_requests", "assignment_uuid"),
            ("worst_areas_requests", "student_uuid"),
            ("student_clue_requests", "student_uuid"),
            ("teacher_clue_requests", "course_container_uuid"),
        ]
    );
}

#[test]
fn exercise_reads_become_keys_and_keep_the_uuids_as_sent() {
    let algorithm = AlgorithmName::new("biglearn_sparfa").expect("name");
    for (kind, target) in exercise_targets(uuid(0xbb, 1)) {
        let mut item = read_item(kind, 1);
        item["request_uuid"] = json!(id(0xaa, 1).to_uppercase());
        item[owner_key(kind)] = json!(id(0xbb, 1).to_uppercase());
        item["max_num_exercises"] = json!(MAX_EXERCISES);
        item["unknown_item_key"] = json!("ignored");
        let mut whole = read_item(kind, 1);
        whole["max_num_exercises"] = Value::Null;
        let reads = exercise_reads(kind, &body(kind, vec![item, whole]));
        assert_eq!(
            reads[0],
            ExerciseRead {
                request_uuid: id(0xaa, 1).to_uppercase(),
                owner_uuid: id(0xbb, 1).to_uppercase(),
                key: ExerciseKey {
                    target,
                    algorithm: algorithm.clone(),
                },
                max_num_exercises: Some(MAX_EXERCISES),
            },
            "{kind:?}"
        );
        assert_eq!(reads[1].max_num_exercises, None, "null is the whole list");
    }
}

#[test]
fn clue_reads_become_keys() {
    for (kind, target) in clue_targets(uuid(0xbb, 2), uuid(0xcc, 2)) {
        let reads = clue_reads(kind, &body(kind, vec![read_item(kind, 2)]));
        assert_eq!(
            reads,
            [ClueRead {
                request_uuid: id(0xaa, 2),
                key: ClueKey {
                    target,
                    algorithm: AlgorithmName::new("biglearn_sparfa").expect("name"),
                },
            }]
        );
    }
    assert_eq!(
        clue_reads(
            ResultKind::StudentClues,
            &body(ResultKind::StudentClues, vec![])
        ),
        []
    );
}

#[test]
fn the_body_must_be_an_object_with_only_the_list_key() {
    for kind in ResultKind::ALL {
        let list = read_list_key(kind);
        assert_eq!(
            messages(parse_result_reads(kind, &json!(null))),
            ["(request body): expected an object, got null"]
        );
        assert_eq!(
            messages(parse_result_reads(kind, &json!({}))),
            [format!("{list}: missing required field")]
        );
        assert_eq!(
            messages(parse_result_reads(kind, &json!({ list: {} }))),
            [format!("{list}: expected an array, got an object")]
        );
        assert_eq!(
            messages(parse_result_reads(kind, &json!({ list: [], "extra": 1 }))),
            [format!("extra: unknown field (expected one of: {list})")]
        );
        assert_eq!(
            messages(parse_result_reads(kind, &body(kind, vec![json!(5)]))),
            [format!("{list}[0]: expected an object, got 5")]
        );
    }
}

#[test]
fn at_most_a_thousand_sub_requests() {
    for kind in ResultKind::ALL {
        let items: Vec<Value> = (0..=MAX_BULK_ITEMS as u64)
            .map(|n| read_item(kind, n))
            .collect();
        assert_eq!(
            messages(parse_result_reads(kind, &body(kind, items))),
            [format!(
                "{}: expected at most 1000 items, got 1001",
                read_list_key(kind)
            )]
        );
        let items: Vec<Value> = (0..MAX_BULK_ITEMS as u64)
            .map(|n| read_item(kind, n))
            .collect();
        assert!(parse_result_reads(kind, &body(kind, items)).is_ok());
    }
}

#[test]
fn missing_keys_are_named_in_wire_order() {
    for kind in ResultKind::ALL {
        let list = read_list_key(kind);
        let mut expected = vec![
            format!("{list}[0].request_uuid: missing required field"),
            format!("{list}[0].{}: missing required field", owner_key(kind)),
        ];
        if kind.is_clue() {
            expected.push(format!(
                "{list}[0].book_container_uuid: missing required field"
            ));
        }
        expected.push(format!("{list}[0].algorithm_name: missing required field"));
        assert_eq!(
            messages(parse_result_reads(kind, &body(kind, vec![json!({})]))),
            expected,
            "{kind:?}"
        );
    }
}

#[test]
fn bad_uuids_and_algorithm_names_carry_their_paths() {
    for kind in ResultKind::ALL {
        let list = read_list_key(kind);
        let owner = owner_key(kind);
        let mut item = read_item(kind, 1);
        item["request_uuid"] = json!("nope");
        item[owner] = json!(5);
        item["algorithm_name"] = json!("");
        let mut expected = vec![
            format!("{list}[1].request_uuid: {UUID_MSG}, got \"nope\""),
            format!("{list}[1].{owner}: {UUID_MSG}, got 5"),
        ];
        if kind.is_clue() {
            item["book_container_uuid"] = json!(null);
            expected.push(format!(
                "{list}[1].book_container_uuid: {UUID_MSG}, got null"
            ));
        }
        expected.push(format!(
            "{list}[1].algorithm_name: {ALGORITHM_MSG}, got \"\""
        ));
        let errors = messages(parse_result_reads(
            kind,
            &body(kind, vec![read_item(kind, 0), item]),
        ));
        assert_eq!(errors, expected, "{kind:?}");
    }
    let kind = ResultKind::AssignmentPes;
    let mut long = read_item(kind, 0);
    long["algorithm_name"] = json!("a".repeat(256));
    assert_eq!(
        messages(parse_result_reads(kind, &body(kind, vec![long]))),
        [format!(
            "pe_requests[0].algorithm_name: {ALGORITHM_MSG}, got \"{}\"… (256 characters)",
            "a".repeat(60)
        )]
    );
}

#[test]
fn max_num_exercises_is_an_integer_from_0_to_1000() {
    let kind = ResultKind::PracticeWorstAreas;
    for (bad, shown) in [
        (json!(1001), "1001"),
        (json!(-1), "-1"),
        (json!(1.5), "1.5"),
        (json!("3"), "\"3\""),
    ] {
        let mut item = read_item(kind, 0);
        item["max_num_exercises"] = bad;
        assert_eq!(
            messages(parse_result_reads(kind, &body(kind, vec![item]))),
            [format!(
                "worst_areas_requests[0].max_num_exercises: expected an integer from 0 to 1000, got {shown}"
            )]
        );
    }
    let mut zero = read_item(kind, 0);
    zero["max_num_exercises"] = json!(0);
    assert_eq!(
        exercise_reads(kind, &body(kind, vec![zero]))[0].max_num_exercises,
        Some(0)
    );
}
