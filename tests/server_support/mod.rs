//! Shared helpers of the server tests: a server on a temporary SQLite file
//! driven through its router with tower's `oneshot` (no socket), wire-body
//! builders for a small course, and a bounded wait for the engine.

// Test helpers: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use biglearn::server::{router, App, ServerConfig};
use biglearn_store::SqlStore;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

/// The token every test server uses.
pub const TOKEN: &str = "test-token";

/// A deterministic uuid: `kind` picks a family (course, student, …), `n`
/// the member.
pub fn id(kind: u32, n: u64) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

pub const ECO: u32 = 0xe0;
pub const COURSE: u32 = 0xc0;
pub const BOOK: u32 = 0xb0;
pub const EXERCISE: u32 = 0xee;
pub const GROUP: u32 = 0xe9;
pub const PERIOD: u32 = 0xcc;
pub const STUDENT: u32 = 0x5e;
pub const ASSIGNMENT: u32 = 0xa0;
pub const TRIAL: u32 = 0x7e;
pub const REQUEST: u32 = 0x9e;
pub const RESPONSE: u32 = 0x3e;

pub const T0: &str = "2017-08-01T12:00:00.000000Z";

/// An answer: status, body, headers.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    /// The `errors` array as strings (empty when absent).
    pub fn errors(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `Biglearn-Lag-Events` header.
    pub fn lag(&self) -> Option<u64> {
        self.headers
            .get("biglearn-lag-events")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }

    /// Panics unless 200.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        self.body
    }
}

/// A server over a temporary SQLite file.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub runtime: tokio::runtime::Runtime,
    pub app: Option<Arc<App>>,
    pub config: ServerConfig,
}

impl TestServer {
    /// A fresh database.
    pub fn new() -> Self {
        Self::with_max_body(biglearn::server::DEFAULT_MAX_BODY)
    }

    /// A fresh database and a body cap.
    pub fn with_max_body(max_body: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("biglearn.sqlite3");
        let mut config = ServerConfig::new(path.to_str().unwrap(), TOKEN);
        config.max_body = max_body;
        config.engine_tick = Duration::from_millis(100);
        Self::open(dir, config)
    }

    /// A server on an existing store (e.g. PostgreSQL).
    pub fn on_store(store: SqlStore, database: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::new(database, TOKEN);
        config.engine_tick = Duration::from_millis(100);
        let runtime = runtime();
        let app = App::with_store(Arc::new(store), &config).unwrap();
        TestServer {
            dir,
            runtime,
            app: Some(app),
            config,
        }
    }

    fn open(dir: tempfile::TempDir, config: ServerConfig) -> Self {
        let runtime = runtime();
        let app = App::open(&config).unwrap();
        TestServer {
            dir,
            runtime,
            app: Some(app),
            config,
        }
    }

    pub fn app(&self) -> &Arc<App> {
        self.app.as_ref().expect("server is running")
    }

