"""Missing values: the student accepts NaN where its teacher does."""

import io

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_kd import DistilledClassifier
from sklearn_kd._checks import teacher_accepts_nan
from sklearn_kd._student import compute_bins, standardisation_statistics
from sklearn_kd.augment import MUNGE, GaussianAugmenter
from sklearn_kd.persistence import load, save, without_teacher

pytest.importorskip("rtdl_num_embeddings")

SMALL = dict(max_epochs=30, hidden_layer_sizes=(16,), lr=1e-2, random_state=0)


def missing_signal(n=400, seed=0):
    """Two classes; class 1 hides feature 0 (missing not at random) and the
    other features are noise, so the missingness is the whole signal."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = rng.randint(2, size=n)
    hide = np.where(y == 1, rng.rand(n) < 0.9, rng.rand(n) < 0.1)
    X[hide, 0] = np.nan
    X[rng.rand(n) < 0.2, 2] = np.nan  # missing at random: no signal
    return X, y


@pytest.fixture(scope="module")
def nan_data():
    return missing_signal()


@pytest.fixture(scope="module")
def hgb(nan_data):
    X, y = nan_data
    return HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)


@pytest.mark.parametrize("architecture", ["mlp", "auto", "periodic"])
def test_student_learns_from_missingness(nan_data, hgb, architecture):
    """The missingness of feature 0 is the class: a student that sees it
    reaches the teacher (about 0.9) on new rows; imputing without the
    indicator would leave it at chance."""
    X, y = nan_data
    X_before = X.copy()
    clf = DistilledClassifier(
        FrozenEstimator(hgb), architecture=architecture, **SMALL
    ).fit(X, y)
    np.testing.assert_array_equal(X, X_before)  # X is not imputed in place
    if architecture == "auto":  # a student of the ladder
        assert clf.architecture_ in ("ple-teacher", "mlp")
    else:
        assert clf.architecture_ == architecture
    assert clf.student_.module_.missing_index.tolist() == [0, 2]
    X_new, y_new = missing_signal(seed=1)
    proba = clf.predict_proba(X_new)
    assert np.isfinite(proba).all()
    teacher_accuracy = hgb.score(X_new, y_new)
    assert teacher_accuracy > 0.8
    assert clf.score(X_new, y_new) >= 0.95 * teacher_accuracy


def test_nan_where_training_had_none_is_imputed(nan_data, hgb):
    """A NaN in a feature that had none in fit takes the training mean."""
    X, y = nan_data
    clf = DistilledClassifier(FrozenEstimator(hgb), architecture="mlp", **SMALL).fit(
        X, y
    )
    mean = clf.student_.module_.mean.numpy()
    row = X[:1].copy()
    row[0, 1] = np.nan
    filled = row.copy()
    filled[0, 1] = mean[1]
    np.testing.assert_allclose(
        clf.predict_proba(row), clf.predict_proba(filled), rtol=1e-6
    )
    np.testing.assert_allclose(mean[0], np.nanmean(X[:, 0]), rtol=1e-5)


def test_teacher_fitted_here_with_nan(nan_data):
    X, y = nan_data
    clf = DistilledClassifier(HistGradientBoostingClassifier(max_iter=10), **SMALL).fit(
        X, y
    )
    assert clf.__sklearn_tags__().input_tags.allow_nan
    assert np.isfinite(clf.predict_proba(X)).all()


def test_imputing_pipeline_teacher(nan_data):
    """A pipeline's tags do not say it imputes: its fit on the rows decides."""
    X, y = nan_data
    teacher = make_pipeline(SimpleImputer(add_indicator=True), LogisticRegression())
    assert teacher_accepts_nan(teacher) is None
    clf = DistilledClassifier(teacher, architecture="mlp", **SMALL).fit(X, y)
    assert clf.score(X, y) > 0.8


def test_teacher_accepts_nan():
    assert teacher_accepts_nan(HistGradientBoostingClassifier()) is True
    assert teacher_accepts_nan(FrozenEstimator(HistGradientBoostingClassifier()))
    assert teacher_accepts_nan(LogisticRegression()) is False


def test_tags_follow_the_teacher():
    def allow_nan(**params):
        return DistilledClassifier(**params).__sklearn_tags__().input_tags.allow_nan

    assert allow_nan(teacher=HistGradientBoostingClassifier())
    assert not allow_nan(teacher=LogisticRegression())
    assert not allow_nan()  # teacher_proba: refused
    assert allow_nan(alpha=0.0)  # no teacher needed
    assert allow_nan(teacher="self")
    assert not allow_nan(
        teacher=HistGradientBoostingClassifier(), module=nn.Linear(3, 2)
    )


