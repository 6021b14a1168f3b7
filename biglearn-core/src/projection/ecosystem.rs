//! [`EcosystemState`]: one ecosystem as imported from its `create_ecosystem`
//! event (scheduler.md §1.3, §1.5; S1 fix 12).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::problems::{Issues, Problem, ProblemKind, Problems};
use crate::events::{CreateEcosystem, Datetime, TypedEvent};
use crate::ids::{BookContainerId, EcosystemId, ExerciseGroupId, ExerciseId};
use crate::log::{Event, EventType, SequenceNumber, StreamId};
use crate::scheduler::{
    seed_from_ids, AssignmentType, EcosystemView, ExerciseCatalog, ExercisePool,
};

/// The id of one exercise pool, derived from (ecosystem, container, pool
/// index) so that a re-import yields the same ids (S2, S1 fix 12).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExercisePoolId(Uuid);

impl ExercisePoolId {
    /// The underlying uuid.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Debug for ExercisePoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExercisePoolId({})", self.0.hyphenated())
    }
}

/// The deterministic id of pool number `index` (0-based, in the order the
/// book lists the container's pools) of `book_container` in `ecosystem`.
///
/// ```
/// use biglearn_core::ids::{BookContainerId, EcosystemId};
/// use biglearn_core::projection::exercise_pool_id;
/// let eco = EcosystemId::from_uuid(uuid::Uuid::from_u128(1));
/// let bc = BookContainerId::from_uuid(uuid::Uuid::from_u128(2));
/// assert_eq!(exercise_pool_id(eco, bc, 0), exercise_pool_id(eco, bc, 0));
/// assert_ne!(exercise_pool_id(eco, bc, 0), exercise_pool_id(eco, bc, 1));
/// ```
pub fn exercise_pool_id(
    ecosystem: EcosystemId,
    book_container: BookContainerId,
    index: u32,
) -> ExercisePoolId {
    let seed = seed_from_ids(
        "biglearn.projection.exercise_pool",
        &[
            ecosystem.into(),
            book_container.into(),
            Uuid::from_u128(u128::from(index)),
        ],
    );
    ExercisePoolId(seed.uuid())
}

/// One book container (book, unit, chapter or page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookContainerNode {
    /// Its parent container; `None` for a top-level container.
    pub parent: Option<BookContainerId>,
    /// Its children, in book order.
    pub children: Vec<BookContainerId>,
    /// Its CNX identity, verbatim, when sent.
    pub cnx_identity: Option<String>,
    /// Its position in `book.contents`.
    pub position: u32,
}

impl BookContainerNode {
    /// A page is a leaf of the book tree.
    pub fn is_page(&self) -> bool {
        self.children.is_empty()
    }
}

/// One exercise pool of a container (the ExercisePool table, §1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolEntry {
    /// Deterministic id ([`exercise_pool_id`]).
    pub id: ExercisePoolId,
    /// The container.
    pub book_container: BookContainerId,
    /// The pool's index among the container's pools.
    pub index: u32,
    /// `use_for_clue`.
    pub use_for_clue: bool,
    /// `use_for_personalized_for_assignment_types`.
    pub assignment_types: Vec<String>,
    /// The pool's exercises, in the order sent.
    pub exercises: Vec<ExerciseId>,
}

/// One exercise version of the ecosystem (Exercise + EcosystemExercise, §1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseEntry {
    /// Its group (the version-less exercise).
    pub group: ExerciseGroupId,
    /// Its version.
    pub version: u64,
    /// Its learning objectives.
    pub los: Vec<String>,
    /// The containers whose pools list it (any pool).
    pub book_containers: Vec<BookContainerId>,
}

/// One ecosystem: book tree, pools and exercises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcosystemState {
    /// The ecosystem.
    pub id: EcosystemId,
    /// Whether its create_ecosystem has been applied.
    pub imported: bool,
    /// When Tutor imported it.
    pub imported_at: Option<Datetime>,
    /// The book's CNX identity, verbatim.
    pub book_cnx_identity: Option<String>,
    /// Every container by id.
    pub containers: BTreeMap<BookContainerId, BookContainerNode>,
    /// The containers in book order.
    pub container_order: Vec<BookContainerId>,
    /// Every pool, in book order.
    pub pools: Vec<PoolEntry>,
    /// Every exercise by id.
    pub exercises: BTreeMap<ExerciseId, ExerciseEntry>,
    /// The exercises in the order of `exercises` (`ecosystem.exercise_uuids`).
    pub exercise_order: Vec<ExerciseId>,
    /// Problems of the applied create_ecosystem (or of skipped events).
    pub problems: Problems,
    /// Lookups built from the above once and shared (not part of its value).
    #[serde(skip)]
    derived: Derived,
}

/// The scheduler's view and catalog of an ecosystem, built on first use and
/// shared by every course calculation until the next [`EcosystemState::apply`].
/// Not part of the state's value: equality ignores it.
#[derive(Debug, Clone, Default)]
struct Derived {
    view: OnceLock<Arc<EcosystemView>>,
    catalog: OnceLock<Arc<ExerciseCatalog>>,
}

