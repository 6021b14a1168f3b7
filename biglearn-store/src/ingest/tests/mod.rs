//! Ingestor tests against a fake log that records every group it commits.

mod fake;

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{
    AppendError, AppendReceipt, AppendRejection, AppendRequest, BundleLimits, BundleLog,
    ConsumerName, Event, EventData, EventLog, EventType, SequenceNumber, StoreError, StreamId,
};
use uuid::Uuid;

use super::*;
use fake::FakeLog;

fn event(course: CourseId, number: u64, id: EventId) -> Event {
    Event {
        stream: StreamId::Course(course),
        sequence_number: SequenceNumber::new(number).unwrap(),
        event_id: id,
        event_type: EventType::RecordResponse,
        data: EventData::from_json_text(format!(r#"{{"sequence_number":{number}}}"#)),
    }
}

/// A request of `len` fresh events at numbers `first..first+len` of `course`.
fn request(course: CourseId, first: u64, len: u64) -> AppendRequest {
    AppendRequest {
        events: (first..first + len)
            .map(|n| event(course, n, EventId::from_uuid(Uuid::new_v4())))
            .collect(),
    }
}

fn course() -> CourseId {
    CourseId::from_uuid(Uuid::new_v4())
}

/// Waits until `n` requests are queued behind a blocked leader.
fn wait_queued<L: EventLog + ?Sized>(ingestor: &Ingestor<L>, n: usize) {
    for _ in 0..2000 {
        if ingestor.lock().queue.len() >= n {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
    panic!("requests never queued");
}

/// Starts one leader blocked inside the gate, then queues `followers` more
/// requests behind it; returns the join handles (leader first).
fn blocked_leader_and_followers(
    ingestor: &Arc<Ingestor<FakeLog>>,
    requests: Vec<AppendRequest>,
) -> Vec<thread::JoinHandle<Result<AppendReceipt, AppendError>>> {
    ingestor.log().close_gate();
    let mut requests = requests.into_iter();
    let first = requests.next().unwrap();
    let leader = {
        let ingestor = Arc::clone(ingestor);
        thread::spawn(move || ingestor.append(first))
    };
    // The leader has taken its group once `committing` is set.
    for _ in 0..2000 {
        if ingestor.lock().committing > 0 {
            break;
        }
        thread::sleep(Duration::from_millis(1));
    }
    assert!(ingestor.lock().committing > 0, "leader never started");
    let mut handles = vec![leader];
    let mut queued = 0;
    for r in requests {
        let ingestor2 = Arc::clone(ingestor);
        handles.push(thread::spawn(move || ingestor2.append(r)));
        queued += 1;
        wait_queued(ingestor, queued);
    }
    handles
}

#[test]
fn concurrent_callers_share_one_commit() {
    let ingestor = Arc::new(Ingestor::new(Arc::new(FakeLog::default())));
    let c = course();
    let requests: Vec<_> = (0..9).map(|i| request(c, i * 2, 2)).collect();
    let handles = blocked_leader_and_followers(&ingestor, requests);
    ingestor.log().open_gate();
    for h in handles {
        assert_eq!(
            h.join().unwrap().unwrap(),
            AppendReceipt {
                stored: 2,
                replayed: 0
            }
        );
    }
    let sizes: Vec<usize> = ingestor.log().groups().iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        vec![1, 8],
        "the 8 followers must share the second commit"
    );
    let stats = ingestor.stats();
    assert_eq!(stats.groups_committed, 2);
    assert_eq!(stats.requests, 9);
    assert_eq!(stats.events, 18);
    assert_eq!(stats.max_group_requests, 8);
    assert!((stats.mean_group_requests() - 4.5).abs() < 1e-12);
    assert!((stats.mean_group_events() - 9.0).abs() < 1e-12);
}

#[test]
fn a_rejected_request_fails_only_its_caller() {
    let ingestor = Arc::new(Ingestor::new(Arc::new(FakeLog::default())));
    let c = course();
    let stored = request(c, 0, 1);
    ingestor.append(stored.clone()).unwrap();
    // Followers: fresh, conflicting (a new id at number 0), fresh.
    let requests = vec![
        request(c, 1, 1),
        request(c, 2, 1),
        request(c, 0, 1),
        request(c, 3, 2),
    ];
    let handles = blocked_leader_and_followers(&ingestor, requests);
    ingestor.log().open_gate();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(ingestor.log().groups().last().unwrap().len(), 3, "grouped");
    assert_eq!(
        outcomes[0],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 0
        })
    );
    assert_eq!(
        outcomes[1],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 0
        })
    );
    match &outcomes[2] {
        Err(AppendError::Rejected(AppendRejection::SequenceNumberTaken { existing, .. })) => {
            assert_eq!(*existing, stored.events[0].event_id);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        outcomes[3],
        Ok(AppendReceipt {
            stored: 2,
            replayed: 0
        })
    );
    assert_eq!(ingestor.log().stored_count(), 5);
}

