//! The ecosystem event create_ecosystem: book tree, pools and exercises
//! (api.md §4.3, §5.1), and the CNX identity type.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::convert::WireEvent;
use super::datetime::Datetime;
use super::decode::{
    array, boolean, datetime, expected, non_empty_string, non_negative, string_len, uuid,
};
use super::decoders::{event_decoder, nested_decoder};
use super::path::{At, ValidationErrors};
use super::slot::Slot;
use crate::ids::{parse_uuid, BookContainerId, EcosystemId, EventId, ExerciseGroupId, ExerciseId};
use crate::log::{EventType, SequenceNumber, StreamId};

/// A CNX content identity `<uuid>@<version>`, version `N` or `N.M`
/// (api.md §2.6, without the original regex's interior-zero quirk, so
/// `…@101` is accepted). Kept verbatim: it is CNX's id, not one of ours.
///
/// The version may be missing: Tutor sends a bare uuid as the
/// `container_cnx_identity` of units and chapters (recorded cassette
/// openstax/tutor-server `_create_ecosystem`), and A1 wins over the declared
/// pattern. The book's own `cnx_identity` must carry a version.
///
/// ```
/// use biglearn_core::events::CnxIdentity;
/// let id = CnxIdentity::parse("93E2B09D-261C-4007-A987-0B3062FE154B@4.4").unwrap();
/// assert_eq!(id.version(), Some("4.4"));
/// assert_eq!(id.as_str(), "93E2B09D-261C-4007-A987-0B3062FE154B@4.4");
/// assert!(CnxIdentity::parse("93e2b09d-261c-4007-a987-0b3062fe154b@101").is_ok());
/// assert_eq!(CnxIdentity::parse("93e2b09d-261c-4007-a987-0b3062fe154b").unwrap().version(), None);
/// assert!(CnxIdentity::parse("93e2b09d-261c-4007-a987-0b3062fe154b@").is_err());
/// assert!(CnxIdentity::parse("93e2b09d-261c-4007-a987-0b3062fe154b@1.2.3").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CnxIdentity {
    text: Box<str>,
    uuid: Uuid,
}

/// A string that is not `<uuid>` or `<uuid>@<N or N.M>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a CNX identity <uuid>[@<N or N.M>], got {value:?}")]
pub struct InvalidCnxIdentity {
    /// The rejected text.
    pub value: String,
}

fn is_version(text: &str) -> bool {
    let numeric = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    match text.split_once('.') {
        Some((major, minor)) => numeric(major) && numeric(minor),
        None => numeric(text),
    }
}

impl CnxIdentity {
    /// Parses and validates.
    pub fn parse(text: &str) -> Result<Self, InvalidCnxIdentity> {
        let fail = || InvalidCnxIdentity {
            value: text.to_owned(),
        };
        let (uuid, version) = match text.split_once('@') {
            Some((uuid, version)) => (uuid, Some(version)),
            None => (text, None),
        };
        let uuid = parse_uuid(uuid).map_err(|_| fail())?;
        if version.is_some_and(|version| !is_version(version)) {
            return Err(fail());
        }
        Ok(CnxIdentity {
            text: text.into(),
            uuid,
        })
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The CNX book or page uuid.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// The version part (`N` or `N.M`), if any.
    pub fn version(&self) -> Option<&str> {
        self.text.split_once('@').map(|(_, version)| version)
    }
}

impl fmt::Display for CnxIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for CnxIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CnxIdentity({:?})", &*self.text)
    }
}

