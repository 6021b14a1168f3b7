//! `kill -9` of the reference server during load (issue 5 acceptance: "kill
//! -9 of the server during load, restart, then every request that got a 2xx
//! is stored exactly once"), over a real TCP socket.
//!
//! The parent test re-runs this test binary as a child ([`child_server_process`],
//! selected by an environment variable) that runs [`biglearn::server::serve`]
//! on 127.0.0.1 (port 0, announced on a `LISTENING` line) over a SQLite file.
//! The parent sets up a small world over HTTP, then drives concurrent
//! single-response record_responses calls, each retried with the same uuid
//! and number until it gets a 2xx, as Tutor does, so no gap remains. It
//! SIGKILLs the child three times with requests in flight, starting a new
//! child on the same file each time, and checks:
//!
//! - after each restart, before the clients may reach the new server, every
//!   response acknowledged so far is in the file at its course and number;
//! - re-sending responses acknowledged before a kill answers 2xx with the
//!   same uuid (a replay, A4) and stores nothing new;
//! - at the end, through fetch_course_events, every course stream is the
//!   gap-free `0..n`, holds every acknowledged response exactly once at the
//!   number it was sent with and nothing else, and no event uuid twice; the
//!   store's stream heads agree and no gap is open.
//!
//! Nothing depends on timing: kills are triggered by counts of
//! acknowledgements; time bounds only turn a hang into a failure.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use biglearn::server::{serve, App, ServerConfig};
use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{EventLog, StreamId};
use biglearn_store::{SqlStore, SqliteOptions};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use server_support::*;

/// Set (to the database path) only in the child process.
const CHILD_ENV: &str = "BIGLEARN_KILL9_CHILD_DB";
/// The child's name in this test binary.
const CHILD_TEST: &str = "child_server_process";
/// The child stops on its own after this long (if the parent vanished).
const CHILD_LIFETIME: Duration = Duration::from_secs(300);
/// Bound of the whole run: a hang becomes a failure, never a pass.
const RUN_LIMIT: Duration = Duration::from_secs(180);
/// One attempt that neither answers nor fails within this is retried.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(10);

const COURSES: u64 = 4;
const STUDENTS_PER_COURSE: u64 = 4;
/// create_course, the roster, one assignment per student.
const SETUP_EVENTS_PER_COURSE: u64 = 2 + STUDENTS_PER_COURSE;
/// Single-response record_responses calls in the whole run.
const RESPONSES: u64 = 3000;
/// Clients sending concurrently (about a dozen per course, so responses of
/// one course commit out of order and a kill leaves gaps to fill).
const CLIENTS: usize = 48;
/// Each child is SIGKILLed when this many responses more were acknowledged
/// since the previous one started (the last child serves the rest).
const KILL_AFTER_ACKS: [u64; 3] = [300, 700, 700];
/// Responses acknowledged before a kill that are re-sent after it.
const REPLAYS_PER_RESTART: usize = 40;

/// Child mode only: does nothing unless the parent set [`CHILD_ENV`].
#[test]
fn child_server_process() {
    let Ok(database) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut config = ServerConfig::new(database, TOKEN);
    config.engine_tick = Duration::from_millis(100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let app = App::open(&config).expect("open the server");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("local address");
        println!("LISTENING {address}");
        serve(listener, app, tokio::time::sleep(CHILD_LIFETIME))
            .await
            .expect("serve");
    });
}

/// A running child server; SIGKILLed when dropped.
struct ServerChild {
    child: Child,
    address: SocketAddr,
    /// Kept open so that a late write of the child never meets a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl ServerChild {
    /// Starts a child on `database` and waits for its `LISTENING` line.
    fn start(database: &Path) -> Self {
        let exe = std::env::current_exe().expect("test binary");
        let mut child = Command::new(exe)
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, database)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the child server");
        let mut stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        let listening = listening_address(&mut stdout);
        let mut stderr = String::new();
        if listening.is_none() {
            if let Some(mut err) = child.stderr.take() {
                err.read_to_string(&mut stderr).ok();
            }
        }
        let server = ServerChild {
            child,
            address: listening.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
            _stdout: stdout,
        };
        // Dropping `server` reaps the child.
        assert!(
            listening.is_some(),
            "the child server exited before listening:\n{stderr}"
        );
        server
    }

    /// SIGKILL, then reap.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the child server");
        self.child.wait().expect("wait for the killed child");
    }
}

