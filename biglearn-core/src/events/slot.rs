//! [`Slot`]: an optional key that remembers whether it was absent or null.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An optional wire key under the §4.3 "slice" rule: a key that was absent
/// stays absent in the stored event data, a key sent as `null` stays `null`.
///
/// Use it as `#[serde(default, skip_serializing_if = "Slot::is_absent")]`.
///
/// ```
/// use biglearn_core::events::Slot;
/// let absent: Slot<u32> = Slot::Absent;
/// assert_eq!(absent.as_option(), None);
/// assert_eq!(Slot::Present(3).as_option(), Some(&3));
/// assert!(Slot::<u32>::Null.is_null());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Slot<T> {
    /// The key was not sent.
    #[default]
    Absent,
    /// The key was sent with `null`.
    Null,
    /// The key was sent with a value.
    Present(T),
}

impl<T> Slot<T> {
    /// Whether the key was not sent (serde's `skip_serializing_if`).
    pub fn is_absent(&self) -> bool {
        matches!(self, Slot::Absent)
    }

    /// Whether the key was sent as `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Slot::Null)
    }

    /// The value, if one was sent.
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Slot::Present(value) => Some(value),
            Slot::Absent | Slot::Null => None,
        }
    }

    /// The value, if one was sent.
    pub fn into_option(self) -> Option<T> {
        match self {
            Slot::Present(value) => Some(value),
            Slot::Absent | Slot::Null => None,
        }
    }
}

impl<T: Serialize> Serialize for Slot<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Slot::Present(value) => value.serialize(serializer),
            // Absent is skipped by `skip_serializing_if`; if a caller forgets
            // the attribute, null is the closest faithful rendering.
            Slot::Absent | Slot::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Slot<T> {
    /// Called only for present keys (absent ones take `#[serde(default)]`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Slot::Present(value),
            None => Slot::Null,
        })
    }
}