#[test]
fn a_backend_error_reaches_every_caller_of_its_group_only() {
    let log = Arc::new(FakeLog::default());
    let ingestor = Arc::new(Ingestor::new(Arc::clone(&log)));
    let c = course();
    let requests: Vec<_> = (0..5).map(|i| request(c, i, 1)).collect();
    *log.poison.lock().unwrap() = Some(requests[3].events[0].event_id);
    let handles = blocked_leader_and_followers(&ingestor, requests);
    log.open_gate();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(outcomes[0].is_ok(), "the leader's own group committed");
    for outcome in &outcomes[1..] {
        match outcome {
            Err(AppendError::Store(StoreError::Backend { message, .. })) => {
                assert_eq!(message, "injected failure");
            }
            other => panic!("expected the group's backend error, got {other:?}"),
        }
    }
    assert_eq!(log.stored_count(), 1);
    let stats = ingestor.stats();
    assert_eq!((stats.groups_committed, stats.groups_failed), (1, 1));
    // The ingestor keeps working after a failed group.
    *log.poison.lock().unwrap() = None;
    assert!(ingestor.append(request(c, 1, 1)).is_ok());
}

#[test]
fn a_panicking_backend_fails_the_group_without_hanging_followers() {
    let log = Arc::new(FakeLog::default());
    let ingestor = Arc::new(Ingestor::new(Arc::clone(&log)));
    let c = course();
    let requests: Vec<_> = (0..4).map(|i| request(c, 10 + i, 1)).collect();
    // The second group (the three followers) panics in its leader.
    *log.panic_on.lock().unwrap() = Some(requests[2].events[0].event_id);
    let handles = blocked_leader_and_followers(&ingestor, requests);
    log.open_gate();
    let mut panicked = 0;
    let mut failed = 0;
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Err(_) => panicked += 1,
            Ok(Ok(_)) => assert_eq!(i, 0, "only the first group commits"),
            Ok(Err(AppendError::Store(StoreError::Backend { backend, .. }))) => {
                assert_eq!(backend, "ingest");
                failed += 1;
            }
            Ok(other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((panicked, failed), (1, 2));
    *log.panic_on.lock().unwrap() = None;
    assert!(
        ingestor.append(request(c, 0, 1)).is_ok(),
        "usable afterwards"
    );
}

#[test]
fn group_bounds_are_respected() {
    let log = Arc::new(FakeLog::default());
    let config = IngestConfig {
        max_group_requests: 3,
        max_group_events: 5,
        max_group_bytes: usize::MAX,
    };
    let ingestor = Arc::new(Ingestor::with_config(Arc::clone(&log), config));
    let c = course();
    // Leader (1 event), then followers of 2, 2, 2, 7 (oversized), 1, 1, 1, 1 events.
    let mut next = 0;
    let requests: Vec<_> = [1, 2, 2, 2, 7, 1, 1, 1, 1]
        .into_iter()
        .map(|len| {
            let r = request(c, next, len);
            next += len;
            r
        })
        .collect();
    let handles = blocked_leader_and_followers(&ingestor, requests);
    log.open_gate();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let shapes: Vec<Vec<usize>> = log
        .groups()
        .iter()
        .map(|g| g.iter().map(|r| r.events.len()).collect())
        .collect();
    assert_eq!(
        shapes,
        vec![
            vec![1],
            vec![2, 2],
            vec![2],
            vec![7],
            vec![1, 1, 1],
            vec![1]
        ]
    );
}

#[test]
fn every_request_is_acknowledged_exactly_once_under_load() {
    acknowledged_exactly_once(1, Duration::from_micros(100));
    acknowledged_exactly_once(1, Duration::ZERO);
    acknowledged_exactly_once(3, Duration::from_micros(100));
}

/// Many threads append through an ingestor with `groups` concurrent groups
/// and the given linger; every request is committed and acknowledged once.
fn acknowledged_exactly_once(groups: usize, linger: Duration) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 300;
    let log = Arc::new(FakeLog::default());
    log.allow_concurrent(groups);
    let ingestor = Arc::new(
        Ingestor::new(Arc::clone(&log))
            .with_concurrent_groups(groups)
            .with_linger(linger),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let ingestor = Arc::clone(&ingestor);
            thread::spawn(move || {
                let c = course();
                let mut next = 0;
                let mut acked = Vec::new();
                for i in 0..PER_THREAD {
                    let len = (i % 4 + 1) as u64;
                    let r = request(c, next, len);
                    next += len;
                    let id = r.events[0].event_id;
                    let receipt = ingestor.append(r).unwrap();
                    assert_eq!(
                        receipt.stored as u64, len,
                        "thread {t} got another's receipt"
                    );
                    acked.push(id);
                }
                acked
            })
        })
        .collect();
    let acked: Vec<EventId> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(acked.len(), THREADS * PER_THREAD);
    // Every acknowledged request was committed in exactly one group.
    let committed: Vec<EventId> = log
        .groups()
        .iter()
        .flatten()
        .map(|r| r.events[0].event_id)
        .collect();
    assert_eq!(committed.len(), acked.len(), "no request committed twice");
    let committed: HashSet<EventId> = committed.into_iter().collect();
    assert!(acked.iter().all(|id| committed.contains(id)));
    let stats = ingestor.stats();
    assert_eq!(stats.requests as usize, THREADS * PER_THREAD);
    assert_eq!(stats.groups_committed as usize, log.groups().len());
    assert!(
        ingestor.lock().done.is_empty(),
        "an outcome was never picked up"
    );
    assert!(ingestor.lock().queue.is_empty());
}

