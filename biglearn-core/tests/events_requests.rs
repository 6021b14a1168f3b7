//! Valid request bodies: Tutor-shaped payloads parse, convert to stored events
//! with exactly the api.md §4.3 keys, and read back unchanged.

mod events_fixtures;

use biglearn_core::events::{
    parse_create_course, parse_create_ecosystem, parse_create_update_assignments,
    parse_prepare_course_ecosystem, parse_record_responses, parse_update_course_active_dates,
    parse_update_course_ecosystems, parse_update_course_excluded_exercises,
    parse_update_globally_excluded_exercises, parse_update_rosters, ExclusionScope,
    ExclusionTarget, Slot, TypedEvent, WireEvent, WriteEndpoint, WriteRequest,
};
use biglearn_core::ids::CourseId;
use biglearn_core::log::{Event, EventType, SequenceNumber, StreamId};
use events_fixtures as fx;
use serde_json::{json, Value};

fn keys(event: &Event) -> Vec<String> {
    match event.data.to_value().expect("json") {
        Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("event data is not an object: {other}"),
    }
}

fn data(event: &Event) -> Value {
    event.data.to_value().expect("json")
}

fn round_trip(event: &Event) -> TypedEvent {
    let typed = TypedEvent::from_event(event).expect("reads back");
    assert_eq!(&typed.to_event(), event, "typed → Event is stable");
    assert_eq!(typed.event_type(), event.event_type);
    typed
}

#[test]
fn every_write_endpoint_parses_its_tutor_payload() {
    let cases = [
        (WriteEndpoint::CreateEcosystem, fx::create_ecosystem(), 1),
        (WriteEndpoint::CreateCourse, fx::create_course(), 1),
        (
            WriteEndpoint::UpdateCourseActiveDates,
            fx::update_course_active_dates(),
            1,
        ),
        (WriteEndpoint::UpdateRosters, fx::update_rosters(), 1),
        (
            WriteEndpoint::PrepareCourseEcosystem,
            fx::prepare_course_ecosystem(),
            1,
        ),
        (
            WriteEndpoint::UpdateCourseEcosystems,
            fx::update_course_ecosystems(),
            1,
        ),
        (
            WriteEndpoint::UpdateGloballyExcludedExercises,
            fx::update_globally_excluded_exercises(),
            1,
        ),
        (
            WriteEndpoint::UpdateCourseExcludedExercises,
            fx::update_course_excluded_exercises(),
            1,
        ),
        (
            WriteEndpoint::CreateUpdateAssignments,
            fx::create_update_assignments(),
            1,
        ),
        (WriteEndpoint::RecordResponses, fx::record_responses(), 2),
    ];
    assert_eq!(cases.len(), WriteEndpoint::ALL.len());
    for (endpoint, body, count) in cases {
        assert_eq!(WriteEndpoint::from_name(endpoint.name()), Some(endpoint));
        assert_eq!(
            WriteEndpoint::from_name(&format!("/{}", endpoint.name())),
            Some(endpoint)
        );
        let request = endpoint
            .parse(&body)
            .unwrap_or_else(|e| panic!("{}: {e}", endpoint.name()));
        let events = request.events();
        assert_eq!(events.len(), count, "{}", endpoint.name());
        assert_eq!(request.raw_uuids().len(), count);
        assert_eq!(request.append_request().events, events);
        for event in &events {
            round_trip(event);
        }
    }
    assert_eq!(WriteEndpoint::from_name("fetch_course_events"), None);
}

#[test]
fn create_ecosystem_keeps_the_book_verbatim() {
    let parsed = parse_create_ecosystem(&fx::create_ecosystem()).expect("valid");
    assert_eq!(parsed.raw_uuid, fx::ECOSYSTEM);
    let body = &parsed.event;
    assert_eq!(body.book.contents.len(), 3);
    assert_eq!(
        body.book.contents[0]
            .container_parent_uuid
            .map(|u| u.to_string())
            .as_deref(),
        Some(fx::ECOSYSTEM)
    );
    assert_eq!(
        body.book.contents[1]
            .container_cnx_identity
            .as_option()
            .and_then(|c| c.version()),
        None,
        "chapters carry a bare uuid"
    );
    assert_eq!(body.book.contents[2].pools.len(), 4);
    assert_eq!(body.exercises[1].version, 3);

    let event = body.to_event();
    assert_eq!(event.event_type, EventType::CreateEcosystem);
    assert_eq!(event.sequence_number, SequenceNumber::ZERO);
    assert_eq!(event.event_id.to_string(), fx::ECOSYSTEM);
    assert_eq!(
        keys(&event),
        [
            "ecosystem_uuid",
            "sequence_number",
            "book",
            "exercises",
            "imported_at"
        ]
    );
    // The book, exercises and undeclared nested keys are stored exactly as sent.
    let stored = data(&event);
    let sent = fx::create_ecosystem();
    assert_eq!(stored["book"], sent["book"]);
    assert_eq!(stored["exercises"], sent["exercises"]);
    assert_eq!(stored["book"]["title"], "College Physics");
    assert_eq!(
        stored["book"]["contents"][2]["pools"][2]["pool_note"],
        json!({"kept": [1, 2, 3]})
    );
    assert_eq!(stored["exercises"][2]["aplos"], json!(["aplo:stax-phys:1"]));
    assert_eq!(stored["sequence_number"], 0);
    assert_eq!(stored["imported_at"], "2017-06-27T23:26:43.596909Z");

    match round_trip(&event) {
        TypedEvent::CreateEcosystem(back) => assert_eq!(*back, parsed.event),
        other => panic!("wrong variant {other:?}"),
    }
}