def test_nan_refused_by_teacher_says_what_to_do(nan_data):
    X, y = nan_data
    with pytest.raises(ValueError, match="Input X contains NaN") as info:
        DistilledClassifier(LogisticRegression(), **SMALL).fit(X, y)
    message = str(info.value)
    assert "LogisticRegression does not accept missing values" in message
    assert "SimpleImputer" in message and "HistGradientBoosting" not in message
    assert "feature indices [0, 2]" in message


def test_nan_refused_by_pipeline_fit_says_what_to_do(nan_data):
    X, y = nan_data
    teacher = make_pipeline(StandardScaler(), LogisticRegression())
    with pytest.raises(ValueError, match="Pipeline does not accept missing") as info:
        DistilledClassifier(teacher, **SMALL).fit(X, y)
    assert "HistGradientBoosting" not in str(info.value)


def test_nan_with_teacher_proba_only_is_refused(nan_data, hgb):
    X, y = nan_data
    with pytest.raises(ValueError, match="only teacher_proba was given") as info:
        DistilledClassifier(**SMALL).fit(X, y, teacher_proba=hgb.predict_proba(X))
    assert "FrozenEstimator" in str(info.value)
    # without a teacher term the student learns from the rows alone
    clf = DistilledClassifier(alpha=0.0, **SMALL).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_nan_with_custom_module_is_refused(nan_data, hgb):
    X, y = nan_data
    with pytest.raises(ValueError, match="custom module"):
        DistilledClassifier(FrozenEstimator(hgb), module=nn.Linear(3, 2)).fit(X, y)


def test_student_of_nan_refusing_teacher_refuses_nan_at_predict(nan_data):
    X, y = nan_data
    X_full = np.nan_to_num(X)
    clf = DistilledClassifier(LogisticRegression(), **SMALL).fit(X_full, y)
    with pytest.raises(ValueError, match="Input X contains NaN .*refuse"):
        clf.predict(X)