/// Reads the child's stdout up to its `LISTENING <address>` line (`None`
/// if the child exits first).
fn listening_address(stdout: &mut BufReader<ChildStdout>) -> Option<SocketAddr> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).expect("read child stdout") == 0 {
            return None;
        }
        // The harness prints `test child_server_process ... ` first, on
        // the same line.
        if let Some((_, address)) = line.trim().split_once("LISTENING ") {
            return Some(address.parse().expect("listening address"));
        }
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        // Harmless if already reaped by `kill`.
        let _ = (self.child.kill(), self.child.wait());
    }
}

/// A JSON-over-HTTP/1.1 client with keep-alive connections.
#[derive(Clone)]
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Http {
    fn new() -> Self {
        Http {
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        }
    }

    /// POSTs `body` to `path`; `Err` when no complete answer arrived.
    async fn post(&self, address: SocketAddr, path: &str, body: &Value) -> Result<Answer, String> {
        let request = hyper::Request::post(format!("http://{address}{path}"))
            .header("content-type", "application/json")
            .header("biglearn-api-token", TOKEN)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let response = self.client.request(request).await;
        let (parts, body) = response.map_err(|e| e.to_string())?.into_parts();
        let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        let (status, headers) = (parts.status, parts.headers);
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Ok(Answer {
            status,
            body,
            headers,
        })
    }
}

/// One record_responses call as the clients saw it.
#[derive(Clone)]
struct Sent {
    course: u64,
    sequence_number: u64,
    body: Value,
    /// The server run that answered 2xx first.
    acked_by_run: Option<usize>,
}

/// State shared by the clients and the parent.
struct Load {
    http: Http,
    /// The server the clients talk to, and which run (0 = first child) it is.
    target: RwLock<(SocketAddr, usize)>,
    next_response: AtomicU64,
    next_sequence_number: Vec<AtomicU64>,
    /// Response number → the call.
    sent: Mutex<BTreeMap<u64, Sent>>,
    acks: AtomicU64,
    in_flight: AtomicU64,
    failed_attempts: AtomicU64,
    /// Anything that must fail the test (non-2xx answers, wrong echoes).
    failures: Mutex<Vec<String>>,
    deadline: Instant,
}

impl Load {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }

    fn check_failures(&self) {
        let failures = self.failures.lock().unwrap();
        assert!(failures.is_empty(), "client failures: {failures:#?}");
    }
}

/// Sends a one-response record_responses body until a 2xx; returns the run
/// that acknowledged it (`None` after recording a failure).
async fn send_until_acked(load: &Load, body: &Value) -> Option<usize> {
    let uuid = body["responses"][0]["response_uuid"].clone();
    let mut attempt = 0u32;
    loop {
        let (address, run) = *load.target.read().unwrap();
        let answer = tokio::time::timeout(
            ATTEMPT_LIMIT,
            load.http.post(address, "/record_responses", body),
        )
        .await;
        match answer {
            Ok(Ok(answer)) if answer.status.is_success() => {
                if answer.body != json!({"recorded_response_uuids": [uuid]}) {
                    load.fail(format!("{uuid}: unexpected 2xx body {}", answer.body));
                    return None;
                }
                return Some(run);
            }
            Ok(Ok(answer)) => {
                load.fail(format!("{uuid}: HTTP {}: {}", answer.status, answer.body));
                return None;
            }
            // No answer (connection refused, reset or cut by the kill):
            // retry with the same uuid and number.
            Ok(Err(_)) | Err(_) => {
                load.failed_attempts.fetch_add(1, Ordering::Relaxed);
            }
        }
        if Instant::now() > load.deadline {
            load.fail(format!("{uuid}: no 2xx within {RUN_LIMIT:?}"));
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5 << attempt.min(5))).await;
        attempt += 1;
    }
}

