"""One probability check, with one tolerance, wherever probabilities enter."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklearn_kd import DistilledClassifier, diagnostics, knowledge, metrics
from sklearn_kd._validation import ROW_SUM_ATOL, check_probabilities


def _teacher(dtype, off_by):
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=60)
    proba[:, 0] += off_by  # every row sums to 1 + off_by
    return proba.astype(dtype), rng.integers(0, 3, size=60)


def _consumers(proba, y):
    X, _ = make_classification(n_samples=60, n_features=4, random_state=0)
    yield lambda: DistilledClassifier(
        max_epochs=1, hidden_layer_sizes=(4,), random_state=0
    ).fit(X, y, teacher_proba=proba)
    yield lambda: diagnostics.teacher_diagnostics(proba, y)
    yield lambda: knowledge.fit_knowledge(proba, y)
    yield lambda: metrics.teacher_kl_divergence(proba, proba)
    yield lambda: metrics.expected_calibration_error(y, proba)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimator_diagnostics_and_metrics_accept_the_same_rows(dtype):
    proba, y = _teacher(dtype, ROW_SUM_ATOL / 2)
    for consume in _consumers(proba, y):
        consume()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimator_diagnostics_and_metrics_reject_the_same_rows(dtype):
    proba, y = _teacher(dtype, 2 * ROW_SUM_ATOL)
    for consume in _consumers(proba, y):
        with pytest.raises(ValueError, match=r"must sum to 1 \(absolute tolerance"):
            consume()


def test_float_input_is_kept_and_never_modified():
    proba = np.full((4, 2), 0.5, dtype=np.float32)
    before = proba.copy()
    assert check_probabilities(proba, "p", keep_float=True) is proba
    assert check_probabilities(proba, "p").dtype == np.float64
    np.testing.assert_array_equal(proba, before)


@pytest.mark.parametrize(
    "proba, kwargs, match",
    [
        ([0.5, 0.5], {}, r"p must be a 2-D array"),
        ([[1.0]], {}, r"p must have at least 2 columns"),
        ([[0.5, 0.5]], {"n_columns": 3}, r"p must have 3 columns"),
        ([[0.5, 0.5]], {"n_rows": 2, "n_columns": 2}, r"shape .* = \(2, 2\)"),
        (np.empty((0, 2)), {"min_rows": 1}, r"at least 1 row"),
        ([[np.nan, 1.0]], {}, r"p must hold finite probabilities; got 1 NaN"),
        ([[1.5, -0.5]], {}, r"p must be non-negative; got a minimum of -0.5"),
        ([["a", "b"]], {}, r"p must be a numeric array"),
    ],
)
def test_errors_name_the_array_and_what_is_wrong(proba, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_probabilities(proba, "p", **kwargs)
