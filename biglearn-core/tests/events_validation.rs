//! Every rejecting rule of api.md §2–§4 (decision A2): each error names the
//! JSON path of the offending value, and one body reports all its problems.

mod events_fixtures;

use biglearn_core::events::{
    parse_body, parse_create_course, parse_create_ecosystem, parse_create_update_assignments,
    parse_prepare_course_ecosystem, parse_record_responses, parse_update_course_active_dates,
    parse_update_course_ecosystems, parse_update_course_excluded_exercises,
    parse_update_globally_excluded_exercises, parse_update_rosters, PathSegment, ValidationErrors,
    WriteEndpoint,
};
use events_fixtures as fx;
use serde_json::{json, Value};

const UUID_MSG: &str = "expected a uuid (8-4-4-4-12 hex digits)";
const DT_MSG: &str = "expected a UTC datetime like 2017-08-01T12:00:00.000000Z";
const SEQ_MSG: &str = "expected a non-negative integer no larger than 9223372036854775807";

fn messages<T: std::fmt::Debug>(result: Result<T, ValidationErrors>) -> Vec<String> {
    result.expect_err("must be rejected").messages()
}

#[test]
fn bodies_must_be_json_objects() {
    assert_eq!(
        parse_body(b"{\"a\": ").expect_err("truncated").messages(),
        ["(request body): could not parse the request JSON: EOF while parsing a value at line 1 column 6"]
    );
    assert_eq!(
        parse_body(b"[1, 2]").expect_err("array").messages(),
        ["(request body): expected a JSON object, got an array of 2 items"]
    );
    assert_eq!(
        parse_body(b"\"text\"").expect_err("string").messages(),
        ["(request body): expected a JSON object, got \"text\""]
    );
    assert!(parse_body(b"{}").is_ok());
    for endpoint in WriteEndpoint::ALL {
        assert_eq!(
            endpoint.parse(&json!(null)).expect_err("null").messages(),
            ["(request body): expected an object, got null"],
            "{}",
            endpoint.name()
        );
    }
}

#[test]
fn missing_required_fields_are_named() {
    let mut body = fx::create_course();
    body.as_object_mut()
        .expect("object")
        .remove("ecosystem_uuid");
    body.as_object_mut().expect("object").remove("created_at");
    assert_eq!(
        messages(parse_create_course(&body)),
        [
            "ecosystem_uuid: missing required field",
            "created_at: missing required field"
        ]
    );

    assert_eq!(
        messages(parse_record_responses(&json!({}))),
        ["responses: missing required field"]
    );

    let mut rosters = fx::update_rosters();
    rosters["rosters"][0]
        .as_object_mut()
        .expect("object")
        .remove("course_containers");
    rosters["rosters"][0]["students"][1]
        .as_object_mut()
        .expect("object")
        .remove("enrolled_at");
    assert_eq!(
        messages(parse_update_rosters(&rosters)),
        [
            "rosters[0].course_containers: missing required field",
            "rosters[0].students[1].enrolled_at: missing required field"
        ]
    );

    let mut ecosystem = fx::create_ecosystem();
    ecosystem["book"]
        .as_object_mut()
        .expect("object")
        .remove("contents");
    assert_eq!(
        messages(parse_create_ecosystem(&ecosystem)),
        ["book.contents: missing required field"]
    );

    let mut prepare = fx::prepare_course_ecosystem();
    prepare["ecosystem_map"]["exercise_mappings"][1]
        .as_object_mut()
        .expect("object")
        .remove("to_book_container_uuid");
    assert_eq!(
        messages(parse_prepare_course_ecosystem(&prepare)),
        ["ecosystem_map.exercise_mappings[1].to_book_container_uuid: missing required field"]
    );
}

#[test]
fn unknown_top_level_keys_are_rejected() {
    let mut body = fx::update_course_active_dates();
    body["extra key"] = json!(1);
    assert_eq!(
        messages(parse_update_course_active_dates(&body)),
        ["[\"extra key\"]: unknown field (expected one of: request_uuid, course_uuid, sequence_number, starts_at, ends_at, updated_at)"]
    );
    let mut bulk = fx::record_responses();
    bulk["max_num_events"] = json!(3);
    assert_eq!(
        messages(parse_record_responses(&bulk)),
        ["max_num_events: unknown field (expected one of: responses)"]
    );
    let mut exclusions = fx::update_course_excluded_exercises();
    exclusions["scope"] = json!("course");
    assert_eq!(
        messages(parse_update_course_excluded_exercises(&exclusions)),
        ["scope: unknown field (expected one of: request_uuid, course_uuid, sequence_number, exclusions, updated_at)"]
    );
    let mut ecosystem = fx::create_ecosystem();
    ecosystem["sequence_number"] = json!(0);
    assert_eq!(
        messages(parse_create_ecosystem(&ecosystem)),
        ["sequence_number: unknown field (expected one of: ecosystem_uuid, book, exercises, imported_at)"]
    );
}

