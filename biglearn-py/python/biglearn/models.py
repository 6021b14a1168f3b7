"""SPARFA, its special cases (2PL, Rasch) and the exploratory K-factor
model with a scikit-learn-style interface. Every number comes from the Rust core; this module converts
tables and names things."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _frames, _native
from ._errors import NotFittedError, ValidationError

METRICS = ("log_loss", "auc", "accuracy", "brier")


def _progress_bar(enabled: bool, total: int, label: str):
    """A tqdm bar when tqdm is installed and `enabled`, else None."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm  # type: ignore
    except ImportError:
        return None
    return tqdm(total=total, desc=label, leave=False)


class _Model:
    """Shared implementation; use :class:`SPARFA`, :class:`TwoPL`,
    :class:`Rasch` or :func:`auto`."""

    _kind = "sparfa"

    def __init__(
        self,
        lambda_: Union[str, float] = "scaled",
        seed: int = 0,
        max_iterations: int = 500,
        gradient_tolerance: float = 1e-5,
        relative_tolerance: float = 0.0,
        learner_sweeps: int = 1,
        question_iterations: int = 1,
        validation_fraction: float = 0.2,
        progress: bool = True,
    ) -> None:
        self.lambda_ = lambda_
        self.seed = seed
        self.max_iterations = max_iterations
        self.gradient_tolerance = gradient_tolerance
        self.relative_tolerance = relative_tolerance
        self.learner_sweeps = learner_sweeps
        self.question_iterations = question_iterations
        self.validation_fraction = validation_fraction
        self.progress = progress
        self._native: Optional[Any] = None
        self._columns = ("learner", "question", "correct")

    # -- scikit-learn protocol -------------------------------------------------

    _extra_params: Tuple[str, ...] = ()

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``get_params``."""
        return {
            name: getattr(self, name)
            for name in self._extra_params + (
                "lambda_",
                "seed",
                "max_iterations",
                "gradient_tolerance",
                "relative_tolerance",
                "learner_sweeps",
                "question_iterations",
                "validation_fraction",
                "progress",
            )
        }

    def set_params(self, **params: Any) -> "_Model":
        """Sets constructor parameters; unknown names are an error."""
        known = self.get_params()
        for name, value in params.items():
            if name not in known:
                raise ValidationError(
                    f"unknown parameter `{name}`; known: {sorted(known)}", [name]
                )
            if name == "concepts":
                _check_concepts(value)
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting ---------------------------------------------------------------

    def fit(
        self,
        data: Any,
        hints: Optional[Any] = None,
        learner: str = "learner",
        question: str = "question",
        correct: str = "correct",
    ) -> "_Model":
        """Fits on every row of ``data`` (one response per row, in time
        order; the first response per learner and question counts).

        ``hints`` (SPARFA only) maps questions to concepts: a DataFrame with
        columns ``question`` and ``concept`` or a dict; without hints every
        question has the one concept ``all``, or, when the model was made
        with ``concepts=K``, ``K`` unnamed factors (``factor1`` …) every
        question may load on. The GIL is released while the core fits, so
        other Python threads keep running.
        """
        columns = _frames.columns(data, learner, question, correct)
        lambda_text = self._lambda_text()
        pairs = _frames.hint_pairs(hints) if self._kind == "sparfa" else None
        factors = self._factors(pairs, len(columns[1]))
        bar = _progress_bar(self.progress, self.max_iterations, type(self).__name__)
        lock = threading.Lock()

        def report(iteration: int, total: int, objective: Optional[float], gradient: float) -> None:
            with lock:
                if bar is not None:
                    bar.total = total
                    bar.n = iteration
                    bar.set_postfix(
                        J="…" if objective is None else f"{objective:.6e}", grad=f"{gradient:.1e}"
                    )

        try:
            self._native = _native.fit(
                *columns,
                pairs,
                self._kind,
                lambda_text,
                int(self.seed),
                int(self.max_iterations),
                float(self.gradient_tolerance),
                float(self.relative_tolerance),
                int(self.learner_sweeps),
                int(self.question_iterations),
                float(self.validation_fraction),
                progress=report if bar is not None else None,
                factors=factors,
            )
        finally:
            if bar is not None:
                bar.close()
        self._columns = (learner, question, correct)
        return self

    def _factors(self, pairs: Optional[List[Tuple[str, str]]], questions: int) -> Optional[int]:
        """The factor count of an exploratory fit: ``concepts`` when set and
        no hints name the concepts, else None (hints decide)."""
        concepts = getattr(self, "concepts", None)
        if concepts is None:
            return None
        _check_concepts(concepts)
        if pairs is not None:
            named = len({c for _, c in pairs})
            if named != concepts:
                raise ValidationError(
                    f"concepts={concepts} but the hints name {named} concept(s); give matching"
                    " hints, or no hints to fit that many unnamed factors",
                    ["concepts"],
                )
            return None
        if concepts > questions:
            raise ValidationError(
                f"concepts={concepts} is more than the {questions} question(s) in the data:"
                " a model has at most one concept per question",
                ["concepts"],
            )
        return int(concepts)

    def _lambda_text(self) -> str:
        value = self.lambda_
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(
                f"lambda_ must be a number, 'scaled', 'scaled:L' or 'auto', got {value!r}",
                ["lambda_"],
            )
        if isinstance(value, (int, float)):
            if not np.isfinite(value) or value <= 0:
                raise ValidationError(f"lambda_ {value!r} must be a positive number", ["lambda_"])
            return repr(float(value))
        return value

    def _fitted(self) -> Any:
        if self._native is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() first")
        return self._native

    # -- prediction ------------------------------------------------------------

    def _indices(self, data: Any, learner: Optional[str], question: Optional[str], correct: Optional[str],
                 need_correct: bool, unseen: str):
        native = self._fitted()
        if unseen not in ("error", "prior"):
            raise ValidationError(f"unseen must be 'error' or 'prior', got {unseen!r}", ["unseen"])
        learner = learner or self._columns[0]
        question = question or self._columns[1]
        correct = correct or self._columns[2]
        if isinstance(data, pd.DataFrame):
            frame = data
            needed = [learner, question] + ([correct] if need_correct else [])
            missing = [c for c in needed if c not in frame.columns]
            if missing:
                raise ValidationError(
                    f"missing column(s) {missing}; the frame has {list(frame.columns)}", missing
                )
        else:
            frame = _frames.as_frame(data, learner, question, correct)
        learner_index = _frames.index_of(
            pd.Index(native.learner_ids), frame, learner, "learner", unseen_to_end=unseen == "prior"
        )
        question_index = _frames.index_of(
            pd.Index(native.parameters()["question_ids"]), frame, question, "question"
        )
        flags = _frames.correct_flags(frame, correct).tobytes() if need_correct else None
        return native, learner_index, question_index, flags

    def predict_proba(
        self,
        data: Any,
        learner: Optional[str] = None,
        question: Optional[str] = None,
        unseen: str = "error",
    ) -> np.ndarray:
        """P(correct) for each row. Questions must have been seen in fit;
        learners too, unless ``unseen="prior"``, which predicts a new
        learner at the prior mean knowledge (0), as the command line's
        held-out evaluation does."""
        native, li, qi, _ = self._indices(data, learner, question, None, False, unseen)
        return np.frombuffer(native.predict(li, qi, unseen == "prior"), dtype="<f8").copy()

    def score(
        self,
        data: Any,
        metric: str = "log_loss",
        learner: Optional[str] = None,
        question: Optional[str] = None,
        correct: Optional[str] = None,
        unseen: str = "error",
    ) -> float:
        """``log_loss``, ``auc``, ``accuracy`` or ``brier`` of the rows, or
        ``"all"`` for a dict of the four (and ``count``): the held-out
        metrics of the command-line ``fit`` (which scores learners without
        training responses at the prior: pass ``unseen="prior"``)."""
        if metric not in METRICS and metric != "all":
            raise ValidationError(
                f"unknown metric {metric!r}; expected one of {METRICS} or 'all'", ["metric"]
            )
        native, li, qi, flags = self._indices(data, learner, question, correct, True, unseen)
        scores = native.score(li, qi, flags, unseen == "prior")
        return scores if metric == "all" else scores[metric]

    def crossvalidate(
        self,
        data: Any,
        folds: int = 5,
        hints: Optional[Any] = None,
        learner: str = "learner",
        question: str = "question",
        correct: str = "correct",
    ) -> pd.DataFrame:
        """k-fold cross validation over cells: one row of held-out metrics
        per fold (folds by the hash the command line splits with, seeded by
        ``seed``). Learners or questions seen only in a fold's test cells
        are not scored in that fold."""
        frame = _frames.as_frame(data, learner, question, correct)
        if not isinstance(folds, (int, np.integer)) or isinstance(folds, bool):
            raise ValidationError(f"folds must be an integer, got {folds!r}", ["folds"])
        cols = _frames.columns(frame, learner, question, correct)
        fold = np.frombuffer(_native.fold_rows(*cols, int(folds), int(self.seed)), dtype="<i4")
        rows = []
        for k in range(int(folds)):
            train = frame[(fold != k) & (fold >= 0)]
            test = frame[fold == k]
            model = type(self)(**self.get_params())
            model.fit(train, hints=hints, learner=learner, question=question, correct=correct)
            known = test[learner].astype(str).isin(model._native.learner_ids) & test[question].astype(
                str
            ).isin(model._native.parameters()["question_ids"])
            scores = model.score(test[known], metric="all")
            scores["fold"] = k
            scores["skipped"] = int((~known).sum())
            rows.append(scores)
        return pd.DataFrame(rows).set_index("fold")

    # -- fitted parameters -----------------------------------------------------

    @property
    def W(self) -> pd.DataFrame:
        """Loadings, questions × concepts (non-negative; zeros are sparse)."""
        p = self._fitted().parameters()
        values = np.frombuffer(p["W"], dtype="<f8").reshape(len(p["question_ids"]), len(p["concept_ids"]))
        return pd.DataFrame(values.copy(), index=pd.Index(p["question_ids"], name="question"),
                            columns=pd.Index(p["concept_ids"], name="concept"))

    @property
    def d(self) -> pd.Series:
        """Intercepts by question (larger = easier)."""
        p = self._fitted().parameters()
        return pd.Series(p["d"], index=pd.Index(p["question_ids"], name="question"), name="d")

    @property
    def knowledge(self) -> pd.DataFrame:
        """Knowledge, learners × concepts: each learner's MAP estimate given
        the fitted W, d and their training responses (what predictions use)."""
        native = self._fitted()
        p = native.parameters()
        k = len(p["concept_ids"])
        values = np.frombuffer(native.knowledge(), dtype="<f8").reshape(len(native.learner_ids), k)
        return pd.DataFrame(values.copy(), index=pd.Index(native.learner_ids, name="learner"),
                            columns=pd.Index(p["concept_ids"], name="concept"))

    @property
    def hints_(self) -> pd.DataFrame:
        """The hint mask the fit used, one row per (question, concept)."""
        p = self._fitted().parameters()
        rows = [(p["question_ids"][q], p["concept_ids"][k]) for q, ks in enumerate(p["hints"]) for k in ks]
        return pd.DataFrame(rows, columns=["question", "concept"])

    @property
    def kind_(self) -> str:
        """The family member fitted (``sparfa``, ``2pl``, ``rasch``,
        ``exploratory``); with ``lambda_='auto'`` and neither hints nor
        ``concepts`` a SPARFA may pick 2PL, Rasch or a 2-factor exploratory
        model; ``concepts=K`` without hints fits ``exploratory``."""
        return self._fitted().kind

    @property
    def fitted_lambda_(self) -> float:
        """The λ the fit used (after scaling or the automatic choice)."""
        return self._fitted().lambda_

    @property
    def objective_(self) -> float:
        """The objective at the end of the fit."""
        return self._fitted().objective

    @property
    def iterations_(self) -> int:
        """Outer iterations the fit ran."""
        return self._fitted().iterations

    @property
    def converged_(self) -> bool:
        """Whether the fit met its tolerance."""
        return self._fitted().converged

    @property
    def kkt_residual_(self) -> Optional[float]:
        """The largest §4.6 KKT violation at the fit (0 at an exact optimum);
        ``None`` for a loaded model. See :meth:`kkt` for the parts."""
        k = self._fitted().kkt()
        return None if k is None else k["max"]

    def kkt(self) -> Optional[Dict[str, float]]:
        """The KKT residuals by block (positive and zero loadings,
        intercepts, knowledge) and their ``max``."""
        return self._fitted().kkt()

    # -- CLUEs and TeSR ----------------------------------------------------------

    def _targets(self, concept: Optional[str], questions: Optional[Sequence[str]]) -> List[str]:
        p = self._fitted().parameters()
        if questions is not None:
            return [str(q) for q in questions]
        if concept is None:
            return list(p["question_ids"])
        if concept not in p["concept_ids"]:
            raise ValidationError(
                f"unknown concept {concept!r}; the model has {p['concept_ids'][:10]}", ["concept"]
            )
        k = p["concept_ids"].index(concept)
        return [p["question_ids"][q] for q, ks in enumerate(p["hints"]) if k in ks]

    def clue(
        self,
        responses: Any,
        concept: Optional[str] = None,
        questions: Optional[Sequence[str]] = None,
        confidence: float = 0.5,
        min_responses: int = 3,
        learner: Optional[str] = None,
        question: Optional[str] = None,
        correct: Optional[str] = None,
    ) -> Union[Dict[str, Any], pd.DataFrame]:
        """The CLUE (estimate and interval, sparfa §6) of a learner's
        responses on a concept (its hinted questions), on ``questions``, or
        on every question.

        ``responses`` is a list of (question, correct) pairs for one learner
        (returns a dict), or a response DataFrame: one CLUE per learner
        (returns a DataFrame indexed by learner).
        """
        targets = self._targets(concept, questions)
        native = self._fitted()
        if isinstance(responses, pd.DataFrame):
            lc, qc, cc = learner or self._columns[0], question or self._columns[1], correct or self._columns[2]
            frame = _frames.as_frame(responses, lc, qc, cc)
            flags = _frames.correct_flags(frame, cc).astype(bool)
            qs = _frames.ids(frame, qc)
            rows = []
            for who, index in frame.groupby(_frames.ids(frame, lc), sort=False).indices.items():
                pairs = list(zip(qs.iloc[index], flags[index].tolist()))
                low, mid, high, real = native.clue([pairs], targets, float(confidence), int(min_responses))
                rows.append((who, low, mid, high, real))
            return pd.DataFrame(rows, columns=["learner", "minimum", "most_likely", "maximum", "is_real"]).set_index("learner")
        pairs = [(str(q), bool(c)) for q, c in responses]
        low, mid, high, real = native.clue([pairs], targets, float(confidence), int(min_responses))
        return {"minimum": low, "most_likely": mid, "maximum": high, "is_real": real}

    def rank_exercises(
        self,
        responses: Sequence[Tuple[Any, ...]],
        candidates: Sequence[str],
    ) -> pd.DataFrame:
        """TeSR: ``candidates`` ordered for a learner with ``responses``
        ((question, correct) or (question, correct, unix seconds) tuples),
        best first, with the predicted probability and the score. Unknown
        candidates are listed in ``.attrs['unknown']``."""
        timed = []
        for i, r in enumerate(responses):
            if len(r) not in (2, 3):
                raise ValidationError(f"responses[{i}]: expected (question, correct[, time])", [f"responses[{i}]"])
            at = int(round(float(r[2]) * 1e6)) if len(r) == 3 else i
            timed.append((str(r[0]), bool(r[1]), at))
        ranked, unknown = self._fitted().rank(timed, [str(c) for c in candidates])
        out = pd.DataFrame(ranked, columns=["question", "probability", "score"])
        out.attrs["unknown"] = unknown
        return out

    # -- persistence -------------------------------------------------------------

    def to_json(self) -> str:
        """The fitted model as the documented JSON document (see README)."""
        return self._fitted().to_json()

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes :meth:`to_json` to ``path``."""
        text = self.to_json()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def _check_concepts(concepts: Any) -> None:
    """``concepts`` is None or a positive integer."""
    if concepts is None:
        return
    if isinstance(concepts, bool) or not isinstance(concepts, (int, np.integer)):
        raise ValidationError(
            f"concepts must be a positive integer (or None), got {concepts!r}", ["concepts"]
        )
    if concepts < 1:
        raise ValidationError(f"concepts must be at least 1, got {concepts}", ["concepts"])


