//! fetch_*_events, fetch_*_metadatas and fetch_course_ecosystem_statuses
//! bodies (api.md §4.7, §4.8, §5.1–§5.2, §5.4).

use std::collections::BTreeSet;

use biglearn_core::events::{
    parse_fetch_course_ecosystem_statuses, parse_fetch_course_events, parse_fetch_course_metadatas,
    parse_fetch_ecosystem_events, parse_fetch_ecosystem_metadatas, CourseStatusQuery,
    MetadataQuery, ValidationErrors,
};
use biglearn_core::ids::{CourseId, EcosystemId};
use biglearn_core::log::{EventType, SequenceNumber, StreamId, StreamKind};
use serde_json::{json, Value};

const COURSE: &str = "b99a0f12-98df-4082-a23e-3c69485d0d89";
const ECOSYSTEM: &str = "4a7a95f9-34c2-4c95-ad6a-eeea135c0f87";

fn request_uuid(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// The scheduler's course request: every type but create_course and no_op.
fn scheduler_course_request(i: usize, offset: u64) -> Value {
    json!({
        "request_uuid": request_uuid(i),
        "event_types": [
            "prepare_course_ecosystem", "update_course_ecosystem", "update_roster",
            "update_course_active_dates", "update_globally_excluded_exercises",
            "update_course_excluded_exercises", "create_update_assignment", "record_response"
        ],
        "course_uuid": COURSE,
        "sequence_number_offset": offset
    })
}

fn messages<T: std::fmt::Debug>(result: Result<T, ValidationErrors>) -> Vec<String> {
    result.expect_err("must be rejected").messages()
}

#[test]
fn scheduler_and_sparfa_course_fetches_parse() {
    let body = json!({
        "course_event_requests": [
            scheduler_course_request(0, 0),
            {
                "request_uuid": "ABCDEF01-2345-4789-ABCD-EF0123456789",
                "event_types": ["create_update_assignment", "record_response", "record_response"],
                "course_uuid": COURSE.to_uppercase(),
                "sequence_number_offset": 42
            }
        ],
        "max_num_events": 1000
    });
    let query = parse_fetch_course_events(&body).expect("valid");
    assert_eq!(query.max_num_events, 1000);
    assert_eq!(query.requests.len(), 2);
    let course = StreamId::Course(CourseId::parse(COURSE).expect("uuid"));
    assert_eq!(query.requests[0].stream, course);
    assert_eq!(query.requests[0].event_types.len(), 8);
    assert!(!query.requests[0]
        .event_types
        .contains(&EventType::CreateCourse));
    assert_eq!(
        query.requests[1].stream, course,
        "upper case finds the same stream (A9)"
    );
    assert_eq!(
        query.requests[1].request_uuid, "ABCDEF01-2345-4789-ABCD-EF0123456789",
        "echoed exactly as sent"
    );
    assert_eq!(
        query.requests[1].event_types,
        BTreeSet::from([EventType::CreateUpdateAssignment, EventType::RecordResponse])
    );
    assert_eq!(
        query.requests[1].sequence_number_offset,
        SequenceNumber::new(42).expect("small")
    );
}

#[test]
fn ecosystem_fetches_parse() {
    let body = json!({
        "ecosystem_event_requests": [{
            "request_uuid": request_uuid(1),
            "event_types": ["create_ecosystem", "no_op"],
            "ecosystem_uuid": ECOSYSTEM,
            "sequence_number_offset": 0
        }],
        "max_num_events": 1
    });
    let query = parse_fetch_ecosystem_events(&body).expect("valid");
    assert_eq!(
        query.requests[0].stream,
        StreamId::Ecosystem(EcosystemId::parse(ECOSYSTEM).expect("uuid"))
    );
    assert_eq!(
        query.requests[0].event_types,
        BTreeSet::from([EventType::NoOp, EventType::CreateEcosystem])
    );
    let empty =
        parse_fetch_ecosystem_events(&json!({"ecosystem_event_requests": [], "max_num_events": 5}))
            .expect("empty list is legal");
    assert!(empty.requests.is_empty());
}

#[test]
fn event_types_are_required_known_and_of_the_right_stream() {
    let mut no_types = scheduler_course_request(0, 0);
    no_types
        .as_object_mut()
        .expect("object")
        .remove("event_types");
    let mut empty = scheduler_course_request(1, 0);
    empty["event_types"] = json!([]);
    let mut unknown = scheduler_course_request(2, 0);
    unknown["event_types"] = json!(["record_response", "record_responses", 3]);
    let mut wrong_stream = scheduler_course_request(3, 0);
    wrong_stream["event_types"] = json!(["create_ecosystem"]);
    let body = json!({
        "course_event_requests": [no_types, empty, unknown, wrong_stream],
        "max_num_events": 10
    });
    let course_types = "a course event type, one of no_op, create_course, prepare_course_ecosystem, \
update_course_ecosystem, update_roster, update_course_active_dates, update_globally_excluded_exercises, \
update_course_excluded_exercises, create_update_assignment, record_response";
    assert_eq!(
        messages(parse_fetch_course_events(&body)),
        [
            "course_event_requests[0].event_types: missing required field".to_owned(),
            "course_event_requests[1].event_types: expected at least 1 event type, got an empty array".to_owned(),
            format!("course_event_requests[2].event_types[1]: expected {course_types}, got \"record_responses\""),
            format!("course_event_requests[2].event_types[2]: expected {course_types}, got 3"),
            format!("course_event_requests[3].event_types[0]: expected {course_types}, got \"create_ecosystem\""),
        ]
    );
    let ecosystem = json!({
        "ecosystem_event_requests": [{
            "request_uuid": request_uuid(0), "event_types": ["create_course"],
            "ecosystem_uuid": ECOSYSTEM, "sequence_number_offset": 0
        }],
        "max_num_events": 10
    });
    assert_eq!(
        messages(parse_fetch_ecosystem_events(&ecosystem)),
        ["ecosystem_event_requests[0].event_types[0]: expected an ecosystem event type, one of no_op, create_ecosystem, got \"create_course\""]
    );
}

#[test]
fn duplicate_request_uuids_name_both_positions() {
    let mut again = scheduler_course_request(0, 5);
    again["request_uuid"] = json!(request_uuid(0).to_uppercase());
    let body = json!({
        "course_event_requests": [
            scheduler_course_request(0, 0),
            scheduler_course_request(1, 0),
            again,
            scheduler_course_request(1, 9)
        ],
        "max_num_events": 10
    });
    assert_eq!(
        messages(parse_fetch_course_events(&body)),
        [
            "course_event_requests[2].request_uuid: duplicate request_uuid: course_event_requests[0].request_uuid has the same uuid",
            "course_event_requests[3].request_uuid: duplicate request_uuid: course_event_requests[1].request_uuid has the same uuid",
        ]
    );
}

#[test]
fn max_num_events_and_request_count_are_bounded() {
    for (value, shown) in [
        (json!(0), "0"),
        (json!(1001), "1001"),
        (json!(-1), "-1"),
        (json!(10.5), "10.5"),
    ] {
        let body = json!({"course_event_requests": [], "max_num_events": value});
        assert_eq!(
            messages(parse_fetch_course_events(&body)),
            [format!(
                "max_num_events: expected an integer from 1 to 1000, got {shown}"
            )]
        );
    }
    let requests: Vec<Value> = (0..1001).map(|i| scheduler_course_request(i, 0)).collect();
    assert_eq!(
        messages(parse_fetch_course_events(
            &json!({"course_event_requests": requests, "max_num_events": 1000})
        )),
        ["course_event_requests: expected at most 1000 items, got 1001"]
    );
    let requests: Vec<Value> = (0..1000).map(|i| scheduler_course_request(i, 0)).collect();
    let query = parse_fetch_course_events(
        &json!({"course_event_requests": requests, "max_num_events": 1000}),
    )
    .expect("1000 sub-requests is the limit");
    assert_eq!(query.requests.len(), 1000);
}

#[test]
fn fetch_bodies_report_every_problem() {
    let body = json!({
        "course_event_requests": [{
            "request_uuid": "nope",
            "event_types": ["record_response"],
            "course_uuid": ECOSYSTEM,
            "sequence_number_offset": -1,
            "note": "nested unknown keys are accepted"
        }, {
            "event_types": ["record_response"],
            "course_uuid": "x",
            "sequence_number_offset": 0
        }],
        "cursor": 3
    });
    assert_eq!(
        messages(parse_fetch_course_events(&body)),
        [
            "course_event_requests[0].request_uuid: expected a uuid (8-4-4-4-12 hex digits), got \"nope\"",
            "course_event_requests[0].sequence_number_offset: expected a non-negative integer no larger than 9223372036854775807, got -1",
            "course_event_requests[1].request_uuid: missing required field",
            "course_event_requests[1].course_uuid: expected a uuid (8-4-4-4-12 hex digits), got \"x\"",
            "max_num_events: missing required field",
            "cursor: unknown field (expected one of: course_event_requests, max_num_events)",
        ]
    );
}

#[test]
fn metadata_fetches_parse_and_validate() {
    let body = json!({"metadata_sequence_number_offset": 42, "max_num_metadatas": 1000});
    assert_eq!(
        parse_fetch_course_metadatas(&body).expect("valid"),
        MetadataQuery {
            kind: StreamKind::Course,
            metadata_sequence_number_offset: 42,
            max_num_metadatas: 1000
        }
    );
    assert_eq!(
        parse_fetch_ecosystem_metadatas(&body).expect("valid").kind,
        StreamKind::Ecosystem
    );
    let bad = json!({"metadata_sequence_number_offset": -1, "max_num_metadatas": 0, "page": 2});
    assert_eq!(
        messages(parse_fetch_ecosystem_metadatas(&bad)),
        [
            "metadata_sequence_number_offset: expected a non-negative integer no larger than 9223372036854775807, got -1",
            "max_num_metadatas: expected an integer from 1 to 1000, got 0",
            "page: unknown field (expected one of: metadata_sequence_number_offset, max_num_metadatas)",
        ]
    );
    assert_eq!(
        messages(parse_fetch_course_metadatas(&json!({}))),
        [
            "metadata_sequence_number_offset: missing required field",
            "max_num_metadatas: missing required field",
        ]
    );
}

#[test]
fn course_ecosystem_statuses_keep_the_course_uuids_as_sent() {
    let upper = COURSE.to_uppercase();
    let body = json!({"request_uuid": request_uuid(1), "course_uuids": [upper, COURSE]});
    let course = CourseId::from_uuid(uuid::Uuid::parse_str(COURSE).expect("uuid"));
    assert_eq!(
        parse_fetch_course_ecosystem_statuses(&body).expect("valid"),
        CourseStatusQuery {
            request_uuid: request_uuid(1),
            courses: vec![(course, upper), (course, COURSE.to_owned())],
        }
    );
    let empty = json!({"request_uuid": request_uuid(1), "course_uuids": []});
    assert!(parse_fetch_course_ecosystem_statuses(&empty)
        .expect("valid")
        .courses
        .is_empty());
}

#[test]
fn course_ecosystem_status_errors_name_their_paths() {
    let uuid_msg = "expected a uuid (8-4-4-4-12 hex digits)";
    assert_eq!(
        messages(parse_fetch_course_ecosystem_statuses(&json!([]))),
        ["(request body): expected an object, got an array of 0 items"]
    );
    assert_eq!(
        messages(parse_fetch_course_ecosystem_statuses(
            &json!({"course_uuid": COURSE})
        )),
        [
            "request_uuid: missing required field".to_owned(),
            "course_uuids: missing required field".to_owned(),
            "course_uuid: unknown field (expected one of: request_uuid, course_uuids)".to_owned(),
        ]
    );
    assert_eq!(
        messages(parse_fetch_course_ecosystem_statuses(
            &json!({"request_uuid": 1, "course_uuids": [COURSE, "x", null]})
        )),
        [
            format!("request_uuid: {uuid_msg}, got 1"),
            format!("course_uuids[1]: {uuid_msg}, got \"x\""),
            format!("course_uuids[2]: {uuid_msg}, got null"),
        ]
    );
    assert_eq!(
        messages(parse_fetch_course_ecosystem_statuses(
            &json!({"request_uuid": request_uuid(1), "course_uuids": COURSE})
        )),
        [format!("course_uuids: expected an array, got \"{COURSE}\"")]
    );
    let many: Vec<&str> = vec![COURSE; 1001];
    assert_eq!(
        messages(parse_fetch_course_ecosystem_statuses(
            &json!({"request_uuid": request_uuid(1), "course_uuids": many})
        )),
        ["course_uuids: expected at most 1000 items, got 1001"]
    );
}