impl PartialEq for Derived {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Derived {}

impl EcosystemState {
    /// An ecosystem whose create_ecosystem has not been applied yet.
    pub fn new(id: EcosystemId) -> Self {
        EcosystemState {
            id,
            imported: false,
            imported_at: None,
            book_cnx_identity: None,
            containers: BTreeMap::new(),
            container_order: Vec::new(),
            pools: Vec::new(),
            exercises: BTreeMap::new(),
            exercise_order: Vec::new(),
            problems: Problems::default(),
            derived: Derived::default(),
        }
    }

    /// The state built from one create_ecosystem body. Bad parts (duplicate
    /// exercises or containers, unknown parents, pool exercises missing from
    /// `exercises`) are recorded as problems; everything else is kept.
    pub fn from_create(body: &CreateEcosystem) -> Self {
        let mut state = EcosystemState::new(body.ecosystem_uuid);
        let mut issues = Issues::new();
        state.imported = true;
        state.imported_at = Some(body.imported_at.clone());
        state.book_cnx_identity = Some(body.book.cnx_identity.as_str().to_owned());
        let root_ids: [Uuid; 2] = [
            *body.ecosystem_uuid.as_uuid(),
            body.book.cnx_identity.uuid(),
        ];
        for (position, container) in (0u32..).zip(&body.book.contents) {
            let id = container.container_uuid;
            if state.containers.contains_key(&id) {
                issues.push((
                    ProblemKind::Duplicate,
                    format!("book container {id} is listed twice; its pools are merged"),
                ));
                continue;
            }
            state.containers.insert(
                id,
                BookContainerNode {
                    parent: None,
                    children: Vec::new(),
                    cnx_identity: container
                        .container_cnx_identity
                        .as_option()
                        .map(|c| c.as_str().to_owned()),
                    position,
                },
            );
            state.container_order.push(id);
        }
        let mut parents = BTreeMap::new();
        for container in &body.book.contents {
            let id = container.container_uuid;
            if parents.contains_key(&id) {
                continue;
            }
            let parent = match container.container_parent_uuid {
                None => None,
                Some(uuid) if root_ids.contains(&uuid) => None,
                Some(uuid) => {
                    let parent = BookContainerId::from_uuid(uuid);
                    if parent != id && state.containers.contains_key(&parent) {
                        Some(parent)
                    } else {
                        issues.push((
                            ProblemKind::UnknownBookContainerParent,
                            format!(
                                "book container {id} names parent {uuid}, which is not a \
                                 container of the book; it is treated as top-level"
                            ),
                        ));
                        None
                    }
                }
            };
            parents.insert(id, parent);
        }
        for id in state.container_order.clone() {
            let parent = parents.get(&id).copied().flatten();
            if let Some(parent) = parent {
                if let Some(node) = state.containers.get_mut(&parent) {
                    node.children.push(id);
                }
            }
            if let Some(node) = state.containers.get_mut(&id) {
                node.parent = parent;
            }
        }
        for exercise in &body.exercises {
            let id = exercise.exercise_uuid;
            if state.exercises.contains_key(&id) {
                issues.push((
                    ProblemKind::Duplicate,
                    format!("exercise {id} is listed twice; the first entry is kept"),
                ));
                continue;
            }
            state.exercises.insert(
                id,
                ExerciseEntry {
                    group: exercise.group_uuid,
                    version: exercise.version,
                    los: exercise.los.clone(),
                    book_containers: Vec::new(),
                },
            );
            state.exercise_order.push(id);
        }
        let mut pool_counts: BTreeMap<BookContainerId, u32> = BTreeMap::new();
        let mut unknown: BTreeSet<ExerciseId> = BTreeSet::new();
        for container in &body.book.contents {
            let bc = container.container_uuid;
            for pool in &container.pools {
                let index = pool_counts.entry(bc).or_insert(0);
                for exercise in &pool.exercise_uuids {
                    match state.exercises.get_mut(exercise) {
                        Some(entry) if !entry.book_containers.contains(&bc) => {
                            entry.book_containers.push(bc)
                        }
                        Some(_) => {}
                        None => {
                            unknown.insert(*exercise);
                        }
                    }
                }
                state.pools.push(PoolEntry {
                    id: exercise_pool_id(state.id, bc, *index),
                    book_container: bc,
                    index: *index,
                    use_for_clue: pool.use_for_clue,
                    assignment_types: pool.use_for_personalized_for_assignment_types.clone(),
                    exercises: pool.exercise_uuids.clone(),
                });
                *index += 1;
            }
        }
        for exercise in unknown {
            issues.push((
                ProblemKind::UnknownPoolExercise,
                format!("a pool lists exercise {exercise}, which is not in `exercises`"),
            ));
        }
        state
            .problems
            .record(SequenceNumber::ZERO, EventType::CreateEcosystem, issues);
        state
    }