#[test]
fn wrong_json_types_are_named() {
    let mut body = fx::record_responses();
    body["responses"][1]["is_correct"] = json!("yes");
    body["responses"][1]["is_real_response"] = json!(1);
    body["responses"][0]["responded_at"] = json!(1_498_606_021);
    assert_eq!(
        messages(parse_record_responses(&body)),
        [
            "responses[0].responded_at: expected a UTC datetime string like 2017-08-01T12:00:00.000000Z, got 1498606021".to_owned(),
            "responses[1].is_correct: expected a boolean, got \"yes\"".to_owned(),
            "responses[1].is_real_response: expected a boolean, got 1".to_owned(),
        ]
    );
    assert_eq!(
        messages(parse_record_responses(&json!({"responses": {"a": 1}}))),
        ["responses: expected an array, got an object"]
    );
    let mut assignment = fx::create_update_assignments();
    assignment["assignments"][0]["exclusion_info"] = json!("soon");
    assignment["assignments"][0]["assigned_exercises"][0] = json!([]);
    assert_eq!(
        messages(parse_create_update_assignments(&assignment)),
        [
            "assignments[0].exclusion_info: expected an object, got \"soon\"",
            "assignments[0].assigned_exercises[0]: expected an object, got an array of 0 items"
        ]
    );
}

#[test]
fn bad_uuids_are_named_at_any_depth() {
    let mut body = fx::record_responses();
    let mut items = vec![];
    for i in 0..4 {
        items.push(fx::response(
            i,
            &format!("00000000-0000-4000-8000-{i:012}"),
            i as u64,
        ));
    }
    items[3]["student_uuid"] = json!("not-a-uuid");
    body["responses"] = json!(items);
    assert_eq!(
        messages(parse_record_responses(&body)),
        [format!(
            "responses[3].student_uuid: {UUID_MSG}, got \"not-a-uuid\""
        )]
    );

    let mut ecosystem = fx::create_ecosystem();
    ecosystem["book"]["contents"][0]["pools"] =
        fx::create_ecosystem()["book"]["contents"][2]["pools"].clone();
    let mut pool = ecosystem["book"]["contents"][0]["pools"][1]["exercise_uuids"].clone();
    let mut list: Vec<Value> = pool.as_array().expect("array").clone();
    while list.len() < 8 {
        list.push(json!(fx::EXERCISES[2]));
    }
    list[7] = json!("{5ce48875-8ee0-4853-aea1-18d6a9fe67d3}");
    pool = json!(list);
    ecosystem["book"]["contents"][0]["pools"][1]["exercise_uuids"] = pool;
    let errors = parse_create_ecosystem(&ecosystem).expect_err("braces are not accepted");
    assert_eq!(
        errors.messages(),
        [format!(
            "book.contents[0].pools[1].exercise_uuids[7]: {UUID_MSG}, got \"{{5ce48875-8ee0-4853-aea1-18d6a9fe67d3}}\""
        )]
    );
    let segments = errors.errors()[0].path.segments();
    assert_eq!(segments.len(), 7);
    assert_eq!(segments[6], PathSegment::Index(7));

    for bad in [
        json!("5ce48875-8ee0-4853-aea1-18d6a9fe67d"),
        json!("5ce488758ee04853aea118d6a9fe67d3"),
        json!("urn:uuid:5ce48875-8ee0-4853-aea1-18d6a9fe67d3"),
        json!("5ce48875-8ee0-4853-aea1-18d6a9fe67dg"),
        json!(17),
        json!(null),
    ] {
        let mut body = fx::create_course();
        body["course_uuid"] = bad.clone();
        let messages = messages(parse_create_course(&body));
        assert_eq!(messages.len(), 1, "{bad}");
        assert!(
            messages[0].starts_with(&format!("course_uuid: {UUID_MSG}, got ")),
            "{messages:?}"
        );
    }
}

