"""DistilledRegressor as a user meets it: pipelines, searches, teachers in
their several forms, multi-output targets, units, and the inputs it
refuses. Tiny data and a few epochs: these tests check behaviour, not
accuracy."""

import doctest
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_regression
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kd import DistilledRegressor

GUIDE = Path(__file__).resolve().parents[1] / "doc" / "user_guide" / "regression.rst"

#: The smallest student that still trains: a fixed architecture skips the
#: ladder, a few epochs are enough to check shapes and plumbing.
FAST = dict(
    architecture="mlp",
    hidden_layer_sizes=(8,),
    max_epochs=3,
    n_iter_no_change=None,
    random_state=0,
)


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    return X, y


#: The rows of every fit of a RecordingRegressor, by its ``tag`` (a list
#: passed as a parameter would be deep-copied by ``clone``).
FITS = {}


class RecordingRegressor(RegressorMixin, BaseEstimator):
    """A ridge regression that records the rows of each ``fit`` in
    ``FITS[tag]``, shared by its clones."""

    def __init__(self, tag="default"):
        self.tag = tag

    def fit(self, X, y, sample_weight=None):
        FITS.setdefault(self.tag, []).append(np.asarray(X).copy())
        self.model_ = Ridge().fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


# ------------------------------------------------------------- composition
def test_in_a_pipeline(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), DistilledRegressor(Ridge(), **FAST))
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (len(X),)
    assert np.isfinite(pipe.score(X, y))


def test_clone_keeps_the_parameters():
    reg = DistilledRegressor(
        Ridge(alpha=3.0), alpha=0.3, loss="huber", huber_delta=2.0, **FAST
    )
    copy = clone(reg)
    assert copy.get_params(deep=False).keys() == reg.get_params(deep=False).keys()
    for name, value in reg.get_params(deep=False).items():
        if name == "teacher":
            assert copy.teacher is not reg.teacher
            assert copy.teacher.get_params() == reg.teacher.get_params()
        else:
            assert copy.get_params(deep=False)[name] == value


def test_grid_search_slices_precomputed_teacher_pred(data):
    X, y = data
    teacher_pred = Ridge().fit(X, y).predict(X)
    search = GridSearchCV(
        DistilledRegressor(**FAST),
        {"alpha": [0.0, 0.5, 1.0]},
        cv=KFold(3),
    )
    search.fit(X, y, teacher_pred=teacher_pred)
    assert search.best_params_["alpha"] in (0.0, 0.5, 1.0)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # the refit on all rows saw no teacher to keep
    assert search.best_estimator_.teacher_ is None


def test_grid_search_refuses_an_unsliced_teacher_pred(data):
    """A teacher_pred that does not match the rows of a fold is refused
    with the expected shape, not silently broadcast."""
    X, y = data
    with pytest.raises(ValueError, match=r"teacher_pred .*shape \(100,\)"):
        DistilledRegressor(**FAST).fit(X[:100], y[:100], teacher_pred=y)


# ---------------------------------------------------------------- teachers
def test_frozen_teacher_is_not_refitted(data):
    X, y = data
    log = FITS.setdefault("frozen", [])
    log.clear()
    teacher = RecordingRegressor("frozen").fit(X[:50], y[:50])
    assert len(log) == 1
    reg = DistilledRegressor(FrozenEstimator(teacher), **FAST).fit(X, y)
    assert len(log) == 1  # predicted only
    assert reg.teacher_.estimator is teacher
    refitted = Ridge().fit(X[:50], y[:50])
    np.testing.assert_array_equal(teacher.model_.coef_, refitted.coef_)


def test_unfitted_teacher_is_cloned_and_fitted(data):
    X, y = data
    teacher = Ridge()
    reg = DistilledRegressor(teacher, **FAST).fit(X, y)
    assert not hasattr(teacher, "coef_")
    assert reg.teacher_ is not teacher
    assert hasattr(reg.teacher_, "coef_")


