"""Every bad input gets a clear error; faults during training end cleanly.

One named test per misuse. Each asserts the exception type and, with
``match=``, a message that names the parameter, what is allowed and what was
received. ``InvalidParameterError`` (scikit-learn's parameter validation)
subclasses both ValueError and TypeError.
"""

import copy
import re

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC, LinearSVC
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_kd import DistilledClassifier, OverconfidentTeacherWarning
from sklearn_kd.knowledge import ROW_SUM_ATOL


@pytest.fixture(scope="module")
def proba(binary_data):
    X, y = binary_data
    return LogisticRegression().fit(X, y).predict_proba(X)


@pytest.fixture(scope="module")
def fitted(tiny, binary_data):
    X, y = binary_data
    return DistilledClassifier(LogisticRegression(), **tiny).fit(X, y)


# ------------------------------------------------------------------ X
def test_nan_in_X_is_rejected(tiny, binary_data):
    """NaN in X is rejected when the teacher rejects it, before any fit,
    with the way out (missing values are tested in test_missing.py)."""
    X, y = binary_data
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN") as info:
        DistilledClassifier(LogisticRegression(), **tiny).fit(X, y)
    assert "SimpleImputer" in str(info.value)
    assert "HistGradientBoosting" not in str(info.value)


def test_inf_in_X_is_rejected(tiny, binary_data):
    X, y = binary_data
    X = X.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        DistilledClassifier(LogisticRegression(), **tiny).fit(X, y)


def test_X_beyond_float32_range_is_rejected(tiny, binary_data):
    """The student computes in float32: 1e39 would become inf silently."""
    X, y = binary_data
    with pytest.raises(ValueError, match=r"X must hold values within float32 range"):
        DistilledClassifier(alpha=0.0, **tiny).fit(X * 1e39, y)


def test_nan_in_X_at_predict_is_rejected(fitted, binary_data):
    X, _ = binary_data
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict_proba(X)


# ------------------------------------------------------------ teacher_proba
def test_teacher_proba_wrong_shape(tiny, binary_data, proba):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=re.escape(
            "teacher_proba must have shape (n_samples, n_classes) = (60, 2) with "
            "columns in classes_ order; got shape (60, 3)."
        ),
    ):
        DistilledClassifier(**tiny).fit(
            X, y, teacher_proba=np.c_[proba, np.zeros(len(y))]
        )


def test_teacher_proba_wrong_number_of_rows(tiny, binary_data, proba):
    X, y = binary_data
    with pytest.raises(ValueError, match=r"teacher_proba must have shape .*\(59, 2\)"):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=proba[:-1])


def test_teacher_proba_negative_entries(tiny, binary_data, proba):
    X, y = binary_data
    bad = proba.copy()
    bad[0] = [-0.25, 1.25]
    with pytest.raises(
        ValueError, match="teacher_proba must be non-negative; got a minimum of -0.25"
    ):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=bad)


def test_teacher_proba_nan(tiny, binary_data, proba):
    X, y = binary_data
    bad = proba.copy()
    bad[2, 0] = np.nan
    with pytest.raises(
        ValueError,
        match="teacher_proba must hold finite probabilities; got 1 NaN or infinite",
    ):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=bad)


def test_teacher_proba_rows_not_summing_to_one(tiny, binary_data, proba):
    X, y = binary_data
    bad = proba.copy()
    bad[5] *= 1 + 10 * ROW_SUM_ATOL
    with pytest.raises(
        ValueError,
        match=r"Each row of teacher_proba must sum to 1 \(absolute tolerance "
        r"0.0001\); the worst row sums to 1.001",
    ):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=bad)


def test_teacher_proba_rows_within_tolerance_are_renormalised(tiny, binary_data, proba):
    """Rounding below ROW_SUM_ATOL is accepted (documented in fit)."""
    X, y = binary_data
    close = proba * (1 + ROW_SUM_ATOL / 2)
    assert "within 1e-4" in DistilledClassifier.fit.__doc__
    DistilledClassifier(**tiny).fit(X, y, teacher_proba=close)


