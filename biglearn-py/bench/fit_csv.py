"""The Python side of the fit-speed comparison: what ``sparfa fit`` does, from Python.

    python fit_csv.py --responses R.csv [--hints H.csv] [--holdout 0.2] [--seed 0]
        [--lambda scaled] [--max-iterations 500] [--timings]

Reads the long CSVs with pandas, holds out the command line's split, fits
SPARFA and prints one JSON line of held-out metrics (the same numbers as
``sparfa fit --responses R.csv --hints H.csv --holdout 0.2 --seed 0 --lambda
scaled``), so ``time python fit_csv.py …`` against ``time sparfa fit …`` is
the whole-process comparison of the same work. ``--timings`` adds the
seconds of each stage to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

STARTED = time.perf_counter()

import pandas as pd  # noqa: E402

import biglearn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", required=True)
    parser.add_argument("--hints")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lambda", dest="lambda_", default="scaled")
    parser.add_argument("--max-iterations", type=int, default=500)
    parser.add_argument("--timings", action="store_true")
    args = parser.parse_args()
    marks = [("import", time.perf_counter())]
    responses = pd.read_csv(args.responses)
    hints = pd.read_csv(args.hints) if args.hints else None
    marks.append(("read_csv", time.perf_counter()))
    train, test = biglearn.train_test_split(responses, test_size=args.holdout, seed=args.seed)
    marks.append(("split", time.perf_counter()))
    model = biglearn.SPARFA(lambda_=args.lambda_, seed=args.seed, max_iterations=args.max_iterations,
                            progress=False).fit(train, hints=hints)
    marks.append(("fit", time.perf_counter()))
    scores = model.score(test, metric="all", unseen="prior")
    marks.append(("score", time.perf_counter()))
    scores.update(fitted_model=model.kind_, iterations=model.iterations_, lambda_=model.fitted_lambda_)
    print(json.dumps(scores))
    if args.timings:
        previous = STARTED
        for name, at in marks:
            print(f"{name}: {at - previous:.2f} s", file=sys.stderr)
            previous = at


if __name__ == "__main__":
    main()
