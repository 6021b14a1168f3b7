//! Projects a real dataset (MathExam14W: 729 students × 13 exercises) as one
//! course: roster, one homework per student, one response per attempted
//! exercise. Checks the fitting gradebook, the refit counts and the CLUE
//! inputs against counts taken from the CSV, and prints the apply rate.

mod projection_support;

use std::collections::BTreeMap;
use std::time::Instant as Clock;

use biglearn_core::ids::EcosystemId;
use biglearn_core::projection::{CourseChanges, CourseState, CourseViews, EcosystemState};
use projection_support::*;
use serde_json::json;

const EXERCISES: u128 = 13;

/// (solved, attempted) per student and exercise; `credits.k == 0` marks an
/// exercise not attempted (data README).
fn read_exam(dir: &str) -> Vec<Vec<(bool, bool)>> {
    let path = std::path::Path::new(dir).join("MathExam14W.csv");
    let text = std::fs::read_to_string(&path).expect("MathExam14W.csv readable");
    text.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (0..EXERCISES as usize)
                .map(|k| {
                    let solved = cells[k] == "1";
                    let attempted = cells[EXERCISES as usize + k] != "0";
                    (solved, attempted)
                })
                .collect()
        })
        .collect()
}

fn exam_catalog() -> BTreeMap<EcosystemId, EcosystemState> {
    let root = *eco(7).as_uuid();
    let ids: Vec<String> = (1..=EXERCISES).map(|k| ex(k).to_string()).collect();
    let contents = vec![
        json!({"container_uuid": bc(0).to_string(), "container_parent_uuid": root.to_string(), "pools": []}),
        json!({"container_uuid": bc(1).to_string(), "container_parent_uuid": bc(0).to_string(),
            "pools": [{"use_for_clue": true, "use_for_personalized_for_assignment_types": ["homework"],
                "exercise_uuids": ids}]}),
    ];
    let exercises = (1..=EXERCISES)
        .map(|k| json!({"exercise_uuid": ex(k).to_string(), "group_uuid": grp(k).to_string(), "version": 1, "los": []}))
        .collect();
    let mut state = EcosystemState::new(eco(7));
    state.apply(&create_ecosystem_json(7, contents, exercises));
    BTreeMap::from([(eco(7), state)])
}

#[test]
fn math_exam_course_projects_consistently() {
    let Ok(dir) = std::env::var("BIGLEARN_DATA_DIR") else {
        println!("skipped: BIGLEARN_DATA_DIR not set");
        return;
    };
    let exam = read_exam(&dir);
    assert_eq!(exam.len(), 729);
    let students = exam.len() as u128;
    let catalog = exam_catalog();

    let mut events = vec![
        create_course(7),
        roster(
            1,
            &[(1, None)],
            &(1..=students).map(|s| (s, 1)).collect::<Vec<_>>(),
        ),
    ];
    let mut seq = 2;
    for s in 1..=students {
        let mut a = Asg::new(s, s);
        a.eco = 7;
        a.kind = "homework";
        a.trials = (1..=EXERCISES)
            .map(|k| (s * 100 + k, k, false, false))
            .collect();
        events.push(a.event(seq));
        seq += 1;
    }
    let mut attempted = 0usize;
    for (s, row) in (1..=students).zip(&exam) {
        for (k, (solved, tried)) in (1..=EXERCISES).zip(row) {
            if *tried {
                let mut r = Resp::new(s * 100 + k, s * 100 + k, s, k);
                r.eco = 7;
                r.correct = *solved;
                events.push(r.event(seq));
                seq += 1;
                attempted += 1;
            }
        }
    }

    let clock = Clock::now();
    for event in &events {
        biglearn_core::events::TypedEvent::from_event(event).expect("readable");
    }
    let parse = clock.elapsed();
    let mut state = CourseState::new(course_id());
    let clock = Clock::now();
    let changes: CourseChanges = state.apply_all(&events, &catalog);
    let elapsed = clock.elapsed();
    println!(
        "applied {} events ({} responses) in {:.3} s ({:.3} s of it reading event data): \
         {:.0} events/s; blob {} bytes",
        events.len(),
        attempted,
        elapsed.as_secs_f64(),
        parse.as_secs_f64(),
        events.len() as f64 / elapsed.as_secs_f64(),
        biglearn_core::projection::encode_state(&state)
            .expect("encodes")
            .len()
    );

    assert!(
        state.problems.is_empty(),
        "{:?}",
        state.problems.items.first()
    );
    // The first real answer per (student, exercise), as the store keeps it.
    let mut first: std::collections::BTreeMap<_, biglearn_core::gradebook::FitResponse> =
        std::collections::BTreeMap::new();
    for fit in &changes.fit_responses {
        let key = (fit.ecosystem, fit.student, fit.exercise);
        match first.get(&key) {
            Some(old) if !fit.precedes(old) => {}
            _ => {
                first.insert(key, *fit);
            }
        }
    }
    assert_eq!(first.len(), attempted);
    assert_eq!(
        changes.group_response_counts.values().sum::<u64>(),
        attempted as u64
    );
    let solved_first = first.values().filter(|r| r.is_correct).count();
    let solved_csv = exam
        .iter()
        .flatten()
        .filter(|(solved, tried)| *solved && *tried)
        .count();
    assert_eq!(solved_first, solved_csv);

    let views = CourseViews::new(&state, &catalog);
    let teacher = views.teacher_clues(cc(1), day(30));
    assert_eq!(teacher.len(), 1);
    assert_eq!(teacher[0].book_container, bc(1));
    assert_eq!(teacher[0].responses.responses.len(), attempted);
    let first_row = exam[0].iter().filter(|(_, tried)| *tried).count();
    let hidden = views.student_clues(student(1), day(5));
    assert!(hidden[0].responses.responses.is_empty(), "due on day 10");
    assert_eq!(hidden[0].responses.recalculate_at, Some(day(10)));
    let visible = views.student_clues(student(1), day(11));
    assert_eq!(visible[0].responses.responses.len(), first_row);
}