def test_teacher_proba_not_numeric(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="teacher_proba must be a numeric array"):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=[["a", "b"]] * len(y))


def test_one_hot_teacher_warns_instead_of_crashing(tiny, binary_data):
    """A one-hot teacher is legal; it is flagged as over-confident."""
    X, y = binary_data
    with pytest.warns(OverconfidentTeacherWarning, match="nearly one-hot"):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=np.eye(2)[y])


# ------------------------------------------------------------------ teacher
@pytest.mark.parametrize(
    "teacher", [LinearSVC(), SVC(probability=False)], ids=["LinearSVC", "SVC"]
)
def test_teacher_without_predict_proba(tiny, binary_data, teacher):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"The 'teacher' parameter of DistilledClassifier must be None, a str "
        r"among \{'self'\} or an object implementing 'fit' and 'predict_proba'. "
        # SVC's repr shows probability=False only where its default differs
        # (scikit-learn >= 1.8).
        r"Got (LinearSVC\(\)|SVC\((probability=False)?\)) instead.",
    ):
        DistilledClassifier(teacher, **tiny).fit(X, y)


def test_teacher_classes_differ_from_y(tiny, binary_data):
    X, y = binary_data
    from sklearn.frozen import FrozenEstimator

    teacher = FrozenEstimator(DummyClassifier().fit(X, np.where(y == 0, 7, 8)))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The teacher's classes_ must be the classes of y: the teacher "
            "predicts [7, 8], y holds [0, 1]."
        ),
    ):
        DistilledClassifier(teacher, **tiny).fit(X, y)


def test_both_teacher_and_teacher_proba(tiny, binary_data, proba):
    X, y = binary_data
    with pytest.raises(ValueError, match="Pass either a teacher or teacher_proba"):
        DistilledClassifier(LogisticRegression(), **tiny).fit(X, y, teacher_proba=proba)


# ------------------------------------------------------------------ y
def test_single_class_in_y(tiny, binary_data):
    X, _ = binary_data
    with pytest.raises(
        ValueError,
        match=re.escape(
            "y must hold at least 2 classes to train a classifier; got 1 class: "
            "['only']."
        ),
    ):
        DistilledClassifier(LogisticRegression(), **tiny).fit(
            X, np.array(["only"] * len(X), dtype=object)
        )


def test_continuous_y(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        DistilledClassifier(LogisticRegression(), **tiny).fit(X, y + 0.5)


def test_y_length_differs_from_X(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[60, 59\]"
    ):
        DistilledClassifier(LogisticRegression(), **tiny).fit(X, y[:-1])


# ----------------------------------------------------------- too few rows
def test_fewer_rows_than_teacher_cv_folds(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=re.escape(
            "teacher_cv=5 makes 5 folds, which needs at least 5 rows of every "
            "class; got 6 rows and a smallest class of 3 rows."
        ),
    ):
        DistilledClassifier(LogisticRegression(), teacher_cv=5, **tiny).fit(
            X[:6], np.array([0, 1] * 3)
        )


def test_fewer_rows_than_validation_split_needs(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"early_stopping=True holds out a stratified validation split of "
        r"validation_fraction=0.1, which needs at least 2 rows of every class .* "
        r"got 5 rows, 2 classes and a smallest class of 1 rows.",
    ):
        DistilledClassifier(LogisticRegression(), early_stopping=True, **tiny).fit(
            X[:5], np.array([0, 0, 0, 0, 1])
        )


def test_fewer_than_two_rows(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match=r"Found array with 1 sample\(s\)"):
        DistilledClassifier(alpha=0.0, **tiny).fit(X[:1], y[:1])


# ------------------------------------------------------------- parameters
@pytest.mark.parametrize("temperature", [0.0, -1.0])
def test_temperature_not_positive(binary_data, temperature):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"The 'temperature' parameter of DistilledClassifier must be a float "
        rf"in the range \(0.0, inf\). Got {temperature} instead.",
    ):
        DistilledClassifier(LogisticRegression(), temperature=temperature).fit(X, y)


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_alpha_outside_unit_interval(binary_data, alpha):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"The 'alpha' parameter of DistilledClassifier must be a float in the "
        rf"range \[0.0, 1.0\]. Got {alpha} instead.",
    ):
        DistilledClassifier(LogisticRegression(), alpha=alpha).fit(X, y)


