"""Data helpers: the command line's held-out split, wide ↔ long tables,
the synthetic generator with its truth, and a loader for wide CSV files."""

from __future__ import annotations

import os
from typing import Any, Dict, NamedTuple, Optional, Tuple, Union

import numpy as np
import pandas as pd

from . import _frames, _native
from ._errors import ValidationError


def train_test_split(
    data: pd.DataFrame,
    test_size: float = 0.2,
    seed: int = 0,
    learner: str = "learner",
    question: str = "question",
    correct: str = "correct",
) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) rows, cut exactly as ``sparfa fit --holdout test_size
    --seed seed`` holds cells out (a hash of seed, learner and question, so
    row order does not matter). A repeated (learner, question) row stays in
    train, where ``fit`` ignores it as the command line does."""
    cols = _frames.columns(data, learner, question, correct)
    held = np.frombuffer(_native.heldout_rows(*cols, float(test_size), int(seed)), dtype=np.uint8)
    mask = held.astype(bool)
    frame = _frames.as_frame(data, learner, question, correct)
    return frame[~mask], frame[mask]


def long_to_wide(
    data: pd.DataFrame, learner: str = "learner", question: str = "question", correct: str = "correct"
) -> pd.DataFrame:
    """One row per learner, one column per question, 1/0 and NaN for
    unanswered (the first response per learner and question counts)."""
    frame = _frames.as_frame(data, learner, question, correct)
    flags = _frames.correct_flags(frame, correct)
    long = pd.DataFrame({"learner": _frames.ids(frame, learner), "question": _frames.ids(frame, question),
                         "correct": flags.astype(float)})
    long = long.drop_duplicates(["learner", "question"], keep="first")
    wide = long.pivot(index="learner", columns="question", values="correct")
    wide = wide.reindex(index=pd.unique(long["learner"]), columns=pd.unique(long["question"]))
    wide.index.name = learner
    wide.columns.name = None
    return wide


def wide_to_long(
    wide: Union[pd.DataFrame, str, os.PathLike],
) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """(responses, hints) from a wide table, by the rules of ``sparfa
    convert``: a ``rownames``/``id``/``learner`` column (or the index) is
    the learner id; ``solved.*`` columns are items when present (missing
    where ``credits.*`` is 0); values 0/1, empty or NA missing; an item's
    concept is its name up to the first ``.``. Accepts a DataFrame or the
    path of a CSV file (read, never copied)."""
    if isinstance(wide, pd.DataFrame):
        frame = wide
        if not any(c in ("rownames", "id", "learner") for c in frame.columns):
            frame = frame.reset_index().rename(columns={frame.index.name or "index": "learner"})
        text = frame.to_csv(index=False, na_rep="NA")
        name = "DataFrame"
    else:
        name = os.fspath(wide)
        try:
            with open(name, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ValidationError(f"cannot read {name}: {e}", ["path"]) from e
    out = _native.wide_to_long(text, name)
    responses = pd.DataFrame(out["responses"], columns=["learner", "question", "correct"])
    responses["correct"] = responses["correct"].astype(np.int8)
    hints = pd.DataFrame(out["hints"], columns=["question", "concept"])
    responses.attrs["missing"] = out["missing"]
    return responses, hints


def load_wide_csv(path: Union[str, os.PathLike]) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """A wide CSV data set from a path you give (e.g. the shared real data
    sets, which are GPL and not shipped with this package): (responses,
    hints) as :func:`wide_to_long`."""
    return wide_to_long(path)


class Synthetic(NamedTuple):
    """A synthetic data set and the truth it was drawn from."""

    responses: pd.DataFrame
    """learner, question, correct (one row per observed cell)."""
    hints: pd.DataFrame
    """question, concept."""
    W: pd.DataFrame
    """True loadings, questions × concepts."""
    d: pd.Series
    """True intercepts by question."""
    knowledge: pd.DataFrame
    """True knowledge, learners × concepts."""


def synthetic(
    learners: int = 1000, questions: int = 200, concepts: int = 20, density: float = 0.5, seed: int = 0
) -> Synthetic:
    """The command line's ``synth`` data (same numbers for the same
    arguments): hinted loadings U(0.5, 2), a second hint and an unhinted
    loading each with probability 0.1, U ~ N(0, 1), d ~ N(0, 1), each
    cell observed with probability ``density``. The ``learner`` and
    ``question`` columns of ``responses`` are categoricals (ids in
    generation order), which keeps millions of rows cheap to build and to
    fit."""
    for name, value in (("learners", learners), ("questions", questions), ("concepts", concepts)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValidationError(f"{name} must be a positive integer, got {value!r}", [name])
    out = _native.synthetic(int(learners), int(questions), int(concepts), float(density), int(seed))
    learner_ids = out["learner_ids"]
    # Categorical id columns straight from the generator's codes: no string
    # object per row, and fitting factorizes their integer codes.
    learner = pd.Categorical.from_codes(
        np.frombuffer(out["learner_codes"], dtype="<u4").astype(np.int32), categories=learner_ids
    )
    question = pd.Categorical.from_codes(
        np.frombuffer(out["question_codes"], dtype="<u4").astype(np.int32), categories=out["question_ids"]
    )
    responses = pd.DataFrame({
        "learner": learner,
        "question": question,
        "correct": np.frombuffer(out["correct"], dtype=np.uint8).astype(np.int8),
    })
    hints = pd.DataFrame(out["hints"], columns=["question", "concept"])
    truth = out["truth"]
    k = len(truth["concept_ids"])
    W = pd.DataFrame(np.frombuffer(truth["W"], dtype="<f8").reshape(len(truth["question_ids"]), k).copy(),
                     index=pd.Index(truth["question_ids"], name="question"),
                     columns=pd.Index(truth["concept_ids"], name="concept"))
    d = pd.Series(truth["d"], index=W.index, name="d")
    knowledge = pd.DataFrame(np.asarray(out["knowledge"], dtype=float).reshape(len(learner_ids), k),
                             index=pd.Index(learner_ids, name="learner"), columns=W.columns)
    return Synthetic(responses, hints, W, d, knowledge)
