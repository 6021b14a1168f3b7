"""The Biglearn engine from Python: an event store, wire-format appends,
engine steps and refits, and the results Tutor would read."""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Dict, List, Optional, Union

import pandas as pd

from . import _native
from ._errors import ValidationError

Time = Union[_dt.datetime, float, int, str]


def _micros(now: Optional[Time]) -> int:
    """Unix microseconds of a datetime (naive = UTC), unix seconds or an
    ISO 8601 string; None is the current time."""
    if now is None:
        now = _dt.datetime.now(_dt.timezone.utc)
    if isinstance(now, str):
        try:
            now = _dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError as e:
            raise ValidationError(f"now: {now!r} is not an ISO 8601 time", ["now"]) from e
    if isinstance(now, _dt.datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=_dt.timezone.utc)
        return int(round(now.timestamp() * 1e6))
    if isinstance(now, (int, float)) and not isinstance(now, bool):
        return int(round(float(now) * 1e6))
    raise ValidationError(f"now: expected a datetime, unix seconds or ISO text, got {now!r}", ["now"])


class Store:
    """An event store (SQLite file, ``":memory:"`` or a ``postgres://``
    URL; created and migrated when new) and the engine consuming it.

    >>> store = Store("course.sqlite3")            # doctest: +SKIP
    >>> store.append("record_responses", {"responses": [...]})  # doctest: +SKIP
    """

    def __init__(self, path: Union[str, os.PathLike], consumer: str = "python") -> None:
        self.path = os.fspath(path)
        self._native = _native.NativeStore(self.path, consumer)

    def append(self, endpoint: str, body: Dict[str, Any]) -> Dict[str, int]:
        """Validates a request body of a write endpoint (``create_ecosystem``,
        ``create_course``, ``update_rosters``, ``create_update_assignments``,
        ``record_responses``, …) and appends its events atomically.

        Raises :class:`ValidationError` with every problem's JSON path, or
        :class:`ConflictError` when stored events conflict (nothing stored).
        Returns ``{"stored": n, "replayed": m}``."""
        if not isinstance(body, dict):
            raise ValidationError(f"{endpoint}: body must be a dict, got {type(body).__name__}", ["$"])
        try:
            text = json.dumps(body)
        except (TypeError, ValueError) as e:
            raise ValidationError(f"{endpoint}: body is not JSON-serializable: {e}", ["$"]) from e
        stored, replayed = self._native.append(endpoint, text)
        return {"stored": stored, "replayed": replayed}

    def step(self, now: Optional[Time] = None, max_steps: int = 1000) -> Dict[str, int]:
        """Lets the engine catch up with the log at ``now`` (default: the
        current time; the GIL is released). Returns what it did."""
        return self._native.step(_micros(now), int(max_steps))

    def refit(self, now: Optional[Time] = None) -> int:
        """Refits every ecosystem with new responses (the server does this
        in the background); returns how many were refitted. Call
        :meth:`step` afterwards to recalculate with the new matrices."""
        return self._native.refit(_micros(now))

    def clue(self, student: str, book_container: str, algorithm: str = "biglearn_sparfa") -> Optional[Dict[str, Any]]:
        """A student's stored CLUE on a book container (page or chapter),
        or None before the engine computed one."""
        found = self._native.student_clue(algorithm, str(student), str(book_container))
        if found is None:
            return None
        low, mid, high, real = found
        return {"minimum": low, "most_likely": mid, "maximum": high, "is_real": real}

    def pes(self, assignment: str, algorithm: str = "biglearn_sparfa") -> Optional[List[str]]:
        """The assignment's personalized exercises (exercise uuids)."""
        return self._native.exercises(algorithm, "pes", str(assignment))

    def spes(self, assignment: str, algorithm: str = "instructor_driven_biglearn_sparfa") -> Optional[List[str]]:
        """The assignment's spaced-practice exercises (exercise uuids)."""
        return self._native.exercises(algorithm, "spes", str(assignment))

    def worst_areas(self, student: str, algorithm: str = "biglearn_sparfa") -> Optional[List[str]]:
        """The student's practice-worst-areas exercises."""
        return self._native.exercises(algorithm, "worst_areas", str(student))

    def events(self, course: str) -> pd.DataFrame:
        """A course's event log: sequence_number, event_type, event_uuid and
        the event's data as a dict, in order (up to the first gap)."""
        rows = self._native.course_events(str(course))
        frame = pd.DataFrame(rows, columns=["sequence_number", "event_type", "event_uuid", "data"])
        frame["data"] = [json.loads(d) for d in frame["data"]]
        return frame
