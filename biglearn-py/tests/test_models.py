"""Models: fitting, parameters, prediction, CLUEs, TeSR, persistence,
parameters protocol, reproducibility, the GIL, and bad input."""

import json
import threading
import time

import numpy as np
import pandas as pd
import pytest

import biglearn


@pytest.fixture(scope="module")
def data():
    return biglearn.synthetic(learners=300, questions=50, concepts=5, seed=11)


@pytest.fixture(scope="module")
def split(data):
    return biglearn.train_test_split(data.responses, test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def fitted(data, split):
    return biglearn.SPARFA(progress=False).fit(split[0], hints=data.hints)


def test_parameters_are_labelled(data, split, fitted):
    train = split[0]
    W, d, U = fitted.W, fitted.d, fitted.knowledge
    assert W.index.name == "question" and W.columns.name == "concept"
    assert set(W.index) == set(train["question"]) and set(W.columns) == set(data.hints["concept"])
    assert (W.values >= 0).all()
    assert list(d.index) == list(W.index)
    assert U.shape == (train["learner"].nunique(), W.shape[1])
    assert fitted.iterations_ > 0 and np.isfinite(fitted.objective_)
    assert 0 <= fitted.kkt_residual_ < 1e-3
    assert set(fitted.kkt()) == {"positive_loadings", "zero_loadings", "intercepts", "knowledge", "max"}
    assert fitted.hints_.shape[1] == 2


def test_predictions_follow_the_parameters(split, fitted):
    test = split[1].head(50)
    p = fitted.predict_proba(test)
    W, d, U = fitted.W, fitted.d, fitted.knowledge
    z = [W.loc[q].values @ U.loc[l].values + d[q] for l, q in zip(test["learner"], test["question"])]
    assert np.allclose(p, 1 / (1 + np.exp(-np.asarray(z))), atol=1e-12)


def test_fitting_recovers_signal(data, split, fitted):
    test = split[1]
    assert fitted.score(test, "auc") > 0.7
    assert fitted.score(test, "log_loss") < biglearn.Rasch(progress=False).fit(split[0]).score(test, "log_loss") + 0.05
    for metric in ("log_loss", "auc", "accuracy", "brier"):
        assert np.isfinite(fitted.score(test, metric))


def test_same_seed_same_fit(data, split):
    a = biglearn.auto(seed=4, progress=False).fit(split[0], hints=data.hints)
    b = biglearn.auto(seed=4, progress=False).fit(split[0], hints=data.hints)
    assert a.kind_ == b.kind_ and a.fitted_lambda_ == b.fitted_lambda_
    pd.testing.assert_frame_equal(a.W, b.W)


def test_save_load_round_trip(tmp_path, split, fitted):
    path = tmp_path / "model.json"
    fitted.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "biglearn-sparfa-model" and document["version"] == 1
    loaded = biglearn.load(path)
    assert type(loaded) is biglearn.SPARFA
    pd.testing.assert_frame_equal(loaded.W, fitted.W)
    pd.testing.assert_series_equal(loaded.d, fitted.d)
    pd.testing.assert_frame_equal(loaded.knowledge, fitted.knowledge)
    assert loaded.score(split[1], "all") == fitted.score(split[1], "all")
    assert loaded.kkt_residual_ is None
    rasch = biglearn.Rasch(progress=False).fit(split[0])
    again = biglearn.loads(rasch.to_json())
    assert type(again) is biglearn.Rasch and again.kind_ == "rasch"


def test_broken_saved_model_names_the_field(fitted):
    document = json.loads(fitted.to_json())
    document["model"]["intercepts"].pop()
    with pytest.raises(biglearn.ValidationError, match="model.intercepts"):
        biglearn.loads(json.dumps(document))
    with pytest.raises(biglearn.ValidationError, match="not a saved model"):
        biglearn.loads("[1, 2]")


def test_params_protocol():
    model = biglearn.TwoPL(lambda_=1.5, seed=3, progress=False)
    params = model.get_params()
    assert params["lambda_"] == 1.5 and params["seed"] == 3
    model.set_params(seed=9)
    assert model.seed == 9
    with pytest.raises(biglearn.ValidationError, match="unknown parameter `alpha`"):
        model.set_params(alpha=1)
    assert "TwoPL(" in repr(model)


def test_crossvalidate(data):
    table = biglearn.TwoPL(progress=False).crossvalidate(data.responses, folds=3)
    assert list(table.index) == [0, 1, 2]
    assert table["count"].sum() + table["skipped"].sum() == len(data.responses)
    assert (table["auc"] > 0.6).all()
    with pytest.raises(biglearn.ValidationError, match="folds"):
        biglearn.TwoPL(progress=False).crossvalidate(data.responses, folds=1)


def test_clue_single_and_vectorised(data, split, fitted):
    concept = fitted.W.columns[0]
    targets = fitted.hints_.query("concept == @concept")["question"].tolist()
    responses = [(q, True) for q in targets[:4]]
    clue = fitted.clue(responses, concept=concept)
    assert clue["is_real"]
    assert clue["minimum"] <= clue["most_likely"] <= clue["maximum"]
    wrong = fitted.clue([(q, False) for q in targets[:4]], concept=concept)
    assert wrong["most_likely"] < clue["most_likely"]
    table = fitted.clue(split[1], concept=concept)
    assert list(table.columns) == ["minimum", "most_likely", "maximum", "is_real"]
    assert len(table) == split[1]["learner"].nunique()
    with pytest.raises(biglearn.ValidationError, match="unknown concept"):
        fitted.clue(responses, concept="no-such-concept")
    with pytest.raises(biglearn.ValidationError, match="question `nope`"):
        fitted.clue([("nope", True)])


def test_rank_exercises(fitted):
    questions = list(fitted.W.index[:6])
    ranked = fitted.rank_exercises([(questions[0], True, 100.0)], questions[1:] + ["unknown-q"])
    assert list(ranked.columns) == ["question", "probability", "score"]
    assert set(ranked["question"]) == set(questions[1:])
    assert ranked.attrs["unknown"] == ["unknown-q"]
    assert ranked["score"].is_monotonic_increasing


def test_gil_is_released_during_fit():
    data = biglearn.synthetic(learners=3000, questions=300, concepts=10, seed=1)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    thread = threading.Thread(target=ticker)
    thread.start()
    started = time.perf_counter()
    biglearn.SPARFA(progress=False, max_iterations=40).fit(data.responses, hints=data.hints)
    finished = time.perf_counter()
    done.set()
    thread.join()
    during = [t for t in ticks if started < t < finished]
    assert finished - started > 0.2, "the fit was too short to tell"
    # A held GIL would freeze the ticker for the whole fit.
    assert len(during) >= 10, f"{len(during)} ticks during a {finished - started:.2f} s fit"


def test_progress_callback_runs_with_tqdm_and_can_be_off(data, split, capsys):
    pytest.importorskip("tqdm")
    biglearn.SPARFA(progress=True, max_iterations=5).fit(split[0], hints=data.hints)
    assert "SPARFA" in capsys.readouterr().err
    biglearn.SPARFA(progress=False, max_iterations=5).fit(split[0], hints=data.hints)
    assert capsys.readouterr().err == ""


# -- bad input -------------------------------------------------------------------


def test_missing_columns_are_named(data):
    frame = data.responses.rename(columns={"correct": "right"})
    with pytest.raises(biglearn.ValidationError, match=r"missing column\(s\) \['correct'\]") as e:
        biglearn.SPARFA().fit(frame)
    assert e.value.paths == ["correct"]
    biglearn.TwoPL(progress=False).fit(frame, correct="right")


def test_wrong_dtypes_and_values(data):
    frame = data.responses.copy()
    frame["correct"] = frame["correct"].map({0: "no", 1: "yes"})
    with pytest.raises(biglearn.ValidationError, match="dtype"):
        biglearn.SPARFA().fit(frame)
    frame = data.responses.astype({"correct": float})
    frame.loc[7, "correct"] = np.nan
    with pytest.raises(biglearn.ValidationError, match="NaN at row 7"):
        biglearn.SPARFA().fit(frame)
    frame.loc[7, "correct"] = 0.5
    with pytest.raises(biglearn.ValidationError, match="0.5 at row 7 is not 0 or 1"):
        biglearn.SPARFA().fit(frame)
    frame = data.responses.copy()
    frame.loc[3, "learner"] = None
    with pytest.raises(biglearn.ValidationError, match="missing id at row 3"):
        biglearn.SPARFA().fit(frame)
    with pytest.raises(biglearn.ValidationError, match="expected a pandas DataFrame"):
        biglearn.SPARFA().fit(42)
    with pytest.raises(biglearn.ValidationError, match="no rows"):
        biglearn.SPARFA().fit(data.responses.head(0))


def test_bad_options(data):
    for bad in (-1.0, float("nan"), "tiny", None):
        with pytest.raises(biglearn.ValidationError, match="lambda_"):
            biglearn.SPARFA(lambda_=bad, progress=False).fit(data.responses)
    with pytest.raises(biglearn.ValidationError, match="hints: missing column"):
        biglearn.SPARFA(progress=False).fit(data.responses, hints=pd.DataFrame({"q": ["q0"]}))
    with pytest.raises(biglearn.ValidationError, match="question `zz` is not in the responses"):
        biglearn.SPARFA(progress=False).fit(data.responses, hints={"zz": "c0"})
    with pytest.raises(biglearn.ValidationError, match="unknown metric"):
        biglearn.TwoPL(progress=False).fit(data.responses).score(data.responses, metric="f1")


def test_unknown_learners_and_unfitted(split, fitted):
    with pytest.raises(biglearn.NotFittedError, match="not fitted yet"):
        biglearn.SPARFA().predict_proba(split[1])
    with pytest.raises(biglearn.NotFittedError):
        biglearn.SPARFA().W
    stranger = split[1].head(3).assign(learner=["x1", "x2", "x1"])
    with pytest.raises(biglearn.ValidationError, match=r"2 unknown learner\(s\) not seen in fit: 'x1', 'x2'"):
        fitted.predict_proba(stranger)


def test_exception_hierarchy():
    for cls in (biglearn.ValidationError, biglearn.NotFittedError, biglearn.ConflictError,
                biglearn.StoreError, biglearn.EngineError, biglearn.SimulationError):
        assert issubclass(cls, biglearn.BiglearnError)
    assert issubclass(biglearn.ValidationError, ValueError)


# -- data helpers ----------------------------------------------------------------


def test_wide_long_round_trip(data):
    wide = biglearn.long_to_wide(data.responses)
    assert wide.shape == (data.responses["learner"].nunique(), data.responses["question"].nunique())
    long, hints = biglearn.wide_to_long(wide)
    merged = long.merge(data.responses, on=["learner", "question"], suffixes=("", "_orig"))
    assert len(merged) == len(data.responses)
    assert (merged["correct"] == merged["correct_orig"]).all()
    assert set(hints["concept"]) == {"all"}


def test_synthetic_truth_shapes():
    data = biglearn.synthetic(learners=50, questions=20, concepts=3, density=0.7, seed=2)
    assert data.W.shape == (20, 3) and data.d.shape == (20,) and data.knowledge.shape == (50, 3)
    assert set(data.responses["correct"].unique()) <= {0, 1}
    with pytest.raises(biglearn.ValidationError, match="learners must be a positive integer"):
        biglearn.synthetic(learners=0)
    with pytest.raises(biglearn.ValidationError, match="density"):
        biglearn.synthetic(density=2.0)


def test_unseen_learners_at_the_prior(split, fitted):
    stranger = split[1].head(4).assign(learner="newcomer")
    p = fitted.predict_proba(stranger, unseen="prior")
    d = fitted.d.loc[stranger["question"]].to_numpy()
    assert np.allclose(p, 1 / (1 + np.exp(-d)), atol=1e-12)
    with pytest.raises(biglearn.ValidationError, match="unseen must be"):
        fitted.predict_proba(stranger, unseen="ignore")


def test_numpy_arrays_and_dicts_are_accepted(data):
    r = data.responses
    arrays = (r["learner"].to_numpy(), r["question"].to_numpy(), r["correct"].to_numpy())
    from_arrays = biglearn.TwoPL(progress=False).fit(arrays)
    from_frame = biglearn.TwoPL(progress=False).fit(r)
    pd.testing.assert_frame_equal(from_arrays.W, from_frame.W)
    from_dict = biglearn.TwoPL(progress=False).fit({"learner": arrays[0], "question": arrays[1],
                                                    "correct": arrays[2].astype(bool)})
    pd.testing.assert_series_equal(from_dict.d, from_frame.d)


# -- concepts without hints: the exploratory K-factor model ------------------------


def test_concepts_without_hints_fit_that_many_factors(data, split):
    train, test = split
    model = biglearn.SPARFA(concepts=3, progress=False).fit(train)
    W = model.W
    assert W.shape == (train["question"].nunique(), 3)
    assert list(W.columns) == ["factor1", "factor2", "factor3"]
    assert model.kind_ == "exploratory" and model.converged_
    assert model.knowledge.shape == (train["learner"].nunique(), 3)
    assert model.kkt_residual_ < 1e-3
    # Three distinct factors, not one ability copied three times.
    for a in range(3):
        for b in range(a):
            assert (W.iloc[:, a] - W.iloc[:, b]).abs().max() > 0.05, W
    # The synthetic truth has five concepts: five factors predict held-out cells
    # better than one shared ability (2PL).
    five = biglearn.SPARFA(concepts=5, progress=False).fit(train)
    assert five.W.shape[1] == 5
    two_pl = biglearn.TwoPL(progress=False).fit(train)
    assert five.score(test, "log_loss") < two_pl.score(test, "log_loss")
    # Without concepts (or with concepts=None) one concept, as before.
    assert biglearn.SPARFA(progress=False).fit(train).W.shape[1] == 1


def test_concepts_with_matching_hints_and_persistence(data, split, tmp_path):
    train = split[0]
    hinted = biglearn.SPARFA(concepts=5, progress=False).fit(train, hints=data.hints)
    plain = biglearn.SPARFA(progress=False).fit(train, hints=data.hints)
    pd.testing.assert_frame_equal(hinted.W, plain.W)
    model = biglearn.SPARFA(concepts=2, progress=False).fit(train)
    assert model.get_params()["concepts"] == 2 and "SPARFA(concepts=2" in repr(model)
    model.save(tmp_path / "m.json")
    loaded = biglearn.load(tmp_path / "m.json")
    assert type(loaded) is biglearn.SPARFA and loaded.kind_ == "exploratory" and loaded.concepts == 2
    pd.testing.assert_frame_equal(loaded.W, model.W)
    table = biglearn.SPARFA(concepts=2, progress=False).crossvalidate(train, folds=2)
    assert len(table) == 2 and (table["auc"] > 0.6).all()


def test_bad_concepts(data, split):
    train = split[0]
    for bad in (0, -1):
        with pytest.raises(biglearn.ValidationError, match="concepts must be at least 1") as e:
            biglearn.SPARFA(concepts=bad)
        assert e.value.paths == ["concepts"]
    for bad in (2.5, "3", True):
        with pytest.raises(biglearn.ValidationError, match="concepts must be a positive integer"):
            biglearn.SPARFA(concepts=bad)
    with pytest.raises(biglearn.ValidationError, match="concepts must be at least 1"):
        biglearn.SPARFA(progress=False).set_params(concepts=0)
    questions = train["question"].nunique()
    with pytest.raises(
        biglearn.ValidationError, match=f"concepts={questions + 1} is more than the {questions} question"
    ) as e:
        biglearn.SPARFA(concepts=questions + 1, progress=False).fit(train)
    assert e.value.paths == ["concepts"]
    with pytest.raises(biglearn.ValidationError, match="concepts=3 but the hints name 5 concept"):
        biglearn.SPARFA(concepts=3, progress=False).fit(train, hints=data.hints)
    # As many factors as questions is allowed.
    few = train[train["question"].isin(["q0", "q1", "q2"])]
    assert biglearn.SPARFA(concepts=3, progress=False).fit(few).W.shape == (3, 3)