#[test]
fn any_version_nibble_and_either_case_are_accepted() {
    let mut body = fx::create_course();
    body["course_uuid"] = json!("00000000-0000-0000-0000-000000000000");
    body["ecosystem_uuid"] = json!("ABCDEF01-2345-F789-ABCD-EF0123456789");
    let parsed = parse_create_course(&body).expect("A9: any version nibble");
    assert_eq!(
        parsed.event.ecosystem_uuid.to_string(),
        "abcdef01-2345-f789-abcd-ef0123456789"
    );
}

#[test]
fn bad_datetimes_say_which_rule_they_break() {
    let mut body = fx::update_course_active_dates();
    body["starts_at"] = json!("2017-06-20T23:26:43.596+01:00");
    body["ends_at"] = json!("2017-02-30T00:00:00Z");
    body["updated_at"] = json!("2017-07-01 10:00:00Z");
    assert_eq!(
        messages(parse_update_course_active_dates(&body)),
        [
            format!("starts_at: {DT_MSG} (wrong length), got \"2017-06-20T23:26:43.596+01:00\""),
            format!("ends_at: {DT_MSG} (no such day in that month), got \"2017-02-30T00:00:00Z\""),
            format!("updated_at: {DT_MSG} (wrong separators), got \"2017-07-01 10:00:00Z\""),
        ]
    );
    let mut assignment = fx::create_update_assignments();
    assignment["assignments"][0]["exclusion_info"]["due_at"] =
        json!("2017-07-04T23:26:47.5146721Z");
    assignment["assignments"][0]["exclusion_info"]["closes_at"] = json!("tomorrow");
    assert_eq!(
        messages(parse_create_update_assignments(&assignment)),
        [
            format!("assignments[0].exclusion_info.due_at: {DT_MSG} (wrong length), got \"2017-07-04T23:26:47.5146721Z\""),
            format!("assignments[0].exclusion_info.closes_at: {DT_MSG} (wrong length), got \"tomorrow\""),
        ]
    );
}

#[test]
fn sequence_numbers_must_be_non_negative_integers_that_fit_i64() {
    let cases = [
        (json!(-1), "-1"),
        (json!(1.5), "1.5"),
        (json!(2.0), "2.0"),
        (json!(9_223_372_036_854_775_808u64), "9223372036854775808"),
        (json!(1e20), "1e+20"),
        (json!("5"), "\"5\""),
        (json!(null), "null"),
    ];
    for (value, shown) in cases {
        let mut body = fx::update_course_ecosystems();
        body["update_requests"][0]["sequence_number"] = value.clone();
        assert_eq!(
            messages(parse_update_course_ecosystems(&body)),
            [format!(
                "update_requests[0].sequence_number: {SEQ_MSG}, got {shown}"
            )],
            "{value}"
        );
    }
}

#[test]
fn out_of_range_counts_and_versions_are_rejected() {
    let mut assignment = fx::create_update_assignments();
    assignment["assignments"][0]["goal_num_tutor_assigned_pes"] = json!(-3);
    assignment["assignments"][0]["goal_num_tutor_assigned_spes"] = json!(4_294_967_296u64);
    assert_eq!(
        messages(parse_create_update_assignments(&assignment)),
        [
            "assignments[0].goal_num_tutor_assigned_spes: expected an integer from 0 to 4294967295, got 4294967296",
            "assignments[0].goal_num_tutor_assigned_pes: expected an integer from 0 to 4294967295, got -3",
        ]
    );
    let mut ecosystem = fx::create_ecosystem();
    ecosystem["exercises"][2]["version"] = json!(-1);
    assert_eq!(
        messages(parse_create_ecosystem(&ecosystem)),
        [format!("exercises[2].version: {SEQ_MSG}, got -1")]
    );
}

