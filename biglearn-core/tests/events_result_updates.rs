//! Bodies of the update_* endpoints (api.md §5.8, §5.9): external results
//! decoded to the upserts they ask for, every mistake reported with its JSON
//! path (decision A2), and the `clue_data` object with its closed key set.

mod results_support;

use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueResult, ExerciseKey, ExerciseResult, ExternalUpdate, ResultKind,
    SpyInfo,
};

use biglearn_core::events::{
    owner_key, parse_result_updates, update_list_key, Echoed, MAX_BULK_ITEMS, MAX_EXERCISES,
};
use biglearn_core::ids::{CalculationId, EcosystemId, EcosystemMatrixId, ExerciseId, RequestId};
use biglearn_core::scheduler::ClueData;
use results_support::*;
use serde_json::{json, Value};

const UNIT_MSG: &str = "expected a number from 0 to 1";
const CLUE_KEYS: &str = "minimum, most_likely, maximum, is_real, ecosystem_uuid";

fn exercise_update(kind: ResultKind, n: u64) -> Value {
    json!({
        "request_uuid": id(0xaa, n),
        owner_key(kind): id(0xbb, n),
        "algorithm_name": "Ext",
        "calculation_uuid": id(0xca, n),
        "ecosystem_matrix_uuid": id(0xdd, n),
        "exercise_uuids": [id(0xee, 1), id(0xee, 2)],
    })
}

fn clue_update(kind: ResultKind, n: u64) -> Value {
    json!({
        "request_uuid": id(0xaa, n),
        owner_key(kind): id(0xbb, n),
        "book_container_uuid": id(0xcc, n),
        "algorithm_name": "Ext",
        "calculation_uuid": id(0xca, n),
        "clue_data": {"minimum": 0, "most_likely": 0.25, "maximum": 1, "is_real": true},
    })
}

fn update(kind: ResultKind, n: u64) -> Value {
    if kind.is_clue() {
        clue_update(kind, n)
    } else {
        exercise_update(kind, n)
    }
}

fn body(kind: ResultKind, items: Vec<Value>) -> Value {
    json!({ update_list_key(kind): items })
}

#[test]
fn the_list_keys_of_every_update() {
    let keys: Vec<&str> = ResultKind::ALL.into_iter().map(update_list_key).collect();
    assert_eq!(
        keys,
        [
            "pe_updates",
            "spe_updates",
            "practice_worst_areas_updates",
            "student_clue_updates",
            "teacher_clue_updates",
        ]
    );
}

#[test]
fn exercise_updates_become_upserts() {
    for (kind, target) in exercise_targets(uuid(0xbb, 1)) {
        let mut item = exercise_update(kind, 1);
        item["request_uuid"] = json!(id(0xaa, 1).to_uppercase());
        item["spy_info"] = json!({"why": [1, 2]});
        item["ignored_item_key"] = json!(true);
        let mut no_spy = exercise_update(kind, 2);
        no_spy["spy_info"] = Value::Null;
        let items = parse_result_updates(kind, &body(kind, vec![item, no_spy])).expect("valid");
        let expected = Echoed {
            raw_uuid: id(0xaa, 1).to_uppercase(),
            event: ExternalUpdate::Exercise {
                request_uuid: RequestId::from_uuid(uuid(0xaa, 1)),
                key: ExerciseKey {
                    target,
                    algorithm: AlgorithmName::new("ext").expect("name"),
                },
                result: ExerciseResult {
                    calculation_uuid: CalculationId::from_uuid(uuid(0xca, 1)),
                    ecosystem_matrix_uuid: EcosystemMatrixId::from_uuid(uuid(0xdd, 1)),
                    exercise_uuids: vec![
                        ExerciseId::from_uuid(uuid(0xee, 1)),
                        ExerciseId::from_uuid(uuid(0xee, 2)),
                    ],
                    spy_info: SpyInfo(json!({"why": [1, 2]}).as_object().expect("object").clone()),
                },
            },
        };
        assert_eq!(items[0], expected, "{kind:?}");
        let ExternalUpdate::Exercise { result, .. } = &items[1].event else {
            panic!("an exercise update");
        };
        assert_eq!(result.spy_info, SpyInfo::default(), "null spy_info is {{}}");
    }
}

