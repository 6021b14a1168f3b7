//! What selection needs to know about content: pools per book container and
//! the exercise groups (scheduler.md §1.3, §1.5, §2.1).

use crate::fast_hash::{FastHashMap, FastHashSet};

use serde::{Deserialize, Serialize};

use crate::ids::{BookContainerId, EcosystemId, ExerciseGroupId, ExerciseId};

/// An assignment type as Tutor sends it (`reading`, `homework`, `practice`,
/// `concept-coach`, …); pools list the types they serve (scheduler.md §2.1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssignmentType(String);

impl AssignmentType {
    /// Wraps a type name exactly as sent.
    pub fn new(name: impl Into<String>) -> Self {
        AssignmentType(name.into())
    }

    /// The `practice` type, whose pools practice worst areas use (scheduler.md §2.7).
    pub fn practice() -> Self {
        AssignmentType::new("practice")
    }

    /// The type name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One exercise pool of a book container (scheduler.md §1.3 ExercisePool).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExercisePool {
    /// The container the pool belongs to.
    pub book_container: BookContainerId,
    /// Whether the pool feeds CLUEs.
    pub use_for_clue: bool,
    /// The assignment types whose personalized exercises come from this pool.
    pub assignment_types: Vec<AssignmentType>,
    /// The pool's exercises.
    pub exercises: Vec<ExerciseId>,
}

/// One ecosystem's pools, indexed for selection.
///
/// Book-container ids are globally unique (scheduler.md §1.5), so pools are
/// looked up by container alone.
#[derive(Debug, Clone, Default)]
pub struct EcosystemView {
    id: Option<EcosystemId>,
    personalized: FastHashMap<(AssignmentType, BookContainerId), Vec<ExerciseId>>,
    clue: FastHashMap<BookContainerId, Vec<ExerciseId>>,
    containers_of: FastHashMap<ExerciseId, Vec<BookContainerId>>,
    exercises: Vec<ExerciseId>,
}

impl EcosystemView {
    /// Indexes the pools of ecosystem `id`. Exercise lists are concatenated per
    /// (assignment type, container) in pool order, as `exercise_uuids_map` of
    /// scheduler.md §2.1.
    pub fn new(id: EcosystemId, pools: &[ExercisePool]) -> Self {
        let mut view = EcosystemView {
            id: Some(id),
            ..EcosystemView::default()
        };
        let mut seen = FastHashSet::default();
        for pool in pools {
            for assignment_type in &pool.assignment_types {
                view.personalized
                    .entry((assignment_type.clone(), pool.book_container))
                    .or_default()
                    .extend(pool.exercises.iter().copied());
            }
            if pool.use_for_clue {
                view.clue
                    .entry(pool.book_container)
                    .or_default()
                    .extend(pool.exercises.iter().copied());
            }
            for exercise in &pool.exercises {
                let containers = view.containers_of.entry(*exercise).or_default();
                if !containers.contains(&pool.book_container) {
                    containers.push(pool.book_container);
                }
                if seen.insert(*exercise) {
                    view.exercises.push(*exercise);
                }
            }
        }
        view
    }

    /// The ecosystem id (`None` only for [`EcosystemView::default`]).
    pub fn id(&self) -> Option<EcosystemId> {
        self.id
    }

    /// The personalized pool of `book_container` for `assignment_type` (empty
    /// when there is none).
    pub fn pool(
        &self,
        assignment_type: &AssignmentType,
        book_container: BookContainerId,
    ) -> &[ExerciseId] {
        self.personalized
            .get(&(assignment_type.clone(), book_container))
            .map_or(&[], Vec::as_slice)
    }

    /// The union of the `use_for_clue` pools of `book_container`.
    pub fn clue_pool(&self, book_container: BookContainerId) -> &[ExerciseId] {
        self.clue.get(&book_container).map_or(&[], Vec::as_slice)
    }

    /// The containers whose pools list `exercise` (EcosystemExercise, §1.3).
    pub fn book_containers_of(&self, exercise: ExerciseId) -> &[BookContainerId] {
        self.containers_of.get(&exercise).map_or(&[], Vec::as_slice)
    }

    /// Every exercise of the ecosystem, de-duplicated, in first-seen order.
    pub fn exercises(&self) -> &[ExerciseId] {
        &self.exercises
    }
}

/// Every exercise version known to the scheduler with its group (the Exercise
/// table of scheduler.md §1.5), across ecosystems.
#[derive(Debug, Clone, Default)]
pub struct ExerciseCatalog {
    group_of: FastHashMap<ExerciseId, ExerciseGroupId>,
    members: FastHashMap<ExerciseGroupId, Vec<ExerciseId>>,
}

impl ExerciseCatalog {
    /// Builds the catalog from (exercise, group) pairs; a repeated exercise keeps
    /// its first group (insert-or-ignore, as §1.3).
    pub fn new(exercises: impl IntoIterator<Item = (ExerciseId, ExerciseGroupId)>) -> Self {
        let mut catalog = ExerciseCatalog::default();
        for (exercise, group) in exercises {
            if let std::collections::hash_map::Entry::Vacant(entry) =
                catalog.group_of.entry(exercise)
            {
                entry.insert(group);
                catalog.members.entry(group).or_default().push(exercise);
            }
        }
        catalog
    }

    /// The group of `exercise`, if known.
    pub fn group_of(&self, exercise: ExerciseId) -> Option<ExerciseGroupId> {
        self.group_of.get(&exercise).copied()
    }

    /// Every known version of `group`.
    pub fn members(&self, group: ExerciseGroupId) -> &[ExerciseId] {
        self.members.get(&group).map_or(&[], Vec::as_slice)
    }

    /// Every known version of the group of `exercise`, or just `exercise` when
    /// its group is unknown.
    pub fn all_versions(&self, exercise: ExerciseId) -> Vec<ExerciseId> {
        match self.group_of(exercise) {
            Some(group) => self.members(group).to_vec(),
            None => vec![exercise],
        }
    }
}
