//! The ten event-writing endpoints (api.md §5.1–§5.6): parse (A2), append
//! the whole call atomically through the shared group commit (A4, O2a; the
//! store registers the ids the call introduces in the same transaction),
//! wake the engine, answer in request order
//! echoing uuids as sent (A9).
//!
//! Calls with small bodies take the async path ([`handle_queued`]): parsed
//! on the async worker (microseconds) and committed by the
//! [`biglearn_store::ingest::CommitQueue`], so a busy server does not park
//! one blocking thread per request. update_course_ecosystems (it reads the
//! store first) and large bodies take the blocking path ([`handle`]).

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use biglearn_core::events::{Echoed, UpdateCourseEcosystem, WriteEndpoint, WriteRequest};
use biglearn_core::ids::EventId;
use biglearn_core::log::{
    AppendError, AppendReceipt, AppendRejection, EventLog, EventType, StoreError, StreamId,
};

use crate::server::{ApiError, App, Endpoint, Reply};

/// Bodies up to this size are parsed on the async worker (a few tens of
/// microseconds at most); larger ones go to the blocking pool.
const QUEUED_BODY_LIMIT: usize = 64 * 1024;

/// Whether `endpoint` with a body of `body_len` bytes takes the async path.
pub fn is_queued(endpoint: Endpoint, body_len: usize) -> bool {
    matches!(endpoint, Endpoint::Write(write) if write != WriteEndpoint::UpdateCourseEcosystems)
        && body_len <= QUEUED_BODY_LIMIT
}

/// Handles a write endpoint on the async path: parse, submit to the commit
/// queue, await the durable commit, answer. Same answers as [`handle`].
pub async fn handle_queued(app: &App, endpoint: Endpoint, bytes: &[u8]) -> Result<Reply, ApiError> {
    let Endpoint::Write(write) = endpoint else {
        return Err(ApiError::Internal(format!(
            "{} is not an event write",
            endpoint.name()
        )));
    };
    let body = biglearn_core::events::parse_body(bytes)?;
    let request = write.parse(&body)?;
    if let WriteRequest::UpdateCourseEcosystems(_) = &request {
        return Err(ApiError::Internal(
            "update_course_ecosystems must take the blocking path".into(),
        ));
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    app.commits.submit(
        request.append_request(),
        Box::new(move |outcome| {
            // The handler may be gone (client hung up); the events are
            // stored either way.
            let _ = sender.send(outcome);
        }),
    );
    let outcome = receiver.await.unwrap_or_else(|_| {
        Err(AppendError::Store(StoreError::Backend {
            backend: "ingest",
            operation: "awaiting the group commit",
            message: "the committer stopped before answering".into(),
        }))
    });
    settle(app, outcome, list_key(write), None)?;
    Ok(Reply::json(response(&request, &body)))
}

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

/// Appends the call's events (and, in the same transaction, the ids they
/// introduce); on success wakes the engine. `positions` maps event index → request item index when
/// some items were not appended.
fn append(
    app: &App,
    request: &WriteRequest,
    list_key: Option<&str>,
    positions: Option<&[usize]>,
) -> Result<(), ApiError> {
    let outcome = app.ingestor.append(request.append_request());
    settle(app, outcome, list_key, positions)?;
    Ok(())
}

/// Counts an append's outcome and wakes the engine when something new was
/// stored; rejections become 422s naming the request item.
fn settle(
    app: &App,
    outcome: Result<AppendReceipt, AppendError>,
    list_key: Option<&str>,
    positions: Option<&[usize]>,
) -> Result<(), ApiError> {
    match outcome {
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
        // Answered item by item by `update_course_ecosystems` (statuses
        // need the store); neither write path builds this answer here.
        WriteRequest::UpdateCourseEcosystems(_) => {
            json!({ "errors": ["update_course_ecosystems is answered per item"] })
        }
    }
}

/// api.md §5.4: items whose preparation is unknown (or belongs to another
/// course) store nothing and answer `preparation_unknown`; the others are
/// appended together and answer `updated_and_ready` when the engine has
/// precomputed their preparation, else `updated_but_unready`
/// ([`crate::server::readiness`], S1 fix 11; Tutor accepts both).
fn update_course_ecosystems(
    app: &App,
    items: &[Echoed<UpdateCourseEcosystem>],
) -> Result<Reply, ApiError> {
    let mut known = Vec::with_capacity(items.len());
    let mut preparations = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let preparation = EventId::from_uuid(*item.event.preparation_uuid.as_uuid());
        let stored = app
            .store
            .event(preparation)
            .map_err(ApiError::store("looking up a preparation"))?;
        let stored = stored.filter(|event| {
            event.event_type == EventType::PrepareCourseEcosystem
                && event.stream == StreamId::Course(item.event.course_uuid)
        });
        if stored.is_some() {
            known.push(index);
        }
        preparations.push(stored);
    }
    if !known.is_empty() {
        let kept: Vec<Echoed<UpdateCourseEcosystem>> =
            known.iter().map(|i| items[*i].clone()).collect();
        let request = WriteRequest::UpdateCourseEcosystems(kept);
        append(app, &request, Some("update_requests"), Some(&known))?;
    }
    // Readiness is read after the append: the engine's watermark only
    // rises, so the answer is as fresh as it can be and never claims more
    // than the engine has stored.
    let mut list = Vec::with_capacity(items.len());
    for (item, preparation) in items.iter().zip(&preparations) {
        let status = match preparation {
            None => "preparation_unknown",
            Some(event) => {
                let ready = crate::server::readiness::stored_preparation_is_precomputed(app, event)
                    .map_err(ApiError::store(
                        "checking whether a preparation is precomputed",
                    ))?;
                if ready {
                    "updated_and_ready"
                } else {
                    "updated_but_unready"
                }
            }
        };
        list.push(json!({ "request_uuid": item.raw_uuid, "update_status": status }));
    }
    Ok(Reply::json(json!({ "update_responses": list })))
}
