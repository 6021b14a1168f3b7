//! Shared fixtures of the scheduler tests.
#![allow(dead_code)]

use biglearn_core::ids::{
    AssignmentId, BookContainerId, EcosystemId, ExerciseGroupId, ExerciseId, TrialId,
};
use biglearn_core::scheduler::{AssignedExercise, Assignment, AssignmentType, ExercisePool};
use biglearn_core::time::Instant;
use uuid::Uuid;

/// Ids of each kind live in their own numeric range so fixtures read clearly.
pub fn ex(n: u128) -> ExerciseId {
    ExerciseId::from_uuid(Uuid::from_u128(0x1000_0000 + n))
}
pub fn grp(n: u128) -> ExerciseGroupId {
    ExerciseGroupId::from_uuid(Uuid::from_u128(0x2000_0000 + n))
}
pub fn bc(n: u128) -> BookContainerId {
    BookContainerId::from_uuid(Uuid::from_u128(0x3000_0000 + n))
}
pub fn eco(n: u128) -> EcosystemId {
    EcosystemId::from_uuid(Uuid::from_u128(0x4000_0000 + n))
}
pub fn asg(n: u128) -> AssignmentId {
    AssignmentId::from_uuid(Uuid::from_u128(0x5000_0000 + n))
}
pub fn trial(n: u128) -> TrialId {
    TrialId::from_uuid(Uuid::from_u128(0x6000_0000 + n))
}

/// Day `d` as an instant.
pub fn day(d: i64) -> Instant {
    Instant::from_micros(d * 86_400_000_000)
}

pub fn reading() -> AssignmentType {
    AssignmentType::new("reading")
}
pub fn homework() -> AssignmentType {
    AssignmentType::new("homework")
}

/// Exercises `from..from+count`.
pub fn exercises(from: u128, count: u128) -> Vec<ExerciseId> {
    (from..from + count).map(ex).collect()
}

/// A personalized pool for one assignment type.
pub fn pool(
    book_container: u128,
    kind: &AssignmentType,
    exercises: Vec<ExerciseId>,
) -> ExercisePool {
    ExercisePool {
        book_container: bc(book_container),
        use_for_clue: false,
        assignment_types: vec![kind.clone()],
        exercises,
    }
}

/// A CLUE pool.
pub fn clue_pool(book_container: u128, exercises: Vec<ExerciseId>) -> ExercisePool {
    ExercisePool {
        book_container: bc(book_container),
        use_for_clue: true,
        assignment_types: Vec::new(),
        exercises,
    }
}

/// A past-due assignment (opened day `n`, due day `n + 1`, feedback with due)
/// with the given core exercises and no goals (NULL).
pub fn assignment(
    n: u128,
    ecosystem: EcosystemId,
    kind: &AssignmentType,
    bcs: &[u128],
    core: &[ExerciseId],
) -> Assignment {
    let opened = day(n as i64);
    Assignment {
        id: asg(n),
        ecosystem,
        assignment_type: kind.clone(),
        created_at: opened,
        opens_at: Some(opened),
        due_at: Some(day(n as i64 + 1)),
        feedback_at: None,
        book_containers: bcs.iter().map(|b| bc(*b)).collect(),
        exercises: core
            .iter()
            .zip(0u128..)
            .map(|(e, i)| AssignedExercise {
                trial: trial(n * 1000 + i),
                exercise: *e,
                is_pe: false,
                is_spe: false,
            })
            .collect(),
        goal_num_pes: None,
        goal_num_spes: None,
        pes_are_assigned: false,
        spes_are_assigned: false,
        is_deleted: false,
        student_history_at: None,
    }
}
