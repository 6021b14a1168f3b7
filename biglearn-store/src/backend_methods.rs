//! The read and watermark methods both backends share word for word: each
//! runs one shared query (`queries/log.rs`, `queries/bundles.rs`) in the
//! backend's own read or write transaction. Written once here and expanded
//! inside `impl SqliteBackend` and `impl PgBackend`, where `queries` names
//! that backend's compilation of the shared queries and `self.read` /
//! `self.write` its transactions.

/// Expands to the shared methods inside a backend's `impl` block.
macro_rules! shared_backend_methods {
    () => {
        pub(crate) fn fetch_events(
            &self,
            query: &biglearn_core::log::FetchQuery,
        ) -> Result<Vec<biglearn_core::log::FetchResponse>, biglearn_core::log::StoreError> {
            self.read("fetching events", |conn| {
                Ok(biglearn_core::log::fetch_events(
                    query,
                    &queries::Source::new(conn),
                )?)
            })
        }

        pub(crate) fn fetch_metadatas(
            &self,
            kind: biglearn_core::log::StreamKind,
            offset: u64,
            max: u32,
        ) -> Result<Vec<biglearn_core::log::StreamMetadata>, biglearn_core::log::StoreError> {
            self.read("fetching metadata", |conn| {
                queries::fetch_metadatas(conn, kind, offset, max)
            })
        }

        pub(crate) fn stream_head(
            &self,
            stream: biglearn_core::log::StreamId,
        ) -> Result<Option<biglearn_core::log::StreamHead>, biglearn_core::log::StoreError> {
            self.read("reading a stream head", |conn| {
                queries::stream_head(conn, stream)
            })
        }

        pub(crate) fn event(
            &self,
            event_id: biglearn_core::ids::EventId,
        ) -> Result<Option<biglearn_core::log::Event>, biglearn_core::log::StoreError> {
            self.read("reading an event", |conn| {
                queries::event_by_id(conn, event_id)
            })
        }

        pub(crate) fn open_gaps(
            &self,
            max: usize,
        ) -> Result<Vec<biglearn_core::log::OpenGap>, biglearn_core::log::StoreError> {
            self.read("listing open gaps", |conn| queries::open_gaps(conn, max))
        }

        pub(crate) fn id_owners(
            &self,
            query: &biglearn_core::log::IdQuery,
        ) -> Result<biglearn_core::log::IdOwners, biglearn_core::log::StoreError> {
            if query.is_empty() {
                return Ok(biglearn_core::log::IdOwners::default());
            }
            self.read("looking up ids", |conn| queries::id_owners_of(conn, query))
        }

        pub(crate) fn known_courses(
            &self,
            after: Option<biglearn_core::ids::CourseId>,
            max: usize,
        ) -> Result<Vec<biglearn_core::ids::CourseId>, biglearn_core::log::StoreError> {
            self.read("listing known courses", |conn| {
                queries::known_courses(conn, after, max)
            })
        }

        pub(crate) fn next_bundles(
            &self,
            consumer: &biglearn_core::log::ConsumerName,
            limits: biglearn_core::log::BundleLimits,
        ) -> Result<Vec<biglearn_core::log::Bundle>, biglearn_core::log::StoreError> {
            self.read("reading bundles", |conn| {
                queries::bundles::next_bundles(conn, consumer, limits)
            })
        }

        pub(crate) fn confirm(
            &self,
            consumer: &biglearn_core::log::ConsumerName,
            course: biglearn_core::ids::CourseId,
            through: biglearn_core::log::SequenceNumber,
        ) -> Result<(), biglearn_core::log::StoreError> {
            self.write("confirming a bundle", |conn| {
                queries::bundles::confirm(conn, consumer, course, through)
            })
        }

        pub(crate) fn confirmed(
            &self,
            consumer: &biglearn_core::log::ConsumerName,
            course: biglearn_core::ids::CourseId,
        ) -> Result<Option<biglearn_core::log::SequenceNumber>, biglearn_core::log::StoreError> {
            self.read("reading a watermark", |conn| {
                queries::bundles::confirmed(conn, consumer, course)
            })
        }

        pub(crate) fn backlog(
            &self,
            consumer: &biglearn_core::log::ConsumerName,
            course: biglearn_core::ids::CourseId,
        ) -> Result<u64, biglearn_core::log::StoreError> {
            self.read("computing a backlog", |conn| {
                queries::bundles::backlog(conn, consumer, course)
            })
        }
    };
}
pub(crate) use shared_backend_methods;
