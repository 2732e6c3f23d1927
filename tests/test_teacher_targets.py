"""Teacher targets built block by block equal the whole-matrix computation."""

import numpy as np
import pytest
import torch
from scipy.special import xlogy

from sklearn_kd._teacher_targets import soften_targets
from sklearn_kd.diagnostics import teacher_diagnostics
from sklearn_kd.losses import DistillationLoss, soften


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
    targets, summary = soften_targets(proba, y, 2.0, 0.4, chunk_entries=chunk_entries)
    expected = soften(proba, 2.0).numpy()
    assert targets.q_T.dtype == np.float32
    assert targets.top_index is None and targets.rest is None
    np.testing.assert_allclose(targets.q_T, expected, rtol=1e-6, atol=1e-30)
    assert targets.q_T[3, 2] == 0.0  # a zero stays exactly zero
    np.testing.assert_allclose(
        targets.neg_entropy, xlogy(expected, expected).sum(axis=1), rtol=1e-6
    )
    whole = teacher_diagnostics(expected, y, alpha=0.4).summary
    assert summary.keys() == whole.keys()
    assert summary.weight_at == whole.weight_at == "uniform"
    for key in summary.keys() - {"weight_at"}:
        np.testing.assert_allclose(summary[key], whole[key], rtol=1e-12)


def test_top_k_keeps_the_largest_and_spreads_the_rest(teacher):
    proba, y = teacher
    k = 3
    targets, _ = soften_targets(proba, y, 0.5, 0.4, top_k=k, chunk_entries=20)
    q_T = soften(proba, 0.5).numpy()
    expected_index = np.argsort(-q_T, axis=1)[:, :k]
    np.testing.assert_array_equal(
        np.sort(targets.top_index, axis=1), np.sort(expected_index, axis=1)
    )
    np.testing.assert_allclose(
        targets.q_T, np.take_along_axis(q_T, targets.top_index, axis=1), rtol=1e-6
    )
    rest = (1 - np.sort(q_T, axis=1)[:, -k:].sum(axis=1)) / (7 - k)
    np.testing.assert_allclose(targets.rest, rest, rtol=1e-5, atol=1e-12)
    total = targets.q_T.sum(axis=1, dtype=np.float64) + (7 - k) * targets.rest
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    dense = np.repeat(targets.rest[:, None].astype(np.float64), 7, axis=1)
    np.put_along_axis(dense, targets.top_index, targets.q_T, axis=1)
    np.testing.assert_allclose(
        targets.neg_entropy, xlogy(dense, dense).sum(axis=1), rtol=1e-5
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_precomputed_entropy_gives_the_same_loss_and_gradient(teacher, weighted):
    proba, y = teacher
    targets, _ = soften_targets(proba, y, 3.0, 0.7)
    q_T = torch.as_tensor(targets.q_T, dtype=torch.float64)
    y_t = torch.as_tensor(y)
    w = torch.linspace(0.5, 2.0, len(y), dtype=torch.float64) if weighted else None
    criterion = DistillationLoss(temperature=3.0, alpha=0.7, teacher_format="softened")
    z = torch.randn(
        len(y), 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    z1, z2 = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
    neg_entropy = torch.as_tensor(targets.neg_entropy, dtype=torch.float64)
    fast = criterion(z1, q_T, y_t, sample_weight=w, teacher_neg_entropy=neg_entropy)
    reference = criterion(z2, q_T, y_t, sample_weight=w)
    fast.backward()
    reference.backward()
    # float32 entropies: the loss agrees to float32 precision, gradients exactly
    np.testing.assert_allclose(fast.item(), reference.item(), rtol=1e-6)
    np.testing.assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_float32_teacher_is_softened_in_float32(teacher):
    proba, y = teacher
    targets, summary = soften_targets(proba.astype(np.float32), y, 0.25, 0.4)
    expected = soften(proba, 0.25).numpy()
    np.testing.assert_allclose(targets.q_T, expected, rtol=1e-4, atol=1e-7)
    assert targets.q_T[3, 2] == 0.0
    whole = teacher_diagnostics(expected, y, alpha=0.4).summary
    assert summary.mean_confidence == pytest.approx(whole.mean_confidence, rel=1e-5)


def test_diagnostics_alone_match_those_built_with_the_targets(teacher):
    proba, y = teacher
    none, alone = soften_targets(proba, y, 2.0, 0.4, build_targets=False)
    _, with_targets = soften_targets(proba, y, 2.0, 0.4)
    assert none is None
    for key in alone.keys() - {"weight_at"}:
        np.testing.assert_array_equal(alone[key], with_targets[key])
