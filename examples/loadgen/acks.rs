//! The acknowledgement log of a load run (`--acks-out FILE`) and its check
//! against a server (`--verify FILE`), for the `kill -9` drill of issue 5:
//! kill the server during load, restart it, let the load finish, then every
//! record_responses call that got a 2xx must be stored exactly once, at the
//! sequence number it was sent with.
//!
//! The log has one line per acknowledged call,
//! `<response_uuid> <course_uuid> <sequence_number>`, appended as the 2xx
//! arrives (a duplicate re-send that is acknowledged again adds the same
//! line again). Lines of several runs may share one file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::Api;

/// Sub-requests per fetch_course_events call (api.md: at most 1000).
const COURSES_PER_FETCH: usize = 1000;
/// Events per fetch_course_events call (api.md: at most 1000).
const EVENTS_PER_FETCH: u64 = 1000;
/// Tries of one fetch call before verification gives up.
const FETCH_TRIES: u32 = 10;
/// How many examples of each kind of failure are printed.
const EXAMPLES: usize = 5;
/// Every course event type (api.md §4.2).
const COURSE_EVENT_TYPES: [&str; 10] = [
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

/// Appends one line per acknowledged record_responses call.
pub struct AckLog {
    path: PathBuf,
    /// Line-buffered: a line reaches the file as soon as it is complete, so
    /// the log is current even if this process is killed too.
    file: Mutex<LineWriter<File>>,
    lines: AtomicU64,
    /// The first write error; reported at the end (the run goes on).
    error: Mutex<Option<String>>,
}

impl AckLog {
    /// Opens `path` for appending (created if missing).
    pub fn create(path: &Path) -> Result<AckLog, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("--acks-out {}: {e}", path.display()))?;
        Ok(AckLog {
            path: path.to_owned(),
            file: Mutex::new(LineWriter::new(file)),
            lines: AtomicU64::new(0),
            error: Mutex::new(None),
        })
    }

    /// Records the acknowledgement of a one-response record_responses body.
    pub fn record(&self, body: &Value) {
        let response = &body["responses"][0];
        let line = format!(
            "{} {} {}\n",
            response["response_uuid"].as_str().unwrap_or("?"),
            response["course_uuid"].as_str().unwrap_or("?"),
            response["sequence_number"]
        );
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        match file.write_all(line.as_bytes()) {
            Ok(()) => {
                self.lines.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                let mut error = self.error.lock().unwrap_or_else(PoisonError::into_inner);
                error.get_or_insert_with(|| format!("writing {}: {e}", self.path.display()));
            }
        }
    }

    /// Flushes; returns the number of lines written, or the first write
    /// error (then the log is incomplete and a verification would miss
    /// acknowledgements).
    pub fn finish(&self) -> Result<(u64, &Path), String> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.flush()
            .map_err(|e| format!("writing {}: {e}", self.path.display()))?;
        if let Some(error) = self
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Err(error);
        }
        Ok((self.lines.load(Ordering::Relaxed), &self.path))
    }
}

/// What the log says was acknowledged, per course: uuid → sequence number.
struct Acknowledged {
    courses: BTreeMap<String, BTreeMap<String, u64>>,
    lines: u64,
    /// Uuids listed at two different places (a client bug, not a server one).
    conflicting: Vec<String>,
}

fn read_log(path: &Path) -> Result<Acknowledged, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--verify {}: {e}", path.display()))?;
    let mut acknowledged = Acknowledged {
        courses: BTreeMap::new(),
        lines: 0,
        conflicting: Vec::new(),
    };
    let mut places: HashMap<String, (String, u64)> = HashMap::new();
    let complete = text.rsplit_once('\n').map_or("", |(lines, _)| lines);
    if complete.len() + 1 < text.len() {
        eprintln!("verify: ignoring an unfinished last line (the writer was cut off)");
    }
    for (number, line) in complete.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields.as_slice() {
            [response, course, sequence_number] => Uuid::parse_str(response)
                .ok()
                .zip(Uuid::parse_str(course).ok())
                .zip(sequence_number.parse::<u64>().ok()),
            _ => None,
        };
        let Some(((response, course), sequence_number)) = parsed else {
            return Err(format!(
                "{} line {}: expected `<response_uuid> <course_uuid> <sequence_number>`, got {line:?}",
                path.display(),
                number + 1
            ));
        };
        acknowledged.lines += 1;
        let (response, course) = (response.to_string(), course.to_string());
        let place = (course.clone(), sequence_number);
        match places.get(&response) {
            Some(known) if *known != place => acknowledged.conflicting.push(response),
            Some(_) => {}
            None => {
                places.insert(response.clone(), place);
                acknowledged
                    .courses
                    .entry(course)
                    .or_default()
                    .insert(response, sequence_number);
            }
        }
    }
    Ok(acknowledged)
}