impl Serialize for CnxIdentity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CnxIdentity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        CnxIdentity::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A container's CNX identity: `<uuid>` or `<uuid>@<N or N.M>`.
fn cnx_identity(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<CnxIdentity> {
    match value.as_str().map(CnxIdentity::parse) {
        Some(Ok(id)) => Some(id),
        _ => {
            expected(
                errs,
                path,
                "a CNX identity <uuid> or <uuid>@<N or N.M>",
                value,
            );
            None
        }
    }
}

/// The book's CNX identity: `<uuid>@<N or N.M>`, version required.
fn versioned_cnx_identity(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<CnxIdentity> {
    match value.as_str().map(CnxIdentity::parse) {
        Some(Ok(id)) if id.version().is_some() => Some(id),
        _ => {
            expected(errs, path, "a CNX identity <uuid>@<N or N.M>", value);
            None
        }
    }
}

/// Longest assignment type name in a pool (declared 3–100; this project
/// accepts 1–100 so that every `assignment_type` can be matched).
pub const MAX_POOL_TYPE_LEN: usize = 100;

/// One exercise pool of a book container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// Whether CLUEs are computed from this pool.
    pub use_for_clue: bool,
    /// Assignment types that draw personalized exercises from it (`[]` for
    /// the CLUE pool, `["reading"]`, `["homework"]`, `["practice"]`).
    pub use_for_personalized_for_assignment_types: Vec<String>,
    /// The exercises (no item limit, A8: book-level CLUE pools are large).
    pub exercise_uuids: Vec<ExerciseId>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

nested_decoder!(Pool {
    use_for_clue: required(boolean),
    use_for_personalized_for_assignment_types: required(array(
        None,
        string_len(1, MAX_POOL_TYPE_LEN)
    )),
    exercise_uuids: required(array(None, uuid)),
});

/// One book container (book, unit, chapter or page), flattened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookContainer {
    /// The ecosystem-specific container.
    pub container_uuid: BookContainerId,
    /// Its parent container; Tutor sends the ecosystem uuid for the root,
    /// older data null for top-level chapters.
    pub container_parent_uuid: Option<Uuid>,
    /// The CNX identity of the chapter or page.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub container_cnx_identity: Slot<CnxIdentity>,
    /// Its exercise pools.
    pub pools: Vec<Pool>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

nested_decoder!(BookContainer {
    container_uuid: required(uuid),
    container_parent_uuid: nullable(uuid),
    container_cnx_identity: optional(cnx_identity),
    pools: required(array(None, Pool::decode)),
});

/// The `book` of an ecosystem (stored verbatim, undeclared keys included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    /// The CNX book identity.
    pub cnx_identity: CnxIdentity,
    /// Every container, flattened (no item limit, A8).
    pub contents: Vec<BookContainer>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

nested_decoder!(Book {
    cnx_identity: required(versioned_cnx_identity),
    contents: required(array(None, BookContainer::decode)),
});

/// One exercise version of an ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exercise {
    /// This version.
    pub exercise_uuid: ExerciseId,
    /// All versions share the group.
    pub group_uuid: ExerciseGroupId,
    /// The version number.
    pub version: u64,
    /// Learning objectives and tags, e.g. `cnxmod:<page uuid>` (non-empty
    /// strings; no count limit, A8).
    pub los: Vec<String>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

nested_decoder!(Exercise {
    exercise_uuid: required(uuid),
    group_uuid: required(uuid),
    version: required(non_negative),
    los: required(array(None, non_empty_string)),
});

/// create_ecosystem: an immutable content version (event uuid = ecosystem
/// uuid, sequence number 0, A5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEcosystem {
    /// The ecosystem (event uuid and stream).
    pub ecosystem_uuid: EcosystemId,
    /// The book tree.
    pub book: Book,
    /// Every exercise (no item limit, A8).
    pub exercises: Vec<Exercise>,
    /// When Tutor imported it.
    pub imported_at: Datetime,
}

impl WireEvent for CreateEcosystem {
    fn event_type(&self) -> EventType {
        EventType::CreateEcosystem
    }
    fn stream(&self) -> StreamId {
        StreamId::Ecosystem(self.ecosystem_uuid)
    }
    fn sequence_number(&self) -> SequenceNumber {
        SequenceNumber::ZERO
    }
    fn event_id(&self) -> EventId {
        EventId::from_uuid(*self.ecosystem_uuid.as_uuid())
    }
    fn accepts(event_type: EventType) -> bool {
        event_type == EventType::CreateEcosystem
    }
    fn expected_name() -> &'static str {
        "create_ecosystem"
    }
}

event_decoder!(
    /// The request keys of POST /create_ecosystem.
    CreateEcosystem, echo ecosystem_uuid: EcosystemId, {
        book: required(Book::decode),
        exercises: required(array(None, Exercise::decode)),
        imported_at: required(datetime),
    }
);
