//! [`CommitQueue`]: group commit for callers that must not block (async
//! servers).
//!
//! [`Ingestor::append`] blocks its caller until the group is durable; an
//! async server would need a blocking-pool thread per request for that,
//! and hundreds of such threads mostly cost context switches. A
//! `CommitQueue` instead owns one committer thread: callers
//! [`submit`](CommitQueue::submit) a request with a completion callback
//! and return at once; the thread takes everything queued (within the
//! ingestor's group bounds), commits it as one group through
//! [`Ingestor::commit_group`] and calls each callback with that request's
//! own outcome after the commit is durable. While one group commits, the
//! next one forms, so the group size follows the commit latency with no
//! lingering.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use biglearn_core::log::{AppendError, AppendReceipt, AppendRequest, EventLog, StoreError};

use super::Ingestor;

/// Called once with the request's outcome, on the committer thread.
pub type Completion = Box<dyn FnOnce(Result<AppendReceipt, AppendError>) + Send>;

struct Job {
    request: AppendRequest,
    done: Completion,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    stopping: bool,
    /// The committer is waiting for work (a submit must wake it).
    idle: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A committer thread in front of an [`Ingestor`] (see the module docs).
///
/// ```
/// use std::sync::{mpsc, Arc};
/// use biglearn_core::log::AppendRequest;
/// use biglearn_core::memory::MemoryStore;
/// use biglearn_store::ingest::{CommitQueue, Ingestor};
///
/// let ingestor = Arc::new(Ingestor::new(Arc::new(MemoryStore::default())));
/// let queue = CommitQueue::start(Arc::clone(&ingestor)).unwrap();
/// let (tx, rx) = mpsc::channel();
/// queue.submit(AppendRequest::default(), Box::new(move |outcome| {
///     let _ = tx.send(outcome);
/// }));
/// assert_eq!(rx.recv().unwrap().unwrap().stored, 0);
/// queue.stop();
/// ```
pub struct CommitQueue {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl CommitQueue {
    /// Starts the committer thread for `ingestor`.
    pub fn start<L>(ingestor: Arc<Ingestor<L>>) -> std::io::Result<CommitQueue>
    where
        L: EventLog + ?Sized + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("biglearn-commit".into())
            .spawn(move || run(&worker, &ingestor))?;
        Ok(CommitQueue {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues `request`; `done` gets its outcome once its group is durable
    /// (or failed). After [`CommitQueue::stop`], `done` is called at once
    /// with an error and nothing is stored.
    pub fn submit(&self, request: AppendRequest, done: Completion) {
        let mut queue = self.shared.lock();
        if queue.stopping {
            drop(queue);
            done(Err(AppendError::Store(StoreError::Backend {
                backend: "ingest",
                operation: "submit",
                message: "the commit queue is stopped".into(),
            })));
            return;
        }
        queue.jobs.push_back(Job { request, done });
        if queue.idle {
            queue.idle = false;
            self.shared.ready.notify_one();
        }
    }

    /// Requests submitted but not yet taken into a group.
    pub fn queued(&self) -> usize {
        self.shared.lock().jobs.len()
    }

    /// Commits everything already queued, then stops the thread and waits
    /// for it. Later submits fail at once.
    pub fn stop(&self) {
        {
            let mut queue = self.shared.lock();
            queue.stopping = true;
            self.shared.ready.notify_one();
        }
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            // A panic inside the committer already failed its group's
            // callbacks (they are dropped unanswered); nothing more to do.
            let _ = thread.join();
        }
    }
}

impl Drop for CommitQueue {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run<L>(shared: &Shared, ingestor: &Ingestor<L>)
where
    L: EventLog + ?Sized,
{
    loop {
        let group = {
            let mut queue = shared.lock();
            while queue.jobs.is_empty() && !queue.stopping {
                queue.idle = true;
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            queue.idle = false;
            if queue.jobs.is_empty() {
                return; // stopping, and everything queued was committed
            }
            take_group(&mut queue.jobs, ingestor)
        };
        let (requests, completions): (Vec<AppendRequest>, Vec<Completion>) =
            group.into_iter().map(|job| (job.request, job.done)).unzip();
        let outcomes = ingestor.commit_group(&requests);
        for (done, outcome) in completions.into_iter().zip(outcomes) {
            done(outcome);
        }
    }
}

/// The longest prefix of `jobs` within the ingestor's group bounds (at
/// least one job).
fn take_group<L: EventLog + ?Sized>(jobs: &mut VecDeque<Job>, ingestor: &Ingestor<L>) -> Vec<Job> {
    let bounds = ingestor.config();
    let mut group = Vec::new();
    let (mut events, mut bytes) = (0usize, 0usize);
    while let Some(next) = jobs.front() {
        let next_events = next.request.events.len();
        let next_bytes: usize = next
            .request
            .events
            .iter()
            .map(|e| e.data.as_str().len())
            .sum();
        let fits = group.len() < bounds.max_group_requests
            && events + next_events <= bounds.max_group_events
            && bytes + next_bytes <= bounds.max_group_bytes;
        if !group.is_empty() && !fits {
            break;
        }
        events += next_events;
        bytes += next_bytes;
        if let Some(job) = jobs.pop_front() {
            group.push(job);
        }
    }
    group
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::mpsc;

    use biglearn_core::memory::MemoryStore;

    use super::*;
    use crate::ingest::IngestConfig;

    fn queue_over_memory(config: IngestConfig) -> (Arc<Ingestor<MemoryStore>>, CommitQueue) {
        let ingestor = Arc::new(Ingestor::with_config(
            Arc::new(MemoryStore::default()),
            config,
        ));
        let queue = CommitQueue::start(Arc::clone(&ingestor)).unwrap();
        (ingestor, queue)
    }

    #[test]
    fn every_submit_gets_exactly_one_outcome() {
        let (ingestor, queue) = queue_over_memory(IngestConfig::default());
        let (tx, rx) = mpsc::channel();
        for i in 0..500 {
            let tx = tx.clone();
            queue.submit(
                AppendRequest::default(),
                Box::new(move |outcome| {
                    let _ = tx.send((i, outcome.is_ok()));
                }),
            );
        }
        drop(tx);
        let mut seen: Vec<(i32, bool)> = rx.iter().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..500).map(|i| (i, true)).collect::<Vec<_>>());
        assert_eq!(ingestor.stats().requests, 500);
        queue.stop();
    }