#[test]
fn concurrent_groups_commit_side_by_side() {
    let log = Arc::new(FakeLog::default());
    log.allow_concurrent(2);
    let ingestor = Arc::new(Ingestor::new(Arc::clone(&log)).with_concurrent_groups(2));
    log.close_gate();
    let c = course();
    let spawn = |r: AppendRequest| {
        let ingestor = Arc::clone(&ingestor);
        thread::spawn(move || ingestor.append(r))
    };
    let mut handles = vec![spawn(request(c, 0, 1))];
    let wait_inside = |n: usize| {
        for _ in 0..2000 {
            if log.inside() >= n {
                return;
            }
            thread::sleep(Duration::from_millis(1));
        }
        panic!("{n} commits never started");
    };
    wait_inside(1);
    // A second caller leads a second group while the first is in flight.
    handles.push(spawn(request(c, 1, 1)));
    wait_inside(2);
    // A third waits for a free slot.
    handles.push(spawn(request(c, 2, 1)));
    wait_queued(&ingestor, 1);
    assert_eq!(log.inside(), 2);
    log.open_gate();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap().stored, 1);
    }
    assert_eq!(log.peak_inside(), 2);
    assert_eq!(ingestor.stats().groups_committed, 3);
}

#[test]
fn works_through_a_trait_object() {
    let log: Arc<dyn EventLog> = Arc::new(FakeLog::default());
    let ingestor: Ingestor = Ingestor::new(log);
    let receipt = ingestor.append(request(course(), 0, 3)).unwrap();
    assert_eq!(receipt.stored, 3);
}

#[derive(Debug, thiserror::Error)]
#[error("consumer refused course {0}")]
struct Refused(CourseId);

#[test]
fn drain_confirms_processed_bundles_and_redelivers_after_a_failure() {
    let log = FakeLog::default();
    let consumer = ConsumerName::new("scheduler").unwrap();
    let (a, b) = (course(), course());
    log.append(&request(a, 0, 3)).unwrap();
    log.append(&request(b, 0, 2)).unwrap();
    log.append(&request(b, 3, 1)).unwrap(); // behind a gap at 2
    let limits = BundleLimits {
        max_courses: 10,
        max_events_per_bundle: 2,
        max_bytes: u64::MAX,
    };
    // First drain fails on course b: a's first bundle may be confirmed, b's is not.
    let mut seen = Vec::new();
    let err = drain_bundles(&log, &consumer, limits, 10, |bundle| {
        seen.push((bundle.course, bundle.events.len()));
        if bundle.course == b {
            Err(Refused(b))
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert!(matches!(err, DrainError::Consumer { course, .. } if course == b));
    assert_eq!(log.confirmed(&consumer, b).unwrap(), None);
    // The retry delivers b again from 0, then stops at the gap.
    let mut delivered: Vec<(CourseId, u64)> = Vec::new();
    let report = drain_bundles::<_, Refused, _>(&log, &consumer, limits, 10, |bundle| {
        delivered.extend(
            bundle
                .events
                .iter()
                .map(|e| (bundle.course, e.sequence_number.get())),
        );
        Ok(())
    })
    .unwrap();
    assert!(delivered.contains(&(b, 0)) && delivered.contains(&(b, 1)));
    assert!(!delivered.contains(&(b, 3)), "never past a gap");
    assert_eq!(
        log.confirmed(&consumer, a).unwrap().map(|n| n.get()),
        Some(2)
    );
    assert_eq!(
        log.confirmed(&consumer, b).unwrap().map(|n| n.get()),
        Some(1)
    );
    assert!(report.events >= 3);
    // Caught up: nothing more.
    let again = drain_bundles::<_, Refused, _>(&log, &consumer, limits, 10, |_| Ok(())).unwrap();
    assert_eq!(again, DrainReport::default());
}
