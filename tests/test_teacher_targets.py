"""Teacher targets built block by block equal the whole-matrix computation."""

import numpy as np
import pytest

from sklearn_kd._teacher import log_soften_numpy, soften_targets, top_k_log_targets
from sklearn_kd.diagnostics import teacher_diagnostics


@pytest.fixture
def teacher():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.full(7, 0.3), size=53)
    proba[3, 2] = 0.0
    proba[3] /= proba[3].sum()
    return proba, rng.integers(0, 7, size=53)


@pytest.mark.parametrize("chunk_entries", [1, 20, 7 * 53, 10**6])
def test_blocks_equal_whole_matrix(teacher, chunk_entries):
    proba, y = teacher
    log_q_T, summary = soften_targets(proba, y, 2.0, 0.4, chunk_entries=chunk_entries)
    expected = log_soften_numpy(proba, 2.0)
    assert log_q_T.dtype == np.float32
    np.testing.assert_array_equal(log_q_T, expected.astype(np.float32))
    whole = teacher_diagnostics(np.exp(expected), y, alpha=0.4).summary
    assert summary.keys() == whole.keys()
    assert summary.weight_at == whole.weight_at == "uniform"
    for key in summary.keys() - {"weight_at"}:
        np.testing.assert_allclose(summary[key], whole[key], rtol=1e-12)


def test_top_k_blocks_equal_whole_matrix(teacher):
    proba, y = teacher
    (top_log, top_index, rest_log), _ = soften_targets(
        proba, y, 0.5, 0.4, top_k=3, chunk_entries=20
    )
    expected = top_k_log_targets(log_soften_numpy(proba, 0.5), 3)
    np.testing.assert_array_equal(
        np.sort(top_index, axis=1), np.sort(expected[1], axis=1)
    )
    np.testing.assert_allclose(
        np.sort(top_log, axis=1), np.sort(expected[0], axis=1), rtol=1e-6
    )
    np.testing.assert_allclose(rest_log, expected[2], rtol=1e-6)
    # rows still sum to one: the top k plus (K - k) equal shares of the rest
    total = np.exp(top_log.astype(np.float64)).sum(axis=1) + 4 * np.exp(rest_log)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