#[test]
fn exclusions_need_exactly_one_target() {
    let mut body = fx::update_globally_excluded_exercises();
    body["exclusions"] = json!([
        {"exercise_uuid": fx::EXERCISES[0], "exercise_group_uuid": fx::GROUPS[0]},
        {},
        {"exercise_uuid": null},
        {"exercise_group_uuid": "nope"},
        {"exercise_group_uuid": fx::GROUPS[0], "reason": "kept verbatim"}
    ]);
    assert_eq!(
        messages(parse_update_globally_excluded_exercises(&body)),
        [
            "exclusions[0]: expected exactly one of exercise_uuid or exercise_group_uuid, got both".to_owned(),
            "exclusions[1]: expected exactly one of exercise_uuid or exercise_group_uuid, got neither".to_owned(),
            format!("exclusions[2].exercise_uuid: {UUID_MSG}, got null"),
            format!("exclusions[3].exercise_group_uuid: {UUID_MSG}, got \"nope\""),
        ]
    );
    let mut ok = fx::update_globally_excluded_exercises();
    ok["exclusions"] = json!([{"exercise_group_uuid": fx::GROUPS[0], "reason": "kept verbatim"}]);
    let parsed = parse_update_globally_excluded_exercises(&ok).expect("extra keys are fine");
    use biglearn_core::events::WireEvent;
    let stored = parsed.event.to_event().data.to_value().expect("json");
    assert_eq!(stored["exclusions"], ok["exclusions"]);
}

#[test]
fn cnx_identities_need_a_uuid_and_a_numeric_version() {
    let mut body = fx::create_ecosystem();
    body["book"]["cnx_identity"] = json!("9ba7f072-ebd5-4adf-ad18-7a181715089c");
    body["book"]["contents"][0]["container_cnx_identity"] =
        json!("9ba7f072-ebd5-4adf-ad18-7a181715089c@1.2.3");
    body["book"]["contents"][1]["container_cnx_identity"] = json!("9ba7f072@4");
    body["book"]["contents"][2]["container_cnx_identity"] =
        json!("9ba7f072-ebd5-4adf-ad18-7a181715089c@draft");
    assert_eq!(
        messages(parse_create_ecosystem(&body)),
        [
            "book.cnx_identity: expected a CNX identity <uuid>@<N or N.M>, got \"9ba7f072-ebd5-4adf-ad18-7a181715089c\"",
            "book.contents[0].container_cnx_identity: expected a CNX identity <uuid> or <uuid>@<N or N.M>, got \"9ba7f072-ebd5-4adf-ad18-7a181715089c@1.2.3\"",
            "book.contents[1].container_cnx_identity: expected a CNX identity <uuid> or <uuid>@<N or N.M>, got \"9ba7f072@4\"",
            "book.contents[2].container_cnx_identity: expected a CNX identity <uuid> or <uuid>@<N or N.M>, got \"9ba7f072-ebd5-4adf-ad18-7a181715089c@draft\"",
        ]
    );
    // No interior-zero quirk: 101 and 10.01 are versions.
    let mut ok = fx::create_ecosystem();
    ok["book"]["cnx_identity"] = json!("9ba7f072-ebd5-4adf-ad18-7a181715089c@10.01");
    ok["book"]["contents"][0]["container_cnx_identity"] =
        json!("9ba7f072-ebd5-4adf-ad18-7a181715089c@101");
    parse_create_ecosystem(&ok).expect("interior zeros are fine");
}

#[test]
fn string_lengths_are_checked_where_declared() {
    let mut assignment = fx::create_update_assignments();
    assignment["assignments"][0]["assignment_type"] = json!("");
    let long = "h".repeat(101);
    let mut second = assignment["assignments"][0].clone();
    second["assignment_type"] = json!(long);
    assignment["assignments"] = json!([assignment["assignments"][0].clone(), second]);
    assert_eq!(
        messages(parse_create_update_assignments(&assignment)),
        [
            "assignments[0].assignment_type: expected a string of 1 to 100 characters, got 0 characters",
            "assignments[1].assignment_type: expected a string of 1 to 100 characters, got 101 characters",
        ]
    );
    let mut exactly = fx::create_update_assignments();
    exactly["assignments"][0]["assignment_type"] = json!("é".repeat(100));
    parse_create_update_assignments(&exactly).expect("100 characters (not bytes) is the limit");

    let mut ecosystem = fx::create_ecosystem();
    ecosystem["book"]["contents"][2]["pools"][1]["use_for_personalized_for_assignment_types"] =
        json!(["", 7]);
    ecosystem["exercises"][0]["los"][1] = json!("");
    assert_eq!(
        messages(parse_create_ecosystem(&ecosystem)),
        [
            "book.contents[2].pools[1].use_for_personalized_for_assignment_types[0]: expected a string of 1 to 100 characters, got 0 characters",
            "book.contents[2].pools[1].use_for_personalized_for_assignment_types[1]: expected a string of 1 to 100 characters, got 7",
            "exercises[0].los[1]: expected a non-empty string, got \"\"",
        ]
    );
}