    #[test]
    fn groups_respect_the_request_bound() {
        let config = IngestConfig {
            max_group_requests: 3,
            ..IngestConfig::default()
        };
        let (ingestor, queue) = queue_over_memory(config);
        let (tx, rx) = mpsc::channel();
        for _ in 0..50 {
            let tx = tx.clone();
            queue.submit(
                AppendRequest::default(),
                Box::new(move |outcome| {
                    let _ = tx.send(outcome.is_ok());
                }),
            );
        }
        drop(tx);
        assert!(rx.iter().all(|ok| ok));
        let stats = ingestor.stats();
        assert!(stats.max_group_requests <= 3, "{stats:?}");
        assert!(stats.groups_committed >= 17, "{stats:?}");
    }

    #[test]
    fn stop_commits_what_was_queued_and_refuses_later_submits() {
        let (ingestor, queue) = queue_over_memory(IngestConfig::default());
        let (tx, rx) = mpsc::channel();
        for _ in 0..20 {
            let tx = tx.clone();
            queue.submit(
                AppendRequest::default(),
                Box::new(move |outcome| {
                    let _ = tx.send(outcome.is_ok());
                }),
            );
        }
        queue.stop();
        let answered: Vec<bool> = rx.try_iter().collect();
        assert_eq!(answered, vec![true; 20]);
        assert_eq!(ingestor.stats().requests, 20);
        let (late_tx, late_rx) = mpsc::channel();
        queue.submit(
            AppendRequest::default(),
            Box::new(move |outcome| {
                let _ = late_tx.send(outcome);
            }),
        );
        let late = late_rx.recv().unwrap();
        assert!(
            matches!(late, Err(AppendError::Store(_))),
            "a submit after stop is refused: {late:?}"
        );
        assert_eq!(ingestor.stats().requests, 20, "nothing more was committed");
    }
}
