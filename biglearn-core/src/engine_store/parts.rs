//! A course state stored as a head and parts (see
//! [`crate::engine::parts`] for what each part holds): the storage types.

use uuid::Uuid;

use super::StateBlob;
use crate::ids::{AssignmentId, StudentId};
use crate::log::SequenceNumber;

/// Which part of a course's state a stored blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartKey {
    /// Course-wide settings and bookkeeping.
    Course,
    /// Course containers and students.
    Roster,
    /// One student's part.
    Student(StudentId),
    /// One assignment with its trials and their latest answers.
    Assignment(AssignmentId),
}

impl PartKey {
    /// The part's kind as stored (a small integer column).
    pub fn code(&self) -> i16 {
        match self {
            PartKey::Course => 0,
            PartKey::Roster => 1,
            PartKey::Student(_) => 2,
            PartKey::Assignment(_) => 3,
        }
    }

    /// The part's uuid as stored (nil for the course-wide parts).
    pub fn uuid(&self) -> Uuid {
        match self {
            PartKey::Course | PartKey::Roster => Uuid::nil(),
            PartKey::Student(id) => *id.as_uuid(),
            PartKey::Assignment(id) => *id.as_uuid(),
        }
    }

    /// The key stored as (`code`, `uuid`), if the code is known.
    pub fn from_stored(code: i16, uuid: Uuid) -> Option<Self> {
        match code {
            0 => Some(PartKey::Course),
            1 => Some(PartKey::Roster),
            2 => Some(PartKey::Student(StudentId::from_uuid(uuid))),
            3 => Some(PartKey::Assignment(AssignmentId::from_uuid(uuid))),
            _ => None,
        }
    }
}

/// One stored part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePart {
    /// Which part.
    pub key: PartKey,
    /// Its bytes.
    pub blob: StateBlob,
}

/// A part to store with a commit; `None` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartWrite {
    /// Which part.
    pub key: PartKey,
    /// Its new bytes, or `None` to delete it.
    pub blob: Option<StateBlob>,
}

/// A course state as stored: the head (or, for courses an earlier version
/// stored, the whole state in one blob) and every part, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseSnapshot {
    /// The last sequence number applied to the state.
    pub through: SequenceNumber,
    /// The head blob.
    pub head: StateBlob,
    /// The parts, sorted by key.
    pub parts: Vec<StatePart>,
}

impl CourseSnapshot {
    /// The stored size in bytes (head and parts).
    pub fn bytes(&self) -> usize {
        self.head.bytes.len() + self.parts.iter().map(|p| p.blob.bytes.len()).sum::<usize>()
    }
}

impl super::CourseCommit {
    /// The bytes of course state (head and parts) this commit writes.
    pub fn state_bytes(&self) -> usize {
        self.state.bytes.len()
            + self
                .parts
                .iter()
                .map(|p| p.blob.as_ref().map_or(0, |b| b.bytes.len()))
                .sum::<usize>()
    }
}