def test_teacher_cv_gives_out_of_fold_predictions(data):
    X, y = data
    log = FITS.setdefault("cv3", [])
    log.clear()
    DistilledRegressor(RecordingRegressor("cv3"), teacher_cv=3, **FAST).fit(X, y)
    # one fit per fold on the other two thirds of the rows, one on all rows
    assert len(log) == 4
    folds = [rows for rows in log if len(rows) < len(X)]
    assert len(folds) == 3
    everything = {tuple(row) for row in X}
    held_out = [everything - {tuple(row) for row in rows} for rows in folds]
    # each fold's teacher predicts the rows it was not fitted on: the three
    # held-out parts are disjoint and cover the data
    assert sum(len(part) for part in held_out) == len(X)
    assert set().union(*held_out) == everything


def test_teacher_cv_none_predicts_the_training_rows(data):
    X, y = data
    log = FITS.setdefault("cvnone", [])
    log.clear()
    DistilledRegressor(RecordingRegressor("cvnone"), teacher_cv=None, **FAST).fit(X, y)
    assert [len(rows) for rows in log] == [len(X)]


def test_teacher_cv_changes_what_the_student_learns(data):
    """A teacher that memorises its rows hands the targets over in sample;
    out of fold it does not, and the student ends elsewhere."""
    from sklearn.neighbors import KNeighborsRegressor

    X, y = data
    params = dict(FAST, alpha=1.0)
    memorising = KNeighborsRegressor(n_neighbors=1)
    in_sample = DistilledRegressor(memorising, teacher_cv=None, **params).fit(X, y)
    labels = DistilledRegressor(alpha=0.0, **FAST).fit(X, y)
    out_of_fold = DistilledRegressor(memorising, teacher_cv=3, **params).fit(X, y)
    # in sample, the 1-NN teacher returns y itself: alpha=1 on it is alpha=0
    close = dict(rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(in_sample.predict(X), labels.predict(X), **close)
    assert not np.allclose(out_of_fold.predict(X), labels.predict(X), **close)


def test_teacher_in_a_pipeline(data):
    X, y = data
    teacher = make_pipeline(StandardScaler(), Ridge())
    reg = DistilledRegressor(teacher, **FAST).fit(X, y)
    assert reg.teacher_.steps[-1][0] == "ridge"


# ---------------------------------------------------------- targets, units
def test_two_outputs(data):
    X, y = data
    Y = np.column_stack([y, -2 * y + 3])
    reg = DistilledRegressor(LinearRegression(), **FAST).fit(X, Y)
    assert reg.n_outputs_ == 2
    assert reg.predict(X[:7]).shape == (7, 2)


def test_two_outputs_with_precomputed_teacher_pred(data):
    X, y = data
    Y = np.column_stack([y, y**2 / 100])
    reg = DistilledRegressor(**FAST).fit(X, Y, teacher_pred=Y + 1.0)
    assert reg.predict(X[:4]).shape == (4, 2)


def test_single_column_y_gives_1d_predictions(data):
    X, y = data
    reg = DistilledRegressor(Ridge(), **FAST).fit(X, y.reshape(-1, 1))
    assert reg.n_outputs_ == 1
    assert reg.predict(X[:5]).shape == (5,)


def test_predictions_in_the_users_units(data):
    X, y = data
    reg = DistilledRegressor(Ridge(), **FAST).fit(X, y)
    big = DistilledRegressor(Ridge(), **FAST).fit(X, 1000 * y + 5)
    np.testing.assert_allclose(big.target_mean_, 1000 * y.mean() + 5)
    np.testing.assert_allclose(big.target_scale_, 1000 * y.std())
    # the same seed trains the same network on the same standardised
    # targets: the predictions differ by the change of units only
    np.testing.assert_allclose(
        big.predict(X), 1000 * reg.predict(X) + 5, rtol=1e-4, atol=1e-2
    )


def test_sample_weight_is_accepted(data):
    X, y = data
    weight = np.linspace(0.5, 2.0, len(X))
    reg = DistilledRegressor(Ridge(), **FAST).fit(X, y, sample_weight=weight)
    plain = DistilledRegressor(Ridge(), **FAST).fit(X, y)
    assert reg.predict(X).shape == (len(X),)
    assert not np.allclose(reg.predict(X), plain.predict(X))


def test_transfer_set_trains(data):
    X, y = data
    reg = DistilledRegressor(
        Ridge(), augment="munge", augment_size=1, **FAST
    ).fit(X, y)
    assert reg.predict(X[:3]).shape == (3,)


def test_huber_loss_trains(data):
    X, y = data
    reg = DistilledRegressor(Ridge(), loss="huber", huber_delta=0.5, **FAST).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()


# ------------------------------------------------------------- bad inputs
def test_classifier_teacher_is_refused(data):
    X, y = data
    reg = DistilledRegressor(LogisticRegression(), **FAST)
    with pytest.raises(TypeError, match="DistilledClassifier"):
        reg.fit(X, y)


def test_frozen_classifier_teacher_is_refused(data):
    X, y = data
    clf = LogisticRegression().fit(X, y > 0)
    with pytest.raises(TypeError, match="DistilledClassifier"):
        DistilledRegressor(FrozenEstimator(clf), **FAST).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_targets_are_refused(data, bad):
    X, y = data
    y = y.copy()
    y[7] = bad
    with pytest.raises(ValueError, match=r"^y must hold finite targets.*row 7"):
        DistilledRegressor(Ridge(), **FAST).fit(X, y)


def test_non_finite_teacher_pred_is_refused(data):
    X, y = data
    teacher_pred = y.copy()
    teacher_pred[3] = np.nan
    with pytest.raises(ValueError, match=r"teacher_pred must be finite.*row 3"):
        DistilledRegressor(**FAST).fit(X, y, teacher_pred=teacher_pred)


@pytest.mark.parametrize(
    "shape, expected",
    [((199,), r"\(200,\)"), ((200, 2), r"\(200,\)"), ((200, 1, 1), r"\(200,\)")],
)
def test_teacher_pred_of_the_wrong_shape_is_refused(data, shape, expected):
    X, y = data
    with pytest.raises(ValueError, match=rf"teacher_pred .*shape {expected}"):
        DistilledRegressor(**FAST).fit(X, y, teacher_pred=np.zeros(shape))


def test_teacher_pred_of_the_wrong_shape_reports_the_given_shape(data):
    X, y = data
    with pytest.raises(ValueError, match=r"got shape \(199,\)\."):
        DistilledRegressor(**FAST).fit(X, y, teacher_pred=np.zeros(199))


def test_teacher_pred_of_the_wrong_shape_two_outputs(data):
    X, y = data
    Y = np.column_stack([y, y])
    with pytest.raises(ValueError, match=r"teacher_pred .*shape \(200, 2\)"):
        DistilledRegressor(**FAST).fit(X, Y, teacher_pred=y)


def test_augment_without_a_teacher_is_refused(data):
    X, y = data
    reg = DistilledRegressor(augment="munge", **FAST)
    with pytest.raises(ValueError, match="augment"):
        reg.fit(X, y, teacher_pred=y)


def test_no_teacher_needs_alpha_zero(data):
    X, y = data
    with pytest.raises(ValueError, match="alpha=0"):
        DistilledRegressor(**FAST).fit(X, y)
    DistilledRegressor(alpha=0.0, **FAST).fit(X, y)


def test_inputs_are_not_modified(data):
    X, y = data
    X = X.astype(np.float32)
    y = y.reshape(-1, 1)
    teacher_pred = (y * 0.9).astype(np.float32)
    weight = np.ones(len(X))
    copies = [a.copy() for a in (X, y, teacher_pred, weight)]
    DistilledRegressor(**FAST).fit(
        X, y, teacher_pred=teacher_pred, sample_weight=weight
    )
    for before, after in zip(copies, (X, y, teacher_pred, weight)):
        np.testing.assert_array_equal(before, after)


def test_inputs_are_not_modified_with_a_teacher_and_transfer_set(data):
    X, y = data
    X_before, y_before = X.copy(), y.copy()
    DistilledRegressor(
        HistGradientBoostingRegressor(max_iter=5),
        augment="munge",
        augment_size=1,
        **FAST,
    ).fit(X, y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


# ------------------------------------------------------------- user guide
def test_user_guide_examples_run():
    """The ``>>>`` examples of the regression page run as written."""
    result = doctest.testfile(
        str(GUIDE),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0
