"""biglearn's models next to other Python IRT / knowledge-tracing packages, on the same held-out split.

    python compare.py --data-dir FOLDER_WITH_THE_WIDE_CSVS [--holdout 0.2] [--seed 0]
        [--synthetic 2000,100,5] [--markdown] [--models TEXT]

Prints, per data set (every wide CSV in --data-dir, read by the rules of
``sparfa convert``, plus one synthetic set), each model's fit seconds (fit
plus prediction of the held-out cells, wall clock) and held-out log-loss and
AUC. The split is biglearn's (the command line's ``--holdout/--seed``).

The other packages are run when installed (none is needed by biglearn or its
CI); a package that is missing or fails is listed with the reason:

- ``mirt`` (2PL, and a 2-factor 2PL against biglearn's 2-factor exploratory
  model) and ``girth`` (2PL and Rasch by marginal maximum likelihood) get the
  training cells as a learners × items matrix with the held-out cells missing
  and predict a held-out cell from the item parameters and the learner's EAP
  ability;
- ``pyBKT`` (Bayesian knowledge tracing, one model per concept of the hints)
  gets each learner's responses in item order with the held-out ones marked
  unanswered (-1) and predicts each held-out cell from the same learner's
  earlier responses on the concept (knowledge tracing only looks back, so it
  sees fewer of the learner's responses than the other models do).

Learners without training cells are predicted at the prior mean by every
model that has one.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import pathlib
import platform
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

import biglearn


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def auc(p: np.ndarray, y: np.ndarray) -> float:
    ranks = pd.Series(p).rank(method="average").to_numpy()
    positives = y.sum()
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


class Task:
    """One data set's split in the forms the packages take."""

    def __init__(self, responses: pd.DataFrame, hints: pd.DataFrame, holdout: float, seed: int):
        self.responses = responses
        self.hints = hints
        self.seed = seed
        self.train, self.test = biglearn.train_test_split(responses, test_size=holdout, seed=seed)
        self.y = self.test["correct"].to_numpy().astype(float)
        learners = pd.Index(pd.unique(responses["learner"]))
        items = pd.Index(pd.unique(responses["question"]))
        self.X = np.full((len(learners), len(items)), np.nan)
        self.X[learners.get_indexer(self.train["learner"]),
               items.get_indexer(self.train["question"])] = self.train["correct"]
        self.rows = learners.get_indexer(self.test["learner"])
        self.cols = items.get_indexer(self.test["question"])
        self.held = responses.index.isin(self.test.index)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def biglearn_model(make: Callable[[int], object], hinted: bool) -> Callable[[Task], np.ndarray]:
    def fit_predict(task: Task) -> np.ndarray:
        model = make(task.seed)
        model.fit(task.train, hints=task.hints if hinted else None)
        return model.predict_proba(task.test, unseen="prior")

    return fit_predict


def run_mirt(factors: int) -> Callable[[Task], np.ndarray]:
    def fit_predict(task: Task) -> np.ndarray:
        import mirt

        X = task.X
        result = mirt.fit_mirt(X, model="2PL", n_factors=factors, compute_standard_errors=False)
        theta = np.asarray(mirt.fscores(result, X, method="EAP").theta).reshape(X.shape[0], -1)
        probability = np.asarray(result.model.probability(theta))
        probability = probability.reshape(X.shape[0], X.shape[1], -1)[..., -1]
        return probability[task.rows, task.cols]

    return fit_predict


def run_girth(kind: str) -> Callable[[Task], np.ndarray]:
    def fit_predict(task: Task) -> np.ndarray:
        import girth

        data = np.where(np.isnan(task.X), girth.INVALID_RESPONSE, task.X).T.astype(int)  # items × persons
        if kind == "2pl":
            est = girth.twopl_mml(data)
            a, b = est["Discrimination"], est["Difficulty"]
        else:
            est = girth.rasch_mml(data)
            b = est["Difficulty"]
            a = np.full_like(b, est.get("Discrimination", 1.0), dtype=float)
        theta = girth.ability_eap(data, b, a)
        return sigmoid(a[task.cols] * (theta[task.rows] - b[task.cols]))

    return fit_predict