/// One client: takes the next response, numbers it in its course, sends it
/// until acknowledged; repeats until all responses are sent.
async fn client(load: Arc<Load>) {
    loop {
        let r = load.next_response.fetch_add(1, Ordering::Relaxed);
        if r >= RESPONSES {
            return;
        }
        let course = 1 + r % COURSES;
        let student = 1 + (r / COURSES) % STUDENTS_PER_COURSE;
        let sequence_number =
            load.next_sequence_number[(course - 1) as usize].fetch_add(1, Ordering::Relaxed);
        let item = response_item(
            course,
            1,
            sequence_number,
            r + 1,
            assignment_of(course, student),
            student,
            r % 3,
        );
        let body = json!({"responses": [item]});
        let call = Sent {
            course,
            sequence_number,
            body: body.clone(),
            acked_by_run: None,
        };
        load.sent.lock().unwrap().insert(r + 1, call);
        load.in_flight.fetch_add(1, Ordering::Relaxed);
        let acked = send_until_acked(&load, &body).await;
        load.in_flight.fetch_sub(1, Ordering::Relaxed);
        let Some(run) = acked else { return };
        // The ledger first, then the count the parent watches.
        load.sent
            .lock()
            .unwrap()
            .get_mut(&(r + 1))
            .expect("recorded above")
            .acked_by_run = Some(run);
        load.acks.fetch_add(1, Ordering::Relaxed);
    }
}

/// The assignment of student `s` of course `c`.
fn assignment_of(course: u64, student: u64) -> u64 {
    course * 100 + student
}

/// Ecosystem 1; per course: create_course (0), a roster (1), one homework
/// assignment per student (2..).
async fn set_up_world(http: &Http, address: SocketAddr) {
    let must = |path: &'static str, body: Value| async move {
        let answer = http.post(address, path, &body).await.expect(path);
        assert!(answer.status.is_success(), "{path}: {}", answer.body);
    };
    must("/create_ecosystem", ecosystem_body(1, json!({}))).await;
    let students: Vec<u64> = (1..=STUDENTS_PER_COURSE).collect();
    for course in 1..=COURSES {
        must("/create_course", course_body(course, 1)).await;
        let roster = roster_item(course, 1, course * 1000, &students);
        must("/update_rosters", json!({"rosters": [roster]})).await;
        let assignment = |s: u64| {
            let (request, a) = (course * 1000 + s, assignment_of(course, s));
            assignment_item(course, 1, 1 + s, request, a, s)
        };
        let assignments: Vec<Value> = students.iter().map(|&s| assignment(s)).collect();
        let body = json!({"assignments": assignments});
        must("/create_update_assignments", body).await;
    }
}

/// What the file held after a kill, for the requests that were in flight.
#[derive(Debug, Default)]
struct AfterKill {
    acknowledged: usize,
    committed_unacknowledged: usize,
    not_stored: usize,
    /// Not stored below a stored number of the same course: gaps the
    /// clients' retries must fill.
    gaps: usize,
}

/// Opens the database file (while a server may run on it: SQLite in WAL
/// mode serves other processes' readers) and checks that every acknowledged
/// response is stored at its course and number; counts what became of the
/// others.
fn check_acknowledged_are_stored(database: &Path, sent: &BTreeMap<u64, Sent>) -> AfterKill {
    let store = SqlStore::open_sqlite(database, SqliteOptions::default()).expect("open the file");
    let mut after = AfterKill::default();
    let (mut highest_stored, mut absent) = (BTreeMap::new(), Vec::new());
    for (r, call) in sent {
        let event_id = EventId::parse(&id(RESPONSE, *r)).expect("uuid");
        let course = CourseId::parse(&id(COURSE, call.course)).expect("uuid");
        let stored = store.event(event_id).expect("read an event");
        match (stored, call.acked_by_run) {
            (Some(event), acked) => {
                assert_eq!(event.stream, StreamId::Course(course), "response {r}");
                let number = event.sequence_number.get();
                assert_eq!(number, call.sequence_number, "response {r}");
                match acked {
                    Some(_) => after.acknowledged += 1,
                    None => after.committed_unacknowledged += 1,
                }
                let highest = highest_stored.entry(call.course).or_insert(number);
                *highest = number.max(*highest);
            }
            (None, None) => absent.push((call.course, call.sequence_number)),
            (None, Some(run)) => panic!(
                "response {r} (course {}, number {}) was acknowledged by run {run} and is lost",
                call.course, call.sequence_number
            ),
        }
    }
    after.not_stored = absent.len();
    after.gaps = absent
        .iter()
        .filter(|(course, number)| highest_stored.get(course) > Some(number))
        .count();
    after
}

