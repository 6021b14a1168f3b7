//! The synthetic world the load runs against: one ecosystem, `courses`
//! courses with one period each, `students` students spread over them, one
//! homework assignment per student, and [`PROBE_COURSES`] probe courses of
//! one probe student each; and the bodies Tutor would send.

use serde_json::{json, Value};
use uuid::Uuid;

pub const PAGES: u64 = 5;
pub const PER_PAGE: u64 = 10;
pub const TRIALS: u64 = 5;
const T0: &str = "2017-08-01T12:00:00.000000Z";
/// Probe courses, each with one probe student. Probes take them in turn,
/// so a probe's course has no other answer in flight unless the engine is
/// more than `PROBE_COURSES` probe intervals behind (0.8 s at 20 probes
/// per second): lag 0 then means exactly "this answer was processed", not
/// "no later probe is waiting". Past that, lag 0 waits for the later probe
/// too, so the figure can only come out too high, never too low.
pub const PROBE_COURSES: u64 = 16;

/// Ids derived from the run id, so reruns against one database never clash.
pub struct World {
    run: u64,
    pub courses: u64,
    pub students: u64,
}

impl World {
    pub fn new(courses: u64, students: u64) -> Self {
        World {
            run: u64::from(Uuid::new_v4().as_fields().0),
            courses,
            students,
        }
    }

    fn id(&self, kind: u16, n: u64) -> String {
        Uuid::from_fields(
            (self.run & 0xffff_ffff) as u32,
            kind,
            0x4000,
            &(n | 0x8000_0000_0000_0000).to_be_bytes(),
        )
        .to_string()
    }

    pub fn ecosystem(&self) -> String {
        self.id(1, 0)
    }
    pub fn course(&self, c: u64) -> String {
        self.id(2, c)
    }
    pub fn page(&self, p: u64) -> String {
        self.id(3, p)
    }
    pub fn exercise(&self, p: u64, k: u64) -> String {
        self.id(4, p * 1000 + k)
    }
    pub fn student(&self, s: u64) -> String {
        self.id(5, s)
    }
    pub fn assignment(&self, s: u64) -> String {
        self.id(6, s)
    }
    pub fn trial(&self, s: u64, k: u64) -> String {
        self.id(7, s * 100 + k)
    }
    /// Regular students are spread over courses `0..courses`; probe
    /// student `students + k` is alone in probe course `courses + k`.
    pub fn course_of(&self, s: u64) -> u64 {
        if s >= self.students {
            self.courses + (s - self.students)
        } else {
            s % self.courses
        }
    }

    /// Courses in all, probe courses included (they come last).
    pub fn all_courses(&self) -> u64 {
        self.courses + PROBE_COURSES
    }

    /// Students in all, probe students included (they come last).
    pub fn all_students(&self) -> u64 {
        self.students + PROBE_COURSES
    }

    /// The students of course `c`, in the order of their assignments'
    /// sequence numbers.
    pub fn students_of(&self, c: u64) -> impl Iterator<Item = u64> {
        let (first, step, end) = if c >= self.courses {
            let probe = self.students + (c - self.courses);
            (probe, 1, probe + 1)
        } else {
            (c, self.courses as usize, self.students)
        };
        (first..end).step_by(step)
    }

    /// How many students course `c` has.
    pub fn course_size(&self, c: u64) -> u64 {
        if c >= self.courses {
            1
        } else {
            (self.students - c).div_ceil(self.courses)
        }
    }

    /// The sequence number of student `s`'s assignment in its course:
    /// create_course is 0, the roster 1, then the assignments in the order
    /// of [`World::students_of`].
    pub fn assignment_sequence(&self, s: u64) -> u64 {
        if s >= self.students {
            2
        } else {
            2 + s / self.courses
        }
    }

    /// The student whose answer measures freshness for probe `n`: the
    /// probe students in turn ([`PROBE_COURSES`]).
    pub fn probe_student(&self, n: u64) -> u64 {
        self.students + n % PROBE_COURSES
    }
    pub fn page_of(&self, s: u64) -> u64 {
        1 + s % PAGES
    }

