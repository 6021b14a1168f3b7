"""biglearn's models next to other Python IRT packages, on the same held-out split.

    python compare.py --data-dir FOLDER_WITH_THE_WIDE_CSVS [--holdout 0.2] [--seed 0]

Prints, per data set (the wide CSVs found in --data-dir, plus one synthetic
set), each model's fit seconds and held-out log-loss and AUC. The split is
biglearn's (the command line's `--holdout/--seed`); the other packages get
the training cells as a learners × items matrix with the held-out cells
missing, and predict held-out cells from their item parameters and each
learner's EAP ability. Learners without training cells are predicted at the
prior mean by every model.

Packages compared when installed: `mirt` (2PL and a 2-factor 2PL), `girth`
(2PL and Rasch by marginal maximum likelihood). `pyBKT` is a knowledge-tracing
model that predicts each response from the same learner's earlier ones in
time order; it has no prediction of an arbitrary held-out cell, so it is
reported as not comparable under this protocol rather than scored unfairly.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from typing import Callable, Dict, List, Tuple

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


def matrices(train: pd.DataFrame, test: pd.DataFrame):
    learners = pd.Index(pd.unique(pd.concat([train["learner"], test["learner"]])))
    items = pd.Index(pd.unique(pd.concat([train["question"], test["question"]])))
    X = np.full((len(learners), len(items)), np.nan)
    X[learners.get_indexer(train["learner"]), items.get_indexer(train["question"])] = train["correct"]
    rows = learners.get_indexer(test["learner"])
    cols = items.get_indexer(test["question"])
    return X, rows, cols


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def run_mirt(factors: int) -> Callable:
    def fit_predict(X, rows, cols):
        import mirt

        result = mirt.fit_mirt(X, model="2PL", n_factors=factors, compute_standard_errors=False)
        theta = np.asarray(mirt.fscores(result, X, method="EAP").theta).reshape(X.shape[0], -1)
        probability = np.asarray(result.model.probability(theta))
        probability = probability.reshape(X.shape[0], X.shape[1], -1)[..., -1]
        return probability[rows, cols]

    return fit_predict


def run_girth(kind: str) -> Callable:
    def fit_predict(X, rows, cols):
        import girth

        data = np.where(np.isnan(X), girth.INVALID_RESPONSE, X).T.astype(int)  # items × persons
        if kind == "2pl":
            est = girth.twopl_mml(data)
            a, b = est["Discrimination"], est["Difficulty"]
        else:
            est = girth.rasch_mml(data)
            b = est["Difficulty"]
            a = np.full_like(b, est.get("Discrimination", 1.0), dtype=float)
        theta = girth.ability_eap(data, b, a)
        return sigmoid(a[cols] * (theta[rows] - b[cols]))

    return fit_predict


OTHERS: List[Tuple[str, Callable]] = [
    ("mirt 2PL", run_mirt(1)),
    ("mirt 2-factor 2PL", run_mirt(2)),
    ("girth 2PL (MML)", run_girth("2pl")),
    ("girth Rasch (MML)", run_girth("rasch")),
]


def compare(name: str, responses: pd.DataFrame, hints, holdout: float, seed: int) -> pd.DataFrame:
    train, test = biglearn.train_test_split(responses, test_size=holdout, seed=seed)
    y = test["correct"].to_numpy().astype(float)
    rows = []
    for label, model in [("biglearn SPARFA", biglearn.SPARFA(progress=False, seed=seed)),
                         ("biglearn 2PL", biglearn.TwoPL(progress=False, seed=seed)),
                         ("biglearn Rasch", biglearn.Rasch(progress=False, seed=seed))]:
        started = time.perf_counter()
        model.fit(train, hints=hints)
        seconds = time.perf_counter() - started
        p = model.predict_proba(test, unseen="prior")
        rows.append({"data": name, "model": label, "fit_s": seconds, "log_loss": log_loss(p, y), "auc": auc(p, y)})
    X, r, c = matrices(train, test)
    for label, fit_predict in OTHERS:
        started = time.perf_counter()
        try:
            p = np.asarray(fit_predict(X, r, c), dtype=float)
        except ImportError as e:
            rows.append({"data": name, "model": label, "note": f"not installed ({e.name})"})
            continue
        except Exception as e:  # a failing package is reported, not fatal
            rows.append({"data": name, "model": label, "note": f"failed: {type(e).__name__}: {e}"[:120]})
            continue
        seconds = time.perf_counter() - started
        rows.append({"data": name, "model": label, "fit_s": seconds, "log_loss": log_loss(p, y), "auc": auc(p, y)})
    try:
        import pyBKT  # noqa: F401

        note = "installed; knowledge tracing predicts in time order, not held-out cells: not comparable"
    except ImportError:
        note = "not installed"
    rows.append({"data": name, "model": "pyBKT", "note": note})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=pathlib.Path, help="folder with wide CSVs (lsat7.csv, …)")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic", default="2000,100,5", help="learners,questions,concepts")
    args = parser.parse_args()
    tables = []
    if args.data_dir:
        for path in sorted(args.data_dir.glob("*.csv")):
            responses, hints = biglearn.load_wide_csv(path)
            tables.append(compare(path.stem, responses, hints, args.holdout, args.seed))
    learners, questions, concepts = (int(v) for v in args.synthetic.split(","))
    data = biglearn.synthetic(learners=learners, questions=questions, concepts=concepts, seed=args.seed)
    tables.append(compare(f"synthetic {learners}x{questions}x{concepts}", data.responses, data.hints,
                          args.holdout, args.seed))
    table = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.max_colwidth", 90):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
