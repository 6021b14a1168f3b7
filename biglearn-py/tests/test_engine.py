"""The engine from Python: wire-format appends with JSON-path errors,
conflicts, engine steps and refits, stored CLUEs/PEs, the event log."""

import uuid

import pandas as pd
import pytest

import biglearn

ECO, COURSE, BOOK = (str(uuid.UUID(int=(k << 96) | 1)) for k in (1, 4, 12))
CHAPTER, PAGE = str(uuid.UUID(int=(2 << 96) | 100)), str(uuid.UUID(int=(2 << 96) | 101))
PERIOD = str(uuid.UUID(int=(5 << 96)))
EXERCISES = [str(uuid.UUID(int=(3 << 96) | n)) for n in range(8)]
STUDENTS = [str(uuid.UUID(int=(6 << 96) | n)) for n in range(2)]


def at(day):
    return f"2017-01-{2 + day:02d}T00:00:00.000000Z"


def uid(kind, n):
    return str(uuid.UUID(int=(kind << 96) | n))


def ecosystem():
    pool = {"use_for_clue": True, "use_for_personalized_for_assignment_types": [],
            "exercise_uuids": EXERCISES}
    homework = {"use_for_clue": False, "use_for_personalized_for_assignment_types": ["homework"],
                "exercise_uuids": EXERCISES}
    return {"ecosystem_uuid": ECO,
            "book": {"cnx_identity": f"{BOOK}@1.1", "contents": [
                {"container_uuid": CHAPTER, "container_parent_uuid": ECO, "pools": [pool]},
                {"container_uuid": PAGE, "container_parent_uuid": CHAPTER, "pools": [pool, homework]}]},
            "exercises": [{"exercise_uuid": e, "group_uuid": uid(7, n), "version": 1, "los": ["lo"]}
                          for n, e in enumerate(EXERCISES)],
            "imported_at": at(0)}


def course():
    return {"course_uuid": COURSE, "ecosystem_uuid": ECO, "is_real_course": True,
            "starts_at": at(0), "ends_at": at(25), "created_at": at(0)}


def roster(seq):
    return {"rosters": [{"request_uuid": uid(8, seq), "course_uuid": COURSE, "sequence_number": seq,
            "course_containers": [{"container_uuid": PERIOD, "parent_container_uuid": COURSE,
                                   "created_at": at(0)}],
            "students": [{"student_uuid": s, "container_uuid": PERIOD, "enrolled_at": at(0),
                          "last_course_container_change_at": at(0)} for s in STUDENTS]}]}


def assignment(seq, student, n):
    trials = [{"trial_uuid": uid(9, 100 * n + k), "exercise_uuid": EXERCISES[k], "is_pe": False,
               "is_spe": False} for k in range(5)]
    return {"assignments": [{"request_uuid": uid(8, seq), "course_uuid": COURSE, "sequence_number": seq,
            "assignment_uuid": uid(10, n), "is_deleted": False, "ecosystem_uuid": ECO,
            "student_uuid": student, "assignment_type": "homework",
            "exclusion_info": {"opens_at": at(1), "due_at": at(3)},
            "goal_num_tutor_assigned_pes": 2, "assigned_book_container_uuids": [PAGE],
            "pes_are_assigned": False, "goal_num_tutor_assigned_spes": 0, "spes_are_assigned": False,
            "assigned_exercises": trials, "created_at": at(1), "updated_at": at(1)}]}


def response(seq, student, n, k, correct):
    return {"responses": [{"response_uuid": uid(11, seq), "course_uuid": COURSE, "sequence_number": seq,
            "ecosystem_uuid": ECO, "trial_uuid": uid(9, 100 * n + k), "student_uuid": student,
            "exercise_uuid": EXERCISES[k], "is_correct": correct, "is_real_response": True,
            "responded_at": at(2)}]}


@pytest.fixture()
def store(tmp_path):
    store = biglearn.Store(tmp_path / "course.sqlite3")
    assert store.append("create_ecosystem", ecosystem()) == {"stored": 1, "replayed": 0}
    store.append("create_course", course())
    store.append("update_rosters", roster(1))
    seq = 2
    for n, student in enumerate(STUDENTS):
        store.append("create_update_assignments", assignment(seq, student, n))
        seq += 1
    for n, student in enumerate(STUDENTS):
        for k in range(5):
            store.append("record_responses", response(seq, student, n, k, (k + n) % 2 == 0))
            seq += 1
    return store


def test_engine_round_trip(store):
    report = store.step(now=at(2))
    assert report["events_applied"] > 0
    assert store.refit(now=at(2)) == 1
    store.step(now=at(4))
    clue = store.clue(STUDENTS[0], PAGE)
    assert clue is not None and clue["is_real"]
    assert clue["minimum"] <= clue["most_likely"] <= clue["maximum"]
    assert store.clue(STUDENTS[0], PAGE, algorithm="local_query") is not None
    pes = store.pes(uid(10, 0))
    assert pes is not None and set(pes) <= set(EXERCISES)
    assert store.worst_areas(STUDENTS[1]) is not None


def test_event_log_frame(store):
    log = store.events(COURSE)
    assert isinstance(log, pd.DataFrame)
    assert log["sequence_number"].tolist() == list(range(len(log)))
    assert log["event_type"].iloc[0] == "create_course"
    assert (log["event_type"] == "record_response").sum() == 10
    assert log["data"].iloc[-1]["is_correct"] in (True, False)


def test_replay_is_idempotent_and_conflicts_raise(store):
    again = store.append("record_responses", response(4, STUDENTS[0], 0, 0, True))
    assert again == {"stored": 0, "replayed": 1}
    clash = response(4, STUDENTS[0], 0, 1, False)
    clash["responses"][0]["response_uuid"] = uid(11, 999)
    with pytest.raises(biglearn.ConflictError, match="sequence number 4 is already used"):
        store.append("record_responses", clash)


def test_validation_errors_carry_json_paths(store):
    bad = response(50, STUDENTS[0], 0, 0, True)
    bad["responses"][0]["is_correct"] = "yes"
    del bad["responses"][0]["trial_uuid"]
    with pytest.raises(biglearn.ValidationError) as e:
        store.append("record_responses", bad)
    assert "responses[0].is_correct" in e.value.paths
    assert "responses[0].trial_uuid" in e.value.paths
    with pytest.raises(biglearn.ValidationError, match="unknown endpoint `record_answers`"):
        store.append("record_answers", {})
    with pytest.raises(biglearn.ValidationError, match="not a uuid"):
        store.clue("not-a-uuid", PAGE)
    with pytest.raises(biglearn.ValidationError, match="ISO 8601"):
        store.step(now="yesterday")


def test_store_errors(tmp_path):
    with pytest.raises(biglearn.StoreError):
        biglearn.Store(tmp_path / "missing-folder" / "x.sqlite3")
