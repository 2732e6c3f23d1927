"""Tests of sklearn_kd.diagnostics: what a teacher passes on, per row and
summarised."""

from __future__ import annotations

import numpy as np
import pytest
import strategies as kst
from hypothesis import given
from numpy.testing import assert_allclose, assert_array_equal
from references import true_entries

from sklearn_kd.diagnostics import (
    OVERCONFIDENCE_THRESHOLD,
    QUANTILES,
    is_overconfident,
    teacher_diagnostics,
)

ATOL = 1e-12  # sums of at most 50 float64 probabilities
teachers = kst.labelled_teachers


@given(batch=teachers(), alpha=kst.alphas())
def test_teacher_diagnostics_per_row_values(batch, alpha):
    q, y = batch
    n, K = q.shape
    q_before = q.copy()
    diag = teacher_diagnostics(q, y, alpha=alpha)
    assert_array_equal(q, q_before)
    q_c = true_entries(q, y)
    assert_array_equal(diag.confidence, q_c)
    assert_allclose(diag.non_target_mass, 1 - q_c)
    # uniform initial student: p_c = 1 / K
    assert_allclose(diag.weight, 1 - alpha * K * (1 - q_c) / (K - 1), atol=ATOL)
    assert_array_equal(diag.correct, np.argmax(q, axis=1) == y)
    s = diag.summary
    assert s.weight_at == "uniform"
    assert (s.n_samples, s.n_classes, s.alpha) == (n, K, alpha)
    assert_allclose(s.accuracy, diag.correct.mean())
    assert_allclose(s.mean_non_target_mass, np.mean(1 - q_c))
    assert_allclose(s.mean_confidence, np.mean(q_c))
    assert_allclose(s.mean_weight, diag.weight.mean())
    assert_allclose(s.quantiles, QUANTILES)
    assert_allclose(s.confidence_quantiles, np.quantile(q_c, QUANTILES))
    assert np.all(np.diff(s.weight_quantiles) >= 0)


def test_teacher_diagnostics_at_student_proba():
    q = np.array([[0.9, 0.1, 0.0], [0.3, 0.3, 0.4], [0.2, 0.8, 0.0]])
    p = np.array([[0.5, 0.25, 0.25], [1.0, 0.0, 0.0], [0.2, 0.4, 0.4]])
    diag = teacher_diagnostics(q, [0, 0, 1], alpha=0.5, student_proba=p)
    assert_allclose(diag.weight, [1 - 0.5 * 0.1 / 0.5, np.nan, 1 - 0.5 * 0.2 / 0.6])
    assert diag.summary.weight_at == "student"
    assert_allclose(diag.summary.mean_weight, np.nanmean(diag.weight))
    with pytest.raises(ValueError, match=r"student_proba must have shape"):
        teacher_diagnostics(q, [0, 0, 1], student_proba=p[:2])
    with pytest.raises(ValueError, match=r"student_proba must have 3 columns"):
        teacher_diagnostics(q, [0, 0, 1], student_proba=p[:, :2])
    with pytest.raises(ValueError, match=r"alpha must be a float in \[0, 1\]"):
        teacher_diagnostics(q, [0, 0, 1], alpha=2.0)


def test_weight_is_one_for_a_one_hot_teacher():
    q = np.eye(4)[[0, 1, 2, 3, 0]]
    diag = teacher_diagnostics(q, [0, 1, 2, 3, 0], alpha=0.9)
    assert_allclose(diag.weight, 1.0)
    assert is_overconfident(diag.summary)
    assert is_overconfident(diag)


def test_is_overconfident_threshold():
    assert OVERCONFIDENCE_THRESHOLD == 0.01
    q = np.array([[0.995, 0.005], [0.004, 0.996]])
    summary = teacher_diagnostics(q, [0, 1]).summary
    assert is_overconfident(summary)
    assert not is_overconfident(summary, threshold=0.004)
    soft = teacher_diagnostics(np.array([[0.6, 0.4], [0.3, 0.7]]), [0, 1]).summary
    assert not is_overconfident(soft)
    with pytest.raises(ValueError, match=r"threshold must be a float in \[0, 1\]"):
        is_overconfident(summary, threshold=-1)
    with pytest.raises(ValueError, match="summary must be the summary Bunch"):
        is_overconfident({"accuracy": 1.0})
