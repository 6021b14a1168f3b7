//! Open-loop load generator for the biglearn server (issue 5):
//! `cargo run --release --example loadgen -- --url http://127.0.0.1:3000
//! --token T --rate 3000 --duration 30 --students 1000 --courses 10`.
//!
//! Sets up an ecosystem, courses, rosters and one assignment per student
//! (`loadgen/setup.rs`, with progress bars on a terminal), then sends
//! single-response record_responses calls on a fixed schedule
//! (`loadgen/schedule.rs`: arrivals are never slowed by a slow server), with
//! per-course sequence numbers like Tutor. Each call is retried with the
//! same uuid and number until it gets a 200, as Tutor does, so no gap is
//! left behind; each try's exchange is bounded by `--request-timeout-ms`
//! and a try without an answer counts as an error (`timeout`). A call's
//! latency runs from its *scheduled* time to its final success, waits for
//! a connection and retries included (`loadgen/calls.rs`), so queueing
//! cannot hide. About `--duplicate-percent` of the calls are re-sent after
//! their acknowledgement (a replay the server must answer 200 and store
//! nothing for); duplicates count neither in the latency nor in the
//! achieved rate.
//!
//! Meanwhile it samples freshness on a second open-loop schedule
//! (`--freshness-rate` probes per second, on their own connections): a
//! probe student, alone in a probe course, answers once; freshness is the
//! time from that answer's acknowledgement until fetch_student_clues for
//! the probe student reports `Biglearn-Lag-Events: 0`, i.e. the engine has
//! processed that answer. Probes take 16 probe courses in turn
//! (`world::PROBE_COURSES`), so no other answer is waiting in a probe's
//! course unless the engine is more than 16 probe intervals behind; then
//! lag 0 also waits for the later probe, and the figure errs high, never
//! low. A probe that does not get there within
//! `--freshness-timeout-s` is counted as timed out. Probes count neither in
//! the latency nor in the achieved rate. The summary (`loadgen/report.rs`)
//! says on each line what it counts.
//!
//! For the `kill -9` drill, `--acks-out FILE` appends one line per
//! acknowledged record_responses call; after the server was killed,
//! restarted and the run finished, `--verify FILE` checks against the
//! running server that each of them is stored exactly once (exit status 1
//! if not). A server that is away for a while costs retries, not the run:
//! each call is tried `--max-tries` times (default 20, about 9 s; each
//! further try waits 640 ms) before it is given up, which leaves a gap.

#[path = "loadgen/acks.rs"]
mod acks;
#[path = "loadgen/calls.rs"]
mod calls;
#[path = "loadgen/client.rs"]
mod client;
#[path = "common/progress.rs"]
mod progress;
#[path = "loadgen/report.rs"]
mod report;
#[path = "loadgen/schedule.rs"]
mod schedule;
#[path = "loadgen/setup.rs"]
mod setup;
#[path = "loadgen/world.rs"]
mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use acks::AckLog;
use calls::{send, Call, Client, Kind, Stats, Transport};
use clap::Parser;
use client::Api;
use report::{Plan, Summary};
use schedule::Schedule;
use tokio::time::Instant;
use world::{World, TRIALS};

/// Both the server and the load generator allocate per request; mimalloc
/// is markedly cheaper than the system allocator there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connections of the freshness probes (apart from the load's, so probes
/// never queue behind it).
const PROBE_CONNECTIONS: usize = 8;
/// Shortest pause between two freshness reads of one probe.
const PROBE_READ_PAUSE: Duration = Duration::from_millis(5);
/// A probe that has waited `t` pauses `t / PROBE_READ_SLACK` before its next
/// read (at least [`PROBE_READ_PAUSE`]): a freshness sample is at most 10 %
/// (or 5 ms) later than the moment the result became fresh, and a stale
/// engine is not flooded with reads (polling every 5 ms, 600 waiting probes
/// took a quarter of the server's CPU).
const PROBE_READ_SLACK: u32 = 10;
/// Probes per second unless `--freshness-rate` or `--freshness-every-ms`
/// says otherwise.
const DEFAULT_FRESHNESS_RATE: f64 = 20.0;