    /// Applies one stored event of this ecosystem's stream and returns whether
    /// the state was (re)built. A create_ecosystem replaces the whole state
    /// (the last one wins, §1.3), so re-applying it is idempotent; no_op
    /// events change nothing; an unreadable event or one of another stream is
    /// recorded as a problem and skipped.
    pub fn apply(&mut self, event: &Event) -> bool {
        self.derived = Derived::default();
        if event.stream != StreamId::Ecosystem(self.id) {
            let problem = Problem::wrong_stream(event, format!("ecosystem {}", self.id));
            self.problems.push(problem);
            return false;
        }
        match TypedEvent::from_event(event) {
            Ok(TypedEvent::CreateEcosystem(body)) => {
                let rebuilt = EcosystemState::from_create(&body);
                let changed = rebuilt != *self;
                *self = rebuilt;
                changed
            }
            Ok(_) => false,
            Err(error) => {
                self.problems.push(Problem {
                    sequence_number: event.sequence_number,
                    event_type: event.event_type,
                    kind: ProblemKind::UnreadableEvent,
                    message: error.to_string(),
                });
                false
            }
        }
    }

    /// Whether `exercise` is an exercise of this ecosystem.
    pub fn contains_exercise(&self, exercise: ExerciseId) -> bool {
        self.exercises.contains_key(&exercise)
    }

    /// Whether `book_container` is a container of this ecosystem.
    pub fn contains_book_container(&self, book_container: BookContainerId) -> bool {
        self.containers.contains_key(&book_container)
    }

    /// The group of `exercise`, if it is an exercise of this ecosystem.
    pub fn group_of(&self, exercise: ExerciseId) -> Option<ExerciseGroupId> {
        self.exercises.get(&exercise).map(|e| e.group)
    }

    /// The pages (leaf containers), in book order.
    pub fn pages(&self) -> Vec<BookContainerId> {
        self.container_order
            .iter()
            .filter(|bc| self.containers.get(bc).is_some_and(|n| n.is_page()))
            .copied()
            .collect()
    }

    /// Every exercise group of the ecosystem (ExerciseGroup rows, §1.3).
    pub fn groups(&self) -> BTreeSet<ExerciseGroupId> {
        self.exercises.values().map(|e| e.group).collect()
    }

    /// The pools as the scheduler's [`ExercisePool`]s, in book order.
    pub fn scheduler_pools(&self) -> Vec<ExercisePool> {
        self.pools
            .iter()
            .map(|pool| ExercisePool {
                book_container: pool.book_container,
                use_for_clue: pool.use_for_clue,
                assignment_types: pool
                    .assignment_types
                    .iter()
                    .map(|t| AssignmentType::new(t.as_str()))
                    .collect(),
                exercises: pool.exercises.clone(),
            })
            .collect()
    }

    /// The scheduler's indexed view of the pools (§2.1).
    pub fn view(&self) -> EcosystemView {
        EcosystemView::new(self.id, &self.scheduler_pools())
    }

    /// [`EcosystemState::view`], built once and shared (the state must
    /// change only through [`EcosystemState::apply`], which rebuilds it).
    pub fn shared_view(&self) -> Arc<EcosystemView> {
        self.derived
            .view
            .get_or_init(|| Arc::new(self.view()))
            .clone()
    }

    /// [`EcosystemState::catalog`], built once and shared like
    /// [`EcosystemState::shared_view`].
    pub fn shared_catalog(&self) -> Arc<ExerciseCatalog> {
        self.derived
            .catalog
            .get_or_init(|| Arc::new(self.catalog()))
            .clone()
    }

    /// (exercise, group) pairs, in `exercises` order, for [`ExerciseCatalog`].
    pub fn exercise_groups(&self) -> impl Iterator<Item = (ExerciseId, ExerciseGroupId)> + '_ {
        self.exercise_order
            .iter()
            .filter_map(|id| self.exercises.get(id).map(|e| (*id, e.group)))
    }

    /// The scheduler's exercise catalog of this ecosystem alone.
    pub fn catalog(&self) -> ExerciseCatalog {
        ExerciseCatalog::new(self.exercise_groups())
    }
}

/// Read-only access to the ecosystems a course refers to; course events are
/// checked against it (exercise and container lookups).
pub trait EcosystemCatalog {
    /// The ecosystem `id`, if it has been imported.
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState>;
}

impl EcosystemCatalog for BTreeMap<EcosystemId, EcosystemState> {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.get(&id)
    }
}

impl EcosystemCatalog for HashMap<EcosystemId, EcosystemState> {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.get(&id)
    }
}

impl EcosystemCatalog for [EcosystemState] {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.iter().find(|e| e.id == id)
    }
}

impl EcosystemCatalog for Vec<EcosystemState> {
    fn ecosystem(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.as_slice().ecosystem(id)
    }
}

/// Records an [`ProblemKind::UnknownEcosystem`] when `ecosystem` is missing.
pub(crate) fn check_ecosystem(
    catalog: &impl EcosystemCatalog,
    ecosystem: EcosystemId,
    role: &str,
    issues: &mut Issues,
) -> bool {
    let known = catalog.ecosystem(ecosystem).is_some_and(|e| e.imported);
    if !known {
        issues.push((
            ProblemKind::UnknownEcosystem,
            format!("{role} ecosystem {ecosystem} has not been imported"),
        ));
    }
    known
}
