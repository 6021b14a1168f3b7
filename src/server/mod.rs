//! The reference HTTP server: the 25 POST endpoints of the Biglearn wire
//! protocol plus `GET /ping` and `GET /metrics`, over one [`SqlStore`]
//! (embedded SQLite by default, PostgreSQL by URL), with the engine running
//! in the same process (api.md; decisions A1–A10, O1, O2).
//!
//! - [`App`] holds the store, the shared group-commit [`Ingestor`], the
//!   id [`registry::Registry`] (a reader over the store's id table: nothing
//!   is loaded from the log at start), the [`runner::EngineRunner`] thread and the
//!   [`metrics::Metrics`]; [`router`] exposes it; [`serve`] runs it until a
//!   shutdown signal and then drains in-flight requests.
//! - Every request is checked in the order of api.md §2: token (401), body
//!   size (413), content type and JSON (400); the endpoint's work then runs
//!   on the blocking pool, never on the async workers, except event writes
//!   with small bodies: they are parsed in place and handed to the
//!   [`CommitQueue`]'s committer thread, and the handler awaits the durable
//!   commit without holding a thread.
//! - Reads answered by the engine carry `Biglearn-Lag-Events` (A6b).
//!
//! ```no_run
//! # async fn run() -> Result<(), biglearn::server::ServerError> {
//! use biglearn::server::{serve, App, ServerConfig};
//! let config = ServerConfig::new("biglearn.sqlite3", "s3cret");
//! let app = App::open(&config)?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! serve(listener, app, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod config;
pub mod errors;
pub mod metrics;
pub mod readiness;
pub mod registry;
pub mod routes;
pub mod runner;

pub use config::{
    resolve_token, ConfigError, ResolvedToken, ServerConfig, DEFAULT_ENGINE_NICE, DEFAULT_MAX_BODY,
    DEFAULT_MIN_REFIT_INTERVAL,
};
pub use errors::ApiError;
pub use routes::Endpoint;

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use biglearn_core::log::{BundleLog, ConsumerName, StoreError};
use biglearn_store::ingest::CommitQueue;
use biglearn_store::{Ingestor, SqlStore};
use http_body_util::BodyExt;

use registry::Registry;
use runner::EngineRunner;

/// `Content-Type` of every JSON answer (api.md §2.1).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// The lag header of engine reads (A6b).
pub const LAG_HEADER: &str = "biglearn-lag-events";
/// The token header (A3).
pub const TOKEN_HEADER: &str = "biglearn-api-token";
/// The engine's consumer name (its watermark in the bundle log).
pub const ENGINE_CONSUMER: &str = "engine";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened, migrated or read at start.
    #[error("database {database}: {source}")]
    Store {
        /// The database location (password redacted by the store's errors).
        database: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// A socket or thread could not be set up.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Everything the handlers share.
pub struct App {
    /// The event log and engine store.
    pub store: Arc<SqlStore>,
    /// The one group-commit front of the store (O2a), for blocking callers.
    pub ingestor: Arc<Ingestor<SqlStore>>,
    /// The committer thread in front of `ingestor`, for async callers.
    pub commits: CommitQueue,
    /// Known ids (statuses and lag), read from the store.
    pub registry: Registry<SqlStore>,
    /// The engine thread.
    pub runner: EngineRunner,
    /// Counters.
    pub metrics: metrics::Metrics,
    /// The engine's consumer name.
    pub consumer: ConsumerName,
    token: String,
    max_body: usize,
}

impl App {
    /// Opens (creating and migrating) the configured database and starts
    /// the engine.
    pub fn open(config: &ServerConfig) -> Result<Arc<App>, ServerError> {
        config.validate()?;
        let store = SqlStore::open(&config.database).map_err(|source| ServerError::Store {
            database: config.database.clone(),
            source,
        })?;
        App::with_store(Arc::new(store), config)
    }

    /// Serves an already opened (and migrated) store.
    pub fn with_store(
        store: Arc<SqlStore>,
        config: &ServerConfig,
    ) -> Result<Arc<App>, ServerError> {
        config.validate()?;
        let registry = Registry::new(Arc::clone(&store));
        let consumer = ConsumerName::new(ENGINE_CONSUMER)
            .map_err(|e| ServerError::Config(ConfigError::Consumer(e.to_string())))?;
        let settings = runner::RunnerSettings {
            tick: config.engine_tick,
            nice: config.engine_nice,
            min_refit_interval: config.min_refit_interval,
            cache_bytes: config.engine_cache_bytes,
        };
        let runner = EngineRunner::start(Arc::clone(&store), consumer.clone(), settings)?;
        let ingestor = Arc::new(Ingestor::new(Arc::clone(&store)));
        Ok(Arc::new(App {
            commits: CommitQueue::start(Arc::clone(&ingestor))?,
            ingestor,
            store,
            registry,
            runner,
            metrics: metrics::Metrics::default(),
            consumer,
            token: config.token.clone(),
            max_body: config.max_body,
        }))
    }

    /// Commits what the commit queue holds, then stops the engine thread
    /// (after its current step). Appends that were acknowledged are durable
    /// already; the engine resumes from its watermark on the next start.
    pub fn shutdown(&self) {
        self.commits.stop();
        self.runner.stop();
    }

    /// Events accepted but not yet processed, summed over `courses` (A6b):
    /// the engine's backlog up to each stream's contiguous head, plus the
    /// events waiting behind an open gap (as of the engine's last tick).
    pub fn lag(
        &self,
        courses: impl IntoIterator<Item = biglearn_core::ids::CourseId>,
    ) -> Result<u64, StoreError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut total = 0u64;
        for course in courses {
            if seen.insert(course) {
                total += self.store.backlog(&self.consumer, course)?;
                total += self.runner.waiting_behind_gaps(course);
            }
        }
        Ok(total)
    }
}

