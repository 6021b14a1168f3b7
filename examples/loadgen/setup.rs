//! Creating the world on the server before the load: the ecosystem, every
//! course (and the probe course), one roster per course and one assignment
//! per student. Calls run a few at a time, each retried like the load's
//! (same body, so a retry is a harmless replay), and a progress bar per
//! phase shows on a terminal: a million students take a while.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use indicatif::ProgressBar;
use serde_json::json;
use tokio::task::JoinSet;

use crate::client::Api;
use crate::progress;
use crate::world::World;

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
/// probe course last).
pub async fn setup(api: &Api, world: &Arc<World>) -> Result<Arc<Vec<AtomicU64>>, String> {
    api.must_with_retries("create_ecosystem", &world.ecosystem_body())
        .await?;
    let courses = world.courses + 1;

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

    let bar = progress::bar(world.students + 1, "rosters");
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

    let bar = progress::bar(world.students + 1, "assignments");
    let everyone = world.students + 1;
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
        "setup: 1 ecosystem, {} courses, {} students, {} assignments (+1 probe course and student)",
        world.courses, world.students, world.students
    );
    Ok(Arc::new(
        (0..courses)
            .map(|c| AtomicU64::new(2 + world.course_size(c)))
            .collect(),
    ))
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
