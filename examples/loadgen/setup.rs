//! Creating the world on the server before the load: the ecosystem, every
//! course (and the probe courses), one roster per course and one assignment
//! per student. Calls run a few at a time, each retried like the load's
//! (same body, so a retry is a harmless replay), and a progress bar per
//! phase shows on a terminal: a million students take a while.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressBar;
use serde_json::json;
use tokio::task::JoinSet;

use crate::calls::{Client, Transport};
use crate::progress;
use crate::world::{World, PROBE_COURSES};

/// A roster event replaces the course's whole roster, so a course's
/// students travel in one update_rosters call; at about 200 bytes a student
/// this many stay well inside the server's default 16 MiB body limit.
pub const MAX_STUDENTS_PER_COURSE: u64 = 50_000;
/// Students per update_rosters or create_update_assignments call (a course
/// larger than this gets a roster call of its own).
const STUDENTS_PER_CALL: u64 = 1000;
/// Setup calls in flight at once.
const PARALLEL: usize = 4;

/// Creates the world; returns each course's next sequence number (the
/// probe courses last).
pub async fn setup<T: Transport>(
    api: &Client<T>,
    world: &Arc<World>,
) -> Result<Arc<Vec<AtomicU64>>, String> {
    api.must_with_retries("create_ecosystem", &world.ecosystem_body())
        .await?;
    let courses = world.all_courses();

    let bar = progress::bar(courses, "courses");
    let jobs = (0..courses).map(|c| {
        let (api, world) = (api.clone(), Arc::clone(world));
        let job = async move {
            api.must_with_retries("create_course", &world.course_body(c))
                .await
                .map(drop)
        };
        (1, job)
    });
    parallel(jobs, &bar).await?;
    bar.finish_and_clear();

    let bar = progress::bar(world.all_students(), "rosters");
    let mut groups: Vec<Vec<u64>> = Vec::new();
    let mut size = 0;
    for c in 0..courses {
        let n = world.course_size(c);
        match groups.last_mut() {
            Some(group) if size + n <= STUDENTS_PER_CALL => group.push(c),
            _ => {
                groups.push(vec![c]);
                size = 0;
            }
        }
        size += n;
    }
    let jobs = groups.into_iter().map(|group| {
        let weight = group.iter().map(|c| world.course_size(*c)).sum();
        let (api, world) = (api.clone(), Arc::clone(world));
        let job = async move {
            let rosters: Vec<_> = group
                .iter()
                .map(|c| {
                    let students: Vec<u64> = world.students_of(*c).collect();
                    world.roster_item(*c, 1, &students)
                })
                .collect();
            api.must_with_retries("update_rosters", &json!({ "rosters": rosters }))
                .await
                .map(drop)
        };
        (weight, job)
    });
    parallel(jobs, &bar).await?;
    bar.finish_and_clear();

    let bar = progress::bar(world.all_students(), "assignments");
    let everyone = world.all_students();
    let jobs = (0..everyone)
        .step_by(STUDENTS_PER_CALL as usize)
        .map(|first| {
            let end = (first + STUDENTS_PER_CALL).min(everyone);
            let (api, world) = (api.clone(), Arc::clone(world));
            let job = async move {
                let items: Vec<_> = (first..end)
                    .map(|s| world.assignment_item(s, world.assignment_sequence(s)))
                    .collect();
                api.must_with_retries(
                    "create_update_assignments",
                    &json!({ "assignments": items }),
                )
                .await
                .map(drop)
            };
            (end - first, job)
        });
    parallel(jobs, &bar).await?;
    bar.finish_and_clear();

    eprintln!(
        "setup: 1 ecosystem, {} courses, {} students, {} assignments (+{} probe courses of one student)",
        world.courses, world.students, world.students, PROBE_COURSES
    );
    Ok(Arc::new(
        (0..courses)
            .map(|c| AtomicU64::new(2 + world.course_size(c)))
            .collect(),
    ))
}

/// Courses named in one lag read (fetch_student_clues answers the summed
/// backlog of the courses its items name).
const COURSES_PER_LAG_READ: u64 = 1000;
/// Pause between two rounds of lag reads.
const LAG_POLL: Duration = Duration::from_millis(200);

