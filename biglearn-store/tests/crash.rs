//! Crash test of group-commit ingest on SQLite (O2a: acknowledge only after
//! the commit is durable).
//!
//! The parent test re-runs this test binary as a child process in "writer"
//! mode ([`child_writer_process`], selected by an environment variable). The
//! child opens a SQLite file through [`SqlStore`] with `synchronous=FULL` and
//! appends through one [`Ingestor`] from several threads, printing a `SEND`
//! line before and an `ACK`/`REJ` line after every request. The parent
//! SIGKILLs it mid-load, reopens the file and checks:
//!
//! - every acknowledged event is stored, at its stream and number;
//! - every request is all-or-nothing (its events all stored or all absent);
//! - a rejected request stored nothing;
//! - per course, stored numbers are exactly `0..n` (each course has a single
//!   writer that waits for the acknowledgement before its next request, so a
//!   crash may cut the tail but never open a gap), and the stream head agrees;
//! - course metadata numbers are gap-free `0..k`, one per stored create_course.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{
    AppendError, AppendRequest, Event, EventData, EventLog, EventType, SequenceNumber, StreamId,
    StreamKind,
};
use biglearn_store::{IngestConfig, Ingestor, SqlStore, SqliteOptions, Synchronous};
use uuid::Uuid;

/// Set (to the database path) only in the child process.
const CHILD_ENV: &str = "BIGLEARN_CRASH_CHILD_DB";
/// The child's name in this test binary.
const CHILD_TEST: &str = "child_writer_process";
const WRITER_THREADS: usize = 6;
const COURSES_PER_THREAD: usize = 2;
/// The child stops on its own after this long (if the parent vanished).
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

fn sqlite_options() -> SqliteOptions {
    SqliteOptions {
        synchronous: Synchronous::Full,
        ..SqliteOptions::default()
    }
}

/// One printed line, written and flushed at once.
fn say(line: String) {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes()).expect("stdout");
    out.write_all(b"\n").expect("stdout");
    out.flush().expect("stdout");
}

fn create_course(course: CourseId) -> Event {
    let data = serde_json::json!({
        "course_uuid": course.to_string(),
        "sequence_number": 0,
        "ecosystem_uuid": Uuid::new_v4().to_string(),
        "is_real_course": true,
        "starts_at": "2017-08-01T00:00:00.000000Z",
        "ends_at": "2017-12-20T00:00:00.000000Z",
        "created_at": "2017-07-01T00:00:00.000000Z",
    });
    Event {
        stream: StreamId::Course(course),
        sequence_number: SequenceNumber::ZERO,
        event_id: EventId::from_uuid(*course.as_uuid()),
        event_type: EventType::CreateCourse,
        data: EventData::from_value(&data),
    }
}

fn record_response(course: CourseId, number: u64, id: Uuid) -> Event {
    let data = serde_json::json!({
        "response_uuid": id.to_string(),
        "course_uuid": course.to_string(),
        "sequence_number": number,
        "ecosystem_uuid": "5d5c2d8a-0000-4000-8000-000000000001",
        "trial_uuid": Uuid::new_v4().to_string(),
        "student_uuid": Uuid::new_v4().to_string(),
        "exercise_uuid": Uuid::new_v4().to_string(),
        "is_correct": number % 3 != 0,
        "is_real_response": true,
        "responded_at": "2017-09-01T12:00:00.000000Z",
    });
    Event {
        stream: StreamId::Course(course),
        sequence_number: SequenceNumber::new(number).expect("small number"),
        event_id: EventId::from_uuid(id),
        event_type: EventType::RecordResponse,
        data: EventData::from_value(&data),
    }
}

/// `SEND <request> <course>:<number>:<event> ...`
fn send_line(tag: &str, request: &AppendRequest) -> String {
    let mut line = format!("SEND {tag}");
    for e in &request.events {
        line.push_str(&format!(
            " {}:{}:{}",
            e.stream.uuid(),
            e.sequence_number,
            e.event_id
        ));
    }
    line
}

