//! Request-body parsers of the consumer endpoints: fetch_course_events,
//! fetch_ecosystem_events, fetch_course_metadatas, fetch_ecosystem_metadatas
//! (api.md §4.7, §4.8, §5.1–§5.2) and fetch_course_ecosystem_statuses
//! (§5.4).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use uuid::Uuid;

use super::decode::{
    array, expected, finish, integer_in, non_negative, sequence_number, uuid, uuid_with_text, Obj,
    UnknownKeys,
};
use super::path::{At, JsonPath, ValidationErrors};
use super::requests::MAX_BULK_ITEMS;
use crate::ids::{parse_uuid, CourseId};
use crate::log::{EventType, FetchQuery, FetchRequest, StreamId, StreamKind};

/// Sub-requests per fetch call (A8).
pub const MAX_FETCH_REQUESTS: usize = 1000;
/// Largest `max_num_events` and `max_num_metadatas` (A8).
pub const MAX_PAGE: u64 = 1000;

/// A parsed fetch_*_metadatas body (api.md §4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataQuery {
    /// Courses or ecosystems.
    pub kind: StreamKind,
    /// Inclusive lower bound on the metadata sequence number.
    pub metadata_sequence_number_offset: u64,
    /// Page size, 1–1000.
    pub max_num_metadatas: u32,
}

fn page_size(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<u32> {
    integer_in(1, MAX_PAGE)(value, path, errs).and_then(|n| u32::try_from(n).ok())
}

fn parse_metadatas(body: &Value, kind: StreamKind) -> Result<MetadataQuery, ValidationErrors> {
    const KEYS: &[&str] = &["metadata_sequence_number_offset", "max_num_metadatas"];
    let mut errs = ValidationErrors::default();
    let parsed = Obj::new(body, &At::Root, &mut errs).and_then(|o| {
        let offset = o.required(&mut errs, KEYS[0], non_negative);
        let max = o.required(&mut errs, KEYS[1], page_size);
        o.rest(&mut errs, KEYS, UnknownKeys::Reject);
        Some(MetadataQuery {
            kind,
            metadata_sequence_number_offset: offset?,
            max_num_metadatas: max?,
        })
    });
    finish(parsed, errs)
}

/// Parses POST /fetch_course_metadatas.
pub fn parse_fetch_course_metadatas(body: &Value) -> Result<MetadataQuery, ValidationErrors> {
    parse_metadatas(body, StreamKind::Course)
}

/// Parses POST /fetch_ecosystem_metadatas.
pub fn parse_fetch_ecosystem_metadatas(body: &Value) -> Result<MetadataQuery, ValidationErrors> {
    parse_metadatas(body, StreamKind::Ecosystem)
}

/// The event type names a fetch of `kind` may ask for.
fn allowed_types(kind: StreamKind) -> Vec<EventType> {
    EventType::ALL
        .into_iter()
        .filter(|t| t.allowed_in(kind))
        .collect()
}

fn event_type_in(
    kind: StreamKind,
) -> impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<EventType> {
    move |value, path, errs| {
        let found = value
            .as_str()
            .and_then(EventType::from_name)
            .filter(|t| t.allowed_in(kind));
        if found.is_none() {
            let names: Vec<&str> = allowed_types(kind).iter().map(EventType::name).collect();
            let kind_name = match kind {
                StreamKind::Course => "a course",
                StreamKind::Ecosystem => "an ecosystem",
            };
            let what = format!("{kind_name} event type, one of {}", names.join(", "));
            expected(errs, path, &what, value);
        }
        found
    }
}

fn event_types(
    kind: StreamKind,
) -> impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<BTreeSet<EventType>> {
    move |value, path, errs| {
        let types = array(None, event_type_in(kind))(value, path, errs)?;
        if types.is_empty() {
            errs.push_at(path, "expected at least 1 event type, got an empty array");
            return None;
        }
        Some(types.into_iter().collect())
    }
}

fn parse_events(body: &Value, kind: StreamKind) -> Result<FetchQuery, ValidationErrors> {
    let (list_key, stream_key) = match kind {
        StreamKind::Course => ("course_event_requests", "course_uuid"),
        StreamKind::Ecosystem => ("ecosystem_event_requests", "ecosystem_uuid"),
    };
    let item_keys = [
        "request_uuid",
        "event_types",
        stream_key,
        "sequence_number_offset",
    ];
    let mut errs = ValidationErrors::default();
    let parsed = Obj::new(body, &At::Root, &mut errs).and_then(|o| {
        let requests = o.required(
            &mut errs,
            list_key,
            array(Some(MAX_FETCH_REQUESTS), |v, p, e| {
                let item = Obj::new(v, p, e)?;
                let request = item.required(e, "request_uuid", uuid_with_text::<Uuid>);
                let types = item.required(e, "event_types", event_types(kind));
                let stream = item.required(e, stream_key, uuid::<Uuid>);
                let offset = item.required(e, "sequence_number_offset", sequence_number);
                item.rest(e, &item_keys, UnknownKeys::Accept);
                Some(FetchRequest {
                    request_uuid: request?.1,
                    stream: StreamId::from_parts(kind, stream?),
                    sequence_number_offset: offset?,
                    event_types: types?,
                })
            }),
        );
        report_duplicate_request_uuids(o.map.get(list_key), list_key, &mut errs);
        let max_num_events = o.required(&mut errs, "max_num_events", page_size);
        o.rest(
            &mut errs,
            &[list_key, "max_num_events"],
            UnknownKeys::Reject,
        );
        Some(FetchQuery {
            requests: requests?,
            max_num_events: max_num_events?,
        })
    });
    finish(parsed, errs)
}

/// Two sub-requests with the same request uuid (compared after lower-casing,
/// A9) would get merged answers: a 400 naming both positions (A2, A10).
fn report_duplicate_request_uuids(
    list: Option<&Value>,
    list_key: &str,
    errs: &mut ValidationErrors,
) {
    let Some(Value::Array(items)) = list else {
        return;
    };
    let mut first_seen: HashMap<Uuid, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let parsed = item
            .get("request_uuid")
            .and_then(Value::as_str)
            .and_then(|text| parse_uuid(text).ok());
        let Some(uuid) = parsed else {
            continue;
        };
        match first_seen.get(&uuid) {
            Some(first) => errs.push(
                JsonPath::root()
                    .key(list_key)
                    .index(index)
                    .key("request_uuid"),
                format!(
                    "duplicate request_uuid: {list_key}[{first}].request_uuid has the same uuid"
                ),
            ),
            None => {
                first_seen.insert(uuid, index);
            }
        }
    }
}

