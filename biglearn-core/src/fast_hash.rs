//! Hash maps and sets for the engine's hot paths.
//!
//! The keys there are ids (uuids) and small tuples of them, hashed millions
//! of times per simulated semester; std's SipHash showed as 5–8 % of a
//! profile. foldhash is several times faster and still seeded per map, so
//! crafted ids cannot be aimed at one bucket. Nothing iterates these maps
//! into a result, so their order never reaches a client.

/// A [`std::collections::HashMap`] with the fast, per-map seeded foldhash.
pub type FastHashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A [`std::collections::HashSet`] with the fast, per-map seeded foldhash.
pub type FastHashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