    /// Drops every piece of server state (engine thread, registry, caches,
    /// store handles) and opens the same SQLite file again.
    pub fn restart(&mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown();
            drop(app);
        }
        self.app = Some(App::open(&self.config).unwrap());
    }

    /// Sends a request with arbitrary method, path, headers and body.
    pub fn send(&self, request: Request<Body>) -> Answer {
        let router = router(Arc::clone(self.app()));
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
            };
            Answer {
                status,
                body,
                headers,
            }
        })
    }

    /// POSTs raw bytes with the token and a JSON content type.
    pub fn post_bytes(&self, path: &str, bytes: Vec<u8>) -> Answer {
        self.send(
            Request::post(path)
                .header("biglearn-api-token", TOKEN)
                .header("content-type", "application/json")
                .body(Body::from(bytes))
                .unwrap(),
        )
    }

    /// POSTs a JSON body with the token.
    pub fn post(&self, path: &str, body: Value) -> Answer {
        self.post_bytes(path, body.to_string().into_bytes())
    }

    /// Every event of a course stream from `offset` (one page).
    pub fn course_events(&self, course: &str, offset: u64) -> Value {
        let answer = self
            .post(
                "/fetch_course_events",
                json!({
                    "course_event_requests": [{
                        "request_uuid": id(REQUEST, 999_999),
                        "event_types": ALL_COURSE_TYPES,
                        "course_uuid": course,
                        "sequence_number_offset": offset,
                    }],
                    "max_num_events": 1000,
                }),
            )
            .ok();
        answer["course_event_responses"][0].clone()
    }

    /// How many events a course stream holds (up to its first gap).
    pub fn count_course_events(&self, course: &str) -> usize {
        self.course_events(course, 0)["events"]
            .as_array()
            .map_or(0, Vec::len)
    }

    /// The stored high-water mark of a course stream, read from the store
    /// (0 when nothing was stored).
    pub fn course_head(&self, course: &str) -> u64 {
        use biglearn_core::log::{EventLog, StreamId};
        let course = biglearn_core::ids::CourseId::parse(course).unwrap();
        self.app()
            .store
            .stream_head(StreamId::Course(course))
            .unwrap()
            .map_or(0, |h| h.high_water_mark)
    }

    /// Polls `read` until it answers with lag 0 (bounded: panics after 30 s).
    pub fn read_when_processed(&self, path: &str, body: Value) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answer = self.post(path, body.clone());
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            if answer.lag() == Some(0) {
                return answer;
            }
            assert!(
                Instant::now() < deadline,
                "the engine did not catch up within 30 s (lag {:?})",
                answer.lag()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Every course event type a fetch may ask for.
pub const ALL_COURSE_TYPES: [&str; 10] = [
    "no_op",
    "create_course",
    "prepare_course_ecosystem",
    "update_course_ecosystem",
    "update_roster",
    "update_course_active_dates",
    "update_globally_excluded_exercises",
    "update_course_excluded_exercises",
    "create_update_assignment",
    "record_response",
];

/// Exercises per page of the test book.
pub const PER_PAGE: u64 = 6;

/// The exercise `k` (0-based) of page `page` (1 or 2).
pub fn exercise(page: u64, k: u64) -> String {
    id(EXERCISE, page * 100 + k)
}

/// Ecosystem `e`: a book (container `BOOK:e*10`) with two pages
/// (`BOOK:e*10+1`, `+2`), each with [`PER_PAGE`] exercises, a CLUE pool and
/// reading/homework/practice pools; `extra` keys are added to `book`.
pub fn ecosystem_body(e: u64, extra: Value) -> Value {
    let eco = id(ECO, e);
    let root = id(BOOK, e * 10);
    let mut contents = vec![json!({
        "container_uuid": root,
        "container_parent_uuid": eco,
        "pools": [{
            "use_for_clue": true,
            "use_for_personalized_for_assignment_types": [],
            "exercise_uuids": (1..=2).flat_map(|p| (0..PER_PAGE).map(move |k| exercise(p, k))).collect::<Vec<_>>(),
        }],
    })];
    let mut exercises = Vec::new();
    for page in 1..=2u64 {
        let uuids: Vec<String> = (0..PER_PAGE).map(|k| exercise(page, k)).collect();
        contents.push(json!({
            "container_uuid": id(BOOK, e * 10 + page),
            "container_parent_uuid": root,
            "pools": [
                {"use_for_clue": true, "use_for_personalized_for_assignment_types": [], "exercise_uuids": uuids},
                {"use_for_clue": false, "use_for_personalized_for_assignment_types": ["reading"], "exercise_uuids": uuids},
                {"use_for_clue": false, "use_for_personalized_for_assignment_types": ["homework"], "exercise_uuids": uuids},
                {"use_for_clue": false, "use_for_personalized_for_assignment_types": ["practice"], "exercise_uuids": uuids},
            ],
        }));
        for k in 0..PER_PAGE {
            exercises.push(json!({
                "exercise_uuid": exercise(page, k),
                "group_uuid": id(GROUP, page * 100 + k),
                "version": 1,
                "los": [format!("cnxmod:{}", id(BOOK, e * 10 + page))],
            }));
        }
    }
    let mut book = json!({
        "cnx_identity": "93e2b09d-261c-4007-a987-0b3062fe154b@4.4",
        "contents": contents,
    });
    if let (Value::Object(book), Value::Object(extra)) = (&mut book, extra) {
        book.extend(extra);
    }
    json!({
        "ecosystem_uuid": eco,
        "book": book,
        "exercises": exercises,
        "imported_at": T0,
    })
}

/// create_course for course `c` on ecosystem `e`.
pub fn course_body(c: u64, e: u64) -> Value {
    json!({
        "course_uuid": id(COURSE, c),
        "ecosystem_uuid": id(ECO, e),
        "is_real_course": true,
        "starts_at": "2017-01-01T00:00:00.000000Z",
        "ends_at": "2030-01-01T00:00:00.000000Z",
        "created_at": T0,
    })
}

/// One roster item: period `PERIOD:c`, students `STUDENT:c*1000+s`.
pub fn roster_item(c: u64, seq: u64, request: u64, students: &[u64]) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "course_containers": [{
            "container_uuid": id(PERIOD, c),
            "parent_container_uuid": id(COURSE, c),
            "created_at": T0,
        }],
        "students": students.iter().map(|s| json!({
            "student_uuid": id(STUDENT, c * 1000 + s),
            "container_uuid": id(PERIOD, c),
            "enrolled_at": T0,
            "last_course_container_change_at": T0,
        })).collect::<Vec<_>>(),
    })
}

