"""DistilledClassifier with a transfer set (augment) and unlabelled rows."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kd import DistilledClassifier, OverconfidentTeacherWarning
from sklearn_kd._batch import NO_LABEL
from sklearn_kd._transfer import labelled_mask
from sklearn_kd.augment import MUNGE

TINY = dict(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverconfidentTeacherWarning)
        yield


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=90, n_features=4, n_informative=3, n_redundant=0,
        n_classes=3, random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def forest(data):
    X, y = data
    return RandomForestClassifier(10, random_state=0).fit(X, y)


class CountingTeacher(RandomForestClassifier):
    """Records the row counts it is asked to predict."""

    def predict_proba(self, X):
        calls = self.__dict__.setdefault("calls", [])
        calls.append(len(X))
        return super().predict_proba(X)


def test_transfer_rows_are_added_and_labelled_in_batches(data, monkeypatch):
    import sklearn_kd._teacher_step as teacher_step

    monkeypatch.setattr(teacher_step, "LABEL_BATCH_ROWS", 50)
    X, y = data
    teacher = CountingTeacher(5, random_state=0).fit(X, y)
    teacher.calls = []
    clf = DistilledClassifier(
        FrozenEstimator(teacher), augment="munge", augment_size=2, **TINY
    )
    seen = {}

    def spy(self, inputs, y_idx, **kw):
        seen["n"], seen["y"] = len(inputs["X"]), np.asarray(y_idx)
        return original(self, inputs, y_idx, **kw)

    from sklearn_kd._training import DistillationNet

    original = DistillationNet.fit
    monkeypatch.setattr(DistillationNet, "fit", spy)
    clf.fit(X, y)
    assert seen["n"] == 3 * len(X)
    assert (seen["y"][len(X):] == NO_LABEL).all()
    assert (seen["y"][: len(X)] >= 0).all()
    # the transfer set (180 rows) went to the teacher 50 rows at a time
    assert max(teacher.calls) <= len(X)
    assert sum(c for c in teacher.calls if c <= 50) >= 2 * len(X)


def test_augment_object_and_nested_params(data, forest):
    X, y = data
    clf = DistilledClassifier(
        FrozenEstimator(forest), augment=MUNGE(swap_probability=0.2),
        augment_size=1, **TINY,
    )
    assert clf.get_params()["augment__swap_probability"] == 0.2
    clf.fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert clf.augment.swap_probability == 0.2  # not modified


class RecordingMUNGE(MUNGE):
    """MUNGE that records the swap probability of every fit."""

    fitted_with = []

    def fit(self, X, y=None):
        self.fitted_with.append(self.swap_probability)
        return super().fit(X, y)


def test_grid_search_over_the_augmenters_parameters(data, forest):
    from sklearn.model_selection import GridSearchCV

    X, y = data
    RecordingMUNGE.fitted_with.clear()
    clf = DistilledClassifier(
        FrozenEstimator(forest), augment=RecordingMUNGE(), augment_size=1, **TINY
    )
    grid = {"augment__swap_probability": [0.1, 0.5]}
    search = GridSearchCV(clf, grid, cv=2, error_score="raise").fit(X, y)
    # each candidate's value reached the augmenter of each fold's fit
    assert sorted(RecordingMUNGE.fitted_with[:4]) == [0.1, 0.1, 0.5, 0.5]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_params_["augment__swap_probability"]
    assert search.best_estimator_.augment.swap_probability == best
    assert clf.augment.swap_probability == 0.5  # the search's estimator as given


@pytest.mark.parametrize(
    "augment, fix", [("munge", r"augment=MUNGE\(\)"),
                     ("gaussian", r"augment=GaussianAugmenter\(\)"),
                     (None, r"augment=MUNGE\(\)")]
)
def test_nested_augment_params_need_an_augmenter_instance(data, forest, augment, fix):
    from sklearn.model_selection import GridSearchCV

    X, y = data
    clf = DistilledClassifier(FrozenEstimator(forest), augment=augment, **TINY)
    assert not any(k.startswith("augment__") for k in clf.get_params(deep=True))
    with pytest.raises(ValueError, match=f"augment__swap_probability.*{fix}"):
        clf.set_params(augment__swap_probability=0.3)
    with pytest.raises(ValueError, match=f"got augment={augment!r}.*{fix}"):
        GridSearchCV(clf, {"augment__swap_probability": [0.1]}, cv=2).fit(X, y)
    # setting the instance in the same call is fine
    clf.set_params(augment=MUNGE(), augment__swap_probability=0.3)
    assert clf.augment.swap_probability == 0.3


def test_nested_teacher_params_need_a_teacher_estimator():
    with pytest.raises(ValueError, match="teacher__C.*got teacher=None"):
        DistilledClassifier().set_params(teacher__C=1.0)
    with pytest.raises(ValueError, match="teacher__C.*got teacher='self'"):
        DistilledClassifier("self").set_params(teacher__C=1.0)


def test_augment_is_deterministic(data, forest):
    X, y = data
    kw = dict(augment="gaussian", augment_size=1, **TINY)
    a = DistilledClassifier(FrozenEstimator(forest), **kw).fit(X, y)
    b = DistilledClassifier(FrozenEstimator(forest), **kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_regenerate_replaces_rows_and_drops_references(data, forest):
    X, y = data
    clf = DistilledClassifier(
        FrozenEstimator(forest), augment="munge", augment_size=1,
        augment_regenerate=True, **{**TINY, "max_epochs": 3},
    ).fit(X, y)
    callback = dict(clf.student_.callbacks_)["regenerate_transfer_set"]
    assert callback.make is None  # no teacher or training rows kept
    small = len(pickle.dumps(clf.student_))
    assert small < len(pickle.dumps(forest))


def test_augment_needs_a_teacher(data):
    X, y = data
    proba = np.full((len(X), 3), 1 / 3)
    with pytest.raises(ValueError, match="teacher_proba only covers"):
        DistilledClassifier(augment="munge", **TINY).fit(X, y, teacher_proba=proba)


@pytest.mark.parametrize(
    "params", [dict(alpha=0.0), dict(loss="dkd"), dict(knowledge="universe")]
)
def test_augment_needs_plain_kd(data, forest, params):
    X, y = data
    clf = DistilledClassifier(FrozenEstimator(forest), augment="munge", **params,
                              **TINY)
    with pytest.raises(ValueError, match="loss='kd', knowledge='full'"):
        clf.fit(X, y)


def test_bad_augment_params(data, forest):
    X, y = data
    with pytest.raises(ValueError, match="augment"):
        DistilledClassifier(FrozenEstimator(forest), augment="smote").fit(X, y)
    with pytest.raises(ValueError, match="augment_size"):
        DistilledClassifier(FrozenEstimator(forest), augment="munge",
                            augment_size=0).fit(X, y)


class WrongShape:
    def fit(self, X):
        return self

    def sample(self, n_samples, random_state=None):
        return np.zeros((n_samples, 1))


def test_augmenter_returning_wrong_shape(data, forest):
    X, y = data
    with pytest.raises(ValueError, match="must return a finite array"):
        DistilledClassifier(FrozenEstimator(forest), augment=WrongShape(),
                            augment_size=1, **TINY).fit(X, y)


def test_augment_in_pipeline_draws_transformed_features(data):
    X, y = data
    X = X * 1000.0 + 5.0
    seen = []

    class Recorder(MUNGE):
        def fit(self, X, y=None):
            seen.append(np.asarray(X).copy())
            return super().fit(X)

    pipe = make_pipeline(
        StandardScaler(),
        DistilledClassifier(RandomForestClassifier(5, random_state=0),
                            augment=Recorder(), augment_size=1, **TINY),
    ).fit(X, y)
    assert np.abs(seen[0].mean(axis=0)).max() < 1e-6  # scaled features
    assert pipe.predict(X).shape == (len(X),)


def test_augment_with_dataframe_teacher(data):
    X, y = data
    frame = pd.DataFrame(X, columns=list("abcd"))
    forest = RandomForestClassifier(5, random_state=0).fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no feature-name warning
        DistilledClassifier(FrozenEstimator(forest), augment="munge",
                            augment_size=1, **TINY).fit(frame, y)


def test_early_stopping_with_augment(data, forest):
    X, y = data
    clf = DistilledClassifier(FrozenEstimator(forest), augment="munge",
                              augment_size=1, early_stopping=True,
                              validation_fraction=0.2, **TINY).fit(X, y)
    assert "valid_loss" in clf.history_[-1]


# ------------------------------------------------------------- unlabelled
def test_labelled_mask():
    assert labelled_mask(np.array([0, -1, 2]), -1).tolist() == [True, False, True]
    assert labelled_mask(np.array([0, -1, 2]), None).all()
    ys = np.array(["a", -1, "b"], dtype=object)
    assert labelled_mask(ys, -1).tolist() == [True, False, True]
    assert labelled_mask(np.array(["a", "-1"]), -1).all()


def test_unlabelled_rows(data):
    X, y = data
    y_semi = y.copy()
    y_semi[::3] = -1
    fitted = {}

    class Teacher(RandomForestClassifier):
        def fit(self, X, y, **kw):
            fitted["y"] = np.asarray(y)
            return super().fit(X, y, **kw)

    clf = DistilledClassifier(
        Teacher(5, random_state=0), unlabelled=-1, **TINY
    ).fit(X, y_semi)
    assert -1 not in clf.classes_
    assert clf.classes_.tolist() == [0, 1, 2]
    assert len(fitted["y"]) == (y_semi != -1).sum()  # labelled rows only
    assert (fitted["y"] != -1).all()
    assert clf.teacher_stats_ is not None


def test_unlabelled_string_labels(data):
    X, y = data
    y_semi = np.array([f"c{v}" for v in y], dtype=object)
    y_semi[::4] = -1
    clf = DistilledClassifier(RandomForestClassifier(5, random_state=0),
                              unlabelled=-1, early_stopping=True,
                              **TINY).fit(X, y_semi)
    assert clf.classes_.tolist() == ["c0", "c1", "c2"]
    assert set(clf.predict(X)) <= {"c0", "c1", "c2"}


def test_unlabelled_rows_with_teacher_proba(data):
    X, y = data
    y_semi = y.copy()
    y_semi[:10] = -1
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3
    clf = DistilledClassifier(unlabelled=-1, **TINY).fit(
        X, y_semi, teacher_proba=proba
    )
    assert clf.classes_.tolist() == [0, 1, 2]


def test_unlabelled_rows_need_a_teacher(data):
    X, y = data
    y_semi = y.copy()
    y_semi[:10] = -1
    with pytest.raises(ValueError, match="alpha > 0"):
        DistilledClassifier(alpha=0.0, unlabelled=-1, **TINY).fit(X, y_semi)
    with pytest.raises(ValueError, match="only unlabelled"):
        DistilledClassifier(RandomForestClassifier(3), unlabelled=-1, **TINY).fit(
            X, np.full(len(y), -1)
        )


@pytest.mark.parametrize("labels", [(-1, 1), (-1, 0, 1), (-1, 2, 7)])
def test_minus_one_is_a_class_by_default(data, labels):
    X, y = data
    labels = np.array(labels)
    y_lab = labels[y % len(labels)]
    clf = DistilledClassifier(
        LogisticRegression(), **dict(TINY, max_epochs=40, lr=0.05)
    ).fit(X, y_lab)
    assert clf.classes_.tolist() == sorted(labels.tolist())
    assert clf.predict_proba(X).shape == (len(X), len(labels))
    assert -1 in clf.predict(X)
    # opting in to the semi-supervised marker turns -1 into "no label"
    if len(labels) == 2:
        with pytest.raises(ValueError, match="unlabelled=None"):
            DistilledClassifier(LogisticRegression(), unlabelled=-1,
                                **TINY).fit(X, y_lab)
    else:
        semi = DistilledClassifier(LogisticRegression(), unlabelled=-1,
                                   **TINY).fit(X, y_lab)
        assert -1 not in semi.classes_


def test_other_unlabelled_marker(data):
    X, y = data
    y_s = np.array(["a", "b", "c"])[y].astype(object)
    y_s[:9] = "?"
    clf = DistilledClassifier(RandomForestClassifier(3), unlabelled="?",
                              **TINY).fit(X, y_s)
    assert clf.classes_.tolist() == ["a", "b", "c"]
