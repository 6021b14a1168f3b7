#!/usr/bin/env python3
"""Measurement aid, not part of the library: a numpy/scipy implementation of the same
SPARFA objective as biglearn-core's fit (sparfa.md §4.5, F1 weights), used to compare
speed and held-out log-loss with the Rust fit on the same cells.

    J = λ_f Σ_Ω ℓ(y, wᵀu + d) + λ_H Σ_{H=1} W² + λ_H̄ Σ_{H=0} W + λ_d Σ d² + λ_U Σ U²,
    W ≥ 0,

minimised over (W, U, d) jointly with scipy's L-BFGS-B (the bound handles W ≥ 0; on the
feasible set the ℓ1 term on off-hint loadings is linear). λ_H = λ_U = λ, λ_H̄ =
10·max(1, λ/2)^1.5, λ_d = 0.05, λ_f = 1, as in `weights::penalties_for`.

Usage:
    python3 sparfa_numpy_reference.py --responses R.csv --hints H.csv --split S.csv \
        --lambda L [--pgtol 1e-5]

`--split` is the held-out cell file written by `sparfa fit --split-out`, so both fits
use exactly the same training and held-out cells. Prints one JSON line: fit seconds,
iterations, objective and held-out log-loss (learners' u re-estimated from their
training cells is not done here: the joint optimum's u is the MAP for the final W, d).
"""

import argparse
import csv
import json
import time

import numpy as np
from scipy.optimize import minimize


def read_long(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [(r["learner"], r["question"], r["correct"].strip().lower() in ("1", "true")) for r in rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--responses", required=True)
    ap.add_argument("--hints", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--lambda", dest="lam", type=float, required=True)
    ap.add_argument("--pgtol", type=float, default=1e-5)
    ap.add_argument("--maxiter", type=int, default=5000)
    a = ap.parse_args()

    cells = read_long(a.responses)
    learners = sorted({c[0] for c in cells})
    questions = sorted({c[1] for c in cells})
    li = {l: i for i, l in enumerate(learners)}
    qi = {q: i for i, q in enumerate(questions)}
    with open(a.hints, newline="") as f:
        hint_rows = [(r["question"], r["concept"]) for r in csv.DictReader(f)]
    concepts = sorted({c for _, c in hint_rows})
    ki = {c: i for i, c in enumerate(concepts)}
    K, Q, N = len(concepts), len(questions), len(learners)
    H = np.zeros((K, Q))
    for q, c in hint_rows:
        if q in qi:
            H[ki[c], qi[q]] = 1.0
    with open(a.split, newline="") as f:
        held = {(r["learner"], r["question"]) for r in csv.DictReader(f)}
    tr = [c for c in cells if (c[0], c[1]) not in held]
    te = [c for c in cells if (c[0], c[1]) in held]
    tl = np.array([li[c[0]] for c in tr]); tq = np.array([qi[c[1]] for c in tr])
    ty = np.array([c[2] for c in tr], dtype=float)
    el = np.array([li[c[0]] for c in te]); eq = np.array([qi[c[1]] for c in te])
    ey = np.array([c[2] for c in te], dtype=float)

    lam = a.lam
    lam_off = 10.0 * max(1.0, lam / 2.0) ** 1.5
    lam_d = 0.05
    nW, nU = K * Q, K * N

    def unpack(x):
        return x[:nW].reshape(K, Q), x[nW:nW + nU].reshape(K, N), x[nW + nU:]

    def objective(x):
        W, U, d = unpack(x)
        z = np.einsum("kn,kn->n", W[:, tq], U[:, tl]) + d[tq]
        sp = np.logaddexp(0.0, z)
        p = np.exp(z - sp)
        r = p - ty
        f = (sp - ty * z).sum() + lam * (H * W * W).sum() + lam_off * ((1 - H) * W).sum() \
            + lam_d * (d * d).sum() + lam * (U * U).sum()
        gW = np.zeros((K, Q)); gU = np.zeros((K, N))
        for k in range(K):
            gW[k] = np.bincount(tq, weights=r * U[k, tl], minlength=Q)
            gU[k] = np.bincount(tl, weights=r * W[k, tq], minlength=N)
        gW += 2 * lam * H * W + lam_off * (1 - H)
        gU += 2 * lam * U
        gd = np.bincount(tq, weights=r, minlength=Q) + 2 * lam_d * d
        return f, np.concatenate([gW.ravel(), gU.ravel(), gd])

    rng = np.random.default_rng(0)
    x0 = np.concatenate([H.ravel(), 0.01 * rng.standard_normal(nU), np.zeros(Q)])
    bounds = [(0, None)] * nW + [(None, None)] * (nU + Q)
    start = time.perf_counter()
    res = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": a.maxiter, "gtol": a.pgtol, "ftol": 0.0, "maxcor": 20})
    seconds = time.perf_counter() - start
    W, U, d = unpack(res.x)
    z = np.einsum("kn,kn->n", W[:, eq], U[:, el]) + d[eq]
    ll = float(np.mean(np.logaddexp(0.0, z) - ey * z))
    print(json.dumps({"fit_seconds": seconds, "iterations": int(res.nit), "evaluations": int(res.nfev),
                      "objective": float(res.fun), "heldout_log_loss": ll, "train_cells": len(tr),
                      "heldout_cells": len(te), "message": str(res.message)}))


if __name__ == "__main__":
    main()