#[test]
fn per_call_item_limits_are_enforced() {
    let responses: Vec<Value> = (0..1001)
        .map(|i| fx::response(i, &format!("00000000-0000-4000-8000-{i:012}"), i as u64))
        .collect();
    assert_eq!(
        messages(parse_record_responses(&json!({ "responses": responses }))),
        ["responses: expected at most 1000 items, got 1001"]
    );
    let roster = fx::update_rosters()["rosters"][0].clone();
    let rosters: Vec<Value> = (0..101).map(|_| roster.clone()).collect();
    assert_eq!(
        messages(parse_update_rosters(&json!({ "rosters": rosters }))),
        ["rosters: expected at most 100 items, got 101"]
    );
    let update = fx::update_course_ecosystems()["update_requests"][0].clone();
    let mut updates: Vec<Value> = (0..1001).map(|_| update.clone()).collect();
    updates[1000]["updated_at"] = json!("never");
    assert_eq!(
        messages(parse_update_course_ecosystems(
            &json!({ "update_requests": updates })
        )),
        [
            "update_requests: expected at most 1000 items, got 1001".to_owned(),
            format!("update_requests[1000].updated_at: {DT_MSG} (wrong length), got \"never\""),
        ],
        "item errors are still reported past the limit"
    );
}

#[test]
fn one_body_reports_all_its_problems_in_document_order() {
    let body = json!({
        "assignments": [
            {
                "request_uuid": "bad",
                "course_uuid": fx::COURSE,
                "sequence_number": -5,
                "assignment_uuid": fx::ASSIGNMENT,
                "is_deleted": "no",
                "ecosystem_uuid": fx::ECOSYSTEM,
                "assignment_type": "reading",
                "exclusion_info": {"opens_at": "2017-13-01T00:00:00Z", "custom": {"any": "thing"}},
                "pes": {"calculation_uuid": 12},
                "assigned_book_container_uuids": [fx::PAGE, "x"],
                "goal_num_tutor_assigned_spes": 1.5,
                "spes_are_assigned": false,
                "pes_are_assigned": false,
                "assigned_exercises": [{"trial_uuid": fx::TRIALS[0], "exercise_uuid": fx::EXERCISES[0], "is_spe": false}],
                "created_at": "2017-06-27T23:26:49.142898Z",
                "updated_at": "2017-06-27T23:26:49.142925Z"
            },
            fx::create_update_assignments()["assignments"][0].clone(),
            "not an object"
        ],
        "extra": true
    });
    let errors = parse_create_update_assignments(&body).expect_err("many problems");
    assert_eq!(
        errors.messages(),
        [
            format!("assignments[0].request_uuid: {UUID_MSG}, got \"bad\""),
            format!("assignments[0].sequence_number: {SEQ_MSG}, got -5"),
            "assignments[0].is_deleted: expected a boolean, got \"no\"".to_owned(),
            "assignments[0].student_uuid: missing required field".to_owned(),
            format!("assignments[0].exclusion_info.opens_at: {DT_MSG} (month out of range), got \"2017-13-01T00:00:00Z\""),
            format!("assignments[0].pes.calculation_uuid: {UUID_MSG}, got 12"),
            format!("assignments[0].assigned_book_container_uuids[1]: {UUID_MSG}, got \"x\""),
            "assignments[0].goal_num_tutor_assigned_spes: expected an integer from 0 to 4294967295, got 1.5".to_owned(),
            "assignments[0].assigned_exercises[0].is_pe: missing required field".to_owned(),
            "assignments[2]: expected an object, got \"not an object\"".to_owned(),
            "extra: unknown field (expected one of: assignments)".to_owned(),
        ]
    );
    assert_eq!(errors.len(), 11);
    assert!(errors
        .to_string()
        .starts_with("invalid request (11 errors): assignments[0].request_uuid"));
}

#[test]
fn long_offending_strings_are_cut_in_messages() {
    let mut body = fx::create_course();
    body["course_uuid"] = json!("x".repeat(500));
    let message = &messages(parse_create_course(&body))[0];
    assert!(message.ends_with("… (500 characters)"), "{message}");
    assert!(message.len() < 200, "{message}");
}
