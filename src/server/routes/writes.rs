//! The ten event-writing endpoints (api.md §5.1–§5.6): parse (A2), append
//! the whole call atomically through the shared group commit (A4, O2a),
//! record the ids it made known, wake the engine, answer in request order
//! echoing uuids as sent (A9).

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use biglearn_core::events::{Echoed, UpdateCourseEcosystem, WriteEndpoint, WriteRequest};
use biglearn_core::ids::EventId;
use biglearn_core::log::{
    AppendError, AppendRejection, AppendRequest, EventLog, EventType, StreamId,
};

use crate::server::{ApiError, App, Reply};

/// Handles one write endpoint.
pub fn handle(app: &App, endpoint: WriteEndpoint, body: &Value) -> Result<Reply, ApiError> {
    let request = endpoint.parse(body)?;
    if let WriteRequest::UpdateCourseEcosystems(items) = &request {
        return update_course_ecosystems(app, items);
    }
    append(app, &request, list_key(endpoint), None)?;
    Ok(Reply::json(response(&request, body)))
}

/// The bulk array key of a bulk endpoint (for 422 paths).
fn list_key(endpoint: WriteEndpoint) -> Option<&'static str> {
    match endpoint {
        WriteEndpoint::UpdateRosters => Some("rosters"),
        WriteEndpoint::UpdateCourseEcosystems => Some("update_requests"),
        WriteEndpoint::CreateUpdateAssignments => Some("assignments"),
        WriteEndpoint::RecordResponses => Some("responses"),
        _ => None,
    }
}

/// Appends the call's events; on success updates the registry and wakes
/// the engine. `positions` maps event index → request item index when
/// some items were not appended.
fn append(
    app: &App,
    request: &WriteRequest,
    list_key: Option<&str>,
    positions: Option<&[usize]>,
) -> Result<(), ApiError> {
    append_events(app, request.append_request(), list_key, positions)?;
    app.registry.observe_request(request);
    Ok(())
}

fn append_events(
    app: &App,
    append: AppendRequest,
    list_key: Option<&str>,
    positions: Option<&[usize]>,
) -> Result<(), ApiError> {
    match app.ingestor.append(append) {
        Ok(receipt) => {
            app.metrics
                .events_stored
                .fetch_add(receipt.stored as u64, Ordering::Relaxed);
            app.metrics
                .events_replayed
                .fetch_add(receipt.replayed as u64, Ordering::Relaxed);
            if receipt.stored > 0 {
                app.runner.notify();
            }
            Ok(())
        }
        Err(AppendError::Rejected(rejection)) => Err(ApiError::Conflict(vec![conflict_message(
            &rejection, list_key, positions,
        )])),
        Err(AppendError::Store(source)) => Err(ApiError::Store {
            during: "appending events",
            source,
        }),
    }
}

/// A 422 message whose path names the request item, not the event index.
fn conflict_message(
    rejection: &AppendRejection,
    list_key: Option<&str>,
    positions: Option<&[usize]>,
) -> String {
    let index = match rejection {
        AppendRejection::SequenceNumberTaken { index, .. }
        | AppendRejection::EventIdReused { index, .. }
        | AppendRejection::InvalidPlacement { index, .. } => *index,
    };
    let text = rejection.to_string();
    let detail = text
        .split_once(": ")
        .map_or(text.as_str(), |(_, rest)| rest);
    let item = positions
        .and_then(|p| p.get(index).copied())
        .unwrap_or(index);
    match list_key {
        Some(key) => format!("{key}[{item}]: {detail}"),
        None => format!("(request body): {detail}"),
    }
}

/// The uuid text of `body[list][i][key]` exactly as sent.
fn raw_at(body: &Value, list: &str, index: usize, key: &str) -> Value {
    body.get(list)
        .and_then(|items| items.get(index))
        .and_then(|item| item.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

fn response(request: &WriteRequest, body: &Value) -> Value {
    let raw = |key: &str| body.get(key).cloned().unwrap_or(Value::Null);
    match request {
        WriteRequest::CreateEcosystem(item) => json!({ "created_ecosystem_uuid": item.raw_uuid }),
        WriteRequest::CreateCourse(item) => json!({ "created_course_uuid": item.raw_uuid }),
        WriteRequest::UpdateCourseActiveDates(_) => {
            json!({ "updated_course_uuid": raw("course_uuid") })
        }
        WriteRequest::PrepareCourseEcosystem(_) => json!({ "status": "accepted" }),
        WriteRequest::UpdateExcludedExercises(_) => json!({ "status": "success" }),
        WriteRequest::UpdateRosters(items) => {
            let list: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    json!({
                        "request_uuid": item.raw_uuid,
                        "updated_course_uuid": raw_at(body, "rosters", i, "course_uuid"),
                    })
                })
                .collect();
            json!({ "updated_rosters": list })
        }
        WriteRequest::CreateUpdateAssignments(items) => {
            let list: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    json!({
                        "request_uuid": item.raw_uuid,
                        "updated_assignment_uuid": raw_at(body, "assignments", i, "assignment_uuid"),
                    })
                })
                .collect();
            json!({ "updated_assignments": list })
        }
        WriteRequest::RecordResponses(items) => {
            let mut seen = HashSet::with_capacity(items.len());
            let list: Vec<&str> = items
                .iter()
                .filter(|item| seen.insert(item.event.response_uuid))
                .map(|item| item.raw_uuid.as_str())
                .collect();
            json!({ "recorded_response_uuids": list })
        }
        WriteRequest::UpdateCourseEcosystems(items) => {
            // Every item appended: all preparations were known.
            let list: Vec<Value> = items
                .iter()
                .map(|item| json!({ "request_uuid": item.raw_uuid, "update_status": "updated_but_unready" }))
                .collect();
            json!({ "update_responses": list })
        }
    }
}

/// api.md §5.4: items whose preparation is unknown (or belongs to another
/// course) store nothing and answer `preparation_unknown`; the others are
/// appended together and answer `updated_but_unready` (no preparation is
/// ever marked precomputed, so `updated_and_ready` is not claimed).
fn update_course_ecosystems(
    app: &App,
    items: &[Echoed<UpdateCourseEcosystem>],
) -> Result<Reply, ApiError> {
    let mut known = Vec::with_capacity(items.len());
    let mut statuses = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let preparation = EventId::from_uuid(*item.event.preparation_uuid.as_uuid());
        let stored = app
            .store
            .event(preparation)
            .map_err(ApiError::store("looking up a preparation"))?;
        let is_known = stored.is_some_and(|event| {
            event.event_type == EventType::PrepareCourseEcosystem
                && event.stream == StreamId::Course(item.event.course_uuid)
        });
        if is_known {
            known.push(index);
        }
        statuses.push(if is_known {
            "updated_but_unready"
        } else {
            "preparation_unknown"
        });
    }
    if !known.is_empty() {
        let kept: Vec<Echoed<UpdateCourseEcosystem>> =
            known.iter().map(|i| items[*i].clone()).collect();
        let request = WriteRequest::UpdateCourseEcosystems(kept);
        append(app, &request, Some("update_requests"), Some(&known))?;
    }
    let list: Vec<Value> = items
        .iter()
        .zip(statuses)
        .map(|(item, status)| json!({ "request_uuid": item.raw_uuid, "update_status": status }))
        .collect();
    Ok(Reply::json(json!({ "update_responses": list })))
}