/// A course stream through fetch_course_events, page by page:
/// `(sequence_number, event_uuid, event_type)`. Fails on a gap.
async fn course_stream(
    http: &Http,
    address: SocketAddr,
    course: u64,
) -> Vec<(u64, String, String)> {
    let mut events = Vec::new();
    let mut offset = 0u64;
    loop {
        let body = json!({
            "course_event_requests": [{
                "request_uuid": id(REQUEST, 900_000 + course),
                "event_types": ALL_COURSE_TYPES,
                "course_uuid": id(COURSE, course),
                "sequence_number_offset": offset,
            }],
            "max_num_events": 1000,
        });
        let answer = http
            .post(address, "/fetch_course_events", &body)
            .await
            .expect("fetch_course_events");
        let page = answer.ok()["course_event_responses"][0].clone();
        assert_eq!(
            page["is_gap"], false,
            "course {course} has a gap after {offset}"
        );
        for event in page["events"].as_array().expect("events") {
            events.push((
                event["sequence_number"].as_u64().expect("number"),
                event["event_uuid"].as_str().expect("uuid").to_owned(),
                event["event_type"].as_str().expect("type").to_owned(),
            ));
        }
        if page["is_end"] == true {
            return events;
        }
        offset = events.last().map_or(offset, |e| e.0 + 1);
    }
}

/// The final checks through the API, on the last server.
fn check_streams_through_api(
    runtime: &tokio::runtime::Runtime,
    http: &Http,
    address: SocketAddr,
    sent: &BTreeMap<u64, Sent>,
) {
    let mut all_uuids = HashSet::new();
    for course in 1..=COURSES {
        let events = runtime.block_on(course_stream(http, address, course));
        let numbers: Vec<u64> = events.iter().map(|e| e.0).collect();
        let expected_len = events_of(sent, course);
        assert_eq!(
            numbers,
            (0..expected_len).collect::<Vec<_>>(),
            "course {course}: stored numbers must be exactly 0..{expected_len}"
        );
        for (number, uuid, _) in &events {
            assert!(
                all_uuids.insert(uuid.clone()),
                "event {uuid} stored twice (also at {number})"
            );
        }
        let stored: BTreeMap<String, u64> = events
            .into_iter()
            .filter(|e| e.2 == "record_response")
            .map(|e| (e.1, e.0))
            .collect();
        let expected: BTreeMap<String, u64> = sent
            .iter()
            .filter(|(_, call)| call.course == course && call.acked_by_run.is_some())
            .map(|(r, call)| (id(RESPONSE, *r), call.sequence_number))
            .collect();
        assert_eq!(
            stored, expected,
            "course {course}: the responses stored must be the acknowledged ones, each once at its number"
        );
    }
}

/// How many events course `course` must hold: setup plus its responses.
fn events_of(sent: &BTreeMap<u64, Sent>, course: u64) -> u64 {
    SETUP_EVENTS_PER_COURSE + sent.values().filter(|call| call.course == course).count() as u64
}

