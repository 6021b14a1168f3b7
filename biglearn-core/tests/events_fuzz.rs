//! Property tests of the validators (A2: "fuzzed bodies never produce 500"):
//! arbitrary and mutated bodies never panic; a rejected body gets at least one
//! error and every error path points into the body (the value itself, or the
//! object that lacks a required key); an accepted body reads back unchanged.

mod events_fixtures;

use biglearn_core::engine_store::ResultKind;
use biglearn_core::events::{
    parse_fetch_course_ecosystem_statuses, parse_fetch_course_events, parse_fetch_course_metadatas,
    parse_fetch_ecosystem_events, parse_fetch_ecosystem_metadatas, parse_result_reads,
    parse_result_updates, JsonPath, PathSegment, TypedEvent, ValidationErrors, WriteEndpoint,
};
use events_fixtures as fx;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Key names the parsers know, so that random objects reach deep paths.
const KEYS: &[&str] = &[
    "course_uuid",
    "request_uuid",
    "sequence_number",
    "responses",
    "rosters",
    "assignments",
    "book",
    "contents",
    "pools",
    "exercise_uuids",
    "exercise_uuid",
    "exercise_group_uuid",
    "exclusions",
    "event_types",
    "max_num_events",
    "updated_at",
    "pe_requests",
    "student_clue_updates",
    "course_uuids",
    "algorithm_name",
    "clue_data",
    "minimum",
    "x",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e30f64..1e30).prop_map(Value::from),
        "[a-zA-Z0-9:@._ -]{0,40}".prop_map(Value::from),
        any::<[u8; 16]>().prop_map(|b| Value::from(uuid::Uuid::from_bytes(b).to_string())),
        Just(Value::from("2017-06-27T23:26:49.142898Z")),
        Just(Value::from("record_response")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                let map: Map<String, Value> =
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                Value::Object(map)
            }),
        ]
    })
}

fn resolve<'a>(body: &'a Value, segments: &[PathSegment]) -> Option<&'a Value> {
    segments
        .iter()
        .try_fold(body, |value, segment| match segment {
            PathSegment::Key(key) => value.get(key.as_str()),
            PathSegment::Index(i) => value.get(*i),
        })
}

fn check_errors(body: &Value, errors: &ValidationErrors) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty());
    for error in errors.errors() {
        prop_assert!(!error.message.is_empty());
        let segments = error.path.segments();
        let points_into_body = resolve(body, segments).is_some()
            || (!segments.is_empty()
                && resolve(body, &segments[..segments.len() - 1]).is_some_and(Value::is_object));
        prop_assert!(points_into_body, "{error} does not point into {body}");
    }
    Ok(())
}

fn check_endpoint(endpoint: WriteEndpoint, body: &Value) -> Result<(), TestCaseError> {
    match endpoint.parse(body) {
        Ok(request) => {
            for event in request.events() {
                let typed = TypedEvent::from_event(&event);
                prop_assert!(typed.is_ok(), "{}: {typed:?}", endpoint.name());
                prop_assert_eq!(typed.map(|t| t.to_event()).ok(), Some(event));
            }
        }
        Err(errors) => check_errors(body, &errors)?,
    }
    Ok(())
}

fn fixtures() -> Vec<(WriteEndpoint, Value)> {
    vec![
        (WriteEndpoint::CreateEcosystem, fx::create_ecosystem()),
        (WriteEndpoint::CreateCourse, fx::create_course()),
        (
            WriteEndpoint::UpdateCourseActiveDates,
            fx::update_course_active_dates(),
        ),
        (WriteEndpoint::UpdateRosters, fx::update_rosters()),
        (
            WriteEndpoint::PrepareCourseEcosystem,
            fx::prepare_course_ecosystem(),
        ),
        (
            WriteEndpoint::UpdateCourseEcosystems,
            fx::update_course_ecosystems(),
        ),
        (
            WriteEndpoint::UpdateGloballyExcludedExercises,
            fx::update_globally_excluded_exercises(),
        ),
        (
            WriteEndpoint::UpdateCourseExcludedExercises,
            fx::update_course_excluded_exercises(),
        ),
        (
            WriteEndpoint::CreateUpdateAssignments,
            fx::create_update_assignments(),
        ),
        (WriteEndpoint::RecordResponses, fx::record_responses()),
    ]
}

/// Every path to a value inside `body` (objects and arrays included).
fn all_paths(body: &Value, here: JsonPath, out: &mut Vec<JsonPath>) {
    match body {
        Value::Object(map) => {
            for (key, value) in map {
                let path = here.key(key);
                out.push(path.clone());
                all_paths(value, path, out);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                let path = here.index(i);
                out.push(path.clone());
                all_paths(value, path, out);
            }
        }
        _ => {}
    }
}

fn replace(body: &mut Value, segments: &[PathSegment], new: Value) {
    let mut target = body;
    for segment in segments {
        target = match segment {
            PathSegment::Key(key) => &mut target[key.as_str()],
            PathSegment::Index(i) => &mut target[*i],
        };
    }
    *target = new;
}

fn remove(body: &mut Value, segments: &[PathSegment]) {
    let Some((last, parent)) = segments.split_last() else {
        return;
    };
    let mut target = body;
    for segment in parent {
        target = match segment {
            PathSegment::Key(key) => &mut target[key.as_str()],
            PathSegment::Index(i) => &mut target[*i],
        };
    }
    match (target, last) {
        (Value::Object(map), PathSegment::Key(key)) => {
            map.remove(key.as_str());
        }
        (Value::Array(items), PathSegment::Index(i)) => {
            items.remove(*i);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_never_panic(body in arb_json()) {
        for endpoint in WriteEndpoint::ALL {
            check_endpoint(endpoint, &body)?;
        }
        for result in [parse_fetch_course_events(&body), parse_fetch_ecosystem_events(&body)] {
            if let Err(errors) = result {
                check_errors(&body, &errors)?;
            }
        }
        for result in [parse_fetch_course_metadatas(&body), parse_fetch_ecosystem_metadatas(&body)] {
            if let Err(errors) = result {
                check_errors(&body, &errors)?;
            }
        }
        if let Err(errors) = parse_fetch_course_ecosystem_statuses(&body) {
            check_errors(&body, &errors)?;
        }
        for kind in ResultKind::ALL {
            if let Err(errors) = parse_result_reads(kind, &body) {
                check_errors(&body, &errors)?;
            }
            if let Err(errors) = parse_result_updates(kind, &body) {
                check_errors(&body, &errors)?;
            }
        }
    }

    #[test]
    fn mutated_tutor_bodies_are_accepted_or_explained(
        which in 0usize..10,
        pick in any::<prop::sample::Index>(),
        new in arb_json(),
        delete in any::<bool>(),
    ) {
        let (endpoint, mut body) = fixtures().swap_remove(which);
        let mut paths = Vec::new();
        all_paths(&body, JsonPath::root(), &mut paths);
        let path = pick.get(&paths).clone();
        if delete {
            remove(&mut body, path.segments());
        } else {
            replace(&mut body, path.segments(), new);
        }
        check_endpoint(endpoint, &body)?;
    }
}

#[test]
fn fetch_bodies_of_the_real_consumers_parse() {
    let body = json!({
        "course_event_requests": [{
            "request_uuid": "00000000-0000-4000-8000-000000000001",
            "event_types": ["create_update_assignment", "record_response"],
            "course_uuid": fx::COURSE,
            "sequence_number_offset": 0
        }],
        "max_num_events": 1000
    });
    assert!(parse_fetch_course_events(&body).is_ok());
}