def test_infinity_is_still_refused(nan_data, hgb):
    X, y = nan_data
    X = X.copy()
    X[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        DistilledClassifier(FrozenEstimator(hgb), **SMALL).fit(X, y)


@pytest.mark.parametrize("architecture", ["mlp", "auto"])
def test_persistence_round_trip_with_nan(nan_data, hgb, architecture):
    X, y = nan_data
    clf = DistilledClassifier(
        FrozenEstimator(hgb),
        architecture=architecture,
        max_epochs=2,
        hidden_layer_sizes=(8,),
        random_state=0,
    ).fit(X, y)
    X_new = X.copy()
    X_new[:5, 1] = np.nan  # also where fit had none
    expected = clf.predict_proba(X_new)
    restored = load(save(clf, io.BytesIO()))
    np.testing.assert_array_equal(restored.predict_proba(X_new), expected)
    np.testing.assert_array_equal(without_teacher(clf).predict_proba(X_new), expected)


def test_saved_student_that_refuses_nan_still_refuses(nan_data):
    X, y = nan_data
    clf = DistilledClassifier(LogisticRegression(), max_epochs=2).fit(
        np.nan_to_num(X), y
    )
    restored = load(save(clf, io.BytesIO()))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        restored.predict(X)


@pytest.mark.parametrize("architecture", ["mlp", "auto"])
def test_onnx_reproduces_nan_handling(nan_data, hgb, architecture):
    skl2onnx = pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("sklearn_kd.onnx")
    X, y = nan_data
    X = X.astype(np.float32)
    clf = DistilledClassifier(
        FrozenEstimator(hgb),
        architecture=architecture,
        max_epochs=2,
        hidden_layer_sizes=(8,),
        random_state=0,
    ).fit(X, y)
    X_new = X.copy()
    X_new[:5, 1] = np.nan
    onx = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    label, proba = session.run(None, {"X": X_new})
    np.testing.assert_allclose(proba, clf.predict_proba(X_new), atol=1e-5)
    np.testing.assert_array_equal(label, clf.predict(X_new))


def test_onnx_imputes_where_training_had_no_nan(hgb):
    """A student of a NaN-aware teacher fitted on complete rows still
    imputes NaN at predict time, in ONNX as in torch."""
    skl2onnx = pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("sklearn_kd.onnx")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = DistilledClassifier(
        FrozenEstimator(hgb), max_epochs=2, hidden_layer_sizes=(8,), random_state=0
    ).fit(X, y)
    assert clf.student_.module_.missing_index.numel() == 0
    X_new = X.copy()
    X_new[::3, 0] = np.nan
    expected = clf.predict_proba(X_new)
    filled = X_new.copy()
    filled[::3, 0] = clf.student_.module_.mean[0].item()
    np.testing.assert_allclose(expected, clf.predict_proba(filled), rtol=1e-6)
    onx = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    np.testing.assert_allclose(session.run(None, {"X": X_new})[1], expected, atol=1e-5)


def test_munge_moves_missingness_with_values():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    X[rng.rand(200) < 0.3, 1] = np.nan
    X_before = X.copy()
    X_new = MUNGE(swap_probability=0.5).fit(X).sample(4000, random_state=0)
    np.testing.assert_array_equal(X, X_before)
    assert np.isfinite(X_new[:, [0, 2]]).all()
    # about as often missing as in the training rows
    assert abs(np.isnan(X_new[:, 1]).mean() - np.isnan(X[:, 1]).mean()) < 0.05
    # a missing value is never spread around: observed values stay in range
    observed = X_new[:, 1][~np.isnan(X_new[:, 1])]
    assert np.isfinite(observed).all()


def test_munge_neighbours_share_missingness():
    """Rows missing a feature are each other's neighbours when the rest of
    the row does not tell them apart."""
    X = np.array([[0.0, np.nan], [0.0, np.nan], [0.0, 1.0], [0.0, 1.01], [0.0, 5.0]])
    munge = MUNGE().fit(X)
    assert munge.neighbors_.tolist()[:4] == [1, 0, 3, 2]


def test_gaussian_augmenter_keeps_missing_values():
    X = np.array([[0.0, np.nan], [1.0, 2.0], [2.0, 3.0]])
    X_new = GaussianAugmenter().fit(X).sample(300, random_state=0)
    rows_missing = np.isnan(X_new[:, 1])
    assert 0 < rows_missing.mean() < 1 and np.isfinite(X_new[:, 0]).all()


def test_munge_transfer_set_with_nan(nan_data, hgb):
    """The transfer set keeps missing values and the teacher labels them."""
    X, y = nan_data
    labelled = []

    class Recording(type(hgb)):
        def predict_proba(self, X):
            labelled.append(np.array(X))
            return super().predict_proba(X)

    teacher = Recording(max_iter=10, random_state=0)
    clf = DistilledClassifier(
        teacher, augment="munge", augment_size=2, architecture="mlp", **SMALL
    ).fit(X, y)
    transfer = labelled[-1]
    assert len(transfer) == 2 * len(X)
    assert 0.2 < np.isnan(transfer[:, 0]).mean() < 0.8
    assert np.isfinite(clf.predict_proba(X)).all()


def test_statistics_and_bins_leave_nan_out():
    X = np.array([[1.0, np.nan], [3.0, 2.0], [np.nan, 4.0], [5.0, np.nan]])
    mean, scale = standardisation_statistics(X)
    np.testing.assert_allclose(mean, [3.0, 3.0])
    np.testing.assert_allclose(scale, [np.std([1, 3, 5]), 1.0])
    X = np.random.RandomState(0).normal(size=(40, 2))
    X[::3, 0] = np.nan
    X[1:4, 1] = np.nan
    for edges, column in zip(compute_bins(X, n_bins=2), X.T):
        assert np.isfinite(edges).all()
        np.testing.assert_allclose(
            [edges[0], edges[-1]], [np.nanmin(column), np.nanmax(column)], rtol=1e-6
        )
    all_missing = np.array([[np.nan, 1.0], [np.nan, 2.0]])
    assert np.isfinite(compute_bins(all_missing, n_bins=2)[0]).all()
    np.testing.assert_array_equal(standardisation_statistics(all_missing)[1][0], 1.0)


def test_clone_keeps_behaviour(nan_data, hgb):
    X, y = nan_data
    clf = clone(DistilledClassifier(FrozenEstimator(hgb), max_epochs=2))
    assert np.isfinite(clf.fit(X, y).predict_proba(X)).all()


def test_indicators_beat_imputation_alone(nan_data, hgb):
    """The same student on mean-imputed rows, without the indicators, sees
    the missingness only as a spike at the mean, and learns it worse (here
    about 0.77 against 0.88)."""
    X, y = nan_data
    X_new, y_new = missing_signal(seed=1)
    ours = DistilledClassifier(FrozenEstimator(hgb), architecture="mlp", **SMALL)
    blind = make_pipeline(
        SimpleImputer(), DistilledClassifier(architecture="mlp", **SMALL)
    )
    blind.fit(X, y, distilledclassifier__teacher_proba=hgb.predict_proba(X))
    assert ours.fit(X, y).score(X_new, y_new) > blind.score(X_new, y_new) + 0.05


def test_benchmark_tables_hide_values_not_at_random():
    from benchmarks.missing import synthetic

    X, y = synthetic(3000, random_state=0)
    rate = np.isnan(X[:, 0])
    assert rate[y == 0].mean() > 0.5 > 0.1 > rate[y != 0].mean()