class SPARFA(_Model):
    """SPARFA: P(correct) = σ(w_qᵀ u_l + d_q) with sparse non-negative
    loadings W guided by question → concept hints.

    ``concepts``: the number of concepts. With hints it must match the
    concepts they name. Without hints, ``concepts=K`` fits an exploratory
    model: ``K`` factors (``factor1`` … ``factorK``) every question may
    load on, started from 2PL split along the main directions of its
    residuals (like a ``K``-factor MIRT model with non-negative loadings;
    ``K = 2`` is the command line's ``--model exploratory``); ``W`` is then
    questions × ``K``. ``K`` must be at least 1 and at most the number of
    questions. ``None`` (the default) without hints fits one concept
    ``all``.

    ``lambda_``: a positive number (used as is), ``"scaled"`` (2 × the
    data-size factor, the default), ``"scaled:L"`` or ``"auto"`` (chosen on
    a validation split; without ``concepts`` the model too: it may pick
    2PL, Rasch or a 2-factor exploratory model). ``seed`` seeds the
    validation split, so fits are reproducible.
    """

    _kind = "sparfa"
    _extra_params = ("concepts",)

    def __init__(
        self,
        concepts: Optional[int] = None,
        lambda_: Union[str, float] = "scaled",
        seed: int = 0,
        max_iterations: int = 500,
        gradient_tolerance: float = 1e-5,
        relative_tolerance: float = 0.0,
        learner_sweeps: int = 1,
        question_iterations: int = 1,
        validation_fraction: float = 0.2,
        progress: bool = True,
    ) -> None:
        _check_concepts(concepts)
        super().__init__(
            lambda_=lambda_,
            seed=seed,
            max_iterations=max_iterations,
            gradient_tolerance=gradient_tolerance,
            relative_tolerance=relative_tolerance,
            learner_sweeps=learner_sweeps,
            question_iterations=question_iterations,
            validation_fraction=validation_fraction,
            progress=progress,
        )
        self.concepts = concepts


