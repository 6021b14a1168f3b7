//! Versioned blobs: how a storage layer persists a projected state.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The version of the persisted state shape; bump it when a state type
/// changes incompatibly (and keep reading the old shape, style.md 10).
pub const STATE_VERSION: u32 = 1;

/// Why a blob could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The blob was written by an unsupported version of the state shape.
    #[error("projection blob has version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The blob's version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The blob is not valid JSON of the expected shape.
    #[error("projection blob is malformed: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    version: u32,
    state: &'a T,
}

#[derive(Deserialize)]
struct Header {
    version: u32,
}

#[derive(Deserialize)]
struct Owned<T> {
    state: T,
}

/// Serializes a state ([`super::CourseState`] or [`super::EcosystemState`])
/// as a JSON blob tagged with [`STATE_VERSION`].
pub fn encode_state<T: Serialize>(state: &T) -> Result<Vec<u8>, BlobError> {
    Ok(serde_json::to_vec(&Envelope {
        version: STATE_VERSION,
        state,
    })?)
}

/// Reads a blob written by [`encode_state`].
///
/// ```
/// use biglearn_core::ids::CourseId;
/// use biglearn_core::projection::{decode_state, encode_state, CourseState};
/// let state = CourseState::new(CourseId::from_uuid(uuid::Uuid::from_u128(7)));
/// let blob = encode_state(&state).unwrap();
/// let back: CourseState = decode_state(&blob).unwrap();
/// assert_eq!(back, state);
/// assert!(decode_state::<CourseState>(br#"{"version":99,"state":{}}"#).is_err());
/// ```
pub fn decode_state<T: DeserializeOwned>(blob: &[u8]) -> Result<T, BlobError> {
    let header: Header = serde_json::from_slice(blob)?;
    if header.version != STATE_VERSION {
        return Err(BlobError::UnsupportedVersion {
            found: header.version,
            supported: STATE_VERSION,
        });
    }
    let owned: Owned<T> = serde_json::from_slice(blob)?;
    Ok(owned.state)
}
