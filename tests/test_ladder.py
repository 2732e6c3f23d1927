"""architecture='auto': the ladder of students and the rule that chooses."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sklearn_kd import DistilledClassifier, MLPStudent, TabularStudent
from sklearn_kd._ladder import MIN_HOLDOUT, choose, holdout_split, margin

RUNGS = ("linear on bins", "perceptron", "bins + hidden layers")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=200, n_features=4, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=0)
    return X, y


def scores(*fidelities, costs=(10, 20, 200)):
    return {name: dict(fidelity=f, cost=c)
            for name, f, c in zip(RUNGS, fidelities, costs)}


def test_auto_takes_the_cheapest_rung_within_noise_of_the_best():
    n = 400
    best = 0.9
    within = best - 0.9 * margin(best, n)
    beyond = best - 1.1 * margin(best, n)
    assert choose(scores(within, 0.5, best), n, "auto")[0] == "linear on bins"
    assert choose(scores(beyond, within, best), n, "auto")[0] == "perceptron"
    assert choose(scores(beyond, beyond, best), n, "auto")[0] == (
        "bins + hidden layers"
    )


def test_most_accurate_takes_the_best_and_ties_go_to_the_cheaper():
    assert choose(scores(0.8, 0.85, 0.9), 400, "most-accurate")[0] == (
        "bins + hidden layers"
    )
    assert choose(scores(0.9, 0.9, 0.9), 400, "most-accurate")[0] == (
        "linear on bins"
    )
    # cost decides, not the place in the ladder
    tie = scores(0.9, 0.9, 0.9, costs=(30, 20, 200))
    assert choose(tie, 400, "most-accurate")[0] == "perceptron"


def test_the_margin_shrinks_with_more_rows_and_is_positive_at_a_perfect_score():
    assert margin(0.9, 100) > margin(0.9, 1000) > 0
    assert margin(1.0, 500) > 0


def test_the_held_out_rows_are_stratified_and_disjoint():
    target = np.repeat([0, 1, 2], [50, 100, 50])
    train, held_out = holdout_split(target, 0)
    assert len(np.intersect1d(train, held_out)) == 0
    assert len(train) + len(held_out) == len(target)
    np.testing.assert_array_equal(np.bincount(target[held_out]), [10, 20, 10])


@pytest.mark.parametrize(
    "teacher, encoding",
    [("forest", "ple-teacher"), ("frozen forest", "ple-teacher"),
     ("logistic", "ple"), (None, "ple")],
)
def test_auto_fits_each_rung_and_builds_the_chosen_one(data, teacher, encoding):
    X, y = data
    forest = RandomForestClassifier(5, random_state=0)
    teachers = {"forest": forest, "frozen forest": FrozenEstimator(forest.fit(X, y)),
                "logistic": LogisticRegression(), None: None}
    clf = DistilledClassifier(
        teachers[teacher], alpha=0.0 if teacher is None else 0.5,
        hidden_layer_sizes=(5,), n_bins=3, max_epochs=4, random_state=0,
    ).fit(X, y)
    found = clf.architecture_scores_
    assert list(found)[:3] == list(RUNGS)
    assert found["linear on bins"]["architecture"] == encoding
    assert found["linear on bins"]["hidden_layer_sizes"] == ()
    assert found["perceptron"]["architecture"] == "mlp"
    assert found["rule"]["n_held_out"] == 40
    chosen = [name for name in RUNGS if found[name]["chosen"]]
    assert len(chosen) == 1
    rung = found[chosen[0]]
    assert clf.architecture_ == rung["architecture"]
    assert rung["fidelity"] >= found["rule"]["fidelity_bar"]
    # trained again for at most the epochs that were best held out
    assert 1 <= rung["epochs"] <= 4 and clf.n_iter_ <= rung["epochs"]
    module = clf.student_.module_
    if rung["architecture"] == "mlp":
        assert type(module) is MLPStudent
    else:
        assert type(module) is TabularStudent
        assert module.hidden_layer_sizes == rung["hidden_layer_sizes"]
    # the cheapest rung that qualified
    qualified = [n for n in RUNGS if found[n]["fidelity"] >= found["rule"][
        "fidelity_bar"]]
    assert rung["cost"] == min(found[n]["cost"] for n in qualified)


def test_most_accurate_builds_the_most_faithful_rung(data):
    X, y = data
    clf = DistilledClassifier(
        RandomForestClassifier(5, random_state=0), architecture="most-accurate",
        hidden_layer_sizes=(5,), n_bins=3, max_epochs=4, random_state=0,
    ).fit(X, y)
    found = clf.architecture_scores_
    best = max(found[n]["fidelity"] for n in RUNGS)
    chosen = next(n for n in RUNGS if found[n]["chosen"])
    assert found[chosen]["fidelity"] == best
    assert found["rule"]["selection"] == "most-accurate"


def test_too_few_rows_to_compare_take_the_perceptron(data):
    X, y = data
    n = 5 * (MIN_HOLDOUT - 1)  # 20 % held out is fewer than MIN_HOLDOUT
    clf = DistilledClassifier(
        RandomForestClassifier(5, random_state=0), hidden_layer_sizes=(5,),
        max_epochs=2, random_state=0,
    ).fit(X[:n], y[:n])
    assert clf.architecture_ == "mlp" and clf.architecture_scores_ is None


def test_a_named_architecture_skips_the_ladder(data):
    X, y = data
    clf = DistilledClassifier(alpha=0.0, architecture="mlp", max_epochs=2,
                              random_state=0).fit(X, y)
    assert clf.architecture_ == "mlp" and clf.architecture_scores_ is None


def test_the_scores_are_saved_and_loaded(data, tmp_path):
    from sklearn_kd.persistence import load, save

    X, y = data
    clf = DistilledClassifier(
        RandomForestClassifier(5, random_state=0), hidden_layer_sizes=(5,),
        n_bins=3, max_epochs=2, random_state=0,
    ).fit(X, y)
    loaded = load(save(clf, tmp_path / "student.zip"))
    assert loaded.architecture_ == clf.architecture_
    assert loaded.architecture_scores_ == clf.architecture_scores_
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X),
                               rtol=1e-6)
