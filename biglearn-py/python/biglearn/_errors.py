"""Exception classes: one per kind of error, all under :class:`BiglearnError`."""

from __future__ import annotations

from typing import List, Sequence


class BiglearnError(Exception):
    """Base class of every error biglearn raises."""


class ValidationError(BiglearnError, ValueError):
    """Bad input: a wire-format body, a data frame, an option.

    ``paths`` lists where the problems are: JSON paths such as
    ``responses[0].is_correct`` for wire-format bodies, column or option
    names (``correct``, ``lambda_``) for data and options.
    """

    def __init__(self, message: str, paths: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.paths: List[str] = list(paths)


class NotFittedError(BiglearnError, AttributeError):
    """A fitted parameter or prediction was asked of a model before ``fit``."""


class ConflictError(BiglearnError):
    """An append the event log refused: it conflicts with stored events
    (a sequence number or event uuid already used differently). Nothing of
    the request was stored."""


class StoreError(BiglearnError):
    """The database failed (opening, reading or writing)."""


class EngineError(BiglearnError):
    """An engine step or refit failed."""


class SimulationError(BiglearnError):
    """The class simulation could not go on."""


__all__ = [
    "BiglearnError",
    "ValidationError",
    "NotFittedError",
    "ConflictError",
    "StoreError",
    "EngineError",
    "SimulationError",
]