/// One homework assignment `ASSIGNMENT:a` for student `STUDENT:c*1000+s`
/// on page 1 of ecosystem `e`, with the page's first three exercises as
/// trials `TRIAL:a*10+k`.
pub fn assignment_item(c: u64, e: u64, seq: u64, request: u64, a: u64, s: u64) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "assignment_uuid": id(ASSIGNMENT, a),
        "is_deleted": false,
        "ecosystem_uuid": id(ECO, e),
        "student_uuid": id(STUDENT, c * 1000 + s),
        "assignment_type": "homework",
        "exclusion_info": {"opens_at": T0, "due_at": "2017-08-08T12:00:00.000000Z", "closes_at": "2017-08-09T12:00:00.000000Z"},
        "assigned_book_container_uuids": [id(BOOK, e * 10 + 1)],
        "goal_num_tutor_assigned_spes": 1,
        "spes_are_assigned": false,
        "goal_num_tutor_assigned_pes": 1,
        "pes_are_assigned": false,
        "assigned_exercises": (0..3u64).map(|k| json!({
            "trial_uuid": id(TRIAL, a * 10 + k),
            "exercise_uuid": exercise(1, k),
            "is_spe": false,
            "is_pe": false,
        })).collect::<Vec<_>>(),
        "created_at": T0,
        "updated_at": T0,
    })
}

/// One response `RESPONSE:r` of student `s` to trial `k` of assignment `a`.
pub fn response_item(c: u64, e: u64, seq: u64, r: u64, a: u64, s: u64, k: u64) -> Value {
    json!({
        "response_uuid": id(RESPONSE, r),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "ecosystem_uuid": id(ECO, e),
        "trial_uuid": id(TRIAL, a * 10 + k),
        "student_uuid": id(STUDENT, c * 1000 + s),
        "exercise_uuid": exercise(1, k),
        "is_correct": k % 2 == 0,
        "is_real_response": true,
        "responded_at": T0,
    })
}

/// Ecosystem 1, course 1 (seq 0), a roster with students 1 and 2 (seq 1)
/// and assignments 1 (student 1) and 2 (student 2) at seq 2 and 3.
pub fn small_course(server: &TestServer) {
    server
        .post("/create_ecosystem", ecosystem_body(1, json!({})))
        .ok();
    server.post("/create_course", course_body(1, 1)).ok();
    server
        .post(
            "/update_rosters",
            json!({"rosters": [roster_item(1, 1, 1, &[1, 2])]}),
        )
        .ok();
    server
        .post(
            "/create_update_assignments",
            json!({"assignments": [
                assignment_item(1, 1, 2, 2, 1, 1),
                assignment_item(1, 1, 3, 3, 2, 2),
            ]}),
        )
        .ok();
}

/// An update_*_excluded_exercises body with `n` exclusions, alternating
/// exercise and exercise-group targets.
pub fn exclusions_body(c: u64, seq: u64, request: u64, n: u64) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "exclusions": (0..n).map(|k| if k % 2 == 0 {
            json!({"exercise_uuid": exercise(1, k % PER_PAGE)})
        } else {
            json!({"exercise_group_uuid": id(GROUP, 100 + k)})
        }).collect::<Vec<_>>(),
        "updated_at": T0,
    })
}

/// Engine control for tests whose answers depend on how far the engine got
/// (e.g. preparation readiness, S1 fix 11).
impl TestServer {
    /// Stops the engine thread (after its current step): writes are still
    /// accepted, but nothing is processed until [`TestServer::resume_engine`].
    pub fn pause_engine(&self) {
        self.app().runner.stop();
    }

    /// Starts a fresh engine on the same database (a restart), which picks
    /// up from the stored watermarks.
    pub fn resume_engine(&mut self) {
        self.restart();
    }

    /// Waits until the engine has processed every contiguous event of
    /// `course` (its lag is 0; bounded: panics after 30 s).
    pub fn wait_until_processed(&self, course: &str) {
        let course = biglearn_core::ids::CourseId::parse(course).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lag = self.app().lag([course]).unwrap();
            if lag == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the engine did not catch up within 30 s (lag {lag})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