/// The store's view after the last server is gone: heads match, no gaps.
fn check_heads(database: &Path, sent: &BTreeMap<u64, Sent>) {
    let store = SqlStore::open_sqlite(database, SqliteOptions::default()).expect("open the file");
    for course in 1..=COURSES {
        let count = events_of(sent, course);
        let stream = StreamId::Course(CourseId::parse(&id(COURSE, course)).expect("uuid"));
        let head = store
            .stream_head(stream)
            .expect("head")
            .expect("stream exists");
        assert_eq!(head.high_water_mark, count, "course {course}");
        assert_eq!(
            head.contiguous_through.map(|n| n.get()),
            Some(count - 1),
            "course {course}"
        );
    }
    let gaps = store.open_gaps(100).expect("open gaps");
    assert!(gaps.is_empty(), "gaps left open: {gaps:?}");
}

/// Re-sends some responses acknowledged before the last kill (as Tutor does
/// when it is unsure), alongside the load; each must be acknowledged again.
async fn replay_some(load: Arc<Load>, acked: Vec<Value>) {
    let step = (acked.len() / REPLAYS_PER_RESTART).max(1);
    for body in acked.iter().step_by(step).take(REPLAYS_PER_RESTART) {
        // A refusal is recorded in `load.failures`.
        send_until_acked(&load, body).await;
    }
}

#[test]
fn acknowledged_responses_survive_kill_9_of_the_server() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = dir.path().join("kill9.sqlite3");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut server = ServerChild::start(&database);
    let http = Http::new();
    runtime.block_on(set_up_world(&http, server.address));
    let load = Arc::new(Load {
        http: http.clone(),
        target: RwLock::new((server.address, 0)),
        next_response: AtomicU64::new(0),
        next_sequence_number: (0..COURSES)
            .map(|_| AtomicU64::new(SETUP_EVENTS_PER_COURSE))
            .collect(),
        sent: Mutex::new(BTreeMap::new()),
        acks: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        failed_attempts: AtomicU64::new(0),
        failures: Mutex::new(Vec::new()),
        deadline: started + RUN_LIMIT,
    });
    let mut tasks: Vec<_> = (0..CLIENTS)
        .map(|_| runtime.spawn(client(Arc::clone(&load))))
        .collect();
    let mut acks_at_start = 0;
    for (run, kill_after) in KILL_AFTER_ACKS.into_iter().enumerate() {
        while load.acks.load(Ordering::Relaxed) < acks_at_start + kill_after {
            load.check_failures();
            assert!(Instant::now() < load.deadline, "the load stalled");
            std::thread::sleep(Duration::from_millis(1));
        }
        let in_flight = load.in_flight.load(Ordering::Relaxed);
        server.kill();
        // Every ack in the ledger now came from a dead server: the clients
        // still point at the killed one until the next is published below.
        let sent_before_kill = load.sent.lock().unwrap().clone();
        server = ServerChild::start(&database);
        let after = check_acknowledged_are_stored(&database, &sent_before_kill);
        eprintln!(
            "kill {} with {in_flight} requests in flight: {after:?}",
            run + 1
        );
        let acked_before_kill: Vec<Value> = sent_before_kill
            .into_values()
            .filter(|call| call.acked_by_run.is_some())
            .map(|call| call.body)
            .collect();
        acks_at_start = load.acks.load(Ordering::Relaxed);
        *load.target.write().unwrap() = (server.address, run + 1);
        tasks.push(runtime.spawn(replay_some(Arc::clone(&load), acked_before_kill)));
    }
    for handle in tasks {
        runtime.block_on(handle).expect("client task");
    }
    load.check_failures();
    let sent = load.sent.lock().unwrap().clone();
    assert_eq!(sent.len() as u64, RESPONSES);
    check_streams_through_api(&runtime, &http, server.address, &sent);
    server.kill();
    check_heads(&database, &sent);
    let mut by_run = [0usize; KILL_AFTER_ACKS.len() + 1];
    for call in sent.values() {
        by_run[call.acked_by_run.expect("every response acknowledged")] += 1;
    }
    eprintln!(
        "{RESPONSES} responses, acknowledged per server run {by_run:?}, {} failed attempts retried, {:.1} s",
        load.failed_attempts.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}