class TwoPL(_Model):
    """Two-parameter logistic IRT: one shared ability, fitted
    discriminations (the one-concept case of the SPARFA objective)."""

    _kind = "2pl"


class Rasch(_Model):
    """Rasch (1PL): one shared ability, every loading fixed at 1."""

    _kind = "rasch"


def auto(seed: int = 0, **params: Any) -> SPARFA:
    """The automatic choice (the command line's default): SPARFA with λ
    chosen on a validation split, against 2PL, Rasch and a 2-factor
    exploratory model on the same cells (the best one is fitted). With
    ``concepts=K`` and no hints only the λ of the ``K``-factor model is
    chosen."""
    return SPARFA(lambda_="auto", seed=seed, **params)


_CLASSES = {"sparfa": SPARFA, "2pl": TwoPL, "rasch": Rasch, "exploratory": SPARFA}


def loads(text: str) -> _Model:
    """A model from the JSON text of :meth:`_Model.to_json`."""
    native = _native.load_model(text)
    cls = _CLASSES.get(native.kind, SPARFA)
    model = cls(lambda_=native.lambda_, progress=False)
    if native.kind == "exploratory":
        model.concepts = len(native.parameters()["concept_ids"])
    model._native = native
    return model


def load(path: Union[str, os.PathLike]) -> _Model:
    """A model saved with ``save``."""
    with open(path, encoding="utf-8") as f:
        return loads(f.read())
