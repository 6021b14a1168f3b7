//! Book-container mappings between ecosystems (scheduler.md §1.4
//! `prepare_course_ecosystem`, §2.10).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{BookContainerId, EcosystemId};

/// One stored mapping: `from_bc` of `from_eco` corresponds to `to_bc` of `to_eco`.
/// Course states store it as it is (a map of these four fields, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BookContainerMapping {
    /// The ecosystem mapped from.
    pub from_ecosystem: EcosystemId,
    /// The container mapped from.
    pub from_book_container: BookContainerId,
    /// The ecosystem mapped to.
    pub to_ecosystem: EcosystemId,
    /// The container mapped to.
    pub to_book_container: BookContainerId,
}

/// Every known mapping, keyed like the BookContainerMapping table:
/// (from_bc, from_eco, to_eco) → to_bc, insert-or-ignore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookContainerMappings {
    by_key: BTreeMap<(EcosystemId, EcosystemId, BookContainerId), BookContainerId>,
}

impl BookContainerMappings {
    /// No mappings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts one mapping unless its (from_bc, from_eco, to_eco) key exists;
    /// returns whether it was inserted.
    pub fn insert(&mut self, mapping: BookContainerMapping) -> bool {
        let key = (
            mapping.from_ecosystem,
            mapping.to_ecosystem,
            mapping.from_book_container,
        );
        if self.by_key.contains_key(&key) {
            return false;
        }
        self.by_key.insert(key, mapping.to_book_container);
        true
    }

    /// Applies a `prepare_course_ecosystem` event's bc mappings (scheduler.md
    /// §1.4): the forward mappings, one-hop chains each way (never onto the same
    /// ecosystem), then reverses of the forward and chain mappings whose
    /// (from_eco, to_eco, to_bc) group has exactly one member. Returns how many
    /// mappings were inserted.
    pub fn apply_preparation(
        &mut self,
        from_ecosystem: EcosystemId,
        to_ecosystem: EcosystemId,
        forward: &[(BookContainerId, BookContainerId)],
    ) -> usize {
        let before = self.by_key.len();
        let existing: Vec<BookContainerMapping> = self.iter().collect();
        let mut derived = Vec::new();
        for &(from_bc, to_bc) in forward {
            derived.push(BookContainerMapping {
                from_ecosystem,
                from_book_container: from_bc,
                to_ecosystem,
                to_book_container: to_bc,
            });
            for old in &existing {
                // X → from  gives  X → to.
                if old.to_ecosystem == from_ecosystem
                    && old.to_book_container == from_bc
                    && old.from_ecosystem != to_ecosystem
                {
                    derived.push(BookContainerMapping {
                        to_ecosystem,
                        to_book_container: to_bc,
                        ..*old
                    });
                }
                // to → Y  gives  from → Y.
                if old.from_ecosystem == to_ecosystem
                    && old.from_book_container == to_bc
                    && old.to_ecosystem != from_ecosystem
                {
                    derived.push(BookContainerMapping {
                        from_ecosystem,
                        from_book_container: from_bc,
                        ..*old
                    });
                }
            }
        }
        for mapping in &derived {
            self.insert(*mapping);
        }
        for mapping in &derived {
            let group = self
                .iter()
                .filter(|m| {
                    m.from_ecosystem == mapping.from_ecosystem
                        && m.to_ecosystem == mapping.to_ecosystem
                        && m.to_book_container == mapping.to_book_container
                })
                .count();
            if group == 1 {
                self.insert(BookContainerMapping {
                    from_ecosystem: mapping.to_ecosystem,
                    from_book_container: mapping.to_book_container,
                    to_ecosystem: mapping.from_ecosystem,
                    to_book_container: mapping.from_book_container,
                });
            }
        }
        self.by_key.len() - before
    }

    /// The container of `to_ecosystem` that `book_container` of `from_ecosystem`
    /// maps to; the container itself when both ecosystems are the same.
    pub fn forward(
        &self,
        from_ecosystem: EcosystemId,
        book_container: BookContainerId,
        to_ecosystem: EcosystemId,
    ) -> Option<BookContainerId> {
        if from_ecosystem == to_ecosystem {
            return Some(book_container);
        }
        self.by_key
            .get(&(from_ecosystem, to_ecosystem, book_container))
            .copied()
    }

    /// Every container, of any ecosystem, that maps to `book_container` of
    /// `to_ecosystem` (the reverse lookup of CLUE pools, scheduler.md §3.1).
    pub fn sources_of(
        &self,
        to_ecosystem: EcosystemId,
        book_container: BookContainerId,
    ) -> Vec<BookContainerId> {
        let mut sources: Vec<BookContainerId> = self
            .iter()
            .filter(|m| m.to_ecosystem == to_ecosystem && m.to_book_container == book_container)
            .map(|m| m.from_book_container)
            .collect();
        sources.sort_unstable();
        sources.dedup();
        sources
    }

    /// Number of stored mappings.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no mapping is stored.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Every mapping, in key order.
    pub fn iter(&self) -> impl Iterator<Item = BookContainerMapping> + '_ {
        self.by_key.iter().map(
            |(&(from_eco, to_eco, from_bc), &to_bc)| BookContainerMapping {
                from_ecosystem: from_eco,
                from_book_container: from_bc,
                to_ecosystem: to_eco,
                to_book_container: to_bc,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Course states hold mappings as they were stored before this type had
    /// serde: a map with the four fields in this order, in JSON and CBOR.
    #[test]
    fn a_mapping_is_stored_as_its_four_named_fields() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let mapping = BookContainerMapping {
            from_ecosystem: EcosystemId::from_uuid(id(1)),
            from_book_container: BookContainerId::from_uuid(id(2)),
            to_ecosystem: EcosystemId::from_uuid(id(3)),
            to_book_container: BookContainerId::from_uuid(id(4)),
        };
        let json = serde_json::to_string(&mapping).expect("encodes");
        assert_eq!(
            json,
            concat!(
                r#"{"from_ecosystem":"00000000-0000-0000-0000-000000000001","#,
                r#""from_book_container":"00000000-0000-0000-0000-000000000002","#,
                r#""to_ecosystem":"00000000-0000-0000-0000-000000000003","#,
                r#""to_book_container":"00000000-0000-0000-0000-000000000004"}"#
            )
        );
        let mut cbor = Vec::new();
        ciborium::ser::into_writer(&mapping, &mut cbor).expect("encodes");
        // A map of four entries whose first key is the text "from_ecosystem".
        assert_eq!(&cbor[..16], b"\xA4\x6Efrom_ecosystem");
        let back: BookContainerMapping = ciborium::de::from_reader(&cbor[..]).expect("decodes");
        assert_eq!(back, mapping);
    }
}
