//! Newtype ids over [`uuid::Uuid`].
//!
//! Every id the wire protocol carries gets its own type so that a student id
//! can never be passed where an exercise id is expected. Parsing accepts any
//! 8-4-4-4-12 hex uuid in either case (decision A9); ids are held in canonical
//! form, so `Display` prints lower case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// A string that is not an 8-4-4-4-12 hex uuid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a uuid of the form 8-4-4-4-12 hex digits, got {value:?}")]
pub struct InvalidUuid {
    /// The text that failed to parse.
    pub value: String,
}

/// Parses the hyphenated 8-4-4-4-12 form only (no braces, no urn, no simple
/// form), any version nibble, either case (decision A9).
pub fn parse_uuid(text: &str) -> Result<Uuid, InvalidUuid> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if !well_formed {
        return Err(InvalidUuid {
            value: text.to_owned(),
        });
    }
    Uuid::parse_str(text).map_err(|_| InvalidUuid {
        value: text.to_owned(),
    })
}

/// The serde side of [`parse_uuid`]: human-readable formats must carry the
/// 8-4-4-4-12 string (the `uuid` crate alone would also take braces, urns and
/// the simple form); binary formats use the uuid's own encoding.
fn deserialize_uuid<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    if deserializer.is_human_readable() {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        parse_uuid(&text).map_err(serde::de::Error::custom)
    } else {
        Uuid::deserialize(deserializer)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        /// Deserializes with the strict parser of [`parse_uuid`] (decision A9)
        /// from human-readable formats; binary formats use the uuid bytes.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_uuid(deserializer).map(Self)
            }
        }

        impl $name {
            /// Wraps an already-parsed uuid.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying uuid.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the 8-4-4-4-12 hex form (decision A9).
            pub fn parse(text: &str) -> Result<Self, InvalidUuid> {
                parse_uuid(text).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidUuid;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }
    };
}

uuid_id!(
    /// A course (one course event stream).
    CourseId
);
uuid_id!(
    /// An ecosystem: one immutable content version of a book (one ecosystem stream).
    EcosystemId
);
uuid_id!(
    /// A course-specific student.
    StudentId
);
uuid_id!(
    /// One version of an exercise.
    ExerciseId
);
uuid_id!(
    /// All versions of an exercise share a group.
    ExerciseGroupId
);
uuid_id!(
    /// A book container (book, unit, chapter or page) of one ecosystem.
    BookContainerId
);
uuid_id!(
    /// A course container (a period or the course root) from a roster.
    CourseContainerId
);
uuid_id!(
    /// A per-student assignment (task).
    AssignmentId
);
uuid_id!(
    /// One issuance of an exercise within an assignment.
    TrialId
);
uuid_id!(
    /// A recorded response (the record_response event uuid).
    ResponseId
);
uuid_id!(
    /// A client request uuid (the event uuid of most course events).
    RequestId
);
uuid_id!(
    /// A stored result calculation.
    CalculationId
);
uuid_id!(
    /// A fitted SPARFA matrix of an ecosystem.
    EcosystemMatrixId
);
uuid_id!(
    /// A course ecosystem preparation (prepare_course_ecosystem event uuid).
    PreparationId
);
uuid_id!(
    /// The uuid of any stored event; unique across all streams.
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_version_nibble_and_either_case() {
        let upper = CourseId::parse("A1B2C3D4-0000-7000-8000-ABCDEFABCDEF").expect("valid");
        let lower = CourseId::parse("a1b2c3d4-0000-7000-8000-abcdefabcdef").expect("valid");
        assert_eq!(upper, lower);
        assert_eq!(upper.to_string(), "a1b2c3d4-0000-7000-8000-abcdefabcdef");
    }

    #[test]
    fn rejects_other_forms() {
        for bad in [
            "",
            "a1b2c3d4000070008000abcdefabcdef",
            "{a1b2c3d4-0000-7000-8000-abcdefabcdef}",
            "a1b2c3d4-0000-7000-8000-abcdefabcdeg",
            "a1b2c3d4-0000-7000-8000-abcdefabcde",
            "urn:uuid:a1b2c3d4-0000-7000-8000-abcdefabcdef",
        ] {
            let err = StudentId::parse(bad).expect_err(bad);
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn serde_uses_the_strict_parser() {
        let ok: TrialId =
            serde_json::from_str("\"A1B2C3D4-0000-7000-8000-ABCDEFABCDEF\"").expect("valid");
        assert_eq!(ok.to_string(), "a1b2c3d4-0000-7000-8000-abcdefabcdef");
        for bad in [
            "\"{a1b2c3d4-0000-7000-8000-abcdefabcdef}\"",
            "\"a1b2c3d4000070008000abcdefabcdef\"",
            "\"urn:uuid:a1b2c3d4-0000-7000-8000-abcdefabcdef\"",
            "17",
        ] {
            let err = serde_json::from_str::<TrialId>(bad).expect_err(bad);
            assert!(!err.to_string().is_empty());
        }
        let err = serde_json::from_str::<TrialId>("\"nope\"").expect_err("bad");
        assert!(err.to_string().contains("8-4-4-4-12"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn display_parse_round_trip(bytes in proptest::array::uniform16(0u8..)) {
            let id = ExerciseId::from_uuid(Uuid::from_bytes(bytes));
            proptest::prop_assert_eq!(ExerciseId::parse(&id.to_string()).expect("round trip"), id);
            let json = serde_json::to_string(&id).expect("serialize");
            proptest::prop_assert_eq!(serde_json::from_str::<ExerciseId>(&json).expect("deserialize"), id);
            let upper = id.to_string().to_uppercase();
            proptest::prop_assert_eq!(ExerciseId::parse(&upper).expect("upper case"), id);
        }
    }
}