/// One writer thread of the child: owns its courses, so it alone numbers them.
fn child_writer(t: usize, ingestor: &Ingestor<SqlStore>, deadline: Instant) {
    let courses: Vec<CourseId> = (0..COURSES_PER_THREAD)
        .map(|_| CourseId::from_uuid(Uuid::new_v4()))
        .collect();
    let mut next = vec![0u64; courses.len()];
    let mut last_acked: Option<AppendRequest> = None;
    let mut i = 0usize;
    while Instant::now() < deadline {
        i += 1;
        let tag = format!("{t}-{i}");
        let fresh = |c: usize, k: u64, next: &[u64]| {
            record_response(courses[c], next[c] + k, Uuid::new_v4())
        };
        // (request, numbers it takes per course if accepted, expect rejection)
        let (request, takes, conflict) = if let Some(c) = next.iter().position(|n| *n == 0) {
            (
                AppendRequest {
                    events: vec![create_course(courses[c])],
                },
                vec![(c, 1)],
                false,
            )
        } else {
            match i % 20 {
                0 if last_acked.is_some() => (last_acked.clone().expect("checked"), vec![], false),
                7 => {
                    // A new uuid at a used number of course 0 + a fresh event
                    // of course 1: the whole request must be refused.
                    let taken = record_response(courses[0], next[0] - 1, Uuid::new_v4());
                    (
                        AppendRequest {
                            events: vec![taken, fresh(1, 0, &next)],
                        },
                        vec![],
                        true,
                    )
                }
                3 | 11 => {
                    let mut events: Vec<Event> = (0..3).map(|k| fresh(0, k, &next)).collect();
                    events.extend((0..3).map(|k| fresh(1, k, &next)));
                    (AppendRequest { events }, vec![(0, 3), (1, 3)], false)
                }
                _ => {
                    let c = i % COURSES_PER_THREAD;
                    let events = (0..5).map(|k| fresh(c, k, &next)).collect();
                    (AppendRequest { events }, vec![(c, 5)], false)
                }
            }
        };
        say(send_line(&tag, &request));
        match ingestor.append(request.clone()) {
            Ok(receipt) => {
                assert!(!conflict, "request {tag} should have been rejected");
                say(format!(
                    "ACK {tag} stored={} replayed={}",
                    receipt.stored, receipt.replayed
                ));
                for (c, n) in takes {
                    next[c] += n;
                }
                last_acked = Some(request);
            }
            Err(AppendError::Rejected(rejection)) => {
                assert!(conflict, "request {tag} rejected: {rejection}");
                say(format!("REJ {tag}"));
            }
            Err(AppendError::Store(error)) => panic!("request {tag}: store failed: {error}"),
        }
    }
}

/// Child mode only: does nothing unless the parent set [`CHILD_ENV`].
#[test]
fn child_writer_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = SqlStore::open_sqlite(&path, sqlite_options()).expect("open");
    store.migrate().expect("migrate");
    let pragmas = store.sqlite_pragmas().expect("pragmas").expect("sqlite");
    assert_eq!(pragmas.durability, Synchronous::Full);
    assert_eq!(pragmas.writer.journal_mode, "wal");
    let config = IngestConfig {
        max_group_requests: 8,
        ..IngestConfig::default()
    };
    let ingestor = Arc::new(Ingestor::with_config(Arc::new(store), config));
    say("READY".into());
    let deadline = Instant::now() + CHILD_LIFETIME;
    thread::scope(|scope| {
        for t in 0..WRITER_THREADS {
            let ingestor = &ingestor;
            scope.spawn(move || child_writer(t, ingestor, deadline));
        }
    });
}

/// One sent request as the parent saw it.
#[derive(Debug, Default)]
struct Sent {
    events: Vec<(CourseId, u64, EventId)>,
    acked: bool,
    rejected: bool,
}

/// Runs a child, kills it after `kill_after` acknowledgements, returns what
/// it sent and the database path.
fn run_child_and_kill(
    dir: &std::path::Path,
    kill_after: usize,
) -> (String, BTreeMap<String, Sent>) {
    let db = dir
        .join("crash.sqlite")
        .to_str()
        .expect("utf-8 path")
        .to_owned();
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout);
    let mut sent: BTreeMap<String, Sent> = BTreeMap::new();
    let mut acks = 0usize;
    let mut killed = false;
    let mut line = String::new();
    loop {
        line.clear();
        let n = lines.read_line(&mut line).expect("read child stdout");
        if n == 0 {
            break;
        }
        // A line cut by the kill has no newline: it was never complete.
        if !line.ends_with('\n') {
            break;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("SEND"), Some(tag)) => {
                let events = words
                    .map(|w| {
                        let mut parts = w.split(':');
                        let course = CourseId::parse(parts.next().expect("course")).expect("uuid");
                        let number: u64 = parts.next().expect("number").parse().expect("number");
                        let id = EventId::parse(parts.next().expect("event")).expect("uuid");
                        (course, number, id)
                    })
                    .collect();
                sent.insert(
                    tag.to_owned(),
                    Sent {
                        events,
                        ..Sent::default()
                    },
                );
            }
            (Some("ACK"), Some(tag)) => {
                sent.get_mut(tag).expect("ACK after SEND").acked = true;
                acks += 1;
            }
            (Some("REJ"), Some(tag)) => sent.get_mut(tag).expect("REJ after SEND").rejected = true,
            _ => {}
        }
        if acks >= kill_after && !killed {
            child.kill().expect("SIGKILL child");
            killed = true;
        }
    }
    let status = child.wait().expect("wait child");
    if !killed {
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            std::io::Read::read_to_string(&mut err, &mut stderr).ok();
        }
        panic!("child exited ({status}) after {acks} acks, before the kill:\n{stderr}");
    }
    (db, sent)
}

