//! The consumer endpoints: fetch_*_metadatas (api.md §4.8), fetch_*_events
//! (§4.7, the store runs the fair-fetch rules) and
//! fetch_course_ecosystem_statuses (§5.4: worked out by the engine's
//! projection rules, with `precompute_is_complete` answered truthfully, S1
//! fix 11).

use serde_json::{json, Value};

use biglearn_core::events::{
    parse_fetch_course_ecosystem_statuses, parse_fetch_course_events, parse_fetch_course_metadatas,
    parse_fetch_ecosystem_events, parse_fetch_ecosystem_metadatas,
};
use biglearn_core::ids::{CourseId, EcosystemId};
use biglearn_core::log::{
    Event, EventLog, EventType, FetchQuery, FetchRequest, SequenceNumber, StoreError, StreamId,
    StreamKind,
};
use biglearn_core::projection::{CourseEcosystems, PreparedEcosystem};

use crate::server::{readiness, ApiError, App, Reply};

/// fetch_course_metadatas / fetch_ecosystem_metadatas.
pub fn metadatas(app: &App, kind: StreamKind, body: &Value) -> Result<Reply, ApiError> {
    let query = match kind {
        StreamKind::Course => parse_fetch_course_metadatas(body)?,
        StreamKind::Ecosystem => parse_fetch_ecosystem_metadatas(body)?,
    };
    let rows = app
        .store
        .fetch_metadatas(
            kind,
            query.metadata_sequence_number_offset,
            query.max_num_metadatas,
        )
        .map_err(ApiError::store("fetching metadata"))?;
    let list: Vec<Value> = rows
        .iter()
        .map(|row| match kind {
            StreamKind::Course => json!({
                "uuid": row.stream.uuid().hyphenated().to_string(),
                "initial_ecosystem_uuid": row.initial_ecosystem.map(|e| e.to_string()),
                "metadata_sequence_number": row.metadata_sequence_number,
            }),
            StreamKind::Ecosystem => json!({
                "uuid": row.stream.uuid().hyphenated().to_string(),
                "metadata_sequence_number": row.metadata_sequence_number,
            }),
        })
        .collect();
    let key = match kind {
        StreamKind::Course => "course_responses",
        StreamKind::Ecosystem => "ecosystem_responses",
    };
    Ok(Reply::json(json!({ key: list })))
}

/// fetch_course_events / fetch_ecosystem_events.
pub fn events(app: &App, kind: StreamKind, body: &Value) -> Result<Reply, ApiError> {
    let (query, list_key, stream_key, answer_key) = match kind {
        StreamKind::Course => (
            parse_fetch_course_events(body)?,
            "course_event_requests",
            "course_uuid",
            "course_event_responses",
        ),
        StreamKind::Ecosystem => (
            parse_fetch_ecosystem_events(body)?,
            "ecosystem_event_requests",
            "ecosystem_uuid",
            "ecosystem_event_responses",
        ),
    };
    let responses = app
        .store
        .fetch_events(&query)
        .map_err(ApiError::store("fetching events"))?;
    let mut list = Vec::with_capacity(responses.len());
    for (index, response) in responses.iter().enumerate() {
        let events = response
            .events
            .iter()
            .map(event_json)
            .collect::<Result<Vec<Value>, StoreError>>()
            .map_err(ApiError::store("reading stored event data"))?;
        let stream_echo = body
            .get(list_key)
            .and_then(|items| items.get(index))
            .and_then(|item| item.get(stream_key))
            .cloned()
            .unwrap_or(Value::Null);
        list.push(json!({
            "request_uuid": response.request_uuid,
            stream_key: stream_echo,
            "events": events,
            "is_gap": response.is_gap,
            "is_end": response.is_end,
        }));
    }
    Ok(Reply::json(json!({ answer_key: list })))
}

fn event_json(event: &Event) -> Result<Value, StoreError> {
    let data = event.data.to_value().map_err(|e| {
        StoreError::Corrupt(format!("event {} has invalid data: {e}", event.event_id))
    })?;
    Ok(json!({
        "sequence_number": event.sequence_number.get(),
        "event_uuid": event.event_id.to_string(),
        "event_type": event.event_type.name(),
        "event_data": data,
    }))
}

