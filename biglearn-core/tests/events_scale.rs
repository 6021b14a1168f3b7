//! Scale check: a large Tutor-like create_ecosystem body (the largest write
//! body Tutor sends) parses, converts and reads back; run with `--ignored
//! --nocapture` in release to see the time per step.

use std::time::Instant;

use biglearn_core::events::{parse_body, parse_create_ecosystem, TypedEvent, WireEvent};
use serde_json::{json, Value};

fn uuid(kind: u32, i: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{i:012x}")
}

/// `containers` book containers, each with a CLUE pool and three dynamic
/// pools over `per_pool` exercises, and `exercises` exercises.
fn big_ecosystem(containers: usize, per_pool: usize, exercises: usize) -> Value {
    let contents: Vec<Value> = (0..containers)
        .map(|c| {
            let ids: Vec<String> = (0..per_pool).map(|e| uuid(3, (c * per_pool + e) % exercises)).collect();
            let pools: Vec<Value> = [json!([]), json!(["reading"]), json!(["homework"]), json!(["practice"])]
                .into_iter()
                .enumerate()
                .map(|(i, types)| json!({"use_for_clue": i == 0, "use_for_personalized_for_assignment_types": types, "exercise_uuids": ids}))
                .collect();
            json!({
                "container_uuid": uuid(2, c),
                "container_parent_uuid": if c == 0 { uuid(1, 0) } else { uuid(2, 0) },
                "container_cnx_identity": format!("{}@4", uuid(9, c)),
                "pools": pools
            })
        })
        .collect();
    let exercises: Vec<Value> = (0..exercises)
        .map(|e| {
            json!({
                "exercise_uuid": uuid(3, e), "group_uuid": uuid(4, e), "version": 1,
                "los": [format!("cnxmod:{}", uuid(9, e % containers)), "lo:stax-phys:1-2-3"]
            })
        })
        .collect();
    json!({
        "ecosystem_uuid": uuid(1, 0),
        "book": {"cnx_identity": format!("{}@7.1", uuid(8, 0)), "contents": contents},
        "exercises": exercises,
        "imported_at": "2017-06-27T23:26:43.596909Z"
    })
}

#[test]
fn small_instance_round_trips() {
    let body = big_ecosystem(20, 30, 200);
    let parsed = parse_create_ecosystem(&body).expect("valid");
    let event = parsed.event.to_event();
    assert_eq!(event.data.to_value().expect("json")["book"], body["book"]);
    assert!(matches!(
        TypedEvent::from_event(&event),
        Ok(TypedEvent::CreateEcosystem(_))
    ));
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn large_create_ecosystem_timing() {
    let body = big_ecosystem(1000, 250, 10_000);
    let text = body.to_string();
    let started = Instant::now();
    let value = parse_body(text.as_bytes()).expect("json");
    let json_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let parsed = parse_create_ecosystem(&value).expect("valid");
    let validate_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let event = parsed.event.to_event();
    let encode_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let back = TypedEvent::from_event(&event).expect("reads back");
    let decode_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(matches!(back, TypedEvent::CreateEcosystem(_)));
    println!(
        "body {:.1} MB, {} uuids in pools: json {json_ms:.0} ms, validate {validate_ms:.0} ms, to_event {encode_ms:.0} ms, from_event {decode_ms:.0} ms",
        text.len() as f64 / 1e6,
        1000 * 4 * 250,
    );
}