#[test]
fn clue_updates_become_upserts() {
    for (kind, target) in clue_targets(uuid(0xbb, 3), uuid(0xcc, 3)) {
        let mut item = clue_update(kind, 3);
        item["clue_data"]["ecosystem_uuid"] = json!(id(0xec, 1).to_uppercase());
        let items = parse_result_updates(kind, &body(kind, vec![item])).expect("valid");
        let expected = Echoed {
            raw_uuid: id(0xaa, 3),
            event: ExternalUpdate::Clue {
                request_uuid: RequestId::from_uuid(uuid(0xaa, 3)),
                key: ClueKey {
                    target,
                    algorithm: AlgorithmName::new("ext").expect("name"),
                },
                result: ClueResult {
                    calculation_uuid: CalculationId::from_uuid(uuid(0xca, 3)),
                    ecosystem_matrix_uuid: None,
                    clue_data: ClueData {
                        minimum: 0.0,
                        most_likely: 0.25,
                        maximum: 1.0,
                        is_real: true,
                        ecosystem_uuid: Some(EcosystemId::from_uuid(uuid(0xec, 1))),
                    },
                    spy_info: SpyInfo::default(),
                },
            },
        };
        assert_eq!(items, [expected], "{kind:?}");
    }
}

#[test]
fn the_body_must_be_an_object_with_only_the_list_key() {
    for kind in ResultKind::ALL {
        let list = update_list_key(kind);
        assert_eq!(
            messages(parse_result_updates(kind, &json!("x"))),
            ["(request body): expected an object, got \"x\""]
        );
        assert_eq!(
            messages(parse_result_updates(kind, &json!({"other": []}))),
            [
                format!("{list}: missing required field"),
                format!("other: unknown field (expected one of: {list})"),
            ]
        );
        assert_eq!(
            messages(parse_result_updates(kind, &json!({ list: 1 }))),
            [format!("{list}: expected an array, got 1")]
        );
        assert_eq!(
            messages(parse_result_updates(kind, &body(kind, vec![json!([])]))),
            [format!(
                "{list}[0]: expected an object, got an array of 0 items"
            )]
        );
        let many: Vec<Value> = (0..=MAX_BULK_ITEMS as u64)
            .map(|n| update(kind, n))
            .collect();
        assert_eq!(
            messages(parse_result_updates(kind, &body(kind, many))),
            [format!("{list}: expected at most 1000 items, got 1001")]
        );
    }
}

#[test]
fn missing_keys_are_named_in_wire_order() {
    for kind in ResultKind::ALL {
        let list = update_list_key(kind);
        let owner = owner_key(kind);
        let keys: Vec<&str> = if kind.is_clue() {
            vec![
                "request_uuid",
                owner,
                "book_container_uuid",
                "algorithm_name",
                "calculation_uuid",
                "clue_data",
            ]
        } else {
            vec![
                "request_uuid",
                owner,
                "algorithm_name",
                "calculation_uuid",
                "ecosystem_matrix_uuid",
                "exercise_uuids",
            ]
        };
        let expected: Vec<String> = keys
            .iter()
            .map(|key| format!("{list}[0].{key}: missing required field"))
            .collect();
        assert_eq!(
            messages(parse_result_updates(kind, &body(kind, vec![json!({})]))),
            expected,
            "{kind:?}"
        );
    }
}