#[test]
fn create_course_is_forced_to_sequence_number_zero() {
    let parsed = parse_create_course(&fx::create_course()).expect("valid");
    let event = parsed.event.to_event();
    assert_eq!(event.sequence_number, SequenceNumber::ZERO);
    assert_eq!(event.stream, StreamId::Course(parsed.event.course_uuid));
    assert_eq!(
        keys(&event),
        [
            "course_uuid",
            "sequence_number",
            "ecosystem_uuid",
            "is_real_course",
            "starts_at",
            "ends_at",
            "created_at"
        ]
    );
    let mut expected = fx::create_course();
    expected["sequence_number"] = json!(0);
    assert_eq!(data(&event), expected);
    let back: biglearn_core::events::CreateCourse =
        WireEvent::from_event(&event).expect("reads back");
    assert_eq!(back, parsed.event);
}

#[test]
fn update_course_active_dates_keeps_three_digit_datetimes() {
    let parsed =
        parse_update_course_active_dates(&fx::update_course_active_dates()).expect("valid");
    assert_eq!(parsed.event.starts_at.as_str(), "2017-06-20T23:26:43.596Z");
    let event = parsed.event.to_event();
    assert_eq!(
        keys(&event),
        [
            "request_uuid",
            "course_uuid",
            "sequence_number",
            "starts_at",
            "ends_at",
            "updated_at"
        ]
    );
    assert_eq!(data(&event), fx::update_course_active_dates());
    round_trip(&event);
}

#[test]
fn roster_slice_keeps_absent_absent_and_null_null() {
    let rosters = parse_update_rosters(&fx::update_rosters()).expect("valid");
    let roster = &rosters[0].event;
    assert_eq!(roster.course_containers[0].archived_at, Slot::Absent);
    assert_eq!(roster.course_containers[1].archived_at, Slot::Null);
    assert_eq!(roster.students[0].dropped_at, Slot::Absent);
    assert!(matches!(roster.students[1].dropped_at, Slot::Present(_)));
    let event = roster.to_event();
    assert_eq!(
        keys(&event),
        [
            "request_uuid",
            "course_uuid",
            "sequence_number",
            "course_containers",
            "students"
        ]
    );
    let stored = data(&event);
    assert_eq!(stored, fx::update_rosters()["rosters"][0]);
    assert!(stored["course_containers"][0].get("archived_at").is_none());
    assert_eq!(stored["course_containers"][1]["archived_at"], Value::Null);
    assert!(stored["students"][0].get("dropped_at").is_none());
    round_trip(&event);
}

#[test]
fn prepare_stores_next_ecosystem_as_ecosystem_uuid() {
    let parsed = parse_prepare_course_ecosystem(&fx::prepare_course_ecosystem()).expect("valid");
    assert_eq!(parsed.raw_uuid, fx::PREPARATION);
    let event = parsed.event.to_event();
    assert_eq!(event.event_id.to_string(), fx::PREPARATION);
    assert_eq!(
        keys(&event),
        [
            "preparation_uuid",
            "course_uuid",
            "sequence_number",
            "ecosystem_uuid",
            "ecosystem_map",
            "prepared_at"
        ]
    );
    let stored = data(&event);
    assert_eq!(stored["ecosystem_uuid"], fx::NEXT_ECOSYSTEM);
    assert!(stored.get("next_ecosystem_uuid").is_none());
    assert_eq!(
        stored["ecosystem_map"],
        fx::prepare_course_ecosystem()["ecosystem_map"]
    );
    round_trip(&event);
}

