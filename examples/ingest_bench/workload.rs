//! A realistic ingest workload: record_response events from many courses in
//! Tutor-shaped requests (api.md §4.4, §6.1).
//!
//! Every course is created first (create_course at sequence number 0); then
//! each request of `batch` responses goes to one random course and takes the
//! next `batch` numbers of that course's counter, exactly like Tutor's
//! per-course counter. A fraction of the requests are replays of earlier
//! ones (same uuids and numbers: Tutor's job retries), which the log must
//! acknowledge without storing anything twice.

use biglearn_core::events::{CreateCourse, Datetime, RecordResponse, WireEvent};
use biglearn_core::ids::{CourseId, EcosystemId, ExerciseId, ResponseId, StudentId, TrialId};
use biglearn_core::log::{AppendRequest, Event, SequenceNumber};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// Students per course and exercises per ecosystem of the generated data.
const STUDENTS_PER_COURSE: u64 = 40;
const EXERCISES: u64 = 2_000;
/// 2017-08-01T00:00:00Z, the start of the simulated term.
const TERM_START_MICROS: i64 = 1_501_545_600_000_000;

/// Sizes of a workload.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadSpec {
    /// record_response events to generate (not counting replays).
    pub events: u64,
    /// Courses, each created first.
    pub courses: u64,
    /// Events per request.
    pub batch: u64,
    /// Fraction of requests that are replays of an earlier request.
    pub replay_fraction: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

/// The generated requests, in the order a Tutor-like client would send them.
pub struct Workload {
    /// Requests in sending order (creates first, replays interleaved).
    pub requests: Vec<AppendRequest>,
    /// Events that are new (the rows a log must end up storing).
    pub unique_events: u64,
    /// Requests that replay an earlier request.
    pub replayed_requests: u64,
}

/// A uuid from the generator (random version-4 shape).
fn uuid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

/// A uuid that is a pure function of a namespace tag and an index, so that
/// students and exercises recur across requests.
fn derived_uuid(tag: u64, index: u64) -> Uuid {
    uuid::Builder::from_random_bytes(((u128::from(tag) << 64) | u128::from(index)).to_le_bytes())
        .into_uuid()
}

fn datetime(micros: i64) -> Result<Datetime, String> {
    Datetime::from_unix_micros(micros).ok_or_else(|| format!("time {micros} µs is out of range"))
}

impl Workload {
    /// Generates the whole workload (deterministic in `spec.seed`).
    pub fn generate(spec: WorkloadSpec) -> Result<Workload, String> {
        if spec.courses == 0 || spec.batch == 0 {
            return Err("--courses and --batch must be at least 1".into());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let ecosystem = EcosystemId::from_uuid(uuid(&mut rng));
        let courses: Vec<CourseId> = (0..spec.courses)
            .map(|_| CourseId::from_uuid(uuid(&mut rng)))
            .collect();
        let mut requests = Vec::new();
        for course in &courses {
            let create = CreateCourse {
                course_uuid: *course,
                ecosystem_uuid: ecosystem,
                is_real_course: true,
                starts_at: datetime(TERM_START_MICROS)?,
                ends_at: datetime(TERM_START_MICROS + 120 * 86_400_000_000)?,
                created_at: datetime(TERM_START_MICROS - 86_400_000_000)?,
            };
            requests.push(AppendRequest {
                events: vec![create.to_event()],
            });
        }
        // Next free number per course: 0 went to create_course.
        let mut counters = vec![1u64; courses.len()];
        let mut generated = 0u64;
        let mut replayed_requests = 0u64;
        let mut clock = TERM_START_MICROS;
        while generated < spec.events {
            let first_response = courses.len();
            if requests.len() > first_response && rng.gen_bool(spec.replay_fraction) {
                let earlier = rng.gen_range(first_response..requests.len());
                let replay = requests[earlier].clone();
                requests.push(replay);
                replayed_requests += 1;
                continue;
            }
            let c = rng.gen_range(0..courses.len());
            let len = spec.batch.min(spec.events - generated);
            let mut events: Vec<Event> = Vec::with_capacity(len as usize);
            for _ in 0..len {
                let number =
                    SequenceNumber::new(counters[c]).map_err(|e| format!("course {c}: {e}"))?;
                counters[c] += 1;
                clock += rng.gen_range(1_000..50_000);
                let student = rng.gen_range(0..STUDENTS_PER_COURSE);
                let response = RecordResponse {
                    response_uuid: ResponseId::from_uuid(uuid(&mut rng)),
                    course_uuid: courses[c],
                    sequence_number: number,
                    ecosystem_uuid: ecosystem,
                    trial_uuid: TrialId::from_uuid(uuid(&mut rng)),
                    student_uuid: StudentId::from_uuid(derived_uuid(c as u64 + 1, student)),
                    exercise_uuid: ExerciseId::from_uuid(derived_uuid(
                        0,
                        rng.gen_range(0..EXERCISES),
                    )),
                    is_correct: rng.gen_bool(0.7),
                    is_real_response: true,
                    responded_at: datetime(clock)?,
                };
                events.push(response.to_event());
            }
            generated += len;
            requests.push(AppendRequest { events });
        }
        Ok(Workload {
            requests,
            unique_events: spec.courses + spec.events,
            replayed_requests,
        })
    }

    /// Every event a log must store, in first-sending order (replays skipped).
    pub fn unique_rows(&self) -> impl Iterator<Item = &Event> {
        let mut seen = std::collections::HashSet::new();
        self.requests
            .iter()
            .filter(move |r| r.events.first().map_or(true, |e| seen.insert(e.event_id)))
            .flat_map(|r| r.events.iter())
    }
}