#[derive(Debug, Parser)]
#[command(about = "Open-loop load generator for the biglearn server")]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Biglearn-Api-Token.
    #[arg(long, env = "BIGLEARN_API_TOKEN", hide_env_values = true)]
    token: String,
    /// Target record_responses requests per second.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Students (each with one assignment).
    #[arg(long, default_value_t = 1000)]
    students: u64,
    /// Courses (students are spread over them; at most 50,000 students per
    /// course, since a course's roster is one call).
    #[arg(long, default_value_t = 10)]
    courses: u64,
    /// Percentage of requests re-sent as duplicates after their
    /// acknowledgement (not counted in latency or achieved).
    #[arg(long, default_value_t = 1.0)]
    duplicate_percent: f64,
    /// Freshness probes per second, on their own open-loop schedule (probes
    /// overlap when the engine is slow) and their own connections; probes
    /// count neither in "achieved" nor in the latency. 0 sends none.
    /// Default 20.
    #[arg(long, conflicts_with = "freshness_every_ms")]
    freshness_rate: Option<f64>,
    /// One freshness probe per this many milliseconds (the older spelling
    /// of --freshness-rate: 50 is 20 per second).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    freshness_every_ms: Option<u64>,
    /// A probe whose answer is not read back with lag 0 within this many
    /// seconds of its acknowledgement is counted as timed out.
    #[arg(long, default_value_t = 30.0)]
    freshness_timeout_s: f64,
    /// After the setup calls, the load starts once the engine has
    /// processed every setup event (every course's lag is 0): the load then
    /// measures answers against an up-to-date engine, as in a term where
    /// rosters and assignments come long before the answers. Waiting
    /// longer than this many seconds is an error.
    #[arg(long, default_value_t = 600.0)]
    setup_timeout_s: f64,
    /// A try whose HTTP exchange has no answer after this many milliseconds
    /// counts as an error (`timeout`) and is retried like any other
    /// failure. The wait for a free connection is not part of it (it shows
    /// in the latency).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_ms: u64,
    /// Most requests in flight (one keep-alive connection each); later
    /// arrivals wait for a slot, and their wait counts in their latency.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Client worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Tries per record_responses call before it is given up (which leaves
    /// a gap in its course); the waits between tries grow from 10 ms to
    /// 640 ms, so the default 20 covers an outage of about 9 s. A 4xx
    /// answer other than 408 and 429 is not retried.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    max_tries: u32,
    /// Append `<response_uuid> <course_uuid> <sequence_number>` to FILE for
    /// every acknowledged record_responses call (for `--verify`).
    #[arg(long, value_name = "FILE")]
    acks_out: Option<PathBuf>,
    /// Send no load: check that every response listed in FILE (written by
    /// `--acks-out`) is stored exactly once at its number; exit status 1 if
    /// not.
    #[arg(long, value_name = "FILE", conflicts_with = "acks_out")]
    verify: Option<PathBuf>,
}

impl Args {
    fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Probes per second, from either flag.
    fn freshness_rate(&self) -> f64 {
        match (self.freshness_rate, self.freshness_every_ms) {
            (Some(rate), _) => rate,
            (None, Some(ms)) => 1000.0 / ms as f64,
            (None, None) => DEFAULT_FRESHNESS_RATE,
        }
    }