#[test]
fn bad_uuids_carry_their_paths() {
    for kind in ResultKind::ALL {
        let list = update_list_key(kind);
        let owner = owner_key(kind);
        let mut item = update(kind, 1);
        item["request_uuid"] = json!("1234");
        item[owner] = json!(false);
        item["calculation_uuid"] = json!({});
        let mut expected = vec![
            format!("{list}[1].request_uuid: {UUID_MSG}, got \"1234\""),
            format!("{list}[1].{owner}: {UUID_MSG}, got false"),
        ];
        if kind.is_clue() {
            item["book_container_uuid"] = json!("");
            expected.push(format!(
                "{list}[1].book_container_uuid: {UUID_MSG}, got \"\""
            ));
            expected.push(format!(
                "{list}[1].calculation_uuid: {UUID_MSG}, got an object"
            ));
        } else {
            expected.push(format!(
                "{list}[1].calculation_uuid: {UUID_MSG}, got an object"
            ));
            item["ecosystem_matrix_uuid"] = json!(7);
            item["exercise_uuids"][1] = json!("x");
            expected.push(format!(
                "{list}[1].ecosystem_matrix_uuid: {UUID_MSG}, got 7"
            ));
            expected.push(format!(
                "{list}[1].exercise_uuids[1]: {UUID_MSG}, got \"x\""
            ));
        }
        let errors = messages(parse_result_updates(
            kind,
            &body(kind, vec![update(kind, 0), item]),
        ));
        assert_eq!(errors, expected, "{kind:?}");
    }
}

#[test]
fn exercise_lists_and_spy_info_are_checked() {
    let kind = ResultKind::AssignmentSpes;
    let mut item = exercise_update(kind, 0);
    let too_many: Vec<String> = (0..=MAX_EXERCISES).map(|n| id(0xee, n)).collect();
    item["exercise_uuids"] = json!(too_many);
    item["spy_info"] = json!([1]);
    item["algorithm_name"] = json!(3);
    assert_eq!(
        messages(parse_result_updates(kind, &body(kind, vec![item]))),
        [
            "spe_updates[0].algorithm_name: expected an algorithm name (a string of 1 to 255 bytes), got 3",
            "spe_updates[0].exercise_uuids: expected at most 1000 items, got 1001",
            "spe_updates[0].spy_info: expected an object, got an array of 1 items",
        ]
    );
    let mut item = exercise_update(kind, 0);
    item["exercise_uuids"] = json!("not a list");
    assert_eq!(
        messages(parse_result_updates(kind, &body(kind, vec![item]))),
        ["spe_updates[0].exercise_uuids: expected an array, got \"not a list\""]
    );
}

#[test]
fn clue_data_has_bounded_numbers_and_no_other_keys() {
    let kind = ResultKind::TeacherClues;
    let with = |data: Value| {
        let mut item = clue_update(kind, 0);
        item["clue_data"] = data;
        messages(parse_result_updates(kind, &body(kind, vec![item])))
    };
    let at = "teacher_clue_updates[0].clue_data";
    assert_eq!(
        with(json!("0.5")),
        [format!("{at}: expected an object, got \"0.5\"")]
    );
    assert_eq!(
        with(json!({})),
        [
            format!("{at}.minimum: missing required field"),
            format!("{at}.most_likely: missing required field"),
            format!("{at}.maximum: missing required field"),
            format!("{at}.is_real: missing required field"),
        ]
    );
    assert_eq!(
        with(
            json!({"minimum": 1.5, "most_likely": -0.1, "maximum": "1", "is_real": "yes",
                    "ecosystem_uuid": "eco", "odd": 1})
        ),
        [
            format!("{at}.minimum: {UNIT_MSG}, got 1.5"),
            format!("{at}.most_likely: {UNIT_MSG}, got -0.1"),
            format!("{at}.maximum: {UNIT_MSG}, got \"1\""),
            format!("{at}.is_real: expected a boolean, got \"yes\""),
            format!("{at}.ecosystem_uuid: {UUID_MSG}, got \"eco\""),
            format!("{at}.odd: unknown field (expected one of: {CLUE_KEYS})"),
        ]
    );
    // An unknown key alone is enough to reject the update.
    assert_eq!(
        with(json!({"minimum": 0.5, "most_likely": 0.5, "maximum": 1, "is_real": true, "odd": 1})),
        [format!(
            "{at}.odd: unknown field (expected one of: {CLUE_KEYS})"
        )]
    );
    // A null ecosystem_uuid is the same as none.
    let mut item = clue_update(kind, 0);
    item["clue_data"]["ecosystem_uuid"] = Value::Null;
    let items = parse_result_updates(kind, &body(kind, vec![item])).expect("valid");
    let ExternalUpdate::Clue { result, .. } = &items[0].event else {
        panic!("a clue update");
    };
    assert_eq!(result.clue_data.ecosystem_uuid, None);
}
