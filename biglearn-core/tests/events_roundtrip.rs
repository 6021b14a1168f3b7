//! Stored events read back: type, stream, number and uuid checks, create
//! events at 0, no_op in both streams, and a property test of the whole
//! request → Event → typed round trip.

mod events_fixtures;

use biglearn_core::events::{
    parse_create_course, parse_record_responses, EventDataError, NoOp, TypedEvent, WireEvent,
};
use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{Event, EventData, EventType, SequenceNumber, StreamId};
use events_fixtures as fx;
use serde_json::{json, Value};

fn data(event: &Event) -> Value {
    event.data.to_value().expect("json")
}

fn round_trip(event: &Event) -> TypedEvent {
    let typed = TypedEvent::from_event(event).expect("reads back");
    assert_eq!(&typed.to_event(), event, "typed → Event is stable");
    typed
}

#[test]
fn reading_back_checks_type_stream_number_and_uuid() {
    let response = parse_record_responses(&fx::record_responses()).expect("valid")[0]
        .event
        .clone();
    let event = response.to_event();

    let err = biglearn_core::events::CreateCourse::from_event(&event).expect_err("wrong type");
    assert!(matches!(
        err,
        EventDataError::WrongType {
            found: EventType::RecordResponse,
            ..
        }
    ));
    assert!(err.to_string().contains("expected create_course"), "{err}");

    let mut moved = event.clone();
    moved.sequence_number = SequenceNumber::new(9).expect("small");
    let err = TypedEvent::from_event(&moved).expect_err("number differs");
    assert_eq!(
        err.to_string(),
        format!(
            "event {} (record_response): sequence_number is 386 in the event data but 9 on the event",
            event.event_id
        )
    );

    let mut renamed = event.clone();
    renamed.event_id = EventId::parse(fx::REQUESTS[0]).expect("uuid");
    let err = TypedEvent::from_event(&renamed).expect_err("uuid differs");
    assert!(
        matches!(
            err,
            EventDataError::Mismatch {
                field: "event uuid",
                ..
            }
        ),
        "{err}"
    );

    let mut other_stream = event.clone();
    other_stream.stream = StreamId::Course(CourseId::parse(fx::PERIOD).expect("uuid"));
    let err = TypedEvent::from_event(&other_stream).expect_err("stream differs");
    assert!(
        matches!(
            err,
            EventDataError::Mismatch {
                field: "stream",
                ..
            }
        ),
        "{err}"
    );

    let mut broken = event.clone();
    broken.data = EventData::from_json_text(r#"{"response_uuid": 5}"#);
    let err = TypedEvent::from_event(&broken).expect_err("malformed");
    assert!(matches!(err, EventDataError::Malformed { .. }), "{err}");

    let mut extra = data(&event);
    extra["surprise"] = json!(1);
    let mut with_extra = event.clone();
    with_extra.data = EventData::from_value(&extra);
    let err = TypedEvent::from_event(&with_extra).expect_err("not the §4.3 keys");
    assert!(err.to_string().contains("surprise"), "{err}");
}

#[test]
fn create_events_must_be_stored_at_zero() {
    let course = parse_create_course(&fx::create_course())
        .expect("valid")
        .event;
    let mut event = course.to_event();
    let mut value = data(&event);
    value["sequence_number"] = json!(3);
    event.data = EventData::from_value(&value);
    let err = TypedEvent::from_event(&event).expect_err("create at 3");
    assert!(
        err.to_string().contains("sequence_number 3, not 0"),
        "{err}"
    );
}

#[test]
fn no_op_round_trips_in_both_streams() {
    let course = StreamId::Course(CourseId::parse(fx::COURSE).expect("uuid"));
    let no_op = NoOp::new(
        course,
        SequenceNumber::new(12).expect("small"),
        EventId::parse(fx::REQUESTS[2]).expect("uuid"),
    );
    let event = no_op.to_event();
    assert_eq!(event.event_type, EventType::NoOp);
    assert_eq!(event.data.as_str(), "{}");
    assert_eq!(round_trip(&event), TypedEvent::NoOp(no_op));

    let ecosystem_stream =
        StreamId::Ecosystem(biglearn_core::ids::EcosystemId::parse(fx::ECOSYSTEM).expect("uuid"));
    let mut filled = NoOp::new(
        ecosystem_stream,
        SequenceNumber::new(1).expect("1"),
        EventId::parse(fx::REQUESTS[3]).expect("uuid"),
    );
    filled
        .data
        .insert("reason".into(), json!("gap filled by admin"));
    let event = filled.to_event();
    assert_eq!(round_trip(&event), TypedEvent::NoOp(filled));
}

mod round_trip_properties {
    use super::*;
    use proptest::prelude::*;

    fn uuid_text() -> impl Strategy<Value = String> {
        (any::<[u8; 16]>(), any::<bool>()).prop_map(|(bytes, upper)| {
            let text = uuid::Uuid::from_bytes(bytes).hyphenated().to_string();
            if upper {
                text.to_uppercase()
            } else {
                text
            }
        })
    }

    proptest! {
        #[test]
        fn record_response_request_event_typed(
            ids in proptest::collection::vec(uuid_text(), 6),
            seq in 0u64..=i64::MAX as u64,
            is_correct in any::<bool>(),
            is_real in any::<bool>(),
            micros in 0i64..253_402_300_800_000_000,
        ) {
            let responded_at = biglearn_core::events::Datetime::from_unix_micros(micros).expect("in range");
            let item = json!({
                "response_uuid": ids[0], "course_uuid": ids[1], "sequence_number": seq,
                "ecosystem_uuid": ids[2], "trial_uuid": ids[3], "student_uuid": ids[4],
                "exercise_uuid": ids[5], "is_correct": is_correct,
                "is_real_response": is_real, "responded_at": responded_at.as_str(),
            });
            let parsed = parse_record_responses(&json!({"responses": [item.clone()]})).expect("valid");
            prop_assert_eq!(&parsed[0].raw_uuid, &ids[0]);
            let event = parsed[0].event.to_event();
            prop_assert_eq!(event.sequence_number.get(), seq);
            // Stored data = the request with lower-cased uuids.
            let mut lowered = item.clone();
            for key in ["response_uuid", "course_uuid", "ecosystem_uuid", "trial_uuid", "student_uuid", "exercise_uuid"] {
                lowered[key] = json!(lowered[key].as_str().expect("text").to_lowercase());
            }
            prop_assert_eq!(event.data.to_value().expect("json"), lowered);
            let back = TypedEvent::from_event(&event).expect("reads back");
            prop_assert_eq!(back, TypedEvent::RecordResponse(parsed[0].event.clone()));
        }
    }
}