def run_pybkt(task: Task) -> np.ndarray:
    from pyBKT.models import Model

    skill = task.hints.drop_duplicates("question").set_index("question")["concept"]
    frame = pd.DataFrame({
        "order_id": np.arange(len(task.responses)),
        "user_id": task.responses["learner"].astype(str).to_numpy(),
        "skill_name": task.responses["question"].map(skill).fillna("none").astype(str).to_numpy(),
        "correct": np.where(task.held, -1, task.responses["correct"].to_numpy()).astype(int),
    })
    model = Model(seed=task.seed, num_fits=5)
    model.fit(data=frame.copy())
    predicted = model.predict(data=frame.copy()).sort_values("order_id")
    p = pd.Series(predicted["correct_predictions"].to_numpy(), index=task.responses.index)
    return p.loc[task.test.index].to_numpy()


MODELS: List[Tuple[str, Callable[[Task], np.ndarray]]] = [
    ("biglearn default (validated choice)", biglearn_model(lambda s: biglearn.auto(seed=s, progress=False), True)),
    ("biglearn SPARFA (hints, scaled λ)", biglearn_model(lambda s: biglearn.SPARFA(seed=s, progress=False), True)),
    ("biglearn 2PL", biglearn_model(lambda s: biglearn.TwoPL(seed=s, progress=False), False)),
    ("biglearn Rasch", biglearn_model(lambda s: biglearn.Rasch(seed=s, progress=False), False)),
    ("biglearn 2-factor (concepts=2)",
     biglearn_model(lambda s: biglearn.SPARFA(concepts=2, seed=s, progress=False), False)),
    ("mirt 2PL", run_mirt(1)),
    ("mirt 2-factor 2PL", run_mirt(2)),
    ("girth 2PL (MML)", run_girth("2pl")),
    ("girth Rasch (MML)", run_girth("rasch")),
    ("pyBKT (per concept)", run_pybkt),
]

PACKAGES = {"mirt": "mirt", "girth": "girth", "pyBKT": "pyBKT", "biglearn": "biglearn"}


def compare(name: str, task: Task, only: Optional[str] = None) -> pd.DataFrame:
    rows = []
    for label, fit_predict in MODELS:
        if only and only.lower() not in label.lower():
            continue
        row: Dict[str, object] = {"data": name, "model": label}
        started = time.perf_counter()
        try:
            p = np.asarray(fit_predict(task), dtype=float)
        except ImportError as e:
            row["note"] = f"not installed ({e.name})"
        except Exception as e:  # a failing package is reported, not fatal
            row["note"] = f"failed: {type(e).__name__}: {e}"[:120]
        else:
            row.update(fit_s=time.perf_counter() - started, log_loss=log_loss(p, task.y), auc=auc(p, task.y))
        rows.append(row)
    return pd.DataFrame(rows)


def versions() -> str:
    found = []
    for label, dist in PACKAGES.items():
        try:
            found.append(f"{label} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{label} not installed")
    return ", ".join(found)


def markdown(table: pd.DataFrame) -> str:
    lines = ["| data | model | fit + predict, s | held-out log-loss | held-out AUC |",
             "|---|---|---:|---:|---:|"]
    for _, r in table.iterrows():
        if pd.notna(r.get("log_loss")):
            lines.append(f"| {r['data']} | {r['model']} | {r['fit_s']:.2f} | {r['log_loss']:.4f} | {r['auc']:.4f} |")
        else:
            lines.append(f"| {r['data']} | {r['model']} | – | {r['note']} | |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=pathlib.Path, help="folder with wide CSVs (lsat7.csv, …)")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic", default="2000,100,5", help="learners,questions,concepts")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--models", help="only the models whose label contains this text")
    args = parser.parse_args(argv)
    tables = []
    if args.data_dir:
        paths = sorted(args.data_dir.glob("*.csv"))
        if not paths:
            parser.error(f"no .csv files in {args.data_dir}")
        for path in paths:
            responses, hints = biglearn.load_wide_csv(path)
            tables.append(compare(path.stem, Task(responses, hints, args.holdout, args.seed), args.models))
    learners, questions, concepts = (int(v) for v in args.synthetic.split(","))
    data = biglearn.synthetic(learners=learners, questions=questions, concepts=concepts, seed=args.seed)
    tables.append(compare(f"synthetic {learners}x{questions}x{concepts}",
                          Task(data.responses, data.hints, args.holdout, args.seed), args.models))
    table = pd.concat(tables, ignore_index=True)
    print(f"# {versions()}; Python {platform.python_version()}; {os.cpu_count()} CPUs;"
          f" load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.markdown:
        print(markdown(table))
    else:
        with pd.option_context("display.width", 200, "display.max_rows", 200, "display.max_colwidth", 90):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