/// Waits until the engine has processed every setup event (the lag of
/// every course is 0), so the load measures responses against an engine
/// that is up to date, as in a real term where rosters and assignments
/// arrive long before the answers. Returns how long that took, or an error
/// after `timeout`.
pub async fn wait_for_engine<T: Transport>(
    api: &Client<T>,
    world: &World,
    timeout: Duration,
) -> Result<Duration, String> {
    let started = std::time::Instant::now();
    let courses = world.all_courses();
    let reads: Vec<serde_json::Value> = (0..courses)
        .step_by(COURSES_PER_LAG_READ as usize)
        .map(|first| {
            let items: Vec<serde_json::Value> = (first
                ..(first + COURSES_PER_LAG_READ).min(courses))
                .filter_map(|c| world.students_of(c).next())
                .map(|s| world.clue_read(s)["student_clue_requests"][0].clone())
                .collect();
            json!({ "student_clue_requests": items })
        })
        .collect();
    let bar = progress::spinner("engine catching up with the setup (events behind)");
    loop {
        let mut behind = 0;
        for read in &reads {
            let reply = api
                .post("fetch_student_clues", read)
                .await
                .map_err(|e| format!("setup: reading the engine's lag: {}", e.reason()))?;
            if reply.status != 200 {
                return Err(format!(
                    "setup: reading the engine's lag: HTTP {}",
                    reply.status
                ));
            }
            behind += reply.lag.unwrap_or(0);
        }
        bar.set_position(behind);
        if behind == 0 {
            bar.finish_and_clear();
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            bar.finish_and_clear();
            return Err(format!(
                "setup: the engine was still {behind} events behind the setup after {} s",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(LAG_POLL).await;
    }
}

/// Runs the jobs [`PARALLEL`] at a time, advancing `bar` by each finished
/// job's weight; stops at the first error.
async fn parallel<F>(jobs: impl Iterator<Item = (u64, F)>, bar: &ProgressBar) -> Result<(), String>
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut running = JoinSet::new();
    for (weight, job) in jobs {
        if running.len() >= PARALLEL {
            finish_one(&mut running, bar).await?;
        }
        running.spawn(async move { job.await.map(|()| weight) });
    }
    while !running.is_empty() {
        finish_one(&mut running, bar).await?;
    }
    Ok(())
}

async fn finish_one(
    running: &mut JoinSet<Result<u64, String>>,
    bar: &ProgressBar,
) -> Result<(), String> {
    match running.join_next().await {
        Some(Ok(Ok(weight))) => {
            bar.inc(weight);
            Ok(())
        }
        Some(Ok(Err(error))) => Err(format!("setup: {error}")),
        Some(Err(error)) => Err(format!("setup: a task failed: {error}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::Ordering;
    use std::sync::Mutex;
    use std::time::Duration;

    use hyper::body::Bytes;
    use serde_json::Value;

    use super::*;
    use crate::calls::Reply;

    /// Answers every call 200 and keeps what was sent.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<(&'static str, Value)>>,
    }

    impl Transport for Arc<Recorder> {
        fn exchange(
            &self,
            endpoint: &'static str,
            body: &Value,
        ) -> impl Future<Output = Result<Reply, String>> + Send {
            self.sent.lock().unwrap().push((endpoint, body.clone()));
            async {
                Ok(Reply {
                    status: 200,
                    body: Bytes::from_static(b"{}"),
                    lag: None,
                })
            }
        }
    }

    #[tokio::test]
    async fn each_course_gets_its_whole_roster_in_one_event_and_gap_free_numbers() {
        // 2,500 students over 2 courses: 1,250 each, more than one call's
        // worth, which must still arrive as one roster per course.
        let recorder = Arc::new(Recorder::default());
        let api = Client::with_transport(Arc::clone(&recorder), 4, Duration::from_secs(5));
        let world = Arc::new(World::new(2, 2500));
        let next = setup(&api, &world).await.unwrap();
        let sent = recorder.sent.lock().unwrap().clone();
        let mut rosters: BTreeMap<String, Vec<(u64, usize)>> = BTreeMap::new();
        let mut numbers: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut courses = 0;
        for (endpoint, body) in &sent {
            match *endpoint {
                "create_course" => courses += 1,
                "update_rosters" => {
                    for roster in body["rosters"].as_array().unwrap() {
                        rosters
                            .entry(roster["course_uuid"].as_str().unwrap().to_owned())
                            .or_default()
                            .push((
                                roster["sequence_number"].as_u64().unwrap(),
                                roster["students"].as_array().unwrap().len(),
                            ));
                    }
                }
                "create_update_assignments" => {
                    let items = body["assignments"].as_array().unwrap();
                    assert!(items.len() <= STUDENTS_PER_CALL as usize);
                    for item in items {
                        numbers
                            .entry(item["course_uuid"].as_str().unwrap().to_owned())
                            .or_default()
                            .push(item["sequence_number"].as_u64().unwrap());
                    }
                }
                "create_ecosystem" => {}
                other => panic!("unexpected call {other}"),
            }
        }
        assert_eq!(courses, 2 + PROBE_COURSES);
        assert_eq!(rosters[&world.course(0)], [(1, 1250)]);
        assert_eq!(rosters[&world.course(1)], [(1, 1250)]);
        for probe in 2..2 + PROBE_COURSES {
            assert_eq!(rosters[&world.course(probe)], [(1, 1)]);
        }
        for c in 0..2 + PROBE_COURSES {
            let mut seen = numbers[&world.course(c)].clone();
            seen.sort_unstable();
            let size = world.course_size(c);
            assert_eq!(seen, (2..2 + size).collect::<Vec<_>>());
            assert_eq!(next[c as usize].load(Ordering::Relaxed), 2 + size);
        }
    }
}