def test_unknown_knowledge(binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"The 'knowledge' parameter of DistilledClassifier must be a str "
        r"among \{.*'universe'.*\}. Got 'galaxy' instead.",
    ):
        DistilledClassifier(LogisticRegression(), knowledge="galaxy").fit(X, y)


def test_unknown_loss(binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"The 'loss' parameter of DistilledClassifier must be a str among "
        r"\{.*'dkd'.*\}. Got 'mse' instead.",
    ):
        DistilledClassifier(LogisticRegression(), loss="mse").fit(X, y)


def test_hidden_layer_sizes_as_one_int_is_one_layer(binary_data):
    # as in MLPClassifier
    X, y = binary_data
    one = DistilledClassifier(alpha=0.0, max_epochs=1, hidden_layer_sizes=16,
                              random_state=0).fit(X, y)
    same = DistilledClassifier(alpha=0.0, max_epochs=1, hidden_layer_sizes=(16,),
                               random_state=0).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), same.predict_proba(X))
    with pytest.raises(InvalidParameterError, match="hidden_layer_sizes"):
        DistilledClassifier(alpha=0.0, hidden_layer_sizes=0).fit(X, y)


def test_a_teacher_class_is_refused_with_the_instance_to_pass(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(
        TypeError,
        match=r"^teacher must be an estimator instance, e.g. "
        r"teacher=LogisticRegression\(\); got the class LogisticRegression.$",
    ):
        DistilledClassifier(LogisticRegression, **tiny).fit(X, y)


@pytest.mark.parametrize("sizes", [(0,), (8, -3), (2.5,)])
def test_bad_hidden_layer_sizes(binary_data, sizes):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=re.escape(
            "hidden_layer_sizes must be a sequence of positive integers (one "
            f"width per hidden layer, () for none); got {sizes!r}."
        ),
    ):
        DistilledClassifier(alpha=0.0, max_epochs=1, hidden_layer_sizes=sizes).fit(X, y)


def test_negative_sample_weight(tiny, binary_data):
    X, y = binary_data
    w = np.ones(len(y))
    w[0] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_"):
        DistilledClassifier(alpha=0.0, **tiny).fit(X, y, sample_weight=w)


def test_cuda_without_gpu(tiny, binary_data, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=re.escape(
            "device='cuda' was requested but no CUDA GPU is available to torch "
            "on this machine; devices torch can use here: 'cpu'"
        ),
    ):
        DistilledClassifier(LogisticRegression(), device="cuda", **tiny).fit(X, y)


class _FitCounter(LogisticRegression):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize(
    "device, problem",
    [
        ("mps", r"torch.backends.mps.is_available\(\) is False"),
        ("cuda:3", r"torch sees 1 CUDA GPU\(s\), numbered from 0"),
        ("meta", "the meta device holds no data"),
    ],
)
def test_unusable_device_is_refused_before_the_teacher_is_fitted(
    tiny, binary_data, monkeypatch, device, problem
):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: device == "cuda:3")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    X, y = binary_data
    _FitCounter.fits = 0
    available = "'cpu', 'cuda:0'" if device == "cuda:3" else "'cpu'"
    with pytest.raises(
        ValueError,
        match=f"^device={device!r} was requested but {problem}.*; devices torch "
        f"can use here: {available}.$",
    ):
        DistilledClassifier(_FitCounter(), device=device, **tiny).fit(X, y)
    assert _FitCounter.fits == 0


def test_unknown_device(tiny, binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"device must name a torch device such as 'cpu' or 'cuda'; got 'gpu0'",
    ):
        DistilledClassifier(LogisticRegression(), device="gpu0", **tiny).fit(X, y)