    /// Checks the flags that cannot work together, naming them.
    fn check(&self) -> Result<(), String> {
        if self.courses == 0 {
            return Err("--courses: need at least 1".into());
        }
        if self.students < self.courses {
            return Err(format!(
                "--students {} < --courses {}: every course needs a student",
                self.students, self.courses
            ));
        }
        let per_course = self.students.div_ceil(self.courses);
        if per_course > setup::MAX_STUDENTS_PER_COURSE {
            return Err(format!(
                "--students {} over --courses {} is {per_course} students per course; at most {} \
                 (a course's roster is one call): raise --courses",
                self.students,
                self.courses,
                setup::MAX_STUDENTS_PER_COURSE
            ));
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(format!("--rate: expected > 0, got {}", self.rate));
        }
        if !(0.0..=100.0).contains(&self.duplicate_percent) {
            return Err(format!(
                "--duplicate-percent: expected 0 to 100, got {}",
                self.duplicate_percent
            ));
        }
        if !(self.freshness_timeout_s.is_finite() && self.freshness_timeout_s > 0.0) {
            return Err(format!(
                "--freshness-timeout-s: expected > 0, got {}",
                self.freshness_timeout_s
            ));
        }
        if !(self.setup_timeout_s.is_finite() && self.setup_timeout_s > 0.0) {
            return Err(format!(
                "--setup-timeout-s: expected > 0, got {}",
                self.setup_timeout_s
            ));
        }
        if self.connections == 0 {
            return Err("--connections: need at least 1".into());
        }
        Ok(())
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    if let Some(path) = &args.verify {
        let api = Api::new(&args.url, &args.token, 4, args.request_timeout());
        return acks::verify(&api, path).await;
    }
    let (summary, stats) = load(args).await?;
    for line in summary.lines() {
        println!("{line}");
    }
    if let Some(log) = &stats.acks {
        let (lines, path) = log.finish()?;
        println!("acks: {lines} lines appended to {}", path.display());
    }
    Ok(())
}

/// Sets the world up, runs the load and the probes, and sums them up.
async fn load(args: &Args) -> Result<(Summary, Arc<Stats>), String> {
    args.check()?;
    let schedule = Schedule::new(args.rate, args.duration, "--rate")?;
    let probes = Schedule::new(args.freshness_rate(), args.duration, "--freshness-rate")?;
    let api = Api::new(
        &args.url,
        &args.token,
        args.connections,
        args.request_timeout(),
    );
    let world = Arc::new(World::new(args.courses, args.students));
    let acks = match &args.acks_out {
        Some(path) => Some(AckLog::create(path)?),
        None => None,
    };
    let next_seq = setup::setup(&api, &world).await?;
    let caught_up =
        setup::wait_for_engine(&api, &world, Duration::from_secs_f64(args.setup_timeout_s)).await?;
    eprintln!(
        "setup: the engine processed the setup events {:.1} s after the last setup call",
        caught_up.as_secs_f64()
    );
    let stats = Arc::new(Stats::new(acks));
    let start = Instant::now();

    let probing = {
        let api = Api::new(
            &args.url,
            &args.token,
            PROBE_CONNECTIONS,
            args.request_timeout(),
        );
        let (world, stats, next_seq) = (
            Arc::clone(&world),
            Arc::clone(&stats),
            Arc::clone(&next_seq),
        );
        let (tries, deadline) = (
            args.max_tries,
            Duration::from_secs_f64(args.freshness_timeout_s),
        );
        tokio::spawn(async move {
            let mut running = Vec::new();
            probes
                .run(start, |n, scheduled| {
                    stats.probes.fetch_add(1, Ordering::Relaxed);
                    let student = world.probe_student(n);
                    let seq =
                        next_seq[world.course_of(student) as usize].fetch_add(1, Ordering::Relaxed);
                    let body = world.response_body(student, n % TRIALS, seq, n % 2 == 0);
                    let read = world.clue_read(student);
                    let (api, stats) = (api.clone(), Arc::clone(&stats));
                    running.push(tokio::spawn(async move {
                        let call = Call {
                            body: &body,
                            scheduled,
                            kind: Kind::Probe,
                        };
                        if let Some(acked) = send(&api, call, &stats, tries).await {
                            freshness(&api, &read, acked, deadline, &stats).await;
                        }
                    }));
                })
                .await;
            for probe in running {
                let _ = probe.await;
            }
        })
    };

    let bar = progress::bar(schedule.total(), "load");
    let mut dispatch_window = Duration::ZERO;
    let calls = async {
        let mut running = Vec::with_capacity(schedule.total() as usize);
        schedule
            .run(start, |i, scheduled| {
                let r = splitmix(i);
                let student = r % world.students;
                let trial = (r >> 20) % TRIALS;
                let duplicate = ((r >> 40) % 10_000) as f64 / 100.0 < args.duplicate_percent;
                let seq =
                    next_seq[world.course_of(student) as usize].fetch_add(1, Ordering::Relaxed);
                let body = world.response_body(student, trial, seq, (r >> 50) % 2 == 0);
                let (api, stats, tries) = (api.clone(), Arc::clone(&stats), args.max_tries);
                running.push(tokio::spawn(async move {
                    let call = Call {
                        body: &body,
                        scheduled,
                        kind: Kind::Load,
                    };
                    let acked = send(&api, call, &stats, tries).await;
                    if duplicate && acked.is_some() {
                        stats.duplicates.fetch_add(1, Ordering::Relaxed);
                        let again = Call {
                            body: &body,
                            scheduled: Instant::now(),
                            kind: Kind::Duplicate,
                        };
                        send(&api, again, &stats, tries).await;
                    }
                }));
            })
            .await;
        dispatch_window = start.elapsed();
        for call in running {
            let _ = call.await;
        }
    };
    let show = || {
        bar.set_position(stats.finished(Kind::Load));
        bar.set_message(format!("{} failed tries", stats.failed_total()));
    };
    schedule::every(Duration::from_millis(250), show, calls).await;
    // The load is over when its last call is; probes may still be waiting.
    let load_elapsed = start.elapsed();
    bar.finish_and_clear();
    let _ = probing.await;
    let plan = Plan {
        rate: args.rate,
        duration: args.duration,
        freshness_rate: probes.rate(),
        freshness_timeout: Duration::from_secs_f64(args.freshness_timeout_s),
        request_timeout: args.request_timeout(),
        max_tries: args.max_tries,
        scheduled: schedule.total(),
        dispatch_window,
        load_elapsed,
    };
    Ok((Summary::new(plan, &stats.counts()), stats))
}

/// Reads the probe student's CLUE until the answer says lag 0 (the
/// engine has processed the probe's answer acknowledged at `acked`);
/// records the time from `acked`, or a timeout after `deadline`. Failed
/// reads are counted as errors of probe reads.
async fn freshness<T: Transport>(
    api: &Client<T>,
    read: &serde_json::Value,
    acked: Instant,
    deadline: Duration,
    stats: &Stats,
) {
    while acked.elapsed() < deadline {
        match api.post("fetch_student_clues", read).await {
            Ok(reply) if reply.status == 200 && reply.lag == Some(0) => {
                stats.fresh(acked.elapsed());
                return;
            }
            Ok(reply) if reply.status == 200 => {}
            Ok(reply) => stats.failed(Kind::ProbeRead, format!("HTTP {}", reply.status)),
            Err(failure) => stats.failed(Kind::ProbeRead, failure.reason()),
        }
        tokio::time::sleep(probe_read_pause(acked.elapsed())).await;
    }
    stats.freshness_timeouts.fetch_add(1, Ordering::Relaxed);
}

/// The pause before the next freshness read of a probe that has waited
/// `waited` ([`PROBE_READ_SLACK`]).
fn probe_read_pause(waited: Duration) -> Duration {
    (waited / PROBE_READ_SLACK).max(PROBE_READ_PAUSE)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::calls::tests::Scripted;
    use super::*;

    fn args(extra: &[&str]) -> Result<Args, clap::Error> {
        let mut all = vec!["loadgen", "--token", "T"];
        all.extend_from_slice(extra);
        Args::try_parse_from(all)
    }

    #[test]
    fn the_old_flags_still_parse_and_freshness_has_two_spellings() {
        let a = args(&[
            "--rate",
            "3000",
            "--duration",
            "30",
            "--students",
            "1000",
            "--courses",
            "10",
            "--freshness-every-ms",
            "50",
            "--request-timeout-ms",
            "2000",
        ])
        .unwrap();
        assert_eq!(
            (a.rate, a.duration, a.students, a.courses),
            (3000.0, 30.0, 1000, 10)
        );
        assert_eq!(a.freshness_rate(), 20.0);
        assert_eq!(a.request_timeout(), Duration::from_secs(2));
        assert_eq!(
            args(&["--freshness-rate", "5"]).unwrap().freshness_rate(),
            5.0
        );
        assert_eq!(args(&[]).unwrap().freshness_rate(), DEFAULT_FRESHNESS_RATE);
        assert!(args(&["--freshness-rate", "5", "--freshness-every-ms", "50"]).is_err());
        assert!(args(&["--request-timeout-ms", "0"]).is_err());
    }

    #[test]
    fn impossible_flags_are_named() {
        let check = |extra: &[&str]| args(extra).unwrap().check().unwrap_err();
        assert!(check(&["--courses", "0"]).starts_with("--courses"));
        assert!(check(&["--students", "5", "--courses", "10"])
            .starts_with("--students 5 < --courses 10"));
        assert!(check(&["--students", "1000000", "--courses", "10"]).contains("raise --courses"));
        assert!(check(&["--rate", "0"]).starts_with("--rate"));
        assert!(check(&["--duplicate-percent", "101"]).starts_with("--duplicate-percent"));
        assert!(check(&["--freshness-timeout-s", "0"]).starts_with("--freshness-timeout-s"));
        assert!(check(&["--setup-timeout-s", "0"]).starts_with("--setup-timeout-s"));
        assert!(args(&["--students", "1000000", "--courses", "10000"])
            .unwrap()
            .check()
            .is_ok());
    }

    #[test]
    fn probe_reads_slow_down_as_the_wait_grows_but_stay_within_a_tenth() {
        let ms = Duration::from_millis;
        assert_eq!(probe_read_pause(ms(0)), ms(5));
        assert_eq!(probe_read_pause(ms(49)), ms(5));
        assert_eq!(probe_read_pause(ms(250)), ms(25));
        assert_eq!(probe_read_pause(Duration::from_secs(20)), ms(2000));
        // Reads of one probe that waits 30 s: about 90, not 6,000.
        let (mut waited, mut reads) = (Duration::ZERO, 0);
        while waited < Duration::from_secs(30) {
            waited += probe_read_pause(waited);
            reads += 1;
        }
        assert!((60..120).contains(&reads), "{reads} reads");
    }

    #[tokio::test(start_paused = true)]
    async fn freshness_waits_for_lag_zero_and_times_out() {
        let stats = Stats::default();
        let read = serde_json::json!({});
        // Lag 0 on the first read: 3 ms after the acknowledgement.
        let client = Client::with_transport(
            Scripted::new(&[(3, Ok(200))]),
            1,
            Duration::from_millis(100),
        );
        freshness(
            &client,
            &read,
            Instant::now(),
            Duration::from_secs(1),
            &stats,
        )
        .await;
        // Never lag 0 (reads answer 200 with lag 7, one read fails):
        // timed out after the deadline.
        let lagging = Scripted {
            script: Mutex::new([(Duration::from_millis(1), Ok(500))].into_iter().collect()),
            lag: Some(7),
        };
        let client = Client::with_transport(lagging, 1, Duration::from_millis(100));
        freshness(
            &client,
            &read,
            Instant::now(),
            Duration::from_secs(1),
            &stats,
        )
        .await;
        let counts = stats.counts();
        assert_eq!(counts.freshness_us, vec![3000]);
        assert_eq!(counts.freshness_timeouts, 1);
        assert_eq!(
            counts.failed_tries[&(Kind::ProbeRead, "HTTP 500".into())],
            1
        );
        assert!(counts.latencies_us.is_empty());
    }

    /// A short run against a real server in this process: every scheduled
    /// call succeeds and is counted once, duplicates and probes are not.
    #[cfg(feature = "server")]
    #[test]
    fn a_short_run_against_the_reference_server() {
        use biglearn::server::{serve, App, ServerConfig};

        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("load.sqlite3");
        let mut config = ServerConfig::new(database.to_str().unwrap(), "T");
        config.engine_tick = Duration::from_millis(50);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let summary = runtime.block_on(async {
            let app = App::open(&config).unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(serve(listener, app, async {
                let _ = stopped.await;
            }));
            let a = args(&[
                "--url",
                &url,
                "--rate",
                "40",
                "--duration",
                "2",
                "--students",
                "30",
                "--courses",
                "3",
                "--duplicate-percent",
                "30",
                "--freshness-rate",
                "4",
            ])
            .unwrap();
            let (summary, _) = load(&a).await.unwrap();
            let _ = stop.send(());
            server.await.unwrap().unwrap();
            summary
        });
        let text = summary.lines().join("\n");
        assert_eq!(summary.plan.scheduled, 80, "{text}");
        assert_eq!(summary.ok, 80, "{text}");
        assert_eq!(summary.latency.n, 80, "{text}");
        assert!(
            summary.duplicates > 0 && summary.duplicates_ok == summary.duplicates,
            "{text}"
        );
        assert_eq!(summary.probes, 8, "{text}");
        assert_eq!(summary.probes_acknowledged, 8, "{text}");
        assert_eq!(
            summary.freshness.n as u64 + summary.freshness_timeouts,
            8,
            "{text}"
        );
        assert!(summary.freshness.n > 0, "{text}");
        let achieved = 80.0 / summary.plan.load_elapsed.as_secs_f64();
        assert_eq!(summary.achieved, achieved, "{text}");
        assert!(summary.failed_tries.is_empty(), "{text}");
    }
}
