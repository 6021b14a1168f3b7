//! Typed course and ecosystem events of the wire protocol (api.md §4–§5),
//! and the validation of the request bodies that carry them (decision A2).
//!
//! - Request parsers ([`parse_record_responses`], [`WriteEndpoint::parse`],
//!   [`parse_fetch_course_events`], the engine reads and result pushes
//!   [`parse_result_reads`] and [`parse_result_updates`], …) walk a
//!   `serde_json::Value` and return either typed values or
//!   [`ValidationErrors`]: **every** problem, each with its [`JsonPath`]
//!   (`responses[3].student_uuid: expected a uuid …`). Every body of the
//!   protocol is decoded here; the server only maps errors to HTTP.
//! - [`not_real_clue`] is the CLUE a read answers while none is stored, and
//!   [`clue_data_json`] / [`not_real_clue_json`] are the wire form of a CLUE.
//! - Typed bodies ([`RecordResponse`], [`CreateEcosystem`], …) use the wire
//!   field names and the newtype ids of [`crate::ids`]; uuids are normalised
//!   to lower case (A9), datetimes keep their text ([`Datetime`]), unknown
//!   keys of nested objects are kept verbatim, and optional keys remember
//!   absent vs null ([`Slot`]).
//! - [`WireEvent`] turns a body into a stored [`crate::log::Event`] whose
//!   data holds exactly the §4.3 keys, and reads one back; [`TypedEvent`]
//!   does the same for any event type.
//!
//! ```
//! use biglearn_core::events::{parse_record_responses, WireEvent};
//! let body = serde_json::json!({"responses": [{
//!     "response_uuid": "1E2D3C4B-0000-4000-8000-000000000001",
//!     "course_uuid": "1e2d3c4b-0000-4000-8000-000000000002",
//!     "sequence_number": 7,
//!     "ecosystem_uuid": "1e2d3c4b-0000-4000-8000-000000000003",
//!     "trial_uuid": "1e2d3c4b-0000-4000-8000-000000000004",
//!     "student_uuid": "1e2d3c4b-0000-4000-8000-000000000005",
//!     "exercise_uuid": "1e2d3c4b-0000-4000-8000-000000000006",
//!     "is_correct": true,
//!     "is_real_response": true,
//!     "responded_at": "2017-08-01T12:00:00.000000Z"
//! }]});
//! let items = parse_record_responses(&body).unwrap();
//! assert_eq!(items[0].raw_uuid, "1E2D3C4B-0000-4000-8000-000000000001");
//! let event = items[0].event.to_event();
//! assert_eq!(event.sequence_number.get(), 7);
//!
//! let bad = serde_json::json!({"responses": [{"response_uuid": "nope"}]});
//! let errors = parse_record_responses(&bad).unwrap_err();
//! assert_eq!(
//!     errors.messages()[0],
//!     "responses[0].response_uuid: expected a uuid (8-4-4-4-12 hex digits), got \"nope\""
//! );
//! assert_eq!(errors.len(), 10); // the bad uuid and 9 missing fields
//! ```

#[macro_use]
mod convert;
mod assignment;
mod course;
mod datetime;
mod decode;
mod decoders;
mod ecosystem;
mod exclusions;
mod fetch;
mod path;
mod requests;
mod results;
mod roster;
mod slot;
mod typed;

pub use assignment::{
    AssignedExercise, CalculationRef, CreateUpdateAssignment, ExclusionInfo, RecordResponse,
    MAX_ASSIGNMENT_TYPE_LEN,
};
pub use convert::{EventDataError, WireEvent};
pub use course::{
    BookContainerMapping, CreateCourse, EcosystemMap, ExerciseMapping, PrepareCourseEcosystem,
    UpdateCourseActiveDates, UpdateCourseEcosystem,
};
pub use datetime::{
    civil_from_days, days_from_civil, days_in_month, is_leap_year, Datetime, InvalidDatetime,
};
pub use decode::parse_body;
pub use ecosystem::{
    Book, BookContainer, CnxIdentity, CreateEcosystem, Exercise, InvalidCnxIdentity, Pool,
    MAX_POOL_TYPE_LEN,
};
pub use exclusions::{ExclusionScope, ExclusionTarget, ExerciseExclusion, UpdateExcludedExercises};
pub use fetch::{
    parse_fetch_course_ecosystem_statuses, parse_fetch_course_events, parse_fetch_course_metadatas,
    parse_fetch_ecosystem_events, parse_fetch_ecosystem_metadatas, CourseStatusQuery,
    MetadataQuery, MAX_FETCH_REQUESTS, MAX_PAGE,
};
pub use path::{JsonPath, PathSegment, ValidationError, ValidationErrors};
pub use requests::{
    parse_create_course, parse_create_ecosystem, parse_create_update_assignments,
    parse_prepare_course_ecosystem, parse_record_responses, parse_update_course_active_dates,
    parse_update_course_ecosystems, parse_update_course_excluded_exercises,
    parse_update_globally_excluded_exercises, parse_update_rosters, WriteEndpoint, WriteRequest,
    MAX_BULK_ITEMS, MAX_ROSTERS,
};
pub use results::{
    clue_data_json, not_real_clue, not_real_clue_json, owner_key, parse_result_reads,
    parse_result_updates, read_list_key, update_list_key, ClueRead, ExerciseRead, ResultReads,
    MAX_EXERCISES,
};
pub use roster::{CourseContainer, RosterStudent, UpdateRoster};
pub use slot::Slot;
pub use typed::{NoOp, TypedEvent};

/// A parsed request item together with its event uuid exactly as sent
/// (`request_uuid`, `response_uuid`, `preparation_uuid`, `course_uuid` or
/// `ecosystem_uuid`), which responses echo verbatim (A9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echoed<T> {
    /// The uuid text as the client sent it (case preserved).
    pub raw_uuid: String,
    /// The typed event (ids normalised to lower case).
    pub event: T,
}
