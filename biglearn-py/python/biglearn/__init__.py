"""biglearn: SPARFA, IRT baselines, CLUEs, TeSR, the Biglearn engine and a
class simulator, with the numerical work in Rust.

>>> import biglearn
>>> data = biglearn.synthetic(learners=200, questions=40, concepts=4, seed=1)
>>> train, test = biglearn.train_test_split(data.responses, test_size=0.2, seed=0)
>>> model = biglearn.SPARFA(progress=False).fit(train, hints=data.hints)
>>> 0.0 < model.score(test, metric="auc") <= 1.0
True
"""

from ._errors import (
    BiglearnError,
    ConflictError,
    EngineError,
    NotFittedError,
    SimulationError,
    StoreError,
    ValidationError,
)
from ._native import __version__
from .data import Synthetic, load_wide_csv, long_to_wide, synthetic, train_test_split, wide_to_long
from .engine import Store
from .models import SPARFA, Rasch, TwoPL, auto, load, loads
from .simulation import Simulation, simulate

__all__ = [
    "SPARFA",
    "TwoPL",
    "Rasch",
    "auto",
    "load",
    "loads",
    "synthetic",
    "Synthetic",
    "train_test_split",
    "wide_to_long",
    "long_to_wide",
    "load_wide_csv",
    "Store",
    "Simulation",
    "simulate",
    "BiglearnError",
    "ValidationError",
    "NotFittedError",
    "ConflictError",
    "StoreError",
    "EngineError",
    "SimulationError",
    "__version__",
]