/// fetch_course_ecosystem_statuses (api.md §5.4).
pub fn course_ecosystem_statuses(app: &App, body: &Value) -> Result<Reply, ApiError> {
    let courses = parse_fetch_course_ecosystem_statuses(body)?.courses;
    let mut list = Vec::with_capacity(courses.len());
    for (course, raw) in courses {
        let status =
            course_status(app, course).map_err(ApiError::store("reading course events"))?;
        let mut status = status;
        if let Value::Object(map) = &mut status {
            map.insert("course_uuid".into(), Value::String(raw));
        }
        list.push(status);
    }
    Ok(Reply::json(json!({ "course_statuses": list })))
}

/// The status of the current or next ecosystem: `preparation` is the
/// preparation it came from (`None` for the create_course ecosystem, or
/// when there is no next one), and only a preparation can be precomputed
/// ([`readiness`], S1 fix 11).
fn ecosystem_status(
    app: &App,
    course: CourseId,
    ecosystem: Option<EcosystemId>,
    preparation: Option<&PreparedEcosystem>,
) -> Result<Value, StoreError> {
    let Some(ecosystem) = ecosystem else {
        return Ok(json!({
            "ecosystem_uuid": null,
            "ecosystem_is_known": false,
            "ecosystem_is_prepared": false,
            "precompute_is_complete": false,
        }));
    };
    let known = readiness::ecosystem_is_known(app, ecosystem)?;
    let precomputed = match preparation {
        Some(p) => readiness::is_precomputed(app, course, p.sequence_number, p.ecosystem)?,
        None => false,
    };
    Ok(json!({
        "ecosystem_uuid": ecosystem.to_string(),
        "ecosystem_is_known": known,
        "ecosystem_is_prepared": preparation.is_some(),
        "precompute_is_complete": precomputed,
    }))
}

/// A course's status as the engine's projection has it
/// ([`CourseEcosystems`]; a parked switch, S1 fix 13, is not made yet).
fn course_status(app: &App, course: CourseId) -> Result<Value, StoreError> {
    let status = course_ecosystems(app, course)?.status();
    let current = ecosystem_status(
        app,
        course,
        status.current_ecosystem,
        status.current_preparation.as_ref(),
    )?;
    let next = status.next_preparation.as_ref();
    let next_status = ecosystem_status(app, course, next.map(|p| p.ecosystem), next)?;
    Ok(json!({
        "course_uuid": course.to_string(),
        "course_is_known": status.course_is_known,
        "current_ecosystem_preparation_uuid": next.map(|p| p.preparation.to_string()),
        "current_ecosystem_status": current,
        "next_ecosystem_status": next_status,
    }))
}

/// The course's create_course, prepare and update_course_ecosystem events
/// applied in ascending order up to its end or first gap, as the engine
/// applies them.
fn course_ecosystems(app: &App, course: CourseId) -> Result<CourseEcosystems, StoreError> {
    let mut ecosystems = CourseEcosystems::new(course);
    let mut offset = SequenceNumber::ZERO;
    loop {
        let query = FetchQuery {
            requests: vec![FetchRequest {
                request_uuid: String::new(),
                stream: StreamId::Course(course),
                sequence_number_offset: offset,
                event_types: [
                    EventType::CreateCourse,
                    EventType::PrepareCourseEcosystem,
                    EventType::UpdateCourseEcosystem,
                ]
                .into_iter()
                .collect(),
            }],
            max_num_events: 1000,
        };
        let Some(response) = app.store.fetch_events(&query)?.pop() else {
            break;
        };
        for event in &response.events {
            ecosystems.apply(event);
        }
        match response.events.last() {
            Some(last) if !response.is_end && !response.is_gap => {
                offset = last.sequence_number.next();
            }
            _ => break,
        }
    }
    Ok(ecosystems)
}