/// One course's events as the server shows them.
#[derive(Default)]
struct Scan {
    /// Next sequence number to ask for; `None` once done.
    offset: Option<u64>,
    /// The highest acknowledged number: past it, gaps need no probing.
    last_acknowledged: u64,
    /// Event uuid → every number the server showed it at.
    stored: HashMap<String, Vec<u64>>,
    /// Numbers the server showed an event at.
    visible: HashSet<u64>,
    /// Numbers the server answers with `[]` and `is_gap`: missing, or
    /// stored right behind a missing one (api.md §4.7 shows no event whose
    /// predecessor is missing).
    blocked: Vec<u64>,
    /// Nothing is stored at or after this number (the server said `is_end`).
    end: Option<u64>,
}

/// Reads every course of the log through fetch_course_events. A gap stops
/// a fetch (api.md §4.7); the scan then probes the next numbers one by one
/// until it finds events again, so acknowledged responses further behind a
/// gap (left by a request the client gave up on) are still found.
async fn scan_courses(
    api: &Api,
    acknowledged: &Acknowledged,
) -> Result<BTreeMap<String, Scan>, String> {
    let mut scans: BTreeMap<String, Scan> = acknowledged
        .courses
        .iter()
        .map(|(course, responses)| {
            let scan = Scan {
                offset: Some(0),
                last_acknowledged: responses.values().copied().max().unwrap_or(0),
                ..Scan::default()
            };
            (course.clone(), scan)
        })
        .collect();
    loop {
        let active: Vec<(String, u64)> = scans
            .iter()
            .filter_map(|(course, scan)| scan.offset.map(|offset| (course.clone(), offset)))
            .take(COURSES_PER_FETCH)
            .collect();
        if active.is_empty() {
            return Ok(scans);
        }
        // Every type, so that the numbers around a gap are known exactly.
        let requests: Vec<Value> = active
            .iter()
            .map(|(course, offset)| {
                json!({"request_uuid": Uuid::new_v4().to_string(), "event_types": COURSE_EVENT_TYPES,
                    "course_uuid": course, "sequence_number_offset": offset})
            })
            .collect();
        let body = json!({"course_event_requests": requests, "max_num_events": EVENTS_PER_FETCH});
        let answer = fetch(api, &body).await?;
        let responses = answer["course_event_responses"]
            .as_array()
            .ok_or_else(|| format!("fetch_course_events: no course_event_responses in {answer}"))?;
        for ((course, offset), response) in active.iter().zip(responses) {
            let scan = scans
                .get_mut(course)
                .ok_or_else(|| format!("fetch_course_events: unknown course {course}"))?;
            scan.offset = advance(scan, *offset, response)?;
        }
    }
}

/// Records one course's page; returns the next offset (`None` when done).
fn advance(scan: &mut Scan, offset: u64, response: &Value) -> Result<Option<u64>, String> {
    let events = response["events"]
        .as_array()
        .ok_or_else(|| format!("fetch_course_events: no events in {response}"))?;
    let mut next = offset;
    for event in events {
        let (Some(number), Some(uuid)) = (
            event["sequence_number"].as_u64(),
            event["event_uuid"].as_str(),
        ) else {
            return Err(format!("fetch_course_events: malformed event {event}"));
        };
        // The log holds canonical (lower-case) uuids; compare like with like.
        let uuid = Uuid::parse_str(uuid)
            .map_err(|e| format!("fetch_course_events: event_uuid {uuid:?}: {e}"))?;
        scan.stored
            .entry(uuid.to_string())
            .or_default()
            .push(number);
        scan.visible.insert(number);
        next = number + 1;
    }
    let is_gap = response["is_gap"] == true;
    let is_end = response["is_end"] == true;
    Ok(if is_end {
        scan.end = Some(next);
        None
    } else if is_gap && events.is_empty() {
        // Step over `offset` while acknowledged responses may lie beyond.
        scan.blocked.push(offset);
        (offset < scan.last_acknowledged).then_some(offset + 1)
    } else {
        // Events up to a gap, or a page cut by the call-wide cap.
        Some(next)
    })
}

