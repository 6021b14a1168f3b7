//! Reproducible randomness (decision S2): seeds derived from stable ids.
//!
//! [`seed_from_ids`] hashes a domain label and a list of uuids into a 32-byte
//! [`Seed`] with an explicit, platform-independent byte-level hash (not std's
//! `DefaultHasher`, whose output may change between Rust releases). The seed
//! drives a ChaCha20 stream ([`Seed::rng`]); [`shuffle`] is a Fisher–Yates
//! shuffle over our own bounded draw, so the permutation for a seed depends
//! only on this file and the ChaCha20 stream, on every target (wasm32 included).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use uuid::Uuid;

use super::history::HistoryType;
use crate::ids::{AssignmentId, CalculationId};

/// A 256-bit seed for [`ChaCha20Rng`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed([u8; 32]);

impl Seed {
    /// Wraps raw seed bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// The raw seed bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A fresh ChaCha20 generator positioned at the start of this seed's stream.
    pub fn rng(&self) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(self.0)
    }

    /// A seed derived from this one for a named sub-purpose (e.g. one shuffle
    /// among several of the same calculation).
    pub fn derive(&self, label: &str) -> Seed {
        let mut hasher = StableHasher::new("biglearn.seed.derive");
        hasher.write_bytes(&self.0);
        hasher.write_bytes(label.as_bytes());
        hasher.finish()
    }

    /// A uuid (version 4 layout) drawn from this seed, for generated ids such as
    /// local_query's `ecosystem_matrix_uuid` (scheduler.md §2.3, S2).
    pub fn uuid(&self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.derive("uuid").rng().fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// The seed of a calculation identified by `domain` (what is computed, e.g.
/// `"pe"` or `"local_query.order"`) and the stable ids it is about (e.g. the
/// assignment and calculation uuids). Stable across platforms and releases;
/// the order of `ids` matters.
///
/// ```
/// use biglearn_core::scheduler::seed_from_ids;
/// use uuid::Uuid;
/// let a = Uuid::from_u128(1);
/// let b = Uuid::from_u128(2);
/// assert_eq!(seed_from_ids("pe", &[a, b]), seed_from_ids("pe", &[a, b]));
/// assert_ne!(seed_from_ids("pe", &[a, b]), seed_from_ids("pe", &[b, a]));
/// assert_ne!(seed_from_ids("pe", &[a]), seed_from_ids("spe", &[a]));
/// ```
pub fn seed_from_ids(domain: &str, ids: &[Uuid]) -> Seed {
    let mut hasher = StableHasher::new(domain);
    for id in ids {
        hasher.write_bytes(id.as_bytes());
    }
    hasher.finish()
}

/// The seed of the container shuffle of an assignment's PEs for one
/// exercise calculation (scheduler.md §2.4, S2).
pub fn pe_seed(assignment: AssignmentId, calculation: CalculationId) -> Seed {
    seed_from_ids(
        "biglearn.scheduler.pe",
        &[assignment.into(), calculation.into()],
    )
}

/// The seed of the container shuffles of one SPE variant of an assignment for
/// one exercise calculation (scheduler.md §2.5, S2).
pub fn spe_seed(
    assignment: AssignmentId,
    calculation: CalculationId,
    history_type: HistoryType,
) -> Seed {
    seed_from_ids(
        match history_type {
            HistoryType::InstructorDriven => "biglearn.scheduler.spe.instructor_driven",
            HistoryType::StudentDriven => "biglearn.scheduler.spe.student_driven",
        },
        &[assignment.into(), calculation.into()],
    )
}

/// Four independent FNV-1a lanes over length-framed input, each finished with
/// the splitmix64 finaliser. Not cryptographic; only stability matters here.
struct StableHasher {
    lanes: [u64; 4],
}

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const LANE_BASES: [u64; 4] = [
    0xcbf2_9ce4_8422_2325,
    0x9e37_79b9_7f4a_7c15,
    0xbf58_476d_1ce4_e5b9,
    0x94d0_49bb_1331_11eb,
];

impl StableHasher {
    fn new(domain: &str) -> Self {
        let mut hasher = StableHasher { lanes: LANE_BASES };
        hasher.write_bytes(domain.as_bytes());
        hasher
    }

    /// Writes the length (u64 little-endian) and then the bytes, so that
    /// different splits of the same concatenation hash differently.
    fn write_bytes(&mut self, bytes: &[u8]) {
        let len = (bytes.len() as u64).to_le_bytes();
        for byte in len.iter().chain(bytes) {
            for (i, lane) in self.lanes.iter_mut().enumerate() {
                // The lane index is mixed into each byte so lanes diverge.
                *lane ^= u64::from(*byte) ^ ((i as u64) << 8);
                *lane = lane.wrapping_mul(FNV_PRIME);
            }
        }
    }

    fn finish(self) -> Seed {
        let mut out = [0u8; 32];
        for (i, lane) in self.lanes.iter().enumerate() {
            out[i * 8..(i + 1) * 8].copy_from_slice(&splitmix64(*lane).to_le_bytes());
        }
        Seed(out)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform draw from `0..bound` (`bound > 0`) by Lemire's multiply-and-reject
/// method over 64-bit words, identical on 32- and 64-bit targets.
pub fn below<R: RngCore + ?Sized>(rng: &mut R, bound: u64) -> u64 {
    debug_assert!(bound > 0, "below() needs a positive bound");
    let bound = bound.max(1);
    let mut product = u128::from(rng.next_u64()) * u128::from(bound);
    let mut low = product as u64;
    if low < bound {
        let threshold = bound.wrapping_neg() % bound;
        while low < threshold {
            product = u128::from(rng.next_u64()) * u128::from(bound);
            low = product as u64;
        }
    }
    (product >> 64) as u64
}

/// Shuffles `items` in place (Fisher–Yates from the back, draws by [`below`]).
pub fn shuffle<T, R: RngCore + ?Sized>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_pinned() {
        // Pinned so that an accidental change of the hash (which would change
        // every stored result) fails loudly.
        let seed = seed_from_ids("pe", &[Uuid::from_u128(1)]);
        let again = seed_from_ids("pe", &[Uuid::from_u128(1)]);
        assert_eq!(seed, again);
        let hex: String = seed.as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, PINNED_PREFIX);
    }

    const PINNED_PREFIX: &str = "c833cd7a2b66abf9";

    #[test]
    fn shuffle_is_pinned() {
        let mut rng = seed_from_ids("pe", &[Uuid::from_u128(1)]).rng();
        let mut items: Vec<u32> = (0..10).collect();
        shuffle(&mut rng, &mut items);
        assert_eq!(items, PINNED_SHUFFLE);
    }

    const PINNED_SHUFFLE: [u32; 10] = [4, 2, 5, 8, 3, 6, 1, 0, 9, 7];

    #[test]
    fn selection_seeds_differ_by_purpose() {
        let assignment = AssignmentId::from_uuid(Uuid::from_u128(1));
        let calculation = CalculationId::from_uuid(Uuid::from_u128(2));
        let pe = pe_seed(assignment, calculation);
        let instructor = spe_seed(assignment, calculation, HistoryType::InstructorDriven);
        let student = spe_seed(assignment, calculation, HistoryType::StudentDriven);
        assert!(pe != instructor && pe != student && instructor != student);
        assert_eq!(pe, pe_seed(assignment, calculation));
    }

    #[test]
    fn threshold_integer_form_matches_the_float_formula() {
        use super::super::constants::next_update_response_count;
        for count in 0..=1_000_000u64 {
            let float = (1.1 * count as f64).floor() as u64 + 1;
            assert_eq!(next_update_response_count(count), float, "count {count}");
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = seed_from_ids("t", &[]).rng();
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = below(&mut rng, 7) as usize;
            seen[x] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = seed_from_ids("t", &[Uuid::from_u128(9)]).rng();
        let mut items: Vec<u32> = (0..50).collect();
        shuffle(&mut rng, &mut items);
        assert_ne!(items, (0..50).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..50).collect::<Vec<_>>());
    }
}
