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
    /// A binary blob ([`encode_state_binary`]) could not be written or read.
    #[error("binary projection blob: {0}")]
    Binary(String),
}

/// The first bytes of a binary blob (JSON never starts with them).
const BINARY_MAGIC: &[u8; 4] = b"\xB1BLS";

/// Serializes a state as a compact binary blob: 4 magic bytes, the
/// [`STATE_VERSION`] (4 bytes, little-endian), then CBOR (uuids as 16 raw
/// bytes instead of 36-character strings). [`decode_state`] reads both
/// this and the JSON form, so stored JSON blobs stay readable.
pub fn encode_state_binary<T: Serialize>(state: &T) -> Result<Vec<u8>, BlobError> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(BINARY_MAGIC);
    out.extend_from_slice(&STATE_VERSION.to_le_bytes());
    ciborium::ser::into_writer(state, &mut out).map_err(|e| BlobError::Binary(e.to_string()))?;
    Ok(out)
}

fn decode_binary<T: DeserializeOwned>(blob: &[u8]) -> Result<T, BlobError> {
    let Some(version) = blob
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
    else {
        return Err(BlobError::Binary("truncated header".into()));
    };
    if version != STATE_VERSION {
        return Err(BlobError::UnsupportedVersion {
            found: version,
            supported: STATE_VERSION,
        });
    }
    ciborium::de::from_reader(&blob[8..]).map_err(|e| BlobError::Binary(e.to_string()))
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

/// Reads a blob written by [`encode_state`] or [`encode_state_binary`].
///
/// ```
/// use biglearn_core::ids::CourseId;
/// use biglearn_core::projection::{decode_state, encode_state, CourseState};
/// let state = CourseState::new(CourseId::from_uuid(uuid::Uuid::from_u128(7)));
/// let blob = encode_state(&state).unwrap();
/// let back: CourseState = decode_state(&blob).unwrap();
/// assert_eq!(back, state);
/// assert!(decode_state::<CourseState>(br#"{"version":99,"state":{}}"#).is_err());
/// // The binary form reads back the same.
/// let binary = biglearn_core::projection::encode_state_binary(&state).unwrap();
/// assert!(binary.len() < blob.len());
/// assert_eq!(decode_state::<CourseState>(&binary).unwrap(), state);
/// ```
pub fn decode_state<T: DeserializeOwned>(blob: &[u8]) -> Result<T, BlobError> {
    if blob.starts_with(BINARY_MAGIC) {
        return decode_binary(blob);
    }
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