    pub fn ecosystem_body(&self) -> Value {
        let root = self.page(0);
        let all: Vec<String> = (1..=PAGES)
            .flat_map(|p| (0..PER_PAGE).map(move |k| (p, k)))
            .map(|(p, k)| self.exercise(p, k))
            .collect();
        let mut contents = vec![
            json!({"container_uuid": root, "container_parent_uuid": self.ecosystem(),
            "pools": [{"use_for_clue": true, "use_for_personalized_for_assignment_types": [], "exercise_uuids": all}]}),
        ];
        let mut exercises = Vec::new();
        for p in 1..=PAGES {
            let uuids: Vec<String> = (0..PER_PAGE).map(|k| self.exercise(p, k)).collect();
            contents.push(json!({"container_uuid": self.page(p), "container_parent_uuid": root, "pools": [
                {"use_for_clue": true, "use_for_personalized_for_assignment_types": [], "exercise_uuids": uuids},
                {"use_for_clue": false, "use_for_personalized_for_assignment_types": ["homework"], "exercise_uuids": uuids},
                {"use_for_clue": false, "use_for_personalized_for_assignment_types": ["practice"], "exercise_uuids": uuids},
            ]}));
            for k in 0..PER_PAGE {
                exercises.push(json!({"exercise_uuid": self.exercise(p, k), "group_uuid": self.id(8, p * 1000 + k),
                    "version": 1, "los": [format!("cnxmod:{}", self.page(p))]}));
            }
        }
        json!({"ecosystem_uuid": self.ecosystem(), "book": {"cnx_identity": format!("{}@1.1", self.page(0)), "contents": contents},
            "exercises": exercises, "imported_at": T0})
    }

    pub fn course_body(&self, c: u64) -> Value {
        json!({"course_uuid": self.course(c), "ecosystem_uuid": self.ecosystem(), "is_real_course": true,
            "starts_at": "2017-01-01T00:00:00.000000Z", "ends_at": "2030-01-01T00:00:00.000000Z", "created_at": T0})
    }

    pub fn roster_item(&self, c: u64, seq: u64, students: &[u64]) -> Value {
        json!({"request_uuid": Uuid::new_v4().to_string(), "course_uuid": self.course(c), "sequence_number": seq,
            "course_containers": [{"container_uuid": self.id(9, c), "parent_container_uuid": self.course(c), "created_at": T0}],
            "students": students.iter().map(|s| json!({"student_uuid": self.student(*s), "container_uuid": self.id(9, c),
                "enrolled_at": T0, "last_course_container_change_at": T0})).collect::<Vec<_>>()})
    }

    pub fn assignment_item(&self, s: u64, seq: u64) -> Value {
        let p = self.page_of(s);
        json!({"request_uuid": Uuid::new_v4().to_string(), "course_uuid": self.course(self.course_of(s)), "sequence_number": seq,
            "assignment_uuid": self.assignment(s), "is_deleted": false, "ecosystem_uuid": self.ecosystem(),
            "student_uuid": self.student(s), "assignment_type": "homework",
            "exclusion_info": {"opens_at": T0, "due_at": "2017-08-08T12:00:00.000000Z"},
            "assigned_book_container_uuids": [self.page(p)], "goal_num_tutor_assigned_spes": 1, "spes_are_assigned": false,
            "goal_num_tutor_assigned_pes": 1, "pes_are_assigned": false,
            "assigned_exercises": (0..TRIALS).map(|k| json!({"trial_uuid": self.trial(s, k), "exercise_uuid": self.exercise(p, k),
                "is_spe": false, "is_pe": false})).collect::<Vec<_>>(),
            "created_at": T0, "updated_at": T0})
    }

    pub fn response_body(&self, s: u64, k: u64, seq: u64, correct: bool) -> Value {
        json!({"responses": [{"response_uuid": Uuid::new_v4().to_string(), "course_uuid": self.course(self.course_of(s)),
            "sequence_number": seq, "ecosystem_uuid": self.ecosystem(), "trial_uuid": self.trial(s, k),
            "student_uuid": self.student(s), "exercise_uuid": self.exercise(self.page_of(s), k), "is_correct": correct,
            "is_real_response": true, "responded_at": T0}]})
    }

    pub fn clue_read(&self, s: u64) -> Value {
        json!({"student_clue_requests": [{"request_uuid": Uuid::new_v4().to_string(), "student_uuid": self.student(s),
            "book_container_uuid": self.page(self.page_of(s)), "algorithm_name": "biglearn_sparfa"}]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_student_has_one_course_and_consecutive_numbers_in_it() {
        let world = World::new(3, 11);
        let mut seen = Vec::new();
        for c in 0..world.all_courses() {
            let students: Vec<u64> = world.students_of(c).collect();
            assert_eq!(students.len() as u64, world.course_size(c));
            for (i, s) in students.iter().enumerate() {
                assert_eq!(world.course_of(*s), c);
                assert_eq!(world.assignment_sequence(*s), 2 + i as u64);
            }
            seen.extend(students);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..world.all_students()).collect::<Vec<_>>());
        // Probes take the probe courses in turn, each alone in its course.
        let probe_courses: Vec<u64> = (0..2 * PROBE_COURSES)
            .map(|n| world.course_of(world.probe_student(n)))
            .collect();
        let expected: Vec<u64> = (0..2 * PROBE_COURSES)
            .map(|n| 3 + n % PROBE_COURSES)
            .collect();
        assert_eq!(probe_courses, expected);
        assert_eq!(
            world.students_of(3).collect::<Vec<_>>(),
            [world.probe_student(0)]
        );
    }
}