async fn fetch(api: &Api, body: &Value) -> Result<Value, String> {
    let mut last_error = String::new();
    for attempt in 0..FETCH_TRIES {
        match api.must("fetch_course_events", body).await {
            Ok(answer) => return Ok(answer),
            Err(error) => last_error = error,
        }
        tokio::time::sleep(std::time::Duration::from_millis(100 << attempt.min(4))).await;
    }
    Err(format!(
        "fetch_course_events failed {FETCH_TRIES} times: {last_error}"
    ))
}

/// What became of the acknowledged responses.
#[derive(Default)]
struct Verdict {
    exact: usize,
    /// Proven absent: the number before it is shown (so it would be too),
    /// or it lies past the end of the stream.
    missing: Vec<String>,
    misplaced: Vec<String>,
    repeated: Vec<String>,
    /// Not shown, right behind a missing number: stored or not, the API
    /// cannot tell.
    hidden: Vec<String>,
}

fn judge(acknowledged: &Acknowledged, scans: &BTreeMap<String, Scan>) -> Verdict {
    let mut verdict = Verdict::default();
    for (course, responses) in &acknowledged.courses {
        let Some(scan) = scans.get(course) else {
            continue;
        };
        for (uuid, &number) in responses {
            let place = format!("{uuid} (course {course}, number {number})");
            match scan.stored.get(uuid).map(Vec::as_slice) {
                Some([stored]) if *stored == number => verdict.exact += 1,
                Some([stored]) => verdict
                    .misplaced
                    .push(format!("{place}: stored at {stored}")),
                Some(stored) if !stored.is_empty() => verdict
                    .repeated
                    .push(format!("{place}: stored at {stored:?}")),
                _ if scan.visible.contains(&number) => verdict
                    .missing
                    .push(format!("{place}: another event holds the number")),
                _ if number == 0
                    || scan.visible.contains(&(number - 1))
                    || scan.end.is_some_and(|end| number >= end) =>
                {
                    verdict.missing.push(place)
                }
                _ => verdict.hidden.push(place),
            }
        }
    }
    verdict
}

/// Checks the log at `path` against the server; prints a summary and
/// returns `Err` unless every acknowledged response is shown stored exactly
/// once at its number.
pub async fn verify(api: &Api, path: &Path) -> Result<(), String> {
    let acknowledged = read_log(path)?;
    let total: usize = acknowledged.courses.values().map(BTreeMap::len).sum();
    println!(
        "verify: {} lines, {total} acknowledged responses in {} courses",
        acknowledged.lines,
        acknowledged.courses.len()
    );
    let scans = scan_courses(api, &acknowledged).await?;
    let verdict = judge(&acknowledged, &scans);
    println!(
        "stored exactly once at their number: {} of {total}",
        verdict.exact
    );
    println!(
        "missing: {}, stored at another number: {}, stored more than once: {}",
        verdict.missing.len(),
        verdict.misplaced.len(),
        verdict.repeated.len()
    );
    let blocked: usize = scans.values().map(|scan| scan.blocked.len()).sum();
    if blocked > 0 {
        println!(
            "gaps: {blocked} numbers answered as gaps (requests never acknowledged, e.g. given up by \
             the client, leave them); {} acknowledged responses sit right behind one, where \
             fetch_course_events shows nothing, so they cannot be checked",
            verdict.hidden.len()
        );
    } else {
        println!("gaps: none up to the last acknowledged number");
    }
    if !acknowledged.conflicting.is_empty() {
        println!(
            "the log lists {} uuids at two different places (the first one is checked): {:?}",
            acknowledged.conflicting.len(),
            &acknowledged.conflicting[..acknowledged.conflicting.len().min(EXAMPLES)]
        );
    }
    for (what, list) in [
        ("missing", &verdict.missing),
        ("at another number", &verdict.misplaced),
        ("stored more than once", &verdict.repeated),
        ("behind a gap", &verdict.hidden),
    ] {
        for example in list.iter().take(EXAMPLES) {
            println!("  {what}: {example}");
        }
    }
    let failures = verdict.missing.len() + verdict.misplaced.len() + verdict.repeated.len();
    if failures > 0 {
        return Err(format!(
            "{failures} of {total} acknowledged responses are not stored exactly once at their number"
        ));
    }
    if !verdict.hidden.is_empty() {
        return Err(format!(
            "{} of {total} acknowledged responses could not be checked (behind gaps); rerun the \
             drill with a --max-tries that outlasts the outage, so that no gap remains",
            verdict.hidden.len()
        ));
    }
    println!("verify: OK");
    Ok(())
}
