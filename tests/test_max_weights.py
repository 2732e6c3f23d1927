"""max_weights: a limit on the student's number of weights."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_kd import DistilledClassifier, DistilledRegressor
from sklearn_kd._ladder import MIN_ALLOWANCE, MIN_HOLDOUT

RUNGS = ("linear on bins", "perceptron", "bins + hidden layers")
SMALL = dict(hidden_layer_sizes=(8,), n_bins=3, max_epochs=3, random_state=0)


def make(kind, **params):
    if kind == "classifier":
        return DistilledClassifier(LogisticRegression(), **SMALL, **params)
    return DistilledRegressor(Ridge(), **SMALL, **params)


def predict(estimator, X):
    if isinstance(estimator, DistilledClassifier):
        return estimator.predict_proba(X)
    return estimator.predict(X)


@pytest.fixture(scope="module", params=["classifier", "regressor"])
def case(request):
    """The data, and the estimator fitted without a limit."""
    kind = request.param
    if kind == "classifier":
        X, y = make_classification(n_samples=200, n_features=5, n_informative=3,
                                   n_redundant=0, n_classes=3, random_state=0)
    else:
        X, y = make_regression(n_samples=200, n_features=5, noise=1.0,
                               random_state=0)
    return kind, X, y, make(kind).fit(X, y)


def weights(estimator):
    return sum(p.numel() for p in estimator.student_.module_.parameters())


def test_none_changes_nothing_and_a_loose_limit_neither(case):
    kind, X, y, free = case
    assert free.architecture_scores_["rule"]["max_weights"] is None
    costs = [free.architecture_scores_[name]["n_weights"] for name in RUNGS]
    for limit in (None, max(costs)):
        found = make(kind, max_weights=limit).fit(X, y)
        np.testing.assert_array_equal(predict(found, X), predict(free, X))
        assert found.architecture_scores_["rule"]["max_weights"] == limit


@pytest.mark.parametrize("selection", ["auto", "most-accurate"])
def test_a_rung_over_the_limit_is_skipped(case, selection):
    kind, X, y, free = case
    cost = {name: free.architecture_scores_[name]["n_weights"] for name in RUNGS}
    # with 5 features, 3 bins and 8 hidden units the encoding alone is
    # the smallest student
    assert cost["linear on bins"] < cost["perceptron"] < cost[
        "bins + hidden layers"
    ]
    limit = (cost["linear on bins"] + cost["perceptron"]) // 2
    found = make(kind, max_weights=limit, architecture=selection).fit(X, y)
    scores = found.architecture_scores_
    assert list(scores) == [*RUNGS, "rule"]
    for name in ("perceptron", "bins + hidden layers"):
        assert scores[name]["skipped"] == "over max_weights"
        assert scores[name]["n_weights"] == cost[name]
        assert not scores[name]["chosen"] and "epochs" not in scores[name]
    kept = scores["linear on bins"]
    assert kept["chosen"] and "skipped" not in kept
    # trained as without the limit; now the best of the rungs left
    # (under "auto" the least allowance, the paired difference being 0)
    floor = 0.0 if selection == "most-accurate" else MIN_ALLOWANCE
    same = {"excess_loss": 0.0, "allowance": floor, "chosen": True,
            "fit_seconds": kept["fit_seconds"]}
    assert kept == {**free.architecture_scores_["linear on bins"], **same}
    assert scores["rule"] == {**free.architecture_scores_["rule"],
                              "selection": selection, "max_weights": limit}
    assert found.architecture_ == "ple"
    assert weights(found) == cost["linear on bins"] <= limit


def test_the_skipped_rungs_are_saved_and_loaded(case, tmp_path):
    from sklearn_kd.persistence import load, save

    kind, X, y, free = case
    limit = free.architecture_scores_["linear on bins"]["n_weights"]
    found = make(kind, max_weights=limit).fit(X, y)
    loaded = load(save(found, tmp_path / "student.zip"))
    assert loaded.max_weights == limit
    assert loaded.architecture_scores_ == found.architecture_scores_


def test_no_rung_fits(case):
    kind, X, y, free = case
    smallest = free.architecture_scores_["linear on bins"]["n_weights"]
    with pytest.raises(ValueError, match=(
        f"No student of the ladder fits max_weights=10: the smallest, "
        f"'linear on bins', has {smallest} weights.*hidden_layer_sizes or "
        "n_bins, or a larger max_weights"
    )):
        make(kind, max_weights=10).fit(X, y)


def test_a_named_architecture_over_the_limit(case):
    kind, X, y, free = case
    n = free.architecture_scores_["perceptron"]["n_weights"]
    with pytest.raises(ValueError, match=(
        f"The student has {n} weights, more than max_weights={n - 1}"
    )):
        make(kind, architecture="mlp", max_weights=n - 1).fit(X, y)
    found = make(kind, architecture="mlp", max_weights=n).fit(X, y)
    assert weights(found) == n


def test_the_perceptron_taken_without_a_comparison_respects_the_limit(case):
    kind, X, y, free = case
    n_rows = 5 * (MIN_HOLDOUT - 1)  # too few rows held out to compare
    limit = free.architecture_scores_["linear on bins"]["n_weights"]
    with pytest.raises(ValueError, match="Too few rows .* the perceptron"):
        make(kind, max_weights=limit).fit(X[:n_rows], y[:n_rows])


def test_a_parameter_of_both_estimators(case):
    kind = case[0]
    estimator = make(kind, max_weights=500)
    assert estimator.get_params()["max_weights"] == 500
    assert clone(estimator).max_weights == 500
    assert make(kind).max_weights is None
    with pytest.raises(InvalidParameterError, match="max_weights"):
        make(kind, max_weights=0).fit(case[1], case[2])