/// Parses POST /fetch_course_events: `event_types` needs at least one course
/// event type name; a request uuid may occur once per call (A2).
pub fn parse_fetch_course_events(body: &Value) -> Result<FetchQuery, ValidationErrors> {
    parse_events(body, StreamKind::Course)
}

/// Parses POST /fetch_ecosystem_events (types `no_op`, `create_ecosystem`).
pub fn parse_fetch_ecosystem_events(body: &Value) -> Result<FetchQuery, ValidationErrors> {
    parse_events(body, StreamKind::Ecosystem)
}

/// A parsed fetch_course_ecosystem_statuses body (api.md §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseStatusQuery {
    /// `request_uuid` exactly as sent.
    pub request_uuid: String,
    /// The courses asked about, in request order, each with its uuid
    /// exactly as sent (answers echo it, A9).
    pub courses: Vec<(CourseId, String)>,
}

/// Parses POST /fetch_course_ecosystem_statuses: `request_uuid` and
/// `course_uuids` (at most [`MAX_BULK_ITEMS`] uuids), no other key.
pub fn parse_fetch_course_ecosystem_statuses(
    body: &Value,
) -> Result<CourseStatusQuery, ValidationErrors> {
    const KEYS: &[&str] = &["request_uuid", "course_uuids"];
    let mut errs = ValidationErrors::default();
    let parsed = Obj::new(body, &At::Root, &mut errs).and_then(|o| {
        let request = o.required(&mut errs, KEYS[0], uuid_with_text::<Uuid>);
        let courses = o.required(
            &mut errs,
            KEYS[1],
            array(Some(MAX_BULK_ITEMS), uuid_with_text::<CourseId>),
        );
        o.rest(&mut errs, KEYS, UnknownKeys::Reject);
        Some(CourseStatusQuery {
            request_uuid: request?.1,
            courses: courses?,
        })
    });
    finish(parsed, errs)
}
