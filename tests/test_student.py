"""The default student: its standardisation and its statistics."""

import numpy as np
import pytest
import torch

from sklearn_kd import MLPStudent, _student
from sklearn_kd._student import standardisation_statistics


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_statistics_in_one_pass_equal_numpys(dtype, monkeypatch):
    # blocks of 7 rows: many merges, and a last partial block
    monkeypatch.setattr(_student, "STATISTICS_BLOCK_BYTES", 8 * 3 * 7)
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((101, 3)) * [1.0, 1e-3, 50.0] + [0.0, 5.0, 1e4]).astype(
        dtype
    )
    X[:, 0] = 2.5  # a constant column gets scale 1
    before = X.copy()
    mean, scale = standardisation_statistics(X)
    np.testing.assert_array_equal(X, before)
    reference = X.astype(np.float64)
    np.testing.assert_allclose(mean, reference.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scale[1:], reference.std(axis=0)[1:], rtol=1e-10)
    assert scale[0] == 1.0


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_folded_standardisation_gives_the_standardised_network(offset):
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.standard_normal((20, 4)) * 3 + offset, dtype=torch.float32)
    torch.manual_seed(0)
    net = MLPStudent(4, 3, (6,), mean=X.mean(0).numpy(), scale=X.std(0).numpy())
    assert net.foldable() is (offset == 0.0)
    expected = net.layers((X - net.mean) / net.scale)
    torch.testing.assert_close(net(X), expected, rtol=1e-5, atol=1e-5)


def test_fold_is_decided_again_when_the_statistics_are_loaded():
    net = MLPStudent(2, 2, (3,))
    X = torch.full((1, 2), 1e4)
    net(X)  # mean 0, scale 1: folded
    state = net.state_dict()
    state["mean"] = torch.full((2,), 1e4)
    net.load_state_dict(state)
    assert not net.foldable()
    torch.testing.assert_close(
        net(X), net.layers((X - net.mean) / net.scale), rtol=0, atol=1e-6
    )
