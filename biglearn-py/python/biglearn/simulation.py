"""The class simulator of the Rust library, week by week from Python."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Optional, Union

import pandas as pd

from . import _native
from ._errors import ValidationError

POLICIES = ("biglearn_sparfa", "local_query", "none")


class Simulation:
    """A simulated course: a book (three pages per chapter, one chapter a
    week), ``students`` students with hidden SPARFA knowledge, readings,
    homeworks and worst-areas practice, answers drawn from the hidden model
    and the engine stepping every simulated day. Seeded and deterministic.

    ``policy`` chooses what Tutor adds to assignments: ``biglearn_sparfa``
    or ``local_query`` PEs, SPEs and practice, or ``none``. ``database``
    None runs on the in-memory store; a path runs on SQLite (as the
    command-line ``simulate``, whose table this reproduces).
    """

    def __init__(
        self,
        students: int = 300,
        weeks: int = 10,
        seed: int = 1,
        policy: str = "biglearn_sparfa",
        ability_sd: float = 0.5,
        page_sd: float = 0.4,
        intercept_mean: float = 0.0,
        intercept_sd: float = 0.6,
        refit_every_days: float = 2.0,
        database: Optional[Union[str, os.PathLike]] = None,
    ) -> None:
        for name, value in (("students", students), ("weeks", weeks)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationError(f"{name} must be a non-negative integer, got {value!r}", [name])
        if policy not in POLICIES:
            raise ValidationError(f"unknown policy {policy!r}; expected one of {POLICIES}", ["policy"])
        self._native = _native.NativeSimulation(
            students, weeks, int(seed), policy, float(ability_sd), float(page_sd),
            float(intercept_mean), float(intercept_sd), float(refit_every_days),
            None if database is None else os.fspath(database),
        )
        self.weeks = weeks
        self.rows: list = []

    def advance_week(self) -> Dict[str, Any]:
        """Runs the next week (GIL released) and returns its figures."""
        row = self._native.advance_week()
        self.rows.append(row)
        return row

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        while not self._native.finished:
            yield self.advance_week()

    @property
    def finished(self) -> bool:
        """Whether every week ran."""
        return self._native.finished

    @property
    def events(self) -> int:
        """Events appended so far."""
        return self._native.events

    def table(self) -> pd.DataFrame:
        """The weeks run so far, one row each (the columns of the
        command-line table: CLUE, truth, error and interval coverage per
        algorithm, PEs/SPEs per assignment, worst-areas length, refits)."""
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "table_row"} for r in self.rows])
        return frame.set_index("week") if len(frame) else frame

    def text(self) -> str:
        """The weeks so far as the command line prints them."""
        return "\n".join([_native.NativeSimulation.table_header()] + [r["table_row"] for r in self.rows])


def simulate(**config: Any) -> pd.DataFrame:
    """Runs a whole :class:`Simulation` and returns its per-week table."""
    simulation = Simulation(**config)
    for _ in simulation:
        pass
    return simulation.table()
