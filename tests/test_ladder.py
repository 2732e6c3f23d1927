"""architecture='auto': the ladder of students and the rule that chooses."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sklearn_kd import DistilledClassifier, MLPStudent, TabularStudent
from sklearn_kd._ladder import MIN_HOLDOUT, choose, holdout_split, log_losses

RUNGS = ("linear on bins", "perceptron", "bins + hidden layers")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=200, n_features=4, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=0)
    return X, y


COSTS = dict(zip(RUNGS, (10, 20, 200)))


def losses(*shifts, n=400, seed=0):
    """Per-row losses of three rungs: a common part and a shift each, with
    a small independent part."""
    rng = np.random.default_rng(seed)
    common = rng.exponential(size=n)
    return {name: common + shift + 0.05 * rng.standard_normal(n)
            for name, shift in zip(RUNGS, shifts)}


def test_auto_takes_the_cheapest_rung_within_noise_of_the_best():
    # paired differences have a standard error of about 0.07 / 20 = 0.0035
    assert choose(losses(0.004, 0.5, 0.0), COSTS, "auto")[0] == "linear on bins"
    assert choose(losses(0.05, 0.0, 0.0), COSTS, "auto")[0] == "perceptron"
    assert choose(losses(0.05, 0.05, 0.0), COSTS, "auto")[0] == (
        "bins + hidden layers"
    )


def test_the_noise_is_that_of_the_paired_difference():
    # the same shift with a large common part shared by the rungs qualifies
    # through the paired difference, not through the spread of the losses
    found = losses(0.02, 0.5, 0.0, n=10_000)
    name, excess = choose(found, COSTS, "auto")
    assert name == "bins + hidden layers"
    d, allowance = excess["linear on bins"]
    assert d == pytest.approx(0.02, abs=0.005) and allowance < 0.01
    assert found["linear on bins"].std() > 0.5  # the losses themselves vary


def test_most_accurate_takes_the_lowest_loss_and_ties_go_to_the_cheaper():
    assert choose(losses(0.01, 0.01, 0.0), COSTS, "most-accurate")[0] == (
        "bins + hidden layers"
    )
    tie = losses(0.0, 0.0, 0.0)
    tie = {name: tie["perceptron"] for name in RUNGS}
    assert choose(tie, COSTS, "most-accurate")[0] == "linear on bins"
    # cost decides, not the place in the ladder
    assert choose(tie, {**COSTS, "linear on bins": 30}, "most-accurate")[0] == (
        "perceptron"
    )


def test_log_losses_are_the_cross_entropy_against_the_target():
    logits = np.array([[0.0, 0.0], [2.0, 0.0]])
    target = np.array([[1.0, 0.0], [0.5, 0.5]])
    p = np.exp(2) / (1 + np.exp(2))
    np.testing.assert_allclose(
        log_losses(logits, target),
        [np.log(2), -(0.5 * np.log(p) + 0.5 * np.log(1 - p))],
    )


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
    assert rung["excess_loss"] <= rung["allowance"]
    assert min(found[n]["excess_loss"] for n in RUNGS) == 0.0
    # trained again for at most the epochs that were best held out
    assert 1 <= rung["epochs"] <= 4 and clf.n_iter_ <= rung["epochs"]
    module = clf.student_.module_
    if rung["architecture"] == "mlp":
        assert type(module) is MLPStudent
    else:
        assert type(module) is TabularStudent
        assert module.hidden_layer_sizes == rung["hidden_layer_sizes"]
    # the cheapest rung that qualified
    qualified = [n for n in RUNGS
                 if found[n]["excess_loss"] <= found[n]["allowance"]]
    assert rung["cost"] == min(found[n]["cost"] for n in qualified)
    # the cost is what a prediction computes: the encoding is a dense
    # n_features x n_bins product, more than the encoded student's weights
    from sklearn_kd._inference import prediction_cost

    assert rung["cost"] == prediction_cost(module)
    assert found["linear on bins"]["cost"] > found["linear on bins"]["n_weights"]


def test_most_accurate_builds_the_rung_of_lowest_loss(data):
    X, y = data
    clf = DistilledClassifier(
        RandomForestClassifier(5, random_state=0), architecture="most-accurate",
        hidden_layer_sizes=(5,), n_bins=3, max_epochs=4, random_state=0,
    ).fit(X, y)
    found = clf.architecture_scores_
    best = min(found[n]["log_loss"] for n in RUNGS)
    chosen = next(n for n in RUNGS if found[n]["chosen"])
    assert found[chosen]["log_loss"] == best
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


def test_auto_allows_at_least_the_floor_when_every_rung_is_nearly_perfect():
    # per-row losses near zero that differ consistently by a few
    # thousandths of a nat: their standard error is tiny, but a difference
    # below MIN_ALLOWANCE shows in no prediction, so the cheapest rung wins
    from sklearn_kd._ladder import MIN_ALLOWANCE

    rng = np.random.default_rng(0)
    common = 0.001 * rng.exponential(size=1000)
    shifts = dict(zip(RUNGS, (0.8 * MIN_ALLOWANCE, 0.5 * MIN_ALLOWANCE, 0.0)))
    found = {name: common + shift + 1e-6 * rng.standard_normal(1000)
             for name, shift in shifts.items()}
    name, excess = choose(found, COSTS, "auto")
    assert name == "linear on bins"
    assert excess["linear on bins"][1] == MIN_ALLOWANCE  # the floor, not Z SE
    # past the floor, the cheaper rung is worse and loses
    found["linear on bins"] += MIN_ALLOWANCE
    assert choose(found, COSTS, "auto")[0] == "perceptron"
    # most-accurate has no floor
    assert choose(found, COSTS, "most-accurate")[0] == "bins + hidden layers"


@pytest.mark.parametrize(
    "hidden, expected",
    [
        ((100,), [("linear on bins", "ple", ()),
                  ("narrow perceptron", "mlp", (25,)),
                  ("perceptron", "mlp", (100,)),
                  ("bins + slim hidden layers", "ple", (12,)),
                  ("bins + narrow hidden layers", "ple", (25,)),
                  ("bins + hidden layers", "ple", (100,))]),
        # a slim width that the floor makes the narrow one is not repeated
        ((40, 20), [("linear on bins", "ple", ()),
                    ("narrow perceptron", "mlp", (10, 8)),
                    ("perceptron", "mlp", (40, 20)),
                    ("bins + slim hidden layers", "ple", (8, 8)),
                    ("bins + narrow hidden layers", "ple", (10, 8)),
                    ("bins + hidden layers", "ple", (40, 20))]),
        ((32,), [("linear on bins", "ple", ()),
                 ("narrow perceptron", "mlp", (8,)),
                 ("perceptron", "mlp", (32,)),
                 ("bins + narrow hidden layers", "ple", (8,)),
                 ("bins + hidden layers", "ple", (32,))]),
        ((8,), [("linear on bins", "ple", ()), ("perceptron", "mlp", (8,)),
                ("bins + hidden layers", "ple", (8,))]),
    ],
)
def test_the_ladder_widths(hidden, expected):
    from sklearn_kd._ladder import rungs

    assert rungs(hidden, "ple") == expected


def test_within_bin_budget_takes_fewer_bins_per_feature_until_it_fits():
    from sklearn_kd._ladder import within_bin_budget

    asked = []

    def bins_of(n_bins):  # 10 features, one of 3 distinct values
        asked.append(n_bins)
        return [np.arange(min(n_bins, 2) + 1.0)] + [
            np.arange(n_bins + 1.0) for _ in range(9)
        ]

    full = bins_of(16)
    assert within_bin_budget(bins_of, full, 16, 200) is full  # 146: fits
    fitted = within_bin_budget(bins_of, full, 16, 96)
    assert sum(len(e) - 1 for e in fitted) <= 96
    assert asked[-1] >= 9  # no fewer bins than the budget needs
    # never below 2 per feature, even over budget
    assert sum(len(e) - 1 for e in within_bin_budget(bins_of, full, 16, 5)) == 20


def test_auto_keeps_the_encodings_within_their_bin_budget():
    # 30 features of 16 bins would make 480; "auto" encodes them in at
    # most AUTO_MAX_BINS (a binary classifier), a named encoding does not
    from sklearn.ensemble import HistGradientBoostingClassifier

    from sklearn_kd._ladder import AUTO_MAX_BINS

    X, y = make_classification(n_samples=400, n_features=30, n_informative=8,
                               n_redundant=0, random_state=0)
    teacher = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
    auto = DistilledClassifier(FrozenEstimator(teacher), max_epochs=2,
                               random_state=0).fit(X, y)
    named = DistilledClassifier(FrozenEstimator(teacher), max_epochs=2,
                                architecture="ple-teacher",
                                random_state=0).fit(X, y)
    n_bins = named.student_.module_.encoding_index.numel()
    assert n_bins > 3 * AUTO_MAX_BINS
    # the linear model on bins: a weight per bin and class, and the biases
    linear = auto.architecture_scores_["linear on bins"]["n_weights"]
    assert 2 * (AUTO_MAX_BINS // 2) < linear <= 2 * AUTO_MAX_BINS + 2
