"""Response tables in, factorized columns out (the form the native half
takes): checks the columns, their dtypes and values, with messages naming
the column and the first bad row."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import numpy as np
import pandas as pd

from ._errors import ValidationError


def as_frame(data: Any, learner: str, question: str, correct: str) -> pd.DataFrame:
    """A DataFrame of the three columns from a DataFrame, a dict of arrays
    or a tuple of three arrays."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    elif isinstance(data, (tuple, list)) and len(data) == 3:
        frame = pd.DataFrame({learner: data[0], question: data[1], correct: data[2]})
    else:
        raise ValidationError(
            f"expected a pandas DataFrame (or a dict of columns, or a tuple of three arrays),"
            f" got {type(data).__name__}",
            ["data"],
        )
    missing = [c for c in (learner, question, correct) if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"missing column(s) {missing}; the frame has {list(frame.columns)}"
            " (name them with learner=, question=, correct=)",
            missing,
        )
    return frame


def ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """An id column as strings; missing ids are an error."""
    values = frame[column]
    bad = values.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"column `{column}`: missing id at row {row} ({int(bad.sum())} missing in all)",
            [column],
        )
    # Ids are text (as in a CSV): 7 and "7" are the same learner.
    return values.astype(str)


def correct_flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The correct column as 0/1 bytes: bool, or numbers that are 0 or 1."""
    values = frame[column]
    if values.dtype == bool:
        return values.to_numpy().astype(np.uint8)
    if not pd.api.types.is_numeric_dtype(values.dtype):
        raise ValidationError(
            f"column `{column}` has dtype {values.dtype}; expected bool or numbers 0/1",
            [column],
        )
    array = values.to_numpy(dtype=float, na_value=np.nan)
    nan = np.isnan(array)
    if nan.any():
        row = int(np.flatnonzero(nan)[0])
        raise ValidationError(
            f"column `{column}`: NaN at row {row} ({int(nan.sum())} NaN in all);"
            " drop unanswered rows first",
            [column],
        )
    bad = (array != 0) & (array != 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"column `{column}`: value {float(array[row])!r} at row {row} is not 0 or 1",
            [column],
        )
    return array.astype(np.uint8)


def factorize(values: pd.Series) -> Tuple[bytes, List[str]]:
    """Codes (little-endian u32 bytes) and the distinct ids in first-seen order."""
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype("<u4").tobytes(), [str(u) for u in uniques]


def _missing_id(column: str, bad: np.ndarray) -> ValidationError:
    row = int(np.flatnonzero(bad)[0])
    return ValidationError(
        f"column `{column}`: missing id at row {row} ({int(bad.sum())} missing in all)",
        [column],
    )


def _first_seen_codes(values: pd.Series, column: str) -> Tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) in first-seen order, without a Python
    object per row: a categorical column is factorized by its integer codes
    (its categories are not in first-seen order), anything else by pandas'
    hash table directly."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        category_codes = values.cat.codes.to_numpy()
        if (category_codes < 0).any():
            raise _missing_id(column, category_codes < 0)
        codes, first = pd.factorize(category_codes, sort=False)
        return codes, np.asarray(values.cat.categories)[first]
    bad = values.isna().to_numpy()
    if bad.any():
        raise _missing_id(column, bad)
    codes, uniques = pd.factorize(values, sort=False)
    return codes, np.asarray(uniques, dtype=object)


def id_codes(frame: pd.DataFrame, column: str) -> Tuple[np.ndarray, List[str]]:
    """An id column factorized: codes (an integer array) and the distinct
    ids as text in first-seen order, equal to factorizing
    :func:`ids` (ids are text: 7 and "7" are the same learner) but hashing
    the column as it is and converting only the distinct values to text, so
    a column of millions of rows costs one pass in C. Columns of other
    dtypes (dates, periods, …) take :func:`ids`' path, whose text forms are
    pandas' own."""
    values = frame[column]
    dtype = values.dtype
    if dtype == object:
        # Only all-text or all-integer objects: hashing treats 7 == 7.0 and
        # 1 == True as one key, whose texts differ.
        direct = pd.api.types.infer_dtype(values, skipna=True) in ("string", "integer")
    else:
        direct = (
            isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(dtype)
            or pd.api.types.is_integer_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
        )
    if not direct:
        codes, uniques = pd.factorize(ids(frame, column), sort=False)
        return codes, [str(u) for u in uniques]
    codes, uniques = _first_seen_codes(values, column)
    text = [str(u) for u in uniques]
    if len(set(text)) < len(text):
        # Distinct values with the same text (7 and "7"): one id, numbered
        # where its text first appears.
        merged, text_uniques = pd.factorize(np.asarray(text, dtype=object), sort=False)
        codes = merged[codes]
        text = [str(t) for t in text_uniques]
    return codes, text


def columns(
    data: Any, learner: str, question: str, correct: str
) -> Tuple[List[str], List[str], bytes, bytes, bytes]:
    """(learner ids, question ids, learner codes, question codes, correct)
    of a response table."""
    frame = as_frame(data, learner, question, correct)
    if len(frame) == 0:
        raise ValidationError("the response table has no rows", ["data"])
    learner_codes, learner_ids = id_codes(frame, learner)
    question_codes, question_ids = id_codes(frame, question)
    flags = correct_flags(frame, correct)
    return (learner_ids, question_ids, learner_codes.astype("<u4").tobytes(),
            question_codes.astype("<u4").tobytes(), flags.tobytes())


def index_of(
    known: pd.Index, frame: pd.DataFrame, column: str, what: str, unseen_to_end: bool = False
) -> bytes:
    """Positions of the ids of `frame[column]` in `known` as u32 bytes
    (looked up once per distinct id); unknown ids are an error listing a
    few of them, or (``unseen_to_end``) position ``len(known)``."""
    codes, text = id_codes(frame, column)
    position = known.get_indexer(pd.Index(text, dtype=object))[codes]
    unknown = position < 0
    if unknown.any() and unseen_to_end:
        position = np.where(unknown, len(known), position)
    elif unknown.any():
        names = [text[c] for c in pd.unique(codes[unknown])]
        shown = ", ".join(repr(n) for n in names[:5])
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        hint = " (unseen='prior' predicts them at the prior mean)" if what == "learner" else ""
        raise ValidationError(
            f"column `{column}`: {len(names)} unknown {what}(s) not seen in fit: {shown}{more}{hint}",
            [column],
        )
    return position.astype("<u4").tobytes()


def hint_pairs(
    hints: Optional[Any], question: str = "question", concept: str = "concept"
) -> Optional[List[Tuple[str, str]]]:
    """Hints as (question, concept) pairs from a DataFrame with columns
    `question`, `concept` or a dict question -> concept(s)."""
    if hints is None:
        return None
    if isinstance(hints, dict):
        pairs = []
        for q, c in hints.items():
            for one in [c] if isinstance(c, str) else list(c):
                pairs.append((str(q), str(one)))
        return pairs
    if isinstance(hints, pd.DataFrame):
        missing = [c for c in (question, concept) if c not in hints.columns]
        if missing:
            raise ValidationError(
                f"hints: missing column(s) {missing}; the frame has {list(hints.columns)}",
                [f"hints.{m}" for m in missing],
            )
        frame = hints[[question, concept]]
        if frame.isna().any().any():
            raise ValidationError("hints: missing question or concept ids", ["hints"])
        return [(str(q), str(c)) for q, c in frame.itertuples(index=False)]
    raise ValidationError(
        f"hints must be a DataFrame (question, concept) or a dict, got {type(hints).__name__}",
        ["hints"],
    )
