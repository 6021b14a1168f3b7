//! Ecosystem states for the engine: read every ecosystem stream past its
//! stored snapshot, apply the events and save the new state.
//!
//! Ecosystem streams are discovered through the store's stream metadata
//! ([`crate::log::EventLog::fetch_metadatas`]), in metadata order; only the
//! contiguous part of a stream is read. A state is saved with
//! [`EngineStore::save_ecosystem_state`], which never goes backwards, so
//! two engines (or a re-run) saving the same state is harmless.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine_store::{EngineStore, Snapshot, StateBlob};
use crate::ids::EcosystemId;
use crate::log::{
    ConsumerName, EventType, FetchQuery, FetchRequest, SequenceNumber, StreamId, StreamKind,
};
use crate::projection::{decode_state, encode_state, EcosystemState, STATE_VERSION};

use super::EngineError;

/// Streams listed per metadata call, and events per fetch call.
const PAGE: u32 = 1000;

/// The ecosystem states the engine knows, with how far each reflects its
/// stream, and the metadata cursor.
#[derive(Debug, Default)]
pub struct EcosystemCache {
    states: BTreeMap<EcosystemId, EcosystemState>,
    through: BTreeMap<EcosystemId, SequenceNumber>,
    next_metadata: u64,
}

impl EcosystemCache {
    /// The cached state of `id`.
    pub fn get(&self, id: EcosystemId) -> Option<&EcosystemState> {
        self.states.get(&id)
    }

    /// Every cached state, as an [`crate::projection::EcosystemCatalog`].
    pub fn catalog(&self) -> &BTreeMap<EcosystemId, EcosystemState> {
        &self.states
    }

    /// Discovers new ecosystem streams, loads their stored states, applies
    /// the events stored past each state and saves the states that moved.
    /// Returns how many states were saved.
    pub fn sync(
        &mut self,
        store: &impl EngineStore,
        consumer: &ConsumerName,
    ) -> Result<usize, EngineError> {
        let fail = |source| EngineError::Store {
            consumer: consumer.clone(),
            source,
        };
        loop {
            let metadatas = store
                .fetch_metadatas(StreamKind::Ecosystem, self.next_metadata, PAGE)
                .map_err(fail)?;
            for metadata in &metadatas {
                self.next_metadata = metadata.metadata_sequence_number + 1;
                if let StreamId::Ecosystem(id) = metadata.stream {
                    self.load(store, consumer, id)?;
                }
            }
            if metadatas.len() < PAGE as usize {
                break;
            }
        }
        let mut saved = 0;
        let ids: Vec<EcosystemId> = self.states.keys().copied().collect();
        for id in ids {
            if self.catch_up(store, consumer, id)? {
                saved += 1;
            }
        }
        Ok(saved)
    }

    fn load(
        &mut self,
        store: &impl EngineStore,
        consumer: &ConsumerName,
        id: EcosystemId,
    ) -> Result<(), EngineError> {
        let snapshot = store
            .ecosystem_state(id)
            .map_err(|source| EngineError::Store {
                consumer: consumer.clone(),
                source,
            })?;
        let state = match snapshot {
            Some(snapshot) => {
                let state =
                    decode_state(&snapshot.blob.bytes).map_err(|source| EngineError::Blob {
                        consumer: consumer.clone(),
                        what: format!("ecosystem {id}"),
                        source,
                    })?;
                self.through.insert(id, snapshot.through);
                state
            }
            None => EcosystemState::new(id),
        };
        self.states.insert(id, state);
        Ok(())
    }

    /// Applies the contiguous events past the cached state; saves and
    /// returns true when any was applied.
    fn catch_up(
        &mut self,
        store: &impl EngineStore,
        consumer: &ConsumerName,
        id: EcosystemId,
    ) -> Result<bool, EngineError> {
        let fail = |source| EngineError::Store {
            consumer: consumer.clone(),
            source,
        };
        let stream = StreamId::Ecosystem(id);
        let Some(head) = store
            .stream_head(stream)
            .map_err(fail)?
            .and_then(|h| h.contiguous_through)
        else {
            return Ok(false);
        };
        let mut applied: Option<SequenceNumber> = None;
        loop {
            let done = applied.or_else(|| self.through.get(&id).copied());
            if done.is_some_and(|d| d >= head) {
                break;
            }
            let offset = done.map_or(SequenceNumber::ZERO, |d| d.next());
            let query = FetchQuery {
                requests: vec![FetchRequest {
                    request_uuid: id.to_string(),
                    stream,
                    sequence_number_offset: offset,
                    event_types: BTreeSet::from(EventType::ALL),
                }],
                max_num_events: PAGE,
            };
            let events: Vec<_> = store
                .fetch_events(&query)
                .map_err(fail)?
                .into_iter()
                .flat_map(|r| r.events)
                .filter(|e| e.sequence_number >= offset && e.sequence_number <= head)
                .collect();
            if events.is_empty() {
                break;
            }
            let state = self
                .states
                .entry(id)
                .or_insert_with(|| EcosystemState::new(id));
            for event in &events {
                state.apply(event);
                applied = Some(event.sequence_number);
            }
        }
        let (Some(through), Some(state)) = (applied, self.states.get(&id)) else {
            return Ok(false);
        };
        let bytes = encode_state(state).map_err(|source| EngineError::Blob {
            consumer: consumer.clone(),
            what: format!("ecosystem {id}"),
            source,
        })?;
        let snapshot = Snapshot {
            through,
            blob: StateBlob {
                format_version: STATE_VERSION,
                bytes,
            },
        };
        store
            .save_ecosystem_state(id, &snapshot)
            .map_err(|source| EngineError::Write {
                consumer: consumer.clone(),
                what: format!("the state of ecosystem {id}"),
                source,
            })?;
        self.through.insert(id, through);
        Ok(true)
    }
}