/// A successful answer: the JSON body and, for engine reads, the lag.
#[derive(Debug)]
pub struct Reply {
    /// The response body.
    pub body: serde_json::Value,
    /// `Biglearn-Lag-Events`, for reads answered by the engine.
    pub lag: Option<u64>,
}

impl Reply {
    /// A body without a lag header.
    pub fn json(body: serde_json::Value) -> Self {
        Reply { body, lag: None }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, self.body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(JSON_CONTENT_TYPE),
        );
        if let Some(lag) = self.lag {
            headers.insert(LAG_HEADER, HeaderValue::from(lag));
        }
        response
    }
}

/// The router: every endpoint of api.md §5.10 at the root, `/ping`,
/// `/metrics`; anything else is a 404 with an `errors` body.
pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new();
    for endpoint in Endpoint::ALL {
        router = router.route(
            &format!("/{}", endpoint.name()),
            post(
                move |state: State<Arc<App>>, headers: HeaderMap, body: Body| {
                    handle(state, endpoint, headers, body)
                },
            ),
        );
    }
    router
        .route("/ping", get(ping))
        .route("/ping/", get(ping))
        .route("/metrics", get(render_metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting, lets in-flight requests (and their group commits) finish and
/// stops the engine thread.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let result = axum::serve(listener, router(Arc::clone(&app)))
        .with_graceful_shutdown(shutdown)
        .await;
    let stopper = Arc::clone(&app);
    // Joining the engine thread blocks; keep it off the async workers.
    let _ = tokio::task::spawn_blocking(move || stopper.shutdown()).await;
    result
}

async fn ping() -> impl IntoResponse {
    (StatusCode::OK, "")
}

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::NotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
    .into_response()
}

async fn render_metrics(State(app): State<Arc<App>>) -> Response {
    let worker = Arc::clone(&app);
    let rendered = tokio::task::spawn_blocking(move || {
        let mut backlog = Vec::new();
        for course in worker.registry.courses()? {
            let lag = worker.lag([course])?;
            if lag > 0 {
                backlog.push((course.to_string(), lag));
            }
        }
        let snapshot = metrics::Snapshot {
            ingest: worker.ingestor.stats(),
            runner: worker.runner.stats(),
            backlog,
            gaps: worker.runner.gap_ages(),
        };
        Ok::<_, StoreError>(worker.metrics.render(&snapshot))
    })
    .await;
    match rendered {
        Ok(Ok(text)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Ok(Err(source)) => ApiError::Store {
            during: "rendering metrics",
            source,
        }
        .into_response(),
        Err(join) => ApiError::Internal(join.to_string()).into_response(),
    }
}

/// One POST endpoint: checks, then the endpoint's work on the blocking pool.
async fn handle(
    State(app): State<Arc<App>>,
    endpoint: Endpoint,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = std::time::Instant::now();
    let response = match checked_body(&app, &headers, body).await {
        Ok(bytes) if routes::writes::is_queued(endpoint, bytes.len()) => {
            match routes::writes::handle_queued(&app, endpoint, &bytes).await {
                Ok(reply) => reply.into_response(),
                Err(error) => error.into_response(),
            }
        }
        Ok(bytes) => {
            let worker = Arc::clone(&app);
            match tokio::task::spawn_blocking(move || {
                let value = biglearn_core::events::parse_body(&bytes)?;
                routes::dispatch(&worker, endpoint, &value)
            })
            .await
            {
                Ok(Ok(reply)) => reply.into_response(),
                Ok(Err(error)) => error.into_response(),
                Err(join) => ApiError::Internal(join.to_string()).into_response(),
            }
        }
        Err(error) => error.into_response(),
    };
    app.metrics.observe(
        endpoint.name(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Token (A3), size cap (A7) and content type (A2), in the order of
/// api.md §2.2–§2.3; returns the body bytes.
async fn checked_body(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    auth::check_token(headers, &app.token)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_body as u64) {
        return Err(ApiError::TooLarge {
            limit: app.max_body,
        });
    }
    check_content_type(headers)?;
    let limited = http_body_util::Limited::new(body, app.max_body);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(ApiError::TooLarge {
            limit: app.max_body,
        }),
        Err(error) => Err(ApiError::invalid(format!(
            "(request body): could not read the request body: {error}"
        ))),
    }
}

/// The media types Rails treated as JSON (api.md §2.3); parameters such as
/// `charset` are ignored.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    let is_json = ["application/json", "text/x-json", "application/jsonrequest"]
        .iter()
        .any(|m| media.eq_ignore_ascii_case(m));
    if is_json {
        Ok(())
    } else {
        let shown = if value.is_empty() { "none" } else { value };
        Err(ApiError::invalid(format!(
            "(request body): request must have Content-Type = application/json, got {shown}"
        )))
    }
}
