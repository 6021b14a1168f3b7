//! Which assignments, students, course containers and book containers
//! exist, and the course (or ecosystem) each belongs to: a thin reader over
//! the store's id registry ([`biglearn_core::log::registry`]).
//!
//! The read endpoints need this for their statuses (`assignment_unknown` vs
//! `assignment_unready`, `book_container_unknown`, …, api.md §5.7, §5.9) and
//! to know which courses a read touches (its `Biglearn-Lag-Events`, A6b).
//!
//! The store writes the registry in the same transaction as the events that
//! introduce the ids, so nothing is loaded at start, every process sharing
//! the database (several servers on one PostgreSQL) sees the same owners,
//! and a read issued after a write sees what the write stored: the write is
//! answered only after its commit, and every lookup that misses the cache
//! reads the store.
//!
//! The cache holds found owners only: an owner never changes once stored
//! (the first stored event naming an id decides it, and the rows are
//! immutable), so a cached owner is never stale, while an unknown id is
//! asked again next time (another process may have written it since). It
//! is bounded: two generations of at most [`CACHE_ENTRIES`] entries each;
//! when the newer one fills up the older one is dropped, so ids read
//! recently stay cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use biglearn_core::ids::CourseId;
use biglearn_core::log::{IdKind, IdOwners, IdQuery, IdRegistry, StoreError};
use uuid::Uuid;

/// Entries per cache generation (two generations at most).
pub const CACHE_ENTRIES: usize = 100_000;

/// Courses per `known_courses` page.
const COURSE_PAGE: usize = 1000;

/// Two generations of found owners.
#[derive(Debug, Default)]
struct Cache {
    current: HashMap<(IdKind, Uuid), Uuid>,
    previous: HashMap<(IdKind, Uuid), Uuid>,
}

impl Cache {
    fn get(&mut self, key: (IdKind, Uuid)) -> Option<Uuid> {
        if let Some(owner) = self.current.get(&key) {
            return Some(*owner);
        }
        let owner = self.previous.remove(&key)?;
        self.insert(key, owner);
        Some(owner)
    }

    fn insert(&mut self, key: (IdKind, Uuid), owner: Uuid) {
        if self.current.len() >= CACHE_ENTRIES {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, owner);
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// The id lookups of the read endpoints (see the module docs). Shared by
/// every request.
#[derive(Debug)]
pub struct Registry<S> {
    store: Arc<S>,
    cache: Mutex<Cache>,
}

impl<S: IdRegistry> Registry<S> {
    /// A reader over `store`'s registry. Reads nothing.
    pub fn new(store: Arc<S>) -> Self {
        Registry {
            store,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The owners of the known ids among `query`: cached owners, and one
    /// store lookup for the rest.
    pub fn owners(&self, query: &IdQuery) -> Result<IdOwners, StoreError> {
        let mut owners = IdOwners::default();
        let mut missing = IdQuery::default();
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            for (kind, id) in query.keys() {
                match cache.get((kind, id)) {
                    Some(owner) => owners.insert(kind, id, owner),
                    None => push(&mut missing, kind, id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(owners);
        }
        let found = self.store.id_owners(&missing)?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        for (kind, id) in missing.keys() {
            if let Some(owner) = owner_of(&found, kind, id) {
                cache.insert((kind, id), owner);
                owners.insert(kind, id, owner);
            }
        }
        Ok(owners)
    }

    /// Every course with a stored event (for per-course metrics), ascending.
    pub fn courses(&self) -> Result<Vec<CourseId>, StoreError> {
        let mut courses: Vec<CourseId> = Vec::new();
        loop {
            let page = self
                .store
                .known_courses(courses.last().copied(), COURSE_PAGE)?;
            let full = page.len() == COURSE_PAGE;
            courses.extend(page);
            if !full {
                return Ok(courses);
            }
        }
    }

    /// How many owners are cached (at most twice [`CACHE_ENTRIES`]).
    pub fn cached(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Adds `id` of `kind` to `query`.
fn push(query: &mut IdQuery, kind: IdKind, id: Uuid) {
    match kind {
        IdKind::Student => query.students.push(id.into()),
        IdKind::Assignment => query.assignments.push(id.into()),
        IdKind::CourseContainer => query.course_containers.push(id.into()),
        IdKind::BookContainer => query.book_containers.push(id.into()),
    }
}

/// The owner of `id` of `kind` in `owners`, as a uuid.
fn owner_of(owners: &IdOwners, kind: IdKind, id: Uuid) -> Option<Uuid> {
    match kind {
        IdKind::Student => owners.students.get(&id.into()).map(|c| *c.as_uuid()),
        IdKind::Assignment => owners.assignments.get(&id.into()).map(|c| *c.as_uuid()),
        IdKind::CourseContainer => owners
            .course_containers
            .get(&id.into())
            .map(|c| *c.as_uuid()),
        IdKind::BookContainer => owners.book_containers.get(&id.into()).map(|e| *e.as_uuid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use biglearn_core::ids::CourseContainerId;
    use biglearn_core::log::EventLog;
    use biglearn_core::memory::MemoryStore;
    use biglearn_core::testing::fixtures::{course, course_id, request};
    use biglearn_core::testing::{roster_event, student};

    #[test]
    fn found_owners_are_cached_and_unknown_ids_asked_again() {
        let store = Arc::new(MemoryStore::new());
        let registry = Registry::new(Arc::clone(&store));
        let query = IdQuery {
            students: vec![student(20), student(21)],
            ..IdQuery::default()
        };
        assert!(registry.owners(&query).expect("lookup").is_empty());
        assert_eq!(registry.cached(), 0);
        store
            .append(&request(vec![roster_event(course(1), 0, 100, &[], &[20])]))
            .expect("append");
        let owners = registry.owners(&query).expect("lookup");
        assert_eq!(owners.students.get(&student(20)), Some(&course_id(1)));
        assert_eq!(owners.len(), 1);
        assert_eq!(registry.cached(), 1);
        store
            .append(&request(vec![roster_event(course(2), 0, 200, &[], &[21])]))
            .expect("append");
        let owners = registry.owners(&query).expect("lookup");
        assert_eq!(owners.students.get(&student(21)), Some(&course_id(2)));
        assert_eq!(registry.cached(), 2);
        let container = IdQuery {
            course_containers: vec![CourseContainerId::from_uuid(*student(20).as_uuid())],
            ..IdQuery::default()
        };
        assert!(registry.owners(&container).expect("lookup").is_empty());
        assert_eq!(
            registry.courses().expect("courses"),
            vec![course_id(1), course_id(2)]
        );
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_recent_entries() {
        let mut cache = Cache::default();
        let key = |n: u128| (IdKind::Student, Uuid::from_u128(n));
        for n in 0..(2 * CACHE_ENTRIES as u128 + 10) {
            cache.insert(key(n), Uuid::from_u128(1));
            if n % 1000 == 0 {
                // Read the first id now and then: it stays cached.
                assert_eq!(cache.get(key(0)), Some(Uuid::from_u128(1)));
            }
        }
        assert!(cache.len() <= 2 * CACHE_ENTRIES, "{}", cache.len());
        assert_eq!(cache.get(key(0)), Some(Uuid::from_u128(1)));
        assert_eq!(cache.get(key(1)), None, "an old, unread id is dropped");
    }
}