#[test]
fn update_course_ecosystem_has_its_five_keys() {
    let items = parse_update_course_ecosystems(&fx::update_course_ecosystems()).expect("valid");
    let event = items[0].event.to_event();
    assert_eq!(
        keys(&event),
        [
            "request_uuid",
            "course_uuid",
            "sequence_number",
            "preparation_uuid",
            "updated_at"
        ]
    );
    assert_eq!(
        data(&event),
        fx::update_course_ecosystems()["update_requests"][0]
    );
    round_trip(&event);
}

#[test]
fn exclusion_events_differ_only_in_type() {
    let global =
        parse_update_globally_excluded_exercises(&fx::update_globally_excluded_exercises())
            .expect("valid")
            .event;
    let course = parse_update_course_excluded_exercises(&fx::update_course_excluded_exercises())
        .expect("valid")
        .event;
    assert_eq!(global.scope, ExclusionScope::Global);
    assert_eq!(course.scope, ExclusionScope::Course);
    assert!(matches!(
        global.exclusions[0].target,
        ExclusionTarget::Exercise(_)
    ));
    assert!(matches!(
        global.exclusions[1].target,
        ExclusionTarget::Group(_)
    ));
    for (body, sent, event_type) in [
        (
            &global,
            fx::update_globally_excluded_exercises(),
            EventType::UpdateGloballyExcludedExercises,
        ),
        (
            &course,
            fx::update_course_excluded_exercises(),
            EventType::UpdateCourseExcludedExercises,
        ),
    ] {
        let event = body.to_event();
        assert_eq!(event.event_type, event_type);
        assert_eq!(
            keys(&event),
            [
                "request_uuid",
                "course_uuid",
                "sequence_number",
                "exclusions",
                "updated_at"
            ]
        );
        assert_eq!(data(&event), sent);
        match round_trip(&event) {
            TypedEvent::UpdateExcludedExercises(back) => assert_eq!(&*back, body),
            other => panic!("wrong variant {other:?}"),
        }
    }
}

#[test]
fn assignment_keeps_undeclared_nested_keys_and_omits_absent_ones() {
    let items = parse_create_update_assignments(&fx::create_update_assignments()).expect("valid");
    let assignment = &items[0].event;
    assert_eq!(assignment.spes, Slot::Absent);
    let info = assignment.exclusion_info.as_option().expect("sent");
    assert_eq!(info.feedback_at, Slot::Absent);
    assert_eq!(
        info.closes_at.as_option().map(|d| d.as_str()),
        Some("2017-07-11T23:26:47.514672Z")
    );
    let event = assignment.to_event();
    let sent = fx::create_update_assignments()["assignments"][0].clone();
    let expected_keys: Vec<String> = sent.as_object().expect("object").keys().cloned().collect();
    assert_eq!(keys(&event), expected_keys);
    assert!(!keys(&event).contains(&"spes".to_owned()));
    assert_eq!(data(&event), sent);
    round_trip(&event);

    // Every optional key present (and some null) also round-trips.
    let mut full = sent.clone();
    full["spes"] = json!({"calculation_uuid": fx::CALCULATION, "ecosystem_matrix_uuid": null});
    full["exclusion_info"]["feedback_at"] = Value::Null;
    full["goal_num_tutor_assigned_pes"] = Value::Null;
    let items =
        parse_create_update_assignments(&json!({"assignments": [full.clone()]})).expect("valid");
    let event = items[0].event.to_event();
    assert_eq!(data(&event), full);
    // api.md §4.3, create_update_assignment, every optional key present.
    assert_eq!(
        keys(&event),
        [
            "request_uuid",
            "course_uuid",
            "sequence_number",
            "assignment_uuid",
            "is_deleted",
            "ecosystem_uuid",
            "student_uuid",
            "assignment_type",
            "exclusion_info",
            "pes",
            "spes",
            "assigned_book_container_uuids",
            "goal_num_tutor_assigned_spes",
            "spes_are_assigned",
            "goal_num_tutor_assigned_pes",
            "pes_are_assigned",
            "assigned_exercises",
            "created_at",
            "updated_at"
        ]
    );
    round_trip(&event);
}