/// Reopens the killed child's database and checks every invariant.
fn check_database(db: &str, sent: &BTreeMap<String, Sent>) {
    let store = SqlStore::open_sqlite(db, sqlite_options()).expect("reopen");
    store.migrate().expect("migrate");
    let mut stored_numbers: HashMap<CourseId, BTreeSet<u64>> = HashMap::new();
    let mut acked_events = 0usize;
    // Requests sent but neither acknowledged nor rejected: [absent, stored].
    let mut in_flight = [0usize; 2];
    for (tag, request) in sent {
        let mut present = 0usize;
        for (course, number, id) in &request.events {
            match store.event(*id).expect("read event") {
                Some(event)
                    if event.stream == StreamId::Course(*course)
                        && event.sequence_number.get() == *number =>
                {
                    present += 1;
                    stored_numbers.entry(*course).or_default().insert(*number);
                }
                Some(event) => panic!("request {tag}: event {id} stored elsewhere: {event:?}"),
                None => {}
            }
        }
        assert!(
            present == 0 || present == request.events.len(),
            "request {tag} is partially stored: {present} of {}",
            request.events.len()
        );
        if request.acked {
            assert_eq!(
                present,
                request.events.len(),
                "acknowledged request {tag} was lost"
            );
            acked_events += present;
        }
        if request.rejected {
            assert_eq!(present, 0, "rejected request {tag} left events behind");
        }
        if !request.acked && !request.rejected {
            in_flight[usize::from(present > 0)] += 1;
        }
    }
    eprintln!(
        "  in flight at the kill: {} committed without acknowledgement, {} not stored",
        in_flight[1], in_flight[0]
    );
    assert!(acked_events > 0);
    let mut created = 0u64;
    for (course, numbers) in &stored_numbers {
        let count = numbers.len() as u64;
        assert_eq!(
            numbers.iter().copied().collect::<Vec<_>>(),
            (0..count).collect::<Vec<_>>(),
            "course {course} has a gap"
        );
        let head = store
            .stream_head(StreamId::Course(*course))
            .expect("head")
            .expect("stream exists");
        assert_eq!(head.high_water_mark, count, "course {course}");
        assert_eq!(
            head.contiguous_through.map(|n| n.get()),
            Some(count - 1),
            "course {course}"
        );
        created += 1;
    }
    let metadata = store
        .fetch_metadatas(StreamKind::Course, 0, 1000)
        .expect("metadata");
    let numbers: Vec<u64> = metadata
        .iter()
        .map(|m| m.metadata_sequence_number)
        .collect();
    assert_eq!(
        numbers,
        (0..created).collect::<Vec<_>>(),
        "metadata numbers must be gap-free"
    );
    let courses: BTreeSet<StreamId> = metadata.iter().map(|m| m.stream).collect();
    let expected: BTreeSet<StreamId> = stored_numbers
        .keys()
        .map(|c| StreamId::Course(*c))
        .collect();
    assert_eq!(
        courses, expected,
        "one metadata number per stored create_course"
    );
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    for kill_after in [1, 150, 700, 2000] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (db, sent) = run_child_and_kill(dir.path(), kill_after);
        let acked = sent.values().filter(|s| s.acked).count();
        let unacked = sent.values().filter(|s| !s.acked && !s.rejected).count();
        eprintln!("kill after {kill_after} acks: {} requests sent, {acked} acknowledged, {unacked} in flight", sent.len());
        check_database(&db, &sent);
    }
}