# ------------------------------------------------------------------ predict
@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_predict_before_fit(binary_data, method):
    X, y = binary_data
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(
        NotFittedError, match="This DistilledClassifier instance is not fitted yet"
    ):
        getattr(DistilledClassifier(), method)(*args)


def test_predict_with_other_number_of_features(fitted, binary_data):
    X, _ = binary_data
    with pytest.raises(
        ValueError,
        match="X has 3 features, but DistilledClassifier is expecting 4 features",
    ):
        fitted.predict(X[:, :3])


def test_predict_with_other_feature_names(tiny, binary_data):
    """Documented scikit-learn behaviour: other or reordered names raise,
    an array passed to a model fitted on a DataFrame only warns."""
    pd = pytest.importorskip("pandas")
    X, y = binary_data
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = DistilledClassifier(LogisticRegression(), **tiny).fit(df, y)
    with pytest.raises(
        ValueError,
        match=r"(?s)The feature names should match those that were passed during "
        r"fit.*unseen at fit time:\n- z.*seen at fit time, yet now missing:\n- a",
    ):
        clf.predict(df.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="must be in the same order as they were"):
        clf.predict(df[["d", "c", "b", "a"]])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        clf.predict(X)


def test_predict_with_values_overflowing_float32(fitted, binary_data):
    X, _ = binary_data
    with pytest.raises(ValueError, match=r"X must hold values within float32 range"):
        fitted.predict_proba(X * 1e300)


# ------------------------------------------------------ faults in training
def test_diverging_run_raises_floating_point_error(binary_data):
    """lr=1e12 with SGD overflows the weights: a clear error, not NaN."""
    X, y = binary_data
    clf = DistilledClassifier(
        alpha=0.0,
        lr=1e12,
        optimizer="sgd",
        max_epochs=5,
        n_iter_no_change=None,
        hidden_layer_sizes=(8,),
        random_state=0,
    )
    with pytest.raises(
        FloatingPointError,
        match=r"The student's train_loss became (nan|inf) at epoch \d: training "
        r"diverged. Lower `lr`",
    ):
        clf.fit(X, y)
    # the half-trained student never hands out NaN probabilities silently
    with pytest.raises(ValueError, match="logits must be finite"):
        clf.predict_proba(X)


class InterruptAt(Callback):
    """Raise KeyboardInterrupt at the end of epoch ``epoch`` (Ctrl-C)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_fit_leaves_a_usable_estimator(binary_data):
    X, y = binary_data
    clf = DistilledClassifier(
        LogisticRegression(),
        max_epochs=5,
        n_iter_no_change=None,
        hidden_layer_sizes=(8,),
        callbacks=[InterruptAt(3)],
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ == len(clf.history_) == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= set(clf.classes_)


class Recorder(Callback):
    """Keep every epoch's weights; at the end re-evaluate the validation loss
    of the weights the net holds after early stopping restored the best."""

    def initialize(self):
        self.states = []
        self.final_valid_loss = None
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states.append(copy.deepcopy(net.module_.state_dict()))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        _, dataset_valid = net.get_split_datasets(X, y)
        total = n = 0
        for batch in net.get_iterator(dataset_valid):
            total += net.validation_step(batch)["loss"].item() * len(batch[1])
            n += len(batch[1])
        self.final_valid_loss = total / n


def test_early_stopping_restores_the_best_weights():
    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, flip_y=0.3, random_state=0
    )
    clf = DistilledClassifier(
        alpha=0.0,
        lr=0.05,
        max_epochs=5,
        hidden_layer_sizes=(8,),
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=2,
        tol=0.0,
        callbacks=[("recorder", Recorder())],
        random_state=1,
    ).fit(X, y)
    valid = clf.history_[:, "valid_loss"]
    best = int(np.argmin(valid))
    assert best != len(valid) - 1, "the test needs a run whose last epoch is worse"
    recorder = dict(clf.student_.callbacks_)["recorder"]
    assert recorder.final_valid_loss == pytest.approx(valid[best], rel=1e-6)
    for key, value in clf.student_.module_.state_dict().items():
        torch.testing.assert_close(value, recorder.states[best][key], rtol=0, atol=0)