#[test]
fn record_responses_echo_raw_uuids_and_store_lower_case() {
    let upper = "CE7E4F35-9E63-49BE-89FF-6084847E4261";
    let mut body = fx::record_responses();
    body["responses"][0]["response_uuid"] = json!(upper);
    body["responses"][0]["course_uuid"] = json!(fx::COURSE.to_uppercase());
    let items = parse_record_responses(&body).expect("valid");
    assert_eq!(items[0].raw_uuid, upper);
    assert_eq!(
        items[0].event.response_uuid.to_string(),
        upper.to_lowercase()
    );
    let event = items[0].event.to_event();
    assert_eq!(
        event.stream,
        StreamId::Course(CourseId::parse(fx::COURSE).expect("uuid"))
    );
    let stored = data(&event);
    assert_eq!(stored["response_uuid"], upper.to_lowercase());
    assert_eq!(stored["course_uuid"], fx::COURSE);
    assert_eq!(stored, fx::record_responses()["responses"][0]);
    assert_eq!(
        keys(&event),
        [
            "response_uuid",
            "course_uuid",
            "sequence_number",
            "ecosystem_uuid",
            "trial_uuid",
            "student_uuid",
            "exercise_uuid",
            "is_correct",
            "is_real_response",
            "responded_at"
        ]
    );
    round_trip(&event);
}

#[test]
fn bulk_item_unknown_keys_are_accepted_and_not_stored() {
    let mut body = fx::record_responses();
    body["responses"][1]["client_note"] = json!("ignored by the §4.3 slice");
    let items = parse_record_responses(&body).expect("nested unknown keys are accepted");
    let stored = data(&items[1].event.to_event());
    assert!(stored.get("client_note").is_none());
}

#[test]
fn datetime_text_and_largest_sequence_number_survive() {
    let mut body = fx::record_responses();
    body["responses"][0]["responded_at"] = json!("2016-12-31t23:59:60.5z");
    body["responses"][0]["sequence_number"] = json!(i64::MAX);
    let items = parse_record_responses(&body).expect("valid");
    let event = items[0].event.to_event();
    assert_eq!(event.sequence_number, SequenceNumber::MAX);
    assert_eq!(data(&event)["responded_at"], "2016-12-31t23:59:60.5z");
    round_trip(&event);
}

#[test]
fn empty_bulk_calls_are_legal() {
    for (endpoint, key) in [
        (WriteEndpoint::UpdateRosters, "rosters"),
        (WriteEndpoint::UpdateCourseEcosystems, "update_requests"),
        (WriteEndpoint::CreateUpdateAssignments, "assignments"),
        (WriteEndpoint::RecordResponses, "responses"),
    ] {
        let request = endpoint.parse(&json!({ key: [] })).expect("empty is legal");
        assert!(request.events().is_empty());
    }
}

#[test]
fn exactly_one_thousand_items_and_one_hundred_rosters_are_accepted() {
    let responses: Vec<Value> = (0..1000)
        .map(|i| fx::response(i, &format!("00000000-0000-4000-8000-{i:012}"), i as u64))
        .collect();
    let items =
        parse_record_responses(&json!({ "responses": responses })).expect("1000 is the limit");
    assert_eq!(items.len(), 1000);
    let roster = fx::update_rosters()["rosters"][0].clone();
    let rosters: Vec<Value> = (0..100).map(|_| roster.clone()).collect();
    assert_eq!(
        parse_update_rosters(&json!({ "rosters": rosters }))
            .expect("100 is the limit")
            .len(),
        100
    );
}

#[test]
fn nested_arrays_have_no_item_limit() {
    let many: Vec<String> = (0..1500)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let mut body = fx::create_ecosystem();
    body["book"]["contents"][2]["pools"][0]["exercise_uuids"] = json!(many);
    let parsed = parse_create_ecosystem(&body).expect("large CLUE pools are real (A8)");
    assert_eq!(
        parsed.event.book.contents[2].pools[0].exercise_uuids.len(),
        1500
    );

    let mut assignments = fx::create_update_assignments();
    let exercises: Vec<Value> = (0..1200)
        .map(|i| {
            json!({"trial_uuid": format!("00000000-0000-4000-8000-{i:012}"),
                   "exercise_uuid": fx::EXERCISES[0], "is_spe": false, "is_pe": false})
        })
        .collect();
    assignments["assignments"][0]["assigned_exercises"] = json!(exercises);
    parse_create_update_assignments(&assignments).expect("no limit on assigned exercises");
}

#[test]
fn write_request_variants_match_their_endpoint() {
    let request = WriteEndpoint::UpdateCourseExcludedExercises
        .parse(&fx::update_course_excluded_exercises())
        .expect("valid");
    match &request {
        WriteRequest::UpdateExcludedExercises(item) => {
            assert_eq!(item.event.scope, ExclusionScope::Course)
        }
        other => panic!("wrong variant {other:?}"),
    }
    assert_eq!(request.raw_uuids(), [fx::REQUESTS[0]]);
}
