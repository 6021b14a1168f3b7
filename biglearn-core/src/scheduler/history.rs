//! Spaced-practice histories: sequence numbers and k-ago lookups
//! (scheduler.md §2.5 "Sequence numbers" and "History", S1 fixes 2 and 5).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::assignment::Assignment;
use super::constants::MAX_K_AGO;
use crate::ids::AssignmentId;

/// Which history an SPE variant follows (scheduler.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryType {
    /// The instructor's order: by due date (`instructor_driven_<alg>`).
    InstructorDriven,
    /// The order the student completed assignments in (`student_driven_<alg>`).
    StudentDriven,
}

impl HistoryType {
    /// The name prefix of SPE results of this variant.
    pub fn prefix(self) -> &'static str {
        match self {
            HistoryType::InstructorDriven => "instructor_driven",
            HistoryType::StudentDriven => "student_driven",
        }
    }
}

/// The current assignment's place in one history and its k-ago entries.
#[derive(Debug, Clone, PartialEq)]
pub struct History<'a> {
    /// The variant.
    pub history_type: HistoryType,
    /// The current assignment's sequence number `s` (0 for a cold start).
    pub sequence_number: u32,
    ago: Vec<(u8, &'a Assignment)>,
}

impl<'a> History<'a> {
    /// A history holding only the current assignment (cold start, §2.8):
    /// sequence number 0, no k-ago entries.
    pub fn cold_start(history_type: HistoryType) -> Self {
        History {
            history_type,
            sequence_number: 0,
            ago: Vec::new(),
        }
    }

    /// The assignment `k` places before the current one (`k` in 1..=5);
    /// `None` when there is none (a missing entry is empty, S1 fix 2).
    pub fn ago(&self, k: u8) -> Option<&'a Assignment> {
        self.ago.iter().find(|(j, _)| *j == k).map(|(_, a)| *a)
    }
}

/// `due_at, opens_at, created_at, uuid` ascending with NULLs last (§2.5).
fn schedule_order(a: &Assignment, b: &Assignment) -> Ordering {
    fn nulls_last<T: Ord>(x: &Option<T>, y: &Option<T>) -> Ordering {
        match (x, y) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    nulls_last(&a.due_at, &b.due_at)
        .then_with(|| nulls_last(&a.opens_at, &b.opens_at))
        .then_with(|| a.created_at.cmp(&b.created_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Instructor-driven sequence numbers (ROW_NUMBER from 1) of the non-deleted
/// assignments of `of_type`'s type, ordered by due, opens, created, uuid
/// (§2.5; §5 scenario 32).
pub fn instructor_sequence_numbers(
    assignments: &[Assignment],
    of_type: &super::ecosystem::AssignmentType,
) -> Vec<(AssignmentId, u32)> {
    let mut same: Vec<&Assignment> = assignments
        .iter()
        .filter(|a| !a.is_deleted && &a.assignment_type == of_type)
        .collect();
    same.sort_by(|a, b| schedule_order(a, b));
    same.iter().zip(1u32..).map(|(a, s)| (a.id, s)).collect()
}

/// Student-driven sequence numbers (§2.5; §5 scenario 33): the non-deleted
/// assignments of the type that are in the history are ranked 1.. by
/// `student_history_at`, then due, opens, created, uuid; every other one gets
/// (number in history) + 1.
pub fn student_sequence_numbers(
    assignments: &[Assignment],
    of_type: &super::ecosystem::AssignmentType,
) -> Vec<(AssignmentId, u32)> {
    let same = assignments
        .iter()
        .filter(|a| !a.is_deleted && &a.assignment_type == of_type);
    let (mut done, pending): (Vec<&Assignment>, Vec<&Assignment>) =
        same.partition(|a| a.student_history_at.is_some());
    done.sort_by(|a, b| {
        a.student_history_at
            .cmp(&b.student_history_at)
            .then_with(|| schedule_order(a, b))
    });
    let next = done.len() as u32 + 1;
    let mut numbers: Vec<(AssignmentId, u32)> =
        done.iter().zip(1u32..).map(|(a, s)| (a.id, s)).collect();
    numbers.extend(pending.iter().map(|a| (a.id, next)));
    numbers
}

/// The instructor-driven history of `current` among the student's
/// `assignments` (S1 fix 5): only non-deleted assignments of the same type
/// opened no later than `current` (`opens_at`, else creation time) count,
/// ordered by due date with the §2.5 tiebreakers. A deleted `current` has an
/// empty history (S1 fix 2).
pub fn instructor_driven_history<'a>(
    current: &'a Assignment,
    assignments: &'a [Assignment],
) -> History<'a> {
    if current.is_deleted {
        return History::cold_start(HistoryType::InstructorDriven);
    }
    let opened = current.opened_at();
    let mut order: Vec<&Assignment> = assignments
        .iter()
        .filter(|a| {
            a.id != current.id
                && !a.is_deleted
                && a.assignment_type == current.assignment_type
                && a.opened_at() <= opened
        })
        .collect();
    order.push(current);
    order.sort_by(|a, b| schedule_order(a, b));
    let position = order.iter().position(|a| a.id == current.id).unwrap_or(0);
    History {
        history_type: HistoryType::InstructorDriven,
        sequence_number: position as u32 + 1,
        ago: k_ago_entries(&order, position),
    }
}

/// The student-driven history of `current` (§2.5): its dense rank among the
/// history entries (or "next in line" when it is not in the history yet) and
/// the history entries just before it. A deleted `current` has an empty
/// history (S1 fix 2).
pub fn student_driven_history<'a>(
    current: &'a Assignment,
    assignments: &'a [Assignment],
) -> History<'a> {
    if current.is_deleted {
        return History::cold_start(HistoryType::StudentDriven);
    }
    let mut done: Vec<&Assignment> = assignments
        .iter()
        .filter(|a| {
            a.id != current.id
                && !a.is_deleted
                && a.assignment_type == current.assignment_type
                && a.student_history_at.is_some()
        })
        .collect();
    if current.student_history_at.is_some() {
        done.push(current);
    }
    done.sort_by(|a, b| {
        a.student_history_at
            .cmp(&b.student_history_at)
            .then_with(|| schedule_order(a, b))
    });
    let position = done
        .iter()
        .position(|a| a.id == current.id)
        .unwrap_or(done.len());
    History {
        history_type: HistoryType::StudentDriven,
        sequence_number: position as u32 + 1,
        ago: k_ago_entries(&done, position),
    }
}

/// The entries at positions `position − k` for k = 1..=MAX_K_AGO.
fn k_ago_entries<'a>(order: &[&'a Assignment], position: usize) -> Vec<(u8, &'a Assignment)> {
    (1..=MAX_K_AGO)
        .filter_map(|k| {
            position
                .checked_sub(usize::from(k))
                .and_then(|i| order.get(i))
                .map(|a| (k, *a))
        })
        .collect()
}
