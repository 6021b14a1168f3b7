//! Learner estimates of one fitted matrix, remembered by gradebook.
//!
//! A teacher CLUE infers every learner of a period on a container
//! (sparfa.md §6.2); when one student answers, the other learners'
//! gradebooks are what they were at the previous calculation. An estimate
//! is a pure function of the matrix and the gradebook, so remembering it
//! changes no result, only the time: a hit returns the same bits a fresh
//! inference would. The memo is bounded (least recently used out).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;

use crate::sparfa::{LearnerEstimate, LearnerResponse, LearnerWorkspace, SparfaModel};

/// How many estimates a memo keeps by default: a few thousand learners'
/// gradebooks on each of their containers, about a kilobyte each.
pub const DEFAULT_MEMO_ENTRIES: usize = 16_384;

/// Estimates of one matrix by gradebook (latest response per question,
/// sorted by question, as [`crate::sparfa::latest_responses`] builds it).
#[derive(Debug)]
pub struct EstimateMemo {
    entries: Mutex<LruCache<Vec<LearnerResponse>, Arc<LearnerEstimate>>>,
}

impl Default for EstimateMemo {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_MEMO_ENTRIES)
    }
}

impl EstimateMemo {
    /// A memo keeping at most `entries` estimates (at least one).
    pub fn with_capacity(entries: usize) -> Self {
        let entries = NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN);
        EstimateMemo {
            entries: Mutex::new(LruCache::new(entries)),
        }
    }

    /// The estimate of `gradebook` under `model` (the matrix this memo
    /// belongs to), inferred with `workspace` when not remembered.
    pub fn estimate(
        &self,
        model: &SparfaModel,
        gradebook: &[LearnerResponse],
        workspace: &mut LearnerWorkspace,
    ) -> Arc<LearnerEstimate> {
        // A panic elsewhere cannot leave a wrong entry: entries are whole
        // values, inserted after they are computed.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = entries.get(gradebook) {
            return Arc::clone(found);
        }
        drop(entries);
        let estimate = Arc::new(workspace.infer(model, gradebook));
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.put(gradebook.to_vec(), Arc::clone(&estimate));
        estimate
    }

    /// How many estimates are remembered.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
